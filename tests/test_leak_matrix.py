"""The canary leak matrix: unique words planted in everything a member may not see, then every
read path walked as each role — every GET route of the web and of the OpenAPI document, every id
substituted, search for each canary — asserting each canary shows up exactly where the role may
see it. A route with an id this test cannot fill fails it: new routes join by construction.
(Socket rooms and payloads have their own leak tests in test_realtime.py; email bodies in the
notification email tests.)"""
import re

import pytest
from sqlalchemy import select

from community import shared_pages
from community.accounts.models import User
from community.database import db, utcnow
from community.gatherings.models import AgendaSession, Checkin, Contact, Visibility
from community.notifications.services import notify
from community.threads.models import Post, Thread

from .factories import make_category, make_category_moderator, make_event, make_post, make_thread, make_user

CANARIES = {
    "zqstaffcat": "a staff-only category",
    "zqstaffthread": "a thread in it",
    "zqstaffpost": "a post in that thread",
    "zqdeletedpost": "a deleted reply",
    "zqhiddenpost": "a reply hidden by staff",
    "zqdeletedthread": "a deleted thread",
    "zqnote": "another member's notification",
    "zqdevice": "another member's device session",
    "zqattendee": "a hidden attendee",
    "zqtier": "an organization's tier (the vendor's view of the account)",
    "zqcrm": "an organization's CRM id",
    "zqcontact": "another member's note on a contact they saved",
}
# Who may see each canary somewhere (the outsider wrote the hidden reply and owns the note and device).
VISIBLE_TO = {
    "zqstaffcat": {"admin"}, "zqstaffthread": {"admin"}, "zqstaffpost": {"admin"},
    "zqdeletedpost": {"admin"}, "zqhiddenpost": {"admin", "outsider"}, "zqdeletedthread": {"admin"},
    "zqnote": {"outsider"}, "zqdevice": {"outsider"}, "zqattendee": set(),
    "zqtier": {"admin"}, "zqcrm": {"admin"},
    "zqcontact": {"outsider"},
}
# A member's name is on their profile for everyone: the hidden attendee's canary is checked on
# the event paths, where being hidden must keep it out.
SCOPED = {"zqattendee": re.compile(r"/events")}
ROLES = ["anonymous", "member", "outsider", "category_moderator", "admin"]
SKIPPED_ENDPOINTS = {"static", "api_docs.static", "api_docs.swagger_ui_asset", "api_docs.openapi_json", "health",
                     "accounts.login", "accounts.accept_invitation", "notifications.open_notification"}


@pytest.fixture
def world(make, people, api_as):
    def build():
        general, moderated = make_category("General"), make_category("Moderated")
        staff = make_category("Staff zqstaffcat", staff_only=True)
        category_moderator = make_user(email="catmod@acme.test", display_name="Cat Moderator")
        make_category_moderator(category_moderator, moderated)
        make_thread(people.moderator, staff, title="Plans zqstaffthread", body="Secret zqstaffpost")
        open_thread = make_thread(people.member, general, title="Open question", body="Anyone?")
        make_thread(people.member, moderated, title="Moderated talk", body="Hello")
        deleted = make_post(open_thread, db.session.merge(people.outsider), "Oops zqdeletedpost")
        deleted.deleted_at = utcnow()
        hidden = make_post(open_thread, db.session.merge(people.outsider), "Rude zqhiddenpost")
        hidden.hidden_at, hidden.hidden_reason = utcnow(), "rude"
        gone = make_thread(people.member, general, title="Gone zqdeletedthread", body="Removed")
        gone.deleted_at = utcnow()
        notify([db.session.merge(people.outsider)], "reply", actor=db.session.merge(people.member),
               text="zqnote: Mia replied", thread=open_thread)
        acme = db.session.merge(people.acme)
        acme.tier, acme.crm_id, acme.weight = "Gold zqtier", "zqcrm-1", 987654.5
        event = make_event()
        attendee = make_user(email="ghost@acme.test", display_name="Ghost zqattendee")
        db.session.add(Checkin(event_id=event.id, user_id=attendee.id, visibility=Visibility.HIDDEN))
        db.session.add(Contact(event_id=event.id, owner_id=people.outsider.id, contact_id=people.member.id,
                               note="Follow up zqcontact"))
        db.session.add(AgendaSession(event_id=event.id, title="Keynote", starts_at=event.starts_at,
                                     ends_at=event.ends_at))
        db.session.commit()
        return category_moderator

    category_moderator = make(build)
    api_as(people.outsider).login(people.outsider.email, device_name="Phone zqdevice")
    return category_moderator


def _ids(app):
    """Every id of every kind in the world, to put into each route."""
    from community.accounts.models import Organization
    from community.gatherings.models import Event
    from community.ideas.models import Idea
    from community.notifications.models import Notification
    from community.privacy.models import DataExport
    from community.threads.models import Category
    from community.uploads.models import Upload
    from community.webhooks.models import Webhook, WebhookDelivery

    with app.app_context():
        pools = {name: list(db.session.scalars(select(model.id))) for name, model in (
            ("thread_id", Thread), ("post_id", Post), ("category_id", Category), ("user_id", User),
            ("event_id", Event), ("idea_id", Idea), ("notification_id", Notification),
            ("session_id", AgendaSession), ("organization_id", Organization), ("export_id", DataExport))}
        # A file is named by its key; the name after it is only for the browser's download.
        pools["key"] = list(db.session.scalars(select(Upload.key)))
        pools["name"] = ["file"]
        # The world makes no export (the walk reads every answer as text, and a download is a zip), so
        # export_id is only asked as a missing id; test_exports.py's
        # test_only_its_member_sees_or_downloads_an_export walks a real one as each role.
        pools["webhook_id"] = list(db.session.scalars(select(Webhook.id)))
        pools["delivery_id"] = list(db.session.scalars(select(WebhookDelivery.id)))
    return pools


def _urls(app, pools):
    """Every GET route, web and API, with every id filled in; fails on a parameter it cannot fill."""
    for rule in app.url_map.iter_rules():
        if "GET" not in rule.methods or rule.endpoint in SKIPPED_ENDPOINTS:
            continue
        unknown = set(rule.arguments) - set(rule.defaults or {}) - set(pools)
        assert not unknown, f"the leak matrix does not know how to fill {unknown} in {rule.rule}"
        urls = [rule.rule]
        for argument in sorted(set(rule.arguments) - set(rule.defaults or {})):
            urls = [re.sub(rf"<(?:int:)?{argument}>", str(value), url) for url in urls for value in pools[argument]
                    or [999999]]
        yield from urls
    for canary in CANARIES:
        yield f"/search?q={canary}"
        yield f"/api/v1/search?q={canary}"
    yield "/api/v1/threads?sort=new&limit=100"
    yield "/api/v1/events/1/attendees?q=ghost"


def _clients(role, people, world, login_as, api_as, app):
    if role == "anonymous":
        return app.test_client(), app.test_client()
    user = {"member": people.member, "outsider": people.outsider, "category_moderator": world,
            "admin": people.admin}[role]
    return login_as(user).client, api_as(user)


# Before each probe another role asks the same, so every cache is warm with what that role may
# see: an answer kept for one permission class and served to another would show here.
WARMED_BY = {"anonymous": "admin", "member": "admin", "outsider": "admin", "category_moderator": "admin",
             "admin": "member"}


def _walk(app, people, world, login_as, api_as, urls):
    """Ask every url as every role (each time right after another role asked it) and assert each
    canary shows up only to those who may see it; the canaries each role saw."""
    clients = {role: _clients(role, people, world, login_as, api_as, app) for role in ROLES}

    def get(role, url):
        web, api = clients[role]
        return api.get(url) if url.startswith("/api/") and role != "anonymous" else web.get(url)

    seen = {role: set() for role in ROLES}
    for role in ROLES:
        for url in urls:
            get(WARMED_BY[role], url)
            response = get(role, url)
            assert response.status_code < 500, (role, url, response.status_code)
            body = response.get_data(as_text=True).lower()
            asked = re.search(r"[?&]q=(\w+)", url)
            if asked:  # the query's own echo (search box, paging links, sign-in redirect) is no leak
                for echo in (f'value="{asked[1]}"', f"q={asked[1]}", f"q%3d{asked[1]}", f"“{asked[1]}”"):
                    body = body.replace(echo, "")
            for canary in CANARIES:
                if canary in body and (canary not in SCOPED or SCOPED[canary].search(url)):
                    seen[role].add(canary)
                    assert role in VISIBLE_TO[canary], f"{role} sees {CANARIES[canary]} at {url}"
    return seen


def test_every_canary_shows_up_exactly_where_the_role_may_see_it(caches_on, app, people, world, login_as, api_as):
    pools = _ids(app)
    urls = list(dict.fromkeys(_urls(app, pools)))
    openapi_paths = app.test_client().get("/api/v1/openapi.json").json["paths"]
    known = {re.sub(r"<(?:int:)?(\w+)>", r"{\1}", rule.rule) for rule in app.url_map.iter_rules()}
    assert set(openapi_paths) <= known  # the document describes only routes that exist
    seen = _walk(app, people, world, login_as, api_as, urls)
    for canary, roles in VISIBLE_TO.items():
        for role in roles:
            assert canary in seen[role], f"{role} should see {CANARIES[canary]} somewhere (the matrix is blind?)"


def test_a_page_cache_keyed_without_the_permission_class_fails_the_matrix(caches_on, app, people, world, login_as,
                                                                          api_as, monkeypatch):
    """The matrix would catch a shared page kept for the wrong readers: keyed by the list and its
    parameters alone, the admin's page of threads reaches a member, with the staff-only thread."""
    monkeypatch.setattr(shared_pages, "page_key", lambda name, viewer, params: (name, params))
    thread_pages = [url for url in _urls(app, _ids(app)) if re.fullmatch(r"/api/v1/threads(/\d+/posts)?", url)]
    with pytest.raises(AssertionError, match="member sees a thread in it at /api/v1/threads"):
        _walk(app, people, world, login_as, api_as, thread_pages)


def test_no_role_may_join_a_room_of_what_it_may_not_see(app, people, world, api_as):
    """The same canary objects, as Socket.IO rooms: joining one is reading it."""
    from api.auth import issue_tokens
    from community.extensions import socketio

    pools = _ids(app)
    with app.app_context():
        secret_threads = set(db.session.scalars(select(Thread.id).where(
            (Thread.title.contains("zqstaff")) | (Thread.title.contains("zqdeleted")))))
        from community.threads.models import Category

        secret_categories = set(db.session.scalars(select(Category.id).where(Category.staff_only)))
    rooms = ([f"thread:{i}" for i in pools["thread_id"]] + [f"category:{i}" for i in pools["category_id"]]
             + [f"user:{i}" for i in pools["user_id"]] + ["moderation"])
    for role, user in (("member", people.member), ("outsider", people.outsider), ("category_moderator", world),
                       ("admin", people.admin)):
        with app.test_request_context():
            token = issue_tokens(db.session.get(User, user.id), "matrix")["access_token"]
            db.session.remove()
        client = socketio.test_client(app, auth={"token": token})
        assert client.is_connected()
        for room in rooms:
            ack = client.emit("subscribe", {"room": room}, callback=True)
            kind, _, ident = room.partition(":")
            secret = ((kind == "thread" and int(ident) in secret_threads)
                      or (kind == "category" and int(ident) in secret_categories)
                      or (kind == "user" and int(ident) != user.id)
                      or (room == "moderation"))
            may = role == "admin" and kind != "user" or (kind == "user" and int(ident) == user.id) or not secret
            assert ack["ok"] is may, (role, room, ack)
        client.disconnect()
