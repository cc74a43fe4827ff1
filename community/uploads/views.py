"""Sending and fetching uploads on the web. Pages and the composer (static/composer.js) send
files here; posts show them by URL, which answers only to those who may read such a post."""
import io

from flask import Blueprint, current_app, jsonify, request, send_file
from flask_login import current_user

from .. import rate_limits
from ..errors import TooLarge
from ..extensions import limiter
from ..responses import public, register_error_renderer
from ..web import signed_in_user_key, web_or_app_user
from . import services
from .receiving import accepts_uploads, store, upload_fields

bp = Blueprint("uploads", __name__)
# Multipart framing around the file itself.
MULTIPART_OVERHEAD = 64 * 1024


def _allow_upload_sized_bodies() -> None:
    """Raise the size limit from the forms' to UPLOAD_MAX_BYTES for views that take files. It
    runs before anything reads the body (the CSRF check does); an announced body beyond it is
    refused with a message saying the limit."""
    if request.mimetype != "multipart/form-data" or \
            not getattr(current_app.view_functions.get(request.endpoint), "accepts_uploads", False):
        return  # text alone never needs more than the forms' limit
    limit = current_app.config["UPLOAD_MAX_BYTES"]
    if (request.content_length or 0) > limit + MULTIPART_OVERHEAD:
        raise TooLarge(f"Files can be at most {limit / 1024 / 1024:.0f} MiB.")
    request.max_content_length = limit + MULTIPART_OVERHEAD


def markdown_for(upload) -> str:
    """How a post shows the upload: an image inline, a PDF as a link."""
    if upload.width:
        return f"![{upload.filename}]({upload.url})"
    return f"[{upload.filename}]({upload.url})"


@bp.post("/uploads")
@accepts_uploads
@limiter.limit(rate_limits.WRITE, key_func=signed_in_user_key)
def upload():
    stored = store(current_user, request.files.get("file"))
    return jsonify(**upload_fields(stored), markdown=markdown_for(stored)), 201


@bp.get("/uploads/<key>/<name>")
@public  # checked here: by the web session or by an app's token
def download(key: str, name: str):
    upload = services.access_upload(web_or_app_user(), key)
    # Read whole (at most UPLOAD_MAX_BYTES): no open file outlives a response nobody reads to the end.
    data = io.BytesIO(services.path_of(current_app.config["UPLOADS_DIR"], upload).read_bytes())
    response = send_file(data, mimetype=upload.content_type, download_name=upload.filename,
                         as_attachment=upload.width is None, conditional=True, etag=upload.key,
                         last_modified=upload.created_at, max_age=0)
    # Private: no shared cache keeps it, and it never renders as a page of this origin.
    response.headers["Cache-Control"] = "private, no-cache"
    response.headers["Content-Security-Policy"] = "default-src 'none'; sandbox"
    response.headers["Cross-Origin-Resource-Policy"] = "same-origin"
    return response


def _json_error(status: int, code: str, message: str, fields: dict, headers: list):
    """The composer reads errors as the API's envelope."""
    response = jsonify(error={"code": code, "message": message, "fields": fields})
    response.status_code = status
    response.headers.extend(headers)
    return response


@bp.record_once
def _register(state) -> None:
    register_error_renderer(state.app, "/uploads", _json_error)
    state.app.before_request_funcs.setdefault(None, []).insert(0, _allow_upload_sized_bodies)
