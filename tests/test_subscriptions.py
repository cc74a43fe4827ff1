"""Watching and muting, and who is notified of what: replies (grouped), new threads, mentions,
idea answers, moderation outcomes. Through the API and the web, as members use them."""
import threading

import pytest
from sqlalchemy import func, select

from community.accounts.models import User
from community.database import db
from community.markdown import mentioned_handles, render_markdown
from community.notifications import subscriptions
from community.notifications.models import Notification, Subscription
from community.threads.models import Category, Thread

from .conftest import assert_error
from .factories import make_category, make_thread, make_user


@pytest.fixture
def general(make):
    return make(make_category, "General")


def kinds(app, user) -> list[tuple[str, int]]:
    """(kind, count) of a member's notifications, oldest first."""
    with app.app_context():
        rows = db.session.execute(select(Notification.kind, Notification.count)
                                  .where(Notification.user_id == user.id).order_by(Notification.id)).all()
        db.session.remove()
        return [tuple(row) for row in rows]


def start_thread(client, category, title="Rollout of single sign-on", body="How did yours go?") -> int:
    response = client.post("/api/v1/threads", {"category_id": category.id, "title": title, "body": body})
    assert response.status_code == 201, response.json
    return response.json["id"]


def reply(client, thread_id, body="Smoothly."):
    response = client.post(f"/api/v1/threads/{thread_id}/posts", {"body": body})
    assert response.status_code == 201, response.json
    return response.json


# Replies


def test_authors_and_repliers_watch_and_replies_group_per_thread(app, people, general, api_as):
    member, outsider, moderator = api_as(people.member), api_as(people.outsider), api_as(people.moderator)
    thread_id = start_thread(member, general)
    assert member.get(f"/api/v1/threads/{thread_id}").json["subscription"] == "watch"
    reply(outsider, thread_id)
    reply(moderator, thread_id)
    reply(moderator, thread_id)
    # The author has one unread notification counting three replies; the outsider, who replied
    # and so watches, heard of the moderator's two; nobody heard of their own.
    assert kinds(app, people.member) == [("reply", 3)]
    assert kinds(app, people.outsider) == [("reply", 2)]
    assert kinds(app, people.moderator) == []
    [item] = member.get("/api/v1/notifications").json["items"]
    assert (item["kind"], item["count"], item["thread_id"]) == ("reply", 3, thread_id)
    member.post("/api/v1/notifications/read", {})
    reply(outsider, thread_id)
    assert kinds(app, people.member) == [("reply", 3), ("reply", 1)]


def test_mute_wins_over_watch_and_choices_are_kept(app, people, general, api_as):
    member, outsider = api_as(people.member), api_as(people.outsider)
    thread_id = start_thread(member, general)
    assert member.put(f"/api/v1/threads/{thread_id}/subscription", {"level": "mute"}).json == {"level": "mute"}
    assert member.put(f"/api/v1/categories/{general.id}/subscription", {"level": "watch"}).json == {"level": "watch"}
    reply(outsider, thread_id)
    assert kinds(app, people.member) == []
    # Replying in a muted thread keeps it muted.
    reply(member, thread_id)
    assert member.get(f"/api/v1/threads/{thread_id}").json["subscription"] == "mute"
    assert member.delete(f"/api/v1/threads/{thread_id}/subscription").json == {"level": None}
    reply(outsider, thread_id)  # watched through the category now
    assert kinds(app, people.member) == [("reply", 1)]
    member.put(f"/api/v1/categories/{general.id}/subscription", {"level": "mute"})
    reply(outsider, thread_id)
    assert kinds(app, people.member) == [("reply", 1)]


def test_category_watchers_hear_of_new_threads(app, people, general, api_as):
    outsider = api_as(people.outsider)
    outsider.put(f"/api/v1/categories/{general.id}/subscription", {"level": "watch"})
    assert outsider.get(f"/api/v1/categories/{general.id}/subscription").json == {"level": "watch"}
    start_thread(api_as(people.member), general, title="Quarterly reporting")
    [item] = outsider.get("/api/v1/notifications").json["items"]
    assert item["kind"] == "new_thread" and "Quarterly reporting" in item["text"]


def test_watchers_who_lost_access_hear_nothing(app, people, make, api_as):
    secret = make(make_category, "Staff room", staff_only=True)
    thread = make(make_thread, people.moderator, secret)
    with app.app_context():
        room = db.session.get(Category, secret.id)
        for person in (people.member, people.moderator):
            subscriptions.set_level(db.session.get(User, person.id), "watch", category=room)
        db.session.commit()
    reply(api_as(people.admin), thread.id)
    assert kinds(app, people.member) == []
    assert kinds(app, people.moderator) == [("reply", 1)]


def test_subscription_input_and_access(app, people, make, general, api_as):
    secret = make(make_category, "Staff room", staff_only=True)
    thread = make(make_thread, people.moderator, secret)
    member = api_as(people.member)
    assert_error(member.put(f"/api/v1/threads/{thread.id}/subscription", {"level": "watch"}), 404)
    assert_error(member.put(f"/api/v1/categories/{secret.id}/subscription", {"level": "watch"}), 404)
    assert_error(member.get(f"/api/v1/categories/{secret.id}/subscription"), 404)
    assert_error(member.put(f"/api/v1/categories/{general.id}/subscription", {"level": "loud"}), 422)
    assert_error(member.put(f"/api/v1/categories/{general.id}/subscription", {}), 422)
    with app.app_context():
        assert db.session.scalar(select(func.count(Subscription.id))) == 0


def test_watching_twice_at_once_makes_one_row(app, people, general, make):
    thread = make(make_thread, people.member, general)

    def watch():
        with app.app_context():
            subscriptions.set_level(db.session.get(User, people.outsider.id), "watch",
                                    thread=db.session.get(Thread, thread.id))
            db.session.commit()
            db.session.remove()

    workers = [threading.Thread(target=watch) for _ in range(8)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    with app.app_context():
        assert db.session.scalar(select(func.count(Subscription.id)).where(
            Subscription.user_id == people.outsider.id)) == 1


# Mentions


def test_a_mention_links_the_profile_and_notifies_who_may_read_it(app, people, general, make, api_as):
    handles = {user.id: user.handle for user in (people.member, people.outsider, people.moderator)}
    member = api_as(people.member)
    thread_id = start_thread(member, general)
    post = reply(member, thread_id, f"Ask @{handles[people.outsider.id]} (or @nobody_here), "
                                    f"not `@{handles[people.moderator.id]}`.")
    assert f'<a href="/u/{people.outsider.id}" class="mention"' in post["body_html"]
    assert "@nobody_here" in post["body_html"] and "/u/" + str(people.moderator.id) not in post["body_html"]
    assert kinds(app, people.outsider) == [("mention", 1)]
    assert kinds(app, people.moderator) == []

    # A mention in a staff-only thread reaches nobody who may not read it.
    secret = make(make_category, "Staff room", staff_only=True)
    staff_thread = start_thread(api_as(people.moderator), secret, body=f"cc @{handles[people.member.id]}")
    assert api_as(people.moderator).get(f"/api/v1/threads/{staff_thread}").status_code == 200
    assert ("mention", 1) not in kinds(app, people.member)


def test_editing_notifies_only_newly_mentioned_members(app, people, general, make, api_as):
    third = make(make_user, display_name="Tess Third")
    member = api_as(people.member)
    thread_id = start_thread(member, general)
    post = reply(member, thread_id, f"Hi @{people.outsider.handle}")
    member.patch(f"/api/v1/posts/{post['id']}", {"body": f"Hi @{people.outsider.handle} and @{third.handle}"})
    assert kinds(app, people.outsider) == [("mention", 1)]
    assert kinds(app, third) == [("mention", 1)]


def test_mentions_are_found_outside_code_and_addresses():
    assert mentioned_handles("@ada, `@bob`, carl@acme.test, [@dan](https://x.test), **@Eve**\n\n    @fay") == {
        "ada", "eve"}
    assert render_markdown("@ada", {"ada": 7}) == '<p><a href="/u/7" class="mention" rel="nofollow noopener ' \
                                                  'noreferrer">@ada</a></p>\n'


def test_handles_are_unique_and_made_from_names(app, make):
    first, second = make(make_user, display_name="Zoë O'Neil"), make(make_user, display_name="Zoe O Neil")
    assert (first.handle, second.handle) == ("zoe_o_neil", "zoe_o_neil2")


# Ideas and moderation outcomes


def test_idea_watchers_hear_of_answers_and_muters_do_not(app, people, api_as):
    member, outsider, staff = api_as(people.member), api_as(people.outsider), api_as(people.moderator)
    idea = member.post("/api/v1/ideas", {"title": "Export to CSV", "body": "Monthly."}).json
    assert idea["subscription"] == "watch"  # its author
    assert outsider.put(f"/api/v1/ideas/{idea['id']}/subscription", {"level": "watch"}).json == {"level": "watch"}
    assert outsider.get(f"/api/v1/ideas/{idea['id']}").json["subscription"] == "watch"
    outsider.put(f"/api/v1/ideas/{idea['id']}/vote")
    assert member.put(f"/api/v1/ideas/{idea['id']}/subscription", {"level": "mute"}).json == {"level": "mute"}
    staff.post(f"/api/v1/ideas/{idea['id']}/status", {"status": "planned", "note": "Next quarter."})
    assert kinds(app, people.outsider) == [("idea_status", 1)]
    assert kinds(app, people.member) == []
    assert member.delete(f"/api/v1/ideas/{idea['id']}/subscription").json == {"level": None}


def test_authors_hear_their_thread_was_locked_or_deleted(app, people, general, api_as):
    member, staff = api_as(people.member), api_as(people.moderator)
    thread_id = start_thread(member, general, title="Billing question")
    staff.patch(f"/api/v1/threads/{thread_id}", {"locked": True})
    staff.delete(f"/api/v1/threads/{thread_id}")
    items = member.get("/api/v1/notifications").json["items"]
    assert [item["kind"] for item in items] == ["thread_deleted"]  # the locked one went with the thread
    assert "Billing question" in items[0]["text"] and items[0]["thread_id"] is None
    assert kinds(app, people.member) == [("thread_locked", 1), ("thread_deleted", 1)]


# The web


def test_web_buttons_watch_and_mute(app, people, general, make, login_as):
    thread = make(make_thread, people.member, general)
    web = login_as(people.outsider)
    page = web.get(f"/t/{thread.id}").get_data(as_text=True)
    assert f'action="/t/{thread.id}/subscription"' in page and 'value="watch"' in page
    assert web.post(f"/t/{thread.id}/subscription", {"level": "mute"}).status_code == 302
    assert '<span class="badge">muted</span>' in web.get(f"/t/{thread.id}").get_data(as_text=True)
    assert web.post(f"/c/{general.id}/subscription", {"level": "watch"}).status_code == 302
    assert '<span class="badge">watching</span>' in web.get(f"/c/{general.id}").get_data(as_text=True)
    assert web.post(f"/t/{thread.id}/subscription", {"level": "loud"}).status_code == 422
    assert web.client.post(f"/t/{thread.id}/subscription", data={"level": "watch"}).status_code == 400  # no CSRF
    with app.app_context():
        levels = dict(db.session.execute(select(Subscription.thread_id, Subscription.level)
                                         .where(Subscription.user_id == people.outsider.id,
                                                Subscription.thread_id.is_not(None))).all())
        assert levels == {thread.id: "mute"}
