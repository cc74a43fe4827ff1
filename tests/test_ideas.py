"""The ideas board: posting, exact votes, official answers, merges, finding ideas, on the web."""
from datetime import timedelta

import pytest
from markupsafe import escape
from sqlalchemy import func, select

from community import events
from community.accounts.models import User
from community.database import db, utcnow
from community.errors import Conflict, Forbidden, NotFound, ValidationFailed
from community.ideas import merging, services
from community.ideas.models import Idea, IdeaOrganization, IdeaVote
from community.notifications.models import Notification
from community.threads import services as threads
from community.threads.models import Category, Post, Thread
from community.web import counted

from .conftest import page_queries
from .factories import make_category, make_organization, make_post, make_user
from .helpers import announced, at_once


def act(app, user, service, *args, **kwargs):
    """Run a service as `user` (loaded in the service's own session), as a request would."""
    with app.app_context():
        try:
            result = service(db.session.get(User, user.id), *args, **kwargs)
            if isinstance(result, Idea):
                result = {"id": result.id, "status": result.status, "vote_count": result.vote_count,
                          "voter_org_count": result.voter_org_count, "has_voted": result.has_voted,
                          "merged_into_id": result.merged_into_id, "thread_id": result.thread_id,
                          "organizations": getattr(result, "organization_names", None)}
            return result
        finally:
            db.session.remove()


def post_idea(app, user, title="Scheduled CSV exports", body="Run the monthly export by itself.", tags=None):
    return act(app, user, services.do_create_idea, title, body, tags)


def load(app, idea_id) -> dict:
    with app.app_context():
        idea = db.session.get(Idea, idea_id)
        organizations = db.session.scalars(
            select(IdeaOrganization.organization_id).where(IdeaOrganization.idea_id == idea_id,
                                                           IdeaOrganization.voters > 0)
        ).all()
        state = {"status": idea.status, "vote_count": idea.vote_count, "voter_org_count": idea.voter_org_count,
                 "trending_score": idea.trending_score, "merged_into_id": idea.merged_into_id,
                 "status_changed_at": idea.status_changed_at, "thread_closed": idea.thread.closed,
                 "organizations": sorted(organizations),
                 "voters": sorted(db.session.scalars(select(IdeaVote.user_id).where(IdeaVote.idea_id == idea_id)))}
        db.session.remove()
        return state


@pytest.fixture
def customers(make):
    """Four more members: two of Initech, one of Umbrella, one of no organization."""
    def build():
        initech, umbrella = make_organization("Initech"), make_organization("Umbrella")
        return [make_user(organization=initech), make_user(organization=initech),
                make_user(organization=umbrella), make_user()]
    return make(build)


# Posting


def test_posting_an_idea_opens_its_thread_on_the_board_and_votes_for_it(app, people):
    with announced(events.idea_created, events.thread_created, events.idea_vote_changed) as heard:
        idea = post_idea(app, people.member, tags="Reporting, csv, reporting")
    assert (idea["vote_count"], idea["voter_org_count"], idea["has_voted"]) == (1, 1, True)
    assert [name for name, _ in heard] == ["thread.created", "idea.created"]
    second = post_idea(app, people.outsider, title="Dark mode")
    with app.app_context():
        boards = db.session.scalars(select(Category).where(Category.purpose == services.BOARD_PURPOSE)).all()
        assert [board.name for board in boards] == ["Ideas"]
        first = db.session.get(Idea, idea["id"])
        assert first.thread.category_id == boards[0].id == db.session.get(Idea, second["id"]).thread.category_id
        assert (first.title, first.body_html) == ("Scheduled CSV exports", "<p>Run the monthly export by itself.</p>\n")
        assert first.tags == ["csv", "reporting"]
        assert db.session.get(Post, first.post_id).is_first and first.post.thread_id == first.thread_id


def test_a_category_named_ideas_does_not_block_the_board(app, people, make):
    make(make_category, "Ideas")
    idea = post_idea(app, people.member)
    with app.app_context():
        assert db.session.get(Idea, idea["id"]).thread.category.name == "Ideas board"


def test_bad_ideas_are_refused_whole_and_write_nothing(app, people):
    with pytest.raises(ValidationFailed) as failure:
        post_idea(app, people.member, title="x", body=" ", tags=["ok", 3])
    assert set(failure.value.fields) == {"title", "body", "tags"}
    with pytest.raises(ValidationFailed) as failure:
        post_idea(app, people.member, tags=[f"tag{i}" for i in range(services.MAX_TAGS + 1)])
    assert set(failure.value.fields) == {"tags"}
    with app.app_context():
        assert db.session.scalar(select(func.count(Idea.id))) == 0
        assert db.session.scalar(select(func.count(Thread.id))) == 0


def test_threads_start_on_the_board_only_with_an_idea(app, people, make):
    idea = post_idea(app, people.member)
    board = load_board(app)
    assert not act(app, people.admin, lambda actor: services.permissions.can_create_thread(actor, board))
    with pytest.raises(Forbidden):
        act(app, people.member, threads.do_create_thread, board.id, "Sneaky thread", "no idea")
    plain = make(lambda: threads.do_create_thread(db.session.merge(people.member), make_category().id, "Plain",
                                                  "text"))
    with pytest.raises(Conflict):
        act(app, people.admin, threads.do_update_thread, plain.id, {"category_id": board.id})
    # The idea's own thread stays movable, e.g. out of sight into a staff-only category.
    staff = make(make_category, "Staff", True)
    act(app, people.admin, threads.do_update_thread, idea["thread_id"], {"category_id": staff.id})
    with pytest.raises(NotFound):
        act(app, people.member, services.access_idea, idea["id"])


def load_board(app) -> Category:
    with app.app_context():
        board = services.find_board()
        db.session.expunge(board)
        db.session.remove()
        return board


# Votes


def test_votes_toggle_and_repeating_one_changes_and_announces_nothing(app, people):
    idea = post_idea(app, people.member)
    with announced(events.idea_vote_changed) as heard:
        first = act(app, people.outsider, services.do_vote, idea["id"], True)
        again = act(app, people.outsider, services.do_vote, idea["id"], True)
    assert first == again == services.VoteState(2, 2, True)
    assert len(heard) == 1 and heard[0][1]["vote_count"] == 2 and heard[0][1]["voter_org_count"] == 2
    with announced(events.idea_vote_changed) as heard:
        assert act(app, people.outsider, services.do_vote, idea["id"], False) == services.VoteState(1, 1, False)
        assert act(app, people.outsider, services.do_vote, idea["id"], False) == services.VoteState(1, 1, False)
    assert len(heard) == 1
    assert load(app, idea["id"])["voters"] == [people.member.id]


def test_organizations_are_counted_once_and_staff_are_not_customers(app, people, customers):
    idea = post_idea(app, customers[0])
    for voter in (customers[1], customers[3], people.moderator):
        act(app, voter, services.do_vote, idea["id"], True)
    state = load(app, idea["id"])
    assert (state["vote_count"], state["voter_org_count"]) == (4, 1)
    assert act(app, customers[2], services.do_vote, idea["id"], True) == services.VoteState(5, 2, True)
    act(app, customers[0], services.do_vote, idea["id"], False)
    assert load(app, idea["id"])["voter_org_count"] == 2  # Initech still has a voter
    act(app, customers[1], services.do_vote, idea["id"], False)
    assert load(app, idea["id"])["voter_org_count"] == 1
    assert act(app, people.admin, services.access_idea, idea["id"])["organizations"] == ["Umbrella"]
    assert act(app, people.member, services.access_idea, idea["id"])["organizations"] is None


@pytest.mark.parametrize("status", ["shipped", "declined"])
def test_closed_ideas_take_no_votes_nor_withdrawals(app, people, status):
    idea = post_idea(app, people.member)
    act(app, people.admin, services.do_change_status, idea["id"], status, "Done deal.")
    for voter, voted in ((people.outsider, True), (people.member, False)):
        with pytest.raises(Conflict) as refused:
            act(app, voter, services.do_vote, idea["id"], voted)
        assert refused.value.code == "idea_closed" and status in refused.value.message
    assert load(app, idea["id"])["vote_count"] == 1


def test_simultaneous_votes_are_exact(app, make, people, is_postgres):
    if not is_postgres:
        pytest.skip("SQLite serialises writers; the race needs PostgreSQL")
    organizations = make(lambda: [make_organization() for _ in range(4)])
    voters = make(lambda: [make_user(organization=organizations[i % 4]) for i in range(12)])
    idea = post_idea(app, people.moderator)  # staff: counts a vote, no organization

    at_once(app, lambda voter_id: services.do_vote(db.session.get(User, voter_id), idea["id"], True),
            [voter.id for voter in voters])
    state = load(app, idea["id"])
    assert (state["vote_count"], state["voter_org_count"]) == (13, 4)
    assert len(state["voters"]) == 13

    at_once(app, lambda voter_id: services.do_vote(db.session.get(User, voter_id), idea["id"], True),
            [people.member.id] * 10)
    state = load(app, idea["id"])
    assert (state["vote_count"], state["voter_org_count"]) == (14, 5)
    assert state["voters"].count(people.member.id) == 1

    at_once(app, lambda voter_id: services.do_vote(db.session.get(User, voter_id), idea["id"], False),
            [voter.id for voter in voters])
    state = load(app, idea["id"])
    assert (state["vote_count"], state["voter_org_count"], state["organizations"]) == (2, 1, [people.acme.id])


def test_trending_weighs_recent_votes_more_without_rescoring(app, make, people, monkeypatch):
    voters = make(lambda: [make_user() for _ in range(4)])
    now = utcnow()
    monkeypatch.setattr(services, "utcnow", lambda: now - timedelta(days=60))
    old = post_idea(app, people.member, title="Old favourite")
    for voter in voters:
        act(app, voter, services.do_vote, old["id"], True)
    monkeypatch.setattr(services, "utcnow", lambda: now)
    fresh = post_idea(app, people.outsider, title="Fresh idea")
    act(app, voters[0], services.do_vote, fresh["id"], True)

    def order(sort):
        return [i.id for i in act(app, people.member, services.list_ideas, sort=sort).items]

    assert order("top") == [old["id"], fresh["id"]]
    assert order("trending") == [fresh["id"], old["id"]]
    # Withdrawing an old vote takes away exactly the weight it added.
    before = load(app, old["id"])["trending_score"]
    act(app, voters[0], services.do_vote, old["id"], False)
    assert load(app, old["id"])["trending_score"] == pytest.approx(before * 4 / 5)


# Status and official answers


def test_staff_set_status_with_an_official_answer_and_followers_hear_of_it(app, people, make, customers):
    idea = post_idea(app, people.member)
    act(app, customers[0], services.do_vote, idea["id"], True)
    make(lambda: make_post(db.session.get(Thread, idea["thread_id"]), db.session.merge(customers[1]), "+1"))
    with pytest.raises(Forbidden):
        act(app, people.member, services.do_change_status, idea["id"], "planned", "Soon")
    with pytest.raises(ValidationFailed) as failure:
        act(app, people.admin, services.do_change_status, idea["id"], "merged", " ")
    assert set(failure.value.fields) == {"status", "note"}

    with announced(events.idea_status_changed) as heard:
        act(app, people.admin, services.do_change_status, idea["id"], "planned", "Coming in **Q3**.")
        act(app, people.admin, services.do_change_status, idea["id"], "planned", "Coming in **Q3**.")
    assert [(payload["status"], payload["note"]) for _, payload in heard] == [("planned", "Coming in **Q3**.")]
    with app.app_context():
        answer = db.session.get(Idea, idea["id"]).official_answer
        assert (answer.status, answer.by.id, answer.note_html) == ("planned", people.admin.id,
                                                                  "<p>Coming in <strong>Q3</strong>.</p>\n")
        told = db.session.scalars(select(Notification).where(Notification.kind == "idea_status")).all()
        assert {n.user_id for n in told} == {people.member.id, customers[0].id, customers[1].id}
        assert {n.idea_id for n in told} == {idea["id"]}
        # The notification quotes the answer as text, not as Markdown.
        assert {n.text for n in told} == {
            f'{people.admin.display_name} set "Scheduled CSV exports" to Planned: Coming in Q3.'}


# Merges


@pytest.fixture
def duplicates(app, people, customers):
    """`original` (member, customers 0 and 1 vote) and `duplicate` (outsider, customers 1 and 2)."""
    original = post_idea(app, people.member, title="Scheduled exports")
    duplicate = post_idea(app, people.outsider, title="Export on a schedule")
    for voter in customers[:2]:
        act(app, voter, services.do_vote, original["id"], True)
    for voter in customers[1:3]:
        act(app, voter, services.do_vote, duplicate["id"], True)
    return original, duplicate


def test_a_merge_moves_votes_once_per_member_tells_voters_and_unmerge_restores_all(
        app, people, customers, duplicates, make):
    original, duplicate = duplicates
    comment = make(lambda: make_post(db.session.get(Thread, duplicate["thread_id"]), db.session.merge(people.member),
                                     "We need this too"))
    before = {idea["id"]: load(app, idea["id"]) for idea in duplicates}

    merged = act(app, people.moderator, merging.do_merge, duplicate["id"], str(original["id"]))
    assert (merged["status"], merged["merged_into_id"]) == ("merged", original["id"])
    target = load(app, original["id"])
    # member, customers 0 and 1 were there; outsider and customer 2 come over; customer 1 counts once.
    assert target["voters"] == sorted([people.member.id, customers[0].id, customers[1].id, people.outsider.id,
                                       customers[2].id])
    assert (target["vote_count"], target["voter_org_count"]) == (5, 4)  # Acme, Initech, Globex, Umbrella
    assert load(app, duplicate["id"])["thread_closed"] is True
    with app.app_context():
        told = db.session.scalars(select(Notification).where(Notification.kind == "idea_merged")).all()
        assert {n.user_id for n in told} == {people.outsider.id, customers[1].id, customers[2].id}
        assert {n.idea_id for n in told} == {original["id"]}
    comments = act(app, people.member, services.list_comments, original["id"]).items
    assert comment.id in [post.id for post in comments]
    with pytest.raises(Conflict):
        act(app, customers[3], services.do_vote, duplicate["id"], True)
    assert original["id"] not in [i.id for i in act(app, people.member, services.list_ideas, status="merged").items]

    restored = act(app, people.moderator, merging.do_unmerge, duplicate["id"])
    assert restored["status"] == "open" and restored["merged_into_id"] is None
    for idea_id, state in before.items():
        after = load(app, idea_id)
        assert after.pop("trending_score") == pytest.approx(state.pop("trending_score"))
        assert after == state


def test_merge_rules(app, people, duplicates, make):
    original, duplicate = duplicates
    third = post_idea(app, people.member, title="A third idea")
    with pytest.raises(Forbidden):
        act(app, people.member, merging.do_merge, duplicate["id"], original["id"])
    for into in (duplicate["id"], "soon", None, 0):
        with pytest.raises(ValidationFailed) as failure:
            act(app, people.admin, merging.do_merge, duplicate["id"], into)
        assert "into_id" in failure.value.fields
    with pytest.raises(NotFound):
        act(app, people.admin, merging.do_merge, duplicate["id"], 999999)
    with pytest.raises(Conflict) as refused:
        act(app, people.admin, merging.do_unmerge, duplicate["id"])
    assert refused.value.code == "idea_not_merged"

    act(app, people.admin, merging.do_merge, duplicate["id"], original["id"])
    for attempt in (lambda: act(app, people.admin, merging.do_merge, third["id"], duplicate["id"]),
                    lambda: act(app, people.admin, merging.do_merge, duplicate["id"], third["id"]),
                    lambda: act(app, people.admin, services.do_change_status, duplicate["id"], "open", "back")):
        with pytest.raises(Conflict) as refused:
            attempt()
        assert refused.value.code == "idea_merged"

    # A chain: the target merged in turn must be unmerged first, then everything unwinds.
    before = load(app, third["id"])
    act(app, people.admin, merging.do_merge, original["id"], third["id"])
    assert load(app, third["id"])["vote_count"] == 5  # the member voted for both: counted once
    with pytest.raises(Conflict):
        act(app, people.admin, merging.do_unmerge, duplicate["id"])
    comments_of_third = [p.thread_id for p in act(app, people.admin, services.list_comments, third["id"]).items]
    assert {original["thread_id"], duplicate["thread_id"]} <= set(comments_of_third)
    act(app, people.admin, merging.do_unmerge, original["id"])
    act(app, people.admin, merging.do_unmerge, duplicate["id"])
    assert load(app, third["id"])["voters"] == before["voters"]
    assert load(app, original["id"])["vote_count"] == 3 and load(app, duplicate["id"])["vote_count"] == 3


# Finding ideas


def test_lists_filter_by_status_and_tag_and_page_with_cursors(app, people):
    ids = [post_idea(app, people.member, title=f"Idea number {i}", tags=["api"] if i % 2 else ["ui"])["id"]
           for i in range(5)]
    act(app, people.admin, services.do_change_status, ids[1], "planned", "Yes")
    act(app, people.outsider, services.do_vote, ids[3], True)

    def listed(**filters):
        return [i.id for i in act(app, people.member, services.list_ideas, **filters).items]

    assert listed(tag="API") == [ids[3], ids[1]]
    assert listed(status="planned") == [ids[1]]
    assert listed(sort="new") == list(reversed(ids))
    page = act(app, people.member, services.list_ideas, sort="trending", limit=2)
    assert page.items[0].id == ids[3] and page.next_cursor
    rest = act(app, people.member, services.list_ideas, sort="trending", limit=10, cursor=page.next_cursor)
    assert len(page.items) + len(rest.items) == 5
    assert not {i.id for i in page.items} & {i.id for i in rest.items}
    with pytest.raises(ValidationFailed) as failure:
        act(app, people.member, services.list_ideas, sort="hot", status="done", limit=0)
    assert set(failure.value.fields) == {"sort", "status", "limit"}


def test_roadmap_and_changelog(app, people, monkeypatch):
    ids = [post_idea(app, people.member, title=f"Idea number {i}")["id"] for i in range(4)]
    now = utcnow()
    for offset, (idea_id, status) in enumerate(zip(ids, ["planned", "in_progress", "shipped", "shipped"],
                                                   strict=True)):
        monkeypatch.setattr(services, "utcnow", lambda offset=offset: now + timedelta(minutes=offset))
        act(app, people.admin, services.do_change_status, idea_id, status, "Update")
    columns = act(app, people.member, lambda actor: {k: [i.id for i in v] for k, v in services.roadmap(actor).items()})
    assert columns == {"planned": [ids[0]], "in_progress": [ids[1]], "shipped": [ids[3], ids[2]]}
    assert [i.id for i in act(app, people.member, services.list_changelog).items] == [ids[3], ids[2]]


def test_ideas_of_a_hidden_board_stay_hidden(app, people):
    idea = post_idea(app, people.member)
    with app.app_context():
        services.find_board().staff_only = True
        db.session.commit()
    for attempt in (lambda: act(app, people.member, services.access_idea, idea["id"]),
                    lambda: act(app, people.member, services.do_vote, idea["id"], True),
                    lambda: act(app, people.member, services.list_comments, idea["id"])):
        with pytest.raises(NotFound):
            attempt()
    assert act(app, people.member, services.list_ideas).items == []
    with pytest.raises(Forbidden):
        post_idea(app, people.member, title="Another one")
    assert act(app, people.admin, services.access_idea, idea["id"])["id"] == idea["id"]


# Web


def test_the_vote_button_works_with_and_without_javascript(app, people, login_as):
    idea = post_idea(app, people.member)
    outsider = login_as(people.outsider)
    page = outsider.get(f"/ideas/{idea['id']}").get_data(as_text=True)
    assert 'data-vote-form' in page and 'name="vote" value="1"' in page and "ideas.js" in page
    assert "<script>" not in page  # the CSP forbids inline script: behaviour lives in static/ideas.js

    plain = outsider.post(f"/ideas/{idea['id']}/vote", {"vote": "1", "next": "/ideas"})
    assert plain.status_code == 302 and plain.headers["Location"] == "/ideas"
    assert 'name="vote" value="0"' in outsider.get(f"/ideas/{idea['id']}").get_data(as_text=True)

    fetched = outsider.post(f"/ideas/{idea['id']}/vote", {"vote": "0"}, headers={"Accept": "application/json"})
    assert fetched.json == {"vote_count": 1, "voter_org_count": 1, "has_voted": False}
    forged = outsider.client.post(f"/ideas/{idea['id']}/vote", data={"vote": "1"})
    assert forged.status_code == 400
    assert load(app, idea["id"])["vote_count"] == 1


def test_a_silenced_members_vote_button_says_what_the_vote_answers(app, people, login_as):
    idea = post_idea(app, people.member)
    with app.app_context():
        outsider = db.session.get(User, people.outsider.id)
        outsider.silenced_until, outsider.silence_reason = utcnow() + timedelta(days=3), "Heated replies"
        db.session.commit()
    with pytest.raises(Forbidden) as refused:
        act(app, people.outsider, services.do_vote, idea["id"], True)
    assert refused.value.code == "account_silenced" and "Heated replies" in refused.value.message
    page = login_as(people.outsider).get(f"/ideas/{idea['id']}").get_data(as_text=True)
    assert f'title="{escape(refused.value.message)}" disabled' in page


def test_web_board_pages(app, people, login_as):
    member = login_as(people.member)
    assert 'href="/ideas"' in member.get("/").get_data(as_text=True)
    refused = member.post("/ideas/new", {"title": "x", "body": ""})
    assert refused.status_code == 422 and "Use at least" in refused.get_data(as_text=True)
    created = member.post("/ideas/new", {"title": "Audit log export", "body": "Please", "tags": "audit, export"})
    assert created.status_code == 302
    idea_id = int(created.headers["Location"].rsplit("/", 1)[1])
    listing = member.get("/ideas?tag=audit").get_data(as_text=True)
    assert "Audit log export" in listing and "Wanted by" not in listing
    assert "Staff controls" not in member.get(f"/ideas/{idea_id}").get_data(as_text=True)
    assert member.post(f"/ideas/{idea_id}/status", {"status": "planned", "note": "x"}).status_code == 403
    assert member.get("/ideas?sort=random").status_code == 422

    staff = login_as(people.admin)
    assert "Wanted by Acme" in staff.get("/ideas").get_data(as_text=True)
    assert staff.post(f"/ideas/{idea_id}/status", {"status": "shipped", "note": ""}).status_code == 422
    assert staff.post(f"/ideas/{idea_id}/status", {"status": "shipped", "note": "Out **now**"}).status_code == 302
    page = member.get(f"/ideas/{idea_id}").get_data(as_text=True)
    assert "Official answer" in page and "<strong>now</strong>" in page and "disabled" in page
    # The author voted by posting; the disabled button tells why it is disabled, not what it would do.
    assert 'title="This idea is shipped: it takes no more votes." disabled' in page
    assert "Withdraw your vote" not in page
    assert "Audit log export" in member.get("/roadmap").get_data(as_text=True)
    assert "Out <strong>now</strong>" in member.get("/changelog").get_data(as_text=True)

    commented = member.post(f"/ideas/{idea_id}/comment", {"body": "Thanks!"})
    assert commented.status_code == 302 and commented.headers["Location"].startswith(f"/ideas/{idea_id}#post-")
    thread_page = member.get(f"/t/{load_thread(app, idea_id)}").get_data(as_text=True)
    assert f"/ideas/of-thread/{load_thread(app, idea_id)}" in thread_page
    assert member.get(f"/ideas/of-thread/{load_thread(app, idea_id)}").headers["Location"] == f"/ideas/{idea_id}"
    with app.app_context():
        note = db.session.scalar(select(Notification).where(Notification.user_id == people.member.id))
    assert member.get(f"/notifications/{note.id}").headers["Location"] == f"/ideas/{idea_id}"


def test_web_merge_and_unmerge(app, people, login_as):
    original, duplicate = post_idea(app, people.member), post_idea(app, people.outsider, title="Same thing")
    staff = login_as(people.moderator)
    assert staff.post(f"/ideas/{duplicate['id']}/merge", {"into_id": "abc"}).status_code == 422
    assert staff.post(f"/ideas/{duplicate['id']}/merge", {"into_id": f"#{original['id']}"}).status_code == 302
    page = staff.get(f"/ideas/{duplicate['id']}").get_data(as_text=True)
    assert "Merged into" in page and "Undo the merge" in page
    assert login_as(people.outsider).post(f"/ideas/{duplicate['id']}/unmerge").status_code == 403
    assert staff.post(f"/ideas/{duplicate['id']}/unmerge").status_code == 302
    assert load(app, duplicate["id"])["status"] == "open"


def load_thread(app, idea_id) -> int:
    with app.app_context():
        return db.session.get(Idea, idea_id).thread_id


# Bounded queries


@pytest.mark.parametrize("url", ["/ideas", "/ideas?sort=trending&tag=t", "/roadmap", "/changelog"])
def test_board_pages_do_not_grow_with_their_ideas(app, people, make, url):
    def add_ideas(n):
        for _ in range(n):
            author = make_user(organization=make_organization())
            idea = services.do_create_idea(author, f"Idea by {author.display_name}", "Body", ["t"])
            services.do_vote(db.session.merge(people.member), idea.id, True)
            services.do_change_status(db.session.merge(people.admin), idea.id, "planned", "Yes")
            services.do_change_status(db.session.merge(people.admin), idea.id, "shipped", "Done")

    make(add_ideas, 1)
    one = {user.id: len(page_queries(app, user.id, url)) for user in (people.member, people.admin)}
    make(add_ideas, 12)
    many = {user.id: len(page_queries(app, user.id, url)) for user in (people.member, people.admin)}
    assert many == one
    assert max(many.values()) <= 14


def test_counts_on_the_board_read_in_the_right_number(app, people, login_as):
    assert (counted(1, "interest"), counted(2, "interest"), counted(0, "vote")) == (
        "1 interest", "2 interests", "0 votes")
    idea = post_idea(app, people.member)
    member = login_as(people.member)
    assert "· 0 comments" in member.get("/ideas").get_data(as_text=True)
    member.post(f"/ideas/{idea['id']}/comment", {"body": "Me too"})
    listing = member.get("/ideas").get_data(as_text=True)
    assert "· 1 comment\n" in listing and "1 comments" not in listing
