"""`/health` reports each configured dependency, and 503 when one is down (for load balancers),
and the job queue: how many jobs wait, how long the oldest has waited, how many are dead."""
import threading
import time
from datetime import timedelta

import pytest
import sqlalchemy as sa
from flask_migrate import upgrade

from community.database import db, utcnow
from community.jobs.models import Job
from wsgi import create_app

from .conftest import settings_for
from .live_server import free_port

EMPTY_QUEUE = {"depth": 0, "oldest_age_seconds": 0, "dead": 0}


def _health(tmp_path, database_url=None, jobs=(), **extra):
    app = create_app(settings_for(database_url or f"sqlite:///{tmp_path}/health.sqlite", **extra))
    if database_url is None:
        with app.app_context():
            upgrade()
            db.session.add_all(jobs)
            db.session.commit()
    response = app.test_client().get("/health")
    return response.status_code, response.json


def test_without_redis_configured_only_the_database_is_checked(tmp_path):
    assert _health(tmp_path) == (200, {"status": "ok", "database": "ok", "queue": EMPTY_QUEUE})


def test_the_queue_reports_waiting_and_dead_jobs(tmp_path):
    now = utcnow()
    waiting = [Job(name="email.mention", arguments={}, status=status, max_attempts=3, next_attempt_at=due)
               for status, due in [("pending", now - timedelta(seconds=90)), ("pending", now - timedelta(seconds=5)),
                                   ("pending", now + timedelta(hours=1)), ("running", now - timedelta(hours=2)),
                                   ("dead", now - timedelta(days=1))]]
    status, body = _health(tmp_path, jobs=waiting)
    assert status == 200  # a backlog is reported, not a reason to stop serving
    assert body["queue"]["depth"] == 2 and body["queue"]["dead"] == 1  # the later one is not due yet
    assert 89 < body["queue"]["oldest_age_seconds"] < 120


def test_a_reachable_redis_is_reported(tmp_path, redis_server):
    assert _health(tmp_path, REDIS_URL=redis_server.url) == (
        200, {"status": "ok", "database": "ok", "queue": EMPTY_QUEUE, "redis": "ok"})


def test_an_unreachable_redis_makes_the_process_unhealthy(tmp_path):
    status, body = _health(tmp_path, REDIS_URL=f"redis://127.0.0.1:{free_port()}/0")
    assert (status, body) == (503, {"status": "error", "database": "ok", "queue": EMPTY_QUEUE, "redis": "unavailable"})


def test_an_unreachable_database_makes_the_process_unhealthy(tmp_path):
    status, body = _health(tmp_path, f"postgresql+psycopg://postgres@127.0.0.1:{free_port()}/nothing")
    assert (status, body) == (503, {"status": "error", "database": "unavailable"})


def test_a_database_that_does_not_answer_in_time_makes_the_process_unhealthy_quickly(app, is_postgres):
    """Another connection holds the job table locked: the health check's read of it waits on
    the lock until its statement timeout (2 s), then answers 503, instead of hanging."""
    if not is_postgres:
        pytest.skip("SQLite has no statement timeout, and no other connection to hold a lock")
    answers = []
    blocker = sa.create_engine(app.config["SQLALCHEMY_DATABASE_URI"])
    with blocker.connect() as other:
        other.execute(sa.text("LOCK TABLE jobs IN ACCESS EXCLUSIVE MODE"))
        started = time.monotonic()
        asking = threading.Thread(target=lambda: answers.append(app.test_client().get("/health")), daemon=True)
        asking.start()
        asking.join(timeout=10)
        waited = time.monotonic() - started
        other.rollback()  # lets a hung check finish either way
    asking.join(timeout=10)
    blocker.dispose()
    assert answers and waited < 10, "/health hung on a locked table"
    assert (answers[0].status_code, answers[0].json) == (503, {"status": "error", "database": "unavailable"})
    healthy = app.test_client().get("/health")  # the timeout was the check's only, not the pooled connection's
    assert healthy.status_code == 200
    with app.app_context():
        assert db.session.scalar(sa.text("SHOW statement_timeout")) == "0"
        db.session.remove()


def test_postgresql_connections_give_up_connecting_after_a_few_seconds(tmp_path):
    app = create_app(settings_for("postgresql+psycopg://postgres@127.0.0.1:5432/nothing"))
    assert app.config["SQLALCHEMY_ENGINE_OPTIONS"]["connect_args"] == {"connect_timeout": 3}
