"""Domain events become the contract's Socket.IO pushes, after the transaction committed.

Every push carries `type`, its own unique `id`, `ts`, `room` and `seq` (one more than the
room's previous push, so a client sees a gap and catches up through the API's `?since=`).
Payloads are the shapes the API answers with (`community.shapes`), without the per-viewer parts.
"""
import logging
import uuid

from flask import current_app

from community import events
from community.database import utcnow
from community.extensions import socketio
from community.shapes import IdeaSchema, NotificationSchema, PostSchema, ThreadSchema, without_viewer_fields

from .models import next_seq
from .state import REALTIME_EXTENSION, connections

logger = logging.getLogger(__name__)

_thread_schema = without_viewer_fields(ThreadSchema, "last_read_post_id", "unread_count")
_post_schema = without_viewer_fields(PostSchema, "hidden_reason", "my_reactions")
_idea_schema = without_viewer_fields(IdeaSchema, "has_voted", "importance", "vote_cast_by", "organizations")
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
    """A deleted or hidden post is announced by id only: its body is no longer for everyone.
    Every other post is shown to the room as any reader of its thread sees it."""
    deleted, hidden = post.deleted_at is not None, post.hidden_at is not None
    if deleted or hidden:
        return {"post": {"id": post.id, "thread_id": post.thread_id, "deleted": deleted, "hidden": hidden}}
    return {"post": {**_post_schema.dump(post), "body": post.body, "body_html": post.body_html}}


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


def on_post_reactions_changed(sender, post, reactions):
    push(f"thread:{post.thread_id}", "post.reactions_changed", post_id=post.id, thread_id=post.thread_id,
         reactions=reactions)


def on_idea_created(sender, idea):
    push("ideas", "idea.created", idea=_idea_schema.dump(idea))


def on_idea_vote_changed(sender, idea, vote_count, voter_org_count):
    for room in (f"idea:{idea.id}", "ideas"):
        push(room, "idea.vote_changed", idea_id=idea.id, vote_count=vote_count, voter_org_count=voter_org_count)


def on_idea_status_changed(sender, idea, status, note):
    for room in (f"idea:{idea.id}", "ideas"):
        push(room, "idea.status_changed", idea_id=idea.id, status=str(status), note=note)


def on_flag_created(sender, flag, post):
    push("moderation", "flag.created", flag={"id": flag.id, "post_id": post.id, "thread_id": post.thread_id,
                                             "reason": str(flag.reason), "text": flag.text})


def drop_sockets_of(sender, user):
    """A member suspended or erased: drop their sockets on this process now; the others'
    sweepers follow shortly."""
    for sid, connection in list(connections.items()):
        if connection.user_id == user.id:
            connections.pop(sid, None)
            socketio.server.disconnect(sid, namespace="/")


def _on_presence(event_type):
    def receive(sender, event, attendee):
        """`attendee` is the public view (never coordinates), or None for someone only counted."""
        push(f"event:{event.id}", event_type, event_id=event.id, attendee=attendee)

    return receive


def on_agenda_changed(sender, event, change, session):
    """Staff changed the agenda: clients re-read it (GET /events/{id}/sessions)."""
    push(f"event:{event.id}", "agenda.changed", event_id=event.id, session_id=session.id, change=change)


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
    (events.post_reactions_changed, on_post_reactions_changed),
    (events.notification_created, on_notification_created),
    (events.idea_created, on_idea_created),
    (events.idea_vote_changed, on_idea_vote_changed),
    (events.idea_status_changed, on_idea_status_changed),
    (events.flag_created, on_flag_created),
    (events.user_suspended, drop_sockets_of),
    (events.user_erased, drop_sockets_of),
    (events.checkin_created, _on_presence("checkin.created")),
    (events.checkin_updated, _on_presence("checkin.updated")),
    (events.checkin_removed, _on_presence("checkin.removed")),
    (events.agenda_changed, on_agenda_changed),
):
    _signal.connect(_only_where_realtime_runs(_receiver), weak=False)
