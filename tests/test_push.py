"""Push notifications with the test playing browser and push service: it makes the P-256 key
pair and auth secret a browser makes, subscribes, gets mentioned, receives the POST on
127.0.0.1, verifies the VAPID JWT against the server's public key and decrypts the aes128gcm
body with http_ece. Then the rules: grouping, what changed between commit and send, suspended
members, ended sessions, what push services answer, FCM and APNs request shapes."""
import base64
import json
import os
from datetime import timedelta

import http_ece
import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from google.auth.credentials import DEFAULT_UNIVERSE_DOMAIN
from sqlalchemy import func, select, update

from community.accounts.models import DeviceSession, User
from community.database import db, utcnow
from community.jobs import services as jobs
from community.jobs.models import Job
from community.push.models import PushSubscription

from .conftest import assert_error, count_queries
from .factories import make_category, make_thread
from .live_server import free_port
from .push_services import Http2Service, PushService


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def unb64url(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


class Browser:
    """What a browser keeps for one push subscription (RFC 8291): a P-256 key pair and a secret."""

    def __init__(self, endpoint: str):
        self.private_key = ec.generate_private_key(ec.SECP256R1())
        self.auth = os.urandom(16)
        self.endpoint = endpoint

    def subscription(self) -> dict:
        public = self.private_key.public_key().public_bytes(serialization.Encoding.X962,
                                                            serialization.PublicFormat.UncompressedPoint)
        return {"kind": "webpush", "endpoint": self.endpoint, "keys": {"p256dh": b64url(public),
                                                                       "auth": b64url(self.auth)}}

    def decrypt(self, body: bytes) -> dict:
        return json.loads(http_ece.decrypt(body, private_key=self.private_key, auth_secret=self.auth,
                                           version="aes128gcm"))


@pytest.fixture
def push_service(app, monkeypatch):
    monkeypatch.setitem(app.config, "OUTBOUND_ALLOW_PRIVATE_NETWORKS", True)  # the service is on loopback
    monkeypatch.setitem(app.config, "BASE_URL", "https://community.example.com")
    service = PushService()
    yield service
    service.stop()


@pytest.fixture
def general(make):
    return make(make_category, "General")


def subscribe(client, push_service, name="device-1"):
    browser = Browser(f"{push_service.url}/push/{name}")
    response = client.post("/api/v1/me/push-subscriptions", browser.subscription())
    assert response.status_code == 201, response.json
    assert set(response.json) == {"id", "kind", "created_at"} and response.json["kind"] == "webpush"
    browser.id = response.json["id"]
    return browser


def post(client, thread_id, body):
    response = client.post(f"/api/v1/threads/{thread_id}/posts", {"body": body})
    assert response.status_code == 201, response.json
    return response.json


def pending_push_jobs(app) -> list[int]:
    with app.app_context():
        return list(db.session.scalars(select(Job.id).where(Job.name == "push.send", Job.status == "pending")))


def run_due(app, job_ids):
    """A worker picks the jobs up once their time has come."""
    with app.app_context():
        db.session.execute(update(Job).where(Job.id.in_(job_ids)).values(next_attempt_at=utcnow()))
        db.session.commit()
        for job_id in job_ids:
            jobs.run_job(job_id)


def test_a_mention_reaches_the_browser_encrypted_and_signed(app, people, general, make, api_as, push_service):
    thread = make(make_thread, people.member, general, title="Rollout plans")
    otto = api_as(people.outsider)
    server_key = otto.get("/api/v1/push/config").json["vapid_public_key"]
    browser = subscribe(otto, push_service)
    assert otto.get("/api/v1/me/push-subscriptions").json["items"][0]["id"] == browser.id

    mention = post(api_as(people.member), thread.id, f"@{people.outsider.handle} can you check the rollout?")
    [request] = push_service.received
    assert request.path == "/push/device-1"
    assert request.headers["content-encoding"] == "aes128gcm" and int(request.headers["ttl"]) > 0
    assert request.headers["urgency"] == "high" and request.headers["topic"].isalnum()

    # RFC 8292: "vapid t=<JWT>, k=<the server's public key>", the JWT signed by that key (ES256).
    scheme, _, fields = request.headers["authorization"].partition(" ")
    fields = dict(part.strip().split("=", 1) for part in fields.split(","))
    assert scheme == "vapid" and fields["k"] == server_key
    public_key = ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), unb64url(server_key))
    claims = jwt.decode(fields["t"], public_key, algorithms=["ES256"], audience=push_service.url)
    assert claims["sub"] and claims["exp"] > utcnow().timestamp()
    with pytest.raises(jwt.InvalidSignatureError):  # another key does not verify it
        jwt.decode(fields["t"], ec.generate_private_key(ec.SECP256R1()).public_key(), algorithms=["ES256"],
                   audience=push_service.url)

    payload = browser.decrypt(request.body)  # RFC 8291 with the browser's own keys
    notification = otto.get("/api/v1/notifications").json["items"][0]
    assert payload == {
        "type": "notification", "notification_id": notification["id"], "kind": "mention", "count": 1,
        "title": 'Mia Member mentioned you in "Rollout plans"', "body": mention["body"],
        "url": f"https://community.example.com/t/{thread.id}#post-{mention['id']}",
    }


def test_a_push_excerpt_reads_as_plain_text_not_markdown(app, people, general, make, api_as, push_service):
    thread = make(make_thread, people.member, general, title="Quarter plans")
    otto = api_as(people.outsider)
    browser = subscribe(otto, push_service)
    body = f"@{people.outsider.handle} the **Q3** plan\n\n```\nrollout --all\n```"
    post(api_as(people.member), thread.id, body)
    [request] = push_service.received
    assert browser.decrypt(request.body)["body"] == f"@{people.outsider.handle} the Q3 plan rollout --all"


def test_ten_replies_make_one_push_that_says_ten(app, people, general, make, api_as, push_service):
    thread = make(make_thread, people.member, general, title="Busy thread")
    otto, mia = api_as(people.outsider), api_as(people.member)
    post(otto, thread.id, "I watch this thread now that I wrote in it.")
    browser = subscribe(otto, push_service)
    for number in range(10):
        post(mia, thread.id, f"Reply number {number}")
    assert push_service.received == []  # replies wait a few seconds, to be pushed together
    waiting = pending_push_jobs(app)
    assert len(waiting) == 1
    run_due(app, waiting)
    [request] = push_service.received
    payload = browser.decrypt(request.body)
    assert payload["count"] == 10 and payload["kind"] == "reply" and payload["body"].startswith("10 new")
    assert "Reply number 9" in payload["body"]


def test_nothing_is_pushed_that_the_member_may_no_longer_read(app, people, general, make, api_as, push_service):
    """Between the commit and the send, a post is hidden, a thread moves to a staff category."""
    hidden_here = make(make_thread, people.member, general, title="A post gets hidden")
    moved = make(make_thread, people.member, general, title="canarysecret moves away")
    otto, mia, mod = api_as(people.outsider), api_as(people.member), api_as(people.moderator)
    for thread in (hidden_here, moved):
        post(otto, thread.id, "Watching.")
    subscribe(otto, push_service)
    doomed = post(mia, hidden_here.id, "canarysecret pricing, soon hidden")
    post(mia, moved.id, "A reply in a thread about to move")
    staff = make(make_category, "Staff room", staff_only=True)
    assert mod.post(f"/api/v1/posts/{doomed['id']}/hide", {"reason": "Confidential"}).status_code == 200
    assert mod.patch(f"/api/v1/threads/{moved.id}", {"category_id": staff.id}).status_code == 200
    waiting = pending_push_jobs(app)
    assert len(waiting) == 2
    run_due(app, waiting)
    assert push_service.received == []
    with app.app_context():  # the jobs did their work: there was nothing to push any more
        assert db.session.scalar(select(func.count(Job.id)).where(Job.id.in_(waiting),
                                                                  Job.status == "succeeded")) == 2


def test_choices_suspension_and_sign_out_stop_pushes(app, people, general, make, api_as, push_service):
    thread = make(make_thread, people.member, general)
    otto, mia = api_as(people.outsider), api_as(people.member)
    subscribe(otto, push_service)
    assert otto.patch("/api/v1/me", {"push_mentions": False}).json["push_mentions"] is False
    post(mia, thread.id, f"@{people.outsider.handle} one")
    assert push_service.received == []
    assert otto.patch("/api/v1/me", {"push_mentions": True}).json["push_mentions"] is True
    post(mia, thread.id, f"@{people.outsider.handle} two")
    assert len(push_service.received) == 1

    # Signing this device out removes its subscription; another device's stays.
    other_device = api_as(people.outsider)
    subscribe(other_device, push_service, "device-2")
    assert otto.post("/api/v1/auth/logout").status_code in (200, 204)
    post(mia, thread.id, f"@{people.outsider.handle} three")
    assert [r.path for r in push_service.received[1:]] == ["/push/device-2"]
    with app.app_context():
        assert db.session.scalar(select(func.count(PushSubscription.id))) == 1

    # A suspended member gets nothing, and keeps no subscription.
    until = (utcnow() + timedelta(days=3)).isoformat()
    suspended = api_as(people.moderator).post(f"/api/v1/users/{people.outsider.id}/suspend",
                                              {"until": until, "reason": "Cooling off"})
    assert suspended.status_code == 200, suspended.json
    post(mia, thread.id, f"@{people.outsider.handle} four")
    assert len(push_service.received) == 2
    with app.app_context():
        assert db.session.scalar(select(func.count(PushSubscription.id))) == 0


def test_what_push_services_answer(app, people, general, make, api_as, push_service):
    thread = make(make_thread, people.member, general)
    otto, mia = api_as(people.outsider), api_as(people.member)
    subscribe(otto, push_service)

    def mention_job():
        post(mia, thread.id, f"@{people.outsider.handle} hello")
        with app.app_context():
            job = db.session.scalars(select(Job).where(Job.name == "push.send").order_by(Job.id.desc())).first()
            db.session.expunge(job)
            return job

    push_service.answers = [(429, {"Retry-After": "120"}, b"slow down")]
    job = mention_job()
    assert job.status == "pending" and 110 < (job.next_attempt_at - utcnow()).total_seconds() <= 120
    push_service.answers = [(503, {}, b"")]
    run_due(app, [job.id])
    push_service.answers = [(201, {}, b"")]
    run_due(app, [job.id])
    assert len(push_service.received) == 3
    push_service.answers = [(400, {}, b"bad request")]
    job = mention_job()
    with app.app_context():
        assert db.session.get(Job, job.id).status == "dead"  # a refusal no retry mends: for admins to see
    push_service.answers = [(410, {}, b"gone")]
    mention_job()
    assert otto.get("/api/v1/me/push-subscriptions").json["items"] == []  # the service forgot it: so do we
    post(mia, thread.id, f"@{people.outsider.handle} anyone?")
    assert len(push_service.received) == 5


def test_subscriptions_are_checked(app, people, api_as, monkeypatch):
    otto = api_as(people.outsider)
    browser = Browser("https://127.0.0.1/push/x")
    error = assert_error(otto.post("/api/v1/me/push-subscriptions", browser.subscription()), 422)
    assert "endpoint" in error["fields"]  # a private-network endpoint, refused by default
    monkeypatch.setitem(app.config, "OUTBOUND_ALLOW_PRIVATE_NETWORKS", True)
    bad_keys = {**browser.subscription(), "keys": {"p256dh": "AAAA", "auth": "short"}}
    assert set(assert_error(otto.post("/api/v1/me/push-subscriptions", bad_keys), 422)["fields"]) >= {"keys.p256dh"}
    assert "kind" in assert_error(otto.post("/api/v1/me/push-subscriptions", {"kind": "fcm", "token": "x" * 40}),
                                  422)["fields"]  # FCM is off: FCM_CREDENTIALS_FILE is unset
    first = otto.post("/api/v1/me/push-subscriptions", browser.subscription()).json
    again = otto.post("/api/v1/me/push-subscriptions", browser.subscription()).json
    assert len(otto.get("/api/v1/me/push-subscriptions").json["items"]) == 1 and first["id"] == again["id"]
    assert_error(api_as(people.member).delete(f"/api/v1/me/push-subscriptions/{first['id']}"), 404)
    assert otto.delete(f"/api/v1/me/push-subscriptions/{first['id']}").status_code == 204


# FCM HTTP v1 and APNs: the documented request shapes, on local endpoints

GOOGLE_APIS = DEFAULT_UNIVERSE_DOMAIN  # Google's API domain, as google-auth names it


@pytest.fixture
def fcm(app, tmp_path, monkeypatch, push_service):
    """A service account whose token endpoint is the local service, and FCM there too."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                            serialization.NoEncryption()).decode()
    credentials = tmp_path / "fcm.json"
    credentials.write_text(json.dumps({
        "type": "service_account", "project_id": "roundtable-test", "private_key_id": "k1", "private_key": pem,
        "client_email": "push@roundtable-test.iam.gserviceaccount.com", "client_id": "1",
        "token_uri": f"{push_service.url}/token"}))
    monkeypatch.setitem(app.config, "FCM_CREDENTIALS_FILE", str(credentials))
    monkeypatch.setitem(app.config, "FCM_ENDPOINT", push_service.url)
    app.extensions.pop("roundtable.push_clients", None)

    def answer(path, body):
        if path == "/token":
            return 200, {"Content-Type": "application/json"}, json.dumps(
                {"access_token": "ya29.local-token", "expires_in": 3600, "token_type": "Bearer"}).encode()
        return push_service.answers.pop(0) if push_service.answers else (200, {}, b'{"name": "projects/x/messages/1"}')

    push_service.answer = answer
    yield key.public_key()
    app.extensions.pop("roundtable.push_clients")["fcm"][0].close()


def test_fcm_gets_its_documented_request_without_community_content(app, people, general, make, api_as, fcm,
                                                                   push_service):
    thread = make(make_thread, people.member, general, title="canarysecret roadmap")
    otto = api_as(people.outsider)
    token = "fcm-registration-token:" + "a" * 60
    assert otto.post("/api/v1/me/push-subscriptions", {"kind": "fcm", "token": token}).status_code == 201
    post(api_as(people.member), thread.id, f"@{people.outsider.handle} canarysecret details")
    token_request, send = push_service.received
    grant = dict(pair.split("=", 1) for pair in token_request.body.decode().split("&"))
    assertion = jwt.decode(grant["assertion"], fcm, algorithms=["RS256"], audience=f"https://oauth2.{GOOGLE_APIS}/token")
    assert assertion["scope"] == f"https://www.{GOOGLE_APIS}/auth/firebase.messaging"
    assert send.path == "/v1/projects/roundtable-test/messages:send"
    assert send.headers["authorization"] == "Bearer ya29.local-token"
    message = send.json()["message"]
    notification_id = otto.get("/api/v1/notifications").json["items"][0]["id"]
    assert message["token"] == token
    assert message["data"] == {"notification_id": str(notification_id), "kind": "mention", "count": "1"}
    assert message["notification"] == {"title": "Roundtable", "body": "You have a new notification."}
    assert "canary" not in send.body.decode()

    push_service.answers = [(404, {}, json.dumps({"error": {"status": "NOT_FOUND", "details": [
        {"@type": "type.googleapis.com/google.firebase.fcm.v1.FcmError", "errorCode": "UNREGISTERED"}]}}).encode())]
    post(api_as(people.member), thread.id, f"@{people.outsider.handle} again")
    assert otto.get("/api/v1/me/push-subscriptions").json["items"] == []


@pytest.fixture
def apns(app, tmp_path, monkeypatch):
    key = ec.generate_private_key(ec.SECP256R1())
    key_file = tmp_path / "AuthKey_ABC123DEFG.p8"
    key_file.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    service = Http2Service(free_port())
    for name, value in {"APNS_KEY_FILE": str(key_file), "APNS_KEY_ID": "ABC123DEFG", "APNS_TEAM_ID": "TEAM123456",
                        "APNS_TOPIC": "com.example.roundtable", "APNS_ENDPOINT": service.url}.items():
        monkeypatch.setitem(app.config, name, value)
    app.extensions.pop("roundtable.push_clients", None)
    service.public_key = key.public_key()
    yield service
    app.extensions.pop("roundtable.push_clients")["apns"].close()
    service.stop()


def test_apns_gets_its_documented_http2_request_without_community_content(app, people, general, make, api_as,
                                                                         apns):
    thread = make(make_thread, people.member, general, title="canarysecret launch")
    otto = api_as(people.outsider)
    device_token = "ab" * 32
    assert otto.post("/api/v1/me/push-subscriptions", {"kind": "apns", "token": device_token}).status_code == 201
    post(api_as(people.member), thread.id, f"@{people.outsider.handle} canarysecret date")
    [request] = apns.received
    assert request.http_version == "2" and request.path == f"/3/device/{device_token}"
    scheme, provider_token = request.headers["authorization"].split(" ", 1)
    assert scheme == "bearer"
    assert jwt.get_unverified_header(provider_token)["kid"] == "ABC123DEFG"
    assert jwt.decode(provider_token, apns.public_key, algorithms=["ES256"])["iss"] == "TEAM123456"
    assert request.headers["apns-topic"] == "com.example.roundtable"
    assert request.headers["apns-push-type"] == "alert" and request.headers["apns-priority"] == "10"
    body = request.json()
    notification_id = otto.get("/api/v1/notifications").json["items"][0]["id"]
    assert body == {"aps": {"alert": {"title": "Roundtable", "body": "You have a new notification."},
                            "sound": "default"},
                    "notification_id": notification_id, "kind": "mention", "count": 1}
    assert "canary" not in request.body.decode()

    apns.answers = [(410, {"content-type": "application/json"}, b'{"reason": "Unregistered"}')]
    post(api_as(people.member), thread.id, f"@{people.outsider.handle} again")
    assert otto.get("/api/v1/me/push-subscriptions").json["items"] == []


def test_the_settings_page_sets_push_choices_and_the_service_worker_is_served(app, people, login_as, web):
    worker = web.get("/service-worker.js")  # no sign-in: it holds no data
    assert worker.status_code == 200 and worker.mimetype == "text/javascript"
    assert "showNotification" in worker.get_data(as_text=True)
    browser = login_as(people.outsider)
    page = browser.get("/settings/profile").get_data(as_text=True)
    assert 'name="push_replies" checked' in page and 'name="push_meetings" checked' in page
    assert browser.post("/settings/push", {"push_mentions": "on", "push_meetings": "on"}).status_code == 302
    with app.app_context():
        otto = db.session.get(User, people.outsider.id)
        assert (otto.push_mentions, otto.push_replies, otto.push_idea_updates, otto.push_meetings) == (
            True, False, False, True)
    assert browser.get("/settings/push").json["vapid_public_key"]


def test_listing_subscriptions_takes_the_same_queries_for_one_or_many(app, people, api_as, push_service):
    otto = api_as(people.outsider)

    def queries():
        with app.app_context(), count_queries() as statements:
            assert otto.get("/api/v1/me/push-subscriptions").status_code == 200
        return len(statements)

    subscribe(otto, push_service, "one")
    one = queries()
    for name in ("two", "three", "four"):
        subscribe(otto, push_service, name)
    assert queries() == one and len(otto.get("/api/v1/me/push-subscriptions").json["items"]) == 4


def test_erasure_removes_every_subscription(app, people, api_as, push_service):
    otto = api_as(people.outsider)
    subscribe(otto, push_service, "phone")
    subscribe(api_as(people.outsider), push_service, "tablet")
    assert otto.delete("/api/v1/me", json={"password": "correct-horse-battery"}).status_code == 204
    with app.app_context():
        assert db.session.scalar(select(func.count(PushSubscription.id))) == 0


def test_the_browser_switch_subscribes_for_this_web_session(app, people, login_as, push_service):
    """What push.js sends when the member turns on "Enable notifications on this device"."""
    browser_page = login_as(people.outsider)
    page = browser_page.get("/settings/profile").get_data(as_text=True)
    assert "Enable notifications on this device" in page and "push.js" in page
    browser = Browser(f"{push_service.url}/push/laptop")
    token = browser_page.csrf_token()
    response = browser_page.client.post("/settings/push-subscriptions", json=browser.subscription(),
                                         headers={"X-CSRFToken": token})
    assert response.status_code == 201, response.get_data(as_text=True)
    with app.app_context():
        subscription = db.session.get(PushSubscription, response.json["id"])
        session = db.session.get(DeviceSession, subscription.session_id)
        assert (session.user_id, session.kind) == (people.outsider.id, "web")
    assert browser_page.logout().status_code == 302  # signing this browser out forgets it
    with app.app_context():
        assert db.session.get(PushSubscription, response.json["id"]) is None
