"""Streaming technical indicators: one bar per ``update``, for live trading.

Each class keeps O(period) state of plain Python floats in ``__slots__`` and does
O(1) work per update: running sums, ring buffers and Wilder/EMA recursions. Rolling
windows (SMA, WMA, Bollinger, z-score, stochastic, Donchian) use the block
decomposition described in :mod:`bifrost.indicators._kernels`: the work is O(1) per
update amortised, with one O(period) pass every ``period`` updates, and no running
sum drifts however long the stream runs.

Every class performs the same floating-point operations in the same order as its
vectorised counterpart in :mod:`bifrost.indicators.vectorised`, so feeding a series
bar by bar reproduces the vectorised output bit for bit, NaN warm-up included.

Common interface
----------------
``update(...)``
    Take one bar and return the indicator's value after it: a ``float``, or a plain
    ``tuple`` of floats in the field order of the vectorised result (for example
    ``(upper, middle, lower)``). NaN (or a tuple of NaN) during warm-up.
``value``
    The last value returned (NaN before any update).
``ready``
    Whether warm-up is over: every output is past its TA-Lib lookback.
``reset()``
    Forget all bars.

Input policy: as in the vectorised form, bars before the first one whose inputs are
all present may contain NaN and are skipped (``update`` returns the warm-up NaN).
After that bar, a NaN raises :class:`~bifrost.core.errors.InvalidInput` and leaves
the state untouched; an infinity or a non-number always raises.
"""

from __future__ import annotations

import math
from abc import ABC, abstractmethod
from typing import Any

from bifrost.core.errors import InvalidInput
from bifrost.indicators._kernels import TA_EPSILON, ema_coefficients, wilder_coefficients
from bifrost.indicators._validation import check_multiplier, check_period, not_finite_error

__all__ = [
    "AverageDirectionalIndex", "AverageTrueRange", "BollingerBands", "DonchianChannels",
    "ExponentialMovingAverage", "KeltnerChannels", "MACD", "OnBalanceVolume",
    "RelativeStrengthIndex", "RollingZScore", "SimpleMovingAverage", "Stochastic",
    "VolumeWeightedAveragePrice", "WeightedMovingAverage",
]

NAN = math.nan
_NAN2 = (NAN, NAN)
_NAN3 = (NAN, NAN, NAN)
_INF = math.inf
_HLC = ("high", "low", "close")
_HLCV = ("high", "low", "close", "volume")


def _number(name: str, value: object) -> float:
    try:
        return float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        raise InvalidInput(f"{name} must be a number, was {value!r}",
                           details={"parameter": name, "value": repr(value)}) from None


def _parameter(name: str) -> property:
    # A constructor parameter, read-only: changing it mid-stream would corrupt the state.
    private = "_" + name
    return property(lambda self: getattr(self, private), doc=f"``{name}`` as constructed (read-only).")


class _Streaming(ABC):
    """Shared state and accessors; subclasses implement ``update`` and ``_reset``."""

    __slots__ = ("_ready", "_started", "_value")

    _warmup: Any = NAN

    def __init__(self) -> None:
        self._reset_common()

    def _reset_common(self) -> None:
        self._value = self._warmup
        self._ready = False
        self._started = False

    @property
    def value(self) -> Any:
        """The value returned by the last ``update`` (NaN before any)."""
        return self._value

    @property
    def ready(self) -> bool:
        """Whether every output is past its warm-up."""
        return self._ready

    def reset(self) -> None:
        """Forget every bar seen, as if newly constructed."""
        self._reset_common()
        self._reset()

    @abstractmethod
    def _reset(self) -> None:
        """Clear the subclass's own state (``reset`` clears the common part)."""

    def _not_finite(self, name: str, value: float) -> Any:
        # A leading NaN is warm-up to skip; anything else non-finite is an error.
        if value != value and not self._started:
            return self._value
        raise not_finite_error(name, value, self._started)

    def _reject(self, names: tuple[str, ...], values: tuple[float, ...]) -> Any:
        # Slow path for a bar with a non-finite input: raise, or skip a leading NaN bar.
        for name, value in zip(names, values, strict=True):
            if value - value != 0.0 and (value == value or self._started):
                raise not_finite_error(name, value, self._started)
        return self._value

    def __repr__(self) -> str:
        parameters = ", ".join(f"{name}={getattr(self, name)!r}" for name in self._parameters())
        return f"{type(self).__name__}({parameters})"

    def _parameters(self) -> tuple[str, ...]:
        return ("period",)


# --- rolling-window kernels (block decomposition) -------------------------------------


class SimpleMovingAverage(_Streaming):
    """Simple moving average of the last ``period`` closes; see :func:`~bifrost.indicators.sma`.

    Parameters
    ----------
    period : int
        Bars in the window, at least 1.

    Notes
    -----
    .. math:: \\mathrm{SMA}_t = \\frac{1}{n} \\sum_{j=0}^{n-1} x_{t-j}

    References
    ----------
    .. [1] TA-Lib, "SMA - Simple Moving Average", https://ta-lib.org/functions/
    """

    __slots__ = ("_block", "_head", "_position", "_ref", "_tail", "_period")
    period = _parameter("period")

    def __init__(self, period: int) -> None:
        self._period = check_period("period", period)
        super().__init__()
        self._reset()

    def _reset(self) -> None:
        self._block = [0.0] * self._period
        self._tail = [0.0] * self._period
        self._position = 0
        self._ref = 0.0
        self._head = 0.0

    def update(self, close: float) -> float:
        """Add one close and return the average (NaN for the first ``period - 1`` bars)."""
        x = _number("close", close)
        if x - x != 0.0:
            return self._not_finite("close", x)  # type: ignore[no-any-return]
        self._started = True
        value = self._push(x)
        self._value = value
        return value

    def _push(self, x: float) -> float:
        period = self._period
        position = self._position
        if position == period:
            # The block is complete: sum its tails as deviations from the new reference.
            block, tail = self._block, self._tail
            ref = x
            acc = 0.0
            for q in range(period - 1, 0, -1):
                acc += block[q] - ref
                tail[q - 1] = acc
            self._ref = ref
            head = 0.0
            position = 0
        elif position == 0:
            self._ref = ref = x
            head = 0.0
        else:
            ref = self._ref
            head = self._head
        head += x - ref
        self._head = head
        self._block[position] = x
        position += 1
        self._position = position
        if not self._ready:
            if position < period:
                return NAN
            self._ready = True
        return ref + (head + self._tail[position - 1]) / period


class _WindowMoments:
    """First and second moments of the last ``period`` values about a block reference."""

    __slots__ = ("_block", "_head1", "_head2", "_position", "_ref", "_tail1", "_tail2", "full", "_period")

    def __init__(self, period: int) -> None:
        self._period = period
        self._block = [0.0] * period
        self._tail1 = [0.0] * period
        self._tail2 = [0.0] * period
        self._position = 0
        self._ref = 0.0
        self._head1 = 0.0
        self._head2 = 0.0
        self.full = False

    def push(self, x: float) -> tuple[float, float, float, float] | None:
        """Return (ref, x - ref, s1, s2) once the window is full, else None."""
        period = self._period
        position = self._position
        if position == period:
            block, tail1, tail2 = self._block, self._tail1, self._tail2
            ref = x
            acc1 = 0.0
            acc2 = 0.0
            for q in range(period - 1, 0, -1):
                deviation = block[q] - ref
                acc1 += deviation
                acc2 += deviation * deviation
                tail1[q - 1] = acc1
                tail2[q - 1] = acc2
            self._ref = ref
            head1 = head2 = 0.0
            position = 0
        elif position == 0:
            self._ref = ref = x
            head1 = head2 = 0.0
        else:
            ref = self._ref
            head1, head2 = self._head1, self._head2
        deviation = x - ref
        head1 += deviation
        head2 += deviation * deviation
        self._head1, self._head2 = head1, head2
        self._block[position] = x
        position += 1
        self._position = position
        if not self.full:
            if position < period:
                return None
            self.full = True
        return ref, deviation, head1 + self._tail1[position - 1], head2 + self._tail2[position - 1]


class _RollingMaximum:
    """Maximum of the last ``period`` values (van Herk/Gil-Werman blocks)."""

    __slots__ = ("_block", "_head", "_position", "_tail", "full", "_period")

    def __init__(self, period: int) -> None:
        self._period = period
        self._block = [0.0] * period
        self._tail = [-_INF] * period
        self._position = 0
        self._head = -_INF
        self.full = False

    def push(self, x: float) -> float:
        period = self._period
        position = self._position
        if position == period:
            block, tail = self._block, self._tail
            acc = -_INF
            for q in range(period - 1, 0, -1):
                if block[q] > acc:
                    acc = block[q]
                tail[q - 1] = acc
            head = x
            position = 0
        elif position == 0:
            head = x
        else:
            head = self._head
            if x > head:
                head = x
        self._head = head
        self._block[position] = x
        position += 1
        self._position = position
        if not self.full:
            if position < period:
                return NAN
            self.full = True
        tail_value = self._tail[position - 1]
        return head if head >= tail_value else tail_value


class _RollingMinimum:
    """Minimum of the last ``period`` values (van Herk/Gil-Werman blocks)."""

    __slots__ = ("_block", "_head", "_position", "_tail", "full", "_period")

    def __init__(self, period: int) -> None:
        self._period = period
        self._block = [0.0] * period
        self._tail = [_INF] * period
        self._position = 0
        self._head = _INF
        self.full = False

    def push(self, x: float) -> float:
        period = self._period
        position = self._position
        if position == period:
            block, tail = self._block, self._tail
            acc = _INF
            for q in range(period - 1, 0, -1):
                if block[q] < acc:
                    acc = block[q]
                tail[q - 1] = acc
            head = x
            position = 0
        elif position == 0:
            head = x
        else:
            head = self._head
            if x < head:
                head = x
        self._head = head
        self._block[position] = x
        position += 1
        self._position = position
        if not self.full:
            if position < period:
                return NAN
            self.full = True
        tail_value = self._tail[position - 1]
        return head if head <= tail_value else tail_value


class WeightedMovingAverage(_Streaming):
    """Linearly weighted moving average; see :func:`~bifrost.indicators.wma`.

    Parameters
    ----------
    period : int
        Bars in the window, at least 1.

    Notes
    -----
    .. math:: \\mathrm{WMA}_t = \\frac{\\sum_{j=0}^{n-1} (n - j)\\,x_{t-j}}{n(n+1)/2}

    References
    ----------
    .. [1] TA-Lib, "WMA - Weighted Moving Average", https://ta-lib.org/functions/
    """

    __slots__ = ("_block", "_divisor", "_head", "_head_weighted", "_position", "_ref", "_tail", "_period")
    period = _parameter("period")

    def __init__(self, period: int) -> None:
        self._period = check_period("period", period)
        self._divisor = period * (period + 1) / 2
        super().__init__()
        self._reset()

    def _reset(self) -> None:
        self._block = [0.0] * self._period
        self._tail = [0.0] * self._period
        self._position = 0
        self._ref = 0.0
        self._head = 0.0
        self._head_weighted = 0.0

    def update(self, close: float) -> float:
        """Add one close and return the average (NaN for the first ``period - 1`` bars)."""
        x = _number("close", close)
        if x - x != 0.0:
            return self._not_finite("close", x)  # type: ignore[no-any-return]
        self._started = True
        period = self._period
        position = self._position
        if position == period:
            # Tail of the finished block with weights 1, 2, ...: the suffix sum of suffix sums.
            block, tail = self._block, self._tail
            ref = x
            acc = 0.0
            acc_weighted = 0.0
            for q in range(period - 1, 0, -1):
                acc += block[q] - ref
                acc_weighted += acc
                tail[q - 1] = acc_weighted
            self._ref = ref
            head = head_weighted = 0.0
            position = 0
        elif position == 0:
            self._ref = ref = x
            head = head_weighted = 0.0
        else:
            ref = self._ref
            head, head_weighted = self._head, self._head_weighted
        deviation = x - ref
        head += deviation
        head_weighted += position * deviation
        self._head, self._head_weighted = head, head_weighted
        self._block[position] = x
        self._position = position + 1
        if not self._ready:
            if position + 1 < period:
                self._value = NAN
                return NAN
            self._ready = True
        value = ref + ((period - position) * head + head_weighted + self._tail[position]) / self._divisor
        self._value = value
        return value


class BollingerBands(_Streaming):
    """Bollinger Bands; see :func:`~bifrost.indicators.bollinger_bands`.

    Parameters
    ----------
    period : int, default 20
        Bars in the window, at least 1.
    multiplier : float, default 2.0
        Band width in population standard deviations.

    Notes
    -----
    ``update`` returns ``(upper, middle, lower)``:
    :math:`m_t \\pm k\\,\\sigma_t` with :math:`m` the SMA and :math:`\\sigma` the
    population standard deviation of the window.

    References
    ----------
    .. [1] J. Bollinger, *Bollinger on Bollinger Bands*, McGraw-Hill, 2001.
    """

    __slots__ = ("_moments", "_multiplier", "_period")
    period = _parameter("period")
    multiplier = _parameter("multiplier")
    _warmup = _NAN3

    def __init__(self, period: int = 20, *, multiplier: float = 2.0) -> None:
        self._period = check_period("period", period)
        self._multiplier = check_multiplier("multiplier", multiplier)
        super().__init__()
        self._reset()

    def _parameters(self) -> tuple[str, ...]:
        return ("period", "multiplier")

    def _reset(self) -> None:
        self._moments = _WindowMoments(self._period)

    def update(self, close: float) -> tuple[float, float, float]:
        """Add one close and return ``(upper, middle, lower)``."""
        x = _number("close", close)
        if x - x != 0.0:
            return self._not_finite("close", x)  # type: ignore[no-any-return]
        self._started = True
        moments = self._moments.push(x)
        if moments is None:
            return _NAN3
        self._ready = True
        ref, _, sum1, sum2 = moments
        period = self._period
        mean_deviation = sum1 / period
        variance = sum2 / period - mean_deviation * mean_deviation
        if variance < 0.0:
            variance = 0.0
        centre = ref + mean_deviation
        width = self._multiplier * math.sqrt(variance)
        value = (centre + width, centre, centre - width)
        self._value = value
        return value


class RollingZScore(_Streaming):
    """Rolling z-score against the trailing window; see :func:`~bifrost.indicators.rolling_zscore`.

    Parameters
    ----------
    period : int
        Bars in the window (including the current bar), at least 1.

    Notes
    -----
    :math:`z_t = (x_t - m_t) / \\sigma_t` with the window's mean and population
    standard deviation; 0 when the window is flat.
    """

    __slots__ = ("_moments", "_period")
    period = _parameter("period")

    def __init__(self, period: int) -> None:
        self._period = check_period("period", period)
        super().__init__()
        self._reset()

    def _reset(self) -> None:
        self._moments = _WindowMoments(self._period)

    def update(self, close: float) -> float:
        """Add one value and return its z-score (NaN for the first ``period - 1`` bars)."""
        x = _number("close", close)
        if x - x != 0.0:
            return self._not_finite("close", x)  # type: ignore[no-any-return]
        self._started = True
        moments = self._moments.push(x)
        if moments is None:
            return NAN
        self._ready = True
        _, deviation, sum1, sum2 = moments
        period = self._period
        mean_deviation = sum1 / period
        variance = sum2 / period - mean_deviation * mean_deviation
        if variance < 0.0:
            variance = 0.0
        spread = math.sqrt(variance)
        value = (deviation - mean_deviation) / spread if spread > 0.0 else 0.0
        self._value = value
        return value


class DonchianChannels(_Streaming):
    """Donchian channels; see :func:`~bifrost.indicators.donchian_channels`.

    Parameters
    ----------
    period : int, default 20
        Bars in the window, including the current bar.

    Notes
    -----
    ``update(high, low)`` returns ``(upper, middle, lower)``: the highest high, the
    mid-point and the lowest low of the last ``period`` bars.
    """

    __slots__ = ("_highest", "_lowest", "_period")
    period = _parameter("period")
    _warmup = _NAN3

    def __init__(self, period: int = 20) -> None:
        self._period = check_period("period", period)
        super().__init__()
        self._reset()

    def _reset(self) -> None:
        self._highest = _RollingMaximum(self._period)
        self._lowest = _RollingMinimum(self._period)

    def update(self, high: float, low: float) -> tuple[float, float, float]:
        """Add one bar and return ``(upper, middle, lower)``."""
        h, lo = _number("high", high), _number("low", low)
        if h - h != 0.0 or lo - lo != 0.0:
            return self._reject(("high", "low"), (h, lo))  # type: ignore[no-any-return]
        self._started = True
        upper = self._highest.push(h)
        lower = self._lowest.push(lo)
        if upper != upper:
            return _NAN3
        self._ready = True
        value = (upper, (upper + lower) / 2.0, lower)
        self._value = value
        return value


# --- recursions ------------------------------------------------------------------------


class ExponentialMovingAverage(_Streaming):
    """Exponential moving average seeded as TA-Lib seeds it; see :func:`~bifrost.indicators.ema`.

    Parameters
    ----------
    period : int
        Span ``n``, at least 1; the smoothing factor is ``2 / (n + 1)``.

    Notes
    -----
    The first value (bar ``n - 1``) is the mean of the first ``n`` bars; then
    :math:`\\mathrm{EMA}_t = (1 - k)\\,\\mathrm{EMA}_{t-1} + k\\,x_t`.

    References
    ----------
    .. [1] TA-Lib, "EMA - Exponential Moving Average", https://ta-lib.org/functions/
    """

    __slots__ = ("_count", "_decay", "_sum", "_weight", "_period")
    period = _parameter("period")

    def __init__(self, period: int) -> None:
        self._period = check_period("period", period)
        self._decay, self._weight = ema_coefficients(self._period)
        super().__init__()
        self._reset()

    def _reset(self) -> None:
        self._count = 0
        self._sum = 0.0

    def update(self, close: float) -> float:
        """Add one close and return the average (NaN for the first ``period - 1`` bars)."""
        x = _number("close", close)
        if x - x != 0.0:
            return self._not_finite("close", x)  # type: ignore[no-any-return]
        self._started = True
        return self._push(x)

    def _push(self, x: float) -> float:
        if self._ready:
            value = self._decay * self._value + self._weight * x
        else:
            self._sum += x
            self._count += 1
            if self._count < self._period:
                return NAN
            value = self._sum / self._period
            self._ready = True
        self._value = value
        return value  # type: ignore[no-any-return]


class MACD(_Streaming):
    """MACD with TA-Lib's seeding; see :func:`~bifrost.indicators.macd`.

    Parameters
    ----------
    fast_period, slow_period : int, default 12 and 26
        Spans of the two EMAs; ``fast_period < slow_period``.
    signal_period : int, default 9
        Span of the signal EMA.

    Notes
    -----
    ``update`` returns ``(macd, signal, histogram)``; all three are NaN for the first
    ``slow_period + signal_period - 2`` bars, as in TA-Lib. Both price EMAs are
    seeded at bar ``slow_period - 1``, the fast one with the mean of the last
    ``fast_period`` of those bars.

    References
    ----------
    .. [1] G. Appel, *Technical Analysis: Power Tools for Active Investors*,
       FT Prentice Hall, 2005.
    """

    __slots__ = ("_fast", "_fast_decay", "_fast_weight", "_seed_bars", "_signal", "_slow",
                 "_slow_decay", "_slow_weight", "_fast_period", "_signal_period", "_slow_period")
    fast_period = _parameter("fast_period")
    slow_period = _parameter("slow_period")
    signal_period = _parameter("signal_period")
    _warmup = _NAN3

    def __init__(self, *, fast_period: int = 12, slow_period: int = 26, signal_period: int = 9) -> None:
        self._fast_period = check_period("fast_period", fast_period)
        self._slow_period = check_period("slow_period", slow_period)
        self._signal_period = check_period("signal_period", signal_period)
        if self._fast_period >= self._slow_period:
            raise InvalidInput(
                f"fast_period must be less than slow_period, were {fast_period} and {slow_period}",
                details={"fast_period": fast_period, "slow_period": slow_period})
        self._fast_decay, self._fast_weight = ema_coefficients(self._fast_period)
        self._slow_decay, self._slow_weight = ema_coefficients(self._slow_period)
        super().__init__()
        self._reset()

    def _parameters(self) -> tuple[str, ...]:
        return ("fast_period", "slow_period", "signal_period")

    def _reset(self) -> None:
        self._seed_bars: list[float] | None = []
        self._fast = 0.0
        self._slow = 0.0
        self._signal = ExponentialMovingAverage(self._signal_period)

    def update(self, close: float) -> tuple[float, float, float]:
        """Add one close and return ``(macd, signal, histogram)``."""
        x = _number("close", close)
        if x - x != 0.0:
            return self._not_finite("close", x)  # type: ignore[no-any-return]
        self._started = True
        seed_bars = self._seed_bars
        if seed_bars is None:
            fast = self._fast_decay * self._fast + self._fast_weight * x
            slow = self._slow_decay * self._slow + self._slow_weight * x
        else:
            seed_bars.append(x)
            if len(seed_bars) < self._slow_period:
                return _NAN3
            total = 0.0
            for bar in seed_bars:
                total += bar
            slow = total / self._slow_period
            total = 0.0
            for bar in seed_bars[self._slow_period - self._fast_period:]:
                total += bar
            fast = total / self._fast_period
            self._seed_bars = None
        self._fast, self._slow = fast, slow
        line = fast - slow
        signal = self._signal._push(line)
        if signal != signal:
            return _NAN3
        self._ready = True
        value = (line, signal, line - signal)
        self._value = value
        return value


class RelativeStrengthIndex(_Streaming):
    """Wilder's RSI; see :func:`~bifrost.indicators.rsi`.

    Parameters
    ----------
    period : int, default 14
        Smoothing period, at least 1.

    Notes
    -----
    :math:`\\mathrm{RSI} = 100\\,\\bar U / (\\bar U + \\bar D)` with Wilder-smoothed
    average gain and loss seeded by their means over the first ``period`` changes;
    0 when :math:`\\bar U + \\bar D = 0` (TA-Lib's convention).

    References
    ----------
    .. [1] J. W. Wilder Jr., *New Concepts in Technical Trading Systems*,
       Trend Research, 1978.
    """

    __slots__ = ("_count", "_decay", "_gain", "_loss", "_previous", "_weight", "_period")
    period = _parameter("period")

    def __init__(self, period: int = 14) -> None:
        self._period = check_period("period", period)
        self._decay, self._weight = wilder_coefficients(self._period)
        super().__init__()
        self._reset()

    def _reset(self) -> None:
        self._count = 0
        self._previous = 0.0
        self._gain = 0.0
        self._loss = 0.0

    def update(self, close: float) -> float:
        """Add one close and return the RSI (NaN for the first ``period`` bars)."""
        x = _number("close", close)
        if x - x != 0.0:
            return self._not_finite("close", x)  # type: ignore[no-any-return]
        self._started = True
        if self._count == 0:
            self._previous = x
            self._count = 1
            return NAN
        change = x - self._previous
        self._previous = x
        gain = change if change > 0.0 else 0.0
        loss = -change if change < 0.0 else 0.0
        if self._ready:
            decay, weight = self._decay, self._weight
            average_gain = decay * self._gain + weight * gain
            average_loss = decay * self._loss + weight * loss
        else:
            self._gain += gain
            self._loss += loss
            self._count += 1
            if self._count <= self._period:
                return NAN
            average_gain = self._gain / self._period
            average_loss = self._loss / self._period
            self._ready = True
        self._gain, self._loss = average_gain, average_loss
        total = average_gain + average_loss
        value = 100.0 * (average_gain / total) if total != 0.0 else 0.0
        self._value = value
        return value


class AverageTrueRange(_Streaming):
    """Wilder's ATR; see :func:`~bifrost.indicators.atr`.

    Parameters
    ----------
    period : int, default 14
        Smoothing period, at least 1.

    Notes
    -----
    :math:`TR_t = \\max(h_t - l_t, |h_t - c_{t-1}|, |l_t - c_{t-1}|)`; the first ATR
    (bar ``period``) is the mean of the first ``period`` true ranges, then
    :math:`ATR_t = ((n-1)\\,ATR_{t-1} + TR_t) / n`.

    References
    ----------
    .. [1] J. W. Wilder Jr., *New Concepts in Technical Trading Systems*,
       Trend Research, 1978.
    """

    __slots__ = ("_count", "_decay", "_previous_close", "_sum", "_weight", "_period")
    period = _parameter("period")

    def __init__(self, period: int = 14) -> None:
        self._period = check_period("period", period)
        self._decay, self._weight = wilder_coefficients(self._period)
        super().__init__()
        self._reset()

    def _reset(self) -> None:
        self._count = 0
        self._sum = 0.0
        self._previous_close = 0.0

    def update(self, high: float, low: float, close: float) -> float:
        """Add one bar and return the ATR (NaN for the first ``period`` bars)."""
        h, lo, c = _number("high", high), _number("low", low), _number("close", close)
        if h - h != 0.0 or lo - lo != 0.0 or c - c != 0.0:
            return self._reject(_HLC, (h, lo, c))  # type: ignore[no-any-return]
        self._started = True
        return self._push(h, lo, c)

    def _push(self, h: float, lo: float, c: float) -> float:
        if self._count == 0:
            self._previous_close = c
            self._count = 1
            return NAN
        previous = self._previous_close
        self._previous_close = c
        true_range = h - lo
        distance = abs(h - previous)
        if distance > true_range:
            true_range = distance
        distance = abs(lo - previous)
        if distance > true_range:
            true_range = distance
        if self._ready:
            value = self._decay * self._value + self._weight * true_range
        else:
            self._sum += true_range
            self._count += 1
            if self._count <= self._period:
                return NAN
            value = self._sum / self._period
            self._ready = True
        self._value = value
        return value  # type: ignore[no-any-return]


class Stochastic(_Streaming):
    """Slow stochastic as TA-Lib's STOCH with SMA smoothing; see :func:`~bifrost.indicators.stochastic`.

    Parameters
    ----------
    fast_k_period : int, default 5
        Bars of the high/low window of fast %K.
    slow_k_period, slow_d_period : int, default 3
        SMA periods giving slow %K and slow %D.

    Notes
    -----
    ``update(high, low, close)`` returns ``(slow_k, slow_d)``, both NaN for the first
    ``fast_k_period + slow_k_period + slow_d_period - 3`` bars.
    Fast %K is :math:`((c - L) / (H - L)) \\times 100`, 0 on a flat window.

    References
    ----------
    .. [1] G. C. Lane, "Lane's Stochastics", *Technical Analysis of Stocks &
       Commodities* 2(3), 1984.
    """

    __slots__ = ("_highest", "_lowest", "_slow_d", "_slow_k", "_fast_k_period", "_slow_d_period",
                 "_slow_k_period")
    fast_k_period = _parameter("fast_k_period")
    slow_k_period = _parameter("slow_k_period")
    slow_d_period = _parameter("slow_d_period")
    _warmup = _NAN2

    def __init__(self, *, fast_k_period: int = 5, slow_k_period: int = 3, slow_d_period: int = 3) -> None:
        self._fast_k_period = check_period("fast_k_period", fast_k_period)
        self._slow_k_period = check_period("slow_k_period", slow_k_period)
        self._slow_d_period = check_period("slow_d_period", slow_d_period)
        super().__init__()
        self._reset()

    def _parameters(self) -> tuple[str, ...]:
        return ("fast_k_period", "slow_k_period", "slow_d_period")

    def _reset(self) -> None:
        self._highest = _RollingMaximum(self._fast_k_period)
        self._lowest = _RollingMinimum(self._fast_k_period)
        self._slow_k = SimpleMovingAverage(self._slow_k_period)
        self._slow_d = SimpleMovingAverage(self._slow_d_period)

    def update(self, high: float, low: float, close: float) -> tuple[float, float]:
        """Add one bar and return ``(slow_k, slow_d)``."""
        h, lo, c = _number("high", high), _number("low", low), _number("close", close)
        if h - h != 0.0 or lo - lo != 0.0 or c - c != 0.0:
            return self._reject(_HLC, (h, lo, c))  # type: ignore[no-any-return]
        self._started = True
        highest = self._highest.push(h)
        lowest = self._lowest.push(lo)
        if highest != highest:
            return _NAN2
        span = highest - lowest
        if abs(span) <= TA_EPSILON * (abs(highest) + abs(lowest)):
            fast_k = 0.0
        else:
            fast_k = (c - lowest) / span * 100.0
        slow_k = self._slow_k._push(fast_k)
        if slow_k != slow_k:
            return _NAN2
        slow_d = self._slow_d._push(slow_k)
        if slow_d != slow_d:
            return _NAN2
        self._ready = True
        value = (slow_k, slow_d)
        self._value = value
        return value


class AverageDirectionalIndex(_Streaming):
    """Wilder's ADX with +DI and -DI; see :func:`~bifrost.indicators.adx`.

    Parameters
    ----------
    period : int, default 14
        Smoothing period, at least 1.

    Notes
    -----
    ``update(high, low, close)`` returns ``(adx, plus_di, minus_di)``. The DI are
    available from bar ``period`` and ADX from bar ``2 * period - 1`` (TA-Lib's
    lookbacks); ``ready`` turns true with ADX. Directional movement and true range
    are smoothed as Wilder's running sums :math:`S_t = S_{t-1} - S_{t-1}/n + v_t`,
    seeded with the sum of bars 1 .. n-1.

    References
    ----------
    .. [1] J. W. Wilder Jr., *New Concepts in Technical Trading Systems*,
       Trend Research, 1978.
    """

    __slots__ = ("_adx", "_bars", "_decay", "_dx_sum", "_minus", "_plus", "_previous_close",
                 "_previous_high", "_previous_low", "_range", "_weight", "_period")
    period = _parameter("period")
    _warmup = _NAN3

    def __init__(self, period: int = 14) -> None:
        self._period = check_period("period", period)
        self._decay, self._weight = wilder_coefficients(self._period)
        super().__init__()
        self._reset()

    def _reset(self) -> None:
        self._bars = 0
        self._previous_high = self._previous_low = self._previous_close = 0.0
        self._plus = self._minus = self._range = 0.0
        self._dx_sum = 0.0
        self._adx = NAN

    def update(self, high: float, low: float, close: float) -> tuple[float, float, float]:
        """Add one bar and return ``(adx, plus_di, minus_di)``."""
        h, lo, c = _number("high", high), _number("low", low), _number("close", close)
        if h - h != 0.0 or lo - lo != 0.0 or c - c != 0.0:
            return self._reject(_HLC, (h, lo, c))  # type: ignore[no-any-return]
        self._started = True
        bars = self._bars
        if bars == 0:
            self._previous_high, self._previous_low, self._previous_close = h, lo, c
            self._bars = 1
            return _NAN3
        up = h - self._previous_high
        down = self._previous_low - lo
        plus_move = up if up > 0.0 and up > down else 0.0
        minus_move = down if down > 0.0 and up < down else 0.0
        previous = self._previous_close
        true_range = h - lo
        distance = abs(h - previous)
        if distance > true_range:
            true_range = distance
        distance = abs(lo - previous)
        if distance > true_range:
            true_range = distance
        self._previous_high, self._previous_low, self._previous_close = h, lo, c
        period = self._period
        if bars < period:
            self._plus += plus_move
            self._minus += minus_move
            self._range += true_range
            self._bars = bars + 1
            return _NAN3
        decay = self._decay
        plus = self._plus = decay * self._plus + plus_move
        minus = self._minus = decay * self._minus + minus_move
        smoothed_range = self._range = decay * self._range + true_range
        has_dx = False
        dx = 0.0
        if smoothed_range != 0.0:
            plus_di = 100.0 * (plus / smoothed_range)
            minus_di = 100.0 * (minus / smoothed_range)
            total = minus_di + plus_di
            if total != 0.0:
                dx = 100.0 * (abs(minus_di - plus_di) / total)
                has_dx = True
        else:
            plus_di = minus_di = 0.0
        if self._ready:
            if has_dx:
                self._adx = decay * self._adx + self._weight * dx
        else:
            if has_dx:
                self._dx_sum += dx
            self._bars = bars + 1
            if bars == 2 * period - 1:
                self._adx = self._dx_sum / period
                self._ready = True
        value = (self._adx, plus_di, minus_di)
        self._value = value
        return value


class KeltnerChannels(_Streaming):
    """Keltner channels, EMA of the close ± multiplier × ATR; see :func:`~bifrost.indicators.keltner_channels`.

    Parameters
    ----------
    period : int, default 20
        Span of the EMA of the close.
    atr_period : int, default 10
        Period of the ATR.
    multiplier : float, default 2.0
        Band width in ATRs.

    Notes
    -----
    ``update(high, low, close)`` returns ``(upper, middle, lower)``, NaN for the first
    ``max(period - 1, atr_period)`` bars.

    References
    ----------
    .. [1] C. W. Keltner, *How to Make Money in Commodities*, Keltner Statistical
       Service, 1960.
    """

    __slots__ = ("_average", "_range", "_atr_period", "_multiplier", "_period")
    period = _parameter("period")
    atr_period = _parameter("atr_period")
    multiplier = _parameter("multiplier")
    _warmup = _NAN3

    def __init__(self, period: int = 20, *, atr_period: int = 10, multiplier: float = 2.0) -> None:
        self._period = check_period("period", period)
        self._atr_period = check_period("atr_period", atr_period)
        self._multiplier = check_multiplier("multiplier", multiplier)
        super().__init__()
        self._reset()

    def _parameters(self) -> tuple[str, ...]:
        return ("period", "atr_period", "multiplier")

    def _reset(self) -> None:
        self._average = ExponentialMovingAverage(self._period)
        self._range = AverageTrueRange(self._atr_period)

    def update(self, high: float, low: float, close: float) -> tuple[float, float, float]:
        """Add one bar and return ``(upper, middle, lower)``."""
        h, lo, c = _number("high", high), _number("low", low), _number("close", close)
        if h - h != 0.0 or lo - lo != 0.0 or c - c != 0.0:
            return self._reject(_HLC, (h, lo, c))  # type: ignore[no-any-return]
        self._started = True
        centre = self._average._push(c)
        average_range = self._range._push(h, lo, c)
        if centre != centre or average_range != average_range:
            return _NAN3
        self._ready = True
        width = self._multiplier * average_range
        value = (centre + width, centre, centre - width)
        self._value = value
        return value


# --- volume ----------------------------------------------------------------------------


class OnBalanceVolume(_Streaming):
    """Granville's on-balance volume; see :func:`~bifrost.indicators.obv`.

    Notes
    -----
    ``update(close, volume)``: the first value is the first volume, then volume is
    added on an up close and subtracted on a down close (TA-Lib's OBV).

    References
    ----------
    .. [1] J. E. Granville, *Granville's New Key to Stock Market Profits*,
       Prentice-Hall, 1963.
    """

    __slots__ = ("_previous",)

    def __init__(self) -> None:
        super().__init__()
        self._reset()

    def _parameters(self) -> tuple[str, ...]:
        return ()

    def _reset(self) -> None:
        self._previous = 0.0

    def update(self, close: float, volume: float) -> float:
        """Add one bar and return the OBV."""
        c, v = _number("close", close), _number("volume", volume)
        if c - c != 0.0 or v - v != 0.0:
            return self._reject(("close", "volume"), (c, v))  # type: ignore[no-any-return]
        if v < 0.0:
            raise InvalidInput(f"volume must be non-negative, was {v}", details={"parameter": "volume"})
        if self._ready:
            previous = self._previous
            value = self._value
            if c > previous:
                value += v
            elif c < previous:
                value -= v
        else:
            value = v
            self._started = self._ready = True
        self._previous = c
        self._value = value
        return value  # type: ignore[no-any-return]


class VolumeWeightedAveragePrice(_Streaming):
    """Session VWAP of the typical price; see :func:`~bifrost.indicators.vwap`.

    Notes
    -----
    ``update(high, low, close, volume, session=None)``: the sums restart when
    ``session`` (e.g. the exchange-calendar session date) differs from the previous
    bar's; ``None`` keeps the current session. Returns
    :math:`\\sum p_j v_j / \\sum v_j` over the session so far with
    :math:`p = (h + l + c) / 3`, NaN until the session has traded volume. ``ready``
    is true from the first complete bar.

    References
    ----------
    .. [1] S. A. Berkowitz, D. E. Logue and E. A. Noser Jr., "The Total Cost of
       Transactions on the NYSE", *Journal of Finance* 43(1), 1988.
    """

    __slots__ = ("_has_session", "_session", "_traded", "_weighted")

    def __init__(self) -> None:
        super().__init__()
        self._reset()

    def _parameters(self) -> tuple[str, ...]:
        return ()

    def _reset(self) -> None:
        self._weighted = 0.0
        self._traded = 0.0
        self._session: object = None
        self._has_session = False

    def update(self, high: float, low: float, close: float, volume: float,
               session: object = None) -> float:
        """Add one bar and return the session VWAP so far."""
        h, lo, c, v = (_number("high", high), _number("low", low), _number("close", close),
                       _number("volume", volume))
        if h - h != 0.0 or lo - lo != 0.0 or c - c != 0.0 or v - v != 0.0:
            return self._reject(_HLCV, (h, lo, c, v))  # type: ignore[no-any-return]
        if v < 0.0:
            raise InvalidInput(f"volume must be non-negative, was {v}", details={"parameter": "volume"})
        if session is not None:
            if self._has_session and session != self._session:
                self._weighted = 0.0
                self._traded = 0.0
            self._session = session
            self._has_session = True
        self._started = self._ready = True
        weighted = self._weighted = self._weighted + (h + lo + c) / 3.0 * v
        traded = self._traded = self._traded + v
        value = weighted / traded if traded > 0.0 else NAN
        self._value = value
        return value
