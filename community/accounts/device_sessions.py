"""Signed-in devices of the API and the refresh-token families behind them."""
from datetime import timedelta

from sqlalchemy import delete, select, update

from .. import events, permissions
from ..database import db, utcnow
from ..errors import AuthenticationFailed, NotFound
from ..pagination import Keyset, Page, check_limit
from ..push.models import PushSubscription
from .models import DeviceSession, User

# Seen-times are for people reading their session list, not an audit trail: writing them at
# most every few minutes keeps ordinary requests free of writes.
LAST_SEEN_RESOLUTION = timedelta(minutes=5)
MAX_DEVICE_NAME = 100

SESSIONS_KEYSET = Keyset((DeviceSession.id,), (int,), lambda s: (s.id,))


def do_start_device_session(user: User, device_name: str | None, refresh_jti: str) -> DeviceSession:
    session = DeviceSession(user_id=user.id, device_name=" ".join((device_name or "").split())[:MAX_DEVICE_NAME],
                            refresh_jti=refresh_jti)
    db.session.add(session)
    events.commit()
    return session


def live_device_sessions_clause():
    """SQL twin of `DeviceSession.is_live`, for checking many sessions at once."""
    return DeviceSession.revoked_at.is_(None)


def load_live_device_session(session_id, user_id) -> DeviceSession | None:
    """The live session `session_id` of member `user_id`, with the member (and their moderator
    assignments) in the same query; None if it is unknown, revoked or someone else's.

    The one check of a device's token, for API requests and socket connects alike (the socket
    sweep asks `live_device_sessions_clause` about many at once). It only reads: authentication
    writes nothing; `do_mark_seen` records the visit after the request.
    """
    if not isinstance(session_id, int) or not isinstance(user_id, int):
        return None
    session = db.session.get(DeviceSession, session_id,
                             options=[permissions.with_moderator_assignments(DeviceSession.user)])
    if session is None or not session.is_live or session.user_id != user_id:
        return None
    return session


def do_mark_seen(session_id: int, last_seen_at) -> None:
    """Record that the device was used, at most every few minutes (`last_seen_at` as read when
    its token was checked, so a request that committed need not reload it). One UPDATE that does
    nothing if another request just did it, in its own transaction after the request's."""
    now = utcnow()
    if now - last_seen_at <= LAST_SEEN_RESOLUTION:
        return
    db.session.execute(
        update(DeviceSession)
        .where(DeviceSession.id == session_id, DeviceSession.last_seen_at < now - LAST_SEEN_RESOLUTION)
        .values(last_seen_at=now)
        .execution_options(synchronize_session=False)
    )
    events.commit()


def do_rotate_refresh_token(session_id, presented_jti: str, new_jti: str) -> DeviceSession:
    """Swap the family's valid refresh token for a new one, atomically.

    A token that is not the current one (already rotated) revokes the whole family, so a
    stolen refresh token is useless once either party uses it twice.
    """
    session = db.session.get(DeviceSession, session_id) if isinstance(session_id, int) else None
    if session is None or not session.is_live:
        raise AuthenticationFailed("This session has ended. Sign in again.", code="token_revoked")
    rotated = db.session.execute(
        update(DeviceSession)
        .where(DeviceSession.id == session.id, DeviceSession.refresh_jti == presented_jti,
               DeviceSession.revoked_at.is_(None))
        .values(refresh_jti=new_jti, last_seen_at=utcnow())
        .execution_options(synchronize_session=False)
    ).rowcount
    if rotated != 1:
        revoke_sessions(DeviceSession.id == session.id)
        events.commit()
        raise AuthenticationFailed("This refresh token was already used; the session is revoked.",
                                   code="token_reused")
    events.commit()
    db.session.refresh(session)
    return session


def do_end_device_session(actor: User, session_id: int) -> None:
    """Sign one of the actor's devices out: its access and refresh tokens stop working at once."""
    session = db.session.get(DeviceSession, session_id)
    if session is None or session.user_id != actor.id or not session.is_live:
        raise NotFound("No such session.")
    revoke_sessions(DeviceSession.id == session.id)
    events.commit()


def revoke_sessions(*criteria) -> int:
    """End the live sessions matching `criteria`, and everything that belongs to them (their
    devices' push subscriptions): the one way any session ends. Call inside the transaction
    that ends them; returns how many ended."""
    live = (DeviceSession.revoked_at.is_(None), *criteria)
    db.session.execute(delete(PushSubscription).where(PushSubscription.session_id.in_(
        select(DeviceSession.id).where(*live))).execution_options(synchronize_session=False))
    return db.session.execute(update(DeviceSession).where(*live).values(revoked_at=utcnow())
                              .execution_options(synchronize_session=False)).rowcount


def list_device_sessions(actor: User, cursor: str | None = None, limit=None) -> Page[DeviceSession]:
    query = select(DeviceSession).where(DeviceSession.user_id == actor.id, DeviceSession.revoked_at.is_(None))
    return SESSIONS_KEYSET.paginate(query, cursor, check_limit(limit))
