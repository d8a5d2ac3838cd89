"""TCA on backtest records: the core backtester and an imported Backtrader run, on real AAPL bars."""

import backtrader as bt
import numpy as np
import pandas as pd
import pytest

from bifrost.backtest import run
from bifrost.backtest.backtrader_bridge import run_backtrader
from bifrost.execquality import prepare, slippage_per_fill, slippage_per_order


@pytest.fixture(scope="module")
def aapl(shared_data_dir):
    frame = pd.read_csv(shared_data_dir / "equities" / "sp500_sector_ohlcv_2015_2020.csv")
    frame = frame[frame["Ticker"] == "AAPL"].copy()
    frame["ts"] = pd.to_datetime(frame["Date"]).dt.tz_localize("UTC")
    bars = frame.set_index("ts")[["Open", "High", "Low", "Close", "Volume"]].rename(columns=str.lower)
    return bars.iloc[:400]


def _long(bars):
    return bars.reset_index().assign(symbol="AAPL")


def test_tca_of_a_core_backtest_measures_the_overnight_gap_against_arrival(aapl):
    record = run("sma_crossover", {"AAPL": aapl}, params={"fast": 5, "slow": 20}, commission_bps=5)
    assert len(record.fills) >= 4
    per_fill = slippage_per_fill(prepare(record.fills, record.orders, bars=_long(aapl)))
    # independent: orders go in at the session close (arrival = that close) and fill at the next open
    sessions = aapl.index.normalize()
    for row in per_fill.itertuples():
        fill_day = row.ts.normalize()
        previous = aapl["close"].iloc[sessions.get_loc(fill_day) - 1]
        sign = 1.0 if row.side == "buy" else -1.0
        assert row.arrival == pytest.approx(previous)
        assert row.slippage_arrival_bps == pytest.approx(sign * (row.price - previous) / previous * 1e4)
        assert row.slippage_open_bps == pytest.approx(sign * (row.price - aapl["open"].loc[fill_day]) /
                                                      aapl["open"].loc[fill_day] * 1e4)
    per_order = slippage_per_order(prepare(record.fills, record.orders, bars=_long(aapl)))
    expected = record.fills["commission"] / (record.fills["quantity"] * record.fills["price"]) * 1e4
    np.testing.assert_allclose(per_order["explicit_bps"].to_numpy(), expected.to_numpy(), rtol=1e-9)


class _Cross(bt.Strategy):
    params = (("fast", 5), ("slow", 20))

    def __init__(self):
        self.cross = bt.indicators.CrossOver(bt.indicators.SMA(self.data.close, period=self.p.fast),
                                             bt.indicators.SMA(self.data.close, period=self.p.slow))

    def next(self):
        if not self.position and self.cross > 0:
            self.buy(size=100)
        elif self.position and self.cross < 0:
            self.close()


def test_tca_of_an_imported_backtrader_run(aapl):
    record = run_backtrader(_Cross, {"AAPL": aapl})
    assert len(record.fills) >= 4
    per_order = slippage_per_order(prepare(record.fills, record.orders, bars=_long(aapl)))
    assert (per_order["fill_rate"] == 1.0).all()
    # Backtrader fills market orders at the next open: slippage against that open is zero
    np.testing.assert_allclose(per_order["slippage_open_bps"].to_numpy(), 0.0, atol=1e-9)
    assert per_order["slippage_arrival_bps"].notna().all()
