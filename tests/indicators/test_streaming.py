"""Streaming indicators, one bar per ``update``, against the vectorised functions.

Expected agreement is exact: ``assert_array_equal``, with NaN on the same warm-up bars.
Both forms perform the same IEEE-754 operations in the same order (block sums of
deviations from the same reference bar, left-to-right running sums, and the recursion
``decay * previous + weight * x``, which is also SciPy ``lfilter``'s direct-form update),
so any difference, even one ulp, means the two forms have drifted apart.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bifrost import indicators as ind
from bifrost.core.errors import InvalidInput
from tests.indicators.support import load_ticker, random_walk

HLC = ("high", "low", "close")

# name, streaming factory, vectorised function of the bars, inputs, bars of warm-up (TA-Lib lookback)
CASES: list[tuple[str, Callable[[], Any], Callable[[dict], Any], tuple[str, ...], int]] = [
    ("sma-20", lambda: ind.SimpleMovingAverage(20), lambda b: ind.sma(b["close"], 20), ("close",), 19),
    ("sma-1", lambda: ind.SimpleMovingAverage(1), lambda b: ind.sma(b["close"], 1), ("close",), 0),
    ("ema-30", lambda: ind.ExponentialMovingAverage(30), lambda b: ind.ema(b["close"], 30), ("close",), 29),
    ("wma-14", lambda: ind.WeightedMovingAverage(14), lambda b: ind.wma(b["close"], 14), ("close",), 13),
    ("bbands-20", lambda: ind.BollingerBands(20, multiplier=2.5),
     lambda b: ind.bollinger_bands(b["close"], 20, multiplier=2.5), ("close",), 19),
    ("macd", lambda: ind.MACD(), lambda b: ind.macd(b["close"]), ("close",), 33),
    ("macd-5-35-5", lambda: ind.MACD(fast_period=5, slow_period=35, signal_period=5),
     lambda b: ind.macd(b["close"], fast_period=5, slow_period=35, signal_period=5), ("close",), 38),
    ("rsi-14", lambda: ind.RelativeStrengthIndex(14), lambda b: ind.rsi(b["close"], 14), ("close",), 14),
    ("atr-14", lambda: ind.AverageTrueRange(14), lambda b: ind.atr(b["high"], b["low"], b["close"], 14), HLC, 14),
    ("stoch", lambda: ind.Stochastic(), lambda b: ind.stochastic(b["high"], b["low"], b["close"]), HLC, 8),
    ("stoch-14-5-4", lambda: ind.Stochastic(fast_k_period=14, slow_k_period=5, slow_d_period=4),
     lambda b: ind.stochastic(b["high"], b["low"], b["close"], fast_k_period=14, slow_k_period=5,
                              slow_d_period=4), HLC, 20),
    ("adx-14", lambda: ind.AverageDirectionalIndex(14), lambda b: ind.adx(b["high"], b["low"], b["close"], 14),
     HLC, 27),
    ("obv", lambda: ind.OnBalanceVolume(), lambda b: ind.obv(b["close"], b["volume"]), ("close", "volume"), 0),
    ("vwap", lambda: ind.VolumeWeightedAveragePrice(),
     lambda b: ind.vwap(b["high"], b["low"], b["close"], b["volume"], session=np.arange(b["close"].size) // 7),
     ("high", "low", "close", "volume", "session"), 0),
    ("zscore-20", lambda: ind.RollingZScore(20), lambda b: ind.rolling_zscore(b["close"], 20), ("close",), 19),
    ("donchian-20", lambda: ind.DonchianChannels(20), lambda b: ind.donchian_channels(b["high"], b["low"], 20),
     ("high", "low"), 19),
    ("keltner", lambda: ind.KeltnerChannels(), lambda b: ind.keltner_channels(b["high"], b["low"], b["close"]),
     HLC, 19),
]
CASE_IDS = [case[0] for case in CASES]


@pytest.fixture(params=["AAPL", "MSFT", "walk-11"])
def bars(request):
    if request.param.startswith("walk-"):
        source = random_walk(int(request.param.removeprefix("walk-")))
    else:
        source = load_ticker(request.getfixturevalue("shared_data"), request.param)
    return {**source, "session": np.arange(source["close"].size) // 7}


def _stream(factory: Callable[[], Any], bars: dict, inputs: tuple[str, ...]) -> list[np.ndarray]:
    indicator = factory()
    columns = [bars[name].tolist() for name in inputs]
    if inputs[-1] == "session":
        rows = [indicator.update(*row[:-1], session=row[-1]) for row in zip(*columns, strict=True)]
    else:
        rows = [indicator.update(*row) for row in zip(*columns, strict=True)]
    table = np.array([row if isinstance(row, tuple) else (row,) for row in rows], dtype=np.float64)
    return [table[:, column] for column in range(table.shape[1])]


def _outputs(result: Any) -> list[np.ndarray]:
    return [result] if isinstance(result, np.ndarray) else list(result)


@pytest.mark.parametrize(("name", "factory", "vectorised", "inputs", "lookback"), CASES, ids=CASE_IDS)
def test_streaming_real_and_random_bars_equal_vectorised_bit_for_bit(bars, name, factory, vectorised, inputs,
                                                                    lookback):
    streamed = _stream(factory, bars, inputs)
    expected = _outputs(vectorised(bars))
    assert len(streamed) == len(expected)
    for ours, theirs in zip(streamed, expected, strict=True):
        np.testing.assert_array_equal(ours, theirs)
        assert not np.isnan(ours[lookback:]).all()


@pytest.mark.parametrize(("name", "factory", "vectorised", "inputs", "lookback"), CASES, ids=CASE_IDS)
def test_streaming_ready_turns_true_at_talib_lookback(name, factory, vectorised, inputs, lookback):
    bars = {**random_walk(5, 60), "session": np.zeros(60)}
    indicator = factory()
    ready = []
    for row in zip(*(bars[field].tolist() for field in inputs if field != "session"), strict=True):
        indicator.update(*row)
        ready.append(indicator.ready)
    assert ready == [False] * lookback + [True] * (60 - lookback)


@pytest.mark.parametrize(("name", "factory", "vectorised", "inputs", "lookback"), CASES, ids=CASE_IDS)
def test_streaming_value_and_reset_repeat_a_fresh_instance(name, factory, vectorised, inputs, lookback):
    bars = random_walk(6, 80)
    rows = list(zip(*(bars[field].tolist() for field in inputs if field != "session"), strict=True))
    indicator = factory()
    first = [indicator.update(*row) for row in rows]
    assert indicator.value == first[-1]
    indicator.reset()
    assert not indicator.ready
    assert all(math.isnan(value) for value in np.atleast_1d(indicator.value))
    again = [indicator.update(*row) for row in rows]
    np.testing.assert_array_equal(np.array(again, dtype=float), np.array(first, dtype=float))


@pytest.mark.parametrize(("name", "factory", "vectorised", "inputs", "lookback"), CASES, ids=CASE_IDS)
def test_streaming_instances_are_slotted_and_return_plain_floats(name, factory, vectorised, inputs, lookback):
    indicator = factory()
    assert not hasattr(indicator, "__dict__")
    bars = random_walk(7, 60)
    result = None
    for row in zip(*(bars[field] for field in inputs if field != "session"), strict=True):  # NumPy scalars in
        result = indicator.update(*row)
    values = result if isinstance(result, tuple) else (result,)
    assert all(type(value) is float for value in values)


# --- property: streaming == vectorised for arbitrary bars ---------------------------------------

PRICE = st.floats(min_value=0.01, max_value=10_000.0, allow_nan=False, allow_infinity=False)
PERIOD = st.integers(min_value=1, max_value=12)
PARAMETERS: dict[str, st.SearchStrategy[dict[str, Any]]] = {
    "sma": st.fixed_dictionaries({"period": PERIOD}),
    "ema": st.fixed_dictionaries({"period": PERIOD}),
    "wma": st.fixed_dictionaries({"period": PERIOD}),
    "bbands": st.fixed_dictionaries({"period": PERIOD, "multiplier": st.floats(0.0, 4.0)}),
    "macd": st.tuples(st.integers(1, 6), st.integers(1, 6), st.integers(1, 6)).map(
        lambda t: {"fast_period": t[0], "slow_period": t[0] + t[1], "signal_period": t[2]}),
    "rsi": st.fixed_dictionaries({"period": PERIOD}),
    "atr": st.fixed_dictionaries({"period": PERIOD}),
    "stoch": st.fixed_dictionaries({"fast_k_period": st.integers(1, 8), "slow_k_period": st.integers(1, 4),
                                    "slow_d_period": st.integers(1, 4)}),
    "adx": st.fixed_dictionaries({"period": PERIOD}),
    "obv": st.just({}),
    "vwap": st.just({}),
    "zscore": st.fixed_dictionaries({"period": PERIOD}),
    "donchian": st.fixed_dictionaries({"period": PERIOD}),
    "keltner": st.fixed_dictionaries({"period": PERIOD, "atr_period": PERIOD, "multiplier": st.floats(0.0, 4.0)}),
}


@st.composite
def random_bars(draw: st.DrawFn) -> dict[str, np.ndarray]:
    """Arbitrary bars (not necessarily consistent OHLC), with an optional leading run of NaN."""
    size = draw(st.integers(min_value=0, max_value=90))
    column = st.lists(PRICE, min_size=size, max_size=size)
    close = np.array(draw(column))
    high = np.array(draw(column))
    low = np.array(draw(column))
    volume = np.array(draw(st.lists(st.integers(0, 1_000_000).map(float), min_size=size, max_size=size)))
    if draw(st.booleans()):  # round to cents: ties, flat windows and zero changes are common in real data
        close, high, low = np.round(close, 2), np.round(high, 2), np.round(low, 2)
    session = np.cumsum(draw(st.lists(st.booleans(), min_size=size, max_size=size))).astype(np.int64)
    warmup = draw(st.integers(min_value=0, max_value=min(size, 5)))
    close[:warmup] = np.nan
    high[:draw(st.integers(min_value=0, max_value=warmup))] = np.nan
    return {"close": close, "high": high, "low": low, "volume": volume, "session": session}


@pytest.mark.parametrize("name", sorted(PARAMETERS))
@settings(max_examples=60, deadline=None)
@given(data=st.data())
def test_streaming_random_bars_equal_vectorised_property(name, data):
    bars = data.draw(random_bars(), label="bars")
    parameters = data.draw(PARAMETERS[name], label="parameters")
    report = ind.check_consistency(name, bars, parameters=parameters, rtol=0.0, atol=0.0)
    assert report.consistent, report.first_mismatch


# --- input policy -------------------------------------------------------------------------------


def test_streaming_leading_nan_bars_are_skipped_until_first_complete_bar():
    sma = ind.SimpleMovingAverage(2)
    assert math.isnan(sma.update(float("nan")))
    assert math.isnan(sma.update(float("nan")))
    assert math.isnan(sma.update(4.0))
    assert sma.update(6.0) == 5.0
    atr = ind.AverageTrueRange(1)
    assert math.isnan(atr.update(float("nan"), 1.0, 1.5))  # incomplete bar: skipped
    assert math.isnan(atr.update(2.0, 1.0, 1.5))  # first complete bar: previous close only
    assert atr.update(3.0, 2.0, 2.5) == 1.5  # max(3 - 2, |3 - 1.5|, |2 - 1.5|)


@pytest.mark.parametrize(("factory", "bar"), [
    (lambda: ind.SimpleMovingAverage(3), ("close",)),
    (lambda: ind.AverageDirectionalIndex(3), HLC),
    (lambda: ind.VolumeWeightedAveragePrice(), ("high", "low", "close", "volume")),
    (lambda: ind.MACD(fast_period=2, slow_period=4, signal_period=2), ("close",)),
], ids=["sma", "adx", "vwap", "macd"])
def test_streaming_nan_after_start_raises_and_leaves_state_unchanged(factory, bar):
    bars = random_walk(8, 40)
    rows = list(zip(*(bars[field].tolist() for field in bar), strict=True))
    clean, interrupted = factory(), factory()
    expected = [clean.update(*row) for row in rows]
    results = []
    for index, row in enumerate(rows):
        if index == 20:
            value_before = interrupted.value
            poisoned = (float("nan"),) + row[1:]
            with pytest.raises(InvalidInput, match=rf"{bar[0]} must not be NaN once the indicator has started"):
                interrupted.update(*poisoned)
            assert interrupted.value == value_before or (np.isnan(value_before).all()
                                                         and np.isnan(interrupted.value).all())
        results.append(interrupted.update(*row))
    np.testing.assert_array_equal(np.array(results, dtype=float), np.array(expected, dtype=float))


@pytest.mark.parametrize("value", [float("inf"), float("-inf")])
def test_streaming_infinity_raises_even_before_start(value):
    with pytest.raises(InvalidInput, match=r"close must be finite, was -?inf"):
        ind.ExponentialMovingAverage(3).update(value)
    with pytest.raises(InvalidInput, match=r"low must be finite, was -?inf"):
        ind.KeltnerChannels().update(float("nan"), value, 1.0)


@pytest.mark.parametrize("value", ["abc", None, [1.0]])
def test_streaming_non_number_raises_invalid_input(value):
    with pytest.raises(InvalidInput, match=r"close must be a number, was"):
        ind.RelativeStrengthIndex().update(value)


def test_streaming_negative_volume_raises_and_keeps_state():
    obv = ind.OnBalanceVolume()
    obv.update(10.0, 5.0)
    with pytest.raises(InvalidInput, match=r"volume must be non-negative, was -1.0"):
        obv.update(11.0, -1.0)
    assert obv.value == 5.0
    assert obv.update(11.0, 2.0) == 7.0
    with pytest.raises(InvalidInput, match=r"volume must be non-negative, was -3.0"):
        ind.VolumeWeightedAveragePrice().update(1.0, 1.0, 1.0, -3.0)


def test_streaming_vwap_new_session_restarts_and_none_keeps_session():
    vwap = ind.VolumeWeightedAveragePrice()
    assert vwap.update(2.0, 2.0, 2.0, 1.0, session="2024-01-02") == 2.0
    assert vwap.update(4.0, 4.0, 4.0, 3.0, session="2024-01-02") == 3.5
    assert vwap.update(6.0, 6.0, 6.0, 1.0, session="2024-01-03") == 6.0
    assert vwap.update(8.0, 8.0, 8.0, 1.0) == 7.0
    assert math.isnan(ind.VolumeWeightedAveragePrice().update(1.0, 1.0, 1.0, 0.0))


def test_streaming_window_after_huge_values_stays_exact():
    """A running sum carried through a million updates at 1e12 would keep ~1e-4 of error."""
    rng = np.random.default_rng(9)
    sma = ind.SimpleMovingAverage(3)
    zscore = ind.RollingZScore(3)
    for value in (1e12 + rng.normal(0.0, 1e6, 200_000)).tolist():
        sma.update(value)
        zscore.update(value)
    for value in (1.0, 2.0, 3.0):
        sma.update(value)
        zscore.update(value)
    assert sma.value == 2.0
    assert zscore.value == pytest.approx(math.sqrt(1.5), rel=1e-15)  # (3 - 2) / sqrt(2 / 3)


def test_streaming_repr_names_parameters():
    assert repr(ind.BollingerBands(10, multiplier=1.5)) == "BollingerBands(period=10, multiplier=1.5)"
    assert repr(ind.OnBalanceVolume()) == "OnBalanceVolume()"


def test_streaming_parameters_are_read_only():
    keltner = ind.KeltnerChannels(10, atr_period=5, multiplier=1.5)
    with pytest.raises(AttributeError):
        keltner.period = 3  # type: ignore[misc]
    assert (keltner.period, keltner.atr_period, keltner.multiplier) == (10, 5, 1.5)
