"""Email: mentions at once, daily digests, sent after commit through a real local SMTP server
(aiosmtpd), never saying what the recipient may not read."""
from email.message import Message

import pytest
from aiosmtpd.smtp import AuthResult, LoginPassword
from sqlalchemy import update

from community import events
from community.accounts.models import User
from community.database import db
from community.notifications.services import notify
from community.threads.models import Thread

from .factories import make_category, make_thread
from .live_server import free_port
from .mailbox import Inbox
from .mailbox import start_smtp as _start


@pytest.fixture
def general(make):
    return make(make_category, "General")


def body(message: Message) -> str:
    return message.get_payload(decode=True).decode()


def mention(client, thread_id, user, extra=""):
    response = client.post(f"/api/v1/threads/{thread_id}/posts", {"body": f"What do you think, @{user.handle}?{extra}"})
    assert response.status_code == 201, response.json
    return response.json


def test_a_mention_is_emailed_at_once_with_a_link_and_the_post(app, people, general, make, api_as, inbox):
    thread = make(make_thread, people.member, general, title="Rollout plans")
    post = mention(api_as(people.member), thread.id, people.outsider)
    [message] = inbox.to(people.outsider.email)
    assert message["Subject"] == 'Mia Member mentioned you in "Rollout plans"'
    text = body(message)
    assert f"https://community.example.com/t/{thread.id}#post-{post['id']}" in text
    assert f"> What do you think, @{people.outsider.handle}?" in text
    assert "https://community.example.com/settings/profile" in text


def test_members_choose_their_emails(app, people, general, make, api_as, login_as, inbox):
    thread = make(make_thread, people.member, general)
    outsider = api_as(people.outsider)
    assert outsider.get("/api/v1/me").json["email_mentions"] is True
    changed = outsider.patch("/api/v1/me", {"email_mentions": False, "email_digest": True}).json
    assert (changed["email_mentions"], changed["email_digest"]) == (False, True)
    assert outsider.patch("/api/v1/me", {"email_mentions": "loud"}).status_code == 422
    mention(api_as(people.member), thread.id, people.outsider)
    assert inbox.to(people.outsider.email) == []
    # On the web: the form sends the boxes that are checked.
    web = login_as(people.outsider)
    assert 'name="email_digest" checked' in web.get("/settings/profile").get_data(as_text=True)
    assert web.post("/settings/email", {"email_mentions": "on"}).status_code == 302
    me = outsider.get("/api/v1/me").json
    assert (me["email_mentions"], me["email_digest"]) == (True, False)


def test_email_goes_only_after_commit(app, people, general, make, inbox):
    thread = make(make_thread, people.member, general)
    for finish in (events.rollback, events.commit):
        with app.app_context():
            notify([db.session.get(User, people.outsider.id)], "mention", actor=db.session.get(User, people.member.id),
                   thread=db.session.get(Thread, thread.id), text=f"mentioned via {finish.__name__}")
            assert inbox.messages == []  # nothing inside the transaction
            finish()
            db.session.remove()
    assert [message["Subject"] for message in inbox.messages] == ["mentioned via commit"]


def test_no_email_without_smtp_and_a_dead_server_breaks_nothing(app, people, general, make, api_as, monkeypatch):
    thread = make(make_thread, people.member, general)
    monkeypatch.setitem(app.config, "SMTP_URL", None)
    mention(api_as(people.member), thread.id, people.outsider)
    result = app.test_cli_runner().invoke(args=["send-digests"])
    assert result.exit_code != 0 and "SMTP_URL is not set" in result.output
    monkeypatch.setitem(app.config, "SMTP_URL", f"smtp://127.0.0.1:{free_port()}")  # nobody listens
    mention(api_as(people.member), thread.id, people.outsider)  # still 201: the reply was committed


def test_digest_lists_what_is_unread_and_readable_once(app, people, general, make, api_as, inbox):
    public = make(make_thread, people.member, general, title="Public roadmap")
    doomed = make(make_thread, people.member, general, title="canarysecrettitle plans")
    outsider, member = api_as(people.outsider), api_as(people.member)
    outsider.patch("/api/v1/me", {"email_digest": True, "email_mentions": False})
    for thread in (public, doomed):
        outsider.post(f"/api/v1/threads/{thread.id}/posts", {"body": "Watching this."})
        member.post(f"/api/v1/threads/{thread.id}/posts", {"body": "Reply one"})
        member.post(f"/api/v1/threads/{thread.id}/posts", {"body": "Reply two"})
    with app.app_context():  # the second thread moves where the outsider may not follow
        secret = make_category("Staff room", staff_only=True)
        db.session.execute(update(Thread).where(Thread.id == doomed.id).values(category_id=secret.id))
        db.session.commit()

    runner = app.test_cli_runner()
    result = runner.invoke(args=["send-digests"])
    assert result.exit_code == 0 and "Sent 1 digest(s)." in result.output
    [digest] = inbox.to(people.outsider.email)
    text = body(digest)
    assert digest["Subject"] == "Roundtable: 1 unread notification"
    assert 'Mia Member replied in "Public roadmap" (2×)' in text
    assert f"https://community.example.com/t/{public.id}" in text
    assert "canary" not in (text + digest["Subject"]).lower()
    assert inbox.to(people.member.email) == []  # the member did not ask for a digest
    # Nothing new since: the next run sends nothing; a new reply makes the next digest.
    assert "Sent 0 digest(s)." in runner.invoke(args=["send-digests"]).output
    outsider.post("/api/v1/notifications/read", {})
    member.post(f"/api/v1/threads/{public.id}/posts", {"body": "Reply three"})
    assert "Sent 1 digest(s)." in runner.invoke(args=["send-digests"]).output
    assert len(inbox.to(people.outsider.email)) == 2


def test_smtp_login_from_the_url(app, people, general, make, api_as, monkeypatch):
    def authenticate(server, session, envelope, mechanism, auth_data):
        good = isinstance(auth_data, LoginPassword) and (auth_data.login, auth_data.password) == (b"mailer", b"s3cr:t")
        return AuthResult(success=good)

    inbox = Inbox()
    # A wrong login fails the send (SMTPAuthenticationError), so a delivered message proves the login.
    controller = _start(inbox, authenticator=authenticate, auth_require_tls=False)
    try:
        monkeypatch.setitem(app.config, "SMTP_URL", f"smtp://mailer:s3cr%3At@127.0.0.1:{controller.port}")
        thread = make(make_thread, people.member, general)
        mention(api_as(people.member), thread.id, people.outsider)
    finally:
        controller.stop()
    assert len(inbox.to(people.outsider.email)) == 1
