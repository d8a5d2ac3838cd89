"""The paper exchange: a deterministic order matcher shared by backtests and paper trading.

:class:`PaperExchange` holds working orders, indexed by symbol, and fills them against
bars (:meth:`PaperExchange.on_bar`), level-1 quotes (:meth:`PaperExchange.on_quote`) and
trade prints (:meth:`PaperExchange.on_trade`). It returns :class:`~bifrost.orders.types.OrderEvent`
lists; it never reads the wall clock, and the same inputs always give the same events and
the same fill ids (``f"{client_order_id}-{n}"``), so a replay posts to the ledger idempotently.

Conventions (all deliberate; conservative where the data cannot tell)
--------------------------------------------------------------------
Eligibility and latency
    An order submitted at ``ts`` is eligible for a bar whose ``ts_open >= ts + latency`` and
    for a quote or trade with ``ts >= ts + latency``. A strategy reacting to bar *t* submits
    at bar *t*'s end, which is bar *t+1*'s open: market orders fill at the NEXT bar's open.
    Latency has microsecond resolution (``datetime``) and is rounded up. A daily bar labelled at
    midnight UTC only takes orders submitted before that label; pass the session open as
    ``ts_open`` to let same-morning (pre-market) orders trade in that day's bar.
Bars (``on_bar``)
    * Market: the open, then slippage. Taker.
    * Limit buy ``L``: fills if ``low < L`` at ``min(open, L)``; a gap through the limit fills
      at the open (taker, slippage, never worse than ``L``); otherwise at ``L`` as maker, no
      slippage. A limit exactly touched (``low == L``) does not fill unless
      ``FillConvention(touch_fills=True)``: a touch proves neither that our order was at the
      front of the queue nor that any size traded through it. Sells mirror this.
    * Stop buy ``S``: triggers if ``high >= S`` (a touch triggers); fills at ``max(open, S)``
      (a gap fills at the open), then slippage. Taker. Sell stops mirror (``low <= S``,
      ``min(open, S)``).
    * Stop-limit: triggers as a stop. If it triggered at the open (gap), the whole bar is
      after the trigger and the limit rule applies to it. If it triggered inside the bar,
      the *adverse path* is assumed: for a buy, the low came before the trigger, so after it
      prices only rose from ``S``; the limit fills in that bar only if ``S < L`` (``<=`` with
      touch_fills), at ``S`` plus slippage, capped at ``L``. Later bars use the limit rule.
    * Trailing stop: the trigger is checked against the stop set by *earlier* bars, and only
      then is the stop ratcheted from this bar's high (sell trail) or low (buy trail). No
      intrabar information is used for the bar's own trigger, so there is no look-ahead. The
      reference starts at the last price the exchange saw for the symbol when the order was
      accepted, or else at the first eligible bar's open.
    * Triggered stops whose fill was capped by participation become market (or limit) orders
      for the rest.
    * Fill times: fills at the open carry ``ts_open``; intrabar fills (limits at the limit,
      stops at the stop, ``CLS`` at the close) carry ``bar_end``, the earliest instant at which
      they are known to have happened.
    * A bar with zero volume fills nothing unless ``FillConvention(fill_on_zero_volume=True)``.
Time in force
    * DAY: expires at the close of the session it was accepted in (the next session if
      accepted outside one), from the exchange calendar, so half days close early. Expiry
      happens after the bar that reaches the close has been matched, before any bar that
      opens at or after it, and in :meth:`PaperExchange.expire`.
    * GTC: works until filled or cancelled.
    * IOC / FOK: evaluated on the first eligible bar or quote only; IOC fills what it can and
      cancels the rest; FOK fills the whole quantity or is cancelled (a participation cap can
      make it fail). Stop types cannot be IOC/FOK.
    * OPG / CLS (market or limit only): fill at the open of the session's first bar / the
      close of its last bar (bars only), as auction prints: no slippage, liquidity AUCTION;
      whatever is unfilled there (limit not met, participation cap) expires. A bar opens the
      session if ``ts_open <= session_open < bar_end`` and closes it if ``close <= bar_end``,
      so daily bars labelled at midnight UTC work when ``bar_end`` is the close (or later).
Participation cap
    At most ``floor(cap * bar volume)`` shares fill per bar, shared by the symbol's orders in
    time priority; the rest carries over.
Quotes (``on_quote``)
    A marketable order takes the far touch: buys at the ask up to the ask size, sells at the
    bid up to the bid size; the size is shared in time priority and partial fills carry over.
    Quoted prices are executable, so no slippage model is applied. A limit order that was not
    marketable on its first eligible quote is *resting*; it fills as maker at its limit, up to
    the opposite size, when a later quote reaches it (``ask <= L`` for a buy: a seller was
    willing to trade at or below our price). Stops trigger on the touch price (ask for buys,
    bid for sells) and trailing references follow it. Recorded quotes do not react to our own
    fills, so while the best price is unchanged only the size above what we already took there
    counts as new liquidity (a new price level starts afresh; see
    ``FillConvention.quotes_refresh_liquidity``).
Trades (``on_trade``)
    A print at ``p`` of ``n`` shares: market orders fill at ``p`` up to ``n``; a resting limit
    buy fills at its limit as maker when ``p < L`` (``<=`` with touch_fills); stops trigger on ``p``.
Fees
    Charged per order, by accrual: fill *k* pays ``fees(order filled so far) - fees already
    charged`` for commission and regulatory fees (so per-order minimums, caps and round-ups
    apply once per order), and its own exchange fee. A single-fill order pays exactly
    ``fee_model.fees(quantity, price)``. ``Fill.commission`` holds the commission and
    ``Fill.fees`` the regulatory plus exchange fees.
"""

from __future__ import annotations

import functools
from bisect import bisect_right
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from decimal import ROUND_FLOOR, Decimal
from typing import Any

from bifrost.core.calendars import get_calendar
from bifrost.core.errors import DataQualityError, InvalidInput, NotFoundError
from bifrost.core.money import decimal_from_float, to_decimal
from bifrost.core.time import ensure_utc
from bifrost.execution.fees import FeeModel, ZeroFeeModel
from bifrost.execution.slippage import NoSlippage, SlippageModel
from bifrost.marketdata.types import normalize_symbol
from bifrost.orders.types import (
    EventKind,
    Fill,
    Liquidity,
    OrderEvent,
    OrderRequest,
    OrderType,
    Side,
    TimeInForce,
)

__all__ = ["FillConvention", "OrderNotWorking", "PaperExchange", "WorkingOrderView"]

_ZERO = Decimal("0")
_HUNDRED = Decimal("100")
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_ONE_US = timedelta(microseconds=1)
_STOP_TYPES = (OrderType.STOP, OrderType.STOP_LIMIT, OrderType.TRAILING_STOP)
_AUCTION_TIFS = (TimeInForce.OPG, TimeInForce.CLS)


class OrderNotWorking(NotFoundError):
    """The order is unknown, or no longer working (filled, cancelled, expired, replaced)."""

    code = "order_not_working"


@dataclass(frozen=True, slots=True, kw_only=True)
class FillConvention:
    """Choices the data cannot settle; the defaults are the conservative ones.

    Parameters
    ----------
    touch_fills
        Fill a limit order whose price was touched but not traded through (``low == L`` for a
        buy on a bar; a print at ``L`` for a resting order).
    fill_on_zero_volume
        Match orders against bars that report zero volume.
    quotes_refresh_liquidity
        Treat every quote's size as fresh liquidity. By default, while the best price is
        unchanged, the shares we already took from it are deducted from later quotes' sizes,
        because recorded quotes cannot show our own fills.
    """

    touch_fills: bool = False
    fill_on_zero_volume: bool = False
    quotes_refresh_liquidity: bool = False


@dataclass(frozen=True, slots=True, kw_only=True)
class WorkingOrderView:
    """A read-only snapshot of a working order."""

    request: OrderRequest
    filled_quantity: Decimal
    remaining_quantity: Decimal
    stop_price: Decimal | None
    triggered: bool
    eligible_at: datetime
    expires_at: datetime | None


class _Order:
    """Mutable matching state of one working order (private to the exchange)."""

    __slots__ = ("request", "id", "symbol", "is_buy", "side", "type", "tif", "quantity", "limit", "stop",
                 "extreme", "filled", "notional", "fill_count", "commission_charged", "regulatory_charged",
                 "eligible_at", "close_us", "triggered", "evaluated", "venue_order_id", "done")

    def __init__(self, request: OrderRequest, eligible_at: datetime, close_us: int | None, venue_order_id: str) -> None:
        self.request = request
        self.id = request.client_order_id
        self.symbol = request.symbol
        self.side = request.side
        self.is_buy = request.side is Side.BUY
        self.type = request.order_type
        self.tif = request.time_in_force
        self.quantity = request.quantity
        self.limit = request.limit_price
        self.stop = request.stop_price
        self.extreme: Decimal | None = None
        self.filled = _ZERO
        self.notional = _ZERO
        self.fill_count = 0
        self.commission_charged = _ZERO
        self.regulatory_charged = _ZERO
        self.eligible_at = eligible_at
        self.close_us = close_us
        self.triggered = request.order_type not in _STOP_TYPES
        self.evaluated = False
        self.venue_order_id = venue_order_id
        self.done = False

    @property
    def remaining(self) -> Decimal:
        return self.quantity - self.filled


@functools.lru_cache(maxsize=8)
def _session_microseconds(calendar: str) -> tuple[list[int], list[int]]:
    """Session opens and closes of ``calendar`` in UTC microseconds (shared, read-only)."""
    cal = get_calendar(calendar)
    return (cal.opens_nanos // 1000).tolist(), (cal.closes_nanos // 1000).tolist()


def _us(ts: datetime) -> int:
    return (ts - _EPOCH) // _ONE_US


def _utc(ts: Any, field: str) -> datetime:
    if type(ts) is datetime and ts.tzinfo is UTC:
        return ts
    return ensure_utc(ts, field=field)


def _price(value: Any, field: str) -> Decimal:
    if isinstance(value, Decimal):
        if not value.is_finite() or value <= 0:
            raise InvalidInput(f"{field} must be positive and finite, was {value}")
        return value
    if isinstance(value, float):
        result = decimal_from_float(value, field=field)
    else:
        result = to_decimal(value, field=field)
    if result <= 0:
        raise InvalidInput(f"{field} must be positive, was {value!r}")
    return result


_BAR_FIELDS = ("open", "high", "low", "close")


def _bar_price(prices: list[Any], index: int) -> Decimal:
    # Bar prices arrive as floats; convert each one only when an order needs it, once.
    value = prices[index]
    if type(value) is not Decimal:
        value = prices[index] = _price(value, _BAR_FIELDS[index])
    return value


def _size(value: Any, field: str) -> Decimal:
    if isinstance(value, Decimal):
        result = value
    elif isinstance(value, int) and not isinstance(value, bool):
        result = Decimal(value)
    elif isinstance(value, float):
        if value != value or value in (float("inf"), float("-inf")):
            raise InvalidInput(f"{field} must be finite, was {value!r}")
        result = Decimal(repr(value))
    else:
        result = to_decimal(value, field=field)
    if result < 0:
        raise InvalidInput(f"{field} must not be negative, was {value!r}")
    return result


class PaperExchange:
    """Match orders against bars, quotes and trades, deterministically, with fees and slippage.

    Parameters
    ----------
    fee_model
        Prices each fill (see :mod:`bifrost.execution.fees`); ``None`` means no fees.
    slippage_model
        Moves taker prices against the taker on bar fills (see :mod:`bifrost.execution.slippage`);
        ``None`` means none.
    calendar
        Exchange-calendar name for DAY expiry and OPG/CLS auctions; ``None`` disables both
        (DAY orders then never expire and OPG/CLS orders are rejected).
    participation_cap
        Largest fraction of a bar's volume our orders may fill (0.1 = 10 %); ``None`` for no cap.
    latency_ns
        Delay between submission and the first bar/quote the order may trade on.
    fill_convention
        The touch and zero-volume conventions, see :class:`FillConvention` (defaults when ``None``).
    venue, currency
        Stamped on every fill.

    Notes
    -----
    The matching rules are documented in the module docstring.

    Raises
    ------
    InvalidInput
        If the participation cap is not in (0, 1], the latency is negative, or the calendar is unknown.
    """

    def __init__(self, fee_model: FeeModel | None = None, slippage_model: SlippageModel | None = None, *,
                 calendar: str | None = "XNYS", participation_cap: float | str | Decimal | None = None,
                 latency_ns: int = 0, fill_convention: FillConvention | None = None,
                 venue: str = "paper", currency: str = "USD") -> None:
        self.fee_model: FeeModel = fee_model if fee_model is not None else ZeroFeeModel()
        self.slippage_model: SlippageModel = slippage_model if slippage_model is not None else NoSlippage()
        if participation_cap is None:
            self.participation_cap: Decimal | None = None
        else:
            cap = Decimal(repr(participation_cap)) if isinstance(participation_cap, float) else to_decimal(
                participation_cap, field="participation_cap")
            if not 0 < cap <= 1:
                raise InvalidInput(f"participation_cap must be in (0, 1], was {participation_cap}")
            self.participation_cap = cap
        if isinstance(latency_ns, bool) or not isinstance(latency_ns, int) or latency_ns < 0:
            raise InvalidInput(f"latency_ns must be a non-negative integer, was {latency_ns!r}")
        self.latency_ns = latency_ns
        self._latency = timedelta(microseconds=-(-latency_ns // 1000))  # round up to the microsecond
        self.fill_convention = fill_convention if fill_convention is not None else FillConvention()
        self.venue = venue
        self.currency = currency
        self.calendar_name = calendar
        if calendar is None:
            self._opens_us: list[int] = []
            self._closes_us: list[int] = []
        else:
            self._opens_us, self._closes_us = _session_microseconds(calendar)
        self._by_symbol: dict[str, list[_Order]] = {}
        self._by_id: dict[str, _Order] = {}
        self._known_ids: set[str] = set()
        self._last_price: dict[str, Any] = {}
        self._taken: dict[str, list[Any]] = {}  # per symbol: [ask, shares taken at it, bid, shares taken at it]
        self._symbols: dict[str, str] = {}
        self._sequence = 0
        self._record_fill = getattr(self.fee_model, "record_fill", None)
        observe = getattr(self.slippage_model, "observe_quote", None)
        self._observe_quote = observe if callable(observe) else None

    # ------------------------------------------------------------------ order entry

    def _symbol(self, symbol: str) -> str:
        cached = self._symbols.get(symbol)
        if cached is None:
            cached = self._symbols[symbol] = normalize_symbol(symbol)
        return cached

    def _event(self, order_id: str, kind: EventKind, ts: datetime, *, fill: Fill | None = None, reason: str = "",
               venue_order_id: str = "", details: dict | None = None) -> OrderEvent:
        return OrderEvent(client_order_id=order_id, kind=kind, ts_event=ts, fill=fill, reason=reason,
                          venue_order_id=venue_order_id, details=details if details is not None else {})

    def _session_close_us(self, ts_us: int) -> int | None:
        index = bisect_right(self._closes_us, ts_us)
        return self._closes_us[index] if index < len(self._closes_us) else None

    def _rejection(self, order: OrderRequest) -> str:
        tif, kind = order.time_in_force, order.order_type
        if tif in _AUCTION_TIFS:
            if self.calendar_name is None:
                return f"time_in_force {tif.value} needs an exchange calendar"
            if kind not in (OrderType.MARKET, OrderType.LIMIT):
                return f"time_in_force {tif.value} takes market or limit orders, not {kind.value}"
        if tif in (TimeInForce.IOC, TimeInForce.FOK) and kind in _STOP_TYPES:
            return f"time_in_force {tif.value} cannot be used with {kind.value} orders"
        return ""

    def submit(self, order: OrderRequest, ts: datetime) -> list[OrderEvent]:
        """Accept ``order`` at ``ts`` as a working order, or reject it.

        Parameters
        ----------
        order
            The validated request; its ``client_order_id`` must be new to this exchange.
        ts
            When the order reached the venue (aware).

        Returns
        -------
        list of OrderEvent
            One ACCEPTED event, or one REJECTED event whose ``reason`` names the rule broken
            (duplicate id, unsupported time in force for the order type).
        """
        ts = _utc(ts, "ts")
        order_id = order.client_order_id
        if order_id in self._known_ids:
            return [self._event(order_id, EventKind.REJECTED, ts,
                                reason=f"duplicate client_order_id {order_id!r}: ids must be unique")]
        self._known_ids.add(order_id)
        reason = self._rejection(order)
        if reason:
            return [self._event(order_id, EventKind.REJECTED, ts, reason=reason)]
        self._sequence += 1
        close_us = self._session_close_us(_us(ts)) if order.time_in_force is TimeInForce.DAY else None
        working = _Order(order, ts + self._latency, close_us, f"{self.venue}-{self._sequence}")
        if working.type is OrderType.TRAILING_STOP:
            last = self._last_price.get(order.symbol)
            if last is not None:
                self._set_trail_reference(working, _price(last, "last price"))
        self._by_id[order_id] = working
        self._by_symbol.setdefault(order.symbol, []).append(working)
        return [self._event(order_id, EventKind.ACCEPTED, ts, venue_order_id=working.venue_order_id)]

    def _working(self, client_order_id: str) -> _Order:
        order = self._by_id.get(client_order_id)
        if order is None:
            raise OrderNotWorking(f"no working order with client_order_id {client_order_id!r}",
                                  details={"client_order_id": client_order_id})
        return order

    def _remove(self, order: OrderRequest | _Order) -> None:
        working = order if isinstance(order, _Order) else self._by_id[order.client_order_id]
        working.done = True
        self._by_id.pop(working.id, None)
        orders = self._by_symbol.get(working.symbol)
        if orders is not None:
            try:
                orders.remove(working)
            except ValueError:
                pass
            if not orders:
                del self._by_symbol[working.symbol]

    def _finish(self, order: _Order, ts: datetime) -> None:
        order.done = True
        if self._record_fill is not None and order.filled > 0:
            self._record_fill(quantity=order.filled, ts=ts)

    def cancel(self, client_order_id: str, ts: datetime) -> list[OrderEvent]:
        """Cancel a working order at ``ts`` (immediately; latency is not applied to cancels).

        Raises
        ------
        OrderNotWorking
            If no working order has that id (unknown, or already filled, cancelled or expired).
        """
        ts = _utc(ts, "ts")
        order = self._working(client_order_id)
        self._remove(order)
        self._finish(order, ts)
        return [self._event(order.id, EventKind.CANCELLED, ts, reason="cancelled by request",
                            venue_order_id=order.venue_order_id,
                            details={"filled_quantity": str(order.filled)})]

    def replace(self, client_order_id: str, ts: datetime, *, new_client_order_id: str,
                quantity: Decimal | str | int | None = None, limit_price: Decimal | str | None = None,
                stop_price: Decimal | str | None = None, trail_amount: Decimal | str | None = None,
                trail_percent: Decimal | str | None = None) -> list[OrderEvent]:
        """Replace a working order with a modified copy under a new id (cancel/replace).

        ``quantity`` is the new *total* quantity, including what already filled. The
        replacement keeps the filled quantity, fee accrual and DAY session of the original, but
        loses its time priority and waits out the latency again.

        Returns
        -------
        list of OrderEvent
            REPLACED for the old id (``details["replaced_by"]``) and ACCEPTED for the new id,
            or a single REJECTED event for the new id when the modification is invalid.

        Raises
        ------
        OrderNotWorking
            If ``client_order_id`` is not a working order.
        """
        ts = _utc(ts, "ts")
        old = self._working(client_order_id)
        changes: dict[str, Any] = {"client_order_id": new_client_order_id}
        for name, value in (("quantity", quantity), ("limit_price", limit_price), ("stop_price", stop_price),
                            ("trail_amount", trail_amount), ("trail_percent", trail_percent)):
            if value is not None:
                changes[name] = value
        if new_client_order_id in self._known_ids:
            return [self._event(new_client_order_id, EventKind.REJECTED, ts,
                                reason=f"duplicate client_order_id {new_client_order_id!r}: ids must be unique")]
        try:
            request = replace(old.request, **changes)
        except InvalidInput as exc:
            return [self._event(new_client_order_id, EventKind.REJECTED, ts, reason=str(exc))]
        if request.quantity <= old.filled:
            return [self._event(new_client_order_id, EventKind.REJECTED, ts,
                                reason=f"quantity must exceed the filled quantity {old.filled}, was {request.quantity}")]
        self._known_ids.add(new_client_order_id)
        self._remove(old)
        self._sequence += 1
        new = _Order(request, ts + self._latency, old.close_us, f"{self.venue}-{self._sequence}")
        new.filled, new.notional = old.filled, old.notional
        new.commission_charged, new.regulatory_charged = old.commission_charged, old.regulatory_charged
        new.triggered = old.triggered and request.stop_price == old.request.stop_price
        new.evaluated = old.evaluated
        if request.order_type is OrderType.TRAILING_STOP:
            new.extreme = old.extreme
            if new.extreme is not None:
                new.stop = self._trail_stop(new, new.extreme)
        self._by_id[new.id] = new
        self._by_symbol.setdefault(new.symbol, []).append(new)
        return [
            self._event(old.id, EventKind.REPLACED, ts, venue_order_id=old.venue_order_id,
                        details={"replaced_by": new.id}),
            self._event(new.id, EventKind.ACCEPTED, ts, venue_order_id=new.venue_order_id,
                        details={"replaces": old.id}),
        ]

    # ------------------------------------------------------------------ queries

    def order_state(self, client_order_id: str) -> WorkingOrderView:
        """Snapshot of a working order.

        Raises
        ------
        OrderNotWorking
            If no working order has that id.
        """
        order = self._working(client_order_id)
        return self._view(order)

    def _view(self, order: _Order) -> WorkingOrderView:
        expires = None if order.close_us is None else _EPOCH + timedelta(microseconds=order.close_us)
        return WorkingOrderView(request=order.request, filled_quantity=order.filled, remaining_quantity=order.remaining,
                                stop_price=order.stop, triggered=order.triggered, eligible_at=order.eligible_at,
                                expires_at=expires)

    def working_orders(self, symbol: str | None = None) -> tuple[WorkingOrderView, ...]:
        """Snapshots of the working orders (of one symbol, or all), in time priority."""
        if symbol is None:
            return tuple(self._view(o) for orders in self._by_symbol.values() for o in orders)
        return tuple(self._view(o) for o in self._by_symbol.get(self._symbol(symbol), ()))

    # ------------------------------------------------------------------ fills and fees

    def _fill(self, order: _Order, quantity: Decimal, price: Decimal, liquidity: Liquidity, ts: datetime,
              events: list[OrderEvent]) -> None:
        fee_model = self.fee_model
        side = order.side
        first = order.filled == 0
        order.fill_count += 1
        order.filled += quantity
        order.notional += quantity * price
        if first:
            breakdown = fee_model.fees(side=side, quantity=quantity, price=price, liquidity=liquidity, ts=ts)
            commission, regulatory, exchange = breakdown.commission, breakdown.regulatory, breakdown.exchange
        else:
            cumulative = fee_model.fees(side=side, quantity=order.filled, price=price, liquidity=liquidity, ts=ts,
                                        notional=order.notional)
            own = fee_model.fees(side=side, quantity=quantity, price=price, liquidity=liquidity, ts=ts)
            commission = max(cumulative.commission - order.commission_charged, _ZERO)
            regulatory = max(cumulative.regulatory - order.regulatory_charged, _ZERO)
            exchange = own.exchange
        order.commission_charged += commission
        order.regulatory_charged += regulatory
        fill = Fill(fill_id=f"{order.id}-{order.fill_count}", client_order_id=order.id, symbol=order.symbol,
                    side=side, quantity=quantity, price=price, ts_event=ts, commission=commission,
                    fees=regulatory + exchange, liquidity=liquidity, venue=self.venue, currency=self.currency)
        complete = order.filled >= order.quantity
        events.append(OrderEvent(client_order_id=order.id,
                                 kind=EventKind.FILLED if complete else EventKind.PARTIALLY_FILLED,
                                 ts_event=ts, fill=fill, venue_order_id=order.venue_order_id))
        if complete:
            self._finish(order, ts)

    def _close_out(self, order: _Order, kind: EventKind, ts: datetime, reason: str,
                   events: list[OrderEvent]) -> None:
        self._finish(order, ts)
        events.append(self._event(order.id, kind, ts, reason=reason, venue_order_id=order.venue_order_id,
                                  details={"filled_quantity": str(order.filled)}))

    def _expire_day(self, order: _Order, events: list[OrderEvent]) -> None:
        assert order.close_us is not None
        close = _EPOCH + timedelta(microseconds=order.close_us)
        self._close_out(order, EventKind.EXPIRED, close, "day order expired at the session close", events)

    def _taker_price(self, order: _Order, reference: Decimal, quantity: Decimal) -> Decimal:
        price = self.slippage_model.execution_price(symbol=order.symbol, side=order.side, reference_price=reference,
                                                    quantity=quantity)
        limit = order.limit
        if limit is not None and order.type in (OrderType.LIMIT, OrderType.STOP_LIMIT):
            if order.is_buy and price > limit:
                price = limit
            elif not order.is_buy and price < limit:
                price = limit
        return price

    # ------------------------------------------------------------------ trailing stops

    def _trail_stop(self, order: _Order, extreme: Decimal) -> Decimal:
        request = order.request
        if request.trail_amount is not None:
            offset = request.trail_amount
        else:
            offset = extreme * request.trail_percent / _HUNDRED  # type: ignore[operator]
        stop = extreme - offset if not order.is_buy else extreme + offset
        return stop.quantize(Decimal("0.000001"))

    def _set_trail_reference(self, order: _Order, price: Decimal) -> None:
        order.extreme = price
        order.stop = self._trail_stop(order, price)

    def _ratchet(self, order: _Order, price: Decimal) -> None:
        # A sell trail follows the highs, a buy trail the lows; the stop only ever tightens.
        extreme = order.extreme
        if extreme is None or (price > extreme if not order.is_buy else price < extreme):
            self._set_trail_reference(order, price)

    # ------------------------------------------------------------------ bars

    def on_bar(self, symbol: str, ts_open: datetime, open: Any, high: Any, low: Any, close: Any,
               volume: Any, *, bar_end: datetime) -> list[OrderEvent]:
        """Match the symbol's working orders against one bar ``[ts_open, bar_end)``.

        Parameters
        ----------
        symbol
            The bar's symbol.
        ts_open, bar_end
            When the bar opened and ended (aware). For a daily bar labelled at midnight UTC pass
            the session close (or the next label) as ``bar_end``.
        open, high, low, close
            Prices: bar-frame floats (converted with ``decimal_from_float``) or Decimals.
        volume
            Shares traded in the bar (float, int or Decimal).

        Returns
        -------
        list of OrderEvent
            TRIGGERED, PARTIALLY_FILLED, FILLED, CANCELLED (IOC/FOK) and EXPIRED events, in the
            order they happened, orders in time priority.

        Raises
        ------
        DataQualityError
            If the bar is inconsistent (``high < low``, open or close outside the range, end not
            after open, negative volume).
        """
        symbol = self._symbol(symbol)
        ts_open = _utc(ts_open, "ts_open")
        bar_end = _utc(bar_end, "bar_end")
        if bar_end <= ts_open:
            raise DataQualityError(f"bar_end must be after ts_open, was {bar_end.isoformat()} <= {ts_open.isoformat()}")
        if not (0 < low <= open <= high and low <= close <= high) or volume < 0:
            raise DataQualityError(f"inconsistent bar for {symbol} at {ts_open.isoformat()}: open={open} high={high} "
                                   f"low={low} close={close} volume={volume}")
        self._last_price[symbol] = close
        orders = self._by_symbol.get(symbol)
        if not orders:
            return []
        events: list[OrderEvent] = []
        open_us = _us(ts_open)
        end_us = _us(bar_end)
        tradable = volume > 0 or self.fill_convention.fill_on_zero_volume
        prices: list[Any] = [open, high, low, close]  # converted to Decimal on first use (_bar_price)
        capacity = self._capacity(volume)
        session: tuple[bool, bool] | None = None
        for order in tuple(orders):
            if order.done:
                continue
            if order.close_us is not None and open_us >= order.close_us:
                self._expire_day(order, events)
                continue
            if ts_open >= order.eligible_at:
                if order.tif in _AUCTION_TIFS:
                    if session is None:
                        session = self._session_flags(open_us, end_us)
                    capacity = self._match_auction(order, prices, capacity, session, tradable, ts_open, bar_end,
                                                   events)
                else:
                    capacity = self._match_bar(order, prices, capacity, tradable, ts_open, bar_end, events)
            if not order.done and order.close_us is not None and end_us >= order.close_us:
                self._expire_day(order, events)
        if events:
            remaining = [o for o in orders if not o.done]
            if remaining:
                self._by_symbol[symbol] = remaining
            else:
                del self._by_symbol[symbol]
            for order in orders:
                if order.done:
                    self._by_id.pop(order.id, None)
        return events

    def _capacity(self, volume: Any) -> Decimal | None:
        if self.participation_cap is None:
            return None
        shares = _size(volume, "volume")
        return (shares * self.participation_cap).to_integral_value(rounding=ROUND_FLOOR)

    def _session_flags(self, open_us: int, end_us: int) -> tuple[bool, bool]:
        index = bisect_right(self._closes_us, open_us)
        if index >= len(self._closes_us):
            return False, False
        session_open = self._opens_us[index]
        return open_us <= session_open < end_us, self._closes_us[index] <= end_us

    @staticmethod
    def _allowed(order: _Order, capacity: Decimal | None) -> Decimal:
        remaining = order.quantity - order.filled
        if capacity is None or remaining <= capacity:
            return remaining
        return capacity

    def _match_auction(self, order: _Order, prices: list[Any],
                       capacity: Decimal | None, session: tuple[bool, bool], tradable: bool, ts_open: datetime,
                       bar_end: datetime, events: list[OrderEvent]) -> Decimal | None:
        opening = order.tif is TimeInForce.OPG
        if not (session[0] if opening else session[1]):
            return capacity  # wait for the session's opening (closing) bar
        price = _bar_price(prices, 0 if opening else 3)
        ts = ts_open if opening else bar_end
        limit = order.limit
        marketable = limit is None or (price <= limit if order.is_buy else price >= limit)
        name = "opening" if opening else "closing"
        if not tradable or not marketable:
            self._close_out(order, EventKind.EXPIRED, ts, f"not filled in the {name} auction", events)
            return capacity
        quantity = self._allowed(order, capacity)
        if quantity > 0:
            self._fill(order, quantity, price, Liquidity.AUCTION, ts, events)
            if capacity is not None:
                capacity -= quantity
        if not order.done:
            self._close_out(order, EventKind.EXPIRED, ts,
                            f"unfilled remainder expired after the {name} auction (participation cap)", events)
        return capacity

    def _bar_execution(self, order: _Order, prices: list[Any], ts_open: datetime, bar_end: datetime,
                       events: list[OrderEvent]) -> tuple[Decimal, bool, bool, datetime] | None:
        """Reference price, taker?, slippage?, time of an execution in this bar, or None."""
        is_buy = order.is_buy
        touch = self.fill_convention.touch_fills
        order_type = order.type
        open_ = _bar_price(prices, 0)
        if order_type is OrderType.MARKET:
            return open_, True, True, ts_open
        high = _bar_price(prices, 1)
        low = _bar_price(prices, 2)
        if not order.triggered:
            if order_type is OrderType.TRAILING_STOP and order.extreme is None:
                self._set_trail_reference(order, open_)
            stop = order.stop
            hit = high >= stop if is_buy else low <= stop  # type: ignore[operator]
            if not hit:
                if order_type is OrderType.TRAILING_STOP:
                    self._ratchet(order, high if not is_buy else low)  # after the trigger check: no look-ahead
                return None
            order.triggered = True
            gapped = open_ >= stop if is_buy else open_ <= stop  # type: ignore[operator]
            events.append(self._event(order.id, EventKind.TRIGGERED, ts_open if gapped else bar_end,
                                      venue_order_id=order.venue_order_id,
                                      details={"stop_price": str(stop), "gapped": gapped}))
            if order_type is not OrderType.STOP_LIMIT:
                return (open_, True, True, ts_open) if gapped else (stop, True, True, bar_end)  # type: ignore[return-value]
            if not gapped:
                # Adverse path: the bar's best prices came before the trigger; after it only [stop, high]
                # (buy) or [low, stop] (sell) traded, so the limit is reachable only from the stop.
                limit = order.limit
                reachable = (stop < limit or (touch and stop <= limit)) if is_buy else (  # type: ignore[operator]
                    stop > limit or (touch and stop >= limit))  # type: ignore[operator]
                return (stop, True, True, bar_end) if reachable else None  # type: ignore[return-value]
            # Triggered at the open: the whole bar is after the trigger; fall through to the limit rule.
        if order_type is OrderType.STOP or order_type is OrderType.TRAILING_STOP:
            return open_, True, True, ts_open
        limit = order.limit
        if is_buy:
            if not (low < limit or (touch and low <= limit)):  # type: ignore[operator]
                return None
            if open_ <= limit:  # type: ignore[operator]
                return open_, True, True, ts_open
            return limit, False, False, bar_end  # type: ignore[return-value]
        if not (high > limit or (touch and high >= limit)):  # type: ignore[operator]
            return None
        if open_ >= limit:  # type: ignore[operator]
            return open_, True, True, ts_open
        return limit, False, False, bar_end  # type: ignore[return-value]

    def _match_bar(self, order: _Order, prices: list[Any],
                   capacity: Decimal | None, tradable: bool, ts_open: datetime, bar_end: datetime,
                   events: list[OrderEvent]) -> Decimal | None:
        order.evaluated = True
        tif = order.tif
        execution = None
        if tradable:
            execution = self._bar_execution(order, prices, ts_open, bar_end, events)
        if execution is not None:
            reference, taker, slipped, ts = execution
            quantity = self._allowed(order, capacity)
            if tif is TimeInForce.FOK and quantity < order.quantity - order.filled:
                self._close_out(order, EventKind.CANCELLED, bar_end,
                                f"fill or kill: only {quantity} of {order.quantity - order.filled} available", events)
                return capacity
            if quantity > 0:
                price = self._taker_price(order, reference, quantity) if slipped else reference
                self._fill(order, quantity, price, Liquidity.TAKER if taker else Liquidity.MAKER, ts, events)
                if capacity is not None:
                    capacity -= quantity
        if not order.done and tif in (TimeInForce.IOC, TimeInForce.FOK):
            rule = "immediate or cancel" if tif is TimeInForce.IOC else "fill or kill"
            self._close_out(order, EventKind.CANCELLED, bar_end, f"{rule}: unfilled quantity cancelled", events)
        return capacity

    # ------------------------------------------------------------------ quotes and trades

    def on_quote(self, symbol: str, ts: datetime, bid: Any, bid_size: Any, ask: Any, ask_size: Any) -> list[OrderEvent]:
        """Match the symbol's working orders against a level-1 quote.

        Parameters
        ----------
        symbol, ts
            The quoted symbol and the quote's instant (aware).
        bid, ask
            Best prices (Decimal, int, str or float; floats via ``decimal_from_float``).
        bid_size, ask_size
            Shares displayed at the best prices.

        Returns
        -------
        list of OrderEvent
            Fills, triggers, IOC/FOK cancels and DAY expiries, orders in time priority.
        """
        symbol = self._symbol(symbol)
        ts = _utc(ts, "ts")
        bid_price, ask_price = _price(bid, "bid"), _price(ask, "ask")
        if self._observe_quote is not None:
            self._observe_quote(symbol, bid_price, ask_price)
        self._last_price[symbol] = (bid_price + ask_price) / 2
        return self._match_ticks(symbol, ts, ask_price, _size(ask_size, "ask_size"), bid_price,
                                 _size(bid_size, "bid_size"), is_trade=False)

    def on_trade(self, symbol: str, ts: datetime, price: Any, size: Any) -> list[OrderEvent]:
        """Match the symbol's working orders against a trade print of ``size`` shares at ``price``."""
        symbol = self._symbol(symbol)
        ts = _utc(ts, "ts")
        trade_price = _price(price, "price")
        self._last_price[symbol] = trade_price
        shares = _size(size, "size")
        return self._match_ticks(symbol, ts, trade_price, shares, trade_price, shares, is_trade=True)

    def _match_ticks(self, symbol: str, ts: datetime, buy_price: Decimal, buy_size: Decimal, sell_price: Decimal,
                     sell_size: Decimal, *, is_trade: bool) -> list[OrderEvent]:
        taken: list[Any] | None = None
        if not is_trade and not self.fill_convention.quotes_refresh_liquidity:
            # Recorded quotes do not see our fills: while a price level is unchanged, only the size
            # above what we already took from it is new liquidity. A new price level starts afresh.
            taken = self._taken.get(symbol)
            if taken is None:
                taken = self._taken[symbol] = [buy_price, _ZERO, sell_price, _ZERO]
            if taken[0] == buy_price:
                buy_size = max(buy_size - taken[1], _ZERO)
            else:
                taken[0], taken[1] = buy_price, _ZERO
            if taken[2] == sell_price:
                sell_size = max(sell_size - taken[3], _ZERO)
            else:
                taken[2], taken[3] = sell_price, _ZERO
        orders = self._by_symbol.get(symbol)
        if not orders:
            return []
        events: list[OrderEvent] = []
        ts_us = _us(ts)
        available = {True: buy_size, False: sell_size}
        for order in tuple(orders):
            if order.done:
                continue
            if order.close_us is not None and ts_us >= order.close_us:
                self._expire_day(order, events)
                continue
            if ts < order.eligible_at or order.tif in _AUCTION_TIFS:
                continue
            is_buy = order.is_buy
            used = self._match_tick(order, ts, buy_price if is_buy else sell_price, available[is_buy], is_trade,
                                    events)
            available[is_buy] -= used
        if taken is not None:
            taken[1] += buy_size - available[True]
            taken[3] += sell_size - available[False]
        if events:
            remaining = [o for o in orders if not o.done]
            if remaining:
                self._by_symbol[symbol] = remaining
            else:
                del self._by_symbol[symbol]
            for order in orders:
                if order.done:
                    self._by_id.pop(order.id, None)
        return events

    def _match_tick(self, order: _Order, ts: datetime, price: Decimal, size: Decimal, is_trade: bool,
                    events: list[OrderEvent]) -> Decimal:
        """Fill ``order`` against ``size`` shares offered at ``price``; return the shares used."""
        is_buy = order.is_buy
        resting = order.evaluated
        order.evaluated = True
        if not order.triggered:
            if order.type is OrderType.TRAILING_STOP and order.extreme is None:
                self._set_trail_reference(order, price)
            stop = order.stop
            if not (price >= stop if is_buy else price <= stop):  # type: ignore[operator]
                if order.type is OrderType.TRAILING_STOP:
                    self._ratchet(order, price)
                return _ZERO
            order.triggered = True
            resting = False  # a stop-limit's limit order is born now
            events.append(self._event(order.id, EventKind.TRIGGERED, ts, venue_order_id=order.venue_order_id,
                                      details={"stop_price": str(stop)}))
        limit = order.limit if order.type in (OrderType.LIMIT, OrderType.STOP_LIMIT) else None
        if limit is None:
            fill_price, liquidity = price, Liquidity.TAKER
        else:
            touch = self.fill_convention.touch_fills
            marketable = price <= limit if is_buy else price >= limit
            if is_trade and resting:
                crossed = (price < limit or (touch and price == limit)) if is_buy else (
                    price > limit or (touch and price == limit))
            else:
                crossed = marketable
            if not crossed:
                fill_price, liquidity = None, Liquidity.TAKER
            elif resting:
                fill_price, liquidity = limit, Liquidity.MAKER
            else:
                fill_price, liquidity = price, Liquidity.TAKER
        used = _ZERO
        tif = order.tif
        if fill_price is not None:
            quantity = self._allowed(order, size)
            if tif is TimeInForce.FOK and quantity < order.quantity - order.filled:
                self._close_out(order, EventKind.CANCELLED, ts,
                                f"fill or kill: only {quantity} of {order.quantity - order.filled} available", events)
                return _ZERO
            if quantity > 0:
                self._fill(order, quantity, fill_price, liquidity, ts, events)
                used = quantity
        if not order.done and tif in (TimeInForce.IOC, TimeInForce.FOK):
            rule = "immediate or cancel" if tif is TimeInForce.IOC else "fill or kill"
            self._close_out(order, EventKind.CANCELLED, ts, f"{rule}: unfilled quantity cancelled", events)
        return used

    # ------------------------------------------------------------------ time

    def expire(self, ts: datetime) -> list[OrderEvent]:
        """Expire every DAY order whose session closed at or before ``ts`` (e.g. at end of day without bars)."""
        ts_us = _us(_utc(ts, "ts"))
        events: list[OrderEvent] = []
        for order in list(self._by_id.values()):
            if order.close_us is not None and ts_us >= order.close_us:
                self._expire_day(order, events)
                self._remove(order)
        return events

    def __repr__(self) -> str:
        return (f"PaperExchange(fee_model={self.fee_model!r}, slippage_model={self.slippage_model!r}, "
                f"calendar={self.calendar_name!r}, participation_cap={self.participation_cap}, "
                f"latency_ns={self.latency_ns}, working={len(self._by_id)})")
