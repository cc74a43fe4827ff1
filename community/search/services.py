"""Ranked full-text search over threads, posts and ideas.

A hit is a thread (its title matched), an idea (its title or its description matched) or a
post (its body matched; an idea's description counts as the idea). Every query goes through the
permission module's SQL clauses, in the ranking and in the snippets alike, so nobody finds,
counts or reads an excerpt of what they may not see: staff-only categories, deleted threads,
deleted and hidden posts (but for their staff, and hidden posts for their authors), ideas in
threads they may not read.

The indexes are the database's own (see `schema`): PostgreSQL's `search_vector` columns ranked
with `ts_rank`, SQLite's FTS5 tables ranked with `bm25`. Either way the searcher's words are
reduced to plain terms first, so no query syntax ever reaches the database.
"""
import re
from dataclasses import dataclass
from enum import IntEnum

from markupsafe import Markup, escape
from sqlalchemy import Float, case, cast, column, func, literal_column, select, table, type_coerce, union_all

from .. import permissions
from ..accounts.models import User
from ..database import db
from ..errors import ValidationFailed
from ..ideas.models import Idea
from ..markdown import plain_text
from ..pagination import Keyset, Page, check_limit
from ..threads.models import Category, Post, Thread

MAX_QUERY_LENGTH = 200
MAX_TERMS = 12
TERM = re.compile(r"[^\W_]+")
# Hits are marked with characters no escaping touches, then the text is escaped, then the
# markers become <mark> tags: whatever a post contains, a snippet is safe HTML.
HIT_START, HIT_END = "\x02", "\x03"
_MARKED = re.compile(f"{HIT_START}(.*?){HIT_END}", re.S)
SNIPPET_WORDS = 24


class Kind(IntEnum):
    """What a hit is; the value breaks ties between equally ranked hits."""

    THREAD = 0
    IDEA = 1
    POST = 2


@dataclass(frozen=True)
class Hit:
    type: str
    id: int
    thread_id: int
    title: str
    snippet: Markup


def check_query(q: str | None) -> list[str]:
    """The words of a query, lower case: punctuation and query syntax are dropped."""
    q = (q or "").strip()
    if not q:
        raise ValidationFailed({"q": "Type what to search for."})
    if len(q) > MAX_QUERY_LENGTH:
        raise ValidationFailed({"q": f"Use at most {MAX_QUERY_LENGTH} characters."})
    terms = [term.lower() for term in TERM.findall(q)]
    if not terms:
        raise ValidationFailed({"q": "Search for words or numbers: punctuation alone finds nothing."})
    if len(terms) > MAX_TERMS:
        raise ValidationFailed({"q": f"Use at most {MAX_TERMS} words."})
    return terms


def highlighted(text: str) -> Markup:
    """Escape a snippet the database marked with HIT_START/HIT_END, and make the marks <mark>."""
    marked = _MARKED.sub(r"<mark>\1</mark>", str(escape(text)))
    # Escaped first; only our own marks become markup (bandit's B704 cannot see that).
    return Markup(marked.replace(HIT_START, "").replace(HIT_END, ""))  # nosec B704


class _Sqlite:
    """FTS5 external-content tables `threads_fts` (title) and `posts_fts` (body)."""

    def __init__(self, terms: list[str]):
        self.expression = " ".join(f'"{term}"' for term in terms)  # each term a quoted string

    def _fts(self, model):
        name = f"{model.__tablename__}_fts"
        fts = table(name, column("rowid"))
        return fts, literal_column(name), fts.join(model, model.id == fts.c.rowid)

    def matching(self, model):
        """(FROM clause joining the model, WHERE clause, score: higher is better)."""
        _, name, joined = self._fts(model)
        return joined, name.match(self.expression), -func.bm25(name)

    def snippet(self, model, column):
        """(FROM clause, WHERE clause, marked excerpt) for rows that matched."""
        _, name, joined = self._fts(model)
        if model is Thread:
            excerpt = func.highlight(name, 0, HIT_START, HIT_END)
        else:
            excerpt = func.snippet(name, 0, HIT_START, HIT_END, "…", SNIPPET_WORDS)
        return joined, name.match(self.expression), excerpt


class _Postgres:
    """Generated `search_vector` columns with GIN indexes on `threads` and `posts`."""

    CONFIG = literal_column("'english'::regconfig")

    def __init__(self, terms: list[str]):
        self.query = func.plainto_tsquery(self.CONFIG, " ".join(terms))

    def matching(self, model):
        vector = literal_column(f"{model.__tablename__}.search_vector")
        # ts_rank is a float4, which psycopg reads back rounded: as a double precision it
        # round-trips exactly through the page cursor.
        return model.__table__, vector.op("@@")(self.query), cast(func.ts_rank(vector, self.query), Float)

    def snippet(self, model, column):
        words = "HighlightAll=true" if model is Thread else (
            f"MaxWords={SNIPPET_WORDS}, MinWords={SNIPPET_WORDS // 2}, MaxFragments=2, FragmentDelimiter=\" … \"")
        options = f"StartSel={HIT_START}, StopSel={HIT_END}, {words}"
        vector = literal_column(f"{model.__tablename__}.search_vector")
        return model.__table__, vector.op("@@")(self.query), func.ts_headline(self.CONFIG, column, self.query, options)


def _backend(terms: list[str]):
    return _Postgres(terms) if db.session.get_bind().dialect.name == "postgresql" else _Sqlite(terms)


def _readable_bodies(actor: User | None):
    """Posts the actor may read the body of, in threads they may read; the query joins Thread and Category."""
    return (permissions.readable_threads_clause(actor), permissions.readable_posts_clause(actor),
            permissions.readable_post_bodies_clause(actor))


def _hits(actor: User | None, backend):
    """One row per hit: kind, id, thread_id, post_id (the post whose excerpt to show) and score."""
    source, match, score = backend.matching(Thread)
    titles = (
        select(case((Idea.id.is_not(None), Kind.IDEA), else_=Kind.THREAD).label("kind"),
               func.coalesce(Idea.id, Thread.id).label("id"), Thread.id.label("thread_id"),
               Idea.post_id.label("post_id"), type_coerce(score, Float).label("score"))
        .select_from(source).join(Category, Category.id == Thread.category_id)
        .outerjoin(Idea, Idea.thread_id == Thread.id)
        .where(match, permissions.readable_threads_clause(actor))
    )
    source, match, score = backend.matching(Post)
    bodies = (
        select(case((Idea.id.is_not(None), Kind.IDEA), else_=Kind.POST).label("kind"),
               func.coalesce(Idea.id, Post.id).label("id"), Post.thread_id.label("thread_id"),
               Post.id.label("post_id"), type_coerce(score, Float).label("score"))
        .select_from(source).join(Thread, Thread.id == Post.thread_id).join(Category, Category.id == Thread.category_id)
        .outerjoin(Idea, Idea.post_id == Post.id)
        .where(match, *_readable_bodies(actor))
    )
    found = union_all(titles, bodies).subquery()
    # An idea found by its title and by its description is one hit, ranked by the better match.
    return (
        select(found.c.kind, found.c.id, func.max(found.c.thread_id).label("thread_id"),
               func.max(found.c.post_id).label("post_id"), type_coerce(func.max(found.c.score), Float).label("score"))
        .group_by(found.c.kind, found.c.id)
        .subquery("hits")
    )


def _excerpts(actor: User | None, backend, model, ids: set[int]) -> dict[int, str]:
    """Marked excerpts of these threads' titles or posts' bodies, where they match, in one query."""
    if not ids:
        return {}
    column = Thread.title if model is Thread else Post.body
    source, match, excerpt = backend.snippet(model, column)
    query = select(model.id, excerpt).select_from(source)
    if model is Post:
        query = query.join(Thread, Thread.id == Post.thread_id)
        readable = _readable_bodies(actor)
    else:
        readable = (permissions.readable_threads_clause(actor),)
    query = query.join(Category, Category.id == Thread.category_id).where(model.id.in_(sorted(ids)), match, *readable)
    return dict(db.session.execute(query).all())


def search(actor: User | None, q: str | None, *, cursor: str | None = None, limit=None) -> Page[Hit]:
    """The hits the actor may see, best first, one page at a time."""
    terms = check_query(q)
    limit = check_limit(limit)
    backend = _backend(terms)
    hits = _hits(actor, backend)
    keyset = Keyset((hits.c.score, hits.c.kind, hits.c.id), (float, int, int), lambda r: (r.score, r.kind, r.id))
    query = select(hits, Thread.title).join(Thread, Thread.id == hits.c.thread_id)
    page = keyset.paginate(query, cursor, limit, rows=True)
    bodies = _excerpts(actor, backend, Post, {row.post_id for row in page.items if row.post_id is not None})
    titles = _excerpts(actor, backend, Thread, {row.thread_id for row in page.items if row.kind != Kind.POST})
    items = []
    for row in page.items:
        # A body's excerpt is a piece of Markdown: shown as the text a reader sees (`**Q3**` reads "Q3").
        excerpt = plain_text(bodies.get(row.post_id, ""))
        if row.kind != Kind.POST and HIT_START not in excerpt:
            excerpt = titles.get(row.thread_id, row.title)
        items.append(Hit(Kind(row.kind).name.lower(), row.id, row.thread_id, row.title, highlighted(excerpt)))
    return Page(items, page.next_cursor)
