"""Who may do what: every rule, once.

Plain functions of their arguments, never of the request or the logged-in user, so web
views, the API, socket handlers and the CLI all ask the same questions. `actor` is a User,
`SYSTEM` for the operator (CLI, demo seed) and the system itself, who act as an admin, or None
for someone not signed in, who may do nothing. Rules about which rows are visible are given here too,
as SQL clauses, so lists and searches filter exactly as the single-object checks do.

A rule whose refusal has a reason worth telling is written once as `refusal_to_*`, answering
None (allowed) or the domain error to raise: its `can_*` flag is "no refusal", and services raise
it with `ensure(refusal_to_*(...))`, so the flag clients see and the answer they get cannot disagree.

Every staff check about content asks one question: is this actor staff *for this category*
(`is_category_staff`)? Moderators and admins are staff everywhere; a category moderator only
in the categories assigned to them.
"""
from datetime import datetime
from functools import cache

from sqlalchemy import and_, event, false, inspect, or_, select, true
from sqlalchemy.orm import Session, joinedload

from .accounts.models import Role, User
from .actors import SYSTEM, Actor
from .database import db
from .errors import Conflict, DomainError, Forbidden, NotFound
from .gatherings.models import Checkin, Event, LocationSharing, MeetingRequest, MeetingStatus, Visibility, WhoMayAsk
from .ideas.models import Idea, IdeaStatus, status_label
from .moderation.models import CategoryModerator, Flag
from .threads.models import Category, Post, Thread

_MODERATED = "moderated_category_ids"


def ensure(refusal: DomainError | None) -> None:
    """Raise the refusal a `refusal_to_*` rule answered, if it answered one."""
    if refusal is not None:
        raise refusal


def is_member(actor: Actor | None) -> bool:
    """A person signed in and not suspended (not the system)."""
    return isinstance(actor, User) and actor.is_active


def is_signed_in(actor: Actor | None) -> bool:
    return actor is SYSTEM or is_member(actor)


def not_suspended_clause(now: datetime):
    """SQL twin of `not user.is_suspended` at `now`, on a query of User."""
    return or_(User.suspended_until.is_(None), User.suspended_until <= now)


def is_staff(actor: Actor | None) -> bool:
    """Staff everywhere: moderators and admins."""
    return actor is SYSTEM or is_member(actor) and actor.role in (Role.MODERATOR, Role.ADMIN)


def staff_clause(now: datetime):
    """SQL twin of `is_staff` at `now`, on a query of User."""
    return and_(User.role.in_([Role.MODERATOR, Role.ADMIN]), not_suspended_clause(now))


def is_admin(actor: Actor | None) -> bool:
    return actor is SYSTEM or is_member(actor) and actor.role == Role.ADMIN


def can_participate(actor: Actor | None) -> bool:
    """Post, reply, vote, flag: every member signed in who is not silenced."""
    return is_member(actor) and not actor.is_silenced


def _until(moment: datetime, reason: str) -> str:
    return moment.strftime("%Y-%m-%d %H:%M UTC") + (f": {reason}" if reason else "")


def account_suspended(user: User) -> Forbidden:
    """The refusal a suspended member gets: until when, and why."""
    return Forbidden(f"Your account is suspended until {_until(user.suspended_until, user.suspension_reason)}",
                     code="account_suspended")


def account_silenced(user: User) -> Forbidden:
    """The refusal a silenced member gets, from the service and on their disabled buttons alike:
    until when, and why."""
    return Forbidden("You can read but not post, vote or flag until "
                     f"{_until(user.silenced_until, user.silence_reason)}", code="account_silenced")


def moderated_category_ids(actor: Actor | None) -> frozenset[int]:
    """The categories a member moderates, as a set made once per transaction (a commit or
    rollback forgets it): a page of fifty posts asks it hundreds of times. Signing in loads the
    assignments with the member (`with_moderator_assignments`); otherwise they are queried here."""
    if not is_member(actor):
        return frozenset()
    # Kept by the member object, not its id: a stand-in (`stand_in`) borrows authors' ids.
    cache = db.session.info.setdefault(_MODERATED, {})
    if actor not in cache:
        if "moderator_assignments" in inspect(actor).unloaded:
            cache[actor] = frozenset(db.session.scalars(
                select(CategoryModerator.category_id).where(CategoryModerator.user_id == actor.id)))
        else:
            cache[actor] = frozenset(assignment.category_id for assignment in actor.moderator_assignments)
    return cache[actor]


def permission_class(actor: User) -> tuple:
    """All that the rules read of a member except who they are. Two members of one class may
    read, and may do, the same to everything neither of them wrote: the rules compare the actor
    with a row only through its author (`author_id == actor.id`). Pages of lists are shared by a
    class (`community.shared_pages`)."""
    return (is_member(actor), actor.role, actor.is_silenced, is_staff(actor), moderated_category_ids(actor))


def stand_in(actor: User) -> User:
    """A member of `actor`'s permission class who wrote nothing (id 0: no row has it), never
    stored. Giving it an author's id answers what that author of the class may do to their row."""
    member = User(id=0, role=actor.role, silenced_until=actor.silenced_until if actor.is_silenced else None)
    member.moderator_assignments = [CategoryModerator(category_id=category_id)
                                    for category_id in sorted(moderated_category_ids(actor))]
    return member


@cache  # built once per path: every signed-in request loads its member with it
def with_moderator_assignments(*path_to_member):
    """The loader option that reads a member's moderator assignments in the query that loads the
    member, e.g. `with_moderator_assignments(DeviceSession.user)` when loading a device session."""
    return joinedload(*path_to_member, User.moderator_assignments).lazyload(CategoryModerator.user)


@event.listens_for(Session, "after_commit")
@event.listens_for(Session, "after_rollback")
def _forget_moderated_categories(session):
    session.info.pop(_MODERATED, None)


def is_category_staff(actor: Actor | None, category_id: int) -> bool:
    return is_staff(actor) or category_id in moderated_category_ids(actor)


def staff_categories_clause(actor: Actor | None, category_column=Thread.category_id):
    """SQL twin of `is_category_staff` on a category id column."""
    if is_staff(actor):
        return true()
    ids = moderated_category_ids(actor)
    return category_column.in_(sorted(ids)) if ids else false()


def can_manage_jobs(actor: Actor | None) -> bool:
    """See background jobs (dead ones above all) and retry them: admins."""
    return is_admin(actor)


def can_manage_webhooks(actor: Actor | None) -> bool:
    """Webhooks send the community's content to other systems, so only admins set them up."""
    return is_admin(actor)


def can_moderate_anything(actor: Actor | None) -> bool:
    """Staff anywhere: may open the staff area (flag queue, audit log)."""
    return is_staff(actor) or bool(moderated_category_ids(actor))


# Categories and threads


def can_read_category(actor: Actor | None, category: Category) -> bool:
    return is_signed_in(actor) and (not category.staff_only or is_category_staff(actor, category.id))


def readable_categories_clause(actor: Actor | None):
    """SQL twin of `can_read_category`, for lists and counts."""
    if not is_signed_in(actor):
        return false()
    return or_(Category.staff_only.is_(False), staff_categories_clause(actor, Category.id))


def can_manage_categories(actor: Actor | None) -> bool:
    return is_admin(actor)


def refusal_to_assign_category_moderator(actor: Actor | None, user: User | None = None) -> DomainError | None:
    """Admins make members moderators of categories (`user`; None: whether the actor assigns and
    removes category moderators at all); moderators and admins moderate every category already."""
    if not is_admin(actor):
        return Forbidden("Only admins assign category moderators.")
    if user is not None and is_staff(user):
        return Conflict("Moderators and admins already moderate every category.", code="already_staff")
    return None


def can_assign_category_moderator(actor: Actor | None, user: User) -> bool:
    return refusal_to_assign_category_moderator(actor, user) is None


def can_read_thread(actor: Actor | None, thread: Thread) -> bool:
    """Deleted threads stay readable for staff of their category only."""
    return can_read_category(actor, thread.category) and (
        thread.deleted_at is None or is_category_staff(actor, thread.category_id))


def readable_threads_clause(actor: Actor | None):
    """SQL twin of `can_read_thread`; the query must join Thread's Category."""
    return and_(readable_categories_clause(actor),
                or_(Thread.deleted_at.is_(None), staff_categories_clause(actor)))


def can_create_thread(actor: Actor | None, category: Category) -> bool:
    """Threads of a category with a purpose (the ideas board) start only through their aggregate."""
    return can_read_category(actor, category) and category.purpose is None and can_participate(actor)


def refusal_to_reply(actor: Actor | None, thread: Thread) -> DomainError | None:
    """Locked and closed threads take replies from their staff only; deleted ones from nobody.
    A silenced member who may read the thread is told until when, like everywhere else."""
    if not can_read_thread(actor, thread) or not is_member(actor):
        return Forbidden("You may not reply here.")
    if actor.is_silenced:
        return account_silenced(actor)
    if thread.deleted_at is not None:
        return Conflict("This thread is deleted: it takes no new replies.", code="thread_deleted")
    if is_category_staff(actor, thread.category_id):
        return None
    if thread.locked:
        return Conflict("This thread is locked: it takes no new replies.", code="thread_locked")
    if thread.closed:
        return Conflict("This thread is closed: it takes no new replies.", code="thread_closed")
    return None


def can_reply(actor: Actor | None, thread: Thread) -> bool:
    return refusal_to_reply(actor, thread) is None


def can_edit_thread_title(actor: Actor | None, thread: Thread) -> bool:
    if not can_read_thread(actor, thread):
        return False
    if is_category_staff(actor, thread.category_id):
        return True
    return thread.author_id == actor.id and not thread.locked and can_participate(actor)


def can_moderate_thread(actor: Actor | None, thread: Thread) -> bool:
    """Pin, lock, close, move, rename, delete and restore."""
    return can_read_thread(actor, thread) and is_category_staff(actor, thread.category_id)


def refusal_to_move_thread(actor: Actor | None, thread: Thread, category: Category) -> DomainError | None:
    """Categories with a purpose (the ideas board) take no threads moved in: theirs start with
    their aggregate. A category moderator moves threads only between categories they moderate."""
    if not can_moderate_thread(actor, thread):
        return Forbidden("Only staff can move, pin, lock or close threads.")
    if category.id != thread.category_id and category.purpose is not None:
        return Conflict("Threads cannot be moved into that category: its threads start elsewhere "
                        "(the ideas board starts a thread with each idea).", code="category_reserved")
    if not is_category_staff(actor, category.id):
        return Forbidden("You may only move threads into categories you moderate.")
    return None


def can_move_thread_to(actor: Actor | None, thread: Thread, category: Category) -> bool:
    return refusal_to_move_thread(actor, thread, category) is None


def refusal_to_delete_thread(actor: Actor | None, thread: Thread) -> DomainError | None:
    if not can_moderate_thread(actor, thread):
        return Forbidden("Only staff delete threads.")
    if thread.deleted_at is not None:
        return Conflict("This thread is already deleted.", code="already_deleted")
    return None


def can_delete_thread(actor: Actor | None, thread: Thread) -> bool:
    return refusal_to_delete_thread(actor, thread) is None


def refusal_to_restore_thread(actor: Actor | None, thread: Thread) -> DomainError | None:
    if not can_moderate_thread(actor, thread):
        return Forbidden("Only staff restore threads.")
    if thread.deleted_at is None:
        return Conflict("This thread is not deleted.", code="not_deleted")
    return None


def can_restore_thread(actor: Actor | None, thread: Thread) -> bool:
    return refusal_to_restore_thread(actor, thread) is None


# Posts


def can_read_post(actor: Actor | None, post: Post) -> bool:
    """Deleted posts stay readable for staff of their category only."""
    return can_read_thread(actor, post.thread) and (
        post.deleted_at is None or is_category_staff(actor, post.thread.category_id))


def readable_posts_clause(actor: Actor | None):
    """SQL twin of `can_read_post` within readable threads; the query must join Thread."""
    return or_(Post.deleted_at.is_(None), staff_categories_clause(actor))


def can_read_post_body(actor: Actor | None, post: Post) -> bool:
    """A hidden post's body is for its author and its staff; others see a placeholder."""
    if not can_read_post(actor, post):
        return False
    return post.hidden_at is None or post.author_id == actor.id or is_category_staff(actor, post.thread.category_id)


def readable_post_bodies_clause(actor: Actor | None):
    """SQL twin of `can_read_post_body` within readable posts; the query must join Thread."""
    if not is_signed_in(actor):
        return false()
    return or_(Post.hidden_at.is_(None), Post.author_id == actor.id, staff_categories_clause(actor))


def can_see_hidden_reason(actor: Actor | None, post: Post) -> bool:
    return post.hidden_at is not None and can_read_post_body(actor, post)


def can_edit_post(actor: Actor | None, post: Post) -> bool:
    if not can_read_post(actor, post) or post.deleted_at is not None:
        return False
    if is_category_staff(actor, post.thread.category_id):
        return True
    return (post.author_id == actor.id and not post.thread.locked and post.thread.deleted_at is None
            and can_participate(actor))


def refusal_to_delete_post(actor: Actor | None, post: Post) -> DomainError | None:
    """Who may edit a post may delete it, except the first post: it carries its thread and goes
    only with it (delete the thread instead)."""
    if not can_edit_post(actor, post):
        return Forbidden("You may not delete this post.")
    if post.is_first:
        return Conflict("The first post carries the thread; it cannot be deleted on its own.", code="first_post")
    return None


def can_delete_post(actor: Actor | None, post: Post) -> bool:
    return refusal_to_delete_post(actor, post) is None


def can_react(actor: User | None, post: Post) -> bool:
    """Members react to others' live posts they can read, in threads that are not deleted."""
    return (can_read_post_body(actor, post) and can_participate(actor) and post.deleted_at is None
            and post.thread.deleted_at is None and post.author_id != actor.id)


def refusal_to_mark_solution(actor: Actor | None, thread: Thread, post: Post | None = None) -> DomainError | None:
    """In support categories, the one who asked (or the category's staff) marks which reply solved
    it: `post`, a reply still shown (None: unmark, or the question whether they may at all)."""
    if thread.category.kind != "support":
        return Conflict("Only questions in support categories have solutions.", code="not_a_question")
    allowed = can_read_thread(actor, thread) and thread.deleted_at is None and (
        is_category_staff(actor, thread.category_id)
        or thread.author_id == actor.id and can_participate(actor) and not thread.locked)
    if not allowed:
        return Forbidden("Only the one who asked, or the category's staff, marks the solution.")
    if post is not None and post.is_first:
        return Conflict("The question cannot be its own solution.", code="first_post")
    if post is not None and (post.deleted_at is not None or post.hidden_at is not None):
        return Conflict("A deleted or hidden post cannot be the solution.", code="post_unavailable")
    return None


def can_mark_solution(actor: Actor | None, thread: Thread, post: Post | None = None) -> bool:
    return refusal_to_mark_solution(actor, thread, post) is None


# Ideas: each one lives in its discussion thread, so it is exactly as readable as that thread.


def can_read_idea(actor: Actor | None, idea: Idea) -> bool:
    return can_read_thread(actor, idea.thread)


def can_post_idea(actor: Actor | None, board: Category | None) -> bool:
    """`board` is the ideas category, or None before the first idea creates it (readable to all)."""
    return can_participate(actor) and (board is None or can_read_category(actor, board))


def idea_closed_to_votes(idea: Idea) -> DomainError | None:
    """Closed ideas (shipped, declined, merged) take no more votes, nor withdrawals."""
    if idea.is_open:
        return None
    if idea.status == IdeaStatus.MERGED:
        return Conflict("This idea was merged into another: vote there instead.", code="idea_closed")
    return Conflict(f"This idea is {status_label(idea.status).lower()}: it takes no more votes.", code="idea_closed")


def refusal_to_vote(actor: Actor | None, idea: Idea) -> DomainError | None:
    """Why the actor may not vote on (or withdraw a vote from) the idea, or None; the vote
    button shows the reason."""
    if not can_read_idea(actor, idea) or not is_member(actor):
        return Forbidden("You may not vote on this idea.")
    if actor.is_silenced:
        return account_silenced(actor)
    return idea_closed_to_votes(idea)


def can_vote(actor: Actor | None, idea: Idea) -> bool:
    return refusal_to_vote(actor, idea) is None


def can_comment_on_idea(actor: Actor | None, idea: Idea) -> bool:
    return can_reply(actor, idea.thread)


def _refusal_to_act_as_idea_staff(actor: Actor | None, idea: Idea, what: str) -> DomainError | None:
    if not can_read_idea(actor, idea) or not is_category_staff(actor, idea.thread.category_id):
        return Forbidden(f"Only staff of the ideas board {what}.")
    return None


def _refusal_to_act_on_unmerged_idea(actor: Actor | None, idea: Idea, what: str) -> DomainError | None:
    """Staff of the ideas board act on an idea that is not merged: a merged one waits until it is unmerged."""
    refusal = _refusal_to_act_as_idea_staff(actor, idea, what)
    if refusal is None and idea.status == IdeaStatus.MERGED:
        return Conflict("This idea is merged into another: unmerge it first.", code="idea_merged")
    return refusal


def refusal_to_change_idea_status(actor: Actor | None, idea: Idea) -> DomainError | None:
    """Staff of the ideas board (category moderators of it included) answer; a merged idea keeps
    its status until it is unmerged."""
    return _refusal_to_act_on_unmerged_idea(actor, idea, "answer ideas and set their status")


def can_change_idea_status(actor: Actor | None, idea: Idea) -> bool:
    return refusal_to_change_idea_status(actor, idea) is None


def refusal_to_merge_idea(actor: Actor | None, idea: Idea) -> DomainError | None:
    """The one merge rule, for the service and the `can_merge` flag alike: staff of the ideas
    board (category moderators of it included) merge an idea that is not merged already."""
    return _refusal_to_act_on_unmerged_idea(actor, idea, "merge ideas")


def can_merge_idea(actor: Actor | None, idea: Idea) -> bool:
    return refusal_to_merge_idea(actor, idea) is None


def refusal_to_unmerge_idea(actor: Actor | None, idea: Idea) -> DomainError | None:
    """The one unmerge rule, for the service and the `can_unmerge` flag alike. Merges are undone
    from the far end: an idea whose target was merged in turn waits until that one is unmerged."""
    refusal = _refusal_to_act_as_idea_staff(actor, idea, "unmerge ideas")
    if refusal is not None:
        return refusal
    if idea.status != IdeaStatus.MERGED:
        return Conflict("This idea is not merged.", code="idea_not_merged")
    if idea.merged_into_status == IdeaStatus.MERGED:
        return Conflict("The idea this one went into was merged in turn: unmerge that one first.",
                        code="idea_merged")
    return None


def can_unmerge_idea(actor: Actor | None, idea: Idea) -> bool:
    return refusal_to_unmerge_idea(actor, idea) is None


def can_see_idea_organizations(actor: Actor | None) -> bool:
    """Everyone sees how many customer organizations want an idea; only staff see which."""
    return is_staff(actor)


def refusal_to_vote_for_members(actor: Actor | None, idea: Idea) -> DomainError | None:
    """Staff add or withdraw a customer's vote on their behalf (after a call, a support ticket),
    on an idea still open to votes."""
    if not is_staff(actor) or not can_read_idea(actor, idea):
        return Forbidden("Only staff vote on a member's behalf.")
    return idea_closed_to_votes(idea)


def can_vote_for_members(actor: Actor | None, idea: Idea) -> bool:
    return refusal_to_vote_for_members(actor, idea) is None


# Customer accounts: the vendor's view of organizations. Weights, tiers, CRM ids and account
# owners are for staff; members never see them, nor rank by them.


def can_view_organizations(actor: Actor | None) -> bool:
    """The account pages, an idea's demand, and each organization's weight."""
    return is_staff(actor)


def can_see_demand(actor: Actor | None) -> bool:
    return can_view_organizations(actor)


def can_own_accounts(user: User | None) -> bool:
    """Who may be an organization's account owner: a staff member."""
    return is_staff(user)


def can_moderate_post(actor: Actor | None, post: Post) -> bool:
    """Hide, unhide and read the edit history."""
    return can_read_post(actor, post) and is_category_staff(actor, post.thread.category_id)


def _refusal_to_act_as_post_staff(actor: Actor | None, post: Post) -> DomainError | None:
    if not can_moderate_post(actor, post):
        return Forbidden("Only staff of this category hide and unhide posts.")
    return None


def refusal_to_hide_post(actor: Actor | None, post: Post) -> DomainError | None:
    refusal = _refusal_to_act_as_post_staff(actor, post)
    if refusal is None and (post.deleted_at is not None or post.hidden_at is not None):
        return Conflict("This post is already hidden or deleted.", code="not_hideable")
    return refusal


def can_hide_post(actor: Actor | None, post: Post) -> bool:
    return refusal_to_hide_post(actor, post) is None


def refusal_to_unhide_post(actor: Actor | None, post: Post) -> DomainError | None:
    refusal = _refusal_to_act_as_post_staff(actor, post)
    if refusal is None and post.hidden_at is None:
        return Conflict("This post is not hidden.", code="not_hidden")
    return refusal


def can_unhide_post(actor: Actor | None, post: Post) -> bool:
    return refusal_to_unhide_post(actor, post) is None


def already_flagged() -> Conflict:
    return Conflict("You already flagged this post.", code="already_flagged")


def refusal_to_flag_post(actor: Actor | None, post: Post) -> DomainError | None:
    """Anyone who may post flags others' live posts, once. Whether the viewer flagged this one is
    known where its page was read for them (`moderation.services.attach_my_flags`); the flag's
    unique row decides in the end."""
    if is_member(actor) and actor.is_silenced:
        return account_silenced(actor)
    if not (can_read_post(actor, post) and can_participate(actor) and post.deleted_at is None
            and post.author_id != actor.id):
        return Forbidden("You cannot flag this post.")
    if getattr(post, "flagged_by_viewer", False):
        return already_flagged()
    return None


def can_flag_post(actor: Actor | None, post: Post) -> bool:
    return refusal_to_flag_post(actor, post) is None


# The flag queue and the audit log


def can_resolve_flag(actor: Actor | None, flag: Flag) -> bool:
    return can_moderate_post(actor, flag.post)


def can_join_moderation_room(actor: Actor | None) -> bool:
    """The `moderation` room hears every new flag, of every category: staff everywhere only
    (a category moderator works their flags from the queue, which filters by category)."""
    return is_member(actor) and is_staff(actor)


def can_join_personal_room(actor: Actor | None, user_id: int) -> bool:
    """`user:{id}` carries one member's notifications: that member only."""
    return is_member(actor) and actor.id == user_id


def refusal_to_view_audit_log(actor: Actor | None) -> DomainError | None:
    """Category moderators read the entries of their categories; staff read them all."""
    return None if can_moderate_anything(actor) else Forbidden("The audit log is for staff.")


# People and membership


def can_view_profile(actor: Actor | None, user: User) -> bool:
    return is_signed_in(actor)


def can_edit_profile(actor: Actor | None, user: User) -> bool:
    """One's profile is one's own: nobody else edits it, staff included."""
    return is_member(actor) and actor.id == user.id


def can_review_members(actor: Actor | None) -> bool:
    """The people pages (every member's email, restrictions, category assignments): staff everywhere."""
    return is_staff(actor)


def can_restrict_user(actor: Actor | None, user: User) -> bool:
    """Suspend or silence: moderators restrict members, admins also moderators; nobody
    restricts an admin or themselves."""
    if not is_staff(actor) or user.id == actor.id or user.role == Role.ADMIN:
        return False
    return user.role == Role.MEMBER or is_admin(actor)


def can_erase_user(actor: Actor | None, user: User) -> bool:
    """Admins erase members and moderators at their request (GDPR art. 17); an admin is erased
    only by their own request, and never the last one."""
    return is_admin(actor) and user.id != actor.id and user.role != Role.ADMIN and not user.is_erased


def can_invite(actor: Actor | None, role: str) -> bool:
    """Staff invite members; only admins make more staff."""
    if role == Role.MEMBER:
        return is_staff(actor)
    return is_admin(actor)


def can_sign_in_with_password(user: User, password_login: bool) -> bool:
    """With `PASSWORD_LOGIN=false` members sign in by single sign-on only; admins keep their
    password, so a broken provider never locks everyone out."""
    return password_login or user.role == Role.ADMIN


def can_edit_organization(actor: Actor | None) -> bool:
    """An organization's settings (its email domains, which let people in by SSO, its tier,
    weight, CRM id and account owner) are admins'."""
    return is_admin(actor)


# Events and attendees. Privacy is decided here and nowhere else: who is listed by name, whose
# zone and distance others may see, who may be asked to meet.


def can_read_event(actor: Actor | None, event: Event) -> bool:
    return is_signed_in(actor)


def readable_events_clause(actor: Actor | None):
    return true() if is_signed_in(actor) else false()


def can_manage_events(actor: Actor | None) -> bool:
    """Create events and see their check-in code."""
    return is_staff(actor)


def _refusal_to_read_event(actor: Actor | None, event: Event) -> NotFound | None:
    return None if can_read_event(actor, event) else NotFound("No such event.")


def _event_over(event: Event, now: datetime) -> Conflict | None:
    return Conflict("This event is over.", code="event_over") if now >= event.ends_at else None


def event_not_on(event: Event, now: datetime) -> Conflict | None:
    """Why the event is not on at `now`, or None: presence and meetings happen only while it is."""
    if now < event.starts_at:
        return Conflict("Check-in opens when the event starts.", code="event_not_started")
    return _event_over(event, now)


def refusal_to_check_in(actor: Actor | None, event: Event, now: datetime) -> DomainError | None:
    return _refusal_to_read_event(actor, event) or event_not_on(event, now)  # an error is never falsy


def can_check_in(actor: Actor | None, event: Event, now: datetime) -> bool:
    return refusal_to_check_in(actor, event, now) is None


def refusal_to_register(actor: Actor | None, event: Event, now: datetime) -> DomainError | None:
    """Why the actor may not register for the event, or None if they may: until it is over."""
    return _refusal_to_read_event(actor, event) or _event_over(event, now)


def can_register(actor: Actor | None, event: Event, now: datetime) -> bool:
    return refusal_to_register(actor, event, now) is None


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


def refusal_to_take_requests(checkin: Checkin, actor: Actor | None) -> Forbidden | None:
    """Why this (listed, present) attendee takes no meeting requests from the actor, by their
    choice, or None if they take them."""
    takes = is_member(actor) and actor.id != checkin.user_id and is_listed(checkin) and (
        checkin.who_may_ask == WhoMayAsk.ANYONE
        or checkin.who_may_ask == WhoMayAsk.CUSTOMERS and not is_staff(actor))
    return None if takes else Forbidden("This attendee does not take meeting requests from you.",
                                        code="meeting_requests_closed")


def refusal_to_ask_to_meet(actor: Actor | None, checkin: Checkin, *, asker_present: bool) -> DomainError | None:
    """Attendees ask attendees: the actor must be checked in there now (`asker_present`, as
    `presence.is_present` tells), and the attendee asked decides who may ask them."""
    if not asker_present:
        return Conflict("Check in to the event to ask people to meet.", code="not_checked_in")
    return refusal_to_take_requests(checkin, actor)


def can_ask_to_meet(actor: Actor | None, checkin: Checkin, *, asker_present: bool) -> bool:
    return refusal_to_ask_to_meet(actor, checkin, asker_present=asker_present) is None


def can_read_meeting(actor: Actor | None, meeting: MeetingRequest) -> bool:
    return is_member(actor) and actor.id in (meeting.requester_id, meeting.recipient_id)


def refusal_to_answer_meeting(actor: Actor | None, meeting: MeetingRequest) -> DomainError | None:
    """Why the actor may not accept or decline this meeting request, or None if they may."""
    if not can_read_meeting(actor, meeting):
        return NotFound("No such meeting request.")
    if actor.id != meeting.recipient_id:
        return Forbidden("Only the person asked can answer.")
    if meeting.status != MeetingStatus.PENDING:
        return Conflict("This request has already been answered.", code="meeting_already_answered")
    return None


def can_answer_meeting(actor: Actor | None, meeting: MeetingRequest) -> bool:
    return refusal_to_answer_meeting(actor, meeting) is None
