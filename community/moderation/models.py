from datetime import datetime
from enum import StrEnum

from sqlalchemy import JSON, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..accounts.models import User
from ..database import UTCDateTime, db, utcnow
from ..threads.models import Post


class FlagReason(StrEnum):
    SPAM = "spam"
    OFF_TOPIC = "off_topic"
    ABUSIVE = "abusive"
    OTHER = "other"


class Resolution(StrEnum):
    HIDE = "hide"
    DISMISS = "dismiss"


class CategoryModerator(db.Model):
    """A member who moderates one category (moderators and admins moderate every category)."""

    __tablename__ = "category_moderators"

    category_id: Mapped[int] = mapped_column(ForeignKey("categories.id", ondelete="CASCADE"), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), primary_key=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    user: Mapped[User] = relationship(lazy="joined", innerjoin=True)


Index("ix_category_moderators_user", CategoryModerator.user_id, CategoryModerator.category_id)


class Flag(db.Model):
    """One member's report of one post. A member flags a post once: the unique constraint,
    not a check before inserting, makes that true under concurrent requests."""

    __tablename__ = "flags"
    __table_args__ = (UniqueConstraint("post_id", "user_id", name="uq_flags_post_id_user_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    post_id: Mapped[int] = mapped_column(ForeignKey("posts.id", ondelete="CASCADE"))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    reason: Mapped[str] = mapped_column(String(20))
    text: Mapped[str] = mapped_column(String(500), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    resolved_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    resolved_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    resolution: Mapped[str | None] = mapped_column(String(20))

    post: Mapped[Post] = relationship(lazy="select")
    user: Mapped[User] = relationship(foreign_keys=[user_id], lazy="joined", innerjoin=True)


# The queue: open flags, grouped by post.
Index("ix_flags_open", Flag.resolved_at, Flag.post_id)


# What an audit entry's target can be (the API's `target_type`).
AUDIT_TARGET_TYPES = ("thread", "post", "user", "idea", "category", "event", "organization", "webhook")


class AuditEntry(db.Model):
    """One staff action: who did what to which target, when, the values before and after, and why.

    Written in the transaction of the action itself; there is no way to change or delete one.
    `actor_id` None means the system (a post hidden by flags). Targets are named by type and
    id, not foreign keys, so the log outlives what it talks about. `category_id` scopes the
    entry for category moderators.
    """

    __tablename__ = "audit_log"

    id: Mapped[int] = mapped_column(primary_key=True)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    action: Mapped[str] = mapped_column(String(40))
    target_type: Mapped[str] = mapped_column(String(20))
    target_id: Mapped[int] = mapped_column(Integer)
    category_id: Mapped[int | None] = mapped_column(Integer)
    before: Mapped[dict | None] = mapped_column(JSON)
    after: Mapped[dict | None] = mapped_column(JSON)
    reason: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    actor: Mapped[User | None] = relationship(lazy="joined")


Index("ix_audit_log_actor", AuditEntry.actor_id, AuditEntry.id)
Index("ix_audit_log_action", AuditEntry.action, AuditEntry.id)
Index("ix_audit_log_target", AuditEntry.target_type, AuditEntry.target_id, AuditEntry.id)
Index("ix_audit_log_category", AuditEntry.category_id, AuditEntry.id)
