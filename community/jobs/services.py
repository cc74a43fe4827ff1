"""Jobs: enqueued in the caller's transaction (the outbox), run by workers, retried, or dead."""
import logging
import random
from datetime import timedelta

from flask import current_app
from sqlalchemy import delete, func, select, update
from sqlalchemy import event as sa_event
from sqlalchemy.orm import Session

from .. import events, permissions
from ..accounts.models import User
from ..database import db, insert_unless_exists, utcnow
from ..errors import Conflict, Forbidden, NotFound, ValidationFailed
from ..pagination import Keyset, Page, check_limit
from .models import Job, JobStatus
from .registry import JOBS, GiveUp, RetryLater

log = logging.getLogger(__name__)

QUEUE_EXTENSION = "roundtable.jobs"
_TO_RELAY = "jobs_to_relay"

# Back-off: about 10 s, 20 s, 40 s... up to 6 hours, each drawn between half and all of it, so
# jobs that failed together (a push service's outage) do not all come back at the same instant.
BACKOFF_BASE_SECONDS = 10
BACKOFF_MAX_SECONDS = 6 * 3600
MAX_RETRY_AFTER_SECONDS = 24 * 3600
# A queued message may fire this early: the clocks of web processes and workers differ a little.
CLOCK_SKEW = timedelta(seconds=2)
# The sweep hands a due job to the queue again when it has waited this long (its message was
# lost: the process died between commit and relay, or the queue was down), at most this often.
LOST_AFTER = timedelta(seconds=30)
RESWEEP_AFTER = timedelta(minutes=10)
SWEEP_BATCH = 1000
KEEP_SUCCEEDED = timedelta(days=7)
MAX_ERROR = 2000

JOBS_KEYSET = Keyset((Job.id,), (int,), lambda job: (job.id,))


def enqueue(name: str, *, dedupe_key: str | None = None, delay_seconds: float = 0, **arguments) -> int | None:
    """Write the job `name(**arguments)`; call inside the transaction of the change it follows.

    It goes on the task queue once that transaction commits, and never if it rolls back.
    With `dedupe_key`, nothing is written while a pending job has the same key (that job will
    do this work too); returns the new job's id, or None then.
    """
    definition = JOBS[name]
    now = utcnow()
    row = insert_unless_exists(
        Job, name=name, arguments=arguments, dedupe_key=dedupe_key, status=JobStatus.PENDING, attempts=0,
        max_attempts=definition.max_attempts, next_attempt_at=now + timedelta(seconds=delay_seconds),
        last_error="", created_at=now, updated_at=now)
    if row is None:
        return None
    _relay_after_commit(row.id, delay_seconds)
    return row.id


def _relay_after_commit(job_id: int, delay_seconds: float) -> None:
    db.session.info.setdefault(_TO_RELAY, []).append((job_id, delay_seconds))


@sa_event.listens_for(Session, "after_commit")
def _relay(session):
    """The committed jobs' ids go on the task queue. A queue that is down loses nothing: the
    rows are committed, and the sweep hands them over later."""
    committed = session.info.pop(_TO_RELAY, [])
    if not committed:
        return
    queue = current_app.extensions[QUEUE_EXTENSION]
    for job_id, delay_seconds in committed:
        try:
            queue.send(job_id, delay_seconds)
        except Exception:
            log.exception("could not put job %s on the queue; the sweep will", job_id)


@sa_event.listens_for(Session, "after_rollback")
def _forget(session):
    session.info.pop(_TO_RELAY, None)


def backoff_seconds(attempts: int) -> float:
    """How long to wait after the `attempts`-th failure: exponential, capped, with jitter."""
    ceiling = min(BACKOFF_MAX_SECONDS, BACKOFF_BASE_SECONDS * 2 ** (max(attempts, 1) - 1))
    return random.uniform(ceiling / 2, ceiling)


def run_job(job_id: int) -> None:
    """Run one job if it is due and nobody else holds it (a queue delivers at least once: a
    second message for the same job finds it taken or done, and does nothing)."""
    job = db.session.get(Job, job_id)
    now = utcnow()
    if job is None or job.status != JobStatus.PENDING or job.next_attempt_at > now + CLOCK_SKEW:
        db.session.rollback()
        return
    definition = JOBS.get(job.name)
    lease = timedelta(seconds=definition.lease_seconds if definition else 60)
    claimed = db.session.execute(
        update(Job).where(Job.id == job_id, Job.status == JobStatus.PENDING)
        .values(status=JobStatus.RUNNING, attempts=Job.attempts + 1, locked_until=now + lease, updated_at=now)
        .execution_options(synchronize_session=False)
    ).rowcount
    events.commit()
    if claimed != 1:
        return
    db.session.refresh(job)
    try:
        if definition is None:
            raise GiveUp(f"no job is named {job.name!r} in this version")
        definition.function(**job.arguments)
    except Exception as error:  # every failure is recorded on the job: none may stop the worker
        events.rollback()
        _record_failure(job_id, error)
        return
    db.session.execute(
        update(Job).where(Job.id == job_id, Job.status == JobStatus.RUNNING)
        .values(status=JobStatus.SUCCEEDED, finished_at=utcnow(), updated_at=utcnow(), locked_until=None)
        .execution_options(synchronize_session=False))
    events.commit()  # with what the job itself wrote and did not commit


def _record_failure(job_id: int, error: Exception) -> None:
    job = db.session.get(Job, job_id)
    now = utcnow()
    job.last_error = f"{type(error).__name__}: {error}"[:MAX_ERROR]
    job.updated_at, job.locked_until = now, None
    if isinstance(error, GiveUp) or job.attempts >= job.max_attempts:
        job.status, job.finished_at = JobStatus.DEAD, now
        log.error("job %s (%s) is dead after %s attempt(s): %s", job.id, job.name, job.attempts, job.last_error)
        events.commit()
        return
    if isinstance(error, RetryLater) and error.seconds is not None:
        delay = min(max(error.seconds, 0), MAX_RETRY_AFTER_SECONDS)
    else:
        delay = backoff_seconds(job.attempts)
    if not isinstance(error, RetryLater):
        log.warning("job %s (%s) failed, attempt %s of %s", job.id, job.name, job.attempts, job.max_attempts,
                    exc_info=error)
    # Back to pending without its key: a twin enqueued meanwhile may hold it (see `enqueue`).
    job.status, job.next_attempt_at, job.dedupe_key = JobStatus.PENDING, now + timedelta(seconds=delay), None
    _relay_after_commit(job.id, delay)
    events.commit()


def sweep(lost_after: timedelta = LOST_AFTER) -> int:
    """Recover what crashed processes left behind; returns how many jobs went on the queue again.

    Jobs held by a worker past their lease (it died) are pending again; due jobs that waited
    `lost_after` without being taken go on the queue again; succeeded jobs are forgotten after
    a week. Safe to run anywhere, any time, concurrently: a duplicate message does nothing.
    """
    now = utcnow()
    db.session.execute(
        update(Job).where(Job.status == JobStatus.RUNNING, Job.locked_until < now)
        .values(status=JobStatus.PENDING, locked_until=None, next_attempt_at=now, updated_at=now, dedupe_key=None)
        .execution_options(synchronize_session=False))
    lost = db.session.scalars(
        select(Job.id).where(Job.status == JobStatus.PENDING, Job.next_attempt_at <= now - lost_after,
                             (Job.swept_at.is_(None)) | (Job.swept_at <= now - RESWEEP_AFTER))
        .order_by(Job.next_attempt_at).limit(SWEEP_BATCH)).all()
    if lost:
        db.session.execute(update(Job).where(Job.id.in_(lost)).values(swept_at=now)
                           .execution_options(synchronize_session=False))
        for job_id in lost:
            _relay_after_commit(job_id, 0)
    db.session.execute(delete(Job).where(Job.status == JobStatus.SUCCEEDED, Job.finished_at < now - KEEP_SUCCEEDED)
                       .execution_options(synchronize_session=False))
    events.commit()
    return len(lost)


def queue_health() -> dict:
    """For /health: how many jobs are due and waiting, how long the oldest has waited, how many
    are dead."""
    now = utcnow()
    depth, oldest = db.session.execute(
        select(func.count(Job.id), func.min(Job.next_attempt_at))
        .where(Job.status == JobStatus.PENDING, Job.next_attempt_at <= now)).one()
    dead = db.session.scalar(select(func.count(Job.id)).where(Job.status == JobStatus.DEAD))
    age = round((now - oldest).total_seconds(), 1) if oldest is not None else 0
    return {"depth": depth, "oldest_age_seconds": age, "dead": dead}


def check_status(status: str | None) -> JobStatus | None:
    if status in (None, ""):
        return None
    try:
        return JobStatus(status)
    except ValueError:
        raise ValidationFailed({"status": "Choose pending, running, succeeded or dead."}) from None


def list_jobs(actor: User, *, status: str | None = None, cursor: str | None = None, limit=None) -> Page[Job]:
    """Jobs for admins, newest first; `status="dead"` is what needs their attention."""
    if not permissions.can_manage_jobs(actor):
        raise Forbidden("Only admins see background jobs.")
    query = select(Job)
    status = check_status(status)
    if status is not None:
        query = query.where(Job.status == status)
    return JOBS_KEYSET.paginate(query, cursor, check_limit(limit))


def do_retry_job(actor: User, job_id: int) -> Job:
    """Give a dead job a fresh set of attempts, now."""
    if not permissions.can_manage_jobs(actor):
        raise Forbidden("Only admins retry background jobs.")
    job = db.session.get(Job, job_id)
    if job is None:
        raise NotFound("No such job.")
    if job.status != JobStatus.DEAD:
        raise Conflict("Only a dead job can be retried.")
    now = utcnow()
    job.status, job.attempts, job.next_attempt_at = JobStatus.PENDING, 0, now
    job.finished_at, job.updated_at, job.swept_at, job.dedupe_key = None, now, None, None
    _relay_after_commit(job.id, 0)
    events.commit()
    return job


def current_queue():
    return current_app.extensions[QUEUE_EXTENSION]
