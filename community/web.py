"""What every web page shares: sign-in enforcement, security headers, error pages."""
import math
import re
import time
from urllib.parse import urlsplit

import redis
from flask import Flask, abort, current_app, jsonify, redirect, render_template, request, session, url_for
from flask.sessions import SecureCookieSessionInterface
from flask_jwt_extended import current_user as token_user
from flask_jwt_extended import verify_jwt_in_request
from flask_limiter.errors import RateLimitExceeded
from flask_login import current_user
from flask_wtf.csrf import CSRFError
from sqlalchemy import text
from sqlalchemy.exc import DisconnectionError, OperationalError, SQLAlchemyError
from werkzeug.exceptions import HTTPException, InternalServerError
from werkzeug.routing import IntegerConverter

from . import json_input, permissions, validation
from .accounts import oidc, web_sign_in
from .database import MAX_ID, db
from .errors import DomainError, ValidationFailed
from .extensions import limiter, login_manager
from .jobs.services import queue_health
from .responses import (
    JSONProvider,
    answered_by_flask,
    http_error_response,
    public,
    register_error_renderer,
    render_error,
)

CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; object-src 'none'; base-uri 'self'; form-action 'self'; frame-ancestors 'none'; "
    # The badge scanner's decoder (vendored qr-scanner) runs in a worker it builds from a blob.
    "worker-src 'self' blob:"
)

SECURITY_POLICY = "roundtable.content_security_policy"


def content_security_policy(form_targets: list[str]) -> str:
    """The policy, with forms also allowed to lead to `form_targets` (origins): sign-out
    continues at the single sign-on provider, and a form's redirects count as its target."""
    return CONTENT_SECURITY_POLICY.replace("form-action 'self'", " ".join(["form-action 'self'", *form_targets]))

PAGE_TITLES = {
    400: "Bad request", 401: "Sign in failed", 403: "Not allowed", 404: "Not found", 405: "Not allowed",
    409: "Not possible right now", 410: "No longer available", 413: "Too large", 415: "Unsupported format",
    422: "Please check your input", 429: "Slow down", 500: "Something went wrong", 503: "Back in a moment",
}


def safe_next_url(target: str | None, fallback: str) -> str:
    """Only same-site paths, so a login link cannot bounce people to another site."""
    if not target:
        return fallback
    # Newlines cannot go into a Location header, and browsers drop tabs and newlines from URLs
    # ("/\t/evil.example" is "//evil.example" to them): only printable text is a path here.
    if not target.isprintable():
        return fallback
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return fallback
    return target


def form_int(name: str) -> int:
    """A whole number from the submitted form, or a clear 422 naming the field."""
    try:
        return int(request.form.get(name, ""))
    except ValueError:
        raise ValidationFailed({name: "Choose one."}) from None


def counted(count: int, noun: str) -> str:
    """"1 interest", "2 interests": a count with its noun, in the plural by an "s" (every noun
    counted so far takes one; the template filter `counted` too)."""
    return f"{count} {noun if count == 1 else noun + 's'}"


def signed_in_user_key() -> str:
    """Rate limits of signed-in actions count per member."""
    return f"user:{current_user.get_id()}"


def _to_sign_in():
    return redirect(url_for("accounts.login", next=request.full_path.rstrip("?")))


def web_or_app_user():
    """The member asking a route that serves files to both faces: signed in on the web, or an
    app sending its bearer token (checked like the API's). Neither: like every page, off to the
    sign-in form (the redirect is raised)."""
    if current_user.is_authenticated:
        return current_user
    if request.headers.get("Authorization"):
        verify_jwt_in_request()
        return token_user
    abort(_to_sign_in())


class IdConverter(IntegerConverter):
    """`<int:...>` in every route: an id no row can have is a 404, never a database error."""

    def __init__(self, url_map, *args, **kwargs):
        kwargs.setdefault("max", MAX_ID)
        super().__init__(url_map, *args, **kwargs)


class SessionInterface(SecureCookieSessionInterface):
    """Marks the session cookie Secure whenever the request came over HTTPS."""

    def get_cookie_secure(self, app):
        return app.config["SESSION_COOKIE_SECURE"] or request.is_secure


def _require_sign_in():
    if request.endpoint is None:
        return None  # no such route: the 404 handler answers
    if answered_by_flask():
        return None
    view_function = current_app.view_functions.get(request.endpoint)
    if getattr(view_function, "is_public", False) or request.endpoint.rsplit(".", 1)[-1] == "static":
        return None
    if request.blueprint in current_app.config.get("TOKEN_AUTH_BLUEPRINTS", ()):
        return None  # the API checks its own bearer tokens
    if not current_user.is_authenticated:
        return _to_sign_in()
    return None


def _refuse_unfit_characters():
    """No text anywhere may carry NUL or an unpaired surrogate: PostgreSQL cannot store the one,
    nothing can encode the other, and no person types either. Before any sign-in check; a body
    that is not JSON by the one policy (community.json_input) is left to the view to refuse."""
    sources = [request.args.to_dict(flat=False), request.form.to_dict(flat=False), json_input.request_body(),
               request.path]
    if any(validation.has_unfit_characters(source) for source in sources):
        return render_error(422, "validation_failed", "Text must not contain NUL characters or unpaired surrogates.")
    return None


def _security_headers(response):
    response.headers.setdefault("Content-Security-Policy", current_app.extensions[SECURITY_POLICY])
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["X-Frame-Options"] = "DENY"
    response.headers["Referrer-Policy"] = "same-origin"
    return response


def _error_page(status: int, code: str, message: str, fields: dict, headers: list):
    details = " ".join([message, *fields.values()])
    return (render_template("errors/error.html", status=status, title=PAGE_TITLES.get(status, "Error"),
                            message=details), status, headers)


# A web form refused for what was typed (422) or for the state of things (409) goes back to the
# page it was on, which shows the message and the input again (`failed_form`), instead of an error
# page. What is kept travels in the session cookie, so it is bounded; passwords never travel.
FAILED_FORM = "roundtable.failed_form"
FORM_ANCHOR = "form_anchor"
BACK_TO_FORM_STATUSES = (409, 422)
MAX_KEPT_INPUT = 2000
_ANCHOR = re.compile(r"[A-Za-z][\w-]{0,60}")


def _page_of_the_form() -> str | None:
    """The same-site page a failed form was submitted from, or None."""
    if request.method != "POST" or request.blueprint in current_app.config.get("TOKEN_AUTH_BLUEPRINTS", ()) \
            or request.is_json or request.accept_mimetypes.best == "application/json":
        return None
    referrer = urlsplit(request.referrer or "")
    if referrer.netloc != request.host or referrer.scheme not in ("http", "https"):
        return None
    return safe_next_url(referrer.path + (f"?{referrer.query}" if referrer.query else ""), None)


def _back_to_the_form(error: DomainError, page: str):
    kept = {name: value for name, value in request.form.items()
            if name != "csrf_token" and "password" not in name}
    if sum(len(value) for value in kept.values()) > MAX_KEPT_INPUT:
        kept = {}  # too long to carry: the message still says what to fix
    anchor = request.form.get(FORM_ANCHOR, "")
    anchor = anchor if _ANCHOR.fullmatch(anchor) else ""
    session[FAILED_FORM] = {"action": request.path, "anchor": anchor, "message": error.message,
                            "fields": error.fields if isinstance(error, ValidationFailed) else {}, "kept": kept}
    return redirect(page + (f"#{anchor}" if anchor else ""), 303)


def _domain_error(error: DomainError):
    page = _page_of_the_form() if error.status in BACK_TO_FORM_STATUSES else None
    if page is not None:
        return _back_to_the_form(error, page)
    return render_error(error.status, error.code, error.message,
                        error.fields if isinstance(error, ValidationFailed) else None)


class FailedForm:
    """The form of this page whose last submission was refused, read once (like a flash)."""

    def __init__(self, failed: dict | None):
        self._failed = failed

    def for_form(self, action: str, anchor: str) -> dict | None:
        """{message, fields, kept} when the form posting to `action` with this `form_anchor`
        (several forms may post to one action) is the one refused."""
        failed = self._failed
        return failed if failed and (failed["action"], failed["anchor"]) == (action, anchor) else None

    def kept(self, action: str, name: str, default=""):
        """What was typed into field `name` of the refused form posting to `action`."""
        failed = self._failed
        return failed["kept"].get(name, default) if failed and failed["action"] == action else default

    @staticmethod
    def summary(failed: dict) -> str:
        """The message with what each field needs: "Some fields are not valid. Say what is wrong."."""
        return " ".join([failed["message"], *(m for m in failed["fields"].values() if m != failed["message"])])

    @property
    def message_for_the_page(self) -> str | None:
        """The message, when the form does not show it itself."""
        return self.summary(self._failed) if self._failed and not self._failed["anchor"] else None


def _failed_form() -> dict:
    return {"failed_form": FailedForm(session.pop(FAILED_FORM, None) if FAILED_FORM in session else None)}


def _csrf_error(error: CSRFError):
    return render_error(400, "csrf_failed",
                        "This form was open too long or came from elsewhere. Reload the page and try again.")


def _rate_limited(error: RateLimitExceeded):
    """Only a refusal says when to come back: answers within the limit carry no Retry-After."""
    breached = limiter.current_limit
    wait = math.ceil(breached.reset_at - time.time()) if breached else 60
    return render_error(429, headers=[("Retry-After", str(max(1, wait)))])


def _database_unavailable(error: Exception):
    """A lost or restarting database is a clean, retryable 503, not a crash; the transaction is
    rolled back and the pool hands out fresh connections once the database is back."""
    db.session.rollback()
    current_app.logger.warning("database unavailable: %s", error.__class__.__name__)
    return render_error(503, "unavailable", "The service is briefly unavailable. Try again in a moment.",
                        headers=[("Retry-After", "5")])


def _server_error(error: Exception):
    db.session.rollback()
    if isinstance(error, HTTPException):
        return http_error_response(error)
    current_app.logger.exception("unhandled error", exc_info=error)
    return http_error_response(InternalServerError())


def register_web(app: Flask) -> None:
    app.json = JSONProvider(app)
    app.url_map.converters["int"] = IdConverter
    app.session_interface = SessionInterface()
    login_manager.init_app(app)
    login_manager.user_loader(web_sign_in.load_signed_in_user)
    login_manager.login_view = "accounts.login"
    login_manager.login_message = None
    register_error_renderer(app, "", _error_page)
    app.before_request(_refuse_unfit_characters)
    app.before_request(_require_sign_in)
    app.extensions[SECURITY_POLICY] = content_security_policy(
        [origin for origin in [oidc.provider_origin(app)] if origin])
    app.after_request(_security_headers)
    app.after_request(web_sign_in.mark_web_session_seen)
    app.register_error_handler(DomainError, _domain_error)
    app.register_error_handler(HTTPException, http_error_response)
    app.register_error_handler(RateLimitExceeded, _rate_limited)
    app.register_error_handler(CSRFError, _csrf_error)
    app.register_error_handler(InternalServerError, _server_error)
    app.register_error_handler(DisconnectionError, _database_unavailable)
    app.register_error_handler(OperationalError, _database_unavailable)
    app.add_url_rule("/health", view_func=health)
    app.jinja_env.globals["policy"] = permissions
    app.jinja_env.filters["counted"] = counted
    app.context_processor(_failed_form)


HEALTH_REDIS = "roundtable.health_redis"
# A load balancer polls health every few seconds: a dead dependency must answer fast, not hang.
HEALTH_TIMEOUT_SECONDS = 2


def _database_health() -> dict:
    """The database, and the job queue read from it, each statement cut off after
    HEALTH_TIMEOUT_SECONDS: a locked table or a stuck server is "unavailable", not a hung check."""
    try:
        if db.session.get_bind().dialect.name == "postgresql":
            # LOCAL: for this request's transaction only, never for the pooled connection.
            db.session.execute(text(f"SET LOCAL statement_timeout = {HEALTH_TIMEOUT_SECONDS * 1000}"))
        db.session.execute(text("SELECT 1"))
        queue = queue_health()
    except SQLAlchemyError:
        db.session.rollback()
        return {"database": "unavailable"}
    return {"database": "ok", "queue": queue}


def _redis_health(url: str) -> str:
    client = current_app.extensions.get(HEALTH_REDIS)
    if client is None:
        client = current_app.extensions[HEALTH_REDIS] = redis.Redis.from_url(
            url, socket_timeout=HEALTH_TIMEOUT_SECONDS, socket_connect_timeout=HEALTH_TIMEOUT_SECONDS)
    try:
        client.ping()
    except (redis.RedisError, OSError):
        return "unavailable"
    return "ok"


@public
def health():
    """Each configured dependency and whether it answers; 503 when one does not, so a load
    balancer stops sending traffic to a process that cannot serve it."""
    checks = _database_health()
    if current_app.config["REDIS_URL"]:
        # Redis carries pushes between processes and the rate limits: a process without it
        # serves requests, but its sockets miss what other processes announce.
        checks["redis"] = _redis_health(current_app.config["REDIS_URL"])
    # The queue is reported, not judged: a backlog is for operators, not a reason to stop serving.
    healthy = all(state == "ok" for name, state in checks.items() if name != "queue")
    return jsonify(status="ok" if healthy else "error", **checks), 200 if healthy else 503
