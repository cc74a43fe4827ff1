"""Meeting requests between attendees: ask, answer, list."""
from datetime import timedelta

from flask import current_app
from sqlalchemy import func, or_, select, update

from .. import events, permissions
from ..accounts.models import User
from ..database import db, utcnow
from ..errors import Conflict, Forbidden, NotFound, ValidationFailed, check_fields
from ..notifications.services import notify
from ..pagination import Keyset, Page, check_limit
from .calendar import access_event
from .checks import check_event_is_on, check_text, check_zone
from .models import Event, MeetingRequest, MeetingStatus
from .people import access_attendee
from .presence import is_present, own_checkin

MAX_MESSAGE = 500
MEETINGS_KEYSET = Keyset((MeetingRequest.id,), (int,), lambda m: (m.id,))


def _daily_quota() -> int:
    return current_app.config["MEETING_REQUESTS_PER_DAY"]


def access_meeting(actor: User, meeting_id: int) -> MeetingRequest:
    meeting = db.session.get(MeetingRequest, meeting_id)
    if meeting is None or not permissions.can_read_meeting(actor, meeting):
        raise NotFound("No such meeting request.")
    return meeting


def do_request_meeting(actor: User, event_id: int, user_id, message: str | None = "", zone=None) -> MeetingRequest:
    """Ask a present, listed attendee to meet. Both must be checked in; the recipient decides
    who may ask; each attendee sends at most MEETING_REQUESTS_PER_DAY per event in 24 hours."""
    event = access_event(actor, event_id)
    now = utcnow()
    check_event_is_on(event, now)
    values = check_fields(
        message=(lambda v: check_text("message", v, max_length=MAX_MESSAGE, multiline=True), message),
        zone=(lambda v: check_zone(event, v), zone))
    if not isinstance(user_id, int) or isinstance(user_id, bool):
        raise ValidationFailed({"user_id": "Give the id of the attendee to meet."})
    # Locking the requester's own check-in queues their simultaneous requests, so the quota holds.
    mine = own_checkin(actor, event, lock=True)
    if not is_present(mine, now):
        raise Conflict("Check in to the event to ask people to meet.", code="not_checked_in")
    if user_id == actor.id:
        raise ValidationFailed({"user_id": "You cannot ask yourself to meet."})
    target = access_attendee(actor, event, user_id)
    if not permissions.can_ask_to_meet(actor, target):
        raise Forbidden("This attendee does not take meeting requests from you.", code="meeting_requests_closed")
    sent = db.session.scalar(select(func.count(MeetingRequest.id)).where(
        MeetingRequest.requester_id == actor.id, MeetingRequest.event_id == event.id,
        MeetingRequest.created_at > now - timedelta(days=1)))
    if sent >= _daily_quota():
        raise Conflict(f"You have sent {sent} meeting requests in the last 24 hours, the most allowed.",
                       code="meeting_quota_reached")
    if db.session.scalar(select(MeetingRequest.id).where(
            MeetingRequest.event_id == event.id, MeetingRequest.requester_id == actor.id,
            MeetingRequest.recipient_id == user_id, MeetingRequest.status == MeetingStatus.PENDING).limit(1)):
        raise Conflict("You already asked this attendee; wait for an answer.", code="meeting_already_requested")
    meeting = MeetingRequest(event_id=event.id, requester=actor, recipient=target.user, zone=values["zone"],
                             message=values["message"], created_at=now)
    db.session.add(meeting)
    db.session.flush()
    where = f" at {values['zone'].name}" if values["zone"] else ""
    said = f": {values['message']}" if values["message"] else ""
    notify([target.user], "meeting_requested", actor=actor, event_id=event.id,
           text=f"{actor.display_name} asks to meet you{where} ({event.name}){said}")
    events.commit()
    return meeting


def do_answer_meeting(actor: User, meeting_id: int, accept: bool) -> MeetingRequest:
    meeting = access_meeting(actor, meeting_id)
    if actor.id != meeting.recipient_id:
        raise Forbidden("Only the person asked can answer.")
    status = MeetingStatus.ACCEPTED if accept else MeetingStatus.DECLINED
    # Conditional on still pending, so two answers at once settle on one.
    answered = db.session.execute(
        update(MeetingRequest).where(MeetingRequest.id == meeting.id, MeetingRequest.status == MeetingStatus.PENDING)
        .values(status=status, responded_at=utcnow()).execution_options(synchronize_session=False)
    ).rowcount
    if not answered:
        events.rollback()
        raise Conflict("This request has already been answered.", code="meeting_already_answered")
    db.session.refresh(meeting)
    event = db.session.get(Event, meeting.event_id)
    verb = "accepted" if accept else "declined"
    notify([meeting.requester], f"meeting_{verb}", actor=actor, event_id=meeting.event_id,
           text=f"{actor.display_name} {verb} your request to meet ({event.name}).")
    events.commit()
    return meeting


def list_meetings(actor: User, event_id: int, *, cursor: str | None = None, limit=None) -> Page[MeetingRequest]:
    """The actor's meeting requests at the event, sent and received, newest first."""
    event = access_event(actor, event_id)
    query = select(MeetingRequest).where(
        MeetingRequest.event_id == event.id,
        or_(MeetingRequest.requester_id == actor.id, MeetingRequest.recipient_id == actor.id))
    return MEETINGS_KEYSET.paginate(query, cursor, check_limit(limit))

