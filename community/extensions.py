"""The Flask extensions, created once and initialised by `create_app`."""
from flask_jwt_extended import JWTManager
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_login import LoginManager
from flask_migrate import Migrate
from flask_socketio import SocketIO
from flask_wtf import CSRFProtect
from sqlalchemy import event
from sqlalchemy.engine import Engine

from .database import db

migrate = Migrate()
csrf = CSRFProtect()
login_manager = LoginManager()
limiter = Limiter(key_func=get_remote_address, default_limits=[], headers_enabled=True)
# Initialised by the entry points that use them: `api` (tokens) and `realtime` (pushes).
jwt = JWTManager()
socketio = SocketIO()

__all__ = ["db", "migrate", "csrf", "login_manager", "limiter", "jwt", "socketio"]


def _is_sqlite(dbapi_connection) -> bool:
    return type(dbapi_connection).__module__.startswith("sqlite3")


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
