"""Market data: value types, validation, resampling, adjustment and synthetic markets."""

from bifrost.marketdata.providers import MarketDataProvider
from bifrost.marketdata.types import (
    BAR_COLUMNS,
    FUNDAMENTAL_FIELDS,
    GOVERNANCE_FIELDS,
    ActionKind,
    AssetClass,
    CompanySnapshot,
    CorporateAction,
    History,
    InstrumentInfo,
    Timeframe,
    empty_bars,
    make_bars,
    normalize_symbol,
    session_label,
)

__all__ = [
    "BAR_COLUMNS", "FUNDAMENTAL_FIELDS", "GOVERNANCE_FIELDS", "ActionKind", "AssetClass",
    "CompanySnapshot", "CorporateAction", "History", "InstrumentInfo", "MarketDataProvider",
    "Timeframe", "empty_bars", "make_bars", "normalize_symbol", "session_label",
]
