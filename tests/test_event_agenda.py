"""Events people plan around: agenda and schedules, meeting slots and their conflicts (with a real
concurrent burst on PostgreSQL), reciprocal requests, reminders, calendar.ics, badges, contacts
and their exports, check-in codes people can type, and the rules behind the flags."""
import csv
import io
from datetime import datetime, timedelta

import icalendar
import pytest
import vobject
from sqlalchemy import select

from community import events as domain_events
from community.accounts.models import User
from community.database import db, utcnow
from community.gatherings import codes, meetings
from community.gatherings.models import MeetingRequest, MeetingStatus
from community.jobs.registry import PERIODIC
from community.notifications.models import Notification

from .conftest import assert_error, count_queries
from .factories import make_event, make_user
from .helpers import announced, at_once
from .test_event_people import check_in
from .test_events import VENUE


@pytest.fixture
def summit(make):
    return make(make_event, fence=VENUE)


def soon(hours: float = 1) -> datetime:
    """A whole minute `hours` from now (inside the default event: it runs from 1 h ago for 8 h)."""
    return utcnow().replace(second=0, microsecond=0) + timedelta(hours=hours)


def iso(moment: datetime) -> str:
    return moment.isoformat()


def session_body(title="Keynote", start=None, minutes=45, **extra):
    start = start or soon(1)
    return {"title": title, "starts_at": iso(start), "ends_at": iso(start + timedelta(minutes=minutes)), **extra}


# Rules behind the flags (issue 16)


def test_registering_for_an_event_that_is_over_is_refused_and_the_flag_says_so(make, people, api_as):
    over = make(make_event, starts_in=timedelta(days=-2), lasts=timedelta(hours=8))
    ahead = make(make_event, starts_in=timedelta(days=2))
    member = api_as(people.member)
    assert member.get(f"/api/v1/events/{over.id}").json["can_register"] is False
    assert_error(member.put(f"/api/v1/events/{over.id}/registration"), 409, "event_over")
    assert member.get(f"/api/v1/events/{ahead.id}").json["can_register"] is True
    assert member.put(f"/api/v1/events/{ahead.id}/registration").json["registered"] is True


def test_check_in_codes_avoid_look_alikes_and_read_in_any_case(people, api_as):
    staff = api_as(people.moderator)
    start = soon(-1)
    event = staff.post("/api/v1/events", {"name": "Meetup", "venue": "Porto", "starts_at": iso(start),
                                          "ends_at": iso(start + timedelta(hours=4))}).json
    code = staff.get(f"/api/v1/events/{event['id']}/checkin_code").json["code"]
    assert len(code) == codes.CODE_LENGTH and set(code) <= set(codes.ALPHABET)
    assert not set(code) & set("01OIL")
    typed = "-".join([code[:5].lower(), code[5:]])  # as someone types it off a screen
    member = api_as(people.member)
    checked = member.post(f"/api/v1/events/{event['id']}/checkin", {"code": typed})
    assert checked.status_code == 201, checked.json
    assert_error(api_as(people.outsider).post(f"/api/v1/events/{event['id']}/checkin",
                                              {"code": code[:-1] + ("2" if code[-1] != "2" else "3")}), 422)


def test_my_checkin_is_on_the_event_and_expiry_is_iso_utc(people, summit, api_as):
    member = api_as(people.member)
    assert member.get(f"/api/v1/events/{summit.id}").json["my_checkin"] is None
    check_in(api_as, people.member, summit, zone="Expo")
    mine = member.get(f"/api/v1/events/{summit.id}").json["my_checkin"]
    assert mine["zone"] == "Expo" and mine["event_id"] == summit.id
    moved = member.patch(f"/api/v1/events/{summit.id}/checkin", {"zone": "Main hall"})
    expires = datetime.fromisoformat(moved.json["expires_at"])
    assert expires.utcoffset() == timedelta(0) and expires > utcnow()
    assert "GMT" not in moved.json["expires_at"]


def test_reciprocal_requests_settle_into_one_meeting(app, people, summit, api_as):
    alice = check_in(api_as, people.member, summit)
    bob = check_in(api_as, people.outsider, summit)
    url = f"/api/v1/events/{summit.id}/meetings"
    asked = alice.post(url, {"user_id": people.outsider.id}).json
    answer = bob.post(url, {"user_id": people.member.id})
    assert answer.status_code == 200 and answer.json["id"] == asked["id"] and answer.json["status"] == "accepted"
    assert [m["status"] for m in bob.get(url).json["items"]] == ["accepted"]
    assert alice.get("/api/v1/notifications").json["items"][0]["kind"] == "meeting_accepted"


def test_accepting_one_of_two_crossed_requests_settles_the_other(app, people, summit, api_as):
    alice = check_in(api_as, people.member, summit)
    bob = check_in(api_as, people.outsider, summit)
    bob.put(f"/api/v1/events/{summit.id}/availability",
            {"slots": [{"starts_at": iso(soon(1)), "ends_at": iso(soon(2))}]})
    alice.put(f"/api/v1/events/{summit.id}/availability",
              {"slots": [{"starts_at": iso(soon(3)), "ends_at": iso(soon(4))}]})
    url = f"/api/v1/events/{summit.id}/meetings"
    hers = alice.post(url, {"user_id": people.outsider.id, "starts_at": iso(soon(1))}).json
    his = bob.post(url, {"user_id": people.member.id, "starts_at": iso(soon(3))})
    assert his.status_code == 201 and his.json["status"] == "pending"  # another time: a request of its own
    assert bob.post(f"/api/v1/meetings/{hers['id']}/accept").json["status"] == "accepted"
    statuses = {m["id"]: m["status"] for m in alice.get(url).json["items"]}
    assert statuses == {hers["id"]: "accepted", his.json["id"]: "superseded"}
    assert alice.get(url).json["items"][0]["can_answer"] is False


# Agenda


def test_staff_build_the_agenda_and_members_build_their_schedule(app, people, summit, api_as):
    staff, member = api_as(people.moderator), api_as(people.member)
    url = f"/api/v1/events/{summit.id}/sessions"
    assert_error(member.post(url, session_body()), 403)
    with announced(domain_events.agenda_changed) as heard:
        keynote = staff.post(url, session_body("Keynote", zone="main hall", speakers="Ana Lima")).json
        workshop = staff.post(url, session_body("SSO workshop", start=soon(2), zone="Workshop room")).json
        moved = staff.patch(f"/api/v1/sessions/{workshop['id']}", {"starts_at": iso(soon(3)),
                                                                    "ends_at": iso(soon(4))})
        assert moved.status_code == 200 and moved.json["title"] == "SSO workshop"
        assert staff.delete(f"/api/v1/sessions/{moved.json['id']}").status_code == 204
    sent = [(payload["change"], payload["session"].id) for _, payload in heard]
    assert sent == [("created", keynote["id"]), ("created", workshop["id"]), ("updated", workshop["id"]),
                    ("deleted", workshop["id"])]
    assert keynote["zone"] == "Main hall" and keynote["can_edit"] is True and keynote["on_my_schedule"] is False

    bad = assert_error(staff.post(url, session_body(start=summit.ends_at)), 422)
    assert "starts_at" in bad["fields"]
    assert "zone" in assert_error(staff.post(url, session_body(zone="Roof")), 422)["fields"]

    for _ in range(2):  # idempotent
        added = member.put(f"/api/v1/sessions/{keynote['id']}/attendance")
        assert added.status_code == 200 and added.json["on_my_schedule"] is True
    schedule = member.get(f"/api/v1/events/{summit.id}/schedule").json["items"]
    assert [(i["kind"], i["session"]["title"]) for i in schedule] == [("session", "Keynote")]
    assert api_as(people.outsider).get(f"/api/v1/events/{summit.id}/schedule").json["items"] == []
    assert member.delete(f"/api/v1/sessions/{keynote['id']}/attendance").json["on_my_schedule"] is False
    assert member.get(url).json["items"][0]["can_edit"] is False


def test_the_agenda_does_not_grow_in_queries_with_its_length(app, make, people, summit, api_as):
    staff = api_as(people.moderator)
    url = f"/api/v1/events/{summit.id}/sessions"

    def queries() -> int:
        with app.app_context(), count_queries() as statements:
            assert staff.get(url).status_code == 200
        return len(statements)

    staff.post(url, session_body("One"))
    one = queries()
    for i in range(6):
        staff.post(url, session_body(f"Talk {i}", start=soon(1 + i / 2), zone="Expo"))
    assert queries() == one


# Meeting slots


def test_meetings_are_booked_into_free_slots_and_taken_slots_answer_409(make, people, summit, api_as):
    alice = check_in(api_as, people.member, summit)
    bob = check_in(api_as, people.outsider, summit)
    staff = api_as(people.moderator)
    url = f"/api/v1/events/{summit.id}/meetings"
    at_ten = soon(1)
    assert_error(alice.post(url, {"user_id": people.outsider.id, "starts_at": iso(at_ten)}), 409, "slot_unavailable")

    published = bob.put(f"/api/v1/events/{summit.id}/availability", {"slots": [
        {"starts_at": iso(at_ten + timedelta(minutes=30)), "ends_at": iso(at_ten + timedelta(minutes=60))},
        {"starts_at": iso(at_ten), "ends_at": iso(at_ten + timedelta(minutes=45))}]})
    assert published.json["slots"] == [{"starts_at": iso(at_ten), "ends_at": iso(at_ten + timedelta(hours=1))}]
    slots = alice.get(f"/api/v1/events/{summit.id}/attendees/{people.outsider.id}/free_slots").json["items"]
    assert [s["starts_at"] for s in slots] == [iso(at_ten), iso(at_ten + timedelta(minutes=30))]

    asked = alice.post(url, {"user_id": people.outsider.id, "starts_at": iso(at_ten), "zone": "Expo"})
    assert asked.status_code == 201 and asked.json["ends_at"] == iso(at_ten + timedelta(minutes=30))
    assert bob.post(f"/api/v1/meetings/{asked.json['id']}/accept").json["status"] == "accepted"
    slots = alice.get(f"/api/v1/events/{summit.id}/attendees/{people.outsider.id}/free_slots").json["items"]
    assert [s["starts_at"] for s in slots] == [iso(at_ten + timedelta(minutes=30))]

    # The slot is taken now, for anyone else who asks Bob then.
    carla = make_user_checked_in(make, api_as, summit, "Carla Rossi")
    refused = assert_error(carla.post(url, {"user_id": people.outsider.id, "starts_at": iso(at_ten)}),
                           409, "slot_taken")
    assert refused["message"] == f"{people.outsider.display_name} is not free then: pick another slot."
    # A session on one's own schedule takes the time too, and a session cannot go over a meeting.
    talk = staff.post(f"/api/v1/events/{summit.id}/sessions",
                      session_body("Roadmap", start=at_ten + timedelta(minutes=30), minutes=30)).json
    assert alice.put(f"/api/v1/sessions/{talk['id']}/attendance").status_code == 200
    assert_error(carla.post(url, {"user_id": people.member.id, "starts_at": iso(at_ten + timedelta(minutes=30))}),
                 409, "slot_unavailable")  # Alice published nothing
    alice.put(f"/api/v1/events/{summit.id}/availability",
              {"slots": [{"starts_at": iso(at_ten), "ends_at": iso(at_ten + timedelta(hours=2))}]})
    assert_error(carla.post(url, {"user_id": people.member.id, "starts_at": iso(at_ten + timedelta(minutes=30))}),
                 409, "slot_taken")
    early = staff.post(f"/api/v1/events/{summit.id}/sessions", session_body("Breakfast", start=at_ten, minutes=15)).json
    taken = assert_error(alice.put(f"/api/v1/sessions/{early['id']}/attendance"), 409, "slot_taken")
    assert "meeting with" in taken["message"]
    assert "starts_at" in assert_error(alice.post(url, {"user_id": people.outsider.id,
                                                         "starts_at": iso(summit.ends_at)}), 422)["fields"]


def make_user_checked_in(make, api_as, event, name):
    return check_in(api_as, make(make_user, display_name=name), event)


def test_accepting_a_meeting_into_a_slot_taken_meanwhile_is_refused(make, people, summit, api_as):
    bob = check_in(api_as, people.outsider, summit)
    alice = check_in(api_as, people.member, summit)
    carla = make_user_checked_in(make, api_as, summit, "Carla Rossi")
    at = soon(2)
    bob.put(f"/api/v1/events/{summit.id}/availability",
            {"slots": [{"starts_at": iso(at), "ends_at": iso(at + timedelta(hours=1))}]})
    url = f"/api/v1/events/{summit.id}/meetings"
    first = alice.post(url, {"user_id": people.outsider.id, "starts_at": iso(at)}).json
    second = carla.post(url, {"user_id": people.outsider.id, "starts_at": iso(at + timedelta(minutes=15))}).json
    assert bob.post(f"/api/v1/meetings/{first['id']}/accept").status_code == 200
    assert_error(bob.post(f"/api/v1/meetings/{second['id']}/accept"), 409, "slot_taken")
    assert bob.post(f"/api/v1/meetings/{second['id']}/decline").json["status"] == "declined"


def test_a_burst_of_acceptances_for_one_slot_lets_exactly_one_win(app, make, summit, is_postgres):
    if not is_postgres:
        pytest.skip("SQLite serialises writers; bursts are exercised on PostgreSQL")
    count = 8
    at = soon(2)

    def build():
        bob = make_user(display_name="Bob Booked")
        askers = [make_user(display_name=f"Asker {i}") for i in range(count)]
        event = db.session.get(type(summit), summit.id)
        from community.gatherings import presence, schedule
        for person in (bob, *askers):
            presence.do_check_in(person, event.id, {"code": event.checkin_code})
        schedule.do_set_availability(bob, event.id, [{"starts_at": at, "ends_at": at + timedelta(hours=1)}])
        ids = [meetings.do_request_meeting(asker, event.id, bob.id, starts_at=at).id for asker in askers]
        return bob.id, ids

    bob_id, meeting_ids = make(build)

    def accept(meeting_id):
        return meetings.do_answer_meeting(db.session.get(User, bob_id), meeting_id, accept=True).status

    outcomes = at_once(app, accept, meeting_ids)
    assert sorted(outcomes) == ["accepted"] + ["slot_taken"] * (count - 1)
    with app.app_context():
        accepted = db.session.scalars(select(MeetingRequest).where(
            MeetingRequest.recipient_id == bob_id, MeetingRequest.status == MeetingStatus.ACCEPTED)).all()
        assert len(accepted) == 1


def test_both_are_reminded_once_before_a_meeting(app, people, summit, api_as):
    alice = check_in(api_as, people.member, summit)
    bob = check_in(api_as, people.outsider, summit)
    at = soon(1)
    bob.put(f"/api/v1/events/{summit.id}/availability",
            {"slots": [{"starts_at": iso(at), "ends_at": iso(at + timedelta(hours=1))}]})
    meeting = alice.post(f"/api/v1/events/{summit.id}/meetings",
                         {"user_id": people.outsider.id, "starts_at": iso(at), "zone": "Expo"}).json
    bob.post(f"/api/v1/meetings/{meeting['id']}/accept")
    with app.app_context():
        assert meetings.send_meeting_reminders(at - timedelta(minutes=30)) == 0  # not yet
        assert meetings.send_meeting_reminders(at - timedelta(minutes=10)) == 1
        assert meetings.send_meeting_reminders(at - timedelta(minutes=5)) == 0  # once
        reminders = db.session.scalars(select(Notification).where(Notification.kind == "meeting_reminder")).all()
        assert sorted(n.user_id for n in reminders) == sorted([people.member.id, people.outsider.id])
        assert all("Expo" in n.text for n in reminders)
    assert "meetings.remind" in PERIODIC  # the workers run it each minute


# Calendar


def test_calendar_ics_has_my_sessions_and_meetings_in_the_event_time_zone(app, make, people, api_as):
    def lisbon():
        event = make_event(fence=VENUE)
        event.timezone = "Europe/Lisbon"
        db.session.commit()
        return event

    event = make(lisbon)
    staff = api_as(people.moderator)
    alice = check_in(api_as, people.member, event)
    bob = check_in(api_as, people.outsider, event)
    talk = staff.post(f"/api/v1/events/{event.id}/sessions", session_body("Keynote", zone="Main hall")).json
    staff.post(f"/api/v1/events/{event.id}/sessions", session_body("Not mine", start=soon(3)))
    alice.put(f"/api/v1/sessions/{talk['id']}/attendance")
    at = soon(2)
    bob.put(f"/api/v1/events/{event.id}/availability", {"slots": [{"starts_at": iso(at), "ends_at": iso(soon(3))}]})
    meeting = alice.post(f"/api/v1/events/{event.id}/meetings", {"user_id": people.outsider.id,
                                                                  "starts_at": iso(at)}).json
    bob.post(f"/api/v1/meetings/{meeting['id']}/accept")

    response = alice.get(f"/api/v1/events/{event.id}/calendar.ics")
    assert response.status_code == 200 and response.mimetype == "text/calendar"
    calendar = icalendar.Calendar.from_ical(response.data)
    entries = {str(e["summary"]): e for e in calendar.walk("VEVENT")}
    assert set(entries) == {"Keynote", f"Meeting with {people.outsider.display_name}"}
    assert [str(tz["tzid"]) for tz in calendar.walk("VTIMEZONE")] == ["Europe/Lisbon"]
    start = entries["Keynote"].decoded("dtstart")
    assert str(start.tzinfo) == "Europe/Lisbon" and start == datetime.fromisoformat(talk["starts_at"])
    assert "Main hall" in str(entries["Keynote"]["location"])
    assert b"TZID=Europe/Lisbon" in response.data
    bob_calendar = icalendar.Calendar.from_ical(bob.get(f"/api/v1/events/{event.id}/calendar.ics").data)
    assert [str(e["summary"]) for e in bob_calendar.walk("VEVENT")] == [f"Meeting with {people.member.display_name}"]


# Badges and contacts


def test_badges_and_contacts_with_allow_and_ask(app, people, summit, api_as):
    alice, bob, carla = api_as(people.member), api_as(people.outsider), api_as(people.moderator)
    assert_error(alice.get(f"/api/v1/events/{summit.id}/badge"), 409, "not_attending")
    for client in (alice, bob, carla):
        client.put(f"/api/v1/events/{summit.id}/registration")
    badge = bob.get(f"/api/v1/events/{summit.id}/badge").json
    assert set(badge) == {"code", "qr_svg", "contact_exchange"} and badge["qr_svg"].lstrip().startswith("<?xml")
    assert "<svg" in badge["qr_svg"] and badge["contact_exchange"] == "allow"
    assert bob.get(f"/api/v1/events/{summit.id}/badge").json["code"] == badge["code"]  # one badge per event

    url = f"/api/v1/events/{summit.id}/contacts"
    saved = alice.post(url, {"badge_code": badge["code"].lower(), "note": "SSO rollout in Q3", "rating": 4})
    assert saved.status_code == 201, saved.json
    assert saved.json["status"] == "accepted" and saved.json["user"]["name"] == people.outsider.display_name
    assert set(saved.json["user"]) == {"id", "name", "organization", "title", "interests"}  # the card, no more
    again = alice.post(url, {"badge_code": badge["code"], "note": "Call on Monday", "rating": 5}).json
    assert again["id"] == saved.json["id"] and (again["note"], again["rating"]) == ("Call on Monday", 5)
    assert bob.get("/api/v1/notifications").json["items"][0]["kind"] == "contact_saved"
    assert_error(alice.post(url, {"badge_code": "NOPE2345XY"}), 404)
    assert "badge_code" in assert_error(bob.post(url, {"badge_code": badge["code"]}), 422)["fields"]
    assert "rating" in assert_error(alice.post(url, {"badge_code": badge["code"], "rating": 6}), 422)["fields"]

    # Carla asks first: Alice's scan waits for her answer and shows no card meanwhile.
    changed = carla.patch(f"/api/v1/events/{summit.id}/badge", {"contact_exchange": "ask"})
    assert changed.json["contact_exchange"] == "ask"
    careful = carla.get(f"/api/v1/events/{summit.id}/badge").json
    pending = alice.post(url, {"badge_code": careful["code"]}).json
    assert pending["status"] == "pending" and pending["user"] is None
    requests_ = carla.get(f"/api/v1/events/{summit.id}/contact_requests").json["items"]
    assert [r["user"]["name"] for r in requests_] == [people.member.display_name]
    assert_error(alice.post(f"/api/v1/contacts/{pending['id']}/accept"), 404)  # only Carla answers
    assert carla.post(f"/api/v1/contacts/{pending['id']}/accept").status_code == 200
    assert_error(carla.post(f"/api/v1/contacts/{pending['id']}/decline"), 409, "contact_already_answered")
    items = alice.get(url).json["items"]
    assert [(i["user"] or {}).get("name") for i in items] == [people.moderator.display_name,
                                                             people.outsider.display_name]
    assert bob.get(url).json["items"] == []  # one's own contacts only


def test_contacts_export_as_csv_and_vcard(app, make, people, summit, api_as):
    alice, bob = api_as(people.member), api_as(people.outsider)

    def sneaky_name():
        user = db.session.get(User, people.outsider.id)
        user.display_name = "=HYPERLINK(1)"
        db.session.commit()

    for client in (alice, bob):
        client.put(f"/api/v1/events/{summit.id}/registration")
    code = bob.get(f"/api/v1/events/{summit.id}/badge").json["code"]
    alice.post(f"/api/v1/events/{summit.id}/contacts", {"badge_code": code, "note": "Wants SSO, budget in Q3",
                                                         "rating": 5})
    exported = alice.get(f"/api/v1/events/{summit.id}/contacts?format=csv")
    assert exported.status_code == 200 and exported.mimetype == "text/csv"
    assert "attachment" in exported.headers["Content-Disposition"]
    rows = list(csv.DictReader(io.StringIO(exported.get_data(as_text=True))))
    assert [(r["name"], r["organization"], r["rating"], r["note"]) for r in rows] == [
        (people.outsider.display_name, people.outsider.organization_name, "5", "Wants SSO, budget in Q3")]
    vcard = alice.get(f"/api/v1/events/{summit.id}/contacts?format=vcard")
    assert vcard.mimetype == "text/vcard"
    cards = list(vobject.readComponents(vcard.get_data(as_text=True)))
    assert [c.fn.value for c in cards] == [people.outsider.display_name]
    assert cards[0].org.value == [people.outsider.organization_name] and "budget in Q3" in cards[0].note.value
    make(sneaky_name)
    rows = list(csv.reader(io.StringIO(alice.get(f"/api/v1/events/{summit.id}/contacts?format=csv")
                                       .get_data(as_text=True))))
    assert rows[1][0] == "'=HYPERLINK(1)"


def test_the_contact_list_does_not_grow_in_queries_with_its_length(app, make, people, summit, api_as):
    alice = api_as(people.member)
    alice.put(f"/api/v1/events/{summit.id}/registration")
    url = f"/api/v1/events/{summit.id}/contacts"

    def scan_someone(i):
        def build():
            from community.gatherings import calendar, contacts
            user = make_user(display_name=f"Person {i}")
            calendar.do_register(user, summit.id)
            return contacts.access_badge(user, summit.id).badge_code
        alice.post(url, {"badge_code": make(build)})

    def queries() -> int:
        with app.app_context(), count_queries() as statements:
            assert alice.get(url).status_code == 200
        return len(statements)

    scan_someone(0)
    one = queries()
    for i in range(1, 6):
        scan_someone(i)
    assert queries() == one
