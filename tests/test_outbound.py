"""Outbound HTTP to user-supplied URLs: only public https targets, checked on the address the
name resolves to when connecting; no redirects followed, no proxies, timeouts on every request."""
import socket
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
import requests

from community import outbound
from community.errors import ValidationFailed
from wsgi import create_app

from .conftest import settings_for


class Receiver(BaseHTTPRequestHandler):
    hits: list = []

    def do_POST(self):  # noqa: N802 (http.server's hook name)
        Receiver.hits.append(self.path)
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        if self.path == "/moved":
            self.send_response(302)
            self.send_header("Location", "/target")
        elif self.path == "/slow":
            time.sleep(2)
            self.send_response(201)
        else:
            self.send_response(201)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *args):
        pass


@pytest.fixture
def receiver():
    Receiver.hits = []
    server = ThreadingHTTPServer(("127.0.0.1", 0), Receiver)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


@pytest.fixture(params=[False, True], ids=["public-only", "private-allowed"])
def outbound_app(request, tmp_path):
    app = create_app(settings_for(f"sqlite:///{tmp_path}/outbound.sqlite",
                                  OUTBOUND_ALLOW_PRIVATE_NETWORKS=request.param))
    with app.app_context():
        yield request.param


@pytest.mark.parametrize("url", [
    "https://127.0.0.1/push", "https://localhost:8443/push", "https://[::1]/push", "https://10.1.2.3/push",
    "https://192.168.0.10/push", "https://172.16.5.4/push", "https://169.254.169.254/latest/meta-data",
    "https://100.64.0.1/push", "https://224.0.0.1/push", "https://[::ffff:127.0.0.1]/push", "https://0.0.0.0/push",
    "https://[fe80::1]/push", "https://[fd00::1]/push",
])
def test_private_targets_are_refused_unless_allowed(outbound_app, url):
    if outbound_app:
        assert outbound.check_url(url, "endpoint") == url
    else:
        with pytest.raises(ValidationFailed) as refused:
            outbound.check_url(url, "endpoint")
        assert "cannot be reached from here" in refused.value.fields["endpoint"]


@pytest.mark.parametrize("url", ["ftp://push.example/x", "javascript:alert(1)", "https://", "https://user:pw@8.8.8.8/",
                                 "https://[zz::1]/", "x" * 3000, None, 42])
def test_malformed_urls_are_refused(outbound_app, url):
    with pytest.raises(ValidationFailed):
        outbound.check_url(url, "endpoint")


def test_plain_http_only_where_private_networks_are_allowed(outbound_app):
    if outbound_app:
        assert outbound.check_url("http://127.0.0.1:9/x", "url")
    else:
        with pytest.raises(ValidationFailed) as refused:
            outbound.check_url("http://8.8.8.8/x", "url")
        assert refused.value.fields == {"url": "Give an https:// URL."}


def test_the_address_is_checked_when_connecting(outbound_app, receiver, monkeypatch):
    """A name that resolved to a public address when it was registered and to loopback now
    (DNS rebinding) is refused before a byte is sent."""
    port = int(receiver.rsplit(":", 1)[1])
    real_getaddrinfo = socket.getaddrinfo
    monkeypatch.setattr(socket, "getaddrinfo", lambda host, *args, **kwargs: real_getaddrinfo(
        "127.0.0.1" if host == "rebinding.example" else host, *args, **kwargs))
    session = outbound.session()
    url = f"{'http' if outbound_app else 'https'}://rebinding.example:{port}/hook"
    if outbound_app:
        assert session.post(url, data=b"{}").status_code == 201 and Receiver.hits == ["/hook"]
    else:
        with pytest.raises(outbound.OutboundRefused, match="non-public address"):
            session.post(url, data=b"{}")
        with pytest.raises(outbound.OutboundRefused, match="https only"):
            session.post(receiver + "/hook", data=b"{}")
        assert Receiver.hits == []


def test_redirects_are_not_followed_and_requests_time_out(receiver, tmp_path, monkeypatch):
    app = create_app(settings_for(f"sqlite:///{tmp_path}/o.sqlite", OUTBOUND_ALLOW_PRIVATE_NETWORKS=True))
    monkeypatch.setenv("HTTP_PROXY", "http://127.0.0.1:9")  # would fail every request if it were used
    with app.app_context():
        session = outbound.session()
        response = session.post(receiver + "/moved", data=b"{}")
        assert response.status_code == 302 and Receiver.hits == ["/moved"]  # /target never asked
        monkeypatch.setattr(outbound, "TIMEOUT", (1, 0.5))
        started = time.monotonic()
        with pytest.raises(requests.Timeout):
            session.post(receiver + "/slow", data=b"{}", timeout=10_000)  # pywebpush's default, capped
        assert time.monotonic() - started < 1.5
