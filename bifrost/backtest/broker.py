"""The backtest venue and account: the paper exchange's fill rules on float arrays.

:class:`SimBroker` is the event engine's exchange plus account. It applies the same
conventions as :class:`bifrost.execution.PaperExchange` (the paper-trading venue), so a
strategy's fills in a backtest are the fills it would get in paper trading on the same
bars; ``tests/backtest/test_event_parity.py`` runs strategies through both and compares
every fill:

* an order is eligible for bars that open at or after it was sent; a market order fills
  at the open of the symbol's next bar;
* a limit fills only if the bar trades through it (``low < L`` for a buy; touching is not
  enough), at the open if the bar gaps through, else at the limit;
* a stop triggers when the bar reaches it and fills at the stop, or at the open on a gap;
  a stop-limit triggered inside the bar can only fill at the stop; a trailing stop
  tightens after each bar's trigger check, never inside the bar;
* DAY orders expire at the session close; IOC and FOK are cancelled after their first
  eligible bar; a participation cap limits each bar's fill to a share of its volume;
* fees come from the trading core's fee models (Decimal, rounded as the ledger books
  them) and slippage from its slippage models, on every taker fill.

The account is cash plus positions in float64 (the ledger's Decimal is reproduced by the
core broker, :class:`~bifrost.backtest.core.CoreBroker`, when a run needs it). A cash
account refuses buys it cannot pay for at the last price and sales of shares it does not
hold; a margin account refuses orders that would take gross exposure above
``leverage_limit`` times equity.
"""

from __future__ import annotations

import math
from bisect import bisect_right
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import ROUND_HALF_EVEN, Decimal

from bifrost.core.calendars import get_calendar
from bifrost.core.errors import InvalidInput
from bifrost.core.money import decimal_from_float
from bifrost.execution.fees import BasisPointsFeeModel, FeeModel, ZeroFeeModel
from bifrost.execution.slippage import NoSlippage, SlippageModel
from bifrost.orders.types import Liquidity, Side

__all__ = ["FillInfo", "OrderUpdate", "SimBroker", "SimOrder"]

ORDER_TYPES = ("market", "limit", "stop", "stop_limit", "trailing_stop")
TIFS = ("day", "gtc", "ioc", "fok", "opg", "cls")
_STOPS = ("stop", "stop_limit", "trailing_stop")
_BUY, _SELL = Side.BUY, Side.SELL
_CENT = Decimal("0.01")


def _half_even_div(numerator: int, denominator: int) -> int:
    """``numerator / denominator`` rounded half to even (integers, denominator > 0)."""
    q, r = divmod(numerator, denominator)
    if 2 * r > denominator or (2 * r == denominator and q % 2):
        q += 1
    return q


@dataclass(slots=True)
class OrderUpdate:
    """What the venue reported on an order: ``kind`` is accepted, triggered, partially_filled,
    filled, cancelled, rejected or expired."""

    order_id: str
    symbol: str
    kind: str
    ts_ns: int
    reason: str = ""
    filled_quantity: float = 0.0

    @property
    def ts(self) -> datetime:
        return datetime.fromtimestamp(self.ts_ns / 1e9, UTC)


@dataclass(slots=True)
class FillInfo:
    """One execution."""

    fill_id: str
    order_id: str
    symbol: str
    side: str
    quantity: float
    price: float
    commission: float
    fees: float
    ts_ns: int
    liquidity: str


def _integer_bps_tenths(model: FeeModel) -> int | None:
    """Tenths of a basis point, for fee models that integer arithmetic reproduces exactly."""
    if isinstance(model, ZeroFeeModel):
        return 0
    if type(model) is BasisPointsFeeModel and model.min_per_order == 0 and model.currency == "USD":
        tenths = model.fee_bps * 10
        if tenths == tenths.to_integral_value() and tenths >= 0:
            return int(tenths)
    return None


class SimOrder:
    """Working state of one order."""

    __slots__ = ("id", "symbol", "buy", "qty", "filled", "type", "limit", "stop", "trail_amount", "trail_percent",
                 "tif", "eligible_ns", "close_ns", "triggered", "extreme", "status", "reason", "fill_count",
                 "notional", "commission_charged", "regulatory_charged", "tag", "parent", "children", "oco",
                 "submitted_ns")

    def __init__(self, order_id: str, symbol: str, buy: bool, qty: float, order_type: str, tif: str, *,
                 limit: float | None, stop: float | None, trail_amount: float | None, trail_percent: float | None,
                 submitted_ns: int, close_ns: int | None, tag: str = "") -> None:
        self.id = order_id
        self.symbol = symbol
        self.buy = buy
        self.qty = qty
        self.filled = 0.0
        self.type = order_type
        self.limit = limit
        self.stop = stop
        self.trail_amount = trail_amount
        self.trail_percent = trail_percent
        self.tif = tif
        self.eligible_ns = submitted_ns
        self.submitted_ns = submitted_ns
        self.close_ns = close_ns
        self.triggered = order_type not in _STOPS
        self.extreme: float | None = None
        self.status = "accepted"
        self.reason = ""
        self.fill_count = 0
        self.notional = Decimal(0)
        self.commission_charged = Decimal(0)
        self.regulatory_charged = Decimal(0)
        self.tag = tag
        self.parent: str | None = None
        self.children: list[str] = []
        self.oco: list[str] = []

    @property
    def side(self) -> str:
        return "buy" if self.buy else "sell"

    @property
    def remaining(self) -> float:
        return self.qty - self.filled

    @property
    def done(self) -> bool:
        return self.status in ("filled", "cancelled", "rejected", "expired")


class RunBook:
    """What every broker behind the strategy engine keeps for it: last prices, order mirrors,
    working orders by symbol, the fills with the step and cash change of each, corporate-action
    adjustments, and the reports waiting for the strategy's ``on_order``/``on_fill``."""

    every_bar = False  # whether the engine must show the broker every bar, or only bars with working orders

    def _open_book(self) -> None:
        self.clock = None  # the engine: now_ns and step
        self.reporting = True  # build OrderUpdate/FillInfo reports for the strategy
        self.last: dict[str, float] = {}
        self.orders: dict[str, SimOrder] = {}
        self.working: dict[str, list[SimOrder]] = {}  # symbol -> working orders in time priority
        self.fills: list[tuple] = []  # (ts_ns, symbol, side, qty, price, commission, fees, order_id, fill_id)
        self.fill_steps: list[int] = []
        self.cash_flows: list[float] = []  # cash change of each fill: notional (to the cent), fees
        self.adjustments: list[tuple[int, str, float, float]] = []  # (step, symbol, shares, cash) of actions
        self.updates: list[OrderUpdate] = []
        self.new_fills: list[FillInfo] = []

    def begin(self, start_ns: int, symbols: tuple[str, ...]) -> None:
        """Called once before the first bar; nothing to do unless the broker opens an account."""


class SimBroker(RunBook):
    """Simulated exchange and float account for the event engine."""

    def __init__(self, *, cash: float, fee_model: FeeModel | None = None, slippage_model: SlippageModel | None = None,
                 margin: bool = False, leverage_limit: float = 2.0, participation_cap: float | None = None,
                 calendar: str = "XNYS", fill_on_zero_volume: bool = False, touch_fills: bool = False,
                 allow_short: bool | None = None) -> None:
        if not (cash > 0 and math.isfinite(cash)):
            raise InvalidInput(f"starting cash must be positive, was {cash}")
        if participation_cap is not None and not 0 < participation_cap <= 1:
            raise InvalidInput(f"participation_cap must be in (0, 1], was {participation_cap}")
        if margin and not leverage_limit >= 1:
            raise InvalidInput(f"leverage_limit must be at least 1, was {leverage_limit}")
        self.cash = float(cash)
        self.fee_model = fee_model if fee_model is not None else ZeroFeeModel()
        self._free_fees = isinstance(self.fee_model, ZeroFeeModel)
        self._bps_tenths = _integer_bps_tenths(self.fee_model)
        self.slippage_model = slippage_model if slippage_model is not None else NoSlippage()
        self._no_slippage = isinstance(self.slippage_model, NoSlippage)
        self.margin = margin
        self.leverage_limit = float(leverage_limit)
        self.allow_short = margin if allow_short is None else allow_short
        self.participation_cap = participation_cap
        self.fill_on_zero_volume = fill_on_zero_volume
        self.touch_fills = touch_fills
        cal = get_calendar(calendar)
        self._closes = cal.closes_nanos.tolist()
        self._opens = cal.opens_nanos.tolist()
        self.positions: dict[str, float] = {}
        self._open_book()
        self._brackets: dict[str, tuple] = {}  # parent id -> (take_profit spec, stop_loss spec, tif)

    # ------------------------------------------------------------------ account

    def equity(self) -> float:
        last = self.last
        return self.cash + sum(q * last.get(s, 0.0) for s, q in self.positions.items() if q)

    def gross_exposure(self) -> float:
        last = self.last
        return sum(abs(q) * last.get(s, 0.0) for s, q in self.positions.items() if q)

    def _reserved(self, symbol: str | None = None) -> tuple[float, float]:
        """Cash promised to working buys (at limit or last price), less what working market
        sells of held shares will raise at the last price; and shares promised to working sells."""
        cash = 0.0
        shares = 0.0
        for orders in self.working.values():
            for o in orders:
                left = o.qty - o.filled
                if o.buy:
                    price = o.limit if o.limit is not None else self.last.get(o.symbol, 0.0)
                    cash += left * price
                elif o.parent is None:
                    if o.type == "market" and self.positions.get(o.symbol, 0.0) >= left:
                        cash -= left * self.last.get(o.symbol, 0.0)
                    if o.symbol == symbol:
                        shares += left
        return cash, shares

    def refusal(self, symbol: str, buy: bool, qty: float, limit: float | None) -> str:
        """Why an order may not be sent (empty if it may), mirroring the pre-trade checks."""
        price = limit if limit is not None else self.last.get(symbol)
        held = self.positions.get(symbol, 0.0)
        if not self.margin:
            if buy:
                if price is None:
                    return ""
                reserved_cash, _ = self._reserved()
                need = qty * price
                available = self.cash - reserved_cash
                if need > available + 1e-9:
                    return (f"insufficient cash: buying {qty:g} {symbol} needs about {need:,.2f}, "
                            f"{available:,.2f} available")
            elif not self.allow_short:
                _, promised = self._reserved(symbol)
                if qty > held - promised + 1e-9:
                    return (f"cash account cannot sell short: selling {qty:g} {symbol} but only "
                            f"{max(held - promised, 0.0):g} held and not already being sold")
            return ""
        if price is None:
            return ""
        equity = self.equity()
        after = held + (qty if buy else -qty)
        gross = self.gross_exposure() - abs(held) * price + abs(after) * price
        if equity <= 0 or gross > self.leverage_limit * equity + 1e-6:
            return (f"leverage limit: gross exposure would be {gross:,.2f}, above {self.leverage_limit:g}x "
                    f"equity {equity:,.2f}")
        return ""

    # ------------------------------------------------------------------ orders

    def _close_after(self, ts_ns: int) -> int | None:
        index = bisect_right(self._closes, ts_ns)
        return self._closes[index] if index < len(self._closes) else None

    def submit(self, order_id: str, symbol: str, buy: bool, qty: float, order_type: str, tif: str, now_ns: int, *,
               limit: float | None = None, stop: float | None = None, trail_amount: float | None = None,
               trail_percent: float | None = None, tag: str = "", check: bool = True) -> SimOrder:
        if order_id in self.orders:
            raise InvalidInput(f"duplicate order id {order_id!r}: ids must be unique")
        order = SimOrder(order_id, symbol, buy, qty, order_type, tif, limit=limit, stop=stop,
                         trail_amount=trail_amount, trail_percent=trail_percent, submitted_ns=now_ns,
                         close_ns=self._close_after(now_ns) if tif == "day" else None, tag=tag)
        self.orders[order_id] = order
        reason = self._venue_rejection(order_type, tif) or (self.refusal(symbol, buy, qty, limit) if check else "")
        if reason:
            order.status = "rejected"
            order.reason = reason
            if self.reporting:
                self.updates.append(OrderUpdate(order_id, symbol, "rejected", now_ns, reason))
            return order
        if order_type == "trailing_stop":
            last = self.last.get(symbol)
            if last is not None:
                self._set_trail(order, last)
        self.working.setdefault(symbol, []).append(order)
        if self.reporting:
            self.updates.append(OrderUpdate(order_id, symbol, "accepted", now_ns))
        return order

    @staticmethod
    def _venue_rejection(order_type: str, tif: str) -> str:
        """The paper exchange's acceptance rules for time in force."""
        if tif in ("opg", "cls") and order_type not in ("market", "limit"):
            return f"time_in_force {tif} takes market or limit orders, not {order_type}"
        if tif in ("ioc", "fok") and order_type in _STOPS:
            return f"time_in_force {tif} cannot be used with {order_type} orders"
        return ""

    def cancel(self, order_id: str, now_ns: int, reason: str = "cancelled by the strategy") -> bool:
        order = self.orders.get(order_id)
        if order is None:
            raise InvalidInput(f"unknown order id {order_id!r}")
        if order.done:
            return False
        if order.id in self._brackets:
            del self._brackets[order.id]
        self._finish(order, "cancelled", now_ns, reason)
        return True

    def _finish(self, order: SimOrder, status: str, ts_ns: int, reason: str = "") -> None:
        order.status = status
        order.reason = reason
        orders = self.working.get(order.symbol)
        if orders is not None and order in orders:
            orders.remove(order)
            if not orders:
                del self.working[order.symbol]
        if status != "filled" and self.reporting:
            self.updates.append(OrderUpdate(order.id, order.symbol, status, ts_ns, reason, order.filled))

    def submit_bracket(self, order_id: str, symbol: str, buy: bool, qty: float, order_type: str, tif: str,
                       now_ns: int, *, limit: float | None, take_profit: float | None, stop_loss: float | None,
                       tag: str = "") -> SimOrder:
        """An entry whose take profit (limit) and stop loss (stop) go out, GTC and one-cancels-other,
        when it has filled completely."""
        order = self.submit(order_id, symbol, buy, qty, order_type, tif, now_ns, limit=limit, tag=tag)
        if order.status != "rejected":
            self._brackets[order_id] = (take_profit, stop_loss, "gtc")
        return order

    # ------------------------------------------------------------------ corporate actions

    def corporate_action(self, symbol: str, kind: str, value: float, ts_ns: int) -> None:
        """Apply a split (``value`` new shares per old) or a cash dividend (``value`` per share)
        on its ex-date, before the day's first bar is matched. A split cancels the symbol's
        working orders (their prices and sizes would be stale); a dividend is paid on the
        position held (a short position pays it), rounded to the cent."""
        held = self.positions.get(symbol, 0.0)
        if kind == "split":
            for order in tuple(self.working.get(symbol, ())):
                self._finish(order, "cancelled", ts_ns, f"cancelled by a {value:g}-for-1 split of {symbol}")
            if held:
                change = held * value - held
                self.positions[symbol] = held + change
                self.adjustments.append((self.clock.step, symbol, change, 0.0))
        elif held:
            amount = float((Decimal(repr(value)) * Decimal(repr(abs(held)))).quantize(_CENT, ROUND_HALF_EVEN))
            amount = amount if held > 0 else -amount
            self.cash += amount
            self.adjustments.append((self.clock.step, symbol, 0.0, amount))

    # ------------------------------------------------------------------ trailing stops

    def _set_trail(self, order: SimOrder, price: float) -> None:
        order.extreme = price
        offset = order.trail_amount if order.trail_amount is not None else price * order.trail_percent / 100.0
        order.stop = round(price + offset if order.buy else price - offset, 6)

    def _ratchet(self, order: SimOrder, price: float) -> None:
        extreme = order.extreme
        if extreme is None or (price < extreme if order.buy else price > extreme):
            self._set_trail(order, price)

    # ------------------------------------------------------------------ matching

    def on_bar(self, symbol: str, start_ns: int, end_ns: int, o: float, h: float, lo: float, c: float,
               v: float) -> None:
        """Match ``symbol``'s working orders against one bar, then remember its close."""
        orders = self.working.get(symbol)
        if orders:
            tradable = v > 0 or self.fill_on_zero_volume
            capacity = None if self.participation_cap is None else math.floor(v * self.participation_cap)
            for order in tuple(orders):
                if order.done:
                    continue
                close_ns = order.close_ns
                if close_ns is not None and start_ns >= close_ns:
                    self._finish(order, "expired", close_ns, "day order expired at the session close")
                    continue
                if start_ns >= order.eligible_ns:
                    if order.tif == "opg" or order.tif == "cls":
                        capacity = self._match_auction(order, o, c, tradable, capacity, start_ns, end_ns)
                    else:
                        capacity = self._match(order, o, h, lo, tradable, capacity, start_ns, end_ns)
                if not order.done and close_ns is not None and end_ns >= close_ns:
                    self._finish(order, "expired", close_ns, "day order expired at the session close")
        self.last[symbol] = c

    def _match_auction(self, order: SimOrder, o: float, c: float, tradable: bool, capacity: float | None,
                       start_ns: int, end_ns: int) -> float | None:
        """OPG fills at the open of the session's opening bar, CLS at the close of its closing
        bar, if marketable against the limit; what is not filled then expires."""
        index = bisect_right(self._closes, start_ns)
        if index >= len(self._closes):
            return capacity
        opening = order.tif == "opg"
        at_open = start_ns <= self._opens[index] < end_ns
        at_close = self._closes[index] <= end_ns
        if not (at_open if opening else at_close):
            return capacity  # wait for the session's opening (closing) bar
        price = o if opening else c
        ts_ns = start_ns if opening else end_ns
        limit = order.limit
        marketable = limit is None or (price <= limit if order.buy else price >= limit)
        name = "opening" if opening else "closing"
        if not tradable or not marketable:
            self._finish(order, "expired", ts_ns, f"not filled in the {name} auction")
            return capacity
        left = order.qty - order.filled
        quantity = left if capacity is None or left <= capacity else float(capacity)
        if quantity > 0:
            self._fill(order, quantity, price, True, ts_ns, slipped=False)
            if capacity is not None:
                capacity -= quantity
        if not order.done:
            self._finish(order, "expired", ts_ns,
                         f"unfilled remainder expired after the {name} auction (participation cap)")
        return capacity

    def _execution(self, order: SimOrder, o: float, h: float, lo: float, start_ns: int,
                   end_ns: int) -> tuple[float, bool, int] | None:
        buy = order.buy
        kind = order.type
        if kind == "market":
            return o, True, start_ns
        if not order.triggered:
            if kind == "trailing_stop" and order.extreme is None:
                self._set_trail(order, o)
            stop = order.stop
            if not (h >= stop if buy else lo <= stop):
                if kind == "trailing_stop":
                    self._ratchet(order, lo if buy else h)
                return None
            order.triggered = True
            gapped = o >= stop if buy else o <= stop
            if self.reporting:
                self.updates.append(OrderUpdate(order.id, order.symbol, "triggered", start_ns if gapped else end_ns))
            if kind != "stop_limit":
                return (o, True, start_ns) if gapped else (stop, True, end_ns)
            if not gapped:
                limit = order.limit
                touch = self.touch_fills
                reachable = (stop < limit or (touch and stop <= limit)) if buy else (
                    stop > limit or (touch and stop >= limit))
                return (stop, True, end_ns) if reachable else None
        if kind == "stop" or kind == "trailing_stop":
            return o, True, start_ns
        limit = order.limit
        touch = self.touch_fills
        if buy:
            if not (lo < limit or (touch and lo <= limit)):
                return None
            return (o, True, start_ns) if o <= limit else (limit, False, end_ns)
        if not (h > limit or (touch and h >= limit)):
            return None
        return (o, True, start_ns) if o >= limit else (limit, False, end_ns)

    def _match(self, order: SimOrder, o: float, h: float, lo: float, tradable: bool, capacity: float | None,
               start_ns: int, end_ns: int) -> float | None:
        execution = self._execution(order, o, h, lo, start_ns, end_ns) if tradable else None
        tif = order.tif
        if execution is not None:
            price, taker, ts_ns = execution
            left = order.qty - order.filled
            quantity = left if capacity is None or left <= capacity else float(capacity)
            if tif == "fok" and quantity < left:
                self._finish(order, "cancelled", end_ns, f"fill or kill: only {quantity:g} of {left:g} available")
                return capacity
            if quantity > 0:
                self._fill(order, quantity, price, taker, ts_ns)
                if capacity is not None:
                    capacity -= quantity
        if not order.done and tif in ("ioc", "fok"):
            rule = "immediate or cancel" if tif == "ioc" else "fill or kill"
            self._finish(order, "cancelled", end_ns, f"{rule}: unfilled quantity cancelled")
        return capacity

    def _fill(self, order: SimOrder, quantity: float, price: float, taker: bool, ts_ns: int, *,
              slipped: bool = True) -> None:
        buy = order.buy
        side = _BUY if buy else _SELL
        if taker and slipped and not self._no_slippage:
            slipped = self.slippage_model.execution_price(symbol=order.symbol, side=side,
                                                          reference_price=decimal_from_float(price),
                                                          quantity=Decimal(repr(quantity)))
            price = float(slipped)
            if order.limit is not None and order.type in ("limit", "stop_limit"):
                price = min(price, order.limit) if buy else max(price, order.limit)
        else:
            price = round(price, 6)
        first = order.filled == 0
        order.fill_count += 1
        order.filled += quantity
        exact = self._exact_cents(price, quantity) if first and self._bps_tenths is not None else None
        if exact is not None:
            # integer micro-dollars: the same cents as the Decimal fee model and ledger, faster
            micro, notional_micro = exact
            price = micro / 1_000_000
            notional = _half_even_div(notional_micro, 10_000) / 100
            commission = _half_even_div(notional_micro * self._bps_tenths, 1_000_000_000) / 100
            fees = 0.0
            if order.filled < order.qty - 1e-12:  # a later partial fill prices its fees on the running totals
                order.notional = Decimal(notional_micro).scaleb(-6)
                order.commission_charged = Decimal(repr(commission))
        else:
            if self._free_fees:
                commission = fees = 0.0
            else:
                commission, fees = self._decimal_fees(order, side, quantity, price, taker, ts_ns, first,
                                                      auction=not slipped)
            # the ledger books the notional rounded to the cent (half even), so does the account
            notional = float((Decimal(repr(price)) * Decimal(repr(quantity))).quantize(_CENT, ROUND_HALF_EVEN))
        symbol = order.symbol
        signed = quantity if buy else -quantity
        self.positions[symbol] = self.positions.get(symbol, 0.0) + signed
        flow = (-notional if buy else notional) - commission - fees
        self.cash += flow
        self.cash_flows.append(flow)
        fill_id = f"{order.id}-{order.fill_count}"
        self.fills.append((ts_ns, symbol, "buy" if buy else "sell", quantity, price, commission, fees, order.id,
                           fill_id))
        self.fill_steps.append(self.clock.step)
        complete = order.filled >= order.qty - 1e-12
        if self.reporting:
            self.new_fills.append(FillInfo(fill_id, order.id, symbol, "buy" if buy else "sell", quantity, price,
                                           commission, fees, ts_ns,
                                           "auction" if not slipped else "taker" if taker else "maker"))
            self.updates.append(OrderUpdate(order.id, symbol, "filled" if complete else "partially_filled", ts_ns,
                                            filled_quantity=order.filled))
        if complete:
            self._finish(order, "filled", ts_ns)
        self._after_fill(order, quantity, ts_ns, complete)

    @staticmethod
    def _exact_cents(price: float, quantity: float) -> tuple[int, int] | None:
        """(price in micro-dollars, notional in micro-dollars) when integer arithmetic is exact."""
        if not quantity.is_integer():
            return None
        scaled = price * 1_000_000
        floor = math.floor(scaled)
        if abs(scaled - floor - 0.5) < 1e-6:  # a tie in the sixth decimal: let Decimal decide
            return None
        micro = floor + 1 if scaled - floor > 0.5 else floor
        return micro, micro * int(quantity)

    def _decimal_fees(self, order: SimOrder, side: Side, quantity: float, price: float, taker: bool, ts_ns: int,
                      first: bool, *, auction: bool = False) -> tuple[float, float]:
        d_price = decimal_from_float(price)
        d_qty = Decimal(repr(quantity))
        liquidity = Liquidity.AUCTION if auction else Liquidity.TAKER if taker else Liquidity.MAKER
        ts = datetime.fromtimestamp(ts_ns / 1e9, UTC)
        order.notional += d_qty * d_price
        model = self.fee_model
        if first:
            b = model.fees(side=side, quantity=d_qty, price=d_price, liquidity=liquidity, ts=ts)
            commission_d, regulatory_d, exchange_d = b.commission, b.regulatory, b.exchange
        else:
            total = model.fees(side=side, quantity=Decimal(repr(order.filled)), price=d_price,
                               liquidity=liquidity, ts=ts, notional=order.notional)
            own = model.fees(side=side, quantity=d_qty, price=d_price, liquidity=liquidity, ts=ts)
            commission_d = max(total.commission - order.commission_charged, Decimal(0))
            regulatory_d = max(total.regulatory - order.regulatory_charged, Decimal(0))
            exchange_d = own.exchange
        order.commission_charged += commission_d
        order.regulatory_charged += regulatory_d
        return float(commission_d), float(regulatory_d + exchange_d)

    # ------------------------------------------------------------------ brackets and OCO

    def _after_fill(self, order: SimOrder, quantity: float, ts_ns: int, complete: bool) -> None:
        spec = self._brackets.get(order.id)
        if spec is not None and complete:
            del self._brackets[order.id]
            take_profit, stop_loss, tif = spec
            exit_buy = not order.buy
            children = []
            if take_profit is not None:
                children.append(self.submit(f"{order.id}-tp", order.symbol, exit_buy, order.filled, "limit", tif,
                                            self.clock.now_ns, limit=take_profit, check=False))
            if stop_loss is not None:
                children.append(self.submit(f"{order.id}-sl", order.symbol, exit_buy, order.filled, "stop", tif,
                                            self.clock.now_ns, stop=stop_loss, check=False))
            ids = [c.id for c in children]
            for child in children:
                child.parent = order.id
                child.oco = [i for i in ids if i != child.id]
            order.children = ids
        if order.oco:
            for sibling_id in order.oco:
                sibling = self.orders[sibling_id]
                if sibling.done:
                    continue
                held = abs(self.positions.get(order.symbol, 0.0))
                if complete or held <= 1e-12:
                    self._finish(sibling, "cancelled", ts_ns, f"one-cancels-other: {order.id} filled")
                elif sibling.qty - sibling.filled > held:
                    sibling.qty = sibling.filled + held  # resize to what is still held

