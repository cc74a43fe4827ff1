"""Signed-in devices of the API and the refresh-token families behind them."""
from datetime import timedelta

from sqlalchemy import select, update

from .. import events, permissions
from ..database import db, utcnow
from ..errors import AuthenticationFailed, NotFound
from ..pagination import Keyset, Page, check_limit
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


def load_live_device_session(session_id) -> DeviceSession | None:
    """The session with its user, if it was not revoked; marks it seen now and then."""
    if not isinstance(session_id, int):
        return None
    session = db.session.get(DeviceSession, session_id,
                             options=[permissions.with_moderator_assignments(DeviceSession.user)])
    if session is None or not session.is_live:
        return None
    now = utcnow()
    if now - session.last_seen_at > LAST_SEEN_RESOLUTION:
        session.last_seen_at = now
        events.commit()
    return session


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
        db.session.execute(
            update(DeviceSession).where(DeviceSession.id == session.id).values(revoked_at=utcnow())
            .execution_options(synchronize_session=False)
        )
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
    session.revoked_at = utcnow()
    events.commit()


def list_device_sessions(actor: User, cursor: str | None = None, limit=None) -> Page[DeviceSession]:
    query = select(DeviceSession).where(DeviceSession.user_id == actor.id, DeviceSession.revoked_at.is_(None))
    return SESSIONS_KEYSET.paginate(query, cursor, check_limit(limit))
