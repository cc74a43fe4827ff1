"""Push subscriptions, and what is pushed: each notification a member would get, of the kinds
they chose, after commit, re-checked when it is sent.

`schedule(notifications, recipients)` runs inside the transaction that writes the notifications
(see `notifications.services.notify`) and enqueues one `push.send` job per notification and
device; the job decides again at delivery time. Replies are held a few seconds, and a pending
push for the same notification and device is the same job, so ten quick replies to one thread
make one push that says ten; a push service keeps only the latest message per notification
(`Topic`, collapse ids) and the device shows it in place of the earlier one.
"""
import base64
import binascii
import re

from flask import current_app
from sqlalchemy import delete, select

from .. import events, jobs, outbound, permissions
from ..accounts.models import DeviceSession, User
from ..database import db, dialect_insert, utcnow
from ..errors import NotFound, ValidationFailed
from ..markdown import plain_text
from ..notifications import services as notifications
from ..notifications.links import public_links, target_url
from ..notifications.models import Notification
from ..threads.models import Post
from . import keys, senders
from .models import PushKind, PushSubscription

# Which choice lets a notification kind through (kinds not listed are never pushed).
PREFERENCES = {
    "mention": "push_mentions",
    "reply": "push_replies",
    "new_thread": "push_replies",
    "solution": "push_replies",  # one's reply was marked as the answer
    "idea_status": "push_idea_updates",
    "idea_merged": "push_idea_updates",
    "idea_unmerged": "push_idea_updates",
    "idea_vote_by_staff": "push_idea_updates",  # staff voted on the member's behalf
    "meeting_requested": "push_meetings",
    "meeting_accepted": "push_meetings",
    "meeting_declined": "push_meetings",
    "meeting_reminder": "push_meetings",
    "contact_requested": "push_meetings",  # badge scans at the event
    "contact_accepted": "push_meetings",
    "contact_saved": "push_meetings",
}
CHOICES = tuple(sorted(set(PREFERENCES.values())))
GROUPED_KINDS = {"reply"}
TOKEN = re.compile(r"^[A-Za-z0-9_:.\-]{8,4096}$")
EXCERPT = 160
SENDERS = {PushKind.WEBPUSH: senders.send_webpush, PushKind.FCM: senders.send_fcm, PushKind.APNS: senders.send_apns}


def enabled_kinds() -> list[PushKind]:
    config = current_app.config
    kinds = [PushKind.WEBPUSH] if keys.vapid() is not None else []
    if config.get("FCM_CREDENTIALS_FILE"):
        kinds.append(PushKind.FCM)
    if all(config.get(name) for name in ("APNS_KEY_FILE", "APNS_KEY_ID", "APNS_TEAM_ID", "APNS_TOPIC")):
        kinds.append(PushKind.APNS)
    return kinds


def _base64url(value, length: int | None, field: str) -> str:
    try:
        raw = base64.urlsafe_b64decode(value + "=" * (-len(value) % 4)) if isinstance(value, str) else b""
    except (binascii.Error, ValueError):
        raw = b""
    if not raw or (length is not None and len(raw) != length) or (field == "keys.p256dh" and raw[0] != 4):
        raise ValidationFailed({field: "Give the browser's key as PushSubscription.getKey() returns it."})
    return value


def check_subscription(data: dict) -> dict:
    """The fields of a subscription to store, or ValidationFailed naming each problem."""
    kind = data.get("kind")
    if kind not in [k.value for k in PushKind]:
        raise ValidationFailed({"kind": "Choose webpush, fcm or apns."})
    if PushKind(kind) not in enabled_kinds():
        raise ValidationFailed({"kind": f"{kind} push is not configured on this server."})
    if kind == PushKind.WEBPUSH:
        keys_given = data.get("keys") if isinstance(data.get("keys"), dict) else {}
        return {"kind": kind, "address": outbound.check_url(data.get("endpoint"), "endpoint"),
                "p256dh": _base64url(keys_given.get("p256dh"), 65, "keys.p256dh"),
                "auth": _base64url(keys_given.get("auth"), 16, "keys.auth")}
    token = data.get("token")
    if not isinstance(token, str) or not TOKEN.match(token):
        raise ValidationFailed({"token": "Give the device token the platform issued."})
    return {"kind": kind, "address": token, "p256dh": "", "auth": ""}


def do_subscribe(actor: User, session_id: int, data: dict) -> PushSubscription:
    """Push the actor's notifications to this device, for as long as session `session_id` lives.
    Registering the same endpoint or token again renews it (and moves it to this session)."""
    values = check_subscription(data)
    statement = dialect_insert(PushSubscription).values(user_id=actor.id, session_id=session_id,
                                                        created_at=utcnow(), **values)
    statement = statement.on_conflict_do_update(
        index_elements=["kind", "address"],
        set_={"user_id": actor.id, "session_id": session_id, "p256dh": values["p256dh"], "auth": values["auth"],
              "created_at": utcnow()},
    ).returning(PushSubscription.id)
    subscription_id = db.session.execute(statement).scalar_one()
    events.commit()
    return db.session.get(PushSubscription, subscription_id, populate_existing=True)


def list_subscriptions(actor: User) -> list[PushSubscription]:
    return list(db.session.scalars(select(PushSubscription).where(PushSubscription.user_id == actor.id)
                                   .order_by(PushSubscription.id)))


def do_unsubscribe(actor: User, subscription_id: int) -> None:
    subscription = db.session.get(PushSubscription, subscription_id)
    if subscription is None or subscription.user_id != actor.id:
        raise NotFound("No such push subscription.")
    db.session.delete(subscription)
    events.commit()


def do_unsubscribe_endpoint(actor: User, endpoint) -> None:
    """This browser switched push off: forget its endpoint (if it is the actor's)."""
    db.session.execute(delete(PushSubscription).where(
        PushSubscription.user_id == actor.id, PushSubscription.kind == PushKind.WEBPUSH,
        PushSubscription.address == str(endpoint)).execution_options(synchronize_session=False))
    events.commit()


def _live_subscriptions(user_ids):
    return (select(PushSubscription.id, PushSubscription.user_id)
            .join(DeviceSession, DeviceSession.id == PushSubscription.session_id)
            .where(PushSubscription.user_id.in_(user_ids), DeviceSession.revoked_at.is_(None)))


def schedule(new: list[Notification], recipients: dict[int, User]) -> None:
    """Enqueue the pushes of these notifications; call inside the transaction that wrote them.
    One query, whatever the number of recipients."""
    if not new or new[0].kind not in PREFERENCES:
        return
    choice = PREFERENCES[new[0].kind]
    wanted = [n for n in new if getattr(recipients[n.user_id], choice)]
    if not wanted:
        return
    by_user = {n.user_id: n for n in wanted}
    delay = current_app.config["PUSH_GROUP_SECONDS"] if new[0].kind in GROUPED_KINDS else 0
    for subscription_id, user_id in db.session.execute(_live_subscriptions(list(by_user))):
        notification_id = by_user[user_id].id
        jobs.enqueue("push.send", subscription_id=subscription_id, notification_id=notification_id,
                     dedupe_key=f"push:{subscription_id}:{notification_id}", delay_seconds=delay)


def _excerpt(post: Post | None, user: User) -> str:
    if post is None or not permissions.can_read_post_body(user, post):
        return ""
    text = plain_text(post.body)
    return text if len(text) <= EXCERPT else text[:EXCERPT - 1] + "…"


@jobs.job("push.send", max_attempts=10, lease_seconds=60)
def send(subscription_id: int, notification_id: int) -> None:
    """Push one notification to one device, if its member may still hear of it *now*: the
    session lives, the member is not suspended and still chooses its kind, has not read it, its
    thread is still readable and its post still visible to them."""
    subscription = db.session.get(PushSubscription, subscription_id)
    if subscription is None:
        return  # unsubscribed, signed out, or gone since
    session = db.session.get(DeviceSession, subscription.session_id)
    user = db.session.get(User, subscription.user_id)
    if session is None or not session.is_live or user is None or user.is_suspended:
        return
    visible = notifications.list_notifications_by_id(user, [notification_id])
    if not visible:
        return  # not theirs, deleted, or its thread moved out of their sight
    notification = visible[0]
    if notification.read or not getattr(user, PREFERENCES.get(notification.kind, "-"), False):
        return
    post = db.session.get(Post, notification.post_id) if notification.post_id else None
    if notification.post_id and (post is None or not permissions.can_read_post_body(user, post)):
        return  # the post was deleted or hidden since
    data = {"notification_id": notification.id, "kind": notification.kind, "count": notification.count}
    topic = f"n{notification.id}"
    if subscription.kind == PushKind.WEBPUSH:
        excerpt = _excerpt(post, user)
        count = f"{notification.count} new" if notification.count > 1 else ""
        with public_links():
            url = current_app.config["BASE_URL"] + target_url(notification)
        payload = {"type": "notification", **data, "title": notification.text,
                   "body": " · ".join(part for part in (count, excerpt) if part), "url": url}
    else:
        payload = data
    if SENDERS[PushKind(subscription.kind)](subscription, payload, topic) == senders.GONE:
        db.session.delete(subscription)

