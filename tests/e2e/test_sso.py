"""Single sign-on in a real browser: the demo served with a real OpenID provider beside it, as an
operator tries it (README, "Trying it locally"), at desktop and phone width."""
import pytest
from playwright.sync_api import expect

from ..live_server import LiveServer
from ..oidc_provider import OpenIDProvider


@pytest.fixture(scope="module")
def site(browser, tmp_path_factory):
    """The demo, with single sign-on through a provider that knows its redirect URI."""
    database = tmp_path_factory.mktemp("e2e-sso") / "e2e.sqlite"
    live = LiveServer({"DATABASE_URL": f"sqlite:///{database}", "SECRET_KEY": "e2e-test-" + "k" * 32,
                       "RATELIMIT_ENABLED": "false"})
    provider = OpenIDProvider([f"{live.url}/auth/oidc/callback"]).start()
    live.env.update(OIDC_ISSUER=provider.url, OIDC_CLIENT_ID="roundtable-web",
                    OIDC_CLIENT_SECRET="roundtable-demo-secret", OIDC_DISPLAY_NAME="Acme ID")
    live.provider = provider
    live.command("db", "upgrade")
    live.command("seed-demo")
    live.start()
    yield live
    live.stop()
    provider.stop()


def sign_in_with_provider(person, email: str):
    page = person.open("/login")
    page.get_by_role("link", name="Sign in with Acme ID").click()
    expect(page.get_by_role("heading", name="Test identity provider")).to_be_visible()
    assert page.url.startswith(person.site.provider.url)
    person.seen("sso-provider-sign-in")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill("anything")
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(lambda url: url.startswith(person.site.url))  # back from the provider
    return page


@pytest.mark.parametrize("viewport", ["desktop", "phone"])
def test_a_customer_signs_in_with_the_provider_lands_in_their_organization_and_signs_out(browse_as, site,
                                                                                          viewport):
    dana = browse_as("dana", viewport)
    page = dana.open("/login")
    expect(page.get_by_role("link", name="Sign in with Acme ID")).to_be_visible()
    dana.seen("sso-sign-in-page")
    email = f"dana.{viewport}@acme.test"
    sign_in_with_provider(dana, email)
    expect(dana.menu().get_by_role("button", name="Sign out")).to_be_visible()
    assert page.url.startswith(site.url)
    page.locator(".nav-user").click()
    expect(page.get_by_text("Acme Insurance")).to_be_visible()
    dana.seen("sso-landed-in-acme")
    dana.menu().get_by_role("button", name="Sign out").click()
    expect(page.get_by_role("heading", name="Sign out of the test identity provider?")).to_be_visible()
    page.get_by_role("button", name="Yes, sign me out").click()
    expect(page.get_by_role("heading", name="Sign in", exact=True)).to_be_visible()
    assert page.url.startswith(site.url + "/login")
    expect(page.get_by_text("You are signed out.")).to_be_visible()
    dana.seen("sso-signed-out")
    # Both sessions ended: signing in again asks the provider for the password again.
    page.get_by_role("link", name="Sign in with Acme ID").click()
    expect(page.get_by_role("heading", name="Test identity provider")).to_be_visible()


def test_an_existing_member_signs_in_as_themselves(browse_as, site):
    alice = browse_as("alice")
    page = sign_in_with_provider(alice, "alice@acme.test")
    expect(page.locator(".nav-user")).to_have_text("Alice Chen")


def test_a_person_from_no_customer_organization_is_told_whom_to_ask(browse_as, site):
    eve = browse_as("eve", "phone")
    page = sign_in_with_provider(eve, "eve@nowhere.test")
    expect(page.get_by_role("heading", name="We could not sign you in")).to_be_visible()
    expect(page.get_by_role("alert")).to_contain_text("Ask your account manager or a community admin")
    eve.seen("sso-refused")
    # The provider still has Eve's session: switching accounts makes it ask who is signing in.
    page.get_by_role("link", name="Sign in with another Acme ID account").click()
    expect(page.get_by_role("heading", name="Test identity provider")).to_be_visible()
    page.get_by_label("Email").fill("alice@acme.test")
    page.get_by_label("Password").fill("anything")
    page.get_by_role("button", name="Sign in").click()
    expect(page.locator(".nav-user")).to_have_text("Alice Chen")
