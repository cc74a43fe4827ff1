"""Stored notifications: written in the transaction of what caused them, pushed after commit."""
from collections.abc import Iterable
from datetime import datetime

from flask import current_app
from sqlalchemy import func, or_, select, update

from .. import events, jobs, permissions
from ..accounts.models import User
from ..database import db, utcnow
from ..pagination import Keyset, Page, check_limit
from ..push import services as push
from ..threads.models import Category, Thread
from .models import Notification

NOTIFICATIONS_KEYSET = Keyset(
    (Notification.updated_at, Notification.id), (datetime, int), lambda n: (n.updated_at, n.id)
)
MAX_TEXT = 300


def notify(recipients: Iterable[User], kind: str, *, actor: User | None, text: str,
           thread: Thread | None = None, post_id: int | None = None, idea_id: int | None = None,
           event_id: int | None = None, group: bool = False) -> list[Notification]:
    """Notify each recipient once; call inside the transaction of the action, before its commit.

    Nobody is notified of their own action, nor about a thread they may not read. With
    `group`, a recipient's unread notification of the same kind and thread grows its count
    instead of adding a row. Announces `notification_created` for each one, after commit,
    and enqueues what leaves the process (a mention's email, pushes to the members' devices).
    """
    people = {user.id: user for user in recipients if user is not None}
    if actor is not None:
        people.pop(actor.id, None)
    if thread is not None:
        people = {uid: user for uid, user in people.items() if permissions.can_read_thread(user, thread)}
    if not people:
        return []
    now, text = utcnow(), text[:MAX_TEXT]
    existing = {}
    if group and thread is not None:
        existing = {
            n.user_id: n for n in db.session.scalars(
                select(Notification).where(Notification.user_id.in_(people), Notification.kind == kind,
                                           Notification.thread_id == thread.id, Notification.read_at.is_(None)))
        }
    notifications = []
    for user_id in people:
        notification = existing.get(user_id)
        if notification is None:
            notification = Notification(user_id=user_id, kind=kind, actor=actor, text=text,
                                        thread_id=thread.id if thread else None, post_id=post_id,
                                        idea_id=idea_id, event_id=event_id, created_at=now, updated_at=now)
            db.session.add(notification)
        else:
            notification.count += 1
            notification.actor, notification.text, notification.updated_at = actor, text, now
            notification.post_id = post_id or notification.post_id
        notifications.append(notification)
    db.session.flush()
    emails = kind == "mention" and bool(current_app.config.get("SMTP_URL"))
    for notification in notifications:
        events.announce(events.notification_created, notification=notification)
        if emails and people[notification.user_id].email_mentions:
            jobs.enqueue("email.mention", notification_id=notification.id)
    push.schedule(notifications, people)
    return notifications


def _visible(actor: User):
    """A notification about a thread stays visible only while its thread is readable (not
    moved out of sight, nor deleted)."""
    readable_threads = (
        select(Thread.id).join(Category, Thread.category_id == Category.id)
        .where(permissions.readable_threads_clause(actor))
    )
    return or_(Notification.thread_id.is_(None), Notification.thread_id.in_(readable_threads))


def list_notifications(actor: User, *, cursor: str | None = None, limit=None, since: datetime | None = None,
                       unread_only: bool = False) -> Page[Notification]:
    """The actor's notifications, most recently updated first."""
    query = select(Notification).where(Notification.user_id == actor.id, _visible(actor))
    if since is not None:
        query = query.where(Notification.updated_at > since)
    if unread_only:
        query = query.where(Notification.read_at.is_(None))
    return NOTIFICATIONS_KEYSET.paginate(query, cursor, check_limit(limit))


def list_notifications_by_id(actor: User, ids: Iterable[int]) -> list[Notification]:
    """The actor's own, visible notifications among `ids` (others' ids find nothing)."""
    return list(db.session.scalars(
        select(Notification).where(Notification.id.in_(list(ids)), Notification.user_id == actor.id,
                                   _visible(actor))
    ))


def count_unread(actor: User) -> int:
    return db.session.scalar(
        select(func.count(Notification.id))
        .where(Notification.user_id == actor.id, Notification.read_at.is_(None), _visible(actor))
    )


def do_mark_read(actor: User, ids: Iterable[int] | None = None) -> int:
    """Mark some (or, with no ids, all) of the actor's notifications read; returns the unread left.

    Ids of other people's notifications are ignored, never touched.
    """
    statement = (
        update(Notification)
        .where(Notification.user_id == actor.id, Notification.read_at.is_(None))
        .values(read_at=utcnow())
        .execution_options(synchronize_session=False)
    )
    if ids is not None:
        statement = statement.where(Notification.id.in_(list(ids)))
    db.session.execute(statement)
    events.commit()
    return count_unread(actor)
