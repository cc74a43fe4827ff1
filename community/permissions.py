"""Who may do what: every rule, once.

Plain functions of their arguments, never of the request or the logged-in user, so web
views, the API, socket handlers and the CLI all ask the same questions. `actor` is a User,
or None for someone not signed in. Rules about which rows are visible are given here too,
as SQL clauses, so lists and searches filter exactly as the single-object checks do.

Every staff check about content asks one question: is this actor staff *for this category*
(`is_category_staff`)? Moderators and admins are staff everywhere; a category moderator only
in the categories assigned to them.
"""
from datetime import datetime
from functools import cache

from sqlalchemy import and_, event, false, inspect, or_, select, true
from sqlalchemy.orm import Session, joinedload

from .accounts.models import Role, User
from .database import db
from .gatherings.models import Checkin, Event, LocationSharing, MeetingRequest, MeetingStatus, Visibility, WhoMayAsk
from .ideas.models import Idea, IdeaStatus
from .moderation.models import CategoryModerator, Flag
from .threads.models import Category, Post, Thread

_MODERATED = "moderated_category_ids"


def is_signed_in(actor: User | None) -> bool:
    return actor is not None and not actor.is_suspended


def not_suspended_clause(now: datetime):
    """SQL twin of `not user.is_suspended` at `now`, on a query of User."""
    return or_(User.suspended_until.is_(None), User.suspended_until <= now)


def is_staff(actor: User | None) -> bool:
    """Staff everywhere: moderators and admins."""
    return is_signed_in(actor) and actor.role in (Role.MODERATOR, Role.ADMIN)


def is_admin(actor: User | None) -> bool:
    return is_signed_in(actor) and actor.role == Role.ADMIN


def can_participate(actor: User | None) -> bool:
    """Post, reply, vote, flag: everyone signed in who is not silenced."""
    return is_signed_in(actor) and not actor.is_silenced


def moderated_category_ids(actor: User | None) -> frozenset[int]:
    """The categories a member moderates, as a set made once per transaction (a commit or
    rollback forgets it): a page of fifty posts asks it hundreds of times. Signing in loads the
    assignments with the member (`with_moderator_assignments`); otherwise they are queried here."""
    if not is_signed_in(actor):
        return frozenset()
    cache = db.session.info.setdefault(_MODERATED, {})
    if actor.id not in cache:
        if "moderator_assignments" in inspect(actor).unloaded:
            cache[actor.id] = frozenset(db.session.scalars(
                select(CategoryModerator.category_id).where(CategoryModerator.user_id == actor.id)))
        else:
            cache[actor.id] = frozenset(assignment.category_id for assignment in actor.moderator_assignments)
    return cache[actor.id]


@cache  # built once per path: every signed-in request loads its member with it
def with_moderator_assignments(*path_to_member):
    """The loader option that reads a member's moderator assignments in the query that loads the
    member, e.g. `with_moderator_assignments(DeviceSession.user)` when loading a device session."""
    return joinedload(*path_to_member, User.moderator_assignments).lazyload(CategoryModerator.user)


@event.listens_for(Session, "after_commit")
@event.listens_for(Session, "after_rollback")
def _forget_moderated_categories(session):
    session.info.pop(_MODERATED, None)


def is_category_staff(actor: User | None, category_id: int) -> bool:
    return is_staff(actor) or category_id in moderated_category_ids(actor)


def staff_categories_clause(actor: User | None, category_column=Thread.category_id):
    """SQL twin of `is_category_staff` on a category id column."""
    if is_staff(actor):
        return true()
    ids = moderated_category_ids(actor)
    return category_column.in_(sorted(ids)) if ids else false()


def can_manage_jobs(actor: User | None) -> bool:
    """See background jobs (dead ones above all) and retry them: admins."""
    return is_admin(actor)


def can_moderate_anything(actor: User | None) -> bool:
    """Staff anywhere: may open the staff area (flag queue, audit log)."""
    return is_staff(actor) or bool(moderated_category_ids(actor))


# Categories and threads


def can_read_category(actor: User | None, category: Category) -> bool:
    return is_signed_in(actor) and (not category.staff_only or is_category_staff(actor, category.id))


def readable_categories_clause(actor: User | None):
    """SQL twin of `can_read_category`, for lists and counts."""
    if not is_signed_in(actor):
        return false()
    return or_(Category.staff_only.is_(False), staff_categories_clause(actor, Category.id))


def can_manage_categories(actor: User | None) -> bool:
    return is_admin(actor)


def can_assign_category_moderators(actor: User | None) -> bool:
    return is_admin(actor)


def can_read_thread(actor: User | None, thread: Thread) -> bool:
    """Deleted threads stay readable for staff of their category only."""
    return can_read_category(actor, thread.category) and (
        thread.deleted_at is None or is_category_staff(actor, thread.category_id))


def readable_threads_clause(actor: User | None):
    """SQL twin of `can_read_thread`; the query must join Thread's Category."""
    return and_(readable_categories_clause(actor),
                or_(Thread.deleted_at.is_(None), staff_categories_clause(actor)))


def can_create_thread(actor: User | None, category: Category) -> bool:
    """Threads of a category with a purpose (the ideas board) start only through their aggregate."""
    return can_read_category(actor, category) and category.purpose is None and can_participate(actor)


def can_reply(actor: User | None, thread: Thread) -> bool:
    """Locked and closed threads take replies from their staff only; deleted ones from nobody."""
    if not can_read_thread(actor, thread) or not can_participate(actor) or thread.deleted_at is not None:
        return False
    return is_category_staff(actor, thread.category_id) or not (thread.locked or thread.closed)


def can_edit_thread_title(actor: User | None, thread: Thread) -> bool:
    if not can_read_thread(actor, thread):
        return False
    if is_category_staff(actor, thread.category_id):
        return True
    return thread.author_id == actor.id and not thread.locked and can_participate(actor)


def can_moderate_thread(actor: User | None, thread: Thread) -> bool:
    """Pin, lock, close, move, rename, delete and restore."""
    return can_read_thread(actor, thread) and is_category_staff(actor, thread.category_id)


def can_move_thread_to(actor: User | None, thread: Thread, category: Category) -> bool:
    """A category moderator moves threads only between categories they moderate."""
    return can_moderate_thread(actor, thread) and is_category_staff(actor, category.id)


def can_delete_thread(actor: User | None, thread: Thread) -> bool:
    return can_moderate_thread(actor, thread) and thread.deleted_at is None


def can_restore_thread(actor: User | None, thread: Thread) -> bool:
    return can_moderate_thread(actor, thread) and thread.deleted_at is not None


# Posts


def can_read_post(actor: User | None, post: Post) -> bool:
    """Deleted posts stay readable for staff of their category only."""
    return can_read_thread(actor, post.thread) and (
        post.deleted_at is None or is_category_staff(actor, post.thread.category_id))


def readable_posts_clause(actor: User | None):
    """SQL twin of `can_read_post` within readable threads; the query must join Thread."""
    return or_(Post.deleted_at.is_(None), staff_categories_clause(actor))


def can_read_post_body(actor: User | None, post: Post) -> bool:
    """A hidden post's body is for its author and its staff; others see a placeholder."""
    if not can_read_post(actor, post):
        return False
    return post.hidden_at is None or post.author_id == actor.id or is_category_staff(actor, post.thread.category_id)


def readable_post_bodies_clause(actor: User | None):
    """SQL twin of `can_read_post_body` within readable posts; the query must join Thread."""
    if not is_signed_in(actor):
        return false()
    return or_(Post.hidden_at.is_(None), Post.author_id == actor.id, staff_categories_clause(actor))


def can_see_hidden_reason(actor: User | None, post: Post) -> bool:
    return post.hidden_at is not None and can_read_post_body(actor, post)


def can_edit_post(actor: User | None, post: Post) -> bool:
    if not can_read_post(actor, post) or post.deleted_at is not None:
        return False
    if is_category_staff(actor, post.thread.category_id):
        return True
    return (post.author_id == actor.id and not post.thread.locked and post.thread.deleted_at is None
            and can_participate(actor))


def can_delete_post(actor: User | None, post: Post) -> bool:
    return can_edit_post(actor, post)


def can_react(actor: User | None, post: Post) -> bool:
    """Members react to others' live posts they can read, in threads that are not deleted."""
    return (can_read_post_body(actor, post) and can_participate(actor) and post.deleted_at is None
            and post.thread.deleted_at is None and post.author_id != actor.id)


def can_mark_solution(actor: User | None, thread: Thread) -> bool:
    """In support categories, the one who asked (or the category's staff) marks which reply solved it."""
    if not can_read_thread(actor, thread) or thread.category.kind != "support" or thread.deleted_at is not None:
        return False
    if is_category_staff(actor, thread.category_id):
        return True
    return thread.author_id == actor.id and can_participate(actor) and not thread.locked


# Ideas: each one lives in its discussion thread, so it is exactly as readable as that thread.


def can_read_idea(actor: User | None, idea: Idea) -> bool:
    return can_read_thread(actor, idea.thread)


def can_post_idea(actor: User | None, board: Category | None) -> bool:
    """`board` is the ideas category, or None before the first idea creates it (readable to all)."""
    return can_participate(actor) and (board is None or can_read_category(actor, board))


def can_vote(actor: User | None, idea: Idea) -> bool:
    """Closed ideas (shipped, declined, merged) take no more votes, nor withdrawals."""
    return can_read_idea(actor, idea) and idea.is_open and can_participate(actor)


def can_comment_on_idea(actor: User | None, idea: Idea) -> bool:
    return can_reply(actor, idea.thread)


def can_change_idea_status(actor: User | None, idea: Idea) -> bool:
    """Staff answer; a merged idea keeps its status until it is unmerged."""
    return (can_read_idea(actor, idea) and is_category_staff(actor, idea.thread.category_id)
            and idea.status != IdeaStatus.MERGED)


def can_merge_idea(actor: User | None, idea: Idea) -> bool:
    return can_change_idea_status(actor, idea)


def can_unmerge_idea(actor: User | None, idea: Idea) -> bool:
    return (can_read_idea(actor, idea) and is_category_staff(actor, idea.thread.category_id)
            and idea.status == IdeaStatus.MERGED)


def can_see_idea_organizations(actor: User | None) -> bool:
    """Everyone sees how many customer organizations want an idea; only staff see which."""
    return is_staff(actor)


def can_moderate_post(actor: User | None, post: Post) -> bool:
    """Hide, unhide and read the edit history."""
    return can_read_post(actor, post) and is_category_staff(actor, post.thread.category_id)


def can_hide_post(actor: User | None, post: Post) -> bool:
    return can_moderate_post(actor, post) and post.deleted_at is None and post.hidden_at is None


def can_unhide_post(actor: User | None, post: Post) -> bool:
    return can_moderate_post(actor, post) and post.hidden_at is not None


def can_flag_post(actor: User | None, post: Post) -> bool:
    """Anyone who may post flags others' live posts."""
    return (can_read_post(actor, post) and can_participate(actor) and post.deleted_at is None
            and post.author_id != actor.id)


# The flag queue and the audit log


def can_resolve_flag(actor: User | None, flag: Flag) -> bool:
    return can_moderate_post(actor, flag.post)


def can_view_audit_log(actor: User | None) -> bool:
    """Category moderators read the entries of their categories; staff read them all."""
    return can_moderate_anything(actor)


# People and membership


def can_view_profile(actor: User | None, user: User) -> bool:
    return is_signed_in(actor)


def can_restrict_user(actor: User | None, user: User) -> bool:
    """Suspend or silence: moderators restrict members, admins also moderators; nobody
    restricts an admin or themselves."""
    if not is_staff(actor) or user.id == actor.id or user.role == Role.ADMIN:
        return False
    return user.role == Role.MEMBER or is_admin(actor)


def can_invite(actor: User | None, role: str) -> bool:
    """Staff invite members; only admins make more staff."""
    if role == Role.MEMBER:
        return is_staff(actor)
    return is_admin(actor)


def can_edit_organization(actor: User | None) -> bool:
    """An organization's settings (its email domains, which let people in by SSO) are admins'."""
    return is_admin(actor)


# Events and attendees. Privacy is decided here and nowhere else: who is listed by name, whose
# zone and distance others may see, who may be asked to meet.


def can_read_event(actor: User | None, event: Event) -> bool:
    return is_signed_in(actor)


def readable_events_clause(actor: User | None):
    return true() if is_signed_in(actor) else false()


def can_manage_events(actor: User | None) -> bool:
    """Create events and see their check-in code."""
    return is_staff(actor)


def can_check_in(actor: User | None, event: Event, now: datetime) -> bool:
    return can_read_event(actor, event) and event.is_on(now)


def is_listed(checkin: Checkin) -> bool:
    """Shown by name in attendee lists, searches and live pushes."""
    return checkin.visibility == Visibility.LISTED


def is_counted(checkin: Checkin) -> bool:
    """Counted in aggregates (listed people and those who chose to be a number only)."""
    return checkin.visibility in (Visibility.LISTED, Visibility.COUNT_ONLY)


def listed_clause():
    """SQL twin of `is_listed`."""
    return Checkin.visibility == Visibility.LISTED


def counted_clause():
    """SQL twin of `is_counted`."""
    return Checkin.visibility.in_([Visibility.LISTED, Visibility.COUNT_ONLY])


def shares_zone(checkin: Checkin) -> bool:
    return checkin.location != LocationSharing.NONE


def shares_zone_clause():
    return Checkin.location != LocationSharing.NONE


def shares_distance(checkin: Checkin) -> bool:
    return checkin.location == LocationSharing.APPROXIMATE and checkin.cell_x is not None


def shares_distance_clause():
    return and_(Checkin.location == LocationSharing.APPROXIMATE, Checkin.cell_x.is_not(None))


def can_ask_to_meet(actor: User | None, checkin: Checkin) -> bool:
    """Whether the actor may ask this (listed, present) attendee to meet, by their choice."""
    if not is_signed_in(actor) or actor.id == checkin.user_id or not is_listed(checkin):
        return False
    if checkin.who_may_ask == WhoMayAsk.ANYONE:
        return True
    return checkin.who_may_ask == WhoMayAsk.CUSTOMERS and not is_staff(actor)


def can_read_meeting(actor: User | None, meeting: MeetingRequest) -> bool:
    return is_signed_in(actor) and actor.id in (meeting.requester_id, meeting.recipient_id)


def can_answer_meeting(actor: User | None, meeting: MeetingRequest) -> bool:
    return (is_signed_in(actor) and actor.id == meeting.recipient_id
            and meeting.status == MeetingStatus.PENDING)
