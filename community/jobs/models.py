from datetime import datetime
from enum import StrEnum

from sqlalchemy import JSON, Index, Integer, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column

from ..database import UTCDateTime, db, utcnow


class JobStatus(StrEnum):
    PENDING = "pending"  # waiting for its time (a first run, or the next attempt after a failure)
    RUNNING = "running"  # claimed by a worker until `locked_until`
    SUCCEEDED = "succeeded"
    DEAD = "dead"  # failed `max_attempts` times, or failed in a way a retry cannot mend


class Job(db.Model):
    """One piece of background work, and its outbox row.

    Written in the transaction of the change that calls for it, so the job exists exactly when
    the change does; the task queue only carries its id. The row is the truth about the job:
    its attempts, last error, next attempt and whether it is dead.
    """

    __tablename__ = "jobs"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(80))
    arguments: Mapped[dict] = mapped_column(JSON, default=dict)
    # While a job with this key is pending, another one with the same key is the same work
    # (ten replies to a thread before its push went out make one push that says ten).
    dedupe_key: Mapped[str | None] = mapped_column(String(200))
    status: Mapped[str] = mapped_column(String(16), default=JobStatus.PENDING)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    max_attempts: Mapped[int] = mapped_column(Integer)
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    locked_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # When the sweep last put the job on the queue again (its first message was lost).
    swept_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_error: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


# What is due (the sweep, /health), and what an admin lists by status, newest first.
Index("ix_jobs_status_next_attempt", Job.status, Job.next_attempt_at)
Index("ix_jobs_status_id", Job.status, Job.id)
Index("uq_jobs_pending_dedupe_key", Job.dedupe_key, unique=True,
      sqlite_where=text("status = 'pending'"), postgresql_where=text("status = 'pending'"))
