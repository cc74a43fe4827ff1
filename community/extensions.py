"""The Flask extensions, created once and initialised by `create_app`."""
import contextlib
import select
import threading
import time

import psycopg
from cachetools import LRUCache
from flask_jwt_extended import JWTManager
from flask_jwt_extended.config import config as jwt_config
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_login import LoginManager
from flask_migrate import Migrate
from flask_socketio import SocketIO
from flask_wtf import CSRFProtect
from psycopg.pq import TransactionStatus
from sqlalchemy import event
from sqlalchemy.engine import Engine
from sqlalchemy.exc import DisconnectionError
from sqlalchemy.pool import Pool

from .database import db

migrate = Migrate()
csrf = CSRFProtect()
login_manager = LoginManager()
# No X-RateLimit-* or Retry-After on answers within the limits; a 429 says when to retry (web.py).
limiter = Limiter(key_func=get_remote_address, default_limits=[], headers_enabled=False)


class TokenManager(JWTManager):
    """flask-jwt-extended, checking each token's signature once per process.

    An app sends the same access token with every request for its 15 minutes: decoding and
    verifying it again each time was a tenth of a kept list's cost. What a valid signature
    says never changes, so its claims are kept by the token; only the expiry is looked at
    again (an expired token takes the full path, which refuses it as usual). Whether the
    token's session is still live is not kept here: the revocation check runs on every request.
    """

    def __init__(self, app=None, maxsize: int = 50_000):
        super().__init__(app)
        self._verified = LRUCache(maxsize)
        self._lock = threading.Lock()

    def _decode_jwt_from_config(self, encoded_token: str, csrf_value=None, allow_expired: bool = False) -> dict:
        # Keyed by the key it was checked with too: an app of another secret must check it itself.
        key = (jwt_config.decode_key, encoded_token)
        if csrf_value is None and not allow_expired:
            with self._lock:
                claims = self._verified.get(key)
            if claims is not None and claims.get("exp", 0) > time.time() - jwt_config.leeway:
                return dict(claims)
        claims = super()._decode_jwt_from_config(encoded_token, csrf_value, allow_expired)
        if csrf_value is None and not allow_expired and isinstance(claims.get("exp"), int | float):
            with self._lock:
                self._verified[key] = dict(claims)
        return claims


# Initialised by the entry points that use them: `api` (tokens) and `realtime` (pushes).
jwt = TokenManager()
socketio = SocketIO()

__all__ = ["db", "migrate", "csrf", "login_manager", "limiter", "jwt", "socketio"]


def _is_sqlite(dbapi_connection) -> bool:
    return type(dbapi_connection).__module__.startswith("sqlite3")


def _is_psycopg(dbapi_connection) -> bool:
    return type(dbapi_connection).__module__.startswith("psycopg")


@event.listens_for(Engine, "connect")
def _sqlite_pragmas(dbapi_connection, connection_record):
    """SQLite leaves foreign keys unenforced unless asked, and WAL lets readers run beside a writer.
    Transactions are begun by SQLAlchemy (below), not by the driver."""
    if _is_sqlite(dbapi_connection):
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA busy_timeout=15000")
        cursor.close()


@event.listens_for(Engine, "begin")
def _sqlite_begin_immediate(connection):
    """A transaction that reads before it writes cannot upgrade its lock while another writes
    ("database is locked", at once, whatever the busy timeout). Taking the write lock at BEGIN
    makes concurrent writers wait their turn instead; readers still run beside them (WAL)."""
    if _is_sqlite(connection.connection.dbapi_connection):
        connection.exec_driver_sql("BEGIN IMMEDIATE")


# Prepared statements. psycopg prepares a statement once it has run it a few times on a
# connection, so PostgreSQL stops planning it anew (planning was a third of a thread list's
# database time), but it forgets them all at every ROLLBACK, in case the rollback undid a schema
# change they depend on. Most requests only read, and closing their session rolls back; ending
# those with COMMIT instead changes nothing in the data and keeps the statements prepared. Any
# statement but a SELECT counts as a write, and a transaction that wrote rolls back as asked
# (statements must go through SQLAlchemy: a raw DBAPI cursor would pass unseen).


@event.listens_for(Engine, "before_cursor_execute")
def _note_writes(connection, cursor, statement, parameters, context, executemany):
    if not statement.startswith("SELECT"):
        connection.info["wrote"] = True


@event.listens_for(Engine, "commit")
def _forget_writes(connection):
    connection.info.pop("wrote", None)


@event.listens_for(Engine, "rollback")
def _end_reads_with_commit(connection):
    if connection.invalidated:
        return  # the database went away: SQLAlchemy replaces the connection
    wrote = connection.info.pop("wrote", False)
    dbapi_connection = connection.connection.dbapi_connection
    if wrote or not _is_psycopg(dbapi_connection):
        return
    if dbapi_connection.info.transaction_status == TransactionStatus.INTRANS:
        # A broken connection fails here: the ROLLBACK that follows deals with it as usual.
        with contextlib.suppress(psycopg.Error):
            dbapi_connection.commit()  # and the ROLLBACK that follows finds nothing left to do


@event.listens_for(Pool, "checkout")
def _refuse_closed_connections(dbapi_connection, connection_record, connection_proxy):
    """Hand out no connection the server has closed, without the round trip of a pre-ping.

    An idle connection has nothing to read: when PostgreSQL shuts down or restarts it sends
    its farewell (and end of file) to every connection, so a readable socket in the pool is a
    dead one. Raising DisconnectionError makes the pool replace it and try again.
    """
    if not _is_psycopg(dbapi_connection):
        return
    if dbapi_connection.closed or dbapi_connection.broken:
        raise DisconnectionError("the connection was closed")
    # poll, not select: a process holding a thousand sockets hands out descriptors past
    # select()'s limit of 1024.
    readiness = select.poll()
    readiness.register(dbapi_connection.fileno(), select.POLLIN)
    if readiness.poll(0):
        raise DisconnectionError("the server closed the connection while it was idle")
