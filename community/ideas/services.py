"""The ideas board: posting ideas, voting, official answers, merging duplicates, finding ideas.

Every idea owns a thread in the board category (found or created with the first idea), so who
may read an idea, comment on it or moderate its comments is decided by the thread rules.
Reads go through `access_*`/`list_*`, writes through `do_*`, which check the policy, change the
data and announce what happened.
"""
from collections import Counter
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import delete, exists, func, insert, literal, select, union, update
from sqlalchemy.orm import contains_eager

from .. import events, permissions
from ..accounts.models import Organization, Role, User
from ..accounts.services import check_not_silenced
from ..database import db, dialect_insert, utcnow
from ..errors import Conflict, Forbidden, NotFound, ValidationFailed, check_fields
from ..markdown import render_markdown
from ..notifications import subscriptions
from ..notifications.services import notify
from ..pagination import Keyset, Page, check_limit
from ..tags import check_tags
from ..threads import services as threads
from ..threads.models import Category, Post, Thread
from ..validation import check_text
from .models import (
    ANSWER_STATUSES,
    Idea,
    IdeaMerge,
    IdeaMergeVote,
    IdeaOrganization,
    IdeaStatus,
    IdeaTag,
    IdeaVote,
)

BOARD_PURPOSE = "ideas"
BOARD_NAMES = ("Ideas", "Ideas board")  # the second when an ordinary category took the first
BOARD_DESCRIPTION = "The discussion of each idea on the ideas board."
IDEA_SORTS = ("top", "trending", "new")
MAX_TAGS = 10
MAX_NOTE_LENGTH = 10_000
ROADMAP_SIZE = 20

STATUS_LABELS = {
    IdeaStatus.OPEN: "Open", IdeaStatus.UNDER_REVIEW: "Under review", IdeaStatus.PLANNED: "Planned",
    IdeaStatus.IN_PROGRESS: "In progress", IdeaStatus.SHIPPED: "Shipped", IdeaStatus.DECLINED: "Declined",
    IdeaStatus.MERGED: "Merged",
}

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
}
CHANGELOG_KEYSET = Keyset(
    (Idea.status_changed_at, Idea.id), (datetime, int), lambda i: (i.status_changed_at, i.id)
)


@dataclass(frozen=True)
class VoteState:
    vote_count: int
    voter_org_count: int
    has_voted: bool


def vote_weight(cast_at: datetime) -> float:
    """What one vote cast at `cast_at` adds to its idea's trending score."""
    return 2.0 ** ((cast_at - TRENDING_EPOCH) / TRENDING_HALF_LIFE)


def status_label(status: str) -> str:
    return STATUS_LABELS.get(status, status)


# Checks


def check_sort(sort: str | None) -> str:
    sort = sort or "top"
    if sort not in IDEA_SORTS:
        raise ValidationFailed({"sort": "Sort by top, trending or new."})
    return sort


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


def check_idea_id(value) -> int:
    """An idea's number, as JSON gives it or as a form field spells it."""
    if isinstance(value, str) and value.strip().lstrip("#").isdigit():
        value = int(value.strip().lstrip("#"))
    if not isinstance(value, int) or isinstance(value, bool) or value < 1:
        raise ValidationFailed({"into_id": "Give the number of the idea to merge into."})
    return value


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


def _readable_idea(actor: User | None, idea_id: int) -> Idea:
    idea = db.session.get(Idea, idea_id)
    if idea is None or not permissions.can_read_idea(actor, idea):
        raise NotFound("No such idea.")
    return idea


def for_viewer(actor: User | None, ideas: list[Idea]) -> list[Idea]:
    """Mark what depends on who looks: `has_voted`, `subscription` (the viewer's watch or mute of
    the idea's thread), and for staff `organization_names`.

    One query each, whatever the number of ideas.
    """
    ids = [idea.id for idea in ideas]
    if not ids or actor is None:
        return ideas
    voted = set(db.session.scalars(
        select(IdeaVote.idea_id).where(IdeaVote.user_id == actor.id, IdeaVote.idea_id.in_(ids))
    ))
    levels = subscriptions.levels_of(actor, [idea.thread_id for idea in ideas])
    for idea in ideas:
        idea.has_voted = idea.id in voted
        idea.subscription = levels.get(idea.thread_id)
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


def access_idea(actor: User | None, idea_id: int) -> Idea:
    return for_viewer(actor, [_readable_idea(actor, idea_id)])[0]


def access_idea_of_thread(actor: User | None, thread_id: int) -> Idea:
    thread = threads.access_thread(actor, thread_id)
    idea = db.session.scalar(select(Idea).where(Idea.thread_id == thread.id))
    if idea is None:
        raise NotFound("No such idea.")
    return for_viewer(actor, [idea])[0]


def list_ideas(actor: User | None, *, status: str | None = None, sort: str | None = None,
               tag: str | None = None, cursor: str | None = None, limit=None) -> Page[Idea]:
    """Ideas the actor may read, by votes, trending votes or newest. Merged ideas show only
    when asked for by status: their votes count in the idea they were merged into."""
    values = check_fields(sort=(check_sort, sort), status=(check_status_filter, status),
                          tag=(check_tag_filter, tag), limit=(check_limit, limit))
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
    idea = _readable_idea(actor, idea_id)
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
    idea = _readable_idea(actor, idea_id)
    subscriptions.set_level(actor, level, thread=idea.thread)
    events.commit()
    return access_idea(actor, idea.id)


# Votes


def _lock(*ideas: Idea) -> None:
    """Lock the ideas' rows until commit and reload them: votes, answers and merges of one idea
    take turns, so no counter or closed-check interleaves (SQLite serialises writers anyway).
    Always in id order, so two merges cannot deadlock."""
    ids = sorted(idea.id for idea in ideas)
    db.session.execute(select(Idea.id).where(Idea.id.in_(ids)).order_by(Idea.id).with_for_update())
    for idea in ideas:
        db.session.refresh(idea)


def _tally(idea_id: int, organization_id: int, step: int) -> int:
    """Move one organization's voter tally for an idea by `step`; returns the new tally."""
    if step > 0:
        statement = dialect_insert(IdeaOrganization).values(idea_id=idea_id, organization_id=organization_id, voters=1)
        statement = statement.on_conflict_do_update(index_elements=["idea_id", "organization_id"],
                                                    set_={"voters": IdeaOrganization.voters + 1})
    else:
        statement = (
            update(IdeaOrganization)
            .where(IdeaOrganization.idea_id == idea_id, IdeaOrganization.organization_id == organization_id)
            .values(voters=IdeaOrganization.voters - 1)
            .execution_options(synchronize_session=False)
        )
    return db.session.scalar(statement.returning(IdeaOrganization.voters))


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


def _add_vote(actor: User, idea: Idea) -> VoteState | None:
    """Vote inside the current transaction; None when the actor had already voted."""
    now = utcnow()
    organization_id = actor.organization_id if actor.role == Role.MEMBER else None
    vote_id = db.session.scalar(
        dialect_insert(IdeaVote)
        .values(idea_id=idea.id, user_id=actor.id, organization_id=organization_id, created_at=now)
        .on_conflict_do_nothing(index_elements=["idea_id", "user_id"])
        .returning(IdeaVote.id)
    )
    if vote_id is None:
        return None
    first_of_organization = organization_id is not None and _tally(idea.id, organization_id, +1) == 1
    return _move_counters(idea.id, +1, int(first_of_organization), vote_weight(now))


def _remove_vote(actor: User, idea: Idea) -> VoteState | None:
    """Withdraw the vote inside the current transaction; None when there was none."""
    vote = db.session.execute(
        delete(IdeaVote).where(IdeaVote.idea_id == idea.id, IdeaVote.user_id == actor.id)
        .returning(IdeaVote.organization_id, IdeaVote.created_at)
        .execution_options(synchronize_session=False)
    ).one_or_none()
    if vote is None:
        return None
    last_of_organization = vote.organization_id is not None and _tally(idea.id, vote.organization_id, -1) == 0
    return _move_counters(idea.id, -1, -int(last_of_organization), -vote_weight(vote.created_at))


def _closed(idea: Idea) -> Conflict:
    if idea.status == IdeaStatus.MERGED:
        return Conflict("This idea was merged into another: vote there instead.", code="idea_closed")
    return Conflict(f"This idea is {status_label(idea.status).lower()}: it takes no more votes.",
                    code="idea_closed")


def do_vote(actor: User, idea_id: int, voted: bool) -> VoteState:
    """Vote for an idea (`voted` True) or withdraw the vote (False). Idempotent: asking for the
    state that already holds changes and announces nothing."""
    idea = _readable_idea(actor, idea_id)
    check_not_silenced(actor)
    _lock(idea)
    if not idea.is_open:
        raise _closed(idea)
    if not permissions.can_vote(actor, idea):
        raise Forbidden("You may not vote on this idea.")
    state = _add_vote(actor, idea) if voted else _remove_vote(actor, idea)
    if state is None:
        state = VoteState(idea.vote_count, idea.voter_org_count, has_voted=voted)
    else:
        events.announce(events.idea_vote_changed, idea=idea, vote_count=state.vote_count,
                        voter_org_count=state.voter_org_count)
    events.commit()
    return state


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


def _refusal(actor: User, idea: Idea, forbidden: str) -> Exception:
    """Why a staff action is refused: the idea's state (409) for staff, the actor (403) for others."""
    if not permissions.is_staff(actor):
        return Forbidden(forbidden)
    if idea.status == IdeaStatus.MERGED:
        return Conflict("This idea is merged into another: unmerge it first.", code="idea_merged")
    return Conflict("This idea is not merged.", code="idea_not_merged")


def do_change_status(actor: User, idea_id: int, status: str | None, note: str | None) -> Idea:
    """Set an idea's status with an official answer; voters and followers are notified."""
    idea = _readable_idea(actor, idea_id)
    _lock(idea)
    if not permissions.can_change_idea_status(actor, idea):
        raise _refusal(actor, idea, "Only staff answer ideas and set their status.")
    values = check_fields(status=(check_answer_status, status), note=(check_note, note))
    if (values["status"], values["note"]) != (idea.status, idea.answer_note):
        now = utcnow()
        if values["status"] != idea.status:
            idea.status_changed_at = now
        idea.status = values["status"]
        idea.answer_note, idea.answer_html = values["note"], render_markdown(values["note"])
        idea.answer_status, idea.answered_by_id, idea.answered_at = values["status"], actor.id, now
        notify(_followers(idea), "idea_status", actor=actor, thread=idea.thread, idea_id=idea.id,
               text=f'{actor.display_name} set "{idea.title}" to {status_label(idea.status)}: {values["note"]}')
        events.announce(events.idea_status_changed, idea=idea, status=idea.status, note=idea.answer_note)
    events.commit()
    return access_idea(actor, idea.id)


def _recount(idea_id: int) -> VoteState:
    """Rebuild an idea's counters and organization tallies from its votes, after a merge or an
    unmerge moved many at once. The vote rows decide, so an unmerge gives back the same counts."""
    votes = db.session.execute(
        select(IdeaVote.organization_id, IdeaVote.created_at).where(IdeaVote.idea_id == idea_id).order_by(IdeaVote.id)
    ).all()
    tallies = Counter(vote.organization_id for vote in votes if vote.organization_id is not None)
    db.session.execute(delete(IdeaOrganization).where(IdeaOrganization.idea_id == idea_id)
                       .execution_options(synchronize_session=False))
    if tallies:
        db.session.execute(insert(IdeaOrganization.__table__),
                           [{"idea_id": idea_id, "organization_id": org, "voters": n} for org, n in tallies.items()])
    db.session.execute(
        update(Idea).where(Idea.id == idea_id)
        .values(vote_count=len(votes), voter_org_count=len(tallies),
                trending_score=sum(vote_weight(vote.created_at) for vote in votes))
        .execution_options(synchronize_session=False)
    )
    return VoteState(len(votes), len(tallies), has_voted=False)


def _announce_counts(idea: Idea) -> None:
    state = _recount(idea.id)
    events.announce(events.idea_vote_changed, idea=idea, vote_count=state.vote_count,
                    voter_org_count=state.voter_org_count)


def do_merge(actor: User, idea_id: int, into_id) -> Idea:
    """Merge a duplicate into another idea: its votes move over (a member who voted for both
    keeps one vote), its discussion shows with the target's, it closes and points to the
    target, and its voters are told where their vote went. Returns the merged idea."""
    source = _readable_idea(actor, idea_id)
    if not permissions.is_staff(actor):
        raise Forbidden("Only staff merge ideas.")
    target = _readable_idea(actor, check_idea_id(into_id))
    if target.id == source.id:
        raise ValidationFailed({"into_id": "An idea cannot be merged into itself."})
    _lock(source, target)
    if not permissions.can_merge_idea(actor, source):
        raise _refusal(actor, source, "Only staff merge ideas.")
    if target.status == IdeaStatus.MERGED:
        raise Conflict("That idea is itself merged into another: merge into that one.", code="idea_merged")
    voters = list(db.session.scalars(
        select(User).where(User.id.in_(select(IdeaVote.user_id).where(IdeaVote.idea_id == source.id)))
    ))
    merge = IdeaMerge(source_id=source.id, target_id=target.id, merged_by_id=actor.id, merged_at=utcnow(),
                      source_status=source.status, source_status_changed_at=source.status_changed_at,
                      source_thread_was_closed=source.thread.closed)
    db.session.add(merge)
    db.session.flush()
    target_voters = select(IdeaVote.user_id).where(IdeaVote.idea_id == target.id)
    db.session.execute(insert(IdeaMergeVote.__table__).from_select(
        ["merge_id", "vote_id"],
        select(literal(merge.id), IdeaVote.id).where(IdeaVote.idea_id == source.id,
                                                     IdeaVote.user_id.not_in(target_voters)),
    ))
    db.session.execute(
        update(IdeaVote)
        .where(IdeaVote.id.in_(select(IdeaMergeVote.vote_id).where(IdeaMergeVote.merge_id == merge.id)))
        .values(idea_id=target.id)
        .execution_options(synchronize_session=False)
    )
    source.status, source.status_changed_at, source.merged_into_id = IdeaStatus.MERGED, merge.merged_at, target.id
    source.thread.closed = True  # the discussion goes on in the target
    _announce_counts(source)
    _announce_counts(target)
    notify(voters, "idea_merged", actor=actor, thread=target.thread, idea_id=target.id,
           text=f'"{source.title}" was merged into "{target.title}": your vote counts there now.')
    events.announce(events.idea_status_changed, idea=source, status=source.status, note=None)
    events.commit()
    return access_idea(actor, source.id)


def do_unmerge(actor: User, idea_id: int) -> Idea:
    """Undo the merge of this idea: the votes it moved go back, and both ideas are as they were
    (status, thread, counts). Returns the restored idea."""
    source = _readable_idea(actor, idea_id)
    if not permissions.is_staff(actor):
        raise Forbidden("Only staff unmerge ideas.")
    if source.merged_into_id is None:
        raise _refusal(actor, source, "Only staff unmerge ideas.")
    target = db.session.get(Idea, source.merged_into_id)
    _lock(source, target)
    if not permissions.can_unmerge_idea(actor, source):
        raise _refusal(actor, source, "Only staff unmerge ideas.")
    if target.status == IdeaStatus.MERGED:
        raise Conflict(f'"{target.title}" was merged in turn: unmerge it first.', code="idea_merged")
    merge = db.session.scalar(
        select(IdeaMerge).where(IdeaMerge.source_id == source.id, IdeaMerge.unmerged_at.is_(None))
        .order_by(IdeaMerge.id.desc()).limit(1)
    )
    moved_back = select(IdeaMergeVote.vote_id).where(IdeaMergeVote.merge_id == merge.id)
    moved_voters = select(IdeaVote.user_id).where(IdeaVote.id.in_(moved_back), IdeaVote.idea_id == target.id)
    voters = list(db.session.scalars(select(User).where(User.id.in_(moved_voters))))
    db.session.execute(
        update(IdeaVote).where(IdeaVote.id.in_(moved_back), IdeaVote.idea_id == target.id)
        .values(idea_id=source.id)
        .execution_options(synchronize_session=False)
    )
    source.status, source.status_changed_at = merge.source_status, merge.source_status_changed_at
    source.merged_into_id = None
    source.thread.closed = merge.source_thread_was_closed
    merge.unmerged_at, merge.unmerged_by_id = utcnow(), actor.id
    _announce_counts(source)
    _announce_counts(target)
    notify(voters, "idea_unmerged", actor=actor, thread=source.thread, idea_id=source.id,
           text=f'"{source.title}" is its own idea again: your vote is back on it.')
    events.announce(events.idea_status_changed, idea=source, status=source.status, note=source.answer_note)
    events.commit()
    return access_idea(actor, source.id)
