"""Stored notifications: who gets them, grouping, privacy, reading them on the web and the API."""
from datetime import UTC, datetime, timedelta

import pytest

from community import events
from community.database import db
from community.notifications import services
from community.notifications.models import Notification
from community.threads.models import Thread

from .conftest import assert_error, count_queries
from .factories import make_category, make_thread, make_user


@pytest.fixture
def thread(make, people):
    return make(lambda: make_thread(people.member, make_category("General")))


def _notify(app, recipients, actor, thread_id=None, group=False, kind="reply", text="Someone replied"):
    with app.app_context():
        thread = db.session.get(Thread, thread_id) if thread_id else None
        notes = services.notify([db.session.merge(r) for r in recipients], kind, actor=db.session.merge(actor),
                                text=text, thread=thread, group=group)
        events.commit()
        return [n.id for n in notes]


def test_nobody_is_notified_of_their_own_action(app, people, thread):
    assert _notify(app, [people.member, people.outsider], people.member, thread.id) != []
    with app.app_context():
        assert {n.user_id for n in db.session.query(Notification)} == {people.outsider.id}


def test_grouped_notifications_collapse_per_thread_until_read(app, people, thread):
    first = _notify(app, [people.member], people.outsider, thread.id, group=True)
    second = _notify(app, [people.member], people.moderator, thread.id, group=True, text="Moe replied")
    assert first == second
    with app.app_context():
        note = db.session.get(Notification, first[0])
        assert (note.count, note.text, note.actor_id) == (2, "Moe replied", people.moderator.id)
        services.do_mark_read(db.session.merge(people.member))
    third = _notify(app, [people.member], people.outsider, thread.id, group=True)
    assert third != first


def test_nobody_hears_about_a_thread_they_may_not_read(app, people, make):
    secret = make(lambda: make_thread(people.moderator, make_category("Staff", staff_only=True)))
    assert _notify(app, [people.member, people.admin], people.moderator, secret.id) != []
    with app.app_context():
        assert {n.user_id for n in db.session.query(Notification)} == {people.admin.id}


def test_a_thread_moved_out_of_sight_takes_its_notifications_along(app, people, thread, api_as):
    _notify(app, [people.outsider], people.member, thread.id)
    outsider = api_as(people.outsider)
    assert len(outsider.get("/api/v1/notifications").json["items"]) == 1
    with app.app_context():
        db.session.get(Thread, thread.id).category = make_category("Hidden", staff_only=True)
        db.session.commit()
    assert outsider.get("/api/v1/notifications").json["items"] == []
    assert outsider.post("/api/v1/notifications/read", {}).json == {"unread_count": 0}


def test_the_unread_count_counts_what_the_list_shows(app, people, thread, make, api_as):
    secret = make(lambda: make_thread(people.moderator, make_category("Staff", staff_only=True)))
    [read, _, _] = [_notify(app, [people.outsider], people.member, thread.id, kind=f"k{i}")[0] for i in range(3)]
    _notify(app, [people.member], people.outsider, thread.id)  # someone else's
    outsider = api_as(people.outsider)
    outsider.post("/api/v1/notifications/read", {"ids": [read]})
    assert outsider.get("/api/v1/notifications/unread_count").json == {"count": 2}
    with app.app_context():  # a notification of a thread the outsider may no longer read is not counted
        db.session.query(Notification).filter_by(user_id=people.outsider.id, kind="k2").update(
            {"thread_id": secret.id})
        db.session.commit()
    unread = outsider.get("/api/v1/notifications?unread=true").json["items"]
    assert outsider.get("/api/v1/notifications/unread_count").json == {"count": len(unread)} == {"count": 1}
    assert_error(api_as(people.member).client.get("/api/v1/notifications/unread_count"), 401, "token_missing")


def test_api_lists_newest_first_and_marks_read(app, people, thread, api_as):
    ids = [_notify(app, [people.outsider], people.member, thread.id, kind=f"k{i}", text=f"n{i}")[0]
           for i in range(3)]
    outsider = api_as(people.outsider)
    body = outsider.get("/api/v1/notifications?limit=2").json
    assert [n["id"] for n in body["items"]] == [ids[2], ids[1]]
    item = body["items"][0]
    assert set(item) == {"id", "kind", "thread_id", "idea_id", "event_id", "actor", "count", "read",
                         "created_at", "text"}
    assert item["thread_id"] == thread.id and item["actor"]["id"] == people.member.id and item["read"] is False
    rest = outsider.get(f"/api/v1/notifications?limit=2&cursor={body['next_cursor']}").json
    assert [n["id"] for n in rest["items"]] == [ids[0]]

    assert outsider.post("/api/v1/notifications/read", {"ids": [ids[0]]}).json == {"unread_count": 2}
    assert [n["id"] for n in outsider.get("/api/v1/notifications?unread=true").json["items"]] == [ids[2], ids[1]]
    assert outsider.post("/api/v1/notifications/read", {}).json == {"unread_count": 0}


def test_nobody_marks_someone_elses_notifications(app, people, thread, api_as):
    [note] = _notify(app, [people.outsider], people.member, thread.id)
    assert api_as(people.member).post("/api/v1/notifications/read", {"ids": [note]}).json == {"unread_count": 0}
    assert api_as(people.outsider).get("/api/v1/notifications?unread=true").json["items"][0]["id"] == note


def test_since_returns_only_what_changed(app, people, thread, api_as):
    _notify(app, [people.outsider], people.member, thread.id, kind="old")
    checkpoint = datetime.now(UTC)
    with app.app_context():
        db.session.query(Notification).update({"updated_at": checkpoint - timedelta(minutes=1)})
        db.session.commit()
    [fresh] = _notify(app, [people.outsider], people.member, thread.id, kind="new")
    since = checkpoint.isoformat()
    items = api_as(people.outsider).get("/api/v1/notifications", query_string={"since": since}).json["items"]
    assert [n["id"] for n in items] == [fresh]
    assert_error(api_as(people.outsider).get("/api/v1/notifications?since=soon"), 422)


def test_web_page_shows_count_opens_and_marks_read(app, people, thread, login_as):
    [note] = _notify(app, [people.outsider], people.member, thread.id, text="Mia replied in General")
    outsider = login_as(people.outsider)
    home = outsider.get("/").get_data(as_text=True)
    assert 'aria-label="unread">1<' in home
    page = outsider.get("/notifications").get_data(as_text=True)
    assert "Mia replied in General" in page
    opened = outsider.get(f"/notifications/{note}")
    assert opened.status_code == 302 and opened.headers["Location"].startswith(f"/t/{thread.id}")
    assert 'aria-label="unread"' not in outsider.get("/").get_data(as_text=True)
    assert login_as(people.member).get(f"/notifications/{note}").status_code == 404


def test_web_mark_all_read(app, people, thread, login_as):
    _notify(app, [people.outsider], people.member, thread.id)
    outsider = login_as(people.outsider)
    assert outsider.post("/notifications/read").status_code == 302
    with app.app_context():
        assert db.session.query(Notification).filter(Notification.read_at.is_(None)).count() == 0


def test_the_list_has_bounded_queries(app, people, thread, make, api_as):
    actors = make(lambda: [make_user() for _ in range(15)])
    outsider = api_as(people.outsider)

    def queries():
        with app.app_context(), count_queries() as statements:
            assert outsider.get("/api/v1/notifications?limit=100").status_code == 200
        return len(statements)

    _notify(app, [people.outsider], actors[0], thread.id, kind="first")
    one = queries()
    for i, actor in enumerate(actors[1:]):
        _notify(app, [people.outsider], actor, thread.id, kind=f"k{i}")
    assert queries() == one
