"""Events: creating them, registering, checking in and out, presence expiry, live signals."""
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from community import events as domain_events
from community.database import db, utcnow
from community.errors import ValidationFailed
from community.gatherings import geo, presence
from community.gatherings.models import Checkin, Event, Registration

from .conftest import assert_error
from .factories import make_event, make_organization, make_user
from .helpers import announced, at_once

VENUE = (38.7684, -9.0940, 500)  # lat, lng, radius in metres


def at(east_m: float, north_m: float) -> dict:
    """A position this many metres east and north of the venue's centre."""
    lat = VENUE[0] + north_m / geo.METRES_PER_DEGREE
    lng = VENUE[1] + east_m / (geo.METRES_PER_DEGREE * geo.math.cos(geo.math.radians(VENUE[0])))
    return {"lat": lat, "lng": lng}


@pytest.fixture
def summit(make):
    return make(make_event, fence=VENUE)


PRESENCE = (domain_events.checkin_created, domain_events.checkin_updated, domain_events.checkin_removed)


def _with_event_id(heard):
    """The presence signals heard, each payload naming its event by id."""
    return [(name, {**payload, "event": payload["event"].id}) for name, payload in heard]


def _rows(app, model, *where) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(model).where(*where))


# Creating and listing events


def test_only_staff_create_events_and_bad_input_is_named(people, api_as):
    body = {"name": "Summit", "venue": "Lisbon", "starts_at": "2030-05-04T09:00:00+01:00",
            "ends_at": "2030-05-04T18:00:00+01:00", "timezone": "Europe/Lisbon",
            "geofence": {"lat": 38.77, "lng": -9.09, "radius_m": 400}, "zones": [{"name": "Hall A"}, {"name": "Expo"}]}
    assert_error(api_as(people.member).post("/api/v1/events", body), 403)
    staff = api_as(people.moderator)
    created = staff.post("/api/v1/events", body)
    assert created.status_code == 201, created.json
    event = created.json
    assert event["starts_at"].startswith("2030-05-04T08:00:00") and event["timezone"] == "Europe/Lisbon"
    assert event["geofence"] == {"lat": 38.77, "lng": -9.09, "radius_m": 400}
    assert [z["name"] for z in event["zones"]] == ["Hall A", "Expo"]
    assert event["can_manage"] is True and event["is_on"] is False and "checkin_code" not in event

    assert set(assert_error(staff.post("/api/v1/events", {**body, "timezone": "Mars/Olympus"}), 422)["fields"]) \
        == {"timezone"}
    bad = assert_error(staff.post("/api/v1/events", {**body, "ends_at": "2030-05-04T08:00:00+01:00"}), 422)
    assert set(bad["fields"]) == {"ends_at"}
    bad = assert_error(staff.post("/api/v1/events", {**body, "zones": [{"name": "A"}, {"name": "a"}],
                                                      "geofence": {"lat": 91, "lng": 0, "radius_m": 10}}), 422)
    assert {"zones", "geofence.lat", "geofence.radius_m"} <= set(bad["fields"])
    assert_error(staff.post("/api/v1/events", {**body, "starts_at": "2030-05-04T09:00:00"}), 422)  # no offset


def test_event_list_upcoming_and_past_with_keyset_pages(people, make, api_as):
    ids = [make(make_event, f"Upcoming {i}", starts_in=timedelta(days=i)).id for i in range(3)]
    past = make(make_event, "Last year", starts_in=timedelta(days=-400)).id
    member = api_as(people.member)
    first = member.get("/api/v1/events?limit=2").json
    second = member.get(f"/api/v1/events?limit=2&cursor={first['next_cursor']}").json
    assert [e["id"] for e in first["items"] + second["items"]] == ids and second["next_cursor"] is None
    assert [e["id"] for e in member.get("/api/v1/events?when=past").json["items"]] == [past]
    assert member.get(f"/api/v1/events/{ids[0]}").json["is_on"] is True
    assert_error(member.get("/api/v1/events/999999"), 404)


def test_registration_is_idempotent_and_counted_exactly(app, people, summit, api_as):
    member = api_as(people.member)
    for _ in range(2):
        event = member.put(f"/api/v1/events/{summit.id}/registration").json
        assert event["registered"] is True and event["registration_count"] == 1
    assert api_as(people.outsider).get(f"/api/v1/events/{summit.id}").json["registered"] is False
    for _ in range(2):
        event = member.delete(f"/api/v1/events/{summit.id}/registration").json
        assert event["registered"] is False and event["registration_count"] == 0
    assert _rows(app, Registration) == 0


def test_no_registering_for_an_event_that_is_over(people, make, api_as):
    over = make(make_event, starts_in=timedelta(days=-3), lasts=timedelta(hours=2))
    assert_error(api_as(people.member).put(f"/api/v1/events/{over.id}/registration"), 409, "event_over")


def test_staff_get_the_checkin_code_members_do_not(people, summit, api_as):
    assert_error(api_as(people.member).get(f"/api/v1/events/{summit.id}/checkin_code"), 403)
    body = api_as(people.moderator).get(f"/api/v1/events/{summit.id}/checkin_code").json
    assert body["code"] == summit.checkin_code
    assert body["qr_payload"].endswith(f"/events/{summit.id}?code={summit.checkin_code}")


# Checking in


def test_check_in_by_code_or_qr_payload_is_idempotent(app, people, summit, api_as):
    member = api_as(people.member)
    first = member.post(f"/api/v1/events/{summit.id}/checkin", {"code": summit.checkin_code, "zone": "expo"})
    assert first.status_code == 201, first.json
    assert first.json["zone"] == "Expo" and first.json["visibility"] == "listed"
    assert first.json["location"] == "approximate" and first.json["has_position"] is False
    payload = f"http://localhost/events/{summit.id}?code={summit.checkin_code}"
    again = member.post(f"/api/v1/events/{summit.id}/checkin", {"code": payload})
    assert again.status_code == 200 and again.json["zone"] == "Expo"
    assert _rows(app, Checkin) == 1


def test_check_in_refusals_say_why(people, make, summit, api_as):
    member = api_as(people.member)
    url = f"/api/v1/events/{summit.id}/checkin"
    assert assert_error(member.post(url, {"code": "guess"}), 422, "validation_failed")["fields"] == {
        "code": "This is not the check-in code of this event."}
    assert "code" in assert_error(member.post(url, {}), 422)["fields"]
    assert "zone" in assert_error(member.post(url, {"code": summit.checkin_code, "zone": "Roof"}), 422)["fields"]
    assert "visibility" in assert_error(member.post(url, {"code": summit.checkin_code, "visibility": "x"}),
                                        422)["fields"]
    assert_error(member.post(url, {**at(2000, 0)}), 409, "outside_geofence")
    assert "lng" in assert_error(member.post(url, {"lat": 38.7}), 422)["fields"]
    later = make(make_event, starts_in=timedelta(hours=2))
    over = make(make_event, starts_in=timedelta(hours=-5), lasts=timedelta(hours=1))
    assert_error(member.post(f"/api/v1/events/{later.id}/checkin", {"code": later.checkin_code}), 409,
                 "event_not_started")
    assert_error(member.post(f"/api/v1/events/{over.id}/checkin", {"code": over.checkin_code}), 409, "event_over")
    no_fence = make(make_event)
    assert "lat" in assert_error(member.post(f"/api/v1/events/{no_fence.id}/checkin", at(0, 0)), 422)["fields"]
    assert_error(member.post("/api/v1/events/999999/checkin", {"code": "x"}), 404)


def test_check_in_by_standing_inside_the_geofence(people, summit, api_as):
    response = api_as(people.member).post(f"/api/v1/events/{summit.id}/checkin", at(120, -80))
    assert response.status_code == 201 and response.json["has_position"] is True
    assert not {"lat", "lng", "cell_x", "cell_y"} & set(response.json)


def test_move_check_out_and_check_in_again(app, people, summit, api_as):
    member = api_as(people.member)
    url = f"/api/v1/events/{summit.id}/checkin"
    assert_error(member.patch(url, {"zone": "Expo"}), 409, "not_checked_in")
    member.post(url, {"code": summit.checkin_code, "zone": "Expo", "visibility": "count_only"})
    moved = member.patch(url, {"zone": "Workshop room", **at(10, 10)})
    assert moved.status_code == 200 and moved.json["zone"] == "Workshop room" and moved.json["has_position"]
    assert member.patch(url, {"zone": None}).json["zone"] is None
    assert member.delete(url).status_code == 204
    assert member.delete(url).status_code == 204  # idempotent
    assert_error(member.patch(url, {"zone": "Expo"}), 409, "not_checked_in")
    back = member.post(url, {"code": summit.checkin_code})
    assert back.status_code == 201
    # A new stay starts without the old zone and position; privacy choices are kept.
    assert back.json["zone"] is None and back.json["has_position"] is False
    assert back.json["visibility"] == "count_only"
    assert _rows(app, Checkin) == 1


def test_presence_lapses_without_updates(app, people, summit, api_as):
    member, other = api_as(people.member), api_as(people.outsider)
    member.post(f"/api/v1/events/{summit.id}/checkin", {"code": summit.checkin_code})
    assert len(other.get(f"/api/v1/events/{summit.id}/attendees").json["items"]) == 1
    with app.app_context():
        checkin = db.session.scalar(select(Checkin))
        checkin.last_seen_at = utcnow() - timedelta(minutes=app.config["CHECKIN_TTL_MINUTES"] + 1)
        db.session.commit()
    assert other.get(f"/api/v1/events/{summit.id}/attendees").json["items"] == []
    assert other.get(f"/api/v1/events/{summit.id}/attendees/counts").json["total"] == 0
    assert_error(member.patch(f"/api/v1/events/{summit.id}/checkin", {"zone": "Expo"}), 409, "not_checked_in")
    assert member.post(f"/api/v1/events/{summit.id}/checkin", {"code": summit.checkin_code}).status_code == 201


def test_the_ttl_comes_from_the_config(app, people, summit):
    with app.app_context():
        app.config["CHECKIN_TTL_MINUTES"] = 5
        try:
            checkin, _ = presence.do_check_in(db.session.merge(people.member), summit.id,
                                              {"code": summit.checkin_code})
            assert presence.checkin_expires_at(checkin) - checkin.last_seen_at == timedelta(minutes=5)
        finally:
            app.config["CHECKIN_TTL_MINUTES"] = 120


# Live signals


def test_presence_signals_carry_the_public_view_only(app, people, summit):
    with app.app_context(), announced(*PRESENCE) as heard:
        member = db.session.merge(people.member)
        presence.do_check_in(member, summit.id, {"code": summit.checkin_code, "zone": "Expo", **at(30, 30)})
        presence.do_update_checkin(member, summit.id, {"zone": "Main hall"})
        presence.do_update_checkin(member, summit.id, {"zone": "Main hall"})  # nothing changed: silence
        presence.do_update_checkin(member, summit.id, at(300, 300))  # a move to another cell
        presence.do_check_out(member, summit.id)
        presence.do_check_out(member, summit.id)
        sent = _with_event_id(heard)  # while the events it names can still be read
    assert [name for name, _ in sent] == ["checkin.created", "checkin.updated", "checkin.updated", "checkin.removed"]
    for _, payload in sent:
        assert set(payload) == {"event", "attendee"} and payload["event"] == summit.id
        assert set(payload["attendee"]) == {"user", "zone"}
        assert set(payload["attendee"]["user"]) == {"id", "name", "organization", "title", "interests"}
    assert sent[0][1]["attendee"]["zone"] == "Expo" and sent[1][1]["attendee"]["zone"] == "Main hall"
    assert sent[0][1]["attendee"]["user"]["id"] == people.member.id


def test_hidden_attendees_send_no_signal_and_counted_ones_send_no_name(app, people, summit):
    with app.app_context(), announced(*PRESENCE) as sent:
        hidden, counted = db.session.merge(people.member), db.session.merge(people.outsider)
        presence.do_check_in(hidden, summit.id, {"code": summit.checkin_code, "visibility": "hidden", "zone": "Expo"})
        presence.do_update_checkin(hidden, summit.id, {"zone": "Main hall"})
        presence.do_check_out(hidden, summit.id)
        presence.do_check_in(counted, summit.id, {"code": summit.checkin_code, "visibility": "count_only"})
        presence.do_update_checkin(counted, summit.id, {"visibility": "listed"})
        presence.do_update_checkin(counted, summit.id, {"visibility": "hidden"})
    assert [(name, payload["attendee"] and payload["attendee"]["user"]["id"]) for name, payload in sent] == [
        ("checkin.created", None),
        ("checkin.removed", None), ("checkin.created", people.outsider.id),
        ("checkin.removed", people.outsider.id),
    ]
    assert people.member.display_name not in repr(sent)


def test_a_location_of_none_keeps_the_zone_out_of_signals(app, people, summit):
    with app.app_context(), announced(*PRESENCE) as sent:
        presence.do_check_in(db.session.merge(people.member), summit.id,
                             {"code": summit.checkin_code, "zone": "Expo", "location": "none"})
    assert sent[0][1]["attendee"]["zone"] is None


def test_nothing_is_announced_for_a_refused_check_in(app, people, summit):
    with app.app_context(), announced(*PRESENCE) as sent, pytest.raises(ValidationFailed):
        presence.do_check_in(db.session.merge(people.member), summit.id, {"code": "wrong"})
    assert sent == []


# The spike: many check-ins at once lose none and duplicate none


def test_a_check_in_spike_loses_none(app, make, is_postgres):
    if not is_postgres:
        pytest.skip("concurrency is exercised on PostgreSQL")
    event = make(make_event, fence=VENUE)
    org = make(make_organization)
    users = make(lambda: [make_user(organization=db.session.merge(org)) for _ in range(30)])

    def check_in(user_id):
        return presence.do_check_in(db.session.get(type(users[0]), user_id), event.id, {"code": event.checkin_code})[1]

    # Every member twice at once, and one member many times at once.
    attempts = [u.id for u in users] * 2 + [users[0].id] * 10
    arrivals = at_once(app, check_in, attempts)
    assert arrivals.count(True) == len(users)
    assert _rows(app, Checkin, Checkin.event_id == event.id) == len(users)


def test_event_rows_survive_nothing_half_written(app, people, api_as):
    staff = api_as(people.moderator)
    bad = {"name": "X", "venue": "Y", "starts_at": "2030-01-01T10:00:00Z", "ends_at": "2030-01-01T11:00:00Z",
           "zones": [{"name": "A"}, {"name": "A"}]}
    assert_error(staff.post("/api/v1/events", bad), 422)
    assert _rows(app, Event) == 0
