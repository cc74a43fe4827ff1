"""API sign-in: tokens, rotation, revocation, device sessions."""
from datetime import timedelta

import pytest
from flask_jwt_extended import create_access_token

from community.accounts.models import DeviceSession, User
from community.database import db, utcnow

from .conftest import ApiClient, assert_error


def test_login_returns_a_token_pair_and_the_user(api, people):
    response = api.login(people.member.email)
    assert response.status_code == 200
    body = response.json
    assert body["token_type"] == "Bearer" and body["expires_in"] == 900
    assert body["user"]["email"] == people.member.email
    assert body["user"]["organization"] == "Acme" and body["user"]["status"] == "active"
    me = api.get("/api/v1/me")
    assert me.status_code == 200 and me.json["id"] == people.member.id


def test_unknown_email_and_wrong_password_answer_the_same(api, people):
    wrong = api.login(people.member.email, "wrong-password")
    unknown = api.login("nobody@nowhere.test", "wrong-password")
    assert assert_error(wrong, 401, "invalid_credentials") == assert_error(unknown, 401, "invalid_credentials")


def test_a_suspended_member_cannot_log_in_nor_use_old_tokens(app, api, people):
    api.login(people.member.email)
    with app.app_context():
        db.session.get(User, people.member.id).suspended_until = utcnow() + timedelta(days=1)
        db.session.commit()
    assert_error(api.get("/api/v1/me"), 403, "account_suspended")
    assert_error(ApiClient(app.test_client()).login(people.member.email), 403, "account_suspended")


@pytest.mark.parametrize("header", [None, "Bearer", "Bearer not.a.jwt", "Basic abc"])
def test_missing_or_garbage_tokens_are_401(api, header):
    headers = {"Authorization": header} if header else {}
    response = api.client.get("/api/v1/me", headers=headers)
    assert_error(response, 401)
    assert response.headers["WWW-Authenticate"] == "Bearer"


def test_forged_and_expired_tokens_are_refused(app, api, people):
    api.login(people.member.email)
    with app.test_request_context():
        app.config["JWT_SECRET_KEY"], real = "another-key-of-sufficient-length-xx", app.config["JWT_SECRET_KEY"]
        try:
            forged = create_access_token(identity=str(people.admin.id), additional_claims={"sid": 1})
        finally:
            app.config["JWT_SECRET_KEY"] = real
        expired = create_access_token(identity=str(people.member.id), expires_delta=timedelta(seconds=-1),
                                      additional_claims={"sid": 1})
    assert_error(api.get("/api/v1/me", token=forged), 401, "token_invalid")
    assert_error(api.get("/api/v1/me", token=expired), 401, "token_expired")


def test_a_token_without_a_live_session_is_refused(app, api, people):
    with app.test_request_context():
        sessionless = create_access_token(identity=str(people.member.id))
    assert_error(api.get("/api/v1/me", token=sessionless), 401, "token_revoked")


def test_refresh_and_access_tokens_are_not_interchangeable(api, people):
    api.login(people.member.email)
    for response in (api.get("/api/v1/me", token=api.tokens["refresh_token"]),
                     api.post("/api/v1/auth/refresh", token=api.tokens["access_token"])):
        assert_error(response, 401, "token_invalid")
        # Our words, saying which token belongs where, not the token library's ("Only non-refresh tokens are allowed").
        assert response.json["error"]["message"] == ("This route takes the other kind of token: an access token "
                                                     "everywhere, the refresh token only at /auth/refresh.")


def test_refresh_rotates_and_reuse_revokes_the_family(api, people):
    api.login(people.member.email)
    first = api.tokens
    rotated = api.post("/api/v1/auth/refresh", token=first["refresh_token"])
    assert rotated.status_code == 200
    second = rotated.json
    assert second["refresh_token"] != first["refresh_token"]
    assert api.get("/api/v1/me", token=second["access_token"]).status_code == 200

    # The old refresh token comes back (stolen?): the whole family dies.
    assert_error(api.post("/api/v1/auth/refresh", token=first["refresh_token"]), 401, "token_reused")
    assert_error(api.get("/api/v1/me", token=second["access_token"]), 401, "token_revoked")
    assert_error(api.post("/api/v1/auth/refresh", token=second["refresh_token"]), 401, "token_revoked")


def test_logout_revokes_access_and_refresh_tokens(api, people):
    api.login(people.member.email)
    tokens = api.tokens
    assert api.post("/api/v1/auth/logout").status_code == 204
    assert_error(api.get("/api/v1/me", token=tokens["access_token"]), 401, "token_revoked")
    assert_error(api.post("/api/v1/auth/refresh", token=tokens["refresh_token"]), 401, "token_revoked")


def test_device_sessions_are_listed_and_can_be_signed_out(app, people):
    phone, tablet = ApiClient(app.test_client()), ApiClient(app.test_client())
    phone.login(people.member.email, device_name="Mia's phone")
    tablet.login(people.member.email, device_name="Mia's tablet")
    sessions = phone.get("/api/v1/me/sessions").json
    assert sessions["next_cursor"] is None
    by_name = {item["device_name"]: item for item in sessions["items"]}
    assert set(by_name) == {"Mia's phone", "Mia's tablet"}
    assert by_name["Mia's phone"]["current"] is True and by_name["Mia's tablet"]["current"] is False
    assert set(by_name["Mia's phone"]) == {"id", "kind", "device_name", "created_at", "last_seen_at", "current"}
    assert by_name["Mia's phone"]["kind"] == "device"

    tablet_id = by_name["Mia's tablet"]["id"]
    assert phone.delete(f"/api/v1/me/sessions/{tablet_id}").status_code == 204
    assert_error(tablet.get("/api/v1/me"), 401, "token_revoked")
    assert phone.get("/api/v1/me").status_code == 200


def test_nobody_signs_out_someone_elses_device(app, people, api_as):
    other = api_as(people.outsider)
    member = api_as(people.member)
    member_session = member.get("/api/v1/me/sessions").json["items"][0]["id"]
    assert_error(other.delete(f"/api/v1/me/sessions/{member_session}"), 404, "not_found")
    assert member.get("/api/v1/me").status_code == 200


def test_last_seen_is_kept(app, api, people):
    api.login(people.member.email)
    with app.app_context():
        session = db.session.query(DeviceSession).one()
        session.last_seen_at = utcnow() - timedelta(hours=1)
        db.session.commit()
    api.get("/api/v1/me")
    with app.app_context():
        assert db.session.query(DeviceSession).one().last_seen_at > utcnow() - timedelta(minutes=1)


def test_invitation_accept_through_the_api_signs_the_person_in(app, people, api_as, api):
    staff = api_as(people.moderator)
    created = staff.post("/api/v1/invitations", {"email": "app@acme.test", "organization": "Acme"})
    assert created.status_code == 201
    assert created.json["url"].endswith(f"/invitations/{created.json['token']}")
    accepted = api.post(f"/api/v1/invitations/{created.json['token']}/accept",
                        {"display_name": "App User", "password": "a-long-password"}, token="")
    assert accepted.status_code == 201
    assert accepted.json["user"]["email"] == "app@acme.test"
    assert api.get("/api/v1/me", token=accepted.json["access_token"]).json["display_name"] == "App User"
    again = api.post(f"/api/v1/invitations/{created.json['token']}/accept",
                     {"display_name": "Again", "password": "a-long-password"}, token="")
    assert_error(again, 409, "invitation_used")


def test_members_cannot_invite_through_the_api(people, api_as):
    assert_error(api_as(people.member).post("/api/v1/invitations", {"email": "x@y.test"}), 403, "forbidden")
    assert_error(api_as(people.moderator).post("/api/v1/invitations", {"email": "x@y.test", "role": "admin"}),
                 403, "forbidden")
