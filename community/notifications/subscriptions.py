"""Who watches or mutes what: threads (an idea is its thread) and categories.

A member hears about activity in a thread when they watch the thread or its category, and have
muted neither: mute wins over watch. Starting a thread or replying watches it, unless the member
chose otherwise before. Writes here run inside the caller's transaction; the `do_*` entry points
that load and authorize the target live with their aggregates (threads, ideas).
"""
from sqlalchemy import delete, or_, select, update

from ..accounts.models import User
from ..database import db, insert_unless_exists, utcnow
from ..errors import ValidationFailed
from ..threads.models import Category, Thread
from .models import Level, Subscription


def check_level(level: str | None) -> Level:
    try:
        return Level(level)
    except ValueError:
        raise ValidationFailed({"level": "Choose watch or mute."}) from None


def _target(thread: Thread | None, category: Category | None) -> dict:
    return {"thread_id": thread.id} if thread is not None else {"category_id": category.id}


def level_of(user: User, *, thread: Thread | None = None, category: Category | None = None) -> str | None:
    """The member's own choice for this thread or category: "watch", "mute" or None."""
    target = _target(thread, category)
    return db.session.scalar(select(Subscription.level).filter_by(user_id=user.id, **target))


def levels_of(user: User, thread_ids: list[int]) -> dict[int, str]:
    """The member's own choices for these threads, by thread id, in one query."""
    return dict(db.session.execute(
        select(Subscription.thread_id, Subscription.level)
        .where(Subscription.user_id == user.id, Subscription.thread_id.in_(thread_ids))
    ).all())


def set_level(user: User, level: str | None, *, thread: Thread | None = None,
              category: Category | None = None) -> None:
    """Watch, mute, or (None) forget the choice; call inside the action's transaction.

    Idempotent under concurrency: the row is made by `INSERT … ON CONFLICT DO NOTHING` on the
    unique (user, target) constraint, then given the level asked for.
    """
    target = _target(thread, category)
    if level is None:
        db.session.execute(delete(Subscription).filter_by(user_id=user.id, **target)
                           .execution_options(synchronize_session=False))
        return
    level = check_level(level)
    if insert_unless_exists(Subscription, user_id=user.id, level=level, created_at=utcnow(), **target) is None:
        db.session.execute(update(Subscription).filter_by(user_id=user.id, **target).values(level=level)
                           .execution_options(synchronize_session=False))


def watch(user: User, thread: Thread) -> None:
    """Watch a thread one wrote in, unless one already chose (a mute stays a mute)."""
    insert_unless_exists(Subscription, user_id=user.id, thread_id=thread.id, level=Level.WATCH, created_at=utcnow())


def _choosing(level: Level, thread: Thread | None, category_id: int):
    """Ids of members who chose `level` for the thread or its category (or, without a
    thread, for the category)."""
    on = Subscription.category_id == category_id
    if thread is not None:
        on = or_(Subscription.thread_id == thread.id, on)
    return select(Subscription.user_id).where(on, Subscription.level == level)


def audience(thread: Thread | None = None, *, category: Category | None = None, also=None) -> list[User]:
    """Who hears about activity in the thread (or, without one, about new threads in the
    category): its watchers and the members `also` selects by id, less whoever muted it."""
    category_id = thread.category_id if thread is not None else category.id
    wanted = User.id.in_(_choosing(Level.WATCH, thread, category_id))
    if also is not None:
        wanted = or_(wanted, User.id.in_(also))
    return list(db.session.scalars(
        select(User).where(wanted, User.id.not_in(_choosing(Level.MUTE, thread, category_id)))
    ))
