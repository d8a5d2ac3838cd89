"""The indicator registry: lookup, user registration, duplicate names and the consistency checker."""

from __future__ import annotations

import math
from collections import deque

import numpy as np
import pytest

from bifrost import indicators as ind
from bifrost.core.errors import InvalidInput, NotFoundError, StateConflict
from bifrost.indicators import (
    DuplicateIndicator,
    IndicatorRegistry,
    UnknownIndicator,
    check_consistency,
    get_indicator,
    list_indicators,
    register_indicator,
    unregister_indicator,
)
from tests.indicators.support import load_ticker, random_walk

BUILT_IN = ["adx", "atr", "bbands", "donchian", "ema", "keltner", "macd", "obv", "rsi", "sma", "stoch", "vwap",
            "wma", "zscore"]


def momentum(close, period: int = 10) -> np.ndarray:
    """User indicator: x_t - x_{t-n}, NaN for the first n bars."""
    close = np.asarray(close, dtype=float)
    out = np.full(close.size, np.nan)
    out[period:] = close[period:] - close[:-period]
    return out


class Momentum:
    """Streaming form of ``momentum`` with a ring buffer."""

    __slots__ = ("_window", "period", "value")

    def __init__(self, period: int = 10) -> None:
        self.period = period
        self._window: deque[float] = deque(maxlen=period + 1)
        self.value = math.nan

    @property
    def ready(self) -> bool:
        return len(self._window) > self.period

    def update(self, close: float) -> float:
        self._window.append(float(close))
        self.value = self._window[-1] - self._window[0] if self.ready else math.nan
        return self.value


class MomentumSeededAtFirstBar(Momentum):
    """Deliberately inconsistent: outputs from the first bar, measuring against the first price."""

    def update(self, close: float) -> float:
        self._window.append(float(close))
        self.value = self._window[-1] - self._window[0]
        return self.value


class MomentumOffByOneUlp(Momentum):
    """Deliberately inconsistent in rounding only: nudges every value by one ulp."""

    def update(self, close: float) -> float:
        value = super().update(close)
        return value if math.isnan(value) else math.nextafter(value, math.inf)


@pytest.fixture
def registered():
    """Names registered by a test, removed afterwards so the default registry is unchanged."""
    names: list[str] = []
    yield names
    for name in names:
        unregister_indicator(name)


def test_list_indicators_holds_every_built_in():
    assert set(BUILT_IN) <= set(list_indicators())


def test_get_indicator_any_case_returns_both_forms():
    spec = get_indicator("  RSI ")
    assert spec.name == "rsi"
    assert spec.vectorised is ind.rsi and spec.streaming is ind.RelativeStrengthIndex
    assert spec.inputs == ("close",) and spec.outputs == ("value",)
    assert get_indicator("vwap").optional_inputs == ("session",)


def test_get_indicator_unknown_name_raises_unknown_indicator():
    with pytest.raises(UnknownIndicator, match=r"^no indicator named 'hull' is registered; known: \['adx'") as caught:
        get_indicator("Hull")
    assert isinstance(caught.value, NotFoundError) and isinstance(caught.value, LookupError)
    assert caught.value.code == "unknown_indicator"


def test_register_indicator_user_pair_works_through_registry(registered):
    spec = register_indicator("Momentum", vectorised=momentum, streaming=Momentum,
                              description="price change over n bars")
    registered.append("momentum")
    close = np.array([10.0, 11.0, 13.0, 12.0, 15.0])

    found = get_indicator("momentum")
    (batch,) = found.compute({"close": close}, period=2)
    (live,) = found.stream({"close": close}, period=2)
    report = check_consistency("momentum", {"close": close}, parameters={"period": 2}, rtol=0.0, atol=0.0)

    assert found is spec and "momentum" in list_indicators()
    np.testing.assert_array_equal(batch, [np.nan, np.nan, 3.0, 1.0, 2.0])
    np.testing.assert_array_equal(live, batch)
    assert report.consistent and report.bars == 5 and report.mismatches == 0


def test_register_indicator_existing_name_raises_duplicate_and_keeps_original(registered):
    register_indicator("momentum", vectorised=momentum, streaming=Momentum)
    registered.append("momentum")
    with pytest.raises(DuplicateIndicator, match=r"^an indicator named 'momentum' is already registered$") as caught:
        register_indicator("MOMENTUM", vectorised=np.diff, streaming=MomentumSeededAtFirstBar)
    with pytest.raises(DuplicateIndicator, match=r"'sma' is already registered"):
        register_indicator("sma", vectorised=momentum, streaming=Momentum)
    assert isinstance(caught.value, StateConflict) and isinstance(caught.value, ValueError)
    assert get_indicator("momentum").vectorised is momentum
    assert get_indicator("sma").vectorised is ind.sma


def test_check_consistency_catches_deliberately_inconsistent_pair(registered):
    register_indicator("bad_momentum", vectorised=momentum, streaming=MomentumSeededAtFirstBar)
    registered.append("bad_momentum")
    close = random_walk(3, 100)["close"]

    report = check_consistency("bad_momentum", {"close": close}, parameters={"period": 5})

    assert not report.consistent and not report
    assert report.mismatches == 5  # bars 1 .. 4 stream a value during warm-up, bar 0 gives 0.0 for NaN
    assert report.first_mismatch == {"output": "value", "index": 0, "vectorised": pytest.approx(math.nan,
                                                                                                 nan_ok=True),
                                     "streaming": 0.0}


def test_check_consistency_tolerance_decides_rounding_differences(registered):
    register_indicator("ulp_momentum", vectorised=momentum, streaming=MomentumOffByOneUlp)
    registered.append("ulp_momentum")
    sample = {"close": random_walk(4, 50)["close"]}

    exact = check_consistency("ulp_momentum", sample, parameters={"period": 3}, rtol=0.0, atol=0.0)
    loose = check_consistency("ulp_momentum", sample, parameters={"period": 3})

    assert not exact.consistent and exact.mismatches == 47
    assert 0.0 < exact.max_abs_difference < 1e-13
    assert loose.consistent


@pytest.mark.parametrize("name", BUILT_IN)
def test_check_consistency_built_ins_on_real_bars_are_exact(shared_data, name):
    bars = load_ticker(shared_data, "AAPL")
    sample = {**bars, "session": np.arange(bars["close"].size) // 5}
    parameters = {"period": 20} if name in {"sma", "ema", "wma", "zscore"} else {}  # no default period
    report = check_consistency(name, sample, parameters=parameters, rtol=0.0, atol=0.0)
    assert report.consistent, report.first_mismatch
    assert report.max_abs_difference == 0.0 and report.bars == bars["close"].size


def test_check_consistency_missing_input_raises_naming_it():
    with pytest.raises(InvalidInput, match=r"^sample_inputs must include 'high' for indicator 'atr', had \['close'\]$"):
        check_consistency("atr", {"close": [1.0, 2.0]})


def test_check_consistency_negative_tolerance_raises():
    with pytest.raises(InvalidInput, match=r"^rtol must be a finite non-negative number, was -1.0$"):
        check_consistency("sma", {"close": [1.0, 2.0]}, parameters={"period": 1}, rtol=-1.0)


def test_check_consistency_wrong_output_count_raises():
    registry = IndicatorRegistry()
    registry.register("pair", vectorised=lambda close: (momentum(close, 1), momentum(close, 1)), streaming=Momentum)
    with pytest.raises(InvalidInput, match=r"^indicator 'pair' returned 2 outputs, declared 1 \('value',\)$"):
        registry.check_consistency("pair", {"close": [1.0, 2.0, 3.0]})


@pytest.mark.parametrize(("arguments", "message"), [
    ({"name": "", "vectorised": momentum, "streaming": Momentum}, r"^indicator name must be a non-empty string"),
    ({"name": 3, "vectorised": momentum, "streaming": Momentum}, r"^indicator name must be a non-empty string"),
    ({"name": "x", "vectorised": None, "streaming": Momentum}, r"^vectorised must be callable, was None$"),
    ({"name": "x", "vectorised": momentum, "streaming": 5}, r"^streaming must be callable, was 5$"),
    ({"name": "x", "vectorised": momentum, "streaming": Momentum, "inputs": ()}, r"needs at least one input"),
])
def test_register_indicator_invalid_arguments_raise_and_register_nothing(arguments, message):
    registry = IndicatorRegistry()
    name = arguments.pop("name")
    with pytest.raises(InvalidInput, match=message):
        registry.register(name, **arguments)
    assert registry.names() == []


def test_unregister_indicator_unknown_name_raises():
    with pytest.raises(UnknownIndicator, match=r"^no indicator named 'nothing' is registered$"):
        unregister_indicator("nothing")
