"""Nothing but login (password or single sign-on), invitation acceptance, health and static files
answers without a login."""
import pytest

from wsgi import create_app

from .conftest import settings_for

PUBLIC_ENDPOINTS = {
    "accounts.login", "accounts.accept_invitation", "accounts.oidc_login", "accounts.oidc_callback",
    "health", "static", "api_auth.login", "api_auth.oidc_login", "api_auth.refresh", "api_users.accept",
    "push.service_worker",  # a static script, served from the root for its scope
    "uploads.download", "privacy.download_export",  # check a web session or an app's token themselves
    "api_docs.openapi_json", "api_docs.swagger_ui_asset", "api_docs.static",
}
# Passed by the sign-in guard because they check a web session or an app's token themselves;
# without either they answer like every guarded page.
SELF_GUARDED = {"uploads.download", "privacy.download_export"}


def _routes():
    app = create_app(settings_for("sqlite://"))
    for rule in app.url_map.iter_rules():
        url = rule.rule
        for argument in rule.arguments:
            url = url.replace(f"<int:{argument}>", "1").replace(f"<{argument}>", "x").replace(
                f"<path:{argument}>", "x")
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            yield pytest.param(rule.endpoint, method, url, id=f"{method} {rule.rule}")


@pytest.mark.parametrize(("endpoint", "method", "url"), list(_routes()))
def test_every_route_but_the_public_ones_needs_a_sign_in(app, endpoint, method, url):
    client = app.test_client()
    response = client.open(url, method=method)
    if endpoint in PUBLIC_ENDPOINTS - SELF_GUARDED:
        assert response.status_code != 302 or "/login" not in response.headers.get("Location", "")
    elif endpoint.split(".")[0] in app.config["TOKEN_AUTH_BLUEPRINTS"]:
        assert response.status_code == 401
        assert response.json["error"]["code"] == "token_missing"
    elif method == "GET":
        assert response.status_code == 302
        assert response.headers["Location"].startswith("/login?next=")
    else:
        # A form post without a session is refused before it can reach any view.
        assert response.status_code in (302, 400)


def test_the_public_endpoints_are_exactly_the_allowed_ones(app):
    public = {
        rule.endpoint
        for rule in app.url_map.iter_rules()
        if getattr(app.view_functions[rule.endpoint], "is_public", False)
        or rule.endpoint in ("static", "api_docs.static")
    }
    assert public == PUBLIC_ENDPOINTS


def test_health_answers_without_a_session(app):
    response = app.test_client().get("/health")
    assert response.status_code == 200
    assert response.json == {"status": "ok", "database": "ok",
                             "queue": {"depth": 0, "oldest_age_seconds": 0, "dead": 0}}


def test_login_keeps_the_page_asked_for(app, people, web):
    response = web.get("/c/1")
    assert response.headers["Location"] == "/login?next=/c/1"
    response = web.post("/login", {"email": people.member.email, "password": "correct-horse-battery",
                                   "next": "/u/1"})
    assert response.headers["Location"] == "/u/1"


@pytest.mark.parametrize("target", ["https://evil.test/", "//evil.test/x", "/\\evil.test", "javascript:alert(1)"])
def test_login_never_redirects_off_site(app, people, web, target):
    response = web.post("/login", {"email": people.member.email, "password": "correct-horse-battery",
                                   "next": target})
    assert response.headers["Location"] == "/"


def test_the_session_cookie_is_secure_over_https(app, people):
    client = app.test_client()
    page = client.get("/login", base_url="https://community.example.com")
    token = page.get_data(as_text=True).split('name="csrf_token" value="')[1].split('"')[0]
    response = client.post("/login", base_url="https://community.example.com",
                           data={"email": people.member.email, "password": "correct-horse-battery",
                                 "csrf_token": token})
    cookie = response.headers["Set-Cookie"]
    assert "Secure" in cookie and "HttpOnly" in cookie and "SameSite=Lax" in cookie
