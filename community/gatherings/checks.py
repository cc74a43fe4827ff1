"""Checks shared by the event modules: moments in the event's zone, zones, whether it is on
(text, numbers and choices: `community.validation`)."""
from datetime import datetime
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from ..errors import ValidationFailed
from ..validation import check_datetime
from .models import Event, EventZone


def check_timezone(name: str | None) -> str:
    name = (name or "UTC").strip()
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValidationFailed({"timezone": "Use a time zone name such as Europe/Lisbon."}) from None
    return name


def check_moment(name: str, value, timezone: str) -> datetime:
    """An aware datetime, or ISO-8601 text; text without an offset is read in the event's zone
    (what a browser's datetime-local field sends)."""
    if value is None or isinstance(value, str) and not value.strip():
        raise ValidationFailed({name: "Required."})
    return check_datetime(name, value, naive_zone=ZoneInfo(timezone),
                          invalid="Use a date and time such as 2026-05-04T09:00.")


def check_zone(event: Event, name, field_name: str = "zone") -> EventZone | None:
    """One of the event's zones by name (any case); empty means none."""
    if name is None or (isinstance(name, str) and not name.strip()):
        return None
    if not isinstance(name, str):
        raise ValidationFailed({field_name: "Give a zone's name."})
    for zone in event.zones:
        if zone.name.casefold() == " ".join(name.split()).casefold():
            return zone
    known = ", ".join(z.name for z in event.zones) or "this event has no zones"
    raise ValidationFailed({field_name: f"No such zone here ({known})."})
