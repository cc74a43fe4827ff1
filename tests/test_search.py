"""Search: ranked hits for threads, ideas and posts, never beyond what the searcher may read,
kept in step with every write by the database itself, safe snippets, clear refusals."""
import json

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import update

from community.database import db, utcnow
from community.errors import ValidationFailed
from community.search import services
from community.threads.models import Post, Thread

from .conftest import assert_error, count_queries
from .factories import make_category, make_post, make_thread
from .html_safety import executable_markup


def search_all(client, q: str, limit: int = 2) -> list[dict]:
    """Every hit, page after page (small pages, so paging is exercised too)."""
    hits, cursor = [], None
    while True:
        response = client.get("/api/v1/search", query_string={"q": q, "limit": limit, **({"cursor": cursor} if cursor
                                                                                          else {})})
        assert response.status_code == 200, response.json
        hits.extend(response.json["items"])
        cursor = response.json["next_cursor"]
        if cursor is None:
            return hits


def found(client, q: str) -> set[tuple[str, int]]:
    return {(hit["type"], hit["id"]) for hit in search_all(client, q)}


@pytest.fixture
def general(make):
    return make(make_category, "General")


def test_threads_posts_and_ideas_are_found_with_marked_snippets(app, people, general, make, api_as):
    thread = make(make_thread, people.member, general, title="Okta rollout", body="We started with SAML.")
    reply = make(make_post, thread, people.outsider, "Our okta tenant needed SCIM for provisioning.")
    member = api_as(people.member)
    idea = member.post("/api/v1/ideas", {"title": "Group sync", "body": "Sync okta groups nightly."}).json
    hits = search_all(member, "okta")
    assert {(hit["type"], hit["id"]) for hit in hits} == {("thread", thread.id), ("post", reply.id),
                                                          ("idea", idea["id"])}
    by_type = {hit["type"]: hit for hit in hits}
    assert set(by_type["post"]) == {"type", "id", "thread_id", "title", "snippet"}
    assert by_type["post"]["thread_id"] == thread.id and by_type["post"]["title"] == "Okta rollout"
    assert "<mark>okta</mark> tenant" in by_type["post"]["snippet"]
    assert by_type["thread"]["snippet"] == "<mark>Okta</mark> rollout"
    assert by_type["idea"]["thread_id"] == idea["thread_id"] and "<mark>okta</mark>" in by_type["idea"]["snippet"]
    # An idea found by its title and its description is one hit; the first post of an ordinary
    # thread is a post hit of its own.
    member.patch(f"/api/v1/threads/{idea['thread_id']}", {"title": "Okta group sync"})
    assert found(member, "okta") == {("thread", thread.id), ("post", reply.id), ("idea", idea["id"])}
    first_post = member.get(f"/api/v1/threads/{thread.id}/posts").json["items"][0]
    assert found(member, "saml") == {("post", first_post["id"])}
    # Every word must appear; stems match.
    assert found(member, "okta provisioning") == {("post", reply.id)}
    assert found(member, "provision") == {("post", reply.id)}


CANARIES = {
    "staff_title": "canarystafftitle", "staff_body": "canarystaffbody", "deleted_title": "canarydeletedtitle",
    "deleted_body": "canarydeletedbody", "hidden": "canaryhiddenpost", "deleted_post": "canarydeletedpost",
    "idea_title": "canaryideatitle", "idea_body": "canaryideabody",
}


@pytest.fixture
def secrets(app, people, general, make, api_as):
    """One thing of each kind a member may not see, each with its canary word and "okta"."""
    staff_room = make(make_category, "Staff room", staff_only=True)
    make(make_thread, people.moderator, staff_room, title=f"okta {CANARIES['staff_title']}",
         body=f"okta {CANARIES['staff_body']}")
    gone = make(make_thread, people.member, general, title=f"okta {CANARIES['deleted_title']}",
                body=f"okta {CANARIES['deleted_body']}")
    public = make(make_thread, people.member, general, title="okta public notes", body="okta public body")
    hidden = make(make_post, public, people.outsider, f"okta {CANARIES['hidden']}")
    removed = make(make_post, public, people.member, f"okta {CANARIES['deleted_post']}")
    idea = api_as(people.member).post("/api/v1/ideas", {"title": f"okta {CANARIES['idea_title']}",
                                                        "body": f"okta {CANARIES['idea_body']}"}).json
    with app.app_context():
        now = utcnow()
        db.session.execute(update(Thread).where(Thread.id == gone.id).values(deleted_at=now))
        db.session.execute(update(Post).where(Post.id == hidden.id).values(hidden_at=now, hidden_reason="spam"))
        db.session.execute(update(Post).where(Post.id == removed.id).values(deleted_at=now))
        db.session.execute(update(Thread).where(Thread.id == idea["thread_id"]).values(category_id=staff_room.id))
        db.session.commit()
    return {"public": public, "hidden": hidden, "removed": removed, "idea": idea, "gone": gone}


def test_nothing_a_member_may_not_see_is_found_counted_or_quoted(app, people, secrets, api_as, login_as):
    member = api_as(people.member)
    everything = json.dumps(search_all(member, "okta"))
    assert "canary" not in everything.lower()
    assert found(member, "okta") == {("thread", secrets["public"].id), ("post", secrets["public"].id)}
    for word in CANARIES.values():
        assert member.get("/api/v1/search", query_string={"q": word}).json == {"items": [], "next_cursor": None}
        page = login_as(people.member).get("/search", query_string={"q": f"okta {word}"}).get_data(as_text=True)
        assert word not in page.lower().replace(f"okta {word}", "")  # only in the echoed query
    web = login_as(people.member).get("/search?q=okta").get_data(as_text=True)
    assert "canary" not in web.lower()


def test_staff_and_authors_find_what_they_may_read(app, people, secrets, api_as):
    staff = api_as(people.moderator)
    for word in CANARIES.values():
        assert found(staff, word), word
    # The hidden post's author finds it; other members do not.
    assert found(api_as(people.outsider), CANARIES["hidden"]) == {("post", secrets["hidden"].id)}
    assert found(api_as(people.member), CANARIES["hidden"]) == set()


def test_the_index_follows_every_write(app, people, general, api_as):
    member, staff = api_as(people.member), api_as(people.moderator)
    thread = member.post("/api/v1/threads", {"category_id": general.id, "title": "Invoices by mail",
                                             "body": "Paper invoices please"}).json
    post = member.post(f"/api/v1/threads/{thread['id']}/posts", {"body": "Also zebra statements"}).json
    assert found(member, "zebra") == {("post", post["id"])}
    member.patch(f"/api/v1/posts/{post['id']}", {"body": "Also giraffe statements"})
    assert found(member, "zebra") == set() and found(member, "giraffe") == {("post", post["id"])}
    member.patch(f"/api/v1/threads/{thread['id']}", {"title": "Invoices by pigeon"})
    assert found(member, "mail") == set() and found(member, "pigeon") == {("thread", thread["id"])}
    staff.post(f"/api/v1/posts/{post['id']}/hide", {"reason": "Off topic"})
    assert found(api_as(people.outsider), "giraffe") == set()
    staff.post(f"/api/v1/posts/{post['id']}/unhide")
    assert found(api_as(people.outsider), "giraffe") == {("post", post["id"])}
    member.delete(f"/api/v1/posts/{post['id']}")
    assert found(member, "giraffe") == set()
    staff.delete(f"/api/v1/threads/{thread['id']}")
    assert found(member, "pigeon") == set()
    staff.post(f"/api/v1/threads/{thread['id']}/restore")
    assert found(member, "pigeon") == {("thread", thread["id"])}


def test_snippets_read_as_text_not_markdown(app, people, general, make, api_as):
    thread = make(make_thread, people.member, general, title="Quarterly review")
    make(make_post, thread, people.outsider, "We closed **Q3** with okta\n\n```\nokta --sync\n```")
    [hit] = [hit for hit in search_all(api_as(people.member), "okta") if hit["type"] == "post"]
    assert "**" not in hit["snippet"] and "```" not in hit["snippet"]
    assert "Q3 with <mark>okta</mark>" in hit["snippet"], hit["snippet"]


def test_snippets_are_safe_html(app, people, general, make, api_as):
    make(make_thread, people.member, general, title="<b>okta</b> & <script>okta</script>",
         body='<img src=x onerror="okta()"> <script>alert("okta")</script> [x](javascript:okta)')
    hits = search_all(api_as(people.member), "okta")
    assert len(hits) == 2
    for hit in hits:
        assert executable_markup(hit["snippet"]) == [], hit
        assert "<b>" not in hit["snippet"] and "<mark>" in hit["snippet"]
    # Marked, then escaped, then the marks become tags: stray marks are dropped.
    assert services.highlighted("a \x02<b>\x03 \x02 x") == "a <mark>&lt;b&gt;</mark>  x"


@pytest.mark.parametrize("q", ["", "   ", "x" * 201, '"', "***", "((", ":", "-)(", " ".join(["w"] * 13)])
def test_bad_queries_are_refused_clearly(app, people, api_as, login_as, q):
    error = assert_error(api_as(people.member).get("/api/v1/search", query_string={"q": q}), 422)
    assert "q" in error["fields"]
    assert login_as(people.member).get("/search", query_string={"q": q}).status_code == 422


def test_query_syntax_is_read_as_plain_words(app, people, general, make, api_as):
    thread = make(make_thread, people.member, general, title="Okta title", body="near the end")
    member = api_as(people.member)
    for q in ['okta AND', 'title:okta', '"okta', 'okta*', "okta -saml", "NEAR(okta title)", "okta OR"]:
        response = member.get("/api/v1/search", query_string={"q": q})
        assert response.status_code == 200, (q, response.json)
    assert ("thread", thread.id) in found(member, "title:okta")
    assert_error(member.get("/api/v1/search"), 422)
    assert_error(member.get("/api/v1/search?q=okta&cursor=nonsense"), 422)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(q=st.text(max_size=60))
def test_no_query_fails(app, people, q):
    with app.app_context():
        try:
            services.search(db.session.merge(people.member), q)
        except ValidationFailed:
            pass
        finally:
            db.session.remove()


def test_search_has_bounded_queries(app, people, general, make, api_as):
    member = api_as(people.member)

    def queries():
        with app.app_context(), count_queries() as statements:
            response = member.get("/api/v1/search?q=okta&limit=100")
            assert response.status_code == 200
        return len(statements), len(response.json["items"])

    thread = make(make_thread, people.member, general, title="okta one", body="okta first")
    one = queries()
    make(lambda: [make_post(db.session.merge(thread), db.session.merge(people.outsider), f"okta {i}")
                  for i in range(30)])
    member.post("/api/v1/ideas", {"title": "okta idea", "body": "okta idea body"})
    many = queries()
    assert many[1] > one[1] + 30 and many[0] == one[0]


def test_web_page_has_the_box_results_and_pages(app, people, general, make, login_as):
    thread = make(make_thread, people.member, general, title="Okta intro", replies=0)
    make(lambda: [make_post(db.session.merge(thread), db.session.merge(people.member), f"okta reply {i}")
                  for i in range(3)])
    web = login_as(people.outsider)
    home = web.get("/").get_data(as_text=True)
    assert 'action="/search"' in home and 'name="q"' in home
    page = web.get("/search?q=okta&limit=2").get_data(as_text=True)
    assert page.count('class="thread-row search-hit"') == 2 and 'rel="next"' in page and "<mark>" in page
