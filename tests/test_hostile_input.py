"""Hostile text at every web form and renderer: never a 500, never executable markup in the page."""
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from community.markdown import render_markdown

from .factories import make_category, make_thread
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
