"""The order state machine: one mutable ``Order`` per client order id, moved by ``OrderEvent``.

Lifecycle::

    NEW ──► ACCEPTED ──► PARTIALLY_FILLED ──► FILLED
     │  └──────────────────────┴──► (fills)
     └──┴──────────┴──► CANCELLED | REJECTED | EXPIRED | REPLACED   (from any live state)

Decisions
---------
* **Status follows quantities.** A fill moves the order to FILLED exactly when the filled
  quantity reaches the order quantity, and to PARTIALLY_FILLED otherwise, whatever the event's
  kind says (``partially_filled`` or ``filled``). A venue's label is a hint; the quantities are
  the fact the ledger posts.
* **A fill on a NEW order is allowed** and implies acceptance: some venues fill IOC/FOK and
  marketable orders before (or without) the acknowledgement reaching us. NautilusTrader's order
  state machine allows SUBMITTED → FILLED for the same reason. An ``accepted`` that arrives
  after a fill is then an illegal transition.
* **Fills are idempotent by ``fill_id``.** A fill id already applied is ignored (``apply``
  returns ``False``), even on a terminal order, so replays are safe. The same id with different
  contents is refused: that is a venue or routing error, not a replay.
* **Overfills are refused** (:class:`Overfill`); nothing is changed.
* **Terminal states never change.** A fill after CANCELLED/EXPIRED/REPLACED is refused; the
  venue must report fills before it confirms the cancel, and a caller that sees such a fill
  reconciles rather than silently re-opening the order.
* **TRIGGERED** (a stop became active) is allowed on stop, stop-limit and trailing-stop orders
  while ACCEPTED or PARTIALLY_FILLED; it sets ``is_triggered`` and leaves the status alone.
* **Cancel/replace**: :meth:`Order.replace` builds a new ``Order`` for *what remains to be worked*
  (the original keeps its own fills) and moves the original to REPLACED; the two are linked by
  ``replaces`` and ``replaced_by``. Call it when the venue confirms the replace; until then the
  original stays live.
* ``leaves_quantity`` is always ``quantity - filled_quantity``; on a terminal order it is what
  was never filled. ``working_quantity`` is what can still fill (zero once terminal).
* The average fill price is the exact filled notional (kept as an exact running sum) divided
  once by the filled quantity, so repeated fills never accumulate rounding drift. It is ``None``
  before the first fill.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Context, Decimal

from bifrost.core.errors import InvalidInput, StateConflict
from bifrost.core.time import ensure_utc
from bifrost.orders.types import EventKind, Fill, OrderEvent, OrderRequest, OrderStatus, OrderType

__all__ = ["EventRecord", "IllegalTransition", "Order", "Overfill"]


class IllegalTransition(StateConflict):
    """An event that the order's current state does not allow ("order abc is filled; cannot apply cancelled")."""

    code = "illegal_transition"


class Overfill(IllegalTransition):
    """A fill larger than the order's leaves quantity."""

    code = "overfill"


@dataclass(frozen=True, slots=True)
class EventRecord:
    """One applied event, as the order's history keeps it.

    ``ts_event`` is when it happened at the venue, ``ts_recorded`` when we learned of it.
    """

    kind: EventKind
    ts_event: datetime
    ts_recorded: datetime
    reason: str = ""
    fill: Fill | None = None


_S = OrderStatus
_K = EventKind
_ZERO = Decimal(0)
# The running notional is kept exact: 60 significant digits hold any price x quantity sum at
# 6 decimal places each, far beyond what the default 28-digit context would round.
_EXACT = Context(prec=60)

_LIVE = frozenset({_S.NEW, _S.ACCEPTED, _S.PARTIALLY_FILLED})
_FILLABLE = _LIVE
_ALLOWED_FROM: dict[EventKind, frozenset[OrderStatus]] = {
    _K.SUBMITTED: frozenset({_S.NEW}),
    _K.ACCEPTED: frozenset({_S.NEW}),
    _K.PARTIALLY_FILLED: _FILLABLE,
    _K.FILLED: _FILLABLE,
    _K.CANCELLED: _LIVE,
    _K.REJECTED: _LIVE,
    _K.EXPIRED: _LIVE,
    _K.REPLACED: _LIVE,
    _K.TRIGGERED: frozenset({_S.ACCEPTED, _S.PARTIALLY_FILLED}),
}
_STATUS_AFTER: dict[EventKind, OrderStatus] = {
    _K.ACCEPTED: _S.ACCEPTED,
    _K.CANCELLED: _S.CANCELLED,
    _K.REJECTED: _S.REJECTED,
    _K.EXPIRED: _S.EXPIRED,
    _K.REPLACED: _S.REPLACED,
}
_STOP_TYPES = frozenset({OrderType.STOP, OrderType.STOP_LIMIT, OrderType.TRAILING_STOP})
_NO_REASON = "venue gave no reason"


def _utc(ts: datetime, field: str) -> datetime:
    # Fast path for the common case; ensure_utc validates and converts everything else.
    if type(ts) is datetime and ts.tzinfo is UTC:
        return ts
    return ensure_utc(ts, field=field)


def _words(value: str) -> str:
    return value.replace("_", " ")


class Order:
    """A live order's state, built from an :class:`OrderRequest` and moved only by :meth:`apply`.

    Parameters
    ----------
    request
        The validated request; its ``client_order_id`` is the id events must carry.
    ts_created
        When the order was created (aware; stored in UTC).
    order_id
        The platform's id for the order; defaults to ``request.client_order_id``.
    replaces
        The ``order_id`` of the order this one replaces, if any (set by :meth:`replace`).

    Attributes
    ----------
    status : OrderStatus
    filled_quantity, leaves_quantity : Decimal
        ``leaves_quantity == quantity - filled_quantity`` always.
    filled_notional : Decimal
        Exact sum of fill quantity x price.
    average_fill_price : Decimal | None
        ``filled_notional / filled_quantity``; ``None`` before the first fill.
    venue_order_id : str
        The venue's id, from the first event that carries one.
    events : list[EventRecord]
        Every applied event, in order.
    reject_reason : str
        The reason of a REJECTED event ("" otherwise).
    replaced_by : str | None
        The ``order_id`` of the replacement once this order is REPLACED.
    is_triggered : bool
        Whether a stop order has been triggered.
    """

    __slots__ = ("request", "order_id", "status", "filled_quantity", "leaves_quantity", "filled_notional",
                 "average_fill_price", "venue_order_id", "ts_created", "events", "reject_reason", "replaces",
                 "replaced_by", "is_triggered", "_fills")

    def __init__(self, request: OrderRequest, *, ts_created: datetime, order_id: str | None = None,
                 replaces: str | None = None) -> None:
        if not isinstance(request, OrderRequest):
            raise InvalidInput(f"request must be an OrderRequest, was {type(request).__name__}")
        self.request = request
        self.order_id = request.client_order_id if order_id is None else order_id
        if not self.order_id:
            raise InvalidInput(f"order_id must not be empty, was {order_id!r}")
        self.status = OrderStatus.NEW
        self.filled_quantity = _ZERO
        self.leaves_quantity = request.quantity
        self.filled_notional = _ZERO
        self.average_fill_price: Decimal | None = None
        self.venue_order_id = ""
        self.ts_created = ensure_utc(ts_created, field="ts_created")
        self.events: list[EventRecord] = []
        self.reject_reason = ""
        self.replaces = replaces
        self.replaced_by: str | None = None
        self.is_triggered = False
        self._fills: dict[str, Fill] = {}

    # -- views -------------------------------------------------------------------------------

    @property
    def client_order_id(self) -> str:
        return self.request.client_order_id

    @property
    def symbol(self) -> str:
        return self.request.symbol

    @property
    def quantity(self) -> Decimal:
        return self.request.quantity

    @property
    def is_terminal(self) -> bool:
        return self.status not in _LIVE

    @property
    def working_quantity(self) -> Decimal:
        """Quantity that can still fill: ``leaves_quantity`` while live, zero once terminal."""
        return self.leaves_quantity if self.status in _LIVE else _ZERO

    @property
    def fills(self) -> tuple[Fill, ...]:
        """The applied fills, in the order they were applied."""
        return tuple(self._fills.values())

    def __repr__(self) -> str:
        return (f"Order({self.order_id!r}, {self.request.side.value} {self.request.quantity} {self.request.symbol}, "
                f"status={self.status.value}, filled={self.filled_quantity}, avg={self.average_fill_price})")

    # -- transitions -------------------------------------------------------------------------

    def apply(self, event: OrderEvent, *, ts_recorded: datetime) -> bool:
        """Apply one event and record it.

        Parameters
        ----------
        event
            An event for this order (``event.client_order_id`` must match).
        ts_recorded
            When we learned of the event (aware).

        Returns
        -------
        bool
            ``True`` if the event was applied, ``False`` if it repeated a fill already applied.

        Raises
        ------
        IllegalTransition
            If the current status does not allow the event ("order abc is filled; cannot apply
            cancelled"), or a fill id repeats with different contents.
        Overfill
            If a fill is larger than the leaves quantity.
        InvalidInput
            If the event or its fill belongs to another order, symbol or side, or the venue
            order id conflicts with the one already known.

        Notes
        -----
        Nothing changes when an error is raised. The average fill price after fills
        :math:`(q_i, p_i)` is :math:`\\sum_i q_i p_i / \\sum_i q_i`.
        """
        request = self.request
        if event.client_order_id != request.client_order_id:
            raise InvalidInput(f"event for order {event.client_order_id!r} applied to order "
                               f"{request.client_order_id!r}")
        kind = event.kind
        fill = event.fill
        if fill is not None:
            seen = self._fills.get(fill.fill_id)
            if seen is not None:
                if seen != fill:
                    raise IllegalTransition(f"order {self.order_id} already applied fill {fill.fill_id} with "
                                            f"quantity {seen.quantity} at {seen.price}; refusing a different "
                                            f"fill with the same id ({fill.quantity} at {fill.price})")
                return False
        status = self.status
        if status not in _ALLOWED_FROM[kind]:
            raise IllegalTransition(f"order {self.order_id} is {_words(status.value)}; cannot apply "
                                    f"{_words(kind.value)}", details={"order_id": self.order_id,
                                                                      "status": status.value,
                                                                      "event": kind.value})
        ts_recorded = _utc(ts_recorded, "ts_recorded")
        venue_order_id = event.venue_order_id
        if venue_order_id and self.venue_order_id and venue_order_id != self.venue_order_id:
            raise InvalidInput(f"order {self.order_id} has venue_order_id {self.venue_order_id!r}; event "
                               f"carries {venue_order_id!r}")

        reason = event.reason
        if fill is not None:
            if (fill.client_order_id != request.client_order_id or fill.symbol != request.symbol
                    or fill.side is not request.side):
                raise InvalidInput(f"fill {fill.fill_id} ({fill.client_order_id} {fill.side.value} {fill.symbol}) "
                                   f"does not belong to order {self.order_id} ({request.client_order_id} "
                                   f"{request.side.value} {request.symbol})")
            quantity = fill.quantity
            leaves = self.leaves_quantity
            if quantity > leaves:
                raise Overfill(f"order {self.order_id} fill {fill.fill_id} of {quantity} exceeds leaves quantity "
                               f"{leaves} (quantity {request.quantity}, filled {self.filled_quantity})",
                               details={"order_id": self.order_id, "fill_id": fill.fill_id,
                                        "fill_quantity": str(quantity), "leaves_quantity": str(leaves)})
            filled = self.filled_quantity + quantity
            notional = _EXACT.add(self.filled_notional, _EXACT.multiply(quantity, fill.price))
            self._fills[fill.fill_id] = fill
            self.filled_quantity = filled
            self.leaves_quantity = leaves - quantity
            self.filled_notional = notional
            self.average_fill_price = notional / filled
            self.status = _S.FILLED if filled == request.quantity else _S.PARTIALLY_FILLED
        elif kind is _K.TRIGGERED:
            if request.order_type not in _STOP_TYPES:
                raise IllegalTransition(f"order {self.order_id} is a {_words(request.order_type.value)} order; "
                                        f"cannot apply triggered")
            self.is_triggered = True
        elif kind is not _K.SUBMITTED:
            self.status = _STATUS_AFTER[kind]
            if kind is _K.REJECTED:
                reason = reason or _NO_REASON
                self.reject_reason = reason
            elif kind is _K.REPLACED:
                replaced_by = event.details.get("replaced_by") if event.details else None
                if replaced_by:
                    self.replaced_by = str(replaced_by)
        if venue_order_id and not self.venue_order_id:
            self.venue_order_id = venue_order_id
        self.events.append(EventRecord(kind, event.ts_event, ts_recorded, reason, fill))
        return True

    def replace(self, request: OrderRequest, *, ts_event: datetime, ts_recorded: datetime,
                reason: str = "") -> Order:
        """Create the replacement order and move this order to REPLACED.

        Call it when the venue confirms a cancel/replace. The replacement is a new order for
        what remains to be worked: this order keeps its fills, and the new order starts NEW with
        nothing filled, ``replaces == self.order_id``.

        Parameters
        ----------
        request
            The replacement request: same symbol and side, a new ``client_order_id``.
        ts_event, ts_recorded
            When the replace happened and when we learned of it.
        reason
            Why the order was replaced (kept in this order's history).

        Returns
        -------
        Order
            The new order, status NEW.

        Raises
        ------
        IllegalTransition
            If this order is terminal.
        InvalidInput
            If the request changes the symbol or side or reuses the client order id.
        """
        if self.status not in _LIVE:
            raise IllegalTransition(f"order {self.order_id} is {_words(self.status.value)}; cannot apply replaced")
        if request.symbol != self.request.symbol or request.side is not self.request.side:
            raise InvalidInput(f"a replacement must keep symbol and side ({self.request.side.value} "
                               f"{self.request.symbol}), was {request.side.value} {request.symbol}")
        if request.client_order_id == self.request.client_order_id:
            raise InvalidInput(f"a replacement needs a new client_order_id, was {request.client_order_id!r} "
                               f"(the original's)")
        replacement = Order(request, ts_created=ts_event, replaces=self.order_id)
        self.apply(OrderEvent(client_order_id=self.request.client_order_id, kind=EventKind.REPLACED,
                              ts_event=ts_event, reason=reason, details={"replaced_by": replacement.order_id}),
                   ts_recorded=ts_recorded)
        return replacement
