"""Run a strategy in paper or live trading: the backtest's strategy, context and rules on
streamed bars, with orders going through a running :class:`~bifrost.trading.TradingEngine`.

A :class:`LiveSession` wraps the trading engine of a portfolio (its ledger, pre-trade
chain and venue: the paper exchange, or a broker adapter) and feeds the strategy closed
bars as they arrive::

    session = LiveSession(SmaCrossover(), engine=engine, history={"AAPL": last_200_bars})
    session.start()
    for bar in stream:                      # or LiveRunner(session, source, clock).run()
        session.on_bar("AAPL", bar.start, bar.open, bar.high, bar.low, bar.close, bar.volume)

Each bar is appended to the symbol's history, the strategy's indicators are recomputed
over it (the vectorised forms, so they equal the backtest's values bar for bar), the venue
matches working orders against it, and the strategy hears ``on_order``/``on_fill`` and
then ``on_bar`` - the order of the backtest. A bar that has not closed by the clock is
refused. Coarser subscriptions (a daily trend filter on hourly bars) are rebuilt from the
base bars and show a bar only once it has closed.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Mapping
from datetime import datetime

import numpy as np
import pandas as pd

from bifrost.backtest.context import TargetAdjuster
from bifrost.backtest.core import CoreBroker
from bifrost.backtest.events import EventEngine
from bifrost.backtest.strategy import Strategy, overrides
from bifrost.core.errors import InvalidInput, StateConflict
from bifrost.core.time import Clock, ensure_utc
from bifrost.marketdata.resample import resample_bars
from bifrost.marketdata.types import BAR_COLUMNS, Timeframe, normalize_symbol
from bifrost.trading.engine import TradingEngine

__all__ = ["LiveRunner", "LiveSession"]


class LiveSession:
    """One strategy on one trading engine, fed closed bars one at a time."""

    def __init__(self, strategy: Strategy, *, history: Mapping[str, pd.DataFrame], engine: TradingEngine | None = None,
                 broker=None, clock: Clock | None = None, timeframe: Timeframe | str = Timeframe.D1,
                 calendar: str = "XNYS", target_adjuster: TargetAdjuster | None = None) -> None:
        """Give ``engine`` (a trading engine: its clock is used), or ``broker`` and ``clock``
        (another implementation of the engine's broker interface, such as a stored portfolio).
        ``target_adjuster`` adjusts the strategy's targets before orders, as in :func:`run`."""
        if not history:
            raise InvalidInput("a live session needs at least one symbol, with some bars of history")
        if (engine is None) == (broker is None):
            raise InvalidInput("give a live session either a trading engine or a broker")
        if engine is not None:
            self.clock: Clock = engine.clock
            self.broker = CoreBroker.attach(engine)
        else:
            if clock is None:
                raise InvalidInput("a live session with a broker needs a clock")
            self.clock = clock
            self.broker = broker
        self.frames = {normalize_symbol(s): f[list(BAR_COLUMNS)].astype("float64") for s, f in history.items()}
        self.events = EventEngine(strategy, self.frames, timeframe=Timeframe.parse(timeframe), broker=self.broker,
                                  calendar=calendar, target_adjuster=target_adjuster)
        self.strategy = strategy
        self.started = False
        self.bars_seen = 0
        self._instants = 0

    @property
    def context(self):
        return self.events.ctx

    def start(self) -> None:
        """Call ``on_start`` with the history visible (every history bar has closed)."""
        if self.started:
            raise StateConflict("the session has already started")
        events = self.events
        events.broker.clock = events
        events.broker.begin(events.now_ns, events.symbols)
        for series in events.series:
            series.i = len(series) - 1
        events.now_ns = int(max(s.end_ns[-1] for s in events.series if len(s)))
        events.step = 0
        self.strategy.on_start(events.ctx)
        events.ctx._started = True
        for series in events.series:  # subscriptions made in on_start: show their closed bars only
            series.i = int(np.searchsorted(series.end_ns, events.now_ns, side="right")) - 1
        on_fill = self.strategy.on_fill if overrides(self.strategy, "on_fill") else None
        on_order = self.strategy.on_order if overrides(self.strategy, "on_order") else None
        events._callbacks = (on_order, on_fill)
        events.broker.reporting = on_fill is not None or on_order is not None
        self.started = True

    def on_bar(self, symbol: str, start: datetime | pd.Timestamp, open: float, high: float, low: float,
               close: float, volume: float) -> None:
        """A bar of ``symbol`` (base timeframe) that opened at ``start`` has closed.

        Raises
        ------
        InvalidInput
            Unknown symbol, a bar not after the last one, a bar that has not closed yet by
            the session's clock, or bad prices.
        """
        if not self.started:
            raise StateConflict("start the session before feeding it bars")
        events = self.events
        symbol = normalize_symbol(symbol)
        base = events.base.get(symbol)
        if base is None:
            raise InvalidInput(f"unknown symbol {symbol}: the session trades {list(events.base)}")
        label = pd.Timestamp(ensure_utc(pd.Timestamp(start).to_pydatetime(), field="start"))
        frame = self.frames[symbol]
        if len(frame) and label <= frame.index[-1]:
            raise InvalidInput(f"{symbol} bar at {label.isoformat()} is not after the last bar "
                               f"{frame.index[-1].isoformat()}")
        row = pd.DataFrame({"open": [float(open)], "high": [float(high)], "low": [float(low)],
                            "close": [float(close)], "volume": [float(volume)]}, index=pd.DatetimeIndex([label]))
        candidate = pd.concat([frame, row])
        base.load(candidate)
        end_ns = int(base.end_ns[-1])
        now = pd.Timestamp(self.clock.now()).value
        if end_ns > now:
            base.load(frame)
            raise InvalidInput(f"{symbol} bar at {label.isoformat()} closes at "
                               f"{pd.Timestamp(end_ns, tz='UTC').isoformat()}, after now: it has not closed yet")
        self.frames[symbol] = candidate
        self._instants += 1
        events.now_ns = end_ns
        events.step = self._instants
        events._synced = -2
        base.i = len(base) - 1
        closed_coarse = []
        for series in events.series:
            if series.base or series.symbol != symbol:
                continue
            bars = resample_bars(candidate.rename_axis("ts"), source=base.timeframe, target=series.timeframe,
                                 calendar=series.calendar)
            before = series.i
            series.load(bars)
            series.i = int(np.searchsorted(series.end_ns, end_ns, side="right")) - 1
            if series.i > before:
                closed_coarse.append(series)
        for indicator in events.indicators:
            indicator.refresh()
        broker = events.broker
        broker.on_bar(symbol, int(base.start_ns[-1]), end_ns, base.open[-1], base.high[-1], base.low[-1],
                      base.close[-1], base.volume[-1])
        if broker.updates:
            events._dispatch(*events._callbacks)
        on_bar = self.strategy.on_bar if overrides(self.strategy, "on_bar") else None
        for series in (base, *closed_coarse):
            if on_bar is not None:
                on_bar(events.ctx, series.bar)
            for handle, callback in events.signals:  # signal events of the bars that just closed
                if handle._s is series:
                    value = handle[0]
                    if value and value == value:
                        callback(events.ctx, series.bar, value)
        self.bars_seen += 1

    def stop(self) -> None:
        if self.started:
            self.strategy.on_stop(self.events.ctx)
            self.started = False


class LiveRunner:
    """Poll a bar source and feed a :class:`LiveSession` (the live counterpart of a backtest's replay).

    ``source.poll()`` returns new closed bars as objects with ``symbol``, ``start``, ``open``,
    ``high``, ``low``, ``close`` and ``volume`` (such as :class:`bifrost.trading.runner.BarEvent`).
    """

    def __init__(self, session: LiveSession, source, *, log: Callable[[str], None] = lambda message: None) -> None:
        self.session = session
        self.source = source
        self.log = log

    def step(self) -> int:
        bars: Iterable = sorted(self.source.poll(), key=lambda b: (b.start, b.symbol))
        count = 0
        for bar in bars:
            self.session.on_bar(bar.symbol, bar.start, bar.open, bar.high, bar.low, bar.close, bar.volume)
            count += 1
        return count

    def run(self, *, poll_seconds: float = 5.0, max_steps: int | None = None,
            should_stop: Callable[[], bool] = lambda: False, sleep: Callable[[float], None] = time.sleep) -> int:
        """Poll until ``should_stop()`` or ``max_steps``; return the bars processed."""
        if not self.session.started:
            self.session.start()
        steps = 0
        while not should_stop() and (max_steps is None or steps < max_steps):
            self.step()
            steps += 1
            if max_steps is None or steps < max_steps:
                sleep(poll_seconds)
        return self.session.bars_seen
