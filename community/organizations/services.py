"""Customer accounts: the vendor's view of organizations.

Staff see each organization's engagement (members, who was active, posts, ideas voted, event
attendance, last activity), the ideas it wants and how badly; admins set its tier, weight, CRM id
and account owner. An organization's weight weighs its demand for ideas; changing it reweighs
every idea the organization wants in the same transaction.
"""
import math
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from sqlalchemy import Float, String, cast, func, literal, select, union_all, update
from sqlalchemy.orm import aliased, selectinload

from .. import events, permissions
from ..accounts import services as accounts
from ..accounts.models import Organization, User
from ..database import db, utcnow
from ..errors import Forbidden, NotFound, ValidationFailed, check_fields
from ..gatherings.models import Checkin, Event
from ..ideas import services as ideas
from ..ideas.models import Idea, IdeaOrganization, IdeaVote
from ..moderation import audit
from ..pagination import Keyset, Page, check_limit
from ..threads.models import Post, Thread

ACTIVE_DAYS = 30
ORGANIZATION_SORTS = ("active", "name", "weight")
MAX_TIER = 40
MAX_CRM_ID = 100
MAX_WEIGHT = 1e12
RECENT_THREADS = 10
RECENT_VOTES = 10
ACTIVITY_WEEKS = 52
EDITABLE_FIELDS = ("domains", "tier", "weight", "crm_id", "account_owner_id")


# Checks


def split_domains(text) -> list:
    """Domains as people type them in one field or CSV cell: separated by commas, semicolons or spaces."""
    return [part for part in re.split(r"[,;\s]+", text) if part] if isinstance(text, str) else text


def check_organization_sort(sort: str | None) -> str:
    sort = sort or "active"
    if sort not in ORGANIZATION_SORTS:
        raise ValidationFailed({"sort": "Sort by " + ", ".join(ORGANIZATION_SORTS) + "."})
    return sort


def check_tier(tier) -> str:
    tier = " ".join(tier.split()) if isinstance(tier, str) else None
    if tier is None or len(tier) > MAX_TIER:
        raise ValidationFailed({"tier": f"Give a tier name of at most {MAX_TIER} characters (or nothing)."})
    return tier


def check_weight(weight) -> float:
    """A finite number >= 0, as JSON gives it or as a form or CSV cell spells it."""
    invalid = ValidationFailed({"weight": "Give a number of at least 0, like 120 or 2.5."})
    if isinstance(weight, str):
        try:
            weight = float(weight.strip().replace(",", "")) if weight.strip() else None
        except ValueError:
            raise invalid from None
    if isinstance(weight, bool) or not isinstance(weight, int | float):
        raise invalid
    if not math.isfinite(weight) or not 0 <= weight <= MAX_WEIGHT:
        raise invalid
    return float(weight)


def check_crm_id(crm_id) -> str | None:
    """Empty means none."""
    if crm_id is None:
        return None
    if not isinstance(crm_id, str) or len(crm_id.strip()) > MAX_CRM_ID:
        raise ValidationFailed({"crm_id": f"Give an id of at most {MAX_CRM_ID} characters."})
    return crm_id.strip() or None


def check_account_owner(user_id) -> User | None:
    """The account owner: a staff member, by id (None or "" for nobody)."""
    if user_id is None or user_id == "":
        return None
    if isinstance(user_id, str) and user_id.strip().isdigit():
        user_id = int(user_id)
    owner = db.session.get(User, user_id) if isinstance(user_id, int) and not isinstance(user_id, bool) else None
    if owner is None or not permissions.can_own_accounts(owner):
        raise ValidationFailed({"account_owner_id": "Choose a staff member as the account owner."})
    return owner


# Engagement


@dataclass
class Account:
    """An organization with its engagement figures (what the account pages and API list)."""

    organization: Organization
    member_count: int
    active_members_30d: int
    posts_30d: int
    ideas_voted: int
    event_attendance: int
    last_active_at: datetime | None
    account_owner: User | None = None
    # Filled for one organization's page only.
    members: list = field(default_factory=list)
    ideas: list = field(default_factory=list)

    def __getattr__(self, name):  # id, name, tier, weight... read through to the organization
        return getattr(self.__dict__["organization"], name)


def _activity():
    """One row per thing a member did themselves, (user id, when): posts, votes (not those staff
    added for them) and check-ins."""
    return union_all(
        select(Post.author_id.label("user_id"), Post.created_at.label("at")).where(Post.deleted_at.is_(None)),
        select(IdeaVote.user_id, IdeaVote.created_at).where(IdeaVote.cast_by_id.is_(None)),
        select(Checkin.user_id, Checkin.checked_in_at),
    ).subquery("activity")


def _figures(since: datetime):
    """The engagement figures of every organization, as one subquery keyed by organization id:
    grouped aggregates, so a page of organizations costs one statement whatever its size."""
    activity = _activity()
    members = (select(User.organization_id.label("id"), func.count(User.id).label("n"))
               .group_by(User.organization_id).subquery("members"))
    active = (select(User.organization_id.label("id"), func.count(func.distinct(activity.c.user_id)).label("n"),
                     func.max(activity.c.at).label("last"))
              .join(User, User.id == activity.c.user_id)
              .group_by(User.organization_id).subquery("active_all"))
    recent = (select(User.organization_id.label("id"), func.count(func.distinct(activity.c.user_id)).label("n"))
              .join(User, User.id == activity.c.user_id).where(activity.c.at >= since)
              .group_by(User.organization_id).subquery("active_recent"))
    posts = (select(User.organization_id.label("id"), func.count(Post.id).label("n"))
             .join(User, User.id == Post.author_id).where(Post.created_at >= since, Post.deleted_at.is_(None))
             .group_by(User.organization_id).subquery("posts_recent"))
    voted = (select(IdeaOrganization.organization_id.label("id"), func.count().label("n"))
             .where(IdeaOrganization.voters > 0).group_by(IdeaOrganization.organization_id).subquery("voted"))
    attended = (select(User.organization_id.label("id"), func.count(Checkin.id).label("n"))
                .join(User, User.id == Checkin.user_id).group_by(User.organization_id).subquery("attended"))
    zero = literal(0)
    return (
        select(Organization.id.label("organization_id"),
               func.coalesce(members.c.n, zero).label("member_count"),
               func.coalesce(recent.c.n, zero).label("active_members_30d"),
               func.coalesce(posts.c.n, zero).label("posts_30d"),
               func.coalesce(voted.c.n, zero).label("ideas_voted"),
               func.coalesce(attended.c.n, zero).label("event_attendance"),
               active.c.last.label("last_active_at"))
        .outerjoin(members, members.c.id == Organization.id)
        .outerjoin(active, active.c.id == Organization.id)
        .outerjoin(recent, recent.c.id == Organization.id)
        .outerjoin(posts, posts.c.id == Organization.id)
        .outerjoin(voted, voted.c.id == Organization.id)
        .outerjoin(attended, attended.c.id == Organization.id)
    )


def _accounts_query(since: datetime):
    figures = _figures(since).subquery("figures")
    owner = aliased(User, name="owner")
    query = (select(Organization, figures, owner).join(figures, figures.c.organization_id == Organization.id)
             .outerjoin(owner, owner.id == Organization.account_owner_id)
             .options(selectinload(Organization.domain_rows)))
    return query, figures


def _account(row) -> Account:
    return Account(row[0], row.member_count, row.active_members_30d, row.posts_30d, row.ideas_voted,
                   row.event_attendance, _as_datetime(row.last_active_at), account_owner=row[-1])


def _as_datetime(value) -> datetime | None:
    """A time read through a union: SQLite gives it back as naive text, PostgreSQL as naive UTC."""
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    if value is not None and value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value


def _keysets(figures) -> dict[str, Keyset]:
    return {
        "active": Keyset((figures.c.active_members_30d, Organization.id), (int, int),
                         lambda row: (row.active_members_30d, row[0].id)),
        "weight": Keyset((Organization.weight, Organization.id), (float, int), lambda row: (row[0].weight, row[0].id)),
        "name": Keyset((Organization.name_key, Organization.id), (str, int),
                       lambda row: (row[0].name_key, row[0].id), descending=False),
    }


def _require_staff(actor: User | None) -> None:
    if not permissions.can_view_organizations(actor):
        raise Forbidden("Only staff see customer accounts.")


def list_accounts(actor: User | None, *, sort: str | None = None, cursor: str | None = None,
                  limit=None) -> Page[Account]:
    """Organizations with their engagement, by active members (default), name or weight."""
    _require_staff(actor)
    values = check_fields(sort=(check_organization_sort, sort), limit=(check_limit, limit))
    query, figures = _accounts_query(utcnow() - timedelta(days=ACTIVE_DAYS))
    page = _keysets(figures)[values["sort"]].paginate(query, cursor, values["limit"], rows=True)
    return Page([_account(row) for row in page.items], page.next_cursor)


def all_accounts(actor: User | None, *, sort: str | None = None) -> list[Account]:
    """Every organization, for an export: one statement."""
    _require_staff(actor)
    sort = check_organization_sort(sort)
    query, figures = _accounts_query(utcnow() - timedelta(days=ACTIVE_DAYS))
    rows = db.session.execute(query.order_by(*_keysets(figures)[sort].order_by())).all()
    return [_account(row) for row in rows]


def access_account(actor: User | None, organization_id: int) -> Account:
    """One organization with its figures. Members get the same answer for every id as for a
    missing one, so account ids leak nothing."""
    if not permissions.can_view_organizations(actor):
        raise NotFound("No such organization.")
    query, figures = _accounts_query(utcnow() - timedelta(days=ACTIVE_DAYS))
    row = db.session.execute(query.where(Organization.id == organization_id)).one_or_none()
    if row is None:
        raise NotFound("No such organization.")
    return _account(row)


@dataclass
class WantedIdea:
    idea: Idea
    voters: int
    importance: str
    added_by_staff: int  # how many of its voters' votes staff added for them


def wanted_ideas(organization_id: int) -> list[WantedIdea]:
    """The ideas an organization wants, most urgent and most voted first (merged ones count in
    their targets, so they are not here)."""
    proxied = (select(IdeaVote.idea_id, func.count(IdeaVote.id).label("n"))
               .where(IdeaVote.organization_id == organization_id, IdeaVote.cast_by_id.is_not(None))
               .group_by(IdeaVote.idea_id).subquery("proxied"))
    rows = db.session.execute(
        select(IdeaOrganization, Idea, func.coalesce(proxied.c.n, 0))
        .join(Idea, Idea.id == IdeaOrganization.idea_id)
        .outerjoin(proxied, proxied.c.idea_id == Idea.id)
        .where(IdeaOrganization.organization_id == organization_id, IdeaOrganization.voters > 0)
        .order_by(ideas.importance_factor_clause().desc(), IdeaOrganization.voters.desc(), Idea.id.desc())
    ).all()
    return [WantedIdea(row[1], row[0].voters, row[0].importance, row[2]) for row in rows]


def account_members(organization_id: int, since: datetime) -> list:
    """Members with their posts in the active window and last activity (one statement)."""
    activity = _activity()
    last = (select(activity.c.user_id, func.max(activity.c.at).label("last"))
            .group_by(activity.c.user_id).subquery("last_activity"))
    recent_posts = (select(Post.author_id, func.count(Post.id).label("n"))
                    .where(Post.created_at >= since, Post.deleted_at.is_(None))
                    .group_by(Post.author_id).subquery("recent_posts"))
    rows = db.session.execute(
        select(User, func.coalesce(recent_posts.c.n, 0), last.c.last)
        .outerjoin(last, last.c.user_id == User.id)
        .outerjoin(recent_posts, recent_posts.c.author_id == User.id)
        .where(User.organization_id == organization_id)
        .order_by(User.display_name, User.id)
    ).all()
    return [(user, posts, _as_datetime(at)) for user, posts, at in rows]


def recent_threads(actor: User, organization_id: int) -> list[Thread]:
    """The latest threads the organization's members started (ideas' threads included)."""
    return list(db.session.scalars(
        select(Thread).join(Thread.category).join(User, User.id == Thread.author_id)
        .where(User.organization_id == organization_id, permissions.readable_threads_clause(actor))
        .order_by(Thread.id.desc()).limit(RECENT_THREADS)
    ))


def recent_votes(organization_id: int) -> list:
    """The organization's latest votes: (vote, idea title, voter, who added it for them)."""
    voter, cast_by = aliased(User), aliased(User)
    return db.session.execute(
        select(IdeaVote, Thread.title, voter, cast_by)
        .join(Idea, Idea.id == IdeaVote.idea_id).join(Thread, Thread.id == Idea.thread_id)
        .join(voter, voter.id == IdeaVote.user_id).outerjoin(cast_by, cast_by.id == IdeaVote.cast_by_id)
        .where(IdeaVote.organization_id == organization_id)
        .order_by(IdeaVote.id.desc()).limit(RECENT_VOTES)
    ).all()


def attendance(organization_id: int) -> list:
    """The events the organization's members checked in to: (event, how many of them)."""
    return db.session.execute(
        select(Event, func.count(Checkin.id)).join(Checkin, Checkin.event_id == Event.id)
        .join(User, User.id == Checkin.user_id).where(User.organization_id == organization_id)
        .group_by(Event.id).order_by(Event.starts_at.desc())
    ).all()


def _week_number(column, start: datetime):
    """Whole weeks from `start` to the column's time, in SQL on either database."""
    if db.session.get_bind().dialect.name == "postgresql":
        days = func.extract("epoch", column - literal(start)) / 86400
    else:
        days = func.julianday(column) - func.julianday(literal(start.replace(tzinfo=None).isoformat(" ")))
    return cast(func.floor(cast(days, Float) / 7), String)


def weekly_activity(organization_id: int, now: datetime | None = None) -> list[dict]:
    """Posts, own votes and check-ins of the organization's members per week over the last year,
    oldest week first: one grouped statement."""
    now = now or utcnow()
    start = now - timedelta(weeks=ACTIVITY_WEEKS)
    sources = {
        "posts": select(Post.created_at.label("at")).join(User, User.id == Post.author_id)
        .where(User.organization_id == organization_id, Post.deleted_at.is_(None)),
        "votes": select(IdeaVote.created_at.label("at")).join(User, User.id == IdeaVote.user_id)
        .where(User.organization_id == organization_id, IdeaVote.cast_by_id.is_(None)),
        "checkins": select(Checkin.checked_in_at.label("at")).join(User, User.id == Checkin.user_id)
        .where(User.organization_id == organization_id),
    }
    rows = union_all(*[
        select(literal(kind).label("kind"), query.subquery().c.at) for kind, query in sources.items()
    ]).subquery("happenings")
    week = _week_number(rows.c.at, start).label("week")
    counts = db.session.execute(
        select(rows.c.kind, week, func.count()).where(rows.c.at >= start).group_by(rows.c.kind, week)
    ).all()
    weeks = [{"starts": start + timedelta(weeks=i), "posts": 0, "votes": 0, "checkins": 0}
             for i in range(ACTIVITY_WEEKS)]
    for kind, number, count in counts:
        index = int(float(number))
        if 0 <= index < ACTIVITY_WEEKS:
            weeks[index][kind] += count
    return weeks


def access_account_page(actor: User | None, organization_id: int) -> Account:
    """An organization with its members and the ideas it wants."""
    account = access_account(actor, organization_id)
    account.members = account_members(account.id, utcnow() - timedelta(days=ACTIVE_DAYS))
    account.ideas = wanted_ideas(account.id)
    return account


# Changes


def _reweigh(organization: Organization) -> None:
    """Recompute the demand of every idea the organization wants, after its weight changed; call
    with the organization locked (its change of weight locks it). The ideas are locked in id order
    too, as votes lock them, so no vote's demand is computed from the old weight."""
    wanted = select(IdeaOrganization.idea_id).where(IdeaOrganization.organization_id == organization.id)
    idea_ids = list(db.session.scalars(
        select(Idea.id).where(Idea.id.in_(wanted)).order_by(Idea.id).with_for_update()))
    ideas.refresh_demand(*idea_ids)


def do_update_organization(actor: User, organization_id: int, changes: dict) -> Account:
    """Change an organization's email domains, tier, weight, CRM id or account owner (admins
    only), all in one transaction; logged in the audit log, and a new weight reweighs the
    organization's ideas at once."""
    if not permissions.can_edit_organization(actor):
        if permissions.can_view_organizations(actor):
            raise Forbidden("Only admins change customer accounts.")
        raise NotFound("No such organization.")
    organization = db.session.get(Organization, organization_id)
    if organization is None:
        raise NotFound("No such organization.")
    checks = {"domains": accounts.check_domains, "tier": check_tier, "weight": check_weight,
              "crm_id": check_crm_id, "account_owner_id": check_account_owner}
    values = check_fields(**{name: (checks[name], value) for name, value in changes.items() if name in checks})
    if "domains" in values:
        accounts.set_organization_domains(actor, organization, values.pop("domains"))
    apply_changes(actor, organization, values)
    events.commit()
    return access_account(actor, organization.id)


def apply_changes(actor: User | None, organization: Organization, values: dict) -> dict:
    """Set checked values on an organization inside the caller's transaction: logs what changed
    (before and after) and reweighs its ideas when the weight moved. Returns what changed."""
    if "account_owner_id" in values:
        owner = values["account_owner_id"]
        values["account_owner_id"] = owner.id if owner is not None else None
    changed = {name: value for name, value in values.items() if getattr(organization, name) != value}
    if not changed:
        return {}
    before = {name: getattr(organization, name) for name in changed}
    if "weight" in changed:
        db.session.execute(update(Organization).where(Organization.id == organization.id)
                           .values(weight=changed["weight"]).execution_options(synchronize_session=False))
    for name, value in changed.items():
        setattr(organization, name, value)
    db.session.flush()
    if "weight" in changed:
        _reweigh(organization)
    audit.record(actor, "organization.update", "organization", organization.id, before=before, after=changed)
    return changed


def staff_members() -> list[User]:
    """Who may own an account: moderators and admins, by name."""
    return list(db.session.scalars(select(User).where(permissions.staff_clause(utcnow()))
                                   .order_by(User.display_name, User.id)))
