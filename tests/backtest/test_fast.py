"""The fast path gives the event engine's trades, and sweeps agree with single runs."""

from __future__ import annotations

from datetime import date

import numpy as np
import pandas as pd
import pytest

from bifrost.backtest import run
from bifrost.backtest.fast import (
    crossover_signals,
    simulate_signals,
    sma_crossover_fast,
    sweep_sma_crossover,
)
from bifrost.core.errors import InvalidInput
from bifrost.indicators.vectorised import bollinger_bands
from bifrost.marketdata.synthetic import generate_bars

COLUMNS = ["ts", "side", "quantity", "price", "commission"]


@pytest.fixture(scope="module")
def daily():
    return generate_bars(start=date(2010, 1, 1), end=date(2020, 12, 31), timeframe="1d", seed=21)


@pytest.fixture(scope="module")
def minutes():
    return generate_bars(start=date(2021, 3, 1), end=date(2021, 4, 30), timeframe="1m", seed=2)


@pytest.mark.parametrize("fast, slow, bps", [(10, 30, 10), (5, 20, 0), (20, 50, 2.5)])
def test_fast_path_gives_the_event_engines_trades(daily, fast, slow, bps):
    event = run("sma_crossover", {"ACME": daily}, params={"fast": fast, "slow": slow, "quantity": 100},
                commission_bps=bps)
    quick = sma_crossover_fast(daily, fast=fast, slow=slow, quantity=100, commission_bps=bps)
    assert len(quick.fills) == len(event.fills) > 20
    pd.testing.assert_frame_equal(quick.fills[COLUMNS], event.fills[COLUMNS])
    np.testing.assert_allclose(quick.equity.to_numpy(), event.equity.to_numpy(), rtol=0, atol=1e-4)
    assert (quick.equity.index == event.equity.index).all()


def test_fast_path_matches_on_minute_bars_and_cash_refusals(minutes):
    # 100 shares of a ~100 dollar stock with 12,000 dollars: some entries cannot be paid for
    event = run("sma_crossover", {"ACME": minutes}, timeframe="1m", cash=12_000, commission_bps=10)
    quick = sma_crossover_fast(minutes, cash=12_000, commission_bps=10)
    pd.testing.assert_frame_equal(quick.fills[COLUMNS], event.fills[COLUMNS])
    assert quick.final_equity == pytest.approx(event.final_equity, abs=1e-4)


def test_percent_of_equity_signals_match_the_event_engine(daily):
    close = daily["close"].to_numpy()
    upper, middle, lower = bollinger_bands(close, 20, multiplier=2.0)
    with np.errstate(invalid="ignore"):
        entries, exits = close < lower, close >= middle
    quick = simulate_signals(daily, entries, exits, equity_pct=95.0, commission_bps=10).record()
    event = run("bollinger_reversion", {"ACME": daily}, commission_bps=10)
    assert len(quick.fills) == len(event.fills) > 20
    pd.testing.assert_frame_equal(quick.fills[COLUMNS], event.fills[COLUMNS])


def test_sweep_agrees_with_single_runs(daily):
    pairs = [(5, 20), (10, 30), (15, 60), (20, 100)]
    table = sweep_sma_crossover(daily, [p[0] for p in pairs], [p[1] for p in pairs], commission_bps=10)
    for (fast, slow), final in zip(pairs, table["final_equity"], strict=True):
        single = sma_crossover_fast(daily, fast=fast, slow=slow, commission_bps=10)
        assert final == pytest.approx(single.final_equity, abs=1e-6)


def test_crossover_signals_reference():
    fast = np.array([np.nan, 1.0, 2.0, 3.0, 2.0, 1.0, 1.0, 2.0])
    slow = np.array([np.nan, 2.0, 2.0, 2.0, 2.0, 2.0, 1.0, 1.0])
    up, down = crossover_signals(fast, slow)
    assert up.tolist() == [False, False, False, True, False, False, False, True]
    assert down.tolist() == [False, False, False, False, False, True, False, False]


def test_bad_signals_are_refused(daily):
    with pytest.raises(InvalidInput, match="one value per bar"):
        simulate_signals(daily, np.zeros(3, bool), np.zeros(3, bool), quantity=1)
    with pytest.raises(InvalidInput, match="exactly one of"):
        simulate_signals(daily, np.zeros(len(daily), bool), np.zeros(len(daily), bool))
    with pytest.raises(InvalidInput, match="multiple of 0.1"):
        simulate_signals(daily, np.zeros(len(daily), bool), np.zeros(len(daily), bool), quantity=1,
                         commission_bps=0.05)
    with pytest.raises(InvalidInput, match="below slow"):
        sma_crossover_fast(daily, fast=30, slow=10)
