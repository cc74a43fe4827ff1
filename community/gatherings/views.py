"""Web pages for events: list, page (RSVP, check-in, attendees), meetings, the staff QR page.
Thin: parse, call a service, render."""
from datetime import datetime
from zoneinfo import ZoneInfo

from flask import Blueprint, Response, flash, redirect, render_template, request, url_for
from flask_login import current_user

from .. import permissions, rate_limits
from ..database import utcnow
from ..errors import Conflict, DomainError, Forbidden, ValidationFailed
from ..extensions import limiter
from ..web import signed_in_user_key
from . import agenda, calendar, codes, people, presence, schedule
from .meetings import do_answer_meeting, do_request_meeting, list_meetings
from .models import LocationSharing, Visibility, WhoMayAsk
from .qr import checkin_qr_payload, qr_svg

bp = Blueprint("gatherings", __name__)

ATTENDEE_FILTERS = ("q", "company", "title", "interest", "zone", "sort", "near", "radius_m")
PRESENCE_FIELDS = ("zone", "visibility", "location", "who_may_ask")



def checkin_rate_limited(view):
    """Check-ins: per member and per address (DESIGN.md)."""
    return limiter.limit(rate_limits.CHECKIN, key_func=signed_in_user_key)(limiter.limit(rate_limits.CHECKIN)(view))


@bp.app_template_filter("in_zone")
def in_zone(moment: datetime, timezone: str) -> str:
    """A moment as the clocks at the event show it."""
    return moment.astimezone(ZoneInfo(timezone)).strftime("%a %b %d, %H:%M")


@bp.app_template_filter("code_shown")
def code_shown(code: str) -> str:
    return codes.shown(code)


@bp.app_template_filter("clock")
def clock(moment: datetime, timezone: str) -> str:
    """The time of day at the event."""
    return moment.astimezone(ZoneInfo(timezone)).strftime("%H:%M")


@bp.get("/events")
def index():
    when = request.args.get("when") or "upcoming"
    page = calendar.list_events(current_user, when=when, cursor=request.args.get("cursor"),
                                limit=request.args.get("limit"))
    return render_template("gatherings/index.html", page=page, when=when, now=utcnow())


def _fence(form) -> dict | None:
    """The three geofence inputs: all empty means no fence."""
    raw = {name: (form.get(f"fence_{name}") or "").strip() for name in ("lat", "lng", "radius_m")}
    if not any(raw.values()):
        return None
    fence = {}
    for name, value in raw.items():
        try:
            fence[name] = float(value)
        except ValueError:
            fence[name] = value  # the service answers "Must be a number."
    return fence


@bp.route("/events/new", methods=["GET", "POST"])
@limiter.limit(rate_limits.WRITE, methods=["POST"], key_func=signed_in_user_key)
def new_event():
    if not permissions.can_manage_events(current_user):
        raise Forbidden("Only staff create events.")
    errors = {}
    if request.method == "POST":
        form = request.form
        try:
            event = calendar.do_create_event(
                current_user, name=form.get("name"), venue=form.get("venue"), description=form.get("description"),
                starts_at=form.get("starts_at"), ends_at=form.get("ends_at"), timezone=form.get("timezone"),
                geofence=_fence(form), zones=form.get("zones"))
        except ValidationFailed as failure:
            errors = failure.fields
        else:
            flash("Event created.", "success")
            return redirect(url_for("gatherings.event", event_id=event.id))
    return render_template("gatherings/new_event.html", errors=errors, form=request.form), 422 if errors else 200


def _event_page(event_id: int, *, error: DomainError | None = None):
    event = calendar.access_event(current_user, event_id)
    mine = presence.access_my_checkin(current_user, event)
    filters = {name: request.args.get(name) for name in ATTENDEE_FILTERS if request.args.get(name)}
    attendees, attendees_error = None, None
    try:
        attendees = people.list_attendees(current_user, event.id, cursor=request.args.get("cursor"), **filters)
    except (ValidationFailed, Conflict) as failure:
        attendees_error = " ".join([failure.message, *getattr(failure, "fields", {}).values()])
    status = error.status if error else (422 if attendees_error else 200)
    now = utcnow()
    sessions = agenda.list_sessions(current_user, event.id)
    on_now, up_next = agenda.now_and_next(sessions, now)
    return render_template(
        "gatherings/event.html", event=event, mine=mine, filters=filters, attendees=attendees,
        attendees_error=attendees_error, counts=people.count_attendees(current_user, event.id),
        error=error, code=request.args.get("code", ""), now=now, visibilities=list(Visibility),
        days=agenda.by_day(event, sessions), on_now=on_now, up_next=up_next,
        locations=list(LocationSharing), who_may_ask=list(WhoMayAsk),
        expires_at=presence.checkin_expires_at(mine) if mine else None,
    ), status


@bp.get("/events/<int:event_id>")
def event(event_id: int):
    return _event_page(event_id)


@bp.post("/events/<int:event_id>/registration")
def register(event_id: int):
    attending = request.form.get("attending") != "no"
    calendar.do_register(current_user, event_id, attending=attending)
    flash("You are registered." if attending else "Registration cancelled.", "success" if attending else "info")
    return redirect(url_for("gatherings.event", event_id=event_id))


def _presence_form() -> dict:
    return {name: request.form.get(name) for name in PRESENCE_FIELDS if name in request.form}


def _change_presence(event_id: int, change, done: str):
    """Run a check-in change; a refusal re-renders the event page saying why."""
    try:
        change()
    except (ValidationFailed, Conflict) as failure:
        return _event_page(event_id, error=failure)
    flash(done, "success")
    return redirect(url_for("gatherings.event", event_id=event_id))


@bp.post("/events/<int:event_id>/checkin")
@checkin_rate_limited
def check_in(event_id: int):
    changes = {"code": request.form.get("code"), **_presence_form()}
    return _change_presence(event_id, lambda: presence.do_check_in(current_user, event_id, changes),
                            "You are checked in.")


@bp.post("/events/<int:event_id>/checkin/update")
@checkin_rate_limited
def update_checkin(event_id: int):
    return _change_presence(event_id, lambda: presence.do_update_checkin(current_user, event_id, _presence_form()),
                            "Updated.")


@bp.post("/events/<int:event_id>/checkout")
@checkin_rate_limited
def check_out(event_id: int):
    presence.do_check_out(current_user, event_id)
    flash("You are checked out.", "info")
    return redirect(url_for("gatherings.event", event_id=event_id))


@bp.get("/events/<int:event_id>/meetings")
def meetings(event_id: int):
    event = calendar.access_event(current_user, event_id)
    page = list_meetings(current_user, event.id, cursor=request.args.get("cursor"), limit=request.args.get("limit"))
    return render_template("gatherings/meetings.html", event=event, page=page,
                           availability=schedule.list_availability(current_user, event.id))


@bp.route("/events/<int:event_id>/meet/<int:user_id>", methods=["GET", "POST"])
@limiter.limit(rate_limits.WRITE, methods=["POST"], key_func=signed_in_user_key)
def request_meeting(event_id: int, user_id: int):
    event = calendar.access_event(current_user, event_id)
    attendee = people.access_attendee(current_user, event, user_id)
    error = None
    if request.method == "POST":
        try:
            meeting = do_request_meeting(current_user, event.id, user_id, request.form.get("message"),
                                         request.form.get("zone"), request.form.get("starts_at"))
        except (ValidationFailed, Conflict, Forbidden) as failure:
            error = failure
        else:
            name = attendee.user.display_name
            flash(f"{name} had asked you too: your meeting is set." if meeting.requester_id != current_user.id
                  else f"Request sent to {name}.", "success")
            return redirect(url_for("gatherings.meetings", event_id=event.id))
    slots = schedule.free_slots(event, current_user, user_id, utcnow())
    return render_template("gatherings/request_meeting.html", event=event, attendee=attendee, error=error,
                           form=request.form, slots=slots), error.status if error else 200


@bp.post("/meetings/<int:meeting_id>/accept", defaults={"accept": True})
@bp.post("/meetings/<int:meeting_id>/decline", defaults={"accept": False})
def answer_meeting(meeting_id: int, accept: bool):
    meeting = do_answer_meeting(current_user, meeting_id, accept=accept)
    flash(f"Request {meeting.status}.", "success")
    return redirect(url_for("gatherings.meetings", event_id=meeting.event_id))


@bp.get("/events/<int:event_id>/manage")
def manage(event_id: int):
    event = calendar.access_event(current_user, event_id)
    code = calendar.access_checkin_code(current_user, event.id)
    return render_template("gatherings/manage.html", event=event, code=code,
                           payload=checkin_qr_payload(event.id, code))


@bp.get("/events/<int:event_id>/checkin-qr.svg")
def checkin_qr(event_id: int):
    """The check-in QR code, drawn on the server (no script, no CDN)."""
    code = calendar.access_checkin_code(current_user, event_id)
    response = Response(qr_svg(checkin_qr_payload(event_id, code)), mimetype="image/svg+xml")
    response.headers["Cache-Control"] = "private, no-store"
    return response
