"""The events on the calendar: create, list, read, register.

Every read goes through `access_event`/`list_events`, so what a member may not see is never found.
"""
from datetime import datetime, timedelta

from sqlalchemy import delete, exists, select, update
from sqlalchemy.orm import with_expression

from .. import events, permissions
from ..accounts.models import User
from ..actors import Actor, is_system
from ..database import db, insert_unless_exists, utcnow
from ..errors import Forbidden, NotFound, ValidationFailed, check_fields
from ..moderation import audit
from ..pagination import Keyset, Page, check_limit
from ..validation import check_number, check_text
from .checks import check_moment, check_timezone
from .codes import new_code
from .models import Event, EventZone, Registration

EVENT_WHENS = ("upcoming", "past")
MAX_ZONES = 50
MAX_EVENT_DAYS = 31
MIN_FENCE_M, MAX_FENCE_M = 50, 20_000
EVENT_KEYSETS = {
    # Not over yet, soonest first; over, most recent first.
    "upcoming": Keyset((Event.starts_at, Event.id), (datetime, int), lambda e: (e.starts_at, e.id),
                       descending=False),
    "past": Keyset((Event.ends_at, Event.id), (datetime, int), lambda e: (e.ends_at, e.id)),
}


def check_geofence(fence: dict | None) -> dict:
    """{lat, lng, radius_m} or nothing: the columns to store."""
    if fence is None:
        return {"fence_lat": None, "fence_lng": None, "fence_radius_m": None}
    if not isinstance(fence, dict):
        raise ValidationFailed({"geofence": "Give lat, lng and radius_m."})
    values = check_fields(
        lat=(lambda v: check_number("geofence.lat", v, -90, 90), fence.get("lat")),
        lng=(lambda v: check_number("geofence.lng", v, -180, 180), fence.get("lng")),
        radius=(lambda v: check_number("geofence.radius_m", v, MIN_FENCE_M, MAX_FENCE_M), fence.get("radius_m")),
    )
    return {"fence_lat": values["lat"], "fence_lng": values["lng"], "fence_radius_m": round(values["radius"])}


def check_zone_names(zones) -> list[str]:
    """Zone names, from [{name}] (the API), a list of names or one name per line (the web)."""
    if isinstance(zones, str):
        zones = zones.splitlines()
    names = []
    for zone in zones or []:
        name = zone.get("name") if isinstance(zone, dict) else zone
        if not isinstance(name, str):
            raise ValidationFailed({"zones": "Each zone needs a name."})
        name = " ".join(name.split())
        if len(name) > 80:
            raise ValidationFailed({"zones": "Zone names have at most 80 characters."})
        if name and name.casefold() in {n.casefold() for n in names}:
            raise ValidationFailed({"zones": f"The zone {name!r} is listed twice."})
        if name:
            names.append(name)
    if len(names) > MAX_ZONES:
        raise ValidationFailed({"zones": f"At most {MAX_ZONES} zones."})
    return names


def _events_query(actor: User | None):
    registered = exists().where(Registration.event_id == Event.id, Registration.user_id == (actor.id if actor else 0))
    return (select(Event).where(permissions.readable_events_clause(actor))
            .options(with_expression(Event.viewer_registered, registered)))


def access_event(actor: User | None, event_id: int) -> Event:
    event = db.session.scalar(_events_query(actor).where(Event.id == event_id)
                              .execution_options(populate_existing=True))
    if event is None or not permissions.can_read_event(actor, event):
        raise NotFound("No such event.")
    return event


def check_when(when: str | None) -> str:
    when = when or "upcoming"
    if when not in EVENT_WHENS:
        raise ValidationFailed({"when": "Choose upcoming or past."})
    return when


def list_events(actor: User | None, *, when: str | None = None, cursor: str | None = None,
                limit=None) -> Page[Event]:
    """Events not over yet (soonest first), or past ones (latest first)."""
    when = check_when(when)
    now = utcnow()
    query = _events_query(actor).where(Event.ends_at > now if when == "upcoming" else Event.ends_at <= now)
    return EVENT_KEYSETS[when].paginate(query, cursor, check_limit(limit))


def do_create_event(actor: Actor, *, name, venue, starts_at, ends_at, description="", timezone=None,
                    geofence=None, zones=None) -> Event:
    if not permissions.can_manage_events(actor):
        raise Forbidden("Only staff create events.")
    tz = check_timezone(timezone)
    values = check_fields(
        name=(lambda v: check_text("name", v, max_length=120, required=True), name),
        venue=(lambda v: check_text("venue", v, max_length=200, required=True), venue),
        description=(lambda v: check_text("description", v, max_length=5000, multiline=True), description),
        starts_at=(lambda v: check_moment("starts_at", v, tz), starts_at),
        ends_at=(lambda v: check_moment("ends_at", v, tz), ends_at),
        fence=(check_geofence, geofence),
        zones=(check_zone_names, zones),
    )
    if values["ends_at"] <= values["starts_at"]:
        raise ValidationFailed({"ends_at": "The event must end after it starts."})
    if values["ends_at"] - values["starts_at"] > timedelta(days=MAX_EVENT_DAYS):
        raise ValidationFailed({"ends_at": f"An event lasts at most {MAX_EVENT_DAYS} days."})
    event = Event(name=values["name"], venue=values["venue"], description=values["description"],
                  starts_at=values["starts_at"], ends_at=values["ends_at"], timezone=tz,
                  checkin_code=new_code(), created_by_id=actor.id,
                  zones=[EventZone(name=zone, position=i) for i, zone in enumerate(values["zones"])],
                  **values["fence"])
    db.session.add(event)
    db.session.flush()
    audit.record(actor, "event.create", "event", event.id, after={"name": event.name, "venue": event.venue})
    events.commit()
    return event if is_system(actor) else access_event(actor, event.id)


def access_checkin_code(actor: User, event_id: int) -> str:
    """The code behind the event's QR code: staff only."""
    event = access_event(actor, event_id)
    if not permissions.can_manage_events(actor):
        raise Forbidden("Only staff see the check-in code.")
    return event.checkin_code


def do_register(actor: User, event_id: int, attending: bool = True) -> Event:
    """RSVP (or take it back). Idempotent: the primary key decides, never a prior read."""
    event = access_event(actor, event_id)
    if attending:
        permissions.ensure(permissions.refusal_to_register(actor, event, utcnow()))
        changed = insert_unless_exists(Registration, event_id=event.id, user_id=actor.id,
                                       created_at=utcnow()) is not None
        step = 1
    else:
        changed = db.session.execute(delete(Registration).where(
            Registration.event_id == event.id, Registration.user_id == actor.id)).rowcount
        step = -1
    if changed:
        db.session.execute(update(Event).where(Event.id == event.id)
                           .values(registration_count=Event.registration_count + step)
                           .execution_options(synchronize_session=False))
    events.commit()
    return access_event(actor, event.id)



def forget_registrations(user: User) -> None:
    """Withdraw a member's registrations, for their erasure; call inside its transaction."""
    registered = db.session.scalars(delete(Registration).where(Registration.user_id == user.id)
                                    .returning(Registration.event_id)).all()
    if registered:
        db.session.execute(update(Event).where(Event.id.in_(registered))
                           .values(registration_count=Event.registration_count - 1)
                           .execution_options(synchronize_session=False))
