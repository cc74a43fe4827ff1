"""Socket.IO: connect auth, rooms and the bridge from domain events to pushes."""
import socketio as python_socketio
from flask import Flask
from flask_login import current_user

from community.accounts import web_sign_in
from community.extensions import socketio

from . import (
    bridge,  # noqa: F401  (connects the pushes to the domain events)
    connections,
)
from .guard import AccessEpoch, RoomGuard, guarded
from .state import REALTIME_EXTENSION


def _async_mode() -> str:
    """gevent under gunicorn's gevent worker (which monkey-patches), threads otherwise."""
    try:
        from gevent import monkey
    except ImportError:
        return "threading"
    return "gevent" if monkey.is_module_patched("socket") else "threading"


def init_realtime(app: Flask) -> None:
    redis_url = app.config["REDIS_URL"]
    guard = RoomGuard(app, AccessEpoch(redis_url))
    if redis_url:
        # Redis carries every push to every process, so several processes share rooms.
        manager = guarded(python_socketio.RedisManager, guard)(redis_url)
    else:
        manager = guarded(python_socketio.Manager, guard)()
    socketio.init_app(app, async_mode=_async_mode(), client_manager=manager)
    app.extensions[REALTIME_EXTENSION] = guard
    app.jinja_env.globals["socket_token"] = lambda: connections.web_socket_token(
        current_user, web_sign_in.current_web_session_id())
