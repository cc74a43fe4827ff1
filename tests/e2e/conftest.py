"""A real browser against the real app: headless Chromium driven by Playwright, one demo server
per module, one browser per session and a fresh browser context (cookies, storage) per person.

Every page a person opens is watched: a console error, an uncaught exception or a failed
subresource (a favicon 404 included) fails the test, and `Person.seen(step)` saves a screenshot
under tests/e2e/screenshots/ (CI keeps that folder as an artifact) after axe-core (from npm,
tests/js; injected by the test, never served by the app) found no serious or critical
accessibility violation on it.
"""
import os
import re
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect, sync_playwright

from community.demo import DEMO_PASSWORD

from ..conftest import require_service
from ..live_server import LiveServer, demo_server

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]
SCREENSHOTS = Path(__file__).resolve().parent / "screenshots"
AXE = Path(__file__).resolve().parents[1] / "js" / "node_modules" / "axe-core" / "axe.min.js"
# WCAG 2.1 A and AA, plus axe's best practices; what fails a test is a serious or critical finding.
AXE_RUN = """async () => {
  const result = await axe.run(document, {runOnly: {type: "tag",
    values: ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "best-practice"]}});
  return result.violations.filter(v => v.impact === "serious" || v.impact === "critical").map(v =>
    `${v.id} (${v.impact}): ${v.help} at ${v.nodes.slice(0, 5).map(n => n.target.join(" ")).join(", ")}`);
}"""
VIEWPORTS = {"desktop": {"width": 1280, "height": 900}, "phone": {"width": 390, "height": 844}}

expect.set_options(timeout=10_000)


@pytest.fixture(scope="session")
def axe_source() -> str:
    require_service(AXE.exists(), f"axe-core ({AXE}; `npm ci --prefix tests/js`)")
    return AXE.read_text()


@pytest.fixture(scope="session")
def browser(axe_source):
    require_service(os.path.exists(CHROMIUM), f"Chromium ({CHROMIUM})")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture(scope="module")
def site(browser, tmp_path_factory):
    """The app served by `flask run` on a fresh SQLite database, migrated and seeded with the demo."""
    live = demo_server(tmp_path_factory.mktemp("e2e"))
    yield live
    live.stop()


class Person:
    """Someone at their own browser: one context, one tab, every problem on every page recorded."""

    def __init__(self, browser, site: LiveServer, label: str, viewport: str, axe_source: str, **context_options):
        self.site = site
        self._axe_source = axe_source
        self.label = label
        self.viewport = viewport
        # context_options: e.g. geolocation={...}, permissions=["geolocation"] (a granted prompt)
        self.context = browser.new_context(base_url=site.url, viewport=VIEWPORTS[viewport], **context_options)
        self.page: Page = self.context.new_page()
        self._problems: list[str] = []
        self._load_errors: list[tuple[str, str]] = []  # (resource, message): judged in `problems`
        self._documents: set[str] = set()
        self.page.on("console", self._console)
        self.page.on("pageerror", lambda error: self._problems.append(f"{self.page.url}: uncaught {error}"))
        self.page.on("requestfailed", self._request_failed)
        self.page.on("response", self._response)

    def _response(self, response) -> None:
        if response.request.is_navigation_request():
            self._documents.add(response.url)

    def _request_failed(self, request) -> None:
        # Leaving a page cancels what it was still fetching (a live fragment, say): not a fault.
        if request.failure != "net::ERR_ABORTED":
            self._problems.append(f"{self.page.url}: {request.url} failed ({request.failure})")

    def _console(self, message) -> None:
        if message.type != "error":
            return
        if message.text.startswith("Failed to load resource"):
            self._load_errors.append((message.location.get("url", ""), message.text))
        else:
            self._problems.append(f"{self.page.url}: console error {message.text} at {message.location}")

    @property
    def problems(self) -> list[str]:
        """Everything that went wrong, except a page's own status: Chromium logs a page answered
        with 401 or 422 (a wrong password, an invalid form) as a failed load, but that status is
        the product's answer and the test checks what the page says. Any other resource that
        failed to load (a script, a fragment, a favicon) is a problem."""
        failed_loads = [f"{url}: {text}" for url, text in self._load_errors if url not in self._documents]
        return self._problems + failed_loads

    def open(self, path: str) -> Page:
        self.page.goto(path)
        return self.page

    def log_in(self, email: str, password: str = DEMO_PASSWORD) -> "Person":
        page = self.open("/login")
        page.get_by_label("Email").fill(email)
        page.get_by_label("Password").fill(password)
        page.get_by_role("button", name="Sign in").click()
        expect(page.locator(".nav-user")).to_be_attached()  # on a phone it waits behind the Menu button
        return self

    def menu(self) -> Page:
        """Open the header's navigation where it is folded (a phone); the page, to go on with."""
        toggle = self.page.locator(".menu-toggle")
        if toggle.is_visible() and toggle.get_attribute("aria-expanded") != "true":
            toggle.click()
        return self.page

    def nav_link(self, name: str):
        """A link of the header, made visible: the menu opened, and the Staff group if it is in it."""
        page = self.menu()
        link = page.locator("#site-nav").get_by_role("link", name=name, exact=True)
        group = page.locator(".nav-group", has=page.locator(f"a:text-is('{name}')"))
        if group.count() and group.get_attribute("open") is None:
            group.locator("summary").click()
        return link

    def seen(self, step: str) -> None:
        """The page as it stands renders cleanly: no problem so far, nothing wider than the screen
        (a phone must never scroll sideways); its screenshot is saved."""
        page = self.page
        page.wait_for_load_state("load")
        assert not self.problems, "\n".join(self.problems)
        overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
        assert overflow <= 0, f"{page.url} is {overflow}px wider than the {self.viewport} screen"
        self.check_accessibility()
        SCREENSHOTS.mkdir(exist_ok=True)
        name = re.sub(r"[^a-z0-9]+", "-", f"{step}-{self.label}-{self.viewport}".lower()).strip("-")
        page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True)

    def check_accessibility(self) -> None:
        """axe-core finds no serious or critical violation on the page as it stands. The script is
        evaluated through the DevTools protocol, which the page's CSP does not govern, so the app
        never serves it."""
        page = self.page
        if not page.evaluate("typeof window.axe !== 'undefined'"):
            page.evaluate(self._axe_source)
        violations = page.evaluate(AXE_RUN)
        assert not violations, f"{page.url} as {self.label} ({self.viewport}):\n" + "\n".join(violations)

    def mark_page(self) -> None:
        """Put a marker on this page's window: it survives DOM changes, never a navigation."""
        self.page.evaluate("window.e2eMarker = 'not reloaded'")

    def assert_not_reloaded(self) -> None:
        assert self.page.evaluate("window.e2eMarker") == "not reloaded", "the page navigated or reloaded"

    def close(self) -> None:
        self.context.close()
        assert not self.problems, "\n".join(self.problems)


@pytest.fixture
def browse_as(browser, site, axe_source):
    """`browse_as(label, viewport="desktop")` opens a browser context of its own for someone; each
    is closed after the test, which fails if any of their pages logged a problem."""
    opened = []

    def open_person(label: str, viewport: str = "desktop", *, browser_=None, **context_options) -> Person:
        person = Person(browser_ or browser, site, label, viewport, axe_source, **context_options)
        opened.append(person)
        return person

    yield open_person
    for person in opened:
        person.close()


def live_ready(page: Page) -> None:
    """Wait until the page's live element has subscribed to its Socket.IO room."""
    expect(page.locator("[data-live-room]")).to_have_attribute("data-live-status", "subscribed")
