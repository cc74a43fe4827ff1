"""Faults, on real services the test owns: PostgreSQL restarted mid-load and Redis stopped for
10 s. Requests succeed or fail with a clean 503, no write is half-done, the pool recovers
without a restart, and a live client ends consistent after it resyncs."""
import shutil
import tempfile
import threading
import time
from pathlib import Path

import pytest
import requests
import sqlalchemy as sa

from .conftest import require_service
from .live_server import LiveServer, PostgresServer
from .realtime_client import App, thread_in


@pytest.fixture(scope="module")
def services(redis_server):
    # Outside pytest's private tmp folder: the postgres user must be able to reach it.
    directory = Path(tempfile.mkdtemp(prefix="roundtable-faults-"))
    directory.chmod(0o755)
    postgres = PostgresServer(directory / "pg")
    require_service(postgres.available and shutil.which("runuser") is not None, "PostgreSQL binaries (initdb)")
    postgres.start()
    yield postgres, redis_server
    postgres.stop()
    shutil.rmtree(directory, ignore_errors=True)


@pytest.fixture(scope="module")
def server(services, tmp_path_factory):
    postgres, redis = services
    live = LiveServer({"DATABASE_URL": postgres.url, "REDIS_URL": redis.url, "SECRET_KEY": "faults-" + "k" * 32,
                       "RATELIMIT_ENABLED": "false", "REALTIME_SWEEP_SECONDS": "1"}, production=True,
                      log_path=tmp_path_factory.mktemp("faults-log") / "server.log")
    live.command("db", "upgrade")
    live.command("seed-demo")
    live.start()
    yield live
    live.stop()


def test_restarts_and_outages_leave_no_half_done_write(services, server):
    postgres, redis = services
    alice, bob = App(server, "alice@acme.test"), App(server, "bob@globex.test")
    thread = thread_in(alice, "General")
    idea = alice.api("POST", "/ideas", json={"title": "Fault-tolerant idea", "body": "Vote for me"}).json()
    listener = App(server, "carla@initech.test").connect()
    assert listener.subscribe(f"thread:{thread['id']}") == {"ok": True}
    checkpoint = time.time()
    outcomes: list[int] = []
    stop = threading.Event()

    def load(app, body):
        i = 0
        while not stop.is_set():
            i += 1
            try:
                reply = app.api("POST", f"/threads/{thread['id']}/posts", json={"body": f"{body} {i}"})
                vote = app.api("PUT" if i % 2 else "DELETE", f"/ideas/{idea['id']}/vote")
                outcomes.extend([reply.status_code, vote.status_code])
                for response in (reply, vote):
                    if response.status_code == 503:
                        assert response.json()["error"]["code"] == "unavailable"
            except requests.ConnectionError:
                outcomes.append(-1)
            time.sleep(0.02)

    workers = [threading.Thread(target=load, args=(app, name)) for app, name in ((alice, "alice"), (bob, "bob"))]
    for worker in workers:
        worker.start()
    try:
        time.sleep(1.5)
        postgres.restart()
        time.sleep(1.5)
        redis.stop()
        time.sleep(10)
        redis.start()
        time.sleep(2)
    finally:
        stop.set()
        for worker in workers:
            worker.join(timeout=30)

    assert -1 not in outcomes and 500 not in outcomes
    assert set(outcomes) <= {200, 201, 204, 503}, sorted(set(outcomes))
    assert outcomes.count(503) < len(outcomes) / 2
    # The pool recovered on its own: the same processes answer again.
    assert alice.api("GET", "/me").status_code == 200
    engine = sa.create_engine(postgres.url)
    with engine.connect() as connection:
        replies = connection.scalar(sa.text("SELECT reply_count FROM threads WHERE id = :id"), {"id": thread["id"]})
        live_posts = connection.scalar(
            sa.text("SELECT count(*) FROM posts WHERE thread_id = :id AND deleted_at IS NULL"), {"id": thread["id"]})
        votes = connection.scalar(sa.text("SELECT vote_count FROM ideas WHERE id = :id"), {"id": idea["id"]})
        counted = connection.scalar(sa.text("SELECT count(*) FROM idea_votes WHERE idea_id = :id"), {"id": idea["id"]})
    engine.dispose()
    assert replies == live_posts - 1 and votes == counted
    # A live client resyncs from its last push: it ends with exactly what the database holds.
    caught_up = listener.api("GET", f"/threads/{thread['id']}/posts",
                             params={"since": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(checkpoint - 1)),
                                     "limit": 100}).json()
    ids = [post["id"] for post in caught_up["items"]]
    while caught_up["next_cursor"]:
        caught_up = listener.api("GET", f"/threads/{thread['id']}/posts",
                                 params={"cursor": caught_up["next_cursor"], "limit": 100}).json()
        ids += [post["id"] for post in caught_up["items"]]
    assert len(ids) == live_posts
    listener.close()
