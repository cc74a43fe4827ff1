"""A file sent to either face, the web pages or the API: the mark on the views that take one,
its check and storage, and the fields that describe it."""
from flask import current_app

from ..errors import ValidationFailed
from . import services


def accepts_uploads(view):
    """Mark a view whose form may carry a file: its body may be as large as UPLOAD_MAX_BYTES
    (the web blueprint's before-request hook reads the mark)."""
    view.accepts_uploads = True
    return view


def store(actor, file) -> services.Upload:
    """The uploaded `file` (a werkzeug FileStorage) checked and stored for `actor`."""
    if file is None or not file.filename:
        raise ValidationFailed({"file": "Choose a file to upload."})
    config = current_app.config
    return services.do_upload(actor, file.filename, file.stream.read(config["UPLOAD_MAX_BYTES"] + 1),
                              max_bytes=config["UPLOAD_MAX_BYTES"], directory=config["UPLOADS_DIR"])


def upload_fields(upload) -> dict:
    return {"id": upload.id, "url": upload.url, "filename": upload.filename, "content_type": upload.content_type,
            "size": upload.size, "width": upload.width, "height": upload.height}
