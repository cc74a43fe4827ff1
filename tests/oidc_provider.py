"""A real OpenID provider for the tests: the `oidc-provider` package on Node (tests/js/oidc_provider.mjs),
on a free loopback port, and an app's side of the authorization code flow with PKCE against it."""
import base64
import hashlib
import json
import os
import re
import secrets
import shutil
import subprocess
import time
from pathlib import Path
from urllib.parse import parse_qs, urljoin, urlsplit

import requests
from joserfc.jwk import RSAKey

from .conftest import require_service
from .live_server import free_port, stop_process

JS = Path(__file__).resolve().parent / "js"
SCRIPT = JS / "oidc_provider.mjs"
WEB_CLIENT = ("roundtable-web", "roundtable-demo-secret")
APP_REDIRECT_URI = "com.example.roundtable:/oidc"


def require_provider() -> None:
    require_service(shutil.which("node") is not None and (JS / "node_modules" / "oidc-provider").is_dir(),
                    "Node with tests/js/node_modules (npm ci --prefix tests/js)")


def write_signing_keys(path: Path, *kids: str) -> Path:
    """A private JWKS with one RSA key per kid; the provider signs with the first."""
    keys = [RSAKey.generate_key(2048, parameters={"kid": kid, "use": "sig", "alg": "RS256"}, private=True)
            for kid in kids]
    path.write_text(json.dumps({"keys": [key.as_dict(private=True) for key in keys]}))
    return path


class OpenIDProvider:
    def __init__(self, redirect_uris: list[str], jwks: Path | None = None, port: int | None = None,
                 issuer: str | None = None):
        require_provider()
        self.port = port or free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.issuer = issuer or self.url
        self.redirect_uris = redirect_uris
        self.jwks = jwks
        self.process = None

    def start(self) -> "OpenIDProvider":
        env = {**os.environ, "OIDC_PROVIDER_PORT": str(self.port), "OIDC_PROVIDER_ISSUER": self.issuer,
               "OIDC_PROVIDER_REDIRECT_URIS": ",".join(self.redirect_uris)}
        if self.jwks:
            env["OIDC_PROVIDER_JWKS"] = str(self.jwks)
        self.process = subprocess.Popen(["node", str(SCRIPT)], cwd=JS, env=env, stdout=subprocess.DEVNULL,
                                        stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            try:
                if requests.get(self.url + "/.well-known/openid-configuration", timeout=1).ok:
                    return self
            except requests.ConnectionError:
                time.sleep(0.1)
        self.stop()
        raise RuntimeError("the OpenID provider did not start")

    def stop(self) -> None:
        if self.process:
            stop_process(self.process)

    def restart(self, jwks: Path | None = None) -> None:
        """Stop and start on the same port, with other signing keys if given (a key rotation)."""
        self.stop()
        self.jwks = jwks or self.jwks
        self.start()

    def sign_in(self, browser: requests.Session, authorize_url: str, login: str, stop_at: str) -> str:
        """Follow the provider's pages as a person would, signing in as `login`; returns the
        address it sends them back to (which starts with `stop_at`), without opening it."""
        response = browser.get(authorize_url, allow_redirects=False)
        for _ in range(10):
            if response.is_redirect:
                target = urljoin(response.url, response.headers["Location"])
                if target.startswith(stop_at):
                    return target
                response = browser.get(target, allow_redirects=False)
            else:
                action = re.search(r'<form method="post" action="([^"]+)"', response.text)
                assert action, response.text
                response = browser.post(urljoin(response.url, action.group(1)),
                                        data={"login": login, "password": "any"}, allow_redirects=False)
        raise AssertionError("the provider never sent the person back")

    def app_tokens(self, login: str, client_id: str = "roundtable-mobile") -> dict:
        """What a mobile app gets: the authorization code flow with PKCE, as a public client (or,
        for the web client, with its secret)."""
        web = client_id == WEB_CLIENT[0]
        redirect_uri = self.redirect_uris[0] if web else APP_REDIRECT_URI
        verifier = secrets.token_urlsafe(48)
        challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
        query = requests.Request("GET", self.url + "/auth", params={
            "client_id": client_id, "response_type": "code", "scope": "openid email profile",
            "redirect_uri": redirect_uri, "code_challenge": challenge, "code_challenge_method": "S256",
            "state": secrets.token_urlsafe(8), "nonce": secrets.token_urlsafe(8)}).prepare().url
        back = self.sign_in(requests.Session(), query, login, redirect_uri)
        code = parse_qs(urlsplit(back).query)["code"][0]
        response = requests.post(self.url + "/token", timeout=10, auth=WEB_CLIENT if web else None, data={
            "grant_type": "authorization_code", "code": code, "redirect_uri": redirect_uri,
            "code_verifier": verifier, **({} if web else {"client_id": client_id})})
        assert response.ok, response.text
        return response.json()

    def id_token(self, login: str, client_id: str = "roundtable-mobile") -> str:
        return self.app_tokens(login, client_id)["id_token"]
