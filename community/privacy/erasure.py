"""Erasure: a member's right to be forgotten (GDPR art. 17).

What goes: email, name, bio, job title, interests, handle, organization, sessions, push
subscriptions, check-ins, meeting messages, notifications, watch/mute choices, exports. What
stays: their posts (shown as written by "Former member") and their votes (still counted, without a
name), so threads and tallies others rely on keep making sense. The row in `users` stays as a
nameless tombstone that nothing can sign in as; the email is free to be invited again as a new
person. Everything happens in one transaction.
"""
import re

from sqlalchemy import delete, func, or_, select, update
from werkzeug.security import check_password_hash

from .. import events, permissions
from ..accounts import services
from ..accounts.models import FORMER_MEMBER, DeviceSession, Invitation, Role, User, UserInterest
from ..database import db, utcnow
from ..errors import Conflict, Forbidden, ValidationFailed
from ..gatherings.calendar import forget_registrations
from ..gatherings.meetings import forget_meeting_messages
from ..gatherings.models import AvailabilitySlot, Contact, Participant, SessionAttendance
from ..gatherings.presence import forget_checkins
from ..markdown import MENTION
from ..moderation import audit
from ..moderation.models import CategoryModerator, Flag
from ..notifications.models import Notification, Subscription
from ..push.models import PushSubscription
from ..threads.models import Post, PostRevision
from ..threads.services import render_post
from . import exports


def has_password(user: User) -> bool:
    """Members who joined by single sign-on have no password of their own."""
    return bool(user.password_hash)


def check_erasure_confirmation(user: User, password: str | None, confirm: str | None) -> None:
    """The member's own password or, without one (single sign-on), their email typed out."""
    if has_password(user):
        if not password:
            raise ValidationFailed({"password": "Enter your password to confirm."})
        if not check_password_hash(user.password_hash, password):
            # 422, not 401: an app that hears 401 signs the member out.
            raise ValidationFailed({"password": "That password is not right."})
        return
    if (confirm or "").strip().lower() != user.email:
        raise ValidationFailed({"confirm": "Type your email address to confirm."})


def do_erase_me(actor: User, *, password: str | None = None, confirm: str | None = None) -> None:
    """Erase the actor's own account, confirmed by their password (or email, see above)."""
    check_erasure_confirmation(actor, password, confirm)
    if actor.role == Role.ADMIN and db.session.scalar(
            select(func.count(User.id)).where(User.role == Role.ADMIN, User.erased_at.is_(None))) <= 1:
        raise Conflict("You are the only admin: make someone else admin first.", code="last_admin")
    _erase(actor, by=actor, reason="At the member's request.")


def do_erase_user(actor: User, user_id: int) -> None:
    """An admin erases a member (at their request, e.g. by email); audit-logged."""
    user = services.access_user(actor, user_id)
    if not permissions.can_erase_user(actor, user):
        raise Forbidden("You may not erase this member.")
    _erase(user, by=actor, reason="")


def _erase(user: User, *, by: User, reason: str) -> None:
    user_id, handle, name = user.id, user.handle, user.display_name
    audit.record(by, "user.erase", "user", user_id, reason=reason)
    db.session.execute(update(Invitation).where(or_(Invitation.email == user.email, Invitation.user_id == user_id))
                       .values(email=_tombstone_email(user_id)).execution_options(synchronize_session=False))
    # Badges, schedules and availability are the member's; scanned contacts go both ways.
    db.session.execute(delete(Contact).where(or_(Contact.owner_id == user_id, Contact.contact_id == user_id))
                       .execution_options(synchronize_session=False))
    for table in (PushSubscription, DeviceSession, UserInterest, Notification, Subscription, CategoryModerator,
                  Participant, SessionAttendance, AvailabilitySlot):
        db.session.execute(delete(table).where(table.user_id == user_id).execution_options(synchronize_session=False))
    db.session.execute(update(Flag).where(Flag.user_id == user_id).values(text="")
                       .execution_options(synchronize_session=False))
    db.session.expire(user, ["interest_rows"])
    user.email = _tombstone_email(user_id)
    user.display_name, user.handle = FORMER_MEMBER, f"former-member-{user_id}"
    user.password_hash = ""
    user.organization_id, user.job_title, user.bio, user.role = None, "", "", Role.MEMBER
    user.suspended_until = user.silenced_until = user.digest_sent_at = None
    user.suspension_reason = user.silence_reason = ""
    user.email_mentions = user.email_digest = False
    user.erased_at = utcnow()
    db.session.flush()
    forget_checkins(user)
    forget_registrations(user)
    forget_meeting_messages(user)
    _rename_in_notifications(user_id, name)
    _unmention(user_id, handle)
    export_files = exports.forget_exports(user)
    events.announce(events.user_erased, user=user)
    events.commit()
    exports.remove_files(export_files)


def _tombstone_email(user_id: int) -> str:
    return f"erased-{user_id}@erased.invalid"  # `.invalid` is reserved: it can never receive mail


def _rename_in_notifications(user_id: int, name: str) -> None:
    """Others' notifications of what the member did start with their name ("Mia replied in…")."""
    db.session.execute(
        update(Notification)
        .where(Notification.actor_id == user_id, func.substr(Notification.text, 1, len(name)) == name)
        .values(text=FORMER_MEMBER + func.substr(Notification.text, len(name) + 1))
        .execution_options(synchronize_session=False))
    # A meeting request's notification quotes its message, which goes with the member.
    db.session.execute(
        update(Notification).where(Notification.actor_id == user_id, Notification.kind == "meeting_requested")
        .values(text=f"{FORMER_MEMBER} asked to meet you.").execution_options(synchronize_session=False))


def _unmention(user_id: int, handle: str) -> None:
    """Others' posts (and their earlier versions) that mention `@handle` say "Former member"
    instead, so neither the posts nor search show the handle any more."""
    mention = re.compile(MENTION.pattern.replace("[A-Za-z0-9_]{2,32}", re.escape(handle)) + r"(?![A-Za-z0-9_])",
                         re.IGNORECASE)
    pattern = f"%@{handle}%"
    for post in db.session.scalars(select(Post).where(Post.body.ilike(pattern))):
        body = mention.sub(FORMER_MEMBER, post.body)
        if body != post.body:
            post.body = body
            post.body_html, _ = render_post(body)
    for revision in db.session.scalars(select(PostRevision).where(PostRevision.body.ilike(pattern))):
        revision.body = mention.sub(FORMER_MEMBER, revision.body)
