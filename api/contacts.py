"""Badges and contacts: my badge to be scanned, scanning others', my contacts and their export."""
from flask import Response
from marshmallow import Schema, fields, validate

from community import rate_limits
from community.extensions import limiter
from community.gatherings import contacts
from community.gatherings.models import ContactExchange, ContactStatus
from community.shapes import component_or_null

from .common import ListArgsSchema, api_blueprint, page_schema, user_rate_key, viewer
from .events import AttendeeUserSchema

bp = api_blueprint("contacts", "Contacts", "Badges and contacts: scan a badge to save a contact, export your contacts.")


class BadgeSchema(Schema):
    code = fields.String(attribute="badge_code", metadata={"description": "Typed or scanned by others."})
    qr_svg = fields.Function(contacts.badge_qr_svg, metadata={"type": "string", "description": "SVG of the QR code."})
    contact_exchange = fields.String(metadata={"enum": [c.value for c in ContactExchange]})


class BadgeUpdateSchema(Schema):
    contact_exchange = fields.String(required=True, validate=validate.OneOf([c.value for c in ContactExchange]),
                                     metadata={"description": "allow: scans save your card; ask: you accept first."})


class ContactSchema(Schema):
    id = fields.Integer()
    event_id = fields.Integer()
    status = fields.String(metadata={"enum": [s.value for s in ContactStatus]})
    user = fields.Function(
        lambda c: _card.dump(c.contact) if c.status == ContactStatus.ACCEPTED else None,
        metadata={**component_or_null(AttendeeUserSchema),
                  "description": "The attendee card; null until they accept (contact_exchange: ask)."})
    note = fields.String()
    rating = fields.Integer(allow_none=True)
    created_at = fields.DateTime()
    updated_at = fields.DateTime()


_card = AttendeeUserSchema()


class ContactCreateSchema(Schema):
    badge_code = fields.String(required=True, metadata={"description": "As scanned or typed, any case."})
    note = fields.String(load_default="")
    rating = fields.Integer(load_default=None, allow_none=True, validate=validate.Range(1, 5))


class ContactListArgsSchema(ListArgsSchema):
    format = fields.String(validate=validate.OneOf(["json", "csv", "vcard"]), load_default="json",
                           metadata={"description": "csv or vcard: every shared contact as a file."})


class ContactRequestSchema(Schema):
    id = fields.Integer()
    user = fields.Nested(AttendeeUserSchema, attribute="owner")
    created_at = fields.DateTime()


class ContactRequestListSchema(Schema):
    items = fields.List(fields.Nested(ContactRequestSchema), required=True)
    next_cursor = fields.String(allow_none=True, required=True)


@bp.get("/events/<int:event_id>/badge")
@bp.response(200, BadgeSchema)
@bp.error(409, description="not_attending: register (or check in) first.")
def get_badge(event_id):
    """Your personal badge at this event: show its QR code (or code) to be scanned."""
    return contacts.access_badge(viewer(), event_id)


@bp.patch("/events/<int:event_id>/badge")
@bp.arguments(BadgeUpdateSchema)
@bp.response(200, BadgeSchema)
def update_badge(data, event_id):
    return contacts.do_set_contact_exchange(viewer(), event_id, data["contact_exchange"])


@bp.post("/events/<int:event_id>/contacts")
@bp.arguments(ContactCreateSchema)
@bp.response(201, ContactSchema)
@bp.error(404, description="No badge with this code at this event.")
@bp.error(409, description="not_attending: register (or check in) first.")
@limiter.limit(rate_limits.WRITE, key_func=user_rate_key)
def scan_badge(data, event_id):
    """Save the badge's owner as your contact (pending if they chose `ask`); again: new note and rating."""
    return contacts.do_scan_badge(viewer(), event_id, data["badge_code"], data["note"], data["rating"])


@bp.get("/events/<int:event_id>/contacts")
@bp.arguments(ContactListArgsSchema, location="query")
@bp.response(200, page_schema(ContactSchema, "ContactPage"))
@bp.alt_response(200, description="format=csv (text/csv) or format=vcard (text/vcard).", content_type="text/csv")
def list_contacts(args, event_id):
    """Your contacts at this event, newest first; `format=csv|vcard` exports the shared ones."""
    if args["format"] == "json":
        return contacts.list_contacts(viewer(), event_id, cursor=args.get("cursor"), limit=args.get("limit"))
    saved = contacts.exported_contacts(viewer(), event_id)
    if args["format"] == "csv":
        body, mimetype, extension = contacts.contacts_csv(saved), "text/csv", "csv"
    else:
        body, mimetype, extension = contacts.contacts_vcard(saved), "text/vcard", "vcf"
    response = Response(body, mimetype=mimetype)
    response.headers["Content-Disposition"] = f'attachment; filename="contacts-event-{event_id}.{extension}"'
    return response


@bp.get("/events/<int:event_id>/contact_requests")
@bp.response(200, ContactRequestListSchema)
def list_contact_requests(event_id):
    """Who scanned your badge and waits for you to share your contact (you chose `ask`)."""
    return {"items": contacts.list_contact_requests(viewer(), event_id), "next_cursor": None}


@bp.post("/contacts/<int:contact_id>/accept")
@bp.response(200, ContactRequestSchema)
@bp.error(409, description="contact_already_answered.")
def accept_contact(contact_id):
    return contacts.do_answer_contact(viewer(), contact_id, accept=True)


@bp.post("/contacts/<int:contact_id>/decline")
@bp.response(200, ContactRequestSchema)
@bp.error(409, description="contact_already_answered.")
def decline_contact(contact_id):
    return contacts.do_answer_contact(viewer(), contact_id, accept=False)
