"""The jobs this code base knows, by name, and how a job asks to be retried or given up."""
from collections.abc import Callable
from dataclasses import dataclass

from huey import crontab


class RetryLater(Exception):  # noqa: N818 (it is a request, not an error)
    """Raised by a job: try again after `seconds` (a `Retry-After`), counting an attempt."""

    def __init__(self, message: str, seconds: float | None = None):
        super().__init__(message)
        self.seconds = seconds


class GiveUp(Exception):  # noqa: N818
    """Raised by a job: this cannot succeed however often it is tried; the job is dead now."""


@dataclass(frozen=True)
class JobDefinition:
    name: str
    function: Callable
    max_attempts: int
    # How long a worker may hold the job before it counts as crashed and the job runs again.
    lease_seconds: int


@dataclass(frozen=True)
class PeriodicDefinition:
    name: str  # of the job it enqueues
    schedule: Callable  # the app's config -> a huey crontab


def crontab_at_hour(setting: str):
    """A daily schedule at the hour (UTC) the setting names."""
    return lambda config: crontab(minute="0", hour=str(config[setting]))


JOBS: dict[str, JobDefinition] = {}
PERIODIC: dict[str, PeriodicDefinition] = {}


def job(name: str, *, max_attempts: int = 8, lease_seconds: int = 300):
    """Register `function` as the job `name`. Its keyword arguments must be JSON values."""

    def register(function):
        if name in JOBS and JOBS[name].function is not function:
            raise RuntimeError(f"two jobs are named {name!r}")
        JOBS[name] = JobDefinition(name, function, max_attempts, lease_seconds)
        return function

    return register


def periodic(name: str, schedule: Callable, **options):
    """Register `function` as the job `name`, enqueued (without arguments) whenever the
    `huey.crontab` that `schedule(config)` makes matches, once across all workers."""

    def register(function):
        job(name, **options)(function)
        PERIODIC[name] = PeriodicDefinition(name, schedule)
        return function

    return register


__all__ = ["crontab", "crontab_at_hour", "job", "periodic", "JOBS", "PERIODIC", "RetryLater", "GiveUp"]
