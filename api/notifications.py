"""The signed-in member's notifications."""
from marshmallow import Schema, fields

from community.notifications import services
from community.shapes import NotificationSchema

from .common import Id, ListArgsSchema, Moment, api_blueprint, page_schema, viewer

bp = api_blueprint("notifications", "Notifications",
                   "What concerns you: replies, answers, meetings, moderation outcomes.")


class NotificationListArgsSchema(ListArgsSchema):
    since = Moment(metadata={"description": "Only notifications new or updated after this."})
    unread = fields.Boolean(load_default=False)


class MarkReadSchema(Schema):
    ids = fields.List(Id(), metadata={"description": "Leave out to mark all read."})


class UnreadCountSchema(Schema):
    unread_count = fields.Integer()


class NotificationCountSchema(Schema):
    count = fields.Integer(required=True, metadata={"description": "Your unread notifications you may still read."})


@bp.get("/notifications")
@bp.arguments(NotificationListArgsSchema, location="query")
@bp.response(200, page_schema(NotificationSchema, "NotificationPage"))
def list_notifications(args):
    """Newest first; `since` catches up after being offline."""
    return services.list_notifications(viewer(), cursor=args.get("cursor"), limit=args.get("limit"),
                                       since=args.get("since"), unread_only=args["unread"])


@bp.get("/notifications/unread_count")
@bp.response(200, NotificationCountSchema)
def unread_count():
    """The badge number: unread notifications, counted like the list shows them."""
    return {"count": services.count_unread(viewer())}


@bp.post("/notifications/read")
@bp.arguments(MarkReadSchema)
@bp.response(200, UnreadCountSchema)
def mark_notifications_read(data):
    return {"unread_count": services.do_mark_read(viewer(), data.get("ids"))}
