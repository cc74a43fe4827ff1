"""Domain events, delivered only after the transaction that caused them commits.

Services call `announce(signal, **payload)` inside their transaction and finish with
`commit()`. A rollback drops what was announced, so nothing is ever pushed or notified
for a change that did not happen. Receivers (realtime, notifier) connect to the signals.
"""
from blinker import Namespace
from sqlalchemy import event
from sqlalchemy.orm import Session

from .database import db

signals = Namespace()

thread_created = signals.signal("thread.created")
thread_updated = signals.signal("thread.updated")
post_created = signals.signal("post.created")
post_updated = signals.signal("post.updated")
post_reactions_changed = signals.signal("post.reactions_changed")  # payload post, reactions (counts)
user_joined = signals.signal("user.joined")
notification_created = signals.signal("notification.created")
# Ideas: payloads carry `idea`; vote changes add `vote_count` and `voter_org_count`, status
# changes add `status` and `note` (the official answer, or None).
idea_created = signals.signal("idea.created")
idea_vote_changed = signals.signal("idea.vote_changed")
idea_status_changed = signals.signal("idea.status_changed")
flag_created = signals.signal("flag.created")  # for the `moderation` room: payload flag, post
user_suspended = signals.signal("user.suspended")  # their open sockets should close: payload user
user_erased = signals.signal("user.erased")  # likewise, payload user (already nameless)
# Attendee presence: payload `event` and `attendee`, the attendee's public view (never
# coordinates). `attendee` is None for people counted but not listed by name; people who
# chose to be hidden announce nothing at all.
checkin_created = signals.signal("checkin.created")
checkin_updated = signals.signal("checkin.updated")
checkin_removed = signals.signal("checkin.removed")
# The agenda changed (staff added, moved or removed a session): payload `event`, `change`
# (created | updated | deleted) and `session` (for deleted: only its id is still meaningful).
agenda_changed = signals.signal("agenda.changed")
meeting_accepted = signals.signal("meeting.accepted")  # payload `event`, `meeting`

_PENDING = "pending_events"
_COMMITTED = "committed_events"


def announce(signal, **payload) -> None:
    """Queue an event on the current transaction; it is sent after that transaction commits."""
    db.session.info.setdefault(_PENDING, []).append((signal, payload))


@event.listens_for(Session, "after_commit")
def _promote_pending(session):
    session.info.setdefault(_COMMITTED, []).extend(session.info.pop(_PENDING, []))


@event.listens_for(Session, "after_rollback")
def _drop_pending(session):
    session.info.pop(_PENDING, None)


def commit() -> None:
    """Commit the current transaction, then deliver what it announced.

    Receivers run after the commit, outside it; what they write is their own transaction.
    """
    db.session.commit()
    committed = db.session.info.pop(_COMMITTED, [])
    for signal, payload in committed:
        signal.send(None, **payload)


def rollback() -> None:
    db.session.rollback()
