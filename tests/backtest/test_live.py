"""A strategy runs unchanged in a backtest and in a paper-trading session, with the same fills."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from decimal import Decimal

import pandas as pd
import pytest

from bifrost.backtest import run, strategy_class
from bifrost.backtest.live import LiveRunner, LiveSession
from bifrost.core.errors import InvalidInput
from bifrost.core.time import SimulatedClock
from bifrost.execution import BasisPointsFeeModel, PaperExchange
from bifrost.marketdata.synthetic import generate_bars
from bifrost.portfolio import Deposit, Ledger, LedgerConfig
from bifrost.trading import MarketView, TradingEngine
from bifrost.trading.runner import BarEvent

COLUMNS = ["ts", "side", "quantity", "price", "commission", "order_id"]


def _paper_engine(start: datetime, cash: int = 100_000) -> tuple[TradingEngine, SimulatedClock]:
    clock = SimulatedClock(start)
    ledger = Ledger(LedgerConfig())
    ledger.post(Deposit(entry_id="cash", ts_event=start, amount=Decimal(cash)))
    engine = TradingEngine(portfolio_id="paper", ledger=ledger, clock=clock,
                           venue=PaperExchange(BasisPointsFeeModel(fee_bps="10")),
                           market=MarketView(last_prices={}, known_symbols={"ACME"}, market_open=lambda ts: True))
    return engine, clock


def _replay(name: str, bars: pd.DataFrame, warmup: int, timeframe: str, params: dict | None = None):
    engine, clock = _paper_engine(bars.index[0].to_pydatetime() - timedelta(days=1))
    step = pd.Timedelta(hours=1) if timeframe == "1h" else pd.Timedelta(days=1)
    clock.advance_to((bars.index[warmup - 1] + step).to_pydatetime())
    session = LiveSession(strategy_class(name)(**(params or {})), engine=engine, history={"ACME": bars.iloc[:warmup]},
                          timeframe=timeframe)
    session.start()
    for ts, row in bars.iloc[warmup:].iterrows():
        clock.advance_to((ts + step).to_pydatetime())  # the bar has closed before it is handed over
        session.on_bar("ACME", ts, row.open, row.high, row.low, row.close, row.volume)
    return session, engine


@pytest.mark.parametrize("name", ["sma_crossover", "macd_trend", "rsi_atr_reversal"])
def test_paper_session_gives_the_backtests_fills(name):
    bars = generate_bars(start=date(2019, 1, 1), end=date(2020, 6, 30), timeframe="1d", seed=8)
    backtest = run(name, {"ACME": bars}, commission_bps=10)
    session, engine = _replay(name, bars, warmup=5, timeframe="1d")
    fills = pd.DataFrame(session.broker.fills, columns=["ts", "symbol", "side", "quantity", "price", "commission",
                                                        "fees", "order_id", "fill_id"])
    fills["ts"] = pd.to_datetime(fills["ts"], utc=True)
    assert len(fills) == len(backtest.fills) > 2
    pd.testing.assert_frame_equal(fills[COLUMNS].reset_index(drop=True),
                                  backtest.fills[COLUMNS].reset_index(drop=True), check_dtype=False)
    # the portfolio's own Decimal ledger holds what the backtest ends with
    held = sum(float(p.quantity) for p in engine.ledger.positions().values())
    expected = backtest.positions.iloc[-1].sum() / bars["close"].iloc[-1] if backtest.positions is not None else 0
    assert held == pytest.approx(expected)


def test_multi_timeframe_strategy_runs_live_like_in_the_backtest():
    bars = generate_bars(start=date(2020, 1, 1), end=date(2020, 4, 30), timeframe="1h", seed=5)
    params = {"trend_period": 5, "entry_rsi": 45.0, "exit_rsi": 55.0}
    backtest = run("mtf_trend_pullback", {"ACME": bars}, timeframe="1h", params=params, commission_bps=10)
    session, _ = _replay("mtf_trend_pullback", bars, warmup=3, timeframe="1h", params=params)
    got = [(pd.Timestamp(ts, tz="UTC"), side, price) for ts, _, side, _, price, *_ in session.broker.fills]
    want = list(backtest.fills[["ts", "side", "price"]].itertuples(index=False, name=None))
    assert len(want) > 4 and got == want


def test_a_bar_that_has_not_closed_is_refused():
    bars = generate_bars(start=date(2020, 1, 1), end=date(2020, 3, 31), timeframe="1d", seed=1)
    engine, clock = _paper_engine(bars.index[0].to_pydatetime())
    session = LiveSession(strategy_class("sma_crossover")(), engine=engine, history={"ACME": bars.iloc[:3]})
    with pytest.raises(Exception, match="start the session"):
        session.on_bar("ACME", bars.index[3], 1, 1, 1, 1, 1)
    clock.advance_to(pd.Timestamp(bars.index[3]).to_pydatetime() + timedelta(hours=15))  # 15:00 UTC: mid-session
    session.start()
    row = bars.iloc[3]
    with pytest.raises(InvalidInput, match="has not closed yet"):
        session.on_bar("ACME", bars.index[3], row.open, row.high, row.low, row.close, row.volume)
    with pytest.raises(InvalidInput, match="unknown symbol"):
        session.on_bar("ZZZ", bars.index[3], row.open, row.high, row.low, row.close, row.volume)
    with pytest.raises(InvalidInput, match="not after the last bar"):
        session.on_bar("ACME", bars.index[2], row.open, row.high, row.low, row.close, row.volume)
    clock.advance_to(pd.Timestamp(bars.index[3]).to_pydatetime() + timedelta(hours=22))
    session.on_bar("ACME", bars.index[3], row.open, row.high, row.low, row.close, row.volume)
    assert session.bars_seen == 1


def test_live_runner_polls_a_source():
    bars = generate_bars(start=date(2020, 1, 1), end=date(2020, 3, 31), timeframe="1d", seed=1)
    engine, clock = _paper_engine(bars.index[0].to_pydatetime())
    clock.advance_to(bars.index[2].to_pydatetime())
    session = LiveSession(strategy_class("sma_crossover")(fast=3, slow=8), engine=engine,
                          history={"ACME": bars.iloc[:2]})

    class Source:
        def __init__(self):
            self.batches = [[BarEvent("ACME", ts.to_pydatetime(), ts.to_pydatetime() + timedelta(hours=22), r.open,
                                      r.high, r.low, r.close, r.volume)
                             for ts, r in bars.iloc[k:k + 10].iterrows()] for k in range(2, len(bars), 10)]

        def poll(self):  # a batch appears once its last bar has closed; orders then go out at that time
            if not self.batches:
                return []
            batch = self.batches.pop(0)
            clock.advance_to(batch[-1].end)
            return batch

    runner = LiveRunner(session, Source())
    assert runner.run(max_steps=20, sleep=lambda s: None) == len(bars) - 2
    fills = session.broker.fills
    assert fills  # the crossover traded on the polled bars
    # an order sent while a batch is handed over can only fill on a bar that opens after that moment
    sent = {o.id: o.submitted_ns for o in session.broker.orders.values()}
    assert all(ts >= sent[order_id] for ts, *_, order_id, _ in fills)
