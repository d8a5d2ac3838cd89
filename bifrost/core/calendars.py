"""Exchange calendars. A trading day is a session date from here, never derived from weekdays."""

from __future__ import annotations

from functools import lru_cache

import exchange_calendars as xcals
import pandas as pd

from bifrost.core.errors import InvalidInput

# Wide fixed bounds so every calendar instance is built once per process and covers
# the bundled demo history (1999) and a year ahead of today.
_CALENDAR_START = pd.Timestamp("1990-01-02")

DEFAULT_CALENDAR = "XNYS"

# Yahoo/ISO exchange codes -> exchange_calendars names.
EXCHANGE_TO_CALENDAR: dict[str, str] = {
    "NMS": "XNYS", "NGM": "XNYS", "NCM": "XNYS", "NAS": "XNYS", "NASDAQ": "XNYS", "XNAS": "XNYS",
    "NYQ": "XNYS", "NYSE": "XNYS", "XNYS": "XNYS", "ASE": "XNYS", "PCX": "XNYS", "ARCA": "XNYS",
    "BTS": "XNYS", "SNP": "XNYS", "NIM": "XNYS", "WCB": "XNYS", "CBOE": "XNYS",
    "LSE": "XLON", "XLON": "XLON",
    "CCC": "24/7", "CCY": "24/7", "CRYPTO": "24/7",
    "FX": "24/5", "CCYFX": "24/5",
}


@lru_cache(maxsize=16)
def get_calendar(name: str = DEFAULT_CALENDAR) -> xcals.ExchangeCalendar:
    """Return the named exchange calendar (cached), covering 1990 to a year ahead.

    Raises
    ------
    InvalidInput
        If no calendar has that name.
    """
    try:
        end = pd.Timestamp.now().normalize() + pd.Timedelta(days=366)
        return xcals.get_calendar(name, start=_CALENDAR_START, end=end)
    except xcals.errors.InvalidCalendarName as exc:
        raise InvalidInput(f"calendar must be an exchange_calendars name such as XNYS, was {name!r}") from exc


def calendar_for_exchange(exchange: str | None) -> str:
    """Map an exchange code (Yahoo's NMS, NYQ, ...) to a calendar name; XNYS when unknown."""
    if not exchange:
        return DEFAULT_CALENDAR
    return EXCHANGE_TO_CALENDAR.get(exchange.upper(), DEFAULT_CALENDAR)
