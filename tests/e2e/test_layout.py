"""Every main page fits the screen, at desktop and phone widths, for a member, a moderator and an
admin: no sideways scrolling, a header that stays one line, nothing drawn over anything else, and
an anchor (#post-12 after a reply, an edit, a flag, a notification) that lands below the sticky
header instead of under it."""
import re
import time

import pytest
from playwright.sync_api import expect

from .conftest import VIEWPORTS

PEOPLE = {"member": "alice@acme.test", "moderator": "mod@roundtable.test", "admin": "admin@roundtable.test"}
PAGES = ["/", "/c/2", "/t/2", "/ideas", "/ideas/1", "/ideas/new", "/roadmap", "/changelog", "/events", "/events/1",
         "/events/1/meetings", "/events/1/contacts", "/notifications", "/search?q=sso", "/u/3",
         "/settings/profile", "/settings/security", "/settings/data", "/c/2/new", "/p/2/edit"]
STAFF_PAGES = ["/moderation", "/moderation/audit", "/moderation/people", "/moderation/people/3", "/organizations",
               "/organizations/1", "/admin/invitations", "/events/1/manage", "/events/new", "/p/2/history"]
ADMIN_PAGES = ["/admin/jobs", "/admin/webhooks"]
HEADER_BOTTOM = "document.querySelector('.topbar').getBoundingClientRect().bottom"


def pages_of(role: str) -> list[str]:
    return PAGES + (STAFF_PAGES if role != "member" else []) + (ADMIN_PAGES if role == "admin" else [])


@pytest.mark.parametrize("viewport", list(VIEWPORTS))
@pytest.mark.parametrize("role", list(PEOPLE))
def test_every_main_page_fits_the_screen(browse_as, role, viewport):
    person = browse_as(role, viewport).log_in(PEOPLE[role])
    page = person.page
    for path in pages_of(role):
        response = page.goto(path)
        assert response.status == 200, path
        overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
        assert overflow <= 0, f"{path} is {overflow}px wider than the {viewport} screen for the {role}"
        header = page.evaluate("document.querySelector('.topbar').getBoundingClientRect().height")
        limit = 64 if viewport == "phone" else 72
        assert header <= limit, f"the header of {path} is {header}px tall for the {role} ({viewport})"
    person.open("/")
    person.seen("home-header")


def test_the_desktop_navigation_is_one_row_and_the_staff_pages_a_menu(browse_as):
    admin = browse_as("admin", "desktop").log_in(PEOPLE["admin"])
    page = admin.open("/")
    tops = page.evaluate("""[...document.querySelectorAll('#site-nav > *')]
        .map(item => Math.round(item.getBoundingClientRect().top + item.getBoundingClientRect().height / 2))""")
    assert max(tops) - min(tops) <= 4, f"the navigation wraps: item middles at {tops}"
    expect(page.locator(".menu-toggle")).to_be_hidden()
    admin.nav_link("Webhooks").click()
    expect(page.get_by_role("heading", name="Webhooks")).to_be_visible()


def test_on_a_phone_the_navigation_folds_behind_the_menu_button(browse_as):
    moderator = browse_as("moderator", "phone").log_in(PEOPLE["moderator"])
    page = moderator.open("/")
    expect(page.locator("#site-nav")).to_be_hidden()
    toggle = page.get_by_role("button", name=re.compile("^Menu"))
    expect(toggle).to_have_attribute("aria-expanded", "false")
    toggle.click()
    expect(toggle).to_have_attribute("aria-expanded", "true")
    expect(page.get_by_role("navigation", name="Main").get_by_role("link", name="Ideas")).to_be_visible()
    moderator.seen("phone-menu-open")
    moderator.nav_link("Moderation").click()
    expect(page.get_by_role("heading", name="Moderation")).to_be_visible()
    expect(page.locator("#site-nav")).to_be_hidden()


@pytest.mark.parametrize("viewport", list(VIEWPORTS))
def test_the_profile_form_draws_nothing_over_anything(browse_as, viewport):
    alice = browse_as("alice", viewport).log_in(PEOPLE["member"])
    page = alice.open("/settings/profile")
    save = page.get_by_role("button", name="Save", exact=True).bounding_box()
    hint = page.get_by_text("Others mention you in posts as").bounding_box()
    assert hint["y"] >= save["y"] + save["height"], f"the hint ({hint}) runs under the Save button ({save})"
    boxes = page.evaluate("""[...document.querySelectorAll('label:has(> input[type=checkbox])')].map(label => {
        const box = label.querySelector('input').getBoundingClientRect(), outer = label.getBoundingClientRect();
        return {text: label.textContent.trim(), left: box.left - outer.left, top: box.top - outer.top,
                right: box.right, textLeft: outer.left + box.width};
    })""")
    assert len(boxes) >= 6
    for box in boxes:  # each checkbox starts its label, beside its text, not centred above it
        assert box["left"] <= 4, box


@pytest.mark.parametrize("viewport", list(VIEWPORTS))
def test_an_anchored_post_lands_below_the_sticky_header(browse_as, viewport):
    bob = browse_as("bob", viewport).log_in("bob@globex.test")
    page = bob.open("/t/2")
    for n in range(6):  # enough posts that the page must scroll to the newest
        page.get_by_label("Your reply").fill(f"Reply {n} ({viewport}).\n\n" + "A paragraph of detail. " * 30)
        page.get_by_role("button", name="Post reply").click()
        expect(page.get_by_text("Reply posted.")).to_be_visible()
    anchor = page.evaluate("location.hash")
    assert re.fullmatch(r"#post-\d+", anchor)
    # Polled from here: wait_for_function's own polling evaluates the expression inside the page,
    # which the app's CSP (no 'unsafe-eval') refuses whenever the first check is not yet true.
    deadline = time.monotonic() + 10
    while page.evaluate(f"document.querySelector('{anchor}').getBoundingClientRect().top") >= 400:
        assert time.monotonic() < deadline, f"{anchor} was never scrolled to"
        page.wait_for_timeout(50)
    assert page.evaluate("window.scrollY") > 0, "the page did not scroll: the test proves nothing"
    top = page.evaluate(f"document.querySelector('{anchor}').getBoundingClientRect().top")
    assert top >= page.evaluate(HEADER_BOTTOM), f"{anchor} starts at {top}px, under the header"
    bob.seen("reply-anchor")
