"""Staff actions on ideas: one merge rule for the flags and the actions, every action in the audit
log, and a merged idea that no longer shows the votes it gave away."""
from datetime import timedelta

import pytest
from sqlalchemy import select

from community import permissions
from community.accounts.models import User
from community.database import db, utcnow
from community.errors import DomainError
from community.ideas import merging
from community.ideas import services as ideas
from community.ideas.models import Idea
from community.moderation.models import AuditEntry
from community.threads.models import Category

from .factories import make_category_moderator, make_user

ROLES = ["member", "outsider", "catmod", "moderator", "admin", "suspended", "silenced"]
SIGNS_IN = {"member", "outsider", "catmod", "moderator", "admin", "silenced"}  # a suspended member cannot


@pytest.fixture
def board(app, people, make):
    """Two ideas on the board, and the named people of every role (the category moderator
    moderates the board; the restricted ones are customers like the member)."""
    def build():
        member = db.session.get(User, people.member.id)
        original = ideas.do_create_idea(member, "Scheduled exports", "Every Monday")
        catmod = make_user(organization=member.organization, email="cat@acme.test")
        make_category_moderator(catmod, db.session.get(Category, original.thread.category_id))
        suspended = make_user(organization=member.organization, email="suspended@acme.test",
                              suspended_until=utcnow() + timedelta(days=3))
        silenced = make_user(organization=member.organization, email="silenced@acme.test",
                             silenced_until=utcnow() + timedelta(days=3))
        return {"original": original.id, "users": {
            "member": people.member.id, "outsider": people.outsider.id, "catmod": catmod.id,
            "moderator": people.moderator.id, "admin": people.admin.id, "suspended": suspended.id,
            "silenced": silenced.id}}

    return make(build)


def _new_duplicate(app, people, title):
    with app.app_context():
        return ideas.do_create_idea(db.session.get(User, people.outsider.id), title, "Same as the other").id


def _flag_and_outcome(app, user_id, rule, action):
    """The policy's answer for the user, and whether the service then really did it."""
    with app.app_context():
        user = db.session.get(User, user_id)
        flag = rule(user, db.session.get(Idea, action.idea_id))
        try:
            action(user)
        except DomainError:
            return flag, False
        finally:
            db.session.remove()
        return flag, True


class Merge:
    def __init__(self, idea_id, into_id):
        self.idea_id, self.into_id = idea_id, into_id

    def __call__(self, user):
        merging.do_merge(user, self.idea_id, self.into_id)


class Unmerge:
    def __init__(self, idea_id):
        self.idea_id = idea_id

    def __call__(self, user):
        merging.do_unmerge(user, self.idea_id)


@pytest.mark.parametrize("role", ROLES)
def test_can_merge_and_can_unmerge_are_true_exactly_when_the_action_succeeds(app, people, board, api_as, role):
    user_id = board["users"][role]
    duplicate = _new_duplicate(app, people, f"Exports on a schedule ({role})")
    flag, merged = _flag_and_outcome(app, user_id, permissions.can_merge_idea, Merge(duplicate, board["original"]))
    assert flag == merged
    assert merged == (role in {"catmod", "moderator", "admin"})
    if not merged:
        with app.app_context():
            merging.do_merge(db.session.get(User, people.admin.id), duplicate, board["original"])
    flag, unmerged = _flag_and_outcome(app, user_id, permissions.can_unmerge_idea, Unmerge(duplicate))
    assert flag == unmerged == (role in {"catmod", "moderator", "admin"})

    if role in SIGNS_IN:  # the API's flags say the same, and the API does what they say
        client = api_as(db_user(app, user_id))
        second = _new_duplicate(app, people, f"Schedules for exports ({role})")
        shown = client.get(f"/api/v1/ideas/{second}").json
        answer = client.post(f"/api/v1/ideas/{second}/merge", {"into_id": board["original"]})
        assert shown["can_merge"] == (answer.status_code == 200), answer.json
        if answer.status_code != 200:
            with app.app_context():
                merging.do_merge(db.session.get(User, people.admin.id), second, board["original"])
        shown = client.get(f"/api/v1/ideas/{second}").json
        answer = client.post(f"/api/v1/ideas/{second}/unmerge")
        assert shown["can_unmerge"] == (answer.status_code == 200), answer.json


def db_user(app, user_id):
    with app.app_context():
        user = db.session.get(User, user_id)
        db.session.expunge(user)
        return user


def test_every_staff_idea_action_is_in_the_audit_log(app, people, api_as):
    staff, member = api_as(people.moderator), api_as(people.member)
    original = member.post("/api/v1/ideas", {"title": "Dark mode", "body": "Please"}).json
    duplicate = member.post("/api/v1/ideas", {"title": "A dark theme", "body": "Please"}).json
    staff.post(f"/api/v1/ideas/{original['id']}/status", {"status": "planned", "note": "In the spring."})
    staff.post(f"/api/v1/ideas/{original['id']}/status", {"status": "planned", "note": "In April, in fact."})
    staff.post(f"/api/v1/ideas/{duplicate['id']}/merge", {"into_id": original["id"]})
    staff.post(f"/api/v1/ideas/{duplicate['id']}/unmerge")
    staff.put(f"/api/v1/ideas/{original['id']}/votes/{people.outsider.id}", {"reason": "From a call"})
    staff.delete(f"/api/v1/ideas/{original['id']}/votes/{people.outsider.id}")
    with app.app_context():
        entries = db.session.scalars(select(AuditEntry).where(AuditEntry.target_type == "idea")
                                     .order_by(AuditEntry.id)).all()
        assert [(e.action, e.target_id) for e in entries] == [
            ("idea.status", original["id"]), ("idea.answer", original["id"]), ("idea.merge", duplicate["id"]),
            ("idea.unmerge", duplicate["id"]), ("idea.vote_added", original["id"]),
            ("idea.vote_removed", original["id"])]
        assert all(e.actor_id == people.moderator.id and e.category_id == original_category(original)
                   for e in entries)
        assert entries[0].before["status"] == "open" and entries[0].after == {"status": "planned",
                                                                               "answer": "In the spring."}
        assert entries[2].after["merged_into_id"] == original["id"]
    listed = staff.get(f"/api/v1/moderation/audit?target_type=idea&target_id={original['id']}").json["items"]
    assert {item["action"] for item in listed} == {"idea.status", "idea.answer", "idea.vote_added",
                                                   "idea.vote_removed"}


def original_category(idea):
    return db.session.scalar(select(Category.id).where(Category.purpose == "ideas"))


def test_a_merged_idea_shows_no_votes_of_its_own(app, people, api_as, login_as):
    member, outsider, staff = api_as(people.member), api_as(people.outsider), api_as(people.admin)
    original = member.post("/api/v1/ideas", {"title": "Dark mode", "body": "Please"}).json
    duplicate = outsider.post("/api/v1/ideas", {"title": "A dark theme", "body": "Please"}).json
    member.put(f"/api/v1/ideas/{duplicate['id']}/vote")  # voted for both: keeps one vote, on the original
    staff.post(f"/api/v1/ideas/{duplicate['id']}/merge", {"into_id": original["id"]})
    merged = member.get(f"/api/v1/ideas/{duplicate['id']}").json
    assert (merged["vote_count"], merged["voter_org_count"], merged["has_voted"]) == (0, 0, False)
    target = member.get(f"/api/v1/ideas/{original['id']}").json
    assert (target["vote_count"], target["voter_org_count"]) == (2, 2)
    page = login_as(people.member).get(f"/ideas/{duplicate['id']}").get_data(as_text=True)
    assert "data-vote-count" not in page and f'href="/ideas/{original["id"]}"' in page
    listed = member.get("/api/v1/ideas?status=merged").json["items"]
    assert [(i["id"], i["vote_count"]) for i in listed] == [(duplicate["id"], 0)]
    # Unmerged, it has its own votes back: the outsider's and the member's.
    staff.post(f"/api/v1/ideas/{duplicate['id']}/unmerge")
    assert member.get(f"/api/v1/ideas/{duplicate['id']}").json["vote_count"] == 2
