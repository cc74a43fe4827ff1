"""Uploads: the type is read from the bytes (never the name), images are decoded and encoded
again by Pillow (which drops EXIF, GPS included, and anything hidden after the image), and a
file is served only to its uploader and to members who may read a post that shows it."""
import io
import os
import re
import secrets
import warnings
from pathlib import Path

from PIL import Image, ImageOps, UnidentifiedImageError
from sqlalchemy import delete, exists, select
from werkzeug.utils import secure_filename

from .. import events, permissions
from ..accounts.models import User
from ..accounts.services import check_not_silenced
from ..database import db
from ..errors import Forbidden, NotFound, TooLarge, ValidationFailed
from ..threads.models import Category, Post, Thread
from .models import PostUpload, Upload

# Pillow's format name → (content type, the file extension it is stored and served with).
IMAGE_TYPES = {"PNG": ("image/png", "png"), "JPEG": ("image/jpeg", "jpg"), "GIF": ("image/gif", "gif"),
               "WEBP": ("image/webp", "webp")}
PDF = ("application/pdf", "pdf")
# Names people give files of each type; a name claiming another type than the bytes is refused.
EXTENSIONS = {"png": "png", "jpg": "jpg", "jpeg": "jpg", "jpe": "jpg", "gif": "gif", "webp": "webp", "pdf": "pdf"}
# An image decoded in memory takes about 4 bytes a pixel: 40 megapixels is a large photo, and
# what a "decompression bomb" (a tiny file of billions of pixels) is refused beyond.
MAX_PIXELS = 40_000_000
ACCEPTED = "a PNG, JPEG, GIF or WebP image, or a PDF"
# How posts refer to uploads: Markdown `![alt](/uploads/<key>/<name>)` or a link to one.
UPLOAD_URL = re.compile(r"/uploads/([A-Za-z0-9_-]{20,40})/")


def _refuse(message: str):
    raise ValidationFailed({"file": message})


def _looks_like_svg(data: bytes) -> bool:
    head = data[:2048].lstrip().lower()
    return head.startswith(b"<?xml") or head.startswith(b"<svg") or b"<svg" in head


def _open_image(data: bytes) -> Image.Image:
    with warnings.catch_warnings():
        warnings.simplefilter("error", Image.DecompressionBombWarning)
        try:
            image = Image.open(io.BytesIO(data))
        except (Image.DecompressionBombWarning, Image.DecompressionBombError):
            _refuse(f"This image has too many pixels (at most {MAX_PIXELS // 1_000_000} megapixels).")
        except UnidentifiedImageError:
            _refuse(f"This file is not {ACCEPTED}, whatever its name says.")
        except (OSError, SyntaxError, ValueError, EOFError):
            _refuse("This file is damaged, or is not really the image its first bytes claim.")
    if image.format not in IMAGE_TYPES:
        _refuse(f"{image.format} images are not accepted: upload {ACCEPTED}.")
    if image.width * image.height > MAX_PIXELS:
        _refuse(f"This image has too many pixels (at most {MAX_PIXELS // 1_000_000} megapixels).")
    return image


def _reencode(image: Image.Image) -> bytes:
    """The pixels only, in a fresh file of the same format: EXIF (GPS, camera), comments and
    text chunks are not copied; a photo's orientation is applied to its pixels first."""
    fmt = image.format
    out = io.BytesIO()
    try:
        if getattr(image, "n_frames", 1) > 1:  # an animation keeps its frames and timing only
            timing = {"duration": image.info.get("duration", 100), "loop": image.info.get("loop", 0)}
            image.info = {}
            image.save(out, format=fmt, save_all=True, **timing)
        else:
            image.load()
            clean = ImageOps.exif_transpose(image) if fmt == "JPEG" else image.copy()
            if fmt == "JPEG" and clean.mode not in ("RGB", "L", "CMYK"):
                clean = clean.convert("RGB")
            clean.info = {}
            clean.save(out, format=fmt, **({"quality": 88} if fmt in ("JPEG", "WEBP") else {}))
    except (OSError, SyntaxError, ValueError, EOFError):
        _refuse(f"This file is damaged, or is not really a {fmt} image.")
    return out.getvalue()


def _kind_of(filename: str, data: bytes) -> tuple[bytes, str, str, int | None, int | None]:
    """(stored bytes, content type, extension, width, height), or a clear refusal."""
    if data.startswith(b"%PDF-"):
        stored, (content_type, extension), size = data, PDF, (None, None)
    elif _looks_like_svg(data):
        _refuse("SVG images are not accepted: they can carry scripts. Export it as PNG instead.")
    else:
        image = _open_image(data)
        content_type, extension = IMAGE_TYPES[image.format]
        size = image.size
        stored = _reencode(image)
    claimed = EXTENSIONS.get(filename.rsplit(".", 1)[-1].lower()) if "." in filename else None
    if claimed and claimed != extension:
        _refuse(f"This file is named .{filename.rsplit('.', 1)[-1]} but its contents are "
                f"{'a PDF' if extension == 'pdf' else 'a ' + extension.upper() + ' image'}: "
                "rename it or save it again in the right format.")
    return stored, content_type, extension, *size


def _display_name(filename: str, extension: str) -> str:
    stem = secure_filename(filename.rsplit(".", 1)[0] if "." in filename else filename)[:80] or "file"
    return f"{stem}.{extension}"


def path_of(directory: str, upload: Upload) -> Path:
    return Path(directory) / upload.key[:2] / f"{upload.key}.{upload.extension}"


def do_upload(actor: User, filename: str | None, data: bytes, *, max_bytes: int, directory: str) -> Upload:
    """Store one file a member sent, after checking what it really is."""
    if not permissions.can_participate(actor):
        raise Forbidden("You cannot upload files.")
    check_not_silenced(actor)
    if len(data) > max_bytes:
        raise TooLarge(f"Files can be at most {max_bytes / 1024 / 1024:.0f} MiB.")
    if not data:
        _refuse("The file is empty.")
    filename = (filename or "file").strip()
    stored, content_type, extension, width, height = _kind_of(filename, data)
    if len(stored) > max_bytes:
        raise TooLarge(f"Files can be at most {max_bytes / 1024 / 1024:.0f} MiB.")
    upload = Upload(key=secrets.token_urlsafe(24), uploader_id=actor.id, filename=_display_name(filename, extension),
                    content_type=content_type, extension=extension, size=len(stored), width=width, height=height)
    path = path_of(directory, upload)
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_suffix(".partial")
    partial.write_bytes(stored)
    os.replace(partial, path)  # a reader never sees half a file
    db.session.add(upload)
    try:
        events.commit()
    except Exception:
        path.unlink(missing_ok=True)
        raise
    return upload


def access_upload(actor: User | None, key: str) -> Upload:
    """The upload, if the actor sent it or may read a post that shows it; else not found."""
    upload = db.session.scalar(select(Upload).where(Upload.key == key))
    if upload is None or not permissions.is_signed_in(actor):
        raise NotFound("No such file.")
    if upload.uploader_id == actor.id:
        return upload
    shown = exists().where(
        PostUpload.upload_id == upload.id, PostUpload.post_id == Post.id, Post.thread_id == Thread.id,
        Thread.category_id == Category.id, permissions.readable_threads_clause(actor),
        permissions.readable_posts_clause(actor), permissions.readable_post_bodies_clause(actor))
    if not db.session.scalar(select(shown)):
        raise NotFound("No such file.")
    return upload


def referenced_uploads(body: str) -> list[Upload]:
    """The uploads a post body refers to."""
    keys = set(UPLOAD_URL.findall(body))
    return list(db.session.scalars(select(Upload).where(Upload.key.in_(keys)))) if keys else []


def image_sizes(uploads: list[Upload]) -> dict[str, tuple[int, int]]:
    """Each image's URL → (width, height), so pages reserve its space before it loads."""
    return {upload.url: (upload.width, upload.height) for upload in uploads if upload.width}


def link_uploads(post: Post, uploads: list[Upload]) -> None:
    """Record which uploads the post shows; call inside the transaction that writes the post."""
    db.session.execute(delete(PostUpload).where(PostUpload.post_id == post.id))
    db.session.add_all(PostUpload(post_id=post.id, upload_id=upload.id) for upload in uploads)
