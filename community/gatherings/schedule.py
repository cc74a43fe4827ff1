"""One's time at an event: when one can meet (availability), what already takes one's time
(accepted meetings, sessions on one's schedule), the free slots others may book, and the lock
that makes taking a slot exact.

A slot is taken by an accepted meeting or a session on one's schedule. Every change that takes
someone's time locks their `Participant` row first (both people's, in id order, for a meeting),
then checks and writes: two acceptances at once queue on the lock, and the second sees the first.
"""
from dataclasses import dataclass
from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import delete, or_, select

from .. import events
from ..accounts.models import User
from ..database import db, insert_unless_exists, utcnow
from ..errors import Conflict, ValidationFailed
from .calendar import access_event
from .checks import check_moment
from .codes import new_code
from .models import (
    AgendaSession,
    AvailabilitySlot,
    Event,
    MeetingRequest,
    MeetingStatus,
    Participant,
    SessionAttendance,
)

MAX_SLOTS = 50


@dataclass(frozen=True)
class Slot:
    starts_at: datetime
    ends_at: datetime


def meeting_length() -> timedelta:
    return timedelta(minutes=current_app.config["MEETING_MINUTES"])


def participant(event: Event, user_id: int, *, lock: bool = False) -> Participant:
    """The member's row at the event, made if missing; with `lock`, held until the commit."""
    while True:
        query = select(Participant).where(Participant.event_id == event.id, Participant.user_id == user_id)
        if lock:
            query = query.with_for_update(of=Participant).execution_options(populate_existing=True)
        found = db.session.scalar(query)
        if found is not None:
            return found
        # A badge code that collides with another (about 1 in 10^15) inserts nothing: draw again.
        insert_unless_exists(Participant, event_id=event.id, user_id=user_id, badge_code=new_code(),
                             created_at=utcnow())


def lock_time_of(event: Event, *user_ids: int) -> None:
    """Hold the members' time at the event until the commit, always in id order (no deadlock)."""
    for user_id in sorted(set(user_ids)):
        participant(event, user_id, lock=True)


def check_slot_moment(event: Event, starts_at) -> Slot | None:
    """A meeting's slot from its start (MEETING_MINUTES long), inside the event; empty: none."""
    if starts_at is None or (isinstance(starts_at, str) and not starts_at.strip()):
        return None
    start = check_moment("starts_at", starts_at, event.timezone)
    slot = Slot(start, start + meeting_length())
    if slot.starts_at < event.starts_at or slot.ends_at > event.ends_at:
        raise ValidationFailed({"starts_at": "Pick a time during the event."})
    return slot


def meeting_during(event: Event, user_id: int, slot: Slot) -> MeetingRequest | None:
    """An accepted meeting of the member's overlapping `slot`."""
    return db.session.scalar(
        select(MeetingRequest).where(
            MeetingRequest.event_id == event.id, MeetingRequest.status == MeetingStatus.ACCEPTED,
            or_(MeetingRequest.requester_id == user_id, MeetingRequest.recipient_id == user_id),
            MeetingRequest.starts_at < slot.ends_at, MeetingRequest.ends_at > slot.starts_at).limit(1))


def busy_with(event: Event, user_id: int, slot: Slot) -> str | None:
    """What takes the member's time during `slot`, said for them ("a meeting with Bob", "the
    session “Keynote”"), or None when they are free."""
    if (meeting := meeting_during(event, user_id, slot)) is not None:
        other = meeting.recipient if meeting.requester_id == user_id else meeting.requester
        return f"a meeting with {other.display_name}"
    title = db.session.scalar(
        select(AgendaSession.title).join(SessionAttendance, SessionAttendance.session_id == AgendaSession.id)
        .where(AgendaSession.event_id == event.id, SessionAttendance.user_id == user_id,
               AgendaSession.starts_at < slot.ends_at, AgendaSession.ends_at > slot.starts_at).limit(1))
    return f"the session “{title}”" if title is not None else None


def check_free(event: Event, actor: User, other: User, slot: Slot) -> None:
    """Both free during `slot`. The actor is told what takes their own time; of the other
    person's time they learn only that it is taken."""
    if reason := busy_with(event, actor.id, slot):
        raise Conflict(f"You are not free then: you have {reason}.", code="slot_taken")
    if busy_with(event, other.id, slot):
        raise Conflict(f"{other.display_name} is not free then: pick another slot.", code="slot_taken")


def is_available(event: Event, user_id: int, slot: Slot) -> bool:
    """Whether the member said they can meet during the whole of `slot`."""
    return db.session.scalar(select(AvailabilitySlot.id).where(
        AvailabilitySlot.event_id == event.id, AvailabilitySlot.user_id == user_id,
        AvailabilitySlot.starts_at <= slot.starts_at, AvailabilitySlot.ends_at >= slot.ends_at).limit(1)) is not None


def list_availability(actor: User, event_id: int) -> list[Slot]:
    """When the actor said they can meet at the event, in order."""
    event = access_event(actor, event_id)
    return [Slot(a.starts_at, a.ends_at) for a in db.session.scalars(
        select(AvailabilitySlot).where(AvailabilitySlot.event_id == event.id, AvailabilitySlot.user_id == actor.id)
        .order_by(AvailabilitySlot.starts_at))]


def check_slots(event: Event, slots) -> list[Slot]:
    """Stretches of time inside the event; overlapping or touching ones join into one."""
    if not isinstance(slots, list):
        raise ValidationFailed({"slots": "Give a list of {starts_at, ends_at}."})
    if len(slots) > MAX_SLOTS:
        raise ValidationFailed({"slots": f"At most {MAX_SLOTS} slots."})
    checked = []
    for i, slot in enumerate(slots):
        if not isinstance(slot, dict):
            raise ValidationFailed({f"slots.{i}": "Give starts_at and ends_at."})
        start = check_moment(f"slots.{i}.starts_at", slot.get("starts_at"), event.timezone)
        end = check_moment(f"slots.{i}.ends_at", slot.get("ends_at"), event.timezone)
        if end <= start:
            raise ValidationFailed({f"slots.{i}.ends_at": "A slot must end after it starts."})
        if start < event.starts_at or end > event.ends_at:
            raise ValidationFailed({f"slots.{i}": "Slots must be during the event."})
        checked.append(Slot(start, end))
    joined: list[Slot] = []
    for slot in sorted(checked, key=lambda s: s.starts_at):
        if joined and slot.starts_at <= joined[-1].ends_at:
            joined[-1] = Slot(joined[-1].starts_at, max(joined[-1].ends_at, slot.ends_at))
        else:
            joined.append(slot)
    return joined


def do_set_availability(actor: User, event_id: int, slots) -> list[Slot]:
    """Replace when the actor can meet at the event. Meetings already accepted stay."""
    event = access_event(actor, event_id)
    checked = check_slots(event, slots)
    lock_time_of(event, actor.id)
    db.session.execute(delete(AvailabilitySlot).where(AvailabilitySlot.event_id == event.id,
                                                      AvailabilitySlot.user_id == actor.id))
    db.session.add_all(AvailabilitySlot(event_id=event.id, user_id=actor.id, starts_at=s.starts_at, ends_at=s.ends_at)
                       for s in checked)
    events.commit()
    return checked


def _busy_slots(event: Event, user_ids: list[int]) -> list[Slot]:
    """Everything that takes these members' time at the event, in one query."""
    meetings = select(MeetingRequest.starts_at, MeetingRequest.ends_at).where(
        MeetingRequest.event_id == event.id, MeetingRequest.status == MeetingStatus.ACCEPTED,
        MeetingRequest.starts_at.is_not(None),
        or_(MeetingRequest.requester_id.in_(user_ids), MeetingRequest.recipient_id.in_(user_ids)))
    sessions = (select(AgendaSession.starts_at, AgendaSession.ends_at)
                .join(SessionAttendance, SessionAttendance.session_id == AgendaSession.id)
                .where(AgendaSession.event_id == event.id, SessionAttendance.user_id.in_(user_ids)))
    return [Slot(*row) for row in db.session.execute(meetings.union_all(sessions))]


def free_slots(event: Event, actor: User, other_id: int, now: datetime) -> list[Slot]:
    """The meeting slots (MEETING_MINUTES each, from the start of each stretch the other person
    published) still ahead, in which both are free. Two queries, however many slots."""
    length = meeting_length()
    busy = _busy_slots(event, [actor.id, other_id])
    found = []
    for stretch in db.session.scalars(select(AvailabilitySlot).where(
            AvailabilitySlot.event_id == event.id, AvailabilitySlot.user_id == other_id,
            AvailabilitySlot.ends_at > now).order_by(AvailabilitySlot.starts_at)):
        start = stretch.starts_at
        while start + length <= stretch.ends_at:
            slot = Slot(start, start + length)
            if start >= now and not any(b.starts_at < slot.ends_at and b.ends_at > slot.starts_at for b in busy):
                found.append(slot)
            start += length
    return found


def list_accepted_meetings(actor: User, event: Event) -> list[MeetingRequest]:
    """The actor's accepted meetings with a time at the event, in time order."""
    return list(db.session.scalars(select(MeetingRequest).where(
        MeetingRequest.event_id == event.id, MeetingRequest.status == MeetingStatus.ACCEPTED,
        MeetingRequest.starts_at.is_not(None),
        or_(MeetingRequest.requester_id == actor.id, MeetingRequest.recipient_id == actor.id))
        .order_by(MeetingRequest.starts_at, MeetingRequest.id)))
