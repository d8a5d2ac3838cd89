"""Indicators TA-Lib lacks (VWAP, rolling z-score, Keltner) against independent computations,
and small cases worked by hand.

Tolerances are stated per test; each reference is written differently from the code under
test (pandas groupby/rolling/ewm, exact rational arithmetic, arithmetic by hand).
"""

from __future__ import annotations

import math
from fractions import Fraction

import numpy as np
import pandas as pd
import pytest

from bifrost import indicators as ind
from bifrost.core.calendars import get_calendar
from tests.factories import xnys_minute_bars
from tests.indicators.support import assert_matches_reference, load_ticker, random_walk

NEW_YORK = "America/New_York"


@pytest.fixture(params=["AAPL", "MSFT", "walk-11"])
def bars(request):
    if request.param.startswith("walk-"):
        return random_walk(int(request.param.removeprefix("walk-")))
    return load_ticker(request.getfixturevalue("shared_data"), request.param)


# --- VWAP --------------------------------------------------------------------------------


@pytest.fixture
def minute_sessions():
    """One-minute bars of three XNYS sessions, one an early close (2020-11-27, 13:00 ET)."""
    frames = [xnys_minute_bars(day, seed=seed)
              for seed, day in enumerate(["2020-11-25", "2020-11-27", "2020-11-30"])]
    return pd.concat(frames)


def test_vwap_minute_bars_over_sessions_matches_pandas_groupby(minute_sessions):
    """Sessions from the exchange calendar; reference groups by New York date with pandas.

    Tolerance: rtol 1e-12. Both sides sum a few hundred positive terms per session; pandas'
    groupby cumsum may round differently (it compensates its sums), nothing more.
    """
    bars = minute_sessions
    sessions = get_calendar("XNYS").minutes_to_sessions(bars.index)
    ours = ind.vwap(bars["high"], bars["low"], bars["close"], bars["volume"], session=sessions)

    local_day = bars.index.tz_convert(NEW_YORK).date
    typical = (bars["high"] + bars["low"] + bars["close"]) / 3
    expected = ((typical * bars["volume"]).groupby(local_day).cumsum()
                / bars["volume"].groupby(local_day).cumsum()).to_numpy()

    assert_matches_reference(ours, expected, atol=0.0, rtol=1e-12)
    firsts = np.flatnonzero(np.r_[True, local_day[1:] != local_day[:-1]])
    assert firsts.size == 3
    np.testing.assert_array_equal(ours[firsts], typical.to_numpy()[firsts])


def test_vwap_without_session_is_cumulative_from_first_bar(bars):
    """Reference: pandas expanding sums; rtol 1e-12 (sums of thousands of positive terms)."""
    frame = pd.DataFrame(bars)
    typical = (frame["high"] + frame["low"] + frame["close"]) / 3
    expected = ((typical * frame["volume"]).cumsum() / frame["volume"].cumsum()).to_numpy()
    ours = ind.vwap(bars["high"], bars["low"], bars["close"], bars["volume"])
    assert_matches_reference(ours, expected, atol=0.0, rtol=1e-12)


def test_vwap_before_first_traded_volume_is_nan():
    high, low, close = [3.0, 6.0, 9.0, 12.0], [1.0, 2.0, 3.0, 6.0], [2.0, 4.0, 6.0, 9.0]
    volume = [0.0, 0.0, 10.0, 30.0]
    ours = ind.vwap(high, low, close, volume, session=["d1", "d1", "d1", "d1"])
    # typical prices 2, 4, 6, 9: (6 * 10) / 10 = 6, then (60 + 9 * 30) / 40 = 8.25
    np.testing.assert_array_equal(ours, [np.nan, np.nan, 6.0, 8.25])


def test_vwap_new_session_label_restarts_sums():
    high, low, close = [2.0, 4.0, 6.0, 8.0], [2.0, 4.0, 6.0, 8.0], [2.0, 4.0, 6.0, 8.0]
    volume = [1.0, 3.0, 1.0, 1.0]
    ours = ind.vwap(high, low, close, volume, session=np.array(["2024-01-02", "2024-01-02", "2024-01-03",
                                                                "2024-01-03"], dtype="datetime64[D]"))
    np.testing.assert_array_equal(ours, [2.0, 3.5, 6.0, 7.0])


# --- rolling z-score ---------------------------------------------------------------------


@pytest.mark.parametrize("period", [20, 60])
def test_rolling_zscore_matches_pandas_rolling_population_std(bars, period):
    """Reference: ``(x - rolling mean) / rolling std(ddof=0)`` in pandas; atol 1e-9.

    pandas updates its rolling variance online (adding and removing values), so its error
    grows as the window narrows; at 20 bars and more it stays below 4e-10 on this data.
    Narrow windows are checked against exact arithmetic instead (next test).
    """
    close = pd.Series(bars["close"])
    expected = ((close - close.rolling(period).mean()) / close.rolling(period).std(ddof=0)).to_numpy()
    assert_matches_reference(ind.rolling_zscore(bars["close"], period), expected, atol=1e-9)


@pytest.mark.parametrize("period", [2, 3, 5])
def test_rolling_zscore_narrow_windows_match_exact_rational_arithmetic(bars, period):
    """Reference: mean and variance in exact rationals, one square root in float; atol 1e-12.

    pandas' online variance is off by up to 3e-3 here (period 2, random walk); the block
    sums of deviations from a price inside the window stay within a few ulp.
    """
    close = bars["close"][:400]
    expected = np.full(close.size, np.nan)
    for end in range(period - 1, close.size):
        window = [Fraction(value) for value in close[end - period + 1:end + 1]]
        mean = sum(window) / period
        variance = sum((value - mean) ** 2 for value in window) / period
        expected[end] = 0.0 if variance == 0 else float((window[-1] - mean) / Fraction(math.sqrt(variance)))
    assert_matches_reference(ind.rolling_zscore(close, period), expected, atol=1e-12)


def test_rolling_zscore_flat_window_is_zero_not_nan():
    ours = ind.rolling_zscore([5.0, 5.0, 5.0, 6.0, 6.0, 6.0], 3)
    np.testing.assert_array_equal(ours[2], 0.0)
    np.testing.assert_allclose(ours[3], (6.0 - 16 / 3) / math.sqrt(2 / 9), rtol=1e-15)
    assert ours[5] == 0.0


# --- Keltner, Donchian ---------------------------------------------------------------------


@pytest.mark.parametrize(("period", "atr_period", "multiplier"), [(20, 10, 2.0), (10, 20, 1.5)])
def test_keltner_channels_match_pandas_ewm_and_wilder_atr(bars, period, atr_period, multiplier):
    """Reference: pandas ``ewm(adjust=False)`` started from an SMA seed, as TA-Lib seeds; atol 1e-9.

    EMA of the close: seed = mean of the first ``period`` closes at bar ``period - 1``,
    alpha = 2 / (period + 1). ATR: true range in pandas, seed = mean of true ranges 1 ..
    atr_period at bar ``atr_period``, alpha = 1 / atr_period (Wilder).
    """
    frame = pd.DataFrame(bars)
    close = frame["close"]
    ema_input = close.iloc[period - 1:].copy()
    ema_input.iloc[0] = close.iloc[:period].mean()
    middle = ema_input.ewm(alpha=2 / (period + 1), adjust=False).mean().reindex(frame.index)
    previous = close.shift()
    true_range = pd.concat([frame["high"] - frame["low"], (frame["high"] - previous).abs(),
                            (frame["low"] - previous).abs()], axis=1).max(axis=1)
    atr_input = true_range.iloc[atr_period:].copy()
    atr_input.iloc[0] = true_range.iloc[1:atr_period + 1].mean()
    average_range = atr_input.ewm(alpha=1 / atr_period, adjust=False).mean().reindex(frame.index)
    warm = middle.isna() | average_range.isna()
    expected_middle = middle.mask(warm).to_numpy()
    width = (multiplier * average_range).to_numpy()

    ours = ind.keltner_channels(bars["high"], bars["low"], bars["close"], period, atr_period=atr_period,
                                multiplier=multiplier)

    assert_matches_reference(ours.middle, expected_middle)
    assert_matches_reference(ours.upper, expected_middle + width)
    assert_matches_reference(ours.lower, expected_middle - width)
    assert np.isnan(ours.middle[:max(period - 1, atr_period)]).all()


def test_donchian_channels_equal_pandas_rolling_max_min_exactly(bars):
    high, low = pd.Series(bars["high"]), pd.Series(bars["low"])
    upper, lower = high.rolling(20).max().to_numpy(), low.rolling(20).min().to_numpy()
    ours = ind.donchian_channels(bars["high"], bars["low"], 20)
    assert_matches_reference(ours.upper, upper, atol=0.0)
    assert_matches_reference(ours.lower, lower, atol=0.0)
    assert_matches_reference(ours.middle, (upper + lower) / 2, atol=0.0)


# --- worked by hand ----------------------------------------------------------------------


def test_sma_five_bars_period_three_is_running_mean():
    np.testing.assert_array_equal(ind.sma([1.0, 2.0, 3.0, 4.0, 5.0], 3), [np.nan, np.nan, 2.0, 3.0, 4.0])


def test_wma_weights_newest_bar_most():
    # (1*1 + 2*2 + 3*3) / 6 and (1*2 + 2*3 + 3*4) / 6
    np.testing.assert_allclose(ind.wma([1.0, 2.0, 3.0, 4.0], 3), [np.nan, np.nan, 14 / 6, 20 / 6], rtol=1e-15)


def test_ema_first_value_is_sma_then_recursion():
    # k = 2 / (3 + 1) = 0.5: seed mean(1, 2, 3) = 2, then 0.5 * 2 + 0.5 * 4 = 3, 0.5 * 3 + 0.5 * 5 = 4
    np.testing.assert_array_equal(ind.ema([1.0, 2.0, 3.0, 4.0, 5.0], 3), [np.nan, np.nan, 2.0, 3.0, 4.0])


def test_rsi_seed_then_wilder_smoothing_by_hand():
    # changes +1, +1, -1; period 2: seed gain (1 + 1) / 2 = 1, loss 0 -> 100;
    # then gain (1 * 1 + 0) / 2 = 0.5, loss (0 + 1) / 2 = 0.5 -> 50
    np.testing.assert_array_equal(ind.rsi([1.0, 2.0, 3.0, 2.0], 2), [np.nan, np.nan, 100.0, 50.0])


def test_atr_first_value_is_mean_true_range_then_wilder():
    high, low, close = [10.0, 12.0, 11.0, 13.0], [9.0, 10.0, 8.0, 12.0], [9.5, 11.0, 9.0, 12.5]
    # TR: bar 1 max(2, 2.5, 0.5) = 2.5; bar 2 max(3, 0, 3) = 3; bar 3 max(1, 4, 3) = 4
    # seed (2.5 + 3) / 2 = 2.75, then (2.75 + 4) / 2 = 3.375
    np.testing.assert_array_equal(ind.atr(high, low, close, 2), [np.nan, np.nan, 2.75, 3.375])


def test_obv_starts_at_first_volume_and_ignores_flat_closes():
    np.testing.assert_array_equal(ind.obv([10.0, 11.0, 11.0, 9.0], [5.0, 7.0, 3.0, 2.0]), [5.0, 12.0, 12.0, 10.0])


def test_bollinger_bands_use_population_standard_deviation():
    bands = ind.bollinger_bands([1.0, 2.0, 3.0], 3, multiplier=1.0)
    width = math.sqrt(2 / 3)  # population: sqrt(((1-2)^2 + 0 + (3-2)^2) / 3)
    np.testing.assert_allclose([bands.upper[2], bands.middle[2], bands.lower[2]], [2 + width, 2.0, 2 - width],
                               rtol=1e-15)


def test_stochastic_fast_k_one_bar_smoothing_is_position_in_range():
    high, low, close = [10.0, 12.0, 11.0], [8.0, 9.0, 10.0], [9.0, 11.0, 10.5]
    result = ind.stochastic(high, low, close, fast_k_period=2, slow_k_period=1, slow_d_period=1)
    # bar 1: (11 - 8) / (12 - 8) = 75%; bar 2: (10.5 - 9) / (12 - 9) = 50%
    np.testing.assert_allclose(result.slow_k, [np.nan, 75.0, 50.0], rtol=1e-15)
    np.testing.assert_allclose(result.slow_d, [np.nan, 75.0, 50.0], rtol=1e-15)


def test_donchian_window_includes_current_bar():
    bands = ind.donchian_channels([1.0, 5.0, 2.0, 3.0], [0.0, 4.0, 1.0, 2.0], 2)
    np.testing.assert_array_equal(bands.upper, [np.nan, 5.0, 5.0, 3.0])
    np.testing.assert_array_equal(bands.lower, [np.nan, 0.0, 1.0, 1.0])
    np.testing.assert_array_equal(bands.middle, [np.nan, 2.5, 3.0, 2.0])


def test_pandas_series_input_returns_same_ndarray_as_array_input(bars):
    series = pd.Series(bars["close"], index=pd.date_range("2000-01-03", periods=bars["close"].size))
    result = ind.sma(series, 10)
    assert type(result) is np.ndarray and result.dtype == np.float64
    np.testing.assert_array_equal(result, ind.sma(bars["close"], 10))


def test_window_sums_after_huge_prices_stay_exact():
    """A running sum would keep ~1e-4 of error from bars at 1e12; each window here is summed afresh."""
    rng = np.random.default_rng(4)
    close = np.r_[1e12 + rng.normal(0.0, 1e6, 10_000), [1.0, 2.0, 3.0, 4.0, 6.0]]
    assert ind.sma(close, 3)[-1] == 13 / 3
    assert ind.sma(close, 3)[-3] == 2.0
    bands = ind.bollinger_bands(close, 3, multiplier=1.0)
    assert bands.upper[-3] - bands.middle[-3] == pytest.approx(math.sqrt(2 / 3), rel=1e-15)
