"""Single sign-on against a real OpenID provider (`oidc-provider` on Node, on 127.0.0.1): the web
flow (code + PKCE, state, nonce), the app token exchange and each of its refusals, who gets in."""
import base64
import json
import time

import pytest
import requests
from sqlalchemy import select

from community.accounts import services as accounts
from community.accounts.models import Invitation, Organization, Role, User
from community.actors import SYSTEM
from community.database import db, utcnow
from wsgi import create_app

from .conftest import ApiClient, WebClient, assert_error, settings_for
from .live_server import free_port
from .oidc_provider import OpenIDProvider, write_signing_keys

CALLBACK = "http://localhost/auth/oidc/callback"


@pytest.fixture(scope="module")
def keys_dir(tmp_path_factory):
    return tmp_path_factory.mktemp("oidc-keys")


@pytest.fixture(scope="module")
def provider(keys_dir):
    provider = OpenIDProvider([CALLBACK], jwks=write_signing_keys(keys_dir / "first.json", "first-key")).start()
    yield provider
    provider.stop()


@pytest.fixture
def make_sso_app(app, database_url):
    """`make_sso_app(**settings)`: the app with single sign-on on, on the same database as `app`
    (and its `people`)."""
    made = []

    def make_app(**settings):
        made.append(create_app(settings_for(database_url, OIDC_CLIENT_ID="roundtable-web", **settings)))
        return made[-1]

    yield make_app
    for sso in made:
        with sso.app_context():
            db.session.remove()
            for engine in db.engines.values():
                engine.dispose()


@pytest.fixture
def sso_app(make_sso_app, provider):
    return make_sso_app(
        OIDC_ISSUER=provider.url, OIDC_CLIENT_SECRET="roundtable-demo-secret", OIDC_DISPLAY_NAME="Acme ID",
        OIDC_MOBILE_CLIENT_IDS=["roundtable-mobile", "roundtable-short"], OIDC_LEEWAY_SECONDS=1,
        OIDC_ACCESS_CONTACT="community@vendor.test")


@pytest.fixture
def domains(make, people):
    def set_domains():
        accounts.do_set_organization_domains(SYSTEM, db.session.get(Organization, people.acme.id), ["acme.test"])
        accounts.do_set_organization_domains(SYSTEM, db.session.get(Organization, people.globex.id), ["globex.test"])
    make(set_domains)


def web_sign_in(client: WebClient, provider: OpenIDProvider, login: str, path: str = "/auth/oidc/login"):
    """Click "Sign in with…", sign in at the provider, come back: the callback's response."""
    start = client.get(path)
    assert start.status_code == 302 and start.headers["Location"].startswith(provider.url + "/auth?")
    back = provider.sign_in(requests.Session(), start.headers["Location"], login, CALLBACK)
    return client.get(back.removeprefix("http://localhost"))


def member(sso_app, email) -> User | None:
    with sso_app.app_context():
        user = db.session.scalar(select(User).where(User.email == email))
        if user is not None:
            db.session.refresh(user)
            db.session.expunge(user)
        return user


# The web flow


def test_the_sign_in_page_offers_the_provider_and_the_flow_uses_pkce_state_and_nonce(sso_app, provider):
    client = WebClient(sso_app.test_client())
    page = client.get("/login").get_data(as_text=True)
    assert "Sign in with Acme ID" in page and 'name="password"' in page
    location = client.get("/auth/oidc/login").headers["Location"]
    query = requests.utils.urlparse(location).query
    params = dict(pair.split("=", 1) for pair in query.split("&"))
    assert params["code_challenge_method"] == "S256" and len(params["code_challenge"]) == 43
    assert params["state"] and params["nonce"] and params["client_id"] == "roundtable-web"
    assert requests.utils.unquote(params["redirect_uri"]) == CALLBACK and "prompt" not in params
    assert "prompt=login" in client.get("/auth/oidc/login?switch=1").headers["Location"]  # switch accounts


def test_an_existing_member_signs_in_by_verified_email_and_returns_where_they_were(sso_app, provider, people):
    client = WebClient(sso_app.test_client())
    response = web_sign_in(client, provider, "Member@Acme.test", "/auth/oidc/login?next=/ideas")
    assert response.status_code == 302 and response.headers["Location"] == "/ideas"
    assert "Mia Member" in client.get("/").get_data(as_text=True)
    assert member(sso_app, "member@acme.test").display_name == "Mia Member"  # no sync unless asked


def test_a_newcomer_at_an_organizations_domain_joins_it_as_a_member(sso_app, provider, people, domains):
    client = WebClient(sso_app.test_client())
    assert web_sign_in(client, provider, "dana@acme.test").status_code == 302
    dana = member(sso_app, "dana@acme.test")
    assert (dana.organization_id, dana.role, dana.display_name, dana.job_title) == (
        people.acme.id, Role.MEMBER, "Dana Diaz", "Claims Analyst")
    assert "Dana Diaz" in client.get("/").get_data(as_text=True)
    assert WebClient(sso_app.test_client()).login("dana@acme.test", "").status_code == 401  # no password


def test_a_person_of_another_organizations_domain_cannot_land_in_the_wrong_organization(
        sso_app, provider, people, domains):
    # Gina's provider profile claims "Acme Insurance"; her verified email is at globex.test.
    assert web_sign_in(WebClient(sso_app.test_client()), provider, "gina@globex.test").status_code == 302
    assert member(sso_app, "gina@globex.test").organization_id == people.globex.id
    # Look-alike domains find no organization.
    for impostor in ("eve@evilacme.test", "eve@acme.test.evil.test", "eve@sub.acme.test"):
        refused = web_sign_in(WebClient(sso_app.test_client()), provider, impostor)
        assert refused.status_code == 403
        page = refused.get_data(as_text=True)
        assert "Ask community@vendor.test for an invitation" in page and impostor in page
        assert member(sso_app, impostor) is None


def test_an_open_invitation_lets_a_person_in_with_its_organization_and_role(sso_app, provider, make, people):
    make(lambda: accounts.do_invite(SYSTEM, "frank@elsewhere.test", "Initech Bank", "moderator"))
    assert web_sign_in(WebClient(sso_app.test_client()), provider, "frank@elsewhere.test").status_code == 302
    frank = member(sso_app, "frank@elsewhere.test")
    assert frank.role == Role.MODERATOR
    with sso_app.app_context():
        invitation = db.session.scalar(select(Invitation))
        assert invitation.accepted_at is not None and invitation.user_id == frank.id
        assert db.session.get(Organization, frank.organization_id).name == "Initech Bank"


def test_an_unverified_email_is_refused(sso_app, provider, people, domains):
    refused = web_sign_in(WebClient(sso_app.test_client()), provider, "unverified@acme.test")
    assert refused.status_code == 401 and "has not verified your email" in refused.get_data(as_text=True)
    assert member(sso_app, "unverified@acme.test") is None


def test_a_suspended_member_is_refused(sso_app, provider, people, make):
    def suspend():
        db.session.get(User, people.member.id).suspended_until = utcnow().replace(year=2100)
        db.session.commit()
    make(suspend)
    refused = web_sign_in(WebClient(sso_app.test_client()), provider, "member@acme.test")
    assert refused.status_code == 403 and "suspended" in refused.get_data(as_text=True)


def test_a_callback_without_its_state_or_replayed_is_refused(sso_app, provider, people):
    client = WebClient(sso_app.test_client())
    start = client.get("/auth/oidc/login")
    back = provider.sign_in(requests.Session(), start.headers["Location"], "member@acme.test", CALLBACK)
    path = back.removeprefix("http://localhost")
    elsewhere = WebClient(sso_app.test_client())  # another browser: the state is not in its session
    assert elsewhere.get(path).status_code == 401
    forged = path.replace("state=", "state=x")
    assert client.get(forged).status_code == 401
    assert client.get(path).status_code == 302  # the person's own browser completes
    client.logout()
    again = client.get(path)  # the same code and state, once more
    assert again.status_code == 401 and "did not complete" in again.get_data(as_text=True)


def test_profile_sync_follows_the_provider_only_when_asked(sso_app, provider, people, domains, make):
    def stale_profile():
        user = db.session.get(User, people.outsider.id)
        user.email, user.display_name, user.job_title = "dana@acme.test", "Old Name", "Old title"
        db.session.commit()
    make(stale_profile)  # Dana, once at Globex, now has an acme.test address
    web_sign_in(WebClient(sso_app.test_client()), provider, "dana@acme.test")
    dana = member(sso_app, "dana@acme.test")
    assert (dana.display_name, dana.job_title, dana.organization_id) == ("Old Name", "Old title", people.globex.id)
    sso_app.config["OIDC_SYNC_PROFILE"] = True
    web_sign_in(WebClient(sso_app.test_client()), provider, "dana@acme.test")
    dana = member(sso_app, "dana@acme.test")
    assert (dana.display_name, dana.job_title, dana.organization_id) == ("Dana Diaz", "Claims Analyst", people.acme.id)


def test_sign_out_ends_the_session_and_the_providers_too(sso_app, provider, people):
    client = WebClient(sso_app.test_client())
    web_sign_in(client, provider, "member@acme.test")
    page = client.get("/")
    assert f"form-action 'self' {provider.url}" in page.headers["Content-Security-Policy"]
    out = client.logout()
    assert out.status_code == 302
    end_session = requests.utils.urlparse(out.headers["Location"])
    assert out.headers["Location"].startswith(provider.url + "/session/end?")
    params = dict(pair.split("=", 1) for pair in end_session.query.split("&"))
    assert params["id_token_hint"].count(".") == 2
    assert requests.utils.unquote(params["post_logout_redirect_uri"]) == "http://localhost/login"
    assert client.get("/").status_code == 302  # signed out here at once
    # The provider accepts the request (its own page asks the person to confirm).
    assert requests.get(out.headers["Location"], timeout=10).status_code == 200
    # A password session has no provider session to end.
    password_client = WebClient(sso_app.test_client())
    password_client.login("member@acme.test")
    assert password_client.logout().headers["Location"] == "/login"


def test_without_password_login_members_use_the_provider_and_admins_keep_a_way_in(sso_app, provider, people, make):
    sso_app.config["PASSWORD_LOGIN"] = False
    client = WebClient(sso_app.test_client())
    page = client.get("/login").get_data(as_text=True)
    assert "Sign in with Acme ID" in page and 'name="password"' not in page
    assert "Administrator? Sign in with a password" in page
    assert 'name="password"' in client.get("/login?admin=1").get_data(as_text=True)
    assert client.login(people.member.email).status_code == 401
    admin = WebClient(sso_app.test_client())
    admin.get("/login?admin=1")
    assert admin.login(people.admin.email).status_code == 302
    api = ApiClient(sso_app.test_client())
    assert_error(api.login(people.member.email), 401, "invalid_credentials")
    assert api.login(people.admin.email).status_code == 200
    _, token = make(lambda: accounts.do_invite(SYSTEM, "new@acme.test", "Acme"))
    invitation = client.get(f"/invitations/{token}").get_data(as_text=True)
    assert "Join with Acme ID" in invitation and 'name="password"' not in invitation
    assert_error(api.post(f"/api/v1/invitations/{token}/accept", {"display_name": "New", "password": "x" * 12}),
                 403, "password_login_disabled")
    assert web_sign_in(WebClient(sso_app.test_client()), provider, "new@acme.test").status_code == 302


# Apps: the ID token exchange


def exchange(sso_app, id_token, device_name="Pixel 9"):
    return ApiClient(sso_app.test_client()).post("/api/v1/auth/oidc", {"id_token": id_token,
                                                                        "device_name": device_name})


def test_an_app_exchanges_its_id_token_for_a_device_session(sso_app, provider, people):
    response = exchange(sso_app, provider.id_token("member@acme.test"))
    assert response.status_code == 200, response.json
    body = response.json
    assert body["token_type"] == "Bearer" and body["user"]["id"] == people.member.id
    app_client = ApiClient(sso_app.test_client(), body)
    assert app_client.get("/api/v1/me").json["email"] == "member@acme.test"
    sessions = app_client.get("/api/v1/me/sessions").json["items"]
    assert [(s["device_name"], s["current"]) for s in sessions] == [("Pixel 9", True)]
    # The web client's own audience is accepted too.
    assert exchange(sso_app, provider.id_token("member@acme.test", "roundtable-web")).status_code == 200


def test_an_app_newcomer_joins_by_domain_and_others_are_told_whom_to_ask(sso_app, provider, people, domains):
    joined = exchange(sso_app, provider.id_token("gina@globex.test"))
    assert joined.status_code == 200 and joined.json["user"]["organization"] == "Globex"
    error = assert_error(exchange(sso_app, provider.id_token("eve@nowhere.test")), 403, "not_invited")
    assert "community@vendor.test" in error["message"]


def test_a_replayed_id_token_is_refused(sso_app, provider, people):
    token = provider.id_token("member@acme.test")
    assert exchange(sso_app, token).status_code == 200
    assert_error(exchange(sso_app, token), 401, "id_token_replayed")


def test_an_expired_id_token_is_refused(sso_app, provider, people):
    token = provider.id_token("member@acme.test", "roundtable-short")  # lives 2 s
    time.sleep(3.5)  # and the app tolerates 1 s of clock difference
    error = assert_error(exchange(sso_app, token), 401, "invalid_id_token")
    assert "exp" in error["message"]


def test_an_id_token_for_another_client_is_refused(sso_app, provider, people):
    error = assert_error(exchange(sso_app, provider.id_token("member@acme.test", "other-app")), 401, "invalid_id_token")
    assert "aud" in error["message"]


def test_an_id_token_of_another_issuer_is_refused_even_when_signed_with_the_same_keys(
        sso_app, provider, people):
    port = free_port()
    impostor = OpenIDProvider([CALLBACK], jwks=provider.jwks, port=port, issuer=f"http://localhost:{port}").start()
    try:
        token = impostor.id_token("member@acme.test")
    finally:
        impostor.stop()
    error = assert_error(exchange(sso_app, token), 401, "invalid_id_token")
    assert "iss" in error["message"]


def _b64(data: dict) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()


def test_an_unsigned_id_token_is_refused(sso_app, provider, people):
    real = provider.id_token("member@acme.test")
    claims = json.loads(base64.urlsafe_b64decode(real.split(".")[1] + "=="))
    claims["email"] = people.admin.email  # what an attacker would want
    for header in ({"alg": "none"}, {"alg": "none", "kid": "first-key"}, {"alg": "HS256", "kid": "first-key"}):
        forged = f"{_b64(header)}.{_b64(claims)}."
        assert_error(exchange(sso_app, forged), 401, "invalid_id_token")
    tampered = ".".join([real.split(".")[0], _b64(claims), real.split(".")[2]])
    assert_error(exchange(sso_app, tampered), 401, "invalid_id_token")
    assert_error(exchange(sso_app, "not-a-token"), 401, "invalid_id_token")


def test_an_id_token_with_an_unverified_email_is_refused(sso_app, provider, people, domains):
    assert_error(exchange(sso_app, provider.id_token("unverified@acme.test")), 401, "email_not_verified")


def test_the_providers_keys_are_cached_and_fetched_again_for_a_new_kid(sso_app, provider, people, keys_dir):
    first, second = provider.id_token("member@acme.test"), provider.id_token("member@acme.test")
    assert exchange(sso_app, first).status_code == 200  # discovery and keys fetched now
    provider.stop()
    try:
        assert exchange(sso_app, second).status_code == 200  # provider down: the cached keys do
        rotated = write_signing_keys(keys_dir / "rotated.json", "second-key", "first-key")
        provider.restart(jwks=rotated)
        third = provider.id_token("member@acme.test")
        assert json.loads(base64.urlsafe_b64decode(third.split(".")[0] + "=="))["kid"] == "second-key"
        assert exchange(sso_app, third).status_code == 200  # an unknown kid: the keys are fetched again
    finally:
        provider.restart(jwks=keys_dir / "first.json")


def test_an_unreachable_provider_is_a_503_not_a_500(make_sso_app):
    down = make_sso_app(OIDC_ISSUER=f"http://127.0.0.1:{free_port()}")
    assert_error(ApiClient(down.test_client()).post("/api/v1/auth/oidc", {"id_token": "a.b.c"}), 503, "unavailable")
    assert WebClient(down.test_client()).get("/auth/oidc/login").status_code == 503


def test_without_single_sign_on_the_routes_do_not_exist(app, api):
    assert_error(api.post("/api/v1/auth/oidc", {"id_token": "a.b.c"}), 404, "not_found")
    assert app.test_client().get("/auth/oidc/login").status_code == 404
    assert "Sign in with" not in app.test_client().get("/login").get_data(as_text=True)


def test_bad_bodies_are_422(sso_app):
    api = ApiClient(sso_app.test_client())
    assert_error(api.post("/api/v1/auth/oidc", {}), 422)
    assert_error(api.post("/api/v1/auth/oidc", {"id_token": 7}), 422)
