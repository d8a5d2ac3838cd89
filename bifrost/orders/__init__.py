"""Orders: request and fill value types, events, the order state machine."""

from bifrost.orders.types import (
    EventKind,
    Fill,
    Liquidity,
    OrderEvent,
    OrderRequest,
    OrderStatus,
    OrderType,
    Side,
    TimeInForce,
)

__all__ = ["EventKind", "Fill", "Liquidity", "OrderEvent", "OrderRequest", "OrderStatus", "OrderType", "Side",
           "TimeInForce"]

from bifrost.orders.groups import (
    Bracket,
    GroupAction,
    GroupActionKind,
    OrderGroupManager,
    make_bracket,
)
from bifrost.orders.pretrade import (
    AccountType,
    CheckResult,
    Decision,
    Finding,
    InsufficientCashCheck,
    KillSwitchCheck,
    KnownSymbolCheck,
    LimitPriceBandCheck,
    MarketHoursCheck,
    OrderRejected,
    PositiveQuantityCheck,
    PreTradeChain,
    PreTradeCheck,
    PreTradeContext,
)
from bifrost.orders.sizing import (
    fixed_notional_shares,
    fixed_shares,
    percent_of_equity_shares,
    round_to_lot,
    volatility_shares,
)
from bifrost.orders.state import EventRecord, IllegalTransition, Order, Overfill

__all__ += [
    "Order", "EventRecord", "IllegalTransition", "Overfill",
    "Bracket", "make_bracket", "GroupAction", "GroupActionKind", "OrderGroupManager",
    "fixed_shares", "fixed_notional_shares", "percent_of_equity_shares", "volatility_shares", "round_to_lot",
    "PreTradeCheck", "PreTradeChain", "PreTradeContext", "CheckResult", "Finding", "Decision", "AccountType",
    "OrderRejected", "KillSwitchCheck", "PositiveQuantityCheck", "KnownSymbolCheck", "MarketHoursCheck",
    "LimitPriceBandCheck", "InsufficientCashCheck",
]
