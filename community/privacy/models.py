from datetime import datetime
from enum import StrEnum

from sqlalchemy import ForeignKey, Index, Integer, String, text
from sqlalchemy.orm import Mapped, mapped_column

from ..database import UTCDateTime, db, utcnow


class ExportStatus(StrEnum):
    PENDING = "pending"  # its job is building the file
    READY = "ready"  # the file can be downloaded until `expires_at`
    FAILED = "failed"  # the build failed every attempt; nothing was kept
    EXPIRED = "expired"  # past `expires_at`: the file is deleted


class DataExport(db.Model):
    """A member's copy of their data (GDPR art. 15 and 20): a zip file built by a job.

    The file lives in EXPORTS_DIR named by `key` (random, so a file name says nothing of whose it
    is) while the export is ready; only its member may download it.
    """

    __tablename__ = "data_exports"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    key: Mapped[str] = mapped_column(String(40), unique=True)
    status: Mapped[str] = mapped_column(String(16), default=ExportStatus.PENDING)
    # Builds tried so far: the last allowed one that fails marks the export failed.
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    size: Mapped[int | None] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    ready_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    @property
    def current_status(self) -> str:
        """The status as of now: a ready export past its days is expired, even before the
        periodic clean-up has deleted its file."""
        if self.status == ExportStatus.READY and self.expires_at is not None and self.expires_at <= utcnow():
            return ExportStatus.EXPIRED
        return self.status


# The member's latest export; and at most one pending per member, exact under concurrency.
Index("ix_data_exports_user", DataExport.user_id, DataExport.id)
Index("uq_data_exports_pending_user", DataExport.user_id, unique=True,
      sqlite_where=text("status = 'pending'"), postgresql_where=text("status = 'pending'"))
