"""Hostile text at every web form and renderer: never a 500, never executable markup in the page."""
from datetime import UTC, datetime

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from community.accounts.models import User
from community.database import db
from community.errors import ValidationFailed
from community.ideas import services as ideas
from community.markdown import render_markdown
from community.validation import check_datetime, check_text
from community.web import safe_next_url

from .conftest import assert_error
from .factories import make_category, make_thread
from .helpers import cursor_of, deep_json
from .html_safety import executable_markup

PIECES = ["<script>alert(1)</script>", '<img src=x onerror="alert(1)">', "[x](javascript:alert(1))",
          "![x](data:text/html;base64,PHNjcmlwdD4=)", "\u202e", "\u200b", "\ufeff", "𝕏", "é", "\r\n", "\t",
          "&#x3C;script&#x3E;", "`", "**", "> ", "- ", "1. ", "|a|b|\n|-|-|\n", "@admin", "%00", "{{ 7*7 }}",
          "{% raw %}", "' OR 1=1 --", "\"><svg onload=alert(1)>", "javascript:", "data:", "x" * 50]
hostile_text = st.lists(st.sampled_from(PIECES) | st.text(max_size=20), max_size=30).map("".join)


@pytest.mark.parametrize("depth", [200, 2000, 20000])
def test_deeply_nested_markdown_renders_without_crashing(depth):
    for source in ("> " * depth + "x", "[" * depth + "x" + "]" * depth, "*" * depth, "- " * depth + "x",
                   "<div>" * depth):
        assert executable_markup(render_markdown(source)) == []


@pytest.fixture
def forum(make, people):
    """A category and a thread, made once for all the examples of a test."""
    category = make(lambda: make_category("General"))
    return category.id, make(make_thread, people.member, category).id


@settings(max_examples=40, deadline=None, suppress_health_check=list(HealthCheck))
@given(title=hostile_text, body=hostile_text, bio=hostile_text, query=hostile_text)
def test_forms_answer_hostile_text_without_a_500_or_live_markup(people, forum, login_as, title, body, bio, query):
    category_id, thread_id = forum
    member = login_as(people.member)
    pages = []
    created = member.post(f"/c/{category_id}/new", {"title": title, "body": body})
    pages.append(member.get(created.headers["Location"]) if created.status_code == 302 else created)
    replied = member.post(f"/t/{thread_id}/reply", {"body": body})
    pages.append(member.get(f"/t/{thread_id}") if replied.status_code == 302 else replied)
    profile = member.post("/settings/profile", {"display_name": title or "Mia", "job_title": title[:120],
                                                "bio": bio, "interests": bio})
    pages.append(member.get(f"/u/{people.member.id}") if profile.status_code == 302 else profile)
    pages.append(member.get("/search", query_string={"q": query}))
    for page in pages:
        assert page.status_code < 500, page.status_code
        main = page.get_data(as_text=True).split("<main", 1)[-1].split("</main>", 1)[0]
        # The page's own forms are expected there; anything else that could run is not.
        assert [found for found in executable_markup(main) if found != "<form>"] == []


# What the scanners and hand probes of issue 17 sent, each a clean 4xx in the API's envelope.

@pytest.mark.parametrize("depth", [40, 400, 100_000])
def test_json_nested_too_deep_is_malformed_before_any_sign_in_check(api, people, depth):
    anonymous = api.client.post("/api/v1/auth/login", data=deep_json(depth), content_type="application/json")
    assert_error(anonymous, 400, "malformed_request")
    # A route that needs a token: the body is not even read before the missing token is.
    assert_error(api.client.post("/api/v1/threads", data=deep_json(depth), content_type="application/json"), 401)


def test_json_within_the_depth_limit_is_read(api, people):
    """The limit is a depth, not a refusal of nesting: a body 30 levels deep is parsed (and then
    refused by its schema for what it is, 422)."""
    body = '{"email": ' + deep_json(30) + ', "password": "x"}'
    assert_error(api.client.post("/api/v1/auth/login", data=body, content_type="application/json"), 422)


@pytest.mark.parametrize("body", ['["https://push.example/1"]', "42", '"text"', "null", "{not json"])
def test_a_body_that_is_not_a_json_object_is_refused_not_a_500(api, login_as, people, body):
    """Every door that reads a JSON body reads it as an object (`json_input.request_object`);
    anything else is no fields at all."""
    web = login_as(people.member)
    for door in ("/settings/push-subscriptions", "/settings/push-subscriptions/remove"):
        answer = web.client.post(door, data=body, content_type="application/json",
                                 headers={"X-CSRFToken": web.csrf_token()})
        assert answer.status_code in (204, 400, 422), (door, answer.status_code)
    subscribed = web.client.post("/settings/push-subscriptions", data=body, content_type="application/json",
                                 headers={"X-CSRFToken": web.csrf_token()})
    assert subscribed.status_code in (400, 422)
    assert api.client.post("/api/v1/auth/login", data=body, content_type="application/json").status_code in (400, 422)


def test_unfit_characters_are_refused_in_a_json_body_of_any_shape(api):
    """The character guard reads the body whatever its shape, not only as an object."""
    answer = api.client.post("/api/v1/auth/login", data='["\\ud800"]', content_type="application/json")
    assert_error(answer, 422, "validation_failed")
    assert "unpaired surrogates" in answer.json["error"]["message"]


def test_a_cursor_that_decodes_to_deeply_nested_json_is_invalid(api_as, people, forum):
    category_id, _ = forum
    cursor = cursor_of(deep_json(5000))
    member = api_as(people.member)
    error = assert_error(member.get("/api/v1/threads", query_string={"category_id": category_id, "cursor": cursor}),
                         422, "validation_failed")
    assert error["fields"] == {"cursor": "Not a valid cursor."}


@pytest.mark.parametrize("since", ["0001-01-01T00:00:00+05:00", "9999-12-31T23:59:59-05:00", "1899-12-31T23:59:59Z"])
def test_moments_beyond_the_calendars_ends_are_refused(api_as, people, forum, since):
    _, thread_id = forum
    member = api_as(people.member)
    error = assert_error(member.get(f"/api/v1/threads/{thread_id}/posts", query_string={"since": since}), 422)
    assert set(error["fields"]) == {"since"}


def test_the_web_forms_take_moments_with_the_same_bounds(login_as, people):
    staff = login_as(people.moderator)
    for until in ("9999-12-31T23:59:59-05:00", "0001-01-01T00:00:00+05:00"):
        response = staff.post(f"/moderation/people/{people.member.id}/suspend", {"until": until, "reason": "spam"})
        assert response.status_code == 422, response.status_code
        assert "between 1900 and 9000" in response.get_data(as_text=True)


@pytest.mark.parametrize("moment", ["0001-01-01T00:00:00+05:00", "9999-12-31T23:59:59-05:00", "8999-12-31", "soon"])
def test_one_datetime_parsing_refuses_what_cannot_be_a_moment(moment):
    with pytest.raises(ValidationFailed) as refused:
        check_datetime("at", moment)
    assert set(refused.value.fields) == {"at"}
    assert check_datetime("at", "2030-01-31T12:00:00+05:00") == datetime(2030, 1, 31, 7, tzinfo=UTC)


@pytest.mark.parametrize("field", ["title", "body"])
def test_lone_surrogates_in_text_are_refused_everywhere(api_as, login_as, people, forum, field):
    category_id, thread_id = forum
    member = api_as(people.member)
    thread = {"category_id": category_id, "title": "A fine title", "body": "A fine body", field: "x\ud800y"}
    assert_error(member.post("/api/v1/threads", json=thread), 422, "validation_failed")
    assert_error(member.post(f"/api/v1/threads/{thread_id}/posts", json={"body": "\udfff"}), 422)
    # The web's JSON door (push subscriptions) goes through the same guard.
    web = login_as(people.member)
    refused = web.client.post("/settings/push-subscriptions", json={"endpoint": "\ud800"},
                              headers={"X-CSRFToken": web.csrf_token()})
    assert refused.status_code == 422
    # And the one text check, for what does not come through a request (the CLI, imports).
    with pytest.raises(ValidationFailed) as refused_text:
        check_text(field, "x\ud800y", max_length=100)
    assert set(refused_text.value.fields) == {field}


@pytest.mark.parametrize("target", ["/x\ny", "/x\r\nSet-Cookie: a=b", "/\t/evil.example", "//evil.example",
                                    "https://evil.example/"])
def test_no_next_parameter_leads_off_the_site_or_into_a_header(web, login_as, people, make, target):
    assert safe_next_url(target, "/fallback") == "/fallback"
    assert web.get("/login", query_string={"next": target}).status_code == 200
    signed_in = web.login(people.member.email)
    assert signed_in.status_code == 302 and signed_in.headers["Location"] == "/"
    signed_in = web.post("/login", {"next": target})
    assert signed_in.status_code == 302 and signed_in.headers["Location"] == "/"
    voter = login_as(people.member)
    idea = make(lambda: ideas.do_create_idea(db.session.get(User, people.member.id), "Weekly exports", "Please").id)
    voted = voter.post(f"/ideas/{idea}/vote", {"next": target})
    assert voted.status_code == 302 and voted.headers["Location"] == f"/ideas/{idea}"


def test_a_local_next_parameter_is_kept():
    assert safe_next_url("/t/1?cursor=abc#post-2", "/") == "/t/1?cursor=abc#post-2"
