"""The agenda: sessions staff put on it, and each attendee's own schedule.

Staff changes announce `agenda_changed`, pushed to the event's room, so open pages and apps
re-read the agenda. A session on one's schedule takes one's time: no meeting can be booked
over it, and it cannot be added over an accepted meeting (see `schedule`).
"""
from dataclasses import dataclass, field
from datetime import date, datetime
from itertools import groupby
from zoneinfo import ZoneInfo

from sqlalchemy import delete, exists, func, select
from sqlalchemy.orm import with_expression

from .. import events, permissions
from ..accounts.models import User
from ..database import db, insert_unless_exists, utcnow
from ..errors import Conflict, Forbidden, NotFound, ValidationFailed, check_fields
from ..moderation import audit
from ..validation import check_text
from .calendar import access_event
from .checks import check_moment, check_zone
from .models import AgendaSession, Event, MeetingRequest, SessionAttendance
from .schedule import Slot, list_accepted_meetings, lock_time_of, meeting_during

MAX_SESSIONS = 500


@dataclass
class AgendaDay:
    """One day of the agenda as the event's clocks show it, sessions by start then zone."""

    day: date
    sessions: list[AgendaSession] = field(default_factory=list)


def _sessions_query(actor: User):
    on_schedule = exists().where(SessionAttendance.session_id == AgendaSession.id,
                                 SessionAttendance.user_id == actor.id).correlate_except(SessionAttendance)
    return (select(AgendaSession).options(with_expression(AgendaSession.viewer_attending, on_schedule))
            .order_by(AgendaSession.starts_at, AgendaSession.id))


def list_sessions(actor: User, event_id: int, *, mine: bool = False) -> list[AgendaSession]:
    """The event's agenda in time order (or only the actor's schedule), in one query."""
    event = access_event(actor, event_id)
    query = _sessions_query(actor).where(AgendaSession.event_id == event.id)
    if mine:
        query = query.join(SessionAttendance, SessionAttendance.session_id == AgendaSession.id).where(
            SessionAttendance.user_id == actor.id)
    return list(db.session.scalars(query))


def access_session(actor: User, session_id: int) -> AgendaSession:
    session = db.session.scalar(_sessions_query(actor).where(AgendaSession.id == session_id)
                                .execution_options(populate_existing=True))
    if session is None:
        raise NotFound("No such session.")
    access_event(actor, session.event_id)  # same answer as a missing session when the event is not theirs
    return session


def by_day(event: Event, sessions: list[AgendaSession]) -> list[AgendaDay]:
    """Sessions grouped by the day they start in the event's time zone; at one time, by zone (in the
    venue's order)."""
    zone = ZoneInfo(event.timezone)
    in_order = sorted(sessions, key=lambda s: (s.starts_at, s.zone.position if s.zone else -1, s.id))
    return [AgendaDay(day, list(items)) for day, items in
            groupby(in_order, key=lambda s: s.starts_at.astimezone(zone).date())]


def now_and_next(sessions: list[AgendaSession], now: datetime) -> tuple[list[AgendaSession], list[AgendaSession]]:
    """What is on now, and what starts next (every session starting at the next start time)."""
    on_now = [s for s in sessions if s.starts_at <= now < s.ends_at]
    later = [s for s in sessions if s.starts_at > now]
    upcoming = [s for s in later if s.starts_at == later[0].starts_at] if later else []
    return on_now, upcoming


def _check_session(event: Event, data: dict, current: AgendaSession | None = None) -> dict:
    def given(name, default=None):
        return data[name] if name in data else (getattr(current, name) if current else default)

    current_zone = current.zone.name if current and current.zone else None
    values = check_fields(
        title=(lambda v: check_text("title", v, max_length=200, required=True), given("title")),
        description=(lambda v: check_text("description", v, max_length=5000, multiline=True),
                     given("description", "")),
        speakers=(lambda v: check_text("speakers", v, max_length=300), given("speakers", "")),
        starts_at=(lambda v: check_moment("starts_at", v, event.timezone), given("starts_at")),
        ends_at=(lambda v: check_moment("ends_at", v, event.timezone), given("ends_at")),
        zone=(lambda v: check_zone(event, v), data.get("zone", current_zone)),
    )
    if values["ends_at"] <= values["starts_at"]:
        raise ValidationFailed({"ends_at": "A session must end after it starts."})
    if values["starts_at"] < event.starts_at or values["ends_at"] > event.ends_at:
        raise ValidationFailed({"starts_at": "A session must be during the event."})
    zone = values.pop("zone")
    values["zone_id"] = zone.id if zone else None
    return values


def _ensure_staff(actor: User) -> None:
    if not permissions.can_manage_events(actor):
        raise Forbidden("Only staff change the agenda.")


def do_create_session(actor: User, event_id: int, data: dict) -> AgendaSession:
    """Put a session on the agenda: title, starts_at, ends_at, and optionally zone, speakers,
    description. Staff only."""
    event = access_event(actor, event_id)
    _ensure_staff(actor)
    values = _check_session(event, data)
    count = db.session.scalar(select(func.count(AgendaSession.id)).where(AgendaSession.event_id == event.id))
    if count >= MAX_SESSIONS:
        raise Conflict(f"An agenda holds at most {MAX_SESSIONS} sessions.", code="agenda_full")
    session = AgendaSession(event_id=event.id, **values)
    db.session.add(session)
    db.session.flush()
    audit.record(actor, "event.session_add", "event", event.id, after={"session": session.title})
    events.announce(events.agenda_changed, event=event, change="created", session=session)
    events.commit()
    return access_session(actor, session.id)


def do_update_session(actor: User, session_id: int, data: dict) -> AgendaSession:
    """Change a session; what is not given stays. Staff only."""
    session = access_session(actor, session_id)
    _ensure_staff(actor)
    event = db.session.get(Event, session.event_id)
    before = session.title
    for name, value in _check_session(event, data, session).items():
        setattr(session, name, value)
    audit.record(actor, "event.session_change", "event", event.id, before={"session": before},
                 after={"session": session.title})
    session.updated_at = utcnow()
    events.announce(events.agenda_changed, event=event, change="updated", session=session)
    events.commit()
    return access_session(actor, session.id)


def do_delete_session(actor: User, session_id: int) -> None:
    session = access_session(actor, session_id)
    _ensure_staff(actor)
    event = db.session.get(Event, session.event_id)
    audit.record(actor, "event.session_remove", "event", event.id, before={"session": session.title})
    events.announce(events.agenda_changed, event=event, change="deleted", session=session)
    db.session.delete(session)
    events.commit()


def do_attend(actor: User, session_id: int, attending: bool = True) -> AgendaSession:
    """Add a session to one's schedule (or take it off). Idempotent. Adding it over an accepted
    meeting is refused (409 slot_taken): that time is promised."""
    session = access_session(actor, session_id)
    if attending:
        if session.viewer_attending:
            return session
        event = db.session.get(Event, session.event_id)
        lock_time_of(event, actor.id)
        if (meeting := meeting_during(event, actor.id, Slot(session.starts_at, session.ends_at))) is not None:
            other = meeting.recipient if meeting.requester_id == actor.id else meeting.requester
            raise Conflict(f"You are not free then: you have a meeting with {other.display_name}.",
                           code="slot_taken")
        insert_unless_exists(SessionAttendance, session_id=session.id, user_id=actor.id, created_at=utcnow())
    else:
        db.session.execute(delete(SessionAttendance).where(SessionAttendance.session_id == session.id,
                                                           SessionAttendance.user_id == actor.id))
    events.commit()
    return access_session(actor, session.id)


@dataclass
class ScheduleItem:
    """One thing on a member's own plan: a session they added, or an accepted meeting."""

    kind: str  # session | meeting
    starts_at: datetime
    ends_at: datetime
    session: AgendaSession | None = None
    meeting: MeetingRequest | None = None


def my_schedule(actor: User, event_id: int) -> list[ScheduleItem]:
    """The actor's sessions and accepted meetings at the event, in time order (two queries)."""
    event = access_event(actor, event_id)
    items = [ScheduleItem("session", s.starts_at, s.ends_at, session=s)
             for s in list_sessions(actor, event.id, mine=True)]
    items += [ScheduleItem("meeting", m.starts_at, m.ends_at, meeting=m) for m in list_accepted_meetings(actor, event)]
    return sorted(items, key=lambda item: (item.starts_at, item.kind))
