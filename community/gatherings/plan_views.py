"""Web pages for planning a day at an event: the agenda and one's schedule, when one can meet,
calendar.ics, one's badge, scanning others' badges into contacts, the position from the browser.
Same blueprint as `views`; thin: parse, call a service, render or redirect."""
from flask import Response, flash, jsonify, redirect, render_template, request, url_for
from flask_login import current_user

from .. import rate_limits
from ..errors import Conflict, DomainError, NotFound, ValidationFailed
from ..extensions import limiter
from ..web import signed_in_user_key
from . import agenda, calendar, contacts, presence, schedule
from .ical import calendar_ics
from .models import ContactExchange
from .views import bp, checkin_rate_limited


def _back_to_event(event_id: int, anchor: str):
    return redirect(url_for("gatherings.event", event_id=event_id, _anchor=anchor))


@bp.post("/events/<int:event_id>/sessions")
@limiter.limit(rate_limits.WRITE, key_func=signed_in_user_key)
def create_session(event_id: int):
    form = request.form
    try:
        agenda.do_create_session(current_user, event_id, {name: form.get(name) for name in (
            "title", "starts_at", "ends_at", "zone", "speakers", "description")})
    except ValidationFailed as failure:
        flash(" ".join(failure.fields.values()) or failure.message, "error")
    else:
        flash("Session added to the agenda.", "success")
    return _back_to_event(event_id, "agenda")


@bp.post("/sessions/<int:session_id>/delete")
def delete_session(session_id: int):
    event_id = agenda.access_session(current_user, session_id).event_id
    agenda.do_delete_session(current_user, session_id)
    flash("Session removed from the agenda.", "info")
    return _back_to_event(event_id, "agenda")


@bp.post("/sessions/<int:session_id>/attendance")
def attend_session(session_id: int):
    attending = request.form.get("attending") != "no"
    try:
        session = agenda.do_attend(current_user, session_id, attending=attending)
    except Conflict as conflict:
        flash(conflict.message, "error")
        session = agenda.access_session(current_user, session_id)
    else:
        flash(f"“{session.title}” is {'on' if attending else 'off'} your schedule.", "success")
    return _back_to_event(session.event_id, "agenda")


@bp.post("/events/<int:event_id>/availability")
@limiter.limit(rate_limits.WRITE, key_func=signed_in_user_key)
def set_availability(event_id: int):
    """Add one stretch of free time to what one published (or clear it all)."""
    slots = [] if request.form.get("clear") else [
        {"starts_at": s.starts_at, "ends_at": s.ends_at} for s in schedule.list_availability(current_user, event_id)
    ] + [{"starts_at": request.form.get("starts_at"), "ends_at": request.form.get("ends_at")}]
    try:
        schedule.do_set_availability(current_user, event_id, slots)
    except ValidationFailed as failure:
        flash(" ".join(failure.fields.values()) or failure.message, "error")
    else:
        flash("Cleared: nobody can book a slot with you." if not slots else "Others can book meetings with you then.",
              "success")
    return redirect(url_for("gatherings.meetings", event_id=event_id, _anchor="availability"))


@bp.get("/events/<int:event_id>/calendar.ics")
def calendar_file(event_id: int):
    response = Response(calendar_ics(current_user, event_id), mimetype="text/calendar")
    response.headers["Content-Disposition"] = f'attachment; filename="event-{event_id}.ics"'
    return response


def _contacts_page(event_id: int, *, error: DomainError | None = None, form=None):
    event = calendar.access_event(current_user, event_id)
    attending = contacts.is_attendee(current_user, event)
    badge = contacts.access_badge(current_user, event.id) if attending else None
    return render_template(
        "gatherings/contacts.html", event=event, badge=badge, error=error, form=form or {},
        page=contacts.list_contacts(current_user, event.id, cursor=request.args.get("cursor")),
        requests=contacts.list_contact_requests(current_user, event.id), exchanges=list(ContactExchange),
    ), error.status if error else 200


@bp.get("/events/<int:event_id>/contacts")
def contacts_page(event_id: int):
    return _contacts_page(event_id)


@bp.post("/events/<int:event_id>/contacts")
@limiter.limit(rate_limits.WRITE, key_func=signed_in_user_key)
def scan_badge(event_id: int):
    form = request.form
    try:
        contact = contacts.do_scan_badge(current_user, event_id, form.get("badge_code"), form.get("note"),
                                         form.get("rating"))
    except (ValidationFailed, Conflict, NotFound) as failure:
        return _contacts_page(event_id, error=failure, form=form)
    flash(f"Saved {contact.contact.display_name}." if contact.status == "accepted"
          else "Request sent: the contact appears once they accept.", "success")
    return redirect(url_for("gatherings.contacts_page", event_id=event_id))


@bp.post("/events/<int:event_id>/badge")
def set_contact_exchange(event_id: int):
    contacts.do_set_contact_exchange(current_user, event_id, request.form.get("contact_exchange"))
    flash("Saved.", "success")
    return redirect(url_for("gatherings.contacts_page", event_id=event_id))


@bp.get("/events/<int:event_id>/badge.svg")
def badge_qr(event_id: int):
    response = Response(contacts.badge_qr_svg(contacts.access_badge(current_user, event_id)), mimetype="image/svg+xml")
    response.headers["Cache-Control"] = "private, no-store"
    return response


@bp.post("/contacts/<int:contact_id>/accept", defaults={"accept": True})
@bp.post("/contacts/<int:contact_id>/decline", defaults={"accept": False})
def answer_contact(contact_id: int, accept: bool):
    contact = contacts.do_answer_contact(current_user, contact_id, accept)
    flash("Contact shared." if accept else "Declined.", "success")
    return redirect(url_for("gatherings.contacts_page", event_id=contact.event_id))


@bp.get("/events/<int:event_id>/contacts.csv", defaults={"extension": "csv"})
@bp.get("/events/<int:event_id>/contacts.vcf", defaults={"extension": "vcf"})
def export_contacts(event_id: int, extension: str):
    saved = contacts.exported_contacts(current_user, event_id)
    body, mimetype = ((contacts.contacts_csv(saved), "text/csv") if extension == "csv"
                      else (contacts.contacts_vcard(saved), "text/vcard"))
    response = Response(body, mimetype=mimetype)
    response.headers["Content-Disposition"] = f'attachment; filename="contacts-event-{event_id}.{extension}"'
    return response


def _coordinate(name: str):
    value = request.form.get(name)
    try:
        return float(value)
    except (TypeError, ValueError):
        return value  # the service answers "Must be a number."


@bp.post("/events/<int:event_id>/position")
@checkin_rate_limited
def share_position(event_id: int):
    """The browser's position, sent on the member's click and then as they move (static/position.js):
    it updates their presence like the apps' PATCH …/checkin, or checks them in inside the venue."""
    changes = {"lat": _coordinate("lat"), "lng": _coordinate("lng")}
    event = calendar.access_event(current_user, event_id)
    try:
        if presence.access_my_checkin(current_user, event) is not None:
            presence.do_update_checkin(current_user, event.id, changes)
            arrived = False
        else:
            arrived = presence.do_check_in(current_user, event.id, changes)[1]
    except (ValidationFailed, Conflict) as failure:
        message = " ".join([failure.message, *getattr(failure, "fields", {}).values()])
        return jsonify({"ok": False, "code": failure.code, "message": message}), failure.status
    return jsonify({"ok": True, "arrived": arrived,
                    "message": "You are checked in by your position." if arrived else "Position shared."})
