"""Single sign-on: who gets in with an identity the vendor's provider vouches for.

- A verified email of an existing member signs in as that member.
- A new person joins when they hold an open invitation (its organization and role), or when
  their email's domain is one of an organization's `domains` (that organization, as a member).
- Everyone else is refused, told whom to ask.

The organization a newcomer joins follows from their verified email, never from a claim they
might edit themselves at the provider. With `OIDC_SYNC_PROFILE` a member's name, job title and
organization (by their email's domain) follow the provider at each sign-in.
"""
from dataclasses import dataclass
from datetime import datetime

from flask import current_app
from sqlalchemy import delete
from sqlalchemy.exc import IntegrityError

from .. import events
from ..database import db, utcnow
from ..errors import AuthenticationFailed, Forbidden, ValidationFailed
from . import services as accounts
from .models import Role, UsedIdToken, User

MAX_JOB_TITLE = 120


@dataclass(frozen=True)
class Identity:
    """What the provider says about a person, from the ID token's claims."""

    email: str
    email_verified: bool
    name: str
    job_title: str | None  # None: the provider says nothing about it

    @classmethod
    def from_claims(cls, claims: dict) -> "Identity":
        name = claims.get("name") or " ".join(
            part for part in (claims.get("given_name"), claims.get("family_name")) if isinstance(part, str))
        job_title = claims.get("job_title")
        return cls(email=str(claims.get("email") or ""), email_verified=claims.get("email_verified") is True,
                   name=name if isinstance(name, str) else "",
                   job_title=" ".join(job_title.split())[:MAX_JOB_TITLE] if isinstance(job_title, str) else None)

    def display_name(self) -> str:
        try:
            return accounts.check_display_name(self.name)
        except ValidationFailed:
            return accounts.check_display_name(self.email.split("@")[0])


def do_sign_in(identity: Identity, *, used_token: tuple[str, datetime] | None = None) -> User:
    """The member this identity signs in as, let in now if they may join; one transaction.

    `used_token` is (digest, expiry) of an ID token an app presented: it is recorded in the
    same transaction, and a token recorded before is refused as replayed.
    """
    if not identity.email_verified:
        raise AuthenticationFailed("Your sign-in provider has not verified your email address, so it cannot "
                                   "sign you in here. Verify it with the provider first.", code="email_not_verified")
    try:
        email = accounts.check_email(identity.email)
    except ValidationFailed:
        raise AuthenticationFailed("Your sign-in provider sent no usable email address.",
                                   code="email_missing") from None
    if used_token is not None:
        _record_used_token(*used_token)
    user = accounts.find_user_by_email(email)
    if user is not None:
        accounts.check_not_suspended(user)
        if current_app.config["OIDC_SYNC_PROFILE"]:
            _sync_profile(user, identity)
    else:
        user = _let_in(email, identity)
    events.commit()
    return user


def _record_used_token(digest: str, expires_at: datetime) -> None:
    db.session.execute(delete(UsedIdToken).where(UsedIdToken.expires_at < utcnow()))
    db.session.add(UsedIdToken(token_digest=digest, expires_at=expires_at))
    try:
        db.session.flush()
    except IntegrityError:
        events.rollback()
        raise AuthenticationFailed("This ID token was already used. Sign in with the provider again.",
                                   code="id_token_replayed") from None


def _sync_profile(user: User, identity: Identity) -> None:
    if identity.name:
        user.display_name = identity.display_name()
    if identity.job_title is not None:
        user.job_title = identity.job_title
    organization = accounts.find_organization_by_email(user.email)
    if organization is not None:
        user.organization = organization


def _let_in(email: str, identity: Identity) -> User:
    newcomer = User(email=email, display_name=identity.display_name(), job_title=identity.job_title or "",
                    password_hash="")  # no password: this member signs in with the provider
    invitation = accounts.find_open_invitation(email)
    if invitation is not None:
        accounts.claim_invitation(invitation)
        newcomer.organization_id, newcomer.role = invitation.organization_id, invitation.role
        user = accounts.add_member(newcomer)
        invitation.user_id = user.id
        return user
    organization = accounts.find_organization_by_email(email)
    if organization is None:
        contact = current_app.config["OIDC_ACCESS_CONTACT"]
        raise Forbidden(
            f"{email} is not a member here, and no customer organization of this community has the domain "
            f"{email.rpartition('@')[2]}. Ask {contact or 'your account manager or a community admin'} "
            "for an invitation, then sign in again.", code="not_invited")
    newcomer.organization, newcomer.role = organization, Role.MEMBER
    return accounts.add_member(newcomer)
