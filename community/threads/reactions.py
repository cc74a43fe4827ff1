"""Reactions: a one-click "+1" (or one of a few more) on a post, counted per reaction.

Reacting is idempotent (a unique constraint and INSERT … ON CONFLICT), announced after commit,
and a page of posts loads every count and the viewer's own reactions in one query.
"""
from dataclasses import dataclass, field

from sqlalchemy import case, delete, func, select

from .. import events, permissions
from ..accounts.models import User
from ..database import db, insert_unless_exists, utcnow
from ..errors import Forbidden, ValidationFailed
from .models import Post, PostReaction
from .services import access_post

# The fixed set, in display order, with what a screen shows for each.
REACTIONS = {"+1": "👍", "heart": "❤️", "tada": "🎉", "laugh": "😄", "thinking": "🤔", "eyes": "👀"}
REACTION_NAMES = {"+1": "thumbs up", "heart": "heart", "tada": "celebrate", "laugh": "laugh",
                  "thinking": "thinking", "eyes": "looking"}


@dataclass
class Reactions:
    """A post's reaction counts (only reactions someone chose) and the viewer's own."""

    counts: dict[str, int] = field(default_factory=dict)
    mine: list[str] = field(default_factory=list)

    def as_dict(self) -> dict:
        return {"reactions": self.counts, "mine": self.mine}


def check_reaction(reaction: str) -> str:
    if reaction not in REACTIONS:
        raise ValidationFailed({"reaction": "Use one of: " + ", ".join(REACTIONS) + "."})
    return reaction


def summarize(actor: User | None, post_ids: list[int]) -> dict[int, Reactions]:
    """Every post's reactions, in one query whatever the number of posts."""
    summaries = {post_id: Reactions() for post_id in post_ids}
    if not post_ids:
        return summaries
    mine = func.sum(case((PostReaction.user_id == (actor.id if actor else None), 1), else_=0))
    rows = db.session.execute(
        select(PostReaction.post_id, PostReaction.reaction, func.count(PostReaction.id), mine)
        .where(PostReaction.post_id.in_(post_ids)).group_by(PostReaction.post_id, PostReaction.reaction))
    order = list(REACTIONS)
    for post_id, reaction, count, by_actor in sorted(rows, key=lambda row: order.index(row[1])):
        summaries[post_id].counts[reaction] = count
        if by_actor:
            summaries[post_id].mine.append(reaction)
    return summaries


def chosen_by(actor: User, post_ids: list[int]) -> dict[int, list[str]]:
    """The actor's own reactions to these posts (posts they never reacted to are left out), in
    display order, in one query."""
    chosen: dict[int, list[str]] = {}
    if not post_ids:
        return chosen
    rows = db.session.execute(select(PostReaction.post_id, PostReaction.reaction)
                              .where(PostReaction.user_id == actor.id, PostReaction.post_id.in_(post_ids)))
    order = list(REACTIONS)
    for post_id, reaction in sorted(rows, key=lambda row: order.index(row[1])):
        chosen.setdefault(post_id, []).append(reaction)
    return chosen


def attach(actor: User | None, posts: list[Post]) -> list[Post]:
    """Set `post.reaction_summary` on each post, for pages and API lists."""
    summaries = summarize(actor, [post.id for post in posts])
    for post in posts:
        post.reaction_summary = summaries[post.id]
    return posts


def summary_of(actor: User | None, post: Post) -> Reactions:
    """A post's reactions: those attached with its page, else read now."""
    summary = getattr(post, "reaction_summary", None)
    return summary if summary is not None else attach(actor, [post])[0].reaction_summary


def do_react(actor: User, post_id: int, reaction: str, on: bool = True) -> Reactions:
    """Add (or with `on` False withdraw) the actor's reaction; repeating either changes nothing."""
    post = access_post(actor, post_id)
    reaction = check_reaction(reaction)
    if not permissions.can_react(actor, post):
        raise Forbidden("You cannot react to this post.")
    if on:
        changed = insert_unless_exists(PostReaction, post_id=post.id, user_id=actor.id, reaction=reaction,
                                       created_at=utcnow()) is not None
    else:
        changed = db.session.execute(
            delete(PostReaction).where(PostReaction.post_id == post.id, PostReaction.user_id == actor.id,
                                       PostReaction.reaction == reaction)
            .returning(PostReaction.id)).first() is not None
    summary = summarize(actor, [post.id])[post.id]
    if changed:
        events.announce(events.post_reactions_changed, post=post, reactions=dict(summary.counts))
    events.commit()
    return summary
