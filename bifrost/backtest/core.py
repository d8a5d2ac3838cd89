"""A backtest broker on the trading core itself: TradingEngine, PaperExchange and Ledger.

``run(..., broker="core")`` replays a strategy through exactly what paper trading runs:
the pre-trade chain, the order state machine, bracket and OCO groups, the paper exchange
(fills, fees, slippage) and the double-entry ``Decimal`` ledger with tax lots. It is
slower than the simulated broker (every bar goes through the exchange and every fill is
posted to the ledger) and is what the simulated broker is checked against
(``tests/backtest/test_event_parity.py``); use it when a backtest must produce a ledger.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import ROUND_HALF_EVEN, Decimal

from bifrost.backtest.broker import FillInfo, OrderUpdate, RunBook, SimOrder
from bifrost.core.errors import InvalidInput, OrderRejected
from bifrost.core.money import decimal_from_float
from bifrost.core.time import SimulatedClock
from bifrost.execution import FeeModel, PaperExchange, SlippageModel
from bifrost.orders.groups import make_bracket
from bifrost.orders.pretrade import MarketHoursCheck, PreTradeChain
from bifrost.orders.types import OrderRequest
from bifrost.portfolio import Deposit, Dividend, Ledger, LedgerConfig, Split
from bifrost.trading.engine import MarketView, TradingEngine

__all__ = ["CoreBroker"]

_KINDS = {"accepted", "triggered", "partially_filled", "filled", "cancelled", "rejected", "expired"}
_TERMINAL = {"filled", "cancelled", "rejected", "expired"}


def _dt(ns: int) -> datetime:
    return datetime(1970, 1, 1, tzinfo=UTC) + timedelta(microseconds=ns // 1000)


class CoreBroker(RunBook):
    """The event engine's broker interface over a :class:`TradingEngine`."""

    every_bar = True

    def __init__(self, *, cash: float, fee_model: FeeModel | None = None, slippage_model: SlippageModel | None = None,
                 margin: bool = False, leverage_limit: float = 2.0, participation_cap: float | None = None,
                 calendar: str = "XNYS") -> None:
        self.initial_cash = Decimal(repr(float(cash)))
        self.margin = margin
        self.leverage_limit = float(leverage_limit)
        self.venue = PaperExchange(fee_model, slippage_model, calendar=calendar, participation_cap=participation_cap)
        self.ledger = Ledger(LedgerConfig(margin=margin, leverage_limit=Decimal(repr(float(leverage_limit)))))
        self.sim_clock: SimulatedClock | None = None
        self.engine: TradingEngine | None = None
        self._open_book()

    @classmethod
    def attach(cls, engine: TradingEngine) -> CoreBroker:
        """Wrap a running trading engine (paper or live): its ledger, venue, clock and pre-trade
        chain stay as they are; an existing listener keeps receiving every callback."""
        broker = cls.__new__(cls)
        broker.initial_cash = engine.ledger.cash()
        broker.margin = engine.ledger.config.margin
        broker.leverage_limit = float(engine.ledger.config.leverage_limit)
        broker.venue = engine.venue
        broker.ledger = engine.ledger
        broker.sim_clock = engine.clock if isinstance(engine.clock, SimulatedClock) else None
        broker.engine = engine
        broker._open_book()
        broker._forward = engine.listener
        engine.listener = broker
        for order in engine.open_orders():  # orders already working before the session
            broker.order_created(order)
            broker.orders[order.client_order_id].status = order.status.value
            broker.working.setdefault(order.request.symbol, []).append(broker.orders[order.client_order_id])
        return broker

    _forward = None

    def begin(self, start_ns: int, symbols: tuple[str, ...]) -> None:
        """Open the account just before the first bar (unless attached to a running engine)."""
        if self.engine is not None:
            self.engine.market.known_symbols = set(self.engine.market.known_symbols) | set(symbols)
            return
        first = _dt(start_ns) - timedelta(seconds=1)
        self.sim_clock = SimulatedClock(first)
        self.ledger.post(Deposit(entry_id="initial-cash", ts_event=first, amount=self.initial_cash))
        # a backtest decides at bar closes and queues orders for the next bar, so the live
        # market-hours rule (no DAY order after the close, OPG only before the open) is left out
        chain = PreTradeChain([c for c in PreTradeChain.basic().checks if not isinstance(c, MarketHoursCheck)])
        self.engine = TradingEngine(portfolio_id="backtest", ledger=self.ledger, venue=self.venue,
                                    clock=self.sim_clock, pretrade=chain,
                                    market=MarketView(last_prices={}, known_symbols=set(symbols),
                                                      market_open=lambda ts: True),
                                    listener=self)

    def _advance(self, ns: int) -> None:
        if self.sim_clock is None:  # wall clock: time moves by itself
            return
        instant = _dt(ns)
        if instant > self.sim_clock.now():
            self.sim_clock.advance_to(instant)

    # ------------------------------------------------------------------ account

    @property
    def cash(self) -> float:
        return float(self.ledger.cash())

    @property
    def positions(self) -> dict[str, float]:
        return {s: float(p.quantity) for s, p in self.ledger.positions().items() if p.quantity}

    def equity(self) -> float:
        return self.cash + sum(q * self.last.get(s, 0.0) for s, q in self.positions.items())

    # ------------------------------------------------------------------ orders

    def _sync_market(self) -> None:
        self.engine.update_prices({s: decimal_from_float(p) for s, p in self.last.items()})

    def submit(self, order_id: str, symbol: str, buy: bool, qty: float, order_type: str, tif: str, now_ns: int, *,
               limit: float | None = None, stop: float | None = None, trail_amount: float | None = None,
               trail_percent: float | None = None, tag: str = "", check: bool = True) -> SimOrder:
        request = self._request(order_id, symbol, buy, qty, order_type, tif, limit, stop, trail_amount, trail_percent,
                                tag)
        return self._send(request, now_ns, lambda: self.engine.submit(request))

    def submit_bracket(self, order_id: str, symbol: str, buy: bool, qty: float, order_type: str, tif: str,
                       now_ns: int, *, limit: float | None, take_profit: float | None, stop_loss: float | None,
                       tag: str = "") -> SimOrder:
        if take_profit is None or stop_loss is None:
            raise InvalidInput("the trading core's brackets need both a take profit and a stop loss")
        entry = self._request(order_id, symbol, buy, qty, order_type, tif, limit, None, None, None, tag)
        self._advance(now_ns)
        self._sync_market()
        bracket = make_bracket(entry, take_profit_price=decimal_from_float(take_profit),
                               stop_loss_price=decimal_from_float(stop_loss),
                               reference_price=decimal_from_float(limit if limit is not None else self.last[symbol]),
                               take_profit_id=f"{order_id}-tp", stop_loss_id=f"{order_id}-sl")
        return self._send(entry, now_ns, lambda: self.engine.submit_bracket(bracket))

    @staticmethod
    def _request(order_id, symbol, buy, qty, order_type, tif, limit, stop, trail_amount, trail_percent,
                 tag) -> OrderRequest:
        def dec(value: float | None) -> Decimal | None:
            return None if value is None else decimal_from_float(value)

        return OrderRequest(client_order_id=order_id, symbol=symbol, side="buy" if buy else "sell",
                            quantity=Decimal(repr(float(qty))), order_type=order_type, time_in_force=tif,
                            limit_price=dec(limit), stop_price=dec(stop), trail_amount=dec(trail_amount),
                            trail_percent=dec(trail_percent), tag=tag)

    def _send(self, request: OrderRequest, now_ns: int, send) -> SimOrder:
        self._advance(now_ns)
        self._sync_market()
        try:
            send()
        except OrderRejected:
            pass  # the listener has recorded the rejection and its reasons
        return self.orders[request.client_order_id]

    def cancel(self, order_id: str, now_ns: int, reason: str = "cancelled by the strategy") -> bool:
        order = self.orders.get(order_id)
        if order is None:
            raise InvalidInput(f"unknown order id {order_id!r}")
        if order.done:
            return False
        self._advance(now_ns)
        self.engine.cancel(order_id)
        return True

    # ------------------------------------------------------------------ corporate actions

    def corporate_action(self, symbol: str, kind: str, value: float, ts_ns: int) -> None:
        """Post a split or dividend to the ledger (lots adjusted, income booked); a split
        cancels the symbol's working orders first."""
        self._advance(ts_ns)
        now = self.engine.clock.now()
        held = self.ledger.position(symbol).quantity
        step = self.clock.step if self.clock is not None else 0
        entry_id = f"{kind}-{symbol}-{ts_ns}"
        if kind == "split":
            for order in tuple(self.working.get(symbol, ())):
                self.engine.cancel(order.id)
            if held:
                self.ledger.post(Split(entry_id=entry_id, ts_event=now, symbol=symbol,
                                       ratio=Decimal(repr(float(value)))))
                after = self.ledger.position(symbol).quantity
                self.adjustments.append((step, symbol, float(after - held), 0.0))
        elif held:
            cash = self.ledger.cash()
            self.ledger.post(Dividend(entry_id=entry_id, ts_event=now, symbol=symbol,
                                      amount_per_share=Decimal(repr(float(value)))))
            self.adjustments.append((step, symbol, 0.0, float(self.ledger.cash() - cash)))

    # ------------------------------------------------------------------ bars

    def on_bar(self, symbol: str, start_ns: int, end_ns: int, o: float, h: float, lo: float, c: float,
               v: float) -> None:
        self._advance(end_ns)
        if hasattr(self.venue, "on_bar"):  # a simulated venue matches on bars; a broker reports fills itself
            self.engine.on_bar(symbol, _dt(start_ns), o, h, lo, c, v, bar_end=_dt(end_ns))
        self.last[symbol] = c

    # ------------------------------------------------------------------ engine listener

    def order_created(self, order) -> None:
        if self._forward is not None:
            self._forward.order_created(order)
        r = order.request
        mirror = SimOrder(r.client_order_id, r.symbol, r.side.value == "buy", float(r.quantity),
                          r.order_type.value, r.time_in_force.value,
                          limit=None if r.limit_price is None else float(r.limit_price),
                          stop=None if r.stop_price is None else float(r.stop_price),
                          trail_amount=None if r.trail_amount is None else float(r.trail_amount),
                          trail_percent=None if r.trail_percent is None else float(r.trail_percent),
                          submitted_ns=self.clock.now_ns if self.clock is not None else 0, close_ns=None,
                          tag=r.tag)
        mirror.status = "new"
        mirror.parent = r.parent_id
        self.orders[r.client_order_id] = mirror

    def event_applied(self, order, event, ts_recorded: datetime) -> None:
        if self._forward is not None:
            self._forward.event_applied(order, event, ts_recorded)
        mirror = self.orders.get(order.client_order_id)
        if mirror is None:
            return
        kind = event.kind.value
        ts_ns = int(event.ts_event.timestamp() * 1_000_000) * 1000
        if kind == "accepted":
            self.working.setdefault(mirror.symbol, []).append(mirror)
        if kind in _TERMINAL:
            orders = self.working.get(mirror.symbol)
            if orders and mirror in orders:
                orders.remove(mirror)
                if not orders:
                    del self.working[mirror.symbol]
        if kind in _KINDS:
            mirror.status = kind if kind != "triggered" else mirror.status
            mirror.reason = event.reason or mirror.reason
            mirror.filled = float(order.filled_quantity)
            if self.reporting:
                self.updates.append(OrderUpdate(mirror.id, mirror.symbol, kind, ts_ns, event.reason or "",
                                                mirror.filled))

    def entry_posted(self, entry, fill) -> None:
        if self._forward is not None:
            self._forward.entry_posted(entry, fill)
        if fill is None:
            return
        ts_ns = int(fill.ts_event.timestamp() * 1_000_000) * 1000
        side = fill.side.value
        row = (ts_ns, fill.symbol, side, float(fill.quantity), float(fill.price), float(fill.commission),
               float(fill.fees), fill.client_order_id, fill.fill_id)
        self.fills.append(row)
        self.fill_steps.append(self.clock.step if self.clock is not None else 0)
        notional = (fill.quantity * fill.price).quantize(Decimal("0.01"), ROUND_HALF_EVEN)
        flow = (-notional if side == "buy" else notional) - fill.commission - fill.fees
        self.cash_flows.append(float(flow))
        if self.reporting:
            self.new_fills.append(FillInfo(fill.fill_id, fill.client_order_id, fill.symbol, side, row[3], row[4],
                                           row[5], row[6], ts_ns, fill.liquidity.value))
