"""Events, registrations, check-ins, finding people and meeting requests.

Every read goes through `access_*`/`list_*`, every write through `do_*`. Privacy rules come
from the policy module; positions are snapped to the grid by `geo` before anything is stored.
"""
import hmac
import math
import secrets
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import NamedTuple
from urllib.parse import parse_qs, urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from flask import current_app
from sqlalchemy import and_, delete, exists, func, literal, or_, select, update
from sqlalchemy.orm import contains_eager, with_expression

from .. import events, permissions
from ..accounts.models import Organization, User, UserInterest
from ..accounts.services import check_interests
from ..database import db, insert_unless_exists, utcnow
from ..errors import Conflict, Forbidden, NotFound, ValidationFailed, check_fields
from ..notifications.services import notify
from ..pagination import Keyset, Page, check_limit
from ..threads.models import Category, Post, Thread
from . import geo
from .models import (
    Checkin,
    Event,
    EventZone,
    LocationSharing,
    MeetingRequest,
    MeetingStatus,
    Registration,
    Visibility,
    WhoMayAsk,
)

EVENT_WHENS = ("upcoming", "past")
ATTENDEE_SORTS = ("arrived", "near", "like_me")
MAX_ZONES = 50
MAX_EVENT_DAYS = 31
MIN_FENCE_M, MAX_FENCE_M = 50, 20_000
MIN_RADIUS_M, MAX_RADIUS_M, DEFAULT_RADIUS_M = geo.GRID_M, 5_000, 200
MAX_MESSAGE = 500

EVENT_KEYSETS = {
    # Not over yet, soonest first; over, most recent first.
    "upcoming": Keyset((Event.starts_at, Event.id), (datetime, int), lambda e: (e.starts_at, e.id),
                       descending=False),
    "past": Keyset((Event.ends_at, Event.id), (datetime, int), lambda e: (e.ends_at, e.id)),
}
# "Near me" reads the smallest of these squared reaches (in cells) that fills a page: one's own
# cell (in a crowded hall it holds a page by itself), then it and the eight around it, then
# squares four times as wide each time; the radius itself comes last.
NEAR_REACHES = (0, 2, 32, 512, 8192)
ARRIVED_KEYSET = Keyset((Checkin.checked_in_at, Checkin.id), (datetime, int), lambda c: (c.checked_in_at, c.id))
MEETINGS_KEYSET = Keyset((MeetingRequest.id,), (int,), lambda m: (m.id,))


@dataclass
class Attendee:
    """One attendee as another member sees them: never coordinates, never a grid cell."""

    user: User
    zone: str | None
    distance_m: int | None = None
    can_ask_to_meet: bool = False
    # With sort=like_me: how much common ground, term by term (see `similarity_terms`).
    common: dict[str, int] | None = None


class OrganizationCount(NamedTuple):
    organization: str
    count: int


@dataclass
class AttendeeCounts:
    """Everyone present who is listed or counted, by organization: never names."""

    total: int
    by_organization: list[OrganizationCount] = field(default_factory=list)


# Checks


def _check_text(name: str, value, *, max_length: int, required: bool = False, multiline: bool = False) -> str:
    if not isinstance(value, str | None):
        raise ValidationFailed({name: "Must be text."})
    value = (value or "").strip() if multiline else " ".join((value or "").split())
    if required and not value:
        raise ValidationFailed({name: "Required."})
    if len(value) > max_length:
        raise ValidationFailed({name: f"Use at most {max_length} characters."})
    return value


def check_timezone(name: str | None) -> str:
    name = (name or "UTC").strip()
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValidationFailed({"timezone": "Use a time zone name such as Europe/Lisbon."}) from None
    return name


def check_moment(name: str, value, timezone: str) -> datetime:
    """An aware datetime, or ISO-8601 text; text without an offset is read in the event's zone
    (what a browser's datetime-local field sends)."""
    if isinstance(value, str) and value.strip():
        try:
            value = datetime.fromisoformat(value.strip())
        except ValueError:
            raise ValidationFailed({name: "Use a date and time such as 2026-05-04T09:00."}) from None
    if not isinstance(value, datetime):
        raise ValidationFailed({name: "Required."})
    if value.tzinfo is None:
        value = value.replace(tzinfo=ZoneInfo(timezone))
    return value


def _check_number(name: str, value, low: float, high: float) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ValidationFailed({name: "Must be a number."})
    if not low <= value <= high:
        raise ValidationFailed({name: f"Must be between {low:g} and {high:g}."})
    return float(value)


def check_geofence(fence: dict | None) -> dict:
    """{lat, lng, radius_m} or nothing: the columns to store."""
    if fence is None:
        return {"fence_lat": None, "fence_lng": None, "fence_radius_m": None}
    if not isinstance(fence, dict):
        raise ValidationFailed({"geofence": "Give lat, lng and radius_m."})
    values = check_fields(
        lat=(lambda v: _check_number("geofence.lat", v, -90, 90), fence.get("lat")),
        lng=(lambda v: _check_number("geofence.lng", v, -180, 180), fence.get("lng")),
        radius=(lambda v: _check_number("geofence.radius_m", v, MIN_FENCE_M, MAX_FENCE_M), fence.get("radius_m")),
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


def check_choice(name: str, value, choices: type) -> str:
    try:
        return choices(value).value
    except ValueError:
        raise ValidationFailed({name: "Choose one of: " + ", ".join(c.value for c in choices) + "."}) from None


def check_zone(event: Event, name, field_name: str = "zone") -> EventZone | None:
    """One of the event's zones by name (any case); empty means none."""
    if name is None or (isinstance(name, str) and not name.strip()):
        return None
    if not isinstance(name, str):
        raise ValidationFailed({field_name: "Give a zone's name."})
    for zone in event.zones:
        if zone.name.casefold() == " ".join(name.split()).casefold():
            return zone
    known = ", ".join(z.name for z in event.zones) or "this event has no zones"
    raise ValidationFailed({field_name: f"No such zone here ({known})."})


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


def _check_position(event: Event, lat, lng) -> tuple[float, float] | None:
    if lat is None and lng is None:
        return None
    if lat is None or lng is None:
        raise ValidationFailed({"lat" if lat is None else "lng": "Give both lat and lng."})
    values = check_fields(lat=(lambda v: _check_number("lat", v, -90, 90), lat),
                          lng=(lambda v: _check_number("lng", v, -180, 180), lng))
    if not event.has_geofence:
        # The fence's centre anchors the grid: without it there is no grid to snap to.
        raise ValidationFailed({"lat": "This event has no venue area set: share your zone instead."})
    return values["lat"], values["lng"]


def _inside_fence(event: Event, position: tuple[float, float]) -> bool:
    return geo.metres_between(event.fence_lat, event.fence_lng, *position) <= event.fence_radius_m


def check_event_is_on(event: Event, now: datetime) -> None:
    if now < event.starts_at:
        raise Conflict("Check-in opens when the event starts.", code="event_not_started")
    if now >= event.ends_at:
        raise Conflict("This event is over.", code="event_over")


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
    checks["position"] = (lambda v: _check_position(event, *v), (changes.get("lat"), changes.get("lng")))
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
        if not hmac.compare_digest(code.encode(), event.checkin_code.encode()):
            raise ValidationFailed({"code": "This is not the check-in code of this event."},
                                   "This is not the check-in code of this event.")
        return
    position = _check_position(event, lat, lng)
    if position is None:
        raise ValidationFailed({"code": "Scan the event's QR code or share your position."},
                               "Give the check-in code or a position inside the venue.")
    if not _inside_fence(event, position):
        raise Conflict("You are not at the venue yet: check in with the code instead.", code="outside_geofence")


def _check_radius(radius_m) -> int:
    if radius_m is None or radius_m == "":
        return DEFAULT_RADIUS_M
    try:
        radius = int(radius_m)
    except (TypeError, ValueError):
        raise ValidationFailed({"radius_m": "Must be a whole number of metres."}) from None
    if not MIN_RADIUS_M <= radius <= MAX_RADIUS_M:
        raise ValidationFailed({"radius_m": f"Must be between {MIN_RADIUS_M} and {MAX_RADIUS_M} metres."})
    return radius


def _ttl() -> timedelta:
    return timedelta(minutes=current_app.config["CHECKIN_TTL_MINUTES"])


def is_present(checkin: Checkin | None, now: datetime) -> bool:
    """Checked in, not out, and heard from within the TTL: presence lapses by itself."""
    return checkin is not None and checkin.checked_out_at is None and checkin.last_seen_at > now - _ttl()


def checkin_expires_at(checkin: Checkin) -> datetime:
    """When the presence lapses unless the attendee updates it."""
    return checkin.last_seen_at + _ttl()


def _present_clause(now: datetime):
    """SQL twin of `is_present`, suspended members left out."""
    return and_(Checkin.checked_out_at.is_(None), Checkin.last_seen_at > now - _ttl(),
                permissions.not_suspended_clause(now))


# Events


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


def do_create_event(actor: User | None, *, name, venue, starts_at, ends_at, description="", timezone=None,
                    geofence=None, zones=None) -> Event:
    """`actor` None means the operator (CLI, demo seed)."""
    if actor is not None and not permissions.can_manage_events(actor):
        raise Forbidden("Only staff create events.")
    tz = check_timezone(timezone)
    values = check_fields(
        name=(lambda v: _check_text("name", v, max_length=120, required=True), name),
        venue=(lambda v: _check_text("venue", v, max_length=200, required=True), venue),
        description=(lambda v: _check_text("description", v, max_length=5000, multiline=True), description),
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
                  checkin_code=secrets.token_urlsafe(9), created_by_id=actor.id if actor else None,
                  zones=[EventZone(name=zone, position=i) for i, zone in enumerate(values["zones"])],
                  **values["fence"])
    db.session.add(event)
    events.commit()
    return access_event(actor, event.id) if actor is not None else event


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
        if event.ends_at <= utcnow():
            raise Conflict("This event is over.", code="event_over")
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


# Presence


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


def _own_checkin(actor: User, event: Event, *, lock: bool = False) -> Checkin | None:
    query = select(Checkin).where(Checkin.event_id == event.id, Checkin.user_id == actor.id)
    if lock:
        query = query.with_for_update(of=Checkin).execution_options(populate_existing=True)
    return db.session.scalar(query)


def access_my_checkin(actor: User, event: Event) -> Checkin | None:
    """The actor's own check-in at the event, if they are present."""
    checkin = _own_checkin(actor, event)
    return checkin if is_present(checkin, utcnow()) else None


def do_check_in(actor: User, event_id: int, changes: dict) -> tuple[Checkin, bool]:
    """Check in by `code` (or the QR payload) or a `lat`/`lng` inside the geofence, with
    optional `zone`, `visibility`, `location`, `who_may_ask`. Returns the check-in and whether
    the actor was not present before. Checking in again only refreshes the presence.
    """
    event = access_event(actor, event_id)
    now = utcnow()
    check_event_is_on(event, now)
    check_admission(event, check_code(changes.get("code")), changes.get("lat"), changes.get("lng"))
    values = check_presence_changes(event, changes)
    inserted = insert_unless_exists(Checkin, event_id=event.id, user_id=actor.id, checked_in_at=now,
                                    last_seen_at=now) is not None
    checkin = _own_checkin(actor, event, lock=True)  # concurrent check-ins of one member queue here
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
    check_event_is_on(event, now)
    values = check_presence_changes(event, changes)
    checkin = _own_checkin(actor, event, lock=True)
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
    checkin = _own_checkin(actor, event, lock=True)
    if is_present(checkin, now):
        before = _public_state(checkin, now)
        checkin.checked_out_at = now
        _announce_presence(event, before, None)
    events.commit()


# Finding people


def similarity_terms(actor: User) -> dict:
    """How much common ground the actor has with an attendee, one correlated count per kind.

    The "people like me" score is the sum of these terms; each also shows up on the item, so
    people see why someone was suggested. A new kind of common ground (shared voted ideas)
    is one more entry here.
    """
    my_tags = select(UserInterest.tag).where(UserInterest.user_id == actor.id)
    my_threads = (select(Post.thread_id).join(Thread, Post.thread_id == Thread.id)
                  .join(Category, Thread.category_id == Category.id)
                  .where(Post.author_id == actor.id, Post.deleted_at.is_(None),
                         permissions.readable_categories_clause(actor)))
    return {
        "interests": select(func.count(UserInterest.tag))
        .where(UserInterest.user_id == Checkin.user_id, UserInterest.tag.in_(my_tags))
        .correlate(Checkin).scalar_subquery(),
        "threads": select(func.count(func.distinct(Post.thread_id)))
        .where(Post.author_id == Checkin.user_id, Post.deleted_at.is_(None), Post.thread_id.in_(my_threads))
        .correlate(Checkin).scalar_subquery(),
    }


def _common_ground(actor: User, checkins: list[Checkin]) -> dict[int, dict[str, int]]:
    """The terms of `similarity_terms` for a page of attendees, in one query."""
    terms = similarity_terms(actor)
    rows = db.session.execute(select(Checkin.id, *terms.values()).where(Checkin.id.in_([c.id for c in checkins])))
    return {row[0]: dict(zip(terms, row[1:], strict=True)) for row in rows}


def _check_attendee_sort(sort: str | None, near: str | None) -> str:
    if near not in (None, "", "me"):
        raise ValidationFailed({"near": "Only near=me is supported."})
    sort = sort or ("near" if near == "me" else "arrived")
    if sort not in ATTENDEE_SORTS:
        raise ValidationFailed({"sort": "Sort by arrived, near or like_me."})
    return sort


def _contains(column, text: str):
    return func.lower(column).contains(text.lower(), autoescape=True)


def list_attendees(actor: User, event_id: int, *, q: str | None = None, company: str | None = None,
                   title: str | None = None, interest: str | None = None, zone: str | None = None,
                   near: str | None = None, radius_m=None, sort: str | None = None, cursor: str | None = None,
                   limit=None) -> Page[Attendee]:
    """Present attendees listed by name, except the actor.

    Filters: `q` (name), `company` (organization name, any case, substring), `title`,
    `interest` (tag), `zone`. `near=me` keeps those within `radius_m` of the actor's cell,
    nearest first, reading only the cells in that square. `sort=like_me` ranks by
    `similarity_terms`, keeping people with something in common.
    """
    event = access_event(actor, event_id)
    sort = _check_attendee_sort(sort, near)
    limit = check_limit(limit)
    now = utcnow()
    mine = access_my_checkin(actor, event)
    my_cell = (mine.cell_x, mine.cell_y) if mine is not None and mine.cell_x is not None else None
    query = (select(Checkin).join(Checkin.user)
             .options(contains_eager(Checkin.user).selectinload(User.interest_rows))
             .where(Checkin.event_id == event.id, Checkin.user_id != actor.id, permissions.listed_clause(),
                    _present_clause(now)))
    if q and q.strip():
        query = query.where(_contains(User.display_name, q.strip()))
    if company and company.strip():
        query = query.where(User.organization_id.in_(
            select(Organization.id).where(_contains(Organization.name, company.strip()))))
    if title and title.strip():
        query = query.where(_contains(User.job_title, title.strip()))
    if interest and interest.strip():
        tags = check_interests([interest])
        query = query.where(exists().where(UserInterest.user_id == Checkin.user_id,
                                           UserInterest.tag == (tags[0] if tags else "")))
    if zone and zone.strip():
        # Only people who share their zone can be found by it.
        query = query.where(Checkin.zone_id == check_zone(event, zone).id, permissions.shares_zone_clause())
    if near == "me" or sort == "near":
        if my_cell is None:
            raise Conflict("Share your position (check in or update it with lat and lng) to find people near you.",
                           code="no_position")
        reach = geo.cells_within(_check_radius(radius_m))
        distance2 = ((Checkin.cell_x - literal(my_cell[0])) * (Checkin.cell_x - literal(my_cell[0]))
                     + (Checkin.cell_y - literal(my_cell[1])) * (Checkin.cell_y - literal(my_cell[1])))
        query = query.where(permissions.shares_distance_clause())
    if sort == "near":
        query = query.options(with_expression(Checkin.cell_distance2, distance2))
        keyset = Keyset((distance2, Checkin.id), (int, int), lambda c: (c.cell_distance2, c.id), descending=False)
        page = _nearest_first(query, keyset, my_cell, distance2, reach, cursor, limit)
    else:
        if near == "me":
            query = _within(query, my_cell, distance2, reach)
        if sort == "like_me":
            score = sum(similarity_terms(actor).values())
            query = query.where(score > 0).options(with_expression(Checkin.similarity, score))
            keyset = Keyset((score, Checkin.id), (int, int), lambda c: (c.similarity, c.id))
        else:
            keyset = ARRIVED_KEYSET
        page = keyset.paginate(query, cursor, limit)
    common = _common_ground(actor, page.items) if sort == "like_me" and page.items else {}
    return Page([_attendee(actor, c, my_cell, common.get(c.id)) for c in page.items], page.next_cursor)


def _within(query, cell: tuple[int, int], distance2, reach: int):
    """Attendees whose cell is within `reach` (squared cells) of `cell`, read from the square
    around it through the (event, cell) index."""
    span = math.isqrt(reach)
    return query.where(Checkin.cell_x.between(cell[0] - span, cell[0] + span),
                       Checkin.cell_y.between(cell[1] - span, cell[1] + span), distance2 <= reach)


def _nearest_first(query, keyset: Keyset, cell: tuple[int, int], distance2, reach: int, cursor: str | None,
                   limit: int) -> Page:
    """The page of `query` nearest `cell` within `reach`, read from the smallest square that fills it.

    Sorting by distance means reading and joining everyone within the radius: in a crowded hall,
    thousands of people for a page of twenty. A full page found within a smaller reach is the
    page the whole radius gives, because everyone beyond sorts after everyone within. One query
    counts (up to a page and one) who is within each smaller reach, then one reads the page.
    """
    bounds = [bound for bound in NEAR_REACHES if bound < reach]
    if bounds:
        after = query.where(keyset.after(cursor)) if cursor else query
        counts = db.session.execute(select(*(
            select(func.count()).select_from(
                _within(after, cell, distance2, bound).with_only_columns(Checkin.id).limit(limit + 1).subquery()
            ).scalar_subquery()
            for bound in bounds
        ))).one()
        reach = next((bound for bound, found in zip(bounds, counts, strict=True) if found > limit), reach)
    return keyset.paginate(_within(query, cell, distance2, reach), cursor, limit)


def _attendee(actor: User, checkin: Checkin, my_cell, common) -> Attendee:
    view = public_view(checkin)
    distance = None
    if my_cell is not None and permissions.shares_distance(checkin):
        distance = geo.rounded_distance_m(geo.cell_distance2(my_cell, (checkin.cell_x, checkin.cell_y)))
    return Attendee(user=checkin.user, zone=view["zone"], distance_m=distance, common=common,
                    can_ask_to_meet=permissions.can_ask_to_meet(actor, checkin))


def count_attendees(actor: User, event_id: int) -> AttendeeCounts:
    """How many are here, by organization, listed and count-only alike (never the hidden)."""
    event = access_event(actor, event_id)
    rows = db.session.execute(
        select(Organization.name, func.count(Checkin.id))
        .select_from(Checkin).join(User, Checkin.user_id == User.id)
        .outerjoin(Organization, User.organization_id == Organization.id)
        .where(Checkin.event_id == event.id, permissions.counted_clause(), _present_clause(utcnow()))
        .group_by(Organization.name)
        .order_by(func.count(Checkin.id).desc(), Organization.name)
    ).all()
    return AttendeeCounts(total=sum(n for _, n in rows),
                          by_organization=[OrganizationCount(name or "No organization", n) for name, n in rows])


# Meetings


def _daily_quota() -> int:
    return current_app.config["MEETING_REQUESTS_PER_DAY"]


def access_meeting(actor: User, meeting_id: int) -> MeetingRequest:
    meeting = db.session.get(MeetingRequest, meeting_id)
    if meeting is None or not permissions.can_read_meeting(actor, meeting):
        raise NotFound("No such meeting request.")
    return meeting


def access_attendee(actor: User, event: Event, user_id: int) -> Checkin:
    """A present attendee listed by name; anyone else is exactly as missing as a stranger."""
    checkin = db.session.scalar(select(Checkin).where(Checkin.event_id == event.id, Checkin.user_id == user_id))
    if not is_present(checkin, utcnow()) or not permissions.is_listed(checkin) or checkin.user.is_suspended:
        raise NotFound("Nobody by that id is checked in here.")
    return checkin


def do_request_meeting(actor: User, event_id: int, user_id, message: str | None = "", zone=None) -> MeetingRequest:
    """Ask a present, listed attendee to meet. Both must be checked in; the recipient decides
    who may ask; each attendee sends at most MEETING_REQUESTS_PER_DAY per event in 24 hours."""
    event = access_event(actor, event_id)
    now = utcnow()
    check_event_is_on(event, now)
    values = check_fields(
        message=(lambda v: _check_text("message", v, max_length=MAX_MESSAGE, multiline=True), message),
        zone=(lambda v: check_zone(event, v), zone))
    if not isinstance(user_id, int) or isinstance(user_id, bool):
        raise ValidationFailed({"user_id": "Give the id of the attendee to meet."})
    # Locking the requester's own check-in queues their simultaneous requests, so the quota holds.
    mine = _own_checkin(actor, event, lock=True)
    if not is_present(mine, now):
        raise Conflict("Check in to the event to ask people to meet.", code="not_checked_in")
    if user_id == actor.id:
        raise ValidationFailed({"user_id": "You cannot ask yourself to meet."})
    target = access_attendee(actor, event, user_id)
    if not permissions.can_ask_to_meet(actor, target):
        raise Forbidden("This attendee does not take meeting requests from you.", code="meeting_requests_closed")
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
    meeting = MeetingRequest(event_id=event.id, requester=actor, recipient=target.user, zone=values["zone"],
                             message=values["message"], created_at=now)
    db.session.add(meeting)
    db.session.flush()
    where = f" at {values['zone'].name}" if values["zone"] else ""
    said = f": {values['message']}" if values["message"] else ""
    notify([target.user], "meeting_requested", actor=actor, event_id=event.id,
           text=f"{actor.display_name} asks to meet you{where} ({event.name}){said}")
    events.commit()
    return meeting


def do_answer_meeting(actor: User, meeting_id: int, accept: bool) -> MeetingRequest:
    meeting = access_meeting(actor, meeting_id)
    if actor.id != meeting.recipient_id:
        raise Forbidden("Only the person asked can answer.")
    status = MeetingStatus.ACCEPTED if accept else MeetingStatus.DECLINED
    # Conditional on still pending, so two answers at once settle on one.
    answered = db.session.execute(
        update(MeetingRequest).where(MeetingRequest.id == meeting.id, MeetingRequest.status == MeetingStatus.PENDING)
        .values(status=status, responded_at=utcnow()).execution_options(synchronize_session=False)
    ).rowcount
    if not answered:
        events.rollback()
        raise Conflict("This request has already been answered.", code="meeting_already_answered")
    db.session.refresh(meeting)
    event = db.session.get(Event, meeting.event_id)
    verb = "accepted" if accept else "declined"
    notify([meeting.requester], f"meeting_{verb}", actor=actor, event_id=meeting.event_id,
           text=f"{actor.display_name} {verb} your request to meet ({event.name}).")
    events.commit()
    return meeting


def list_meetings(actor: User, event_id: int, *, cursor: str | None = None, limit=None) -> Page[MeetingRequest]:
    """The actor's meeting requests at the event, sent and received, newest first."""
    event = access_event(actor, event_id)
    query = select(MeetingRequest).where(
        MeetingRequest.event_id == event.id,
        or_(MeetingRequest.requester_id == actor.id, MeetingRequest.recipient_id == actor.id))
    return MEETINGS_KEYSET.paginate(query, cursor, check_limit(limit))


# Erasure


def forget_attendee(user: User) -> None:
    """Remove a member's presence from every event, for their erasure: check-ins (announced as
    departures where others saw them), registrations, and the messages of their meeting requests;
    requests still waiting for an answer are declined. Call inside the erasure's transaction."""
    now = utcnow()
    checkins = db.session.scalars(select(Checkin).where(Checkin.user_id == user.id)
                                  .with_for_update(of=Checkin)).all()
    for checkin in checkins:
        before = _public_state(checkin, now)
        if before is not None:
            _announce_presence(db.session.get(Event, checkin.event_id), before, None)
        db.session.delete(checkin)
    registered = db.session.scalars(delete(Registration).where(Registration.user_id == user.id)
                                    .returning(Registration.event_id)).all()
    if registered:
        db.session.execute(update(Event).where(Event.id.in_(registered))
                           .values(registration_count=Event.registration_count - 1)
                           .execution_options(synchronize_session=False))
    involved = or_(MeetingRequest.requester_id == user.id, MeetingRequest.recipient_id == user.id)
    db.session.execute(update(MeetingRequest).where(involved, MeetingRequest.status == MeetingStatus.PENDING)
                       .values(status=MeetingStatus.DECLINED, responded_at=now)
                       .execution_options(synchronize_session=False))
    db.session.execute(update(MeetingRequest).where(MeetingRequest.requester_id == user.id).values(message="")
                       .execution_options(synchronize_session=False))
