"""Compliance: tax lots and wash sales, Form 8949, day-trading and intraday-margin rules.

Every function here takes plain sequences of :class:`TaxTrade` (from the trading core,
a broker's imported CSV or a DataFrame) and needs no database.
"""

from bifrost.compliance.tax import (
    WASH_WINDOW_DAYS,
    Disposal,
    HarvestCandidate,
    OpenLot,
    TaxResult,
    UnrealisedLot,
    WashSale,
    compute_tax_lots,
    harvest_candidates,
    holding_long_term,
    holding_period_start,
    long_term_from,
    unrealised,
)
from bifrost.compliance.trades import (
    AccountProfile,
    IdenticalGroups,
    SplitAction,
    TaxLotMethod,
    TaxTrade,
    TradeAction,
    trades_from_frame,
    trades_from_history,
)

__all__ = [
    "WASH_WINDOW_DAYS", "AccountProfile", "Disposal", "HarvestCandidate", "IdenticalGroups", "OpenLot",
    "SplitAction", "TaxLotMethod", "TaxResult", "TaxTrade", "TradeAction", "UnrealisedLot", "WashSale",
    "compute_tax_lots", "harvest_candidates", "holding_long_term", "holding_period_start", "long_term_from",
    "trades_from_frame", "trades_from_history", "unrealised",
]
