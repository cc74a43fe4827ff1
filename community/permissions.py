"""Who may do what: every rule, once.

Plain functions of their arguments, never of the request or the logged-in user, so web
views, the API, socket handlers and the CLI all ask the same questions. `actor` is a User,
or None for someone not signed in. Rules about which rows are visible are given here too,
as SQL clauses, so lists and searches filter exactly as the single-object checks do.
"""
from datetime import datetime

from sqlalchemy import and_, false, true

from .accounts.models import Role, User
from .gatherings.models import Checkin, Event, LocationSharing, MeetingRequest, MeetingStatus, Visibility, WhoMayAsk
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
    return can_read_category(actor, category)


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


# People and membership


def can_view_profile(actor: User | None, user: User) -> bool:
    return is_signed_in(actor)


def can_invite(actor: User | None, role: str) -> bool:
    """Staff invite members; only admins make more staff."""
    if role == Role.MEMBER:
        return is_staff(actor)
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
