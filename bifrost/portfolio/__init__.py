"""Portfolio: a double-entry ledger with tax lots, positions, cash, valuation and returns."""

from bifrost.portfolio.errors import (
    InsufficientFunds,
    InvalidLotSelection,
    LeverageExceeded,
    ReconciliationError,
    ShortSaleRefused,
)
from bifrost.portfolio.events import (
    Deposit,
    Dividend,
    Fee,
    Interest,
    LedgerEvent,
    Split,
    Withdrawal,
)
from bifrost.portfolio.ledger import (
    Account,
    AccountKind,
    EntryKind,
    JournalEntry,
    Ledger,
    LedgerConfig,
)
from bifrost.portfolio.lots import (
    LotMethod,
    LotSelection,
    RealisedGain,
    TaxLot,
    is_long_term,
    trade_date,
)
from bifrost.portfolio.positions import Position
from bifrost.portfolio.returns import (
    NavPoint,
    annualise,
    modified_dietz,
    money_weighted_return,
    period_returns,
    time_weighted_return,
    xirr,
)
from bifrost.portfolio.valuation import PositionValuation, Snapshot, Valuation, mark_to_market

__all__ = [
    "Account", "AccountKind", "Deposit", "Dividend", "EntryKind", "Fee", "InsufficientFunds", "Interest",
    "InvalidLotSelection", "JournalEntry", "Ledger", "LedgerConfig", "LedgerEvent", "LeverageExceeded",
    "LotMethod", "LotSelection", "NavPoint", "Position", "PositionValuation", "RealisedGain",
    "ReconciliationError", "ShortSaleRefused", "Snapshot", "Split", "TaxLot", "Valuation", "Withdrawal",
    "annualise", "is_long_term", "mark_to_market", "modified_dietz", "money_weighted_return",
    "period_returns", "time_weighted_return", "trade_date", "xirr",
]
