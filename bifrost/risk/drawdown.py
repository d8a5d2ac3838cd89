"""Drawdowns of a NAV (or price) series: current, maximum and their durations.

The drawdown at t is ``value_t / max_{s <= t} value_s - 1`` (zero or negative). Durations are
counted in observations (trading days for daily series): the current duration is the number
of observations since the last high-water mark, the maximum duration the longest such spell
(under water, whether or not it has recovered).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
import pandas as pd

from bifrost.core.errors import InvalidInput

__all__ = ["DrawdownStats", "drawdown_series", "drawdown_stats", "position_drawdowns"]


@dataclass(frozen=True, slots=True, kw_only=True)
class DrawdownStats:
    """Drawdown figures as positive fractions (0.25 = 25% below the peak)."""

    current: float
    maximum: float
    current_duration: int
    maximum_duration: int
    peak_index: Any
    trough_index: Any
    high_water_mark: float

    def as_dict(self) -> dict[str, Any]:
        data = asdict(self)
        for key in ("peak_index", "trough_index"):
            value = data[key]
            data[key] = value.isoformat() if hasattr(value, "isoformat") else value
        return data


def _values(series: Any) -> tuple[np.ndarray, Any]:
    if isinstance(series, pd.Series):
        index = series.index
        values = series.to_numpy(dtype=float)
    else:
        values = np.asarray(series, dtype=float).ravel()
        index = None
    if values.shape[0] == 0:
        raise InvalidInput("drawdown needs at least one value")
    if not np.isfinite(values).all() or np.any(values <= 0):
        raise InvalidInput("drawdown needs finite, positive NAV or price values")
    return values, index


def drawdown_series(series: Any) -> np.ndarray | pd.Series:
    """Drawdown at each observation, ``value / running peak - 1`` (zero or negative)."""
    values, index = _values(series)
    drawdown = values / np.maximum.accumulate(values) - 1.0
    return pd.Series(drawdown, index=index, name="drawdown") if index is not None else drawdown


def drawdown_stats(series: Any) -> DrawdownStats:
    """Current and maximum drawdown and their durations (see the module notes)."""
    values, index = _values(series)
    peaks = np.maximum.accumulate(values)
    drawdown = values / peaks - 1.0
    trough = int(np.argmin(drawdown))
    peak = int(np.argmax(values[: trough + 1]))
    at_peak = values >= peaks
    longest = run = 0
    for flag in at_peak:
        run = 0 if flag else run + 1
        longest = max(longest, run)
    label = (lambda i: index[i]) if index is not None else (lambda i: i)
    return DrawdownStats(current=float(-drawdown[-1]), maximum=float(-drawdown.min()), current_duration=run,
                         maximum_duration=longest, peak_index=label(peak), trough_index=label(trough),
                         high_water_mark=float(peaks[-1]))


def position_drawdowns(prices: pd.DataFrame) -> pd.DataFrame:
    """Drawdown statistics for each column (position) of a price DataFrame."""
    if not isinstance(prices, pd.DataFrame):
        raise InvalidInput("position_drawdowns needs a DataFrame of prices, one column per position")
    rows = {column: drawdown_stats(prices[column].dropna()).as_dict() for column in prices.columns}
    return pd.DataFrame.from_dict(rows, orient="index")
