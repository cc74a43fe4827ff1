"""A day at the live demo conference on a phone, as a new attendee would spend it: the agenda and
who is here before the forms, two sessions on one's schedule, a meeting booked in a free slot, the
calendar downloaded, a badge scanned (typed, and through the camera), and who is near, from the
browser's own position (Geolocation with the permission granted)."""
from pathlib import Path

import icalendar
import segno
from playwright.sync_api import expect

from .conftest import CHROMIUM, CHROMIUM_ARGS

NEAR_THE_EXPO = {"latitude": 38.7686, "longitude": -9.0938}  # inside the demo venue
GRANTED = {"geolocation": NEAR_THE_EXPO, "permissions": ["geolocation"]}


def summit_page(person):
    page = person.open("/events")
    page.get_by_role("link", name="Roundtable Customer Summit").first.click()
    expect(page.get_by_role("heading", name="Who is here")).to_be_visible()
    return page


def top(page, selector: str) -> float:
    return page.locator(selector).first.bounding_box()["y"]


def test_a_phone_day_agenda_meeting_calendar_and_near_me(site, browse_as, tmp_path):
    alice = browse_as("alice", "phone", **GRANTED).log_in("alice@acme.test")
    page = summit_page(alice)
    # Phone first: who is here, then the agenda, then the forms; registration is far from "My meetings".
    assert top(page, "#here") < top(page, "#agenda") < top(page, "#presence") < top(page, "#registration")
    assert page.locator(".event-actions").get_by_role("button", name="Cancel registration").count() == 0
    expect(page.locator(".now-next")).to_be_visible()
    alice.seen("event-phone")

    for title in ("Welcome and roadmap keynote", "What is new in permissions"):
        page.locator(".agenda-session", has_text=title).get_by_role("button", name="Add to my schedule").click()
        expect(page.locator(".agenda-session", has_text=title).get_by_role("button", name="On my schedule")
               ).to_be_visible()
    alice.seen("agenda-on-my-schedule")

    # Book Bob in one of his free slots (he had asked her already: the two requests become one meeting).
    page.locator("summary", has_text="Find people").click()
    page.get_by_label("Name").fill("bob")
    page.get_by_role("button", name="Find").click()
    page.locator("#attendees .attendee", has_text="Bob Okafor").get_by_role("link", name="Ask to meet").click()
    when = page.get_by_label("When")
    # all_inner_texts does not wait: read the options once the request page shows them.
    expect(when.locator("option").first).to_be_attached()
    slots = when.locator("option").all_inner_texts()
    assert len(slots) > 2 and slots[0] == "Now, here"
    when.select_option(index=1)
    alice.seen("meeting-slot")
    page.get_by_role("button", name="Send request").click()
    expect(page.get_by_text("had asked you too: your meeting is set")).to_be_visible()
    expect(page.locator(".meeting", has_text="Bob Okafor")).to_contain_text("accepted")
    alice.seen("meetings")

    page = summit_page(alice)
    with page.expect_download() as download:
        page.get_by_role("link", name="Calendar (.ics)").click()
    calendar = icalendar.Calendar.from_ical(Path(download.value.path()).read_bytes())
    assert sorted(str(e["summary"]) for e in calendar.walk("VEVENT")) == [
        "Meeting with Bob Okafor", "Welcome and roadmap keynote", "What is new in permissions"]
    assert str(calendar.walk("VEVENT")[0].decoded("dtstart").tzinfo) == "Europe/Lisbon"

    # Near me: only on her click does the page ask for the position, then it sends it like the apps.
    expect(page.locator("[data-position-status]")).not_to_contain_text("Position shared")
    page.get_by_role("button", name="Share my position").click()
    expect(page.locator("[data-position-status]")).to_contain_text("Position shared")
    alice.context.set_geolocation({"latitude": 38.7690, "longitude": -9.0935})  # she walks on
    page.get_by_role("link", name="Nearest to me").click()
    near = page.locator("#attendees .attendee")
    expect(near.first).to_contain_text("m")
    expect(page.get_by_label("Order")).to_have_value("near")
    alice.seen("nearest-to-me")


def badge_frames(code: str, path: Path, width: int = 640, height: int = 480) -> Path:
    """A Y4M video of the badge's QR code, for Chromium's fake camera."""
    matrix = [list(row) for row in segno.make(code, error="m", micro=False).matrix]
    size = len(matrix) + 8  # quiet zone
    scale = min(width, height) * 3 // 4 // size
    left, upper = (width - size * scale) // 2, (height - size * scale) // 2
    luma = bytearray([235]) * (width * height)
    for y, row in enumerate(matrix):
        for x, dark in enumerate(row):
            if dark:
                for dy in range(scale):
                    start = (upper + (y + 4) * scale + dy) * width + left + (x + 4) * scale
                    luma[start:start + scale] = bytes([16]) * scale
    chroma = bytes([128]) * (width // 2 * height // 2)
    with path.open("wb") as video:
        video.write(f"YUV4MPEG2 W{width} H{height} F10:1 Ip A1:1 C420jpeg\n".encode())
        for _ in range(5):
            video.write(b"FRAME\n" + bytes(luma) + chroma + chroma)
    return path


def test_badges_are_swapped_by_typing_the_code_or_through_the_camera(site, browse_as, browser, tmp_path):
    bob = browse_as("bob", "phone").log_in("bob@globex.test")
    page = bob.open("/events")
    page.get_by_role("link", name="Roundtable Customer Summit").first.click()
    page.get_by_role("link", name="Badge & contacts").click()
    expect(page.get_by_role("img", name="Your badge's QR code")).to_be_visible()
    code = page.locator(".badge-code").inner_text().replace(" ", "")
    bob.seen("my-badge")

    alice = browse_as("alice", "phone").log_in("alice@acme.test")
    page = alice.open("/events")
    page.get_by_role("link", name="Roundtable Customer Summit").first.click()
    page.get_by_role("link", name="Badge & contacts").click()
    page.get_by_label("Badge code").fill(code.lower())
    page.get_by_label("Note").fill("SSO rollout, call in May")
    page.get_by_label("Rating").select_option("4")
    page.get_by_role("button", name="Save contact").click()
    expect(page.get_by_text("Saved Bob Okafor.")).to_be_visible()
    expect(page.locator(".contact", has_text="Bob Okafor")).to_contain_text("SSO rollout")
    alice.seen("contacts")
    with page.expect_download() as download:
        page.get_by_role("link", name="vCard").click()
    assert "FN:Bob Okafor" in Path(download.value.path()).read_text()

    # Carla scans Alice's badge with her phone's camera (Chromium's fake camera plays the QR code).
    mine = page.locator(".badge-code").inner_text().replace(" ", "")
    video = badge_frames(mine, tmp_path / "badge.y4m")
    camera_browser = browser.browser_type.launch(executable_path=CHROMIUM, args=[
        *CHROMIUM_ARGS, "--use-fake-device-for-media-stream", f"--use-file-for-fake-video-capture={video}"])
    try:
        carla = browse_as("carla", "phone", browser_=camera_browser, permissions=["camera"])
        carla.log_in("carla@initech.test")
        page = carla.open("/events")
        page.get_by_role("link", name="Roundtable Customer Summit").first.click()
        page.get_by_role("link", name="Badge & contacts").click()
        page.get_by_role("button", name="Scan with the camera").click()
        expect(page.get_by_label("Badge code")).to_have_value(mine, timeout=20_000)
        carla.seen("scanned-with-the-camera")
        page.get_by_role("button", name="Save contact").click()
        expect(page.get_by_text("Saved Alice Chen.")).to_be_visible()
        carla.close()
    finally:
        camera_browser.close()
