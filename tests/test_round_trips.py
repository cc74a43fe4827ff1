"""An API GET on PostgreSQL runs its statements outside a transaction: no BEGIN, no COMMIT."""
import pytest
from psycopg.pq import TransactionStatus
from sqlalchemy import event

from community.database import db

from .factories import make_category


@pytest.fixture
def transaction_states(app, is_postgres):
    if not is_postgres:
        pytest.skip("SQLite transactions are local calls, not round trips")
    seen = []

    def record(connection, cursor, statement, parameters, context, executemany):
        seen.append((statement.split()[0], connection.connection.dbapi_connection.info.transaction_status))

    with app.app_context():
        engine = db.engine
    event.listen(engine, "after_cursor_execute", record)
    yield seen
    event.remove(engine, "after_cursor_execute", record)


def test_a_list_request_opens_no_transaction(api_as, people, transaction_states):
    client = api_as(people.member)
    transaction_states.clear()
    assert client.get("/api/v1/threads").status_code == 200
    assert transaction_states and all(state == TransactionStatus.IDLE for _, state in transaction_states)


def test_a_write_still_runs_in_one_transaction(api_as, people, transaction_states, make):
    client = api_as(people.member)
    category_id = make(make_category).id
    transaction_states.clear()
    created = client.post("/api/v1/threads", json={"category_id": category_id, "title": "One transaction",
                                                   "body": "for the thread and its first post"})
    assert created.status_code == 201
    assert any(statement == "INSERT" and state == TransactionStatus.INTRANS for statement, state in transaction_states)


def test_a_list_answered_from_kept_pages_takes_no_database_connection(app, api_as, people, caches_on):
    client = api_as(people.member)
    assert client.get("/api/v1/threads").status_code == 200  # the page is kept now
    checkouts = []

    def record(*_):
        checkouts.append(1)

    with app.app_context():
        engine = db.engine
    event.listen(engine, "checkout", record)
    try:
        assert client.get("/api/v1/threads").status_code == 200
    finally:
        event.remove(engine, "checkout", record)
    assert checkouts == []
