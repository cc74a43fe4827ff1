"""Behind the nginx of `deploy/`: rate limits count each real client, and no client picks its own
address. Real nginx (TLS on loopback) in front of gunicorn with its shipped configuration."""
import http.client
import json
import os
import re
import shutil
import ssl
import subprocess
import time
from concurrent.futures import ThreadPoolExecutor
from urllib.parse import urlencode

import pytest

from community.demo import DEMO_PASSWORD

from .conftest import require_service
from .live_server import ROOT, LiveServer, free_port, stop_process

PEOPLE = ["alice@acme.test", "bob@globex.test", "carla@initech.test"]


def _site_config(deploy_config: str, app_port: int, port: int, directory) -> str:
    """deploy/nginx.conf as shipped, pointed at this test's app process, port and certificate.
    (`http2 on;` needs nginx 1.25; Debian 12 ships 1.22, where `listen … ssl http2` says it.)"""
    site = re.sub(r"server 127\.0\.0\.1:8001[^;]*;\s*server 127\.0\.0\.1:8002[^;]*;", f"server 127.0.0.1:{app_port};",
                  deploy_config)
    site = re.sub(r"server \{\s*listen 80;.*?\}\n", "", site, count=1, flags=re.S)
    site = site.replace("listen 443 ssl;", f"listen 127.0.0.1:{port} ssl;").replace("http2 on;", "")
    site = re.sub(r"ssl_certificate\s+\S+;", f"ssl_certificate {directory}/cert.pem;", site)
    site = re.sub(r"ssl_certificate_key\s+\S+;", f"ssl_certificate_key {directory}/key.pem;", site)
    assert f"127.0.0.1:{app_port}" in site and "8001" not in site and "letsencrypt" not in site
    return site


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    """`https://127.0.0.1:<port>`: nginx → gunicorn (one process, TRUSTED_PROXY_HOPS from its config)."""
    require_service(shutil.which("nginx") is not None and shutil.which("openssl") is not None, "nginx and openssl")
    directory = tmp_path_factory.mktemp("nginx")
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", "/CN=127.0.0.1",
                    "-keyout", directory / "key.pem", "-out", directory / "cert.pem"], check=True, capture_output=True)
    app = LiveServer({"DATABASE_URL": f"sqlite:///{directory}/site.sqlite", "SECRET_KEY": "nginx-test-" + "k" * 32,
                      "RATELIMIT_ENABLED": "true"}, production=True)
    app.env.pop("TRUSTED_PROXY_HOPS", None)  # what gunicorn.conf.py ships
    app.command("db", "upgrade")
    app.command("seed-demo")
    app.start()
    port = free_port()
    site_config = _site_config((ROOT / "deploy" / "nginx.conf").read_text(), app.port, port, directory)
    (directory / "nginx.conf").write_text(
        ("user root;\n" if os.geteuid() == 0 else "")
        + f"pid {directory}/nginx.pid;\nerror_log {directory}/error.log;\nevents {{}}\n"
        + "http {\n  access_log off;\n"
        + "".join(f"  {kind}_temp_path {directory}/{kind};\n" for kind in ("client_body", "proxy", "fastcgi",
                                                                            "uwsgi", "scgi"))
        + site_config + "\n}\n")
    nginx = subprocess.Popen(["nginx", "-p", str(directory), "-c", str(directory / "nginx.conf"), "-g", "daemon off;"],
                             stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and _request(port, "127.0.0.1", "GET", "/health", {})[0] != 200:
        assert nginx.poll() is None, nginx.stderr.read().decode()
        time.sleep(0.1)
    yield port
    stop_process(nginx)
    app.stop()


def _request(port, source_ip, method, path, headers, body=None):
    connection = http.client.HTTPSConnection("127.0.0.1", port, timeout=10, source_address=(source_ip, 0),
                                             context=ssl._create_unverified_context())
    try:
        connection.request(method, path, body=body, headers=headers)
        response = connection.getresponse()
        return response.status, response.headers, response.read().decode()
    except OSError:
        return None, {}, ""
    finally:
        connection.close()


def _api_login(port, source_ip, email, password=DEMO_PASSWORD, forwarded_for=None):
    headers = {"Content-Type": "application/json"}
    if forwarded_for:
        headers["X-Forwarded-For"] = forwarded_for
    status, _, _ = _request(port, source_ip, "POST", "/api/v1/auth/login", headers,
                            json.dumps({"email": email, "password": password}))
    return status


def test_three_people_from_three_addresses_sign_in_at_once_and_none_slows_another(site):
    attempts = [(f"127.0.0.{2 + n}", email) for n, email in enumerate(PEOPLE) for _ in range(10)]
    with ThreadPoolExecutor(max_workers=6) as pool:
        statuses = list(pool.map(lambda attempt: _api_login(site, *attempt), attempts))
    # Thirty sign-ins through one proxy: before, the eleventh was 429 for the whole site.
    assert statuses == [200] * 30


def test_a_client_cannot_pick_its_own_address(site):
    statuses = [_api_login(site, "127.0.0.20", f"nobody{n}@x.test", "wrong", forwarded_for=f"203.0.113.{n}")
                for n in range(11)]
    assert statuses == [401] * 10 + [429]


def test_the_session_cookie_is_secure_over_https_behind_the_proxy(site):
    status, headers, page = _request(site, "127.0.0.30", "GET", "/login", {})
    assert status == 200
    cookie = headers["Set-Cookie"]
    assert "Secure" in cookie and "HttpOnly" in cookie
    token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    form = urlencode({"csrf_token": token, "email": "mod@roundtable.test", "password": DEMO_PASSWORD})
    status, headers, _ = _request(site, "127.0.0.30", "POST", "/login",
                                  {"Content-Type": "application/x-www-form-urlencoded",
                                   "Cookie": cookie.split(";")[0], "Referer": f"https://127.0.0.1:{site}/login"}, form)
    assert status == 302 and headers["Location"].startswith("/")
