"""Live pages between browsers: what one person does appears on another's open page, without a
reload. Each watcher marks its page's window first; the marker is gone if the page navigated."""
from urllib.parse import urlsplit

from playwright.sync_api import expect

from .conftest import live_ready

SUMMIT = "Roundtable Customer Summit"


def watch(person, path: str):
    """Open `path` for `person`, wait until it listens to its room, and mark the page."""
    page = person.open(path)
    live_ready(page)
    person.mark_page()
    return page


def path_of_link(person, start: str, name: str) -> str:
    page = person.open(start)
    return urlsplit(page.get_by_role("link", name=name).first.get_attribute("href")).path


def test_a_reply_appears_on_the_other_members_page(site, browse_as):
    alice = browse_as("alice").log_in("alice@acme.test")
    bob = browse_as("bob").log_in("bob@globex.test")
    thread = path_of_link(alice, "/", "How do you structure your admin team?")
    page = watch(alice, thread)
    replies = page.locator("article.post")
    before = replies.count()

    bob.open(thread).get_by_label("Your reply").fill("We keep a **runbook** per admin role.")
    bob.page.get_by_role("button", name="Post reply").click()

    fresh = page.locator("article.post", has_text="We keep a runbook per admin role.")
    expect(fresh).to_be_visible()
    expect(fresh.locator("strong")).to_have_text("runbook")
    expect(fresh.locator(".post-author")).to_have_text("Bob Okafor")
    expect(replies).to_have_count(before + 1)
    alice.assert_not_reloaded()
    alice.seen("live-reply")


def test_a_vote_count_changes_on_the_other_members_page(site, browse_as):
    alice = browse_as("alice").log_in("alice@acme.test")
    carla = browse_as("carla").log_in("carla@initech.test")
    idea = path_of_link(alice, "/ideas", "Dark mode")  # voted for by Bob and Carla
    page = watch(alice, idea)
    count, orgs = page.locator("[data-vote-count]"), page.locator(".vote-orgs")
    expect(count).to_have_text("2")
    expect(orgs).to_have_text("2 orgs")

    vote = carla.open(idea).locator("form[data-vote-form] button")
    vote.click()  # withdraws Carla's vote
    expect(count).to_have_text("1")
    expect(orgs).to_have_text("1 org")
    vote.click()
    expect(count).to_have_text("2")
    expect(orgs).to_have_text("2 orgs")
    expect(page.locator("form[data-vote-form] button")).to_have_attribute("aria-pressed", "false")  # not Alice's
    alice.assert_not_reloaded()
    alice.seen("live-vote")


def test_an_idea_status_and_its_answer_appear_on_a_members_page(site, browse_as):
    alice = browse_as("alice").log_in("alice@acme.test")
    moderator = browse_as("moderator").log_in("mod@roundtable.test")
    idea = path_of_link(alice, "/ideas", "SCIM user provisioning")
    page = watch(alice, idea)
    expect(page.locator("h1 .idea-status")).to_have_text("Open")
    expect(page.get_by_role("region", name="Official answer")).to_have_count(0)
    expect(page.locator("form[data-vote-form] button")).to_be_enabled()

    staff = moderator.open(idea)
    staff.get_by_label("Status").select_option("declined")
    staff.get_by_role("textbox", name="Official answer").fill("Azure AD sync covers this; see the **SSO guide**.")
    staff.get_by_role("button", name="Save status and answer").click()
    expect(staff.get_by_text("Status and answer saved")).to_be_visible()

    expect(page.locator("h1 .idea-status")).to_have_text("Declined")
    answer = page.get_by_role("region", name="Official answer")
    expect(answer).to_contain_text("Azure AD sync covers this")
    expect(answer.locator("strong")).to_have_text("SSO guide")
    expect(page.locator("form[data-vote-form] button")).to_be_disabled()  # a declined idea takes no votes
    alice.assert_not_reloaded()
    alice.seen("live-idea-status")


def test_check_ins_appear_on_another_attendees_phone(site, browse_as):
    alice = browse_as("alice", "phone").log_in("alice@acme.test")
    bob = browse_as("bob").log_in("bob@globex.test")
    staff = browse_as("moderator").log_in("mod@roundtable.test")
    event = path_of_link(alice, "/events", SUMMIT)
    code = staff.open(event + "/manage").locator(".checkin-code").inner_text()
    page = watch(alice, event)
    listed_bob = page.locator("#attendees .attendee", has_text="Bob Okafor")
    total = page.locator("#attendee-total .count")
    expect(listed_bob).to_be_visible()
    present = int(total.inner_text())

    bob.open(event).get_by_role("button", name="Check out").click()
    expect(bob.page.get_by_text("You are checked out.")).to_be_visible()
    expect(listed_bob).to_have_count(0)
    expect(total).to_have_text(str(present - 1))

    bob.page.get_by_label("Check-in code").fill(code)
    bob.page.get_by_label("Where you are").select_option("Workshop room 1")
    bob.page.get_by_role("button", name="Check in").click()
    expect(bob.page.get_by_text("You are checked in.")).to_be_visible()
    expect(listed_bob).to_contain_text("Workshop room 1")
    expect(total).to_have_text(str(present))
    expect(page.locator("#attendee-counts")).to_contain_text("1 from Globex Logistics")
    alice.assert_not_reloaded()
    alice.seen("live-checkin")
