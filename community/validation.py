"""The checks of text, choices and numbers every service uses: one place decides what a valid
piece of text is, and every refusal names its field (`ValidationFailed({field: message})`).

Services call these for each input (inside `errors.check_fields` to report all failures at
once); marshmallow input schemas check shape only.
"""
import re
from datetime import UTC, datetime, tzinfo
from enum import Enum

from .errors import ValidationFailed

# Control characters but tab and newlines: PostgreSQL refuses NUL in text, and the search marks
# its hits with others (search.services.HIT_START), so no stored text may carry them.
_CONTROL_CHARACTERS = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
# Halves of a UTF-16 pair on their own (JSON's "\ud800") are no characters: nothing can encode
# them as UTF-8, so no page, database or email can carry them.
_UNPAIRED_SURROGATES = re.compile(r"[\ud800-\udfff]")
# Moments are refused outside these years: an offset or a duration added near the calendar's
# ends (years 1 and 9999) overflows, and no date of this app is that far away.
EARLIEST = datetime(1900, 1, 1, tzinfo=UTC)
LATEST = datetime(9000, 1, 1, tzinfo=UTC)


def has_unfit_characters(value) -> bool:
    """Whether any text in `value` (text, or lists and dicts of it) holds NUL or an unpaired
    surrogate, which no stored text may: the guard every request passes refuses them."""
    if isinstance(value, str):
        return "\x00" in value or _UNPAIRED_SURROGATES.search(value) is not None
    if isinstance(value, dict):
        return any(has_unfit_characters(k) or has_unfit_characters(v) for k, v in value.items())
    if isinstance(value, list):
        return any(has_unfit_characters(item) for item in value)
    return False


def check_text(name: str, value, *, max_length: int, min_length: int = 0, required: bool = False,
               multiline: bool = False, missing: str = "Required.") -> str:
    """Text as stored: one line with its runs of spaces collapsed, or (`multiline`) trimmed.

    `required` refuses empty text with `missing`; `min_length` and `max_length` count characters.
    """
    if not isinstance(value, str | None):
        raise ValidationFailed({name: "Must be text."})
    value = (value or "").strip() if multiline else " ".join((value or "").split())
    if _CONTROL_CHARACTERS.search(value):
        raise ValidationFailed({name: "Remove the control characters."})
    if _UNPAIRED_SURROGATES.search(value):
        raise ValidationFailed({name: "Remove the characters that are not text (unpaired surrogates)."})
    if required and not value:
        raise ValidationFailed({name: missing})
    if value and len(value) < min_length:
        raise ValidationFailed({name: f"Use at least {min_length} characters."})
    if len(value) > max_length:
        raise ValidationFailed({name: f"Use at most {max_length:,} characters."})
    return value


def check_choice(name: str, value, choices: type[Enum], default=None) -> str:
    """One of an enum's values (its `.value`); None or empty takes `default` when there is one."""
    if value in (None, "") and default is not None:
        value = default
    try:
        return choices(value).value
    except ValueError:
        raise ValidationFailed({name: "Choose one of: " + ", ".join(c.value for c in choices) + "."}) from None


def check_number(name: str, value, low: float, high: float) -> float:
    """A JSON number (not a boolean) between `low` and `high`, inclusive."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ValidationFailed({name: "Must be a number."})
    if not low <= value <= high:
        raise ValidationFailed({name: f"Must be between {low:g} and {high:g}."})
    return float(value)


def check_datetime(name: str, value, *, naive_zone: tzinfo | None = None,
                   invalid: str = "Use a date and time such as 2030-01-31T12:00:00Z.") -> datetime:
    """A moment from an aware datetime or ISO-8601 text, in UTC, between EARLIEST and LATEST.

    Text without an offset is read in `naive_zone` (what a browser's datetime-local field sends),
    or refused without one; `invalid` is the refusal's message.
    """
    if isinstance(value, str):
        try:
            value = datetime.fromisoformat(value.strip())
        except ValueError:
            raise ValidationFailed({name: invalid}) from None
    if not isinstance(value, datetime) or value.tzinfo is None and naive_zone is None:
        raise ValidationFailed({name: invalid})
    try:
        moment = (value if value.tzinfo else value.replace(tzinfo=naive_zone)).astimezone(UTC)
    except OverflowError:
        moment = None
    if moment is None or not EARLIEST <= moment < LATEST:
        raise ValidationFailed({name: f"Choose a moment between {EARLIEST.year} and {LATEST.year}."})
    return moment
