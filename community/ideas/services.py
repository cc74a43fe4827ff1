"""The ideas board: posting ideas, voting, official answers, merging duplicates, finding ideas.

Every idea owns a thread in the board category (found or created with the first idea), so who
may read an idea, comment on it or moderate its comments is decided by the thread rules.
Reads go through `access_*`/`list_*`, writes through `do_*`, which check the policy, change the
data and announce what happened.
"""
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import case, delete, exists, func, insert, literal, select, union, update
from sqlalchemy.orm import aliased, contains_eager

from .. import events, permissions
from ..accounts import services as accounts
from ..accounts.models import Organization, Role, User
from ..accounts.services import check_not_silenced
from ..database import db, dialect_insert, utcnow
from ..errors import Conflict, Forbidden, NotFound, ValidationFailed, check_fields
from ..markdown import plain_text, render_markdown
from ..moderation import audit
from ..notifications import subscriptions
from ..notifications.services import notify
from ..pagination import Keyset, Page, check_limit
from ..tags import check_tags
from ..threads import services as threads
from ..threads.models import Category, Post, Thread
from ..validation import check_text
from .models import (
    ANSWER_STATUSES,
    IMPORTANCE_FACTORS,
    STATUS_LABELS,
    Idea,
    IdeaOrganization,
    IdeaStatus,
    IdeaTag,
    IdeaVote,
    Importance,
    status_label,
)

BOARD_PURPOSE = "ideas"
BOARD_NAMES = ("Ideas", "Ideas board")  # the second when an ordinary category took the first
BOARD_DESCRIPTION = "The discussion of each idea on the ideas board."
IDEA_SORTS = ("top", "trending", "new", "organizations", "demand")
STAFF_SORTS = frozenset({"demand"})  # weights are the vendor's: members may not even rank by them
MAX_TAGS = 10
MAX_NOTE_LENGTH = 10_000
MAX_PROXY_REASON = 500
ROADMAP_SIZE = 20

# Trending: a vote adds a weight that doubles every half-life of its casting time. Comparing two
# scores at any moment is then comparing sums in which every vote counts half as much per
# half-life of age, so old votes fade without anything ever being rescored. Doubles overflow
# about 39 years after the epoch; multiplying every score by one constant moves the epoch
# forward without changing any order.
TRENDING_EPOCH = datetime(2025, 1, 1, tzinfo=UTC)
TRENDING_HALF_LIFE = timedelta(days=14)

IDEA_KEYSETS = {
    "top": Keyset((Idea.vote_count, Idea.id), (int, int), lambda i: (i.vote_count, i.id)),
    "trending": Keyset((Idea.trending_score, Idea.id), (float, int), lambda i: (i.trending_score, i.id)),
    "new": Keyset((Idea.id,), (int,), lambda i: (i.id,)),
    "organizations": Keyset((Idea.voter_org_count, Idea.id), (int, int), lambda i: (i.voter_org_count, i.id)),
    "demand": Keyset((Idea.demand_score, Idea.id), (float, int), lambda i: (i.demand_score, i.id)),
}
CHANGELOG_KEYSET = Keyset(
    (Idea.status_changed_at, Idea.id), (datetime, int), lambda i: (i.status_changed_at, i.id)
)


@dataclass(frozen=True)
class VoteState:
    vote_count: int
    voter_org_count: int
    has_voted: bool
    change: str | None = None  # what a vote on a member's behalf did: added, removed, importance or None


IMPORTANCE_LABELS = {Importance.NICE_TO_HAVE: "Nice to have", Importance.IMPORTANT: "Important",
                     Importance.CRITICAL: "Critical"}


def importance_label(importance: str) -> str:
    return IMPORTANCE_LABELS.get(importance, importance)


def vote_weight(cast_at: datetime) -> float:
    """What one vote cast at `cast_at` adds to its idea's trending score."""
    return 2.0 ** ((cast_at - TRENDING_EPOCH) / TRENDING_HALF_LIFE)


# Checks


def check_sort(sort: str | None) -> str:
    sort = sort or "top"
    if sort not in IDEA_SORTS:
        raise ValidationFailed({"sort": "Sort by " + ", ".join(IDEA_SORTS) + "."})
    return sort


def sorts_for(actor: User | None) -> tuple[str, ...]:
    """The board's sorts this actor may use."""
    return tuple(sort for sort in IDEA_SORTS if sort not in STAFF_SORTS or permissions.can_see_demand(actor))


def check_proxy_reason(reason: str | None) -> str:
    reason = " ".join((reason or "").split()) if isinstance(reason, str) else ""
    if len(reason) > MAX_PROXY_REASON:
        raise ValidationFailed({"reason": f"Use at most {MAX_PROXY_REASON} characters."})
    return reason


def check_status_filter(status: str | None) -> str | None:
    if not status:
        return None
    if status not in STATUS_LABELS:
        raise ValidationFailed({"status": "Not a status: use " + ", ".join(STATUS_LABELS) + "."})
    return status


def check_tag_filter(tag: str | None) -> str | None:
    tags = check_tags([tag or ""], field="tag", label="tag", max_count=1)
    return tags[0] if tags else None


def check_idea_tags(tags) -> list[str]:
    return check_tags(tags, field="tags", label="tag", max_count=MAX_TAGS)


def check_answer_status(status: str | None) -> str:
    if status == IdeaStatus.MERGED:
        raise ValidationFailed({"status": "Merge the idea into another instead."})
    if status not in ANSWER_STATUSES:
        raise ValidationFailed({"status": "Choose " + ", ".join(ANSWER_STATUSES) + "."})
    return status


def check_note(note: str | None) -> str:
    return check_text("note", note if isinstance(note, str) else None, max_length=MAX_NOTE_LENGTH, required=True,
                      multiline=True, missing="Explain the status to the voters: the note is the official answer.")


# The board category


def find_board() -> Category | None:
    return db.session.scalar(select(Category).where(Category.purpose == BOARD_PURPOSE))


def find_or_create_board() -> Category:
    """The ideas board category; call inside the transaction of the idea that needs it.

    Two first ideas at once both insert; the unique purpose lets one row through.
    """
    board = find_board()
    if board is not None:
        return board
    taken = set(db.session.scalars(
        select(func.lower(Category.name)).where(func.lower(Category.name).in_([n.lower() for n in BOARD_NAMES]))
    ))
    name = next((name for name in BOARD_NAMES if name.lower() not in taken), None)
    if name is not None:
        position = (db.session.scalar(select(func.max(Category.position))) or 0) + 1
        db.session.execute(
            dialect_insert(Category).values(name=name, description=BOARD_DESCRIPTION, position=position,
                                     staff_only=False, purpose=BOARD_PURPOSE, created_at=utcnow())
            .on_conflict_do_nothing()
        )
        board = find_board()
    if board is None:
        raise Conflict(f"Categories named {' and '.join(BOARD_NAMES)} exist: rename one to open the ideas board.",
                       code="board_unavailable")
    return board


# Reads


def _readable_ideas():
    """Ideas with their threads and categories loaded, ready for a readability clause."""
    return (
        select(Idea).join(Idea.thread).join(Thread.category)
        .options(contains_eager(Idea.thread).contains_eager(Thread.category))
    )


def readable_idea(actor: User | None, idea_id: int) -> Idea:
    idea = db.session.get(Idea, idea_id)
    if idea is None or not permissions.can_read_idea(actor, idea):
        raise NotFound("No such idea.")
    return idea


def for_viewer(actor: User | None, ideas: list[Idea]) -> list[Idea]:
    """Mark what depends on who looks: `has_voted` with `my_importance` and `vote_cast_by` (the
    staff member who added the vote on the viewer's behalf), `subscription` (the viewer's watch or
    mute of the idea's thread), and for staff `organization_names`. A merged idea counts nothing
    for anyone: its votes count in the idea it was merged into.

    One query each, whatever the number of ideas.
    """
    ids = [idea.id for idea in ideas]
    if not ids or actor is None:
        return ideas
    mark_own_state(actor, ideas)
    if permissions.can_see_idea_organizations(actor):
        names = {idea_id: [] for idea_id in ids}
        rows = db.session.execute(
            select(IdeaOrganization.idea_id, Organization.name)
            .join(Organization, Organization.id == IdeaOrganization.organization_id)
            .where(IdeaOrganization.idea_id.in_(ids), IdeaOrganization.voters > 0)
            .order_by(Organization.name)
        )
        for idea_id, name in rows:
            names[idea_id].append(name)
        for idea in ideas:
            idea.organization_names = names[idea.id]
    return ideas


def mark_own_state(actor: User, ideas) -> None:
    """Set the viewer's own `has_voted`, `my_importance`, `vote_cast_by` and `subscription` on
    each idea (anything with an idea's `id`, `thread_id` and `status`), in two queries."""
    cast_by = aliased(User)
    votes = {row.idea_id: row for row in db.session.execute(
        select(IdeaVote.idea_id, IdeaVote.importance, cast_by)
        .outerjoin(cast_by, cast_by.id == IdeaVote.cast_by_id)
        .where(IdeaVote.user_id == actor.id, IdeaVote.idea_id.in_([idea.id for idea in ideas]))
    )}
    levels = subscriptions.levels_of(actor, [idea.thread_id for idea in ideas])
    for idea in ideas:
        vote = votes.get(idea.id) if idea.status != IdeaStatus.MERGED else None
        idea.has_voted = vote is not None
        idea.my_importance = vote.importance if vote else None
        idea.vote_cast_by = vote[2] if vote else None
        idea.subscription = levels.get(idea.thread_id)


def access_idea(actor: User | None, idea_id: int) -> Idea:
    return for_viewer(actor, [readable_idea(actor, idea_id)])[0]


def access_idea_of_thread(actor: User | None, thread_id: int) -> Idea:
    thread = threads.access_thread(actor, thread_id)
    idea = db.session.scalar(select(Idea).where(Idea.thread_id == thread.id))
    if idea is None:
        raise NotFound("No such idea.")
    return for_viewer(actor, [idea])[0]


def list_ideas(actor: User | None, *, status: str | None = None, sort: str | None = None,
               tag: str | None = None, cursor: str | None = None, limit=None) -> Page[Idea]:
    """Ideas the actor may read, by votes, trending votes, newest, organizations or (staff only)
    demand. Merged ideas show only when asked for by status: their votes count in the idea they
    were merged into."""
    values = check_fields(sort=(check_sort, sort), status=(check_status_filter, status),
                          tag=(check_tag_filter, tag), limit=(check_limit, limit))
    if values["sort"] in STAFF_SORTS and not permissions.can_see_demand(actor):
        raise Forbidden("Only staff sort ideas by demand.", code="staff_only_sort")
    query = _readable_ideas().where(permissions.readable_categories_clause(actor))
    # The status goes into the SQL as written, not bound: most ideas share a few statuses, and
    # the plan PostgreSQL keeps for a prepared statement, made for any status, reads them all.
    status = literal(values["status"] or IdeaStatus.MERGED.value, Idea.status.type, literal_execute=True)
    query = query.where(Idea.status == status if values["status"] else Idea.status != status)
    if values["tag"]:
        query = query.where(exists().where(IdeaTag.idea_id == Idea.id, IdeaTag.tag == values["tag"]))
    page = IDEA_KEYSETS[values["sort"]].paginate(query, cursor, values["limit"])
    for_viewer(actor, page.items)
    return page


@dataclass(frozen=True)
class Demand:
    """One organization's demand for an idea."""

    organization: Organization
    voters: int
    importance: str
    weight: float
    demand: float


def _demand_keyset() -> Keyset:
    return Keyset((demand_clause(), Organization.id), (float, int), lambda row: (row.demand, row[1].id))


def list_demand(actor: User | None, idea_id: int, *, cursor: str | None = None, limit=None) -> Page[Demand]:
    """The organizations that want an idea, the biggest demand (weight times importance) first."""
    idea = readable_idea(actor, idea_id)
    if not permissions.can_see_demand(actor):
        raise Forbidden("Only staff see which organizations want an idea, and their weight.")
    query = (select(IdeaOrganization, Organization, demand_clause().label("demand"))
             .join(Organization, Organization.id == IdeaOrganization.organization_id)
             .where(IdeaOrganization.idea_id == idea.id, IdeaOrganization.voters > 0))
    page = _demand_keyset().paginate(query, cursor, check_limit(limit), rows=True)
    return Page([Demand(row[1], row[0].voters, row[0].importance, row[1].weight, row.demand) for row in page.items],
                page.next_cursor)


def list_changelog(actor: User | None, *, cursor: str | None = None, limit=None) -> Page[Idea]:
    """Shipped ideas, the most recently shipped first."""
    query = _readable_ideas().where(permissions.readable_categories_clause(actor),
                                    Idea.status == IdeaStatus.SHIPPED)
    page = CHANGELOG_KEYSET.paginate(query, cursor, check_limit(limit))
    for_viewer(actor, page.items)
    return page


def roadmap(actor: User | None) -> dict[str, list[Idea]]:
    """The roadmap's columns: planned and in progress by votes, shipped newest first."""
    return {
        IdeaStatus.PLANNED: list_ideas(actor, status=IdeaStatus.PLANNED, limit=ROADMAP_SIZE).items,
        IdeaStatus.IN_PROGRESS: list_ideas(actor, status=IdeaStatus.IN_PROGRESS, limit=ROADMAP_SIZE).items,
        IdeaStatus.SHIPPED: list_changelog(actor, limit=ROADMAP_SIZE).items,
    }


def list_comments(actor: User | None, idea_id: int, *, cursor: str | None = None, limit=None) -> Page[Post]:
    """The idea's discussion, oldest first: its thread's posts after the description, and the
    threads of the ideas merged into it (and into those), descriptions included."""
    idea = readable_idea(actor, idea_id)
    merged = select(Idea.id, Idea.thread_id).where(Idea.id == idea.id).cte("merged_ideas", recursive=True)
    merged = merged.union_all(select(Idea.id, Idea.thread_id).where(Idea.merged_into_id == merged.c.id))
    query = (
        select(Post).join(Post.thread).join(Thread.category)
        .options(contains_eager(Post.thread).contains_eager(Thread.category))
        .where(Post.thread_id.in_(select(merged.c.thread_id)), Post.id != idea.post_id,
               permissions.readable_categories_clause(actor), permissions.readable_posts_clause(actor))
    )
    return threads.POST_KEYSET.paginate(query, cursor, check_limit(limit))


def _followers(idea: Idea) -> list[User]:
    """Who hears about an idea: its voters, its author, everyone who commented on it and whoever
    watches it or the board, less those who muted it (or the board)."""
    voters = select(IdeaVote.user_id).where(IdeaVote.idea_id == idea.id)
    commenters = select(Post.author_id).where(Post.thread_id == idea.thread_id)
    return subscriptions.audience(idea.thread, also=union(voters, commenters))


def do_set_subscription(actor: User, idea_id: int, level: str | None) -> Idea:
    """Watch or mute an idea (that is, its discussion thread), or with None forget the choice."""
    idea = readable_idea(actor, idea_id)
    subscriptions.set_level(actor, level, thread=idea.thread)
    events.commit()
    return access_idea(actor, idea.id)


# Votes


def check_importance(importance: str | None) -> str | None:
    """None keeps a vote's importance as it is (a new vote would like the idea)."""
    if importance is None or importance == "":
        return None
    try:
        return Importance(importance).value
    except ValueError:
        raise ValidationFailed({"importance": "Choose " + ", ".join(Importance) + "."}) from None


def lock_organizations(*organization_ids: int | None) -> None:
    """Share-lock the voters' organizations until commit, always before any idea: a change of an
    organization's weight (which locks it exclusively, then its ideas) waits for these votes, and
    votes wait for it, so every demand score is computed from the weight that ends up committed."""
    ids = sorted({organization_id for organization_id in organization_ids if organization_id is not None})
    if ids:
        db.session.execute(select(Organization.id).where(Organization.id.in_(ids)).order_by(Organization.id)
                           .with_for_update(read=True))


def lock_ideas(*ideas: Idea) -> None:
    """Lock the ideas' rows until commit and reload them: votes, answers and merges of one idea
    take turns, so no counter or closed-check interleaves (SQLite serialises writers anyway).
    Always in id order, so two merges cannot deadlock."""
    ids = sorted(idea.id for idea in ideas)
    db.session.execute(select(Idea.id).where(Idea.id.in_(ids)).order_by(Idea.id).with_for_update())
    for idea in ideas:
        db.session.refresh(idea)


_LEVEL_COLUMNS = {Importance.IMPORTANT: "important_voters", Importance.CRITICAL: "critical_voters"}


def _level_steps(importance: str, step: int) -> dict:
    column = _LEVEL_COLUMNS.get(importance)
    return {column: getattr(IdeaOrganization, column) + step} if column else {}


def _tally(idea_id: int, organization_id: int, step: int, importance: str) -> int:
    """Move one organization's voter tally for an idea by `step` (and that of the vote's importance
    level); returns the new tally."""
    if step > 0:
        levels = {_LEVEL_COLUMNS[importance]: 1} if importance in _LEVEL_COLUMNS else {}
        statement = dialect_insert(IdeaOrganization).values(idea_id=idea_id, organization_id=organization_id,
                                                             voters=1, **levels)
        statement = statement.on_conflict_do_update(
            index_elements=["idea_id", "organization_id"],
            set_={"voters": IdeaOrganization.voters + 1, **_level_steps(importance, +1)})
    else:
        statement = (
            update(IdeaOrganization)
            .where(IdeaOrganization.idea_id == idea_id, IdeaOrganization.organization_id == organization_id)
            .values(voters=IdeaOrganization.voters - 1, **_level_steps(importance, -1))
            .execution_options(synchronize_session=False)
        )
    return db.session.scalar(statement.returning(IdeaOrganization.voters))


def _retally_importance(idea_id: int, organization_id: int, before: str, after: str) -> None:
    steps = {**_level_steps(before, -1), **_level_steps(after, +1)}
    if steps:
        db.session.execute(
            update(IdeaOrganization)
            .where(IdeaOrganization.idea_id == idea_id, IdeaOrganization.organization_id == organization_id)
            .values(**steps).execution_options(synchronize_session=False)
        )


def importance_factor_clause():
    """SQL twin of IMPORTANCE_FACTORS applied to an IdeaOrganization tally's importance."""
    return case((IdeaOrganization.critical_voters > 0, IMPORTANCE_FACTORS[Importance.CRITICAL]),
                (IdeaOrganization.important_voters > 0, IMPORTANCE_FACTORS[Importance.IMPORTANT]),
                else_=IMPORTANCE_FACTORS[Importance.NICE_TO_HAVE])


def demand_clause():
    """What one organization's tally adds to its idea's demand; the query must join Organization."""
    return Organization.weight * importance_factor_clause()


def _demand_of(idea_column):
    """The demand of an idea, summed over its organizations' tallies: a few rows per idea, read
    only when a vote, a merge or a reweight changed them, never for a list."""
    return func.coalesce(
        select(func.sum(demand_clause())).select_from(IdeaOrganization)
        .join(Organization, Organization.id == IdeaOrganization.organization_id)
        .where(IdeaOrganization.idea_id == idea_column, IdeaOrganization.voters > 0)
        .scalar_subquery(), 0.0)


def refresh_demand(*idea_ids: int) -> None:
    """Recompute the demand of ideas whose tallies or organizations' weights changed; call with
    their rows locked (`lock_ideas`), so the sum reads every committed tally of them."""
    if idea_ids:
        db.session.execute(update(Idea).where(Idea.id.in_(idea_ids)).values(demand_score=_demand_of(Idea.id))
                           .execution_options(synchronize_session=False))


def _move_counters(idea_id: int, votes: int, organizations: int, score: float) -> VoteState:
    """Counters move in SQL, so simultaneous votes never overwrite each other's increment."""
    row = db.session.execute(
        update(Idea).where(Idea.id == idea_id)
        .values(vote_count=Idea.vote_count + votes, voter_org_count=Idea.voter_org_count + organizations,
                trending_score=Idea.trending_score + score)
        .returning(Idea.vote_count, Idea.voter_org_count)
        .execution_options(synchronize_session=False)
    ).one()
    return VoteState(row.vote_count, row.voter_org_count, has_voted=votes > 0)


def voting_organization_id(voter: User) -> int | None:
    """The organization a vote of `voter` counts for: none for staff (the vendor is no customer)."""
    return voter.organization_id if voter.role == Role.MEMBER else None


def _add_vote(voter: User, idea: Idea, importance: str | None = None, cast_by: User | None = None) -> VoteState | None:
    """Vote inside the current transaction (the voter's organization and the idea locked); None
    when nothing changed. A second vote with another importance changes the importance only."""
    now, organization_id = utcnow(), voting_organization_id(voter)
    vote_id = db.session.scalar(
        dialect_insert(IdeaVote)
        .values(idea_id=idea.id, user_id=voter.id, organization_id=organization_id, created_at=now,
                importance=importance or Importance.NICE_TO_HAVE, cast_by_id=cast_by.id if cast_by else None)
        .on_conflict_do_nothing(index_elements=["idea_id", "user_id"])
        .returning(IdeaVote.id)
    )
    if vote_id is None:
        return _change_importance(voter, idea, importance)
    first_of_organization = (organization_id is not None
                             and _tally(idea.id, organization_id, +1, importance or Importance.NICE_TO_HAVE) == 1)
    state = _move_counters(idea.id, +1, int(first_of_organization), vote_weight(now))
    refresh_demand(idea.id)
    return state


def _change_importance(voter: User, idea: Idea, importance: str | None) -> VoteState | None:
    vote = db.session.scalar(select(IdeaVote).where(IdeaVote.idea_id == idea.id, IdeaVote.user_id == voter.id))
    if importance is None or vote is None or vote.importance == importance:
        return None
    before, vote.importance = vote.importance, importance
    if vote.organization_id is not None:
        _retally_importance(idea.id, vote.organization_id, before, importance)
        refresh_demand(idea.id)
    db.session.flush()
    return VoteState(idea.vote_count, idea.voter_org_count, has_voted=True)


def _remove_vote(voter: User, idea: Idea) -> VoteState | None:
    """Withdraw the vote inside the current transaction; None when there was none."""
    vote = db.session.execute(
        delete(IdeaVote).where(IdeaVote.idea_id == idea.id, IdeaVote.user_id == voter.id)
        .returning(IdeaVote.organization_id, IdeaVote.created_at, IdeaVote.importance)
        .execution_options(synchronize_session=False)
    ).one_or_none()
    if vote is None:
        return None
    last_of_organization = (vote.organization_id is not None
                            and _tally(idea.id, vote.organization_id, -1, vote.importance) == 0)
    state = _move_counters(idea.id, -1, -int(last_of_organization), -vote_weight(vote.created_at))
    refresh_demand(idea.id)
    return state


def _set_vote(voter: User, idea: Idea, voted: bool, importance: str | None, cast_by: User | None = None):
    """Add or withdraw `voter`'s vote with the organization and the idea locked; announces a change.
    Returns (the vote state, whether anything changed)."""
    lock_organizations(voting_organization_id(voter))
    lock_ideas(idea)
    permissions.ensure(permissions.idea_closed_to_votes(idea))
    state = _add_vote(voter, idea, importance, cast_by) if voted else _remove_vote(voter, idea)
    if state is None:
        return VoteState(idea.vote_count, idea.voter_org_count, has_voted=voted), False
    events.announce(events.idea_vote_changed, idea=idea, vote_count=state.vote_count,
                    voter_org_count=state.voter_org_count)
    return state, True


def do_vote(actor: User, idea_id: int, voted: bool, importance: str | None = None) -> VoteState:
    """Vote for an idea (`voted` True), optionally saying how important it is, or withdraw the vote
    (False). Idempotent: asking for the state that already holds changes and announces nothing."""
    idea = readable_idea(actor, idea_id)
    permissions.ensure(permissions.refusal_to_vote(actor, idea))
    importance = check_importance(importance)
    state, _ = _set_vote(actor, idea, voted, importance)
    events.commit()
    return state


def find_member(text: str | None) -> User:
    """A member named by email or @handle, as staff type them into a form."""
    text = (text or "").strip()
    member = None
    if "@" in text[1:]:
        member = accounts.find_user_by_email(text)
    elif text:
        found = accounts.find_users_by_handle([text.lstrip("@").lower()])
        member = found[0] if found else None
    if member is None:
        raise ValidationFailed({"member": "Nobody has that email or @handle."})
    return member


def _access_voter(actor: User, idea: Idea, user_id: int) -> User:
    """The customer member a staff member votes for: one who may read the idea."""
    member = db.session.get(User, user_id)
    if member is None or not permissions.can_read_idea(member, idea):
        raise NotFound("No such member (or not one who may read this idea).")
    if member.role != Role.MEMBER:
        raise Conflict("Votes on someone's behalf are for customer members; staff vote themselves.",
                       code="not_a_customer")
    return member


def do_vote_for(actor: User, idea_id: int, user_id: int, voted: bool, importance: str | None = None,
                reason: str | None = None) -> VoteState:
    """Staff add (or withdraw) a customer member's vote on their behalf, e.g. after a call: it counts
    exactly like the member's own, records who cast it, is audit-logged and tells the member."""
    idea = readable_idea(actor, idea_id)
    permissions.ensure(permissions.refusal_to_vote_for_members(actor, idea))
    member = _access_voter(actor, idea, user_id)
    values = check_fields(importance=(check_importance, importance), reason=(check_proxy_reason, reason))
    had_voted = db.session.scalar(select(IdeaVote.id).where(IdeaVote.idea_id == idea.id,
                                                            IdeaVote.user_id == member.id)) is not None
    state, changed = _set_vote(member, idea, voted, values["importance"], cast_by=actor)
    change = None
    if changed:
        change = "importance" if voted and had_voted else "added" if voted else "removed"
        importance = values["importance"] or Importance.NICE_TO_HAVE
        audit.record(actor, f"idea.vote_{change}", "idea", idea.id, category_id=idea.thread.category_id,
                     reason=values["reason"], after={"member_id": member.id, "member": member.display_name,
                                                     "importance": importance if voted else None})
        text = {"added": f'{actor.display_name} added your vote for "{idea.title}" ({importance_label(importance)})',
                "importance": f'{actor.display_name} marked your vote for "{idea.title}" as '
                              f"{importance_label(importance).lower()}",
                "removed": f'{actor.display_name} withdrew your vote for "{idea.title}"'}[change]
        notify([member], "idea_vote_by_staff", actor=actor, thread=idea.thread, idea_id=idea.id,
               text=text + (f": {values['reason']}" if values["reason"] else "."))
    events.commit()
    return VoteState(state.vote_count, state.voter_org_count, has_voted=voted, change=change)


# Writes


def do_create_idea(actor: User, title: str | None, body: str | None, tags=None) -> Idea:
    """Post an idea, which starts its discussion thread and votes for it."""
    check_not_silenced(actor)
    if not permissions.can_post_idea(actor, find_board()):
        raise Forbidden("You may not post ideas.")
    values = check_fields(title=(threads.check_title, title), body=(threads.check_body, body),
                          tags=(check_idea_tags, tags))
    thread, post = threads.add_thread(actor, find_or_create_board(), values["title"], values["body"])
    idea = Idea(thread=thread, post=post, created_at=thread.created_at, status_changed_at=thread.created_at,
                tag_rows=[IdeaTag(tag=tag) for tag in values["tags"]])
    db.session.add(idea)
    db.session.flush()
    _add_vote(actor, idea)
    events.announce(events.idea_created, idea=idea)
    events.commit()
    return access_idea(actor, idea.id)


def do_change_status(actor: User, idea_id: int, status: str | None, note: str | None) -> Idea:
    """Set an idea's status with an official answer; voters and followers are notified."""
    idea = readable_idea(actor, idea_id)
    lock_ideas(idea)
    permissions.ensure(permissions.refusal_to_change_idea_status(actor, idea))
    values = check_fields(status=(check_answer_status, status), note=(check_note, note))
    if (values["status"], values["note"]) != (idea.status, idea.answer_note):
        audit.record(actor, "idea.status" if values["status"] != idea.status else "idea.answer", "idea", idea.id,
                     category_id=idea.thread.category_id,
                     before={"status": idea.status, "answer": idea.answer_note},
                     after={"status": values["status"], "answer": values["note"]})
        now = utcnow()
        if values["status"] != idea.status:
            idea.status_changed_at = now
        idea.status = values["status"]
        idea.answer_note, idea.answer_html = values["note"], render_markdown(values["note"])
        idea.answer_status, idea.answered_by_id, idea.answered_at = values["status"], actor.id, now
        answer = plain_text(values["note"])  # a notification quotes the answer as text
        notify(_followers(idea), "idea_status", actor=actor, thread=idea.thread, idea_id=idea.id,
               text=f'{actor.display_name} set "{idea.title}" to {status_label(idea.status)}: {answer}')
        events.announce(events.idea_status_changed, idea=idea, status=idea.status, note=idea.answer_note)
    events.commit()
    return access_idea(actor, idea.id)




def recount(idea: Idea) -> VoteState:
    """Rebuild an idea's counters and organization tallies from its votes, after a merge or an
    unmerge moved many at once; call with the idea and its voters' organizations locked. The vote
    rows decide, so an unmerge gives back the same counts. A merged idea counts nothing: the votes
    left on it are those of members who also voted for its target, kept for an unmerge."""
    votes = [] if idea.status == IdeaStatus.MERGED else db.session.execute(
        select(IdeaVote.organization_id, IdeaVote.created_at, IdeaVote.importance)
        .where(IdeaVote.idea_id == idea.id).order_by(IdeaVote.id)
    ).all()
    tallies: dict[int, dict] = {}
    for vote in votes:
        if vote.organization_id is not None:
            tally = tallies.setdefault(vote.organization_id, {
                "idea_id": idea.id, "organization_id": vote.organization_id,
                "voters": 0, "important_voters": 0, "critical_voters": 0})
            tally["voters"] += 1
            if vote.importance in _LEVEL_COLUMNS:
                tally[_LEVEL_COLUMNS[vote.importance]] += 1
    db.session.execute(delete(IdeaOrganization).where(IdeaOrganization.idea_id == idea.id)
                       .execution_options(synchronize_session=False))
    if tallies:
        db.session.execute(insert(IdeaOrganization.__table__), list(tallies.values()))
    db.session.execute(
        update(Idea).where(Idea.id == idea.id)
        .values(vote_count=len(votes), voter_org_count=len(tallies),
                trending_score=sum(vote_weight(vote.created_at) for vote in votes))
        .execution_options(synchronize_session=False)
    )
    refresh_demand(idea.id)
    state = VoteState(len(votes), len(tallies), has_voted=False)
    events.announce(events.idea_vote_changed, idea=idea, vote_count=state.vote_count,
                    voter_org_count=state.voter_org_count)
    return state
