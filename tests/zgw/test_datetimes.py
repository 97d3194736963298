"""zgw.datetimes: the one reading of an ISO 8601 date-time, for the KIC and the harness."""

from __future__ import annotations

from datetime import datetime, timezone

import pytest

from zgw.datetimes import parse_instant

UTC = timezone.utc


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2020-01-02T03:04:05Z", datetime(2020, 1, 2, 3, 4, 5, tzinfo=UTC)),
        ("2020-01-02t03:04z", datetime(2020, 1, 2, 3, 4, tzinfo=UTC)),
        ("2020-01-02T03:04:05+02:00", datetime(2020, 1, 2, 1, 4, 5, tzinfo=UTC)),
        ("2020-01-02 03:04:05", datetime(2020, 1, 2, 3, 4, 5, tzinfo=UTC)),  # naive is UTC
        ("2020-01-02T03:04:05.1234567Z", datetime(2020, 1, 2, 3, 4, 5, 123456, tzinfo=UTC)),
    ],
)
def test_a_date_time_is_read_as_a_utc_instant(text: str, expected: datetime) -> None:
    assert parse_instant(text) == expected


@pytest.mark.parametrize(
    "text", ["2020-01-02", "2020-01-02X03:04", "2020-13-02T03:04", "0001-01-01T00:00+01:00", ""]
)
def test_what_is_no_instant_is_none(text: str) -> None:
    assert parse_instant(text) is None
