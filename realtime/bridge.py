"""Domain events become the contract's Socket.IO pushes, after the transaction committed.

Every push carries `type`, its own unique `id`, `ts`, `room` and `seq` (one more than the
room's previous push, so a client sees a gap and catches up through the API's `?since=`).
Payloads reuse the API's output schemas, without the per-viewer `can_*` flags.
"""
import logging
import uuid

from flask import current_app

from api.notifications import NotificationSchema
from api.threads import PostSchema, ThreadSchema
from community import events
from community.database import utcnow
from community.extensions import socketio

from .models import next_seq

logger = logging.getLogger(__name__)

REALTIME_EXTENSION = "roundtable.realtime"

_thread_schema = ThreadSchema(exclude=("can_reply", "can_edit_title", "can_moderate"))
_post_schema = PostSchema(exclude=("can_edit", "can_delete"))
_notification_schema = NotificationSchema()


def _guard():
    return current_app.extensions[REALTIME_EXTENSION]


def push(room: str, event_type: str, **fields) -> dict:
    """Send one event to a room. A failing message queue is logged, never raised: the change
    is committed and clients catch up from the gap in `seq`."""
    payload = {"type": event_type, "id": uuid.uuid4().hex, "ts": utcnow().isoformat(), "room": room,
               "seq": next_seq(room), **fields}
    try:
        socketio.emit(event_type, payload, to=room)
    except Exception:
        logger.exception("push of %s to %s failed", event_type, room)
    return payload


def _post_fields(post) -> dict:
    """A deleted post is announced by id only: its body is no longer for everyone."""
    if post.deleted_at is not None:
        return {"post": {"id": post.id, "thread_id": post.thread_id, "deleted": True}}
    return {"post": _post_schema.dump(post)}


def on_thread_created(sender, thread, post):
    push(f"category:{thread.category_id}", "thread.created", thread=_thread_schema.dump(thread))


def on_thread_updated(sender, thread):
    _guard().epoch.bump()  # it may have moved out of some members' sight
    fields = {"thread": _thread_schema.dump(thread)}
    push(f"thread:{thread.id}", "thread.updated", **fields)
    push(f"category:{thread.category_id}", "thread.updated", **fields)


def on_post_created(sender, thread, post):
    push(f"thread:{thread.id}", "post.created", **_post_fields(post))


def on_post_updated(sender, thread, post):
    push(f"thread:{thread.id}", "post.updated", **_post_fields(post))


def on_notification_created(sender, notification):
    push(f"user:{notification.user_id}", "notification.created",
         notification=_notification_schema.dump(notification))


def _only_where_realtime_runs(receiver):
    """Receivers are connected once per process; an app without realtime pushes nothing."""

    def receive(sender, **kwargs):
        if REALTIME_EXTENSION in current_app.extensions:
            receiver(sender, **kwargs)

    return receive


for _signal, _receiver in (
    (events.thread_created, on_thread_created),
    (events.thread_updated, on_thread_updated),
    (events.post_created, on_post_created),
    (events.post_updated, on_post_updated),
    (events.notification_created, on_notification_created),
):
    _signal.connect(_only_where_realtime_runs(_receiver), weak=False)
