"""Merging duplicate ideas, and undoing it.

A merge moves the duplicate's votes to the idea it duplicates (a member who voted for both keeps
one vote), shows its discussion with the target's and closes it; every change is remembered in
an IdeaMerge, so an unmerge restores both ideas exactly.
"""
from sqlalchemy import insert, literal, select, update

from .. import events, permissions
from ..accounts.models import User
from ..database import db, utcnow
from ..errors import Conflict, ValidationFailed
from ..moderation import audit
from ..notifications.services import notify
from . import services
from .models import Idea, IdeaMerge, IdeaMergeVote, IdeaStatus, IdeaVote


def check_idea_id(value) -> int:
    """An idea's number, as JSON gives it or as a form field spells it."""
    if isinstance(value, str) and value.strip().lstrip("#").isdigit():
        value = int(value.strip().lstrip("#"))
    if not isinstance(value, int) or isinstance(value, bool) or value < 1:
        raise ValidationFailed({"into_id": "Give the number of the idea to merge into."})
    return value


def _lock_with_voters(*ideas: Idea) -> None:
    """Lock the organizations of the ideas' voters, then the ideas (the order votes take), so an
    organization's change of weight never interleaves with votes moving between its ideas."""
    services.lock_organizations(*db.session.scalars(
        select(IdeaVote.organization_id).distinct().where(IdeaVote.idea_id.in_([idea.id for idea in ideas]))))
    services.lock_ideas(*ideas)


def do_merge(actor: User, idea_id: int, into_id) -> Idea:
    """Merge a duplicate into another idea: its votes move over (a member who voted for both
    keeps one vote), its discussion shows with the target's, it closes and points to the
    target, and its voters are told where their vote went. Returns the merged idea."""
    source = services.readable_idea(actor, idea_id)
    permissions.ensure(permissions.refusal_to_merge_idea(actor, source))
    target = services.readable_idea(actor, check_idea_id(into_id))
    if target.id == source.id:
        raise ValidationFailed({"into_id": "An idea cannot be merged into itself."})
    _lock_with_voters(source, target)
    permissions.ensure(permissions.refusal_to_merge_idea(actor, source))  # again, as the locks found it
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
    services.recount(source)
    services.recount(target)
    audit.record(actor, "idea.merge", "idea", source.id, category_id=source.thread.category_id,
                 before={"status": merge.source_status}, after={"status": source.status, "merged_into_id": target.id})
    notify(voters, "idea_merged", actor=actor, thread=target.thread, idea_id=target.id,
           text=f'"{source.title}" was merged into "{target.title}": your vote counts there now.')
    events.announce(events.idea_status_changed, idea=source, status=source.status, note=None)
    events.announce(events.idea_merged, idea=source, into=target)
    events.commit()
    return services.access_idea(actor, source.id)


def do_unmerge(actor: User, idea_id: int) -> Idea:
    """Undo the merge of this idea: the votes it moved go back, and both ideas are as they were
    (status, thread, counts). Returns the restored idea."""
    source = services.readable_idea(actor, idea_id)
    permissions.ensure(permissions.refusal_to_unmerge_idea(actor, source))
    target = db.session.get(Idea, source.merged_into_id)
    _lock_with_voters(source, target)
    permissions.ensure(permissions.refusal_to_unmerge_idea(actor, source))  # again, as locked (with its target)
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
    services.recount(source)
    services.recount(target)
    audit.record(actor, "idea.unmerge", "idea", source.id, category_id=source.thread.category_id,
                 before={"status": IdeaStatus.MERGED.value, "merged_into_id": target.id},
                 after={"status": source.status})
    notify(voters, "idea_unmerged", actor=actor, thread=source.thread, idea_id=source.id,
           text=f'"{source.title}" is its own idea again: your vote is back on it.')
    events.announce(events.idea_status_changed, idea=source, status=source.status, note=source.answer_note)
    events.commit()
    return services.access_idea(actor, source.id)
