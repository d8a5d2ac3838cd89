"""Bad input to both forms: ``InvalidInput`` (a ``ValueError``) naming the parameter, value and rule.

NaN policy under test: a leading run of bars with NaN in any input is warm-up and is skipped
(as TA-Lib's wrapper does); a NaN after the first complete bar, or any infinity, is an error
rather than TA-Lib's silent NaN for every later bar.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from bifrost import indicators as ind
from bifrost.core.errors import InvalidInput

CLOSE = np.linspace(100.0, 120.0, 50)
HIGH, LOW = CLOSE + 1.0, CLOSE - 1.0
VOLUME = np.full(50, 1_000.0)

PERIOD_CALLS = {
    "sma": ("period", lambda value: ind.sma(CLOSE, value)),
    "ema": ("period", lambda value: ind.ema(CLOSE, value)),
    "wma": ("period", lambda value: ind.wma(CLOSE, value)),
    "rsi": ("period", lambda value: ind.rsi(CLOSE, value)),
    "atr": ("period", lambda value: ind.atr(HIGH, LOW, CLOSE, value)),
    "adx": ("period", lambda value: ind.adx(HIGH, LOW, CLOSE, value)),
    "zscore": ("period", lambda value: ind.rolling_zscore(CLOSE, value)),
    "donchian": ("period", lambda value: ind.donchian_channels(HIGH, LOW, value)),
    "bollinger": ("period", lambda value: ind.bollinger_bands(CLOSE, value)),
    "keltner-atr": ("atr_period", lambda value: ind.keltner_channels(HIGH, LOW, CLOSE, atr_period=value)),
    "macd-signal": ("signal_period", lambda value: ind.macd(CLOSE, signal_period=value)),
    "stoch-fast-k": ("fast_k_period", lambda value: ind.stochastic(HIGH, LOW, CLOSE, fast_k_period=value)),
    "SimpleMovingAverage": ("period", lambda value: ind.SimpleMovingAverage(value)),
    "ExponentialMovingAverage": ("period", lambda value: ind.ExponentialMovingAverage(value)),
    "WeightedMovingAverage": ("period", lambda value: ind.WeightedMovingAverage(value)),
    "RelativeStrengthIndex": ("period", lambda value: ind.RelativeStrengthIndex(value)),
    "AverageTrueRange": ("period", lambda value: ind.AverageTrueRange(value)),
    "AverageDirectionalIndex": ("period", lambda value: ind.AverageDirectionalIndex(value)),
    "RollingZScore": ("period", lambda value: ind.RollingZScore(value)),
    "DonchianChannels": ("period", lambda value: ind.DonchianChannels(value)),
    "BollingerBands": ("period", lambda value: ind.BollingerBands(value)),
    "KeltnerChannels": ("period", lambda value: ind.KeltnerChannels(value)),
    "MACD": ("slow_period", lambda value: ind.MACD(fast_period=1, slow_period=value)),
    "Stochastic": ("slow_d_period", lambda value: ind.Stochastic(slow_d_period=value)),
}


@pytest.mark.parametrize("call", sorted(PERIOD_CALLS))
@pytest.mark.parametrize(("value", "rule"), [
    (0, "must be at least 1, was 0"),
    (-3, "must be at least 1, was -3"),
    (2.0, "must be an integer, was 2.0"),
    (2.5, "must be an integer, was 2.5"),
    (True, "must be an integer, was True"),
    ("5", "must be an integer, was '5'"),
    (None, "must be an integer, was None"),
])
def test_period_not_positive_integer_raises_naming_parameter_and_value(call, value, rule):
    parameter, function = PERIOD_CALLS[call]
    with pytest.raises(InvalidInput, match=f"^{parameter} {rule}$") as caught:
        function(value)
    assert isinstance(caught.value, ValueError)
    assert caught.value.code == "invalid_input"
    assert caught.value.details["parameter"] == parameter


def test_numpy_integer_period_is_accepted():
    np.testing.assert_array_equal(ind.sma(CLOSE, np.int64(5)), ind.sma(CLOSE, 5))
    assert ind.SimpleMovingAverage(np.int32(5)).period == 5


def test_inputs_of_different_lengths_raise_listing_each_length():
    with pytest.raises(InvalidInput, match=r"^inputs must have the same length, had high=50, low=49, close=50$"):
        ind.atr(HIGH, LOW[:-1], CLOSE)
    with pytest.raises(InvalidInput, match=r"had close=50, volume=3"):
        ind.obv(CLOSE, VOLUME[:3])


def test_nan_after_first_complete_bar_raises_naming_input_and_index():
    close = CLOSE.copy()
    close[[0, 1, 17]] = np.nan
    with pytest.raises(InvalidInput, match=r"^close must not be NaN after the first complete bar \(index 2\), "
                                           r"was NaN at index 17; only a leading warm-up run"):
        ind.sma(close, 5)


def test_nan_in_one_input_after_start_set_by_another_raises():
    high, close = HIGH.copy(), CLOSE.copy()
    high[:3] = np.nan  # first complete bar: 3
    close[4] = np.nan
    with pytest.raises(InvalidInput, match=r"close must not be NaN after the first complete bar \(index 3\), "
                                           r"was NaN at index 4"):
        ind.atr(high, LOW, close, 5)


@pytest.mark.parametrize("value", [np.inf, -np.inf])
def test_infinity_anywhere_raises_naming_index(value):
    close = CLOSE.copy()
    close[0] = np.nan
    close[1] = value
    with pytest.raises(InvalidInput, match=rf"^close must be finite, was {value} at index 1$"):
        ind.rsi(close)


def test_leading_nan_only_is_warmup_not_error():
    close = CLOSE.copy()
    close[:10] = np.nan
    result = ind.sma(close, 5)
    assert np.isnan(result[:14]).all() and not np.isnan(result[14:]).any()
    assert np.isnan(ind.sma(np.full(8, np.nan), 3)).all()


def test_empty_input_returns_empty_outputs():
    assert ind.sma([], 3).shape == (0,)
    assert ind.macd([]).macd.shape == (0,)
    assert ind.vwap([], [], [], [], session=[]).shape == (0,)


@pytest.mark.parametrize("function", [
    lambda volume: ind.obv(CLOSE, volume),
    lambda volume: ind.vwap(HIGH, LOW, CLOSE, volume),
], ids=["obv", "vwap"])
def test_negative_volume_raises_naming_index(function):
    volume = VOLUME.copy()
    volume[7] = -5.0
    with pytest.raises(InvalidInput, match=r"^volume must be non-negative, was -5.0 at index 7$"):
        function(volume)


@pytest.mark.parametrize("multiplier", [-1.0, np.nan, np.inf, "2", True])
@pytest.mark.parametrize("build", [
    lambda multiplier: ind.bollinger_bands(CLOSE, 5, multiplier=multiplier),
    lambda multiplier: ind.keltner_channels(HIGH, LOW, CLOSE, multiplier=multiplier),
    lambda multiplier: ind.BollingerBands(5, multiplier=multiplier),
    lambda multiplier: ind.KeltnerChannels(multiplier=multiplier),
], ids=["bollinger_bands", "keltner_channels", "BollingerBands", "KeltnerChannels"])
def test_multiplier_negative_or_not_finite_raises(build, multiplier):
    with pytest.raises(InvalidInput, match=r"^multiplier must be (a finite number|non-negative), was"):
        build(multiplier)


@pytest.mark.parametrize("build", [
    lambda: ind.macd(CLOSE, fast_period=26, slow_period=12),
    lambda: ind.macd(CLOSE, fast_period=12, slow_period=12),
    lambda: ind.MACD(fast_period=30, slow_period=26),
], ids=["vectorised-swapped", "vectorised-equal", "streaming"])
def test_macd_fast_period_not_below_slow_raises(build):
    with pytest.raises(InvalidInput, match=r"^fast_period must be less than slow_period, were \d+ and \d+$"):
        build()


def test_two_dimensional_input_raises_naming_shape():
    with pytest.raises(InvalidInput, match=r"^close must be one-dimensional, had shape \(2, 25\)$"):
        ind.sma(CLOSE.reshape(2, 25), 3)


def test_non_numeric_input_raises_naming_input():
    with pytest.raises(InvalidInput, match=r"^close must be numeric, could not convert"):
        ind.ema(["1.0", "abc"], 2)
    with pytest.raises(InvalidInput, match=r"^high must be numeric"):
        ind.donchian_channels([object()], [1.0], 1)


def test_nullable_pandas_series_with_leading_na_is_accepted():
    close = pd.Series([None, None, 1.0, 2.0, 3.0], dtype="Float64")
    np.testing.assert_array_equal(ind.sma(close, 2), [np.nan, np.nan, np.nan, 1.5, 2.5])


def test_session_labels_of_wrong_length_raise():
    with pytest.raises(InvalidInput, match=r"^session must be one label per bar, had shape \(3,\) for 50 bars$"):
        ind.vwap(HIGH, LOW, CLOSE, VOLUME, session=[1, 1, 2])
