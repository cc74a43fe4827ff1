"""What a member's data export holds: one JSON file per kind of thing they wrote or set.

Everything is read and dumped *as the member sees it* (`viewing_as(member)`, the API's own output
shapes, the same visibility clauses as every list), so an export can hold nothing of anyone else's
that its member could not already read: no other member's email, nothing of a category closed to
them. Staff keep what their role lets them read. Large tables are read in batches and written as
they are read, so a long-time member's export never sits whole in memory.
"""
import json
import zipfile
from collections.abc import Iterable, Iterator
from datetime import datetime
from pathlib import Path

from sqlalchemy import or_, select
from sqlalchemy.orm import aliased, joinedload

from .. import permissions
from ..accounts.models import DeviceSession, User
from ..database import db, utcnow
from ..gatherings.models import (
    AgendaSession,
    AvailabilitySlot,
    Checkin,
    Contact,
    ContactStatus,
    Event,
    MeetingRequest,
    Participant,
    Registration,
    SessionAttendance,
)
from ..ideas import services as ideas
from ..ideas.models import Idea, IdeaVote
from ..moderation.models import Flag
from ..notifications import services as notifications
from ..notifications.models import Subscription
from ..push.models import PushSubscription
from ..shapes import (
    IdeaSchema,
    MeetingSchema,
    MeSchema,
    NotificationSchema,
    PostSchema,
    ThreadSchema,
    UserRefSchema,
    viewing_as,
)
from ..threads import reactions
from ..threads.models import Category, Post, PostReaction, PostRevision, Thread
from ..uploads.models import Upload

BATCH = 500
_user_ref = UserRefSchema()

README = """Your data from Roundtable, exported {exported_at} (UTC).

Each file is JSON, in the shapes of the Roundtable API (see /api/v1/openapi.json):

profile.json             your profile, email and notification choices
threads.json             threads you started
posts.json               posts you wrote, each with its earlier versions ("revisions")
ideas.json               ideas you posted
votes.json               your votes on ideas
reactions.json           your reactions to posts
subscriptions.json       threads and categories you watch or mute
notifications.json       your notifications
flags.json               posts you reported to moderators
uploads.json             files you uploaded (download them at their url while signed in)
checkins.json            your check-ins at events
events.json              your registrations, schedules, availability and badges at events
meetings.json            meeting requests you sent or received
contacts.json            people whose badge you scanned, with your notes
sessions.json            the browsers and apps you signed in with
push_subscriptions.json  the devices that receive your push notifications

Only what you can read in the community is here: what others wrote appears only where you can
read it anyway, and never their email addresses.
"""


def write_archive(member: User, path: Path) -> None:
    """Write the member's export as a zip file at `path` (the caller renames it into place)."""
    with viewing_as(member), zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("README.txt", README.format(exported_at=utcnow().strftime("%Y-%m-%d %H:%M")))
        _write(archive, "profile.json", MeSchema().dump(member))
        for name, items in _files(member):
            _write_items(archive, name, items)


def _files(member: User) -> Iterator[tuple[str, Iterable[dict]]]:
    yield "threads.json", _threads(member)
    yield "posts.json", _posts(member)
    yield "ideas.json", _ideas(member)
    yield "votes.json", _votes(member)
    yield "reactions.json", _reactions(member)
    yield "subscriptions.json", _subscriptions(member)
    yield "notifications.json", _notifications(member)
    yield "flags.json", _flags(member)
    yield "uploads.json", _uploads(member)
    yield "checkins.json", _checkins(member)
    yield "events.json", _event_plans(member)
    yield "meetings.json", _meetings(member)
    yield "contacts.json", _contacts(member)
    yield "sessions.json", _sessions(member)
    yield "push_subscriptions.json", _push_subscriptions(member)


def _json_value(value):
    if isinstance(value, datetime):
        return value.isoformat()
    raise TypeError(f"{type(value).__name__} is not JSON")


def _encode(value) -> bytes:
    return json.dumps(value, ensure_ascii=False, indent=2, default=_json_value).encode()


def _write(archive: zipfile.ZipFile, name: str, value) -> None:
    archive.writestr(name, _encode(value) + b"\n")


def _write_items(archive: zipfile.ZipFile, name: str, items: Iterable[dict]) -> None:
    """A JSON array, written item by item."""
    with archive.open(name, "w", force_zip64=True) as out:
        out.write(b"[")
        for index, item in enumerate(items):
            out.write(b",\n" if index else b"\n")
            out.write(_encode(item))
        out.write(b"\n]\n")


def _batches(query, model) -> Iterator[list]:
    """The rows of `query`, in batches by id (keyset, never OFFSET)."""
    last_id = 0
    while True:
        rows = db.session.scalars(query.where(model.id > last_id).order_by(model.id).limit(BATCH)).unique().all()
        if not rows:
            return
        yield rows
        last_id = rows[-1].id


def _in_readable_threads(member: User, query):
    """Restrict a query that joins Thread to the threads the member may read now."""
    return query.join(Category, Thread.category_id == Category.id).where(permissions.readable_threads_clause(member))


def _threads(member: User) -> Iterator[dict]:
    schema = ThreadSchema(exclude=["last_read_post_id", "unread_count"])
    query = _in_readable_threads(member, select(Thread).where(Thread.author_id == member.id))
    for threads in _batches(query, Thread):
        yield from schema.dump(threads, many=True)


def _posts(member: User) -> Iterator[dict]:
    schema = PostSchema()
    query = _in_readable_threads(member, select(Post).join(Thread, Post.thread_id == Thread.id)
                                 .where(Post.author_id == member.id, permissions.readable_posts_clause(member))
                                 .options(joinedload(Post.thread)))
    for posts in _batches(query, Post):
        reactions.attach(member, posts)
        revisions = {}
        for revision in db.session.scalars(select(PostRevision).where(PostRevision.post_id.in_([p.id for p in posts]))
                                           .order_by(PostRevision.id)):
            revisions.setdefault(revision.post_id, []).append(
                {"body": revision.body, "editor": _user_ref.dump(revision.editor), "created_at": revision.created_at})
        for post, shape in zip(posts, schema.dump(posts, many=True), strict=True):
            yield {**shape, "revisions": revisions.get(post.id, [])}


def _ideas(member: User) -> Iterator[dict]:
    schema = IdeaSchema()
    query = _in_readable_threads(member, select(Idea).join(Thread, Idea.thread_id == Thread.id)
                                 .where(Thread.author_id == member.id))
    for batch in _batches(query, Idea):
        yield from schema.dump(ideas.for_viewer(member, batch), many=True)


def _votes(member: User) -> Iterator[dict]:
    cast_by = aliased(User)
    rows = db.session.execute(_in_readable_threads(
        member, select(IdeaVote, Thread.title, cast_by).join(Idea, IdeaVote.idea_id == Idea.id)
        .join(Thread, Idea.thread_id == Thread.id).outerjoin(cast_by, IdeaVote.cast_by_id == cast_by.id)
        .where(IdeaVote.user_id == member.id)).order_by(IdeaVote.id))
    for vote, title, by in rows:
        yield {"idea_id": vote.idea_id, "idea_title": title, "importance": vote.importance,
               "cast_by": _user_ref.dump(by) if by is not None else None, "created_at": vote.created_at}


def _reactions(member: User) -> Iterator[dict]:
    rows = db.session.execute(_in_readable_threads(
        member, select(PostReaction, Post.thread_id).join(Post, PostReaction.post_id == Post.id)
        .join(Thread, Post.thread_id == Thread.id)
        .where(PostReaction.user_id == member.id, permissions.readable_posts_clause(member)))
        .order_by(PostReaction.id))
    for reaction, thread_id in rows:
        yield {"post_id": reaction.post_id, "thread_id": thread_id, "reaction": reaction.reaction,
               "created_at": reaction.created_at}


def _subscriptions(member: User) -> Iterator[dict]:
    readable_threads = _in_readable_threads(member, select(Thread.id))
    readable_categories = select(Category.id).where(permissions.readable_categories_clause(member))
    for subscription in db.session.scalars(
            select(Subscription).where(Subscription.user_id == member.id,
                                       or_(Subscription.thread_id.in_(readable_threads),
                                           Subscription.category_id.in_(readable_categories)))
            .order_by(Subscription.id)):
        yield {"thread_id": subscription.thread_id, "category_id": subscription.category_id,
               "level": subscription.level, "created_at": subscription.created_at}


def _notifications(member: User) -> Iterator[dict]:
    """Through the notifications list itself, so exactly what the member's list shows."""
    schema, cursor = NotificationSchema(), None
    while True:
        page = notifications.list_notifications(member, cursor=cursor, limit=100)
        yield from schema.dump(page.items, many=True)
        if page.next_cursor is None:
            return
        cursor = page.next_cursor


def _flags(member: User) -> Iterator[dict]:
    for flag in db.session.scalars(select(Flag).where(Flag.user_id == member.id).order_by(Flag.id)):
        yield {"post_id": flag.post_id, "reason": flag.reason, "text": flag.text, "created_at": flag.created_at,
               "resolved_at": flag.resolved_at}


def _uploads(member: User) -> Iterator[dict]:
    for upload in db.session.scalars(select(Upload).where(Upload.uploader_id == member.id).order_by(Upload.id)):
        yield {"id": upload.id, "url": upload.url, "filename": upload.filename, "content_type": upload.content_type,
               "size": upload.size, "created_at": upload.created_at}


def _checkins(member: User) -> Iterator[dict]:
    """Where and how the member was present; positions are never stored, so none are here."""
    for checkin, event_name in db.session.execute(
            select(Checkin, Event.name).join(Event, Checkin.event_id == Event.id)
            .where(Checkin.user_id == member.id).order_by(Checkin.id)):
        yield {"event_id": checkin.event_id, "event": event_name, "checked_in_at": checkin.checked_in_at,
               "last_seen_at": checkin.last_seen_at, "checked_out_at": checkin.checked_out_at,
               "zone": checkin.zone.name if checkin.zone else None, "visibility": checkin.visibility,
               "location": checkin.location, "who_may_ask": checkin.who_may_ask}


def _event_plans(member: User) -> Iterator[dict]:
    for registration, name in db.session.execute(
            select(Registration, Event.name).join(Event, Registration.event_id == Event.id)
            .where(Registration.user_id == member.id).order_by(Registration.event_id)):
        yield {"kind": "registration", "event_id": registration.event_id, "event": name,
               "created_at": registration.created_at}
    for session, attended in db.session.execute(
            select(AgendaSession, SessionAttendance.created_at)
            .join(SessionAttendance, SessionAttendance.session_id == AgendaSession.id)
            .where(SessionAttendance.user_id == member.id).order_by(AgendaSession.starts_at)):
        yield {"kind": "schedule", "event_id": session.event_id, "session_id": session.id, "title": session.title,
               "starts_at": session.starts_at, "ends_at": session.ends_at, "created_at": attended}
    for slot in db.session.scalars(select(AvailabilitySlot).where(AvailabilitySlot.user_id == member.id)
                                   .order_by(AvailabilitySlot.id)):
        yield {"kind": "availability", "event_id": slot.event_id, "starts_at": slot.starts_at, "ends_at": slot.ends_at}
    for participant in db.session.scalars(select(Participant).where(Participant.user_id == member.id)
                                          .order_by(Participant.event_id)):
        yield {"kind": "badge", "event_id": participant.event_id, "badge_code": participant.badge_code,
               "contact_exchange": participant.contact_exchange, "created_at": participant.created_at}


def _meetings(member: User) -> Iterator[dict]:
    schema = MeetingSchema(exclude=["can_answer"])
    query = select(MeetingRequest).where(
        or_(MeetingRequest.requester_id == member.id, MeetingRequest.recipient_id == member.id))
    for meetings in _batches(query, MeetingRequest):
        yield from schema.dump(meetings, many=True)


def _contacts(member: User) -> Iterator[dict]:
    """A scanned person's card only once they let the member have it (as the contacts list)."""
    for contact in db.session.scalars(select(Contact).where(Contact.owner_id == member.id).order_by(Contact.id)):
        accepted = contact.status == ContactStatus.ACCEPTED
        yield {"event_id": contact.event_id, "status": contact.status,
               "contact": _user_ref.dump(contact.contact) if accepted else None, "note": contact.note,
               "rating": contact.rating, "created_at": contact.created_at}


def _sessions(member: User) -> Iterator[dict]:
    for session in db.session.scalars(select(DeviceSession).where(DeviceSession.user_id == member.id)
                                      .order_by(DeviceSession.id)):
        yield {"id": session.id, "kind": session.kind, "device_name": session.device_name,
               "created_at": session.created_at, "last_seen_at": session.last_seen_at,
               "revoked_at": session.revoked_at}


def _push_subscriptions(member: User) -> Iterator[dict]:
    for subscription in db.session.scalars(select(PushSubscription).where(PushSubscription.user_id == member.id)
                                           .order_by(PushSubscription.id)):
        yield {"id": subscription.id, "kind": subscription.kind, "created_at": subscription.created_at}
