"""Run a strategy on a stored portfolio: paper or live trading that persists everything.

:class:`PortfolioBroker` gives the strategy engine (:mod:`bifrost.backtest.live`) a stored
portfolio as its broker: orders go through :func:`~bifrost_web.trading.services.order_submit`
(persisted before they are acknowledged, every pre-trade check including the risk and
compliance services', kill switches), fills come from the paper venue
(:func:`~bifrost_web.trading.services.paper_process`, against the bar store) or, for a broker
portfolio, from the broker via reconciliation, and are posted to the portfolio's ledger.

:class:`StoredBarSource` polls the bar store for bars that have closed since the last poll,
so ``bifrost portfolio run-strategy`` keeps a strategy running against the data the
platform ingests (``bifrost data ingest``, provider refreshes).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime
from decimal import Decimal
from typing import Any

import pandas as pd

from bifrost.backtest.broker import FillInfo, OrderUpdate, RunBook, SimOrder
from bifrost.backtest.live import LiveSession
from bifrost.backtest.strategy import Strategy
from bifrost.core.calendars import get_calendar
from bifrost.core.errors import InvalidInput, OrderRejected
from bifrost.core.money import decimal_from_float
from bifrost.core.time import Clock, WallClock
from bifrost.marketdata.types import Timeframe
from bifrost.orders.types import OrderRequest
from bifrost.trading.runner import BarEvent
from bifrost_web.marketdata import selectors as md_selectors
from bifrost_web.trading import pretrade_hooks, selectors, services

__all__ = ["PortfolioBroker", "StoredBarSource", "strategy_session"]

_TERMINAL = {"filled", "cancelled", "rejected", "expired"}


def _ns(ts: datetime) -> int:
    return pd.Timestamp(ts).value


class PortfolioBroker(RunBook):
    """The strategy engine's broker interface over a stored portfolio."""

    every_bar = True

    def __init__(self, *, user, portfolio_id: int, clock: Clock, tag: str = "strategy") -> None:
        self.user = user
        self.portfolio = selectors.portfolio_get(user=user, portfolio_id=portfolio_id)
        self.portfolio_id = self.portfolio.pk
        self.wall = clock
        self.tag = tag
        self.margin = self.portfolio.account_type == "margin"
        self.leverage_limit = float(getattr(self.portfolio, "leverage_limit", 2) or 2)
        self._open_book()
        self._seen_fills = set(self.portfolio.fills.values_list("fill_id", flat=True))
        self._refresh_account()

    # ------------------------------------------------------------------ account

    def _refresh_account(self) -> None:
        self.portfolio.refresh_from_db(fields=["cash_balance", "position_quantities", "kill_switch"])
        self.cash = float(self.portfolio.cash_balance)
        self.positions = {s: float(Decimal(str(q))) for s, q in (self.portfolio.position_quantities or {}).items()
                          if Decimal(str(q))}

    def equity(self) -> float:
        return self.cash + sum(q * self.last.get(s, 0.0) for s, q in self.positions.items())

    # ------------------------------------------------------------------ orders

    def submit(self, order_id: str, symbol: str, buy: bool, qty: float, order_type: str, tif: str, now_ns: int, *,
               limit: float | None = None, stop: float | None = None, trail_amount: float | None = None,
               trail_percent: float | None = None, tag: str = "", check: bool = True) -> SimOrder:
        def dec(value: float | None) -> Decimal | None:
            return None if value is None else decimal_from_float(value)

        client_id = f"{self.tag}-{self.portfolio_id}-{now_ns}-{order_id}"
        request = OrderRequest(client_order_id=client_id, symbol=symbol, side="buy" if buy else "sell",
                               quantity=Decimal(repr(float(qty))), order_type=order_type, time_in_force=tif,
                               limit_price=dec(limit), stop_price=dec(stop), trail_amount=dec(trail_amount),
                               trail_percent=dec(trail_percent), tag=tag or self.tag)
        mirror = SimOrder(client_id, symbol, buy, float(qty), order_type, tif, limit=limit, stop=stop,
                          trail_amount=trail_amount, trail_percent=trail_percent, submitted_ns=now_ns, close_ns=None,
                          tag=tag)
        self.orders[client_id] = mirror
        try:
            row = services.order_submit(user=self.user, portfolio_id=self.portfolio_id, request=request,
                                        clock=self.wall)
        except OrderRejected as exc:
            mirror.status = "rejected"
            mirror.reason = exc.message
            if self.reporting:
                self.updates.append(OrderUpdate(client_id, symbol, "rejected", now_ns, exc.message))
            return mirror
        mirror.status = row.status
        if row.status not in _TERMINAL:
            self.working.setdefault(symbol, []).append(mirror)
        if self.reporting:
            self.updates.append(OrderUpdate(client_id, symbol, row.status, now_ns))
        return mirror

    def submit_bracket(self, order_id: str, symbol: str, buy: bool, qty: float, order_type: str, tif: str,
                       now_ns: int, **kwargs: Any) -> SimOrder:
        raise InvalidInput("bracket orders are not yet supported when a strategy runs on a stored portfolio; "
                           "send the entry and protective orders separately")

    def cancel(self, order_id: str, now_ns: int, reason: str = "cancelled by the strategy") -> bool:
        mirror = self.orders.get(order_id)
        if mirror is None:
            raise InvalidInput(f"unknown order id {order_id!r}")
        if mirror.done:
            return False
        services.order_cancel(user=self.user, portfolio_id=self.portfolio_id, client_order_id=order_id,
                              clock=self.wall)
        self._sync_orders(now_ns)
        return True

    # ------------------------------------------------------------------ bars

    def on_bar(self, symbol: str, start_ns: int, end_ns: int, o: float, h: float, lo: float, c: float,
               v: float) -> None:
        self.last[symbol] = c
        if self.portfolio.broker == "paper" and self.working:
            services.paper_process(portfolio_id=self.portfolio_id,
                                   until=pd.Timestamp(end_ns, tz="UTC").to_pydatetime())
        self._sync_orders(end_ns)
        self._refresh_account()

    def _sync_orders(self, now_ns: int) -> None:
        """Bring the mirrors up to the stored orders; report new fills and state changes."""
        open_ids = [m.id for orders in self.working.values() for m in orders]
        if not open_ids:
            return
        rows = {r.client_order_id: r for r in self.portfolio.orders.filter(client_order_id__in=open_ids)}
        fills = (self.portfolio.fills.filter(order__client_order_id__in=open_ids)
                 .exclude(fill_id__in=self._seen_fills).select_related("order").order_by("ts_event", "id"))
        step = self.clock.step if self.clock is not None else 0
        for fill in fills:
            self._seen_fills.add(fill.fill_id)
            ts_ns = _ns(fill.ts_event)
            row = (ts_ns, fill.symbol, fill.side, float(fill.quantity), float(fill.price), float(fill.commission),
                   float(fill.fees), fill.order.client_order_id, fill.fill_id)
            self.fills.append(row)
            self.fill_steps.append(step)
            notional = float(fill.quantity * fill.price)
            self.cash_flows.append((-notional if fill.side == "buy" else notional) - row[5] - row[6])
            if self.reporting:
                self.new_fills.append(FillInfo(fill.fill_id, row[7], fill.symbol, fill.side, row[3], row[4], row[5],
                                               row[6], ts_ns, fill.liquidity))
        for order_id, row in rows.items():
            mirror = self.orders[order_id]
            filled = float(row.filled_quantity)
            if row.status == mirror.status and filled == mirror.filled:
                continue
            mirror.status, mirror.filled, mirror.reason = row.status, filled, row.reject_reason or mirror.reason
            if self.reporting:
                self.updates.append(OrderUpdate(order_id, mirror.symbol, row.status, now_ns, mirror.reason, filled))
            if row.status in _TERMINAL:
                orders = self.working.get(mirror.symbol, [])
                if mirror in orders:
                    orders.remove(mirror)
                    if not orders:
                        self.working.pop(mirror.symbol, None)


class StoredBarSource:
    """Bars from the bar store that have closed since the last poll (by the clock)."""

    def __init__(self, symbols: Iterable[str], timeframe: Timeframe | str, *, after: Mapping[str, pd.Timestamp],
                 clock: Clock, calendar: str = "XNYS") -> None:
        self.symbols = list(symbols)
        self.timeframe = Timeframe.parse(timeframe)
        self.after = dict(after)
        self.clock = clock
        self.calendar = get_calendar(calendar)

    def _end(self, ts: pd.Timestamp) -> pd.Timestamp:
        if self.timeframe is Timeframe.D1:
            return self.calendar.session_close(ts.tz_localize(None))
        return ts + pd.Timedelta(minutes=self.timeframe.minutes)

    def poll(self) -> list[BarEvent]:
        now = pd.Timestamp(self.clock.now())
        events = []
        for symbol in self.symbols:
            start = self.after[symbol] + pd.Timedelta(microseconds=1)
            bars = md_selectors.bars_read(symbol=symbol, timeframe=self.timeframe, start=start.to_pydatetime())
            for ts, bar in bars.iterrows():
                end = self._end(ts)
                if end > now:
                    break
                events.append(BarEvent(symbol, ts.to_pydatetime(), end.to_pydatetime(), float(bar.open),
                                       float(bar.high), float(bar.low), float(bar.close), float(bar.volume)))
                self.after[symbol] = ts
        return events


def strategy_session(*, user, portfolio_id: int, strategy: Strategy, symbols: Iterable[str],
                     timeframe: Timeframe | str = Timeframe.D1, history_bars: int = 300,
                     clock: Clock | None = None, adjust_targets: bool = True) -> tuple[LiveSession, StoredBarSource]:
    """A live session of ``strategy`` on a stored portfolio, warmed up on the last
    ``history_bars`` closed bars of each symbol, and the source of the bars that follow.

    With ``adjust_targets`` (the default) the services' target adjusters for the portfolio
    (the risk service's, when the portfolio has a limit set) adjust the strategy's targets
    (``ctx.rebalance``, ``ctx.order_target_percent``, ``ctx.order_target_value``) before its
    orders are made; the changes are on ``session.context.target_adjustments`` and its log.

    Raises
    ------
    InvalidInput
        No symbols, unknown symbols, or no stored bars to warm up on.
    NotFoundError
        The portfolio is not the user's.
    """
    clock = clock or WallClock()
    symbols = [s.upper() for s in symbols]
    if not symbols:
        raise InvalidInput("a strategy needs at least one symbol")
    timeframe = Timeframe.parse(timeframe)
    now = pd.Timestamp(clock.now())
    calendar = get_calendar("XNYS")
    history: dict[str, pd.DataFrame] = {}
    for symbol in symbols:
        bars = md_selectors.bars_read(symbol=symbol, timeframe=timeframe)
        if timeframe is Timeframe.D1:
            ends = [calendar.session_close(ts.tz_localize(None)) for ts in bars.index]
        else:
            ends = list(bars.index + pd.Timedelta(minutes=timeframe.minutes))
        closed = bars[[end <= now for end in ends]].tail(history_bars)
        if closed.empty:
            raise InvalidInput(f"no closed {timeframe.value} bars of {symbol} stored to warm the strategy up on")
        history[symbol] = closed
    broker = PortfolioBroker(user=user, portfolio_id=portfolio_id, clock=clock, tag=strategy.name or "strategy")
    adjuster = pretrade_hooks.target_adjuster_for(broker.portfolio) if adjust_targets else None
    session = LiveSession(strategy, broker=broker, clock=clock, history=history, timeframe=timeframe,
                          target_adjuster=adjuster)
    source = StoredBarSource(symbols, timeframe, after={s: f.index[-1] for s, f in history.items()}, clock=clock)
    return session, source

