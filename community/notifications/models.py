from datetime import datetime

from sqlalchemy import ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..accounts.models import User
from ..database import UTCDateTime, db, utcnow


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
