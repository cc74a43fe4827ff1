"""Web sign-ins are server-side sessions: a cookie kept from before any way out opens nothing."""
from datetime import timedelta

from community.accounts import device_sessions
from community.accounts.models import DeviceSession, SessionKind, User
from community.database import db, utcnow
from community.moderation import services as moderation
from realtime.connections import web_socket_token

from .conftest import ApiClient, WebClient, assert_error

COOKIE = "roundtable_session"
BROWSER = "Mozilla/5.0 (X11; Linux x86_64) Firefox/130.0"


def _browser(app, people, user=None) -> WebClient:
    client = WebClient(app.test_client())
    client.client.environ_base["HTTP_USER_AGENT"] = BROWSER
    assert client.login((user or people.member).email).status_code == 302
    return client


def _replay(app, cookie: str):
    """A second browser that only has the captured cookie."""
    thief = app.test_client()
    thief.set_cookie(COOKIE, cookie)
    return thief.get("/")


def _cookie(browser: WebClient) -> str:
    return browser.client.get_cookie(COOKIE).value


def test_a_cookie_captured_before_sign_out_opens_nothing_after_it(app, people):
    browser = _browser(app, people)
    captured = _cookie(browser)
    assert _replay(app, captured).status_code == 200
    assert browser.logout().status_code == 302
    replayed = _replay(app, captured)
    assert replayed.status_code == 302 and "/login" in replayed.location
    with app.app_context():
        session = db.session.query(DeviceSession).one()
        assert session.kind == SessionKind.WEB and session.revoked_at is not None


def test_web_sessions_are_listed_beside_devices_and_revoked_from_the_app(app, people):
    browser = _browser(app, people)
    phone = ApiClient(app.test_client())
    phone.login(people.member.email, device_name="Mia's phone")
    items = phone.get("/api/v1/me/sessions").json["items"]
    by_kind = {item["kind"]: item for item in items}
    assert set(by_kind) == {"web", "device"}
    assert by_kind["web"]["device_name"] == BROWSER and by_kind["web"]["current"] is False
    assert by_kind["device"]["current"] is True

    assert phone.delete(f"/api/v1/me/sessions/{by_kind['web']['id']}").status_code == 204
    assert browser.get("/").status_code == 302
    assert phone.get("/api/v1/me").status_code == 200


def test_the_security_page_lists_and_signs_out_one_browser(app, people):
    laptop, desktop = _browser(app, people), _browser(app, people)
    page = laptop.get("/settings/security")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert html.count('class="session"') == 2 and html.count("this browser") == 1
    with app.app_context():
        desktop_id = max(s.id for s in db.session.query(DeviceSession))
    assert laptop.post(f"/settings/sessions/{desktop_id}/end").status_code == 302
    assert desktop.get("/").status_code == 302
    assert laptop.get("/").status_code == 200


def test_nobody_signs_out_someone_elses_browser(app, people):
    member, outsider = _browser(app, people), _browser(app, people, people.outsider)
    with app.app_context():
        member_session = db.session.query(DeviceSession).filter_by(user_id=people.member.id).one().id
    assert outsider.post(f"/settings/sessions/{member_session}/end").status_code == 404
    assert member.get("/").status_code == 200


def test_sign_out_everywhere_on_the_web_ends_browsers_and_apps(app, people):
    browser, other_browser = _browser(app, people), _browser(app, people)
    phone = ApiClient(app.test_client())
    phone.login(people.member.email)
    captured = _cookie(browser)
    response = browser.post("/settings/sessions/end-all")
    assert response.status_code == 302 and "/login" in response.location
    assert _replay(app, captured).status_code == 302
    assert other_browser.get("/").status_code == 302
    assert_error(phone.get("/api/v1/me"), 401, "token_revoked")
    assert phone.post("/api/v1/auth/refresh", token=phone.tokens["refresh_token"]).status_code == 401


def test_sign_out_everywhere_from_the_app_ends_browsers_too(app, people):
    browser = _browser(app, people)
    phone = ApiClient(app.test_client())
    phone.login(people.member.email)
    assert phone.delete("/api/v1/me/sessions").status_code == 204
    assert browser.get("/").status_code == 302
    assert_error(phone.get("/api/v1/me"), 401, "token_revoked")


def test_a_password_change_on_the_web_keeps_this_browser_and_ends_the_others(app, people):
    browser, other_browser = _browser(app, people), _browser(app, people)
    phone = ApiClient(app.test_client())
    phone.login(people.member.email)
    wrong = browser.post("/settings/password", {"current_password": "not it", "new_password": "a-new-long-secret"})
    assert wrong.status_code == 422 and "not your current password" in wrong.get_data(as_text=True)
    assert other_browser.get("/").status_code == 200  # nothing changed

    short = browser.post("/settings/password", {"current_password": "correct-horse-battery", "new_password": "short"})
    assert short.status_code == 422 and "at least 10" in short.get_data(as_text=True)

    changed = browser.post("/settings/password",
                           {"current_password": "correct-horse-battery", "new_password": "a-new-long-secret"})
    assert changed.status_code == 302
    assert browser.get("/").status_code == 200
    assert other_browser.get("/").status_code == 302
    assert_error(phone.get("/api/v1/me"), 401, "token_revoked")
    assert ApiClient(app.test_client()).login(people.member.email).status_code == 401
    assert ApiClient(app.test_client()).login(people.member.email, password="a-new-long-secret").status_code == 200


def test_a_password_change_in_the_app_keeps_this_device(app, people):
    browser = _browser(app, people)
    phone = ApiClient(app.test_client())
    phone.login(people.member.email)
    assert_error(phone.post("/api/v1/me/password", {"current_password": "wrong", "new_password": "a-new-long-secret"}),
                 422, "validation_failed")
    assert browser.get("/").status_code == 200
    assert phone.post("/api/v1/me/password", {"current_password": "correct-horse-battery",
                                              "new_password": "a-new-long-secret"}).status_code == 204
    assert phone.get("/api/v1/me").status_code == 200
    assert browser.get("/").status_code == 302


def test_suspension_ends_web_sessions_for_good(app, people):
    browser = _browser(app, people)
    captured = _cookie(browser)
    with app.app_context():
        admin = db.session.get(User, people.admin.id)
        moderation.do_suspend(admin, people.member.id, utcnow() + timedelta(days=1), "Cooling off")
        moderation.do_unsuspend(admin, people.member.id)
    assert _replay(app, captured).status_code == 302  # lifting the suspension does not revive the cookie


def test_end_all_sessions_waits_for_its_transaction(app, people):
    browser = _browser(app, people)
    with app.app_context():
        assert device_sessions.end_all_sessions(people.member.id) == 1
        db.session.rollback()
    assert browser.get("/").status_code == 200


def test_a_web_session_never_opens_the_api(app, people):
    """The web page's socket token names its web session; the REST API takes device sessions only."""
    browser = _browser(app, people)
    with app.app_context():
        web_session_id = db.session.query(DeviceSession).one().id
        token = web_socket_token(db.session.get(User, people.member.id), web_session_id)
    assert_error(ApiClient(app.test_client()).get("/api/v1/me", token=token), 401, "token_revoked")
    assert browser.get("/").status_code == 200
