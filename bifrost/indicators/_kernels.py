"""Array kernels behind the vectorised indicators.

Every kernel here performs, element by element, the same floating-point operations in
the same order as the matching streaming class in ``streaming.py``, so the two forms
agree bit for bit. Three techniques make that possible without a Python loop:

* Rolling windows use the block decomposition of van Herk (1992) and Gil & Werman
  (1993): the series is cut into blocks of ``period`` bars; a window ending at bar
  ``r`` of block ``b`` is the tail of block ``b - 1`` from ``r + 1`` plus the head of
  block ``b`` up to ``r``. Heads are prefix scans and tails suffix scans of each
  block, so the whole series costs O(n) and each window has the rounding of a sum of
  at most ``period`` terms: no running sum drifts over a long series. Sums are taken
  of deviations from a reference price (the first bar of the window's last block),
  which keeps the variance free of the cancellation in ``E[x^2] - E[x]^2``.
* ``np.cumsum`` accumulates sequentially, so it reproduces a Python running sum.
* First-order recursions (EMA, Wilder smoothing) run through ``scipy.signal.lfilter``,
  whose direct-form update ``y = (a * y_prev) + (b * x)`` is the streaming update.
"""

from __future__ import annotations

import numpy as np
from scipy.signal import lfilter

from bifrost.indicators._validation import FloatArray

TA_EPSILON = 1e-14  # TA-Lib 0.8 relative flat-range band: |H - L| <= 1e-14 (|H| + |L|).


def ema_coefficients(period: int) -> tuple[float, float]:
    """(decay, weight) of an EMA: y = decay * y_prev + weight * x, weight = 2 / (period + 1)."""
    return (period - 1) / (period + 1), 2.0 / (period + 1)


def wilder_coefficients(period: int) -> tuple[float, float]:
    """(decay, weight) of Wilder's smoothing: y = decay * y_prev + weight * x, weight = 1 / period."""
    return (period - 1) / period, 1.0 / period


def sequential_sum(values: FloatArray) -> float:
    # Left-to-right running sum, as a streaming accumulator adds (np.sum is pairwise).
    if values.size == 0:
        return 0.0
    return float(np.cumsum(values)[-1])


def recursive(values: FloatArray, seed: float, decay: float, weight: float) -> FloatArray:
    """y[0] = decay * seed + weight * x[0]; y[i] = decay * y[i-1] + weight * x[i]."""
    if values.size == 0:
        return np.empty(0)
    out, _ = lfilter(np.array([weight]), np.array([1.0, -decay]), values, zi=np.array([decay * seed]))
    return np.asarray(out, dtype=np.float64)


def nan_array(size: int) -> FloatArray:
    return np.full(size, np.nan)


def _blocks(values: FloatArray, period: int, fill: float) -> FloatArray:
    count = -(-values.size // period)
    if count * period == values.size:
        return values.reshape(count, period)
    padded = np.full(count * period, fill)
    padded[:values.size] = values
    return padded.reshape(count, period)


def _shifted_suffix_scan(tail: FloatArray, count: int, period: int, fill: float, scan: np.ufunc) -> FloatArray:
    """Row b, column r: scan of ``tail[b - 1, r + 1:]`` from the right; ``fill`` elsewhere.

    ``tail`` holds blocks 0 .. count-2. The right-to-left scan of columns
    ``period - 1 .. 1`` is written straight into columns ``period - 2 .. 0``.
    """
    shifted = np.empty((count, period))
    shifted[0] = fill
    shifted[:, -1] = fill
    if period > 1 and count > 1:
        scan.accumulate(tail[:, :0:-1], axis=1, out=shifted[1:, -2::-1])
    return shifted


class WindowSums:
    """Per-bar sums over the trailing ``period`` bars, of deviations from a block reference.

    Attributes are ``(blocks, period)`` matrices; row-major order is bar order. For bar
    ``i`` in block ``b`` (``ref`` = first bar of block ``b``), with ``d_j = x_j - ref``
    over the window ``j = i - period + 1 .. i``: ``s1 = sum d_j``,
    ``s2 = sum d_j^2``, ``sw = sum (j - i + period) d_j`` and ``dev = x_i - ref``.
    Entries before bar ``period - 1`` and past the input's end are meaningless.
    """

    __slots__ = ("dev", "ref", "s1", "s2", "sw")

    def __init__(self, values: FloatArray, period: int, *, second: bool = False,
                 weighted: bool = False, keep_deviation: bool = False) -> None:
        matrix = _blocks(values, period, 0.0)
        count = matrix.shape[0]
        self.ref = matrix[:, :1]
        dev = matrix - self.ref
        tail = matrix[:-1] - self.ref[1:]
        tail1 = _shifted_suffix_scan(tail, count, period, 0.0, np.add)
        self.s2: FloatArray | None = None
        self.sw: FloatArray | None = None
        self.dev: FloatArray | None = dev.copy() if keep_deviation else None
        if second:
            squares = dev * dev
            self.s2 = np.cumsum(squares, axis=1, out=squares)
            np.multiply(tail, tail, out=tail)
            self.s2 += _shifted_suffix_scan(tail, count, period, 0.0, np.add)
        position = np.arange(period, dtype=np.float64)
        head_weighted = np.cumsum(position * dev, axis=1) if weighted else None
        head1 = np.cumsum(dev, axis=1, out=dev)
        if head_weighted is not None:
            # Tail weights 1, 2, ... from the window start: the suffix scan of the suffix sums.
            tail_weighted = np.zeros((count, period))
            if period > 1:
                np.cumsum(tail1[:, -2::-1], axis=1, out=tail_weighted[:, -2::-1])
            sw = (period - position) * head1
            sw += head_weighted
            sw += tail_weighted
            self.sw = sw
        head1 += tail1
        self.s1 = head1


def flatten(matrix: FloatArray, size: int, lookback: int) -> FloatArray:
    """Bar-order values of a block matrix, NaN for the first ``lookback`` bars."""
    out = matrix.reshape(-1)[:size].copy()
    out[:lookback] = np.nan
    return out


def rolling_extreme(values: FloatArray, period: int, *, maximum: bool) -> FloatArray:
    """Max (or min) over the trailing ``period`` bars; NaN before bar ``period - 1``."""
    size = values.size
    if size < period:
        return nan_array(size)
    fill = -np.inf if maximum else np.inf
    scan = np.maximum if maximum else np.minimum
    matrix = _blocks(values, period, fill)
    count = matrix.shape[0]
    head = scan.accumulate(matrix, axis=1)
    scan(head, _shifted_suffix_scan(matrix[:-1], count, period, fill, scan), out=head)
    return flatten(head, size, period - 1)


def moving_average(values: FloatArray, period: int) -> FloatArray:
    """Simple moving average with NaN before bar ``period - 1``."""
    size = values.size
    if size < period:
        return nan_array(size)
    sums = WindowSums(values, period)
    mean = sums.s1
    mean /= period
    mean += sums.ref
    return flatten(mean, size, period - 1)


def exponential_average(values: FloatArray, period: int) -> FloatArray:
    """EMA seeded with the SMA of the first ``period`` bars (TA-Lib's default seeding)."""
    size = values.size
    out = nan_array(size)
    if size < period:
        return out
    seed = sequential_sum(values[:period]) / period
    decay, weight = ema_coefficients(period)
    out[period - 1] = seed
    out[period:] = recursive(values[period:], seed, decay, weight)
    return out


def true_range(high: FloatArray, low: FloatArray, close: FloatArray) -> FloatArray:
    """TA-Lib TRANGE for bars 1 .. n-1: max(high - low, |high - prev close|, |low - prev close|)."""
    previous = close[:-1]
    high, low = high[1:], low[1:]
    return np.maximum(np.maximum(high - low, np.abs(high - previous)), np.abs(low - previous))


def average_true_range(high: FloatArray, low: FloatArray, close: FloatArray, period: int) -> FloatArray:
    """Wilder's ATR, seeded at bar ``period`` with the mean true range of bars 1 .. period."""
    size = close.size
    out = nan_array(size)
    if size <= period:
        return out
    ranges = true_range(high, low, close)
    seed = sequential_sum(ranges[:period]) / period
    decay, weight = wilder_coefficients(period)
    out[period] = seed
    out[period + 1:] = recursive(ranges[period:], seed, decay, weight)
    return out


def segmented_cumsum(values: FloatArray, starts: np.ndarray) -> FloatArray:
    """Running sums that restart at each index in ``starts`` (sorted, first is 0).

    Segments are padded into rows of a power-of-two width and scanned along rows, so
    each segment is summed left to right, exactly as a running total resetting at
    each start, with at most twice the input's memory and no per-segment Python loop.
    """
    size = values.size
    if starts.size <= 1:
        return np.cumsum(values)
    lengths = np.diff(np.append(starts, size))
    widths = np.left_shift(1, np.ceil(np.log2(lengths)).astype(np.int64))
    distinct = np.unique(widths)
    out = np.empty(size)
    position_widths = np.repeat(widths, lengths) if distinct.size > 1 else None
    for width in distinct:
        chosen = widths == width
        inside = np.arange(width)[None, :] < lengths[chosen][:, None]
        rows = np.zeros(inside.shape)
        if position_widths is None:
            rows[inside] = values
            out[:] = np.cumsum(rows, axis=1)[inside]
        else:
            positions = position_widths == width
            rows[inside] = values[positions]
            out[positions] = np.cumsum(rows, axis=1)[inside]
    return out
