"""Uploads: images and PDFs to show in posts."""
from flask_smorest.fields import Upload as FileField
from marshmallow import Schema, fields

from community import rate_limits
from community.extensions import limiter
from community.uploads.receiving import accepts_uploads, store, upload_fields

from .common import api_blueprint, user_rate_key, viewer

bp = api_blueprint("uploads", "Uploads", "Images and PDFs to show in posts.")


class UploadFileSchema(Schema):
    file = FileField(required=True, metadata={"description": (
        "PNG, JPEG, GIF or WebP (re-encoded, metadata such as GPS removed) or PDF; at most UPLOAD_MAX_BYTES.")})


class UploadSchema(Schema):
    id = fields.Integer()
    url = fields.String(metadata={"description": "Show it in a post with Markdown ![alt](url)."})
    filename = fields.String()
    content_type = fields.String()
    size = fields.Integer(metadata={"description": "Bytes, as stored."})
    width = fields.Integer(allow_none=True)
    height = fields.Integer(allow_none=True)


@bp.post("/uploads")
@accepts_uploads
@bp.arguments(UploadFileSchema, location="files")
@bp.response(201, UploadSchema)
@bp.error(413, description="Larger than UPLOAD_MAX_BYTES.")
@bp.error(422, description="Not an accepted type (judged by the bytes), an SVG, damaged, or too many pixels.")
@limiter.limit(rate_limits.WRITE, key_func=user_rate_key)
def upload(files):
    """Send a file as multipart form data, field `file`."""
    return upload_fields(store(viewer(), files["file"]))
