"""What every web page shares: sign-in enforcement, security headers, error pages."""
from urllib.parse import urlsplit

from flask import Flask, current_app, jsonify, redirect, render_template, request, url_for
from flask.sessions import SecureCookieSessionInterface
from flask_login import current_user
from flask_wtf.csrf import CSRFError
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from . import permissions
from .accounts.models import User
from .database import db
from .errors import DomainError, Forbidden, NotFound, ValidationFailed
from .extensions import login_manager

CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; object-src 'none'; base-uri 'self'; form-action 'self'; frame-ancestors 'none'"
)


def public(view):
    """Mark a view as answering without a signed-in user (login, invitations, health)."""
    view.is_public = True
    return view


def safe_next_url(target: str | None, fallback: str) -> str:
    """Only same-site paths, so a login link cannot bounce people to another site."""
    if not target:
        return fallback
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return fallback
    return target


class SessionInterface(SecureCookieSessionInterface):
    """Marks the session cookie Secure whenever the request came over HTTPS."""

    def get_cookie_secure(self, app):
        return app.config["SESSION_COOKIE_SECURE"] or request.is_secure


@login_manager.user_loader
def _load_user(user_id: str):
    user = db.session.get(User, int(user_id))
    # A suspended member's session ends at their next request.
    return user if user is not None and user.is_active else None


def _require_sign_in():
    if request.endpoint is None:
        return None  # no such route: the 404 handler answers
    view_function = current_app.view_functions.get(request.endpoint)
    if getattr(view_function, "is_public", False) or request.endpoint == "static":
        return None
    if request.blueprint in current_app.config.get("TOKEN_AUTH_BLUEPRINTS", ()):
        return None  # the API checks its own bearer tokens
    if not current_user.is_authenticated:
        return redirect(url_for("accounts.login", next=request.full_path.rstrip("?")))
    return None


def _security_headers(response):
    response.headers.setdefault("Content-Security-Policy", CONTENT_SECURITY_POLICY)
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["X-Frame-Options"] = "DENY"
    response.headers["Referrer-Policy"] = "same-origin"
    return response


def _error_page(status: int, title: str, message: str):
    return render_template("errors/error.html", status=status, title=title, message=message), status


def _domain_error(error: DomainError):
    if isinstance(error, NotFound):
        return _error_page(404, "Not found", error.message)
    if isinstance(error, Forbidden):
        return _error_page(403, "Not allowed", error.message)
    if isinstance(error, ValidationFailed):
        return _error_page(400, "Bad request", " ".join([error.message, *error.fields.values()]))
    return _error_page(409, "Not possible right now", error.message)


def register_web(app: Flask) -> None:
    app.session_interface = SessionInterface()
    login_manager.init_app(app)
    login_manager.login_view = "accounts.login"
    login_manager.login_message = None
    app.before_request(_require_sign_in)
    app.after_request(_security_headers)
    app.register_error_handler(DomainError, _domain_error)
    app.register_error_handler(CSRFError, lambda e: _error_page(
        400, "Form expired", "This form was open too long or came from elsewhere. Reload the page and try again."))
    for status, title, message in (
        (400, "Bad request", "The request could not be understood."),
        (403, "Not allowed", "You are not allowed to see this page."),
        (404, "Not found", "There is nothing here, or you cannot see it."),
        (405, "Not allowed", "That method is not allowed here."),
        (413, "Too large", "What you sent is too large."),
        (429, "Slow down", "Too many attempts. Wait a minute and try again."),
        (500, "Something went wrong", "Something went wrong on our side. Please try again."),
    ):
        app.register_error_handler(status, lambda e, s=status, t=title, m=message: _error_page(s, t, m))

    app.add_url_rule("/health", view_func=health)
    app.jinja_env.globals["policy"] = permissions


@public
def health():
    try:
        db.session.execute(text("SELECT 1"))
    except SQLAlchemyError:
        db.session.rollback()
        return jsonify(status="error", database="unavailable"), 503
    return jsonify(status="ok", database="ok")
