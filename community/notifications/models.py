from datetime import datetime
from enum import StrEnum

from sqlalchemy import CheckConstraint, ForeignKey, Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..accounts.models import User
from ..database import UTCDateTime, db, utcnow

# The kind a finished data export notifies with: its link leads to the member's data page, not to
# a thread, idea or event.
EXPORT_READY = "export_ready"


class Notification(db.Model):
    """Something that happened which concerns one member.

    Grouped notifications (replies in one thread) are one unread row whose `count` grows and
    whose `updated_at` moves, so a busy thread never floods anyone. `idea_id` and `event_id`
    point into aggregates that own their tables.
    """

    __tablename__ = "notifications"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(40))
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    thread_id: Mapped[int | None] = mapped_column(ForeignKey("threads.id", ondelete="CASCADE"))
    post_id: Mapped[int | None] = mapped_column(ForeignKey("posts.id", ondelete="CASCADE"))
    idea_id: Mapped[int | None] = mapped_column(Integer, index=True)
    event_id: Mapped[int | None] = mapped_column(Integer, index=True)
    count: Mapped[int] = mapped_column(Integer, default=1)
    text: Mapped[str] = mapped_column(String(300))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    read_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    actor: Mapped[User | None] = relationship(foreign_keys=[actor_id], lazy="joined")

    @property
    def read(self) -> bool:
        return self.read_at is not None


# Newest first per member, and the unread group a new reply joins.
Index("ix_notifications_user_updated", Notification.user_id, Notification.updated_at, Notification.id)
Index("ix_notifications_unread_group", Notification.user_id, Notification.kind, Notification.thread_id,
      Notification.read_at)


class Level(StrEnum):
    WATCH = "watch"
    MUTE = "mute"


class Subscription(db.Model):
    """A member's choice to watch or mute one thread or one category.

    An idea is its discussion thread, so watching an idea is watching that thread. Exactly one
    of `thread_id` and `category_id` is set; the unique constraints make a second choice for
    the same target a conflict that `INSERT … ON CONFLICT` resolves, never a duplicate.
    """

    __tablename__ = "subscriptions"
    __table_args__ = (
        UniqueConstraint("user_id", "thread_id", name="uq_subscriptions_user_thread"),
        UniqueConstraint("user_id", "category_id", name="uq_subscriptions_user_category"),
        CheckConstraint("(thread_id IS NULL) <> (category_id IS NULL)", name="one_target"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    thread_id: Mapped[int | None] = mapped_column(ForeignKey("threads.id", ondelete="CASCADE"))
    category_id: Mapped[int | None] = mapped_column(ForeignKey("categories.id", ondelete="CASCADE"))
    level: Mapped[str] = mapped_column(String(8))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


# Who watches or mutes a thread, or a category: read on every reply.
Index("ix_subscriptions_thread", Subscription.thread_id, Subscription.level)
Index("ix_subscriptions_category", Subscription.category_id, Subscription.level)
