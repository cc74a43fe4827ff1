"""The checks of text, choices and numbers every service uses: one place decides what a valid
piece of text is, and every refusal names its field (`ValidationFailed({field: message})`).

Services call these for each input (inside `errors.check_fields` to report all failures at
once); marshmallow input schemas check shape only.
"""
import re
from enum import Enum

from .errors import ValidationFailed

# Control characters but tab and newlines: PostgreSQL refuses NUL in text, and the search marks
# its hits with others (search.services.HIT_START), so no stored text may carry them.
_CONTROL_CHARACTERS = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


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
