"""Reading state: what each member has read, unread counts in lists, the thread page's place."""
import re

import pytest

from community.database import db, utcnow
from community.threads.models import Post

from .conftest import assert_error, count_queries
from .factories import make_category, make_organization, make_post, make_thread, make_user


@pytest.fixture
def places(make):
    return make(lambda: {"public": make_category("Product help"), "staff": make_category("Staff lounge", True)})


def _posts(make, thread_id):
    def ids():
        return list(db.session.scalars(db.select(Post.id).where(Post.thread_id == thread_id).order_by(Post.id)))
    return make(ids)


def _item(client, thread_id):
    items = client.get("/api/v1/threads?limit=100").json["items"]
    return next(item for item in items if item["id"] == thread_id)


def test_a_thread_never_opened_counts_all_its_posts_and_reading_moves_the_place(people, places, make, api_as):
    thread = make(make_thread, people.outsider, places["public"], replies=3)
    posts = _posts(make, thread.id)
    member = api_as(people.member)
    assert {k: _item(member, thread.id)[k] for k in ("last_read_post_id", "unread_count")} == \
        {"last_read_post_id": None, "unread_count": 4}

    read = member.post(f"/api/v1/threads/{thread.id}/read", {"post_id": posts[1]})
    assert read.status_code == 200
    assert (read.json["last_read_post_id"], read.json["unread_count"]) == (posts[1], 2)
    assert (_item(member, thread.id)["unread_count"], member.get(f"/api/v1/threads/{thread.id}").json["unread_count"]) \
        == (2, 2)

    # Reading an older post again never moves the place backwards.
    again = member.post(f"/api/v1/threads/{thread.id}/read", {"post_id": posts[0]})
    assert (again.json["last_read_post_id"], again.json["unread_count"]) == (posts[1], 2)
    # Others' reading is their own.
    assert _item(api_as(people.moderator), thread.id)["last_read_post_id"] is None


def test_new_replies_are_unread_and_ones_own_reply_is_read(people, places, make, api_as):
    thread = make(make_thread, people.outsider, places["public"])
    member = api_as(people.member)
    member.post(f"/api/v1/threads/{thread.id}/read", {"post_id": _posts(make, thread.id)[-1]})
    assert _item(member, thread.id)["unread_count"] == 0
    make(make_post, thread, people.outsider, "News")
    assert _item(member, thread.id)["unread_count"] == 1
    reply = member.post(f"/api/v1/threads/{thread.id}/posts", {"body": "Thanks"}).json
    item = _item(member, thread.id)
    assert (item["last_read_post_id"], item["unread_count"]) == (reply["id"], 0)


def test_deleted_posts_are_not_unread_for_members(people, places, make, api_as):
    thread = make(make_thread, people.outsider, places["public"])
    member = api_as(people.member)
    member.post(f"/api/v1/threads/{thread.id}/read", {"post_id": _posts(make, thread.id)[-1]})

    def deleted_reply():
        db.session.add(Post(thread_id=thread.id, author_id=people.outsider.id, body="x", body_html="<p>x</p>",
                            deleted_at=utcnow()))
        db.session.commit()

    make(deleted_reply)
    assert _item(member, thread.id)["unread_count"] == 0
    moderator = api_as(people.moderator)  # staff still see deleted posts, so one is new to them
    first_post = _posts(make, thread.id)[0]
    assert moderator.post(f"/api/v1/threads/{thread.id}/read", {"post_id": first_post}).json["unread_count"] == 1


def test_marking_read_refuses_posts_of_other_threads_and_unreadable_ones(people, places, make, api_as):
    thread = make(make_thread, people.outsider, places["public"])
    other = make(make_thread, people.outsider, places["public"])
    hidden = make(make_thread, people.moderator, places["staff"])
    member = api_as(people.member)
    assert_error(member.post(f"/api/v1/threads/{thread.id}/read", {"post_id": _posts(make, other.id)[0]}), 404)
    assert_error(member.post(f"/api/v1/threads/{hidden.id}/read", {"post_id": _posts(make, hidden.id)[0]}), 404)
    assert_error(member.post(f"/api/v1/threads/{thread.id}/read", {"post_id": 0}), 422)
    assert_error(member.post(f"/api/v1/threads/{thread.id}/read", {}), 422)


def test_reading_state_costs_no_query_per_thread(app, make, people, api_as):
    def build(n):
        category = make_category()
        for _ in range(n):
            make_thread(make_user(organization=make_organization()), category, replies=2)
        return category.id

    small, large = make(build, 1), make(build, 15)
    member = api_as(people.member)
    for thread in member.get(f"/api/v1/threads?category_id={large}&limit=5").json["items"]:
        member.post(f"/api/v1/threads/{thread['id']}/read", {"post_id": _posts(make, thread["id"])[0]})
    counts = {"made": [], "kept": []}
    for category in (small, large):
        for visit in counts:
            with app.app_context(), count_queries() as statements:
                items = member.get(f"/api/v1/threads?category_id={category}").json["items"]
            counts[visit].append(len(statements))
            assert sorted(item["unread_count"] for item in items) == ([3] if category == small else [2] * 5 + [3] * 10)
    # The category, the shared page and the member's own reading state when they are made; then
    # all three are kept (the session is known too).
    assert counts == {"made": [3, 3], "kept": [0, 0]}


def test_lists_mark_what_is_new_and_the_thread_page_opens_at_it(people, places, make, login_as):
    thread = make(make_thread, people.outsider, places["public"], title="Claims routing", replies=2)
    posts = _posts(make, thread.id)
    member = login_as(people.member)
    row = member.get(f"/c/{places['public'].id}").get_data(as_text=True)
    assert re.search(r'Claims routing</a>\s*<span class="badge badge-new">new</span>', row)

    page = member.get(f"/t/{thread.id}").get_data(as_text=True)
    assert 'id="first-unread"' not in page  # never opened: the whole thread is new, no divider
    assert member.post(f"/t/{thread.id}/read", {"post_id": posts[0]}).status_code == 302

    row = member.get(f"/c/{places['public'].id}").get_data(as_text=True)
    assert f'href="/t/{thread.id}#first-unread">Claims routing</a>' in row and "2 new</span>" in row
    page = member.get(f"/t/{thread.id}").get_data(as_text=True)
    divider = page.index('id="first-unread"')
    assert page.index(f'id="post-{posts[0]}"') < divider < page.index(f'id="post-{posts[1]}"')
    assert page.count("post-unread") == 2

    json_answer = member.post(f"/t/{thread.id}/read", {"post_id": posts[2]}, headers={"Accept": "application/json"})
    assert json_answer.status_code == 204
    row = member.get(f"/c/{places['public'].id}").get_data(as_text=True)
    assert "badge-new" not in row


def test_a_long_thread_opens_where_the_member_left_off(people, places, make, login_as):
    thread = make(make_thread, people.outsider, places["public"], replies=30)
    posts = _posts(make, thread.id)
    member = login_as(people.member)
    member.post(f"/t/{thread.id}/read", {"post_id": posts[24]})
    page = member.get(f"/t/{thread.id}").get_data(as_text=True)
    assert f'id="post-{posts[24]}"' not in page and f'id="post-{posts[25]}"' in page
    assert "From the first post" in page
    start = member.get(f"/t/{thread.id}?from=start").get_data(as_text=True)
    assert f'id="post-{posts[0]}"' in start


def test_the_home_page_pages_past_its_first_ten_threads(people, places, make, login_as):
    for i in range(12):
        make(make_thread, people.outsider, places["public"], title=f"Topic number {i:02d}")
    member = login_as(people.member)
    first = member.get("/").get_data(as_text=True)
    assert first.count('class="thread-row"') == 10
    cursor = re.search(r'href="/\?cursor=([^"]+)" rel="next"', first).group(1)
    second = member.get(f"/?cursor={cursor}").get_data(as_text=True)
    assert second.count('class="thread-row"') == 2 and "Topic number 00" in second
    assert 'rel="next"' not in second
