"""Configuration from environment variables (names fixed by DESIGN.md)."""
import math
import os
import secrets
from datetime import timedelta
from email.utils import parseaddr
from pathlib import Path
from urllib.parse import urlsplit

# A PostgreSQL server that has not accepted a connection by then is down for this request (and
# for /health, which must answer a load balancer rather than hang).
DATABASE_CONNECT_TIMEOUT_SECONDS = 3


class ConfigurationError(RuntimeError):
    pass


def _flag(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() not in ("0", "false", "no", "off", "")


def _whole_number(name: str, default: int, least: int = 0, most: int | None = None,
                  meaning: str | None = None) -> int:
    """A whole number from `least` to `most` (no upper bound: None); unset or blank: `default`."""
    value = (os.environ.get(name) or "").strip()
    if not value:
        return default
    if not (value.isascii() and value.isdigit()) or int(value) < least or (most is not None and int(value) > most):
        meaning = meaning or (f"a whole number of at least {least}" if least else "a whole number (0 or more)")
        raise ConfigurationError(f"{name} must be {meaning}, not {value!r}.")
    return int(value)


def _seconds(name: str, default: float) -> float:
    """A length of time in seconds, more than 0 (`1.5` is fine); unset or blank: `default`."""
    value = (os.environ.get(name) or "").strip()
    if not value:
        return default
    try:
        seconds = float(value) if value.isascii() else math.nan
    except ValueError:
        seconds = math.nan
    if not (math.isfinite(seconds) and seconds > 0):
        raise ConfigurationError(f"{name} must be a number of seconds above 0, not {value!r}.")
    return seconds


def _choice(name: str, choices: tuple[str, ...], default: str) -> str:
    value = (os.environ.get(name) or default).strip().lower()
    if value not in choices:
        raise ConfigurationError(f"{name} must be one of {', '.join(choices)}, not {value!r}.")
    return value


def _cors_origins() -> list[str]:
    """`CORS_ORIGINS`: the origins (`https://app.example.com`, comma-separated) whose pages may
    call the API from a browser. Each is a whole origin: scheme, host and port, no path."""
    origins = [origin.strip().rstrip("/") for origin in (os.environ.get("CORS_ORIGINS") or "").split(",")
               if origin.strip()]
    for origin in origins:
        parts = urlsplit(origin)
        if parts.scheme not in ("http", "https") or not parts.hostname or parts.path or parts.query:
            raise ConfigurationError(f"CORS_ORIGINS holds {origin!r}: each must be an origin such as "
                                     "https://app.example.com (scheme, host and port only).")
    return origins


def _smtp_url() -> str | None:
    """`smtp://[user:password@]host[:port]` (STARTTLS with `?starttls=1`) or `smtps://…` (TLS)."""
    url = os.environ.get("SMTP_URL") or None
    if url is not None:
        parts = urlsplit(url)
        if parts.scheme not in ("smtp", "smtps") or not parts.hostname:
            raise ConfigurationError("SMTP_URL must look like smtp://host:port or smtps://user:password@host:port.")
    return url


def _secret_key(instance_path: str, demo: bool) -> str:
    """Production must set SECRET_KEY. The demo keeps a random one in its instance folder."""
    key = os.environ.get("SECRET_KEY")
    if key:
        return key
    if not demo:
        raise ConfigurationError(
            "SECRET_KEY is not set. Set it to a long random value (or ROUNDTABLE_DEMO=1 for a local demo)."
        )
    path = Path(instance_path) / "demo-secret-key"
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(secrets.token_hex(32))
        path.chmod(0o600)
    return path.read_text().strip()


def from_environment(instance_path: str, overrides: dict | None = None) -> dict:
    """The settings for this process. `overrides` (tests, tools) win over the environment."""
    overrides = dict(overrides or {})
    demo = overrides.get("DEMO", _flag("ROUNDTABLE_DEMO", False)) or overrides.get("TESTING", False)
    settings = {
        "DEMO": demo,
        "SQLALCHEMY_DATABASE_URI": os.environ.get("DATABASE_URL")
        or "sqlite:///" + os.path.join(instance_path, "roundtable.sqlite"),
        "REDIS_URL": os.environ.get("REDIS_URL") or None,
        "SMTP_URL": _smtp_url(),
        "SMTP_FROM": os.environ.get("SMTP_FROM") or "Roundtable <roundtable@localhost>",
        # Where members reach the site: links in emails (and invitations printed by the CLI).
        "BASE_URL": (os.environ.get("ROUNDTABLE_BASE_URL") or "http://127.0.0.1:5000").rstrip("/"),
        "RATELIMIT_ENABLED": _flag("RATELIMIT_ENABLED", True),
        "TRUSTED_PROXY_HOPS": _whole_number("TRUSTED_PROXY_HOPS", 0),
        "CORS_ORIGINS": _cors_origins(),
        # false: every request reads the database (to measure a cache miss, or to rule caches out).
        "CACHE_ENABLED": _flag("CACHE_ENABLED", True),
        # A lost Redis must not take requests down: limits fall back to memory meanwhile.
        "RATELIMIT_SWALLOW_ERRORS": True,
        "RATELIMIT_IN_MEMORY_FALLBACK_ENABLED": True,
        # json: the app's own logs as one JSON object per line (gunicorn.conf.py sets it).
        "LOG_FORMAT": _choice("LOG_FORMAT", ("text", "json"), "text"),
        "LOG_LEVEL": (os.environ.get("LOG_LEVEL") or "info").upper(),
        "REALTIME_SWEEP_SECONDS": _seconds("REALTIME_SWEEP_SECONDS", 20),
        "MAX_CONTENT_LENGTH": 1024 * 1024,
        # Uploads (images and PDFs) are larger than any form: their routes raise the limit to this.
        "UPLOAD_MAX_BYTES": _whole_number("UPLOAD_MAX_BYTES", 10 * 1024 * 1024, least=1),
        "UPLOADS_DIR": os.environ.get("UPLOADS_DIR") or os.path.join(instance_path, "uploads"),
        # Members' data exports (zip files, each kept 7 days): web processes and workers share it.
        "EXPORTS_DIR": os.environ.get("EXPORTS_DIR") or os.path.join(instance_path, "exports"),
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
        "SESSION_COOKIE_NAME": "roundtable_session",
        "PERMANENT_SESSION_LIFETIME": 14 * 24 * 3600,
        "WTF_CSRF_TIME_LIMIT": None,  # the token lives as long as the session it belongs to
        # The pool hands out only live connections (community.extensions checks each at
        # checkout without a round trip), so a restarted PostgreSQL costs no request; it is
        # sized for a gevent worker's concurrency (DB_POOL_SIZE).
        "SQLALCHEMY_ENGINE_OPTIONS": _engine_options(),
        "FLAG_AUTO_HIDE_THRESHOLD": _whole_number("FLAG_AUTO_HIDE_THRESHOLD", 3, least=1),
        # A check-in lapses after this long without an update from the attendee.
        "CHECKIN_TTL_MINUTES": _whole_number("CHECKIN_TTL_MINUTES", 120, least=1),
        # Meeting requests one attendee may send per event in 24 hours.
        "MEETING_REQUESTS_PER_DAY": _whole_number("MEETING_REQUESTS_PER_DAY", 20, least=1),
        # Push endpoints and webhook URLs may be on loopback/private networks, over plain http
        # (tests, on-premise installs). Never in a public deployment.
        "OUTBOUND_ALLOW_PRIVATE_NETWORKS": _flag("OUTBOUND_ALLOW_PRIVATE_NETWORKS", False),
        # Push notifications (each kind is off while its settings are unset).
        "VAPID_PRIVATE_KEY": os.environ.get("VAPID_PRIVATE_KEY") or None,
        "VAPID_SUBJECT": os.environ.get("VAPID_SUBJECT") or None,
        "FCM_CREDENTIALS_FILE": os.environ.get("FCM_CREDENTIALS_FILE") or None,
        # Unset: Google's own FCM endpoint (push.senders).
        "FCM_ENDPOINT": (os.environ.get("FCM_ENDPOINT") or "").rstrip("/") or None,
        "APNS_KEY_FILE": os.environ.get("APNS_KEY_FILE") or None,
        "APNS_KEY_ID": os.environ.get("APNS_KEY_ID") or None,
        "APNS_TEAM_ID": os.environ.get("APNS_TEAM_ID") or None,
        "APNS_TOPIC": os.environ.get("APNS_TOPIC") or None,
        "APNS_ENDPOINT": (os.environ.get("APNS_ENDPOINT") or "https://api.push.apple.com").rstrip("/"),
        # Replies wait this long before their push, so a burst in one thread is one push.
        "PUSH_GROUP_SECONDS": _seconds("PUSH_GROUP_SECONDS", 5),
        # How long a meeting booked into a slot lasts, and how early both are reminded of it.
        "MEETING_MINUTES": _whole_number("MEETING_MINUTES", 30, least=1),
        "MEETING_REMINDER_MINUTES": _whole_number("MEETING_REMINDER_MINUTES", 15, least=1),
        # Background jobs. Tests set JOBS_IMMEDIATE: each job runs right after its commit.
        "JOBS_IMMEDIATE": False,
        "JOBS_IN_PROCESS_WORKERS": _whole_number("JOBS_IN_PROCESS_WORKERS", 2, least=1),
        "DIGEST_HOUR": _whole_number("DIGEST_HOUR", 7, most=23, meaning="an hour of the day (0 to 23, UTC)"),
    }
    settings.update(_single_sign_on())
    settings.update(overrides)
    _check_sign_in(settings)
    if "SECRET_KEY" not in settings:
        settings["SECRET_KEY"] = _secret_key(instance_path, demo)
    settings.setdefault("JWT_SECRET_KEY", os.environ.get("JWT_SECRET_KEY") or settings["SECRET_KEY"])
    settings.setdefault("JWT_ACCESS_TOKEN_EXPIRES", timedelta(minutes=15))
    settings.setdefault("JWT_REFRESH_TOKEN_EXPIRES", timedelta(days=30))
    # Without Redis the web process runs the jobs itself (`flask run`, the demo); with Redis,
    # `flask worker` processes do (JOBS_IN_PROCESS=true runs them in the web process anyway).
    settings.setdefault("JOBS_IN_PROCESS", _flag("JOBS_IN_PROCESS", not settings["REDIS_URL"])
                        and not settings["JOBS_IMMEDIATE"])
    settings["VAPID_SUBJECT"] = _vapid_subject(settings)
    settings["SQLALCHEMY_DATABASE_URI"] = _with_psycopg(settings["SQLALCHEMY_DATABASE_URI"])
    if settings["SQLALCHEMY_DATABASE_URI"].startswith("postgresql"):
        options = settings["SQLALCHEMY_ENGINE_OPTIONS"] = dict(settings["SQLALCHEMY_ENGINE_OPTIONS"])
        options["connect_args"] = {"connect_timeout": DATABASE_CONNECT_TIMEOUT_SECONDS,
                                   **options.get("connect_args", {})}
    return settings


def _vapid_subject(settings: dict) -> str:
    """How push services reach the operator (RFC 8292): a mailto: or https: URL. By default the
    site's https address, else the sender address of its emails."""
    subject = settings.get("VAPID_SUBJECT")
    if subject is None:
        base = settings["BASE_URL"]
        return base if base.startswith("https://") else "mailto:" + parseaddr(settings["SMTP_FROM"])[1]
    if not subject.startswith(("mailto:", "https://")):
        raise ConfigurationError("VAPID_SUBJECT must be a mailto: or https:// URL.")
    return subject


def _single_sign_on() -> dict:
    """OpenID Connect: on when OIDC_ISSUER is set (see the README's single sign-on section)."""
    return {
        "OIDC_ISSUER": (os.environ.get("OIDC_ISSUER") or "").strip().rstrip("/") or None,
        "OIDC_CLIENT_ID": (os.environ.get("OIDC_CLIENT_ID") or "").strip() or None,
        "OIDC_CLIENT_SECRET": os.environ.get("OIDC_CLIENT_SECRET") or None,
        "OIDC_DISPLAY_NAME": (os.environ.get("OIDC_DISPLAY_NAME") or "").strip() or "single sign-on",
        "OIDC_MOBILE_CLIENT_IDS": [
            client.strip() for client in (os.environ.get("OIDC_MOBILE_CLIENT_IDS") or "").split(",") if client.strip()],
        "OIDC_SCOPES": (os.environ.get("OIDC_SCOPES") or "openid email profile").strip(),
        "OIDC_SYNC_PROFILE": _flag("OIDC_SYNC_PROFILE", False),
        # Tolerated clock difference with the provider when checking an ID token's times.
        "OIDC_LEEWAY_SECONDS": _whole_number("OIDC_LEEWAY_SECONDS", 60, least=1),
        # Who to ask for access, named on the page that turns away people with no place here.
        "OIDC_ACCESS_CONTACT": (os.environ.get("OIDC_ACCESS_CONTACT") or "").strip(),
        "PASSWORD_LOGIN": _flag("PASSWORD_LOGIN", True),
    }


def _check_sign_in(settings: dict) -> None:
    if settings.get("OIDC_ISSUER") and not settings.get("OIDC_CLIENT_ID"):
        raise ConfigurationError(
            "OIDC_ISSUER is set but OIDC_CLIENT_ID is not: set the client id the provider gave you.")
    if not settings.get("PASSWORD_LOGIN", True) and not settings.get("OIDC_ISSUER"):
        raise ConfigurationError("PASSWORD_LOGIN=false needs single sign-on (OIDC_ISSUER): nobody else could sign in.")


def _engine_options() -> dict:
    url = os.environ.get("DATABASE_URL") or ""
    options = {}
    if url.startswith(("postgres", "postgresql")):
        options.update(pool_size=_whole_number("DB_POOL_SIZE", 10, least=1), max_overflow=20, pool_timeout=10)
    return options


def _with_psycopg(url: str) -> str:
    """PostgreSQL URLs without a driver would pick psycopg2; this project ships psycopg 3."""
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix):]
    return url
