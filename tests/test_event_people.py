"""Finding people at an event, privacy guarantees, meeting requests, pages and query bounds."""
import json
import re
from datetime import timedelta

import pytest
from sqlalchemy import Float, inspect, select

from community import permissions
from community.accounts.models import User, UserInterest
from community.database import db, utcnow
from community.demo import seed_demo_community
from community.gatherings import geo
from community.gatherings.models import Checkin, Event
from community.gatherings.people import count_attendees, list_attendees
from community.notifications.models import Notification

from .conftest import assert_error, count_queries
from .factories import make_category, make_event, make_organization, make_post, make_thread, make_user
from .test_events import VENUE, at


@pytest.fixture
def summit(make):
    return make(make_event, fence=VENUE)


@pytest.fixture
def crowd(make):
    """Attendees with companies, titles and interests (not yet checked in)."""
    def build():
        insurer, bank = make_organization("Acme Insurance"), make_organization("Initech Bank")
        people = {
            "alice": make_user(organization=insurer, display_name="Alice Chen", job_title="Head of Claims"),
            "bob": make_user(organization=bank, display_name="Bob Okafor", job_title="IT Architect"),
            "carla": make_user(organization=bank, display_name="Carla Rossi", job_title="Product Owner"),
            "dan": make_user(organization=insurer, display_name="Dan Brown", job_title="Enterprise Architect"),
        }
        for name, tags in (("alice", ["sso", "reporting"]), ("bob", ["sso", "api"]), ("carla", ["reporting"]),
                           ("dan", ["api"])):
            people[name].interest_rows = [UserInterest(tag=t) for t in tags]
        db.session.commit()
        return people
    return make(build)


def check_in(api_as, user, event, **body):
    client = api_as(user)
    response = client.post(f"/api/v1/events/{event.id}/checkin", {"code": event.checkin_code, **body})
    assert response.status_code == 201, response.json
    return client


def names(response) -> list[str]:
    assert response.status_code == 200, response.json
    return [item["user"]["name"] for item in response.json["items"]]


# Finding people


def test_attendee_items_and_filters(people, crowd, summit, api_as):
    for name, zone in (("alice", "Expo"), ("bob", "Main hall"), ("carla", "Expo"), ("dan", None)):
        check_in(api_as, crowd[name], summit, zone=zone)
    viewer = check_in(api_as, people.member, summit)
    url = f"/api/v1/events/{summit.id}/attendees"
    items = viewer.get(url).json["items"]
    assert [i["user"]["name"] for i in items] == ["Dan Brown", "Carla Rossi", "Bob Okafor", "Alice Chen"]
    alice = items[-1]
    assert alice == {"user": {"id": crowd["alice"].id, "name": "Alice Chen", "organization": "Acme Insurance",
                              "title": "Head of Claims", "interests": ["reporting", "sso"]},
                     "zone": "Expo", "distance_m": None, "can_ask_to_meet": True, "common": None}
    assert names(viewer.get(url + "?q=ROSS")) == ["Carla Rossi"]
    assert names(viewer.get(url + "?company=insur")) == ["Dan Brown", "Alice Chen"]
    assert names(viewer.get(url + "?company=INITECH%20b")) == ["Carla Rossi", "Bob Okafor"]
    assert names(viewer.get(url + "?company=%25")) == []  # wildcards are text, not patterns
    assert names(viewer.get(url + "?title=architect")) == ["Dan Brown", "Bob Okafor"]
    assert names(viewer.get(url + "?interest=SSO")) == ["Bob Okafor", "Alice Chen"]
    assert names(viewer.get(url + "?zone=expo")) == ["Carla Rossi", "Alice Chen"]
    assert names(viewer.get(url + "?company=bank&zone=Expo")) == ["Carla Rossi"]
    assert "zone" in assert_error(viewer.get(url + "?zone=Roof"), 422)["fields"]
    assert_error(viewer.get(url + "?sort=random"), 422)


def test_attendee_pages_are_keyset_pages(people, crowd, summit, api_as):
    for name in crowd:
        check_in(api_as, crowd[name], summit)
    viewer = api_as(people.member)
    url = f"/api/v1/events/{summit.id}/attendees?limit=3"
    first = viewer.get(url).json
    second = viewer.get(url + f"&cursor={first['next_cursor']}").json
    seen = [i["user"]["id"] for i in first["items"] + second["items"]]
    assert sorted(seen) == sorted(u.id for u in crowd.values()) and second["next_cursor"] is None
    assert_error(viewer.get(url + "&cursor=garbage"), 422)


def test_near_me_sorts_by_rounded_distance_within_the_radius(people, crowd, summit, api_as):
    check_in(api_as, crowd["alice"], summit, **at(410, 10))  # 8 cells east: 400 m
    check_in(api_as, crowd["bob"], summit, **at(110, 10))  # 2 cells: 100 m
    check_in(api_as, crowd["carla"], summit, **at(60, 60))  # diagonal neighbour: 70.7 -> 50 m
    check_in(api_as, crowd["dan"], summit)  # no position shared
    viewer = check_in(api_as, people.member, summit, **at(10, 10))
    url = f"/api/v1/events/{summit.id}/attendees?near=me"
    near = viewer.get(url + "&radius_m=500").json["items"]
    assert [(i["user"]["name"], i["distance_m"]) for i in near] == [
        ("Carla Rossi", 50), ("Bob Okafor", 100), ("Alice Chen", 400)]
    assert names(viewer.get(url + "&radius_m=120")) == ["Carla Rossi", "Bob Okafor"]
    assert names(viewer.get(url + "&radius_m=120&limit=1")) == ["Carla Rossi"]
    page = viewer.get(url + "&radius_m=500&limit=2").json
    assert names(viewer.get(url + f"&radius_m=500&limit=2&cursor={page['next_cursor']}")) == ["Alice Chen"]
    assert "radius_m" in assert_error(viewer.get(url + "&radius_m=5"), 422)["fields"]
    # The plain list shows the same rounded distances, and null where none is shared.
    items = viewer.get(f"/api/v1/events/{summit.id}/attendees").json["items"]
    plain = {i["user"]["name"]: i["distance_m"] for i in items}
    assert plain == {"Alice Chen": 400, "Bob Okafor": 100, "Carla Rossi": 50, "Dan Brown": None}
    assert_error(api_as(crowd["dan"]).get(url), 409, "no_position")


def test_near_me_pages_are_the_radius_pages_however_crowded_the_nearest_squares(app, make, summit, people, api_as):
    """"Near me" reads the smallest square that fills a page: walking the pages must give everyone
    within the radius once, nearest first, whether a page comes from one square or several."""
    # Crowded in the viewer's own cell and next to it, a few further out, one beyond the radius.
    cells = [(0, 0)] * 4 + [(1, 1)] * 4 + [(-1, 0)] * 3 + [(3, 0), (0, -4), (5, 5), (9, 0), (20, 0)]

    def build():
        for x, y in cells:
            db.session.add(Checkin(event_id=summit.id, user=make_user(), cell_x=x, cell_y=y))
        db.session.add(Checkin(event_id=summit.id, user_id=people.member.id, cell_x=0, cell_y=0))
        db.session.commit()
        return [c.user_id for c in sorted(db.session.scalars(select(Checkin).where(
            Checkin.event_id == summit.id, Checkin.user_id != people.member.id)),
            key=lambda c: (c.cell_x ** 2 + c.cell_y ** 2, c.id)) if c.cell_x ** 2 + c.cell_y ** 2 <= 100]

    expected = make(build)
    viewer = api_as(people.member)
    for limit in (3, 5, 11, 13):
        url = f"/api/v1/events/{summit.id}/attendees?near=me&radius_m=500&limit={limit}"
        seen, page = [], viewer.get(url).json
        seen += [item["user"]["id"] for item in page["items"]]
        while page["next_cursor"]:
            page = viewer.get(url + f"&cursor={page['next_cursor']}").json
            seen += [item["user"]["id"] for item in page["items"]]
        assert seen == expected, limit


def test_people_like_me_rank_by_shared_interests_and_threads(people, crowd, summit, make, api_as):
    def common_ground():
        viewer = db.session.merge(people.member)
        viewer.interest_rows = [UserInterest(tag=tag) for tag in ("sso", "api", "reporting")]
        public, staff = make_category("General"), make_category("Staff", staff_only=True)
        for thread in (make_thread(viewer, public), make_thread(db.session.merge(crowd["carla"]), public)):
            make_post(thread, db.session.merge(crowd["carla"]))
            make_post(thread, viewer)
        # A staff-only thread the member cannot read does not count, even if both posted there.
        secret = make_thread(db.session.merge(crowd["dan"]), staff)
        make_post(secret, viewer)
    make(common_ground)
    for name in crowd:
        check_in(api_as, crowd[name], summit)
    viewer = check_in(api_as, people.member, summit)
    items = viewer.get(f"/api/v1/events/{summit.id}/attendees?sort=like_me").json["items"]
    # Most in common first (ties: latest arrival first), whatever the order of arrival.
    assert [(i["user"]["name"], i["common"]) for i in items] == [
        ("Carla Rossi", {"interests": 1, "threads": 2}),
        ("Bob Okafor", {"interests": 2, "threads": 0}),
        ("Alice Chen", {"interests": 2, "threads": 0}),
        ("Dan Brown", {"interests": 1, "threads": 0}),
    ]
    first = viewer.get(f"/api/v1/events/{summit.id}/attendees?sort=like_me&limit=3").json
    rest = viewer.get(f"/api/v1/events/{summit.id}/attendees?sort=like_me&limit=3&cursor={first['next_cursor']}")
    assert names(rest) == ["Dan Brown"]


# Privacy


def test_no_coordinates_are_stored(app_context):
    columns = inspect(db.engine).get_columns("checkins")
    assert not [c["name"] for c in columns if isinstance(c["type"], Float)]
    assert not {"lat", "lng", "latitude", "longitude"} & {c["name"] for c in columns}


def test_coordinates_cannot_be_recovered_by_probing_from_many_places(app, people, crowd, summit, api_as):
    """Whatever anyone sees is a function of the target's 50 m cell: two raw positions in one
    cell answer every probe identically, so no number of probes narrows it further."""
    probes = [at(e, n) for e, n in ((-230, 5), (5, 170), (310, -140), (75, 75), (-60, 260), (12, 17), (44, 3),
                                    (26, 49), (-1, -1), (151, 0))]
    prober = check_in(api_as, people.member, summit, **probes[0])
    target = check_in(api_as, crowd["alice"], summit, **at(12, 17))

    def observe():
        seen = []
        for position in probes:
            prober.patch(f"/api/v1/events/{summit.id}/checkin", position)
            body = prober.get(f"/api/v1/events/{summit.id}/attendees").get_data(as_text=True)
            seen.append(json.loads(body)["items"][0]["distance_m"])
            assert "38.76" not in body and "-9.09" not in body  # no coordinate digits at all
        return seen

    first = observe()
    assert all(d % geo.DISTANCE_STEP_M == 0 for d in first)
    for elsewhere_in_the_cell in (at(44, 3), at(26, 49), at(1, 1)):
        target.patch(f"/api/v1/events/{summit.id}/checkin", elsewhere_in_the_cell)
        assert observe() == first
    # Probing from the target's exact spot says only "same cell", not "here".
    assert first[5] == 0 and first[6] == 0
    target.patch(f"/api/v1/events/{summit.id}/checkin", at(60, 17))  # the next cell east
    assert observe() != first


def test_hidden_attendees_are_nowhere(people, crowd, summit, api_as):
    check_in(api_as, crowd["alice"], summit, visibility="hidden", zone="Expo", **at(10, 10))
    check_in(api_as, crowd["bob"], summit)
    viewer = check_in(api_as, people.member, summit, **at(10, 10))
    url = f"/api/v1/events/{summit.id}/attendees"
    for query in ("", "?q=alice", "?company=acme", "?interest=sso", "?zone=Expo", "?near=me", "?sort=like_me",
                  "?title=claims"):
        response = viewer.get(url + query)
        assert "Alice" not in response.get_data(as_text=True), query
    counts = viewer.get(url + "/counts").json
    assert counts == {"total": 2, "by_organization": [{"organization": "Acme", "count": 1},
                                                       {"organization": "Initech Bank", "count": 1}]}
    assert_error(viewer.post(f"/api/v1/events/{summit.id}/meetings", {"user_id": crowd["alice"].id}), 404)


def test_count_only_attendees_are_counted_never_named(people, crowd, summit, api_as):
    for name in ("alice", "dan"):
        check_in(api_as, crowd[name], summit, visibility="count_only")
    viewer = check_in(api_as, people.member, summit)
    url = f"/api/v1/events/{summit.id}/attendees"
    assert viewer.get(url).json["items"] == []
    assert names(viewer.get(url + "?company=acme")) == []
    counts = viewer.get(url + "/counts").json
    assert {"organization": "Acme Insurance", "count": 2} in counts["by_organization"] and counts["total"] == 3
    # Asking a counted-only person to meet looks exactly like asking someone absent.
    absent = assert_error(viewer.post(f"/api/v1/events/{summit.id}/meetings", {"user_id": crowd["bob"].id}), 404)
    counted = assert_error(viewer.post(f"/api/v1/events/{summit.id}/meetings", {"user_id": crowd["dan"].id}), 404)
    assert absent == counted


def test_location_choices_limit_what_others_see(people, crowd, summit, api_as):
    check_in(api_as, crowd["alice"], summit, zone="Expo", location="none", **at(10, 10))
    check_in(api_as, crowd["bob"], summit, zone="Expo", location="zone", **at(10, 10))
    viewer = check_in(api_as, people.member, summit, **at(10, 10))
    url = f"/api/v1/events/{summit.id}/attendees"
    seen = {i["user"]["name"]: (i["zone"], i["distance_m"]) for i in viewer.get(url).json["items"]}
    assert seen == {"Alice Chen": (None, None), "Bob Okafor": ("Expo", None)}
    assert names(viewer.get(url + "?zone=Expo")) == ["Bob Okafor"]  # no finding Alice by a zone she hides
    assert names(viewer.get(url + "?near=me&radius_m=1000")) == []


# Meetings


def test_meeting_request_accept_and_notifications(app, people, summit, api_as):
    asker = check_in(api_as, people.member, summit)
    asked = check_in(api_as, people.outsider, summit)
    url = f"/api/v1/events/{summit.id}/meetings"
    created = asker.post(url, {"user_id": people.outsider.id, "message": "Coffee about SSO?", "zone": "expo"})
    assert created.status_code == 201, created.json
    meeting = created.json
    assert meeting["status"] == "pending" and meeting["zone"] == "Expo" and meeting["can_answer"] is False
    assert_error(asker.post(url, {"user_id": people.outsider.id}), 409, "meeting_already_requested")
    note = asked.get("/api/v1/notifications").json["items"][0]
    assert (note["kind"], note["event_id"], note["actor"]["id"]) == ("meeting_requested", summit.id, people.member.id)
    assert "Coffee about SSO?" in note["text"] and "Expo" in note["text"]
    assert asked.get(url).json["items"][0]["can_answer"] is True

    assert_error(asker.post(f"/api/v1/meetings/{meeting['id']}/accept"), 403)
    assert_error(api_as(people.admin).post(f"/api/v1/meetings/{meeting['id']}/accept"), 404)
    accepted = asked.post(f"/api/v1/meetings/{meeting['id']}/accept")
    assert accepted.status_code == 200 and accepted.json["status"] == "accepted"
    assert_error(asked.post(f"/api/v1/meetings/{meeting['id']}/decline"), 409, "meeting_already_answered")
    note = asker.get("/api/v1/notifications").json["items"][0]
    assert (note["kind"], note["event_id"]) == ("meeting_accepted", summit.id)
    assert [m["id"] for m in asker.get(url).json["items"]] == [meeting["id"]]
    assert api_as(people.admin).get(url).json["items"] == []


def test_decline_notifies_the_asker(people, summit, api_as):
    asker = check_in(api_as, people.member, summit)
    asked = check_in(api_as, people.outsider, summit)
    meeting = asker.post(f"/api/v1/events/{summit.id}/meetings", {"user_id": people.outsider.id}).json
    assert asked.post(f"/api/v1/meetings/{meeting['id']}/decline").json["status"] == "declined"
    assert asker.get("/api/v1/notifications").json["items"][0]["kind"] == "meeting_declined"


def test_who_may_ask_is_the_attendees_choice(people, crowd, summit, api_as):
    check_in(api_as, crowd["alice"], summit, who_may_ask="nobody")
    check_in(api_as, crowd["bob"], summit, who_may_ask="customers")
    vendor = check_in(api_as, people.moderator, summit)
    customer = check_in(api_as, people.member, summit)
    url = f"/api/v1/events/{summit.id}/meetings"
    assert_error(customer.post(url, {"user_id": crowd["alice"].id}), 403, "meeting_requests_closed")
    assert_error(vendor.post(url, {"user_id": crowd["bob"].id}), 403, "meeting_requests_closed")
    assert customer.post(url, {"user_id": crowd["bob"].id}).status_code == 201
    flags = {i["user"]["name"]: i["can_ask_to_meet"] for i in vendor.get(f"/api/v1/events/{summit.id}/attendees")
             .json["items"]}
    assert flags == {"Alice Chen": False, "Bob Okafor": False, "Mia Member": True}


def test_meeting_requests_have_a_daily_quota(app, people, crowd, summit, api_as):
    for name in crowd:
        check_in(api_as, crowd[name], summit)
    seller = check_in(api_as, people.moderator, summit)
    url = f"/api/v1/events/{summit.id}/meetings"
    app.config["MEETING_REQUESTS_PER_DAY"] = 2
    try:
        assert seller.post(url, {"user_id": crowd["alice"].id}).status_code == 201
        assert seller.post(url, {"user_id": crowd["bob"].id}).status_code == 201
        assert_error(seller.post(url, {"user_id": crowd["carla"].id}), 409, "meeting_quota_reached")
    finally:
        app.config["MEETING_REQUESTS_PER_DAY"] = 20
    with app.app_context():
        assert db.session.scalar(select(Notification.id).where(Notification.user_id == crowd["carla"].id)) is None


def test_meeting_requests_need_both_present(people, summit, api_as):
    url = f"/api/v1/events/{summit.id}/meetings"
    stranger = api_as(people.member)
    check_in(api_as, people.outsider, summit)
    assert_error(stranger.post(url, {"user_id": people.outsider.id}), 409, "not_checked_in")
    check_in(api_as, people.member, summit)
    assert_error(stranger.post(url, {"user_id": people.admin.id}), 404)
    assert "user_id" in assert_error(stranger.post(url, {"user_id": people.member.id}), 422)["fields"]
    assert "message" in assert_error(stranger.post(url, {"user_id": people.outsider.id, "message": "x" * 501}),
                                     422)["fields"]


# Web pages


def test_event_pages_on_the_web(app, people, crowd, summit, login_as, api_as):
    check_in(api_as, crowd["alice"], summit, zone="Expo")
    member = login_as(people.member)
    listing = member.get("/events").get_data(as_text=True)
    assert summit.name in listing and 'href="/events"' in listing
    page = member.get(f"/events/{summit.id}?code={summit.checkin_code}").get_data(as_text=True)
    assert f'value="{summit.checkin_code}"' in page
    assert re.findall(r"<script(?![^>]*\bsrc=)", page) == []  # scripts come from files only (CSP)
    wrong = member.post(f"/events/{summit.id}/checkin", {"code": "nope"})
    assert wrong.status_code == 422 and "not the check-in code" in wrong.get_data(as_text=True)
    done = member.post(f"/events/{summit.id}/checkin", {"code": summit.checkin_code, "zone": "Main hall",
                                                        "visibility": "listed", "location": "zone",
                                                        "who_may_ask": "anyone"})
    assert done.status_code == 302
    page = member.get(f"/events/{summit.id}").get_data(as_text=True)
    assert "You are checked in" in page and "Alice Chen" in page
    assert re.search(rf'id="attendees" data-live-room="event:{summit.id}" data-live-kind="event"', page)
    assert f'data-user-id="{crowd["alice"].id}"' in page
    assert "Alice Chen" not in member.get(f"/events/{summit.id}?company=bank").get_data(as_text=True)
    assert member.get(f"/events/{summit.id}?sort=near").status_code == 422  # no position on the web
    # Ask to meet, and the inbox on the other side.
    assert member.post(f"/events/{summit.id}/meet/{crowd['alice'].id}", {"message": "Hi"}).status_code == 302
    alice = login_as(crowd["alice"])
    inbox = alice.get(f"/events/{summit.id}/meetings").get_data(as_text=True)
    assert "Mia Member" in inbox and "Accept" in inbox
    meeting_id = re.search(r"/meetings/(\d+)/accept", inbox).group(1)
    assert alice.post(f"/meetings/{meeting_id}/accept").status_code == 302
    assert "accepted" in alice.get(f"/events/{summit.id}/meetings").get_data(as_text=True)
    assert member.post(f"/events/{summit.id}/checkout").status_code == 302
    assert member.post(f"/events/{summit.id}/registration").status_code == 302


def test_staff_pages_create_events_and_show_the_qr_code(people, summit, login_as):
    member = login_as(people.member)
    assert member.get(f"/events/{summit.id}/manage").status_code == 403
    assert member.get(f"/events/{summit.id}/checkin-qr.svg").status_code == 403
    assert member.get("/events/new").status_code == 403
    staff = login_as(people.moderator)
    manage = staff.get(f"/events/{summit.id}/manage").get_data(as_text=True)
    assert summit.checkin_code in manage and "checkin-qr.svg" in manage
    qr = staff.get(f"/events/{summit.id}/checkin-qr.svg")
    assert qr.mimetype == "image/svg+xml" and b"<svg" in qr.data and b"<script" not in qr.data
    form = {"name": "Meetup", "venue": "Berlin", "starts_at": "2030-06-01T18:00", "ends_at": "2030-06-01T17:00",
            "timezone": "Europe/Berlin"}
    bad = staff.post("/events/new", form)
    assert bad.status_code == 422 and "must end after it starts" in bad.get_data(as_text=True)
    bad = staff.post("/events/new", {**form, "ends_at": "2030-06-01T21:00", "fence_lat": "north"})
    assert bad.status_code == 422 and "Must be a number" in bad.get_data(as_text=True)
    created = staff.post("/events/new", {"name": "Meetup", "venue": "Berlin", "starts_at": "2030-06-01T18:00",
                                         "ends_at": "2030-06-01T21:00", "timezone": "Europe/Berlin",
                                         "zones": "Bar\nStage"})
    assert created.status_code == 302
    page = staff.get(created.headers["Location"]).get_data(as_text=True)
    assert "Sat Jun 01, 18:00" in page and "Bar, Stage" in page  # shown on the event's own clock


# Query bounds


def _api_queries(app, client, url) -> list[str]:
    with app.app_context(), count_queries() as statements:
        response = client.get(url)
    assert response.status_code == 200, response.json
    return statements


@pytest.mark.parametrize("query", ["", "?sort=like_me", "?near=me&radius_m=2000", "?company=org&interest=sso"])
def test_the_attendee_list_does_not_grow_with_its_length(app, make, api_as, people, query):
    def crowd_at(event, n):
        for i in range(n):
            user = make_user(organization=make_organization(f"Org {event.id}-{i}"))
            user.interest_rows = [UserInterest(tag="sso"), UserInterest(tag=f"tag{i}")]
            db.session.add(Checkin(event_id=event.id, user=user, zone_id=event.zones[i % 3].id, cell_x=i, cell_y=0))
        viewer = db.session.merge(people.member)
        viewer.interest_rows = [UserInterest(tag="sso")]
        db.session.add(Checkin(event_id=event.id, user_id=viewer.id, cell_x=0, cell_y=0))
        db.session.commit()
        return event.id

    small = make(lambda: crowd_at(make_event(fence=VENUE), 1))
    large = make(lambda: crowd_at(make_event(fence=VENUE), 12))
    viewer = api_as(people.member)
    few = _api_queries(app, viewer, f"/api/v1/events/{small}/attendees{query}")
    many = _api_queries(app, viewer, f"/api/v1/events/{large}/attendees{query}")
    assert len(viewer.get(f"/api/v1/events/{large}/attendees{query}").json["items"]) == 12
    assert len(many) == len(few), "\n---\n".join(many)
    assert len(many) <= 8, "\n---\n".join(many)


def test_the_event_list_does_not_grow_with_its_length(app, make, api_as, people):
    make(lambda: make_event("First"))
    viewer = api_as(people.member)
    few = _api_queries(app, viewer, "/api/v1/events")
    make(lambda: [make_event(f"Event {i}", starts_in=timedelta(days=i)) for i in range(10)])
    many = _api_queries(app, viewer, "/api/v1/events")
    assert len(viewer.get("/api/v1/events").json["items"]) == 11
    assert len(many) == len(few) and len(many) <= 4, "\n---\n".join(many)


def test_the_demo_has_an_event_on_now_with_people_checked_in(app_context):
    seed_demo_community()
    event = db.session.scalar(select(Event))
    alice = db.session.scalar(select(User).where(User.email == "alice@acme.test"))
    assert permissions.can_check_in(alice, event, utcnow()) and len(event.zones) >= 2
    assert count_attendees(alice, event.id).total >= 3
    assert list_attendees(alice, event.id).items
