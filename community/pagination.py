"""Keyset pagination with opaque cursors: never OFFSET, so page 1,000 costs what page 1 does."""
import base64
import binascii
import json
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Generic, TypeVar

from sqlalchemy import Integer, and_, literal, or_

from . import json_input
from .database import db
from .errors import ValidationFailed
from .validation import check_datetime

T = TypeVar("T")

DEFAULT_LIMIT = 20
MAX_LIMIT = 100


@dataclass
class Page(Generic[T]):
    items: list[T]
    next_cursor: str | None


def check_limit(limit: int | str | None) -> int:
    if limit is None or limit == "":
        return DEFAULT_LIMIT
    try:
        value = int(limit)
    except (TypeError, ValueError):
        raise ValidationFailed({"limit": "Must be a whole number."}) from None
    if not 1 <= value <= MAX_LIMIT:
        raise ValidationFailed({"limit": f"Must be between 1 and {MAX_LIMIT}."})
    return value


def _encode(values: Sequence[Any]) -> str:
    plain = [v.isoformat() if isinstance(v, datetime) else v for v in values]
    return base64.urlsafe_b64encode(json.dumps(plain, separators=(",", ":")).encode()).decode().rstrip("=")


def _is_of_kind(value: Any, kind: type) -> bool:
    """A cursor value of the column's kind: JSON true is no int, nor 1 a bool; float columns take
    any finite number."""
    if kind is bool:
        return isinstance(value, bool)
    if kind is str:
        return isinstance(value, str)
    if isinstance(value, bool):
        return False
    if kind is int:
        return isinstance(value, int) and abs(value) <= 2**62  # beyond, no database integer compares
    return isinstance(value, int | float) and math.isfinite(value)


def _decode(cursor: str, kinds: Sequence[type]) -> list[Any]:
    invalid = ValidationFailed({"cursor": "Not a valid cursor."})
    try:
        raw = json_input.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
    except (ValueError, binascii.Error):
        raise invalid from None
    if not isinstance(raw, list) or len(raw) != len(kinds):
        raise invalid
    values = []
    for value, kind in zip(raw, kinds, strict=False):
        try:
            if kind is datetime:
                value = check_datetime("cursor", value if isinstance(value, str) else None)
            elif kind in (int, float, bool, str) and not _is_of_kind(value, kind):
                raise ValueError
        except (ValueError, ValidationFailed):
            raise invalid from None
        values.append(value)
    return values


@dataclass(frozen=True)
class Keyset:
    """An ordering by some columns, descending or ascending, the last one unique (the id).

    `key` reads the same values from a loaded row, to build the next cursor.
    """

    columns: Sequence[Any]
    kinds: Sequence[type]
    key: Callable[[Any], Sequence[Any]]
    descending: bool = True

    def order_by(self):
        return [c.desc() if self.descending else c.asc() for c in self.columns]

    def after(self, cursor: str):
        """The WHERE clause selecting rows strictly after the cursor's position."""
        # Bound as literals of the column's type: SQLAlchemy refuses `column < True` for booleans.
        values = [literal(value, column.type) for column, value in zip(self.columns, _decode(cursor, self.kinds),
                                                                        strict=True)]
        clauses = []
        for i, (column, value) in enumerate(zip(self.columns, values, strict=False)):
            beyond = column < value if self.descending else column > value
            equal_before = [c == v for c, v in zip(self.columns[:i], values[:i], strict=False)]
            clauses.append(and_(*equal_before, beyond))
        return or_(*clauses)

    def cursor_after(self, *values) -> str:
        """The cursor of a page that starts just after the row with these key values."""
        return _encode(values)

    def paginate(self, query, cursor: str | None, limit: int, *, rows: bool = False) -> Page:
        """Run `query` (a select of ORM objects, or with `rows` of result rows) one page at a time."""
        if cursor:
            query = query.where(self.after(cursor))
        # The page size goes into the SQL as written: a plan PostgreSQL keeps for a prepared
        # statement, made for any LIMIT, would guess a tenth of the table and read far too much.
        query = query.order_by(*self.order_by()).limit(literal(limit + 1, Integer, literal_execute=True))
        rows = list(db.session.execute(query).all() if rows else db.session.scalars(query).unique())
        next_cursor = _encode(self.key(rows[limit - 1])) if len(rows) > limit else None
        return Page(rows[:limit], next_cursor)
