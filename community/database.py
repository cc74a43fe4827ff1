"""The declarative base, stable constraint names and a UTC-aware timestamp type."""
from datetime import UTC, datetime

from flask_sqlalchemy import SQLAlchemy
from sqlalchemy import DateTime, MetaData, event, text
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import DeclarativeBase, Session
from sqlalchemy.types import TypeDecorator

# Stable names let Alembic alter and drop constraints the same way on SQLite and PostgreSQL.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


db = SQLAlchemy(model_class=Base)

# Ids are 32-bit integers on PostgreSQL: anything larger names nothing that exists.
MAX_ID = 2**31 - 1


def utcnow() -> datetime:
    return datetime.now(UTC)


class UTCDateTime(TypeDecorator):
    """Stores naive UTC and always returns aware UTC datetimes.

    SQLite keeps no time zone, PostgreSQL would convert to the session's: storing naive UTC
    on both makes comparisons and keyset cursors behave the same everywhere.
    """

    impl = DateTime
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given; use community.database.utcnow()")
        return value.astimezone(UTC).replace(tzinfo=None)

    def process_result_value(self, value, dialect):
        if value is None:
            return None
        return value.replace(tzinfo=UTC)


def read_without_transaction() -> None:
    """Run this request's statements outside a transaction, on PostgreSQL: call it first thing
    in a request that only reads (an API GET).

    Under READ COMMITTED each statement sees what was committed before it began, inside a
    transaction or not, so nothing a reader sees changes; what goes is the BEGIN before the
    first statement and the COMMIT after the last, two of a list request's few round trips. A
    statement that writes anyway commits on its own (such a request must write in one statement).
    The connection is taken when the first statement runs: a request answered from a cache
    takes none.
    """
    if not db.session().in_transaction():
        db.session.info[_WITHOUT_TRANSACTION] = True


_WITHOUT_TRANSACTION = "without_transaction"  # in a session's info until it has a connection


@event.listens_for(Session, "do_orm_execute")
def _connect_without_transaction(state):
    session = state.session
    if session.info.pop(_WITHOUT_TRANSACTION, False) and session.get_bind().dialect.name == "postgresql":
        session.connection(execution_options={"isolation_level": "AUTOCOMMIT"})


@event.listens_for(Session, "after_begin")
def _connected(session, transaction, connection):
    session.info.pop(_WITHOUT_TRANSACTION, None)


def refresh_planner_statistics() -> None:
    """ANALYZE, after a bulk load: until it runs, PostgreSQL plans from the statistics of the
    empty tables (right after 2,000 threads were created the thread list scanned and sorted them
    all, 8-10 ms, instead of 0.05 ms on its index). Call outside a transaction that still writes."""
    db.session.commit()
    db.session.execute(text("ANALYZE"))
    db.session.commit()


def dialect_insert(model):
    """An INSERT that can say ON CONFLICT: dialect syntax, which SQLAlchemy spells alike for
    SQLite and PostgreSQL."""
    return (postgresql.insert if db.session.get_bind().dialect.name == "postgresql" else sqlite.insert)(model)


def insert_unless_exists(model, **values):
    """`INSERT … ON CONFLICT DO NOTHING` on SQLite and PostgreSQL alike: the new row's primary
    key (a row with its columns), or None when a unique constraint said it already exists.

    What makes an action idempotent under concurrency is the unique constraint behind it, never
    a "check then insert". (RETURNING tells what happened: psycopg's rowcount may be -1 here.)
    """
    table = model.__table__
    statement = dialect_insert(table).values(**values).on_conflict_do_nothing().returning(*table.primary_key.columns)
    return db.session.execute(statement).first()
