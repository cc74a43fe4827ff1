"""The pool hands out only live connections, without a pre-ping round trip per checkout."""
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
