"""Meeting requests between attendees: ask, answer, list."""
from datetime import timedelta
from zoneinfo import ZoneInfo

from flask import current_app
from sqlalchemy import and_, func, or_, select, update

from .. import events, permissions
from ..accounts.models import User
from ..database import db, utcnow
from ..errors import Conflict, NotFound, ValidationFailed, check_fields
from ..jobs import periodic
from ..jobs.registry import crontab
from ..notifications.services import notify
from ..pagination import Keyset, Page, check_limit
from ..validation import check_text
from .calendar import access_event
from .checks import check_zone
from .models import Event, MeetingRequest, MeetingStatus
from .people import access_attendee
from .presence import is_present, own_checkin
from .schedule import Slot, check_free, check_slot_moment, free_slots, is_available, lock_time_of

MAX_MESSAGE = 500
MEETINGS_KEYSET = Keyset((MeetingRequest.id,), (int,), lambda m: (m.id,))


def _daily_quota() -> int:
    return current_app.config["MEETING_REQUESTS_PER_DAY"]


def access_meeting(actor: User, meeting_id: int) -> MeetingRequest:
    meeting = db.session.get(MeetingRequest, meeting_id)
    if meeting is None or not permissions.can_read_meeting(actor, meeting):
        raise NotFound("No such meeting request.")
    return meeting


def _when(event: Event, meeting: MeetingRequest) -> str:
    if meeting.starts_at is None:
        return ""
    return " on " + meeting.starts_at.astimezone(ZoneInfo(event.timezone)).strftime("%a %b %d at %H:%M")


def _reciprocal(event: Event, requester_id: int, recipient_id: int) -> MeetingRequest | None:
    """The pending request the other person already sent the actor, if any."""
    return db.session.scalar(select(MeetingRequest).where(
        MeetingRequest.event_id == event.id, MeetingRequest.requester_id == recipient_id,
        MeetingRequest.recipient_id == requester_id, MeetingRequest.status == MeetingStatus.PENDING)
        .order_by(MeetingRequest.id).limit(1))


def do_request_meeting(actor: User, event_id: int, user_id, message: str | None = "", zone=None,
                       starts_at=None) -> MeetingRequest:
    """Ask a present, listed attendee to meet, now or in a slot (`starts_at`, MEETING_MINUTES
    long) that they published as available and that is free for both. Both must be checked in;
    the recipient decides who may ask; each attendee sends at most MEETING_REQUESTS_PER_DAY per
    event in 24 hours. If they had already asked the actor (for the same slot, or without one),
    the two requests settle into one meeting: theirs, accepted, is what this answers.
    """
    event = access_event(actor, event_id)
    now = utcnow()
    permissions.ensure(permissions.event_not_on(event, now))
    values = check_fields(
        message=(lambda v: check_text("message", v, max_length=MAX_MESSAGE, multiline=True), message),
        zone=(lambda v: check_zone(event, v), zone),
        slot=(lambda v: check_slot_moment(event, v), starts_at))
    if not isinstance(user_id, int) or isinstance(user_id, bool):
        raise ValidationFailed({"user_id": "Give the id of the attendee to meet."})
    slot = values["slot"]
    if slot is not None and slot.starts_at < now:
        raise ValidationFailed({"starts_at": "Pick a time still ahead."})
    # Locking the requester's own check-in queues their simultaneous requests, so the quota holds.
    mine = own_checkin(actor, event, lock=True)
    if user_id == actor.id:
        raise ValidationFailed({"user_id": "You cannot ask yourself to meet."})
    target = access_attendee(actor, event, user_id)
    permissions.ensure(permissions.refusal_to_ask_to_meet(actor, target, asker_present=is_present(mine, now)))
    theirs = _reciprocal(event, actor.id, user_id)
    if theirs is not None and (slot is None or theirs.starts_at in (None, slot.starts_at)):
        if theirs.starts_at is None and slot is not None:
            theirs.starts_at, theirs.ends_at = slot.starts_at, slot.ends_at
        return _accept(actor, event, theirs, now)
    sent = db.session.scalar(select(func.count(MeetingRequest.id)).where(
        MeetingRequest.requester_id == actor.id, MeetingRequest.event_id == event.id,
        MeetingRequest.created_at > now - timedelta(days=1)))
    if sent >= _daily_quota():
        raise Conflict(f"You have sent {sent} meeting requests in the last 24 hours, the most allowed.",
                       code="meeting_quota_reached")
    if db.session.scalar(select(MeetingRequest.id).where(
            MeetingRequest.event_id == event.id, MeetingRequest.requester_id == actor.id,
            MeetingRequest.recipient_id == user_id, MeetingRequest.status == MeetingStatus.PENDING).limit(1)):
        raise Conflict("You already asked this attendee; wait for an answer.", code="meeting_already_requested")
    if slot is not None:
        if not is_available(event, user_id, slot):
            raise Conflict(f"{target.user.display_name} has not said they can meet then: pick one of their free slots.",
                           code="slot_unavailable")
        lock_time_of(event, actor.id, user_id)
        check_free(event, actor, target.user, slot)
    meeting = MeetingRequest(event_id=event.id, requester=actor, recipient=target.user, zone=values["zone"],
                             message=values["message"], created_at=now,
                             starts_at=slot.starts_at if slot else None, ends_at=slot.ends_at if slot else None)
    db.session.add(meeting)
    db.session.flush()
    where = f" at {values['zone'].name}" if values["zone"] else ""
    said = f": {values['message']}" if values["message"] else ""
    notify([target.user], "meeting_requested", actor=actor, event_id=event.id,
           text=f"{actor.display_name} asks to meet you{_when(event, meeting)}{where} ({event.name}){said}")
    events.commit()
    return meeting


def _accept(actor: User, event: Event, meeting: MeetingRequest, now) -> MeetingRequest:
    """Accept a pending request addressed to the actor, inside the caller's transaction.

    A timed meeting takes both people's time: their rows are locked, then the slot is checked
    free, so of two acceptances at once for overlapping slots exactly one wins (409 slot_taken).
    Requests the two had sent each other besides are settled by this meeting (`superseded`).
    """
    if meeting.starts_at is not None:
        lock_time_of(event, meeting.requester_id, meeting.recipient_id)
        check_free(event, actor, meeting.requester, Slot(meeting.starts_at, meeting.ends_at))
    _settle(meeting, MeetingStatus.ACCEPTED, now)
    db.session.execute(
        update(MeetingRequest).where(
            MeetingRequest.event_id == event.id, MeetingRequest.status == MeetingStatus.PENDING,
            MeetingRequest.id != meeting.id,
            or_(and_(MeetingRequest.requester_id == meeting.requester_id,
                     MeetingRequest.recipient_id == meeting.recipient_id),
                and_(MeetingRequest.requester_id == meeting.recipient_id,
                     MeetingRequest.recipient_id == meeting.requester_id)))
        .values(status=MeetingStatus.SUPERSEDED, responded_at=now).execution_options(synchronize_session=False))
    notify([meeting.requester], "meeting_accepted", actor=actor, event_id=event.id,
           text=f"{actor.display_name} accepted your request to meet{_when(event, meeting)} ({event.name}).")
    events.announce(events.meeting_accepted, event=event, meeting=meeting)
    events.commit()
    db.session.refresh(meeting)
    return meeting


def _settle(meeting: MeetingRequest, status: MeetingStatus, now) -> None:
    """Conditional on still pending, so two answers at once settle on one."""
    answered = db.session.execute(
        update(MeetingRequest).where(MeetingRequest.id == meeting.id, MeetingRequest.status == MeetingStatus.PENDING)
        .values(status=status, responded_at=now, starts_at=meeting.starts_at, ends_at=meeting.ends_at)
        .execution_options(synchronize_session=False)
    ).rowcount
    if not answered:
        events.rollback()
        raise Conflict("This request has already been answered.", code="meeting_already_answered")


def do_answer_meeting(actor: User, meeting_id: int, accept: bool) -> MeetingRequest:
    meeting = access_meeting(actor, meeting_id)
    permissions.ensure(permissions.refusal_to_answer_meeting(actor, meeting))
    event = db.session.get(Event, meeting.event_id)
    now = utcnow()
    if accept:
        return _accept(actor, event, meeting, now)
    _settle(meeting, MeetingStatus.DECLINED, now)
    notify([meeting.requester], "meeting_declined", actor=actor, event_id=meeting.event_id,
           text=f"{actor.display_name} declined your request to meet ({event.name}).")
    events.commit()
    db.session.refresh(meeting)
    return meeting


@periodic("meetings.remind", lambda config: crontab(minute="*"), max_attempts=3, lease_seconds=120)
def remind_of_meetings() -> None:
    """Each minute, across all workers once: the reminders that fell due."""
    send_meeting_reminders()


def send_meeting_reminders(now=None) -> int:
    """Remind both people of each accepted meeting starting within MEETING_REMINDER_MINUTES,
    once: the reminder is claimed by a conditional update, so concurrent runs never send it
    twice. Returns how many meetings were reminded."""
    now = now or utcnow()
    soon = now + timedelta(minutes=current_app.config["MEETING_REMINDER_MINUTES"])
    due = db.session.scalars(select(MeetingRequest).where(
        MeetingRequest.status == MeetingStatus.ACCEPTED, MeetingRequest.reminded_at.is_(None),
        MeetingRequest.starts_at > now, MeetingRequest.starts_at <= soon).order_by(MeetingRequest.starts_at)).all()
    reminded = 0
    for meeting in due:
        claimed = db.session.execute(
            update(MeetingRequest).where(MeetingRequest.id == meeting.id, MeetingRequest.reminded_at.is_(None))
            .values(reminded_at=now).execution_options(synchronize_session=False)).rowcount
        if not claimed:
            continue
        event = db.session.get(Event, meeting.event_id)
        where = f" at {meeting.zone.name}" if meeting.zone else ""
        for person, other in ((meeting.requester, meeting.recipient), (meeting.recipient, meeting.requester)):
            notify([person], "meeting_reminder", actor=None, event_id=event.id,
                   text=f"Soon: your meeting with {other.display_name}{_when(event, meeting)}{where} ({event.name}).")
        reminded += 1
    events.commit()
    return reminded


def list_meetings(actor: User, event_id: int, *, cursor: str | None = None, limit=None) -> Page[MeetingRequest]:
    """The actor's meeting requests at the event, sent and received, newest first."""
    event = access_event(actor, event_id)
    query = select(MeetingRequest).where(
        MeetingRequest.event_id == event.id,
        or_(MeetingRequest.requester_id == actor.id, MeetingRequest.recipient_id == actor.id))
    return MEETINGS_KEYSET.paginate(query, cursor, check_limit(limit))


def list_free_slots(actor: User, event_id: int, user_id: int) -> list[Slot]:
    """The slots ahead in which the actor could book a meeting with this attendee: inside what
    they published, free for both. Only for attendees who take requests from the actor."""
    event = access_event(actor, event_id)
    target = access_attendee(actor, event, user_id)
    permissions.ensure(permissions.refusal_to_take_requests(target, actor))
    return free_slots(event, actor, user_id, utcnow())


def forget_meeting_messages(user: User) -> None:
    """For a member's erasure (inside its transaction): the messages they sent go, and requests
    still waiting for an answer, to or from them, are declined."""
    involved = or_(MeetingRequest.requester_id == user.id, MeetingRequest.recipient_id == user.id)
    db.session.execute(update(MeetingRequest).where(involved, MeetingRequest.status == MeetingStatus.PENDING)
                       .values(status=MeetingStatus.DECLINED, responded_at=utcnow())
                       .execution_options(synchronize_session=False))
    db.session.execute(update(MeetingRequest).where(MeetingRequest.requester_id == user.id).values(message="")
                       .execution_options(synchronize_session=False))
