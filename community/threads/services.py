"""Categories, threads and posts: every read goes through `access_*`/`list_*`, every write
through `do_*`, which check the policy, change the data and announce what happened."""
from datetime import datetime

from sqlalchemy import func, or_, select, update
from sqlalchemy.orm import contains_eager

from .. import events, permissions
from ..accounts.models import User
from ..accounts.services import check_not_silenced, find_users_by_handle, list_mention_candidates
from ..actors import Actor
from ..database import db, utcnow
from ..errors import Conflict, Forbidden, NotFound, ValidationFailed, check_fields
from ..markdown import mentioned_handles, render_markdown
from ..moderation import audit
from ..notifications import subscriptions
from ..notifications.services import notify
from ..pagination import Keyset, Page, check_limit
from ..uploads import services as uploads
from ..validation import check_text
from . import reading
from .models import Category, Post, PostRevision, Thread

MAX_TITLE_LENGTH = 200
MIN_TITLE_LENGTH = 3
MAX_BODY_LENGTH = 50_000
THREAD_SORTS = ("activity", "new", "top")
CATEGORY_KINDS = ("discussion", "support")

THREAD_KEYSETS = {
    "activity": Keyset(
        (Thread.last_activity_at, Thread.id), (datetime, int), lambda t: (t.last_activity_at, t.id)
    ),
    "new": Keyset((Thread.id,), (int,), lambda t: (t.id,)),
    "top": Keyset((Thread.reply_count, Thread.id), (int, int), lambda t: (t.reply_count, t.id)),
}
# Within one category pinned threads come first, in the same order among themselves.
PINNED_FIRST_KEYSETS = {
    sort: Keyset((Thread.pinned, *keyset.columns), (bool, *keyset.kinds),
                 lambda t, key=keyset.key: (t.pinned, *key(t)))
    for sort, keyset in THREAD_KEYSETS.items()
}
# Thread switches staff flip, each logged as its own action.
THREAD_SWITCHES = {"pinned": ("thread.pin", "thread.unpin"), "locked": ("thread.lock", "thread.unlock"),
                   "closed": ("thread.close", "thread.reopen")}
POST_KEYSET = Keyset((Post.id,), (int,), lambda p: (p.id,), descending=False)
RECENT_POSTS_KEYSET = Keyset((Post.id,), (int,), lambda p: (p.id,))
REVISIONS_KEYSET = Keyset((PostRevision.id,), (int,), lambda r: (r.id,))


# Checks

def check_title(title: str | None) -> str:
    return check_text("title", title, min_length=MIN_TITLE_LENGTH, max_length=MAX_TITLE_LENGTH, required=True,
                      missing=f"Use at least {MIN_TITLE_LENGTH} characters.")


def check_body(body: str | None) -> str:
    return check_text("body", body, max_length=MAX_BODY_LENGTH, required=True, multiline=True,
                      missing="Write something.")


def check_sort(sort: str | None) -> str:
    sort = sort or "activity"
    if sort not in THREAD_SORTS:
        raise ValidationFailed({"sort": "Sort by activity, new or top."})
    return sort


# Reads


def list_categories(actor: User | None) -> list[Category]:
    return list(
        db.session.scalars(
            select(Category)
            .where(permissions.readable_categories_clause(actor))
            .order_by(Category.position, Category.name)
        )
    )


def access_category(actor: User | None, category_id: int) -> Category:
    category = db.session.get(Category, category_id)
    if category is None or not permissions.can_read_category(actor, category):
        raise NotFound("No such category.")
    return category


def access_thread(actor: User | None, thread_id: int) -> Thread:
    thread = db.session.get(Thread, thread_id)
    if thread is None or not permissions.can_read_thread(actor, thread):
        raise NotFound("No such thread.")
    return thread


def access_post(actor: User | None, post_id: int) -> Post:
    post = db.session.get(Post, post_id)
    if post is None or not permissions.can_read_post(actor, post):
        raise NotFound("No such post.")
    return post


def list_threads(actor: User | None, *, category_id: int | None = None, sort: str | None = None,
                 cursor: str | None = None, limit=None, unsolved: bool = False) -> Page[Thread]:
    """Threads the actor may read, newest activity first (or newest, or most replied).
    Within one category, pinned threads come first. `unsolved` keeps the questions of support
    categories that have no solution yet."""
    keysets = THREAD_KEYSETS if category_id is None else PINNED_FIRST_KEYSETS
    keyset = keysets[check_sort(sort)]
    limit = check_limit(limit)
    query = (select(Thread).join(Thread.category)
             .options(contains_eager(Thread.category), *reading.reading_state_options(actor))
             .where(permissions.readable_threads_clause(actor)))
    if category_id is not None:
        access_category(actor, category_id)
        query = query.where(Thread.category_id == category_id)
    if unsolved:
        query = query.where(Category.kind == "support", Thread.solution_post_id.is_(None))
    return keyset.paginate(query, cursor, limit)


def list_posts(actor: User | None, thread_id: int, *, cursor: str | None = None, limit=None,
               since: datetime | None = None) -> Page[Post]:
    """Posts of a readable thread, oldest first. `since` keeps only posts written, edited,
    deleted, hidden or unhidden after that moment, for a client catching up after being offline."""
    thread = access_thread(actor, thread_id)
    query = select(Post).join(Post.thread).where(Post.thread_id == thread.id, permissions.readable_posts_clause(actor))
    if since is not None:
        query = query.where(or_(Post.created_at > since, Post.edited_at > since, Post.deleted_at > since,
                                Post.moderated_at > since))
    return POST_KEYSET.paginate(query, cursor, check_limit(limit))


def list_recent_posts(actor: User | None, author: User, limit: int = 10) -> list[Post]:
    """The author's latest posts that the actor may read, with their threads."""
    query = (
        select(Post)
        .join(Post.thread)
        .join(Thread.category)
        .options(contains_eager(Post.thread).contains_eager(Thread.category))
        .where(Post.author_id == author.id, permissions.readable_threads_clause(actor),
               permissions.readable_posts_clause(actor))
    )
    return RECENT_POSTS_KEYSET.paginate(query, None, limit).items


def count_threads_by_category(actor: User | None) -> dict[int, int]:
    rows = db.session.execute(
        select(Thread.category_id, func.count(Thread.id))
        .join(Thread.category)
        .where(permissions.readable_threads_clause(actor))
        .group_by(Thread.category_id)
    )
    return dict(rows.all())


# Writes


def render_post(body: str) -> tuple[str, list[User]]:
    """A post body's HTML, with its @mentions linked to the members they name (and its uploaded
    images sized, so pages reserve their space), and those members."""
    mentioned = find_users_by_handle(mentioned_handles(body))
    sizes = uploads.image_sizes(uploads.referenced_uploads(body))
    return render_markdown(body, {user.handle: user.id for user in mentioned}, sizes), mentioned


def preview(actor: User, body: str | None) -> str:
    """What a post with this body would show, rendered exactly as posting renders it."""
    if not permissions.can_participate(actor):
        raise Forbidden("You cannot write posts.")
    return render_post(check_body(body))[0]


def mention_candidates(actor: User, prefix: str, *, thread_id: int | None = None,
                       category_id: int | None = None) -> list[User]:
    """Members the actor may mention where they write: only those who can read it."""
    if thread_id is not None:
        thread = access_thread(actor, thread_id)
        return list_mention_candidates(actor, prefix, lambda user: permissions.can_read_thread(user, thread))
    if category_id is not None:
        category = access_category(actor, category_id)
        return list_mention_candidates(actor, prefix, lambda user: permissions.can_read_category(user, category))
    return list_mention_candidates(actor, prefix)


def _link_uploads(post: Post) -> None:
    """Readers of the post may fetch the uploads it shows; call after the post is flushed."""
    uploads.link_uploads(post, uploads.referenced_uploads(post.body))


def _notify_mentions(actor: User, thread: Thread, post: Post, mentioned: list[User]) -> None:
    """Tell the members a post mentions (those who may read it) about it; mentions are personal,
    so they reach members who muted the thread too. Call inside the post's transaction."""
    notify(mentioned, "mention", actor=actor, thread=thread, post_id=post.id,
           text=f'{actor.display_name} mentioned you in "{thread.title}"')


def do_create_thread(actor: User, category_id: int, title: str | None, body: str | None) -> Thread:
    category = access_category(actor, category_id)
    check_not_silenced(actor)
    if not permissions.can_create_thread(actor, category):
        raise Forbidden("You may not start threads here.")
    values = check_fields(title=(check_title, title), body=(check_body, body))
    thread, _ = add_thread(actor, category, values["title"], values["body"])
    events.commit()
    return thread


def add_thread(author: User, category: Category, title: str, body: str) -> tuple[Thread, Post]:
    """Write a thread and its first post, announcing it; call inside the transaction of an action
    that already checked the actor and validated `title` and `body`."""
    now = utcnow()
    body_html, mentioned = render_post(body)
    thread = Thread(category=category, author=author, title=title, created_at=now, last_activity_at=now)
    post = Post(thread=thread, author=author, body=body, body_html=body_html, created_at=now)
    db.session.add_all([thread, post])
    db.session.flush()
    _link_uploads(post)
    subscriptions.watch(author, thread)
    reading.mark_read(author, thread, post)
    _notify_mentions(author, thread, post, mentioned)
    notify([user for user in subscriptions.audience(category=category) if user not in mentioned], "new_thread",
           actor=author, thread=thread, post_id=post.id,
           text=f'{author.display_name} started "{title}" in {category.name}')
    events.announce(events.thread_created, thread=thread, post=post)
    return thread, post


def do_reply(actor: User, thread_id: int, body: str | None) -> Post:
    thread = access_thread(actor, thread_id)
    permissions.ensure(permissions.refusal_to_reply(actor, thread))
    body = check_body(body)
    now = utcnow()
    body_html, mentioned = render_post(body)
    post = Post(thread_id=thread.id, author=actor, body=body, body_html=body_html, created_at=now)
    db.session.add(post)
    # Counters move in SQL, so simultaneous replies never overwrite each other's increment.
    db.session.execute(
        update(Thread)
        .where(Thread.id == thread.id)
        .values(reply_count=Thread.reply_count + 1, last_activity_at=now)
        .execution_options(synchronize_session=False)
    )
    db.session.flush()
    _link_uploads(post)
    subscriptions.watch(actor, thread)
    reading.mark_read(actor, thread, post)  # one has read what one wrote
    _notify_mentions(actor, thread, post, mentioned)
    # One unread notification per thread and watcher, whose count grows with each reply.
    notify([user for user in subscriptions.audience(thread) if user not in mentioned], "reply", actor=actor,
           thread=thread, post_id=post.id, text=f'{actor.display_name} replied in "{thread.title}"', group=True)
    events.announce(events.post_created, thread=thread, post=post)
    events.commit()
    return post


def do_edit_post(actor: User, post_id: int, body: str | None) -> Post:
    """Change a post's body, keeping the version it replaces as a revision."""
    post = access_post(actor, post_id)
    check_not_silenced(actor)
    if not permissions.can_edit_post(actor, post):
        raise Forbidden("You may not edit this post.")
    body = check_body(body)
    if body != post.body:
        now = utcnow()
        revision = PostRevision(post_id=post.id, body=post.body, editor_id=post.editor_id or post.author_id,
                                created_at=post.edited_at or post.created_at)
        db.session.add(revision)
        db.session.flush()
        if actor.id != post.author_id:
            audit.record(actor, "post.edit", "post", post.id, category_id=post.thread.category_id,
                         before={"revision_id": revision.id})
        already_mentioned = mentioned_handles(post.body)
        post.body_html, mentioned = render_post(body)
        post.body = body
        post.edited_at = now
        post.editor_id = actor.id
        _link_uploads(post)
        _notify_mentions(actor, post.thread, post, [user for user in mentioned if user.handle not in already_mentioned])
        events.announce(events.post_updated, thread=post.thread, post=post)
    events.commit()
    return post


def list_post_revisions(actor: User, post_id: int, *, cursor: str | None = None, limit=None) -> Page[PostRevision]:
    """A post's former versions, newest first: for its staff only."""
    post = access_post(actor, post_id)
    if not permissions.can_moderate_post(actor, post):
        raise Forbidden("Only staff read the edit history.")
    query = select(PostRevision).where(PostRevision.post_id == post.id)
    return REVISIONS_KEYSET.paginate(query, cursor, check_limit(limit))


def do_mark_read(actor: User, thread_id: int, post_id: int) -> Thread:
    """Mark the thread read up to `post_id`, a post of it the actor may read; never backwards.
    Answers the thread with the actor's new reading state."""
    thread = access_thread(actor, thread_id)
    post = access_post(actor, post_id)
    if post.thread_id != thread.id:
        raise NotFound("No such post in this thread.")
    reading.mark_read(actor, thread, post)
    events.commit()
    return reading.load_reading_state(actor, thread)


def do_set_thread_subscription(actor: User, thread_id: int, level: str | None) -> str | None:
    """Watch or mute a thread, or with None forget the choice; answers the level now set."""
    thread = access_thread(actor, thread_id)
    subscriptions.set_level(actor, level, thread=thread)
    events.commit()
    return subscriptions.level_of(actor, thread=thread)


def do_set_category_subscription(actor: User, category_id: int, level: str | None) -> str | None:
    """Watch a category (its new threads and all their replies) or mute it; None forgets."""
    category = access_category(actor, category_id)
    subscriptions.set_level(actor, level, category=category)
    events.commit()
    return subscriptions.level_of(actor, category=category)


def do_create_category(actor: Actor, name: str | None, description: str | None = "",
                       staff_only: bool = False, position: int | None = None, kind: str | None = None) -> Category:
    kind = kind or "discussion"
    if kind not in CATEGORY_KINDS:
        raise ValidationFailed({"kind": "Use discussion or support."})
    if not permissions.can_manage_categories(actor):
        raise Forbidden("Only admins manage categories.")
    name = " ".join((name or "").split())
    if not name or len(name) > 80:
        raise ValidationFailed({"name": "Use 1 to 80 characters."})
    if db.session.scalar(select(Category.id).where(func.lower(Category.name) == name.lower())):
        raise Conflict("A category with that name exists.", code="category_exists")
    if position is None:
        position = (db.session.scalar(select(func.max(Category.position))) or 0) + 1
    category = Category(name=name, description=(description or "").strip(), staff_only=bool(staff_only),
                        position=position, kind=kind)
    db.session.add(category)
    db.session.flush()
    audit.record(actor, "category.create", "category", category.id, category_id=category.id,
                 after={"name": category.name, "staff_only": category.staff_only, "kind": category.kind})
    events.commit()
    return category


def do_delete_post(actor: User, post_id: int) -> Post:
    """Soft-delete a reply. The first post carries its thread and goes only with it."""
    post = access_post(actor, post_id)
    permissions.ensure(permissions.refusal_to_delete_post(actor, post))
    post.deleted_at = utcnow()
    post.deleted_by_id = actor.id
    if post.thread.solution_post_id == post.id:
        post.thread.solution_post_id = None  # a deleted reply solves nothing any more
    db.session.execute(
        update(Thread).where(Thread.id == post.thread_id).values(reply_count=Thread.reply_count - 1)
        .execution_options(synchronize_session=False)
    )
    if actor.id != post.author_id:
        audit.record(actor, "post.delete", "post", post.id, category_id=post.thread.category_id)
    events.announce(events.post_updated, thread=post.thread, post=post)
    events.commit()
    return post


def do_update_thread(actor: User, thread_id: int, changes: dict) -> Thread:
    """Apply `changes` (title, category_id, pinned, locked, closed): all or nothing.

    The author may retitle their own thread; everything else is for staff.
    """
    thread = access_thread(actor, thread_id)
    unknown = set(changes) - {"title", "category_id", "pinned", "locked", "closed"}
    if unknown:
        raise ValidationFailed({name: "Unknown field." for name in unknown})
    if "title" in changes and not permissions.can_edit_thread_title(actor, thread):
        raise Forbidden("You may not rename this thread.")
    if set(changes) - {"title"} and not permissions.can_moderate_thread(actor, thread):
        raise Forbidden("Only staff can move, pin, lock or close threads.")
    values = {}
    if "title" in changes:
        values["title"] = check_title(changes["title"])
    if "category_id" in changes:
        category = access_category(actor, changes["category_id"])
        permissions.ensure(permissions.refusal_to_move_thread(actor, thread, category))
        values["category_id"] = category.id
    for flag in THREAD_SWITCHES:
        if flag in changes:
            if not isinstance(changes[flag], bool):
                raise ValidationFailed({flag: "Must be true or false."})
            values[flag] = changes[flag]
    changed = {name: value for name, value in values.items() if getattr(thread, name) != value}
    source_category_id = thread.category_id
    for name, value in changed.items():
        # Renaming one's own thread is authorship; everything else here is a staff action.
        if name != "title" or actor.id != thread.author_id:
            action = {"title": "thread.rename", "category_id": "thread.move"}.get(name) or \
                THREAD_SWITCHES[name][0 if value else 1]
            audit.record(actor, action, "thread", thread.id, category_id=source_category_id,
                         before={name: getattr(thread, name)}, after={name: value})
        setattr(thread, name, value)
    if "category_id" in changed:
        thread.category = category  # keep the loaded relationship in step with the new id
    if changed.get("locked"):
        notify([thread.author], "thread_locked", actor=actor, thread=thread,
               text=f'{actor.display_name} locked your thread "{thread.title}"')
    if changed:
        events.announce(events.thread_updated, thread=thread)
    events.commit()
    return thread


def do_delete_thread(actor: User, thread_id: int, reason: str | None = "") -> Thread:
    """Soft-delete a thread: members lose it everywhere; its staff can restore it."""
    thread = access_thread(actor, thread_id)
    permissions.ensure(permissions.refusal_to_delete_thread(actor, thread))
    thread.deleted_at = utcnow()
    thread.deleted_by_id = actor.id
    reason = (reason or "").strip()
    audit.record(actor, "thread.delete", "thread", thread.id, category_id=thread.category_id, reason=reason)
    # Not tied to the thread: its author can no longer open it, but should know why it went.
    notify([thread.author], "thread_deleted", actor=actor,
           text=f'{actor.display_name} deleted your thread "{thread.title}"' + (f": {reason}" if reason else ""))
    events.announce(events.thread_updated, thread=thread)
    events.commit()
    return thread


def do_restore_thread(actor: User, thread_id: int) -> Thread:
    thread = access_thread(actor, thread_id)
    permissions.ensure(permissions.refusal_to_restore_thread(actor, thread))
    thread.deleted_at = None
    thread.deleted_by_id = None
    audit.record(actor, "thread.restore", "thread", thread.id, category_id=thread.category_id)
    events.announce(events.thread_updated, thread=thread)
    events.commit()
    return thread


def do_set_solution(actor: User, thread_id: int, post_id: int | None) -> Thread:
    """Mark a reply as the solution of a support question (None: unmark), telling its author."""
    thread = access_thread(actor, thread_id)
    permissions.ensure(permissions.refusal_to_mark_solution(actor, thread))
    post = None
    if post_id is not None:
        post = access_post(actor, post_id)
        if post.thread_id != thread.id:
            raise NotFound("No such post in this thread.")
        permissions.ensure(permissions.refusal_to_mark_solution(actor, thread, post))
    if thread.solution_post_id == (post.id if post else None):
        return thread
    thread.solution_post_id = post.id if post else None
    if actor.id != thread.author_id:
        audit.record(actor, "thread.solution" if post else "thread.unsolve", "thread", thread.id,
                     category_id=thread.category_id, after={"solution_post_id": thread.solution_post_id})
    if post is not None:
        notify([post.author], "solution", actor=actor, thread=thread, post_id=post.id,
               text=f'{actor.display_name} marked your answer as the solution of "{thread.title}"')
    events.announce(events.thread_updated, thread=thread)
    events.commit()
    return thread
