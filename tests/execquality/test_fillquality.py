"""Fill rate, time to fill and markouts."""

from datetime import UTC, datetime

import numpy as np
import pandas as pd
import pytest

from bifrost.core.errors import InvalidInput
from bifrost.execquality.fillquality import fill_quality, markout_curve, markouts
from bifrost.execquality.tca import prepare

T0 = datetime(2024, 3, 4, 14, 30, tzinfo=UTC)


def test_markouts_sign_and_horizons():
    quotes = pd.DataFrame({"ts": [T0, T0 + pd.Timedelta(seconds=1), T0 + pd.Timedelta(minutes=1)], "symbol": "X",
                           "bid": [9.99, 10.04, 9.89], "ask": [10.01, 10.06, 9.91]})
    fills = pd.DataFrame({"ts": [T0, T0], "symbol": "X", "side": ["buy", "sell"], "quantity": [100, 300],
                          "price": [10.0, 10.0], "order_id": ["a", "b"]})
    result = markouts(prepare(fills, quotes=quotes), horizons_s=(1, 60)).set_index("order_id")
    assert result.loc["a", "markout_1s_bps"] == pytest.approx(50.0)  # bought at 10, mid went to 10.05
    assert result.loc["b", "markout_1s_bps"] == pytest.approx(-50.0)  # sold at 10, mid rose: adverse
    assert result.loc["b", "markout_1m_bps"] == pytest.approx(100.0)
    curve = markout_curve(result.reset_index()).set_index("horizon")
    assert curve.loc["1s", "markout_bps"] == pytest.approx((100 * 50 - 300 * 50) / 400)
    assert curve.loc["1s", "adverse_selection_bps"] == pytest.approx(25.0)


def test_fill_quality_reports_fill_rate_and_time_to_fill():
    orders = pd.DataFrame({"order_id": ["a", "b"], "ts_submitted": [T0, T0], "symbol": "X", "side": "buy",
                           "quantity": [100, 100]})
    fills = pd.DataFrame({"ts": [T0 + pd.Timedelta(seconds=5), T0 + pd.Timedelta(seconds=65)], "symbol": "X",
                          "side": "buy", "quantity": [100, 50], "price": [10.0, 10.0], "order_id": ["a", "b"]})
    bars = pd.DataFrame({"ts": [T0], "symbol": "X", "open": [10.0], "high": [10.1], "low": [9.9], "close": [10.0],
                         "volume": [1000]})
    result = fill_quality(prepare(fills, orders, bars=bars), horizons_s=(60,))
    assert result["fill_rate"] == pytest.approx(0.75)
    assert result["orders_fully_filled"] == 1
    assert result["median_time_to_first_fill_s"] == pytest.approx(35.0)
    assert set(result["markouts_bps"]) == {"1m"}


def test_markouts_need_market_data():
    fills = pd.DataFrame({"ts": [T0], "symbol": "X", "side": "buy", "quantity": [1], "price": [1.0]})
    with pytest.raises(InvalidInput, match="quotes or bars"):
        markouts(prepare(fills))


def test_lobster_markouts_match_independent_forward_asof(lobster):
    quotes, trades = lobster["quotes"], lobster["trades"]
    sample = trades.iloc[::50].reset_index(drop=True)
    fills = pd.DataFrame({"ts": sample["ts"], "symbol": "AMZN", "side": sample["side"], "quantity": sample["size"],
                          "price": sample["price"], "order_id": [f"o{i}" for i in range(len(sample))]})
    result = markouts(prepare(fills, quotes=quotes), horizons_s=(60,))
    later = sample.assign(ts=sample["ts"] + pd.Timedelta(seconds=60)).reset_index()
    merged = pd.merge_asof(later.sort_values("ts", kind="stable"), quotes.sort_values("ts", kind="stable")[["ts", "bid", "ask"]],
                           on="ts").sort_values("index")
    mid = (merged["bid"] + merged["ask"]).to_numpy() / 2
    sign = np.where(merged["side"] == "buy", 1.0, -1.0)
    expected = sign * (mid - merged["price"].to_numpy()) / merged["price"].to_numpy() * 1e4
    np.testing.assert_allclose(result["markout_1m_bps"].to_numpy(), expected, rtol=1e-9)
