"""Categories, threads and posts through the API: the same rules as the web."""
from datetime import UTC, datetime, timedelta

import pytest

from community.database import db
from community.threads.models import Post, Thread

from .conftest import assert_error, assert_max_queries, count_queries
from .factories import make_category, make_category_moderator, make_organization, make_thread, make_user


@pytest.fixture
def places(make):
    return make(lambda: {"public": make_category("Product help"), "staff": make_category("Staff lounge", True)})


def test_categories_hide_staff_only_from_members(people, places, api_as):
    names = [c["name"] for c in api_as(people.member).get("/api/v1/categories").json["items"]]
    assert names == ["Product help"]
    staff = api_as(people.moderator).get("/api/v1/categories").json["items"]
    assert {c["name"] for c in staff} == {"Product help", "Staff lounge"}


def test_only_admins_create_categories(people, api_as):
    assert_error(api_as(people.moderator).post("/api/v1/categories", {"name": "Events"}), 403)
    created = api_as(people.admin).post("/api/v1/categories", {"name": "Events", "staff_only": True,
                                                                "description": "Meetups"})
    assert created.status_code == 201 and created.json["staff_only"] is True
    assert_error(api_as(people.admin).post("/api/v1/categories", {"name": "events"}), 409, "category_exists")


def test_create_read_reply_edit_delete(people, places, api_as):
    member = api_as(people.member)
    created = member.post("/api/v1/threads", {"category_id": places["public"].id, "title": "API thread",
                                               "body": "Hello *api*"})
    assert created.status_code == 201
    thread = created.json
    assert thread["first_post"]["body_html"] == "<p>Hello <em>api</em></p>\n"
    assert thread["first_post"]["body"] == "Hello *api*"
    assert thread["can_reply"] is True and thread["can_moderate"] is False

    other = api_as(people.outsider)
    reply = other.post(f"/api/v1/threads/{thread['id']}/posts", {"body": "A reply"})
    assert reply.status_code == 201 and reply.json["author"]["organization"] == "Globex"
    assert reply.json["can_edit"] is True and reply.json["can_delete"] is True
    # The first post goes only with its thread: the flag says so before the delete is tried.
    assert [p["can_delete"] for p in member.get(f"/api/v1/threads/{thread['id']}/posts").json["items"]] == [
        False, False]  # the first post: hers, but it carries the thread; the reply: not hers
    assert [p["can_delete"] for p in other.get(f"/api/v1/threads/{thread['id']}/posts").json["items"]] == [
        False, True]

    assert_error(member.patch(f"/api/v1/posts/{reply.json['id']}", {"body": "defaced"}), 403)
    edited = other.patch(f"/api/v1/posts/{reply.json['id']}", {"body": "A better reply"})
    assert edited.status_code == 200 and edited.json["edited_at"] is not None

    assert other.delete(f"/api/v1/posts/{reply.json['id']}").status_code == 204
    posts = member.get(f"/api/v1/threads/{thread['id']}/posts").json["items"]
    assert [p["id"] for p in posts] == [thread["first_post"]["id"]]
    staff_view = api_as(people.moderator).get(f"/api/v1/threads/{thread['id']}/posts").json["items"]
    assert [p["deleted"] for p in staff_view] == [False, True]
    assert_error(member.get(f"/api/v1/posts/{reply.json['id']}"), 404)
    assert_error(member.delete(f"/api/v1/posts/{thread['first_post']['id']}"), 409, "first_post")
    assert member.get(f"/api/v1/threads/{thread['id']}").json["reply_count"] == 0


def test_staff_only_threads_are_404_for_members(people, places, make, api_as):
    secret = make(make_thread, people.moderator, places["staff"], title="Secret plans")
    member = api_as(people.member)
    for response in (member.get(f"/api/v1/threads/{secret.id}"),
                     member.get(f"/api/v1/threads/{secret.id}/posts"),
                     member.post(f"/api/v1/threads/{secret.id}/posts", {"body": "hi"}),
                     member.get(f"/api/v1/threads?category_id={places['staff'].id}"),
                     member.post("/api/v1/threads", {"category_id": places["staff"].id, "title": "Sneak",
                                                     "body": "x"})):
        assert_error(response, 404, "not_found")
    listing = member.get("/api/v1/threads").get_data(as_text=True)
    assert "Secret plans" not in listing


def test_thread_patch_rules(people, places, make, api_as):
    thread = make(make_thread, people.member, places["public"], title="Old title")
    member, staff = api_as(people.member), api_as(people.moderator)
    assert member.patch(f"/api/v1/threads/{thread.id}", {"title": "New title"}).json["title"] == "New title"
    assert_error(api_as(people.outsider).patch(f"/api/v1/threads/{thread.id}", {"title": "Mine now"}), 403)
    assert_error(member.patch(f"/api/v1/threads/{thread.id}", {"locked": True}), 403)
    locked = staff.patch(f"/api/v1/threads/{thread.id}", {"locked": True, "pinned": True,
                                                          "category_id": places["staff"].id})
    assert locked.status_code == 200 and locked.json["locked"] and locked.json["pinned"]
    assert_error(member.get(f"/api/v1/threads/{thread.id}"), 404)  # moved out of the member's sight
    staff.patch(f"/api/v1/threads/{thread.id}", {"category_id": places["public"].id})
    assert_error(member.post(f"/api/v1/threads/{thread.id}/posts", {"body": "hello?"}), 409, "thread_locked")
    assert_error(staff.patch(f"/api/v1/threads/{thread.id}", {"category_id": 999999}), 404)
    assert_error(staff.patch(f"/api/v1/threads/{thread.id}", {"title": "x"}), 422)


def test_thread_list_sorts_filters_and_pages(people, places, make, api_as):
    for i in range(5):
        make(make_thread, people.member, places["public"], title=f"Topic {i}", replies=i)
    member = api_as(people.member)
    top = member.get(f"/api/v1/threads?category_id={places['public'].id}&sort=top&limit=2").json
    assert [t["title"] for t in top["items"]] == ["Topic 4", "Topic 3"]
    rest = member.get(f"/api/v1/threads?category_id={places['public'].id}&sort=top&limit=2"
                      f"&cursor={top['next_cursor']}").json
    assert [t["title"] for t in rest["items"]] == ["Topic 2", "Topic 1"]
    new = member.get("/api/v1/threads?sort=new&limit=100").json
    assert [t["title"] for t in new["items"]] == [f"Topic {i}" for i in reversed(range(5))]
    assert new["next_cursor"] is None


@pytest.mark.parametrize(("query", "field"), [("sort=random", "sort"), ("limit=0", "limit"),
                                                ("limit=101", "limit"), ("limit=abc", "limit"),
                                                ("cursor=zzz", "cursor"), ("category_id=abc", "category_id")])
def test_bad_list_parameters_are_422(people, api_as, query, field):
    error = assert_error(api_as(people.member).get(f"/api/v1/threads?{query}"), 422, "validation_failed")
    assert field in error["fields"]


def test_posts_since_catches_up_on_new_and_edited_posts(app, people, places, make, api_as):
    thread = make(make_thread, people.member, places["public"], replies=2)
    checkpoint = datetime.now(UTC)
    with app.app_context():
        old = db.session.query(Post).filter_by(thread_id=thread.id).order_by(Post.id).all()
        for post in old:
            post.created_at = checkpoint - timedelta(minutes=5)
        old[1].edited_at = checkpoint + timedelta(seconds=1)
        db.session.commit()
        edited_id = old[1].id
    member = api_as(people.member)
    new = member.post(f"/api/v1/threads/{thread.id}/posts", {"body": "new one"}).json
    since = checkpoint.isoformat().replace("+00:00", "Z")
    items = member.get(f"/api/v1/threads/{thread.id}/posts", query_string={"since": since}).json["items"]
    assert [p["id"] for p in items] == [edited_id, new["id"]]
    assert_error(member.get(f"/api/v1/threads/{thread.id}/posts?since=yesterday"), 422)


@pytest.mark.parametrize(("body", "field"), [
    ({"category_id": 1, "title": "", "body": "x"}, "title"),
    ({"category_id": 1, "title": "Fine title", "body": "  "}, "body"),
    ({"category_id": 1, "title": "Fine title"}, "body"),
    ({"category_id": "one", "title": "Fine title", "body": "x"}, "category_id"),
    ({"category_id": 1, "title": ["list"], "body": "x"}, "title"),
    ({"category_id": 1, "title": "Fine title", "body": "x", "extra": 1}, "extra"),
])
def test_bad_threads_are_422_and_write_nothing(app, people, places, api_as, body, field):
    body = {**body, "category_id": places["public"].id} if body.get("category_id") == 1 else body
    error = assert_error(api_as(people.member).post("/api/v1/threads", body), 422, "validation_failed")
    assert field in error["fields"]
    with app.app_context():
        assert db.session.query(Thread).count() == 0


def test_malformed_json_is_400(people, api_as):
    member = api_as(people.member)
    response = member.client.post("/api/v1/threads", data="{not json",
                                  headers={"Authorization": f"Bearer {member.tokens['access_token']}",
                                           "Content-Type": "application/json"})
    assert_error(response, 400, "malformed_request")


def test_unknown_routes_methods_and_huge_bodies_use_the_envelope(people, api_as):
    member = api_as(people.member)
    assert_error(member.get("/api/v1/nope"), 404, "not_found")
    assert_error(member.put("/api/v1/threads"), 405, "method_not_allowed")
    assert_error(member.post("/api/v1/threads", {"category_id": 1, "title": "Big", "body": "x" * 2_000_000}),
                 413, "payload_too_large")
    assert_error(member.get("/api/v1/threads/999999"), 404, "not_found")


def test_etags_answer_304_when_nothing_changed(people, places, make, api_as):
    thread = make(make_thread, people.member, places["public"])
    member = api_as(people.member)
    first = member.get(f"/api/v1/threads/{thread.id}")
    etag = first.headers["ETag"]
    assert member.get(f"/api/v1/threads/{thread.id}", headers={"If-None-Match": etag}).status_code == 304
    member.post(f"/api/v1/threads/{thread.id}/posts", {"body": "changes the thread"})
    assert member.get(f"/api/v1/threads/{thread.id}", headers={"If-None-Match": etag}).status_code == 200


def test_user_profiles(people, api_as):
    profile = api_as(people.member).get(f"/api/v1/users/{people.outsider.id}").json
    assert profile["display_name"] == "Otto Outsider" and profile["organization"] == "Globex"
    assert "email" not in profile
    assert_error(api_as(people.member).get("/api/v1/users/999999"), 404)


# Query counts do not grow with the page


def _list_queries(app, api, url) -> int:
    with app.app_context(), count_queries() as statements:
        assert api.get(url).status_code == 200
    return len(statements)


def test_thread_and_post_lists_have_bounded_queries(app, make, api_as, people):
    def build(n):
        category = make_category()
        thread = None
        for _ in range(n):
            author = make_user(organization=make_organization())
            thread = make_thread(author, category, replies=0)
            db.session.add(Post(thread=thread, author=author, body="x", body_html="<p>x</p>"))
        db.session.commit()
        return category.id, thread.id

    small_category, small_thread = make(build, 1)
    large_category, large_thread = make(build, 20)
    member = api_as(people.member)
    for small, large in ((f"/api/v1/threads?category_id={small_category}",
                          f"/api/v1/threads?category_id={large_category}"),
                         ("/api/v1/threads?limit=1", "/api/v1/threads?limit=40"),
                         (f"/api/v1/threads/{small_thread}/posts", f"/api/v1/threads/{large_thread}/posts")):
        assert _list_queries(app, member, small) == _list_queries(app, member, large)
    with app.app_context(), assert_max_queries(6):
        member.get("/api/v1/threads?limit=40")


def test_a_category_moderators_thread_list_is_the_page_alone(app, make, api, api_as, people):
    """The token's session, its member and the categories they moderate come in one query the
    first time, and from this process's memory after it; so does the page, shared by everyone
    who moderates the same categories, and the viewer's own reading state of it. The
    assignments loaded with the member decide what the page shows."""
    def build():
        hidden = make_category(staff_only=True)
        make_category_moderator(people.member, hidden)
        db.session.commit()
        return make_thread(people.outsider, hidden).id

    thread = make(build)
    fresh = api.login(people.member.email).json["access_token"]
    for expected in (3, 0):  # the first request reads the session, the page and one's place; the next know them
        with app.app_context(), count_queries() as statements:
            response = api.get("/api/v1/threads", token=fresh)
        assert response.status_code == 200
        assert [item["id"] for item in response.json["items"]] == [thread]
        assert response.json["items"][0]["can_moderate"] is True
        assert len(statements) == expected, "\n---\n".join(statements)


@pytest.mark.parametrize("huge", [2**31, 2**63, 10**30])
def test_ids_no_row_can_have_are_404_or_422_never_500(people, api_as, login_as, huge):
    member = api_as(people.member)
    assert_error(member.get(f"/api/v1/threads/{huge}"), 404)
    assert_error(member.delete(f"/api/v1/me/sessions/{huge}"), 404)
    assert_error(member.post("/api/v1/threads", {"category_id": huge, "title": "Huge", "body": "x"}), 422)
    assert_error(member.get(f"/api/v1/threads?category_id={huge}"), 422)
    assert_error(member.post("/api/v1/notifications/read", {"ids": [huge]}), 422)
    assert login_as(people.member).get(f"/t/{huge}").status_code == 404


def test_nul_characters_are_refused_everywhere(app, people, places, api_as, login_as):
    member = api_as(people.member)
    body = {"category_id": places["public"].id, "title": "Nul\x00title", "body": "x"}
    assert_error(member.post("/api/v1/threads", body), 422, "validation_failed")
    assert_error(member.get("/api/v1/threads?sort=new\x00"), 422)
    web = login_as(people.member)
    assert web.post(f"/c/{places['public'].id}/new", {"title": "Fine title", "body": "bad\x00"}).status_code == 422
    with app.app_context():
        assert db.session.query(Thread).count() == 0


def test_unknown_query_parameters_are_refused(people, api_as):
    error = assert_error(api_as(people.member).get("/api/v1/threads?categroy_id=3"), 422, "validation_failed")
    assert "categroy_id" in error["fields"]


def test_routes_without_a_query_refuse_one_too(people, places, make, api_as):
    thread = make(make_thread, people.member, places["public"])
    member = api_as(people.member)
    assert member.get(f"/api/v1/threads/{thread.id}").status_code == 200
    error = assert_error(member.get(f"/api/v1/threads/{thread.id}?cursor="), 422, "validation_failed")
    assert set(error["fields"]) == {"cursor"}
    assert_error(api_as(people.member).client.get("/api/v1/me?x=1"), 401)  # no token: that comes first
