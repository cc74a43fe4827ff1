"""The task queue under the jobs: Huey, on Redis when REDIS_URL is set, else on SQLite.

Huey carries only job ids (and the time to run them); the `jobs` table is the truth. Each app
gets its own Huey instance with two tasks: `run_job` and the periodic `sweep`, plus one
periodic task per `@periodic` job, which enqueues that job once per tick across all workers.
"""
import hashlib
import logging
import os
import threading
from datetime import timedelta

from flask import Flask
from huey import MemoryHuey, RedisHuey, SqliteHuey, crontab
from huey.consumer import Consumer

from . import services
from .registry import PERIODIC

log = logging.getLogger(__name__)

QUEUE_NAME = "roundtable"


class JobQueue:
    def __init__(self, app: Flask):
        self.app = app
        self.huey = self._make_huey(app)
        self._run = self.huey.task(name="run_job")(self._in_app(services.run_job))
        self.huey.periodic_task(crontab(), name="sweep")(self._in_app(services.sweep))
        for definition in PERIODIC.values():
            self.huey.periodic_task(definition.schedule(app.config), name=f"periodic:{definition.name}")(
                self._enqueue_once_per_tick(definition.name))
        self._in_process = None
        self._lock = threading.Lock()

    @staticmethod
    def _make_huey(app: Flask):
        config = app.config
        if config["JOBS_IMMEDIATE"]:
            # Tests: each job runs in the committing process right after the commit, as a
            # worker would run it (Huey's immediate mode, memory storage).
            return MemoryHuey(QUEUE_NAME, immediate=True, results=False, utc=True)
        if config["REDIS_URL"]:
            return RedisHuey(QUEUE_NAME, url=config["REDIS_URL"], results=False, utc=True)
        # One file for the instance; one queue per database, so two apps sharing an instance
        # folder (tests, a second demo) never run each other's jobs.
        database = hashlib.sha256(config["SQLALCHEMY_DATABASE_URI"].encode()).hexdigest()[:12]
        return SqliteHuey(f"{QUEUE_NAME}-{database}", filename=os.path.join(app.instance_path, "jobs.sqlite"),
                          results=False, utc=True)

    def _in_app(self, function):
        def run(*args):
            with self.app.app_context():
                return function(*args)

        run.__name__ = function.__name__
        return run

    def _enqueue_once_per_tick(self, name: str):
        def enqueue_periodic():
            # Every consumer's scheduler fires periodic tasks: the first to claim the minute wins.
            tick = self.huey._get_timestamp().strftime("%Y%m%d%H%M")
            if not self.huey.put_if_empty(f"periodic:{name}:{tick}", "1"):
                return
            with self.app.app_context():
                services.enqueue(name)
                services.events.commit()

        enqueue_periodic.__name__ = f"periodic_{name.replace('.', '_')}"
        return enqueue_periodic

    def send(self, job_id: int, delay_seconds: float = 0) -> None:
        """Put a committed job's id on the queue, to run now or after `delay_seconds`."""
        if delay_seconds > 0:
            self._run.schedule(args=(job_id,), delay=delay_seconds)
        else:
            self._run(job_id)

    def consumer(self, workers: int, consumer_class=Consumer) -> Consumer:
        return consumer_class(self.huey, workers=workers, worker_type="thread", periodic=True,
                              initial_delay=0.05, max_delay=1.0, check_worker_health=True)

    def start_in_process(self) -> None:
        """Run a consumer in this process's threads (the embedded default: `flask run`, the demo)."""
        if self._in_process is not None:
            return
        with self._lock:
            if self._in_process is not None or self.huey.immediate:
                return
            self._in_process = self.consumer(self.app.config["JOBS_IN_PROCESS_WORKERS"], InProcessConsumer)
            self._in_process.start()
        with self.app.app_context():
            services.sweep(lost_after=timedelta(0))

    def pending_messages(self) -> int:
        return self.huey.pending_count()


class InProcessConsumer(Consumer):
    """A consumer inside the web process: its threads are daemons, and the signals stay the
    server's (the web server stops the process; jobs it held are recovered by the sweep)."""

    def _set_signal_handlers(self):
        pass


def init_jobs(app: Flask) -> None:
    queue = JobQueue(app)
    app.extensions[services.QUEUE_EXTENSION] = queue
    if app.config["JOBS_IN_PROCESS"]:
        app.before_request(lambda: queue.start_in_process())
