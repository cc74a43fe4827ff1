"""Data exports: a member asks, a job builds the zip (see `archive`), the member is told (a
notification and an email), and downloads it, signed in as themselves, for 7 days.

One export at a time: while one is pending, asking again is a conflict (a unique index makes
that exact, never a check before inserting). A build that fails is tried again; when the last
attempt fails the export is `failed`, and nothing of it stays on disk. The periodic job
`exports.clean` expires exports past their days and deletes every file no ready export names.
"""
import logging
import os
import re
import secrets
import time
from datetime import timedelta
from pathlib import Path

from flask import current_app, url_for
from sqlalchemy import delete, select, update

from .. import events
from ..accounts.models import User
from ..database import db, insert_unless_exists, utcnow
from ..errors import Conflict, Gone, NotFound
from ..jobs import GiveUp, RetryLater, job, periodic
from ..jobs import enqueue as enqueue_job
from ..jobs.registry import crontab
from ..notifications.email import email_enabled, send_email
from ..notifications.links import public_links
from ..notifications.models import EXPORT_READY
from ..notifications.services import notify
from . import archive
from .models import DataExport, ExportStatus

log = logging.getLogger(__name__)

BUILD_JOB = "exports.build"
EMAIL_JOB = "email.export_ready"
KEEP_FOR = timedelta(days=7)
BUILD_ATTEMPTS = 3
# A pending export older than this lost its job for good (an admin never retried it): failed.
STALE_AFTER = timedelta(days=1)
# What the files are named: the key (`token_urlsafe(24)`), then `.zip` or, while being built, `.zip.partial`.
EXPORT_FILE = re.compile(r"[A-Za-z0-9_-]{32}\.zip(\.partial)?")
# Files younger than this may be a build in progress: the cleaner leaves them alone.
UNNAMED_FILE_GRACE_SECONDS = 3600


def _directory() -> Path:
    return Path(current_app.config["EXPORTS_DIR"])


def path_of(export: DataExport) -> Path:
    return _directory() / f"{export.key}.zip"


def download_name(export: DataExport) -> str:
    return f"roundtable-data-{export.created_at:%Y-%m-%d}.zip"


def download_url(export: DataExport) -> str | None:
    """The download link while the export is ready, else None."""
    if export.current_status != ExportStatus.READY:
        return None
    return url_for("privacy.download_export", export_id=export.id, _external=True)


def do_start_export(actor: User) -> DataExport:
    """Start building the actor's export; a conflict while one of theirs is still pending."""
    row = insert_unless_exists(DataExport, user_id=actor.id, key=secrets.token_urlsafe(24),
                               status=ExportStatus.PENDING, attempts=0, created_at=utcnow())
    if row is None:
        events.rollback()
        raise Conflict("Your previous export is still being prepared: you will be notified when it is ready.",
                       code="export_pending")
    enqueue_job(BUILD_JOB, export_id=row.id)
    events.commit()
    return db.session.get(DataExport, row.id)


def access_export(actor: User, export_id: int) -> DataExport:
    """The actor's own export; anyone else's is not found, exactly like a missing one."""
    export = db.session.get(DataExport, export_id)
    if export is None or export.user_id != actor.id:
        raise NotFound("No such export.")
    return export


def access_download(actor: User, export_id: int) -> tuple[DataExport, Path]:
    """The actor's ready export and its file; gone once its days are over."""
    export = access_export(actor, export_id)
    if export.current_status == ExportStatus.EXPIRED:
        raise Gone(f"This export could be downloaded until {export.expires_at:%d %B %Y, %H:%M} UTC. "
                   "Start a new one under Settings → Your data.", code="export_expired")
    if export.status != ExportStatus.READY:
        raise NotFound("This export has no file to download.")
    path = path_of(export)
    if not path.is_file():
        # EXPORTS_DIR not shared between the workers and the web servers, or emptied by hand.
        log.warning("export %s is ready but its file %s is missing", export.id, path)
        raise NotFound("This export's file is no longer here. Start a new one under Settings → Your data.")
    return export, path


def latest_export(actor: User) -> DataExport | None:
    return db.session.scalar(select(DataExport).where(DataExport.user_id == actor.id)
                             .order_by(DataExport.id.desc()).limit(1))


@job(BUILD_JOB, max_attempts=BUILD_ATTEMPTS, lease_seconds=1800)
def build_export(export_id: int) -> None:
    """Build the file aside and move it into place, then mark the export ready and tell the
    member in one transaction; whatever fails on the way leaves no file behind."""
    export = db.session.get(DataExport, export_id)
    if export is None or export.status != ExportStatus.PENDING:
        return
    export.attempts += 1
    events.commit()
    member = db.session.get(User, export.user_id)
    final = path_of(export)
    partial = final.with_name(final.name + ".partial")
    try:
        final.parent.mkdir(parents=True, exist_ok=True)
        archive.write_archive(member, partial)
        os.replace(partial, final)  # a reader never sees half a file
    except Exception as error:
        partial.unlink(missing_ok=True)
        events.rollback()
        if export.attempts >= BUILD_ATTEMPTS:
            _fail(export_id)
            raise GiveUp(f"export {export_id} failed {export.attempts} times: {error}") from error
        raise
    try:
        _mark_ready(export_id, member, final)
    except Exception:
        final.unlink(missing_ok=True)
        events.rollback()
        raise


def _fail(export_id: int) -> None:
    db.session.execute(update(DataExport).where(DataExport.id == export_id, DataExport.status == ExportStatus.PENDING)
                       .values(status=ExportStatus.FAILED).execution_options(synchronize_session=False))
    events.commit()


def _mark_ready(export_id: int, member: User, final: Path) -> None:
    now = utcnow()
    marked = db.session.execute(
        update(DataExport).where(DataExport.id == export_id, DataExport.status == ExportStatus.PENDING)
        .values(status=ExportStatus.READY, ready_at=now, expires_at=now + KEEP_FOR, size=final.stat().st_size)
        .execution_options(synchronize_session=False)).rowcount
    if not marked:  # erased meanwhile (the row went with the member): keep nothing
        final.unlink(missing_ok=True)
        events.rollback()
        return
    until = f"{now + KEEP_FOR:%d %B %Y}"
    notify([member], EXPORT_READY, actor=None,
           text=f"Your data export is ready: download it from Settings → Your data until {until}.")
    if email_enabled():
        enqueue_job(EMAIL_JOB, export_id=export_id)
    events.commit()


@job(EMAIL_JOB, max_attempts=6)
def email_export_ready(export_id: int) -> None:
    """Runs after the commit that made the export ready; sends nothing for one gone since."""
    export = db.session.get(DataExport, export_id)
    if export is None or export.status != ExportStatus.READY or not email_enabled():
        return
    member = db.session.get(User, export.user_id)
    with public_links():
        link, page = download_url(export), url_for("privacy.my_data", _external=True)
    body = (f"Hello {member.display_name},\n\nthe copy of your data you asked for is ready. Download it, "
            f"signed in as yourself, until {export.expires_at:%d %B %Y, %H:%M} UTC:\n\n{link}\n\n"
            f"It is a zip file of JSON files. Start a new export at any time: {page}\n")
    if not send_email(member.email, "Your Roundtable data export is ready", body):
        raise RetryLater("the SMTP server did not take the email")


@periodic("exports.clean", lambda config: crontab(minute="*/15"), max_attempts=3, lease_seconds=600)
def clean_exports() -> None:
    expire_exports()


def expire_exports() -> int:
    """Expire the exports past their days, fail the pending ones whose job was lost, and delete
    every file no ready export names (expired ones, leftovers of crashed builds and of erased
    members). Returns how many files were deleted."""
    now = utcnow()
    db.session.execute(update(DataExport).where(DataExport.status == ExportStatus.READY, DataExport.expires_at <= now)
                       .values(status=ExportStatus.EXPIRED).execution_options(synchronize_session=False))
    db.session.execute(update(DataExport)
                       .where(DataExport.status == ExportStatus.PENDING, DataExport.created_at <= now - STALE_AFTER)
                       .values(status=ExportStatus.FAILED).execution_options(synchronize_session=False))
    events.commit()
    directory = _directory()
    if not directory.is_dir():
        return 0
    # Pending first: one that turns ready between the two reads is then in both, never in neither.
    pending = set(db.session.scalars(select(DataExport.key).where(DataExport.status == ExportStatus.PENDING)))
    ready = set(db.session.scalars(select(DataExport.key).where(DataExport.status == ExportStatus.READY)))
    deleted = 0
    for file in directory.iterdir():
        if not EXPORT_FILE.fullmatch(file.name) or not file.is_file():
            continue  # not an export's: never touched, whatever else shares the folder
        key = file.name.split(".", 1)[0]
        if key in ready and file.suffix == ".zip":
            continue
        if key in pending and time.time() - file.stat().st_mtime < UNNAMED_FILE_GRACE_SECONDS:
            continue  # being built right now
        file.unlink(missing_ok=True)
        deleted += 1
    return deleted


def forget_exports(user: User) -> list[Path]:
    """Delete the user's exports; call inside the erasure's transaction, and remove the files
    it answers once that transaction committed (`remove_files`)."""
    exports = db.session.scalars(select(DataExport).where(DataExport.user_id == user.id)).all()
    db.session.execute(delete(DataExport).where(DataExport.user_id == user.id)
                       .execution_options(synchronize_session=False))
    return [path_of(export) for export in exports]


def remove_files(paths: list[Path]) -> None:
    for path in paths:
        path.unlink(missing_ok=True)
