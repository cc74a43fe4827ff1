"""Members, moderators and attendees doing what they come for, in a real browser, at desktop and
phone widths. Each journey makes its own data (titles carry the width), so both widths share one
demo server."""
import re
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import expect

from .conftest import VIEWPORTS

pytestmark = pytest.mark.parametrize("viewport", list(VIEWPORTS))


def start_thread(person, category: str, title: str, body: str):
    page = person.open("/")
    page.get_by_role("link", name=category, exact=True).first.click()
    person.seen("category")
    page.get_by_role("link", name="New thread").click()
    person.seen("new-thread")
    page.get_by_label("Title").fill(title)
    page.get_by_label("Message").fill(body)
    page.get_by_role("button", name="Post thread").click()
    expect(page.get_by_role("heading", name=title)).to_be_visible()
    return page


def reply(person, body: str):
    page = person.page
    page.get_by_label("Your reply").fill(body)
    page.get_by_role("button", name="Post reply").click()
    return page.locator("article.post")


def test_an_invited_person_joins_sets_a_password_and_signs_in_with_it(site, browse_as, viewport):
    email = f"dana.{viewport}@umbrella.test"
    url = site.command("invite", email, "--organization", "Umbrella Health").strip()
    newcomer = browse_as("newcomer", viewport)
    page = newcomer.open(urlsplit(url).path)
    expect(page.get_by_text(email)).to_be_visible()
    newcomer.seen("accept-invitation")
    page.get_by_label("Your name").fill("Dana Diaz")
    page.get_by_label("Password").fill("a-long-enough-secret")
    page.get_by_role("button", name="Join").click()
    expect(page.get_by_text("Welcome to the community, Dana Diaz!")).to_be_visible()
    newcomer.seen("welcome")

    newcomer.menu().get_by_role("button", name="Sign out").click()
    expect(page.get_by_role("heading", name="Sign in")).to_be_visible()
    newcomer.seen("signed-out")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill("not-the-password")
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("alert")).to_be_visible()
    newcomer.seen("wrong-password")
    newcomer.log_in(email, "a-long-enough-secret")
    expect(newcomer.menu().get_by_role("link", name="Dana Diaz")).to_be_visible()

    page = newcomer.open(urlsplit(url).path)  # an invitation works once
    expect(page.get_by_role("heading", name="Join the community")).to_have_count(0)


def test_a_member_starts_a_thread_replies_and_edits_a_post(site, browse_as, viewport):
    alice = browse_as("alice", viewport).log_in("alice@acme.test")
    alice.seen("discussions")
    title = f"Claims triage rules ({viewport})"
    page = start_thread(alice, "General", title, "How do you **route** incoming claims?")
    expect(page.locator(".post-body strong", has_text="route")).to_be_visible()
    alice.seen("new-thread-posted")

    posted = reply(alice, "We route by *line of business*.").filter(has_text="line of business")
    expect(posted.locator("em", has_text="line of business")).to_be_visible()
    alice.seen("reply-posted")

    posted.get_by_role("link", name="Edit").click()
    expect(page.get_by_role("heading", name="Edit post")).to_be_visible()
    expect(page.get_by_label("Message")).to_have_value("We route by *line of business*.")
    alice.seen("edit-post")
    page.get_by_label("Message").fill("We route by line of business, then by amount.")
    page.get_by_role("button", name="Save").click()
    edited = page.locator("article.post", has_text="then by amount")
    expect(edited).to_contain_text("edited")
    expect(page.get_by_text("We route by *line of business*.")).to_have_count(0)
    alice.seen("post-edited")


def test_a_member_votes_and_withdraws_the_vote(site, browse_as, viewport):
    carla = browse_as("carla", viewport).log_in("carla@initech.test")
    page = carla.open("/ideas")
    carla.seen("ideas")
    page.get_by_role("link", name="SCIM user provisioning").click()
    carla.seen("idea")
    button = page.locator("form[data-vote-form] button")
    count = page.locator("[data-vote-count]")
    before = int(count.inner_text())
    expect(button).to_have_attribute("aria-pressed", "false")

    carla.mark_page()
    button.click()
    expect(button).to_have_attribute("aria-pressed", "true")
    expect(count).to_have_text(str(before + 1))
    carla.assert_not_reloaded()  # ideas.js voted with fetch
    carla.seen("voted")
    page.reload()
    expect(count).to_have_text(str(before + 1))

    button.click()
    expect(button).to_have_attribute("aria-pressed", "false")
    expect(count).to_have_text(str(before))
    page.reload()
    expect(count).to_have_text(str(before))
    expect(button).to_have_attribute("aria-pressed", "false")


def test_a_moderator_locks_a_thread(site, browse_as, viewport):
    bob = browse_as("bob", viewport).log_in("bob@globex.test")
    title = f"Webhook retries ({viewport})"
    start_thread(bob, "Integrations & API", title, "How often do webhooks retry?")
    thread_path = urlsplit(bob.page.url).path

    moderator = browse_as("moderator", viewport).log_in("mod@roundtable.test")
    page = moderator.open(thread_path)
    moderator.seen("thread-staff-controls")
    page.get_by_role("button", name="Lock", exact=True).click()
    expect(page.get_by_text("Thread updated.")).to_be_visible()
    expect(page.locator("h1 .badge", has_text="locked")).to_be_visible()
    expect(page.get_by_role("button", name="Unlock")).to_be_visible()
    moderator.seen("thread-locked")

    page = bob.open(thread_path)
    expect(page.get_by_text("This thread is locked: it takes no new replies.")).to_be_visible()
    expect(page.get_by_label("Your reply")).to_have_count(0)
    bob.seen("locked-thread-member")


def test_a_member_flags_a_post_and_a_moderator_hides_it_from_the_queue(site, browse_as, viewport):
    carla = browse_as("carla", viewport).log_in("carla@initech.test")
    start_thread(carla, "General", f"Vendor pricing ({viewport})", "Who negotiated a discount?")
    thread_path = urlsplit(carla.page.url).path
    spam = f"Buy cheap licences at example.com ({viewport})"
    reply(carla, spam)

    bob = browse_as("bob", viewport).log_in("bob@globex.test")
    page = bob.open(thread_path)
    post = page.locator("article.post", has_text=spam)
    post.locator("summary", has_text="Flag").click()
    post.get_by_label("Reason").select_option("spam")
    post.get_by_role("button", name="Flag").click()
    expect(page.get_by_text("Thanks: staff will review this post.")).to_be_visible()
    bob.seen("flagged")

    moderator = browse_as("moderator", viewport).log_in("mod@roundtable.test")
    page = moderator.open("/")
    moderator.nav_link("Moderation").click()
    item = page.locator(".queue-item", has_text=spam)
    expect(item).to_contain_text("1 flag")
    expect(item).to_contain_text("Bob Okafor")
    moderator.seen("flag-queue")
    item.get_by_label("Reason").fill("Advertising")
    item.get_by_role("button", name="Hide post").click()
    expect(page.get_by_text("Post hidden; 1 flag resolved.")).to_be_visible()
    expect(page.locator(".queue-item", has_text=spam)).to_have_count(0)
    moderator.seen("flag-queue-resolved")

    page = bob.open(thread_path)
    expect(page.get_by_text(spam)).to_have_count(0)
    expect(page.get_by_text("This post was hidden by moderators.")).to_be_visible()
    page = carla.open(thread_path)
    expect(page.get_by_text("Hidden by moderators: Advertising")).to_be_visible()
    carla.seen("hidden-post-author")


def test_a_moderator_sets_an_ideas_status_with_an_official_answer(site, browse_as, viewport):
    moderator = browse_as("moderator", viewport).log_in("mod@roundtable.test")
    page = moderator.open("/ideas")
    page.get_by_role("link", name="Dark mode").click()
    status = "under_review" if viewport == "desktop" else "in_progress"
    answer = f"We are looking into a dark theme ({viewport})."
    page.get_by_label("Status").select_option(status)
    page.get_by_role("textbox", name="Official answer").fill(answer)
    moderator.seen("idea-staff-controls")
    page.get_by_role("button", name="Save status and answer").click()
    expect(page.get_by_text("Status and answer saved")).to_be_visible()
    official = page.get_by_role("region", name="Official answer")
    expect(official).to_contain_text(answer)
    moderator.seen("idea-answered")

    bob = browse_as("bob", viewport).log_in("bob@globex.test")
    page = bob.open(urlsplit(moderator.page.url).path)
    expect(page.locator("h1 .idea-status")).to_have_text(re.compile(status.replace("_", " "), re.I))
    expect(page.get_by_role("region", name="Official answer")).to_contain_text(answer)
    bob.seen("idea-answer-member")


def test_an_attendee_checks_in_with_the_code_and_finds_someone(site, browse_as, viewport):
    staff = browse_as("admin", viewport).log_in("admin@roundtable.test")
    page = staff.open("/events")
    staff.seen("events")
    page.get_by_role("link", name="Roundtable Customer Summit").first.click()
    page.get_by_role("link", name="Check-in QR code").click()
    expect(page.get_by_role("img", name="QR code for checking in")).to_be_visible()
    staff.seen("checkin-code")
    code = page.locator(".checkin-code").inner_text()

    carla = browse_as("carla", viewport).log_in("carla@initech.test")
    page = carla.open("/events")
    page.get_by_role("link", name="Roundtable Customer Summit").first.click()
    expect(page.get_by_role("heading", name="You are checked in")).to_be_visible()  # by the demo
    carla.seen("event-checked-in")
    page.get_by_role("button", name="Check out").click()
    expect(page.get_by_text("You are checked out.")).to_be_visible()
    carla.seen("event-checked-out")

    page.get_by_label("Check-in code").fill("WRONG-CODE")
    page.get_by_role("button", name="Check in").click()
    expect(page.get_by_role("alert")).to_be_visible()
    expect(page.get_by_role("heading", name="Check in")).to_be_visible()
    carla.seen("event-wrong-code")

    page.get_by_label("Check-in code").fill(code)
    page.get_by_label("Where you are").select_option("Workshop room 1")
    page.get_by_label("Others see you").select_option("listed")
    page.get_by_role("button", name="Check in").click()
    expect(page.get_by_text("You are checked in.")).to_be_visible()
    expect(page.get_by_label("Where you are")).to_have_value("Workshop room 1")
    carla.seen("event-checked-in-again")
    expect(staff.open(urlsplit(page.url).path).locator("#attendees .attendee", has_text="Carla Rossi")
           ).to_contain_text("Workshop room 1")

    page.locator("summary", has_text="Find people").click()
    page.get_by_label("Company").fill("globex")
    page.get_by_role("button", name="Find").click()
    found = page.locator("#attendees .attendee")
    expect(found).to_have_count(1)
    expect(found).to_contain_text("Bob Okafor")
    expect(found).to_contain_text("Globex Logistics")
    carla.seen("attendees-by-company")

    page.get_by_label("Company").fill("")
    page.get_by_label("Name").fill("alice")
    page.get_by_role("button", name="Find").click()
    expect(found).to_have_count(1)
    expect(found).to_contain_text("Alice Chen")
    found.get_by_role("link", name="Ask to meet").click()
    carla.seen("ask-to-meet")
