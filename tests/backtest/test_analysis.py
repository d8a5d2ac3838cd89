"""Risk, transaction costs and tax on a backtest record, checked against independent numbers."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import numpy as np
import pandas as pd
import pytest

from bifrost.backtest import run
from bifrost.backtest.analysis import risk_summary, tax_summary, tca_summary
from bifrost.core.errors import InvalidInput
from bifrost.marketdata.synthetic import generate_bars


@pytest.fixture(scope="module")
def bars():
    return generate_bars(start=date(2018, 1, 1), end=date(2021, 12, 31), timeframe="1d", seed=17)


@pytest.fixture(scope="module")
def record(bars):
    return run("sma_crossover", {"ACME": bars}, params={"fast": 5, "slow": 20}, commission_bps=10)


def test_risk_of_a_backtest_uses_its_daily_returns(record):
    summary = risk_summary(record, confidence=0.99)
    returns = record.equity.pct_change()
    returns.iloc[0] = record.equity.iloc[0] / record.initial_cash - 1
    losses = np.sort(-returns.to_numpy())[::-1]
    k = int(np.ceil(len(losses) * 0.01))  # the k-th worst loss (the documented quantile convention)
    assert summary["var"]["historical"]["var"] == pytest.approx(losses[k - 1])
    assert summary["var"]["historical"]["es"] >= summary["var"]["historical"]["var"]
    peak = np.maximum.accumulate(record.equity.to_numpy())
    assert summary["max_drawdown"] == pytest.approx(-(record.equity.to_numpy() / peak - 1).min())
    backtest = summary["var_backtest"]
    assert backtest["observations"] == len(returns) - 250 and backtest["zone"] in ("green", "yellow", "red")


def test_tax_of_a_backtest_matches_an_independent_fifo_replay(record):
    summary = tax_summary(record)
    cash = Decimal(0)
    lots: list[tuple[Decimal, Decimal]] = []
    for fill in record.fills.itertuples(index=False):
        qty, price = Decimal(repr(fill.quantity)), Decimal(repr(fill.price))
        fee = Decimal(repr(fill.commission))
        if fill.side == "buy":
            lots.append((qty, (qty * price + fee) / qty))
        else:
            basis_qty, unit = lots.pop(0)
            assert basis_qty == qty
            cash += qty * price - fee - qty * unit
    # flat at the end: every disallowed loss went into a later lot's basis and came back out, so the
    # realised total equals the trading P&L (to the cent of rounded lot bases)
    assert record.positions.iloc[-1].sum() == 0
    assert Decimal(summary["realised"]["total"]) == pytest.approx(cash, abs=Decimal("0.05"))
    assert Decimal(summary["disallowed"]) > 0
    assert summary["disposals"] == (record.fills.side == "sell").sum()
    # a long-only strategy that buys back within 30 days of a loss makes wash sales
    assert summary["wash_sales"] >= 1


def test_tca_of_a_backtest_measures_fills_against_the_bars(record, bars):
    summary = tca_summary(record, {"ACME": bars})
    orders = pd.DataFrame(summary["orders"])
    assert len(orders) == len(record.fills)
    # a market order filled at the next open: slippage against the close before (its arrival) is the
    # overnight move, signed as a cost
    first = record.fills.iloc[0]
    sent = bars.index.get_loc(first.ts.normalize()) - 1
    arrival = bars["close"].iloc[sent]
    expected = (first.price - arrival) / arrival * 1e4 * (1 if first.side == "buy" else -1)
    row = orders.iloc[0]
    assert row["slippage_arrival_bps"] == pytest.approx(expected, rel=1e-6)
    with pytest.raises(InvalidInput, match="no bars for traded symbols"):
        tca_summary(record, {})
