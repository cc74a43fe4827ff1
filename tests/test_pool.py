"""The pool hands out only live connections, without a pre-ping round trip per checkout."""
import os
import resource
import time

import pytest
import sqlalchemy as sa

from community.database import db


def test_a_connection_the_server_closed_while_idle_is_replaced_at_checkout(app, is_postgres):
    if not is_postgres:
        pytest.skip("SQLite has no server to close a connection")
    with app.app_context():
        assert "pool_pre_ping" not in app.config["SQLALCHEMY_ENGINE_OPTIONS"]
        with db.engine.connect() as other:
            idle_backend = db.session.scalar(sa.text("SELECT pg_backend_pid()"))
            db.session.remove()  # back into the pool, idle, while `other` stays checked out
            other.execute(sa.text("SELECT pg_terminate_backend(:pid)"), {"pid": idle_backend})
            other.commit()
        time.sleep(0.2)  # the backend's farewell reaches the idle socket
        replacement = db.session.scalar(sa.text("SELECT pg_backend_pid()"))
        assert replacement != idle_backend
        db.session.remove()


def test_a_connection_numbered_past_1024_is_handed_out(app, is_postgres):
    """A process holding a thousand sockets (Socket.IO clients) opens its next database
    connection on a descriptor above 1024, where select() cannot look."""
    if not is_postgres:
        pytest.skip("the check looks only at PostgreSQL connections")
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < 1200:
        resource.setrlimit(resource.RLIMIT_NOFILE, (min(hard, 1200), hard))
    with app.app_context():
        db.engine.dispose()  # the next connection is a new one, on the next free descriptor
    held = [os.open(os.devnull, os.O_RDONLY) for _ in range(1030)]
    try:
        with app.app_context():
            with db.engine.connect() as connection:
                assert connection.connection.dbapi_connection.fileno() > 1024
                assert connection.scalar(sa.text("SELECT 1")) == 1
            with db.engine.connect() as again:  # checked out of the pool: the check runs
                assert again.scalar(sa.text("SELECT 2")) == 2
    finally:
        for descriptor in held:
            os.close(descriptor)
