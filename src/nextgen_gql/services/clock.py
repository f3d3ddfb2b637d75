"""The one place the services read the time.

Tests set it (``set_now``, ``advance``) rather than sleep: every service, and the SQL they
send, then sees the same moment. ``reset`` goes back to the real clock.
"""

from __future__ import annotations

import datetime as dt

__all__ = ["advance", "now", "reset", "set_now"]

_fixed: dt.datetime | None = None


def now() -> dt.datetime:
    """The current time, timezone-aware, in UTC (the fixed moment while a test set one)."""
    if _fixed is not None:
        return _fixed
    return dt.datetime.now(dt.UTC)


def set_now(moment: dt.datetime) -> None:
    """Stop the clock at ``moment`` (aware) until ``advance`` or ``reset``."""
    global _fixed
    if moment.tzinfo is None:
        raise ValueError("set_now needs an aware date-time")
    _fixed = moment.astimezone(dt.UTC)


def advance(delta: dt.timedelta) -> dt.datetime:
    """Move the stopped clock on by ``delta`` (stopping it at the real time first)."""
    set_now(now() + delta)
    return now()


def reset() -> None:
    """Back to the real clock."""
    global _fixed
    _fixed = None
