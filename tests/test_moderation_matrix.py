"""The permission matrix: member / category moderator / moderator / admin × every staff action ×
own / other / elsewhere (a category the category moderator does not moderate) / staff-only
content, through the web and the API. Each case asserts the exact answer: allowed, 403
(visible but not yours to do) or 404 (not visible at all)."""
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from types import SimpleNamespace

import pytest

from community.accounts.models import Role, User
from community.database import db
from community.threads.models import Category

from .factories import make_category, make_category_moderator, make_flag, make_post, make_thread, make_user

ROLES = ["member", "catmod", "moderator", "admin"]
TARGETS = ["own", "other", "elsewhere", "staff_only"]
STAFF_FOR = {"member": set(), "catmod": {"own", "other"}, "moderator": set(TARGETS), "admin": set(TARGETS)}
VISIBLE = {"member": {"own", "other", "elsewhere"}, "catmod": {"own", "other", "elsewhere"},
           "moderator": set(TARGETS), "admin": set(TARGETS)}
SOON = (datetime.now(UTC) + timedelta(days=7)).date().isoformat()


@dataclass
class World:
    users: dict
    public: int
    public2: int
    elsewhere: int
    staff: int


@pytest.fixture
def world(make, people) -> World:
    def build():
        public, public2 = make_category("Product help"), make_category("Integrations")
        elsewhere, staff = make_category("General"), make_category("Staff lounge", staff_only=True)
        catmod = make_user(email="cat@acme.test", display_name="Cat Moderator", organization=people.acme)
        make_category_moderator(catmod, public)
        make_category_moderator(catmod, public2)
        staffer = make_user(Role.MODERATOR, email="staffer@vendor.test")
        flagger = make_user(email="flagger@acme.test")
        users = {"member": people.member, "catmod": catmod, "moderator": people.moderator, "admin": people.admin,
                 "outsider": people.outsider, "staffer": staffer, "flagger": flagger}
        return World({name: user.id for name, user in users.items()}, public.id, public2.id, elsewhere.id, staff.id)

    return make(build)


def _content(app, world: World, role: str, target: str, *, deleted=False, hidden=False, flagged=False) -> dict:
    """A thread with a reply for the target: its author and category follow the target."""
    with app.app_context():
        author_name, category_id = {"own": (role, world.public), "other": ("outsider", world.public),
                                    "elsewhere": ("outsider", world.elsewhere),
                                    "staff_only": ("staffer", world.staff)}[target]
        author = db.session.get(User, world.users[author_name])
        thread = make_thread(author, db.session.get(Category, category_id), title="A thread title")
        reply = make_post(thread, author, "Original reply")
        ids = {"thread": thread.id, "post": reply.id}
        if flagged:
            ids["flag"] = make_flag(reply, db.session.get(User, world.users["flagger"])).id
        now = datetime.now(UTC)
        if hidden:
            reply.hidden_at, reply.hidden_reason = now, "rude"
        if deleted:
            thread.deleted_at = now
        db.session.commit()
        return ids


@dataclass
class Action:
    name: str
    allowed: dict  # role -> targets where the action succeeds
    api: Callable
    web: Callable
    setup: dict
    refusal: str = "visibility"  # refused answers 404 where invisible, else 403; "hidden": always 404
    web_ok: int = 302


def _staff(role):
    return STAFF_FOR[role]


ACTIONS = [
    Action("lock", {r: _staff(r) for r in ROLES},
           lambda c, ids, w: c.patch(f"/api/v1/threads/{ids['thread']}", {"locked": True}),
           lambda c, ids, w: c.post(f"/t/{ids['thread']}/update", {"locked": "true"}), {}),
    Action("pin", {r: _staff(r) for r in ROLES},
           lambda c, ids, w: c.patch(f"/api/v1/threads/{ids['thread']}", {"pinned": True}),
           lambda c, ids, w: c.post(f"/t/{ids['thread']}/update", {"pinned": "true"}), {}),
    Action("close", {r: _staff(r) for r in ROLES},
           lambda c, ids, w: c.patch(f"/api/v1/threads/{ids['thread']}", {"closed": True}),
           lambda c, ids, w: c.post(f"/t/{ids['thread']}/update", {"closed": "true"}), {}),
    Action("move", {r: _staff(r) for r in ROLES},
           lambda c, ids, w: c.patch(f"/api/v1/threads/{ids['thread']}", {"category_id": w.public2}),
           lambda c, ids, w: c.post(f"/t/{ids['thread']}/update", {"category_id": str(w.public2)}), {}),
    Action("rename", {r: _staff(r) | {"own"} for r in ROLES},
           lambda c, ids, w: c.patch(f"/api/v1/threads/{ids['thread']}", {"title": "Renamed thread"}),
           lambda c, ids, w: c.post(f"/t/{ids['thread']}/update", {"title": "Renamed thread"}), {}),
    Action("delete_thread", {r: _staff(r) for r in ROLES},
           lambda c, ids, w: c.delete(f"/api/v1/threads/{ids['thread']}"),
           lambda c, ids, w: c.post(f"/t/{ids['thread']}/delete"), {}),
    Action("restore_thread", {r: _staff(r) for r in ROLES},
           lambda c, ids, w: c.post(f"/api/v1/threads/{ids['thread']}/restore"),
           lambda c, ids, w: c.post(f"/t/{ids['thread']}/restore"), {"deleted": True}, refusal="deleted"),
    Action("hide", {r: _staff(r) for r in ROLES},
           lambda c, ids, w: c.post(f"/api/v1/posts/{ids['post']}/hide", {"reason": "rude"}),
           lambda c, ids, w: c.post(f"/p/{ids['post']}/hide", {"reason": "rude"}), {}),
    Action("unhide", {r: _staff(r) for r in ROLES},
           lambda c, ids, w: c.post(f"/api/v1/posts/{ids['post']}/unhide"),
           lambda c, ids, w: c.post(f"/p/{ids['post']}/unhide"), {"hidden": True}),
    Action("edit_post", {r: _staff(r) | {"own"} for r in ROLES},
           lambda c, ids, w: c.patch(f"/api/v1/posts/{ids['post']}", {"body": "Edited body"}),
           lambda c, ids, w: c.post(f"/p/{ids['post']}/edit", {"body": "Edited body"}), {}),
    Action("delete_post", {r: _staff(r) | {"own"} for r in ROLES},
           lambda c, ids, w: c.delete(f"/api/v1/posts/{ids['post']}"),
           lambda c, ids, w: c.post(f"/p/{ids['post']}/delete"), {}),
    Action("history", {r: _staff(r) for r in ROLES},
           lambda c, ids, w: c.get(f"/api/v1/posts/{ids['post']}/revisions"),
           lambda c, ids, w: c.get(f"/p/{ids['post']}/history"), {}, web_ok=200),
    Action("flag", {r: VISIBLE[r] - {"own"} for r in ROLES},
           lambda c, ids, w: c.post(f"/api/v1/posts/{ids['post']}/flags", {"reason": "spam"}),
           lambda c, ids, w: c.post(f"/p/{ids['post']}/flag", {"reason": "spam"}), {}),
    Action("resolve_flag", {r: _staff(r) for r in ROLES},
           lambda c, ids, w: c.post(f"/api/v1/moderation/flags/{ids['flag']}/resolve", {"action": "dismiss"}),
           lambda c, ids, w: c.post(f"/moderation/flags/{ids['flag']}/resolve", {"action": "dismiss"}),
           {"flagged": True}, refusal="hidden"),
]


def _expected(action: Action, role: str, target: str) -> int:
    if target in action.allowed[role]:
        return 0
    if action.refusal == "hidden":
        return 404
    visible = VISIBLE[role] if action.refusal == "visibility" else STAFF_FOR[role]
    return 404 if target not in visible else 403


@pytest.fixture
def sign_in(people, login_as, api_as):
    """`sign_in(role, channel)`: a signed-in API or web client for one of ROLES."""
    emails = {"member": people.member.email, "catmod": "cat@acme.test", "moderator": people.moderator.email,
              "admin": people.admin.email}

    def sign(role, channel):
        return (api_as if channel == "api" else login_as)(SimpleNamespace(email=emails[role]))

    return sign


@pytest.mark.parametrize("channel", ["api", "web"])
@pytest.mark.parametrize("action", ACTIONS, ids=[a.name for a in ACTIONS])
@pytest.mark.parametrize("role", ROLES)
def test_content_actions(app, world, sign_in, role, action, channel):
    client = sign_in(role, channel)
    outcomes = {}
    for target in TARGETS:
        ids = _content(app, world, role, target, **action.setup)
        response = getattr(action, channel)(client, ids, world)
        outcomes[target] = response.status_code
    expected = {}
    for target in TARGETS:
        refused = _expected(action, role, target)
        ok = {"api": (200, 201, 204), "web": (action.web_ok,)}[channel]
        expected[target] = refused or ok[0]
        if not refused and outcomes[target] in ok:
            expected[target] = outcomes[target]
    assert outcomes == expected


PEOPLE_ACTIONS = {"suspend": {"until": SOON, "reason": "spamming"}, "silence": {"until": SOON, "reason": "heated"}}


@pytest.mark.parametrize("channel", ["api", "web"])
@pytest.mark.parametrize("action", list(PEOPLE_ACTIONS))
@pytest.mark.parametrize("role", ROLES)
def test_people_actions(world, sign_in, role, action, channel):
    """Moderators restrict members; admins also moderators; nobody themselves or an admin."""
    client = sign_in(role, channel)
    allowed = {"member": set(), "catmod": set(), "moderator": {"outsider"}, "admin": {"outsider", "staffer"}}[role]
    body = PEOPLE_ACTIONS[action]
    for target in ("self", "outsider", "staffer", "admin"):
        user_id = world.users[role] if target == "self" else world.users[target]
        if channel == "api":
            response = client.post(f"/api/v1/users/{user_id}/{action}", body)
            assert response.status_code == (200 if target in allowed else 403), (target, response.json)
        else:
            response = client.post(f"/moderation/people/{user_id}/{action}", body)
            assert response.status_code == (302 if target in allowed else 403), target
        if target in allowed:  # lift it again, through the same door
            lift = f"un{action}"
            url = f"/api/v1/users/{user_id}/{lift}" if channel == "api" else f"/moderation/people/{user_id}/{lift}"
            assert client.post(url).status_code == (200 if channel == "api" else 302)


@pytest.mark.parametrize("role", ROLES)
def test_staff_area_and_assignments(world, sign_in, role):
    api, web = sign_in(role, "api"), sign_in(role, "web")
    any_staff = role != "member"
    for url in ("/api/v1/moderation/flags", "/api/v1/moderation/audit"):
        assert api.get(url).status_code == (200 if any_staff else 403)
    for url in ("/moderation", "/moderation/audit"):
        assert web.get(url).status_code == (200 if any_staff else 403)
    site_staff = role in ("moderator", "admin")
    assert web.get("/moderation/people").status_code == (200 if site_staff else 403)
    assert web.get(f"/moderation/people/{world.users['outsider']}").status_code == (200 if site_staff else 403)
    assert ('href="/moderation"' in web.get("/").get_data(as_text=True)) is any_staff
    assign = api.put(f"/api/v1/categories/{world.elsewhere}/moderators/{world.users['outsider']}")
    assert assign.status_code == (200 if role == "admin" else 403)
    removal = web.post(f"/moderation/people/{world.users['outsider']}/categories/{world.elsewhere}/remove")
    assert removal.status_code == (302 if role == "admin" else 403)
