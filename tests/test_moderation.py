"""Moderation behaviour: flags and the queue, hidden posts, deleted and pinned threads,
suspensions and silence, revisions and the audit log."""
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from markupsafe import escape
from sqlalchemy import func, select

from community import events, permissions
from community.accounts.models import Role, User
from community.database import db
from community.errors import Forbidden, ValidationFailed
from community.moderation import audit, services
from community.moderation.models import AuditEntry, Flag
from community.notifications.models import Notification
from community.threads import services as threads
from community.threads.models import Post, PostRevision, Thread

from .conftest import assert_error, count_queries, page_queries
from .factories import make_category, make_category_moderator, make_flag, make_post, make_thread, make_user
from .helpers import announced

NEXT_WEEK = (datetime.now(UTC) + timedelta(days=7)).isoformat()


@pytest.fixture
def places(make):
    return make(lambda: {"public": make_category("Product help"), "other": make_category("General"),
                         "staff": make_category("Staff lounge", True)})


@pytest.fixture
def reply(make, people, places):
    """A reply by the outsider in a public thread started by the member."""
    def build():
        thread = make_thread(people.member, places["public"], title="Export question")
        return make_post(thread, people.outsider, "Buy cheap watches")
    return make(build)


def _count(app, model, *where) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(model).where(*where))


def _flaggers(make, n):
    return make(lambda: [make_user(email=f"flagger{i}@acme.test") for i in range(n)])


# Flags


def test_a_member_flags_a_post_once(app, people, reply, api_as):
    member = api_as(people.member)
    created = member.post(f"/api/v1/posts/{reply.id}/flags", {"reason": "spam", "text": "watches again"})
    assert created.status_code == 201 and created.json["reason"] == "spam"
    assert_error(member.post(f"/api/v1/posts/{reply.id}/flags", {"reason": "abusive"}), 409, "already_flagged")
    assert_error(member.post(f"/api/v1/posts/{reply.id}/flags", {"reason": "rude"}), 422)
    assert_error(api_as(people.admin).post(f"/api/v1/posts/{reply.id}/flags", {"reason": "other"}), 422)
    assert_error(api_as(people.outsider).post(f"/api/v1/posts/{reply.id}/flags", {"reason": "spam"}), 403)
    assert _count(app, Flag) == 1


def test_no_answer_offers_a_second_flag_to_who_flagged(people, reply, api_as):
    """Staff may flag too: the moderator who flagged a post and then reads it in the queue,
    edits, dismisses, hides or unhides it is not offered the flag that would be refused."""
    moderator = api_as(people.moderator)
    assert moderator.get(f"/api/v1/posts/{reply.id}").json["can_flag"] is True
    assert moderator.post(f"/api/v1/posts/{reply.id}/flags", {"reason": "spam"}).status_code == 201
    item = moderator.get("/api/v1/moderation/flags").json["items"][0]
    answers = {
        "queue": item["post"],
        "edit": moderator.patch(f"/api/v1/posts/{reply.id}", {"body": "Cheap watches"}).json,
        "dismiss": moderator.post(f"/api/v1/moderation/flags/{item['id']}/resolve", {"action": "dismiss"}).json["post"],
        "hide": moderator.post(f"/api/v1/posts/{reply.id}/hide", {"reason": "Advertising"}).json,
        "unhide": moderator.post(f"/api/v1/posts/{reply.id}/unhide").json,
    }
    assert {answer: post["can_flag"] for answer, post in answers.items()} == dict.fromkeys(answers, False)
    assert_error(moderator.post(f"/api/v1/posts/{reply.id}/flags", {"reason": "spam"}), 409, "already_flagged")


def test_flagging_announces_to_staff_after_commit(app, people, reply, login_as):
    with announced(events.flag_created) as heard:
        assert login_as(people.member).post(f"/p/{reply.id}/flag", {"reason": "spam"}).status_code == 302
        assert login_as(people.member).post(f"/p/{reply.id}/flag", {"reason": "spam"}).status_code == 409
    assert [(payload["flag"].user_id, payload["post"].id) for _, payload in heard] == [(people.member.id, reply.id)]


def test_a_refused_flag_comes_back_in_place_and_a_flagged_post_says_so(app, people, reply, login_as):
    member = login_as(people.member)
    thread_page = f"http://localhost/t/{reply.thread_id}"
    refused = member.post(f"/p/{reply.id}/flag", {"reason": "other", "text": " ", "form_anchor": f"post-{reply.id}"},
                          headers={"Referer": thread_page})
    assert refused.status_code == 303 and refused.headers["Location"] == f"/t/{reply.thread_id}#post-{reply.id}"
    page = member.get(f"/t/{reply.thread_id}").get_data(as_text=True)
    # The flag form is open again, under its post, with the message and the reason chosen.
    assert f'id="flag-error-{reply.id}">Some fields are not valid. Say what is wrong.</p>' in page
    assert f'aria-describedby="flag-error-{reply.id}"' in page
    assert '<details open><summary>Flag</summary>' in page and '<option value="other" selected>' in page
    assert "Say what is wrong." not in member.get(f"/t/{reply.thread_id}").get_data(as_text=True)  # shown once
    assert _count(app, Flag) == 0

    assert member.post(f"/p/{reply.id}/flag", {"reason": "spam"}, headers={"Referer": thread_page}).status_code == 302
    page = member.get(f"/t/{reply.thread_id}").get_data(as_text=True)
    assert "You flagged this post" in page and f'action="/p/{reply.id}/flag"' not in page
    again = member.post(f"/p/{reply.id}/flag", {"reason": "spam"}, headers={"Referer": thread_page})
    assert again.status_code == 303 and again.headers["Location"] == f"/t/{reply.thread_id}"
    assert "You already flagged this post." in member.get(again.headers["Location"]).get_data(as_text=True)
    # From another site, or with no page to go back to, the refusal is the error page as before.
    elsewhere = member.post(f"/p/{reply.id}/flag", {"reason": "spam"}, headers={"Referer": "https://evil.test/t/1"})
    assert elsewhere.status_code == 409 and "You already flagged this post." in elsewhere.get_data(as_text=True)
    assert _count(app, Flag) == 1


def test_a_refused_staff_form_keeps_what_was_typed(app, people, make, login_as):
    staff = login_as(people.moderator)
    person_page = f"http://localhost/moderation/people/{people.outsider.id}"
    refused = staff.post(f"/moderation/people/{people.outsider.id}/silence",
                         {"until": "not a date", "reason": "Heated replies", "form_anchor": "silence-form"},
                         headers={"Referer": person_page})
    assert refused.status_code == 303 and refused.headers["Location"].endswith("#silence-form")
    page = staff.get(f"/moderation/people/{people.outsider.id}").get_data(as_text=True)
    assert 'value="Heated replies"' in page and 'class="field-error form-failure" role="alert"' in page
    assert 'value="not a date"' in page  # what was typed, to correct


TOO_LONG_REASON = "r" * (services.MAX_REASON + 1)
TOO_LONG_TITLE = "t" * (threads.MAX_TITLE_LENGTH + 1)
# Each staff form refused in place: (its action, what is sent, the value typed that must come back,
# the page it is on, its anchor, the message's markup, the field pointing at it), given the reply
# and its flag's id.
REFUSED_IN_PLACE = {
    "hide": lambda reply, flag_id: (
        f"/p/{reply.id}/hide", {"reason": TOO_LONG_REASON}, TOO_LONG_REASON, f"/t/{reply.thread_id}",
        f"post-{reply.id}", f'class="field-error form-failure" role="alert" id="hide-error-{reply.id}"',
        f'aria-invalid="true" aria-describedby="hide-error-{reply.id}"'),
    "resolve": lambda reply, flag_id: (
        f"/moderation/flags/{flag_id}/resolve", {"action": "hide", "reason": TOO_LONG_REASON}, TOO_LONG_REASON,
        "/moderation", f"resolve-{flag_id}", 'class="field-error form-failure" role="alert">', None),
    "rename": lambda reply, flag_id: (
        f"/t/{reply.thread_id}/update", {"title": TOO_LONG_TITLE}, TOO_LONG_TITLE, f"/t/{reply.thread_id}",
        "rename-thread", 'class="field-error form-failure" role="alert" id="rename-error"',
        'aria-invalid="true" aria-describedby="rename-error"'),
}


@pytest.mark.parametrize("form", REFUSED_IN_PLACE.values(), ids=REFUSED_IN_PLACE)
def test_a_refused_staff_form_comes_back_in_place_with_what_was_typed(app, people, reply, make, login_as, form):
    flag_id = make(lambda: make_flag(db.session.get(Post, reply.id), people.member).id)
    action, sent, typed, page, anchor, marker, described = form(reply, flag_id)
    staff = login_as(people.moderator)
    refused = staff.post(action, {**sent, "form_anchor": anchor}, headers={"Referer": f"http://localhost{page}"})
    assert refused.status_code == 303 and refused.headers["Location"] == f"{page}#{anchor}"
    shown = staff.get(page).get_data(as_text=True)
    assert marker in shown and f'value="{typed}"' in shown
    assert described is None or described in shown
    assert 'aria-invalid' not in staff.get(page).get_data(as_text=True)  # shown once


def test_a_refused_form_keeps_no_password_and_nothing_too_long(app, people, reply, login_as):
    staff = login_as(people.moderator)
    thread_page = f"http://localhost/t/{reply.thread_id}"
    too_long = "r" * 2001  # over what the session carries back (web.MAX_KEPT_INPUT)
    staff.post(f"/p/{reply.id}/hide", {"reason": too_long, "form_anchor": f"post-{reply.id}"},
               headers={"Referer": thread_page})
    with staff.client.session_transaction() as session:
        assert session["roundtable.failed_form"]["kept"] == {}
    staff.post(f"/p/{reply.id}/hide", {"reason": TOO_LONG_REASON, "password": "secret", "form_anchor": "x"},
               headers={"Referer": thread_page})
    with staff.client.session_transaction() as session:
        assert session["roundtable.failed_form"]["kept"] == {"reason": TOO_LONG_REASON, "form_anchor": "x"}


def test_enough_flags_hide_a_post_until_reviewed(app, people, reply, make, api_as):
    flaggers = _flaggers(make, 3)
    for i, flagger in enumerate(flaggers):
        api_as(flagger).post(f"/api/v1/posts/{reply.id}/flags", {"reason": "spam"})
        with app.app_context():
            assert (db.session.get(Post, reply.id).hidden_at is not None) is (i == 2)
    with app.app_context():
        note = db.session.scalar(select(Notification).where(Notification.user_id == people.outsider.id))
        assert note.kind == "post_hidden" and "flags from 3 members" in note.text
        entry = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "post.hide"))
        assert entry.actor_id is None and entry.target_id == reply.id
    # Dismissing the flags shows the post again: it was hidden only by flags.
    staff = api_as(people.moderator)
    [item] = staff.get("/api/v1/moderation/flags").json["items"]
    assert item["flag_count"] == 3 and item["reasons"] == {"spam": 3} and item["post"]["hidden"] is True
    resolved = staff.post(f"/api/v1/moderation/flags/{item['id']}/resolve", {"action": "dismiss"})
    assert resolved.json["resolved_count"] == 3 and resolved.json["post"]["hidden"] is False
    assert staff.get("/api/v1/moderation/flags").json["items"] == []
    assert_error(staff.post(f"/api/v1/moderation/flags/{item['id']}/resolve", {"action": "hide"}), 409,
                 "already_resolved")


def test_the_queue_groups_by_post_oldest_first_and_pages(app, people, places, make, api_as):
    def build():
        thread = make_thread(people.member, places["public"])
        posts = [make_post(thread, people.outsider, f"post {i}") for i in range(3)]
        flaggers = [make_user() for _ in range(2)]
        base = datetime.now(UTC) - timedelta(hours=1)
        for minutes, post, flagger in ((5, posts[1], flaggers[0]), (10, posts[0], flaggers[0]),
                                       (15, posts[1], flaggers[1]), (20, posts[2], flaggers[1])):
            make_flag(post, flagger).created_at = base + timedelta(minutes=minutes)
        db.session.commit()
        return [p.id for p in posts]

    posts = make(build)
    staff = api_as(people.moderator)
    first = staff.get("/api/v1/moderation/flags?limit=2").json
    assert [(i["post"]["id"], i["flag_count"]) for i in first["items"]] == [(posts[1], 2), (posts[0], 1)]
    rest = staff.get(f"/api/v1/moderation/flags?limit=2&cursor={first['next_cursor']}").json
    assert [i["post"]["id"] for i in rest["items"]] == [posts[2]] and rest["next_cursor"] is None


def test_resolving_by_hiding_tells_the_author(app, people, reply, make, login_as):
    make(lambda: make_flag(db.session.get(Post, reply.id), people.member))
    staff = login_as(people.moderator)
    queue = staff.get("/moderation").get_data(as_text=True)
    assert "Buy cheap watches" in queue and "Mia Member" in queue and ">1 flag</span>" in queue
    with app.app_context():
        flag_id = db.session.scalar(select(Flag.id))
    resolved = staff.post(f"/moderation/flags/{flag_id}/resolve", {"action": "hide", "reason": "Advertising"})
    assert resolved.status_code == 302
    with app.app_context():
        post = db.session.get(Post, reply.id)
        assert post.hidden_reason == "Advertising" and post.hidden_by_id == people.moderator.id
        note = db.session.scalar(select(Notification).where(Notification.user_id == people.outsider.id))
        assert note.kind == "post_hidden" and "Advertising" in note.text
    after = staff.get("/moderation").get_data(as_text=True)
    assert "All clear" in after and "1 flag resolved." in after


def test_category_moderators_see_only_their_categories_flags(app, people, places, make, api_as):
    def build():
        catmod = make_user(email="cat@acme.test")
        make_category_moderator(catmod, places["public"])
        for name in ("public", "other", "staff"):
            post = make_post(make_thread(people.moderator, places[name], title=f"In {name}"), people.moderator)
            make_flag(post, people.member)
        return catmod

    catmod = make(build)
    items = api_as(catmod).get("/api/v1/moderation/flags").json["items"]
    assert [i["thread_title"] for i in items] == ["In public"]
    assert len(api_as(people.moderator).get("/api/v1/moderation/flags").json["items"]) == 3


def test_the_queue_has_bounded_queries(app, people, places, make, api_as):
    def build(n):
        thread = make_thread(people.member, places["public"])
        for _ in range(n):
            author, flagger = make_user(), make_user()
            make_flag(make_post(thread, author), flagger)

    staff = api_as(people.moderator)

    def queries():
        with app.app_context(), count_queries() as statements:
            assert staff.get("/api/v1/moderation/flags?limit=100").status_code == 200
        return len(statements)

    make(build, 1)
    one = queries()
    make(build, 10)
    assert queries() == one


# Hidden posts


def test_a_hidden_post_shows_a_placeholder_to_others_only(app, people, reply, api_as, login_as):
    staff = api_as(people.moderator)
    assert_error(staff.post(f"/api/v1/posts/{reply.id}/hide", {"reason": " "}), 422)
    hidden = staff.post(f"/api/v1/posts/{reply.id}/hide", {"reason": "Advertising"})
    assert hidden.status_code == 200 and hidden.json["body"] == "Buy cheap watches"
    assert_error(staff.post(f"/api/v1/posts/{reply.id}/hide", {"reason": "again"}), 409)

    others = api_as(people.member).get(f"/api/v1/posts/{reply.id}").json
    assert others["hidden"] is True and others["body"] == "" and "watches" not in others["body_html"]
    assert others["hidden_reason"] is None
    author = api_as(people.outsider).get(f"/api/v1/posts/{reply.id}").json
    assert author["body"] == "Buy cheap watches" and author["hidden_reason"] == "Advertising"

    page = login_as(people.member).get(f"/t/{reply.thread_id}").get_data(as_text=True)
    assert "watches" not in page and "Advertising" not in page and "hidden by moderators" in page
    own_page = login_as(people.outsider).get(f"/t/{reply.thread_id}").get_data(as_text=True)
    assert "Buy cheap watches" in own_page and "Advertising" in own_page

    assert staff.post(f"/api/v1/posts/{reply.id}/unhide").json["hidden"] is False
    assert api_as(people.member).get(f"/api/v1/posts/{reply.id}").json["body"] == "Buy cheap watches"


def test_hiding_and_unhiding_show_up_when_catching_up(app, people, reply, api_as):
    since = datetime.now(UTC).isoformat()
    api_as(people.moderator).post(f"/api/v1/posts/{reply.id}/hide", {"reason": "Advertising"})
    items = api_as(people.member).get(f"/api/v1/threads/{reply.thread_id}/posts",
                                      query_string={"since": since}).json["items"]
    assert [(p["id"], p["hidden"], p["body"]) for p in items] == [(reply.id, True, "")]


# Threads


def test_a_deleted_thread_vanishes_for_members_everywhere(app, people, places, make, api_as, login_as):
    thread = make(make_thread, people.member, places["public"], title="Soon gone", body="Regrettable words")
    outsider = api_as(people.outsider)
    outsider.post(f"/api/v1/threads/{thread.id}/posts", {"body": "reply"})  # notifies the member
    staff = api_as(people.moderator)
    assert staff.delete(f"/api/v1/threads/{thread.id}").status_code == 204
    assert_error(staff.delete(f"/api/v1/threads/{thread.id}"), 409)

    member_api, member_web = api_as(people.member), login_as(people.member)
    assert_error(member_api.get(f"/api/v1/threads/{thread.id}"), 404)
    assert_error(member_api.get(f"/api/v1/threads/{thread.id}/posts"), 404)
    assert member_api.get("/api/v1/threads").json["items"] == []
    # The reply notification went with the thread; what remains tells its author why.
    [deleted] = member_api.get("/api/v1/notifications").json["items"]
    assert (deleted["kind"], deleted["thread_id"]) == ("thread_deleted", None)
    assert member_web.get(f"/t/{thread.id}").status_code == 404
    for url in ("/", f"/c/{places['public'].id}", f"/u/{people.member.id}"):
        assert "Soon gone" not in member_web.get(url).get_data(as_text=True)

    assert staff.get(f"/api/v1/threads/{thread.id}").json["deleted"] is True
    assert staff.post(f"/api/v1/threads/{thread.id}/restore").json["can_restore"] is False
    assert member_api.get(f"/api/v1/threads/{thread.id}").status_code == 200


def test_pinned_threads_come_first_in_their_category_and_pages_stay_exact(app, people, places, make, api_as):
    for i in range(5):
        make(make_thread, people.member, places["public"], title=f"Topic {i}", pinned=i in (1, 3))
    member = api_as(people.member)
    seen, cursor = [], ""
    while True:
        page = member.get(f"/api/v1/threads?category_id={places['public'].id}&limit=2&cursor={cursor}").json
        seen += [t["title"] for t in page["items"]]
        if not page["next_cursor"]:
            break
        cursor = page["next_cursor"]
    assert seen == ["Topic 3", "Topic 1", "Topic 4", "Topic 2", "Topic 0"]
    everywhere = [t["title"] for t in member.get("/api/v1/threads?sort=new").json["items"]]
    assert everywhere == ["Topic 4", "Topic 3", "Topic 2", "Topic 1", "Topic 0"]


def test_staff_thread_controls_on_the_web(app, people, places, make, login_as):
    thread = make(make_thread, people.member, places["public"], title="Old title")
    staff = login_as(people.moderator)
    page = staff.get(f"/t/{thread.id}").get_data(as_text=True)
    assert "Staff controls" in page and ">Lock<" in page
    assert "Staff controls" not in login_as(people.member).get(f"/t/{thread.id}").get_data(as_text=True)
    for form in ({"locked": "true"}, {"pinned": "true"}, {"closed": "true"}, {"title": "New title"},
                 {"category_id": str(places["other"].id)}):
        assert staff.post(f"/t/{thread.id}/update", form).status_code == 302
    assert staff.post(f"/t/{thread.id}/update", {"category_id": "nope"}).status_code == 422
    with app.app_context():
        thread = db.session.get(Thread, thread.id)
        assert (thread.locked, thread.pinned, thread.closed, thread.title, thread.category_id) == (
            True, True, True, "New title", places["other"].id)
        actions = db.session.scalars(select(AuditEntry.action).order_by(AuditEntry.id)).all()
    assert actions == ["thread.lock", "thread.pin", "thread.close", "thread.rename", "thread.move"]


# People


def test_a_suspended_member_is_told_why_and_their_tokens_die_at_once(app, people, api_as, login_as, web):
    member_api, member_web = api_as(people.member), login_as(people.member)
    staff = api_as(people.moderator)
    assert_error(staff.post(f"/api/v1/users/{people.member.id}/suspend", {"until": "2001-01-01", "reason": "x"}), 422)
    assert_error(staff.post(f"/api/v1/users/{people.member.id}/suspend", {"until": NEXT_WEEK, "reason": ""}), 422)
    suspended = staff.post(f"/api/v1/users/{people.member.id}/suspend", {"until": NEXT_WEEK, "reason": "Spamming"})
    assert suspended.json["status"] == "suspended" and suspended.json["suspension_reason"] == "Spamming"

    error = assert_error(member_api.get("/api/v1/me"), 401)  # the device session was revoked
    assert error["code"] == "token_revoked"
    refreshed = member_api.post("/api/v1/auth/refresh", token=member_api.tokens["refresh_token"])
    assert refreshed.status_code == 401
    assert "Spamming" in assert_error(member_api.login(people.member.email), 403, "account_suspended")["message"]
    assert member_web.get("/").status_code == 302  # the web session ends at the next request
    login = web.post("/login", {"email": people.member.email, "password": "correct-horse-battery"})
    assert login.status_code == 401 and "Spamming" in login.get_data(as_text=True)

    assert staff.post(f"/api/v1/users/{people.member.id}/unsuspend").json["status"] == "active"
    assert_error(staff.post(f"/api/v1/users/{people.member.id}/unsuspend"), 409)
    assert api_as(people.member).get("/api/v1/me").status_code == 200


def test_a_suspended_member_with_a_live_token_gets_the_reason(app, people, api_as):
    member = api_as(people.member)
    with app.app_context():
        user = db.session.get(type(people.member), people.member.id)
        user.suspended_until, user.suspension_reason = datetime.now(UTC) + timedelta(days=1), "Cooling off"
        db.session.commit()
    assert "Cooling off" in assert_error(member.get("/api/v1/me"), 403, "account_suspended")["message"]


def test_a_silenced_member_reads_but_cannot_post_or_flag(app, people, reply, api_as, login_as):
    api_as(people.moderator).post(f"/api/v1/users/{people.member.id}/silence", {"until": NEXT_WEEK,
                                                                                 "reason": "Heated"})
    until = datetime.fromisoformat(NEXT_WEEK).strftime("%Y-%m-%d %H:%M UTC")
    member = api_as(people.member)
    assert member.get(f"/api/v1/threads/{reply.thread_id}").json["can_reply"] is False
    refusal = assert_error(member.post(f"/api/v1/threads/{reply.thread_id}/posts", {"body": "hi"}),
                           403, "account_silenced")["message"]
    assert refusal == f"You can read but not post, vote or flag until {until}: Heated"
    assert_error(member.post(f"/api/v1/posts/{reply.id}/flags", {"reason": "spam"}), 403, "account_silenced")
    assert member.get("/api/v1/me").json["status"] == "silenced"
    on_the_web = login_as(people.member).post(f"/t/{reply.thread_id}/reply", {"body": "hi"})
    assert on_the_web.status_code == 403 and refusal in on_the_web.get_data(as_text=True)
    assert _count(app, Post) == 2 and _count(app, Flag) == 0
    with app.app_context():  # the one reply rule says so itself, for every caller
        silenced, thread = db.session.get(User, people.member.id), db.session.get(Thread, reply.thread_id)
        refused = permissions.refusal_to_reply(silenced, thread)
        assert (refused.code, refused.message) == ("account_silenced", refusal)


def test_admins_assign_category_moderators_who_act_only_there(app, people, places, make, api_as):
    catmod = make(lambda: make_user(email="cat@acme.test"))
    admin = api_as(people.admin)
    url = f"/api/v1/categories/{places['public'].id}/moderators/{catmod.id}"
    assert admin.put(url).status_code == 200 and admin.put(url).status_code == 200  # idempotent
    assert_error(admin.put(f"/api/v1/categories/{places['public'].id}/moderators/{people.moderator.id}"), 409)
    listed = api_as(people.member).get(f"/api/v1/categories/{places['public'].id}/moderators").json["items"]
    assert [m["user"]["id"] for m in listed] == [catmod.id]
    mine = make(make_thread, people.member, places["public"])
    theirs = make(make_thread, people.member, places["other"])
    cat = api_as(catmod)
    assert cat.patch(f"/api/v1/threads/{mine.id}", {"locked": True}).status_code == 200
    assert_error(cat.patch(f"/api/v1/threads/{theirs.id}", {"locked": True}), 403)
    assert_error(cat.patch(f"/api/v1/threads/{mine.id}", {"category_id": places["other"].id}), 403)
    assert admin.delete(url).status_code == 204
    assert_error(admin.delete(url), 404)
    assert_error(cat.patch(f"/api/v1/threads/{mine.id}", {"locked": False}), 403)


# Revisions and the audit log


def test_edits_keep_their_history_for_staff(app, people, reply, api_as, login_as):
    author, staff = api_as(people.outsider), api_as(people.moderator)
    author.patch(f"/api/v1/posts/{reply.id}", {"body": "Second version"})
    staff.patch(f"/api/v1/posts/{reply.id}", {"body": "Third version, by staff"})
    revisions = staff.get(f"/api/v1/posts/{reply.id}/revisions").json
    assert [(r["body"], r["editor"]["id"]) for r in revisions["items"]] == [
        ("Second version", people.outsider.id), ("Buy cheap watches", people.outsider.id)]
    assert_error(author.get(f"/api/v1/posts/{reply.id}/revisions"), 403)
    page = login_as(people.moderator).get(f"/p/{reply.id}/history").get_data(as_text=True)
    assert "Buy cheap watches" in page and "Third version, by staff" in page
    assert _count(app, PostRevision) == 2
    with app.app_context():  # only the staff edit of someone else's post is a logged staff action
        assert db.session.scalars(select(AuditEntry.action)).all() == ["post.edit"]


def test_the_audit_log_filters_and_is_scoped(app, people, places, make, api_as, login_as):
    def build():
        catmod = make_user(email="cat@acme.test")
        make_category_moderator(catmod, places["public"])
        return catmod, make_thread(people.member, places["public"]), make_thread(people.member, places["other"])

    catmod, here, there = make(build)
    staff = api_as(people.moderator)
    staff.patch(f"/api/v1/threads/{here.id}", {"locked": True})
    staff.patch(f"/api/v1/threads/{there.id}", {"pinned": True})
    staff.post(f"/api/v1/users/{people.outsider.id}/silence", {"until": NEXT_WEEK, "reason": "Heated"})

    everything = staff.get("/api/v1/moderation/audit").json["items"]
    assert [e["action"] for e in everything] == ["user.silence", "thread.pin", "thread.lock"]
    lock = everything[2]
    assert lock["before"] == {"locked": False} and lock["after"] == {"locked": True}
    assert lock["actor"]["id"] == people.moderator.id and lock["target_id"] == here.id
    assert everything[0]["reason"] == "Heated"
    assert [e["action"] for e in staff.get("/api/v1/moderation/audit?action=thread.pin").json["items"]] == [
        "thread.pin"]
    by_target = staff.get(f"/api/v1/moderation/audit?target_type=thread&target_id={here.id}").json["items"]
    assert [e["id"] for e in by_target] == [lock["id"]]
    assert staff.get(f"/api/v1/moderation/audit?actor_id={people.admin.id}").json["items"] == []
    paged = staff.get("/api/v1/moderation/audit?limit=2").json
    assert len(paged["items"]) == 2 and paged["next_cursor"]
    assert [e["action"] for e in api_as(catmod).get("/api/v1/moderation/audit").json["items"]] == ["thread.lock"]
    page = login_as(people.moderator).get("/moderation/audit?action=user.silence").get_data(as_text=True)
    assert 'title="user.silence">Silenced a member<' in page and 'title="thread.pin"' not in page
    assert login_as(people.moderator).get("/moderation/audit?actor_id=abc").status_code == 422


def test_the_audit_log_page_names_its_filters_and_targets_and_reads_as_text(app, people, places, make, api_as,
                                                                           login_as):
    thread = make(make_thread, people.member, places["public"], title="Renewal pricing")
    staff = api_as(people.moderator)
    staff.patch(f"/api/v1/threads/{thread.id}", {"locked": True})
    idea = api_as(people.member).post("/api/v1/ideas", {"title": "Dark mode", "body": "Please"}).json
    staff.post(f"/api/v1/ideas/{idea['id']}/status", {"status": "planned", "note": "In the spring."})
    admin = api_as(people.admin)
    category = admin.post("/api/v1/categories", {"name": "Roadmap talk"}).json
    start = datetime.now(UTC) + timedelta(days=3)
    event = admin.post("/api/v1/events", {"name": "Porto meetup", "venue": "Porto", "starts_at": start.isoformat(),
                                          "ends_at": (start + timedelta(hours=4)).isoformat()}).json
    admin.post(f"/api/v1/events/{event['id']}/sessions", {"title": "Keynote", "starts_at": start.isoformat(),
                                                           "ends_at": (start + timedelta(hours=1)).isoformat()})

    web = login_as(people.admin)
    page = web.get("/moderation/audit").get_data(as_text=True)
    # Every kind of staff action is there, each target a link named by what it is.
    for action, link in [("thread.lock", f'href="/t/{thread.id}">Renewal pricing</a>'),
                         ("idea.status", f'href="/ideas/{idea["id"]}">Dark mode</a>'),
                         ("category.create", f'href="/c/{category["id"]}">Roadmap talk</a>'),
                         ("event.create", f'href="/events/{event["id"]}">Porto meetup</a>'),
                         ("event.session_add", f'href="/events/{event["id"]}">Porto meetup</a>')]:
        assert f'title="{action}">{escape(audit.ACTION_LABELS[action])}</td>' in page and link in page, action
        assert f">{action}<" not in page, action  # a label for people, not the code
    # The filters offer names (people, actions, every kind of target), not ids to type.
    assert f'<option value="{people.moderator.id}">{people.moderator.display_name}</option>' in page
    assert f'<option value="idea.status">{escape(audit.ACTION_LABELS["idea.status"])}</option>' in page
    assert all(f"<option>{kind}</option>" in page for kind in ("thread", "post", "user", "idea", "category", "event",
                                                                "organization", "webhook"))
    # Before and after read as text, never as JSON.
    assert "locked: no → yes" in page and "status: open → planned" in page and "answer: — → In the spring." in page
    assert "{&#34;" not in page and '{"' not in page

    ideas_only = web.get("/moderation/audit?target_type=idea")
    assert ideas_only.status_code == 200
    assert 'title="idea.status">' in ideas_only.get_data(as_text=True)
    assert 'title="thread.lock">' not in ideas_only.get_data(as_text=True)
    by_moderator = web.get(f"/moderation/audit?actor_id={people.moderator.id}").get_data(as_text=True)
    assert 'title="category.create">' not in by_moderator and 'title="thread.lock">Locked a thread<' in by_moderator
    assert web.get("/moderation/audit?target_type=spaceship").status_code == 422
    with app.app_context():  # the rules are the service's and the policy's, whoever calls
        admin_user, member = db.session.get(User, people.admin.id), db.session.get(User, people.member.id)
        with pytest.raises(ValidationFailed) as refused:
            services.list_audit_log(admin_user, target_type="spaceship")
        assert set(refused.value.fields) == {"target_type"}
        assert permissions.refusal_to_view_audit_log(admin_user) is None
        assert permissions.refusal_to_view_audit_log(member).message == "The audit log is for staff."
        for read in (services.list_audit_log, services.list_audit_choices):
            with pytest.raises(Forbidden):
                read(member)


def test_every_action_the_services_record_has_a_label():
    """The codes written as literals, and those the services compose (flag resolutions,
    restrictions, votes on a member's behalf, thread switches)."""
    from community.moderation.models import Resolution
    from community.threads.services import THREAD_SWITCHES

    sources = "\n".join(path.read_text() for path in Path(audit.__file__).parents[1].rglob("*.py"))
    literal = set(re.findall(r'audit\.record\(\w+, "([a-z_]+\.[a-z_]+)"', sources))
    literal |= {code for pair in re.findall(r'"([a-z_]+\.[a-z_]+)" if .* else "([a-z_]+\.[a-z_]+)"', sources)
                for code in pair}
    composed = ({f"flag.{r.value}" for r in Resolution} | {f"user.{k}" for k in ("suspend", "silence")}
                | {f"user.un{k}" for k in ("suspend", "silence")} | {"thread.rename", "thread.move"}
                | {f"idea.vote_{c}" for c in ("added", "removed", "importance")}
                | {code for pair in THREAD_SWITCHES.values() for code in pair})
    assert len(literal) > 20
    assert (literal | composed) - set(audit.ACTION_LABELS) == set()
    assert audit.action_label("thread.lock") == "Locked a thread"
    assert audit.action_label("someday.new") == "someday.new"  # an unknown code shows as itself


def test_the_audit_log_page_does_not_grow_with_its_entries(app, people, places, make):
    def lock_and_unlock(n):
        moderator = db.session.merge(people.moderator)
        for _ in range(n):
            thread = make_thread(people.member, places["public"])
            threads.do_update_thread(moderator, thread.id, {"locked": True})
            threads.do_update_thread(moderator, make_post(thread, people.outsider, "Hi").thread_id, {"pinned": True})
            suspended = make_user()
            services.do_silence(moderator, suspended.id, NEXT_WEEK, "Heated")

    make(lock_and_unlock, 1)
    one = len(page_queries(app, people.admin.id, "/moderation/audit"))
    make(lock_and_unlock, 6)
    assert len(page_queries(app, people.admin.id, "/moderation/audit")) == one


def test_the_audit_log_cannot_be_changed(app, people):
    """No route writes to it but the actions themselves: nothing updates or deletes an entry."""
    audit_rules = [rule for rule in app.url_map.iter_rules() if "audit" in rule.rule]
    assert {method for rule in audit_rules for method in rule.methods} <= {"GET", "HEAD", "OPTIONS"}


def test_category_moderator_forms_on_the_web(app, people, places, make, login_as):
    member = make(lambda: make_user(email="helper@acme.test"))
    admin = login_as(people.admin)
    assert "Make moderator" in admin.get(f"/moderation/people/{member.id}").get_data(as_text=True)
    # Staff moderate every category already: the page offers what the assignment would refuse.
    assert "Make moderator" not in admin.get(f"/moderation/people/{people.moderator.id}").get_data(as_text=True)
    assert admin.post(f"/moderation/people/{member.id}/categories",
                      {"category_id": str(places["public"].id)}).status_code == 302
    assert admin.post(f"/moderation/people/{member.id}/categories", {"category_id": ""}).status_code == 422
    assert "Moderation" in login_as(member).get("/").get_data(as_text=True)
    people_page = login_as(people.moderator).get("/moderation/people?q=helper").get_data(as_text=True)
    assert "helper@acme.test" in people_page and people.admin.email not in people_page


def test_staff_are_never_restricted_by_moderators(app, people, make, api_as):
    other_admin = make(lambda: make_user(Role.ADMIN, email="boss@vendor.test"))
    assert_error(api_as(people.admin).post(f"/api/v1/users/{other_admin.id}/suspend",
                                           {"until": NEXT_WEEK, "reason": "x"}), 403)
