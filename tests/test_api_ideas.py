"""The ideas board through the API: the same rules as the web, in the contract's shapes."""
import pytest

from community.database import db
from community.ideas import services

from .conftest import assert_error, count_queries
from .factories import make_organization, make_user

IDEA_FIELDS = {
    "id", "title", "body", "body_html", "tags", "status", "vote_count", "voter_org_count", "has_voted",
    "thread_id", "author", "created_at", "status_changed_at", "official_answer", "merged_into_id", "subscription",
    "importance", "vote_cast_by",
    "can_vote", "can_comment", "can_change_status", "can_merge", "can_unmerge",
}


def create(client, title="Scheduled CSV exports", **extra):
    response = client.post("/api/v1/ideas", {"title": title, "body": "Monthly, *please*", **extra})
    assert response.status_code == 201, response.json
    return response.json


def test_post_read_and_list_an_idea(people, api_as):
    member = api_as(people.member)
    idea = create(member, tags=["Reporting", "csv"])
    assert set(idea) == IDEA_FIELDS  # no organization names for members
    assert (idea["vote_count"], idea["voter_org_count"], idea["has_voted"]) == (1, 1, True)
    assert (idea["status"], idea["official_answer"], idea["merged_into_id"]) == ("open", None, None)
    assert idea["body_html"] == "<p>Monthly, <em>please</em></p>\n" and idea["tags"] == ["csv", "reporting"]
    assert idea["author"]["organization"] == "Acme" and idea["can_vote"] and not idea["can_change_status"]

    staff_view = api_as(people.admin).get(f"/api/v1/ideas/{idea['id']}").json
    assert staff_view["organizations"] == ["Acme"] and staff_view["has_voted"] is False
    assert staff_view["can_change_status"] and staff_view["can_merge"] and not staff_view["can_unmerge"]

    listed = member.get("/api/v1/ideas?sort=new&tag=csv").json
    assert [i["id"] for i in listed["items"]] == [idea["id"]] and listed["next_cursor"] is None
    thread = member.get(f"/api/v1/threads/{idea['thread_id']}").json
    assert thread["title"] == "Scheduled CSV exports"
    reply = member.post(f"/api/v1/threads/{idea['thread_id']}/posts", {"body": "A comment"}).json
    assert [p["id"] for p in member.get(f"/api/v1/ideas/{idea['id']}/comments").json["items"]] == [reply["id"]]


@pytest.mark.parametrize(("body", "fields"), [
    ({"title": "x", "body": ""}, {"title", "body"}),
    ({"title": "A fine title", "body": "ok", "tags": "not a list"}, {"tags"}),
    ({"body": "no title"}, {"title"}),
])
def test_bad_ideas_are_422_and_write_nothing(people, api_as, body, fields):
    member = api_as(people.member)
    error = assert_error(member.post("/api/v1/ideas", body), 422, "validation_failed")
    assert set(error["fields"]) == fields
    assert member.get("/api/v1/ideas").json["items"] == []


def test_votes_are_idempotent_and_closed_ideas_refuse_them(people, api_as):
    idea = create(api_as(people.member))
    outsider = api_as(people.outsider)
    url = f"/api/v1/ideas/{idea['id']}/vote"
    assert outsider.put(url).json == {"vote_count": 2, "voter_org_count": 2, "has_voted": True}
    assert outsider.put(url).json == {"vote_count": 2, "voter_org_count": 2, "has_voted": True}
    assert outsider.delete(url).json == {"vote_count": 1, "voter_org_count": 1, "has_voted": False}
    assert outsider.delete(url).json == {"vote_count": 1, "voter_org_count": 1, "has_voted": False}

    staff = api_as(people.moderator)
    assert_error(outsider.post(f"/api/v1/ideas/{idea['id']}/status", {"status": "declined", "note": "No"}), 403)
    assert_error(staff.post(f"/api/v1/ideas/{idea['id']}/status", {"status": "merged", "note": "x"}), 422)
    assert_error(staff.post(f"/api/v1/ideas/{idea['id']}/status", {"status": "declined"}), 422)
    declined = staff.post(f"/api/v1/ideas/{idea['id']}/status", {"status": "declined", "note": "Not *for us*."})
    assert declined.status_code == 200
    answer = declined.json["official_answer"]
    assert (answer["status"], answer["note"], answer["by"]["id"]) == ("declined", "Not *for us*.", people.moderator.id)
    assert answer["note_html"] == "<p>Not <em>for us</em>.</p>\n" and answer["at"]
    error = assert_error(outsider.put(url), 409, "idea_closed")
    assert "declined" in error["message"]
    assert_error(api_as(people.member).delete(url), 409, "idea_closed")
    assert outsider.get(f"/api/v1/ideas/{idea['id']}").json["can_vote"] is False


def test_merge_and_unmerge(people, api_as):
    member, outsider, staff = api_as(people.member), api_as(people.outsider), api_as(people.admin)
    original, duplicate = create(member), create(outsider, title="Export on a schedule")
    member.put(f"/api/v1/ideas/{duplicate['id']}/vote")
    assert_error(member.post(f"/api/v1/ideas/{duplicate['id']}/merge", {"into_id": original["id"]}), 403)
    assert_error(staff.post(f"/api/v1/ideas/{duplicate['id']}/merge", {"into_id": "1"}), 422)
    assert_error(staff.post(f"/api/v1/ideas/{duplicate['id']}/merge", {"into_id": duplicate["id"]}), 422)
    assert_error(staff.post(f"/api/v1/ideas/{duplicate['id']}/merge", {"into_id": 999999}), 404)

    merged = staff.post(f"/api/v1/ideas/{duplicate['id']}/merge", {"into_id": original["id"]}).json
    assert (merged["status"], merged["merged_into_id"], merged["can_unmerge"]) == ("merged", original["id"], True)
    target = member.get(f"/api/v1/ideas/{original['id']}").json
    assert (target["vote_count"], target["voter_org_count"]) == (2, 2)
    assert_error(member.put(f"/api/v1/ideas/{duplicate['id']}/vote"), 409, "idea_closed")
    assert duplicate["id"] not in [i["id"] for i in member.get("/api/v1/ideas").json["items"]]
    assert [i["id"] for i in member.get("/api/v1/ideas?status=merged").json["items"]] == [duplicate["id"]]
    assert_error(staff.post(f"/api/v1/ideas/{duplicate['id']}/status", {"status": "open", "note": "x"}), 409)
    kinds = {n["kind"]: n["idea_id"] for n in outsider.get("/api/v1/notifications").json["items"]}
    assert kinds["idea_merged"] == original["id"]

    assert_error(member.post(f"/api/v1/ideas/{duplicate['id']}/unmerge"), 403)
    restored = staff.post(f"/api/v1/ideas/{duplicate['id']}/unmerge").json
    assert (restored["status"], restored["merged_into_id"], restored["vote_count"]) == ("open", None, 2)
    assert member.get(f"/api/v1/ideas/{original['id']}").json["vote_count"] == 1
    assert_error(staff.post(f"/api/v1/ideas/{duplicate['id']}/unmerge"), 409, "idea_not_merged")


def test_hidden_ideas_are_404(app, people, api_as):
    idea = create(api_as(people.member))
    with app.app_context():
        services.find_board().staff_only = True
        db.session.commit()
    member = api_as(people.member)
    for response in (member.get(f"/api/v1/ideas/{idea['id']}"), member.put(f"/api/v1/ideas/{idea['id']}/vote"),
                     member.get(f"/api/v1/ideas/{idea['id']}/comments"),
                     member.post(f"/api/v1/ideas/{idea['id']}/merge", {"into_id": 1})):
        assert_error(response, 404, "not_found")
    assert member.get("/api/v1/ideas").json["items"] == []


@pytest.mark.parametrize(("query", "field"), [
    ("sort=hot", "sort"), ("status=done", "status"), ("limit=0", "limit"), ("cursor=zzz", "cursor"),
    ("sort=trending&cursor=WyJ4IiwxXQ", "cursor"),  # ["x", 1]: a trending cursor needs a number first
])
def test_bad_list_parameters_are_422(people, api_as, query, field):
    error = assert_error(api_as(people.member).get(f"/api/v1/ideas?{query}"), 422, "validation_failed")
    assert field in error["fields"]


def test_trending_pages_with_cursors(people, api_as):
    member = api_as(people.member)
    ids = [create(member, title=f"Idea number {i}")["id"] for i in range(5)]
    seen, cursor = [], None
    while True:
        page = member.get("/api/v1/ideas", query_string={"sort": "trending", "limit": 2,
                                                         **({"cursor": cursor} if cursor else {})}).json
        seen += [i["id"] for i in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert seen == list(reversed(ids))  # equal votes: the most recent vote weighs most


def test_the_openapi_document_lists_the_idea_routes(api):
    paths = api.get("/api/v1/openapi.json").json["paths"]
    for path in ("/api/v1/ideas", "/api/v1/ideas/{idea_id}", "/api/v1/ideas/{idea_id}/vote",
                 "/api/v1/ideas/{idea_id}/status", "/api/v1/ideas/{idea_id}/merge", "/api/v1/ideas/{idea_id}/unmerge"):
        assert path in paths
    assert {"put", "delete"} <= set(paths["/api/v1/ideas/{idea_id}/vote"])


def test_the_list_has_bounded_queries(app, people, make, api_as):
    member, staff = api_as(people.member), api_as(people.admin)

    def add_ideas(n):
        for _ in range(n):
            author = make_user(organization=make_organization())
            idea = services.do_create_idea(author, f"Idea by {author.display_name}", "Body", ["a", "b"])
            services.do_vote(db.session.merge(people.member), idea.id, True)
            services.do_change_status(db.session.merge(people.admin), idea.id, "planned", "Yes")

    def queries(client):
        with app.app_context(), count_queries() as statements:
            assert client.get("/api/v1/ideas?limit=100").status_code == 200
        return len(statements)

    make(add_ideas, 1)
    one = (queries(member), queries(staff))
    make(add_ideas, 15)
    assert (queries(member), queries(staff)) == one
    assert max(one) <= 8
