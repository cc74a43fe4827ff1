"""Background work: every email, push and webhook leaves the process as a job.

Define a job once, at import time, with `@job`; enqueue it from a service inside the
transaction of the change that calls for it:

    @job("email.mention", max_attempts=5)
    def email_mention(notification_id: int) -> None: ...

    enqueue("email.mention", notification_id=notification.id)   # then events.commit()

The job is a row written in that transaction (an outbox): a rollback leaves no job, and a
process that dies right after the commit leaves a row that the sweep hands to a worker. After
the commit the row's id goes on the task queue (Huey: Redis with REDIS_URL, else SQLite in the
instance folder). A job runs at least once: arguments are ids, and the job reads what it needs
when it runs, so it acts on what is true then. A job that raises is retried with exponential
back-off and jitter (`RetryLater(seconds)` asks for a given delay, e.g. a `Retry-After`);
`GiveUp` or `max_attempts` failures make it dead, listed for admins.
"""
from .registry import GiveUp, RetryLater, crontab_at_hour, job, periodic
from .services import enqueue

__all__ = ["job", "crontab_at_hour", "periodic", "enqueue", "RetryLater", "GiveUp"]
