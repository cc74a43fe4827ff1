"""Webhooks as an operator runs them: the web process commits, a `flask worker` process on Redis
delivers, and a receiver on 127.0.0.1 verifies the signature with the Standard Webhooks library."""
import subprocess

import pytest
import requests

from .live_server import FLASK, ROOT, LiveServer, stop_process
from .webhook_receiver import Receiver


@pytest.fixture(scope="module")
def site(tmp_path_factory, redis_server):
    database = f"sqlite:///{tmp_path_factory.mktemp('webhooks') / 'site.sqlite'}"
    live = LiveServer({"DATABASE_URL": database, "REDIS_URL": redis_server.url, "RATELIMIT_ENABLED": "false",
                       "SECRET_KEY": "webhooks-test-" + "k" * 32, "OUTBOUND_ALLOW_PRIVATE_NETWORKS": "true"})
    live.command("db", "upgrade")
    live.command("seed-demo")
    live.start()
    yield live
    live.stop()


@pytest.fixture
def worker(site):
    process = subprocess.Popen([*FLASK, "worker", "--threads", "2"], cwd=ROOT, env=site.env,
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    yield process
    stop_process(process)


def _api(site, email):
    response = requests.post(f"{site.url}/api/v1/auth/login", json={"email": email, "password": "roundtable-demo"},
                             timeout=10)
    assert response.status_code == 200, response.text
    session = requests.Session()
    session.headers["Authorization"] = f"Bearer {response.json()['access_token']}"
    return session


def test_a_worker_delivers_an_idea_signed_and_retries_a_failure(site, worker):
    receiver = Receiver()
    try:
        admin, alice = _api(site, "admin@roundtable.test"), _api(site, "alice@acme.test")
        created = admin.post(f"{site.url}/api/v1/webhooks", json={"url": receiver.url, "events": ["idea.created"]},
                             timeout=10)
        assert created.status_code == 201, created.text
        receiver.secret = created.json()["secret"]
        receiver.answers = [500]  # the first attempt fails; the retry 5 s later succeeds
        idea = alice.post(f"{site.url}/api/v1/ideas", json={"title": "Delivered by a worker", "body": "Yes"},
                          timeout=10).json()
        arrivals = receiver.wait_for("idea.created", count=2, timeout=40)
        assert [a["status"] for a in arrivals] == [500, 200] and receiver.refused == []
        assert arrivals[0]["headers"]["webhook-id"] == arrivals[1]["headers"]["webhook-id"]
        assert arrivals[1]["body"]["data"]["idea"]["id"] == idea["id"]
        log = admin.get(f"{site.url}/api/v1/webhooks/{created.json()['id']}/deliveries", timeout=10).json()["items"]
        assert [(d["status"], d["attempts"]) for d in log] == [("succeeded", 2)]
    finally:
        receiver.stop()
