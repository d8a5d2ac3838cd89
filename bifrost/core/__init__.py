"""Core: errors, time and calendars shared by every other package."""

from bifrost.core.calendars import DEFAULT_CALENDAR, calendar_for_exchange, get_calendar
from bifrost.core.errors import (
    BifrostError,
    ConfigurationError,
    DataQualityError,
    InvalidInput,
    NoDataInRange,
    NotFoundError,
    PermissionDenied,
    ProviderError,
    RateLimited,
    StateConflict,
    TransientProviderError,
    UnknownSymbol,
)
from bifrost.core.time import (
    Clock,
    SimulatedClock,
    WallClock,
    check_range,
    day_start_utc,
    ensure_utc,
)

__all__ = [
    "DEFAULT_CALENDAR", "BifrostError", "Clock", "ConfigurationError", "DataQualityError",
    "InvalidInput", "NoDataInRange", "NotFoundError", "PermissionDenied", "ProviderError",
    "RateLimited", "SimulatedClock", "StateConflict", "TransientProviderError", "UnknownSymbol",
    "WallClock", "calendar_for_exchange", "check_range", "day_start_utc", "ensure_utc", "get_calendar",
]
