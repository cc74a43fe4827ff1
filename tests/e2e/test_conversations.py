"""Conversations people enjoy, as a person notices them in Chromium: a draft survives a reload,
a pasted screenshot shows for another member, what is new is marked until read, reactions count
live in another browser, the asker marks the answer, and the keyboard reaches it all."""
import io
import re

import pytest
from PIL import Image
from playwright.sync_api import expect

from .conftest import VIEWPORTS, live_ready


def start_thread(person, category: str, title: str, body: str):
    page = person.open("/")
    page.get_by_role("link", name=category, exact=True).first.click()
    page.get_by_role("link", name="New thread").click()
    page.get_by_label("Title").fill(title)
    page.get_by_label("Message").fill(body)
    page.get_by_role("button", name="Post thread").click()
    expect(page.get_by_role("heading", name=title)).to_be_visible()
    return page.url


def paste_png(page, selector: str, width: int, height: int) -> None:
    """What Ctrl+V of a screenshot does: a paste event whose clipboard carries a PNG file."""
    image = io.BytesIO()
    Image.new("RGB", (width, height), (30, 140, 200)).save(image, "PNG")
    page.evaluate("""([selector, bytes]) => {
      const file = new File([new Uint8Array(bytes)], "screenshot.png", {type: "image/png"});
      const data = new DataTransfer();
      data.items.add(file);
      document.querySelector(selector).dispatchEvent(new ClipboardEvent("paste", {clipboardData: data, bubbles: true}));
    }""", [selector, list(image.getvalue())])


@pytest.mark.parametrize("viewport", list(VIEWPORTS))
def test_a_reply_with_a_pasted_screenshot_and_code_is_previewed_survives_a_reload_and_shows_to_others(
        site, browse_as, viewport):
    alice = browse_as("alice", viewport).log_in("alice@acme.test")
    url = start_thread(alice, "General", f"Screenshot of our setup ({viewport})", "How do you set up exports?")
    page = alice.page
    reply = page.get_by_label("Your reply")
    # The toolbar shows once the composer is set up, and with it its paste handler.
    expect(page.get_by_role("toolbar", name="Formatting")).to_be_visible()
    reply.fill("Our export job:\n\n```python\ndef export():\n    return 'csv'\n```\n")
    paste_png(page, "#reply-body", 160, 90)
    expect(page.get_by_role("status").filter(has_text="Uploaded screenshot.png")).to_be_visible()
    expect(reply).to_have_value(re.compile(r"!\[screenshot\.png\]\(/uploads/[^)]+\)"))

    page.get_by_role("button", name="Preview").click()
    preview = page.get_by_label("Preview")
    expect(preview.locator("pre code span.k", has_text="def")).to_be_visible()  # coloured by the server
    expect(preview.locator("img[alt='screenshot.png']")).to_have_attribute("width", "160")
    alice.seen("composer-preview")

    page.reload()  # midway: the draft is still there
    expect(page.get_by_text("Draft restored")).to_be_visible()
    expect(page.get_by_label("Your reply")).to_have_value(re.compile(r"def export\(\)"))
    alice.seen("draft-restored")
    page.get_by_role("button", name="Post reply").click()
    posted = page.locator("article.post").filter(has_text="Our export job")
    expect(posted.locator("img[alt='screenshot.png']")).to_have_attribute("height", "90")
    page.reload()
    expect(page.get_by_label("Your reply")).to_have_value("")  # posted: the draft is gone

    bob = browse_as("bob", viewport).log_in("bob@globex.test")
    image = bob.open(url).locator("article.post img[alt='screenshot.png']")
    expect(image).to_be_visible()
    assert image.evaluate("img => img.complete && img.naturalWidth") == 160
    bob.seen("screenshot-shown")


def test_the_new_mark_leads_to_the_first_unread_post_and_goes_once_read(site, browse_as):
    alice = browse_as("alice").log_in("alice@acme.test")
    bob = browse_as("bob").log_in("bob@globex.test")
    title = "Renewal checklist for the new year"
    url = start_thread(alice, "General", title, "What do you check before renewing?")
    row = bob.open("/").locator(".thread-row", has_text=title)
    expect(row.get_by_text("new", exact=True)).to_be_visible()
    row.get_by_role("link", name=title).click()
    expect(bob.page.get_by_role("heading", name=title)).to_be_visible()
    bob.page.wait_for_timeout(1500)  # seen on screen, then sent
    bob.open("/")  # away: replies arriving on an open thread page would be read as they come

    for n in range(3):
        alice.open(url)
        alice.page.get_by_label("Your reply").fill(f"Item {n}: check the seat count")
        alice.page.get_by_role("button", name="Post reply").click()
        expect(alice.page.get_by_text(f"Item {n}: check")).to_be_visible()
    row = bob.open("/").locator(".thread-row", has_text=title)
    expect(row.get_by_text("3 new")).to_be_visible()
    bob.seen("unread-count")
    row.get_by_role("link", name=title).click()
    expect(bob.page.get_by_text("New since your last visit")).to_be_in_viewport()
    expect(bob.page.locator("article.post-unread")).to_have_count(3)
    bob.page.get_by_text("Item 2: check").scroll_into_view_if_needed()
    bob.page.wait_for_timeout(1500)
    bob.seen("first-unread")
    row = bob.open("/").locator(".thread-row", has_text=title)
    expect(row.locator(".badge-new")).to_have_count(0)


def test_a_reaction_counts_live_in_another_browser_and_works_by_keyboard(site, browse_as):
    alice = browse_as("alice").log_in("alice@acme.test")
    bob = browse_as("bob").log_in("bob@globex.test")
    url = start_thread(alice, "General", "Who else uses the API daily?", "We call it every hour.")
    alice.mark_page()
    live_ready(alice.page)
    bob.open(url)
    heart = bob.page.locator("article.post").first.get_by_role("button", name=re.compile("heart"))
    heart.focus()
    bob.page.keyboard.press("Enter")
    expect(heart).to_have_attribute("aria-pressed", "true")
    expect(heart).to_have_accessible_name(re.compile(r"heart\s*1"))
    counter = alice.page.locator("article.post").first.locator("[data-reaction='heart'] [data-count]")
    expect(counter).to_have_text("1")  # pushed: Alice never reloaded
    expect(alice.page.locator("#live-announcer")).to_have_text(re.compile("Reactions changed"))
    alice.assert_not_reloaded()
    alice.seen("reaction-live")
    heart.click()
    expect(counter).to_have_text("")
    bob.seen("reaction-withdrawn")


def test_the_asker_marks_the_answer_that_solved_the_question(site, browse_as):
    carla = browse_as("carla", "phone").log_in("carla@initech.test")
    page = carla.open("/")
    page.get_by_role("link", name="Product help", exact=True).first.click()
    page.get_by_role("link", name="Unsolved").click()
    page.get_by_role("link", name="Exporting monthly reports to CSV").click()
    answer = page.locator("article.post").filter(has_text="Reports → Schedules")
    answer.get_by_role("button", name="Mark as solution").click()
    expect(page.get_by_text("Marked as the solution.")).to_be_visible()
    solution = page.get_by_role("complementary", name="Solution")
    expect(solution).to_contain_text("Reports → Schedules")
    carla.seen("solved")
    page.get_by_role("link", name="Product help").first.click()
    expect(page.locator(".thread-row", has_text="Exporting monthly reports").get_by_text("✓ solved")).to_be_visible()
    page.get_by_role("link", name="Unsolved").click()
    expect(page.get_by_role("link", name="Exporting monthly reports to CSV")).to_have_count(0)
    carla.seen("unsolved-list")


def test_the_skip_link_is_the_first_stop_and_focus_is_visible(site, browse_as):
    alice = browse_as("alice").log_in("alice@acme.test")
    page = alice.open("/")
    page.keyboard.press("Tab")
    skip = page.get_by_role("link", name="Skip to content")
    expect(skip).to_be_focused()
    expect(skip).to_be_in_viewport()
    outline = skip.evaluate("el => getComputedStyle(el).outlineStyle")
    assert outline != "none"
    page.keyboard.press("Enter")
    expect(page.locator("main")).to_be_focused()
    page.keyboard.press("Tab")
    focused = page.evaluate("document.activeElement.closest('main') !== null")
    assert focused, "the next Tab stays in the content"
    alice.seen("skip-link")
