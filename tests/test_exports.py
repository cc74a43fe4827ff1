"""Data exports (GDPR art. 15 and 20): a job builds a zip of the member's own data, the member is
notified and emailed, and only they download it, for 7 days. The zip is checked against canaries
of others' private data: none may appear anywhere in it."""
import io
import json
import os
import time
import zipfile
from datetime import timedelta

import pytest
from sqlalchemy import select, update

from community import events
from community.accounts.models import User
from community.database import db, utcnow
from community.jobs import GiveUp
from community.notifications.models import Notification
from community.notifications.services import notify
from community.privacy import archive, exports
from community.privacy.models import DataExport, ExportStatus

from .conftest import assert_error, assert_max_queries, count_queries
from .factories import PASSWORD, make_category, make_event, make_post, make_thread
from .helpers import at_once

FILES = {"README.txt", "profile.json", "threads.json", "posts.json", "ideas.json", "votes.json", "reactions.json",
         "subscriptions.json", "notifications.json", "flags.json", "uploads.json", "checkins.json", "events.json",
         "meetings.json", "contacts.json", "sessions.json", "push_subscriptions.json"}


@pytest.fixture(autouse=True)
def exports_dir(app, tmp_path, monkeypatch):
    directory = tmp_path / "exports"
    monkeypatch.setitem(app.config, "EXPORTS_DIR", str(directory))
    return directory


@pytest.fixture
def general(make):
    return make(make_category, "General")


def _export(client) -> dict:
    """Start an export (its job runs right after the commit in tests) and read it back."""
    started = client.post("/api/v1/me/exports")
    assert started.status_code == 202, started.json
    answer = client.get(f"/api/v1/me/exports/{started.json['id']}")
    assert answer.status_code == 200
    return answer.json


def _download(client, export: dict) -> dict[str, bytes]:
    response = client.get(export["download_url"])
    assert response.status_code == 200 and response.mimetype == "application/zip", response.status
    data = _read(response)
    with zipfile.ZipFile(io.BytesIO(data)) as zipped:
        return {name: zipped.read(name) for name in zipped.namelist()}


def _read(response) -> bytes:
    """The file's bytes; the response is closed, as a server closes it once sent."""
    try:
        return response.data
    finally:
        response.close()


def _everything(files: dict[str, bytes]) -> str:
    return "\n".join(content.decode() for content in files.values())


def test_an_export_holds_what_the_member_wrote_and_nothing_private_of_others(app, make, people, general, api_as):
    staff_room = make(make_category, "Vendor only", staff_only=True)
    event = make(make_event)
    member, outsider, moderator, admin = (api_as(people.member), api_as(people.outsider), api_as(people.moderator),
                                          api_as(people.admin))
    with app.app_context():
        code = db.session.get(type(event), event.id).checkin_code
    # The member's own things.
    thread = member.post("/api/v1/threads", {"category_id": general.id, "title": "OWN-thread about SSO",
                                             "body": "OWN-first post"}).json
    reply = member.post(f"/api/v1/threads/{thread['id']}/posts", {"body": "OWN-reply, first draft"}).json
    assert member.patch(f"/api/v1/posts/{reply['id']}", {"body": "OWN-reply, edited"}).status_code == 200
    idea = member.post("/api/v1/ideas", {"title": "OWN-idea dark mode", "body": "OWN-idea body"}).json
    theirs = outsider.post("/api/v1/ideas", {"title": "Otto's public idea", "body": "Visible to all"}).json
    assert member.put(f"/api/v1/ideas/{theirs['id']}/vote").status_code == 200
    other_thread = outsider.post("/api/v1/threads", {"category_id": general.id, "title": "Otto asks",
                                                     "body": "Public question"}).json
    assert member.put(f"/api/v1/threads/{other_thread['id']}/subscription", {"level": "watch"}).status_code == 200
    assert member.post(f"/api/v1/events/{event.id}/checkin", {"code": code}).status_code in (200, 201)
    assert outsider.post(f"/api/v1/events/{event.id}/checkin", {"code": code}).status_code in (200, 201)
    assert member.post(f"/api/v1/events/{event.id}/meetings",
                       {"user_id": people.outsider.id, "message": "OWN-meeting: coffee?"}).status_code == 201
    answer = outsider.post(f"/api/v1/threads/{thread['id']}/posts", {"body": "Otto's public answer"}).json
    assert member.put(f"/api/v1/posts/{answer['id']}/reactions/tada").status_code == 200
    assert member.post(f"/api/v1/posts/{answer['id']}/flags", {"reason": "spam"}).status_code == 201
    # Otto accepts each scan first: until he does, his card is not the member's to export.
    assert outsider.patch(f"/api/v1/events/{event.id}/badge", {"contact_exchange": "ask"}).status_code == 200
    badge = outsider.get(f"/api/v1/events/{event.id}/badge").json
    scanned = member.post(f"/api/v1/events/{event.id}/contacts", {"badge_code": badge["code"], "note": "OWN-note"})
    assert scanned.status_code == 201 and scanned.json["status"] == "pending"
    # Others' private things: the canaries.
    admin.post(f"/api/v1/events/{event.id}/checkin", {"code": code})
    assert admin.post(f"/api/v1/events/{event.id}/meetings",
                      {"user_id": people.outsider.id, "message": "CANARY-dm to Otto"}).status_code == 201
    assert moderator.post("/api/v1/threads", {"category_id": staff_room.id, "title": "CANARY-staff title",
                                              "body": "CANARY-staff body"}).status_code == 201
    moved = member.post("/api/v1/threads", {"category_id": general.id, "title": "CANARY-moved title",
                                            "body": "OWN words in a thread staff took away"}).json
    moderator.post(f"/api/v1/threads/{moved['id']}/posts", {"body": "CANARY-moved reply"})
    assert moderator.patch(f"/api/v1/threads/{moved['id']}", {"category_id": staff_room.id}).status_code == 200
    with app.app_context():  # another member's notification (Otto's, of the DM above)
        assert db.session.scalar(select(Notification.id).where(Notification.user_id == people.outsider.id,
                                                               Notification.text.contains("CANARY-dm")))

    export = _export(member)
    assert export["status"] == "ready" and export["size"] > 0
    files = _download(member, export)
    assert set(files) == FILES
    text = _everything(files)
    for canary in ("CANARY", people.outsider.email, people.moderator.email, people.admin.email,
                   people.category_moderator.email):
        assert canary not in text, canary
    for own in ("OWN-thread about SSO", "OWN-first post", "OWN-reply, first draft", "OWN-reply, edited",
                "OWN-idea dark mode", "OWN-idea body", "Otto's public idea", "OWN-meeting: coffee?", "test phone",
                people.member.email):
        assert own in text, own
    posts = {post["id"]: post for post in json.loads(files["posts.json"])}
    assert [r["body"] for r in posts[reply["id"]]["revisions"]] == ["OWN-reply, first draft"]
    assert [(r["post_id"], r["reaction"]) for r in json.loads(files["reactions.json"])] == [(answer["id"], "tada")]
    assert json.loads(files["profile.json"])["email"] == people.member.email
    assert [v["idea_id"] for v in json.loads(files["votes.json"])] == [idea["id"], theirs["id"]]
    # Watching what they started comes by itself; the thread staff took away is left out.
    assert [s["thread_id"] for s in json.loads(files["subscriptions.json"]) if s["level"] == "watch"] \
        == [thread["id"], idea["thread_id"], other_thread["id"]]
    assert [c["event_id"] for c in json.loads(files["checkins.json"])] == [event.id]
    assert [n["kind"] for n in json.loads(files["notifications.json"])] == ["reply"]
    assert {m["recipient"]["id"] for m in json.loads(files["meetings.json"])} == {people.outsider.id}
    assert [s["device_name"] for s in json.loads(files["sessions.json"])] == ["test phone"]
    assert [f["post_id"] for f in json.loads(files["flags.json"])] == [answer["id"]]
    [contact] = json.loads(files["contacts.json"])
    assert contact["status"] == "pending" and contact["contact"] is None and contact["note"] == "OWN-note"
    # Staff keep what their role lets them read.
    staff_text = _everything(_download(moderator, _export(moderator)))
    assert "CANARY-staff body" in staff_text


def test_only_its_member_sees_or_downloads_an_export(app, people, api_as, login_as, web):
    export = _export(api_as(people.member))
    path = export["download_url"].removeprefix("http://localhost")
    assert_error(api_as(people.outsider).get(f"/api/v1/me/exports/{export['id']}"), 404, "not_found")
    assert api_as(people.outsider).get(path).status_code == 404
    assert login_as(people.outsider).get(path).status_code == 404
    assert login_as(people.admin).get(path).status_code == 404  # not even an admin
    anonymous = web.get(path)
    assert anonymous.status_code == 302 and "/login" in anonymous.headers["Location"]
    assert api_as(people.member).get(path, token="forged").status_code == 401
    mine = login_as(people.member).get(path)
    assert mine.status_code == 200 and _read(mine).startswith(b"PK")


def test_a_ready_export_whose_file_is_gone_is_not_found_with_what_to_do(app, people, api_as, login_as):
    export = _export(api_as(people.member))
    with app.app_context():
        exports.path_of(db.session.get(DataExport, export["id"])).unlink()
    answer = login_as(people.member).get(export["download_url"].removeprefix("http://localhost"))
    assert answer.status_code == 404 and "Start a new one" in answer.get_data(as_text=True)


def test_reading_an_export_costs_a_fixed_number_of_queries(app, people, api_as):
    member = api_as(people.member)
    export = _export(member)
    with app.app_context(), assert_max_queries(2):
        assert member.get(f"/api/v1/me/exports/{export['id']}").status_code == 200


def test_one_export_at_a_time(app, make, people, api_as, login_as):
    def pending():
        db.session.add(DataExport(user_id=people.member.id, key="k" * 32, status=ExportStatus.PENDING))
        db.session.commit()

    make(pending)
    member = api_as(people.member)
    assert_error(member.post("/api/v1/me/exports"), 409, "export_pending")
    browser = login_as(people.member)
    refused = browser.post("/settings/data/export")
    assert refused.status_code == 302 and refused.headers["Location"].endswith("/settings/data#export")
    page = browser.get("/settings/data").get_data(as_text=True)
    assert "still being prepared" in page  # the refusal's flash
    assert "being prepared" in page and "Prepare my export" not in page
    assert api_as(people.outsider).post("/api/v1/me/exports").status_code == 202  # others are not held up
    with app.app_context():
        assert db.session.scalars(select(DataExport.status).where(DataExport.user_id == people.member.id)).all() \
            == [ExportStatus.PENDING]
        db.session.execute(update(DataExport).values(status=ExportStatus.FAILED))
        db.session.commit()
    assert member.post("/api/v1/me/exports").status_code == 202


def test_a_ready_export_is_notified_and_emailed(app, people, api_as, inbox):
    member = api_as(people.member)
    export = _export(member)
    [notification] = [n for n in member.get("/api/v1/notifications").json["items"] if n["kind"] == "export_ready"]
    assert "ready" in notification["text"] and not notification["read"]
    [message] = inbox.to(people.member.email)
    assert message["Subject"] == "Your Roundtable data export is ready"
    body = message.get_payload(decode=True).decode()
    assert f"https://community.example.com/settings/data/exports/{export['id']}/download" in body
    assert inbox.to(people.outsider.email) == []


def test_the_settings_page_starts_an_export_and_offers_the_download(app, people, login_as):
    browser = login_as(people.member)
    page = browser.get("/settings/data").get_data(as_text=True)
    assert "Prepare my export" in page and "Download my data" not in page
    started = browser.post("/settings/data/export")
    assert started.status_code == 302 and started.headers["Location"].endswith("/settings/data#export")
    page = browser.get("/settings/data").get_data(as_text=True)
    assert "Download my data" in page and "Prepare a new export" in page
    with app.app_context():
        export_id = db.session.scalar(select(DataExport.id).where(DataExport.user_id == people.member.id))
    download = browser.get(f"/settings/data/exports/{export_id}/download")
    assert download.status_code == 200 and download.mimetype == "application/zip"
    assert "attachment" in download.headers["Content-Disposition"]
    assert zipfile.ZipFile(io.BytesIO(_read(download))).read("profile.json").decode().count(people.member.email) == 1
    # The notification leads to this page.
    with app.app_context():
        notification_id = db.session.scalar(select(Notification.id).where(Notification.kind == "export_ready"))
    opened = browser.get(f"/notifications/{notification_id}")
    assert opened.status_code == 302 and opened.headers["Location"].endswith("/settings/data#export")


def test_after_seven_days_the_link_is_gone_and_the_file_deleted(app, people, api_as, exports_dir):
    member = api_as(people.member)
    export = _export(member)
    with app.app_context():
        row = db.session.get(DataExport, export["id"])
        assert row.expires_at - row.ready_at == timedelta(days=7)
        assert exports.path_of(row).exists()
        row.expires_at = utcnow() - timedelta(seconds=1)
        db.session.commit()
    path = export["download_url"].removeprefix("http://localhost")
    gone = member.get(path)
    assert gone.status_code == 410 and "could be downloaded until" in gone.get_data(as_text=True)
    answer = member.get(f"/api/v1/me/exports/{export['id']}").json
    assert answer["status"] == "expired" and answer["download_url"] is None

    with app.app_context():
        assert exports.expire_exports() == 1
        assert db.session.get(DataExport, export["id"]).status == ExportStatus.EXPIRED
    assert list(exports_dir.iterdir()) == []
    assert member.get(path).status_code == 410


def test_the_clean_up_keeps_ready_and_fresh_files_and_deletes_leftovers(app, people, api_as, exports_dir):
    export = _export(api_as(people.member))
    stray, fresh = exports_dir / f"{'s' * 32}.zip.partial", exports_dir / f"{'e' * 32}.zip"
    stray.write_bytes(b"half")
    fresh.write_bytes(b"whole")
    an_hour_ago = time.time() - 3700
    os.utime(stray, (an_hour_ago, an_hour_ago))
    someone_elses = exports_dir / "notes.txt"  # the operator's, in the same folder
    someone_elses.write_text("keep me")
    with app.app_context():
        assert exports.expire_exports() == 2
        kept = exports.path_of(db.session.get(DataExport, export["id"]))
    assert sorted(exports_dir.iterdir()) == sorted([kept, someone_elses])


def test_a_failing_build_leaves_nothing_and_fails_after_its_attempts(app, people, api_as, exports_dir, monkeypatch):
    def write_half_then_fail(member, path):
        path.write_bytes(b"PK half a zip")
        raise OSError("the disk is full")

    monkeypatch.setattr(archive, "write_archive", write_half_then_fail)
    member = api_as(people.member)
    started = member.post("/api/v1/me/exports")
    assert started.status_code == 202
    export_id = started.json["id"]
    assert member.get(f"/api/v1/me/exports/{export_id}").json["status"] == "pending"  # to be tried again
    assert list(exports_dir.iterdir()) == []
    with app.app_context():
        with pytest.raises(OSError, match="the disk is full"):
            exports.build_export(export_id)
        with pytest.raises(GiveUp):
            exports.build_export(export_id)
        assert db.session.get(DataExport, export_id).attempts == exports.BUILD_ATTEMPTS
    assert list(exports_dir.iterdir()) == []
    answer = member.get(f"/api/v1/me/exports/{export_id}").json
    assert answer["status"] == "failed" and answer["download_url"] is None
    assert not [n for n in member.get("/api/v1/notifications").json["items"] if n["kind"] == "export_ready"]

    monkeypatch.undo()
    monkeypatch.setitem(app.config, "EXPORTS_DIR", str(exports_dir))
    assert _export(member)["status"] == "ready"  # a failed export holds nobody up


def test_erasure_takes_the_exports_with_it(app, make, people, general, api_as, exports_dir):
    make(make_thread, people.member, general)
    member = api_as(people.member)
    _export(member)
    assert len(list(exports_dir.iterdir())) == 1
    assert member.delete("/api/v1/me", json={"password": PASSWORD}).status_code == 204
    with app.app_context():
        assert db.session.scalars(select(DataExport)).all() == []
    assert list(exports_dir.iterdir()) == []


def test_building_costs_the_same_queries_for_one_thing_or_many(app, make, people, general, tmp_path):
    """Read in batches: a long-time member's export is not one query per post."""
    def queries_with(count: int) -> int:
        def write():
            member, outsider = db.session.merge(people.member), db.session.merge(people.outsider)
            thread = make_thread(member, db.session.merge(general))
            for n in range(count):
                make_post(thread, member, f"post {n}")
                notify([member], "reply", actor=outsider, text=f"Otto replied {n}", thread=thread)
            events.commit()

        make(write)
        with app.app_context():
            member = db.session.get(User, people.member.id)
            with count_queries() as statements:
                archive.write_archive(member, tmp_path / f"{count}.zip")
            db.session.remove()
        return len(statements)

    assert queries_with(1) == queries_with(30)


def test_two_exports_asked_at_once_make_one(app, people, monkeypatch):
    """The unique index, not a check before inserting, keeps it to one pending export."""
    monkeypatch.setattr(exports, "enqueue_job", lambda *args, **kwargs: None)  # they stay pending

    def start(_):
        return exports.do_start_export(db.session.get(User, people.member.id)).id

    results = at_once(app, start, range(6))
    assert results.count("export_pending") == 5
    with app.app_context():
        assert len(db.session.scalars(select(DataExport)).all()) == 1
