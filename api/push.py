"""Push notifications to devices: the server's VAPID key and the member's subscriptions."""
from flask import g
from marshmallow import Schema, fields, validate

from community.push import keys, services
from community.push.models import PushKind

from .common import api_blueprint, page_schema, viewer

bp = api_blueprint("push", "Push notifications",
                   "Push notifications: Web Push, FCM and APNs subscriptions of the member's devices.")


class PushConfigSchema(Schema):
    vapid_public_key = fields.String(allow_none=True, metadata={
        "description": "The applicationServerKey for PushManager.subscribe (base64url, uncompressed P-256); "
                       "null when this server sends no Web Push."})


class PushKeysSchema(Schema):
    p256dh = fields.String(required=True)
    auth = fields.String(required=True)


class PushSubscriptionCreateSchema(Schema):
    kind = fields.String(required=True, validate=validate.OneOf([k.value for k in PushKind]))
    endpoint = fields.String(metadata={"description": "webpush: the push service URL (https)."})
    keys = fields.Nested(PushKeysSchema, metadata={"description": "webpush: the browser's keys."})
    token = fields.String(metadata={"description": "fcm: the registration token; apns: the device token (hex)."})


class PushSubscriptionSchema(Schema):
    id = fields.Integer()
    kind = fields.String()
    created_at = fields.DateTime()


@bp.get("/push/config")
@bp.response(200, PushConfigSchema)
def push_config():
    return {"vapid_public_key": keys.public_key()}


@bp.get("/me/push-subscriptions")
@bp.response(200, page_schema(PushSubscriptionSchema, "PushSubscriptionPage"))
def my_push_subscriptions():
    return {"items": services.list_subscriptions(viewer()), "next_cursor": None}


@bp.post("/me/push-subscriptions")
@bp.arguments(PushSubscriptionCreateSchema)
@bp.response(201, PushSubscriptionSchema)
@bp.error(422, description="A malformed subscription, a private-network endpoint, or a kind this server lacks.")
def subscribe(data):
    """Push this device the member's notifications while this session lives (sign-out ends it)."""
    return services.do_subscribe(viewer(), g.device_session.id, data)


@bp.delete("/me/push-subscriptions/<int:subscription_id>")
@bp.response(204)
@bp.error(404, description="No such subscription of yours.")
def unsubscribe(subscription_id):
    services.do_unsubscribe(viewer(), subscription_id)
