from datetime import datetime
from enum import StrEnum

from flask_login import UserMixin
from sqlalchemy import Boolean, Float, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..database import UTCDateTime, db, utcnow

# What an erased member's posts, votes and notifications are shown as.
FORMER_MEMBER = "Former member"


class Role(StrEnum):
    MEMBER = "member"
    MODERATOR = "moderator"
    ADMIN = "admin"


class Organization(db.Model):
    """A customer company (an account). `name_key` makes names unique regardless of case.

    `tier`, `weight`, `crm_id` and the account owner are the vendor's own view of the account,
    for staff only: `weight` (a number >= 0, e.g. ARR in thousands or a tier's factor) weighs the
    organization's demand for ideas and must never reach members.
    """

    __tablename__ = "organizations"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(120))
    name_key: Mapped[str] = mapped_column(String(120), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    tier: Mapped[str] = mapped_column(String(40), default="")
    weight: Mapped[float] = mapped_column(Float, default=1.0)
    crm_id: Mapped[str | None] = mapped_column(String(100), index=True)
    # users refer to organizations and this to users: the constraint is added after both tables.
    account_owner_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL", use_alter=True))

    account_owner: Mapped["User | None"] = relationship(foreign_keys=[account_owner_id], lazy="raise")

    domain_rows: Mapped[list["OrganizationDomain"]] = relationship(
        cascade="all, delete-orphan", order_by="OrganizationDomain.domain")

    @property
    def domains(self) -> list[str]:
        """The email domains whose people join this organization when they first sign in by SSO."""
        return [row.domain for row in self.domain_rows]


class OrganizationDomain(db.Model):
    """An email domain of a customer company, lower case (IDNA-encoded when not ASCII).

    The domain is the primary key, so it belongs to at most one organization: single sign-on
    can never guess between two companies for a newcomer.
    """

    __tablename__ = "organization_domains"

    domain: Mapped[str] = mapped_column(String(253), primary_key=True)
    organization_id: Mapped[int] = mapped_column(ForeignKey("organizations.id", ondelete="CASCADE"), index=True)


class User(UserMixin, db.Model):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(254), unique=True)
    display_name: Mapped[str] = mapped_column(String(80))
    # How others mention this member in posts: `@handle` (lower case letters, digits, underscores).
    # Set from the display name when the account is made; unique, so a mention names one person.
    handle: Mapped[str] = mapped_column(String(32), unique=True)
    password_hash: Mapped[str] = mapped_column(String(255))
    organization_id: Mapped[int | None] = mapped_column(ForeignKey("organizations.id"), index=True)
    job_title: Mapped[str] = mapped_column(String(120), default="")
    bio: Mapped[str] = mapped_column(Text, default="")
    role: Mapped[str] = mapped_column(String(16), default=Role.MEMBER)
    suspended_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    suspension_reason: Mapped[str] = mapped_column(Text, default="")
    # Silenced members stay signed in and read, but cannot post, vote or flag.
    silenced_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    silence_reason: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # Email choices (only when the site has SMTP_URL): mentions at once, a daily digest of the
    # unread notifications; `digest_sent_at` keeps a digest from repeating what the last one said.
    email_mentions: Mapped[bool] = mapped_column(Boolean, default=True)
    email_digest: Mapped[bool] = mapped_column(Boolean, default=False)
    digest_sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Push choices: which notifications reach this member's devices while the app is closed.
    push_mentions: Mapped[bool] = mapped_column(Boolean, default=True)
    push_replies: Mapped[bool] = mapped_column(Boolean, default=True)
    push_idea_updates: Mapped[bool] = mapped_column(Boolean, default=True)
    push_meetings: Mapped[bool] = mapped_column(Boolean, default=True)
    # Set when the member's personal data was erased: the row stays, nameless, so their posts and
    # votes keep an author, and nothing can sign in as it.
    erased_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    organization: Mapped[Organization | None] = relationship(foreign_keys=[organization_id], lazy="joined")
    interest_rows: Mapped[list["UserInterest"]] = relationship(
        cascade="all, delete-orphan", order_by="UserInterest.tag"
    )
    # The categories this member moderates (read through `permissions.moderated_category_ids`);
    # sign-in loads them with the member, so a request's permission checks ask no extra query.
    moderator_assignments: Mapped[list["CategoryModerator"]] = relationship(  # noqa: F821
        viewonly=True, lazy="raise")

    @property
    def interests(self) -> list[str]:
        return [row.tag for row in self.interest_rows]

    @property
    def is_suspended(self) -> bool:
        return self.suspended_until is not None and self.suspended_until > utcnow()

    @property
    def is_silenced(self) -> bool:
        return self.silenced_until is not None and self.silenced_until > utcnow()

    @property
    def status(self) -> str:
        if self.is_suspended:
            return "suspended"
        return "silenced" if self.is_silenced else "active"

    @property
    def is_erased(self) -> bool:
        return self.erased_at is not None

    @property
    def is_active(self) -> bool:  # Flask-Login refuses sessions of inactive users
        return not self.is_suspended and not self.is_erased

    @property
    def organization_name(self) -> str:
        return self.organization.name if self.organization else ""


class UserInterest(db.Model):
    """One interest tag of a user; a table, not a list, so people can be found by interest."""

    __tablename__ = "user_interests"

    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), primary_key=True)
    tag: Mapped[str] = mapped_column(String(40), primary_key=True, index=True)


class Invitation(db.Model):
    """An invitation link. Only a hash of its token is stored, so a database leak opens no door."""

    __tablename__ = "invitations"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(254), index=True)
    organization_id: Mapped[int | None] = mapped_column(ForeignKey("organizations.id"))
    role: Mapped[str] = mapped_column(String(16), default=Role.MEMBER)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    invited_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    accepted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))

    organization: Mapped[Organization | None] = relationship(lazy="joined")
    invited_by: Mapped[User | None] = relationship(foreign_keys=[invited_by_id])


Index("ix_invitations_pending", Invitation.accepted_at, Invitation.id)


class SessionKind(StrEnum):
    WEB = "web"  # a browser signed in on the web pages: its signed cookie names the session
    DEVICE = "device"  # an app signed in through the API: its refresh tokens form one family


class DeviceSession(db.Model):
    """One signed-in browser or app of a member, revocable on its own.

    A device session's refresh tokens form one family: only the current refresh token's id is
    valid; presenting an older one means it was stolen or replayed, and the whole family is
    revoked. A web session has no refresh token: the cookie carries its id, and the cookie is
    worthless once the session is revoked, however it was kept.
    """

    __tablename__ = "device_sessions"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(16), default=SessionKind.DEVICE, server_default=SessionKind.DEVICE)
    device_name: Mapped[str] = mapped_column(String(100), default="")
    refresh_jti: Mapped[str] = mapped_column(String(64), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_seen_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    user: Mapped[User] = relationship(lazy="joined", innerjoin=True)

    @property
    def is_live(self) -> bool:
        return self.revoked_at is None


Index("ix_device_sessions_user", DeviceSession.user_id, DeviceSession.id)


class UsedIdToken(db.Model):
    """An ID token an app exchanged for a session, kept until it expires so it cannot be
    exchanged twice. Only its SHA-256 is stored."""

    __tablename__ = "used_id_tokens"

    token_digest: Mapped[str] = mapped_column(String(64), primary_key=True)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
