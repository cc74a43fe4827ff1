"""schemathesis reads the live OpenAPI document and fires generated requests, authenticated as a
member, at every operation, valid ones and deliberately invalid ones: no 500s, every response fits
the document, invalid input is refused, and auth is never ignored."""
import os

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis import GenerationMode
from schemathesis.checks import (
    content_type_conformance,
    ignored_auth,
    negative_data_rejection,
    not_a_server_error,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
    unsupported_method,
)

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


def _operations():
    """Every documented operation, read from the document itself (so new routes join by construction)."""
    spec = create_app(settings_for("sqlite://")).test_client().get("/api/v1/openapi.json").json
    return [(method.upper(), path) for path, item in spec["paths"].items() for method in item
            if method in ("get", "post", "put", "patch", "delete")]


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

    @given(case=operation.as_strategy(generation_mode=mode))
    @settings(max_examples=15, deadline=None, suppress_health_check=list(HealthCheck), database=None)
    def exercise(case):
        # The document requires a bearer token: where the case carries one, make it a real one;
        # where a negative case left it out on purpose, the request goes without (and gets 401).
        headers = member_headers() if "Authorization" in (case.headers or {}) else {}
        case.call_and_validate(headers=headers, checks=CHECKS)

    exercise()
