"""Fixtures shared by every test: the app on each database backend, clients, named people.

Every test that uses `app` runs on SQLite and, when TEST_DATABASE_URL is set, on PostgreSQL.
With REQUIRE_SERVICES=1 (CI) a missing PostgreSQL, redis-server or Node is an error, not a skip.
"""
import os
import re
import shutil
from contextlib import contextmanager

import pytest
import sqlalchemy as sa
from flask_migrate import upgrade
from sqlalchemy.engine import make_url

from community import freshness
from community.accounts import device_sessions, web_sign_in
from community.accounts.models import User
from community.database import db
from wsgi import create_app

from .factories import People, make_people
from .live_server import LiveServer, RedisServer
from .mailbox import Inbox, start_smtp
from .realtime_client import App

BACKENDS = ["sqlite", "postgresql"]


def require_service(available: bool, what: str) -> None:
    """Skip a test whose service is missing, or fail when CI says every service must be there."""
    if available:
        return
    if os.environ.get("REQUIRE_SERVICES") == "1":
        pytest.fail(f"REQUIRE_SERVICES=1 but {what} is not available", pytrace=False)
    pytest.skip(f"needs {what}")


def worker_of(config) -> str:
    """The pytest-xdist worker running this test ("gw0"...), or "master" without xdist."""
    return getattr(config, "workerinput", {}).get("workerid", "master")


def postgres_url(worker_id: str = "master") -> str:
    """TEST_DATABASE_URL, or under pytest-xdist a database of each worker's own beside it."""
    base = os.environ.get("TEST_DATABASE_URL")
    require_service(bool(base), "PostgreSQL (TEST_DATABASE_URL)")
    url = make_url(base).set(drivername="postgresql+psycopg")
    if worker_id != "master":
        worker_database = f"{url.database}_{worker_id}"
        admin = sa.create_engine(url, isolation_level="AUTOCOMMIT")
        with admin.connect() as connection:
            exists = connection.scalar(sa.text("SELECT 1 FROM pg_database WHERE datname = :name"),
                                       {"name": worker_database})
            if not exists:
                connection.execute(sa.text(f'CREATE DATABASE "{worker_database}"'))
        admin.dispose()
        url = url.set(database=worker_database)
    return url.render_as_string(hide_password=False)


def fresh_postgres_database(config, suffix: str) -> str:
    """An empty database beside this worker's test database, for the servers a module starts."""
    url = make_url(postgres_url(worker_of(config)))
    name = f"{url.database}_{suffix}"
    admin = sa.create_engine(url, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        connection.execute(sa.text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    return url.set(database=name).render_as_string(hide_password=False)


def _reset_postgres(url: str) -> None:
    engine = sa.create_engine(url)
    with engine.begin() as connection:
        connection.execute(sa.text("DROP SCHEMA public CASCADE"))
        connection.execute(sa.text("CREATE SCHEMA public"))
    engine.dispose()


def settings_for(database_url: str, **extra) -> dict:
    return {
        "TESTING": True,
        "SECRET_KEY": "test-secret-key-that-is-long-enough-for-hs256",
        "SQLALCHEMY_DATABASE_URI": database_url,
        "RATELIMIT_ENABLED": False,
        "JOBS_IMMEDIATE": True,  # each job runs right after its commit (tests of real workers unset it)
        **extra,
    }


@pytest.fixture(scope="session", params=BACKENDS)
def database_url(request, tmp_path_factory):
    if request.param == "sqlite":
        return "sqlite:///" + str(tmp_path_factory.mktemp("db") / "test.sqlite")
    url = postgres_url(worker_of(request.config))
    _reset_postgres(url)
    return url


@pytest.fixture(scope="session")
def app(database_url, tmp_path_factory):
    # Stored files go to the run's temporary folder, not the checkout's instance/.
    files = tmp_path_factory.mktemp("files")
    app = create_app(settings_for(database_url, UPLOADS_DIR=str(files / "uploads"), EXPORTS_DIR=str(files / "exports")))
    with app.app_context():
        upgrade()  # the schema comes from the migrations, exactly as in production
    yield app
    with app.app_context():
        for engine in db.engines.values():
            engine.dispose()


@pytest.fixture(autouse=True)
def _clean_database(request):
    """Empty every table after each test that used the database."""
    yield
    if "app" not in request.fixturenames:
        return
    app = request.getfixturevalue("app")
    with app.app_context():
        db.session.remove()
        tables = [t.name for t in reversed(db.metadata.sorted_tables)]
        with db.engine.begin() as connection:
            if connection.dialect.name == "postgresql":
                connection.execute(sa.text(f"TRUNCATE {', '.join(tables)} RESTART IDENTITY CASCADE"))
            else:
                for table in tables:
                    connection.execute(sa.text(f"DELETE FROM {table}"))
        # Emptied behind the ORM's back (and ids restart): nothing a cache kept is true any more.
        app.extensions[freshness.EXTENSION].announce({"*"})


@pytest.fixture
def caches_on(app, monkeypatch):
    """Every cache on for this test, whatever CACHE_ENABLED the run was started with."""
    monkeypatch.setitem(app.config, "CACHE_ENABLED", True)
    monkeypatch.setattr(app.extensions[freshness.EXTENSION], "enabled", True)


@pytest.fixture
def app_context(app):
    with app.app_context():
        yield
        db.session.remove()


def _detached(session, result):
    """Load everything the session holds and let go of it, so objects made for a test stay
    readable after their app context ends (requests must run without the test's context:
    Flask-Login keeps the signed-in user on the app context's `g`)."""
    for obj in list(session.identity_map.values()):
        session.refresh(obj)
    session.expunge_all()
    return result


@pytest.fixture
def make(app):
    """`make(factory, *args)` runs a factory in its own app context and returns its result."""

    def run(factory, *args, **kwargs):
        with app.app_context():
            try:
                return _detached(db.session, factory(*args, **kwargs))
            finally:
                db.session.remove()

    return run


@pytest.fixture
def people(make) -> People:
    """Named users per role: member and outsider in two customer orgs, moderator, admin."""
    return make(make_people)


@pytest.fixture
def is_postgres(app) -> bool:
    return app.config["SQLALCHEMY_DATABASE_URI"].startswith("postgresql")


class WebClient:
    """A browser-like client: keeps cookies and sends the CSRF token a real form carries."""

    CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')

    def __init__(self, client):
        self.client = client
        self._token = None

    def get(self, url, **kwargs):
        response = self.client.get(url, **kwargs)
        match = self.CSRF.search(response.get_data(as_text=True)) if response.mimetype == "text/html" else None
        if match:
            self._token = match.group(1)
        return response

    def csrf_token(self) -> str:
        if self._token is None:
            self.get("/")  # signed in: every page carries the sign-out form's token
        if self._token is None:
            self.get("/login")
        return self._token

    def post(self, url, data=None, **kwargs):
        data = dict(data or {})
        data.setdefault("csrf_token", self.csrf_token())
        return self.client.post(url, data=data, **kwargs)

    def login(self, email, password="correct-horse-battery"):
        response = self.post("/login", {"email": email, "password": password})
        self._token = None  # Flask-Login starts a fresh session
        return response

    def logout(self):
        return self.post("/logout")


@pytest.fixture
def web(app):
    return WebClient(app.test_client())


@pytest.fixture
def login_as(app, people):
    """`login_as(people.member)` gives a signed-in WebClient of its own."""

    def sign_in(user):
        client = WebClient(app.test_client())
        response = client.login(user.email)
        assert response.status_code == 302, response.get_data(as_text=True)
        return client

    return sign_in


@contextmanager
def count_queries():
    """Collects the SQL statements run inside the block."""
    statements: list[str] = []

    def record(conn, cursor, statement, parameters, context, executemany):
        if not statement.startswith("BEGIN"):  # transaction control (SQLite's BEGIN IMMEDIATE), not a query
            statements.append(statement)

    sa.event.listen(db.engine, "before_cursor_execute", record)
    try:
        yield statements
    finally:
        sa.event.remove(db.engine, "before_cursor_execute", record)


def page_queries(app, user_id: int, url: str) -> list[str]:
    """The SQL behind one page as `user_id` sees it (signed in straight through the session)."""
    client = app.test_client()
    with app.app_context():
        web_session_id = device_sessions.do_start_web_session(db.session.get(User, user_id), "query counter").id
    with client.session_transaction() as session:
        session["_user_id"] = str(user_id)
        session["_fresh"] = True
        session[web_sign_in.WEB_SESSION_KEY] = web_session_id
    with app.app_context(), count_queries() as statements:
        response = client.get(url)
    assert response.status_code == 200
    return statements


@contextmanager
def assert_max_queries(limit: int):
    with count_queries() as statements:
        yield statements
    assert len(statements) <= limit, f"{len(statements)} queries (max {limit}):\n" + "\n---\n".join(statements)


class ApiClient:
    """A mobile app: JSON in and out, with its bearer token."""

    def __init__(self, client, tokens: dict | None = None):
        self.client = client
        self.tokens = tokens or {}

    def request(self, method, url, json=None, token=None, **kwargs):
        headers = dict(kwargs.pop("headers", {}))
        token = token if token is not None else self.tokens.get("access_token")
        if token:
            headers["Authorization"] = f"Bearer {token}"
        return self.client.open(url, method=method, json=json, headers=headers, **kwargs)

    def get(self, url, **kwargs):
        return self.request("GET", url, **kwargs)

    def post(self, url, json=None, **kwargs):
        return self.request("POST", url, json=json, **kwargs)

    def patch(self, url, json=None, **kwargs):
        return self.request("PATCH", url, json=json, **kwargs)

    def put(self, url, json=None, **kwargs):
        return self.request("PUT", url, json=json, **kwargs)

    def delete(self, url, **kwargs):
        return self.request("DELETE", url, **kwargs)

    def login(self, email, password="correct-horse-battery", device_name="test phone"):
        response = self.post("/api/v1/auth/login", {"email": email, "password": password,
                                                    "device_name": device_name}, token="")
        if response.status_code == 200:
            self.tokens = response.json
        return response


@pytest.fixture
def api(app):
    return ApiClient(app.test_client())


@pytest.fixture
def api_as(app, people):
    """`api_as(people.member)` gives a signed-in ApiClient of its own."""

    def sign_in(user):
        client = ApiClient(app.test_client())
        response = client.login(user.email)
        assert response.status_code == 200, response.json
        # An app that has been used: its session is known to this process (a first request
        # reads it from the database; query counts are about the requests after it).
        assert client.get("/api/v1/me").status_code == 200
        return client

    return sign_in


def assert_error(response, status: int, code: str | None = None):
    """The API's error envelope, with the expected status and code."""
    assert response.status_code == status, response.get_data(as_text=True)
    body = response.json
    assert set(body) == {"error"} and set(body["error"]) == {"code", "message", "fields"}, body
    assert isinstance(body["error"]["message"], str) and body["error"]["message"]
    if code:
        assert body["error"]["code"] == code, body
    return body["error"]


@pytest.fixture
def inbox(app, monkeypatch):
    """A real SMTP server on a free local port, and the app sending to it."""
    inbox = Inbox()
    controller = start_smtp(inbox)
    monkeypatch.setitem(app.config, "SMTP_URL", f"smtp://127.0.0.1:{controller.port}")
    monkeypatch.setitem(app.config, "BASE_URL", "https://community.example.com")
    yield inbox
    controller.stop()


@pytest.fixture(scope="module")
def redis_server():
    """A private redis-server for the module's tests, which may stop and start it."""
    require_service(shutil.which("redis-server") is not None, "redis-server")
    server = RedisServer().start()
    yield server
    server.stop()


@pytest.fixture(scope="module")
def realtime_server(tmp_path_factory):
    """The app served by `flask run` on the embedded database, migrated and seeded with the demo."""
    database = tmp_path_factory.mktemp("realtime") / "live.sqlite"
    live = LiveServer({"DATABASE_URL": f"sqlite:///{database}", "SECRET_KEY": "realtime-test-" + "k" * 32,
                       "RATELIMIT_ENABLED": "false", "REALTIME_SWEEP_SECONDS": "1"})
    live.command("db", "upgrade")
    live.command("seed-demo")
    live.start()
    live.database = f"sqlite:///{database}"
    yield live
    live.stop()


@pytest.fixture
def apps(realtime_server):
    """`apps(email)` opens a demo member's app against the realtime server; closed afterwards."""
    opened = []

    def open_app(email):
        app = App(realtime_server, email)
        opened.append(app)
        return app

    yield open_app
    for app in opened:
        app.close()
