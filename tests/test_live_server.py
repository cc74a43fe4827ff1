"""The product as a new user meets it: a real server process on the embedded database,
migrated and seeded by the operator commands, used over HTTP with cookies and forms."""
import http.client
import re
from concurrent.futures import ThreadPoolExecutor
from http.cookiejar import CookieJar
from urllib.error import HTTPError
from urllib.parse import urlencode
from urllib.request import HTTPCookieProcessor, HTTPRedirectHandler, Request, build_opener

import pytest
import requests

from community.demo import DEMO_PASSWORD

from .live_server import LiveServer, json_request


class _NoRedirect(HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


class Browser:
    def __init__(self, base):
        self.base = base
        self.cookies = CookieJar()
        self.opener = build_opener(HTTPCookieProcessor(self.cookies), _NoRedirect)
        self.token = None

    def open(self, path, form=None):
        data = None
        if form is not None:
            data = urlencode({"csrf_token": self.token, **form}).encode()
        try:
            response = self.opener.open(Request(self.base + path, data=data), timeout=10)
        except HTTPError as error:
            response = error
        body = response.read().decode()
        match = re.search(r'name="csrf_token" value="([^"]+)"', body)
        if match:
            self.token = match.group(1)
        return response.status, response.headers, body


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    database = tmp_path_factory.mktemp("live") / "live.sqlite"
    live = LiveServer({"DATABASE_URL": f"sqlite:///{database}", "SECRET_KEY": "live-test-" + "k" * 32,
                       "RATELIMIT_ENABLED": "true"})
    live.command("db", "upgrade")
    assert "alice@acme.test" in live.command("seed-demo")
    live.start()
    yield live
    live.stop()


def test_a_new_user_signs_in_posts_a_thread_and_a_reply(server):
    browser = Browser(server.url)
    status, headers, _ = browser.open("/")
    assert status == 302 and "/login" in headers["Location"]
    browser.open("/login")
    status, headers, _ = browser.open("/login", {"email": "alice@acme.test", "password": DEMO_PASSWORD})
    assert status == 302
    _, _, home = browser.open("/")
    category = re.search(r'href="/c/(\d+)">General<', home).group(1)
    browser.open(f"/c/{category}/new")
    status, headers, _ = browser.open(f"/c/{category}/new", {"title": "Hello from a real server",
                                                             "body": "Posted over *HTTP*."})
    assert status == 302
    thread = headers["Location"]
    browser.open(thread)
    status, _, _ = browser.open(thread + "/reply", {"body": "And a reply."})
    assert status == 302
    _, _, page = browser.open(thread)
    assert "Posted over <em>HTTP</em>." in page and "And a reply." in page
    _, _, listing = browser.open(f"/c/{category}")
    assert "Hello from a real server" in listing
    assert "Staff lounge" not in home


def test_pages_send_the_security_headers(server):
    status, headers, _ = Browser(server.url).open("/login")
    assert status == 200
    policy = headers["Content-Security-Policy"]
    assert "frame-ancestors 'none'" in policy and "script-src 'self'" in policy and "unsafe-inline" not in policy
    assert headers["X-Content-Type-Options"] == "nosniff"


def test_the_session_cookie_is_httponly_and_samesite(server):
    browser = Browser(server.url)
    browser.open("/login")
    _, headers, _ = browser.open("/login", {"email": "bob@globex.test", "password": DEMO_PASSWORD})
    cookie = headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie
    assert "Secure" not in cookie  # plain HTTP on loopback; see the HTTPS test below


def _login_from(server, source_ip, email, password, forwarded_for=None):
    """One sign-in attempt from a given loopback address, with its own session and CSRF token."""
    def request(method, path, body=None, cookie=None):
        connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=10,
                                                source_address=(source_ip, 0))
        headers = {"Content-Type": "application/x-www-form-urlencoded"}
        if forwarded_for:
            headers["X-Forwarded-For"] = forwarded_for
        if cookie:
            headers["Cookie"] = cookie
        connection.request(method, path, body=body, headers=headers)
        response = connection.getresponse()
        result = response.status, response.headers, response.read().decode()
        connection.close()
        return result

    _, headers, page = request("GET", "/login")
    cookie = headers["Set-Cookie"].split(";")[0]
    token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    form = urlencode({"csrf_token": token, "email": email, "password": password})
    return request("POST", "/login", form, cookie)


def test_login_is_rate_limited_per_account(server):
    statuses = [_login_from(server, "127.0.0.2", "carla@initech.test", "wrong")[0] for _ in range(10)]
    assert statuses == [401] * 10
    # The eleventh try comes from another address, and even the right password waits.
    status, headers, body = _login_from(server, "127.0.0.3", "carla@initech.test", DEMO_PASSWORD)
    assert status == 429 and int(headers["Retry-After"]) > 0
    assert "Too many attempts" in body


def test_login_is_rate_limited_per_address(server):
    statuses = [_login_from(server, "127.0.0.4", f"nobody{i}@x.test", "wrong")[0] for i in range(11)]
    assert statuses == [401] * 10 + [429]
    assert _login_from(server, "127.0.0.5", "nobody@x.test", "wrong")[0] == 401


def test_without_a_trusted_proxy_a_client_cannot_pick_its_own_address(server):
    """`flask run` trusts no proxy (TRUSTED_PROXY_HOPS=0): X-Forwarded-For changes nothing."""
    statuses = [_login_from(server, "127.0.0.7", f"nobody{i}@x.test", "wrong", forwarded_for=f"10.0.0.{i}")[0]
                for i in range(11)]
    assert statuses == [401] * 10 + [429]


def _api_login_from(server, source_ip, email, password):
    return json_request(server, source_ip, "POST", "/api/v1/auth/login", {"email": email, "password": password})


def test_one_account_has_ten_wrong_guesses_a_minute_across_the_web_and_the_api(server):
    email = "admin@roundtable.test"
    doors = [_login_from, _api_login_from]
    # Signing in costs the account nothing, and says nothing about waiting.
    for door in doors:
        status, headers, _ = door(server, "127.0.0.8", email, DEMO_PASSWORD)
        assert status in (200, 302) and "Retry-After" not in headers
    # Ten wrong guesses, alternating doors, each from its own address (so only the account counts).
    guesses = [doors[i % 2](server, f"127.0.1.{i}", email, "wrong")[0] for i in range(10)]
    assert guesses == [401] * 10
    for i, door in enumerate(doors):
        status, headers, _ = door(server, f"127.0.2.{i}", email, DEMO_PASSWORD)
        assert status == 429 and int(headers["Retry-After"]) > 0


def _api_from(server, source_ip, method, path, body=None, token=None):
    """One JSON request from a given loopback address: (status, payload)."""
    status, _, payload = json_request(server, source_ip, method, path, body, token)
    return status, payload


def test_the_demo_event_is_on_and_check_ins_are_rate_limited(server):
    ip = "127.0.0.6"
    _, tokens = _api_from(server, ip, "POST", "/api/v1/auth/login",
                          {"email": "mod@roundtable.test", "password": DEMO_PASSWORD})
    token = tokens["access_token"]
    _, events = _api_from(server, ip, "GET", "/api/v1/events", token=token)
    event = next(e for e in events["items"] if e["is_on"])
    _, attendees = _api_from(server, ip, "GET", f"/api/v1/events/{event['id']}/attendees", token=token)
    assert {"Alice Chen", "Bob Okafor"} <= {a["user"]["name"] for a in attendees["items"]}
    _, code = _api_from(server, ip, "GET", f"/api/v1/events/{event['id']}/checkin_code", token=token)
    statuses = [_api_from(server, ip, "POST", f"/api/v1/events/{event['id']}/checkin", {"code": code["code"]},
                          token=token)[0] for _ in range(31)]
    assert statuses == [200] * 30 + [429]


def test_simultaneous_writes_on_the_embedded_database_all_succeed(server):
    """SQLite lets one writer in at a time; the others must wait their turn, never fail."""
    def token(email):
        response = requests.post(f"{server.url}/api/v1/auth/login",
                                 json={"email": email, "password": DEMO_PASSWORD}, timeout=10)
        return response.json()["access_token"]

    tokens = [token("bob@globex.test"), token("mod@roundtable.test")]
    headers = {"Authorization": f"Bearer {tokens[0]}"}
    categories = requests.get(f"{server.url}/api/v1/categories", headers=headers, timeout=10).json()["items"]
    general = next(c["id"] for c in categories if c["name"] == "General")
    threads = requests.get(f"{server.url}/api/v1/threads?category_id={general}", headers=headers, timeout=10)
    thread_id = threads.json()["items"][0]["id"]

    def reply(i):
        return requests.post(f"{server.url}/api/v1/threads/{thread_id}/posts", json={"body": f"at once {i}"},
                             headers={"Authorization": f"Bearer {tokens[i % 2]}"}, timeout=30).status_code

    with ThreadPoolExecutor(max_workers=8) as pool:
        statuses = list(pool.map(reply, range(16)))
    assert statuses == [201] * 16
