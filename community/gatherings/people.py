"""Finding people at an event: by name, company, title, interest, zone, near me, like me.

Others are seen only as privacy allows (never coordinates, never a grid cell).
"""
import math
from dataclasses import dataclass, field
from datetime import datetime
from typing import NamedTuple

from sqlalchemy import exists, func, literal, select
from sqlalchemy.orm import contains_eager, with_expression

from .. import permissions
from ..accounts.models import Organization, User, UserInterest
from ..accounts.services import check_interests
from ..database import db, utcnow
from ..errors import Conflict, NotFound, ValidationFailed
from ..pagination import Keyset, Page, check_limit
from ..threads.models import Category, Post, Thread
from . import geo
from .calendar import access_event
from .checks import check_zone
from .models import Checkin, Event
from .presence import access_my_checkin, is_present, present_clause, public_view

ATTENDEE_SORTS = ("arrived", "near", "like_me")
MIN_RADIUS_M, MAX_RADIUS_M, DEFAULT_RADIUS_M = geo.GRID_M, 5_000, 200
# "Near me" reads the smallest of these squared reaches (in cells) that fills a page: one's own
# cell (in a crowded hall it holds a page by itself), then it and the eight around it, then
# squares four times as wide each time; the radius itself comes last.
NEAR_REACHES = (0, 2, 32, 512, 8192)
ARRIVED_KEYSET = Keyset((Checkin.checked_in_at, Checkin.id), (datetime, int), lambda c: (c.checked_in_at, c.id))


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


def check_radius(radius_m) -> int:
    if radius_m is None or radius_m == "":
        return DEFAULT_RADIUS_M
    try:
        radius = int(radius_m)
    except (TypeError, ValueError):
        raise ValidationFailed({"radius_m": "Must be a whole number of metres."}) from None
    if not MIN_RADIUS_M <= radius <= MAX_RADIUS_M:
        raise ValidationFailed({"radius_m": f"Must be between {MIN_RADIUS_M} and {MAX_RADIUS_M} metres."})
    return radius


def access_attendee(actor: User, event: Event, user_id: int) -> Checkin:
    """A present attendee listed by name; anyone else is exactly as missing as a stranger."""
    checkin = db.session.scalar(select(Checkin).where(Checkin.event_id == event.id, Checkin.user_id == user_id))
    if not is_present(checkin, utcnow()) or not permissions.is_listed(checkin) or checkin.user.is_suspended:
        raise NotFound("Nobody by that id is checked in here.")
    return checkin


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
                    present_clause(now)))
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
        reach = geo.cells_within(check_radius(radius_m))
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
    present = is_present(mine, now)
    return Page([_attendee(actor, c, my_cell, common.get(c.id), present) for c in page.items], page.next_cursor)


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


def _attendee(actor: User, checkin: Checkin, my_cell, common, present: bool) -> Attendee:
    """`present`: whether the actor is checked in there now."""
    view = public_view(checkin)
    distance = None
    if my_cell is not None and permissions.shares_distance(checkin):
        distance = geo.rounded_distance_m(geo.cell_distance2(my_cell, (checkin.cell_x, checkin.cell_y)))
    return Attendee(user=checkin.user, zone=view["zone"], distance_m=distance, common=common,
                    can_ask_to_meet=permissions.can_ask_to_meet(actor, checkin, asker_present=present))


def count_attendees(actor: User, event_id: int) -> AttendeeCounts:
    """How many are here, by organization, listed and count-only alike (never the hidden)."""
    event = access_event(actor, event_id)
    rows = db.session.execute(
        select(Organization.name, func.count(Checkin.id))
        .select_from(Checkin).join(User, Checkin.user_id == User.id)
        .outerjoin(Organization, User.organization_id == Organization.id)
        .where(Checkin.event_id == event.id, permissions.counted_clause(), present_clause(utcnow()))
        .group_by(Organization.name)
        .order_by(func.count(Checkin.id).desc(), Organization.name)
    ).all()
    return AttendeeCounts(total=sum(n for _, n in rows),
                          by_organization=[OrganizationCount(name or "No organization", n) for name, n in rows])

