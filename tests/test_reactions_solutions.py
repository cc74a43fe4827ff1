"""Reactions on posts and solved answers in support categories: API, web and pushes."""
import pytest

from community import events
from community.database import db
from community.notifications.models import Notification
from community.threads.models import Post, PostReaction, Thread

from .conftest import assert_error, count_queries
from .factories import make_category, make_organization, make_post, make_thread, make_user


@pytest.fixture
def places(make):
    def build():
        help_desk = make_category("Product help")
        help_desk.kind = "support"
        db.session.commit()
        return {"support": help_desk, "general": make_category("General"), "staff": make_category("Staff", True)}
    return make(build)


def _reply(make, thread, author, body="An answer"):
    return make(make_post, thread, author, body).id


def test_reactions_count_per_reaction_and_are_idempotent(people, places, make, api_as):
    thread = make(make_thread, people.outsider, places["general"])
    post = make(lambda: db.session.scalar(db.select(Post.id).where(Post.thread_id == thread.id)))
    member, moderator = api_as(people.member), api_as(people.moderator)
    assert member.put(f"/api/v1/posts/{post}/reactions/+1").json == {"reactions": {"+1": 1}, "mine": ["+1"]}
    assert member.put(f"/api/v1/posts/{post}/reactions/+1").json == {"reactions": {"+1": 1}, "mine": ["+1"]}
    moderator.put(f"/api/v1/posts/{post}/reactions/+1")
    both = moderator.put(f"/api/v1/posts/{post}/reactions/tada").json
    assert both == {"reactions": {"+1": 2, "tada": 1}, "mine": ["+1", "tada"]}
    listed = member.get(f"/api/v1/threads/{thread.id}/posts").json["items"][0]
    assert (listed["reactions"], listed["my_reactions"], listed["can_react"]) == ({"+1": 2, "tada": 1}, ["+1"], True)
    assert member.delete(f"/api/v1/posts/{post}/reactions/+1").json == {"reactions": {"+1": 1, "tada": 1}, "mine": []}
    assert member.delete(f"/api/v1/posts/{post}/reactions/+1").json["reactions"] == {"+1": 1, "tada": 1}


def test_reactions_refuse_unknown_ones_own_posts_and_unreadable_posts(people, places, make, api_as):
    mine = make(make_thread, people.member, places["general"])
    hidden = make(make_thread, people.moderator, places["staff"])
    member = api_as(people.member)
    first = make(lambda: {t: db.session.scalar(db.select(Post.id).where(Post.thread_id == t))
                          for t in (mine.id, hidden.id)})
    assert_error(member.put(f"/api/v1/posts/{first[mine.id]}/reactions/party"), 422)
    assert_error(member.put(f"/api/v1/posts/{first[mine.id]}/reactions/heart"), 403)
    assert_error(member.put(f"/api/v1/posts/{first[hidden.id]}/reactions/heart"), 404)
    assert member.get(f"/api/v1/threads/{mine.id}/posts").json["items"][0]["can_react"] is False


def test_a_page_of_posts_loads_its_reactions_in_one_query(app, people, places, make, api_as):
    def build(n):
        thread = make_thread(people.outsider, make_category())
        for _ in range(n):
            author = make_user(organization=make_organization())
            post = make_post(thread, author)
            events.commit()
            db.session.add(PostReaction(post_id=post.id, user_id=people.moderator.id, reaction="heart"))
        db.session.commit()
        return thread.id

    small, large = make(build, 1), make(build, 15)
    member = api_as(people.member)
    counts = []
    for thread in (small, large):
        with app.app_context(), count_queries() as statements:
            items = member.get(f"/api/v1/threads/{thread}/posts").json["items"]
        counts.append(len(statements))
    assert counts[0] == counts[1]
    assert [item["reactions"] for item in items[1:]] == [{"heart": 1}] * 15


def test_the_asker_marks_a_solution_the_answer_author_is_told_and_lists_filter_unsolved(
        people, places, make, api_as):
    question = make(make_thread, people.member, places["support"], title="How do I export claims?")
    other = make(make_thread, people.member, places["support"], title="Still open")
    answer = _reply(make, question, people.outsider)
    member = api_as(people.member)
    assert member.get(f"/api/v1/threads/{question.id}").json["can_mark_solution"] is True
    solved = member.put(f"/api/v1/threads/{question.id}/solution", {"post_id": answer})
    assert solved.status_code == 200 and solved.json["solution_post_id"] == answer

    notes = make(lambda: [(n.user_id, n.kind, n.post_id) for n in db.session.scalars(
        db.select(Notification).where(Notification.kind == "solution"))])
    assert notes == [(people.outsider.id, "solution", answer)]

    unsolved = member.get(f"/api/v1/threads?category_id={places['support'].id}&unsolved=true").json["items"]
    assert [item["id"] for item in unsolved] == [other.id]
    assert member.delete(f"/api/v1/threads/{question.id}/solution").json["solution_post_id"] is None
    unsolved = member.get("/api/v1/threads?unsolved=true").json["items"]
    assert {item["id"] for item in unsolved} == {question.id, other.id}


def test_only_the_asker_or_staff_mark_and_only_a_live_reply_of_a_support_question(people, places, make, api_as):
    question = make(make_thread, people.member, places["support"])
    chat = make(make_thread, people.member, places["general"])
    answer = _reply(make, question, people.outsider)
    first = make(lambda: db.session.scalar(db.select(Post.id).where(Post.thread_id == question.id).order_by(Post.id)))
    elsewhere = _reply(make, chat, people.outsider)
    outsider, member = api_as(people.outsider), api_as(people.member)
    assert_error(outsider.put(f"/api/v1/threads/{question.id}/solution", {"post_id": answer}), 403)
    assert_error(member.put(f"/api/v1/threads/{chat.id}/solution", {"post_id": elsewhere}), 409, "not_a_question")
    assert_error(member.put(f"/api/v1/threads/{question.id}/solution", {"post_id": first}), 409, "first_post")
    assert_error(member.put(f"/api/v1/threads/{question.id}/solution", {"post_id": elsewhere}), 404)
    staff = api_as(people.moderator).put(f"/api/v1/threads/{question.id}/solution", {"post_id": answer})
    assert staff.json["solution_post_id"] == answer
    # Deleting the answer unmarks it.
    api_as(people.moderator).delete(f"/api/v1/posts/{answer}")
    assert make(lambda: db.session.get(Thread, question.id).solution_post_id) is None


def test_categories_have_a_kind(people, api_as):
    admin = api_as(people.admin)
    created = admin.post("/api/v1/categories", {"name": "Help", "kind": "support"})
    assert created.status_code == 201 and created.json["kind"] == "support"
    assert admin.post("/api/v1/categories", {"name": "Chat"}).json["kind"] == "discussion"
    assert_error(admin.post("/api/v1/categories", {"name": "Odd", "kind": "blog"}), 422)


def test_the_web_page_reacts_and_shows_the_solution_under_the_question(people, places, make, login_as):
    question = make(make_thread, people.member, places["support"], body="How do I export?")
    answer = _reply(make, question, people.outsider, "Use **Export** in Settings.")
    member = login_as(people.member)
    page = member.get(f"/t/{question.id}").get_data(as_text=True)
    assert "Mark as solution" in page and "✓ Solved" not in page

    assert member.post(f"/t/{question.id}/solution", {"post_id": answer}).status_code == 302
    page = member.get(f"/t/{question.id}").get_data(as_text=True)
    solved_at = page.index('aria-label="Solution"')
    assert page.index(f'id="post-{answer}"') > solved_at > page.index('id="post-')
    assert "Unmark solution" in page
    listing = member.get(f"/c/{places['support'].id}").get_data(as_text=True)
    assert "✓ solved" in listing
    assert question.title not in member.get(f"/c/{places['support'].id}?unsolved=1").get_data(as_text=True)

    answer_json = member.post(f"/p/{answer}/reactions/heart", {"on": "1"}, headers={"Accept": "application/json"})
    assert answer_json.json == {"reactions": {"heart": 1}, "mine": ["heart"]}
    page = member.get(f"/t/{question.id}").get_data(as_text=True)
    assert 'data-reaction="heart" aria-pressed="true"' in page
    assert member.post(f"/p/{answer}/reactions/heart", {"on": "0"}).status_code == 302
    assert 'data-reaction="heart" aria-pressed="false"' in member.get(f"/t/{question.id}").get_data(as_text=True)
