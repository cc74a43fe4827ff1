"""Jobs in one process: the outbox (a job exists exactly when its change committed), retries with
back-off and Retry-After, dead jobs for admins on a page and in the API, the sweep.
Real workers on a real Redis are in test_workers.py."""
from datetime import timedelta

import pytest
from sqlalchemy import func, select, update

from community import events, jobs
from community.database import db, utcnow
from community.jobs import services
from community.jobs.models import Job, JobStatus

from .conftest import assert_error

RAN: list = []
FAILURES: dict[str, int] = {}


@jobs.job("test.record", max_attempts=3)
def record(value: str) -> None:
    RAN.append(value)


@jobs.job("test.flaky", max_attempts=3)
def flaky(value: str, retry_after: float | None = None) -> None:
    """Fails as often as FAILURES says, then records `value`."""
    if FAILURES.get(value, 0) > 0:
        FAILURES[value] -= 1
        if retry_after is not None:
            raise jobs.RetryLater("busy, says the far end", seconds=retry_after)
        raise ConnectionError(f"{value}: nobody answered")
    RAN.append(value)


@jobs.job("test.hopeless")
def hopeless() -> None:
    raise jobs.GiveUp("the far end said 400: this request will never be taken")


@pytest.fixture(autouse=True)
def _forget_runs():
    RAN.clear()
    FAILURES.clear()


def _job(app, job_id) -> Job:
    with app.app_context():
        job = db.session.get(Job, job_id)
        db.session.expunge(job)
        return job


def _make_due(app, job_id) -> None:
    """Time passes: the job's next attempt is now."""
    with app.app_context():
        db.session.execute(update(Job).where(Job.id == job_id).values(next_attempt_at=utcnow()))
        db.session.commit()
        services.run_job(job_id)


def test_a_job_exists_only_when_its_transaction_commits(app):
    for finish in (events.rollback, events.commit):
        with app.app_context():
            jobs.enqueue("test.record", value=finish.__name__)
            assert RAN == []  # nothing runs inside the transaction
            finish()
    assert RAN == ["commit"]
    with app.app_context():
        [job] = db.session.scalars(select(Job)).all()
        assert (job.name, job.arguments, job.status, job.attempts) == ("test.record", {"value": "commit"},
                                                                      "succeeded", 1)


def test_a_failing_job_is_retried_with_backoff_then_succeeds(app):
    FAILURES["twice"] = 2
    with app.app_context():
        job_id = jobs.enqueue("test.flaky", value="twice")
        started = utcnow()
        events.commit()
    job = _job(app, job_id)
    assert (job.status, job.attempts, RAN) == ("pending", 1, [])
    assert "ConnectionError: twice: nobody answered" in job.last_error
    first_delay = (job.next_attempt_at - started).total_seconds()
    assert services.BACKOFF_BASE_SECONDS / 2 - 1 <= first_delay <= services.BACKOFF_BASE_SECONDS + 1
    _make_due(app, job_id)
    job = _job(app, job_id)
    second_delay = (job.next_attempt_at - utcnow()).total_seconds()
    assert job.attempts == 2 and services.BACKOFF_BASE_SECONDS - 1 <= second_delay <= 2 * services.BACKOFF_BASE_SECONDS
    _make_due(app, job_id)
    assert (_job(app, job_id).status, RAN) == ("succeeded", ["twice"])


def test_backoff_grows_exponentially_with_jitter_and_a_ceiling():
    delays = [services.backoff_seconds(attempt) for attempt in range(1, 12) for _ in range(20)]
    assert len(set(delays)) > 100  # jitter: jobs that failed together do not return together
    for attempt in (1, 4, 20):
        ceiling = min(services.BACKOFF_MAX_SECONDS, services.BACKOFF_BASE_SECONDS * 2 ** (attempt - 1))
        assert all(ceiling / 2 <= services.backoff_seconds(attempt) <= ceiling for _ in range(50))


def test_retry_after_is_honoured(app):
    FAILURES["busy"] = 1
    with app.app_context():
        job_id = jobs.enqueue("test.flaky", value="busy", retry_after=120)
        started = utcnow()
        events.commit()
    delay = (_job(app, job_id).next_attempt_at - started).total_seconds()
    assert 119 <= delay <= 122


def test_a_job_that_keeps_failing_ends_dead_and_admins_see_it(app, people, api_as, login_as):
    FAILURES["never"] = 99
    with app.app_context():
        job_id = jobs.enqueue("test.flaky", value="never")
        hopeless_id = jobs.enqueue("test.hopeless")
        events.commit()
    _make_due(app, job_id)
    _make_due(app, job_id)
    job = _job(app, job_id)
    assert (job.status, job.attempts) == ("dead", 3) and job.finished_at is not None
    assert (_job(app, hopeless_id).status, _job(app, hopeless_id).attempts) == ("dead", 1)  # GiveUp: no retry

    admin = api_as(people.admin)
    listed = admin.get("/api/v1/jobs?status=dead").json["items"]
    assert [(item["id"], item["status"]) for item in listed] == [(hopeless_id, "dead"), (job_id, "dead")]
    assert "nobody answered" in listed[1]["last_error"] and listed[1]["attempts"] == 3
    assert_error(api_as(people.moderator).get("/api/v1/jobs"), 403)
    assert_error(admin.get("/api/v1/jobs?status=lost"), 422)
    page = login_as(people.admin).get("/admin/jobs").get_data(as_text=True)
    assert "test.hopeless" in page and "will never be taken" in page and "Retry" in page
    assert login_as(people.member).get("/admin/jobs").status_code == 403
    with app.app_context():
        assert services.queue_health()["dead"] == 2

    # Fixed at the far end: the admin retries, and it runs again with fresh attempts.
    FAILURES["never"] = 0
    retried = admin.post(f"/api/v1/jobs/{job_id}/retry")
    assert retried.status_code == 200, retried.json
    assert (_job(app, job_id).status, RAN) == ("succeeded", ["never"])
    assert_error(admin.post(f"/api/v1/jobs/{job_id}/retry"), 409)  # only dead jobs
    assert_error(admin.post("/api/v1/jobs/999999/retry"), 404)
    web = login_as(people.admin)
    web.get("/admin/jobs")
    assert web.post(f"/admin/jobs/{hopeless_id}/retry").status_code == 302
    assert _job(app, hopeless_id).status == "dead"  # it ran again, and gave up again


def test_a_pending_job_with_the_same_key_is_the_same_work(app):
    with app.app_context():
        first = jobs.enqueue("test.record", value="a", dedupe_key="push:7", delay_seconds=60)
        assert jobs.enqueue("test.record", value="a", dedupe_key="push:7") is None
        events.commit()
        assert jobs.enqueue("test.record", value="a", dedupe_key="push:7") is None  # still pending
        events.commit()
        db.session.execute(update(Job).where(Job.id == first).values(status=JobStatus.SUCCEEDED))
        db.session.commit()
        assert jobs.enqueue("test.record", value="b", dedupe_key="push:7") is not None  # that one is done
        events.commit()
        assert db.session.scalar(select(func.count(Job.id))) == 2
    assert RAN == ["b"]


def test_the_sweep_recovers_jobs_of_crashed_processes(app, monkeypatch):
    sent = []
    with app.app_context():
        queue = services.current_queue()
        monkeypatch.setattr(queue, "send", lambda job_id, delay=0: sent.append(job_id))
        lost = jobs.enqueue("test.record", value="lost")  # its process died before the relay
        held = jobs.enqueue("test.record", value="held")  # its worker died while running it
        fresh = jobs.enqueue("test.record", value="fresh")  # just committed: its message is on its way
        events.commit()
        sent.clear()
        long_ago = utcnow() - timedelta(minutes=5)
        db.session.execute(update(Job).where(Job.id == lost).values(next_attempt_at=long_ago))
        db.session.execute(update(Job).where(Job.id == held).values(status=JobStatus.RUNNING, attempts=1,
                                                                    locked_until=long_ago))
        db.session.commit()
        assert services.sweep() == 1 and sent == [lost]
        assert db.session.get(Job, held).status == JobStatus.PENDING  # runs again at the next sweep
        sent.clear()
        assert services.sweep() == 0 and sent == []  # not re-sent at every sweep
        assert services.sweep(lost_after=timedelta(0)) == 2 and sorted(sent) == sorted([held, fresh])
        assert db.session.get(Job, lost).status == JobStatus.PENDING
