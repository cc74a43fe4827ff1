"""Forged and misused tokens, and CSRF on every web form: the doors that must stay shut."""
import base64
import json
import re
import time
from datetime import timedelta

import pytest

from community.database import db
from wsgi import create_app

from .conftest import ApiClient, assert_error, settings_for


def _b64(data: dict) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).decode().rstrip("=")


def _parts(token: str) -> tuple[dict, dict, str]:
    header, payload, signature = token.split(".")
    decode = lambda part: json.loads(base64.urlsafe_b64decode(part + "=" * (-len(part) % 4)))  # noqa: E731
    return decode(header), decode(payload), signature


def test_an_unsigned_alg_none_token_is_refused(api, people):
    api.login(people.member.email)
    header, payload, _ = _parts(api.tokens["access_token"])
    forged = f"{_b64({**header, 'alg': 'none'})}.{_b64(payload)}."
    assert_error(api.get("/api/v1/me", token=forged), 401, "token_invalid")


@pytest.mark.parametrize("claim", ["sub", "sid", "type", "exp"])
def test_a_tampered_claim_breaks_the_signature(api, people, claim):
    api.login(people.member.email)
    header, payload, signature = _parts(api.tokens["access_token"])
    tampered = {**payload, claim: {"sub": str(people.admin.id), "sid": payload["sid"] + 1, "type": "refresh",
                                   "exp": payload["exp"] + 86400}[claim]}
    forged = f"{_b64(header)}.{_b64(tampered)}.{signature}"
    assert_error(api.get("/api/v1/me", token=forged), 401, "token_invalid")


def _web_post_routes(app):
    for rule in app.url_map.iter_rules():
        blueprint = rule.endpoint.split(".")[0]
        if "POST" in rule.methods and blueprint not in app.config["TOKEN_AUTH_BLUEPRINTS"]:
            url = re.sub(r"<(?:int:)?[a-z_]+>", "1", rule.rule)
            yield rule.endpoint, url


def test_every_web_form_refuses_a_post_without_its_csrf_token(app, people, login_as):
    member = login_as(people.member)
    routes = list(_web_post_routes(app))
    assert len(routes) > 20  # the whole web, not a sample
    for endpoint, url in routes:
        response = member.client.post(url, data={"body": "x", "title": "x"})
        assert response.status_code == 400, (endpoint, url, response.status_code)
        assert "Reload the page and try again" in response.get_data(as_text=True)
    assert member.get("/").status_code == 200  # and the session is still fine


def test_a_token_whose_signature_was_checked_once_is_still_refused_when_it_expires(api, people, app, monkeypatch):
    """Claims are kept once verified (community.extensions.TokenManager); the expiry is not."""
    monkeypatch.setitem(app.config, "JWT_ACCESS_TOKEN_EXPIRES", timedelta(seconds=1))
    api.login(people.member.email)
    assert api.get("/api/v1/me").status_code == 200
    time.sleep(1.2)
    assert_error(api.get("/api/v1/me"), 401, "token_expired")


def test_a_token_kept_by_one_app_is_checked_anew_by_an_app_with_another_secret(api, people, database_url):
    api.login(people.member.email)
    assert api.get("/api/v1/me").status_code == 200
    other = create_app(settings_for(database_url, SECRET_KEY="another-secret-key-long-enough-for-hs256"))
    try:
        assert_error(ApiClient(other.test_client()).get("/api/v1/me", token=api.tokens["access_token"]),
                     401, "token_invalid")
    finally:
        with other.app_context():
            db.engine.dispose()
