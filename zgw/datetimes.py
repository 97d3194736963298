"""ISO 8601 date-times as aware UTC instants: how the reference KIC validates a date-time and
how the harness compares one it sent with one it got back, in one reading."""

from __future__ import annotations

from datetime import datetime, timezone


def parse_instant(text: str) -> datetime | None:
    """``text`` as an aware UTC instant (``Z`` or an offset; naive counts as UTC), or None when
    it is no date-time with at least hours and minutes. Fractions beyond microseconds are cut
    (Python 3.10 reads at most six digits)."""
    if len(text) < 16 or text[10] not in "Tt ":
        return None
    text = text[:-1] + "+00:00" if text[-1] in "Zz" else text
    try:
        parsed = datetime.fromisoformat(_trim_fraction(text))
    except ValueError:
        return None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=timezone.utc)
    try:
        return parsed.astimezone(timezone.utc)
    except OverflowError:  # e.g. 0001-01-01T00:00+01:00 lies before year 1 in UTC
        return None


def _trim_fraction(text: str) -> str:
    if "." not in text[19:20]:
        return text
    end = 20
    while end < len(text) and text[end].isdigit():
        end += 1
    return text[:26] + text[end:] if end > 26 else text
