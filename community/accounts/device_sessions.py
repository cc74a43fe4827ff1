"""Signed-in sessions of members: apps through the API (device sessions, each a refresh-token
family) and browsers on the web pages (web sessions, named by the signed cookie).

Every way out — signing one session out, signing out everywhere, a password change, suspension,
erasure — revokes rows here, and the next request of that session fails its one lookup.
"""
from datetime import timedelta

from sqlalchemy import delete, select, update
from sqlalchemy.orm import joinedload

from .. import events, freshness, permissions
from ..database import db, utcnow
from ..errors import AuthenticationFailed, NotFound
from ..moderation.models import CategoryModerator
from ..pagination import Keyset, Page, check_limit
from ..push.models import PushSubscription
from .models import DeviceSession, Organization, SessionKind, User

# Seen-times are for people reading their session list, not an audit trail: writing them at
# most every few minutes keeps ordinary requests free of writes.
LAST_SEEN_RESOLUTION = timedelta(minutes=5)
MAX_DEVICE_NAME = 100
MAX_LISTED = 100  # sessions shown on the web page; nobody has more browsers and apps than that

SESSIONS_KEYSET = Keyset((DeviceSession.id,), (int,), lambda s: (s.id,))


def _start_session(user: User, kind: SessionKind, device_name: str | None, refresh_jti: str = "") -> DeviceSession:
    session = DeviceSession(user_id=user.id, kind=kind, refresh_jti=refresh_jti,
                            device_name=" ".join((device_name or "").split())[:MAX_DEVICE_NAME])
    db.session.add(session)
    events.commit()
    return session


def do_start_device_session(user: User, device_name: str | None, refresh_jti: str) -> DeviceSession:
    """An app signed in: its first refresh token is `refresh_jti`."""
    return _start_session(user, SessionKind.DEVICE, device_name, refresh_jti)


def do_start_web_session(user: User, browser: str | None) -> DeviceSession:
    """A browser signed in (`browser`: its User-Agent, shown in the session list). The web layer
    keeps the returned session's id in the signed cookie: `accounts.web_sign_in.sign_in` does both."""
    return _start_session(user, SessionKind.WEB, browser)


def live_sessions_clause():
    """SQL twin of `DeviceSession.is_live`, for checking many sessions at once."""
    return DeviceSession.revoked_at.is_(None)


def load_live_session(session_id, user_id, kind: SessionKind) -> DeviceSession | None:
    """The live session `session_id` of that kind of member `user_id`, with the member (their
    organization and moderator assignments); None if it is unknown, revoked, someone else's or of
    the other kind (a web session never opens the API, nor an app's the web pages).

    The one check of a cookie or a token, for web pages, API requests and socket connects alike
    (the socket sweep asks `live_sessions_clause` about many at once). It only reads:
    authentication writes nothing; `do_mark_seen` records the visit after the request.

    What it reads is kept in this process (`community.freshness`) until a commit anywhere
    changes the session, the member, their organization or their moderator assignments: a
    sign-out, a suspension or a new assignment is seen by the very next request in every
    process, and an ordinary request asks the database nothing to know who is calling.
    """
    if not isinstance(session_id, int) or isinstance(session_id, bool) or not isinstance(user_id, int):
        return None
    cached = freshness.cache("device_sessions", maxsize=50_000).lookup(
        session_id, _tags_of, lambda: _read_live_device_session(session_id))
    if cached is None or cached.user_id != user_id or cached.kind != kind:
        return None
    # A copy in this request's session, made without SQL: services may use and change it.
    return db.session.merge(cached, load=False)


def _read_live_device_session(session_id: int) -> DeviceSession | None:
    session = db.session.get(DeviceSession, session_id, options=[
        permissions.with_moderator_assignments(DeviceSession.user), joinedload(DeviceSession.user, User.organization)])
    if session is None or not session.is_live:
        return None
    # Kept across requests, so detached from this one: the session, its member and what the
    # member brought along.
    user = session.user
    for row in (session, user, user.organization, *user.moderator_assignments):
        if row is not None:
            db.session.expunge(row)
    return session


def load_live_device_session(session_id, user_id) -> DeviceSession | None:
    """An app's token check (API requests, socket connects): `load_live_session` of a device."""
    return load_live_session(session_id, user_id, SessionKind.DEVICE)


def _tags_of(session: DeviceSession) -> set[str]:
    return {"sessions", f"session:{session.id}", "users", f"user:{session.user_id}",
            "organizations", f"organization:{session.user.organization_id}"}


def _pinned(prefix: str, *columns: str):
    """Statement tags: `prefix:value` for the first column the WHERE pins, else the whole table's."""
    def tags(statement):
        for column in columns:
            value = freshness.equals_in_where(statement, column)
            if value is not None:
                return {f"{'user' if column == 'user_id' else prefix}:{value}"}
        return {f"{prefix}s"}
    return tags


freshness.watch(DeviceSession, lambda row: {f"session:{row.id}"}, _pinned("session", "id", "user_id"))
freshness.watch(User, lambda row: {f"user:{row.id}"}, _pinned("user", "id"))
freshness.watch(CategoryModerator, lambda row: {f"user:{row.user_id}"}, _pinned("user", "user_id"))
freshness.watch(Organization, lambda row: {f"organization:{row.id}"}, _pinned("organization", "id"))


def do_mark_seen(session_id: int, last_seen_at) -> None:
    """Record that the browser or app was used, at most every few minutes (`last_seen_at` as read when
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
    if session is None or not session.is_live or session.kind != SessionKind.DEVICE:
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


def do_end_session(actor: User, session_id: int) -> None:
    """Sign one of the actor's browsers or devices out: it stops working at once."""
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


def end_all_sessions(user_id: int, keep_session_id: int | None = None) -> int:
    """Revoke every live web and device session of the member but `keep_session_id`; returns how
    many ended. Call inside the transaction that makes them end (suspension, password change,
    erasure): it does not commit, so a rollback keeps them."""
    others = () if keep_session_id is None else (DeviceSession.id != keep_session_id,)
    return revoke_sessions(DeviceSession.user_id == user_id, *others)


def do_sign_out_everywhere(actor: User) -> int:
    """Every browser and app of the actor is signed out, the one asking included."""
    ended = end_all_sessions(actor.id)
    events.commit()
    return ended


def list_sessions(actor: User, cursor: str | None = None, limit=None) -> Page[DeviceSession]:
    """The actor's live sessions, web and device together, oldest first."""
    query = select(DeviceSession).where(DeviceSession.user_id == actor.id, DeviceSession.revoked_at.is_(None))
    return SESSIONS_KEYSET.paginate(query, cursor, check_limit(limit))
