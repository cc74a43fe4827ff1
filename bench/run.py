"""`make bench`: how fast Roundtable is, and whether it scales out. See the README's Benchmarks.

For each data set size it serves the app exactly as production does (`gunicorn -c
gunicorn.conf.py`, one gevent worker, PostgreSQL, Redis) on 127.0.0.1, loads each hot endpoint
with wrk from a separate process, counts SQL queries per request in-process, then measures
Socket.IO fan-out to many sockets on one and on two processes sharing Redis. It prints one
table and writes the figures as JSON under bench/results/.

Environment (all optional):
  BENCH_SIZES              data sets to run, from 1k, 100k, 1m (default: all three)
  BENCH_SECONDS            seconds of load per endpoint (default 6)
  BENCH_CONNECTIONS        concurrent wrk connections (default 16)
  BENCH_FANOUT_CLIENTS     sockets in the fan-out room (default 1000)
  BENCH_FANOUT_PROCESSES   server processes to measure fan-out on (default "1,2")
  BENCH_FANOUT_ROOM        "thread" (post.created pushes) or "idea" (idea.vote_changed pushes)
  BENCH_DATABASE_URL       a PostgreSQL URL with the right to create databases
                           (default postgresql+psycopg://postgres@127.0.0.1:5432/postgres)
  BENCH_REBUILD=1          rebuild the data sets even when up to date
  BENCH_PUSH_*             the push row's sizes (see bench/push.py)
"""
import json
import os
import platform
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from datetime import UTC, datetime
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy import event

from api.auth import issue_tokens
from community.accounts.models import User
from community.database import db
from tests.live_server import RedisServer, free_port, stop_process
from wsgi import create_app

from . import dataset
from . import push as push_bench

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results"
SECRET_KEY = "bench-" + "k" * 40
READER = 1  # the member whose requests are measured (checked in at the venue's centre)
VOTERS = 400  # distinct members voting during the vote run, each on several ideas
EVENT = 1


def _env_list(name: str, default: str) -> list[str]:
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


SIZES = _env_list("BENCH_SIZES", "1k,100k,1m")
SECONDS = int(os.environ.get("BENCH_SECONDS", "6"))
CONNECTIONS = int(os.environ.get("BENCH_CONNECTIONS", "16"))
FANOUT_CLIENTS = int(os.environ.get("BENCH_FANOUT_CLIENTS", "1000"))
FANOUT_PROCESSES = [int(n) for n in _env_list("BENCH_FANOUT_PROCESSES", "1,2")]
FANOUT_ROOM = os.environ.get("BENCH_FANOUT_ROOM", "thread")
FANOUT_PUSHES = 30
ADMIN_URL = sa.make_url(os.environ.get("BENCH_DATABASE_URL",
                                       "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"))


def make_app(url: str):
    return create_app({"SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": SECRET_KEY, "RATELIMIT_ENABLED": False})


class Gunicorn:
    """One production server process: `gunicorn -c gunicorn.conf.py [app]`, logs to a file."""

    def __init__(self, env: dict, log: Path, app: str | None = None, ready_path: str = "/health"):
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        command = [sys.executable, "-m", "gunicorn", "-c", "gunicorn.conf.py", "--bind", f"127.0.0.1:{self.port}"]
        with open(log, "ab") as out:
            self.process = subprocess.Popen([*command, *([app] if app else [])], cwd=ROOT, stdout=out, stderr=out,
                                            env={**os.environ, **env})
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                with urllib.request.urlopen(self.url + ready_path, timeout=2):
                    return
            except OSError:
                time.sleep(0.2)
        self.stop()
        raise RuntimeError(f"gunicorn did not start; see {log}")

    def stop(self) -> None:
        stop_process(self.process, timeout=20)


def wrk(url: str, lines: list[str], connections: int, seconds: int, workdir: Path) -> dict:
    """Load `url` with the requests in `lines` (METHOD PATH TOKEN); wrk's figures in ms."""
    requests_file = workdir / "requests.txt"
    requests_file.write_text("\n".join(lines) + "\n")
    result = subprocess.run(
        ["wrk", "-t1", f"-c{connections}", f"-d{seconds}s", "--timeout", "10s", "-s", str(ROOT / "bench" / "wrk.lua"),
         url, "--", str(requests_file)], capture_output=True, text=True, check=True)
    line = next(line for line in result.stdout.splitlines() if line.startswith("BENCH_JSON "))
    raw = json.loads(line.removeprefix("BENCH_JSON "))
    return {"rps": round(raw["requests"] / (raw["duration_us"] / 1e6), 1),
            "p50_ms": raw["p50_us"] / 1000, "p99_ms": raw["p99_us"] / 1000, "max_ms": raw["max_us"] / 1000,
            "requests": raw["requests"], "errors": raw["socket_errors"] + raw["non_2xx"]}


def _tokens(app, user_ids: list[int]) -> list[str]:
    """Access tokens for members, minted the way /auth/login does (without the slow password KDF)."""
    with app.test_request_context():
        tokens = [issue_tokens(db.session.get(User, user_id), "bench")["access_token"] for user_id in user_ids]
        db.session.remove()
    return tokens


def _targets(app) -> dict:
    """What each hot endpoint reads: a busy thread, the ideas, the event."""
    with app.app_context():
        threads = db.session.scalar(sa.text("SELECT count(*) FROM threads WHERE category_id <> 9"))
        thread = db.session.scalar(sa.text(
            "SELECT max(t.id) FROM threads t JOIN categories c ON c.id = t.category_id "
            "WHERE NOT c.staff_only AND c.purpose IS NULL AND t.id <= :middle"), {"middle": max(threads // 2, 1)})
        ideas = list(db.session.scalars(sa.text("SELECT id FROM ideas ORDER BY id")))
        db.session.remove()
    return {"thread": thread, "ideas": ideas}


def endpoints(targets: dict, reader: str, voters: list[str]) -> dict[str, list[str]]:
    """Each hot endpoint as wrk request lines. Votes: many members, each on ideas of their own."""
    ideas = targets["ideas"]
    votes = [f"PUT /api/v1/ideas/{ideas[(i * 7 + n) % len(ideas)]}/vote {token}"
             for n in range(10) for i, token in enumerate(voters)]
    return {
        "thread list": [f"GET /api/v1/threads {reader}"],
        "thread posts": [f"GET /api/v1/threads/{targets['thread']}/posts {reader}"],
        "idea list top": [f"GET /api/v1/ideas?sort=top {reader}"],
        "idea list": [f"GET /api/v1/ideas?sort=trending {reader}"],
        "idea list new": [f"GET /api/v1/ideas?sort=new {reader}"],
        "vote": votes,
        "attendees near me": [f"GET /api/v1/events/{EVENT}/attendees?near=me&radius_m=200 {reader}"],
        # Not a list: the lightest signed-in route (token check, the member), the floor under every row.
        "me (signed-in floor)": [f"GET /api/v1/me {reader}"],
    }


# Served with CACHE_ENABLED=false: every request takes the path of a cache miss.
MISS_ENDPOINTS = ("thread list", "thread posts", "idea list")
LISTS = ("thread list", "thread posts", "idea list top", "idea list", "idea list new")


def count_queries(app, lines: list[str]) -> int:
    """SQL statements one request issues, counted in-process. A vote is withdrawn first (the
    data sets are kept between runs), so the one counted is always cast."""
    method, path, token = lines[0].split(" ")
    with app.app_context():
        engine = db.engine
    statements = []

    def count(*_):
        statements.append(1)

    client = app.test_client()
    headers = {"Authorization": f"Bearer {token}"}
    if method == "PUT" and path.endswith("/vote"):
        client.delete(path, headers=headers)
    event.listen(engine, "before_cursor_execute", count)
    try:
        response = client.open(path, method=method, headers=headers)
    finally:
        event.remove(engine, "before_cursor_execute", count)
    assert response.status_code == 200, (path, response.status_code, response.get_data(as_text=True)[:300])
    return len(statements)


def run_size(size: str, redis_url: str, workdir: Path) -> dict:
    url = dataset.ensure(ADMIN_URL, size, make_app, rebuild=os.environ.get("BENCH_REBUILD") == "1")
    dataset.freshen(url)
    app = make_app(url)
    targets = _targets(app)
    reader, *voters = _tokens(app, [READER, *range(3, 3 + VOTERS)])
    lines = endpoints(targets, reader, voters)
    queries = {name: count_queries(app, endpoint_lines[:1]) for name, endpoint_lines in lines.items()}
    env = {"DATABASE_URL": url, "SECRET_KEY": SECRET_KEY, "REDIS_URL": redis_url, "RATELIMIT_ENABLED": "false"}
    results = measure(env, lines, queries, size, workdir / f"server-{size}.log")
    misses = {f"{name} (cache miss)": lines[name] for name in MISS_ENDPOINTS}
    results |= measure({**env, "CACHE_ENABLED": "false"}, misses,
                       {f"{name} (cache miss)": queries[name] for name in MISS_ENDPOINTS},
                       size, workdir / f"server-{size}-miss.log")
    with app.app_context():
        db.engine.dispose()
    return {"size": size, "posts": dataset.SIZES[size], "attendees": dataset.Shape(dataset.SIZES[size]).attendees,
            "endpoints": results}


def measure(env: dict, lines: dict[str, list[str]], queries: dict[str, int], size: str, log: Path) -> dict:
    server = Gunicorn(env, log)
    results = {}
    try:
        for name, endpoint_lines in lines.items():
            loaded = wrk(server.url, endpoint_lines, CONNECTIONS, SECONDS, log.parent)
            # One connection: no queueing, so p50 is the time the server spends on one request.
            alone = wrk(server.url, endpoint_lines, 1, max(SECONDS // 2, 2), log.parent)
            results[name] = {**loaded, "alone_p50_ms": alone["p50_ms"], "queries": queries[name]}
            print(f"  {size:>5} {name:<28} {loaded['rps']:>8.0f} req/s  p50 {loaded['p50_ms']:6.1f} ms  "
                  f"p99 {loaded['p99_ms']:6.1f} ms  alone p50 {alone['p50_ms']:5.1f} ms  "
                  f"{queries[name]} queries", flush=True)
    finally:
        server.stop()
    return results


def run_bare(redis_url: str, workdir: Path) -> dict:
    server = Gunicorn({"SECRET_KEY": SECRET_KEY, "REDIS_URL": redis_url}, workdir / "bare.log", app="bench.bare:app",
                      ready_path="/bare")
    try:
        loaded = wrk(server.url, ["GET /bare -"], CONNECTIONS, SECONDS, workdir)
        alone = wrk(server.url, ["GET /bare -"], 1, max(SECONDS // 2, 2), workdir)
    finally:
        server.stop()
    print(f"  bare endpoint            {loaded['rps']:>8.0f} req/s  p50 {loaded['p50_ms']:6.1f} ms  "
          f"p99 {loaded['p99_ms']:6.1f} ms  alone p50 {alone['p50_ms']:5.1f} ms", flush=True)
    return {**loaded, "alone_p50_ms": alone["p50_ms"]}


def _post(url: str, path: str, token: str, method: str = "POST", body: dict | None = None) -> None:
    request = urllib.request.Request(url + path, method=method, data=json.dumps(body or {}).encode(),
                                     headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=30) as response:
        assert response.status in (200, 201), response.status


def run_fanout(size: str, processes: int, redis_url: str, workdir: Path) -> dict:
    """FANOUT_CLIENTS sockets in one room, spread over `processes` server processes sharing Redis;
    FANOUT_PUSHES pushes to it; how long after its `ts` each socket got each push."""
    url = dataset.ensure(ADMIN_URL, size, make_app)
    app = make_app(url)
    targets = _targets(app)
    clients = min(FANOUT_CLIENTS, dataset.Shape(dataset.SIZES[size]).users - 2)
    writer, *listeners = _tokens(app, [READER, *range(3, 3 + clients)])
    with app.app_context():
        db.engine.dispose()
    room, trigger = {
        "thread": (f"thread:{targets['thread']}",
                   lambda server, n: _post(server.url, f"/api/v1/threads/{targets['thread']}/posts", writer,
                                           body={"body": f"fan-out {n}"})),
        "idea": (f"idea:{targets['ideas'][0]}",
                 lambda server, n: _post(server.url, f"/api/v1/ideas/{targets['ideas'][0]}/vote", writer,
                                         method="DELETE" if n % 2 else "PUT")),
    }[FANOUT_ROOM]
    env = {"DATABASE_URL": url, "SECRET_KEY": SECRET_KEY, "REDIS_URL": redis_url, "RATELIMIT_ENABLED": "false"}
    servers = [Gunicorn(env, workdir / f"fanout-{processes}-{n}.log") for n in range(processes)]
    client_processes = []
    try:
        # Two client processes: the clients' own work (parsing each push) is spread over both cores.
        for n in range(2):
            tokens_file = workdir / f"tokens-{n}.txt"
            tokens_file.write_text("\n".join(listeners[n::2]))
            client_processes.append(subprocess.Popen(
                [sys.executable, "-m", "bench.fanout", servers[n % processes].url, room, str(tokens_file)],
                cwd=ROOT, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True))
        for process in client_processes:
            if process.stdout.readline().strip() != "READY":
                raise RuntimeError("fan-out clients did not connect")
        time.sleep(1)
        for n in range(FANOUT_PUSHES):
            trigger(servers[n % processes], n)
            time.sleep(0.3)
        time.sleep(2)
        delays = []
        for process in client_processes:
            process.stdin.write("stop\n")
            process.stdin.flush()
            delays.extend(json.loads(process.stdout.readline()))
            process.wait(timeout=60)
    finally:
        for process in client_processes:
            if process.poll() is None:
                process.kill()
                process.wait()
        for server in servers:
            server.stop()
    delays.sort()
    expected = FANOUT_PUSHES * clients
    result = {"processes": processes, "clients": clients, "room": room, "pushes": FANOUT_PUSHES,
              "delivered": len(delays), "expected": expected,
              "p50_ms": round(statistics.median(delays), 1) if delays else None,
              "p99_ms": round(delays[int(len(delays) * 0.99) - 1], 1) if delays else None,
              "max_ms": round(delays[-1], 1) if delays else None}
    print(f"  fan-out to {clients} sockets on {processes} process(es): p50 {result['p50_ms']} ms  "
          f"p99 {result['p99_ms']} ms  max {result['max_ms']} ms  ({len(delays)}/{expected} delivered)", flush=True)
    return result


def cpu_times() -> list[int]:
    """The machine's CPU time counters (user, nice, system, idle, iowait, irq, softirq, steal)."""
    return [int(n) for n in Path("/proc/stat").read_text().splitlines()[0].split()[1:9]]


def steal_percent(before: list[int], after: list[int]) -> float:
    """The share of CPU time the hypervisor gave to other machines: figures taken while it is
    high are slower than the code."""
    spent = [b - a for a, b in zip(before, after, strict=True)]
    return round(100 * spent[7] / max(sum(spent), 1), 1)


def cpu_yardstick_ms() -> float:
    """A fixed piece of pure-Python work, best of three: how fast this machine runs Python right
    now, to compare runs made on different days (shared virtual machines vary several-fold)."""
    best = float("inf")
    for _ in range(3):
        started = time.perf_counter()
        sum(n * n for n in range(3_000_000))
        best = min(best, time.perf_counter() - started)
    return round(best * 1000, 1)


def machine() -> dict:
    cpu = next((line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
                if line.startswith("model name")), platform.processor())
    postgres = subprocess.run(["psql", "--version"], capture_output=True, text=True).stdout.strip()
    return {"cpu": cpu, "cores": os.cpu_count(), "python": platform.python_version(), "os": platform.platform(),
            "postgresql": postgres, "host": socket.gethostname(),
            # Other work on the machine skews every figure: the load before the run says how much.
            "load_average_1m_before": os.getloadavg()[0], "cpu_yardstick_ms": cpu_yardstick_ms()}


def table(report: dict) -> str:
    bare = report["bare"]
    sizes = report["sizes"]
    rows = [f"{'endpoint':<28} {'size':>5} {'req/s':>7} {'p50 ms':>7} {'p99 ms':>7} {'alone p50':>9} "
            f"{'vs bare':>7} {'queries':>7}"]
    rows.append("-" * len(rows[0]))
    for name in sizes[0]["endpoints"]:
        for entry in sizes:
            figures = entry["endpoints"][name]
            rows.append(f"{name:<28} {entry['size']:>5} {figures['rps']:>7.0f} {figures['p50_ms']:>7.1f} "
                        f"{figures['p99_ms']:>7.1f} {figures['alone_p50_ms']:>9.1f} "
                        f"{figures['rps'] / bare['rps']:>7.2f} {figures['queries']:>7}")
        if len(sizes) > 1:
            first, last = sizes[0]["endpoints"][name], sizes[-1]["endpoints"][name]
            rows.append(f"{'':<28} p50 growth {sizes[0]['size']} -> {sizes[-1]['size']}: "
                        f"{last['p50_ms'] / first['p50_ms']:.2f}x loaded, "
                        f"{last['alone_p50_ms'] / first['alone_p50_ms']:.2f}x alone")
    rows.append(f"{'bare endpoint':<28} {'':>5} {bare['rps']:>7.0f} {bare['p50_ms']:>7.1f} {bare['p99_ms']:>7.1f} "
                f"{bare['alone_p50_ms']:>9.1f} {1:>7.2f} {0:>7}")
    for fanout in report["fanout"]:
        rows.append(f"fan-out {fanout['clients']} sockets, {fanout['processes']} process(es), {fanout['room']}: "
                    f"p50 {fanout['p50_ms']} ms, p99 {fanout['p99_ms']} ms, max {fanout['max_ms']} ms "
                    f"({fanout['delivered']}/{fanout['expected']} delivered)")
    if "push" in report:
        rows.append(push_bench.row(report["push"]))
    rows.append("")
    rows.extend(f"{'met   ' if met else 'MISSED'}  {target}: {measured}" for target, measured, met in verdicts(report))
    return "\n".join(rows)


NOT_MEASURED = "not measured"


def verdicts(report: dict) -> list[tuple[str, str, bool]]:
    """Each DESIGN.md target against this run: (target, what was measured, met). A target whose
    endpoint has no figures is listed as not measured, and so not met."""
    bare = report["bare"]["rps"]
    largest = report["sizes"][-1]["endpoints"]
    found = []

    def ratio(name: str, floor: float) -> None:
        target = f"{name} >= {floor}x bare"
        figures = largest.get(name)
        if figures is None:
            found.append((target, NOT_MEASURED, False))
        else:
            share = figures["rps"] / bare
            found.append((target, f"{share:.2f}x ({figures['rps']:.0f} req/s)", share >= floor))

    for name in LISTS:
        ratio(name, 0.5)
    for name in MISS_ENDPOINTS:
        ratio(f"{name} (cache miss)", 0.15)
    ratio("vote", 0.1)
    near = largest.get("attendees near me")
    near_target = "attendees near me p50 < 10 ms in the server"
    if near is None:
        found.append((near_target, NOT_MEASURED, False))
    else:
        found.append((near_target, f"{near['alone_p50_ms']:.1f} ms alone", near["alone_p50_ms"] < 10))
    sizes = report["sizes"]
    if len(sizes) > 1:
        for name in LISTS:
            target = f"{name} p50 at {sizes[-1]['size']} within 1.3x of {sizes[0]['size']}"
            first, last = sizes[0]["endpoints"].get(name), sizes[-1]["endpoints"].get(name)
            if first is None or last is None:
                found.append((target, NOT_MEASURED, False))
            else:
                growth = last["alone_p50_ms"] / first["alone_p50_ms"]
                found.append((target, f"{growth:.2f}x alone", growth <= 1.3))
    for fanout in report["fanout"]:
        ceiling = 100 if fanout["processes"] == 1 else 60
        found.append((f"fan-out p99 to {fanout['clients']} sockets on {fanout['processes']} process(es) "
                      f"< {ceiling} ms", f"{fanout['p99_ms']} ms",
                      fanout["p99_ms"] < ceiling and fanout["delivered"] == fanout["expected"]))
    return found


def main() -> None:
    if shutil.which("wrk") is None:
        raise SystemExit("wrk is not installed: apt-get install wrk")
    if shutil.which("redis-server") is None:
        raise SystemExit("redis-server is not installed: apt-get install redis-server")
    unknown = set(SIZES) - set(dataset.SIZES)
    if unknown:
        raise SystemExit(f"BENCH_SIZES: unknown {', '.join(sorted(unknown))}; use {', '.join(dataset.SIZES)}")
    started, cpu_before = time.monotonic(), cpu_times()
    redis = RedisServer().start()
    report = {"started_at": datetime.now(UTC).isoformat(timespec="seconds"), "machine": machine(),
              "settings": {"seconds": SECONDS, "connections": CONNECTIONS, "server": "gunicorn -c gunicorn.conf.py",
                           "load_tool": subprocess.run(["wrk", "-v"], capture_output=True, text=True
                                                       ).stdout.splitlines()[0]}}
    try:
        with tempfile.TemporaryDirectory(prefix="roundtable-bench-") as temporary:
            workdir = Path(temporary)
            report["bare"] = run_bare(redis.url, workdir)
            report["sizes"] = [run_size(size, redis.url, workdir) for size in SIZES]
            report["fanout"] = [run_fanout(SIZES[-1], processes, redis.url, workdir) for processes in FANOUT_PROCESSES]
            report["push"] = push_bench.run(redis.url, workdir)
    finally:
        redis.stop()
    report["seconds"] = round(time.monotonic() - started)
    report["machine"]["load_average_1m_after"] = os.getloadavg()[0]
    report["machine"]["cpu_steal_percent"] = steal_percent(cpu_before, cpu_times())
    RESULTS.mkdir(exist_ok=True)
    path = RESULTS / "latest.json"
    path.write_text(json.dumps(report, indent=2) + "\n")
    print()
    print(table(report))
    host = report["machine"]
    print(f"\n{report['seconds']} s; load average {host['load_average_1m_before']:.1f} before, "
          f"{host['load_average_1m_after']:.1f} after; CPU steal {host['cpu_steal_percent']}%; "
          f"Python yardstick {host['cpu_yardstick_ms']} ms; "
          f"results in {path.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
