"""Webhooks for admins: endpoints, their secrets, the delivery log, retries and pings; and the
deliveries themselves, written in the transaction of what they announce and sent by jobs.

Delivery follows the Standard Webhooks specification (signed with the `standardwebhooks`
package): headers `webhook-id` (the delivery's, the same on every retry), `webhook-timestamp`
and `webhook-signature`; body `{"type", "timestamp", "data"}`. A 2xx answer within the timeout
is success; anything else is retried on the schedule below, about a day, then the delivery is
dead. An endpoint whose every attempt failed for a day is switched off and admins are told.
"""
import base64
import json
import secrets
import time
import uuid
from datetime import timedelta

import requests
from sqlalchemy import event as sa_event
from sqlalchemy import func, select, update
from sqlalchemy.orm import Session
from standardwebhooks.webhooks import Webhook as Signer

from .. import events as domain_events
from .. import jobs, outbound, permissions
from ..accounts.models import Role, User
from ..actors import SYSTEM
from ..database import db, utcnow
from ..errors import Forbidden, NotFound, ValidationFailed, check_fields
from ..moderation import audit
from ..notifications.services import notify
from ..pagination import Keyset, Page, check_limit
from .models import EVENT_TYPES, PING, DeliveryStatus, Webhook, WebhookAttempt, WebhookDelivery
from .payloads import TYPES_BY_SIGNAL, Message, message_for

SECRET_PREFIX = "whsec_"
SECRET_BYTES = 32
PREVIOUS_SECRET_LIFETIME = timedelta(hours=24)
# Seconds to wait after each failed attempt (the schedule Svix, the authors of Standard Webhooks,
# publish): 5 s, 5 min, 30 min, 2 h, 5 h, 10 h, 10 h; eight attempts over about 27 hours.
RETRY_SCHEDULE = (5, 300, 1800, 7200, 18000, 36000, 36000)
SWITCH_OFF_AFTER = timedelta(days=1)
KEPT_RESPONSE_BYTES = 1000
MAX_DESCRIPTION = 200
DELIVERIES_KEYSET = Keyset((WebhookDelivery.id,), (int,), lambda d: (d.id,))
WEBHOOKS_KEYSET = Keyset((Webhook.id,), (int,), lambda w: (w.id,), descending=False)


# Checks


def check_event_types(types) -> list[str]:
    if not isinstance(types, list) or not types or not all(isinstance(t, str) for t in types):
        raise ValidationFailed({"events": "Choose at least one event type."})
    unknown = sorted(set(types) - set(EVENT_TYPES))
    if unknown:
        raise ValidationFailed({"events": f"Unknown event type: {', '.join(unknown)}. "
                                          f"Choose from {', '.join(EVENT_TYPES)}."})
    return [t for t in EVENT_TYPES if t in types]


def check_description(description) -> str:
    description = " ".join((description or "").split()) if isinstance(description, str) else None
    if description is None or len(description) > MAX_DESCRIPTION:
        raise ValidationFailed({"description": f"Use at most {MAX_DESCRIPTION} characters."})
    return description


def _check_flag(name: str):
    def check(value) -> bool:
        if not isinstance(value, bool):
            raise ValidationFailed({name: "Must be true or false."})
        return value

    return check


def new_secret() -> str:
    return SECRET_PREFIX + base64.b64encode(secrets.token_bytes(SECRET_BYTES)).decode()


# Endpoints


def _ensure_admin(actor) -> None:
    if not permissions.can_manage_webhooks(actor):
        raise Forbidden("Only admins manage webhooks.")


def access_webhook(actor, webhook_id: int) -> Webhook:
    _ensure_admin(actor)
    webhook = db.session.get(Webhook, webhook_id)
    if webhook is None:
        raise NotFound("No such webhook.")
    return webhook


def list_webhooks(actor, *, cursor: str | None = None, limit=None) -> Page[Webhook]:
    _ensure_admin(actor)
    return WEBHOOKS_KEYSET.paginate(select(Webhook), cursor, check_limit(limit))


def do_create_webhook(actor, *, url, events: list, description="", include_staff_only=False) -> tuple[Webhook, str]:
    """A new endpoint and its secret, which is shown this once."""
    _ensure_admin(actor)
    values = check_fields(url=(lambda v: outbound.check_url(v, "url"), url), events=(check_event_types, events),
                          description=(check_description, description),
                          include_staff_only=(_check_flag("include_staff_only"), include_staff_only))
    secret = new_secret()
    webhook = Webhook(**values, secret=secret, created_by_id=actor.id)
    db.session.add(webhook)
    db.session.flush()
    audit.record(actor, "webhook.create", "webhook", webhook.id, after=_audited(webhook))
    domain_events.commit()
    return webhook, secret


def _audited(webhook: Webhook) -> dict:
    return {"url": webhook.url, "events": list(webhook.events), "active": webhook.active,
            "include_staff_only": webhook.include_staff_only}


def do_update_webhook(actor, webhook_id: int, **changes) -> Webhook:
    """Change `url`, `events`, `description`, `active` or `include_staff_only` (None: unchanged).
    Switching an endpoint back on starts its failure count afresh."""
    webhook = access_webhook(actor, webhook_id)
    checks = {"url": lambda v: outbound.check_url(v, "url"), "events": check_event_types,
              "description": check_description, "active": _check_flag("active"),
              "include_staff_only": _check_flag("include_staff_only")}
    values = check_fields(**{name: (checks[name], value) for name, value in changes.items() if value is not None})
    before = _audited(webhook)
    if values.get("active") and not webhook.active:
        webhook.failing_since, webhook.disabled_reason = None, ""
    for name, value in values.items():
        setattr(webhook, name, value)
    webhook.updated_at = utcnow()
    audit.record(actor, "webhook.update", "webhook", webhook.id, before=before, after=_audited(webhook))
    domain_events.commit()
    return webhook


def do_delete_webhook(actor, webhook_id: int) -> None:
    webhook = access_webhook(actor, webhook_id)
    audit.record(actor, "webhook.delete", "webhook", webhook.id, before=_audited(webhook))
    db.session.delete(webhook)
    domain_events.commit()


def do_rotate_secret(actor, webhook_id: int) -> tuple[Webhook, str]:
    """A new secret, shown this once; the one it replaces keeps signing too for 24 hours, so the
    receiver can switch over without losing a delivery."""
    webhook = access_webhook(actor, webhook_id)
    secret = new_secret()
    webhook.previous_secret, webhook.previous_secret_expires_at = webhook.secret, utcnow() + PREVIOUS_SECRET_LIFETIME
    webhook.secret, webhook.updated_at = secret, utcnow()
    audit.record(actor, "webhook.rotate_secret", "webhook", webhook.id)
    domain_events.commit()
    return webhook, secret


# The delivery log


def list_deliveries(actor, webhook_id: int, *, cursor: str | None = None, limit=None) -> Page[WebhookDelivery]:
    webhook = access_webhook(actor, webhook_id)
    query = select(WebhookDelivery).where(WebhookDelivery.webhook_id == webhook.id)
    return DELIVERIES_KEYSET.paginate(query, cursor, check_limit(limit))


def access_delivery(actor, webhook_id: int, delivery_id: int) -> WebhookDelivery:
    webhook = access_webhook(actor, webhook_id)
    delivery = db.session.get(WebhookDelivery, delivery_id)
    if delivery is None or delivery.webhook_id != webhook.id:
        raise NotFound("No such delivery.")
    return delivery


def list_attempts(delivery: WebhookDelivery) -> list[WebhookAttempt]:
    return list(db.session.scalars(select(WebhookAttempt).where(WebhookAttempt.delivery_id == delivery.id)
                                   .order_by(WebhookAttempt.id.desc())))


def do_retry_delivery(actor, webhook_id: int, delivery_id: int) -> WebhookDelivery:
    """Send a delivery again now (same `webhook-id`), with a fresh round of retries."""
    delivery = access_delivery(actor, webhook_id, delivery_id)
    delivery.status, delivery.next_attempt_at = DeliveryStatus.PENDING, utcnow()
    delivery.round_started_at = utcnow()
    jobs.enqueue(DELIVER_JOB, delivery_id=delivery.id)
    domain_events.commit()
    return delivery


def do_ping(actor, webhook_id: int) -> WebhookDelivery:
    """Send a `ping` event, whatever the endpoint listens to (and even while it is off)."""
    webhook = access_webhook(actor, webhook_id)
    delivery = _add_delivery(webhook, Message(PING, {"webhook_id": webhook.id}))
    domain_events.commit()
    return delivery


# Writing deliveries: in the transaction of what they announce (an outbox)


def _add_delivery(webhook: Webhook, message: Message) -> WebhookDelivery:
    now = utcnow()
    body = json.dumps({"type": message.type, "timestamp": now.isoformat(), "data": message.data},
                      separators=(",", ":"), default=str)
    delivery = WebhookDelivery(webhook_id=webhook.id, message_id=f"msg_{uuid.uuid4().hex}", event_type=message.type,
                               body=body, created_at=now, next_attempt_at=now, round_started_at=now)
    db.session.add(delivery)
    db.session.flush()
    jobs.enqueue(DELIVER_JOB, delivery_id=delivery.id)
    return delivery


def _wants(webhook: Webhook, message: Message) -> bool:
    return message.type in webhook.events and (webhook.include_staff_only or not message.staff_only)


@sa_event.listens_for(Session, "before_commit")
def _write_deliveries(session):
    """Every announcement a webhook listens to becomes a delivery per endpoint, written in the
    same transaction as the change: committed together, or not at all."""
    announced = [(signal, payload) for signal, payload in domain_events.pending(session) if signal in TYPES_BY_SIGNAL]
    if not announced:
        return
    wanted = {TYPES_BY_SIGNAL[signal] for signal, _ in announced}
    webhooks = [w for w in session.scalars(select(Webhook).where(Webhook.active.is_(True)))
                if wanted & set(w.events)]
    if not webhooks:
        return
    # Dump what the transaction wrote as it now stands (counters move in SQL, behind the objects).
    session.flush()
    session.expire_all()
    for signal, payload in announced:
        message = message_for(signal, payload)
        for webhook in webhooks:
            if _wants(webhook, message):
                _add_delivery(webhook, message)


# Sending


DELIVER_JOB = "webhook.deliver"


def signature_headers(webhook: Webhook, message_id: str, at, body: str) -> dict:
    """The Standard Webhooks headers; during a rotation, signed with both secrets."""
    signatures = [Signer(webhook.secret).sign(message_id, at, body)]
    if webhook.previous_secret and webhook.previous_secret_expires_at and webhook.previous_secret_expires_at > at:
        signatures.append(Signer(webhook.previous_secret).sign(message_id, at, body))
    return {"webhook-id": message_id, "webhook-timestamp": str(int(at.timestamp())),
            "webhook-signature": " ".join(signatures), "content-type": "application/json",
            "user-agent": "Roundtable-Webhooks/1"}


def _send(webhook: Webhook, delivery: WebhookDelivery) -> tuple[WebhookAttempt, float | None]:
    """One attempt, and the `Retry-After` the receiver asked for, if any."""
    now = utcnow()
    retry_after = None
    attempt = WebhookAttempt(delivery_id=delivery.id, attempted_at=now, succeeded=False)
    started = time.monotonic()
    try:
        response = outbound.session().post(webhook.url, data=delivery.body.encode(), stream=True,
                                           headers=signature_headers(webhook, delivery.message_id, now, delivery.body))
        with response:
            first_bytes = response.raw.read(KEPT_RESPONSE_BYTES, decode_content=True) or b""
        attempt.response_status = response.status_code
        attempt.response_body = first_bytes.decode("utf-8", "replace")[:KEPT_RESPONSE_BYTES]
        attempt.succeeded = 200 <= response.status_code < 300
        retry_after = outbound.retry_after_seconds(response.headers.get("Retry-After"))
    except (outbound.OutboundRefused, requests.RequestException, OSError) as error:
        attempt.error = f"{type(error).__name__}: {error}"[:500]
    attempt.duration_ms = round((time.monotonic() - started) * 1000)
    return attempt, retry_after


@jobs.job(DELIVER_JOB, max_attempts=len(RETRY_SCHEDULE) + 1, lease_seconds=60)
def deliver(delivery_id: int) -> None:
    """One attempt at a delivery. The attempt is logged and committed before the job asks to be
    retried (a failing job's own writes roll back)."""
    delivery = db.session.get(WebhookDelivery, delivery_id)
    if delivery is None or delivery.status in (DeliveryStatus.SUCCEEDED, DeliveryStatus.DEAD):
        return  # done meanwhile (a retry), or its endpoint was switched off or deleted
    webhook = delivery.webhook
    attempt, retry_after = _send(webhook, delivery)
    db.session.add(attempt)
    delivery.attempts += 1
    delivery.last_attempt_at, delivery.response_status = attempt.attempted_at, attempt.response_status
    if attempt.succeeded:
        delivery.status, delivery.next_attempt_at, webhook.failing_since = DeliveryStatus.SUCCEEDED, None, None
        domain_events.commit()
        return
    round_attempts = db.session.scalar(select(func.count(WebhookAttempt.id)).where(
        WebhookAttempt.delivery_id == delivery.id, WebhookAttempt.attempted_at >= delivery.round_started_at))
    webhook.failing_since = webhook.failing_since or attempt.attempted_at
    if webhook.active and attempt.attempted_at - webhook.failing_since >= SWITCH_OFF_AFTER:
        _switch_off(webhook)
    if round_attempts > len(RETRY_SCHEDULE) or delivery.status == DeliveryStatus.DEAD:
        delivery.status, delivery.next_attempt_at = DeliveryStatus.DEAD, None
        domain_events.commit()
        raise jobs.GiveUp(f"webhook delivery {delivery.id} failed {round_attempts} times")
    wait = max(RETRY_SCHEDULE[round_attempts - 1], retry_after or 0)
    delivery.status, delivery.next_attempt_at = DeliveryStatus.FAILED, attempt.attempted_at + timedelta(seconds=wait)
    domain_events.commit()
    raise jobs.RetryLater(f"webhook answered {attempt.response_status or attempt.error}", seconds=wait)


def _switch_off(webhook: Webhook) -> None:
    """A day of failures: the endpoint is off, what it still owed is dead, and admins hear of it."""
    webhook.active = False
    webhook.disabled_reason = f"Switched off on {utcnow():%Y-%m-%d %H:%M} UTC after failing for a day."
    db.session.execute(
        update(WebhookDelivery)
        .where(WebhookDelivery.webhook_id == webhook.id,
               WebhookDelivery.status.in_((DeliveryStatus.PENDING, DeliveryStatus.FAILED)))
        .values(status=DeliveryStatus.DEAD, next_attempt_at=None)
        .execution_options(synchronize_session="fetch"))
    admins = db.session.scalars(select(User).where(User.role == Role.ADMIN, User.erased_at.is_(None))).all()
    notify(admins, "webhook_disabled", actor=None,
           text=f"Webhook {webhook.url} was switched off: every delivery failed for a day.")
    audit.record(SYSTEM, "webhook.switch_off", "webhook", webhook.id, reason=webhook.disabled_reason)
