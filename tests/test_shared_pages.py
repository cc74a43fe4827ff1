"""Pages of the hot lists are shared by a permission class and kept until something on them
changes: each viewer still gets exactly what the lists, dumped for them alone, would answer —
their own votes, reactions, reading state and author's rights included — whoever filled the
page first; their own writes show at once; the ETag stays exact."""
import json

import pytest

from community import freshness, shared_pages
from community.accounts.models import User
from community.database import db, utcnow
from community.ideas import services as ideas
from community.shapes import IdeaSchema, PostSchema, ThreadSchema, viewing_as
from community.threads import reactions, reading
from community.threads import services as threads
from community.threads.models import PostReaction, Thread

from .factories import make_category, make_category_moderator, make_post, make_thread

VIEWERS = ["member", "outsider", "moderator", "admin", "category_moderator"]


@pytest.fixture
def board(make, people):
    """Threads, hidden and deleted replies, a locked thread, a moderated category, ideas with
    votes, a reaction, a watch and a place read: something of each viewer's own on each list."""
    def build():
        general, moderated, staff = make_category("General"), make_category("Moderated"), make_category(
            "Staff", staff_only=True)
        member, outsider = db.session.merge(people.member), db.session.merge(people.outsider)
        make_category_moderator(db.session.merge(people.category_moderator), moderated)
        thread = make_thread(member, general, title="Claims export")
        helpful = make_post(thread, outsider, "Helpful")
        hidden = make_post(thread, outsider, "Rude words")
        hidden.hidden_at, hidden.hidden_reason = utcnow(), "rude"
        make_post(thread, outsider, "Gone").deleted_at = utcnow()
        make_post(thread, member, "Thanks")
        make_thread(outsider, moderated, title="Locked talk").locked = True
        make_thread(db.session.merge(people.admin), staff, title="Staff plans")
        db.session.add(PostReaction(post_id=helpful.id, user_id=member.id, reaction="heart"))
        reading.mark_read(member, thread, helpful)
        db.session.commit()
        first = ideas.do_create_idea(db.session.merge(people.outsider), "Dark mode", "Please", ["ui"])
        ideas.do_create_idea(db.session.merge(people.member), "Bulk export", "CSV please", [])
        ideas.do_vote(db.session.merge(people.member), first.id, True, "critical")
        ideas.do_set_subscription(db.session.merge(people.member), first.id, "watch")
        return thread.id

    return make(build)


def _urls(thread_id):
    return ["/api/v1/threads", "/api/v1/threads?sort=top&limit=2", f"/api/v1/threads/{thread_id}/posts",
            "/api/v1/ideas?sort=top", "/api/v1/ideas?sort=trending", "/api/v1/ideas?sort=new"]


def _as_dumped_for(app, user_id, url):
    """What the list answers when dumped for this viewer alone, without any shared page."""
    path, _, query = url.partition("?")
    args = dict(part.split("=") for part in query.split("&")) if query else {}
    limit = int(args.pop("limit")) if "limit" in args else None
    with app.test_request_context():
        viewer = db.session.get(User, user_id)
        with viewing_as(viewer):
            if path == "/api/v1/threads":
                page, schema = threads.list_threads(viewer, limit=limit, **args), ThreadSchema()
            elif path.endswith("/posts"):
                page, schema = threads.list_posts(viewer, int(path.split("/")[4]), limit=limit), PostSchema()
                reactions.attach(viewer, page.items)
            else:
                page, schema = ideas.list_ideas(viewer, limit=limit, **args), IdeaSchema()
            answer = {"items": [schema.dump(item) for item in page.items], "next_cursor": page.next_cursor}
        db.session.remove()
    return json.loads(json.dumps(answer))


def test_every_viewer_gets_what_the_list_dumped_for_them_alone_would_say(caches_on, app, people, board, api_as):
    clients = {name: api_as(getattr(people, name)) for name in VIEWERS}
    kept_pages = app.extensions[freshness.EXTENSION].cache(shared_pages.CACHE, shared_pages.CACHE_SIZE)
    for url in _urls(board):
        for name in VIEWERS:
            expected = _as_dumped_for(app, getattr(people, name).id, url)
            for other in VIEWERS:  # the page filled by each other viewer first, then kept
                kept_pages.clear()
                clients[other].get(url)
                assert clients[name].get(url).json == expected, (name, "after", other, url)
    # the viewer's own bits really are there to get wrong
    member = clients["member"]
    assert any(item["has_voted"] and item["importance"] == "critical" and item["subscription"] == "watch"
               for item in member.get("/api/v1/ideas").json["items"])
    posts = member.get(f"/api/v1/threads/{board}/posts").json["items"]
    assert posts[1]["my_reactions"] == ["heart"] and posts[-1]["can_edit"] is True
    assert any(post["body"] == "Rude words" for post in clients["outsider"].get(f"/api/v1/threads/{board}/posts"
                                                                                 ).json["items"])


def test_the_page_is_kept_between_requests(caches_on, app, people, board, api_as):
    """Without this the tests above would pass with no cache at all."""
    member = api_as(people.member)
    cache = app.extensions[freshness.EXTENSION].named["shared_pages"]
    cache.clear()
    member.get("/api/v1/threads")
    assert len(cache) == 1
    api_as(people.outsider).get("/api/v1/threads")  # the same permission class: the same page
    assert len(cache) == 1
    api_as(people.admin).get("/api/v1/threads")
    assert len(cache) == 2


def test_members_read_their_own_writes_at_once(caches_on, app, people, board, api_as, make):
    member, outsider = api_as(people.member), api_as(people.outsider)
    posts_url = f"/api/v1/threads/{board}/posts"
    ideas_page = outsider.get("/api/v1/ideas?sort=top").json["items"]
    members_vote = next(item["has_voted"] for item in member.get("/api/v1/ideas?sort=top").json["items"]
                        if item["title"] == "Bulk export")
    for client in (member, outsider):  # warm
        client.get(posts_url), client.get("/api/v1/threads"), client.get("/api/v1/ideas?sort=top")

    reply = member.post(posts_url, {"body": "One more thing"}).json
    assert member.get(posts_url).json["items"][-1]["id"] == reply["id"]
    assert outsider.get(posts_url).json["items"][-1]["id"] == reply["id"]
    assert member.patch(f"/api/v1/posts/{reply['id']}", {"body": "Edited"}).status_code == 200
    assert member.get(posts_url).json["items"][-1]["body"] == "Edited"
    assert outsider.put(f"/api/v1/posts/{reply['id']}/reactions/tada").status_code == 200
    mine = outsider.get(posts_url).json["items"][-1]
    assert mine["my_reactions"] == ["tada"] and mine["reactions"] == {"tada": 1}
    assert member.get(posts_url).json["items"][-1]["my_reactions"] == []

    listed = {item["id"]: item for item in member.get("/api/v1/threads").json["items"]}
    assert listed[board]["unread_count"] == 0  # one has read what one wrote

    idea = next(item for item in ideas_page if not item["has_voted"] and item["title"] == "Bulk export")
    assert outsider.put(f"/api/v1/ideas/{idea['id']}/vote", {}).status_code == 200
    after = {item["id"]: item for item in outsider.get("/api/v1/ideas?sort=top").json["items"]}[idea["id"]]
    assert after["has_voted"] is True and after["vote_count"] == idea["vote_count"] + 1
    seen_by_member = {item["id"]: item for item in member.get("/api/v1/ideas?sort=top").json["items"]}[idea["id"]]
    assert (seen_by_member["vote_count"], seen_by_member["has_voted"]) == (after["vote_count"], members_vote)

    moderator = api_as(people.moderator)
    assert moderator.post(f"/api/v1/posts/{reply['id']}/hide", {"reason": "off topic"}).status_code == 200
    assert outsider.get(posts_url).json["items"][-1]["body"] == ""
    assert member.get(posts_url).json["items"][-1]["body"] == "Edited"  # its author still reads it

    def hide_the_category():
        db.session.get(Thread, board).category.staff_only = True
        db.session.commit()

    make(hide_the_category)
    assert board not in {item["id"] for item in member.get("/api/v1/threads").json["items"]}
    assert member.get(posts_url).status_code == 404


def test_the_etag_moves_exactly_when_the_page_does(caches_on, people, board, api_as):
    member = api_as(people.member)
    url = f"/api/v1/threads/{board}/posts"
    etag = member.get(url).headers["ETag"]
    assert member.get(url, headers={"If-None-Match": etag}).status_code == 304
    assert api_as(people.outsider).post(url, {"body": "news"}).status_code == 201
    changed = member.get(url, headers={"If-None-Match": etag})
    assert changed.status_code == 200 and changed.headers["ETag"] != etag
    assert member.get(url, headers={"If-None-Match": changed.headers["ETag"]}).status_code == 304


def test_the_viewers_own_state_is_kept_only_until_they_change_it(caches_on, people, board, api_as):
    member, outsider = api_as(people.member), api_as(people.outsider)
    posts = member.get(f"/api/v1/threads/{board}/posts").json["items"]
    for client in (member, outsider):  # warm, own fields included
        client.get("/api/v1/threads"), client.get("/api/v1/ideas")
    unread = {name: {item["id"]: item for item in client.get("/api/v1/threads").json["items"]}[board]["unread_count"]
              for name, client in (("member", member), ("outsider", outsider))}
    assert unread["member"] > 0
    assert member.post(f"/api/v1/threads/{board}/read", {"post_id": posts[-1]["id"]}).status_code == 200
    assert {item["id"]: item for item in member.get("/api/v1/threads").json["items"]}[board]["unread_count"] == 0
    assert {item["id"]: item for item in outsider.get("/api/v1/threads").json["items"]}[board]["unread_count"] \
        == unread["outsider"]
    idea = next(item for item in outsider.get("/api/v1/ideas").json["items"] if item["subscription"] is None)
    members_level = {item["id"]: item for item in member.get("/api/v1/ideas").json["items"]}[idea["id"]]["subscription"]
    assert outsider.put(f"/api/v1/ideas/{idea['id']}/subscription", {"level": "mute"}).status_code == 200
    assert {item["id"]: item for item in outsider.get("/api/v1/ideas").json["items"]}[idea["id"]]["subscription"] \
        == "mute"
    assert {item["id"]: item for item in member.get("/api/v1/ideas").json["items"]}[idea["id"]]["subscription"] \
        == members_level


def test_a_post_one_flagged_takes_no_second_flag_on_a_kept_page(caches_on, people, board, api_as):
    member, outsider = api_as(people.member), api_as(people.outsider)
    url = f"/api/v1/threads/{board}/posts"
    for client in (member, outsider):
        client.get(url)
    helpful = member.get(url).json["items"][1]
    assert helpful["can_flag"] is True
    assert member.post(f"/api/v1/posts/{helpful['id']}/flags", {"reason": "spam"}).status_code in (200, 201)
    assert member.get(url).json["items"][1]["can_flag"] is False
    assert api_as(people.moderator).get(url).json["items"][1]["can_flag"] is True
