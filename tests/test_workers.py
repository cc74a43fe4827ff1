"""Real workers (`flask worker` processes) on a real Redis broker, as an operator runs them:
a mention committed by the web process is emailed by a worker; a process killed right after
its commit still gets its job done; a rolled-back change leaves no job at all."""
import io
import subprocess
import sys
import time
import zipfile
from textwrap import dedent

import pytest
import requests
import sqlalchemy as sa

from .live_server import FLASK, ROOT, LiveServer, stop_process
from .mailbox import Inbox, start_smtp

BOB = "bob@globex.test"


def wait_for(predicate, timeout=30.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.1)
    return False


@pytest.fixture(scope="module")
def inbox():
    inbox = Inbox()
    controller = start_smtp(inbox)
    inbox.url = f"smtp://127.0.0.1:{controller.port}"
    yield inbox
    controller.stop()


@pytest.fixture(scope="module")
def site(tmp_path_factory, redis_server, inbox):
    """The web process (`flask run`) on Redis: with REDIS_URL it leaves jobs to the workers."""
    database = f"sqlite:///{tmp_path_factory.mktemp('workers') / 'site.sqlite'}"
    live = LiveServer({"DATABASE_URL": database, "REDIS_URL": redis_server.url, "SMTP_URL": inbox.url,
                       "SECRET_KEY": "workers-test-" + "k" * 32, "RATELIMIT_ENABLED": "false",
                       "EXPORTS_DIR": str(tmp_path_factory.mktemp("exports"))})
    live.command("db", "upgrade")
    live.command("seed-demo")
    live.start()
    live.database = database
    yield live
    live.stop()


@pytest.fixture
def workers(site):
    """`workers(n)` starts n `flask worker` processes; all are stopped afterwards."""
    started = []

    def start(count=1):
        for _ in range(count):
            started.append(subprocess.Popen([*FLASK, "worker", "--threads", "2"], cwd=ROOT, env=site.env,
                                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))

    yield start
    for process in started:
        stop_process(process)


def _sign_in(site, email):
    response = requests.post(f"{site.url}/api/v1/auth/login",
                             json={"email": email, "password": "roundtable-demo"}, timeout=10)
    assert response.status_code == 200, response.text
    return {"Authorization": f"Bearer {response.json()['access_token']}"}


def _jobs(site, name="email.mention"):
    engine = sa.create_engine(site.database)
    with engine.connect() as connection:
        rows = connection.execute(sa.text("SELECT status, arguments FROM jobs WHERE name = :name ORDER BY id"),
                                  {"name": name}).all()
    engine.dispose()
    return rows


def _a_thread_and_bob(site):
    alice = _sign_in(site, "alice@acme.test")
    threads = requests.get(f"{site.url}/api/v1/threads", headers=alice, timeout=10).json()["items"]
    thread_id = next(thread["id"] for thread in threads if thread["can_reply"])
    bob_handle = requests.get(f"{site.url}/api/v1/me", headers=_sign_in(site, BOB), timeout=10).json()["handle"]
    return alice, thread_id, bob_handle


def test_a_worker_sends_what_the_web_process_committed(site, workers, inbox):
    alice, thread_id, bob = _a_thread_and_bob(site)
    before = len(inbox.to(BOB))
    response = requests.post(f"{site.url}/api/v1/threads/{thread_id}/posts", headers=alice, timeout=10,
                             json={"body": f"@{bob} could you share the worker-test numbers?"})
    assert response.status_code == 201, response.text
    time.sleep(1)
    assert len(inbox.to(BOB)) == before  # no worker yet: the web process sends nothing itself
    queue = requests.get(f"{site.url}/health", timeout=10).json()["queue"]
    assert queue["depth"] >= 1 and queue["oldest_age_seconds"] >= 0.5

    workers(2)
    assert wait_for(lambda: len(inbox.to(BOB)) == before + 1), "no worker sent the mention"
    assert "worker-test numbers" in inbox.to(BOB)[-1].get_payload(decode=True).decode()
    assert wait_for(lambda: _jobs(site)[-1][0] == "succeeded")
    time.sleep(1)
    assert len(inbox.to(BOB)) == before + 1  # two workers, one email


def test_a_worker_builds_an_export_that_only_its_member_downloads(site, workers, inbox):
    alice, bob = _sign_in(site, "alice@acme.test"), _sign_in(site, BOB)
    started = requests.post(f"{site.url}/api/v1/me/exports", headers=alice, timeout=10)
    assert started.status_code == 202 and started.json()["status"] == "pending", started.text
    follow = f"{site.url}/api/v1/me/exports/{started.json()['id']}"
    time.sleep(1)
    assert requests.get(follow, headers=alice, timeout=10).json()["status"] == "pending"  # no worker yet

    workers(1)
    assert wait_for(lambda: requests.get(follow, headers=alice, timeout=10).json()["status"] == "ready")
    link = requests.get(follow, headers=alice, timeout=10).json()["download_url"]
    download = requests.get(link, headers=alice, timeout=10)
    assert download.status_code == 200 and download.headers["Content-Type"] == "application/zip"
    profile = zipfile.ZipFile(io.BytesIO(download.content)).read("profile.json").decode()
    assert '"email": "alice@acme.test"' in profile
    assert requests.get(link, headers=bob, timeout=10).status_code == 404
    assert requests.get(follow, headers=bob, timeout=10).status_code == 404
    path = f"/settings/data/exports/{started.json()['id']}/download"  # on the site's public address
    assert wait_for(lambda: any(path in m.get_payload(decode=True).decode() for m in inbox.to("alice@acme.test")))


CHANGE = dedent("""
    import os, sys
    from sqlalchemy import event, select
    from sqlalchemy.orm import Session
    from community.accounts.models import User
    from community.database import db
    from community.threads import services as threads
    from wsgi import create_app

    thread_id, text, fate = int(sys.argv[1]), sys.argv[2], sys.argv[3]
    app = create_app()
    with app.app_context():
        alice = db.session.scalar(select(User).filter_by(email="alice@acme.test"))
        if fate == "crash":  # the process dies the moment the commit is done, before anything else
            event.listen(Session, "after_commit", lambda session: os._exit(17), insert=True)
        else:  # the commit fails, so the transaction rolls back
            def refuse(session):
                raise RuntimeError("the disk is full")
            event.listen(Session, "before_commit", refuse)
        threads.do_reply(alice, thread_id, text)
""")


def _change_in_a_process_that(fate, site, thread_id, text):
    result = subprocess.run([sys.executable, "-c", CHANGE, str(thread_id), text, fate], cwd=ROOT, env=site.env,
                            capture_output=True, text=True, timeout=60)
    return result


def test_a_job_survives_the_process_dying_right_after_commit(site, workers, inbox):
    _, thread_id, bob = _a_thread_and_bob(site)
    crashed = _change_in_a_process_that("crash", site, thread_id, f"@{bob} committed, then the lights went out")
    assert crashed.returncode == 17, crashed.stderr
    rolled_back = _change_in_a_process_that("rollback", site, thread_id, f"@{bob} this change never happened")
    assert rolled_back.returncode == 1 and "the disk is full" in rolled_back.stderr
    assert [status for status, _ in _jobs(site)][-1] == "pending"  # the crashed one's; none for the rollback

    workers(1)  # a worker starting later picks up what the dead process left
    assert wait_for(lambda: any("lights went out" in m.get_payload(decode=True).decode() for m in inbox.to(BOB)))
    time.sleep(1)
    assert not any("never happened" in m.get_payload(decode=True).decode() for m in inbox.messages)


def test_without_redis_the_web_process_runs_the_jobs_itself(tmp_path, inbox):
    """The embedded default (`flask run`, `make demo`): no broker, no worker, the mail still goes."""
    live = LiveServer({"DATABASE_URL": f"sqlite:///{tmp_path / 'embedded.sqlite'}", "SMTP_URL": inbox.url,
                       "SECRET_KEY": "embedded-test-" + "k" * 32, "RATELIMIT_ENABLED": "false"})
    live.command("db", "upgrade")
    live.command("seed-demo")
    live.start()
    try:
        alice, thread_id, bob = _a_thread_and_bob(live)
        response = requests.post(f"{live.url}/api/v1/threads/{thread_id}/posts", headers=alice, timeout=10,
                                 json={"body": f"@{bob} the embedded queue says hello"})
        assert response.status_code == 201, response.text
        assert wait_for(lambda: any("embedded queue" in m.get_payload(decode=True).decode() for m in inbox.to(BOB)))
    finally:
        live.stop()
