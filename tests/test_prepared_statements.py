"""On PostgreSQL a transaction that only read ends with COMMIT, so psycopg keeps the statements
it prepared; a transaction that wrote, or failed, still rolls back. Values that decide a plan are
written into the SQL, so the plan PostgreSQL keeps for a prepared statement fits them."""
import pytest
import sqlalchemy as sa

from community.database import db
from community.threads.models import Category

from .conftest import count_queries

# psycopg prepares a statement when it runs for the sixth time on a connection.
RUNS_BEFORE_PREPARED = 5
COUNT_CATEGORIES = sa.select(sa.func.count()).select_from(Category)


@pytest.fixture
def postgres_only(is_postgres):
    if not is_postgres:
        pytest.skip("prepared statements are psycopg's; SQLite has none to keep")


def _prepared_category_counts(connection) -> int:
    return connection.execute(sa.text("SELECT count(*) FROM pg_prepared_statements WHERE statement LIKE :text"),
                              {"text": "%FROM categories%"}).scalar()


def test_reads_keep_their_prepared_statements_across_transactions(app, postgres_only):
    with app.app_context(), db.engine.connect() as connection:
        for _ in range(RUNS_BEFORE_PREPARED + 1):
            assert connection.execute(COUNT_CATEGORIES).scalar() == 0
            connection.rollback()
        assert _prepared_category_counts(connection) == 1
        connection.rollback()
        assert _prepared_category_counts(connection) == 1


def test_a_transaction_that_wrote_still_rolls_back(app, postgres_only):
    with app.app_context(), db.engine.connect() as connection:
        connection.execute(COUNT_CATEGORIES)
        connection.execute(sa.insert(Category).values(name="Rolled back", description="", position=0,
                                                      staff_only=False))
        connection.rollback()
        assert connection.execute(COUNT_CATEGORIES).scalar() == 0


def test_a_failed_read_rolls_back_and_the_connection_goes_on(app, postgres_only):
    with app.app_context(), db.engine.connect() as connection:
        with pytest.raises(sa.exc.DataError):
            connection.exec_driver_sql("SELECT 1 / 0")
        connection.rollback()
        assert connection.execute(COUNT_CATEGORIES).scalar() == 0


def test_a_request_that_only_read_leaves_no_transaction_open(app, postgres_only, people, api_as):
    """What a client's request left behind: the next one starts clean, whatever the pool hands out."""
    member = api_as(people.member)
    for _ in range(RUNS_BEFORE_PREPARED + 1):
        assert member.get("/api/v1/threads").status_code == 200
    with app.app_context(), db.engine.connect() as connection:
        open_transactions = connection.exec_driver_sql(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
            "AND state = 'idle in transaction'").scalar()
    assert open_transactions == 0


def test_the_page_size_and_the_idea_status_are_written_into_the_sql(app, people, api_as):
    """A prepared statement's kept plan is made for any value of its parameters: for "any LIMIT"
    and "any status" (when nearly every idea is open) it reads the whole board to show twenty.
    Written into the SQL, they plan like the values they are."""
    member = api_as(people.member)
    with app.app_context(), count_queries() as statements:
        assert member.get("/api/v1/ideas?sort=trending&limit=7").status_code == 200
        assert member.get("/api/v1/ideas?status=planned").status_code == 200
    pages = [statement for statement in statements if "ideas.status" in statement]
    assert len(pages) == 2, statements
    assert "LIMIT 8" in pages[0] and "ideas.status != 'merged'" in pages[0]
    assert "ideas.status = 'planned'" in pages[1]
