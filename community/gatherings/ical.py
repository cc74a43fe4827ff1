"""One's plan for an event as an iCalendar file: the sessions on one's schedule and one's
accepted meetings, in the event's time zone (with its VTIMEZONE), for any calendar app."""
from zoneinfo import ZoneInfo

from flask import current_app, url_for
from icalendar import Calendar
from icalendar import Event as CalendarEntry

from ..accounts.models import User
from ..database import utcnow
from .agenda import list_sessions
from .calendar import access_event
from .schedule import list_accepted_meetings


def calendar_ics(actor: User, event_id: int) -> bytes:
    event = access_event(actor, event_id)
    zone = ZoneInfo(event.timezone)
    host = current_app.config.get("SERVER_NAME") or "roundtable"
    page = url_for("gatherings.event", event_id=event.id, _external=True)
    now = utcnow()
    calendar = Calendar()
    calendar.add("prodid", "-//Roundtable//Events//EN")
    calendar.add("version", "2.0")
    calendar.add("x-wr-calname", f"{event.name} — my schedule")
    calendar.add("x-wr-timezone", event.timezone)

    def entry(uid: str, summary: str, starts_at, ends_at, location: str, description: str, modified):
        item = CalendarEntry()
        item.add("uid", f"{uid}@{host}")
        item.add("summary", summary)
        item.add("dtstart", starts_at.astimezone(zone))
        item.add("dtend", ends_at.astimezone(zone))
        item.add("dtstamp", now)
        item.add("last-modified", modified)
        item.add("location", location)
        item.add("url", page)
        if description:
            item.add("description", description)
        calendar.add_component(item)

    for session in list_sessions(actor, event.id, mine=True):
        where = f"{session.zone.name}, {event.venue}" if session.zone else event.venue
        about = "\n\n".join(part for part in (session.speakers and f"With {session.speakers}", session.description)
                            if part)
        entry(f"session-{session.id}", session.title, session.starts_at, session.ends_at, where, about,
              session.updated_at)
    for meeting in list_accepted_meetings(actor, event):
        other = meeting.recipient if meeting.requester_id == actor.id else meeting.requester
        where = f"{meeting.zone.name}, {event.venue}" if meeting.zone else event.venue
        entry(f"meeting-{meeting.id}", f"Meeting with {other.display_name}", meeting.starts_at, meeting.ends_at,
              where, meeting.message, meeting.responded_at or meeting.created_at)
    calendar.add_missing_timezones()
    return calendar.to_ical()
