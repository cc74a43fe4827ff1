"""Customer accounts: organizations' fields and pages, demand, importance and votes on a member's behalf."""
import csv
import io

import pytest
from sqlalchemy import func, select

from community import events
from community.accounts.models import Organization, Role, User
from community.database import db
from community.ideas import services as ideas
from community.ideas.models import IMPORTANCE_FACTORS, Idea, IdeaOrganization, IdeaVote, Importance
from community.moderation.models import AuditEntry
from community.notifications.models import Notification
from community.organizations import services as organizations

from .conftest import assert_error, count_queries, page_queries
from .factories import make_category, make_organization, make_post, make_thread, make_user
from .helpers import at_once


def create_idea(client, title="Scheduled CSV exports"):
    response = client.post("/api/v1/ideas", {"title": title, "body": "Every Monday, please."})
    assert response.status_code == 201, response.json
    return response.json


def set_weight(make, organization_id, weight):
    def change():
        organization = db.session.get(Organization, organization_id)
        organization.weight = weight
        events.commit()
    make(change)


def stored(app, idea_id):
    with app.app_context():
        idea = db.session.get(Idea, idea_id)
        return idea.vote_count, idea.voter_org_count, idea.demand_score


# Demand and importance


def test_demand_sums_weight_times_the_most_urgent_importance_per_organization(app, people, api_as, make):
    set_weight(make, people.acme.id, 100)
    set_weight(make, people.globex.id, 30)
    colleague = make(make_user, organization=make(lambda: db.session.get(Organization, people.acme.id)))
    member, outsider, staff = api_as(people.member), api_as(people.outsider), api_as(people.moderator)
    idea = create_idea(member)  # posting votes: Acme, nice to have
    assert stored(app, idea["id"]) == (1, 1, 100 * IMPORTANCE_FACTORS[Importance.NICE_TO_HAVE])

    assert outsider.put(f"/api/v1/ideas/{idea['id']}/vote", {"importance": "important"}).status_code == 200
    colleague_api = api_as(colleague)
    assert colleague_api.put(f"/api/v1/ideas/{idea['id']}/vote", {"importance": "critical"}).json["vote_count"] == 3
    # Acme counts once, as badly as its most urgent voter: 100 x 4 + 30 x 2.
    assert stored(app, idea["id"]) == (3, 2, 460)
    assert colleague_api.get(f"/api/v1/ideas/{idea['id']}").json["importance"] == "critical"

    demand = staff.get(f"/api/v1/ideas/{idea['id']}/demand").json
    assert [(row["organization"]["name"], row["voters"], row["importance"], row["weight"], row["demand"])
            for row in demand["items"]] == [("Acme", 2, "critical", 100, 400), ("Globex", 1, "important", 30, 60)]

    # Changing one's mind: the importance moves, the count does not.
    colleague_api.put(f"/api/v1/ideas/{idea['id']}/vote", {"importance": "nice_to_have"})
    assert stored(app, idea["id"]) == (3, 2, 160)
    colleague_api.delete(f"/api/v1/ideas/{idea['id']}/vote")
    assert stored(app, idea["id"]) == (2, 2, 160)
    assert_error(member.put(f"/api/v1/ideas/{idea['id']}/vote", {"importance": "urgent"}), 422)


def test_an_organizations_new_weight_reweighs_its_ideas_and_is_logged(app, people, api_as):
    member, admin, moderator = api_as(people.member), api_as(people.admin), api_as(people.moderator)
    first, second = create_idea(member, "First"), create_idea(member, "Second")
    response = admin.patch(f"/api/v1/organizations/{people.acme.id}",
                           {"weight": 250, "tier": "Enterprise", "crm_id": "0015g00000XyZ", "account_owner_id":
                            people.moderator.id})
    assert response.status_code == 200, response.json
    body = response.json
    assert (body["weight"], body["tier"], body["crm_id"], body["account_owner"]["id"]) == (
        250, "Enterprise", "0015g00000XyZ", people.moderator.id)
    assert stored(app, first["id"])[2] == stored(app, second["id"])[2] == 250
    with app.app_context():
        entry = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "organization.update"))
        assert (entry.target_type, entry.target_id, entry.actor_id) == ("organization", people.acme.id,
                                                                        people.admin.id)
        assert entry.before["weight"] == 1 and entry.after["weight"] == 250

    both = admin.patch(f"/api/v1/organizations/{people.acme.id}", {"domains": ["Acme.com", "acme.co.uk"], "weight": 9})
    assert both.status_code == 200 and both.json["domains"] == ["acme.co.uk", "acme.com"] and both.json["weight"] == 9
    taken = admin.patch(f"/api/v1/organizations/{people.globex.id}", {"domains": ["acme.com"], "weight": 7})
    assert_error(taken, 409, "domain_taken")
    assert admin.get(f"/api/v1/organizations/{people.globex.id}").json["weight"] == 1  # all or nothing
    assert_error(admin.patch(f"/api/v1/organizations/{people.acme.id}", {"domains": ["gmail.com"]}), 422)
    admin.patch(f"/api/v1/organizations/{people.acme.id}", {"weight": 250})
    assert_error(moderator.patch(f"/api/v1/organizations/{people.acme.id}", {"weight": 3}), 403)
    assert_error(member.patch(f"/api/v1/organizations/{people.acme.id}", {"weight": 3}), 404)
    for bad in ({"weight": -1}, {"weight": "lots"}, {"account_owner_id": people.member.id}, {"tier": "x" * 41}):
        assert_error(admin.patch(f"/api/v1/organizations/{people.acme.id}", bad), 422)
    assert stored(app, first["id"])[2] == 250


def test_the_board_sorts_by_organizations_for_all_and_by_demand_for_staff_only(people, api_as, make):
    set_weight(make, people.globex.id, 500)
    member, outsider, staff = api_as(people.member), api_as(people.outsider), api_as(people.admin)
    third = api_as(make(lambda: make_user(organization=make_organization("Initech"))))
    wide = create_idea(member, "Wanted widely")  # Acme and Initech, weighing 1 each
    third.put(f"/api/v1/ideas/{wide['id']}/vote")
    heavy = create_idea(outsider, "Wanted by the big account")  # Globex alone, weighing 500
    by_orgs = [item["id"] for item in member.get("/api/v1/ideas?sort=organizations").json["items"]]
    assert by_orgs == [wide["id"], heavy["id"]]
    by_demand = [item["id"] for item in staff.get("/api/v1/ideas?sort=demand").json["items"]]
    assert by_demand == [heavy["id"], wide["id"]]
    assert_error(member.get("/api/v1/ideas?sort=demand"), 403)
    page = staff.get("/api/v1/ideas?sort=demand&limit=1").json
    assert [item["id"] for item in page["items"]] == [heavy["id"]]
    assert [item["id"] for item in staff.get(f"/api/v1/ideas?sort=demand&limit=1&cursor={page['next_cursor']}")
            .json["items"]] == [wide["id"]]


# Votes on a member's behalf


def test_staff_vote_for_a_member_once_logged_told_and_shown(app, people, api_as, web, login_as):
    author, staff, member = api_as(people.outsider), api_as(people.moderator), api_as(people.member)
    idea = create_idea(author)
    url = f"/api/v1/ideas/{idea['id']}/votes/{people.member.id}"
    state = staff.put(url, {"importance": "critical", "reason": "From the QBR call"}).json
    assert state == {"vote_count": 2, "voter_org_count": 2, "has_voted": True}
    assert staff.put(url, {"importance": "critical"}).json["vote_count"] == 2  # idempotent
    assert member.put(f"/api/v1/ideas/{idea['id']}/vote").json["vote_count"] == 2  # their own counts once
    seen = member.get(f"/api/v1/ideas/{idea['id']}").json
    assert seen["has_voted"] and seen["vote_cast_by"]["id"] == people.moderator.id and seen["importance"] == "critical"
    with app.app_context():
        vote = db.session.scalar(select(IdeaVote).where(IdeaVote.user_id == people.member.id))
        assert vote.cast_by_id == people.moderator.id and vote.organization_id == people.acme.id
        entry = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "idea.vote_added"))
        assert (entry.target_type, entry.target_id, entry.reason) == ("idea", idea["id"], "From the QBR call")
        assert entry.after["member_id"] == people.member.id
        told = db.session.scalar(select(Notification).where(Notification.user_id == people.member.id,
                                                            Notification.kind == "idea_vote_by_staff"))
        assert told.text == 'Moe Moderator added your vote for "Scheduled CSV exports" (Critical): From the QBR call'
        assert told.idea_id == idea["id"]
    page = login_as(people.member).get(f"/ideas/{idea['id']}").get_data(as_text=True)
    assert "Added by staff" in page and "Moe Moderator added your vote" in page

    assert staff.delete(url).json == {"vote_count": 1, "voter_org_count": 1, "has_voted": False}
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(AuditEntry)
                                 .where(AuditEntry.action == "idea.vote_removed")) == 1
    # The author had voted themselves: staff only mark how important it is to them.
    author_vote = f"/api/v1/ideas/{idea['id']}/votes/{people.outsider.id}"
    assert staff.put(author_vote, {"importance": "important"}).json["vote_count"] == 1
    with app.app_context():
        assert db.session.scalar(select(AuditEntry.action).order_by(AuditEntry.id.desc())) == "idea.vote_importance"
        told = db.session.scalar(select(Notification.text).where(Notification.user_id == people.outsider.id,
                                                                 Notification.kind == "idea_vote_by_staff"))
        assert told == 'Moe Moderator marked your vote for "Scheduled CSV exports" as important.'
    assert_error(member.put(f"/api/v1/ideas/{idea['id']}/votes/{people.outsider.id}"), 403)
    assert_error(staff.put(f"/api/v1/ideas/{idea['id']}/votes/{people.admin.id}"), 409, "not_a_customer")
    assert_error(staff.put(f"/api/v1/ideas/{idea['id']}/votes/999999"), 404)
    assert_error(staff.put(f"/api/v1/ideas/{idea['id']}/votes/{people.member.id}", {"importance": "x"}), 422)


def test_staff_vote_for_a_customer_on_the_idea_page(app, people, api_as, login_as):
    idea = create_idea(api_as(people.outsider))
    staff = login_as(people.admin)
    page = staff.get(f"/ideas/{idea['id']}").get_data(as_text=True)
    assert "Vote for a customer" in page and "Demand" in page
    response = staff.post(f"/ideas/{idea['id']}/votes", {"member": "@" + people.member.handle, "vote": "1",
                                                           "importance": "important", "reason": "Support ticket 42"})
    assert response.status_code == 302
    assert stored(app, idea["id"])[:2] == (2, 2)
    again = staff.post(f"/ideas/{idea['id']}/votes", {"member": "nobody@nowhere.test", "vote": "1"})
    assert again.status_code == 422 and "Nobody has that email" in again.get_data(as_text=True)
    member_page = login_as(people.member).get(f"/ideas/{idea['id']}").get_data(as_text=True)
    assert "Vote for a customer" not in member_page and "Demand" not in member_page


# Counters under bursts (PostgreSQL: SQLite serialises writers)


def recounted(idea_id):
    """What the counters must say, computed from the vote rows alone."""
    votes = db.session.execute(select(IdeaVote.organization_id, IdeaVote.importance)
                               .where(IdeaVote.idea_id == idea_id)).all()
    urgency = {}
    for organization_id, importance in votes:
        if organization_id is not None:
            urgency[organization_id] = max(urgency.get(organization_id, 0), IMPORTANCE_FACTORS[importance])
    weights = dict(db.session.execute(select(Organization.id, Organization.weight)).all())
    return len(votes), len(urgency), sum(weights[org] * factor for org, factor in urgency.items())


def test_counters_equal_recounts_after_bursts_of_votes_proxy_votes_and_reweights(app, make, is_postgres):
    if not is_postgres:
        pytest.skip("SQLite serialises writers; bursts are exercised on PostgreSQL")

    def build():
        orgs = [make_organization() for _ in range(4)]
        members = [make_user(organization=orgs[i % 4]) for i in range(16)]
        staff = make_user(Role.ADMIN)  # votes for members and reweighs their organizations
        idea = ideas.do_create_idea(members[0], "Burst", "Votes at once")
        return idea.id, [m.id for m in members], staff.id, [o.id for o in orgs]

    idea_id, members, staff_id, orgs = make(build)
    levels = list(Importance)

    def own(user_id, voted, level):
        return lambda: ideas.do_vote(db.session.get(User, user_id), idea_id, voted, level)

    def proxy(user_id, voted, level):
        return lambda: ideas.do_vote_for(db.session.get(User, staff_id), idea_id, user_id, voted, level)

    def reweigh(organization_id, weight):
        return lambda: organizations.do_update_organization(
            db.session.get(User, staff_id), organization_id, {"weight": weight})

    for round_number in range(3):
        actions = []
        for i, user_id in enumerate(members):
            level = levels[(i + round_number) % 3]
            actions.append(own(user_id, True, level))
            actions.append(proxy(user_id, (i + round_number) % 2 == 0, levels[i % 3]))
        actions += [reweigh(org, 10 * (round_number + 1) + i) for i, org in enumerate(orgs)]
        at_once(app, lambda action: action(), actions)
        with app.app_context():
            idea = db.session.get(Idea, idea_id)
            assert (idea.vote_count, idea.voter_org_count, idea.demand_score) == recounted(idea_id)
            tallies = {row.organization_id: row.voters for row in db.session.scalars(
                select(IdeaOrganization).where(IdeaOrganization.idea_id == idea_id, IdeaOrganization.voters > 0))}
            assert tallies == dict(db.session.execute(
                select(IdeaVote.organization_id, func.count()).where(IdeaVote.idea_id == idea_id)
                .group_by(IdeaVote.organization_id)).all())


# The weight never reaches members


CANARY = 987654.321


def test_the_weight_canary_never_reaches_a_member(app, people, api_as, login_as, make):
    set_weight(make, people.acme.id, CANARY)
    member_api, staff_api = api_as(people.member), api_as(people.admin)
    idea = create_idea(member_api)
    thread = make(make_thread, people.member, make(make_category))
    make(make_post, thread, people.member)
    canary = ("987654", "9.87654", "987,654")

    def leaks(text):
        return [c for c in canary if c in text]

    for path in ("/api/v1/ideas", f"/api/v1/ideas/{idea['id']}", "/api/v1/ideas?sort=organizations",
                 "/api/v1/me", f"/api/v1/users/{people.member.id}", f"/api/v1/ideas/{idea['id']}/comments",
                 f"/api/v1/threads/{thread.id}", "/api/v1/notifications", "/api/v1/search?q=exports",
                 f"/api/v1/organizations/{people.acme.id}", "/api/v1/organizations",
                 f"/api/v1/ideas/{idea['id']}/demand", "/api/v1/ideas?sort=demand", "/api/v1/openapi.json"):
        response = member_api.get(path)
        assert not leaks(response.get_data(as_text=True)), path
    member_web = login_as(people.member)
    for path in ("/ideas", f"/ideas/{idea['id']}", "/ideas?sort=organizations", "/roadmap", "/",
                 f"/profile/{people.member.id}", f"/organizations/{people.acme.id}", "/organizations",
                 "/organizations.csv", f"/organizations/{people.acme.id}/activity.svg"):
        response = member_web.get(path)
        assert not leaks(response.get_data(as_text=True)), path
    # The canary is real: staff do see it, where the member's same paths showed nothing.
    assert leaks(staff_api.get(f"/api/v1/organizations/{people.acme.id}").get_data(as_text=True))
    assert leaks(login_as(people.admin).get(f"/ideas/{idea['id']}").get_data(as_text=True))


def test_the_weight_canary_never_reaches_a_members_socket(apps):
    """Real sockets on a live server: a member's pushes (room events and their own notifications)
    after staff reweigh their organization and vote on their behalf carry no weight."""
    admin, alice = apps("admin@roundtable.test"), apps("alice@acme.test").connect()
    organization = next(item for item in admin.api("GET", "/organizations?sort=name&limit=100").json()["items"]
                        if item["name"] == "Acme Insurance")
    assert admin.api("PATCH", f"/organizations/{organization['id']}", json={"weight": CANARY}).status_code == 200
    idea = admin.api("GET", "/ideas?status=open&sort=new&limit=1").json()["items"][0]
    assert alice.subscribe("ideas")["ok"] and alice.subscribe(f"idea:{idea['id']}")["ok"]
    me = alice.api("GET", "/me").json()
    alice.api("DELETE", f"/ideas/{idea['id']}/vote")
    response = admin.api("PUT", f"/ideas/{idea['id']}/votes/{me['id']}", json={"importance": "critical"})
    assert response.status_code == 200, response.text
    received = []
    while True:
        try:
            received.append(alice.next_event(timeout=2.0, skip=()))
        except Exception:  # noqa: BLE001 (queue.Empty: nothing more came)
            break
    kinds = {name for name, _ in received}
    assert {"idea.vote_changed", "notification.created"} <= kinds, received
    assert "987654" not in repr(received)


# Account pages


def _populate(make, people, members: int):
    def build():
        acme = db.session.get(Organization, people.acme.id)
        board_author = db.session.get(User, people.member.id)
        category = make_category()
        for i in range(members):
            user = make_user(organization=acme)
            make_post(make_thread(user, category), user)
            ideas.do_create_idea(user, f"Idea {i} {user.id}", "Wanted")
        for _ in range(members):
            make_organization()
        ideas.do_create_idea(board_author, "One more", "Wanted")
    make(build)


def test_account_pages_ask_a_bounded_number_of_queries(app, people, make):
    _populate(make, people, 1)
    small = {path: len(page_queries(app, people.admin.id, path))
             for path in ("/organizations", f"/organizations/{people.acme.id}", "/organizations.csv")}
    _populate(make, people, 6)
    for path, queries in small.items():
        assert len(page_queries(app, people.admin.id, path)) == queries, path
    with app.app_context(), count_queries() as statements:
        organizations.list_accounts(db.session.get(User, people.admin.id), limit=50)
    assert len(statements) == 3  # the member, one statement for the page, one for their domains


def test_account_pages_show_engagement_and_export_csv(app, people, api_as, login_as, make):
    member = api_as(people.member)
    idea = create_idea(member, "Dark mode")
    api_as(people.moderator).put(f"/api/v1/ideas/{idea['id']}/votes/{people.outsider.id}",
                                 {"importance": "critical", "reason": "From a call"})
    listing = api_as(people.moderator).get("/api/v1/organizations?sort=name").json["items"]
    acme = next(item for item in listing if item["name"] == "Acme")
    assert (acme["member_count"], acme["active_members_30d"], acme["posts_30d"], acme["ideas_voted"]) == (1, 1, 1, 1)
    assert acme["last_active_at"] is not None
    globex = next(item for item in listing if item["name"] == "Globex")
    assert (globex["active_members_30d"], globex["ideas_voted"]) == (0, 1)  # a vote staff added is not activity
    assert [item["name"] for item in listing] == sorted((item["name"] for item in listing), key=str.casefold)
    assert_error(member.get("/api/v1/organizations"), 403)
    assert_error(member.get(f"/api/v1/organizations/{people.acme.id}"), 404)

    detail = api_as(people.moderator).get(f"/api/v1/organizations/{people.globex.id}").json
    wanted = [(i["title"], i["importance"], i["added_by_staff"]) for i in detail["ideas"]]
    assert wanted == [("Dark mode", "critical", 1)]
    assert [m["id"] for m in detail["members"]] == [people.outsider.id]

    staff = login_as(people.moderator)
    page = staff.get(f"/organizations/{people.globex.id}").get_data(as_text=True)
    assert "Dark mode" in page and "added by Moe Moderator" in page and "Critical" in page
    chart = staff.get(f"/organizations/{people.globex.id}/activity.svg?size=phone")
    assert chart.mimetype == "image/svg+xml" and b"<svg" in chart.data
    assert "script-src" not in chart.headers["Content-Security-Policy"]
    rows = list(csv.reader(io.StringIO(staff.get("/organizations.csv").get_data(as_text=True))))
    assert rows[0][:5] == ["id", "name", "domains", "tier", "weight"]
    assert {"Acme", "Globex"} <= {row[1] for row in rows[1:]}
    ideas_csv = list(csv.reader(io.StringIO(staff.get(f"/organizations/{people.globex.id}/ideas.csv")
                                            .get_data(as_text=True))))
    assert ideas_csv[1][1:5] == ["Dark mode", "open", "1", "critical"]
    members_csv = staff.get(f"/organizations/{people.globex.id}/members.csv").get_data(as_text=True)
    assert people.outsider.email in members_csv
    assert login_as(people.member).get("/organizations").status_code == 403
    assert login_as(people.member).get(f"/organizations/{people.acme.id}").status_code == 404


def test_an_admin_edits_an_account_on_its_page(app, people, login_as):
    admin = login_as(people.admin)
    response = admin.post(f"/organizations/{people.acme.id}", {"tier": "Gold", "weight": "120.5", "crm_id": "A-1",
                                                               "account_owner_id": str(people.moderator.id)})
    assert response.status_code == 302
    with app.app_context():
        acme = db.session.get(Organization, people.acme.id)
        assert (acme.tier, acme.weight, acme.crm_id, acme.account_owner_id) == ("Gold", 120.5, "A-1",
                                                                               people.moderator.id)
    bad = admin.post(f"/organizations/{people.acme.id}", {"weight": "-3"})
    assert bad.status_code == 422 and 'value="-3"' in bad.get_data(as_text=True)
    assert login_as(people.moderator).post(f"/organizations/{people.acme.id}", {"weight": "1"}).status_code == 403


def test_csv_cells_never_start_a_formula(app, people, login_as, make):
    make(make_organization, "=HYPERLINK(\"http://evil.test\")")
    text = login_as(people.admin).get("/organizations.csv?sort=name").get_data(as_text=True)
    assert "'=HYPERLINK" in text and "\n=HYPERLINK" not in text and ",=HYPERLINK" not in text
