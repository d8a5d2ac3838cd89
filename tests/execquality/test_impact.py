"""Market impact: the square-root law, calibration with statsmodels, and its use downstream."""

import numpy as np
import pandas as pd
import pytest

from bifrost.core.errors import InvalidInput
from bifrost.execquality.impact import (
    ImpactModel,
    calibrate_impact,
    daily_statistics,
    impact_observations,
    square_root_impact,
)
from bifrost.execquality.tca import prepare
from bifrost.execution import SquareRootImpactSlippage


def test_square_root_law_example():
    # bifrost.execution.slippage.SquareRootImpactSlippage: sigma 2 %, Y = 1, Q = 10,000, ADV = 1,000,000 -> 20 bps
    assert float(square_root_impact(10_000, 1_000_000, 0.02)) == pytest.approx(0.002)


def _synthetic(n=400, temporary=0.3, permanent=0.5, seed=7):
    rng = np.random.default_rng(seed)
    participation = rng.uniform(0.001, 0.1, n)
    duration = rng.uniform(0.05, 1.0, n)
    sigma = rng.uniform(0.01, 0.03, n)
    adv = np.full(n, 1e6)
    perm = permanent * sigma * participation
    cost = temporary * sigma * np.sqrt(participation / duration) + perm / 2
    noise = rng.normal(0, 0.0002, n)
    return pd.DataFrame({"quantity": participation * adv, "adv": adv, "sigma_daily": sigma, "duration_days": duration,
                         "cost_bps": (cost + noise) * 1e4, "permanent_bps": (perm + rng.normal(0, 0.0002, n)) * 1e4})


def test_calibration_recovers_known_coefficients():
    result = calibrate_impact(_synthetic())
    assert result.model.temporary == pytest.approx(0.3, abs=0.02)
    assert result.model.permanent == pytest.approx(0.5, abs=0.05)
    assert result.observations == 400 and result.model.source == "calibrated"
    assert result.temporary_stderr < 0.02


def test_square_root_exponent_estimate_covers_one_half():
    rng = np.random.default_rng(3)
    participation = rng.uniform(0.001, 0.2, 300)
    cost = 0.8 * 0.02 * np.sqrt(participation) * np.exp(rng.normal(0, 0.1, 300))
    frame = pd.DataFrame({"quantity": participation * 1e6, "adv": 1e6, "sigma_daily": 0.02, "duration_days": 1.0,
                          "cost_bps": cost * 1e4})
    result = calibrate_impact(frame)
    assert result.exponent_ci[0] < 0.5 < result.exponent_ci[1]
    assert result.model.square_root == pytest.approx(0.8, rel=0.05)


def test_calibration_needs_enough_orders():
    with pytest.raises(InvalidInput, match="at least 5"):
        calibrate_impact(_synthetic().head(3))
    with pytest.raises(InvalidInput, match="missing column"):
        calibrate_impact(pd.DataFrame({"quantity": [1]}))


def test_calibrated_model_feeds_the_backtest_slippage_model():
    model = ImpactModel(temporary=0.2, permanent=0.3, square_root=0.7)
    slippage = model.slippage_model(adv_shares=1e6, volatility_daily=0.02)
    assert isinstance(slippage, SquareRootImpactSlippage) and slippage.impact_coefficient == pytest.approx(0.7)


def test_impact_observations_turn_tca_into_calibration_rows():
    t0 = pd.Timestamp("2024-03-04 14:30Z")
    quotes = pd.DataFrame({"ts": [t0, t0 + pd.Timedelta(minutes=90)], "symbol": "X", "bid": [49.99, 50.19],
                           "ask": [50.01, 50.21]})
    orders = pd.DataFrame({"order_id": ["o1"], "ts_submitted": [t0], "symbol": ["X"], "side": ["buy"],
                           "quantity": [20_000]})
    fills = pd.DataFrame({"ts": [t0 + pd.Timedelta(minutes=30), t0 + pd.Timedelta(minutes=39)], "symbol": "X",
                          "side": "buy", "quantity": [10_000, 10_000], "price": [50.05, 50.15],
                          "order_id": "o1"})
    stats = pd.DataFrame({"adv": [1e6], "sigma_daily": [0.02]}, index=["X"])
    row = impact_observations(prepare(fills, orders, quotes=quotes), stats, permanent_horizon_s=3600).iloc[0]
    assert row["quantity"] == 20_000 and row["adv"] == 1e6
    assert row["duration_days"] == pytest.approx(39 / 390)
    assert row["cost_bps"] == pytest.approx((50.10 - 50.00) / 50.00 * 1e4)
    # mid one hour after the last fill (t0 + 99 min) is 50.20
    assert row["permanent_bps"] == pytest.approx((50.20 - 50.00) / 50.00 * 1e4)


def test_daily_statistics_from_bars(daily_bars):
    bars = daily_bars.reset_index() if "ts" not in daily_bars.columns else daily_bars
    frame = bars.rename(columns={"index": "ts"}).assign(symbol="ACME")
    stats = daily_statistics(frame, lookback_sessions=20).loc["ACME"]
    closes = frame["close"].to_numpy()
    assert stats["adv"] == pytest.approx(frame["volume"].tail(20).mean())
    assert stats["sigma_daily"] == pytest.approx(np.std(np.diff(closes[-21:]) / closes[-21:-1], ddof=1))
