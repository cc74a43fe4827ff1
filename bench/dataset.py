"""Benchmark data sets, built with the project's own schema and models, fast.

The schema comes from the migrations (as in production); rows go in with PostgreSQL's COPY
into the models' tables (`Model.__table__`), so a million posts take seconds, not the hours
the API would. Each size lives in its own database, kept between runs and rebuilt only when
the migrations or this builder change (the database's comment records both).
"""
import random
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import sqlalchemy as sa
from alembic.script import ScriptDirectory
from flask_migrate import upgrade
from werkzeug.security import generate_password_hash

from community import MIGRATIONS_DIRECTORY
from community.accounts.models import Organization, Role, User, UserInterest
from community.database import db
from community.gatherings.models import Checkin, Event, EventZone, LocationSharing, Visibility
from community.ideas.models import Idea, IdeaOrganization, IdeaTag, IdeaVote
from community.ideas.services import BOARD_DESCRIPTION, BOARD_PURPOSE, vote_weight
from community.markdown import render_markdown
from community.threads.models import Category, Post, Thread

BUILDER_VERSION = "4"  # bump when what is built changes, so kept databases are rebuilt
SIZES = {"1k": 1_000, "100k": 100_000, "1m": 1_000_000}
PASSWORD = "roundtable-bench"
POSTS_PER_THREAD = 20
MAX_ATTENDEES = 100_000
ORGANIZATIONS = 100
CATEGORIES = 8
VENUE = (38.7223, -9.1393)  # the event's centre; cells are 50 m, so ±20 cells is a 2 km square
CELLS = 20
INTERESTS = ["analytics", "api", "billing", "mobile", "security", "sso", "reporting", "integrations",
             "workflow", "exports"]
BODIES = [
    "Thanks, that **works** for us too. We rolled it out to two teams last week.",
    "Could you share the *exact* settings? We see a timeout after 30 seconds on large exports.",
    "+1 from our side: we need this for the audit in Q3.\n\n- SSO\n- exports\n- retention",
    "We worked around it with a nightly job, see [the docs](https://example.com/docs) for the API.",
]


@dataclass(frozen=True)
class Shape:
    """How many of each thing a data set with `posts` posts holds."""

    posts: int

    @property
    def threads(self) -> int:
        return max(self.posts // POSTS_PER_THREAD, 1)

    @property
    def ideas(self) -> int:
        # Enough for full pages at every size; every idea is one of the threads.
        return min(max(self.threads // 10, 30), self.threads)

    @property
    def attendees(self) -> int:
        return min(max(self.posts, 1_000), MAX_ATTENDEES)

    @property
    def users(self) -> int:
        return self.attendees


def database_name(size: str) -> str:
    return f"roundtable_bench_{size}"


def fingerprint() -> str:
    """Changes when the schema (migrations head) or this builder changes."""
    head = ScriptDirectory(MIGRATIONS_DIRECTORY).get_current_head()
    return f"roundtable-bench {BUILDER_VERSION} {head}"


def ensure(admin_url: sa.URL, size: str, make_app, rebuild: bool = False) -> str:
    """The URL of the data set `size`, built unless an up-to-date one is kept."""
    name = database_name(size)
    url = admin_url.set(database=name)
    admin = sa.create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        comment = connection.scalar(sa.text(
            "SELECT shobj_description(oid, 'pg_database') FROM pg_database WHERE datname = :name"), {"name": name})
    wanted = fingerprint()
    if comment == wanted and not rebuild:
        admin.dispose()
        return url.render_as_string(hide_password=False)
    started = time.monotonic()
    with admin.connect() as connection:
        connection.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        connection.execute(sa.text(f'CREATE DATABASE "{name}"'))
    app = make_app(url.render_as_string(hide_password=False))
    with app.app_context():
        upgrade(directory=MIGRATIONS_DIRECTORY)
        _load(Shape(SIZES[size]))
        db.engine.dispose()
    with admin.connect() as connection:
        connection.execute(sa.text(f'COMMENT ON DATABASE "{name}" IS \'{wanted}\''))
    admin.dispose()
    print(f"built data set {size} in {time.monotonic() - started:.0f} s", flush=True)
    return url.render_as_string(hide_password=False)


def _copy(connection, model, columns: list[str], rows) -> None:
    """COPY rows into a model's table: the fastest way PostgreSQL takes rows in. Required columns
    left out take the model's own default (COPY skips the ORM that would apply it), so a column
    a later migration adds does not break the builder."""
    table = model.__table__
    for name in columns:
        assert name in table.c, f"{table.name} has no column {name}"
    defaults = {column.name: column.default.arg for column in table.c
                if column.name not in columns and not column.nullable and not column.primary_key
                and column.server_default is None and column.default is not None and column.default.is_scalar}
    statement = f"COPY {table.name} ({', '.join([*columns, *defaults])}) FROM STDIN"
    with connection.connection.driver_connection.cursor() as cursor, cursor.copy(statement) as copy:
        for row in rows:
            copy.write_row((*row, *defaults.values()))


def _naive(moment: datetime) -> datetime:
    """COPY bypasses the UTCDateTime type, which stores naive UTC: do what it would."""
    return moment.astimezone(UTC).replace(tzinfo=None)


def _load(shape: Shape) -> None:
    rng = random.Random(42)
    now = datetime.now(UTC)
    start = now - timedelta(days=60)
    password_hash = generate_password_hash(PASSWORD)
    with db.engine.begin() as connection:
        connection.execute(sa.insert(Organization.__table__), [
            {"id": i, "name": f"Customer {i}", "name_key": f"customer {i}", "created_at": start}
            for i in range(1, ORGANIZATIONS + 1)])
        # User 1 is the bench's reader (a member); 2 is a moderator; the rest are members.
        _copy(connection, User, ["id", "email", "display_name", "handle", "password_hash", "organization_id",
                                 "job_title", "bio", "role", "suspension_reason", "silence_reason",
                                 "email_mentions", "email_digest", "created_at"],
              ((i, f"user{i}@bench.test", f"Member {i}", f"member_{i}", password_hash, i % ORGANIZATIONS + 1,
                ("Engineer", "Product manager", "CTO", "Analyst")[i % 4], "",
                (Role.MODERATOR if i == 2 else Role.MEMBER).value, "", "", True, False, _naive(start))
               for i in range(1, shape.users + 1)))
        _copy(connection, UserInterest, ["user_id", "tag"],
              ((i, tag) for i in range(1, shape.users + 1) for tag in {INTERESTS[i % 10], INTERESTS[i * 7 % 10]}))
        categories = [{"id": i, "name": f"Category {i}", "description": "", "position": i,
                       "staff_only": i == CATEGORIES, "created_at": start, "purpose": None}
                      for i in range(1, CATEGORIES + 1)]
        board = CATEGORIES + 1
        categories.append({"id": board, "name": "Ideas", "description": BOARD_DESCRIPTION, "position": board,
                           "staff_only": False, "created_at": start, "purpose": BOARD_PURPOSE})
        connection.execute(sa.insert(Category.__table__), categories)
        _load_threads(connection, shape, rng, start, now, board)
        _load_ideas(connection, shape, rng, now)
        _load_event(connection, shape, rng, now)
        for table in ("organizations", "users", "categories", "threads", "posts", "ideas", "idea_votes", "events",
                      "event_zones", "checkins"):
            connection.execute(sa.text(
                f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT max(id) FROM {table}))"))
    with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        connection.execute(sa.text("VACUUM ANALYZE"))


def _thread_time(start: datetime, now: datetime, thread: int, threads: int) -> datetime:
    return start + (now - timedelta(hours=1) - start) * (thread / threads)


def _load_threads(connection, shape: Shape, rng: random.Random, start, now, board: int) -> None:
    """Threads of POSTS_PER_THREAD posts each; the last `ideas` threads are the ideas' discussions."""
    first_idea_thread = shape.threads - shape.ideas + 1
    htmls = [render_markdown(body) for body in BODIES]

    def threads():
        for t in range(1, shape.threads + 1):
            created = _thread_time(start, now, t, shape.threads)
            category = board if t >= first_idea_thread else t % CATEGORIES + 1
            yield (t, category, rng.randint(1, shape.users), f"Thread {t}: how do you handle exports?",
                   _naive(created), _naive(created + timedelta(minutes=POSTS_PER_THREAD - 1)),
                   POSTS_PER_THREAD - 1, False, False, False)

    _copy(connection, Thread, ["id", "category_id", "author_id", "title", "created_at", "last_activity_at",
                               "reply_count", "pinned", "locked", "closed"], threads())

    def posts():
        post_id = 0
        for t in range(1, shape.threads + 1):
            created = _thread_time(start, now, t, shape.threads)
            for n in range(POSTS_PER_THREAD):
                post_id += 1
                if post_id > shape.posts:
                    return
                body = post_id % len(BODIES)
                yield (post_id, t, rng.randint(1, shape.users), BODIES[body], htmls[body],
                       _naive(created + timedelta(minutes=n)), "")

    _copy(connection, Post, ["id", "thread_id", "author_id", "body", "body_html", "created_at", "hidden_reason"],
          posts())


def _load_ideas(connection, shape: Shape, rng: random.Random, now: datetime) -> None:
    """One idea per board thread (its first post the description), with votes and tallies that
    agree with each other, cast over the last two months."""
    first_thread = shape.threads - shape.ideas + 1
    ideas, tags, votes, tallies = [], [], [], []
    vote_id = 0
    for n in range(shape.ideas):
        idea_id, thread_id = n + 1, first_thread + n
        voters = rng.sample(range(3, shape.users + 1), min(rng.randint(1, 40), shape.users - 2))
        score, organizations = 0.0, {}
        for user_id in voters:
            vote_id += 1
            cast = now - timedelta(minutes=rng.randint(1, 60 * 24 * 60))
            score += vote_weight(cast)
            organization_id = user_id % ORGANIZATIONS + 1
            votes.append((vote_id, idea_id, user_id, organization_id, _naive(cast)))
            organizations[organization_id] = organizations.get(organization_id, 0) + 1
        created = _naive(now - timedelta(days=60))
        ideas.append((idea_id, thread_id, (thread_id - 1) * POSTS_PER_THREAD + 1, "open", created, len(voters),
                      len(organizations), score, created))
        tags.append((idea_id, INTERESTS[n % 10]))
        tallies.extend((idea_id, organization, count) for organization, count in organizations.items())
    _copy(connection, Idea, ["id", "thread_id", "post_id", "status", "status_changed_at", "vote_count",
                             "voter_org_count", "trending_score", "created_at"], ideas)
    _copy(connection, IdeaTag, ["idea_id", "tag"], tags)
    _copy(connection, IdeaVote, ["id", "idea_id", "user_id", "organization_id", "created_at"], votes)
    _copy(connection, IdeaOrganization, ["idea_id", "organization_id", "voters"], tallies)


def _load_event(connection, shape: Shape, rng: random.Random, now: datetime) -> None:
    """A conference on right now; every user checked in, spread over a 2 km square, most of
    them listed and sharing an approximate location. User 1 stands at the centre."""
    connection.execute(sa.insert(Event.__table__), [{
        "id": 1, "name": "Bench Summit", "description": "", "venue": "Centre", "timezone": "UTC",
        "starts_at": now - timedelta(hours=2), "ends_at": now + timedelta(days=30),
        "fence_lat": VENUE[0], "fence_lng": VENUE[1], "fence_radius_m": 1500, "checkin_code": "BENCH",
        "registration_count": 0, "created_at": now}])
    connection.execute(sa.insert(EventZone.__table__),
                       [{"id": i, "event_id": 1, "name": f"Hall {i}", "position": i} for i in range(1, 6)])

    def checkins():
        for user_id in range(1, shape.attendees + 1):
            center = user_id == 1
            yield (user_id, 1, user_id, user_id % 5 + 1, 0 if center else rng.randrange(-CELLS, CELLS),
                   0 if center else rng.randrange(-CELLS, CELLS),
                   (Visibility.LISTED if center or rng.random() < 0.9 else Visibility.COUNT_ONLY).value,
                   (LocationSharing.APPROXIMATE if center or rng.random() < 0.9 else LocationSharing.ZONE).value,
                   "anyone", _naive(now - timedelta(seconds=user_id)), _naive(now))

    _copy(connection, Checkin, ["id", "event_id", "user_id", "zone_id", "cell_x", "cell_y", "visibility",
                                "location", "who_may_ask", "checked_in_at", "last_seen_at"], checkins())


def freshen(url: str) -> None:
    """Keep a kept data set's event on and its attendees present (presence lapses after a TTL)."""
    engine = sa.create_engine(url)
    now = datetime.now(UTC)
    with engine.begin() as connection:
        connection.execute(sa.update(Event.__table__).values(
            starts_at=now - timedelta(hours=2), ends_at=now + timedelta(days=30)))
        connection.execute(sa.update(Checkin.__table__).values(last_seen_at=now, checked_out_at=None))
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        connection.execute(sa.text("ANALYZE"))  # every check-in row was just rewritten
    engine.dispose()
