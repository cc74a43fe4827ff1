"""The agenda and one's own plan: sessions, my schedule, availability, free slots, calendar.ics."""
from flask import Response
from marshmallow import Schema, fields

from community import permissions, rate_limits
from community.extensions import limiter
from community.gatherings import agenda, meetings, schedule
from community.gatherings.ical import calendar_ics
from community.shapes import Can, MeetingSchema

from .common import Moment, api_blueprint, user_rate_key, viewer

bp = api_blueprint("agenda", "Agenda", "Agenda: sessions, my schedule, when I can meet, my calendar.")


class SessionSchema(Schema):
    id = fields.Integer()
    event_id = fields.Integer()
    title = fields.String()
    description = fields.String()
    speakers = fields.String()
    zone = fields.Function(lambda s: s.zone.name if s.zone else None, allow_none=True,
                           metadata={"type": "string"})
    starts_at = fields.DateTime()
    ends_at = fields.DateTime()
    on_my_schedule = fields.Boolean(attribute="viewer_attending")
    can_edit = Can(lambda actor, session: permissions.can_manage_events(actor))


class SessionCreateSchema(Schema):
    title = fields.String(required=True)
    starts_at = Moment(required=True)
    ends_at = Moment(required=True)
    zone = fields.String(load_default=None, allow_none=True, metadata={"description": "One of the event's zones."})
    speakers = fields.String(load_default="")
    description = fields.String(load_default="")


class SessionUpdateSchema(Schema):
    title = fields.String()
    starts_at = Moment()
    ends_at = Moment()
    zone = fields.String(allow_none=True)
    speakers = fields.String()
    description = fields.String()


class SessionListSchema(Schema):
    items = fields.List(fields.Nested(SessionSchema), required=True)
    next_cursor = fields.String(allow_none=True, required=True,
                                metadata={"description": "Always null: the whole agenda."})


class ScheduleItemSchema(Schema):
    kind = fields.String(metadata={"enum": ["session", "meeting"]})
    starts_at = fields.DateTime()
    ends_at = fields.DateTime()
    session = fields.Nested(SessionSchema, allow_none=True)
    meeting = fields.Nested(MeetingSchema, allow_none=True)


class ScheduleSchema(Schema):
    items = fields.List(fields.Nested(ScheduleItemSchema), required=True)
    next_cursor = fields.String(allow_none=True, required=True)


class SlotSchema(Schema):
    starts_at = Moment(required=True)
    ends_at = Moment(required=True)


class AvailabilitySchema(Schema):
    slots = fields.List(fields.Nested(SlotSchema), required=True,
                        metadata={"description": "When you can meet; overlapping slots join into one."})


class FreeSlotsSchema(Schema):
    items = fields.List(fields.Nested(SlotSchema), required=True)
    next_cursor = fields.String(allow_none=True, required=True)


def _whole(items) -> dict:
    return {"items": items, "next_cursor": None}


@bp.get("/events/<int:event_id>/sessions")
@bp.response(200, SessionListSchema)
def list_sessions(event_id):
    """The event's agenda, in time order (all of it: no pages)."""
    return _whole(agenda.list_sessions(viewer(), event_id))


@bp.post("/events/<int:event_id>/sessions")
@bp.arguments(SessionCreateSchema)
@bp.response(201, SessionSchema)
@bp.error(403, description="Staff only.")
@limiter.limit(rate_limits.WRITE, key_func=user_rate_key)
def create_session(data, event_id):
    """Put a session on the agenda (staff). Pushes `agenda.changed` to the event's room."""
    return agenda.do_create_session(viewer(), event_id, data)


@bp.get("/sessions/<int:session_id>")
@bp.response(200, SessionSchema)
def get_session(session_id):
    return agenda.access_session(viewer(), session_id)


@bp.patch("/sessions/<int:session_id>")
@bp.arguments(SessionUpdateSchema)
@bp.response(200, SessionSchema)
@bp.error(403, description="Staff only.")
@limiter.limit(rate_limits.WRITE, key_func=user_rate_key)
def update_session(data, session_id):
    """Change a session (staff); what is not given stays. Pushes `agenda.changed`."""
    return agenda.do_update_session(viewer(), session_id, data)


@bp.delete("/sessions/<int:session_id>")
@bp.response(204)
@bp.error(403, description="Staff only.")
def delete_session(session_id):
    agenda.do_delete_session(viewer(), session_id)


@bp.put("/sessions/<int:session_id>/attendance")
@bp.response(200, SessionSchema)
@bp.error(409, description="slot_taken: you have an accepted meeting then.")
def attend(session_id):
    """Add the session to your schedule; idempotent."""
    return agenda.do_attend(viewer(), session_id, attending=True)


@bp.delete("/sessions/<int:session_id>/attendance")
@bp.response(200, SessionSchema)
def unattend(session_id):
    """Take the session off your schedule; idempotent."""
    return agenda.do_attend(viewer(), session_id, attending=False)


@bp.get("/events/<int:event_id>/schedule")
@bp.response(200, ScheduleSchema)
def my_schedule(event_id):
    """Your own plan: the sessions you added and your accepted meetings, in time order."""
    return _whole(agenda.my_schedule(viewer(), event_id))


@bp.get("/events/<int:event_id>/availability")
@bp.response(200, AvailabilitySchema)
def get_availability(event_id):
    """When you said you can meet."""
    return {"slots": schedule.list_availability(viewer(), event_id)}


@bp.put("/events/<int:event_id>/availability")
@bp.arguments(AvailabilitySchema)
@bp.response(200, AvailabilitySchema)
@limiter.limit(rate_limits.WRITE, key_func=user_rate_key)
def set_availability(data, event_id):
    """Say when you can meet (replaces what you said before). Others book slots inside it."""
    return {"slots": schedule.do_set_availability(viewer(), event_id, data["slots"])}


@bp.get("/events/<int:event_id>/attendees/<int:user_id>/free_slots")
@bp.response(200, FreeSlotsSchema)
@bp.error(403, description="meeting_requests_closed.")
@bp.error(404, description="Nobody by that id is checked in (and listed) here.")
def free_slots(event_id, user_id):
    """The slots ahead (MEETING_MINUTES each) in which you can ask this attendee to meet."""
    return _whole(meetings.list_free_slots(viewer(), event_id, user_id))


@bp.get("/events/<int:event_id>/calendar.ics")
@bp.response(200, description="An iCalendar file (text/calendar) in the event's time zone.",
             content_type="text/calendar")
def calendar(event_id):
    """Your schedule and accepted meetings, for any calendar app."""
    response = Response(calendar_ics(viewer(), event_id), mimetype="text/calendar")
    response.headers["Content-Disposition"] = f'attachment; filename="event-{event_id}.ics"'
    return response
