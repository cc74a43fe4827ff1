from datetime import datetime
from enum import StrEnum

from sqlalchemy import JSON, Boolean, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..database import UTCDateTime, db, utcnow

# The event types of the contract, in the order admins see them.
EVENT_TYPES = ("thread.created", "post.created", "idea.created", "idea.status_changed", "idea.merged",
               "idea.vote_changed", "member.joined", "checkin.created", "meeting.accepted", "flag.created")
PING = "ping"


class DeliveryStatus(StrEnum):
    PENDING = "pending"  # not sent yet
    SUCCEEDED = "succeeded"
    FAILED = "failed"  # the last attempt failed; another one is scheduled
    DEAD = "dead"  # no more attempts (a day of them failed, or the endpoint was switched off)


class Webhook(db.Model):
    """An endpoint of the vendor's that hears the chosen event types.

    The secret signs every delivery; it must be kept as is (HMAC needs it), and leaves the server
    only once, when it is made. After a rotation the previous secret signs too, for a while, so
    receivers can switch without losing a delivery.
    """

    __tablename__ = "webhooks"

    id: Mapped[int] = mapped_column(primary_key=True)
    url: Mapped[str] = mapped_column(String(2000))
    description: Mapped[str] = mapped_column(String(200), default="")
    events: Mapped[list] = mapped_column(JSON, default=list)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    # Content of staff-only categories goes only to endpoints an admin marked so.
    include_staff_only: Mapped[bool] = mapped_column(Boolean, default=False)
    secret: Mapped[str] = mapped_column(String(100))
    previous_secret: Mapped[str | None] = mapped_column(String(100))
    previous_secret_expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Since when every attempt failed (None: the last one succeeded); a day of that switches it off.
    failing_since: Mapped[datetime | None] = mapped_column(UTCDateTime)
    disabled_reason: Mapped[str] = mapped_column(String(300), default="")
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class WebhookDelivery(db.Model):
    """One event for one endpoint. Its `message_id` is the `webhook-id` header of every attempt,
    retries included, so the receiver can tell a repeat from a new event."""

    __tablename__ = "webhook_deliveries"

    id: Mapped[int] = mapped_column(primary_key=True)
    webhook_id: Mapped[int] = mapped_column(ForeignKey("webhooks.id", ondelete="CASCADE"))
    message_id: Mapped[str] = mapped_column(String(40), unique=True)
    event_type: Mapped[str] = mapped_column(String(40))
    # The body exactly as signed and sent: `{"type", "timestamp", "data"}` as JSON text.
    body: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(16), default=DeliveryStatus.PENDING)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    response_status: Mapped[int | None] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    next_attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # When the current round of automatic retries began (its creation, or an admin's retry).
    round_started_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    webhook: Mapped[Webhook] = relationship(lazy="joined", innerjoin=True)


Index("ix_webhook_deliveries_webhook", WebhookDelivery.webhook_id, WebhookDelivery.id)


class WebhookAttempt(db.Model):
    """One try at a delivery, kept for the log: what came back, and how long it took."""

    __tablename__ = "webhook_attempts"

    id: Mapped[int] = mapped_column(primary_key=True)
    delivery_id: Mapped[int] = mapped_column(ForeignKey("webhook_deliveries.id", ondelete="CASCADE"))
    attempted_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    succeeded: Mapped[bool] = mapped_column(Boolean)
    response_status: Mapped[int | None] = mapped_column(Integer)
    response_body: Mapped[str] = mapped_column(String(1000), default="")  # its first bytes
    error: Mapped[str] = mapped_column(String(500), default="")  # when no answer came
    duration_ms: Mapped[int] = mapped_column(Integer)


Index("ix_webhook_attempts_delivery", WebhookAttempt.delivery_id, WebhookAttempt.id)
