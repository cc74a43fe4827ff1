from datetime import datetime
from enum import StrEnum

from sqlalchemy import Float, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, query_expression, relationship

from ..accounts.models import User
from ..database import UTCDateTime, db, utcnow


class Visibility(StrEnum):
    LISTED = "listed"  # in the attendee list, by name
    COUNT_ONLY = "count_only"  # in aggregate counts only, never by name
    HIDDEN = "hidden"  # nowhere


class LocationSharing(StrEnum):
    APPROXIMATE = "approximate"  # zone and a coarse distance
    ZONE = "zone"  # zone only
    NONE = "none"  # neither


class WhoMayAsk(StrEnum):
    ANYONE = "anyone"
    CUSTOMERS = "customers"  # members, not the vendor's staff
    NOBODY = "nobody"


class MeetingStatus(StrEnum):
    PENDING = "pending"
    ACCEPTED = "accepted"
    DECLINED = "declined"
    # The two had asked each other; the meeting they agreed on settled this one.
    SUPERSEDED = "superseded"


class ContactExchange(StrEnum):
    ALLOW = "allow"  # scanning my badge saves my card to the scanner's contacts
    ASK = "ask"  # I accept each scan first


class ContactStatus(StrEnum):
    PENDING = "pending"
    ACCEPTED = "accepted"
    DECLINED = "declined"


class Event(db.Model):
    """A conference day, meetup or roadshow. The optional geofence is a circle around the
    venue; it also anchors the coarse grid that attendees' positions are snapped to."""

    __tablename__ = "events"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(120))
    description: Mapped[str] = mapped_column(Text, default="")
    venue: Mapped[str] = mapped_column(String(200))
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime)
    ends_at: Mapped[datetime] = mapped_column(UTCDateTime)
    timezone: Mapped[str] = mapped_column(String(64), default="UTC")
    fence_lat: Mapped[float | None] = mapped_column(Float)
    fence_lng: Mapped[float | None] = mapped_column(Float)
    fence_radius_m: Mapped[int | None] = mapped_column(Integer)
    # What the QR code on the staff page carries; staff only.
    checkin_code: Mapped[str] = mapped_column(String(32), unique=True)
    registration_count: Mapped[int] = mapped_column(Integer, default=0)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    zones: Mapped[list["EventZone"]] = relationship(order_by="EventZone.position", lazy="selectin",
                                                    cascade="all, delete-orphan")
    # Whether the member reading it has registered, filled by the query that loads it.
    viewer_registered: Mapped[bool | None] = query_expression()

    @property
    def has_geofence(self) -> bool:
        return self.fence_radius_m is not None

    def is_on(self, now: datetime) -> bool:
        return self.starts_at <= now < self.ends_at


# Upcoming soonest first, past latest first: both one index range.
Index("ix_events_starts", Event.starts_at, Event.id)
Index("ix_events_ends", Event.ends_at, Event.id)


class EventZone(db.Model):
    """A named part of the venue: a hall, a booth, a workshop room."""

    __tablename__ = "event_zones"
    __table_args__ = (UniqueConstraint("event_id", "name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    event_id: Mapped[int] = mapped_column(ForeignKey("events.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(80))
    position: Mapped[int] = mapped_column(Integer, default=0)


class Registration(db.Model):
    """A member's RSVP; one per member and event (the primary key makes it idempotent)."""

    __tablename__ = "event_registrations"

    event_id: Mapped[int] = mapped_column(ForeignKey("events.id", ondelete="CASCADE"), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), primary_key=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Checkin(db.Model):
    """A member's presence at an event: one row per member and event, reused when they check
    in again. Present means not checked out and seen within CHECKIN_TTL_MINUTES.

    No coordinates are stored: only the coarse grid cell (`cell_x`, `cell_y`) the member's
    position falls in, so nothing finer than a cell can ever leave the server.
    """

    __tablename__ = "checkins"
    __table_args__ = (UniqueConstraint("event_id", "user_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    event_id: Mapped[int] = mapped_column(ForeignKey("events.id", ondelete="CASCADE"))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    zone_id: Mapped[int | None] = mapped_column(ForeignKey("event_zones.id", ondelete="SET NULL"))
    cell_x: Mapped[int | None] = mapped_column(Integer)
    cell_y: Mapped[int | None] = mapped_column(Integer)
    visibility: Mapped[str] = mapped_column(String(16), default=Visibility.LISTED)
    location: Mapped[str] = mapped_column(String(16), default=LocationSharing.APPROXIMATE)
    who_may_ask: Mapped[str] = mapped_column(String(16), default=WhoMayAsk.ANYONE)
    checked_in_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_seen_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    checked_out_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    user: Mapped[User] = relationship(lazy="joined", innerjoin=True)
    zone: Mapped[EventZone | None] = relationship(lazy="joined")

    # Filled by the queries that rank attendees (squared cell distance, similarity score).
    cell_distance2: Mapped[int | None] = query_expression()
    similarity: Mapped[int | None] = query_expression()


# The live list (newest arrivals first) and the spatial index: "near me" reads only the
# cells within the radius.
Index("ix_checkins_event_arrived", Checkin.event_id, Checkin.checked_in_at, Checkin.id)
Index("ix_checkins_event_cell", Checkin.event_id, Checkin.cell_x, Checkin.cell_y)


class MeetingRequest(db.Model):
    __tablename__ = "meeting_requests"

    id: Mapped[int] = mapped_column(primary_key=True)
    event_id: Mapped[int] = mapped_column(ForeignKey("events.id", ondelete="CASCADE"))
    requester_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    recipient_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    zone_id: Mapped[int | None] = mapped_column(ForeignKey("event_zones.id", ondelete="SET NULL"))
    message: Mapped[str] = mapped_column(String(500), default="")
    status: Mapped[str] = mapped_column(String(16), default=MeetingStatus.PENDING)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    responded_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # A slot (both or neither); untimed requests mean "meet now, here".
    starts_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    ends_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # When both were reminded (once, MEETING_REMINDER_MINUTES before it starts).
    reminded_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    requester: Mapped[User] = relationship(foreign_keys=[requester_id], lazy="joined", innerjoin=True)
    recipient: Mapped[User] = relationship(foreign_keys=[recipient_id], lazy="joined", innerjoin=True)
    zone: Mapped[EventZone | None] = relationship(lazy="joined")


# A member's inbox and sent list per event, and the daily quota count.
Index("ix_meeting_requests_recipient", MeetingRequest.event_id, MeetingRequest.recipient_id, MeetingRequest.id)
Index("ix_meeting_requests_requester", MeetingRequest.requester_id, MeetingRequest.created_at)
# Accepted meetings by time, for slot conflicts and reminders.
Index("ix_meeting_requests_slot", MeetingRequest.event_id, MeetingRequest.status, MeetingRequest.starts_at)


class Participant(db.Model):
    """A member's standing at one event, made the first time it is needed: their badge code
    (what others scan to swap contacts) and their `contact_exchange` choice. Its row is also
    what changes to their time lock, so two acceptances at once cannot both take one slot."""

    __tablename__ = "event_participants"

    event_id: Mapped[int] = mapped_column(ForeignKey("events.id", ondelete="CASCADE"), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), primary_key=True)
    badge_code: Mapped[str] = mapped_column(String(16), unique=True)
    contact_exchange: Mapped[str] = mapped_column(String(16), default=ContactExchange.ALLOW)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    user: Mapped[User] = relationship(lazy="joined", innerjoin=True)


class AgendaSession(db.Model):
    """A talk, workshop or break on the event's agenda, set by staff."""

    __tablename__ = "agenda_sessions"

    id: Mapped[int] = mapped_column(primary_key=True)
    event_id: Mapped[int] = mapped_column(ForeignKey("events.id", ondelete="CASCADE"))
    title: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="")
    speakers: Mapped[str] = mapped_column(String(300), default="")
    zone_id: Mapped[int | None] = mapped_column(ForeignKey("event_zones.id", ondelete="SET NULL"))
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime)
    ends_at: Mapped[datetime] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    zone: Mapped[EventZone | None] = relationship(lazy="joined")
    # Whether the member reading it has it on their schedule, filled by the query that loads it.
    viewer_attending: Mapped[bool | None] = query_expression()


Index("ix_agenda_sessions_event", AgendaSession.event_id, AgendaSession.starts_at, AgendaSession.id)


class SessionAttendance(db.Model):
    """A session on a member's own schedule (the primary key makes adding it idempotent)."""

    __tablename__ = "session_attendance"

    session_id: Mapped[int] = mapped_column(ForeignKey("agenda_sessions.id", ondelete="CASCADE"), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), primary_key=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


Index("ix_session_attendance_user", SessionAttendance.user_id, SessionAttendance.session_id)


class AvailabilitySlot(db.Model):
    """A stretch of time a member said they can meet in, at one event."""

    __tablename__ = "availability_slots"

    id: Mapped[int] = mapped_column(primary_key=True)
    event_id: Mapped[int] = mapped_column(ForeignKey("events.id", ondelete="CASCADE"))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime)
    ends_at: Mapped[datetime] = mapped_column(UTCDateTime)


Index("ix_availability_slots_user", AvailabilitySlot.event_id, AvailabilitySlot.user_id, AvailabilitySlot.starts_at)


class Contact(db.Model):
    """Someone whose badge a member scanned, with the member's own note and rating (1-5).

    Pending while the scanned person (who chose `contact_exchange: ask`) has not accepted:
    until then the scanner sees no card.
    """

    __tablename__ = "event_contacts"
    __table_args__ = (UniqueConstraint("event_id", "owner_id", "contact_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    event_id: Mapped[int] = mapped_column(ForeignKey("events.id", ondelete="CASCADE"))
    owner_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    contact_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    note: Mapped[str] = mapped_column(String(1000), default="")
    rating: Mapped[int | None] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(16), default=ContactStatus.ACCEPTED)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    contact: Mapped[User] = relationship(foreign_keys=[contact_id], lazy="joined", innerjoin=True)
    owner: Mapped[User] = relationship(foreign_keys=[owner_id], lazy="joined", innerjoin=True)


# Requests waiting for the scanned person's answer.
Index("ix_event_contacts_contact", Contact.event_id, Contact.contact_id, Contact.status)
