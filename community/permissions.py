"""Who may do what: every rule, once.

Plain functions of their arguments, never of the request or the logged-in user, so web
views, the API, socket handlers and the CLI all ask the same questions. `actor` is a User,
or None for someone not signed in. Rules about which rows are visible are given here too,
as SQL clauses, so lists and searches filter exactly as the single-object checks do.
"""
from sqlalchemy import false, true

from .accounts.models import Role, User
from .ideas.models import Idea, IdeaStatus
from .threads.models import Category, Post, Thread


def is_signed_in(actor: User | None) -> bool:
    return actor is not None and not actor.is_suspended


def is_staff(actor: User | None) -> bool:
    return is_signed_in(actor) and actor.role in (Role.MODERATOR, Role.ADMIN)


def is_admin(actor: User | None) -> bool:
    return is_signed_in(actor) and actor.role == Role.ADMIN


# Categories and threads


def can_read_category(actor: User | None, category: Category) -> bool:
    return is_signed_in(actor) and (not category.staff_only or is_staff(actor))


def readable_categories_clause(actor: User | None):
    """SQL twin of `can_read_category`, for lists and counts."""
    if not is_signed_in(actor):
        return false()
    if is_staff(actor):
        return true()
    return Category.staff_only.is_(False)


def can_manage_categories(actor: User | None) -> bool:
    return is_admin(actor)


def can_read_thread(actor: User | None, thread: Thread) -> bool:
    return can_read_category(actor, thread.category)


def can_create_thread(actor: User | None, category: Category) -> bool:
    """Threads of a category with a purpose (the ideas board) start only through their aggregate."""
    return can_read_category(actor, category) and category.purpose is None


def can_reply(actor: User | None, thread: Thread) -> bool:
    """Locked and closed threads take replies from staff only."""
    if not can_read_thread(actor, thread):
        return False
    return is_staff(actor) or not (thread.locked or thread.closed)


def can_edit_thread_title(actor: User | None, thread: Thread) -> bool:
    if not can_read_thread(actor, thread):
        return False
    return is_staff(actor) or (thread.author_id == actor.id and not thread.locked)


def can_moderate_thread(actor: User | None, thread: Thread) -> bool:
    return can_read_thread(actor, thread) and is_staff(actor)


def can_read_post(actor: User | None, post: Post) -> bool:
    """Deleted posts stay readable for staff only."""
    return can_read_thread(actor, post.thread) and (post.deleted_at is None or is_staff(actor))


def readable_posts_clause(actor: User | None):
    """SQL twin of `can_read_post` within a thread already known to be readable."""
    return true() if is_staff(actor) else Post.deleted_at.is_(None)


def can_edit_post(actor: User | None, post: Post) -> bool:
    if not can_read_post(actor, post) or post.deleted_at is not None:
        return False
    return is_staff(actor) or (post.author_id == actor.id and not post.thread.locked)


def can_delete_post(actor: User | None, post: Post) -> bool:
    return can_edit_post(actor, post)


# Ideas: each one lives in its discussion thread, so it is exactly as readable as that thread.


def can_read_idea(actor: User | None, idea: Idea) -> bool:
    return can_read_thread(actor, idea.thread)


def can_post_idea(actor: User | None, board: Category | None) -> bool:
    """`board` is the ideas category, or None before the first idea creates it (readable to all)."""
    return is_signed_in(actor) and (board is None or can_read_category(actor, board))


def can_vote(actor: User | None, idea: Idea) -> bool:
    """Closed ideas (shipped, declined, merged) take no more votes, nor withdrawals."""
    return can_read_idea(actor, idea) and idea.is_open


def can_comment_on_idea(actor: User | None, idea: Idea) -> bool:
    return can_reply(actor, idea.thread)


def can_change_idea_status(actor: User | None, idea: Idea) -> bool:
    """Staff answer; a merged idea keeps its status until it is unmerged."""
    return can_read_idea(actor, idea) and is_staff(actor) and idea.status != IdeaStatus.MERGED


def can_merge_idea(actor: User | None, idea: Idea) -> bool:
    return can_change_idea_status(actor, idea)


def can_unmerge_idea(actor: User | None, idea: Idea) -> bool:
    return can_read_idea(actor, idea) and is_staff(actor) and idea.status == IdeaStatus.MERGED


def can_see_idea_organizations(actor: User | None) -> bool:
    """Everyone sees how many customer organizations want an idea; only staff see which."""
    return is_staff(actor)


# People and membership


def can_view_profile(actor: User | None, user: User) -> bool:
    return is_signed_in(actor)


def can_invite(actor: User | None, role: str) -> bool:
    """Staff invite members; only admins make more staff."""
    if role == Role.MEMBER:
        return is_staff(actor)
    return is_admin(actor)
