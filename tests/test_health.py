"""`/health` reports each configured dependency, and 503 when one is down (for load balancers)."""
from wsgi import create_app

from .conftest import settings_for
from .live_server import free_port


def _health(tmp_path, database_url=None, **extra):
    app = create_app(settings_for(database_url or f"sqlite:///{tmp_path}/health.sqlite", **extra))
    response = app.test_client().get("/health")
    return response.status_code, response.json


def test_without_redis_configured_only_the_database_is_checked(tmp_path):
    assert _health(tmp_path) == (200, {"status": "ok", "database": "ok"})


def test_a_reachable_redis_is_reported(tmp_path, redis_server):
    assert _health(tmp_path, REDIS_URL=redis_server.url) == (200, {"status": "ok", "database": "ok", "redis": "ok"})


def test_an_unreachable_redis_makes_the_process_unhealthy(tmp_path):
    status, body = _health(tmp_path, REDIS_URL=f"redis://127.0.0.1:{free_port()}/0")
    assert (status, body) == (503, {"status": "error", "database": "ok", "redis": "unavailable"})


def test_an_unreachable_database_makes_the_process_unhealthy(tmp_path):
    status, body = _health(tmp_path, f"postgresql+psycopg://postgres@127.0.0.1:{free_port()}/nothing")
    assert (status, body) == (503, {"status": "error", "database": "unavailable"})
