"""Requests to addresses that members or admins supply (push endpoints, webhook URLs), made safe.

Such a URL could point the server at itself or at the private network behind it. So, unless
OUTBOUND_ALLOW_PRIVATE_NETWORKS=true (tests, on-premise installs):

- only `https://` URLs are accepted (`check_url`, when the URL is registered: a 422);
- the address is checked *when connecting*, on what the name resolves to then (so a name that
  resolved to a public address at registration and to 127.0.0.1 later is still refused):
  loopback, private, link-local, shared, reserved and multicast addresses are refused;
- redirects are never followed, proxies from the environment are never used, and every request
  has a timeout.

`session()` gives a `requests.Session` with those rules (use it as any session, e.g. with
pywebpush); refusals raise `OutboundRefused` before a single byte is sent.
"""
import ipaddress
import socket
from email.utils import parsedate_to_datetime
from functools import cache
from urllib.parse import urlsplit

import requests
from flask import current_app
from requests.adapters import HTTPAdapter
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool
from urllib3.exceptions import NewConnectionError
from urllib3.util import connection as urllib3_connection

from .database import utcnow
from .errors import ValidationFailed

# (connect, read) seconds: a slow receiver holds a worker thread, never forever.
TIMEOUT = (5, 10)
MAX_URL = 2000


class OutboundRefused(Exception):  # noqa: N818 (a refusal, by policy)
    """The target is on a network the server must not reach: trying again will not help."""


def private_networks_allowed() -> bool:
    return bool(current_app.config.get("OUTBOUND_ALLOW_PRIVATE_NETWORKS"))


def is_public_address(address: str) -> bool:
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped  # ::ffff:127.0.0.1 is 127.0.0.1
    return ip.is_global and not ip.is_multicast


def resolve(host: str, port: int, allow_private: bool) -> list[str]:
    """The addresses `host` resolves to now, all of them allowed, or OutboundRefused (a name
    that does not resolve raises socket.gaierror, an OSError: that may pass)."""
    infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    addresses = list(dict.fromkeys(info[4][0] for info in infos))
    if not allow_private:
        # One bad address refuses the name: a name must not be a way to reach both worlds.
        refused = [address for address in addresses if not is_public_address(address)]
        if refused:
            raise OutboundRefused(f"{host} resolves to a non-public address ({refused[0]})")
    return addresses


def retry_after_seconds(value: str | None) -> float | None:
    """A `Retry-After` header (seconds, or an HTTP date) as seconds from now."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        return max((parsedate_to_datetime(value) - utcnow()).total_seconds(), 0)
    except (TypeError, ValueError):
        return None


def check_url(url, field: str, *, resolve_now: bool = True) -> str:
    """A URL a member or admin gives us to call later: well formed, https (unless private
    networks are allowed), and, with `resolve_now`, resolving to allowed addresses today.
    Raises ValidationFailed naming `field`."""
    allow_private = private_networks_allowed()
    if not isinstance(url, str) or not url or len(url) > MAX_URL:
        raise ValidationFailed({field: f"Give a URL of at most {MAX_URL} characters."})
    try:
        parts = urlsplit(url)
        port = parts.port or (443 if parts.scheme == "https" else 80)
    except ValueError:
        raise ValidationFailed({field: "This is not a valid URL."}) from None
    schemes = ("https", "http") if allow_private else ("https",)
    if parts.scheme not in schemes or not parts.hostname:
        raise ValidationFailed({field: "Give an https:// URL."})
    if parts.username or parts.password:
        raise ValidationFailed({field: "The URL must not carry a user name or password."})
    if resolve_now:
        try:
            resolve(parts.hostname, port, allow_private)
        except OutboundRefused as refusal:
            raise ValidationFailed({field: f"This URL cannot be reached from here: {refusal}."}) from None
        except (OSError, UnicodeError):
            raise ValidationFailed({field: f"{parts.hostname} does not resolve."}) from None
    return url


class _CheckedConnect:
    """Resolves, checks and connects in one step, to the very address that was checked."""

    allow_private = False

    def _new_conn(self):
        failure = None
        for address in resolve(self._dns_host, self.port, self.allow_private):
            try:
                return urllib3_connection.create_connection(
                    (address, self.port), self.timeout, source_address=self.source_address,
                    socket_options=self.socket_options)
            except OSError as error:
                failure = error
        raise NewConnectionError(self, f"Failed to establish a new connection: {failure}") from failure


@cache
def _pool_classes(allow_private: bool) -> dict:
    http = type("CheckedHTTPConnection", (_CheckedConnect, HTTPConnection), {"allow_private": allow_private})
    https = type("CheckedHTTPSConnection", (_CheckedConnect, HTTPSConnection), {"allow_private": allow_private})
    return {
        "http": type("CheckedHTTPConnectionPool", (HTTPConnectionPool,), {"ConnectionCls": http}),
        "https": type("CheckedHTTPSConnectionPool", (HTTPSConnectionPool,), {"ConnectionCls": https}),
    }


class _CheckedAdapter(HTTPAdapter):
    def __init__(self, allow_private: bool):
        self.allow_private = allow_private
        super().__init__(max_retries=0)

    def init_poolmanager(self, *args, **kwargs):
        super().init_poolmanager(*args, **kwargs)
        self.poolmanager.pool_classes_by_scheme = _pool_classes(self.allow_private)


class OutboundSession(requests.Session):
    """A requests session that never follows a redirect and always has a timeout."""

    def __init__(self, allow_private: bool):
        super().__init__()
        self.trust_env = False  # an HTTP(S)_PROXY from the environment would connect for us, unchecked
        adapter = _CheckedAdapter(allow_private)
        self.mount("https://", adapter)
        self.mount("http://", adapter if allow_private else _RefuseAdapter())

    def request(self, method, url, **kwargs):
        kwargs["allow_redirects"] = False
        kwargs["timeout"] = kwargs.get("timeout") or TIMEOUT
        if isinstance(kwargs["timeout"], int | float) and kwargs["timeout"] > TIMEOUT[1]:
            kwargs["timeout"] = TIMEOUT  # pywebpush's default is 10,000 s
        return super().request(method, url, **kwargs)


class _RefuseAdapter(HTTPAdapter):
    def send(self, request, **kwargs):
        raise OutboundRefused("plain http:// is refused (https only)")


def session() -> OutboundSession:
    """A session for user-supplied URLs, under this app's OUTBOUND_ALLOW_PRIVATE_NETWORKS."""
    return OutboundSession(private_networks_allowed())
