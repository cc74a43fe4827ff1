"""Several production processes (gunicorn + gevent, the shipped configuration) share rooms
through Redis and one PostgreSQL; pushes survive Redis going away and coming back."""
import time
from datetime import UTC, datetime, timedelta

import pytest
import requests

from .conftest import fresh_postgres_database
from .live_server import LiveServer
from .realtime_client import App, thread_in


@pytest.fixture(scope="module")
def live_postgres_url(request):
    return fresh_postgres_database(request.config, "live")


@pytest.fixture(scope="module")
def cluster(live_postgres_url, redis_server, tmp_path_factory):
    logs = tmp_path_factory.mktemp("cluster")
    env = {"DATABASE_URL": live_postgres_url, "REDIS_URL": redis_server.url, "SECRET_KEY": "cluster-" + "k" * 32,
           "RATELIMIT_ENABLED": "true", "REALTIME_SWEEP_SECONDS": "1",
           "CACHE_ENABLED": "true"}  # whatever the run says: the processes' kept pages are under test
    first = LiveServer(env, production=True, log_path=logs / "first.log")
    second = LiveServer(env, production=True, log_path=logs / "second.log")
    first.command("db", "upgrade")
    first.command("seed-demo")
    servers = [first.start(), second.start()]
    yield servers
    for server in servers:
        server.stop()


def test_a_change_on_one_process_is_pushed_by_the_other(cluster):
    first, second = cluster
    listener = App(first, "alice@acme.test").connect()
    writer = App(second, "bob@globex.test")
    try:
        thread = thread_in(writer, "General")
        assert listener.subscribe(f"thread:{thread['id']}") == {"ok": True}
        reply = writer.api("POST", f"/threads/{thread['id']}/posts", json={"body": "from the other process"})
        name, event = listener.next_event(timeout=10)
        assert name == "post.created" and event["post"]["id"] == reply.json()["id"]
        # and the other way round, with consecutive sequence numbers across processes
        other = App(second, "carla@initech.test").connect()
        assert other.subscribe(f"thread:{thread['id']}") == {"ok": True}
        App(first, "alice@acme.test").api("POST", f"/threads/{thread['id']}/posts", json={"body": "back"})
        _, seen_by_other = other.next_event(timeout=10)
        _, seen_by_listener = listener.next_event(timeout=10)
        assert seen_by_other["seq"] == seen_by_listener["seq"] == event["seq"] + 1
        other.close()
    finally:
        listener.close()


def test_without_redis_the_api_keeps_answering_and_pushes_resume(cluster, redis_server):
    first, second = cluster
    listener = App(first, "alice@acme.test").connect()
    writer = App(second, "bob@globex.test")
    try:
        thread = thread_in(writer, "General")
        listener.subscribe(f"thread:{thread['id']}")
        redis_server.stop()
        assert writer.api("POST", f"/threads/{thread['id']}/posts", json={"body": "while redis is down"}
                          ).status_code == 201
        assert App(second, "carla@initech.test").api("GET", "/me").status_code == 200  # login + limits work
        assert "Cannot publish to redis" in (second.log_path).read_text()
        redis_server.start()
        deadline = time.monotonic() + 40
        while time.monotonic() < deadline:
            writer.api("POST", f"/threads/{thread['id']}/posts", json={"body": "is anyone there?"})
            try:
                name, event = listener.next_event(timeout=2)
            except Exception:
                continue
            if name == "post.created" and event["post"]["body"] == "is anyone there?":
                break
        else:
            pytest.fail("pushes did not resume after Redis came back")
    finally:
        listener.close()


def _other(server, app: App):
    """The same app (its token) talking to another process."""
    return lambda method, path, **kwargs: requests.request(
        method, f"{server.url}/api/v1{path}", headers={"Authorization": f"Bearer {app.tokens['access_token']}"},
        timeout=10, **kwargs)


def test_a_device_signed_out_on_one_process_is_refused_by_the_other_at_once(cluster):
    first, second = cluster
    phone = App(first, "alice@acme.test")
    on_second = _other(second, phone)
    for _ in range(3):  # the second process has seen the token and may keep what it learnt
        assert on_second("GET", "/me").status_code == 200
        assert on_second("GET", "/threads").status_code == 200
    assert phone.api("POST", "/auth/logout").status_code in (200, 204)
    refused = on_second("GET", "/threads")
    assert refused.status_code == 401 and refused.json()["error"]["code"] == "token_revoked"


def test_suspension_and_a_new_moderator_take_effect_on_the_other_process_at_once(cluster):
    first, second = cluster
    admin, member = App(first, "admin@roundtable.test"), App(first, "bob@globex.test")
    on_second = _other(second, member)
    staff_only = next(c for c in admin.api("GET", "/categories").json()["items"] if c["staff_only"])
    me = on_second("GET", "/me").json()
    assert staff_only["id"] not in {c["id"] for c in on_second("GET", "/categories").json()["items"]}
    assigned = admin.api("PUT", f"/categories/{staff_only['id']}/moderators/{me['id']}")
    assert assigned.status_code in (200, 201, 204), assigned.text
    assert staff_only["id"] in {c["id"] for c in on_second("GET", "/categories").json()["items"]}
    until = (datetime.now(UTC) + timedelta(days=3)).isoformat()
    assert admin.api("POST", f"/users/{me['id']}/suspend", json={"until": until, "reason": "test"}).status_code == 200
    refused = on_second("GET", "/threads")  # suspension also ends the member's sessions
    assert refused.status_code in (401, 403), refused.text
    assert admin.api("POST", f"/users/{me['id']}/unsuspend").status_code == 200
    assert _other(second, App(first, "bob@globex.test"))("GET", "/threads").status_code == 200


def test_a_page_kept_by_one_process_shows_a_write_made_on_the_other_at_once(cluster):
    """Pages of lists are shared and kept in each process; a write on another process drops them
    before the next request, for its writer and for everyone else."""
    first, second = cluster
    writer, reader = App(first, "bob@globex.test"), App(first, "carla@initech.test")
    writer_on_second, reader_on_second = _other(second, writer), _other(second, reader)
    thread = thread_in(writer, "General")
    posts = f"/threads/{thread['id']}/posts"
    for _ in range(3):  # the second process keeps both pages
        writer_on_second("GET", posts), reader_on_second("GET", posts), writer_on_second("GET", "/ideas?sort=new")
    reply = writer.api("POST", posts, json={"body": "written on the first process"}).json()
    assert writer_on_second("GET", posts).json()["items"][-1]["id"] == reply["id"]
    assert reader_on_second("GET", posts).json()["items"][-1]["id"] == reply["id"]
    assert writer.api("PATCH", f"/posts/{reply['id']}", json={"body": "edited there"}).status_code == 200
    assert reader_on_second("GET", posts).json()["items"][-1]["body"] == "edited there"

    idea = next(item for item in writer_on_second("GET", "/ideas?sort=new").json()["items"] if item["can_vote"])
    method, change = ("DELETE", -1) if idea["has_voted"] else ("PUT", 1)
    assert writer.api(method, f"/ideas/{idea['id']}/vote", json={}).status_code == 200, idea
    now = next(item for item in writer_on_second("GET", "/ideas?sort=new").json()["items"] if item["id"] == idea["id"])
    assert (now["has_voted"], now["vote_count"]) == (not idea["has_voted"], idea["vote_count"] + change)
