from sqlalchemy import BigInteger, String
from sqlalchemy.orm import Mapped, mapped_column

from community.database import db, dialect_insert


class RoomSequence(db.Model):
    """The last sequence number pushed to each room, kept in the database so it survives
    restarts and is shared by every server process."""

    __tablename__ = "room_sequences"

    room: Mapped[str] = mapped_column(String(100), primary_key=True)
    seq: Mapped[int] = mapped_column(BigInteger, default=0)


def next_seq(room: str) -> int:
    """One more than the room's previous push, atomically (an upsert with RETURNING).

    Called after the change committed, on the request's own session and connection: a second
    connection per request would halve what the pool can serve.
    """
    statement = (
        dialect_insert(RoomSequence).values(room=room, seq=1)
        .on_conflict_do_update(index_elements=[RoomSequence.room], set_={"seq": RoomSequence.seq + 1})
        .returning(RoomSequence.seq)
    )
    seq = db.session.execute(statement).scalar_one()
    db.session.commit()
    return seq
