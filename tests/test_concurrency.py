"""Bursts of simultaneous actions against PostgreSQL: exactly the right rows, counts and events.
(Votes, check-ins and invitation acceptances have their bursts beside their own rules.)"""

import pytest
from sqlalchemy import func, select

from community import events
from community.accounts.models import User
from community.database import db
from community.moderation import services as moderation
from community.moderation.models import Flag
from community.threads import services as threads
from community.threads.models import Post, Thread

from .factories import make_category, make_organization, make_thread, make_user
from .helpers import announced, at_once


@pytest.fixture
def postgres_only(is_postgres):
    if not is_postgres:
        pytest.skip("SQLite serialises writers; bursts are exercised on PostgreSQL")


def test_a_burst_of_flags_counts_each_member_once(app, make, postgres_only):
    def build():
        author = make_user(organization=make_organization())
        thread = make_thread(author, make_category("General"))
        flaggers = [make_user(organization=make_organization()) for _ in range(8)]
        post_id = db.session.scalar(select(Post.id).where(Post.thread_id == thread.id))
        return post_id, [u.id for u in flaggers]

    post_id, flaggers = make(build)
    flag = lambda user_id: moderation.do_flag_post(db.session.get(User, user_id), post_id, "spam").id  # noqa: E731
    with announced(events.flag_created) as delivered:
        outcomes = at_once(app, flag, flaggers * 2)  # every member twice, all at once
    assert outcomes.count("already_flagged") == len(flaggers)
    assert len(delivered) == len(flaggers)
    with app.app_context():
        assert db.session.scalar(select(func.count(Flag.id)).where(Flag.post_id == post_id)) == len(flaggers)
        assert db.session.get(Post, post_id).hidden_at is not None  # past the threshold, hidden once


def test_a_burst_of_replies_to_a_locked_thread_writes_nothing(app, make, postgres_only):
    def build():
        author = make_user(organization=make_organization())
        thread = make_thread(author, make_category("General"), locked=True)
        return thread.id, [make_user(organization=make_organization()).id for _ in range(12)]

    thread_id, repliers = make(build)
    reply = lambda user_id: threads.do_reply(db.session.get(User, user_id), thread_id, "let me in").id  # noqa: E731
    with announced(events.post_created) as delivered:
        outcomes = at_once(app, reply, repliers)
    assert outcomes == ["thread_locked"] * len(repliers)
    assert len(delivered) == 0
    with app.app_context():
        assert db.session.scalar(select(func.count(Post.id)).where(Post.thread_id == thread_id)) == 1
        assert db.session.get(Thread, thread_id).reply_count == 0


def test_a_burst_of_replies_counts_every_one(app, make, postgres_only):
    def build():
        author = make_user(organization=make_organization())
        thread = make_thread(author, make_category("General"))
        return thread.id, [make_user(organization=make_organization()).id for _ in range(12)]

    thread_id, repliers = make(build)
    reply = lambda user_id: threads.do_reply(db.session.get(User, user_id), thread_id, "me too").id  # noqa: E731
    with announced(events.post_created) as delivered:
        outcomes = at_once(app, reply, repliers)
    assert len(set(outcomes)) == len(repliers) and len(delivered) == len(repliers)
    with app.app_context():
        assert db.session.get(Thread, thread_id).reply_count == len(repliers)
        assert db.session.scalar(select(func.count(Post.id)).where(Post.thread_id == thread_id)) == len(repliers) + 1
