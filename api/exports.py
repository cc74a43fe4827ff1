"""A member's copies of their data: start an export, then follow it until it can be downloaded."""
from marshmallow import Schema, fields

from community import rate_limits
from community.extensions import limiter
from community.privacy import exports
from community.privacy.models import ExportStatus

from .common import api_blueprint, user_rate_key, viewer

bp = api_blueprint("exports", "Your data", "Your data: a zip of everything you wrote and set, to download.")


class ExportSchema(Schema):
    id = fields.Integer()
    status = fields.String(attribute="current_status", metadata={
        "enum": [status.value for status in ExportStatus],
        "description": "pending: being prepared; ready: download it; failed: start a new one; "
                       "expired: its 7 days are over."})
    created_at = fields.DateTime()
    ready_at = fields.DateTime(allow_none=True)
    expires_at = fields.DateTime(allow_none=True, metadata={"description": "The download works until then."})
    size = fields.Integer(allow_none=True, metadata={"description": "Bytes of the zip file, once ready."})
    download_url = fields.Function(exports.download_url, allow_none=True, metadata={
        "type": "string",
        "description": "While ready: the zip, for you only (send your access token, or be signed in on the web)."})


@bp.post("/me/exports")
@bp.response(202, ExportSchema, description="Being prepared: you are notified (and emailed) when it is ready.")
@bp.error(409, description="Your previous export is still being prepared.")
@bp.error(429, description="Too many attempts.")
@limiter.limit(rate_limits.WRITE, key_func=user_rate_key)
def start_export():
    """Export your data: a zip of JSON files with your profile, posts (with their revisions), threads,
    ideas, votes, reactions, subscriptions, notifications, check-ins, meetings and sessions."""
    return exports.do_start_export(viewer())


@bp.get("/me/exports/<int:export_id>")
@bp.response(200, ExportSchema)
@bp.error(404, description="No such export of yours.")
def get_export(export_id):
    return exports.access_export(viewer(), export_id)
