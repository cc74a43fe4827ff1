"""Pages of the hot lists (threads, a thread's posts, ideas), made once for everyone who may
read and do the same (`permissions.permission_class`) and kept until something on them changes.

A page is made for a stand-in of the viewer's class who wrote none of it, dumped by the
list's marshmallow shape and encoded as JSON once; for each row the fields its own author
would see differently (edit and delete flags, a hidden post's body) are dumped as well, for
that author of the class. Each request then adds what is the viewer's own — their votes and
watches, how far they read, their reactions: one lookup of the page's ids — and joins the
encoded rows. The pages live in a `community.freshness` cache: every commit that changes a row
names the pages it makes stale (the tags below), so a page is never stale, in this process or
any other, and a member reads their own write at once.
"""
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from functools import cache
from types import SimpleNamespace

from flask import current_app
from marshmallow import Schema, fields

from . import freshness, permissions
from .accounts.models import User
from .ideas import services as ideas
from .ideas.models import Idea, IdeaMergeVote, IdeaOrganization, IdeaTag, IdeaVote
from .moderation import services as moderation
from .moderation.models import Flag
from .notifications.models import Subscription
from .shapes import Can, IdeaSchema, PostSchema, ThreadSchema, viewing_as
from .threads import reactions, reading
from .threads import services as threads
from .threads.models import Category, Post, PostReaction, Thread, ThreadRead

CACHE = "shared_pages"
CACHE_SIZE = 1_000  # pages per process (a page of posts may hold long bodies)
OWN_CACHE = "own_fields"
OWN_CACHE_SIZE = 20_000  # viewers' own fields of a page: small
# Tags every page carries: the categories decide who reads what; a statement that names no
# single member or organization may have renamed any author.
EVERY_PAGE = frozenset({"categories", "users", "organizations"})


@dataclass(frozen=True)
class SharedPage:
    """A page as a member of one class who wrote none of it sees it."""

    rows: tuple[dict, ...]  # the dumped rows
    encoded: tuple[bytes, ...]  # the same rows as JSON
    author_ids: tuple[int | None, ...]
    as_author: tuple[dict, ...]  # per row, the fields that differ for its author
    next_cursor: str | None
    tags: frozenset[str]


def page_key(name: str, viewer: User, params: tuple) -> tuple:
    """Who shares a page: the same list, asked the same way, by the same permission class."""
    return name, permissions.permission_class(viewer), params


@cache
def _schema(schema_class: type[Schema], only: tuple[str, ...] | None = None) -> Schema:
    return schema_class(only=only)


def _viewer_fields(schema_class: type[Schema]) -> list[str]:
    """The fields a dump computes for its viewer: permission flags and methods."""
    return [name for name, field in schema_class._declared_fields.items() if isinstance(field, Can | fields.Method)]


def _build(schema_class: type[Schema], viewer: User, load: Callable, author_of: Callable,
           tags_of: Callable[[list], Iterable[str]]) -> SharedPage:
    member = permissions.stand_in(viewer)
    with viewing_as(member):
        page = load(member)
        schema, for_author = _schema(schema_class), _schema(schema_class, tuple(_viewer_fields(schema_class)))
        rows = tuple(schema.dump(page.items, many=True))  # many: the shapes' lookups are made once for the page
        as_author = []
        for row, dumped in zip(page.items, rows, strict=True):
            member.id = author_of(row)  # the same class, as the row's author
            as_author.append({name: value for name, value in for_author.dump(row).items() if dumped[name] != value}
                             if member.id is not None else {})
        member.id = 0
    return SharedPage(rows, tuple(_encode(row) for row in rows), tuple(author_of(row) for row in page.items),
                      tuple(as_author), page.next_cursor, EVERY_PAGE | frozenset(tags_of(page.items)))


def _encode(value) -> bytes:
    # As flask's own JSON answers are encoded (sorted keys, compact), so the bytes — and the
    # ETag — are the same whichever way a page was made.
    return current_app.json.dumps(value, separators=(",", ":")).encode()


def _answer(page: SharedPage, viewer: User, own: dict[int, dict]) -> bytes:
    """The page's JSON for the viewer: `own` maps row positions to the viewer's own fields."""
    parts = list(page.encoded)
    for index, author_id in enumerate(page.author_ids):
        changes = {**(page.as_author[index] if author_id == viewer.id else {}), **own.get(index, {})}
        if changes:
            parts[index] = _encode({**page.rows[index], **changes})
    return b'{"items":[' + b",".join(parts) + b'],"next_cursor":' + _encode(page.next_cursor) + b"}\n"


def _shared(name: str, viewer: User, params: tuple, build: Callable[[], SharedPage]) -> SharedPage:
    return freshness.cache(CACHE, CACHE_SIZE).lookup(page_key(name, viewer, params), lambda page: page.tags, build)


@dataclass(frozen=True)
class OwnFields:
    """The viewer's own fields of one page, by row position."""

    page: SharedPage  # held, so the key's id of it cannot be reused while this is kept
    fields: dict[int, dict]
    tags: frozenset[str]


def _own(viewer: User, page: SharedPage, load: Callable[[], tuple[dict[int, dict], set[str]]]) -> dict[int, dict]:
    """The viewer's own fields of this very page (made again when the page is): kept until the page
    changes or the viewer's own state does (`own:{user id}`: their reads, votes, watches, reactions)."""
    def build():
        fields, tags = load()
        return OwnFields(page, fields, page.tags | {"own", f"own:{viewer.id}"} | tags)

    return freshness.cache(OWN_CACHE, OWN_CACHE_SIZE).lookup((viewer.id, id(page)), lambda own: own.tags, build).fields


def _author_tags(authors: Iterable[User | None]) -> set[str]:
    tags = set()
    for author in authors:
        if author is not None:
            tags |= {f"user:{author.id}", f"organization:{author.organization_id}"}
    return tags


def _own_fields(schema_class: type[Schema], names: tuple[str, ...], states: dict[int, object]) -> dict[int, dict]:
    """The viewer's own fields of the rows that have some, dumped by the list's shape."""
    schema = _schema(schema_class, names)
    return {index: schema.dump(state) for index, state in states.items()}


# The lists


THREAD_OWN = ("last_read_post_id", "unread_count")
POST_OWN = ("my_reactions",)
IDEA_OWN = ("has_voted", "importance", "vote_cast_by", "subscription")


def thread_page(viewer: User, *, category_id=None, sort=None, cursor=None, limit=None, unsolved=False) -> bytes:
    """`threads.list_threads` as JSON, for the viewer."""
    page = _shared("threads", viewer, (category_id, sort, cursor, limit, unsolved), lambda: _build(
        ThreadSchema, viewer,
        lambda member: threads.list_threads(member, category_id=category_id, sort=sort, cursor=cursor,
                                            limit=limit, unsolved=unsolved),
        lambda thread: thread.author_id,
        lambda items: {"threads", *(f"thread:{thread.id}" for thread in items)}
        | _author_tags(thread.author for thread in items)))
    def load():
        ids = [row["id"] for row in page.rows]
        states = reading.reading_states(viewer, ids)
        return _own_fields(ThreadSchema, THREAD_OWN, {
            index: SimpleNamespace(last_read_post_id=states[thread_id][0], unread_count=states[thread_id][1])
            for index, thread_id in enumerate(ids) if thread_id in states}), set()

    return _answer(page, viewer, _own(viewer, page, load))


def post_page(viewer: User, thread_id: int, *, cursor=None, limit=None, since=None) -> bytes:
    """`threads.list_posts` with reactions, as JSON, for the viewer."""
    def load(member):
        page = threads.list_posts(member, thread_id, cursor=cursor, limit=limit, since=since)
        reactions.attach(member, page.items)
        return page

    page = _shared("posts", viewer, (thread_id, cursor, limit, since), lambda: _build(
        PostSchema, viewer, load, lambda post: post.author_id,
        lambda items: {"posts", f"thread:{thread_id}", *(f"post:{post.id}" for post in items)}
        | _author_tags(post.author for post in items)))
    def load_own():
        ids = [row["id"] for row in page.rows]
        chosen = reactions.chosen_by(viewer, ids)
        own = _own_fields(PostSchema, POST_OWN, {
            index: SimpleNamespace(reaction_summary=reactions.Reactions(mine=chosen[post_id]))
            for index, post_id in enumerate(ids) if post_id in chosen})
        # A post the viewer flagged already takes no second flag (`permissions.refusal_to_flag_post`).
        for index, post in enumerate(moderation.attach_my_flags(viewer, [SimpleNamespace(id=i) for i in ids])):
            if post.flagged_by_viewer:
                own.setdefault(index, {})["can_flag"] = False
        return own, set()

    return _answer(page, viewer, _own(viewer, page, load_own))


def idea_page(viewer: User, *, status=None, sort=None, tag=None, cursor=None, limit=None) -> bytes:
    """`ideas.list_ideas` as JSON, for the viewer."""
    page = _shared("ideas", viewer, (status, sort, tag, cursor, limit), lambda: _build(
        IdeaSchema, viewer,
        lambda member: ideas.list_ideas(member, status=status, sort=sort, tag=tag, cursor=cursor, limit=limit),
        lambda idea: idea.thread.author_id, _idea_tags))
    def load():
        states = [SimpleNamespace(id=row["id"], thread_id=row["thread_id"], status=row["status"])
                  for row in page.rows]
        if states:
            ideas.mark_own_state(viewer, states)
        own = {index: state for index, state in enumerate(states) if state.has_voted or state.subscription}
        return (_own_fields(IdeaSchema, IDEA_OWN, own),
                {f"user:{state.vote_cast_by.id}" for state in own.values() if state.vote_cast_by is not None})

    return _answer(page, viewer, _own(viewer, page, load))


def _idea_tags(items: list[Idea]) -> set[str]:
    return ({"ideas", *(f"thread:{idea.thread_id}" for idea in items), *(f"post:{idea.post_id}" for idea in items)}
            | _author_tags([*(idea.author for idea in items), *(idea.answered_by for idea in items)]))


# What makes a page stale. A thread's list shows every thread; a page of posts shows its
# thread (locked, deleted...), its posts and their reactions; the ideas' pages every idea, and
# each idea's thread (title) and first post (description).


def _pinned(prefix: str, column: str, whole: set[str]):
    """Statement tags: `prefix:value` when the WHERE pins `column`, else `whole`."""
    def tags(statement):
        value = freshness.equals_in_where(statement, column)
        return {f"{prefix}:{value}"} if value is not None else whole
    return tags


freshness.watch(Category, lambda row: {"categories"}, lambda statement: {"categories"})
freshness.watch(Thread, lambda row: {"threads", f"thread:{row.id}"},
                lambda statement: {"threads"} | _pinned("thread", "id", {"posts", "ideas"})(statement))
# (Thread lists count the unread posts of each thread.)
freshness.watch(Post, lambda row: {f"thread:{row.thread_id}"},
                lambda statement: {"threads"} | _pinned("post", "id", {"posts", "ideas"})(statement))
for model in (Idea, IdeaTag, IdeaOrganization, IdeaMergeVote):
    freshness.watch(model, lambda row: {"ideas"}, lambda statement: {"ideas"})


def _own_state_of(statement) -> set[str]:
    """Statement tags of a member's own rows: the member the WHERE or the VALUES names, else all."""
    user_id = freshness.equals_in_where(statement, "user_id") or freshness.inserted_value(statement, "user_id")
    return {f"own:{user_id}"} if user_id is not None else {"own"}


# A member's own state: how far they read, their votes, watches, flags and reactions. (A vote also
# changes its idea's counts, and a reaction its post's: those pages are dropped too.)
for model in (ThreadRead, IdeaVote, Subscription, Flag):
    freshness.watch(model, lambda row: {f"own:{row.user_id}"}, _own_state_of)
freshness.watch(PostReaction, lambda row: {f"own:{row.user_id}", f"post:{row.post_id}"},
                lambda statement: _own_state_of(statement) | _pinned("post", "post_id", {"posts"})(statement))
