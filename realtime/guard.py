"""A socket never receives an event for a room its member may no longer read.

Rooms are joined after a permission check, but permissions change (a thread moves into a
staff-only category, a category turns staff-only). Whenever something that can shrink
visibility happens, the shared *access epoch* moves on. Before delivering to a room, each
process compares the room's last-checked epoch with the current one and, if it moved,
re-checks its local members of that room once, removing those who lost access. Checks cost
nothing while visibility does not change; delivery order is kept because the check happens
at delivery time, in the delivering process.
"""
import logging
from threading import Lock

import socketio as python_socketio
from flask import Flask

from community.accounts.models import User
from community.database import db

from .rooms import room_error
from .state import connections

logger = logging.getLogger(__name__)

EPOCH_KEY = "roundtable:access-epoch"


class AccessEpoch:
    """A counter shared by all processes (Redis), or by one process (memory)."""

    def __init__(self, redis_url: str | None):
        self._local = 0
        self._redis = None
        if redis_url:
            import redis

            self._redis = redis.Redis.from_url(redis_url, socket_timeout=2)

    def current(self) -> int:
        if self._redis is None:
            return self._local
        try:
            return int(self._redis.get(EPOCH_KEY) or 0)
        except Exception:
            logger.exception("cannot read the access epoch; re-checking rooms")
            return -1  # unknown: treat as changed

    def bump(self) -> None:
        self._local += 1
        if self._redis is not None:
            try:
                self._redis.incr(EPOCH_KEY)
            except Exception:
                logger.exception("cannot move the access epoch")


class RoomGuard:
    def __init__(self, app: Flask, epoch: AccessEpoch):
        self.app = app
        self.epoch = epoch
        self.checked: dict[str, int] = {}
        self.lock = Lock()

    def joined(self, room: str, epoch: int) -> None:
        """A member joined `room` after a permission check, with `epoch` read before that check.

        Until the epoch moves past it, delivery need not re-check the room: without this the
        first push to a room re-checked every member (1,000 sockets: over a second of queries
        before anyone got it). A room already checked at an older epoch keeps it, and is
        re-checked, newcomers included, at its next delivery.
        """
        if epoch == -1:
            return
        with self.lock:
            self.checked.setdefault(room, epoch)

    def members_to_skip(self, manager, namespace: str, room: str) -> list[str]:
        """Re-check the room's local members if the epoch moved; returns those to skip."""
        if room.startswith("user:"):
            return []
        now = self.epoch.current()
        with self.lock:
            if self.checked.get(room) == now and now != -1:
                return []
            self.checked[room] = now
        members = [sid for sid, _ in manager.get_participants(namespace, room)]
        if not members:
            return []
        lost = []
        with self.app.app_context():
            for sid in members:
                connection = connections.get(sid)
                user = db.session.get(User, connection.user_id) if connection else None
                if user is None or room_error(user, room) is not None:
                    lost.append(sid)
            db.session.remove()
        for sid in lost:
            manager.basic_leave_room(sid, namespace, room)
            connection = connections.get(sid)  # read once: the socket may go in between
            if connection is not None:
                connection.rooms.discard(room)
        return lost


def _with_skipped(skip_sid, lost: list[str]) -> list:
    already = skip_sid if isinstance(skip_sid, list) else ([] if skip_sid is None else [skip_sid])
    return [*already, *lost]


def guarded(manager_class, guard: RoomGuard):
    """A Socket.IO client manager whose local delivery consults the guard first.

    A pub/sub manager (Redis) only publishes in `emit`; every process, the sender included,
    delivers in `_handle_emit`, so that is where the check goes. The in-process manager
    delivers in `emit`.
    """
    if issubclass(manager_class, python_socketio.PubSubManager):

        class GuardedPubSubManager(manager_class):
            def _handle_emit(self, message):
                room = message.get("room")
                if isinstance(room, str):
                    lost = guard.members_to_skip(self, message.get("namespace") or "/", room)
                    if lost:
                        message = {**message, "skip_sid": _with_skipped(message.get("skip_sid"), lost)}
                return super()._handle_emit(message)

        return GuardedPubSubManager

    class GuardedManager(manager_class):
        def emit(self, event, data, namespace, room=None, skip_sid=None, callback=None, to=None, **kwargs):
            room = to or room
            if isinstance(room, str):
                lost = guard.members_to_skip(self, namespace or "/", room)
                if lost:
                    skip_sid = _with_skipped(skip_sid, lost)
            return super().emit(event, data, namespace, room=room, skip_sid=skip_sid, callback=callback, **kwargs)

    return GuardedManager
