"""The event-driven backtest: deterministic, fills at the next open, books through the ledger."""

from decimal import Decimal

import numpy as np
import pandas as pd
import pytest

from bifrost.backtest import run_backtest
from bifrost.backtest.strategies import SmaCrossover
from bifrost.core.errors import InvalidInput
from bifrost.execution import BasisPointsFeeModel
from tests.factories import xnys_daily_bars


@pytest.fixture
def bars():
    return xnys_daily_bars("2022-01-03", "2023-12-29", seed=5)


def _crossings(close: pd.Series, fast: int, slow: int) -> list[tuple[int, str]]:
    """Independent reference: bar positions where SMA(fast) - SMA(slow) changes sign (pandas)."""
    spread = close.rolling(fast).mean() - close.rolling(slow).mean()
    out, held = [], False
    for i in range(slow, len(close)):
        if spread.iloc[i - 1] <= 0 < spread.iloc[i] and not held:
            out.append((i, "buy"))
            held = True
        elif spread.iloc[i - 1] >= 0 > spread.iloc[i] and held:
            out.append((i, "sell"))
            held = False
    return out


def test_sma_crossover_trades_at_next_open_like_an_independent_reference(bars):
    fee = BasisPointsFeeModel(fee_bps="10")  # 0.1% commission
    result = run_backtest(SmaCrossover(fast=10, slow=30, quantity=100), {"ACME": bars}, cash=100_000,
                          fee_model=fee)

    expected = _crossings(bars["close"], 10, 30)
    fills = sorted(result.fills, key=lambda f: f.ts_event)
    assert len(fills) == len(expected) > 4
    opens = bars["open"]
    for fill, (i, side) in zip(fills, expected, strict=True):
        assert fill.side.value == side
        assert fill.price == Decimal(repr(float(opens.iloc[i + 1]))).quantize(Decimal("0.000001"))
        assert fill.commission == (fill.quantity * fill.price * Decimal("0.001")).quantize(Decimal("0.01"))
    result.engine.ledger.reconcile()
    # Final equity = initial cash + realised P&L net of costs + open position marked at the last close.
    ledger = result.engine.ledger
    held = ledger.position("ACME").quantity
    expected_equity = float(ledger.cash()) + float(held) * float(bars["close"].iloc[-1])
    assert float(result.final_equity) == pytest.approx(expected_equity, abs=0.01)


def test_same_inputs_give_identical_results(bars):
    a = run_backtest(SmaCrossover(fast=5, slow=20), {"ACME": bars})
    b = run_backtest(SmaCrossover(fast=5, slow=20), {"ACME": bars})
    pd.testing.assert_series_equal(a.equity, b.equity)
    assert [(f.fill_id, f.price) for f in a.fills] == [(f.fill_id, f.price) for f in b.fills]


def test_equity_is_cash_until_the_first_fill(bars):
    result = run_backtest(SmaCrossover(fast=10, slow=30), {"ACME": bars}, cash=50_000)
    first_fill = min(f.ts_event for f in result.fills)
    before = result.equity[result.equity.index < first_fill]
    assert len(before) >= 30 and np.all(before.to_numpy() == 50_000.0)


def test_daily_bar_off_calendar_rejected(bars):
    shifted = bars.copy()
    shifted.index = shifted.index.where(shifted.index != shifted.index[3], pd.Timestamp("2022-01-08", tz="UTC"))
    with pytest.raises(InvalidInput, match="2022-01-08.*not a XNYS session"):
        run_backtest(SmaCrossover(), {"ACME": shifted})
