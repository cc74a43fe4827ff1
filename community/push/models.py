from datetime import datetime
from enum import StrEnum

from sqlalchemy import ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from ..database import UTCDateTime, db, utcnow


class PushKind(StrEnum):
    WEBPUSH = "webpush"  # RFC 8030 endpoint + RFC 8291 keys: browsers, installed web apps, UnifiedPush
    FCM = "fcm"  # a Firebase Cloud Messaging registration token (Android apps)
    APNS = "apns"  # an Apple Push Notification service device token (iOS apps)


class PushSubscription(db.Model):
    """Where to push one member's notifications on one device.

    It belongs to the session (web or device) that registered it and goes with it: signing that
    session out, suspension and erasure remove it, and so does a push service saying it is gone.
    `address` is the Web Push endpoint or the FCM/APNs token: one device registers once, and a
    device that changed hands belongs to whoever registered it last.
    """

    __tablename__ = "push_subscriptions"
    __table_args__ = (UniqueConstraint("kind", "address", name="uq_push_subscriptions_kind_address"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    session_id: Mapped[int] = mapped_column(ForeignKey("device_sessions.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(16))
    address: Mapped[str] = mapped_column(Text)
    # Web Push only: the browser's P-256 public key and auth secret (base64url), for encryption.
    p256dh: Mapped[str] = mapped_column(String(200), default="")
    auth: Mapped[str] = mapped_column(String(100), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


Index("ix_push_subscriptions_user", PushSubscription.user_id, PushSubscription.id)
