"""The composer's server side: the preview renders as posting does; @ autocomplete suggests
only members who could read the thread."""
import pytest

from .factories import make_category, make_thread


@pytest.fixture
def places(make):
    return make(lambda: {"public": make_category("General"), "staff": make_category("Staff lounge", True)})


def test_the_preview_is_the_posted_rendering_and_is_sanitized(people, login_as):
    member = login_as(people.member)
    answer = member.post("/preview", {"body": "**Hi** @mod <script>alert(1)</script>\n\n```python\nx = 1\n```"})
    html = answer.get_data(as_text=True)
    assert answer.status_code == 200 and "<strong>Hi</strong>" in html
    assert "<script>" not in html and "&lt;script&gt;" in html
    assert member.post("/preview", {"body": "   "}).status_code == 422


def test_mentions_suggest_only_members_who_can_read_the_thread(people, places, make, login_as):
    public = make(make_thread, people.member, places["public"])
    secret = make(make_thread, people.moderator, places["staff"])
    moderator = login_as(people.moderator)

    def handles(client, **where):
        query = "&".join(f"{k}={v}" for k, v in where.items())
        return [item["handle"] for item in client.get(f"/mentions?{query}").json["items"]]

    member_handle, outsider_handle = people.member.handle, people.outsider.handle
    assert member_handle in handles(moderator, q=member_handle[:2], thread_id=public.id)
    assert member_handle not in handles(moderator, q=member_handle[:2], thread_id=secret.id)
    assert people.admin.handle in handles(moderator, q=people.admin.handle[:3], thread_id=secret.id)
    assert outsider_handle in handles(moderator, q="@" + outsider_handle[:3])
    assert people.moderator.handle not in handles(moderator, q=people.moderator.handle[:3])  # not oneself
    member = login_as(people.member)
    assert member.get(f"/mentions?q=a&thread_id={secret.id}").status_code == 404
    assert handles(member, q="") == []
