"""Date-times a caller gives (arguments, cursors), checked once where they are read.

Python's ``datetime`` holds the years 1 to 9999; a moment near either end overflows when it
is moved to UTC or compared after a time-zone shift (``0001-01-01T00:00:00+05:00`` has no
UTC form), and an epoch count of milliseconds may name no date at all. Such a value is the
caller's mistake, never the service's: ``INVALID_INPUT`` naming the argument. A moment
without an offset is UTC.
"""

from __future__ import annotations

import datetime as dt

from nextgen_gql.errors import DomainError, ErrorCode

__all__ = ["EARLIEST", "LATEST", "from_epoch_ms", "from_text", "in_range"]

#: The moments a caller may name: Python's range less a day at each end, so that any
#: time-zone shift of a checked moment stays a date.
EARLIEST = dt.datetime(1, 1, 2, tzinfo=dt.UTC)
LATEST = dt.datetime(9999, 12, 30, tzinfo=dt.UTC)


def _out_of_range(field: str, message: str | None = None) -> DomainError:
    return DomainError(
        ErrorCode.INVALID_INPUT,
        message
        or f"{field} is out of range: a date-time from {EARLIEST:%Y-%m-%d} to {LATEST:%Y-%m-%d} (UTC).",
        field,
    )


def in_range(value: dt.datetime, field: str) -> dt.datetime:
    """``value`` in UTC (without an offset it is UTC), if it lies between ``EARLIEST`` and
    ``LATEST``; else ``INVALID_INPUT`` on ``field``."""
    try:
        moment = value.replace(tzinfo=dt.UTC) if value.tzinfo is None else value.astimezone(dt.UTC)
    except (OverflowError, ValueError):
        raise _out_of_range(field) from None
    if not EARLIEST <= moment <= LATEST:
        raise _out_of_range(field)
    return moment


def from_text(text: str, field: str, *, bad: str = "The cursor is not one this API gave out.") -> dt.datetime:
    """An ISO 8601 date-time read from a cursor, checked as :func:`in_range`; text that is no
    date-time is ``INVALID_INPUT`` on ``field`` with the message ``bad``."""
    try:
        value = dt.datetime.fromisoformat(text)
    except ValueError:
        raise _out_of_range(field, bad) from None
    return in_range(value, field)


def from_epoch_ms(ms: int, field: str) -> dt.datetime:
    """A moment given as milliseconds since 1970 (UTC), checked as :func:`in_range`."""
    try:
        value = dt.datetime.fromtimestamp(ms / 1000, dt.UTC)
    except (OverflowError, ValueError, OSError):
        raise _out_of_range(field) from None
    return in_range(value, field)
