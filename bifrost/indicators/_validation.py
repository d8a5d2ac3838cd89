"""Parameter and input checks shared by the vectorised and streaming indicators.

NaN policy (the same in both forms): a leading run of bars with a NaN in any input
is warm-up to skip, as TA-Lib's Python wrapper skips leading NaN; computation
starts at the first bar whose inputs are all present. A NaN after that bar, or an
infinity anywhere, is an error: TA-Lib would carry it through its running sums and
recursions and silently return NaN for every later bar.
"""

from __future__ import annotations

import math
from numbers import Integral, Real

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike, NDArray

from bifrost.core.errors import InvalidInput

FloatArray = NDArray[np.float64]


def check_period(name: str, value: object, *, minimum: int = 1) -> int:
    if isinstance(value, bool) or not isinstance(value, Integral):
        raise InvalidInput(f"{name} must be an integer, was {value!r}",
                           details={"parameter": name, "value": repr(value)})
    if value < minimum:
        raise InvalidInput(f"{name} must be at least {minimum}, was {value}",
                           details={"parameter": name, "value": int(value)})
    return int(value)


def check_multiplier(name: str, value: object) -> float:
    if isinstance(value, bool) or not isinstance(value, Real) or not math.isfinite(value):
        raise InvalidInput(f"{name} must be a finite number, was {value!r}",
                           details={"parameter": name, "value": repr(value)})
    if value < 0:
        raise InvalidInput(f"{name} must be non-negative, was {value}",
                           details={"parameter": name, "value": float(value)})
    return float(value)


def as_float_array(name: str, values: ArrayLike) -> FloatArray:
    array: FloatArray
    try:
        if isinstance(values, pd.Series | pd.Index):
            array = values.to_numpy(dtype=np.float64, na_value=np.nan)
        else:
            array = np.asarray(values, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise InvalidInput(f"{name} must be numeric, could not convert: {exc}",
                           details={"parameter": name}) from exc
    if array.ndim != 1:
        raise InvalidInput(f"{name} must be one-dimensional, had shape {array.shape}",
                           details={"parameter": name, "shape": list(array.shape)})
    return array


def prepare_inputs(**named: ArrayLike) -> tuple[list[FloatArray], int]:
    """Convert the inputs, check lengths and NaN policy; return them and the first complete bar."""
    names = list(named)
    arrays = [as_float_array(name, named[name]) for name in names]
    lengths = [array.size for array in arrays]
    if len(set(lengths)) > 1:
        listed = ", ".join(f"{name}={length}" for name, length in zip(names, lengths, strict=True))
        raise InvalidInput(f"inputs must have the same length, had {listed}",
                           details=dict(zip(names, lengths, strict=True)))
    size = lengths[0] if lengths else 0
    if all(np.isfinite(array).all() for array in arrays):
        return arrays, 0
    present = np.ones(size, dtype=bool)
    for name, array in zip(names, arrays, strict=True):
        infinite = np.isinf(array)
        if infinite.any():
            index = int(np.argmax(infinite))
            raise InvalidInput(f"{name} must be finite, was {array[index]} at index {index}",
                               details={"parameter": name, "index": index})
        present &= ~np.isnan(array)
    start = int(np.argmax(present)) if present.any() else size
    for name, array in zip(names, arrays, strict=True):
        gaps = np.isnan(array[start:])
        if gaps.any():
            index = start + int(np.argmax(gaps))
            raise InvalidInput(
                f"{name} must not be NaN after the first complete bar (index {start}), "
                f"was NaN at index {index}; only a leading warm-up run of NaN is allowed: "
                "fill or drop gaps first",
                details={"parameter": name, "index": index, "first_complete_bar": start})
    return arrays, start


def check_non_negative(name: str, array: FloatArray, start: int) -> None:
    negative = array[start:] < 0
    if negative.any():
        index = start + int(np.argmax(negative))
        raise InvalidInput(f"{name} must be non-negative, was {array[index]} at index {index}",
                           details={"parameter": name, "index": index})


def not_finite_error(name: str, value: float, started: bool) -> InvalidInput:
    if math.isnan(value) and started:
        return InvalidInput(
            f"{name} must not be NaN once the indicator has started, was nan; only a leading "
            "warm-up run of NaN is allowed: fill or drop gaps first",
            details={"parameter": name})
    return InvalidInput(f"{name} must be finite, was {value}",
                        details={"parameter": name, "value": repr(value)})


def to_float(name: str, value: object) -> float:
    try:
        return float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError) as exc:
        raise InvalidInput(f"{name} must be a number, was {value!r}",
                           details={"parameter": name, "value": repr(value)}) from exc
