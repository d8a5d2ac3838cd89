"""Market data: value types, validation, resampling, adjustment and synthetic markets."""

from bifrost.marketdata.adjust import adjust_bars
from bifrost.marketdata.demo import DemoSeries, load_demo_history
from bifrost.marketdata.providers import MarketDataProvider
from bifrost.marketdata.resample import resample_bars
from bifrost.marketdata.synthetic import SyntheticMarket, generate_bars, generate_market
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
from bifrost.marketdata.validation import (
    GapPolicy,
    QualityReport,
    QualityRule,
    Violation,
    check_bars,
    validate_bars,
    validate_frame_shape,
)

__all__ = [
    "BAR_COLUMNS", "FUNDAMENTAL_FIELDS", "GOVERNANCE_FIELDS", "ActionKind", "AssetClass",
    "CompanySnapshot", "CorporateAction", "History", "InstrumentInfo", "MarketDataProvider",
    "Timeframe", "empty_bars", "make_bars", "normalize_symbol", "session_label",
    "SyntheticMarket", "adjust_bars", "generate_bars", "generate_market", "resample_bars",
    "DemoSeries", "GapPolicy", "QualityReport", "QualityRule", "Violation", "check_bars",
    "load_demo_history", "validate_bars", "validate_frame_shape",
]
