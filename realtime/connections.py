"""Who is connected: token checks on connect, personal rooms, subscriptions, and the sweep that
drops sockets of members who were suspended or signed out."""
import logging
from datetime import timedelta

from flask import current_app, request
from flask_jwt_extended import create_access_token, decode_token
from flask_jwt_extended.exceptions import JWTExtendedException
from flask_socketio import ConnectionRefusedError, join_room, leave_room
from jwt import PyJWTError
from sqlalchemy import select

from community import permissions
from community.accounts import device_sessions
from community.accounts.models import DeviceSession, SessionKind, User
from community.database import db, utcnow
from community.extensions import socketio

from .rooms import room_error
from .state import REALTIME_EXTENSION, Connection, connections

logger = logging.getLogger(__name__)

WEB_TOKEN_LIFETIME = timedelta(minutes=10)


def web_socket_token(user: User, web_session_id: int) -> str:
    """A short-lived token for a signed-in web page to open its socket. It names the page's web
    session, which the REST API refuses (it takes device sessions only); the socket lives as
    long as that web session does."""
    return create_access_token(identity=str(user.id), additional_claims={"web": True, "sid": web_session_id},
                               expires_delta=WEB_TOKEN_LIFETIME)


def _authenticate(auth) -> Connection | None:
    token = auth.get("token") if isinstance(auth, dict) else None
    if not isinstance(token, str) or not token:
        return None
    try:
        claims = decode_token(token)
    except (PyJWTError, JWTExtendedException):
        return None
    if claims.get("type") != "access" or not str(claims.get("sub", "")).isdigit():
        return None
    user_id = int(claims["sub"])
    session = device_sessions.load_live_session(
        claims.get("sid"), user_id, SessionKind.WEB if claims.get("web") else SessionKind.DEVICE)
    if session is None or not session.user.is_active:
        return None
    return Connection(user_id, session.id)


_sweeper_started = False


def _start_sweeper_once() -> None:
    global _sweeper_started
    if not _sweeper_started:
        _sweeper_started = True
        app = current_app._get_current_object()
        socketio.start_background_task(run_sweeper, app, app.config["REALTIME_SWEEP_SECONDS"])


@socketio.on("connect")
def on_connect(auth=None):
    connection = _authenticate(auth)
    if connection is None:
        raise ConnectionRefusedError("unauthorized")
    _start_sweeper_once()
    connections[request.sid] = connection
    room = f"user:{connection.user_id}"
    join_room(room)
    connection.rooms.add(room)


@socketio.on("disconnect")
def on_disconnect(*_):
    connections.pop(request.sid, None)


def _room_of(data):
    return data.get("room") if isinstance(data, dict) else None


@socketio.on("subscribe")
def on_subscribe(data=None):
    guard = current_app.extensions[REALTIME_EXTENSION]
    epoch = guard.epoch.current()  # before the check: a change during it moves the epoch past this
    connection, room = connections.get(request.sid), _room_of(data)
    user = db.session.get(User, connection.user_id) if connection else None
    error = "forbidden" if user is None else room_error(user, room)
    if error:
        return {"ok": False, "error": error}
    try:
        join_room(room)
    except (KeyError, ValueError):
        # The socket went away while its request was checked (seen under wapiti): the manager no
        # longer knows it. It is answered as a socket already gone is; nobody is left to hear it.
        return {"ok": False, "error": "forbidden"}
    connection.rooms.add(room)
    guard.joined(room, epoch)
    return {"ok": True}


@socketio.on("unsubscribe")
def on_unsubscribe(data=None):
    room = _room_of(data)
    connection = connections.get(request.sid)
    if connection is None or room not in connection.rooms or room.startswith("user:"):
        return {"ok": False, "error": "not_found"}
    leave_room(room)
    connection.rooms.discard(room)
    return {"ok": True}


def sweep_once() -> list[str]:
    """Disconnect this process's sockets whose member was suspended or erased or whose web or device
    session was revoked; returns the socket ids dropped."""
    if not connections:
        return []
    snapshot = dict(connections)
    # Ids only, never whole members: with thousands of sockets, loading them held this process
    # (and every push waiting on it) for a third of a second.
    active = set(db.session.scalars(select(User.id).where(
        User.id.in_({c.user_id for c in snapshot.values()}), permissions.not_suspended_clause(utcnow()),
        User.erased_at.is_(None))))
    live = set(db.session.scalars(select(DeviceSession.id).where(
        DeviceSession.id.in_({c.session_id for c in snapshot.values()}), device_sessions.live_sessions_clause())))
    dropped = []
    for sid, connection in snapshot.items():
        if connection.user_id not in active or connection.session_id not in live:
            dropped.append(sid)
            connections.pop(sid, None)
            socketio.server.disconnect(sid, namespace="/")
    db.session.remove()
    return dropped


def run_sweeper(app, every_seconds: float) -> None:
    """Background task: sweep every few seconds, for as long as the process lives."""
    while True:
        socketio.sleep(every_seconds)
        try:
            with app.app_context():
                sweep_once()
        except Exception:  # a database hiccup must not end the sweeper
            logger.exception("socket sweep failed")
