"""Short labels people attach to things (interests on profiles, tags on ideas), one normalisation."""
import re

from .errors import ValidationFailed

MAX_TAG_LENGTH = 40
_STRAY = re.compile(r"[^a-z0-9+#.\- ]")


def check_tags(values, *, field: str, label: str, max_count: int) -> list[str]:
    """Lower case, no stray characters, no duplicates, order kept; a string is split at commas.

    `field` names the input in error reports, `label` is how messages call one tag.
    """
    if isinstance(values, str):
        values = values.split(",")
    if values is not None and not isinstance(values, list | tuple):
        raise ValidationFailed({field: f"Give {label}s as a list of words."})
    tags = []
    for raw in values or []:
        if not isinstance(raw, str):
            raise ValidationFailed({field: f"{label.capitalize()}s are words separated by commas."})
        tag = " ".join(_STRAY.sub("", raw.lower()).split())
        if len(tag) > MAX_TAG_LENGTH:
            raise ValidationFailed({field: f"Each {label} has at most {MAX_TAG_LENGTH} characters."})
        if tag and tag not in tags:
            tags.append(tag)
    if len(tags) > max_count:
        raise ValidationFailed({field: f"At most {max_count} {label}s."})
    return tags
