"""Reading state: how far each member has read each thread, so lists say what is new.

A member's place in a thread only moves forward. Lists load it with their threads in the same
query (`with_reading_state`), so a page of threads costs what it did before.
"""
from sqlalchemy import case, func, literal, null, select
from sqlalchemy.orm import with_expression

from .. import permissions
from ..accounts.models import User
from ..database import db, dialect_insert, utcnow
from .models import Post, Thread, ThreadRead


def _last_read_post_id(actor: User):
    return (select(ThreadRead.last_read_post_id)
            .where(ThreadRead.thread_id == Thread.id, ThreadRead.user_id == actor.id)
            .correlate(Thread).scalar_subquery())


def reading_state_options(actor: User | None) -> list:
    """Loader options that fill `Thread.last_read_post_id` and `Thread.unread_count` for the
    actor, inside the query that loads the threads (it must join Thread's Category).

    A thread never opened counts all its posts: the reply counter the services keep, plus the
    first post, so lists never count every post of threads nobody opened.
    """
    if not permissions.is_signed_in(actor):
        return [with_expression(Thread.last_read_post_id, null()),
                with_expression(Thread.unread_count, literal(0))]
    last_read = _last_read_post_id(actor)
    after_last_read = (select(func.count(Post.id))
                       .where(Post.thread_id == Thread.id, Post.id > last_read,
                              permissions.readable_posts_clause(actor))
                       .correlate(Thread).scalar_subquery())
    unread = case((last_read.is_(None), Thread.reply_count + 1), else_=after_last_read)
    return [with_expression(Thread.last_read_post_id, last_read),
            with_expression(Thread.unread_count, unread)]


def reading_states(actor: User, thread_ids: list[int]) -> dict[int, tuple[int, int]]:
    """`(last_read_post_id, unread_count)` of the threads the actor has opened, in one query (a
    thread missing from the answer was never opened: `reading_state_options` counts it whole)."""
    if not thread_ids:
        return {}
    after_last_read = (select(func.count(Post.id)).join(Post.thread)
                       .where(Post.thread_id == ThreadRead.thread_id, Post.id > ThreadRead.last_read_post_id,
                              permissions.readable_posts_clause(actor))
                       .correlate(ThreadRead).scalar_subquery())
    rows = db.session.execute(
        select(ThreadRead.thread_id, ThreadRead.last_read_post_id, after_last_read)
        .where(ThreadRead.user_id == actor.id, ThreadRead.thread_id.in_(thread_ids)))
    return {thread_id: (last_read, unread) for thread_id, last_read, unread in rows}


def load_reading_state(actor: User | None, thread: Thread) -> Thread:
    """Fill the reading state of one thread already loaded (its page, the API's thread)."""
    query = (select(Thread).join(Thread.category).where(Thread.id == thread.id)
             .options(*reading_state_options(actor)).execution_options(populate_existing=True))
    return db.session.scalars(query).one()


def first_unread_post_id(actor: User, thread: Thread) -> int | None:
    """The first visible post after the actor's place (None: nothing new, or never opened).
    `thread` carries its reading state."""
    if thread.last_read_post_id is None or not thread.unread_count:
        return None
    return db.session.scalar(
        select(func.min(Post.id)).join(Post.thread)
        .where(Post.thread_id == thread.id, Post.id > thread.last_read_post_id,
               permissions.readable_posts_clause(actor)))


def mark_read(actor: User, thread: Thread, post: Post) -> None:
    """Move the actor's place in `thread` to `post` unless it is already further; call inside the
    transaction of an action that checked both are readable."""
    now = utcnow()
    statement = dialect_insert(ThreadRead).values(user_id=actor.id, thread_id=thread.id,
                                                  last_read_post_id=post.id, updated_at=now)
    # Two tabs reading at once: the larger place wins, whatever order they arrive in.
    furthest = case((statement.excluded.last_read_post_id > ThreadRead.last_read_post_id,
                     statement.excluded.last_read_post_id), else_=ThreadRead.last_read_post_id)
    db.session.execute(statement.on_conflict_do_update(
        index_elements=["user_id", "thread_id"], set_={"last_read_post_id": furthest, "updated_at": now}))
