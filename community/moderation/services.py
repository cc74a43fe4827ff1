"""Staff tools: hiding posts, flags and their queue, suspending and silencing people, category
moderators, and reading the audit log. Every action is logged in its own transaction."""
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta

from flask import current_app
from sqlalchemy import delete, func, or_, select, update
from sqlalchemy.orm import joinedload

from .. import events, permissions
from ..accounts import device_sessions
from ..accounts import services as accounts
from ..accounts.models import Organization, User
from ..actors import SYSTEM, Actor, person
from ..database import db, insert_unless_exists, utcnow
from ..errors import Conflict, Forbidden, NotFound, ValidationFailed, check_fields
from ..gatherings.models import Event
from ..ideas.models import Idea
from ..notifications.services import notify
from ..pagination import Keyset, Page, check_limit
from ..threads import reactions
from ..threads import services as threads
from ..threads.models import Category, Post, Thread
from ..validation import check_choice, check_datetime, check_text
from ..webhooks.models import Webhook
from . import audit
from .models import AUDIT_TARGET_TYPES, AuditEntry, CategoryModerator, Flag, FlagReason, Resolution

MAX_REASON = 500
MAX_RESTRICTION = timedelta(days=365 * 100)
AUDIT_KEYSET = Keyset((AuditEntry.id,), (int,), lambda e: (e.id,))
# What each kind of target is called (posts and ideas take their thread's title: see _target_names).
AUDIT_TARGET_NAMES = {"thread": (Thread, Thread.title), "user": (User, User.display_name),
                      "category": (Category, Category.name), "event": (Event, Event.name),
                      "organization": (Organization, Organization.name), "webhook": (Webhook, Webhook.url)}
PEOPLE_KEYSET = Keyset((User.id,), (int,), lambda u: (u.id,), descending=False)
AUTO_HIDE_REASON = "Hidden automatically after flags from {count} members, until staff review it."


# Checks


def check_reason(reason: str | None, *, required: bool = True, name: str = "reason") -> str:
    return check_text(name, reason, max_length=MAX_REASON, required=required, missing="Give a reason.")


def check_flag_reason(reason: str | None) -> str:
    return check_choice("reason", reason, FlagReason)


def check_resolution(action: str | None) -> str:
    return check_choice("action", action, Resolution)


def check_until(until: datetime | date | str | None) -> datetime:
    """A moment in the future: an aware datetime, or a date (its midnight, UTC), or either as ISO text."""
    invalid = ValidationFailed({"until": "Give a future date, like 2030-01-31 or 2030-01-31T12:00:00Z."})
    if isinstance(until, str) and len(until.strip()) == len("2030-01-31"):
        try:
            until = date.fromisoformat(until.strip())
        except ValueError:
            raise invalid from None
    if isinstance(until, date) and not isinstance(until, datetime):
        until = datetime(until.year, until.month, until.day, tzinfo=UTC)
    until = check_datetime("until", until, invalid=invalid.fields["until"])
    now = utcnow()
    if until <= now or until - now > MAX_RESTRICTION:
        raise invalid
    return until


# Hiding posts


def _hide(actor: Actor, post: Post, reason: str) -> None:
    """Hide a post, log it and tell its author why; inside the caller's transaction."""
    now = utcnow()
    post.hidden_at, post.hidden_by_id, post.hidden_reason, post.moderated_at = now, actor.id, reason, now
    audit.record(actor, "post.hide", "post", post.id, category_id=post.thread.category_id, reason=reason)
    notify([post.author], "post_hidden", actor=person(actor), thread=post.thread, post_id=post.id,
           text=f"Your post in “{post.thread.title}” was hidden: {reason}")
    events.announce(events.post_updated, thread=post.thread, post=post)


def _resolve_open_flags(actor: User, post: Post, resolution: str) -> int:
    return db.session.execute(
        update(Flag).where(Flag.post_id == post.id, Flag.resolved_at.is_(None))
        .values(resolved_at=utcnow(), resolved_by_id=actor.id, resolution=resolution)
        .execution_options(synchronize_session=False)
    ).rowcount


def do_hide_post(actor: User, post_id: int, reason: str | None) -> Post:
    post = threads.access_post(actor, post_id)
    permissions.ensure(permissions.refusal_to_hide_post(actor, post))
    _hide(actor, post, check_reason(reason))
    events.commit()
    return post


def do_unhide_post(actor: User, post_id: int) -> Post:
    """Show a hidden post again. Its open flags count as reviewed: they are dismissed."""
    post = threads.access_post(actor, post_id)
    permissions.ensure(permissions.refusal_to_unhide_post(actor, post))
    audit.record(actor, "post.unhide", "post", post.id, category_id=post.thread.category_id,
                 before={"hidden_reason": post.hidden_reason})
    post.hidden_at, post.hidden_by_id, post.hidden_reason, post.moderated_at = None, None, "", utcnow()
    _resolve_open_flags(actor, post, Resolution.DISMISS)
    events.announce(events.post_updated, thread=post.thread, post=post)
    events.commit()
    return post


# Flags


def do_flag_post(actor: User, post_id: int, reason: str | None, text: str | None = "") -> Flag:
    """Flag a post, once per member and post. Enough distinct flaggers hide it until reviewed."""
    post = threads.access_post(actor, post_id)
    permissions.ensure(permissions.refusal_to_flag_post(actor, post))
    values = check_fields(reason=(check_flag_reason, reason),
                          text=(lambda v: check_reason(v, required=False, name="text"), text))
    if values["reason"] == FlagReason.OTHER and not values["text"]:
        raise ValidationFailed({"text": "Say what is wrong."})
    inserted = insert_unless_exists(Flag, post_id=post.id, user_id=actor.id, **values)
    if inserted is None:
        events.rollback()
        raise permissions.already_flagged()
    flag = db.session.get(Flag, inserted.id)
    events.announce(events.flag_created, flag=flag, post=post)
    _hide_if_flagged_enough(post)
    events.commit()
    return flag


def attach_my_flags(actor: User, posts: list[Post]) -> list[Post]:
    """Set `post.flagged_by_viewer` on each post (one query), so a page says "You flagged this"
    where a second flag would be refused."""
    ids = {post.id for post in posts}
    mine = set()
    if ids and permissions.is_member(actor):
        mine = set(db.session.scalars(select(Flag.post_id).where(Flag.user_id == actor.id,
                                                                  Flag.post_id.in_(sorted(ids)))))
    for post in posts:
        post.flagged_by_viewer = post.id in mine
    return posts


def _hide_if_flagged_enough(post: Post) -> None:
    threshold = current_app.config["FLAG_AUTO_HIDE_THRESHOLD"]
    # Flaggers of one post take turns from here, so the last of a burst counts every flag
    # committed before it (NO KEY UPDATE: the flag's own foreign key holds a KEY SHARE lock).
    db.session.execute(select(Post.id).where(Post.id == post.id).with_for_update(key_share=True))
    count = db.session.scalar(select(func.count(Flag.id)).where(Flag.post_id == post.id, Flag.resolved_at.is_(None)))
    if count < threshold or post.hidden_at is not None:
        return
    # Conditional, so two flags crossing the threshold at once hide (and notify) once.
    claimed = db.session.execute(
        update(Post).where(Post.id == post.id, Post.hidden_at.is_(None)).values(hidden_at=utcnow())
        .execution_options(synchronize_session=False)
    ).rowcount
    if claimed == 1:
        _hide(SYSTEM, post, AUTO_HIDE_REASON.format(count=count))


@dataclass
class QueueItem:
    """One flagged post in the queue: `flag_id` (its oldest open flag) names it for resolving."""

    flag_id: int
    post: Post
    flag_count: int
    first_flagged_at: datetime
    flags: list[Flag] = field(default_factory=list)

    @property
    def reasons(self) -> dict[str, int]:
        return dict(Counter(flag.reason for flag in self.flags))


def list_flag_queue(actor: User, *, cursor: str | None = None, limit=None) -> Page[QueueItem]:
    """Posts with open flags in the categories the actor moderates, oldest flag first."""
    if not permissions.can_moderate_anything(actor):
        raise Forbidden("The flag queue is for staff.")
    groups = (
        select(Flag.post_id, func.min(Flag.created_at).label("first_flagged_at"),
               func.count(Flag.id).label("flag_count"), func.min(Flag.id).label("flag_id"))
        .join(Post, Post.id == Flag.post_id).join(Thread, Thread.id == Post.thread_id)
        .where(Flag.resolved_at.is_(None), permissions.staff_categories_clause(actor))
        .group_by(Flag.post_id)
        .subquery()
    )
    keyset = Keyset((groups.c.first_flagged_at, groups.c.post_id), (datetime, int),
                    lambda row: (row.first_flagged_at, row.Post.id), descending=False)
    query = (select(Post, groups.c.first_flagged_at, groups.c.flag_count, groups.c.flag_id)
             .join(groups, groups.c.post_id == Post.id)
             .options(joinedload(Post.thread).joinedload(Thread.category)))
    page = keyset.paginate(query, cursor, check_limit(limit), rows=True)
    items = [QueueItem(row.flag_id, row.Post, row.flag_count, row.first_flagged_at) for row in page.items]
    by_post = {item.post.id: item for item in items}
    for flag in db.session.scalars(select(Flag).where(Flag.post_id.in_(list(by_post)), Flag.resolved_at.is_(None))
                                   .order_by(Flag.id)):
        by_post[flag.post_id].flags.append(flag)
    reactions.attach(actor, [item.post for item in items])  # the queue shows posts as lists do: one query
    return Page(items, page.next_cursor)


@dataclass
class FlagResolution:
    action: str
    post: Post
    resolved_count: int


def do_resolve_flag(actor: User, flag_id: int, action: str | None, reason: str | None = "") -> FlagResolution:
    """Resolve a flagged post: hide it, or dismiss its flags. Either way every open flag of the
    post is resolved, and a post hidden only by flags is shown again when they are dismissed."""
    flag = db.session.get(Flag, flag_id)
    if flag is None or not permissions.can_resolve_flag(actor, flag):
        raise NotFound("No such flag.")
    if flag.resolved_at is not None:
        raise Conflict("This flag was already resolved.", code="already_resolved")
    values = check_fields(action=(check_resolution, action), reason=(lambda v: check_reason(v, required=False), reason))
    post = flag.post
    if values["action"] == Resolution.HIDE:
        if post.hidden_at is None:
            permissions.ensure(permissions.refusal_to_hide_post(actor, post))
            _hide(actor, post, values["reason"] or "Hidden after staff reviewed flags.")
        else:
            post.hidden_by_id = actor.id  # hidden by flags, now confirmed by staff
    elif post.hidden_at is not None and post.hidden_by_id is None:
        post.hidden_at, post.hidden_reason, post.moderated_at = None, "", utcnow()
        events.announce(events.post_updated, thread=post.thread, post=post)
    resolved = _resolve_open_flags(actor, post, values["action"])
    audit.record(actor, f"flag.{values['action']}", "post", post.id, category_id=post.thread.category_id,
                 after={"flags_resolved": resolved}, reason=values["reason"])
    events.commit()
    return FlagResolution(values["action"], post, resolved)


# People


def access_user_to_restrict(actor: User, user_id: int) -> User:
    user = accounts.access_user(actor, user_id)
    if not permissions.can_restrict_user(actor, user):
        raise Forbidden("You may not restrict this member.")
    return user


def _restrict(actor: User, user_id: int, kind: str, until, reason: str | None) -> User:
    """Suspend or silence (`kind`) until a moment, with a reason; or lift it (`until` None)."""
    user = access_user_to_restrict(actor, user_id)
    until_field, reason_field = {"suspend": ("suspended_until", "suspension_reason"),
                                 "silence": ("silenced_until", "silence_reason")}[kind]
    before = getattr(user, until_field)
    if until is None:
        if before is None or before <= utcnow():
            raise Conflict(f"This member is not {kind}ed.", code=f"not_{kind}ed")
        values = {until_field: None, reason_field: ""}
        action = f"user.un{kind}"
    else:
        checked = check_fields(until=(check_until, until), reason=(check_reason, reason))
        values = {until_field: checked["until"], reason_field: checked["reason"]}
        action = f"user.{kind}"
    audit.record(actor, action, "user", user.id, reason=values[reason_field],
                 before={"until": before.isoformat() if before else None},
                 after={"until": values[until_field].isoformat() if values[until_field] else None})
    for name, value in values.items():
        setattr(user, name, value)
    if action == "user.suspend":
        # Every web and device session ends now: cookies and tokens stop working, refresh tokens too,
        # pushes with them.
        device_sessions.end_all_sessions(user.id)
        events.announce(events.user_suspended, user=user)
    events.commit()
    return user


def do_suspend(actor: User, user_id: int, until, reason: str | None) -> User:
    """The member cannot sign in until then, and is told why; their sessions end at once."""
    return _restrict(actor, user_id, "suspend", until, reason)


def do_unsuspend(actor: User, user_id: int) -> User:
    return _restrict(actor, user_id, "suspend", None, None)


def do_silence(actor: User, user_id: int, until, reason: str | None) -> User:
    """The member keeps reading but cannot post, vote or flag until then."""
    return _restrict(actor, user_id, "silence", until, reason)


def do_unsilence(actor: User, user_id: int) -> User:
    return _restrict(actor, user_id, "silence", None, None)


def list_people(actor: User, *, search: str | None = None, restricted_only: bool = False,
                cursor: str | None = None, limit=None) -> Page[User]:
    """Members for staff to review, by name or email; `restricted_only` keeps the suspended and silenced."""
    if not permissions.can_review_members(actor):
        raise Forbidden("Only staff review members.")
    query = select(User)
    if search and search.strip():
        pattern = f"%{search.strip().lower()}%"
        query = query.where(or_(func.lower(User.display_name).like(pattern), func.lower(User.email).like(pattern)))
    if restricted_only:
        now = utcnow()
        query = query.where(or_(User.suspended_until > now, User.silenced_until > now))
    return PEOPLE_KEYSET.paginate(query, cursor, check_limit(limit))


# Category moderators


def _access_assignment(actor: User, category_id: int, user_id: int):
    permissions.ensure(permissions.refusal_to_assign_category_moderator(actor))
    return threads.access_category(actor, category_id), accounts.access_user(actor, user_id)


def do_assign_category_moderator(actor: User, category_id: int, user_id: int) -> CategoryModerator:
    """Make a member moderator of one category; assigning twice changes nothing."""
    category, user = _access_assignment(actor, category_id, user_id)
    permissions.ensure(permissions.refusal_to_assign_category_moderator(actor, user))
    if insert_unless_exists(CategoryModerator, category_id=category.id, user_id=user.id) is not None:
        audit.record(actor, "category.add_moderator", "user", user.id, category_id=category.id,
                     after={"category_id": category.id})
    events.commit()
    return db.session.get(CategoryModerator, (category.id, user.id))


def do_remove_category_moderator(actor: User, category_id: int, user_id: int) -> None:
    category, user = _access_assignment(actor, category_id, user_id)
    removed = db.session.execute(
        delete(CategoryModerator).where(CategoryModerator.category_id == category.id,
                                        CategoryModerator.user_id == user.id)).rowcount
    if not removed:
        raise NotFound("That member does not moderate this category.")
    audit.record(actor, "category.remove_moderator", "user", user.id, category_id=category.id,
                 before={"category_id": category.id})
    events.commit()


def list_category_moderators(actor: User, category_id: int) -> list[CategoryModerator]:
    category = threads.access_category(actor, category_id)
    return list(db.session.scalars(
        select(CategoryModerator).where(CategoryModerator.category_id == category.id)
        .order_by(CategoryModerator.user_id)))


def list_moderated_categories(actor: User, user_id: int) -> list[int]:
    """The ids of the categories a member moderates (for staff reviewing them)."""
    if not permissions.can_review_members(actor):
        raise Forbidden("Only staff review members.")
    user = accounts.access_user(actor, user_id)
    return list(db.session.scalars(select(CategoryModerator.category_id).where(CategoryModerator.user_id == user.id)
                                   .order_by(CategoryModerator.category_id)))


# The audit log


def list_audit_log(actor: User, *, actor_id: int | None = None, action: str | None = None,
                   target_type: str | None = None, target_id: int | None = None,
                   cursor: str | None = None, limit=None) -> Page[AuditEntry]:
    """Staff actions, newest first, filtered by who, what and which target."""
    permissions.ensure(permissions.refusal_to_view_audit_log(actor))
    if target_type not in (None, "", *AUDIT_TARGET_TYPES):
        raise ValidationFailed({"target_type": "Choose one of the kinds of target listed."})
    query = select(AuditEntry).where(permissions.staff_categories_clause(actor, AuditEntry.category_id))
    for column, value in ((AuditEntry.actor_id, actor_id), (AuditEntry.action, action),
                          (AuditEntry.target_type, target_type), (AuditEntry.target_id, target_id)):
        if value is not None and value != "":
            query = query.where(column == value)
    return AUDIT_KEYSET.paginate(query, cursor, check_limit(limit))


@dataclass(frozen=True)
class AuditChoices:
    """What the audit log's filters offer: the people and the actions the viewer's log holds."""

    actors: list[tuple[int, str]]
    actions: list[str]


def list_audit_choices(actor: User) -> AuditChoices:
    """The filters' choices, by name, from the entries the actor may read (two queries)."""
    permissions.ensure(permissions.refusal_to_view_audit_log(actor))
    visible = permissions.staff_categories_clause(actor, AuditEntry.category_id)
    actors = db.session.execute(
        select(User.id, User.display_name).where(User.id.in_(select(AuditEntry.actor_id).where(visible)))
        .order_by(User.display_name, User.id)).all()
    actions = db.session.scalars(select(AuditEntry.action).where(visible).distinct().order_by(AuditEntry.action))
    return AuditChoices([tuple(row) for row in actors], list(actions))


@dataclass(frozen=True)
class AuditTarget:
    """What an entry's target is called now, and for a post the thread it is in."""

    name: str
    thread_id: int | None = None


def _target_names(target_type: str, ids: list[int]) -> dict[int, AuditTarget]:
    if target_type == "post":
        rows = db.session.execute(select(Post.id, Thread.title, Thread.id).join(Thread, Thread.id == Post.thread_id)
                                  .where(Post.id.in_(ids)))
        return {post_id: AuditTarget(f"a post in “{title}”", thread_id) for post_id, title, thread_id in rows}
    if target_type == "idea":
        rows = db.session.execute(select(Idea.id, Thread.title).join(Thread, Thread.id == Idea.thread_id)
                                  .where(Idea.id.in_(ids)))
        return {idea_id: AuditTarget(title) for idea_id, title in rows}
    model, column = AUDIT_TARGET_NAMES[target_type]
    return {row_id: AuditTarget(name) for row_id, name in
            db.session.execute(select(model.id, column).where(model.id.in_(ids)))}


def describe_audit_targets(entries: list[AuditEntry]) -> dict[tuple[str, int], AuditTarget]:
    """The names of a page of entries' targets, one query per kind of target on the page.
    Call with entries the viewer may read (from `list_audit_log`): a target named here is one
    their log already shows. A target that no longer exists has no name."""
    by_type: dict[str, set[int]] = {}
    for entry in entries:
        by_type.setdefault(entry.target_type, set()).add(entry.target_id)
    names = {}
    for target_type, ids in by_type.items():
        if target_type in AUDIT_TARGET_TYPES:
            names.update({(target_type, target_id): target for target_id, target in
                          _target_names(target_type, sorted(ids)).items()})
    return names
