"""Order vocabulary shared by strategies, the paper exchange, brokers and the ledger.

Quantities and prices are ``Decimal``. Instants are aware UTC datetimes: ``ts_event``
is when something happened (at the venue), ``ts_recorded`` when we learned of it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from enum import StrEnum
from typing import TYPE_CHECKING

from bifrost.core.errors import InvalidInput
from bifrost.core.money import to_decimal
from bifrost.core.time import ensure_utc
from bifrost.marketdata.types import normalize_symbol

if TYPE_CHECKING:
    from bifrost.portfolio.lots import LotMethod


class Side(StrEnum):
    BUY = "buy"
    SELL = "sell"

    @property
    def sign(self) -> int:
        return 1 if self is Side.BUY else -1


class OrderType(StrEnum):
    MARKET = "market"
    LIMIT = "limit"
    STOP = "stop"
    STOP_LIMIT = "stop_limit"
    TRAILING_STOP = "trailing_stop"


class TimeInForce(StrEnum):
    DAY = "day"  # expires at the session close
    GTC = "gtc"  # good till cancelled
    IOC = "ioc"  # immediate or cancel: fill what is possible now, cancel the rest
    FOK = "fok"  # fill or kill: fill entirely now or cancel
    OPG = "opg"  # at the opening auction only
    CLS = "cls"  # at the closing auction only


class OrderStatus(StrEnum):
    NEW = "new"  # created and persisted, not yet acknowledged by the venue
    ACCEPTED = "accepted"
    PARTIALLY_FILLED = "partially_filled"
    FILLED = "filled"
    CANCELLED = "cancelled"
    REJECTED = "rejected"
    EXPIRED = "expired"
    REPLACED = "replaced"  # superseded by a replacement order

    @property
    def is_terminal(self) -> bool:
        return self in {OrderStatus.FILLED, OrderStatus.CANCELLED, OrderStatus.REJECTED, OrderStatus.EXPIRED,
                        OrderStatus.REPLACED}


class Liquidity(StrEnum):
    MAKER = "maker"
    TAKER = "taker"
    AUCTION = "auction"


@dataclass(frozen=True, slots=True, kw_only=True)
class OrderRequest:
    """What a strategy or user asks for. Validated on construction; fails fast.

    ``lot_method`` and ``lot_ids`` override, for the lots this order's fills close, the
    portfolio's lot relief method: ``lot_ids`` names lots (specific identification) to
    relieve in the order given, ``lot_method`` a method (fifo, lifo, hifo; ``specific``
    needs ``lot_ids``). See :meth:`bifrost.portfolio.Ledger.post`.
    """

    client_order_id: str
    symbol: str
    side: Side
    quantity: Decimal
    order_type: OrderType = OrderType.MARKET
    time_in_force: TimeInForce = TimeInForce.DAY
    limit_price: Decimal | None = None
    stop_price: Decimal | None = None
    trail_amount: Decimal | None = None
    trail_percent: Decimal | None = None
    parent_id: str | None = None  # bracket legs and OCO members name their group/parent
    oco_group: str | None = None
    tag: str = ""
    lot_method: LotMethod | None = None
    lot_ids: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if not self.client_order_id or len(self.client_order_id) > 64:
            raise InvalidInput(f"client_order_id must be 1-64 characters, was {self.client_order_id!r}")
        if self.lot_method is not None or self.lot_ids:
            self._check_lot_override()
        elif type(self.lot_ids) is not tuple:  # an empty list from a schema: keep requests comparable
            object.__setattr__(self, "lot_ids", ())
        object.__setattr__(self, "symbol", normalize_symbol(self.symbol))
        object.__setattr__(self, "side", Side(self.side))
        object.__setattr__(self, "order_type", OrderType(self.order_type))
        object.__setattr__(self, "time_in_force", TimeInForce(self.time_in_force))
        quantity = to_decimal(self.quantity, field="quantity")
        if quantity <= 0:
            raise InvalidInput(f"quantity must be positive, was {quantity}")
        object.__setattr__(self, "quantity", quantity)
        for name in ("limit_price", "stop_price", "trail_amount", "trail_percent"):
            value = getattr(self, name)
            if value is not None:
                value = to_decimal(value, field=name)
                if value <= 0:
                    raise InvalidInput(f"{name} must be positive, was {value}")
                object.__setattr__(self, name, value)
        t = self.order_type
        if t in (OrderType.LIMIT, OrderType.STOP_LIMIT) and self.limit_price is None:
            raise InvalidInput(f"a {t.value} order needs a limit_price")
        if t in (OrderType.STOP, OrderType.STOP_LIMIT) and self.stop_price is None:
            raise InvalidInput(f"a {t.value} order needs a stop_price")
        if t is OrderType.MARKET and (self.limit_price is not None or self.stop_price is not None):
            raise InvalidInput("a market order takes no limit_price or stop_price")
        if t is OrderType.TRAILING_STOP:
            if (self.trail_amount is None) == (self.trail_percent is None):
                raise InvalidInput("a trailing_stop order needs exactly one of trail_amount or trail_percent")
            if self.trail_percent is not None and self.trail_percent >= 100:
                raise InvalidInput(f"trail_percent must be below 100, was {self.trail_percent}")
        elif self.trail_amount is not None or self.trail_percent is not None:
            raise InvalidInput(f"trail_amount/trail_percent apply only to trailing_stop orders, not {t.value}")

    def _check_lot_override(self) -> None:
        from bifrost.portfolio.lots import LotMethod  # the portfolio package imports this module

        if self.lot_method is not None:
            try:
                object.__setattr__(self, "lot_method", LotMethod(self.lot_method))
            except ValueError:
                raise InvalidInput(f"lot_method must be one of {', '.join(m.value for m in LotMethod)}, "
                                   f"was {self.lot_method!r}") from None
        ids = (self.lot_ids,) if isinstance(self.lot_ids, str) else tuple(self.lot_ids)
        object.__setattr__(self, "lot_ids", ids)
        for lot_id in ids:
            if not isinstance(lot_id, str) or not lot_id or len(lot_id) > 64:
                raise InvalidInput(f"lot_ids must be lot ids of 1-64 characters, was {lot_id!r}")
        if len(set(ids)) != len(ids):
            raise InvalidInput(f"lot_ids must name each lot once, was {list(ids)}")
        if ids and self.lot_method not in (None, LotMethod.SPECIFIC):
            raise InvalidInput(f"lot_ids apply to specific identification, not lot_method {self.lot_method.value}")
        if self.lot_method is LotMethod.SPECIFIC and not ids:
            raise InvalidInput("lot_method specific needs lot_ids: the lots to relieve, in order")


@dataclass(frozen=True, slots=True, kw_only=True)
class Fill:
    """One execution. ``fill_id`` is unique per venue and makes ledger posting idempotent."""

    fill_id: str
    client_order_id: str
    symbol: str
    side: Side
    quantity: Decimal
    price: Decimal
    ts_event: datetime
    commission: Decimal = Decimal("0")
    fees: Decimal = Decimal("0")  # regulatory and exchange fees (SEC, TAF, ...); rebates negative
    liquidity: Liquidity = Liquidity.TAKER
    venue: str = "paper"
    currency: str = "USD"

    def __post_init__(self) -> None:
        object.__setattr__(self, "symbol", normalize_symbol(self.symbol))
        object.__setattr__(self, "side", Side(self.side))
        for name in ("quantity", "price"):
            value = to_decimal(getattr(self, name), field=name)
            if value <= 0:
                raise InvalidInput(f"fill {name} must be positive, was {value}")
            object.__setattr__(self, name, value)
        commission = to_decimal(self.commission, field="commission")
        if commission < 0:
            raise InvalidInput(f"commission must not be negative, was {commission}")
        object.__setattr__(self, "commission", commission)
        object.__setattr__(self, "fees", to_decimal(self.fees, field="fees"))
        object.__setattr__(self, "ts_event", ensure_utc(self.ts_event, field="ts_event"))

    @property
    def notional(self) -> Decimal:
        return self.quantity * self.price


class EventKind(StrEnum):
    SUBMITTED = "submitted"
    ACCEPTED = "accepted"
    PARTIALLY_FILLED = "partially_filled"
    FILLED = "filled"
    CANCELLED = "cancelled"
    REJECTED = "rejected"
    EXPIRED = "expired"
    REPLACED = "replaced"
    TRIGGERED = "triggered"  # a stop or trailing stop became active


@dataclass(frozen=True, slots=True, kw_only=True)
class OrderEvent:
    """Something that happened to an order, as a venue or the system reports it."""

    client_order_id: str
    kind: EventKind
    ts_event: datetime
    fill: Fill | None = None
    reason: str = ""
    venue_order_id: str = ""
    details: dict = field(default_factory=dict)

    def __post_init__(self) -> None:
        object.__setattr__(self, "kind", EventKind(self.kind))
        object.__setattr__(self, "ts_event", ensure_utc(self.ts_event, field="ts_event"))
        if (self.kind in (EventKind.FILLED, EventKind.PARTIALLY_FILLED)) != (self.fill is not None):
            raise InvalidInput(f"a {self.kind.value} event must carry a fill and other events must not")
