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
