"""Erasure (GDPR art. 17): the person goes, their posts stay as "Former member", their votes stay
counted; checked through the API, the web, search and the notifications of others."""
import time

import pytest
import socketio
from sqlalchemy import select

from community.accounts.models import DeviceSession, Invitation, User
from community.database import db
from community.gatherings.models import Checkin, MeetingRequest
from community.moderation.models import AuditEntry
from community.notifications.models import Notification

from .conftest import assert_error
from .factories import PASSWORD, make_category, make_event, make_user

NAME = "Zelda Quixotic"  # a name no other fixture uses, so any trace of it is found


@pytest.fixture
def general(make):
    return make(make_category, "General")


@pytest.fixture
def zelda(make, people):
    return make(make_user, organization=people.acme, email="zelda@acme.test", display_name=NAME,
                job_title="Chief Canary", bio="Lives in Canaryville")


def _traces(app, user_id):
    with app.app_context():
        return db.session.get(User, user_id)


def test_erasing_yourself_removes_the_person_and_keeps_their_writing(app, people, zelda, general, api_as):
    member, zelda_app = api_as(people.member), api_as(zelda)
    thread = member.post("/api/v1/threads", {"category_id": general.id, "title": "Roadmap questions",
                                             "body": "What is next?"}).json
    reply = zelda_app.post(f"/api/v1/threads/{thread['id']}/posts", {"body": "Canary reply by Zelda"}).json
    idea = zelda_app.post("/api/v1/ideas", {"title": "Dark mode please", "body": "For night owls"}).json
    member.put(f"/api/v1/ideas/{idea['id']}/vote")
    mention = member.post(f"/api/v1/threads/{thread['id']}/posts", {"body": "Thanks @Zelda_Quixotic!"}).json
    lookalike = member.post(f"/api/v1/threads/{thread['id']}/posts", {"body": "@zelda_quixotic2 is not her"}).json
    assert "/u/" in mention["body_html"]
    assert any(NAME in n["text"] for n in member.get("/api/v1/notifications").json["items"])

    assert_error(zelda_app.delete("/api/v1/me", json={}), 422)
    assert_error(zelda_app.delete("/api/v1/me", json={"password": "not my password"}), 422)
    assert zelda_app.delete("/api/v1/me", json={"password": PASSWORD}).status_code == 204

    # Signed out everywhere, and the old credentials open nothing.
    assert_error(zelda_app.get("/api/v1/me"), 401)
    assert zelda_app.login("zelda@acme.test").status_code == 401
    # Their posts stay, written by "Former member"; their idea keeps both votes.
    posts = member.get(f"/api/v1/threads/{thread['id']}/posts").json["items"]
    theirs = next(p for p in posts if p["id"] == reply["id"])
    assert theirs["body"] == "Canary reply by Zelda" and theirs["author"]["display_name"] == "Former member"
    assert theirs["author"]["organization"] == "" and theirs["author"]["job_title"] == ""
    assert member.get(f"/api/v1/ideas/{idea['id']}").json["vote_count"] == 2
    profile = member.get(f"/api/v1/users/{zelda.id}").json
    assert profile["display_name"] == "Former member" and profile["bio"] == "" and profile["interests"] == []
    # Others' posts and notifications no longer name them; search finds no trace.
    mentioned = next(p for p in posts if p["id"] == mention["id"])
    assert mentioned["body"] == "Thanks Former member!" and "/u/" not in mentioned["body_html"]
    assert next(p for p in posts if p["id"] == lookalike["id"])["body"] == "@zelda_quixotic2 is not her"
    notifications = member.get("/api/v1/notifications").json["items"]
    assert notifications and not any("Zelda" in n["text"] for n in notifications)
    assert any(n["text"].startswith("Former member") for n in notifications)
    for words in ("Zelda", "quixotic", "zelda_quixotic"):
        hits = member.get("/api/v1/search", query_string={"q": words}).json["items"]
        assert [h for h in hits if h["type"] == "post" and h["id"] == mention["id"]] == [], words
    with app.app_context():
        row = db.session.get(User, zelda.id)
        assert NAME not in repr(vars(row)) and "zelda@acme.test" not in repr(vars(row))
        assert row.erased_at is not None and row.password_hash == ""
        assert db.session.scalars(select(DeviceSession).where(DeviceSession.user_id == zelda.id)).all() == []
        assert db.session.scalars(select(Notification).where(Notification.user_id == zelda.id)).all() == []
        entry = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "user.erase"))
        assert (entry.actor_id, entry.target_id) == (zelda.id, zelda.id)


def test_the_email_can_be_invited_again_as_a_new_person(app, people, zelda, api_as):
    zelda_app = api_as(zelda)
    assert zelda_app.delete("/api/v1/me", json={"password": PASSWORD}).status_code == 204
    invited = api_as(people.admin).post("/api/v1/invitations", {"email": "zelda@acme.test",
                                                                "organization": "Acme", "role": "member"})
    assert invited.status_code == 201, invited.json
    accepted = zelda_app.post(f"/api/v1/invitations/{invited.json['token']}/accept",
                              {"display_name": "Zelda Again", "password": "a-brand-new-password"}, token="")
    assert accepted.status_code == 201, accepted.json
    assert accepted.json["user"]["id"] != zelda.id
    with app.app_context():
        emails = db.session.scalars(select(Invitation.email)).all()
        assert emails.count("zelda@acme.test") == 1  # the old invitation no longer names them


def test_members_without_a_password_confirm_with_their_email(app, make, people, api_as):
    sso = make(make_user, organization=people.acme, email="sso@acme.test", display_name="Sam Single")
    client = api_as(sso)
    with app.app_context():
        db.session.get(User, sso.id).password_hash = ""
        db.session.commit()
    assert_error(client.delete("/api/v1/me", json={"confirm": "someone@acme.test"}), 422)
    assert client.delete("/api/v1/me", json={"confirm": "SSO@acme.test"}).status_code == 204


def test_the_only_admin_cannot_erase_themselves(people, api_as):
    assert_error(api_as(people.admin).delete("/api/v1/me", json={"password": PASSWORD}), 409, "last_admin")


def test_admins_erase_members_and_it_is_audit_logged(app, people, zelda, api_as):
    admin, member = api_as(people.admin), api_as(people.member)
    assert_error(member.post(f"/api/v1/users/{zelda.id}/erase"), 403)
    assert_error(api_as(people.moderator).post(f"/api/v1/users/{zelda.id}/erase"), 403)
    assert_error(admin.post(f"/api/v1/users/{people.admin.id}/erase"), 403)
    assert_error(admin.post("/api/v1/users/999999/erase"), 404)
    zelda_app = api_as(zelda)
    assert admin.post(f"/api/v1/users/{zelda.id}/erase").status_code == 204
    assert_error(zelda_app.get("/api/v1/me"), 401)
    assert_error(admin.post(f"/api/v1/users/{zelda.id}/erase"), 403)  # nothing left to erase
    audit = admin.get("/api/v1/moderation/audit", query_string={"action": "user.erase"}).json["items"]
    assert [(e["actor"]["id"], e["target_type"], e["target_id"]) for e in audit] == [
        (people.admin.id, "user", zelda.id)]


def test_checkins_and_meeting_messages_go(app, make, people, zelda, api_as):
    event = make(make_event)
    zelda_app, member = api_as(zelda), api_as(people.member)
    with app.app_context():
        code = db.session.get(type(event), event.id).checkin_code
    for client in (zelda_app, member):
        assert client.post(f"/api/v1/events/{event.id}/checkin", {"code": code}).status_code in (200, 201)
    assert zelda_app.post(f"/api/v1/events/{event.id}/meetings",
                          {"user_id": people.member.id, "message": "Coffee at the canary stand?"}).status_code == 201
    names = [a["user"]["name"] for a in member.get(f"/api/v1/events/{event.id}/attendees").json["items"]]
    assert NAME in names
    assert zelda_app.delete("/api/v1/me", json={"password": PASSWORD}).status_code == 204
    attendees = member.get(f"/api/v1/events/{event.id}/attendees").json["items"]
    assert attendees == []  # the list leaves out the one who asks
    assert member.get(f"/api/v1/events/{event.id}/attendees", query_string={"q": "Zelda"}).json["items"] == []
    with app.app_context():
        assert db.session.scalars(select(Checkin).where(Checkin.user_id == zelda.id)).all() == []
        meeting = db.session.scalar(select(MeetingRequest))
        assert meeting.message == "" and meeting.status == "declined"
        texts = db.session.scalars(select(Notification.text).where(Notification.user_id == people.member.id)).all()
        assert texts and not any("canary" in text.lower() or "Zelda" in text for text in texts)


def test_erasing_on_the_web_takes_a_confirmation_and_signs_out(app, people, zelda, login_as):
    browser = login_as(zelda)
    settings = browser.get("/settings/profile").get_data(as_text=True)
    assert "/settings/data" in settings
    assert "/settings/data/erase" in browser.get("/settings/data").get_data(as_text=True)
    page = browser.get("/settings/data/erase")
    assert page.status_code == 200 and 'name="password"' in page.get_data(as_text=True)
    wrong = browser.post("/settings/data/erase", {"password": "wrong"})
    assert wrong.status_code == 422 and "not right" in wrong.get_data(as_text=True)
    assert _traces(app, zelda.id).erased_at is None
    done = browser.post("/settings/data/erase", {"password": PASSWORD})
    assert done.status_code == 302 and done.headers["Location"].startswith("/login")
    assert browser.get("/settings/profile").status_code == 302  # signed out
    assert browser.login("zelda@acme.test").status_code == 401


def test_a_cookie_kept_from_before_the_erasure_opens_nothing(app, people, zelda, login_as, api_as):
    browser = login_as(zelda)
    assert browser.get("/settings/profile").status_code == 200
    assert api_as(people.admin).post(f"/api/v1/users/{zelda.id}/erase").status_code == 204
    assert browser.get("/settings/profile").status_code == 302


def test_admins_erase_on_the_web_by_typing_the_email(app, people, zelda, login_as):
    admin = login_as(people.admin)
    person = admin.get(f"/moderation/people/{zelda.id}").get_data(as_text=True)
    assert f"/moderation/people/{zelda.id}/erase" in person
    assert login_as(people.moderator).get(f"/moderation/people/{zelda.id}/erase").status_code == 403
    assert admin.post(f"/moderation/people/{zelda.id}/erase", {"confirm": "nope@acme.test"}).status_code == 422
    assert _traces(app, zelda.id).erased_at is None
    done = admin.post(f"/moderation/people/{zelda.id}/erase", {"confirm": "zelda@acme.test"})
    assert done.status_code == 302
    people_page = admin.get("/moderation/people", query_string={"q": "zelda"}).get_data(as_text=True)
    assert NAME not in people_page and "zelda@acme.test" not in people_page
    profile = admin.get(f"/u/{zelda.id}").get_data(as_text=True)
    assert "Former member" in profile and NAME not in profile and "Canary" not in profile


def test_an_erased_members_sockets_drop_at_once(realtime_server, apps):
    """A real Socket.IO client of the member, on the live server: erasure drops it, and the
    token it connected with is refused afterwards."""
    carla, admin = apps("carla@initech.test").connect(), apps("admin@roundtable.test")
    me = carla.api("GET", "/me").json()
    assert admin.api("POST", f"/users/{me['id']}/erase").status_code == 204
    deadline = time.monotonic() + 0.8  # well before the sweeper's next round would matter
    while carla.socket.connected and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not carla.socket.connected
    with pytest.raises(socketio.exceptions.ConnectionError):
        carla.connect()
    hits = admin.api("GET", "/search", params={"q": "Carla"}).json()["items"]
    assert hits == []
    names = [p["author"]["display_name"] for p in admin.api("GET", "/threads/2/posts").json()["items"]]
    assert "Former member" in names and "Carla Rossi" not in names
