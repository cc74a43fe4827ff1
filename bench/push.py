"""Push throughput and delay: `python -m bench.push` (also part of `make bench`).

One `flask worker` process (4 threads) on Redis delivers Web Push messages (encrypted, VAPID
signed, exactly as in production) to a local push service on 127.0.0.1 that answers 201 at once.
Throughput: a backlog of mentions is committed while the worker is stopped, then the worker is
started and the time to deliver them all is measured. Delay: with the worker running, mentions
are committed at a steady pace and each push's arrival is compared with its commit (the
notification's `created_at`; the push's `Topic` names the notification).

Environment (optional): BENCH_PUSH_BACKLOG (default 500), BENCH_PUSH_PACED (default 200),
BENCH_PUSH_RATE per second (default 20).
"""
import base64
import json
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from flask_migrate import upgrade
from sqlalchemy import select

from community import events
from community.accounts.models import DeviceSession, User
from community.database import db
from community.notifications.models import Notification
from community.notifications.services import notify
from community.push.models import PushSubscription
from community.threads.models import Thread
from tests.factories import make_category, make_thread, make_user
from tests.live_server import FLASK, ROOT, RedisServer, stop_process
from wsgi import create_app

BACKLOG = int(os.environ.get("BENCH_PUSH_BACKLOG", "500"))
PACED = int(os.environ.get("BENCH_PUSH_PACED", "200"))
RATE = float(os.environ.get("BENCH_PUSH_RATE", "20"))
RECIPIENTS = 50


class Arrivals:
    def __init__(self):
        self.times: dict[int, float] = {}
        self.lock = threading.Lock()


def _push_service(arrivals: Arrivals) -> ThreadingHTTPServer:
    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):  # noqa: N802
            self.rfile.read(int(self.headers.get("Content-Length") or 0))
            with arrivals.lock:
                arrivals.times[int(self.headers["Topic"][1:])] = time.time()
            self.send_response(201)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


def _keys() -> dict:
    public = ec.generate_private_key(ec.SECP256R1()).public_key().public_bytes(
        serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint)
    encode = lambda raw: base64.urlsafe_b64encode(raw).rstrip(b"=").decode()  # noqa: E731
    return {"p256dh": encode(public), "auth": encode(os.urandom(16))}


def _setup(app, endpoint: str) -> tuple[int, int, list[int]]:
    with app.app_context():
        upgrade()
        author = make_user(display_name="Bench Author")
        thread = make_thread(author, make_category("Bench"))
        recipients = []
        for number in range(RECIPIENTS):
            user = make_user(display_name=f"Bench Reader {number}")
            session = DeviceSession(user_id=user.id, refresh_jti=f"bench-{number}")
            db.session.add(session)
            db.session.flush()
            db.session.add(PushSubscription(user_id=user.id, session_id=session.id, kind="webpush",
                                            address=f"{endpoint}/push/{number}", **_keys()))
            recipients.append(user.id)
        events.commit()
        return author.id, thread.id, recipients


def _mention(author_id: int, thread_id: int, recipient_id: int) -> None:
    author, reader = db.session.get(User, author_id), db.session.get(User, recipient_id)
    notify([reader], "mention", actor=author, thread=db.session.get(Thread, thread_id), text="bench mention")
    events.commit()


def _created(app) -> dict[int, float]:
    with app.app_context():
        return {nid: created.timestamp() for nid, created in db.session.execute(
            select(Notification.id, Notification.created_at))}


def _wait(arrivals: Arrivals, count: int, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while len(arrivals.times) < count and time.monotonic() < deadline:
        time.sleep(0.05)


def run(redis_url: str, workdir: Path) -> dict:
    arrivals = Arrivals()
    service = _push_service(arrivals)
    endpoint = f"http://127.0.0.1:{service.server_address[1]}"
    database = f"sqlite:///{workdir / 'push.sqlite'}"
    env = {**os.environ, "DATABASE_URL": database, "REDIS_URL": redis_url, "SECRET_KEY": "bench-" + "k" * 40,
           "OUTBOUND_ALLOW_PRIVATE_NETWORKS": "true", "ROUNDTABLE_DEMO": "1", "LOG_LEVEL": "warning"}
    os.environ.update({k: env[k] for k in ("REDIS_URL", "OUTBOUND_ALLOW_PRIVATE_NETWORKS", "ROUNDTABLE_DEMO")})
    app = create_app({"SQLALCHEMY_DATABASE_URI": database, "SECRET_KEY": env["SECRET_KEY"], "DEMO": True,
                      "RATELIMIT_ENABLED": False})
    author, thread, recipients = _setup(app, endpoint)
    worker = None
    try:
        with app.app_context():  # the backlog, committed while no worker runs
            for number in range(BACKLOG):
                _mention(author, thread, recipients[number % len(recipients)])
        started = time.time()
        worker = subprocess.Popen([*FLASK, "worker", "--threads", "4"], cwd=ROOT, env=env,
                                  stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        _wait(arrivals, BACKLOG, timeout=300)
        drained = max(arrivals.times.values()) - started
        backlog_delivered = len(arrivals.times)
        arrivals.times.clear()
        with app.app_context():  # a steady pace, the worker running
            first = time.monotonic()
            for number in range(PACED):
                _mention(author, thread, recipients[number % len(recipients)])
                time.sleep(max(0.0, first + (number + 1) / RATE - time.monotonic()))
        _wait(arrivals, PACED, timeout=120)
        created = _created(app)
        delays = sorted((arrived - created[nid]) * 1000 for nid, arrived in arrivals.times.items())
    finally:
        if worker is not None:
            stop_process(worker)
        service.shutdown()
        with app.app_context():
            db.engine.dispose()
    quantiles = statistics.quantiles(delays, n=100) if len(delays) > 1 else [0] * 99
    return {"backlog": BACKLOG, "backlog_delivered": backlog_delivered,
            "per_second": round(backlog_delivered / drained, 1) if drained > 0 else 0,
            "paced": PACED, "rate": RATE, "paced_delivered": len(delays),
            "delay_p50_ms": round(quantiles[49], 1), "delay_p99_ms": round(quantiles[98], 1)}


def row(push: dict) -> str:
    return (f"push: {push['per_second']} Web Push messages/s by one worker ({push['backlog_delivered']}/"
            f"{push['backlog']} delivered); commit-to-push at {push['rate']:.0f}/s: p50 {push['delay_p50_ms']} ms, "
            f"p99 {push['delay_p99_ms']} ms ({push['paced_delivered']}/{push['paced']} delivered)")


def main() -> None:
    redis = RedisServer().start()
    try:
        with tempfile.TemporaryDirectory(prefix="roundtable-bench-push-") as temporary:
            result = run(redis.url, Path(temporary))
    finally:
        redis.stop()
    result["measured_at"] = datetime.now(UTC).isoformat(timespec="seconds")
    print(row(result))
    print(json.dumps(result))


if __name__ == "__main__":
    sys.exit(main())
