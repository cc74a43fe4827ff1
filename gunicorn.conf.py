"""Production serving: `gunicorn -c gunicorn.conf.py` (reads the same environment as the app).

One gevent worker per process: it serves thousands of concurrent WebSockets, and Socket.IO
needs each client to stay on one process. Scale out by running several such processes (on
several ports or machines) behind a load balancer with sticky sessions, all sharing
PostgreSQL and Redis (REDIS_URL) — see the README.
"""
import gc
import os

# The app's own logs (errors, warnings, pushes that failed) as JSON lines too, beside the
# access log; an operator may still ask for LOG_FORMAT=text.
os.environ.setdefault("LOG_FORMAT", "json")
# Served behind one proxy (the nginx of deploy/): believe the one X-Forwarded-For and
# X-Forwarded-Proto value it adds, and none a client wrote (the app's ProxyFix; see the README).
os.environ.setdefault("TRUSTED_PROXY_HOPS", "1")

wsgi_app = "wsgi:create_app()"
bind = [os.environ.get("BIND", f"0.0.0.0:{os.environ.get('PORT', '8000')}")]
worker_class = "gevent"
workers = 1
worker_connections = int(os.environ.get("WORKER_CONNECTIONS", "2000"))
timeout = 60
graceful_timeout = 20
keepalive = 5
accesslog = "-"
errorlog = "-"
loglevel = os.environ.get("LOG_LEVEL", "info")
access_log_format = '{"remote": "%(h)s", "request": "%(r)s", "status": %(s)s, "bytes": %(B)s, "ms": %(M)s}'


def post_worker_init(worker):
    """Garbage collection, tuned for a process that holds thousands of sockets. A full collection
    walks every object the process holds: with 1,000 sockets it took 220-320 ms on 2 cores, and
    every push waiting behind it was late by as much. The app's own objects, loaded by now, live
    as long as the process: frozen, no collection walks them again. Higher thresholds make full
    collections rare (about one per fifty million allocations) instead of several a minute."""
    gc.freeze()
    gc.set_threshold(10_000, 50, 100)
