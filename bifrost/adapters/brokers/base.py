"""The broker interface: what an order router needs from a broker, in domain types.

A broker adapter turns our ``OrderRequest`` into the broker's request and the
broker's orders, positions, account and executions back into the value types
below. Quantities, prices and money are ``Decimal`` exactly as the broker sent them
(not rounded); instants are aware UTC datetimes.

Orders are addressed by our ``client_order_id``: the broker's own id is carried
along (``broker_order_id``) but callers never need it.
"""

from __future__ import annotations

from abc import abstractmethod
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from enum import StrEnum
from typing import Any, Literal, Protocol, runtime_checkable

from bifrost.core.errors import InvalidInput
from bifrost.core.money import to_decimal
from bifrost.core.time import ensure_utc
from bifrost.marketdata.types import normalize_symbol
from bifrost.orders.types import Fill, OrderRequest, OrderStatus, OrderType, Side, TimeInForce

__all__ = [
    "AccountType",
    "BrokerAccount",
    "BrokerAdapter",
    "BrokerOrder",
    "BrokerPosition",
    "CancelResult",
    "ClosePositionResult",
    "OrderListStatus",
]

OrderListStatus = Literal["open", "all"]


def _decimal(value: Any, field_name: str, *, optional: bool = False) -> Decimal | None:
    if value is None:
        if optional:
            return None
        raise InvalidInput(f"{field_name} is required")
    return to_decimal(value, field=field_name)


def _positive(value: Decimal | None, field_name: str) -> None:
    if value is not None and value <= 0:
        raise InvalidInput(f"{field_name} must be positive, was {value}")


@dataclass(frozen=True, slots=True, kw_only=True)
class BrokerOrder:
    """An order as the broker reports it.

    Attributes
    ----------
    client_order_id
        Our id, echoed by the broker.
    broker_order_id
        The broker's id for the order.
    symbol, side
        The instrument and direction.
    quantity
        Ordered quantity; ``None`` for a notional (cash amount) order, which has
        ``notional`` instead.
    filled_quantity
        Quantity executed so far (0 if none).
    avg_fill_price
        Volume-weighted fill price, ``None`` until something fills.
    status
        The broker's status in our vocabulary (each adapter documents its mapping).
    order_type, time_in_force
        As ordered.
    limit_price, stop_price, trail_price, trail_percent
        As ordered, ``None`` where they do not apply.
    notional
        Cash amount of a notional order, else ``None``.
    submitted_at, updated_at
        When the broker received the order and last changed it.
    broker_status
        The broker's own status word (e.g. ``pending_cancel``) for detail the
        mapping folds away.
    """

    client_order_id: str
    broker_order_id: str
    symbol: str
    side: Side
    quantity: Decimal | None
    filled_quantity: Decimal
    avg_fill_price: Decimal | None
    status: OrderStatus
    order_type: OrderType
    time_in_force: TimeInForce
    limit_price: Decimal | None = None
    stop_price: Decimal | None = None
    trail_price: Decimal | None = None
    trail_percent: Decimal | None = None
    notional: Decimal | None = None
    submitted_at: datetime | None = None
    updated_at: datetime | None = None
    broker_status: str = ""

    def __post_init__(self) -> None:
        if not self.broker_order_id:
            raise InvalidInput("broker_order_id must not be empty")
        object.__setattr__(self, "symbol", normalize_symbol(self.symbol))
        object.__setattr__(self, "side", Side(self.side))
        object.__setattr__(self, "status", OrderStatus(self.status))
        object.__setattr__(self, "order_type", OrderType(self.order_type))
        object.__setattr__(self, "time_in_force", TimeInForce(self.time_in_force))
        for name in ("quantity", "avg_fill_price", "limit_price", "stop_price", "trail_price",
                     "trail_percent", "notional"):
            value = _decimal(getattr(self, name), name, optional=True)
            _positive(value, name)
            object.__setattr__(self, name, value)
        filled = _decimal(self.filled_quantity, "filled_quantity")
        assert filled is not None
        if filled < 0:
            raise InvalidInput(f"filled_quantity must not be negative, was {filled}")
        object.__setattr__(self, "filled_quantity", filled)
        if self.quantity is None and self.notional is None:
            raise InvalidInput(f"order {self.client_order_id!r} needs a quantity or a notional amount")
        if self.quantity is not None and filled > self.quantity:
            raise InvalidInput(
                f"filled_quantity must not exceed quantity, was {filled} of {self.quantity} "
                f"(order {self.client_order_id!r})"
            )
        for name in ("submitted_at", "updated_at"):
            value = getattr(self, name)
            if value is not None:
                object.__setattr__(self, name, ensure_utc(value, field=name))

    @property
    def remaining_quantity(self) -> Decimal | None:
        """Quantity still working (0 once terminal); ``None`` for a notional order."""
        if self.quantity is None:
            return None
        return Decimal(0) if self.status.is_terminal else self.quantity - self.filled_quantity


@dataclass(frozen=True, slots=True, kw_only=True)
class BrokerPosition:
    """An open position at the broker.

    ``quantity`` is signed: negative for a short. ``market_value`` is signed the
    same way and is ``None`` when the broker has no price for the instrument.
    """

    symbol: str
    quantity: Decimal
    avg_entry_price: Decimal
    market_value: Decimal | None
    cost_basis: Decimal
    currency: str = "USD"

    def __post_init__(self) -> None:
        object.__setattr__(self, "symbol", normalize_symbol(self.symbol))
        for name in ("quantity", "avg_entry_price", "cost_basis"):
            object.__setattr__(self, name, _decimal(getattr(self, name), name))
        object.__setattr__(self, "market_value", _decimal(self.market_value, "market_value", optional=True))
        if self.avg_entry_price < 0:
            raise InvalidInput(f"avg_entry_price must not be negative, was {self.avg_entry_price}")

    @property
    def is_short(self) -> bool:
        return self.quantity < 0


class AccountType(StrEnum):
    CASH = "cash"
    MARGIN = "margin"


@dataclass(frozen=True, slots=True, kw_only=True)
class BrokerAccount:
    """The trading account's balances and flags.

    ``multiplier`` is the buying-power multiplier (1 for a cash account, 2 or 4 for
    margin); ``account_type`` is ``CASH`` exactly when it is 1. ``daytrade_count``
    counts day trades in the last five sessions (the pattern-day-trader rule).
    """

    account_id: str
    account_number: str
    status: str
    currency: str
    cash: Decimal
    equity: Decimal
    buying_power: Decimal
    daytrade_count: int
    pattern_day_trader: bool
    multiplier: Decimal
    account_type: AccountType
    trading_blocked: bool = False

    def __post_init__(self) -> None:
        if not self.account_id:
            raise InvalidInput("account_id must not be empty")
        for name in ("cash", "equity", "buying_power", "multiplier"):
            object.__setattr__(self, name, _decimal(getattr(self, name), name))
        if self.multiplier < 1:
            raise InvalidInput(f"multiplier must be at least 1, was {self.multiplier}")
        object.__setattr__(self, "account_type", AccountType(self.account_type))
        expected = AccountType.CASH if self.multiplier == 1 else AccountType.MARGIN
        if self.account_type is not expected:
            raise InvalidInput(
                f"account_type {self.account_type.value} contradicts multiplier {self.multiplier}"
            )
        if isinstance(self.daytrade_count, bool) or not isinstance(self.daytrade_count, int) \
                or self.daytrade_count < 0:
            raise InvalidInput(f"daytrade_count must be a non-negative integer, was {self.daytrade_count!r}")
        if len(self.currency) != 3 or not self.currency.isalpha():
            raise InvalidInput(f"currency must be a 3-letter ISO code, was {self.currency!r}")
        object.__setattr__(self, "currency", self.currency.upper())


@dataclass(frozen=True, slots=True, kw_only=True)
class CancelResult:
    """One order's outcome in a cancel-all request (HTTP 207 multi-status)."""

    broker_order_id: str
    http_status: int
    error_code: int | None = None
    error_message: str = ""

    @property
    def ok(self) -> bool:
        return 200 <= self.http_status < 300


@dataclass(frozen=True, slots=True, kw_only=True)
class ClosePositionResult:
    """One position's outcome in a close-all request (HTTP 207 multi-status).

    ``order`` is the closing order when the broker accepted it; otherwise
    ``error_code``/``error_message`` say why, and ``details`` holds the broker's
    extra fields (e.g. ``available``, ``held_for_orders``).
    """

    symbol: str
    http_status: int
    order: BrokerOrder | None = None
    error_code: int | None = None
    error_message: str = ""
    details: Mapping[str, Any] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return 200 <= self.http_status < 300


@runtime_checkable
class BrokerAdapter(Protocol):
    """What the order router needs from a broker.

    Every method either returns domain types or raises a ``BifrostError``:
    ``InvalidInput`` (the broker refused a field), ``NotFoundError`` (no such
    order), ``OrderRejected`` (the account's or order's state forbids it),
    ``PermissionDenied`` (credentials), ``RateLimited``/``TransientProviderError``
    (retryable, after the adapter's own retries ran out) or ``ProviderError``.
    Adapters retry only what is safe to repeat; each documents how.
    """

    name: str

    @abstractmethod
    def submit(self, order: OrderRequest, *, venue: str | None = None) -> BrokerOrder:
        """Send a new order; return it as the broker acknowledged it.

        ``venue`` is a routing hint (an exchange MIC or a broker route name). An
        adapter whose broker cannot direct orders ignores it and says so in its
        docstring; it never fails because of it.
        """
        ...

    @abstractmethod
    def cancel(self, client_order_id: str) -> None:
        """Ask the broker to cancel an open order (the cancel itself is asynchronous)."""
        ...

    @abstractmethod
    def replace(
        self,
        client_order_id: str,
        *,
        quantity: Decimal | None = None,
        limit_price: Decimal | None = None,
        stop_price: Decimal | None = None,
        new_client_order_id: str | None = None,
    ) -> BrokerOrder:
        """Replace an open order's quantity and/or prices; return the replacement order."""
        ...

    @abstractmethod
    def get_order(self, client_order_id: str) -> BrokerOrder:
        """The order with our ``client_order_id``."""
        ...

    @abstractmethod
    def list_orders(self, status: OrderListStatus = "open") -> list[BrokerOrder]:
        """Open orders, or all recent orders (open and closed) with ``"all"``."""
        ...

    @abstractmethod
    def positions(self) -> list[BrokerPosition]:
        """Every open position."""
        ...

    @abstractmethod
    def account(self) -> BrokerAccount:
        """Balances and flags of the account."""
        ...

    @abstractmethod
    def fills(self, since: datetime) -> list[Fill]:
        """Executions after ``since`` (aware), oldest first."""
        ...
