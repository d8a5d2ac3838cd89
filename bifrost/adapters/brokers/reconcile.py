"""Reconciliation: compare our orders and positions with the broker's, and say how to repair ours.

Pure functions on value types: :func:`reconcile` finds the differences,
:func:`repair_actions` turns them into actions (data) that the web layer applies
in one transaction. The broker is the source of truth for what happened at the
venue; actions bring our records in line with it, and anything that cannot be
explained by the broker's records is flagged for a person to review.

Orders are matched by ``client_order_id``. Pass the broker's recent orders, open
and closed (``BrokerAdapter.list_orders("all")``): an order of ours that is open
but missing from that list is reported as lost.
"""

from __future__ import annotations

from abc import abstractmethod
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Protocol

from bifrost.adapters.brokers.base import BrokerOrder
from bifrost.core.errors import InvalidInput
from bifrost.core.money import to_decimal
from bifrost.core.time import ensure_utc
from bifrost.marketdata.types import normalize_symbol
from bifrost.orders.types import OrderStatus, Side

__all__ = [
    "AdjustPosition",
    "ExternalOrder",
    "FetchFills",
    "FilledQuantityMismatch",
    "FlagForReview",
    "LostOrder",
    "MarkOrderStatus",
    "OrderSnapshot",
    "PositionMismatch",
    "PositionSnapshot",
    "ReconcileReport",
    "RepairAction",
    "StatusMismatch",
    "reconcile",
    "repair_actions",
]


def _fmt(value: Decimal) -> str:
    # 100, 0.5, -20: no exponent, no trailing zeros.
    text = format(value.normalize(), "f")
    return "0" if text in ("-0", "0") else text


def _signed(value: Decimal) -> str:
    return ("+" if value > 0 else "") + _fmt(value)


# ---------------------------------------------------------------------- inputs


class OrderLike(Protocol):
    """What reconciliation reads from an order (ours or the broker's)."""

    @property
    @abstractmethod
    def client_order_id(self) -> str: ...
    @property
    @abstractmethod
    def symbol(self) -> str: ...
    @property
    @abstractmethod
    def side(self) -> Side: ...
    @property
    @abstractmethod
    def quantity(self) -> Decimal | None: ...
    @property
    @abstractmethod
    def filled_quantity(self) -> Decimal: ...
    @property
    @abstractmethod
    def status(self) -> OrderStatus: ...


class PositionLike(Protocol):
    """What reconciliation reads from a position (ours or the broker's)."""

    @property
    @abstractmethod
    def symbol(self) -> str: ...
    @property
    @abstractmethod
    def quantity(self) -> Decimal: ...


@dataclass(frozen=True, slots=True, kw_only=True)
class OrderSnapshot:
    """Our record of an order, as reconciliation needs it."""

    client_order_id: str
    symbol: str
    side: Side
    quantity: Decimal | None
    filled_quantity: Decimal
    status: OrderStatus

    def __post_init__(self) -> None:
        if not self.client_order_id:
            raise InvalidInput("client_order_id must not be empty")
        object.__setattr__(self, "symbol", normalize_symbol(self.symbol))
        object.__setattr__(self, "side", Side(self.side))
        object.__setattr__(self, "status", OrderStatus(self.status))
        if self.quantity is not None:
            object.__setattr__(self, "quantity", to_decimal(self.quantity, field="quantity"))
        filled = to_decimal(self.filled_quantity, field="filled_quantity")
        if filled < 0:
            raise InvalidInput(f"filled_quantity must not be negative, was {filled}")
        object.__setattr__(self, "filled_quantity", filled)


@dataclass(frozen=True, slots=True, kw_only=True)
class PositionSnapshot:
    """Our position in one symbol; ``quantity`` signed (negative for a short)."""

    symbol: str
    quantity: Decimal

    def __post_init__(self) -> None:
        object.__setattr__(self, "symbol", normalize_symbol(self.symbol))
        object.__setattr__(self, "quantity", to_decimal(self.quantity, field="quantity"))


def _order_label(order: OrderLike, *, notional: Decimal | None = None) -> str:
    size = _fmt(order.quantity) if order.quantity is not None else f"notional {_fmt(notional or Decimal(0))}"
    return f"order {order.client_order_id} ({order.symbol} {order.side.value} {size})"


# ---------------------------------------------------------------------- differences


@dataclass(frozen=True, slots=True)
class LostOrder:
    """An order open on our side that the broker has no record of."""

    ours: OrderLike

    @property
    def line(self) -> str:
        return f"{_order_label(self.ours)}: ours {self.ours.status.value}, broker has no record (lost)"


@dataclass(frozen=True, slots=True)
class ExternalOrder:
    """An order at the broker that we do not know (placed elsewhere, or our record is gone)."""

    broker: BrokerOrder

    @property
    def line(self) -> str:
        return (f"{_order_label(self.broker, notional=self.broker.notional)}: at broker "
                f"{self.broker.status.value} (filled {_fmt(self.broker.filled_quantity)}, "
                f"broker id {self.broker.broker_order_id}), unknown to us (external)")


@dataclass(frozen=True, slots=True)
class StatusMismatch:
    """The same order in different states."""

    ours: OrderLike
    broker: BrokerOrder

    @property
    def line(self) -> str:
        return f"{_order_label(self.ours)}: status ours {self.ours.status.value}, broker {self.broker.status.value}"


@dataclass(frozen=True, slots=True)
class FilledQuantityMismatch:
    """The same order with different filled quantities."""

    ours: OrderLike
    broker: BrokerOrder

    @property
    def difference(self) -> Decimal:
        """Broker minus ours: positive means fills we are missing."""
        return self.broker.filled_quantity - self.ours.filled_quantity

    @property
    def line(self) -> str:
        note = "missing fills" if self.difference > 0 else "more filled than the broker reports"
        return (f"{_order_label(self.ours)}: filled ours {_fmt(self.ours.filled_quantity)}, broker "
                f"{_fmt(self.broker.filled_quantity)} ({_signed(self.difference)}, {note})")


@dataclass(frozen=True, slots=True)
class PositionMismatch:
    """Different signed quantities in one symbol (a missing side counts as 0)."""

    symbol: str
    ours_quantity: Decimal
    broker_quantity: Decimal

    @property
    def difference(self) -> Decimal:
        """Broker minus ours."""
        return self.broker_quantity - self.ours_quantity

    @property
    def line(self) -> str:
        return (f"{self.symbol} position: ours {_fmt(self.ours_quantity)}, broker "
                f"{_fmt(self.broker_quantity)} ({_signed(self.difference)})")


@dataclass(frozen=True, slots=True)
class ReconcileReport:
    """Every difference between our records and the broker's.

    ``lines`` reads as a report, one difference per line, in the order: lost
    orders, external orders, status mismatches, filled-quantity mismatches,
    positions. ``ours_positions`` and ``broker_positions`` are the net signed
    quantities per symbol that were compared.
    """

    lost_orders: tuple[LostOrder, ...]
    external_orders: tuple[ExternalOrder, ...]
    status_mismatches: tuple[StatusMismatch, ...]
    fill_mismatches: tuple[FilledQuantityMismatch, ...]
    position_mismatches: tuple[PositionMismatch, ...]
    matched_orders: int
    ours_positions: Mapping[str, Decimal] = field(default_factory=dict)
    broker_positions: Mapping[str, Decimal] = field(default_factory=dict)

    @property
    def is_clean(self) -> bool:
        return not (self.lost_orders or self.external_orders or self.status_mismatches
                    or self.fill_mismatches or self.position_mismatches)

    @property
    def lines(self) -> list[str]:
        groups: Iterable[tuple[LostOrder | ExternalOrder | StatusMismatch | FilledQuantityMismatch
                               | PositionMismatch, ...]] = (
            self.lost_orders, self.external_orders, self.status_mismatches, self.fill_mismatches,
            self.position_mismatches)
        return [difference.line for group in groups for difference in group]

    @property
    def summary(self) -> str:
        if self.is_clean:
            return f"in line with the broker ({self.matched_orders} orders matched)"
        return (f"{len(self.lines)} differences: {len(self.lost_orders)} lost, "
                f"{len(self.external_orders)} external, {len(self.status_mismatches)} status, "
                f"{len(self.fill_mismatches)} filled quantity, {len(self.position_mismatches)} position "
                f"({self.matched_orders} orders matched)")


def _by_client_order_id(orders: Sequence[OrderLike], side: str) -> dict[str, OrderLike]:
    index: dict[str, OrderLike] = {}
    for order in orders:
        if order.client_order_id in index:
            raise InvalidInput(f"{side} orders list client_order_id {order.client_order_id!r} twice")
        index[order.client_order_id] = order
    return index


def _net_positions(positions: Sequence[PositionLike], side: str) -> dict[str, Decimal]:
    net: dict[str, Decimal] = {}
    for position in positions:
        symbol = normalize_symbol(position.symbol)
        if symbol in net:
            raise InvalidInput(f"{side} positions list {symbol} twice")
        net[symbol] = to_decimal(position.quantity, field=f"{side} {symbol} quantity")
    return net


def reconcile(
    ours_orders: Sequence[OrderLike],
    ours_positions: Sequence[PositionLike],
    broker_orders: Sequence[BrokerOrder],
    broker_positions: Sequence[PositionLike],
) -> ReconcileReport:
    """Compare our orders and positions with the broker's.

    Parameters
    ----------
    ours_orders
        Our orders (``OrderSnapshot`` or anything with the same attributes).
        Include every order that is open on our side.
    ours_positions
        Our positions, one per symbol, signed.
    broker_orders
        The broker's recent orders, open and closed (``list_orders("all")``).
    broker_positions
        The broker's positions, one per symbol, signed.

    Returns
    -------
    ReconcileReport
        Lost orders (open ours, unknown at the broker; ours already closed and
        aged out of the broker's list are not reported), external orders (at the
        broker, unknown to us), status and filled-quantity mismatches of matched
        orders, and position mismatches per symbol.

    Raises
    ------
    InvalidInput
        If a side lists an order id or a symbol twice.
    """
    ours = _by_client_order_id(ours_orders, "our")
    _by_client_order_id(broker_orders, "broker")  # refuses duplicates
    broker = {order.client_order_id: order for order in broker_orders}
    lost: list[LostOrder] = []
    external: list[ExternalOrder] = []
    statuses: list[StatusMismatch] = []
    fills: list[FilledQuantityMismatch] = []
    for client_order_id, order in ours.items():
        theirs = broker.get(client_order_id)
        if theirs is None:
            if not order.status.is_terminal:
                lost.append(LostOrder(order))
            continue
        if order.status is not theirs.status:
            statuses.append(StatusMismatch(order, theirs))
        if order.filled_quantity != theirs.filled_quantity:
            fills.append(FilledQuantityMismatch(order, theirs))
    for client_order_id, theirs in broker.items():
        if client_order_id not in ours:
            external.append(ExternalOrder(theirs))
    our_net = _net_positions(ours_positions, "our")
    broker_net = _net_positions(broker_positions, "broker")
    positions = [
        PositionMismatch(symbol, our_net.get(symbol, Decimal(0)), broker_net.get(symbol, Decimal(0)))
        for symbol in sorted(set(our_net) | set(broker_net))
        if our_net.get(symbol, Decimal(0)) != broker_net.get(symbol, Decimal(0))
    ]
    return ReconcileReport(
        lost_orders=tuple(lost),
        external_orders=tuple(external),
        status_mismatches=tuple(statuses),
        fill_mismatches=tuple(fills),
        position_mismatches=tuple(positions),
        matched_orders=len(set(ours) & set(broker)),
        ours_positions=our_net,
        broker_positions=broker_net,
    )


# ---------------------------------------------------------------------- actions


@dataclass(frozen=True, slots=True, kw_only=True)
class FetchFills:
    """Fetch the broker's fills since ``since`` and post those of the listed orders.

    ``since`` is the earliest broker submission time of those orders (``None``
    when the broker gave none: fetch from the oldest open order).
    """

    since: datetime | None
    client_order_ids: tuple[str, ...]
    reason: str
    needs_review: bool = False

    def __post_init__(self) -> None:
        if self.since is not None:
            object.__setattr__(self, "since", ensure_utc(self.since, field="since"))

    @property
    def description(self) -> str:
        start = self.since.isoformat() if self.since is not None else "the oldest open order"
        return f"fetch fills since {start} for {', '.join(self.client_order_ids)}: {self.reason}"


@dataclass(frozen=True, slots=True, kw_only=True)
class MarkOrderStatus:
    """Set our order's status (and filled quantity) to the broker's.

    Apply after :class:`FetchFills`, so fills are posted before the status says filled.
    """

    client_order_id: str
    status: OrderStatus
    filled_quantity: Decimal
    reason: str
    needs_review: bool = False

    @property
    def description(self) -> str:
        review = " (needs review)" if self.needs_review else ""
        return (f"mark order {self.client_order_id} {self.status.value}, filled "
                f"{_fmt(self.filled_quantity)}: {self.reason}{review}")


@dataclass(frozen=True, slots=True, kw_only=True)
class AdjustPosition:
    """Post a reconciliation ledger entry moving our position by ``quantity_change``.

    Always flagged for review: it books a change no fill explains.
    """

    symbol: str
    quantity_change: Decimal
    ours_quantity: Decimal
    broker_quantity: Decimal
    reason: str
    needs_review: bool = True

    @property
    def description(self) -> str:
        return (f"{self.symbol}: adjust position by {_signed(self.quantity_change)} with a reconciliation "
                f"ledger entry (needs review): {self.reason}")


@dataclass(frozen=True, slots=True, kw_only=True)
class FlagForReview:
    """Nothing to apply automatically; a person has to decide."""

    subject: str
    reason: str
    client_order_id: str | None = None
    broker_order_id: str | None = None
    needs_review: bool = True

    @property
    def description(self) -> str:
        return f"review {self.subject}: {self.reason}"


RepairAction = FetchFills | MarkOrderStatus | AdjustPosition | FlagForReview


def repair_actions(report: ReconcileReport) -> list[RepairAction]:
    """The actions that bring our records in line with the broker's, in the order to apply them.

    Parameters
    ----------
    report
        From :func:`reconcile`.

    Returns
    -------
    list of RepairAction
        1. One ``FetchFills`` for every matched order the broker has filled more
           of than we have (missing fills).
        2. ``MarkOrderStatus`` to the broker's status for each status mismatch;
           flagged for review when ours was already terminal (we believed it
           done and the broker disagrees).
        3. ``MarkOrderStatus`` CANCELLED for each lost order; flagged for review
           unless ours was still ``NEW`` with nothing filled (never acknowledged,
           so most likely never arrived).
        4. ``AdjustPosition`` per symbol for the part of the position difference
           the missing fills do not explain (see Notes).
        5. ``FlagForReview`` for orders we show more filled than the broker does
           and for external orders.

    Notes
    -----
    Missing fills will move our position when posted, so a position adjustment
    would count them twice. For each symbol, with ``d`` the broker-minus-ours
    position difference and ``m_o = filled_broker - filled_ours > 0`` for each
    order ``o`` in the ``FetchFills``, the adjustment is
    ``d - sum(sign(side_o) * m_o)``, and none is made when that is 0. Symbols
    whose positions agree but that missing fills will move get an adjustment
    too (``d = 0``): the broker's position no longer shows those fills.
    """
    actions: list[RepairAction] = []
    missing = [m for m in report.fill_mismatches if m.difference > 0]
    explained: dict[str, Decimal] = {}
    if missing:
        stamps = [m.broker.submitted_at for m in missing if m.broker.submitted_at is not None]
        for m in missing:
            explained[m.broker.symbol] = explained.get(m.broker.symbol, Decimal(0)) + m.broker.side.sign * m.difference
        actions.append(FetchFills(
            since=min(stamps) if stamps else None,
            client_order_ids=tuple(m.ours.client_order_id for m in missing),
            reason="the broker reports fills we have not booked",
        ))
    for s in report.status_mismatches:
        was_terminal = s.ours.status.is_terminal
        actions.append(MarkOrderStatus(
            client_order_id=s.ours.client_order_id,
            status=s.broker.status,
            filled_quantity=s.broker.filled_quantity,
            reason=f"broker reports {s.broker.status.value} (ours {s.ours.status.value})",
            needs_review=was_terminal,
        ))
    for lost in report.lost_orders:
        never_acknowledged = lost.ours.status is OrderStatus.NEW and lost.ours.filled_quantity == 0
        actions.append(MarkOrderStatus(
            client_order_id=lost.ours.client_order_id,
            status=OrderStatus.CANCELLED,
            filled_quantity=lost.ours.filled_quantity,
            reason=f"broker has no record of the order (ours {lost.ours.status.value})",
            needs_review=not never_acknowledged,
        ))
    # Every symbol whose position differs or that missing fills will move (a fill the
    # broker's position no longer shows needs an adjustment too).
    for symbol in sorted({p.symbol for p in report.position_mismatches} | set(explained)):
        ours_quantity = report.ours_positions.get(symbol, Decimal(0))
        broker_quantity = report.broker_positions.get(symbol, Decimal(0))
        by_fills = explained.get(symbol, Decimal(0))
        change = broker_quantity - ours_quantity - by_fills
        if change == 0:
            continue
        reason = (f"broker {_fmt(broker_quantity)}, ours {_fmt(ours_quantity)}"
                  + (f", {_signed(by_fills)} expected from missing fills" if by_fills else ""))
        actions.append(AdjustPosition(symbol=symbol, quantity_change=change, ours_quantity=ours_quantity,
                                      broker_quantity=broker_quantity, reason=reason))
    for m in report.fill_mismatches:
        if m.difference < 0:
            actions.append(FlagForReview(
                subject=f"order {m.ours.client_order_id}",
                reason=(f"we booked {_fmt(m.ours.filled_quantity)} filled, the broker reports "
                        f"{_fmt(m.broker.filled_quantity)}: a fill may be booked twice or wrongly"),
                client_order_id=m.ours.client_order_id,
                broker_order_id=m.broker.broker_order_id,
            ))
    for e in report.external_orders:
        actions.append(FlagForReview(
            subject=f"external order {e.broker.client_order_id}",
            reason=(f"{e.broker.symbol} {e.broker.side.value} at the broker ({e.broker.status.value}, filled "
                    f"{_fmt(e.broker.filled_quantity)}) that we did not place: adopt it or explain it"),
            client_order_id=e.broker.client_order_id,
            broker_order_id=e.broker.broker_order_id,
        ))
    return actions
