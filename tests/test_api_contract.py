"""schemathesis reads the live OpenAPI document and fires generated requests, authenticated as a
member, at every operation, valid ones and deliberately invalid ones: no 500s, every response fits
the document, invalid input is refused, and auth is never ignored. Its coverage phase then tries
each path with every method it does not declare (OPTIONS included) and with bodies of other media
types."""
import os
from functools import cache

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis import GenerationMode
from schemathesis.checks import (
    allow_header_conformance,
    content_type_conformance,
    ignored_auth,
    negative_data_rejection,
    not_a_server_error,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
    unsupported_method,
)
from schemathesis.generation.meta import REQUEST_SHAPE_PROBES, coverage_scenario

from api.auth import issue_tokens
from community.accounts.models import User
from community.database import db
from wsgi import create_app

from .conftest import settings_for
from .factories import make_category, make_thread

# Every check that judges one response on its own (the stateful ones need links between
# operations, which this document does not declare). positive_data_acceptance is left out
# on purpose: well-shaped requests are still refused by the rules (404, 409) by design.
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_headers_conformance,
          response_schema_conformance, negative_data_rejection, ignored_auth, unsupported_method]


@cache
def _operations() -> tuple[tuple[str, str], ...]:
    """Every documented operation, read from the document itself (so new routes join by construction)."""
    spec = create_app(settings_for("sqlite://")).test_client().get("/api/v1/openapi.json").json
    return tuple((method.upper(), path) for path, item in spec["paths"].items() for method in item
                 if method in ("get", "post", "put", "patch", "delete"))


@pytest.fixture
def api_schema(app, people, make, is_postgres):
    if not is_postgres and os.environ.get("TEST_DATABASE_URL"):
        pytest.skip("with PostgreSQL at hand, the generated requests run there only (it is slow)")
    make(lambda: make_thread(people.member, make_category("General"), replies=2))
    return schemathesis.openapi.from_wsgi("/api/v1/openapi.json", app)


@pytest.fixture
def member_headers(app, people):
    """A fresh token per case: a generated logout or session deletion must not starve the rest."""

    def headers():
        with app.test_request_context():
            tokens = issue_tokens(db.session.get(User, people.member.id), "schemathesis")
            db.session.remove()
        return {"Authorization": f"Bearer {tokens['access_token']}"}

    return headers


@pytest.mark.parametrize("mode", [GenerationMode.POSITIVE, GenerationMode.NEGATIVE], ids=lambda m: m.value)
@pytest.mark.parametrize(("method", "path"), _operations())
def test_every_operation_answers_within_its_document(api_schema, member_headers, method, path, mode):
    operation = api_schema[path][method]

    # 8 cases per operation and mode: with every operation and method probed, more doubled the run.
    @given(case=operation.as_strategy(generation_mode=mode))
    @settings(max_examples=8, deadline=None, suppress_health_check=list(HealthCheck), database=None)
    def exercise(case):
        # The document requires a bearer token: where the case carries one, make it a real one;
        # where a negative case left it out on purpose, the request goes without (and gets 401).
        headers = member_headers() if "Authorization" in (case.headers or {}) else {}
        case.call_and_validate(headers=headers, checks=CHECKS)

    exercise()


@pytest.mark.parametrize("path", sorted({path for _, path in _operations()}))
def test_every_path_answers_other_methods_and_media_types(api_schema, member_headers, path):
    """The coverage phase's probes of a request's shape: every method the path does not declare
    (OPTIONS answers 200 with an `Allow` that matches the document, the others 405 with `Allow`),
    and bodies of other media types (415, or 400 when malformed)."""
    operations = [api_schema[path][method] for method, operation_path in _operations() if operation_path == path]
    cases = [case for operation in operations
             for case in api_schema.iter_coverage_cases(
                 operation, generation_modes=[GenerationMode.NEGATIVE],
                 generation_config=api_schema.config.generation_for(operation=operation))
             if coverage_scenario(case) in REQUEST_SHAPE_PROBES]
    declared = {operation.method.upper() for operation in operations}
    assert {case.method.upper() for case in cases} - declared == {
        "DELETE", "GET", "OPTIONS", "PATCH", "POST", "PUT", "QUERY", "TRACE"} - declared
    for case in cases:
        case.call_and_validate(headers=member_headers(), checks=[*CHECKS, allow_header_conformance])
