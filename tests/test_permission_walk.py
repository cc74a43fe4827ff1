"""The permission walk: every action that has a `can_*` flag, for every named role, on fresh
objects. The flag the API shows is true exactly when the API action succeeds, and the web page
shows its control exactly when the web form succeeds; a refusal is a clear 401/403/404/409.

Each action builds its own objects for each role and face (a factory per action), so no action
sees another's leftovers. Roles: member, outsider (another organization), category moderator
(of the walk's category and of the ideas board), moderator, admin, suspended, silenced.
"""
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta
from html import unescape

import pytest
from sqlalchemy import select

from api.auth import issue_tokens
from community.accounts import device_sessions, web_sign_in
from community.accounts.models import User
from community.database import db, utcnow
from community.gatherings.models import AgendaSession, Checkin, MeetingRequest, MeetingStatus
from community.ideas import services as ideas
from community.ideas.models import IdeaStatus
from community.threads.models import Category, Post

from .conftest import ApiClient, WebClient
from .factories import (
    make_category,
    make_category_moderator,
    make_event,
    make_flag,
    make_idea,
    make_people,
    make_post,
    make_thread,
    make_user,
)

ROLES = ["member", "outsider", "category_moderator", "moderator", "admin", "suspended", "silenced"]
REFUSED = {401, 403, 404, 409}


@dataclass
class Cast:
    """The people and places every action shares, made once per test."""
    users: dict[str, int]  # role -> user id, plus "author": a member who writes what others act on
    category: int  # the walk's discussion category, moderated by the category moderator
    support: int  # a support category, moderated by them too
    board: int  # the ideas board, moderated by them too
    elsewhere: int  # a category they do not moderate

    def user(self, role: str) -> User:
        return db.session.get(User, self.users[role])


def _build_cast() -> Cast:
    people = make_people()
    author = make_user(organization=people.acme, email="author@acme.test", display_name="Avery Author")
    suspended = make_user(organization=people.acme, email="sus@acme.test", display_name="Sue Suspended",
                          suspended_until=utcnow() + timedelta(days=3), suspension_reason="cooling off")
    silenced = make_user(organization=people.acme, email="sil@acme.test", display_name="Sil Silenced",
                         silenced_until=utcnow() + timedelta(days=3))
    category, support, elsewhere = make_category("Product help"), make_category("Questions"), make_category("General")
    support.kind = "support"
    board = ideas.find_or_create_board()
    db.session.commit()
    for moderated in (category, support, board):
        make_category_moderator(people.category_moderator, moderated)
    users = {role: getattr(people, role).id for role in ROLES[:5]}
    users.update(author=author.id, suspended=suspended.id, silenced=silenced.id)
    return Cast(users, category.id, support.id, board.id, elsewhere.id)


# Factories: each makes the objects of one case, inside an app context, and answers their ids.


def _thread(cast: Cast, me: User, *, own=False, category=None, **fields) -> dict:
    author = me if own else cast.user("author")
    thread = make_thread(author, db.session.get(Category, category or cast.category), body="The question")
    reply = make_post(thread, author, "A reply")
    for name, value in fields.items():
        setattr(thread, name, utcnow() if value is True and name == "deleted_at" else value)
    db.session.commit()
    first = db.session.scalar(select(Post.id).where(Post.thread_id == thread.id).order_by(Post.id).limit(1))
    return {"thread": thread.id, "post": reply.id, "first_post": first}


def _hidden_reply(cast: Cast, me: User) -> dict:
    ids = _thread(cast, me)
    post = db.session.get(Post, ids["post"])
    post.hidden_at, post.hidden_reason = utcnow(), "rude"
    db.session.commit()
    return ids


def _flagged_reply(cast: Cast, me: User) -> dict:
    """A reply the role flagged already: a second flag is refused, so no face may offer one."""
    ids = _thread(cast, me)
    make_flag(db.session.get(Post, ids["post"]), me)
    return ids


def _idea(cast: Cast, me: User, *, status=IdeaStatus.OPEN, merged=False, target_merged=False,
          with_other=False) -> dict:
    """An idea by the author; `with_other`: and a second one to merge it into."""
    author, board = cast.user("author"), db.session.get(Category, cast.board)
    ids = {}
    if merged or with_other:
        if target_merged:
            other = make_idea(author, board, "Export as CSV", merged_into=make_idea(author, board, "Export anything"))
        else:
            other = make_idea(author, board, "Export to CSV")
        ids["other"] = other.id
    idea = make_idea(author, board, "Dark mode for reports", status=status, merged_into=other if merged else None)
    return {**ids, "idea": idea.id, "thread": idea.thread_id}


def _event(cast: Cast, me: User, *, starts_in=timedelta(hours=-1), lasts=timedelta(hours=8)) -> dict:
    event = make_event(starts_in=starts_in, lasts=lasts)
    return {"event": event.id, "code": event.checkin_code}


def _meeting(cast: Cast, me: User, *, status=MeetingStatus.PENDING) -> dict:
    ids = _event(cast, me)
    author = cast.user("author")
    for user in (author, me):
        db.session.add(Checkin(event_id=ids["event"], user_id=user.id))
    meeting = MeetingRequest(event_id=ids["event"], requester_id=author.id, recipient_id=me.id, status=status,
                             message="Coffee?")
    db.session.add(meeting)
    db.session.commit()
    return {**ids, "meeting": meeting.id}


def _attendee(cast: Cast, me: User, *, checked_in: bool) -> dict:
    ids = _event(cast, me)
    db.session.add(Checkin(event_id=ids["event"], user_id=cast.users["author"]))
    if checked_in:
        db.session.add(Checkin(event_id=ids["event"], user_id=me.id))
    db.session.commit()
    return {**ids, "user": cast.users["author"]}


def _agenda_session(cast: Cast, me: User) -> dict:
    ids = _event(cast, me)
    now = utcnow()
    session = AgendaSession(event_id=ids["event"], title="Keynote", starts_at=now + timedelta(hours=1),
                            ends_at=now + timedelta(hours=2))
    db.session.add(session)
    db.session.commit()
    return {**ids, "session": session.id}


# Reading what each face offers


def _item(response, key: str, value: int) -> dict | None:
    if response.status_code != 200:
        return None
    body = response.json
    items = body.get("items", [body]) if isinstance(body, dict) else body
    return next((item for item in items if item.get(key) == value), None)


def _form(html: str, action: str, field_name: str | None = None) -> bool:
    """Whether the page has a form posting to `action` (with the input `field_name`) whose
    submit button is enabled: the control a member can use."""
    for match in re.finditer(r'<form\b[^>]*\baction="([^"]*)"[^>]*>(.*?)</form>', html, re.S):
        action_of, inside = unescape(match[1]), match[2]
        if action_of != action or (field_name and f'name="{field_name}"' not in inside):
            continue
        if re.search(r"<button\b(?![^>]*\bdisabled)[^>]*>", inside):
            return True
    return False


def _link(html: str, href: str) -> bool:
    return f'href="{href}"' in html


def _option(html: str, select_id: str, value: int) -> bool:
    select = re.search(rf'<select id="{select_id}"[^>]*>(.*?)</select>', html, re.S)
    return bool(select) and f'<option value="{value}"' in select[1]


@dataclass(frozen=True)
class Action:
    """One action with its flag: how to build its objects, where each face shows the flag, and
    how each face does it."""
    name: str
    build: Callable  # (cast, me) -> ids
    flag: str  # the API field
    shape: Callable  # (api, ids) -> the object carrying the flag, or None when it is not visible
    api: Callable  # (api, ids) -> response
    page: Callable  # ids -> the web page showing the control
    control: Callable  # (html, ids) -> whether the control is there
    web: Callable  # (web, ids) -> response
    expected: dict = field(default_factory=dict)  # role -> True for the roles that succeed (a check on the check)


def _shape(path: str, key: str) -> Callable:
    """(api, ids) -> the item with the id ids[key] that `path` (filled in from the ids) answers."""
    return lambda api, ids: _item(api.get(path.format(**ids)), "id", ids[key])


def _attendee_item(api, ids):
    response = api.get(f"/api/v1/events/{ids['event']}/attendees")
    if response.status_code != 200:
        return None
    return next((item for item in response.json["items"] if item["user"]["id"] == ids["user"]), None)


def _thread_page(ids):
    return f"/t/{ids['thread']}"


def _idea_page(ids):
    return f"/ideas/{ids['idea']}"


def _event_page(ids):
    return f"/events/{ids['event']}"


STAFF = {"category_moderator", "moderator", "admin"}
GLOBAL_STAFF = {"moderator", "admin"}
PARTICIPANTS = {"member", "outsider", "category_moderator", "moderator", "admin"}
READERS = PARTICIPANTS | {"silenced"}


def _roles(*groups) -> dict:
    return {role: True for group in groups for role in group}


def _verb(flag: str, shape: Callable, page: Callable, api: Callable, control: Callable, web: Callable) -> Callable:
    """What every case of one action shares; a case adds its name, its objects and the roles it is for."""
    return lambda name, build, *roles: Action(name, build, flag, shape, api, page, control, web, _roles(*roles))


def _own(cast, me):
    return _thread(cast, me, own=True)


_post_of, _thread_of = _shape("/api/v1/posts/{post}", "post"), _shape("/api/v1/threads/{thread}", "thread")
_idea_of, _event_of = _shape("/api/v1/ideas/{idea}", "idea"), _shape("/api/v1/events/{event}", "event")

EDIT = _verb("can_edit", _post_of, _thread_page,
             lambda api, ids: api.patch(f"/api/v1/posts/{ids['post']}", {"body": "Edited"}),
             lambda html, ids: _link(html, f"/p/{ids['post']}/edit"),
             lambda web, ids: web.post(f"/p/{ids['post']}/edit", {"body": "Edited"}))
DELETE_REPLY = _verb("can_delete", _post_of, _thread_page,
                     lambda api, ids: api.delete(f"/api/v1/posts/{ids['post']}"),
                     lambda html, ids: _form(html, f"/p/{ids['post']}/delete"),
                     lambda web, ids: web.post(f"/p/{ids['post']}/delete"))
FLAG = _verb("can_flag", _post_of, _thread_page,
             lambda api, ids: api.post(f"/api/v1/posts/{ids['post']}/flags", {"reason": "spam"}),
             lambda html, ids: _form(html, f"/p/{ids['post']}/flag"),
             lambda web, ids: web.post(f"/p/{ids['post']}/flag", {"reason": "spam"}))
HIDE = _verb("can_hide", _post_of, _thread_page,
             lambda api, ids: api.post(f"/api/v1/posts/{ids['post']}/hide", {"reason": "Off topic"}),
             lambda html, ids: _form(html, f"/p/{ids['post']}/hide"),
             lambda web, ids: web.post(f"/p/{ids['post']}/hide", {"reason": "Off topic"}))
UNHIDE = _verb("can_unhide", _post_of, _thread_page,
               lambda api, ids: api.post(f"/api/v1/posts/{ids['post']}/unhide"),
               lambda html, ids: _form(html, f"/p/{ids['post']}/unhide"),
               lambda web, ids: web.post(f"/p/{ids['post']}/unhide"))

POST_ACTIONS = [
    EDIT("edit another's post", _thread, STAFF),
    EDIT("edit own post", _own, PARTICIPANTS),
    DELETE_REPLY("delete own reply", _own, PARTICIPANTS),
    DELETE_REPLY("delete another's reply", _thread, STAFF),
    Action("delete the first post", _own, "can_delete", _shape("/api/v1/posts/{first_post}", "first_post"),
           lambda api, ids: api.delete(f"/api/v1/posts/{ids['first_post']}"),
           _thread_page, lambda html, ids: _form(html, f"/p/{ids['first_post']}/delete"),
           lambda web, ids: web.post(f"/p/{ids['first_post']}/delete")),
    FLAG("flag", _thread, PARTICIPANTS),
    FLAG("flag a post again", _flagged_reply),
    FLAG("flag own post", _own),
    HIDE("hide", _thread, STAFF),
    HIDE("hide a hidden post", _hidden_reply),
    UNHIDE("unhide", _hidden_reply, STAFF),
    UNHIDE("unhide a shown post", _thread),
    Action("react", _thread, "can_react", _post_of,
           lambda api, ids: api.put(f"/api/v1/posts/{ids['post']}/reactions/heart"),
           _thread_page, lambda html, ids: _form(html, f"/p/{ids['post']}/reactions/heart"),
           lambda web, ids: web.post(f"/p/{ids['post']}/reactions/heart", {"on": "1"}), _roles(PARTICIPANTS)),
    Action("read the edit history", _thread, "can_view_history", _post_of,
           lambda api, ids: api.get(f"/api/v1/posts/{ids['post']}/revisions"),
           _thread_page, lambda html, ids: _link(html, f"/p/{ids['post']}/history"),
           lambda web, ids: web.get(f"/p/{ids['post']}/history"), _roles(STAFF)),
]

REPLY = _verb("can_reply", _thread_of, _thread_page,
              lambda api, ids: api.post(f"/api/v1/threads/{ids['thread']}/posts", {"body": "Me too"}),
              lambda html, ids: _form(html, f"/t/{ids['thread']}/reply"),
              lambda web, ids: web.post(f"/t/{ids['thread']}/reply", {"body": "Me too"}))
RETITLE = _verb("can_edit_title", _thread_of, _thread_page,
                lambda api, ids: api.patch(f"/api/v1/threads/{ids['thread']}", {"title": "A better title"}),
                lambda html, ids: _form(html, f"/t/{ids['thread']}/update", "title"),
                lambda web, ids: web.post(f"/t/{ids['thread']}/update", {"title": "A better title"}))
RESTORE = _verb("can_restore", _thread_of, _thread_page,
                lambda api, ids: api.post(f"/api/v1/threads/{ids['thread']}/restore"),
                lambda html, ids: _form(html, f"/t/{ids['thread']}/restore"),
                lambda web, ids: web.post(f"/t/{ids['thread']}/restore"))
MARK_SOLUTION = _verb("can_mark_solution", _thread_of, _thread_page,
                      lambda api, ids: api.put(f"/api/v1/threads/{ids['thread']}/solution", {"post_id": ids["post"]}),
                      lambda html, ids: _form(html, f"/t/{ids['thread']}/solution", "post_id"),
                      lambda web, ids: web.post(f"/t/{ids['thread']}/solution", {"post_id": ids["post"]}))

THREAD_ACTIONS = [
    REPLY("reply", _thread, PARTICIPANTS),
    REPLY("reply to a locked thread", lambda cast, me: _thread(cast, me, locked=True), STAFF),
    RETITLE("retitle own thread", _own, PARTICIPANTS),
    RETITLE("retitle another's thread", _thread, STAFF),
    Action("pin", _thread, "can_moderate", _thread_of,
           lambda api, ids: api.patch(f"/api/v1/threads/{ids['thread']}", {"pinned": True}),
           _thread_page, lambda html, ids: _form(html, f"/t/{ids['thread']}/update", "pinned"),
           lambda web, ids: web.post(f"/t/{ids['thread']}/update", {"pinned": "true"}), _roles(STAFF)),
    Action("delete thread", _thread, "can_delete", _thread_of,
           lambda api, ids: api.delete(f"/api/v1/threads/{ids['thread']}"),
           _thread_page, lambda html, ids: _form(html, f"/t/{ids['thread']}/delete"),
           lambda web, ids: web.post(f"/t/{ids['thread']}/delete"), _roles(STAFF)),
    RESTORE("restore thread", lambda cast, me: _thread(cast, me, deleted_at=True), STAFF),
    RESTORE("restore a live thread", _thread),
    MARK_SOLUTION("mark own question's solution", lambda cast, me: _thread(cast, me, own=True, category=cast.support),
                  PARTICIPANTS),
    MARK_SOLUTION("mark another's solution", lambda cast, me: _thread(cast, me, category=cast.support), STAFF),
]

VOTE = _verb("can_vote", _idea_of, _idea_page,
             lambda api, ids: api.put(f"/api/v1/ideas/{ids['idea']}/vote"),
             lambda html, ids: _form(html, f"/ideas/{ids['idea']}/vote", "vote"),
             lambda web, ids: web.post(f"/ideas/{ids['idea']}/vote", {"vote": "1"}))
MERGE = _verb("can_merge", _idea_of, _idea_page,
              lambda api, ids: api.post(f"/api/v1/ideas/{ids['idea']}/merge", {"into_id": ids["other"]}),
              lambda html, ids: _form(html, f"/ideas/{ids['idea']}/merge"),
              lambda web, ids: web.post(f"/ideas/{ids['idea']}/merge", {"into_id": ids["other"]}))
UNMERGE = _verb("can_unmerge", _idea_of, _idea_page,
                lambda api, ids: api.post(f"/api/v1/ideas/{ids['idea']}/unmerge"),
                lambda html, ids: _form(html, f"/ideas/{ids['idea']}/unmerge"),
                lambda web, ids: web.post(f"/ideas/{ids['idea']}/unmerge"))


def _merged(cast, me):
    return _idea(cast, me, merged=True)


IDEA_ACTIONS = [
    VOTE("vote", _idea, PARTICIPANTS),
    VOTE("vote on a shipped idea", lambda cast, me: _idea(cast, me, status=IdeaStatus.SHIPPED)),
    Action("comment on an idea", _idea, "can_comment", _idea_of,
           lambda api, ids: api.post(f"/api/v1/threads/{ids['thread']}/posts", {"body": "Yes please"}),
           _idea_page, lambda html, ids: _form(html, f"/ideas/{ids['idea']}/comment"),
           lambda web, ids: web.post(f"/ideas/{ids['idea']}/comment", {"body": "Yes please"}),
           _roles(PARTICIPANTS)),
    Action("change an idea's status", _idea, "can_change_status", _idea_of,
           lambda api, ids: api.post(f"/api/v1/ideas/{ids['idea']}/status", {"status": "planned", "note": "Soon."}),
           _idea_page, lambda html, ids: _form(html, f"/ideas/{ids['idea']}/status"),
           lambda web, ids: web.post(f"/ideas/{ids['idea']}/status", {"status": "planned", "note": "Soon."}),
           _roles(STAFF)),
    MERGE("merge an idea", lambda cast, me: _idea(cast, me, with_other=True), STAFF),
    MERGE("merge a merged idea", _merged),
    UNMERGE("unmerge an idea", _merged, STAFF),
    UNMERGE("unmerge from an idea merged in turn", lambda cast, me: _idea(cast, me, merged=True, target_merged=True)),
    UNMERGE("unmerge an idea not merged", _idea),
]

REGISTER = _verb("can_register", _event_of, _event_page,
                 lambda api, ids: api.put(f"/api/v1/events/{ids['event']}/registration"),
                 lambda html, ids: _form(html, f"/events/{ids['event']}/registration"),
                 lambda web, ids: web.post(f"/events/{ids['event']}/registration"))
CHECK_IN = _verb("can_check_in", _event_of, _event_page,
                 lambda api, ids: api.post(f"/api/v1/events/{ids['event']}/checkin", {"code": ids["code"]}),
                 lambda html, ids: _form(html, f"/events/{ids['event']}/checkin"),
                 lambda web, ids: web.post(f"/events/{ids['event']}/checkin", {"code": ids["code"]}))
ANSWER = _verb("can_answer", _shape("/api/v1/events/{event}/meetings", "meeting"),
               lambda ids: f"/events/{ids['event']}/meetings",
               lambda api, ids: api.post(f"/api/v1/meetings/{ids['meeting']}/accept"),
               lambda html, ids: _form(html, f"/meetings/{ids['meeting']}/accept"),
               lambda web, ids: web.post(f"/meetings/{ids['meeting']}/accept"))
ASK_TO_MEET = _verb("can_ask_to_meet", _attendee_item, _event_page,
                    lambda api, ids: api.post(f"/api/v1/events/{ids['event']}/meetings", {"user_id": ids["user"]}),
                    lambda html, ids: _link(html, f"/events/{ids['event']}/meet/{ids['user']}"),
                    lambda web, ids: web.post(f"/events/{ids['event']}/meet/{ids['user']}", {"message": "Coffee?"}))

EVENT_ACTIONS = [
    REGISTER("register", lambda cast, me: _event(cast, me, starts_in=timedelta(days=2)), READERS),
    REGISTER("register for an event that is over", lambda cast, me: _event(cast, me, starts_in=timedelta(days=-2))),
    CHECK_IN("check in", _event, READERS),
    CHECK_IN("check in before the event", lambda cast, me: _event(cast, me, starts_in=timedelta(days=2))),
    Action("see the check-in code", _event, "can_manage", _event_of,
           lambda api, ids: api.get(f"/api/v1/events/{ids['event']}/checkin_code"),
           _event_page, lambda html, ids: _link(html, f"/events/{ids['event']}/manage"),
           lambda web, ids: web.get(f"/events/{ids['event']}/manage"), _roles(GLOBAL_STAFF)),
    Action("change the agenda", _agenda_session, "can_edit", _shape("/api/v1/sessions/{session}", "session"),
           lambda api, ids: api.patch(f"/api/v1/sessions/{ids['session']}", {"title": "Opening keynote"}),
           _event_page, lambda html, ids: _form(html, f"/sessions/{ids['session']}/delete"),
           lambda web, ids: web.post(f"/sessions/{ids['session']}/delete"), _roles(GLOBAL_STAFF)),
    ANSWER("answer a meeting request", _meeting, READERS),
    ANSWER("answer an answered request", lambda cast, me: _meeting(cast, me, status=MeetingStatus.DECLINED)),
    ASK_TO_MEET("ask to meet", lambda cast, me: _attendee(cast, me, checked_in=True), READERS),
    ASK_TO_MEET("ask to meet without checking in", lambda cast, me: _attendee(cast, me, checked_in=False)),
]

CATEGORY_ACTIONS = [
    Action("start a thread", lambda cast, me: {"category": cast.category}, "can_create_thread",
           _shape("/api/v1/categories", "category"),
           lambda api, ids: api.post("/api/v1/threads", {"category_id": ids["category"], "title": "Hello there",
                                                         "body": "A question"}),
           lambda ids: f"/c/{ids['category']}", lambda html, ids: _link(html, f"/c/{ids['category']}/new"),
           lambda web, ids: web.post(f"/c/{ids['category']}/new", {"title": "Hello there", "body": "A question"}),
           _roles(PARTICIPANTS)),
]


@pytest.fixture
def cast(make) -> Cast:
    return make(_build_cast)


@pytest.fixture
def signed_in(app, cast):
    """Per role, an app with its tokens and a browser with its session, signed in straight
    through the sessions (no password hashing per role); the suspended one's sessions exist
    but are refused, as they would be after their suspension."""
    apis, webs = {}, {}
    for role in ROLES:
        with app.app_context():
            user = db.session.get(User, cast.users[role])
            tokens = issue_tokens(user, "walk")
            web_session_id = device_sessions.do_start_web_session(user, "walk").id
            db.session.remove()
        apis[role] = ApiClient(app.test_client(), tokens)
        browser = WebClient(app.test_client())
        with browser.client.session_transaction() as session:
            session["_user_id"], session["_fresh"] = str(cast.users[role]), True
            session[web_sign_in.WEB_SESSION_KEY] = web_session_id
        webs[role] = browser
    return apis, webs


def _succeeded_in_api(response) -> bool:
    succeeded = 200 <= response.status_code < 300
    assert succeeded or response.status_code in REFUSED, (response.request.path, response.get_data(as_text=True))
    return succeeded


def _succeeded_on_web(response) -> bool:
    if response.status_code == 303:  # a refused form sent back to its page (web._back_to_the_form)
        return False
    if response.status_code in (301, 302):
        return not response.headers["Location"].startswith("/login")
    if response.status_code == 200:  # a page read (the edit history, the check-in code), or JSON
        return True
    assert response.status_code in REFUSED | {422}, response.get_data(as_text=True)[:500]
    return False


def _walk(app, cast: Cast, signed_in, action: Action) -> list[str]:
    """Every role through both faces of one action: the lies found (none, when the flag holds)."""
    apis, webs = signed_in
    lies, outcomes = [], {"API": {}, "web": {}}

    def fresh(role):
        with app.app_context():
            try:
                return action.build(cast, db.session.get(User, cast.users[role]))
            finally:
                db.session.remove()

    for role in ROLES:
        ids = fresh(role)
        shape = action.shape(apis[role], ids)
        flag = bool(shape and shape[action.flag])
        response = action.api(apis[role], ids)
        succeeded = _succeeded_in_api(response)
        if flag != succeeded:
            lies.append(f"{action.name}, API, {role}: {action.flag}={flag} but the action answered "
                        f"{response.status_code} {response.get_data(as_text=True)[:200]}")
        outcomes["API"][role] = succeeded
        if succeeded:  # a refusal changed nothing (which the walk relies on), so its objects serve again
            ids = fresh(role)
        page = webs[role].get(action.page(ids))
        shown = page.status_code == 200 and action.control(page.get_data(as_text=True), ids)
        # Posted from that page, as a browser does: a refused form then goes back to it.
        webs[role].client.environ_base["HTTP_REFERER"] = "http://localhost" + action.page(ids)
        response = action.web(webs[role], ids)
        succeeded = _succeeded_on_web(response)
        if shown != succeeded:
            lies.append(f"{action.name}, web, {role}: control shown={shown} but the form answered "
                        f"{response.status_code} {response.headers.get('Location', '')}")
        outcomes["web"][role] = succeeded
    # The walk itself is checked: on each face, the roles that succeed are the ones the action is for.
    for face, succeeded_for in outcomes.items():
        if {role for role, ok in succeeded_for.items() if ok} != set(action.expected):
            lies.append(f"{action.name}, {face}: succeeded for {sorted(r for r, ok in succeeded_for.items() if ok)}, "
                        f"meant for {sorted(action.expected)}")
    return lies


# One test per kind of object: the people and their sessions are made once for all its actions.
WALKS = {"posts": POST_ACTIONS, "threads": THREAD_ACTIONS + CATEGORY_ACTIONS, "ideas": IDEA_ACTIONS,
         "events": EVENT_ACTIONS}


@pytest.mark.parametrize("kind", WALKS)
def test_flags_are_true_exactly_when_the_actions_succeed(app, cast, signed_in, kind):
    lies = [lie for action in WALKS[kind] for lie in _walk(app, cast, signed_in, action)]
    assert not lies, "\n".join(lies)


def test_the_move_list_offers_exactly_the_categories_a_thread_may_move_to(app, cast, signed_in):
    """No flag names each category, so the web's list of destinations is the flag: a category is
    offered exactly when the move succeeds, on the web and in the API. The ideas board is
    reserved (its threads start with their ideas); a category moderator moves only between
    categories they moderate."""
    apis, webs = signed_in
    lies = []
    for destination, movers in {"support": STAFF, "elsewhere": GLOBAL_STAFF, "board": set()}.items():
        category_id, moved = getattr(cast, destination), set()
        for role in ROLES:
            ids = None
            for face in ("api", "web"):
                if ids is None:
                    with app.app_context():
                        ids = _thread(cast, db.session.get(User, cast.users[role]))
                        db.session.remove()
                page = webs[role].get(_thread_page(ids))
                offered = page.status_code == 200 and _option(page.get_data(as_text=True), "move-category",
                                                              category_id)
                if face == "api":
                    response = apis[role].patch(f"/api/v1/threads/{ids['thread']}", {"category_id": category_id})
                    succeeded = _succeeded_in_api(response)
                else:
                    response = webs[role].post(f"/t/{ids['thread']}/update", {"category_id": category_id})
                    succeeded = _succeeded_on_web(response)
                if offered != succeeded:
                    lies.append(f"to {destination}, {face}, {role}: offered={offered} but the move answered "
                                f"{response.status_code}")
                if succeeded:
                    moved.add(role)
                    ids = None  # moved: the other face gets a thread of its own
        if moved != movers:
            lies.append(f"to {destination}: moved for {sorted(moved)}, meant for {sorted(movers)}")
    assert not lies, "\n".join(lies)


def test_the_restriction_controls_show_exactly_when_silencing_succeeds(app, cast, signed_in):
    """Suspend and silence have no flag in the API: the member's staff page is the flag. Its
    controls show exactly when silencing succeeds, on the web and in the API: moderators restrict
    members, admins also moderators, nobody an admin or themselves."""
    apis, webs = signed_in
    until = (utcnow() + timedelta(days=2)).date().isoformat()
    body = {"until": until, "reason": "Calm down"}
    lies = []
    for target, restrictors in {"member": GLOBAL_STAFF, "moderator": {"admin"}, "admin": set(),
                                "self": set()}.items():
        silenced = set()
        for role in ROLES:
            for face in ("api", "web"):
                if target == "self":  # refused to everyone, so it changes nothing for the next face
                    user_id = cast.users[role]
                else:
                    with app.app_context():
                        # The target, fresh: a member or moderator like the role's namesake.
                        namesake = db.session.get(User, cast.users[target])
                        user_id = make_user(namesake.role, email=f"{face}-{role}-{target}@acme.test").id
                        db.session.remove()
                page = webs[role].get(f"/moderation/people/{user_id}")
                shown = page.status_code == 200 and _form(page.get_data(as_text=True),
                                                          f"/moderation/people/{user_id}/silence")
                if face == "api":
                    response = apis[role].post(f"/api/v1/users/{user_id}/silence", body)
                    succeeded = _succeeded_in_api(response)
                else:
                    response = webs[role].post(f"/moderation/people/{user_id}/silence", body)
                    succeeded = _succeeded_on_web(response)
                if shown != succeeded:
                    lies.append(f"silence a {target}, {face}, {role}: shown={shown} but silencing answered "
                                f"{response.status_code}")
                if succeeded:
                    silenced.add(role)
        if silenced != restrictors:
            lies.append(f"silence a {target}: succeeded for {sorted(silenced)}, meant for {sorted(restrictors)}")
    assert not lies, "\n".join(lies)
