"""A client generated from the served OpenAPI document (openapi-python-client, as app developers
would) without a single warning, and a member's journey through its typed models only: every
answer is a model of the document, every nested object a model too, never a bare dict."""
import importlib
import subprocess
import sys
import time
from datetime import datetime

import pytest

from community.demo import DEMO_PASSWORD

from .live_server import demo_server

PACKAGE = "roundtable_client"


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    live = demo_server(tmp_path_factory.mktemp("typed"))
    yield live
    live.stop()


@pytest.fixture(scope="module")
def client_package(server, tmp_path_factory):
    """The package openapi-python-client generates from the live document, imported."""
    root = tmp_path_factory.mktemp("generated")
    settings = root / "generator.yaml"
    settings.write_text(f"package_name_override: {PACKAGE}\npost_hooks: []\n")
    result = subprocess.run(
        [sys.executable, "-m", "openapi_python_client", "generate", "--url", f"{server.url}/api/v1/openapi.json",
         "--meta", "none", "--config", str(settings), "--output-path", str(root / PACKAGE), "--fail-on-warning"],
        capture_output=True, text=True, timeout=300)
    output = result.stdout + result.stderr
    assert result.returncode == 0 and "warning" not in output.lower(), output
    sys.path.insert(0, str(root))
    try:
        yield importlib.import_module(PACKAGE)
    finally:
        sys.path.remove(str(root))
        for name in [name for name in sys.modules if name == PACKAGE or name.startswith(PACKAGE + ".")]:
            del sys.modules[name]


def operation(name: str):
    """A generated operation module, such as `threads.create_thread` (its `sync` returns models)."""
    return importlib.import_module(f"{PACKAGE}.api.{name}")


def test_the_document_types_what_may_be_null(client_package):
    models = importlib.import_module(f"{PACKAGE}.models")
    assert "UserRef" in str(models.Notification.__annotations__["actor"])
    assert "OfficialAnswer" in str(models.Idea.__annotations__["official_answer"])
    assert "UserRef" in str(models.OfficialAnswer.__annotations__["by"])
    assert "MyCheckin" in str(models.EventDetail.__annotations__["my_checkin"])
    # One enum for a watch or mute wherever it appears, and no model of an unused pagination header.
    for model in (models.Idea, models.ThreadDetail, models.SubscriptionState):
        annotation = model.__annotations__["subscription" if model is not models.SubscriptionState else "level"]
        assert "SubscriptionLevel" in str(annotation)
    assert not [name for name in dir(models) if "Pagination" in name or "SubscriptionType" in name]


def test_a_members_journey_through_typed_models(server, client_package):
    models = importlib.import_module(f"{PACKAGE}.models")
    anonymous = client_package.Client(base_url=server.url, raise_on_unexpected_status=True)

    def signed_in(email):
        tokens = operation("sign_in.login").sync(
            client=anonymous, body=models.Login(email=email, password=DEMO_PASSWORD, device_name="typed client"))
        assert isinstance(tokens, models.Tokens) and isinstance(tokens.user, models.Me)
        return tokens, client_package.AuthenticatedClient(base_url=server.url, token=tokens.access_token,
                                                          raise_on_unexpected_status=True)

    tokens, alice = signed_in("alice@acme.test")
    assert tokens.user.display_name == "Alice Chen"
    _, admin = signed_in("admin@roundtable.test")

    # A thread, a reply from staff, and the posts page by page.
    categories = operation("threads.list_categories").sync(client=alice)
    general = next(category for category in categories.items if category.name == "General")
    thread = operation("threads.create_thread").sync(
        client=alice, body=models.ThreadCreate(category_id=general.id, title="Typed all the way",
                                               body="Does the generated client know its types?"))
    assert isinstance(thread, models.CreatedThread) and isinstance(thread.first_post, models.Post)
    assert isinstance(thread.created_at, datetime) and thread.created_at.utcoffset().total_seconds() == 0
    reply = operation("threads.reply")
    staff_reply = reply.sync(thread.id, client=admin, body=models.PostBody(body="It does, every field."))
    own_reply = reply.sync(thread.id, client=alice, body=models.PostBody(body="Thanks!"))
    assert isinstance(staff_reply.author, models.UserRef) and staff_reply.author.display_name == "Ada Admin"
    list_posts = operation("threads.list_posts")
    first = list_posts.sync(thread.id, client=alice, limit=2)
    assert isinstance(first, models.PostPage) and isinstance(first.next_cursor, str)
    second = list_posts.sync(thread.id, client=alice, limit=2, cursor=first.next_cursor)
    pages = [post.id for post in first.items + second.items]
    assert pages == [thread.first_post.id, staff_reply.id, own_reply.id] and second.next_cursor is None

    # A vote on an idea of someone else's.
    board = operation("ideas.list_ideas").sync(client=alice, limit=50)
    dark_mode = next(idea for idea in board.items if idea.title == "Dark mode")
    assert isinstance(dark_mode, models.Idea) and dark_mode.has_voted is False and dark_mode.official_answer is None
    answered = next(idea for idea in board.items if idea.official_answer is not None)
    assert isinstance(answered.official_answer, models.OfficialAnswer)
    assert isinstance(answered.official_answer.by, models.UserRef) and answered.official_answer.by.display_name
    state = operation("ideas.vote").sync(dark_mode.id, client=alice, body=models.Vote())
    assert isinstance(state, models.VoteState) and state.has_voted is True
    assert state.vote_count == dark_mode.vote_count + 1

    # Check in at the summit with the code staff show at the door.
    summit = operation("events.list_events").sync(client=alice).items[0]
    code = operation("events.get_checkin_code").sync(summit.id, client=admin)
    checkin = operation("events.check_in").sync(
        summit.id, client=alice, body=models.CheckinBody(code=code.code, zone="Main stage"))
    assert isinstance(checkin, models.MyCheckin) and checkin.zone == "Main stage"
    assert isinstance(checkin.expires_at, datetime) and checkin.expires_at > checkin.checked_in_at
    detail = operation("events.get_event").sync(summit.id, client=alice)
    assert isinstance(detail.my_checkin, models.MyCheckin) and detail.my_checkin.zone == "Main stage"

    # The staff reply reached Alice as a notification (jobs run in the server's own process).
    list_notifications = operation("notifications.list_notifications")
    deadline = time.monotonic() + 20
    while True:
        page = list_notifications.sync(client=alice, unread=True)
        about = [item for item in page.items if item.thread_id == thread.id]
        if about or time.monotonic() > deadline:
            break
        time.sleep(0.2)
    [notification] = about
    assert isinstance(notification, models.Notification) and isinstance(notification.actor, models.UserRef)
    assert notification.actor.display_name == "Ada Admin" and isinstance(notification.created_at, datetime)
    count = operation("notifications.unread_count").sync(client=alice)
    assert isinstance(count, models.NotificationCount) and count.count == len(page.items) >= 1

    # Refresh rotates the pair; logging out ends the session.
    refreshing = client_package.AuthenticatedClient(base_url=server.url, token=tokens.refresh_token,
                                                    raise_on_unexpected_status=True)
    rotated = operation("sign_in.refresh").sync(client=refreshing)
    assert isinstance(rotated, models.Tokens) and rotated.refresh_token != tokens.refresh_token
    alice = client_package.AuthenticatedClient(base_url=server.url, token=rotated.access_token)
    me = operation("sign_in.me")
    assert isinstance(me.sync(client=alice), models.Me)
    assert operation("sign_in.logout").sync_detailed(client=alice).status_code == 204
    refused = me.sync_detailed(client=alice)
    assert refused.status_code == 401 and isinstance(refused.parsed, models.Error)
    assert refused.parsed.error.code == "token_revoked"
