"""Webhooks, for admins: endpoints, their secret (shown once), the delivery log, retry and ping."""
from marshmallow import Schema, fields

from community.webhooks import services
from community.webhooks.models import EVENT_TYPES, PING, DeliveryStatus

from .common import ListArgsSchema, api_blueprint, page_schema, viewer

bp = api_blueprint("webhooks", "Webhooks",
                   "Webhooks (admins): the vendor's systems hear what happens, signed and retried.")

EVENTS_FIELD = {"description": "Event types to send.", "items": {"enum": list(EVENT_TYPES)}}


class WebhookCreateSchema(Schema):
    url = fields.String(required=True, metadata={"description": "https:// only; private networks are refused."})
    events = fields.List(fields.String(), required=True, metadata=EVENTS_FIELD)
    description = fields.String(load_default="")
    include_staff_only = fields.Boolean(load_default=False, metadata={
        "description": "Also send what happens in staff-only categories."})


class WebhookUpdateSchema(Schema):
    url = fields.String()
    events = fields.List(fields.String(), metadata=EVENTS_FIELD)
    description = fields.String()
    active = fields.Boolean()
    include_staff_only = fields.Boolean()


class WebhookSchema(Schema):
    id = fields.Integer()
    url = fields.String()
    description = fields.String()
    events = fields.List(fields.String())
    active = fields.Boolean()
    include_staff_only = fields.Boolean()
    disabled_reason = fields.String(metadata={"description": "Why it was switched off, if it was."})
    failing_since = fields.DateTime(allow_none=True)
    created_at = fields.DateTime()


class WebhookWithSecretSchema(WebhookSchema):
    secret = fields.String(metadata={"description": "whsec_…: verify signatures with it. Shown only this once."})


class DeliverySchema(Schema):
    id = fields.Integer()
    message_id = fields.String(metadata={"description": "The webhook-id header: the same on every retry."})
    event_type = fields.String(metadata={"enum": [*EVENT_TYPES, PING]})
    status = fields.String(metadata={"enum": [s.value for s in DeliveryStatus]})
    attempts = fields.Integer()
    response_status = fields.Integer(allow_none=True)
    created_at = fields.DateTime()
    last_attempt_at = fields.DateTime(allow_none=True)
    next_attempt_at = fields.DateTime(allow_none=True)


def _with_secret(created):
    webhook, secret = created
    return {**{name: getattr(webhook, name) for name in WebhookSchema().fields}, "secret": secret}


@bp.get("/webhooks")
@bp.arguments(ListArgsSchema, location="query")
@bp.response(200, page_schema(WebhookSchema, "WebhookPage"))
@bp.error(403, description="Admins only.")
def list_webhooks(args):
    return services.list_webhooks(viewer(), cursor=args.get("cursor"), limit=args.get("limit"))


@bp.post("/webhooks")
@bp.arguments(WebhookCreateSchema)
@bp.response(201, WebhookWithSecretSchema)
@bp.error(403, description="Admins only.")
@bp.error(422, description="Not an allowed URL, or unknown event types.")
def create_webhook(data):
    """A new endpoint; the answer carries its secret, shown this once."""
    return _with_secret(services.do_create_webhook(viewer(), **data))


@bp.get("/webhooks/<int:webhook_id>")
@bp.response(200, WebhookSchema)
@bp.error(403, description="Admins only.")
@bp.error(404, description="No such webhook.")
def get_webhook(webhook_id):
    return services.access_webhook(viewer(), webhook_id)


@bp.patch("/webhooks/<int:webhook_id>")
@bp.arguments(WebhookUpdateSchema)
@bp.response(200, WebhookSchema)
@bp.error(403, description="Admins only.")
@bp.error(404, description="No such webhook.")
def update_webhook(changes, webhook_id):
    """Change what it hears or where; `active: true` switches a switched-off endpoint back on."""
    return services.do_update_webhook(viewer(), webhook_id, **changes)


@bp.delete("/webhooks/<int:webhook_id>")
@bp.response(204)
@bp.error(403, description="Admins only.")
@bp.error(404, description="No such webhook.")
def delete_webhook(webhook_id):
    services.do_delete_webhook(viewer(), webhook_id)


@bp.post("/webhooks/<int:webhook_id>/secret")
@bp.response(200, WebhookWithSecretSchema)
@bp.error(403, description="Admins only.")
@bp.error(404, description="No such webhook.")
def rotate_secret(webhook_id):
    """A new secret, shown this once; the previous one keeps signing too for 24 hours."""
    return _with_secret(services.do_rotate_secret(viewer(), webhook_id))


@bp.get("/webhooks/<int:webhook_id>/deliveries")
@bp.arguments(ListArgsSchema, location="query")
@bp.response(200, page_schema(DeliverySchema, "WebhookDeliveryPage"))
@bp.error(403, description="Admins only.")
@bp.error(404, description="No such webhook.")
def list_deliveries(args, webhook_id):
    """The delivery log, newest first."""
    return services.list_deliveries(viewer(), webhook_id, cursor=args.get("cursor"), limit=args.get("limit"))


@bp.post("/webhooks/<int:webhook_id>/deliveries/<int:delivery_id>/retry")
@bp.response(202, DeliverySchema)
@bp.error(403, description="Admins only.")
@bp.error(404, description="No such delivery.")
def retry_delivery(webhook_id, delivery_id):
    """Send it again now, with the same webhook-id and a fresh round of retries."""
    return services.do_retry_delivery(viewer(), webhook_id, delivery_id)


@bp.post("/webhooks/<int:webhook_id>/ping")
@bp.response(202, DeliverySchema)
@bp.error(403, description="Admins only.")
@bp.error(404, description="No such webhook.")
def ping(webhook_id):
    """Send a `ping` event now; its delivery shows in the log."""
    return services.do_ping(viewer(), webhook_id)
