"""Instants, clocks and conversions. An instant is an aware UTC datetime."""

from __future__ import annotations

from abc import abstractmethod
from datetime import UTC, date, datetime, time
from typing import Protocol

import pandas as pd

from bifrost.core.errors import InvalidInput


class Clock(Protocol):
    """Source of the current instant; domain code takes one instead of reading the wall clock."""

    @abstractmethod
    def now(self) -> datetime: ...


class WallClock:
    """The real clock, in UTC."""

    def now(self) -> datetime:
        return datetime.now(UTC)


class SimulatedClock:
    """A clock that only moves when told to (backtests, tests)."""

    def __init__(self, start: datetime) -> None:
        self._now = ensure_utc(start, field="start")

    def now(self) -> datetime:
        return self._now

    def advance_to(self, instant: datetime) -> None:
        instant = ensure_utc(instant, field="instant")
        if instant < self._now:
            raise InvalidInput(f"clock cannot move backwards: {instant.isoformat()} < {self._now.isoformat()}")
        self._now = instant


def ensure_utc(value: datetime | pd.Timestamp | str, *, field: str = "timestamp") -> datetime:
    """Return ``value`` as an aware UTC datetime; refuse naive input.

    Raises
    ------
    InvalidInput
        If ``value`` has no time zone or cannot be parsed.
    """
    if isinstance(value, str):
        try:
            value = pd.Timestamp(value)
        except (ValueError, TypeError) as exc:
            raise InvalidInput(f"{field} is not a valid timestamp: {value!r}") from exc
    if isinstance(value, pd.Timestamp):
        if value.tzinfo is None:
            raise InvalidInput(f"{field} must be timezone-aware, was naive {value.isoformat()}")
        return value.tz_convert("UTC").to_pydatetime()
    if not isinstance(value, datetime):
        raise InvalidInput(f"{field} must be a datetime, was {type(value).__name__}")
    if value.tzinfo is None or value.utcoffset() is None:
        raise InvalidInput(f"{field} must be timezone-aware, was naive {value.isoformat()}")
    return value.astimezone(UTC)


def day_start_utc(day: date) -> datetime:
    """Midnight UTC at the start of ``day``: the label of a daily bar."""
    return datetime.combine(day, time(0, 0), tzinfo=UTC)


def check_range(start: datetime, end: datetime) -> tuple[datetime, datetime]:
    """Validate a half-open range ``[start, end)``; both ends aware, start before end."""
    start = ensure_utc(start, field="start")
    end = ensure_utc(end, field="end")
    if start >= end:
        raise InvalidInput(
            f"date range is inverted or empty: start {start.isoformat()} must be before end {end.isoformat()}"
        )
    return start, end
