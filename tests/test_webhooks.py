"""Webhooks: a local receiver verifies every delivery with the Standard Webhooks library; failures
are retried and logged attempt by attempt; the retry button re-sends; private networks are refused;
staff-only content goes only where an admin allowed it."""
from datetime import timedelta

import pytest
from sqlalchemy import select, update

from community.database import db, utcnow
from community.jobs.models import Job
from community.jobs.services import run_job
from community.notifications.models import Notification
from community.webhooks.models import Webhook, WebhookAttempt, WebhookDelivery

from .conftest import assert_error, assert_max_queries
from .factories import make_category
from .webhook_receiver import Receiver


@pytest.fixture
def receiver():
    receiver = Receiver()
    yield receiver
    receiver.stop()


@pytest.fixture
def private_networks(app):
    """The receiver runs on 127.0.0.1: allowed here as on an on-premise install."""
    app.config["OUTBOUND_ALLOW_PRIVATE_NETWORKS"] = True
    yield
    app.config["OUTBOUND_ALLOW_PRIVATE_NETWORKS"] = False


@pytest.fixture
def admin(people, api_as):
    return api_as(people.admin)


def _create(admin, receiver, events=("idea.created",), **extra):
    response = admin.post("/api/v1/webhooks", {"url": receiver.url, "events": list(events), **extra})
    assert response.status_code == 201, response.json
    receiver.secret = response.json["secret"]
    return response.json


def _deliveries(admin, webhook_id):
    response = admin.get(f"/api/v1/webhooks/{webhook_id}/deliveries")
    assert response.status_code == 200, response.json
    return response.json["items"]


def _run_retries_now(app):
    """Time passes: every job waiting for its next attempt is due, and runs (as a worker would)."""
    with app.app_context():
        db.session.execute(update(Job).where(Job.status == "pending").values(next_attempt_at=utcnow()))
        db.session.commit()
        for job_id in db.session.scalars(select(Job.id).where(Job.status == "pending").order_by(Job.id)).all():
            run_job(job_id)
        db.session.remove()


def test_a_new_idea_arrives_signed_and_shows_in_the_log(people, admin, api_as, receiver, private_networks):
    hook = _create(admin, receiver)
    assert hook["secret"].startswith("whsec_") and hook["events"] == ["idea.created"]
    assert "secret" not in admin.get(f"/api/v1/webhooks/{hook['id']}").json
    assert all("secret" not in item for item in admin.get("/api/v1/webhooks").json["items"])

    idea = api_as(people.member).post("/api/v1/ideas", {"title": "Webhook canary idea", "body": "Please"}).json
    [delivery] = receiver.wait_for("idea.created")
    assert receiver.refused == []
    assert delivery["body"]["data"]["idea"]["id"] == idea["id"]
    assert delivery["body"]["data"]["idea"]["title"] == "Webhook canary idea"
    assert delivery["body"]["data"]["idea"]["vote_count"] == 1
    assert "has_voted" not in delivery["body"]["data"]["idea"]
    assert delivery["headers"]["webhook-id"].startswith("msg_")
    [logged] = _deliveries(admin, hook["id"])
    assert (logged["event_type"], logged["status"], logged["attempts"], logged["response_status"]) == (
        "idea.created", "succeeded", 1, 200)
    assert logged["message_id"] == delivery["headers"]["webhook-id"]


def test_a_failing_receiver_is_retried_with_the_same_id_and_every_attempt_is_logged(
        app, people, admin, api_as, receiver, private_networks):
    hook = _create(admin, receiver, events=["thread.created", "post.created"])
    receiver.answers = [503, 500]
    with app.app_context():
        category = make_category("General")
        category_id = category.id
    thread = api_as(people.member).post("/api/v1/threads", {"category_id": category_id, "title": "Hello hooks",
                                                            "body": "First"}).json
    [first] = _deliveries(admin, hook["id"])
    assert (first["status"], first["attempts"], first["response_status"]) == ("failed", 1, 503)
    assert first["next_attempt_at"] is not None
    _run_retries_now(app)
    _run_retries_now(app)
    [done] = _deliveries(admin, hook["id"])
    assert (done["status"], done["attempts"], done["response_status"]) == ("succeeded", 3, 200)
    arrivals = receiver.of_type("thread.created")
    assert [a["status"] for a in arrivals] == [503, 500, 200]
    assert len({a["headers"]["webhook-id"] for a in arrivals}) == 1  # receivers de-duplicate by it
    assert {a["body"]["data"]["thread"]["id"] for a in arrivals} == {thread["id"]}
    with app.app_context():
        attempts = db.session.scalars(select(WebhookAttempt).order_by(WebhookAttempt.id)).all()
        assert [(a.succeeded, a.response_status) for a in attempts] == [(False, 503), (False, 500), (True, 200)]
        assert attempts[0].response_body.startswith("receiver is down") and len(attempts[0].response_body) == 1000
        assert all(a.duration_ms >= 0 for a in attempts)

    # The retry button sends it once more, with the same webhook-id.
    retried = admin.post(f"/api/v1/webhooks/{hook['id']}/deliveries/{done['id']}/retry")
    assert retried.status_code == 202, retried.json
    assert len(receiver.of_type("thread.created")) == 4
    assert receiver.of_type("thread.created")[-1]["headers"]["webhook-id"] == arrivals[0]["headers"]["webhook-id"]
    assert _deliveries(admin, hook["id"])[0]["attempts"] == 4


def test_a_delivery_that_keeps_failing_ends_dead_and_a_day_of_failures_switches_the_endpoint_off(
        app, people, admin, api_as, receiver, private_networks):
    hook = _create(admin, receiver, events=["idea.created"])
    receiver.answers = [500] * 20
    api_as(people.member).post("/api/v1/ideas", {"title": "Doomed", "body": "It will fail"})
    for _ in range(7):
        _run_retries_now(app)
    [delivery] = _deliveries(admin, hook["id"])
    assert (delivery["status"], delivery["attempts"]) == ("dead", 8)
    with app.app_context():
        assert db.session.scalar(select(Job.status).where(Job.name == "webhook.deliver")) == "dead"
        assert db.session.get(Webhook, hook["id"]).active  # eight attempts span about a day, not here
        db.session.execute(update(Webhook).values(failing_since=utcnow() - timedelta(days=1, minutes=1)))
        db.session.commit()
    assert admin.post(f"/api/v1/webhooks/{hook['id']}/deliveries/{delivery['id']}/retry").status_code == 202
    switched = admin.get(f"/api/v1/webhooks/{hook['id']}").json
    assert switched["active"] is False and "failing for a day" in switched["disabled_reason"]
    assert _deliveries(admin, hook["id"])[0]["status"] == "dead"
    with app.app_context():
        told = db.session.scalars(select(Notification).where(Notification.kind == "webhook_disabled")).all()
        assert [n.user_id for n in told] == [people.admin.id]
    # While it is off, nothing is delivered; switched on again, it is.
    api_as(people.member).post("/api/v1/ideas", {"title": "Unheard", "body": "Off"})
    assert len(_deliveries(admin, hook["id"])) == 1
    assert admin.patch(f"/api/v1/webhooks/{hook['id']}", {"active": True}).json["failing_since"] is None
    receiver.answers = []
    api_as(people.member).post("/api/v1/ideas", {"title": "Heard again", "body": "On"})
    assert receiver.wait_for("idea.created")[-1]["body"]["data"]["idea"]["title"] == "Heard again"


def test_private_networks_and_plain_http_are_refused(admin, receiver):
    for url in (receiver.url, "https://127.0.0.1/hooks", "https://10.1.2.3/x", "https://[::1]/x",
                "https://169.254.169.254/latest/meta-data", "ftp://example.com/x", "not a url"):
        error = assert_error(admin.post("/api/v1/webhooks", {"url": url, "events": ["idea.created"]}), 422)
        assert set(error["fields"]) == {"url"}, url


def test_an_address_that_turns_private_after_registration_is_refused_when_sending(
        app, people, admin, api_as, receiver, private_networks):
    hook = _create(admin, receiver)
    app.config["OUTBOUND_ALLOW_PRIVATE_NETWORKS"] = False
    api_as(people.member).post("/api/v1/ideas", {"title": "Refused", "body": "Not sent"})
    assert receiver.received == []
    [delivery] = _deliveries(admin, hook["id"])
    assert delivery["status"] == "failed" and delivery["response_status"] is None
    with app.app_context():
        assert "OutboundRefused" in db.session.scalar(select(WebhookAttempt.error))


def test_staff_only_content_goes_only_to_webhooks_marked_for_it(app, make, people, admin, api_as, private_networks):
    lounge = make(make_category, "Staff lounge", staff_only=True)
    everyone, staff = Receiver(), Receiver()
    try:
        _create(admin, everyone, events=["thread.created"])
        _create(admin, staff, events=["thread.created"], include_staff_only=True)
        api_as(people.moderator).post("/api/v1/threads", {"category_id": lounge.id, "title": "Renewal risk canary",
                                                          "body": "Internal"})
        assert [d["body"]["data"]["thread"]["title"] for d in staff.wait_for("thread.created")] == [
            "Renewal risk canary"]
        assert everyone.received == []
    finally:
        everyone.stop()
        staff.stop()


def test_ping_and_a_rotated_secret_that_keeps_verifying_for_a_day(app, admin, receiver, private_networks):
    hook = _create(admin, receiver, events=["member.joined"])
    old_secret = receiver.secret
    assert admin.post(f"/api/v1/webhooks/{hook['id']}/ping").status_code == 202
    [ping] = receiver.wait_for("ping")
    assert ping["body"]["data"] == {"webhook_id": hook["id"]}
    rotated = admin.post(f"/api/v1/webhooks/{hook['id']}/secret").json
    assert rotated["secret"].startswith("whsec_") and rotated["secret"] != old_secret
    for secret in (old_secret, rotated["secret"]):
        receiver.secret = secret
        admin.post(f"/api/v1/webhooks/{hook['id']}/ping")
    assert receiver.refused == [] and len(receiver.of_type("ping")) == 3
    with app.app_context():
        db.session.execute(update(Webhook).values(previous_secret_expires_at=utcnow() - timedelta(seconds=1)))
        db.session.commit()
    receiver.secret = old_secret
    admin.post(f"/api/v1/webhooks/{hook['id']}/ping")
    assert receiver.refused == ["No matching signature found"]


def test_webhooks_are_for_admins_only(people, api_as, admin, receiver):
    for person in (people.member, people.moderator):
        client = api_as(person)
        assert_error(client.get("/api/v1/webhooks"), 403)
        assert_error(client.post("/api/v1/webhooks", {"url": "https://example.com/h", "events": ["idea.created"]}),
                     403)
    assert_error(admin.get("/api/v1/webhooks/999999"), 404)
    error = assert_error(admin.post("/api/v1/webhooks", {"url": "https://93.184.215.14/h", "events": ["nope"]}), 422)
    assert set(error["fields"]) == {"events"}


def test_the_delivery_log_costs_the_same_queries_for_1_and_many(app, people, admin, receiver, private_networks):
    hook = _create(admin, receiver, events=["member.joined"])
    admin.post(f"/api/v1/webhooks/{hook['id']}/ping")
    with app.app_context(), assert_max_queries(8) as one:
        admin.get(f"/api/v1/webhooks/{hook['id']}/deliveries")
    for _ in range(5):
        admin.post(f"/api/v1/webhooks/{hook['id']}/ping")
    with app.app_context(), assert_max_queries(len(one)) as many:
        assert len(admin.get(f"/api/v1/webhooks/{hook['id']}/deliveries").json["items"]) == 6
    assert len(many) == len(one)


def test_admin_pages_create_show_the_secret_once_ping_and_retry(app, people, login_as, receiver, private_networks):
    browser = login_as(people.admin)
    assert "/admin/webhooks" in browser.get("/").get_data(as_text=True)
    assert login_as(people.member).get("/admin/webhooks").status_code == 403
    refused = browser.post("/admin/webhooks", {"url": "ftp://x", "events": ["idea.created"]})
    assert refused.status_code == 422
    created = browser.post("/admin/webhooks", {"url": receiver.url, "events": ["idea.created"],
                                               "description": "CRM"})
    assert created.status_code == 201
    page = created.get_data(as_text=True)
    with app.app_context():
        hook = db.session.scalar(select(Webhook))
        receiver.secret = hook.secret
    assert hook.secret in page and hook.events == ["idea.created"]
    detail = browser.get(f"/admin/webhooks/{hook.id}").get_data(as_text=True)
    assert hook.secret not in detail and "Nothing delivered yet" in detail
    assert browser.post(f"/admin/webhooks/{hook.id}/ping").status_code == 302
    assert len(receiver.wait_for("ping")) == 1
    with app.app_context():
        delivery = db.session.scalar(select(WebhookDelivery))
    detail = browser.get(f"/admin/webhooks/{hook.id}").get_data(as_text=True)
    assert 'data-status="succeeded"' in detail
    assert browser.post(f"/admin/webhooks/{hook.id}/deliveries/{delivery.id}/retry").status_code == 302
    assert len(receiver.of_type("ping")) == 2
    attempts = browser.get(f"/admin/webhooks/{hook.id}/deliveries/{delivery.id}").get_data(as_text=True)
    assert attempts.count("ok thanks") == 2
    saved = browser.post(f"/admin/webhooks/{hook.id}", {"url": receiver.url, "events": ["post.created"]})
    assert saved.status_code == 302
    with app.app_context():
        hook = db.session.get(Webhook, hook.id)
        assert hook.events == ["post.created"] and hook.active is False
