"""Categories, threads and posts: visibility, writing, editing, ordering, bad input."""
import pytest
from sqlalchemy import func, select

from community import events
from community.database import db
from community.errors import Conflict, NotFound, ValidationFailed
from community.threads import services
from community.threads.models import Post, Thread

from .factories import make_category, make_post, make_thread
from .helpers import announced
from .html_safety import executable_markup


@pytest.fixture
def places(make):
    """A public category and a staff-only one."""
    return make(lambda: {"public": make_category("Product help"), "staff": make_category("Staff lounge", True)})


def _count(app, model, *where) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(model).where(*where))


# Visibility


def test_members_never_see_staff_only_categories(app_context, people, places):
    assert [c.name for c in services.list_categories(people.member)] == ["Product help"]
    assert {c.name for c in services.list_categories(people.moderator)} == {"Product help", "Staff lounge"}
    with pytest.raises(NotFound):
        services.access_category(people.member, places["staff"].id)


def test_staff_only_threads_are_missing_for_members_everywhere(app, people, places, make, login_as):
    secret = make(make_thread, people.moderator, places["staff"], title="Renewal risk at Globex")
    make(make_thread, people.member, places["public"], title="Open question")
    member = login_as(people.member)
    for url in ("/", f"/c/{places['staff'].id}", f"/t/{secret.id}", f"/u/{people.moderator.id}"):
        response = member.get(url)
        assert "Renewal risk" not in response.get_data(as_text=True)
        assert "Staff lounge" not in response.get_data(as_text=True)
    assert member.get(f"/t/{secret.id}").status_code == 404
    assert member.get(f"/c/{places['staff'].id}").status_code == 404
    moderator = login_as(people.moderator)
    assert "Renewal risk" in moderator.get("/").get_data(as_text=True)
    assert moderator.get(f"/t/{secret.id}").status_code == 200


def test_a_staff_only_post_is_missing_even_by_id(app_context, people, places):
    thread = make_thread(people.moderator, places["staff"])
    post = make_post(thread, people.moderator)
    for access in (lambda: services.access_post(people.member, post.id),
                   lambda: services.list_posts(people.member, thread.id),
                   lambda: services.do_reply(people.member, thread.id, "hi"),
                   lambda: services.do_edit_post(people.member, post.id, "hi")):
        with pytest.raises(NotFound):
            access()


def test_missing_and_forbidden_look_the_same(app, people, places, make, login_as):
    secret = make(make_thread, people.moderator, places["staff"])
    member = login_as(people.member)
    hidden, missing = member.get(f"/t/{secret.id}"), member.get("/t/999999")
    assert hidden.status_code == missing.status_code == 404
    assert hidden.get_data() == missing.get_data()


# Writing


def test_start_a_thread_and_reply_on_the_web(app, people, places, login_as):
    member = login_as(people.member)
    category = places["public"].id
    assert member.get(f"/c/{category}/new").status_code == 200
    response = member.post(f"/c/{category}/new", {"title": "  Export  to CSV? ", "body": "How do I **export**?"})
    assert response.status_code == 302
    thread_path = response.headers["Location"]
    page = member.get(thread_path).get_data(as_text=True)
    assert "Export to CSV?" in page and "<strong>export</strong>" in page

    other = login_as(people.outsider)
    response = other.post(thread_path + "/reply", {"body": "Reports → Export"})
    assert response.status_code == 302
    page = other.get(thread_path).get_data(as_text=True)
    assert "Reports → Export" in page
    listing = other.get(f"/c/{category}").get_data(as_text=True)
    assert "Export to CSV?" in listing
    with app.app_context():
        thread = db.session.scalar(select(Thread))
        assert thread.reply_count == 1
        assert thread.last_activity_at > thread.created_at


def test_a_reply_bumps_the_thread_to_the_top(app_context, people, places):
    older = make_thread(people.member, places["public"], title="Older")
    make_thread(people.member, places["public"], title="Newer")
    services.do_reply(people.outsider, older.id, "bump")
    titles = [t.title for t in services.list_threads(people.member, category_id=places["public"].id).items]
    assert titles == ["Older", "Newer"]


def test_sorts_new_and_top(app_context, people, places):
    busy = make_thread(people.member, places["public"], title="Busy", replies=3)
    make_thread(people.member, places["public"], title="Quiet")
    by_new = services.list_threads(people.member, category_id=places["public"].id, sort="new").items
    by_top = services.list_threads(people.member, category_id=places["public"].id, sort="top").items
    assert [t.title for t in by_new] == ["Quiet", "Busy"]
    assert [t.id for t in by_top][0] == busy.id
    with pytest.raises(ValidationFailed):
        services.list_threads(people.member, sort="random")


def test_thread_list_pages_with_a_cursor(app, people, places, make, login_as):
    for i in range(25):
        make(make_thread, people.member, places["public"], title=f"Topic number {i:02d}")
    member = login_as(people.member)
    first = member.get(f"/c/{places['public'].id}").get_data(as_text=True)
    assert first.count('class="thread-row"') == 20
    next_link = first.split('rel="next"')[0].rsplit('href="', 1)[1].split('"')[0].replace("&amp;", "&")
    second = member.get(next_link).get_data(as_text=True)
    assert second.count('class="thread-row"') == 5
    seen = {f"Topic number {i:02d}" for i in range(25)}
    assert all(title in first + second for title in seen)
    assert 'rel="next"' not in second


def test_a_bad_cursor_is_a_clear_422(app, people, places, login_as):
    response = login_as(people.member).get(f"/c/{places['public'].id}?cursor=garbage!")
    assert response.status_code == 422
    assert "Not a valid cursor" in response.get_data(as_text=True)


def test_post_pages_page_through_long_threads(app_context, people, places):
    thread = make_thread(people.member, places["public"], replies=30)
    first = services.list_posts(people.member, thread.id)
    second = services.list_posts(people.member, thread.id, cursor=first.next_cursor)
    ids = [p.id for p in first.items + second.items]
    assert len(ids) == 31 and ids == sorted(ids) and second.next_cursor is None


# Editing


def test_authors_edit_their_posts_and_the_editor_is_kept(app_context, people, places):
    thread = make_thread(people.member, places["public"], body="Frist")
    post = db.session.scalar(select(Post).where(Post.thread_id == thread.id))
    services.do_edit_post(people.member, post.id, "First, *fixed*")
    assert post.body_html == "<p>First, <em>fixed</em></p>\n"
    assert post.edited_at is not None and post.editor_id == people.member.id


def test_others_cannot_edit_but_staff_can(app, people, places, make, login_as):
    thread = make(make_thread, people.member, places["public"])
    with app.app_context():
        post_id = db.session.scalar(select(Post.id).where(Post.thread_id == thread.id))
    outsider = login_as(people.outsider)
    assert outsider.get(f"/p/{post_id}/edit").status_code == 403
    assert outsider.post(f"/p/{post_id}/edit", {"body": "defaced"}).status_code == 403
    moderator = login_as(people.moderator)
    assert moderator.post(f"/p/{post_id}/edit", {"body": "tidied by staff"}).status_code == 302
    with app.app_context():
        post = db.session.get(Post, post_id)
        assert post.body == "tidied by staff" and post.editor_id == people.moderator.id


def test_edit_form_shows_the_markdown_source(app, people, places, make, login_as):
    thread = make(make_thread, people.member, places["public"], body="Use **bold**")
    with app.app_context():
        post_id = db.session.scalar(select(Post.id).where(Post.thread_id == thread.id))
    page = login_as(people.member).get(f"/p/{post_id}/edit").get_data(as_text=True)
    assert "Use **bold**</textarea>" in page


def test_a_locked_thread_takes_replies_from_staff_only(app_context, people, places):
    thread = make_thread(people.member, places["public"], locked=True)
    with pytest.raises(Conflict) as failure:
        services.do_reply(people.member, thread.id, "let me in")
    assert failure.value.code == "thread_locked"
    assert services.do_reply(people.moderator, thread.id, "Locked: see the announcement").id


def test_members_cannot_start_threads_in_staff_categories(app_context, people, places):
    with pytest.raises(NotFound):
        services.do_create_thread(people.member, places["staff"].id, "Sneaky", "body")
    assert services.do_create_thread(people.moderator, places["staff"].id, "Team note", "body").id


# Bad input


@pytest.mark.parametrize(("title", "body", "field"), [
    ("", "body", "title"),
    ("ab", "body", "title"),
    ("x" * 201, "body", "title"),
    ("A fine title", "", "body"),
    ("A fine title", "   \n ", "body"),
    ("A fine title", "x" * 50_001, "body"),
    (None, None, "title"),
])
def test_bad_threads_are_refused_and_nothing_is_written(app, people, places, login_as, title, body, field):
    form = {key: value for key, value in (("title", title), ("body", body)) if value is not None}
    response = login_as(people.member).post(f"/c/{places['public'].id}/new", form)
    assert response.status_code == 422
    assert f'aria-invalid="true" aria-describedby="{field}-error"' in response.get_data(as_text=True)
    assert _count(app, Thread) == 0 and _count(app, Post) == 0


def test_empty_reply_is_refused(app, people, places, make, login_as):
    thread = make(make_thread, people.member, places["public"])
    response = login_as(people.member).post(f"/t/{thread.id}/reply", {"body": " "})
    assert response.status_code == 422
    assert _count(app, Post) == 1


@pytest.mark.parametrize("url", ["/t/424242", "/c/424242", "/c/424242/new", "/p/424242/edit", "/u/424242"])
def test_unknown_ids_are_404(app, people, login_as, url):
    assert login_as(people.member).get(url).status_code == 404


def test_reply_to_an_unknown_thread_is_404(app, people, login_as):
    assert login_as(people.member).post("/t/424242/reply", {"body": "hello"}).status_code == 404


def test_a_body_over_the_request_limit_is_413(app, people, places, login_as):
    member = login_as(people.member)
    response = member.post(f"/c/{places['public'].id}/new", {"title": "Huge", "body": "x" * (2 * 1024 * 1024)})
    assert response.status_code == 413
    assert _count(app, Thread) == 0


def test_a_post_without_csrf_token_is_refused(app, people, places, login_as):
    member = login_as(people.member)
    response = member.client.post(f"/c/{places['public'].id}/new", data={"title": "No token", "body": "x"})
    assert response.status_code == 400
    assert _count(app, Thread) == 0


def test_dangerous_markdown_is_stored_harmless(app, people, places, login_as):
    member = login_as(people.member)
    body = ('<script>alert(1)</script> <img src=x onerror="alert(2)"> [click](javascript:alert(3)) '
            '<a href="javascript:alert(4)">x</a>')
    response = member.post(f"/c/{places['public'].id}/new", {"title": "Harmless", "body": body})
    page = member.get(response.headers["Location"]).get_data(as_text=True)
    post_html = page.split('class="post-body">')[1].split("</div>")[0]
    assert executable_markup(post_html) == []
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in post_html  # shown as text, not run


# Domain events fire only for what was committed


def test_events_are_announced_after_commit_only(app_context, people, places):
    with announced(events.post_created) as heard:
        thread = make_thread(people.member, places["public"])
        post = services.do_reply(people.member, thread.id, "committed reply")
        assert [(p["thread"].id, p["post"].id, p["post"].body) for _, p in heard] == \
            [(thread.id, post.id, "committed reply")]

        events.announce(events.post_created, thread=thread, post=post)
        events.rollback()
        events.commit()
        assert len(heard) == 1  # the rolled-back announcement is gone

        with pytest.raises(ValidationFailed):
            services.do_reply(people.member, thread.id, "")
        assert len(heard) == 1


def test_authors_delete_replies_on_the_web_but_not_the_first_post(app, people, places, make, login_as):
    thread = make(make_thread, people.member, places["public"], replies=1)
    with app.app_context():
        first, reply = db.session.scalars(select(Post.id).where(Post.thread_id == thread.id).order_by(Post.id)).all()
    member = login_as(people.member)
    page = member.get(f"/t/{thread.id}").get_data(as_text=True)
    assert f"/p/{reply}/delete" in page and f"/p/{first}/delete" not in page
    assert member.post(f"/p/{first}/delete").status_code == 409
    assert login_as(people.outsider).post(f"/p/{reply}/delete").status_code == 403
    assert member.post(f"/p/{reply}/delete").status_code == 302
    assert "reply 0" not in member.get(f"/t/{thread.id}").get_data(as_text=True)
    staff_page = login_as(people.moderator).get(f"/t/{thread.id}").get_data(as_text=True)
    assert "reply 0" in staff_page and "post-deleted" in staff_page
