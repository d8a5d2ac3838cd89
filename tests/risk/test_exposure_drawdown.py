"""Exposures, concentration and drawdowns on hand-worked examples."""

from __future__ import annotations

from decimal import Decimal

import numpy as np
import pandas as pd
import pytest

from bifrost.core.errors import InvalidInput
from bifrost.risk import (
    drawdown_series,
    drawdown_stats,
    exposure_report,
    herfindahl_index,
    market_values,
    position_drawdowns,
    top_weights,
)


def test_exposure_report_long_short_beta_and_groups():
    values = market_values({"AAPL": Decimal("100"), "MSFT": Decimal("50"), "XOM": Decimal("-40")},
                           {"AAPL": Decimal("200"), "MSFT": Decimal("400"), "XOM": Decimal("100")})
    report = exposure_report(values, nav=50_000, betas={"AAPL": 1.2, "XOM": 0.8},
                             groups={"sector": {"AAPL": "Technology", "MSFT": "Technology", "XOM": "Energy"}})
    assert (report.long, report.short, report.gross, report.net) == (40_000, 4_000, 44_000, 36_000)
    assert report.beta_adjusted_net == pytest.approx(20_000 * 1.2 + 20_000 * 1.0 - 4_000 * 0.8)
    assert report.leverage == pytest.approx(0.88)
    tech = report.by_group["sector"]["Technology"]
    assert tech["gross"] == 40_000 and tech["gross_pct"] == pytest.approx(0.8)
    assert report.by_group["sector"]["Energy"]["net"] == -4_000
    # weights 0.4, 0.4, 0.08 of NAV -> normalised |w| 20/44, 20/44, 4/44
    assert report.herfindahl == pytest.approx(2 * (20 / 44) ** 2 + (4 / 44) ** 2)
    assert report.top[0][1] == pytest.approx(0.4)


def test_herfindahl_and_top_n():
    assert herfindahl_index([0.25] * 4) == pytest.approx(0.25)
    assert herfindahl_index({"A": 1.0}) == 1.0
    assert top_weights({"A": 0.1, "B": -0.3, "C": 0.2}, 2) == [("B", -0.3), ("C", 0.2)]
    with pytest.raises(InvalidInput, match="no price for held symbol ZZZ"):
        market_values({"ZZZ": 1}, {})
    with pytest.raises(InvalidInput, match="nav must be positive"):
        exposure_report({"A": 1.0}, nav=0)


def test_drawdown_stats_hand_example():
    nav = pd.Series([100, 120, 90, 110, 130, 117], index=pd.date_range("2024-01-01", periods=6, freq="D"),
                    dtype=float)
    stats = drawdown_stats(nav)
    assert stats.maximum == pytest.approx(0.25)  # 120 -> 90
    assert stats.current == pytest.approx(0.10)  # 130 -> 117
    assert stats.current_duration == 1 and stats.maximum_duration == 2
    assert stats.peak_index == pd.Timestamp("2024-01-02") and stats.trough_index == pd.Timestamp("2024-01-03")
    np.testing.assert_allclose(drawdown_series(nav).to_numpy(), [0, 0, -0.25, -1 / 12, 0, -0.1])


def test_position_drawdowns_per_column(stock_returns):
    prices = (1 + stock_returns[["AAPL", "BAC"]].loc["2007":"2009"]).cumprod()
    table = position_drawdowns(prices)
    reference = (prices / prices.cummax() - 1).min()
    np.testing.assert_allclose(table["maximum"].to_numpy(dtype=float), -reference.to_numpy())
    assert table.loc["BAC", "maximum"] > 0.8  # Bank of America fell more than 80% in 2007-09


def test_drawdown_refuses_non_positive_values():
    with pytest.raises(InvalidInput, match="positive"):
        drawdown_stats([100, 0, 50])
