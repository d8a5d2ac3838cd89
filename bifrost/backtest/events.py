"""The event-driven backtest engine.

Every bar of every subscription is an event at the instant it closes. Events are replayed
in time order (at one instant: base timeframe before coarser ones, then symbols in the
order given). For a base-timeframe bar the venue first matches the symbol's working
orders against it, the strategy then hears about what happened (``on_order``,
``on_fill``) and finally sees the bar (``on_bar``); timers fire after the bars of their
instant. Orders sent at an instant are eligible from the next bar that opens at or after
it, so a market order sent on a bar fills at the next bar's open.

The loop does only what an event needs: no per-bar valuation (the equity curve is
computed afterwards from the fills, exactly), no matching when nothing is working, and no
call to callbacks the strategy does not define. Same inputs give identical results.
"""

from __future__ import annotations

import dataclasses
import gc
import math
from bisect import bisect_left
from collections.abc import Callable, Iterable, Mapping
from decimal import Decimal
from typing import Any

import numpy as np
import pandas as pd

from bifrost.backtest.broker import SimBroker
from bifrost.backtest.context import TIMER_RULES, Context, TargetAdjuster
from bifrost.backtest.data import BarSeries
from bifrost.backtest.results import FILL_COLUMNS, ORDER_COLUMNS, BacktestRecord
from bifrost.backtest.strategy import Strategy, overrides, strategy_class
from bifrost.core.calendars import get_calendar
from bifrost.core.errors import InvalidInput
from bifrost.execution.fees import BasisPointsFeeModel, FeeModel
from bifrost.execution.slippage import SlippageModel
from bifrost.marketdata.types import ActionKind, CorporateAction, Timeframe, normalize_symbol

__all__ = ["EventEngine", "run"]


class EventEngine:
    """One backtest: series, broker, strategy and the timeline that drives them."""

    def __init__(self, strategy: Strategy, data: Mapping[str, pd.DataFrame], *, timeframe: Timeframe,
                 broker: SimBroker, calendar: str = "XNYS", actions: Iterable[CorporateAction] = (),
                 target_adjuster: TargetAdjuster | None = None) -> None:
        if not data:
            raise InvalidInput("a backtest needs bars for at least one symbol")
        self.strategy = strategy
        self.broker = broker
        self.calendar = calendar
        self.timeframe = timeframe
        self.series: list[BarSeries] = []
        self.base: dict[str, BarSeries] = {}
        for symbol, frame in data.items():
            series = BarSeries(normalize_symbol(symbol), timeframe, frame, calendar=calendar)
            self._add(series)
            self.base[series.symbol] = series
        self.symbols = tuple(self.base)
        self.actions = self._place_actions(actions)
        self.indicators: list = []
        self.signals: list[tuple] = []  # (indicator, callback) from ctx.on_signal
        self._signal_cache: dict[int, tuple] = {}
        self.timers: list[tuple[str, str]] = []
        self._now_ns = int(min(s.start_ns[0] for s in self.series))
        self._step = -1
        self._single: BarSeries | None = None
        self._synced = -2
        if target_adjuster is not None and not callable(target_adjuster):
            raise InvalidInput("target_adjuster must be callable(weights, *, nav, prices)")
        self.target_adjuster = target_adjuster
        self.ctx = Context(self)

    @property
    def now_ns(self) -> int:
        """The current instant (UTC nanoseconds): the close of the bars being shown."""
        s = self._single
        if s is not None and s.i >= 0:
            return int(s.end_ns[s.i])
        return self._now_ns

    @now_ns.setter
    def now_ns(self, value: int) -> None:
        self._now_ns = value

    @property
    def step(self) -> int:
        """Index of the current instant among the run's distinct instants."""
        s = self._single
        if s is not None:
            return s.i
        return self._step

    @step.setter
    def step(self, value: int) -> None:
        self._step = value

    def _place_actions(self, actions: Iterable[CorporateAction]) -> dict[int, dict[int, list[tuple[str, float]]]]:
        """Each split or dividend at the first bar of its symbol on or after its ex-date:
        series id -> bar index -> [(kind, value)]."""
        placed: dict[int, dict[int, list[tuple[str, float]]]] = {}
        for action in actions:
            if not isinstance(action, CorporateAction):
                raise InvalidInput(f"corporate actions must be CorporateAction records, not {type(action).__name__}")
            series = self.base.get(action.symbol)
            if series is None:
                raise InvalidInput(f"corporate action for {action.symbol}, which has no bars in this run")
            if action.kind not in (ActionKind.SPLIT, ActionKind.DIVIDEND):
                raise InvalidInput(f"{action.kind.value} distributions are not applied in a backtest; "
                                   "use split or dividend")
            if self.timeframe is Timeframe.D1:
                dates = pd.DatetimeIndex(series.label_ns, tz="UTC").date
            else:
                dates = pd.DatetimeIndex(series.start_ns, tz="UTC").tz_convert(get_calendar(self.calendar).tz).date
            j = int(np.searchsorted(np.asarray(dates), action.ex_date))
            if j < len(series):
                kind = "split" if action.kind is ActionKind.SPLIT else "dividend"
                placed.setdefault(series.sid, {}).setdefault(j, []).append((kind, float(action.value)))
        return placed

    def _apply_actions(self, series: BarSeries, i: int) -> None:
        for kind, value in self.actions[series.sid][i]:
            self.broker.corporate_action(series.symbol, kind, value, int(series.start_ns[i]))
            self.ctx.log(f"{kind} {value:g} {series.symbol} applied")
        self._synced = -1

    def _add(self, series: BarSeries) -> None:
        series.sid = len(self.series)
        self.series.append(series)

    def series_for(self, symbol: str | None, timeframe: str | Timeframe | None) -> BarSeries:
        symbol = self.symbols[0] if symbol is None else normalize_symbol(symbol)
        tf = self.timeframe if timeframe is None else Timeframe.parse(timeframe)
        for series in self.series:
            if series.symbol == symbol and series.timeframe is tf:
                return series
        if symbol not in self.base:
            raise InvalidInput(f"unknown symbol {symbol}: the run has data for {list(self.base)}")
        raise InvalidInput(f"no {tf.value} subscription for {symbol}; call ctx.subscribe in on_start")

    def subscribe(self, symbol: str, timeframe: Timeframe) -> BarSeries:
        if symbol not in self.base:
            raise InvalidInput(f"unknown symbol {symbol}: the run has data for {list(self.base)}")
        for series in self.series:
            if series.symbol == symbol and series.timeframe is timeframe:
                return series
        series = self.base[symbol].coarser(timeframe)
        self._add(series)
        return series

    def add_timer(self, name: str, rule: str) -> None:
        if rule not in TIMER_RULES:
            try:
                step = pd.Timedelta(rule)
            except (ValueError, TypeError):
                raise InvalidInput(f"unknown timer rule {rule!r}; use one of {TIMER_RULES} or an interval like '1h'"
                                   ) from None
            if step <= pd.Timedelta(0):
                raise InvalidInput(f"timer interval must be positive, was {rule!r}")
        self.timers.append((name, rule))

    def sync_prices(self) -> None:
        """Bring the broker's last prices up to the current instant (once per step)."""
        if self._synced == self.step:
            return
        last = self.broker.last
        single = self._single
        if single is not None:  # one series: its current close, without building the close list
            if single.i >= 0:
                last[single.symbol] = float(single.arrays["close"][single.i])
            self._synced = self.step
            return
        for symbol, series in self.base.items():
            if series.i >= 0:
                last[symbol] = series.close[series.i]
        self._synced = self.step

    # ------------------------------------------------------------------ timeline

    def _timeline(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        ends = np.concatenate([s.end_ns for s in self.series])
        sids = np.concatenate([np.full(len(s), s.sid, dtype=np.int64) for s in self.series])
        idx = np.concatenate([np.arange(len(s), dtype=np.int64) for s in self.series])
        rank = np.concatenate([np.full(len(s), (0 if s.base else s.timeframe.minutes) * 10_000 + s.sid,
                                       dtype=np.int64) for s in self.series])
        if len(self.series) == 1:
            return ends, sids, idx
        order = np.lexsort((rank, ends))
        return ends[order], sids[order], idx[order]

    def _timer_instants(self, steps: np.ndarray) -> list[tuple[int, str]]:
        """(step index, timer name) pairs, in firing order."""
        fires: list[tuple[int, int, str]] = []
        if not self.timers or not len(steps):
            return []
        cal = get_calendar(self.calendar)
        closes = cal.closes_nanos
        opens = cal.opens_nanos
        session_of = np.searchsorted(closes, steps, side="left")  # the session each instant belongs to
        session_of = np.minimum(session_of, len(closes) - 1)
        labels = pd.DatetimeIndex(cal.sessions[session_of])
        for order, (name, rule) in enumerate(self.timers):
            if rule in TIMER_RULES:
                if rule.startswith("session"):
                    key = session_of
                elif rule.startswith("week"):
                    iso = labels.isocalendar()
                    key = (iso["year"].to_numpy() * 100 + iso["week"].to_numpy()).astype(np.int64)
                else:
                    key = (labels.year * 100 + labels.month).to_numpy().astype(np.int64)
                change = np.flatnonzero(np.diff(key)) + 1
                if rule.endswith("start"):
                    positions = np.concatenate([[0], change])
                else:
                    # the last instant of each period; the final period counts only if it is complete
                    positions = change - 1
                    last_session = session_of[-1]
                    if steps[-1] >= closes[last_session] and _period_complete(rule, cal, last_session):
                        positions = np.concatenate([positions, [len(steps) - 1]])
            else:
                interval = pd.Timedelta(rule).value
                origin = int(opens[session_of[0]]) if len(steps) else 0
                buckets = (steps - origin) // interval
                positions = np.concatenate([[0], np.flatnonzero(np.diff(buckets)) + 1])
            fires.extend((int(p), order, name) for p in positions)
        fires.sort()
        return [(step, name) for step, _, name in fires]

    # ------------------------------------------------------------------ the loop

    def run(self, progress: Callable[[int, int], None] | None = None) -> None:
        strategy = self.strategy
        ctx = self.ctx
        strategy.on_start(ctx)
        ctx._started = True
        ends, sids, idx = self._timeline()
        single = len(self.series) == 1
        steps = ends if single else np.unique(ends)
        if single:
            self._single = self.series[0]
        self.steps = steps
        timer_fires = self._timer_instants(steps)
        broker = self.broker
        broker.clock = self
        broker.begin(self.now_ns, self.symbols)
        on_fill = strategy.on_fill if overrides(strategy, "on_fill") else None
        on_order = strategy.on_order if overrides(strategy, "on_order") else None
        broker.reporting = on_fill is not None or on_order is not None
        self._callbacks = (on_order, on_fill)
        n = len(ends)
        chunk = n if progress is None else max(1, n // 100)
        state = [0, timer_fires[0][0] if timer_fires else -1, -1, -1]  # next timer, its step, now, step
        start = 0
        while start < n:
            if progress is not None:
                progress(start, n)
            stop = min(n, start + chunk)
            if not single and stop < n:  # never split the events of one instant
                stop = int(np.searchsorted(ends, ends[stop - 1], side="right"))
            if single:
                self._loop_single(start, stop, timer_fires, state, on_order, on_fill)
            elif not overrides(strategy, "on_bar") and progress is None and not self.signals:
                self._loop_idle(ends, sids, idx, timer_fires, state, on_order, on_fill)
                stop = n
            else:
                self._loop(ends, sids, idx, start, stop, timer_fires, state, on_order, on_fill)
            start = stop
        if not single and state[1] == state[3] and state[3] >= 0:
            self._fire_timers(timer_fires, state[0], state[3])
        if broker.updates:
            self._dispatch(on_order, on_fill)
        strategy.on_stop(ctx)
        if progress is not None:
            progress(n, n)

    def _signal_bars(self, sid: int) -> tuple[list[int], list[tuple], list[bool]]:
        """Bars of series ``sid`` where some signal is non-zero, its subscriptions, and a per-bar flag (worked out
        once per run: the signals are fixed when on_start has run)."""
        cached = self._signal_cache.get(sid)
        if cached is not None:
            return cached
        subscriptions = [(handle, callback) for handle, callback in self.signals if handle._s.sid == sid]
        marks = np.zeros(len(self.series[sid]), dtype=bool)
        for handle, _ in subscriptions:
            values = np.asarray(handle._v, dtype="float64")
            marks |= (values != 0) & ~np.isnan(values)
        cached = self._signal_cache[sid] = (np.flatnonzero(marks).tolist(), subscriptions, marks.tolist())
        return cached

    def _fire_signals(self, subscriptions: list[tuple], bar, j: int) -> None:
        for handle, callback in subscriptions:
            value = handle._v[j]
            if value and value == value:
                callback(self.ctx, bar, value)

    def _loop_single(self, start: int, stop: int, timer_fires, state: list[int], on_order, on_fill) -> None:
        """The loop for one series: every bar is its own instant, so the instant and the step
        are the series' index (see :attr:`now_ns`) and nothing else changes per bar.

        A strategy without ``on_bar`` (signals and timers only) is shown only the bars where
        something happens - a signal, a timer, a corporate action, or orders working - and
        the loop jumps over the rest: nothing the strategy could observe differs."""
        s = self.series[0]
        strategy = self.strategy
        on_bar = strategy.on_bar if overrides(strategy, "on_bar") else None
        ctx = self.ctx
        bar = s.bar
        broker = self.broker
        working = broker.working
        updates = broker.updates
        arrays = s.arrays
        opens, highs, lows, closes, volumes = (arrays[c] for c in ("open", "high", "low", "close", "volume"))
        starts, ends = s.start_ns, s.end_ns
        symbol = s.symbol
        every_bar = broker.every_bar
        actions = self.actions.get(0, {})
        action_bars = sorted(actions)
        signal_bars, subscriptions, _ = self._signal_bars(0)
        skip = on_bar is None and not every_bar
        next_timer, timer_step = state[0], state[1]
        if on_bar is not None and not (actions or signal_bars or every_bar or timer_step >= start):
            # the plain case - a strategy called on every bar, nothing scheduled - in the tightest loop
            for j in range(start, stop):
                s.i = j
                if working:
                    broker.on_bar(symbol, int(starts[j]), int(ends[j]), float(opens[j]), float(highs[j]),
                                  float(lows[j]), float(closes[j]), float(volumes[j]))
                    self._synced = -1
                    if updates:
                        self._dispatch(on_order, on_fill)
                on_bar(ctx, bar)
            state[3] = stop - 1
            return
        ps = bisect_left(signal_bars, start)
        pa = bisect_left(action_bars, start)
        n_signals = len(signal_bars)
        j = start
        while j < stop:
            if skip and not working:
                target = stop
                if ps < n_signals and signal_bars[ps] < target:
                    target = signal_bars[ps]
                if pa < len(action_bars) and action_bars[pa] < target:
                    target = action_bars[pa]
                if j <= timer_step < target:
                    target = timer_step
                if target >= stop:
                    s.i = stop - 1
                    break
                j = target
            s.i = j
            if actions and j in actions:
                self._apply_actions(s, j)
                pa += 1
            if working or every_bar:
                broker.on_bar(symbol, int(starts[j]), int(ends[j]), float(opens[j]), float(highs[j]), float(lows[j]),
                              float(closes[j]), float(volumes[j]))
                self._synced = -1
                if updates:
                    self._dispatch(on_order, on_fill)
            if on_bar is not None:
                on_bar(ctx, bar)
            if ps < n_signals and signal_bars[ps] == j:
                self._fire_signals(subscriptions, bar, j)
                ps += 1
            if timer_step == j:
                next_timer, timer_step = self._fire_timers(timer_fires, next_timer, j)
            j += 1
        state[0], state[1], state[3] = next_timer, timer_step, stop - 1

    def _loop_idle(self, ends, sids, idx, timer_fires, state: list[int], on_order, on_fill) -> None:
        """The loop for strategies without ``on_bar`` (timers only): skip from one timer to the
        next while nothing is working, and go bar by bar only while orders are working."""
        series = self.series
        broker = self.broker
        working = broker.working
        steps = self.steps
        n_steps = len(steps)
        step_end = np.searchsorted(ends, steps, side="right").tolist()  # events of step s: [end[s-1], end[s])
        action_at: dict[int, list[tuple[int, int]]] = {}
        for sid, by_index in self.actions.items():
            for i in by_index:
                action_at.setdefault(int(np.searchsorted(steps, series[sid].end_ns[i])), []).append((sid, i))
        timer_steps = sorted({s for s, _ in timer_fires} | set(action_at))
        next_timer = 0  # position in timer_fires
        t = 0  # position in timer_steps
        st = 0
        k = 0
        sids_l = sids.tolist()
        idx_l = idx.tolist()
        while st < n_steps:
            if working:
                self.now_ns = int(steps[st])
                self.step = st
                stop = step_end[st]
                for e in range(k, stop):
                    s = series[sids_l[e]]
                    i = idx_l[e]
                    s.i = i
                    if st in action_at and (s.sid, i) in action_at[st]:
                        self._apply_actions(s, i)
                    if s.base and s.symbol in working:
                        broker.on_bar(s.symbol, int(s.start_ns[i]), self.now_ns, s.open[i], s.high[i], s.low[i],
                                      s.close[i], s.volume[i])
                        self._synced = -1
                if broker.updates:
                    self._dispatch(on_order, on_fill)
                k = stop
            else:
                while t < len(timer_steps) and timer_steps[t] < st:
                    t += 1
                target = timer_steps[t] if t < len(timer_steps) else n_steps - 1
                instant = int(steps[target])
                for s in series:  # every series at its last bar closed by the target instant
                    s.i = int(np.searchsorted(s.end_ns, instant, side="right")) - 1
                self.now_ns = instant
                self.step = target
                self._synced = -1
                st = target
                k = step_end[st]
                for sid, i in action_at.get(st, ()):
                    self._apply_actions(series[sid], i)
            while next_timer < len(timer_fires) and timer_fires[next_timer][0] < st:
                next_timer += 1
            if next_timer < len(timer_fires) and timer_fires[next_timer][0] == st:
                next_timer, _ = self._fire_timers(timer_fires, next_timer, st)
            st += 1
        state[:] = [len(timer_fires), -1, int(steps[-1]) if n_steps else -1, n_steps - 1]

    def _loop(self, ends, sids, idx, start: int, stop: int, timer_fires, state: list[int], on_order, on_fill) -> None:
        """The general loop: several series, several events per instant."""
        strategy = self.strategy
        on_bar = strategy.on_bar if overrides(strategy, "on_bar") else None
        ctx = self.ctx
        broker = self.broker
        series = self.series
        working = broker.working
        updates = broker.updates
        every_bar = broker.every_bar
        actions = self.actions
        signal_sets = {}
        for sid in {handle._s.sid for handle, _ in self.signals}:
            _, subscriptions, marks = self._signal_bars(sid)
            signal_sets[sid] = (marks, subscriptions)
        ends_l = ends[start:stop].tolist()
        sids_l = sids[start:stop].tolist()
        idx_l = idx[start:stop].tolist()
        next_timer, timer_step, now, step = state
        count = stop - start
        for k in range(count):
            end = ends_l[k]
            if end != now:
                if step == timer_step and step >= 0:
                    next_timer, timer_step = self._fire_timers(timer_fires, next_timer, step)
                now = end
                step += 1
                self.now_ns = now
                self.step = step
                j = k  # every bar closing at this instant is visible to every callback of the instant
                while j < count and ends_l[j] == now:
                    series[sids_l[j]].i = idx_l[j]
                    j += 1
            s = series[sids_l[k]]
            i = idx_l[k]
            if actions and s.sid in actions and i in actions[s.sid]:
                self._apply_actions(s, i)
            if s.base and (every_bar or (working and s.symbol in working)):
                broker.on_bar(s.symbol, int(s.start_ns[i]), now, s.open[i], s.high[i], s.low[i], s.close[i],
                              s.volume[i])
                self._synced = -1
                if updates:
                    self._dispatch(on_order, on_fill)
            if on_bar is not None:
                on_bar(ctx, s.bar)
            if signal_sets and s.sid in signal_sets:
                marks, subscriptions = signal_sets[s.sid]
                if marks[i]:
                    self._fire_signals(subscriptions, s.bar, i)
        state[:] = [next_timer, timer_step, now, step]

    def _fire_timers(self, fires: list[tuple[int, str]], position: int, step: int) -> tuple[int, int]:
        on_timer = self.strategy.on_timer
        self.now_ns = int(self.steps[step])
        while position < len(fires) and fires[position][0] == step:
            on_timer(self.ctx, fires[position][1])
            position += 1
            if self.broker.updates:
                self._dispatch(*self._callbacks)
        return position, (fires[position][0] if position < len(fires) else -1)

    def _dispatch(self, on_order, on_fill) -> None:
        broker = self.broker
        updates = broker.updates[:]
        broker.updates.clear()
        fills = broker.new_fills[:]
        broker.new_fills.clear()
        if on_order is not None:
            for update in updates:
                on_order(self.ctx, update)
        if on_fill is not None:
            for fill in fills:
                on_fill(self.ctx, fill)

    # ------------------------------------------------------------------ results

    def record(self, *, initial_cash: float, strategy_name: str, benchmark: pd.Series | None) -> BacktestRecord:
        steps = self.steps
        broker = self.broker
        index = pd.DatetimeIndex(steps, tz="UTC", name="ts")
        fills = pd.DataFrame(broker.fills, columns=list(FILL_COLUMNS))
        fills["ts"] = pd.to_datetime(fills["ts"].astype("int64"), utc=True)
        n_steps = len(steps)
        fill_steps = np.asarray(broker.fill_steps, dtype=np.int64)
        cash_delta = np.zeros(n_steps)
        if len(fills):
            signed = np.where(fills["side"].to_numpy() == "buy", 1.0, -1.0) * fills["quantity"].to_numpy(float)
            np.add.at(cash_delta, fill_steps, np.asarray(broker.cash_flows, dtype="float64"))
        adjustments = getattr(broker, "adjustments", [])
        for step, _, _, flow in adjustments:
            cash_delta[step] += flow
        cash = initial_cash + np.cumsum(cash_delta)
        nav = cash.copy()
        positions = {}
        closes = {}
        traded = set(fills["symbol"]) if len(fills) else set()
        traded |= {symbol for _, symbol, shares, _ in adjustments if shares}
        for symbol, series in self.base.items():
            at = np.searchsorted(series.end_ns, steps, side="right") - 1
            close = np.where(at >= 0, series.arrays["close"][np.maximum(at, 0)], np.nan)
            closes[symbol] = close
            if symbol not in traded:
                continue
            mask = (fills["symbol"] == symbol).to_numpy()
            delta = np.zeros(n_steps)
            np.add.at(delta, fill_steps[mask], signed[mask])
            for step, action_symbol, shares, _ in adjustments:
                if action_symbol == symbol:
                    delta[step] += shares
            held = np.cumsum(delta)
            held[np.abs(held) < 1e-9] = 0.0
            positions[symbol] = held
            nav += held * np.nan_to_num(close)
        orders = pd.DataFrame(
            [(o.id, o.submitted_ns, o.symbol, o.side, o.type, o.qty, o.limit, o.stop, o.status, o.reason)
             for o in broker.orders.values()], columns=list(ORDER_COLUMNS))
        orders["ts_submitted"] = pd.to_datetime(orders["ts_submitted"].astype("int64"), utc=True)
        orders = orders.astype({"quantity": "float64", "limit_price": "float64", "stop_price": "float64"})
        position_frame = pd.DataFrame(positions, index=index) if positions else None
        if position_frame is not None:
            position_frame = position_frame * pd.DataFrame(closes, index=index)[list(positions)].fillna(0.0)
        return BacktestRecord(
            equity=pd.Series(nav, index=index, name="equity"), fills=fills, orders=orders,
            initial_cash=initial_cash, strategy=strategy_name, params=self.strategy.parameters(),
            engine="bifrost-event", symbols=self.symbols, timeframe=self.timeframe.value, benchmark=benchmark,
            prices=pd.DataFrame(closes, index=index), positions=position_frame)


def _period_complete(rule: str, cal, last_session: int) -> bool:
    """Whether the calendar session ``last_session`` is the last of its week or month."""
    sessions = cal.sessions
    if last_session + 1 >= len(sessions):
        return True
    this, following = sessions[last_session], sessions[last_session + 1]
    if rule.startswith("session"):
        return True
    if rule.startswith("week"):
        return this.isocalendar()[:2] != following.isocalendar()[:2]
    return (this.year, this.month) != (following.year, following.month)


def run(strategy: Strategy | str, data: Mapping[str, pd.DataFrame], *, params: Mapping[str, Any] | None = None,
        timeframe: Timeframe | str = Timeframe.D1, cash: float | int | str | Decimal = 100_000,
        fee_model: FeeModel | None = None, commission_bps: float | str | None = None,
        slippage_model: SlippageModel | None = None, margin: bool = False, leverage_limit: float = 2.0,
        participation_cap: float | None = None, calendar: str = "XNYS", benchmark: pd.Series | None = None,
        progress: Callable[[int, int], None] | None = None, allow_short: bool | None = None,
        broker: str = "sim", actions: Iterable[CorporateAction] = (),
        target_adjuster: TargetAdjuster | None = None) -> BacktestRecord:
    """Backtest ``strategy`` on ``data`` (symbol → bar frame) and return its record.

    Parameters
    ----------
    strategy
        A :class:`Strategy` instance, or the registered name of one (``params`` then
        configure it).
    data
        Bars per symbol at ``timeframe``: columns open, high, low, close, volume and a UTC
        index of bar starts (daily bars at midnight UTC of the session date).
    cash
        Starting cash of the account.
    fee_model, commission_bps
        A trading-core fee model, or a commission in basis points of notional
        (``commission_bps=10`` is 0.1 %); not both.
    slippage_model
        A trading-core slippage model applied to taker fills.
    margin, leverage_limit, allow_short
        A margin account (shorts allowed, gross exposure up to ``leverage_limit`` × equity)
        or a cash account (the default: no shorts, buys need the cash).
    participation_cap
        Fraction of each bar's volume an order may take.
    benchmark
        Benchmark returns, kept on the record for reports.
    actions
        Splits and cash dividends of unadjusted ``data``: applied at the first bar on or
        after the ex-date (positions scaled, working orders of the symbol cancelled on a
        split; dividends paid on the position held, to the cent).
    progress
        Called with (events done, events in all) about a hundred times.
    broker
        ``"sim"`` (the default): the simulated broker, the paper exchange's fill rules on
        float arrays. ``"core"``: the trading core itself (TradingEngine, PaperExchange,
        Decimal ledger with tax lots), slower; its ledger is on ``record.ledger``.
    target_adjuster
        Adjusts the strategy's targets (``ctx.rebalance``, ``ctx.order_target_percent`` and
        ``ctx.order_target_value``) before their orders are made, e.g. a
        :class:`bifrost.risk.LimitTargetAdjuster` that caps weights and scales sectors down to
        a limit set. Each change is in the strategy's log and ``record.target_adjustments``.

    Raises
    ------
    InvalidInput
        Unknown strategy or parameter, bad bars, conflicting fee settings.
    """
    if isinstance(strategy, str):
        strategy = strategy_class(strategy)(**dict(params or {}))
    elif params:
        raise InvalidInput("params are given with a strategy name, not with a strategy instance")
    if not isinstance(strategy, Strategy):
        raise InvalidInput(f"{strategy!r} is not a Strategy")
    if fee_model is not None and commission_bps is not None:
        raise InvalidInput("give either fee_model or commission_bps, not both")
    if commission_bps is not None:
        fee_model = BasisPointsFeeModel(fee_bps=str(commission_bps))
    try:
        starting = float(Decimal(str(cash)))
    except ArithmeticError:
        raise InvalidInput(f"starting cash must be a number, was {cash!r}") from None
    if not (starting > 0 and math.isfinite(starting)):
        raise InvalidInput(f"starting cash must be positive, was {cash}")
    if broker == "sim":
        venue = SimBroker(cash=starting, fee_model=fee_model, slippage_model=slippage_model, margin=margin,
                          leverage_limit=leverage_limit, participation_cap=participation_cap, calendar=calendar,
                          allow_short=allow_short)
    elif broker == "core":
        from bifrost.backtest.core import CoreBroker

        venue = CoreBroker(cash=starting, fee_model=fee_model, slippage_model=slippage_model, margin=margin,
                           leverage_limit=leverage_limit, participation_cap=participation_cap, calendar=calendar)
    else:
        raise InvalidInput(f"unknown broker {broker!r}; use 'sim' or 'core'")
    engine = EventEngine(strategy, data, timeframe=Timeframe.parse(timeframe), broker=venue, calendar=calendar,
                         actions=actions, target_adjuster=target_adjuster)
    collecting = gc.isenabled()
    gc.disable()  # the run allocates many small acyclic objects; collect once at the end
    try:
        engine.run(progress)
        record = engine.record(initial_cash=starting, strategy_name=strategy.name or type(strategy).__name__,
                               benchmark=benchmark)
        if broker == "core":
            record = dataclasses.replace(record, ledger=venue.ledger)
        if engine.ctx.target_adjustments:
            record = dataclasses.replace(record, target_adjustments=tuple(engine.ctx.target_adjustments))
        return record
    finally:
        if collecting:
            gc.enable()
