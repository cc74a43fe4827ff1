"""Signing in and out on the web pages: a server-side web session per browser.

The signed cookie holds the web session's id beside Flask-Login's user id; every request looks
the session up (one query by primary key, which also loads the member), so a cookie replayed
after sign-out, "sign out everywhere", a password change, suspension or erasure opens nothing.
"""
from flask import g, request, session
from flask_login import login_user, logout_user

from . import device_sessions
from .models import SessionKind, User

WEB_SESSION_KEY = "web_session_id"


def sign_in(user: User) -> None:
    """Start a web session for `user` in this browser (ending the one it had, if any)."""
    sign_out()
    web_session = device_sessions.do_start_web_session(user, request.user_agent.string)
    login_user(user)
    session[WEB_SESSION_KEY] = web_session.id


def _live_web_session(user_id):
    user_id = int(user_id) if isinstance(user_id, str) and user_id.isdigit() else None
    return device_sessions.load_live_session(session.get(WEB_SESSION_KEY), user_id, SessionKind.WEB)


def sign_out() -> None:
    """End this browser's web session, if it has a live one, and forget it."""
    web_session = _live_web_session(session.get("_user_id"))
    if web_session is not None:
        device_sessions.do_end_session(web_session.user, web_session.id)
    logout_user()
    session.pop(WEB_SESSION_KEY, None)


def current_web_session_id() -> int | None:
    """The id of this browser's web session (only meaningful once the member is signed in)."""
    return session.get(WEB_SESSION_KEY)


def load_signed_in_user(user_id: str) -> User | None:
    """Flask-Login's user loader: the member, only while the cookie's web session is live."""
    web_session = _live_web_session(user_id)
    if web_session is None or not web_session.user.is_active:
        return None
    g.web_session_seen = (web_session.id, web_session.last_seen_at)
    return web_session.user


def mark_web_session_seen(response):
    """After the answer is made: checking the cookie itself writes nothing."""
    if g.get("web_session_seen") is not None:
        device_sessions.do_mark_seen(*g.pop("web_session_seen"))
    return response
