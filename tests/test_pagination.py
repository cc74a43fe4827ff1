"""Keyset cursors: opaque, validated, never OFFSET."""
from datetime import UTC, datetime

import pytest

from community.errors import ValidationFailed
from community.pagination import Keyset, _encode, check_limit
from community.threads.models import Thread

ACTIVITY = Keyset((Thread.last_activity_at, Thread.id), (datetime, int), lambda t: (t.last_activity_at, t.id))


@pytest.mark.parametrize(("given", "expected"), [(None, 20), ("", 20), ("1", 1), (100, 100)])
def test_limit_defaults_and_bounds(given, expected):
    assert check_limit(given) == expected


@pytest.mark.parametrize("given", ["0", "101", "-5", "ten", "1.5"])
def test_bad_limits_are_refused(given):
    with pytest.raises(ValidationFailed) as failure:
        check_limit(given)
    assert "limit" in failure.value.fields


@pytest.mark.parametrize("cursor", [
    "not base64 !", "W10", _encode([1]), _encode(["yesterday", 3]), _encode(["2026-01-01T00:00:00", 3]),
    _encode(["2026-01-01T00:00:00+00:00", "3"]), _encode(["2026-01-01T00:00:00+00:00", True]), "e30",
])
def test_bad_cursors_are_refused(cursor):
    with pytest.raises(ValidationFailed) as failure:
        ACTIVITY.after(cursor)
    assert failure.value.fields == {"cursor": "Not a valid cursor."}


def test_a_cursor_selects_rows_strictly_after_its_position():
    when = datetime(2026, 5, 1, 12, tzinfo=UTC)
    clause = ACTIVITY.after(_encode([when, 7]))
    sql = str(clause.compile(compile_kwargs={"literal_binds": True}))
    assert "threads.last_activity_at <" in sql and "threads.id < 7" in sql
    assert "OFFSET" not in sql.upper()
