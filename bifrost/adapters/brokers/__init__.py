"""Brokers: the ``BrokerAdapter`` interface, the Alpaca adapter and reconciliation.

``AlpacaBroker`` (and its status mapping) is imported on first use, so the
interface, errors and reconciliation work without alpaca-py installed.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from bifrost.adapters.brokers.base import (
    AccountType,
    BrokerAccount,
    BrokerAdapter,
    BrokerOrder,
    BrokerPosition,
    CancelResult,
    ClosePositionResult,
    OrderListStatus,
)
from bifrost.adapters.brokers.errors import BrokerAuthenticationFailed, OrderRejected
from bifrost.adapters.brokers.reconcile import (
    AdjustPosition,
    ExternalOrder,
    FetchFills,
    FilledQuantityMismatch,
    FlagForReview,
    LostOrder,
    MarkOrderStatus,
    OrderSnapshot,
    PositionMismatch,
    PositionSnapshot,
    ReconcileReport,
    RepairAction,
    StatusMismatch,
    reconcile,
    repair_actions,
)

if TYPE_CHECKING:
    from bifrost.adapters.brokers.alpaca import (
        ALPACA_ORDER_STATUSES,
        AlpacaBroker,
        order_status_from_alpaca,
    )

__all__ = [
    "ALPACA_ORDER_STATUSES",
    "AccountType",
    "AdjustPosition",
    "AlpacaBroker",
    "BrokerAccount",
    "BrokerAdapter",
    "BrokerAuthenticationFailed",
    "BrokerOrder",
    "BrokerPosition",
    "CancelResult",
    "ClosePositionResult",
    "ExternalOrder",
    "FetchFills",
    "FilledQuantityMismatch",
    "FlagForReview",
    "LostOrder",
    "MarkOrderStatus",
    "OrderListStatus",
    "OrderRejected",
    "OrderSnapshot",
    "PositionMismatch",
    "PositionSnapshot",
    "ReconcileReport",
    "RepairAction",
    "StatusMismatch",
    "order_status_from_alpaca",
    "reconcile",
    "repair_actions",
]

_ALPACA_NAMES = {"ALPACA_ORDER_STATUSES", "AlpacaBroker", "order_status_from_alpaca"}


def __getattr__(name: str) -> Any:
    if name in _ALPACA_NAMES:
        from bifrost.adapters.brokers import alpaca

        return getattr(alpaca, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
