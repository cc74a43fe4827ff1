"""Being at an event: check in (by code or geofence), update one's presence, check out.

Presence lapses by itself after CHECKIN_TTL_MINUTES without news; positions are snapped to the
grid by `geo` before anything is stored, and the live list hears only what others may see.
"""
from datetime import datetime, timedelta
from urllib.parse import parse_qs, urlsplit

from flask import current_app
from sqlalchemy import and_, select

from .. import events, permissions
from ..accounts.models import User
from ..database import db, insert_unless_exists, utcnow
from ..errors import Conflict, ValidationFailed, check_fields
from ..validation import check_choice, check_number
from . import geo
from .calendar import access_event
from .checks import check_zone
from .codes import same_code
from .models import Checkin, Event, LocationSharing, Visibility, WhoMayAsk


def _ttl() -> timedelta:
    return timedelta(minutes=current_app.config["CHECKIN_TTL_MINUTES"])


def is_present(checkin: Checkin | None, now: datetime) -> bool:
    """Checked in, not out, and heard from within the TTL: presence lapses by itself."""
    return checkin is not None and checkin.checked_out_at is None and checkin.last_seen_at > now - _ttl()


def checkin_expires_at(checkin: Checkin) -> datetime:
    """When the presence lapses unless the attendee updates it."""
    return checkin.last_seen_at + _ttl()


def present_clause(now: datetime):
    """SQL twin of `is_present`, suspended members left out."""
    return and_(Checkin.checked_out_at.is_(None), Checkin.last_seen_at > now - _ttl(),
                permissions.not_suspended_clause(now))


def check_code(value) -> str | None:
    """A check-in code as typed, or the QR payload (the event page's URL carrying `code=`)."""
    if value is None or value == "":
        return None
    if not isinstance(value, str):
        raise ValidationFailed({"code": "Must be text."})
    value = value.strip()
    if "://" in value:
        value = (parse_qs(urlsplit(value).query).get("code") or [""])[0]
    return value


def check_position(event: Event, lat, lng) -> tuple[float, float] | None:
    if lat is None and lng is None:
        return None
    if lat is None or lng is None:
        raise ValidationFailed({"lat" if lat is None else "lng": "Give both lat and lng."})
    values = check_fields(lat=(lambda v: check_number("lat", v, -90, 90), lat),
                          lng=(lambda v: check_number("lng", v, -180, 180), lng))
    if not event.has_geofence:
        # The fence's centre anchors the grid: without it there is no grid to snap to.
        raise ValidationFailed({"lat": "This event has no venue area set: share your zone instead."})
    return values["lat"], values["lng"]


def inside_fence(event: Event, position: tuple[float, float]) -> bool:
    return geo.metres_between(event.fence_lat, event.fence_lng, *position) <= event.fence_radius_m


def check_presence_changes(event: Event, changes: dict) -> dict:
    """Validate what an attendee may set about their presence; returns the columns to write.

    A position is used here, once: it becomes a grid cell and is not kept.
    """
    checks = {}
    if "zone" in changes:
        checks["zone"] = (lambda v: check_zone(event, v), changes["zone"])
    for name, choices in (("visibility", Visibility), ("location", LocationSharing), ("who_may_ask", WhoMayAsk)):
        if changes.get(name) is not None:
            checks[name] = (lambda v, n=name, c=choices: check_choice(n, v, c), changes[name])
    checks["position"] = (lambda v: check_position(event, *v), (changes.get("lat"), changes.get("lng")))
    values = check_fields(**checks)
    position = values.pop("position")
    if "zone" in values:
        values["zone_id"] = values.pop("zone").id if values["zone"] else None
    if position is not None:
        values["cell_x"], values["cell_y"] = geo.snap(event.fence_lat, event.fence_lng, *position)
    return values


def check_admission(event: Event, code: str | None, lat, lng) -> None:
    """In by the event's code, or by standing inside its geofence."""
    if code is not None:
        if not same_code(code, event.checkin_code):
            raise ValidationFailed({"code": "This is not the check-in code of this event."},
                                   "This is not the check-in code of this event.")
        return
    position = check_position(event, lat, lng)
    if position is None:
        raise ValidationFailed({"code": "Scan the event's QR code or share your position."},
                               "Give the check-in code or a position inside the venue.")
    if not inside_fence(event, position):
        raise Conflict("You are not at the venue yet: check in with the code instead.", code="outside_geofence")


def public_view(checkin: Checkin) -> dict | None:
    """What anyone may know of an attendee, as pushed live; None for people not listed by name."""
    if not permissions.is_listed(checkin):
        return None
    zone = checkin.zone.name if checkin.zone and permissions.shares_zone(checkin) else None
    return {"user": user_card(checkin.user), "zone": zone}


def user_card(user: User) -> dict:
    return {"id": user.id, "name": user.display_name, "organization": user.organization_name,
            "title": user.job_title, "interests": user.interests}


def _public_state(checkin: Checkin | None, now: datetime):
    """What the live list can tell about an attendee: nothing (absent or hidden), a number, or a
    view, plus whether their cell moved (for clients to re-ask for distances)."""
    if not is_present(checkin, now) or not permissions.is_counted(checkin):
        return None
    cell = (checkin.cell_x, checkin.cell_y) if permissions.shares_distance(checkin) else None
    return public_view(checkin), cell


def _announce_presence(event: Event, before, after) -> None:
    if before is None and after is None:
        return
    if before is None:
        events.announce(events.checkin_created, event=event, attendee=after[0])
    elif after is None:
        events.announce(events.checkin_removed, event=event, attendee=before[0])
    elif (before[0] is None) != (after[0] is None):  # listed by name <-> a number only
        events.announce(events.checkin_removed, event=event, attendee=before[0])
        events.announce(events.checkin_created, event=event, attendee=after[0])
    elif before != after:
        events.announce(events.checkin_updated, event=event, attendee=after[0])


def own_checkin(actor: User, event: Event, *, lock: bool = False) -> Checkin | None:
    query = select(Checkin).where(Checkin.event_id == event.id, Checkin.user_id == actor.id)
    if lock:
        query = query.with_for_update(of=Checkin).execution_options(populate_existing=True)
    return db.session.scalar(query)


def access_my_checkin(actor: User, event: Event) -> Checkin | None:
    """The actor's own check-in at the event, if they are present."""
    checkin = own_checkin(actor, event)
    return checkin if is_present(checkin, utcnow()) else None


def do_check_in(actor: User, event_id: int, changes: dict) -> tuple[Checkin, bool]:
    """Check in by `code` (or the QR payload) or a `lat`/`lng` inside the geofence, with
    optional `zone`, `visibility`, `location`, `who_may_ask`. Returns the check-in and whether
    the actor was not present before. Checking in again only refreshes the presence.
    """
    event = access_event(actor, event_id)
    now = utcnow()
    permissions.ensure(permissions.refusal_to_check_in(actor, event, now))
    check_admission(event, check_code(changes.get("code")), changes.get("lat"), changes.get("lng"))
    values = check_presence_changes(event, changes)
    inserted = insert_unless_exists(Checkin, event_id=event.id, user_id=actor.id, checked_in_at=now,
                                    last_seen_at=now) is not None
    checkin = own_checkin(actor, event, lock=True)  # concurrent check-ins of one member queue here
    before = None if inserted else _public_state(checkin, now)
    arrived = inserted or not is_present(checkin, now)
    if arrived:
        # A new stay starts from scratch; visibility choices are kept as the member's preference.
        checkin.checked_in_at, checkin.checked_out_at = now, None
        checkin.zone_id = checkin.cell_x = checkin.cell_y = None
    return _apply_presence(event, checkin, values, before, now), arrived


def do_update_checkin(actor: User, event_id: int, changes: dict) -> Checkin:
    """Move (zone, position) or change privacy choices; also keeps the presence alive."""
    event = access_event(actor, event_id)
    now = utcnow()
    permissions.ensure(permissions.event_not_on(event, now))
    values = check_presence_changes(event, changes)
    checkin = own_checkin(actor, event, lock=True)
    if not is_present(checkin, now):
        raise Conflict("You are not checked in here (or your check-in lapsed): check in again.",
                       code="not_checked_in")
    return _apply_presence(event, checkin, values, _public_state(checkin, now), now)


def _apply_presence(event: Event, checkin: Checkin, values: dict, before, now: datetime) -> Checkin:
    checkin.last_seen_at = now
    for name, value in values.items():
        setattr(checkin, name, value)
    db.session.flush()
    db.session.refresh(checkin, ["zone"])
    _announce_presence(event, before, _public_state(checkin, now))
    events.commit()
    return checkin


def do_check_out(actor: User, event_id: int) -> None:
    """Leave the event. Idempotent: checking out when not present changes nothing."""
    event = access_event(actor, event_id)
    now = utcnow()
    checkin = own_checkin(actor, event, lock=True)
    if is_present(checkin, now):
        before = _public_state(checkin, now)
        checkin.checked_out_at = now
        _announce_presence(event, before, None)
    events.commit()



def forget_checkins(user: User) -> None:
    """Delete a member's check-ins, for their erasure, announcing a departure where others saw
    them (the member is already nameless by then). Call inside the erasure's transaction."""
    now = utcnow()
    for checkin in db.session.scalars(select(Checkin).where(Checkin.user_id == user.id).with_for_update(of=Checkin)):
        before = _public_state(checkin, now)
        if before is not None:
            _announce_presence(db.session.get(Event, checkin.event_id), before, None)
        db.session.delete(checkin)
