"""Events: registration, check-in, the live attendee list and meeting requests."""
from marshmallow import Schema, fields, validate

from community import permissions, rate_limits
from community.database import utcnow
from community.extensions import limiter
from community.gatherings import calendar, meetings, people, presence
from community.gatherings.models import LocationSharing, Visibility, WhoMayAsk
from community.gatherings.qr import checkin_qr_payload
from community.shapes import Can, MeetingSchema, component_or_null, current_viewer

from .common import ListArgsSchema, Moment, api_blueprint, page_schema, user_rate_key, viewer

bp = api_blueprint("events", "Events", "Events: registration, check-in, finding attendees, meeting requests.")


class GeofenceSchema(Schema):
    lat = fields.Float(required=True)
    lng = fields.Float(required=True)
    radius_m = fields.Integer(required=True, metadata={"description": "50 to 20,000 metres."})


class ZoneSchema(Schema):
    name = fields.String(required=True)


class EventSchema(Schema):
    id = fields.Integer()
    name = fields.String()
    description = fields.String()
    venue = fields.String()
    starts_at = fields.DateTime()
    ends_at = fields.DateTime()
    timezone = fields.String()
    geofence = fields.Function(
        lambda e: {"lat": e.fence_lat, "lng": e.fence_lng, "radius_m": e.fence_radius_m} if e.has_geofence else None,
        metadata={**component_or_null(GeofenceSchema), "description": "{lat, lng, radius_m} or null."})
    zones = fields.List(fields.Nested(ZoneSchema))
    registration_count = fields.Integer()
    registered = fields.Boolean(attribute="viewer_registered", metadata={"description": "Whether you registered."})
    is_on = fields.Function(lambda e: e.is_on(utcnow()), metadata={"type": "boolean"})
    can_check_in = Can(lambda actor, event: permissions.can_check_in(actor, event, utcnow()))
    can_register = Can(lambda actor, event: permissions.can_register(actor, event, utcnow()))
    can_manage = Can(lambda actor, event: permissions.can_manage_events(actor))


class EventCreateSchema(Schema):
    name = fields.String(required=True)
    description = fields.String(load_default="")
    venue = fields.String(required=True)
    starts_at = Moment(required=True)
    ends_at = Moment(required=True)
    timezone = fields.String(load_default="UTC", metadata={"description": "IANA name, e.g. Europe/Lisbon."})
    geofence = fields.Nested(GeofenceSchema, load_default=None, allow_none=True)
    zones = fields.List(fields.Nested(ZoneSchema), load_default=list)


class EventListArgsSchema(ListArgsSchema):
    when = fields.String(validate=validate.OneOf(calendar.EVENT_WHENS), load_default="upcoming")


class CheckinCodeSchema(Schema):
    code = fields.String()
    qr_payload = fields.String(metadata={"description": "What the QR code carries; POST it as `code`."})


class CheckinBodySchema(Schema):
    code = fields.String(allow_none=True, metadata={"description": "The check-in code or the QR payload."})
    lat = fields.Float(allow_none=True, metadata={"description": "Used once, snapped to a 50 m cell, never kept."})
    lng = fields.Float(allow_none=True)
    zone = fields.String(allow_none=True, metadata={"description": "A zone's name; null clears it."})
    visibility = fields.String(validate=validate.OneOf([v.value for v in Visibility]))
    location = fields.String(validate=validate.OneOf([v.value for v in LocationSharing]))
    who_may_ask = fields.String(validate=validate.OneOf([v.value for v in WhoMayAsk]))


class MyCheckinSchema(Schema):
    """Your own check-in (others never see this: they see an attendee item)."""

    event_id = fields.Integer()
    checked_in_at = fields.DateTime()
    last_seen_at = fields.DateTime()
    expires_at = fields.Function(lambda c: presence.checkin_expires_at(c).isoformat(),
                                 metadata={"type": "string", "format": "date-time"})
    zone = fields.Function(lambda c: c.zone.name if c.zone else None, allow_none=True, metadata={"type": "string"})
    has_position = fields.Function(lambda c: c.cell_x is not None, metadata={"type": "boolean"})
    visibility = fields.String()
    location = fields.String()
    who_may_ask = fields.String()


class EventDetailSchema(EventSchema):
    my_checkin = fields.Function(
        lambda e: _my_checkin_schema.dump(c) if (c := presence.access_my_checkin(current_viewer(), e)) else None,
        metadata={**component_or_null(MyCheckinSchema),
                  "description": "Your own check-in (as POST /checkin answers), or null when you are not present."})


_my_checkin_schema = MyCheckinSchema()


class AttendeeUserSchema(Schema):
    id = fields.Integer()
    name = fields.String(attribute="display_name")
    organization = fields.String(attribute="organization_name")
    title = fields.String(attribute="job_title")
    interests = fields.List(fields.String())


class AttendeeSchema(Schema):
    user = fields.Nested(AttendeeUserSchema)
    zone = fields.String(allow_none=True)
    distance_m = fields.Integer(allow_none=True, metadata={"description": "Rounded to 50 m, between 50 m cells."})
    can_ask_to_meet = fields.Boolean()
    common = fields.Dict(keys=fields.String(), values=fields.Integer(), allow_none=True,
                         metadata={"description": "With sort=like_me: shared interests and threads."})


class AttendeeListArgsSchema(ListArgsSchema):
    q = fields.String(metadata={"description": "Part of a name."})
    company = fields.String(metadata={"description": "Part of an organization's name, any case."})
    title = fields.String(metadata={"description": "Part of a job title."})
    interest = fields.String(metadata={"description": "An interest tag."})
    zone = fields.String(metadata={"description": "A zone's name."})
    near = fields.String(validate=validate.OneOf(["me"]))
    radius_m = fields.Integer(metadata={"description": "With near=me: 50 to 5,000 (default 200)."})
    sort = fields.String(validate=validate.OneOf(people.ATTENDEE_SORTS),
                         metadata={"description": "arrived (default), near, like_me."})


class OrganizationCountSchema(Schema):
    organization = fields.String()
    count = fields.Integer()


class AttendeeCountsSchema(Schema):
    total = fields.Integer()
    by_organization = fields.List(fields.Nested(OrganizationCountSchema))


class MeetingCreateSchema(Schema):
    user_id = fields.Integer(required=True)
    message = fields.String(load_default="")
    zone = fields.String(load_default=None, allow_none=True)
    starts_at = Moment(load_default=None, allow_none=True, metadata={
        "description": "A free slot of theirs (GET /events/{id}/attendees/{user_id}/free_slots); null: meet now."})


def _rate_limited(view):
    """Check-ins: per member and per address (DESIGN.md)."""
    return limiter.limit(rate_limits.CHECKIN, key_func=user_rate_key)(limiter.limit(rate_limits.CHECKIN)(view))


@bp.get("/events")
@bp.arguments(EventListArgsSchema, location="query")
@bp.response(200, page_schema(EventSchema, "EventPage"))
def list_events(args):
    """Events not over yet, soonest first (or `when=past`, latest first)."""
    return calendar.list_events(viewer(), when=args["when"], cursor=args.get("cursor"), limit=args.get("limit"))


@bp.post("/events")
@bp.arguments(EventCreateSchema)
@bp.response(201, EventSchema)
@bp.error(403, description="Staff only.")
def create_event(data):
    return calendar.do_create_event(viewer(), **data)


@bp.get("/events/<int:event_id>")
@bp.response(200, EventDetailSchema)
@bp.error(404, description="No such event.")
def get_event(event_id):
    return calendar.access_event(viewer(), event_id)


@bp.get("/events/<int:event_id>/checkin_code")
@bp.response(200, CheckinCodeSchema)
@bp.error(403, description="Staff only.")
def get_checkin_code(event_id):
    code = calendar.access_checkin_code(viewer(), event_id)
    return {"code": code, "qr_payload": checkin_qr_payload(event_id, code)}


@bp.put("/events/<int:event_id>/registration")
@bp.response(200, EventSchema)
@bp.error(409, description="The event is over.")
def register(event_id):
    """RSVP; idempotent."""
    return calendar.do_register(viewer(), event_id, attending=True)


@bp.delete("/events/<int:event_id>/registration")
@bp.response(200, EventSchema)
def unregister(event_id):
    """Take back an RSVP; idempotent."""
    return calendar.do_register(viewer(), event_id, attending=False)


@bp.post("/events/<int:event_id>/checkin")
@bp.arguments(CheckinBodySchema)
@bp.response(201, MyCheckinSchema, description="Checked in.")
@bp.alt_response(200, schema=MyCheckinSchema, description="Already checked in: presence refreshed.")
@bp.error(409, description="event_not_started, event_over or outside_geofence.")
@bp.error(422, description="Wrong code, no code or position, unknown zone.")
@_rate_limited
def check_in(data, event_id):
    checkin, arrived = presence.do_check_in(viewer(), event_id, data)
    return checkin, 201 if arrived else 200


@bp.patch("/events/<int:event_id>/checkin")
@bp.arguments(CheckinBodySchema)
@bp.response(200, MyCheckinSchema)
@bp.error(409, description="not_checked_in (or lapsed), event_over.")
@_rate_limited
def update_checkin(data, event_id):
    """Move (zone, lat/lng) or change your privacy choices; also keeps your presence alive."""
    return presence.do_update_checkin(viewer(), event_id, data)


@bp.delete("/events/<int:event_id>/checkin")
@bp.response(204)
@_rate_limited
def check_out(event_id):
    presence.do_check_out(viewer(), event_id)


@bp.get("/events/<int:event_id>/attendees")
@bp.arguments(AttendeeListArgsSchema, location="query")
@bp.response(200, page_schema(AttendeeSchema, "AttendeePage"))
@bp.error(409, description="no_position: near=me needs your position.")
def list_attendees(args, event_id):
    """Present attendees listed by name (never you, never the hidden or count-only)."""
    return people.list_attendees(viewer(), event_id, **args)


@bp.get("/events/<int:event_id>/attendees/counts")
@bp.response(200, AttendeeCountsSchema)
def count_attendees(event_id):
    """How many are here, by organization; count-only attendees included, never named."""
    return people.count_attendees(viewer(), event_id)


@bp.get("/events/<int:event_id>/meetings")
@bp.arguments(ListArgsSchema, location="query")
@bp.response(200, page_schema(MeetingSchema, "MeetingPage"))
def list_meetings(args, event_id):
    """Your meeting requests at this event, sent and received, newest first."""
    return meetings.list_meetings(viewer(), event_id, cursor=args.get("cursor"), limit=args.get("limit"))


@bp.post("/events/<int:event_id>/meetings")
@bp.arguments(MeetingCreateSchema)
@bp.response(201, MeetingSchema, description="Requested.")
@bp.alt_response(200, schema=MeetingSchema, description="They had asked you already: their request, now accepted.")
@bp.error(403, description="meeting_requests_closed: they do not take requests from you.")
@bp.error(404, description="Nobody by that id is checked in (and listed) here.")
@bp.error(409, description="not_checked_in, meeting_quota_reached, meeting_already_requested, "
                            "slot_unavailable (not in their availability), slot_taken (not free for both).")
@limiter.limit(rate_limits.WRITE, key_func=user_rate_key)
def request_meeting(data, event_id):
    meeting = meetings.do_request_meeting(viewer(), event_id, data["user_id"], data["message"], data["zone"],
                                          data["starts_at"])
    return meeting, 200 if meeting.requester_id != viewer().id else 201


@bp.post("/meetings/<int:meeting_id>/accept")
@bp.response(200, MeetingSchema)
@bp.error(409, description="meeting_already_answered, slot_taken (one of you is no longer free then).")
def accept_meeting(meeting_id):
    return meetings.do_answer_meeting(viewer(), meeting_id, accept=True)


@bp.post("/meetings/<int:meeting_id>/decline")
@bp.response(200, MeetingSchema)
@bp.error(409, description="meeting_already_answered.")
def decline_meeting(meeting_id):
    return meetings.do_answer_meeting(viewer(), meeting_id, accept=False)
