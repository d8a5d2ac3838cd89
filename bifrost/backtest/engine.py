"""An event-driven backtest on the trading core.

A backtest is the live :class:`~bifrost.trading.Runner` on simulated time: the same
engine (pre-trade checks, order state machine, ledger with tax lots), the same paper
exchange (fills, fees, slippage) and the same strategy context. Bars are replayed in
order of their close; at each close the venue first matches the orders sent earlier
(a market order fills at the next bar's open), then the strategy sees the closed bar.
Equity is marked to the closes after every bar time.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal

import pandas as pd

from bifrost.core.calendars import get_calendar
from bifrost.core.errors import InvalidInput
from bifrost.core.money import to_decimal
from bifrost.core.time import SimulatedClock
from bifrost.execution import FeeModel, PaperExchange, SlippageModel
from bifrost.marketdata.types import BAR_COLUMNS, Timeframe, normalize_symbol
from bifrost.portfolio import Deposit, Ledger, LedgerConfig, mark_to_market
from bifrost.trading.engine import MarketView, TradingEngine
from bifrost.trading.runner import BarEvent, Runner, Strategy, StrategyContext


class _Replay:
    """Bar source that releases every bar up to the clock in one poll per step."""

    def __init__(self, events: list[BarEvent]) -> None:
        self._events = events
        self._next = 0

    def release_until(self, instant: datetime) -> list[BarEvent]:
        start = self._next
        while self._next < len(self._events) and self._events[self._next].end <= instant:
            self._next += 1
        return self._events[start:self._next]


class _StepSource:
    def __init__(self) -> None:
        self.batch: list[BarEvent] = []

    def poll(self) -> list[BarEvent]:
        batch, self.batch = self.batch, []
        return batch


@dataclass(frozen=True, slots=True)
class BacktestResult:
    """What a backtest produced: the equity curve (NAV after each bar time), the orders,
    fills and ledger of the engine, and the strategy context (its rejections)."""

    equity: pd.Series
    engine: TradingEngine
    context: StrategyContext

    @property
    def fills(self) -> list:
        return [f for o in self.engine.orders.values() for f in o.fills]

    @property
    def final_equity(self) -> Decimal:
        return Decimal(repr(float(self.equity.iloc[-1])))

    def returns(self) -> pd.Series:
        return self.equity.pct_change().dropna()


def _bar_events(symbol: str, bars: pd.DataFrame, timeframe: Timeframe, calendar: str) -> list[BarEvent]:
    missing = [c for c in BAR_COLUMNS if c not in bars.columns]
    if missing:
        raise InvalidInput(f"{symbol} bars lack columns {missing}")
    index = pd.DatetimeIndex(bars.index).tz_convert("UTC")
    if timeframe is Timeframe.D1:
        cal = get_calendar(calendar)
        sessions = index.tz_localize(None)
        opens = cal.opens.reindex(sessions)
        if opens.isna().any():
            bad = sessions[opens.isna().to_numpy()][0]
            raise InvalidInput(f"{symbol} has a daily bar on {bad.date()}, which is not a {calendar} session")
        starts = pd.DatetimeIndex(opens)
        ends = pd.DatetimeIndex(cal.closes.reindex(sessions))
    else:
        starts = index
        ends = index + pd.Timedelta(minutes=timeframe.minutes)
    values = {c: bars[c].to_numpy(dtype="float64") for c in BAR_COLUMNS}
    return [
        BarEvent(symbol=symbol, start=starts[i].to_pydatetime(), end=ends[i].to_pydatetime(),
                 open=values["open"][i], high=values["high"][i], low=values["low"][i], close=values["close"][i],
                 volume=values["volume"][i])
        for i in range(len(bars))
    ]


def run_backtest(strategy: Strategy, bars: Mapping[str, pd.DataFrame], *, cash: Decimal | str | int = 100_000,
                 timeframe: Timeframe | str = Timeframe.D1, fee_model: FeeModel | None = None,
                 slippage_model: SlippageModel | None = None, margin: bool = False,
                 leverage_limit: Decimal | str | int = 2, calendar: str = "XNYS") -> BacktestResult:
    """Replay ``bars`` (symbol → bar frame) through ``strategy`` on the trading core.

    Deterministic: the same inputs give identical orders, fills and equity.

    Raises
    ------
    InvalidInput
        For empty input, missing columns, or daily bars off the exchange calendar.
    """
    if not bars:
        raise InvalidInput("a backtest needs bars for at least one symbol")
    timeframe = Timeframe.parse(timeframe)
    events: list[BarEvent] = []
    for symbol, frame in bars.items():
        if frame.empty:
            raise InvalidInput(f"no bars for {symbol}")
        events.extend(_bar_events(normalize_symbol(symbol), frame, timeframe, calendar))
    events.sort(key=lambda e: (e.end, e.symbol))
    first = events[0].start - timedelta(seconds=1)
    clock = SimulatedClock(first)
    ledger = Ledger(LedgerConfig(margin=margin, leverage_limit=to_decimal(leverage_limit)))
    ledger.post(Deposit(entry_id="initial-cash", ts_event=first, amount=to_decimal(cash, field="cash")))
    symbols = {e.symbol for e in events}
    engine = TradingEngine(
        portfolio_id="backtest", ledger=ledger, venue=PaperExchange(fee_model, slippage_model, calendar=calendar),
        clock=clock, market=MarketView(last_prices={}, known_symbols=symbols,
                                       market_open=lambda ts: True))
    source = _StepSource()
    runner = Runner(engine=engine, source=source, strategy=strategy, clock=clock)
    on_start = getattr(strategy, "on_start", None)
    if on_start:
        on_start(runner.context)
    replay = _Replay(events)
    closes: dict[str, float] = {}
    equity_times, equity_values = [], []
    ends = sorted({e.end for e in events})
    for end in ends:
        clock.advance_to(end)
        batch = replay.release_until(end)
        source.batch = batch
        runner.step()
        for bar in batch:
            closes[bar.symbol] = bar.close
        held = {s: closes[s] for s, p in ledger.positions().items() if p.quantity and s in closes}
        equity_times.append(end)
        equity_values.append(float(mark_to_market(ledger, held).nav))
    on_stop = getattr(strategy, "on_stop", None)
    if on_stop:
        on_stop(runner.context)
    equity = pd.Series(equity_values, index=pd.DatetimeIndex(equity_times, name="ts"), name="equity")
    return BacktestResult(equity=equity, engine=engine, context=runner.context)
