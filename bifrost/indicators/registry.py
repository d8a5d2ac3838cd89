"""A registry of indicators by name, each with a vectorised function and a streaming factory.

Built-in indicators are registered under lower-case names (``"sma"``, ``"macd"``,
...). Users add their own with :func:`register_indicator` and look any up with
:func:`get_indicator`; :func:`check_consistency` runs both forms over sample data and
reports whether they agree, which is how a new indicator should be tested.

Contract of a registered pair
-----------------------------
``vectorised(*inputs, **parameters)``
    Takes one array per name in ``inputs`` (in that order) and returns an array or a
    tuple of arrays (``outputs`` in order) of the inputs' length.
``streaming(**parameters)``
    Returns an object whose ``update(*bar)`` takes one value per input and returns a
    float or a tuple of floats in the same order, with ``value`` and ``ready``.

Optional inputs (such as VWAP's ``session``) are passed to both forms by keyword.
"""

from __future__ import annotations

import math
import threading
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from numpy.typing import ArrayLike

from bifrost.core.errors import InvalidInput
from bifrost.indicators import streaming, vectorised
from bifrost.indicators.errors import DuplicateIndicator, UnknownIndicator

__all__ = [
    "ConsistencyReport", "IndicatorRegistry", "IndicatorSpec", "check_consistency",
    "default_registry", "get_indicator", "list_indicators", "register_indicator",
    "unregister_indicator",
]


@dataclass(frozen=True, slots=True, kw_only=True)
class IndicatorSpec:
    """One registered indicator: its two forms and the names of its inputs and outputs."""

    name: str
    vectorised: Callable[..., Any]
    streaming: Callable[..., Any]
    inputs: tuple[str, ...] = ("close",)
    outputs: tuple[str, ...] = ("value",)
    optional_inputs: tuple[str, ...] = ()
    description: str = ""

    def compute(self, sample_inputs: Mapping[str, ArrayLike], **parameters: Any) -> tuple[np.ndarray, ...]:
        """Run the vectorised form; return its outputs as a tuple of float64 arrays."""
        positional = [_required(self, sample_inputs, name) for name in self.inputs]
        optional = {name: sample_inputs[name] for name in self.optional_inputs if name in sample_inputs}
        result = self.vectorised(*positional, **optional, **parameters)
        arrays = (result,) if isinstance(result, np.ndarray) else tuple(result)
        if len(arrays) != len(self.outputs):
            raise InvalidInput(f"indicator {self.name!r} returned {len(arrays)} outputs, declared "
                               f"{len(self.outputs)} {self.outputs}", details={"name": self.name})
        return tuple(np.asarray(array, dtype=np.float64) for array in arrays)

    def stream(self, sample_inputs: Mapping[str, ArrayLike], **parameters: Any) -> tuple[np.ndarray, ...]:
        """Feed the inputs bar by bar to a new streaming instance; return its outputs as arrays."""
        columns = [np.asarray(_required(self, sample_inputs, name)) for name in self.inputs]
        optional = {name: np.asarray(sample_inputs[name]) for name in self.optional_inputs
                    if name in sample_inputs}
        instance = self.streaming(**parameters)
        size = len(columns[0]) if columns else 0
        rows: list[tuple[float, ...]] = []
        for index in range(size):
            bar = [column[index] for column in columns]
            extra = {name: values[index] for name, values in optional.items()}
            result = instance.update(*bar, **extra)
            rows.append(tuple(result) if isinstance(result, tuple) else (result,))
        width = len(self.outputs)
        if any(len(row) != width for row in rows):
            raise InvalidInput(f"indicator {self.name!r} streamed a value that is not {width} outputs",
                               details={"name": self.name})
        table = np.array(rows, dtype=np.float64).reshape(size, width)
        return tuple(table[:, column].copy() for column in range(width))


@dataclass(frozen=True, slots=True)
class ConsistencyReport:
    """Outcome of running an indicator's two forms over the same sample."""

    name: str
    consistent: bool
    bars: int
    max_abs_difference: float
    mismatches: int
    first_mismatch: dict[str, Any] | None = field(default=None)

    def __bool__(self) -> bool:
        return self.consistent


def _required(spec: IndicatorSpec, sample_inputs: Mapping[str, ArrayLike], name: str) -> ArrayLike:
    if name not in sample_inputs:
        raise InvalidInput(f"sample_inputs must include {name!r} for indicator {spec.name!r}, "
                           f"had {sorted(sample_inputs)}", details={"name": spec.name, "missing": name})
    return sample_inputs[name]


def _normalise_name(name: object) -> str:
    if not isinstance(name, str) or not name.strip():
        raise InvalidInput(f"indicator name must be a non-empty string, was {name!r}",
                           details={"name": repr(name)})
    return name.strip().lower()


class IndicatorRegistry:
    """Names mapped to :class:`IndicatorSpec`; thread-safe for registration and lookup."""

    def __init__(self) -> None:
        self._specs: dict[str, IndicatorSpec] = {}
        self._lock = threading.Lock()

    def register(self, name: str, *, vectorised: Callable[..., Any], streaming: Callable[..., Any],
                 inputs: tuple[str, ...] = ("close",), outputs: tuple[str, ...] = ("value",),
                 optional_inputs: tuple[str, ...] = (), description: str = "") -> IndicatorSpec:
        """Register an indicator under ``name`` (case-insensitive); see :func:`register_indicator`."""
        key = _normalise_name(name)
        if not callable(vectorised):
            raise InvalidInput(f"vectorised must be callable, was {vectorised!r}", details={"name": key})
        if not callable(streaming):
            raise InvalidInput(f"streaming must be callable, was {streaming!r}", details={"name": key})
        if not inputs or not outputs:
            raise InvalidInput(f"an indicator needs at least one input and one output, had inputs={inputs} "
                               f"and outputs={outputs}", details={"name": key})
        spec = IndicatorSpec(name=key, vectorised=vectorised, streaming=streaming, inputs=tuple(inputs),
                             outputs=tuple(outputs), optional_inputs=tuple(optional_inputs),
                             description=description)
        with self._lock:
            if key in self._specs:
                raise DuplicateIndicator(f"an indicator named {key!r} is already registered",
                                         details={"name": key})
            self._specs[key] = spec
        return spec

    def unregister(self, name: str) -> None:
        """Remove the indicator registered under ``name``."""
        key = _normalise_name(name)
        with self._lock:
            if self._specs.pop(key, None) is None:
                raise UnknownIndicator(f"no indicator named {key!r} is registered", details={"name": key})

    def get(self, name: str) -> IndicatorSpec:
        """Return the indicator registered under ``name``."""
        key = _normalise_name(name)
        try:
            return self._specs[key]
        except KeyError:
            raise UnknownIndicator(f"no indicator named {key!r} is registered; known: {sorted(self._specs)}",
                                   details={"name": key}) from None

    def names(self) -> list[str]:
        """Registered names, sorted."""
        return sorted(self._specs)

    def __contains__(self, name: object) -> bool:
        return isinstance(name, str) and name.strip().lower() in self._specs

    def __iter__(self) -> Iterator[str]:
        return iter(self.names())

    def check_consistency(self, name: str, sample_inputs: Mapping[str, ArrayLike], *,
                          parameters: Mapping[str, Any] | None = None, rtol: float = 1e-12,
                          atol: float = 1e-12) -> ConsistencyReport:
        """Run both forms of ``name`` over ``sample_inputs``; see :func:`check_consistency`."""
        spec = self.get(name)
        for label, tolerance in (("rtol", rtol), ("atol", atol)):
            if not (isinstance(tolerance, int | float) and math.isfinite(tolerance) and tolerance >= 0):
                raise InvalidInput(f"{label} must be a finite non-negative number, was {tolerance!r}",
                                   details={label: repr(tolerance)})
        options = dict(parameters or {})
        batch = spec.compute(sample_inputs, **options)
        live = spec.stream(sample_inputs, **options)
        bars = batch[0].size if batch else 0
        worst = 0.0
        mismatches = 0
        first: dict[str, Any] | None = None
        for output, expected, actual in zip(spec.outputs, batch, live, strict=True):
            if expected.shape != actual.shape:
                mismatches += 1
                first = first or {"output": output, "index": None, "vectorised_shape": expected.shape,
                                  "streaming_shape": actual.shape}
                continue
            expected_nan, actual_nan = np.isnan(expected), np.isnan(actual)
            both = ~expected_nan & ~actual_nan
            difference = np.abs(expected[both] - actual[both])
            if difference.size:
                worst = max(worst, float(difference.max()))
            bad = expected_nan != actual_nan
            bad[both] = difference > atol + rtol * np.abs(expected[both])
            if bad.any():
                mismatches += int(bad.sum())
                index = int(np.argmax(bad))
                candidate = {"output": output, "index": index, "vectorised": float(expected[index]),
                             "streaming": float(actual[index])}
                if first is None or (first["index"] is not None and index < first["index"]):
                    first = candidate
        return ConsistencyReport(name=spec.name, consistent=mismatches == 0, bars=bars,
                                 max_abs_difference=worst, mismatches=mismatches, first_mismatch=first)


default_registry = IndicatorRegistry()


def register_indicator(name: str, *, vectorised: Callable[..., Any], streaming: Callable[..., Any],
                       inputs: tuple[str, ...] = ("close",), outputs: tuple[str, ...] = ("value",),
                       optional_inputs: tuple[str, ...] = (), description: str = "") -> IndicatorSpec:
    """Register a user indicator in the default registry.

    Parameters
    ----------
    name : str
        Unique name, case-insensitive (stored lower-case).
    vectorised : callable
        ``vectorised(*inputs, **parameters)`` returning an array or tuple of arrays.
    streaming : callable
        Factory ``streaming(**parameters)`` returning an object with ``update``,
        ``value`` and ``ready`` (a class is a factory).
    inputs : tuple of str, default ("close",)
        Names of the positional inputs, in order.
    outputs : tuple of str, default ("value",)
        Names of the outputs, in order.
    optional_inputs : tuple of str, default ()
        Inputs passed by keyword when present (e.g. ``("session",)``).
    description : str, default ""
        One line for listings.

    Returns
    -------
    IndicatorSpec
        The stored registration.

    Raises
    ------
    DuplicateIndicator
        If ``name`` is already registered.
    InvalidInput
        If ``name`` is empty, a form is not callable, or inputs/outputs are empty.
    """
    return default_registry.register(name, vectorised=vectorised, streaming=streaming, inputs=inputs,
                                     outputs=outputs, optional_inputs=optional_inputs,
                                     description=description)


def unregister_indicator(name: str) -> None:
    """Remove ``name`` from the default registry; raise :class:`UnknownIndicator` if absent."""
    default_registry.unregister(name)


def get_indicator(name: str) -> IndicatorSpec:
    """Return the indicator registered under ``name`` (case-insensitive).

    Raises
    ------
    UnknownIndicator
        If no indicator has that name.
    """
    return default_registry.get(name)


def list_indicators() -> list[str]:
    """Return the names in the default registry, sorted."""
    return default_registry.names()


def check_consistency(name: str, sample_inputs: Mapping[str, ArrayLike], *,
                      parameters: Mapping[str, Any] | None = None, rtol: float = 1e-12,
                      atol: float = 1e-12) -> ConsistencyReport:
    """Check that an indicator's vectorised and streaming forms agree on a sample.

    Parameters
    ----------
    name : str
        A registered indicator.
    sample_inputs : mapping of str to array_like
        One array per input name of the indicator (extra keys are ignored).
    parameters : mapping, optional
        Keyword parameters for both forms, e.g. ``{"period": 14}``.
    rtol, atol : float, default 1e-12
        Allowed difference ``atol + rtol * |vectorised|`` per value. The built-in
        indicators agree exactly (pass 0 for both).

    Returns
    -------
    ConsistencyReport
        ``consistent`` is true when warm-up NaN fall on the same bars and every other
        value agrees within the tolerance; ``first_mismatch`` locates the first
        disagreement.

    Raises
    ------
    UnknownIndicator
        If ``name`` is not registered.
    InvalidInput
        If an input is missing, a form returns the wrong number of outputs, or a
        tolerance is negative.

    Notes
    -----
    A value passes when :math:`|s_t - v_t| \\le \\mathrm{atol} + \\mathrm{rtol}\\,|v_t|`,
    with :math:`v` the vectorised and :math:`s` the streaming output.
    """
    return default_registry.check_consistency(name, sample_inputs, parameters=parameters, rtol=rtol,
                                              atol=atol)


_HLC = ("high", "low", "close")
_BUILT_IN: tuple[tuple[str, Callable[..., Any], Callable[..., Any], tuple[str, ...], tuple[str, ...], str], ...] = (
    ("sma", vectorised.sma, streaming.SimpleMovingAverage, ("close",), ("value",), "simple moving average"),
    ("ema", vectorised.ema, streaming.ExponentialMovingAverage, ("close",), ("value",),
     "exponential moving average, TA-Lib seeding"),
    ("wma", vectorised.wma, streaming.WeightedMovingAverage, ("close",), ("value",),
     "linearly weighted moving average"),
    ("bbands", vectorised.bollinger_bands, streaming.BollingerBands, ("close",), ("upper", "middle", "lower"),
     "Bollinger Bands, population standard deviation"),
    ("macd", vectorised.macd, streaming.MACD, ("close",), ("macd", "signal", "histogram"),
     "MACD, TA-Lib seeding"),
    ("rsi", vectorised.rsi, streaming.RelativeStrengthIndex, ("close",), ("value",), "Wilder's RSI"),
    ("atr", vectorised.atr, streaming.AverageTrueRange, _HLC, ("value",), "Wilder's average true range"),
    ("stoch", vectorised.stochastic, streaming.Stochastic, _HLC, ("slow_k", "slow_d"),
     "slow stochastic, SMA smoothing"),
    ("adx", vectorised.adx, streaming.AverageDirectionalIndex, _HLC, ("adx", "plus_di", "minus_di"),
     "Wilder's ADX with +DI and -DI"),
    ("obv", vectorised.obv, streaming.OnBalanceVolume, ("close", "volume"), ("value",), "on-balance volume"),
    ("zscore", vectorised.rolling_zscore, streaming.RollingZScore, ("close",), ("value",),
     "rolling z-score, population standard deviation"),
    ("donchian", vectorised.donchian_channels, streaming.DonchianChannels, ("high", "low"),
     ("upper", "middle", "lower"), "Donchian channels"),
    ("keltner", vectorised.keltner_channels, streaming.KeltnerChannels, _HLC, ("upper", "middle", "lower"),
     "Keltner channels, EMA of close +/- multiplier x ATR"),
)

for _name, _vectorised, _streaming, _inputs, _outputs, _description in _BUILT_IN:
    default_registry.register(_name, vectorised=_vectorised, streaming=_streaming, inputs=_inputs,
                              outputs=_outputs, description=_description)
default_registry.register("vwap", vectorised=vectorised.vwap, streaming=streaming.VolumeWeightedAveragePrice,
                          inputs=("high", "low", "close", "volume"), optional_inputs=("session",),
                          description="session VWAP of the typical price")
