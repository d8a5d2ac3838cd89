"""Vectorised technical indicators over whole float64 arrays.

Every function accepts NumPy arrays, pandas Series or sequences of numbers, returns
float64 ``ndarray`` outputs of the input's length, and puts NaN during warm-up at
exactly the bars where TA-Lib puts NaN (the same lookback). The streaming classes in
:mod:`bifrost.indicators.streaming` compute the same values one bar at a time and
agree with these functions bit for bit.

Input policy
------------
* A leading run of bars in which any input is NaN is warm-up and is skipped, as
  TA-Lib's Python wrapper skips leading NaN: computation (and every seed) starts at
  the first bar whose inputs are all present, and the outputs are NaN until that bar
  plus the lookback. This lets one indicator be applied to another's output.
* A NaN after that bar, or an infinity anywhere, raises
  :class:`~bifrost.core.errors.InvalidInput` naming the input and the index. TA-Lib
  would carry the NaN through its running sums and recursions and return NaN for
  every later bar; a clear error is more useful than a silently dead indicator.
* Inputs of different lengths, a period that is not a positive integer, a negative or
  non-finite multiplier and a negative volume raise ``InvalidInput``.

Numerics
--------
Rolling windows are summed by block decomposition (van Herk 1992; Gil & Werman 1993)
over deviations from a reference price, so no running sum drifts, and the variance
does not suffer the cancellation of ``E[x^2] - E[x]^2``. Recursions (EMA, Wilder) use
TA-Lib's seeds and the update ``y = decay * y_prev + weight * x``. After warm-up the
results differ from TA-Lib 0.8 by rounding only (at most 1.4e-10 on prices up to $700,
from TA-Lib's ``E[x^2] - mean^2`` in BBANDS; below 1e-11 elsewhere; OBV, MAX/MIN and
fast %K bit-identical). They are not bit-identical in general because TA-Lib updates
running sums by adding and subtracting and writes ``y_prev + (x - y_prev) * k``.

Zero guards follow TA-Lib 0.8: RSI, DI and DX treat only an exact zero denominator as
zero; stochastic treats a range within 1e-14 of the price level as flat.

References
----------
.. [1] TA-Lib, Technical Analysis Library, function reference and C sources, version
   0.8, https://ta-lib.org/functions/ (lookbacks, seeding and conventions).
.. [2] M. van Herk, "A fast algorithm for local minimum and maximum filters on
   rectangular and octagonal kernels", Pattern Recognition Letters 13(7), 1992.
.. [3] J. Gil and M. Werman, "Computing 2-D min, median, and max filters", IEEE
   Transactions on Pattern Analysis and Machine Intelligence 15(5), 1993.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
from numpy.typing import ArrayLike

from bifrost.core.errors import InvalidInput
from bifrost.indicators._kernels import (
    TA_EPSILON,
    WindowSums,
    average_true_range,
    ema_coefficients,
    exponential_average,
    flatten,
    moving_average,
    nan_array,
    recursive,
    rolling_extreme,
    segmented_cumsum,
    sequential_sum,
    true_range,
    wilder_coefficients,
)
from bifrost.indicators._validation import (
    FloatArray,
    check_multiplier,
    check_non_negative,
    check_period,
    prepare_inputs,
)

__all__ = [
    "ADXResult", "Bands", "MACDResult", "StochasticResult",
    "adx", "atr", "bollinger_bands", "donchian_channels", "ema", "keltner_channels", "macd",
    "obv", "rolling_zscore", "rsi", "sma", "stochastic", "vwap", "wma",
]


class Bands(NamedTuple):
    """Upper, middle and lower lines of a channel (TA-Lib's BBANDS order)."""

    upper: FloatArray
    middle: FloatArray
    lower: FloatArray


class MACDResult(NamedTuple):
    """MACD line, its signal line and their difference (TA-Lib's MACD order)."""

    macd: FloatArray
    signal: FloatArray
    histogram: FloatArray


class StochasticResult(NamedTuple):
    """Slow %K and slow %D (TA-Lib's STOCH order)."""

    slow_k: FloatArray
    slow_d: FloatArray


class ADXResult(NamedTuple):
    """Average directional index with the directional indicators it is built from."""

    adx: FloatArray
    plus_di: FloatArray
    minus_di: FloatArray


def _placed(size: int, start: int, values: FloatArray) -> FloatArray:
    # ``values`` is always a fresh array of ours, never a view of an input.
    if start == 0:
        return values
    out = nan_array(size)
    out[start:] = values
    return out


def sma(close: ArrayLike, period: int) -> FloatArray:
    """Compute the simple moving average.

    Parameters
    ----------
    close : array_like
        Prices (or any series), oldest first.
    period : int
        Bars in the window, at least 1.

    Returns
    -------
    ndarray
        The average, NaN for the first ``period - 1`` bars (TA-Lib SMA lookback).

    Raises
    ------
    InvalidInput
        If ``period`` is not a positive integer, or ``close`` has NaN after its
        first value or an infinity.

    Notes
    -----
    .. math:: \\mathrm{SMA}_t = \\frac{1}{n} \\sum_{j=0}^{n-1} x_{t-j}

    References
    ----------
    .. [1] TA-Lib, "SMA - Simple Moving Average", https://ta-lib.org/functions/
    """
    period = check_period("period", period)
    (values,), start = prepare_inputs(close=close)
    return _placed(values.size, start, moving_average(values[start:], period))


def ema(close: ArrayLike, period: int) -> FloatArray:
    """Compute the exponential moving average, seeded as TA-Lib seeds it.

    Parameters
    ----------
    close : array_like
        Prices, oldest first.
    period : int
        Span ``n`` of the average, at least 1.

    Returns
    -------
    ndarray
        The average, NaN for the first ``period - 1`` bars.

    Raises
    ------
    InvalidInput
        If ``period`` is not a positive integer or ``close`` breaks the NaN policy.

    Notes
    -----
    With :math:`k = 2 / (n + 1)`, the first value (bar :math:`n - 1`) is the simple
    average of the first :math:`n` bars, then

    .. math:: \\mathrm{EMA}_t = (1 - k)\\,\\mathrm{EMA}_{t-1} + k\\,x_t

    This is TA-Lib's default (non-Metastock) seeding. The seed's influence decays as
    :math:`(1-k)^t`, so values depend on where the series starts: compare with other
    implementations over the same input from the same first bar.

    References
    ----------
    .. [1] TA-Lib, "EMA - Exponential Moving Average", https://ta-lib.org/functions/
    """
    period = check_period("period", period)
    (values,), start = prepare_inputs(close=close)
    return _placed(values.size, start, exponential_average(values[start:], period))


def wma(close: ArrayLike, period: int) -> FloatArray:
    """Compute the linearly weighted moving average.

    Parameters
    ----------
    close : array_like
        Prices, oldest first.
    period : int
        Bars in the window, at least 1.

    Returns
    -------
    ndarray
        The average, NaN for the first ``period - 1`` bars.

    Raises
    ------
    InvalidInput
        If ``period`` is not a positive integer or ``close`` breaks the NaN policy.

    Notes
    -----
    The newest bar weighs :math:`n`, the oldest 1:

    .. math:: \\mathrm{WMA}_t = \\frac{\\sum_{j=0}^{n-1} (n - j)\\,x_{t-j}}{n(n+1)/2}

    References
    ----------
    .. [1] TA-Lib, "WMA - Weighted Moving Average", https://ta-lib.org/functions/
    """
    period = check_period("period", period)
    (values,), start = prepare_inputs(close=close)
    body = values[start:]
    out = nan_array(body.size)
    if body.size >= period:
        sums = WindowSums(body, period, weighted=True)
        assert sums.sw is not None
        average = sums.sw
        average /= period * (period + 1) / 2
        average += sums.ref
        out = flatten(average, body.size, period - 1)
    return _placed(values.size, start, out)


def bollinger_bands(close: ArrayLike, period: int = 20, *, multiplier: float = 2.0) -> Bands:
    """Compute Bollinger Bands: a simple moving average and bands ``multiplier`` deviations away.

    Parameters
    ----------
    close : array_like
        Prices, oldest first.
    period : int, default 20
        Bars in the window, at least 1 (Bollinger's 20; TA-Lib's BBANDS also defaults to 20).
    multiplier : float, default 2.0
        Width of each band in standard deviations, finite and non-negative.

    Returns
    -------
    Bands
        ``upper``, ``middle`` and ``lower``, NaN for the first ``period - 1`` bars.

    Raises
    ------
    InvalidInput
        If a parameter is out of range or ``close`` breaks the NaN policy.

    Notes
    -----
    .. math::

       m_t = \\mathrm{SMA}_t, \\qquad
       \\sigma_t = \\sqrt{\\tfrac{1}{n} \\sum_{j=0}^{n-1} (x_{t-j} - m_t)^2}, \\qquad
       m_t \\pm k\\,\\sigma_t

    :math:`\\sigma` is the population deviation (divisor :math:`n`), as in TA-Lib's
    BBANDS with an SMA. TA-Lib forms the variance as :math:`E[x^2] - m^2` from running
    sums, which loses digits when prices are large against their spread; this function
    sums squared deviations from a reference price inside the window, so the variance
    keeps its relative precision and a flat window has exactly zero width.

    References
    ----------
    .. [1] J. Bollinger, *Bollinger on Bollinger Bands*, McGraw-Hill, 2001.
    .. [2] TA-Lib, "BBANDS - Bollinger Bands", https://ta-lib.org/functions/
    """
    period = check_period("period", period)
    multiplier = check_multiplier("multiplier", multiplier)
    (values,), start = prepare_inputs(close=close)
    body = values[start:]
    upper, middle, lower = nan_array(body.size), nan_array(body.size), nan_array(body.size)
    if body.size >= period:
        sums = WindowSums(body, period, second=True)
        assert sums.s2 is not None
        mean_deviation = sums.s1 / period
        variance = np.maximum(sums.s2 / period - mean_deviation * mean_deviation, 0.0)
        centre = sums.ref + mean_deviation
        width = multiplier * np.sqrt(variance)
        middle = flatten(centre, body.size, period - 1)
        upper = flatten(centre + width, body.size, period - 1)
        lower = flatten(centre - width, body.size, period - 1)
    size = values.size
    return Bands(_placed(size, start, upper), _placed(size, start, middle), _placed(size, start, lower))


def macd(close: ArrayLike, *, fast_period: int = 12, slow_period: int = 26,
         signal_period: int = 9) -> MACDResult:
    """Compute the moving average convergence/divergence with TA-Lib's seeding.

    Parameters
    ----------
    close : array_like
        Prices, oldest first.
    fast_period, slow_period : int, default 12 and 26
        Spans of the two EMAs; ``fast_period < slow_period``.
    signal_period : int, default 9
        Span of the signal EMA, at least 1.

    Returns
    -------
    MACDResult
        ``macd``, ``signal`` and ``histogram``, all NaN for the first
        ``slow_period + signal_period - 2`` bars (TA-Lib's MACD lookback, 33 by default).

    Raises
    ------
    InvalidInput
        If a period is not a positive integer, ``fast_period >= slow_period``, or
        ``close`` breaks the NaN policy.

    Notes
    -----
    .. math::

       \\mathrm{MACD}_t = \\mathrm{EMA}^{fast}_t - \\mathrm{EMA}^{slow}_t, \\quad
       \\mathrm{signal}_t = \\mathrm{EMA}^{signal}(\\mathrm{MACD})_t, \\quad
       \\mathrm{hist}_t = \\mathrm{MACD}_t - \\mathrm{signal}_t

    TA-Lib seeds both EMAs at bar ``slow_period - 1``: the slow one with the mean of
    bars ``0 .. slow - 1`` and the fast one with the mean of the ``fast_period`` bars
    ending there (not with its own earlier start). The signal EMA is seeded with the
    mean of the first ``signal_period`` MACD values.

    References
    ----------
    .. [1] G. Appel, *Technical Analysis: Power Tools for Active Investors*,
       FT Prentice Hall, 2005.
    .. [2] TA-Lib, "MACD - Moving Average Convergence/Divergence", https://ta-lib.org/functions/
    """
    fast_period = check_period("fast_period", fast_period)
    slow_period = check_period("slow_period", slow_period)
    signal_period = check_period("signal_period", signal_period)
    if fast_period >= slow_period:
        raise InvalidInput(f"fast_period must be less than slow_period, were {fast_period} and {slow_period}",
                           details={"fast_period": fast_period, "slow_period": slow_period})
    (values,), start = prepare_inputs(close=close)
    body = values[start:]
    line_out, signal_out, hist_out = (nan_array(body.size) for _ in range(3))
    lookback = slow_period + signal_period - 2
    if body.size > lookback:
        slow_seed = sequential_sum(body[:slow_period]) / slow_period
        fast_seed = sequential_sum(body[slow_period - fast_period:slow_period]) / fast_period
        rest = body[slow_period:]
        slow_line = np.concatenate(([slow_seed], recursive(rest, slow_seed, *ema_coefficients(slow_period))))
        fast_line = np.concatenate(([fast_seed], recursive(rest, fast_seed, *ema_coefficients(fast_period))))
        line = fast_line - slow_line
        signal = exponential_average(line, signal_period)
        line_out[lookback:] = line[signal_period - 1:]
        signal_out[lookback:] = signal[signal_period - 1:]
        hist_out[lookback:] = (line - signal)[signal_period - 1:]
    size = values.size
    return MACDResult(_placed(size, start, line_out), _placed(size, start, signal_out),
                      _placed(size, start, hist_out))


def rsi(close: ArrayLike, period: int = 14) -> FloatArray:
    """Compute Wilder's relative strength index.

    Parameters
    ----------
    close : array_like
        Prices, oldest first.
    period : int, default 14
        Smoothing period, at least 1.

    Returns
    -------
    ndarray
        RSI in [0, 100], NaN for the first ``period`` bars (TA-Lib RSI lookback).

    Raises
    ------
    InvalidInput
        If ``period`` is not a positive integer or ``close`` breaks the NaN policy.

    Notes
    -----
    With :math:`\\Delta_t = x_t - x_{t-1}`, :math:`U_t = \\max(\\Delta_t, 0)` and
    :math:`D_t = \\max(-\\Delta_t, 0)`, the averages start at bar :math:`n` as the
    means of the first :math:`n` changes and then follow Wilder's smoothing:

    .. math::

       \\bar U_t = \\frac{(n-1)\\,\\bar U_{t-1} + U_t}{n}, \\qquad
       \\mathrm{RSI}_t = 100\\,\\frac{\\bar U_t}{\\bar U_t + \\bar D_t}

    As in TA-Lib 0.8, RSI is 0 when :math:`\\bar U_t + \\bar D_t = 0` (no movement
    at all since the first bar).

    References
    ----------
    .. [1] J. W. Wilder Jr., *New Concepts in Technical Trading Systems*,
       Trend Research, 1978.
    .. [2] TA-Lib, "RSI - Relative Strength Index", https://ta-lib.org/functions/
    """
    period = check_period("period", period)
    (values,), start = prepare_inputs(close=close)
    body = values[start:]
    out = nan_array(body.size)
    if body.size > period:
        change = np.diff(body)
        gain = np.maximum(change, 0.0)
        loss = np.maximum(-change, 0.0)
        decay, weight = wilder_coefficients(period)
        gain_seed = sequential_sum(gain[:period]) / period
        loss_seed = sequential_sum(loss[:period]) / period
        average_gain = np.concatenate(([gain_seed], recursive(gain[period:], gain_seed, decay, weight)))
        average_loss = np.concatenate(([loss_seed], recursive(loss[period:], loss_seed, decay, weight)))
        total = average_gain + average_loss
        ratio = np.divide(average_gain, total, out=np.zeros_like(total), where=total != 0.0)
        out[period:] = 100.0 * ratio
    return _placed(values.size, start, out)


def atr(high: ArrayLike, low: ArrayLike, close: ArrayLike, period: int = 14) -> FloatArray:
    """Compute Wilder's average true range.

    Parameters
    ----------
    high, low, close : array_like
        Bar prices of equal length, oldest first.
    period : int, default 14
        Smoothing period, at least 1.

    Returns
    -------
    ndarray
        ATR, NaN for the first ``period`` bars (TA-Lib ATR lookback).

    Raises
    ------
    InvalidInput
        If ``period`` is not a positive integer, the inputs differ in length, or an
        input breaks the NaN policy.

    Notes
    -----
    True range (TA-Lib TRANGE, from the second bar):

    .. math:: TR_t = \\max(h_t - l_t,\\ |h_t - c_{t-1}|,\\ |l_t - c_{t-1}|)

    The first ATR (bar :math:`n`) is the mean of :math:`TR_1 .. TR_n`; then
    :math:`ATR_t = ((n-1)\\,ATR_{t-1} + TR_t) / n`.

    References
    ----------
    .. [1] J. W. Wilder Jr., *New Concepts in Technical Trading Systems*,
       Trend Research, 1978.
    .. [2] TA-Lib, "ATR - Average True Range", https://ta-lib.org/functions/
    """
    period = check_period("period", period)
    (high_values, low_values, close_values), start = prepare_inputs(high=high, low=low, close=close)
    body = average_true_range(high_values[start:], low_values[start:], close_values[start:], period)
    return _placed(close_values.size, start, body)


def stochastic(high: ArrayLike, low: ArrayLike, close: ArrayLike, *, fast_k_period: int = 5,
               slow_k_period: int = 3, slow_d_period: int = 3) -> StochasticResult:
    """Compute the slow stochastic oscillator as TA-Lib's STOCH with SMA smoothing.

    Parameters
    ----------
    high, low, close : array_like
        Bar prices of equal length, oldest first.
    fast_k_period : int, default 5
        Bars of the high/low window of fast %K.
    slow_k_period : int, default 3
        SMA period smoothing fast %K into slow %K.
    slow_d_period : int, default 3
        SMA period smoothing slow %K into slow %D.

    Returns
    -------
    StochasticResult
        ``slow_k`` and ``slow_d``, both NaN for the first
        ``fast_k_period + slow_k_period + slow_d_period - 3`` bars (TA-Lib STOCH
        lookback, 8 by default).

    Raises
    ------
    InvalidInput
        If a period is not a positive integer, the inputs differ in length, or an
        input breaks the NaN policy.

    Notes
    -----
    With :math:`H_t, L_t` the highest high and lowest low of the last
    ``fast_k_period`` bars:

    .. math::

       \\%K^{fast}_t = 100\\,\\frac{c_t - L_t}{H_t - L_t}, \\quad
       \\%K^{slow} = \\mathrm{SMA}(\\%K^{fast}), \\quad
       \\%D^{slow} = \\mathrm{SMA}(\\%K^{slow})

    As TA-Lib 0.8 computes it, fast %K is :math:`((c - L) / (H - L)) \\times 100`, and 0
    when the window is flat: :math:`|H - L| \\le 10^{-14} (|H| + |L|)`.

    References
    ----------
    .. [1] G. C. Lane, "Lane's Stochastics", *Technical Analysis of Stocks &
       Commodities* 2(3), 1984.
    .. [2] TA-Lib, "STOCH - Stochastic", https://ta-lib.org/functions/
    """
    fast_k_period = check_period("fast_k_period", fast_k_period)
    slow_k_period = check_period("slow_k_period", slow_k_period)
    slow_d_period = check_period("slow_d_period", slow_d_period)
    (high_values, low_values, close_values), start = prepare_inputs(high=high, low=low, close=close)
    high_body, low_body, close_body = high_values[start:], low_values[start:], close_values[start:]
    size = close_body.size
    slow_k_out, slow_d_out = nan_array(size), nan_array(size)
    lookback = fast_k_period + slow_k_period + slow_d_period - 3
    if size > lookback:
        window = slice(fast_k_period - 1, None)
        highest = rolling_extreme(high_body, fast_k_period, maximum=True)[window]
        lowest = rolling_extreme(low_body, fast_k_period, maximum=False)[window]
        span = highest - lowest
        flat = np.abs(span) <= TA_EPSILON * (np.abs(highest) + np.abs(lowest))
        fast_k = np.divide(close_body[window] - lowest, span, out=np.zeros_like(span), where=~flat)
        fast_k *= 100.0
        slow_k = moving_average(fast_k, slow_k_period)
        slow_d = moving_average(slow_k[slow_k_period - 1:], slow_d_period)
        slow_k_out[lookback:] = slow_k[slow_k_period + slow_d_period - 2:]
        slow_d_out[lookback:] = slow_d[slow_d_period - 1:]
    total = close_values.size
    return StochasticResult(_placed(total, start, slow_k_out), _placed(total, start, slow_d_out))


def adx(high: ArrayLike, low: ArrayLike, close: ArrayLike, period: int = 14) -> ADXResult:
    """Compute Wilder's average directional index with +DI and -DI.

    Parameters
    ----------
    high, low, close : array_like
        Bar prices of equal length, oldest first.
    period : int, default 14
        Smoothing period, at least 1.

    Returns
    -------
    ADXResult
        ``adx``, NaN for the first ``2 * period - 1`` bars (TA-Lib ADX lookback), and
        ``plus_di`` and ``minus_di``, NaN for the first ``period`` bars (TA-Lib
        PLUS_DI/MINUS_DI lookback).

    Raises
    ------
    InvalidInput
        If ``period`` is not a positive integer, the inputs differ in length, or an
        input breaks the NaN policy.

    Notes
    -----
    With :math:`u_t = h_t - h_{t-1}` and :math:`d_t = l_{t-1} - l_t`:
    :math:`+DM_t = u_t` if :math:`u_t > 0` and :math:`u_t > d_t`, else 0;
    :math:`-DM_t = d_t` if :math:`d_t > 0` and :math:`d_t > u_t`, else 0.
    :math:`+DM`, :math:`-DM` and :math:`TR` are smoothed as Wilder's running sums,
    seeded (as TA-Lib does) with the plain sum of bars 1 .. n-1:

    .. math::

       S_t = S_{t-1} - S_{t-1}/n + v_t, \\quad
       \\pm DI_t = 100\\,\\frac{S^{\\pm DM}_t}{S^{TR}_t}, \\quad
       DX_t = 100\\,\\frac{|{+DI_t} - {-DI_t}|}{{+DI_t} + {-DI_t}}

    ADX starts at bar :math:`2n - 1` as the mean of :math:`DX_n .. DX_{2n-1}`, then
    :math:`ADX_t = ((n-1)\\,ADX_{t-1} + DX_t) / n`. Following TA-Lib, when
    :math:`S^{TR} = 0` (no range since the first bar) both DI are 0 and DX is undefined,
    and an undefined DX (also when both DI are 0) leaves ADX unchanged and adds nothing
    to the seed.

    References
    ----------
    .. [1] J. W. Wilder Jr., *New Concepts in Technical Trading Systems*,
       Trend Research, 1978.
    .. [2] TA-Lib, "ADX - Average Directional Movement Index", "PLUS_DI", "MINUS_DI",
       https://ta-lib.org/functions/
    """
    period = check_period("period", period)
    (high_values, low_values, close_values), start = prepare_inputs(high=high, low=low, close=close)
    high_body, low_body, close_body = high_values[start:], low_values[start:], close_values[start:]
    size = close_body.size
    adx_out, plus_out, minus_out = nan_array(size), nan_array(size), nan_array(size)
    if size > period:
        up = high_body[1:] - high_body[:-1]
        down = low_body[:-1] - low_body[1:]
        plus_dm = np.where((up > 0.0) & (up > down), up, 0.0)
        minus_dm = np.where((down > 0.0) & (up < down), down, 0.0)
        ranges = true_range(high_body, low_body, close_body)
        decay, weight = wilder_coefficients(period)

        def smoothed(movement: FloatArray) -> FloatArray:
            seed = sequential_sum(movement[:period - 1])
            return recursive(movement[period - 1:], seed, decay, 1.0)

        plus_sum, minus_sum, range_sum = smoothed(plus_dm), smoothed(minus_dm), smoothed(ranges)
        has_range = range_sum != 0.0
        zeros = np.zeros_like(range_sum)
        plus_di = 100.0 * np.divide(plus_sum, range_sum, out=zeros.copy(), where=has_range)
        minus_di = 100.0 * np.divide(minus_sum, range_sum, out=zeros.copy(), where=has_range)
        di_total = minus_di + plus_di
        has_dx = has_range & (di_total != 0.0)
        dx = 100.0 * np.divide(np.abs(minus_di - plus_di), di_total, out=zeros.copy(), where=has_dx)
        plus_out[period:] = plus_di
        minus_out[period:] = minus_di
        if size >= 2 * period:
            seed = sequential_sum(np.where(has_dx[:period], dx[:period], 0.0)) / period
            later_valid = has_dx[period:]
            updates = recursive(dx[period:][later_valid], seed, decay, weight)
            adx_out[2 * period - 1] = seed
            adx_out[2 * period:] = np.concatenate(([seed], updates))[np.cumsum(later_valid)]
    total = close_values.size
    return ADXResult(_placed(total, start, adx_out), _placed(total, start, plus_out),
                     _placed(total, start, minus_out))


def obv(close: ArrayLike, volume: ArrayLike) -> FloatArray:
    """Compute Granville's on-balance volume.

    Parameters
    ----------
    close, volume : array_like
        Closing prices and non-negative volumes of equal length, oldest first.

    Returns
    -------
    ndarray
        OBV from the first complete bar on (TA-Lib OBV lookback is 0).

    Raises
    ------
    InvalidInput
        If the inputs differ in length, a volume is negative, or an input breaks the
        NaN policy.

    Notes
    -----
    As in TA-Lib, :math:`OBV_0 = v_0` and then

    .. math:: OBV_t = OBV_{t-1} + \\operatorname{sign}(c_t - c_{t-1})\\, v_t

    References
    ----------
    .. [1] J. E. Granville, *Granville's New Key to Stock Market Profits*,
       Prentice-Hall, 1963.
    .. [2] TA-Lib, "OBV - On Balance Volume", https://ta-lib.org/functions/
    """
    (close_values, volume_values), start = prepare_inputs(close=close, volume=volume)
    check_non_negative("volume", volume_values, start)
    close_body, volume_body = close_values[start:], volume_values[start:]
    out = nan_array(close_body.size)
    if close_body.size:
        rising, falling = close_body[1:] > close_body[:-1], close_body[1:] < close_body[:-1]
        steps = np.where(rising, volume_body[1:], np.where(falling, -volume_body[1:], 0.0))
        out = np.cumsum(np.concatenate((volume_body[:1], steps)))
    return _placed(close_values.size, start, out)


def vwap(high: ArrayLike, low: ArrayLike, close: ArrayLike, volume: ArrayLike,
         session: ArrayLike | None = None) -> FloatArray:
    """Compute the volume-weighted average price, cumulative from the start of each session.

    Parameters
    ----------
    high, low, close, volume : array_like
        Bar prices and non-negative volumes of equal length, oldest first.
    session : array_like, optional
        One label per bar naming its session, e.g. the exchange-calendar session
        date of each intraday bar. A new session starts wherever the label differs
        from the previous bar's. Sessions are taken from the caller, never derived
        from timestamps here. ``None`` means one session from the first bar.

    Returns
    -------
    ndarray
        VWAP of each bar's session so far; NaN until the session has traded volume.

    Raises
    ------
    InvalidInput
        If the inputs or labels differ in length, a volume is negative, or an input
        breaks the NaN policy.

    Notes
    -----
    With typical price :math:`p_t = (h_t + l_t + c_t) / 3` and :math:`s` the first
    bar of bar :math:`t`'s session:

    .. math:: VWAP_t = \\frac{\\sum_{j=s}^{t} p_j v_j}{\\sum_{j=s}^{t} v_j}

    TA-Lib has no VWAP. The sums restart exactly at each session (they are not
    differences of one long running sum), so precision does not decay over a long
    history.

    References
    ----------
    .. [1] S. A. Berkowitz, D. E. Logue and E. A. Noser Jr., "The Total Cost of
       Transactions on the NYSE", *Journal of Finance* 43(1), 1988.
    """
    (high_values, low_values, close_values, volume_values), start = prepare_inputs(
        high=high, low=low, close=close, volume=volume)
    check_non_negative("volume", volume_values, start)
    size = close_values.size
    starts = np.zeros(1, dtype=np.int64)
    if session is not None:
        labels = np.asarray(session)
        if labels.ndim != 1 or labels.size != size:
            raise InvalidInput(f"session must be one label per bar, had shape {labels.shape} for {size} bars",
                               details={"parameter": "session", "shape": list(labels.shape), "bars": size})
        labels = labels[start:]
        changed = np.asarray(labels[1:] != labels[:-1], dtype=bool)
        starts = np.concatenate((starts, np.flatnonzero(changed) + 1))
    typical = (high_values[start:] + low_values[start:] + close_values[start:]) / 3.0
    volume_body = volume_values[start:]
    out = nan_array(typical.size)
    if typical.size:
        weighted = segmented_cumsum(typical * volume_body, starts)
        traded = segmented_cumsum(volume_body, starts)
        out = np.divide(weighted, traded, out=out, where=traded > 0.0)
    return _placed(size, start, out)


def rolling_zscore(close: ArrayLike, period: int) -> FloatArray:
    """Compute the rolling z-score of each bar against its trailing window.

    Parameters
    ----------
    close : array_like
        Values, oldest first.
    period : int
        Bars in the window (including the current bar), at least 1.

    Returns
    -------
    ndarray
        z-scores, NaN for the first ``period - 1`` bars; 0 where the window is flat.

    Raises
    ------
    InvalidInput
        If ``period`` is not a positive integer or ``close`` breaks the NaN policy.

    Notes
    -----
    .. math::

       z_t = \\frac{x_t - m_t}{\\sigma_t}, \\qquad
       m_t = \\frac{1}{n}\\sum_{j=0}^{n-1} x_{t-j}, \\qquad
       \\sigma_t = \\sqrt{\\tfrac{1}{n} \\sum_{j=0}^{n-1} (x_{t-j} - m_t)^2}

    :math:`\\sigma` is the population deviation (divisor :math:`n`, pandas
    ``std(ddof=0)``). Where every value in the window is equal, :math:`\\sigma = 0`
    and the bar sits at its mean, so :math:`z = 0` (rather than 0/0).

    References
    ----------
    .. [1] E. Kreyszig, *Advanced Engineering Mathematics*, 10th ed., Wiley, 2011,
       section 24.6 (standardized variable).
    """
    period = check_period("period", period)
    (values,), start = prepare_inputs(close=close)
    body = values[start:]
    out = nan_array(body.size)
    if body.size >= period:
        sums = WindowSums(body, period, second=True, keep_deviation=True)
        assert sums.s2 is not None and sums.dev is not None
        mean_deviation = sums.s1 / period
        deviation = np.sqrt(np.maximum(sums.s2 / period - mean_deviation * mean_deviation, 0.0))
        score = np.divide(sums.dev - mean_deviation, deviation, out=np.zeros_like(deviation),
                          where=deviation > 0.0)
        out = flatten(score, body.size, period - 1)
    return _placed(values.size, start, out)


def donchian_channels(high: ArrayLike, low: ArrayLike, period: int = 20) -> Bands:
    """Compute Donchian channels: the highest high and lowest low of the trailing window.

    Parameters
    ----------
    high, low : array_like
        Bar highs and lows of equal length, oldest first.
    period : int, default 20
        Bars in the window, including the current bar, at least 1.

    Returns
    -------
    Bands
        ``upper`` (highest high), ``middle`` (their mid-point) and ``lower`` (lowest
        low), NaN for the first ``period - 1`` bars (TA-Lib MAX/MIN lookback).

    Raises
    ------
    InvalidInput
        If ``period`` is not a positive integer, the inputs differ in length, or an
        input breaks the NaN policy.

    Notes
    -----
    .. math::

       U_t = \\max_{0 \\le j < n} h_{t-j}, \\quad L_t = \\min_{0 \\le j < n} l_{t-j},
       \\quad M_t = (U_t + L_t) / 2

    The window includes the current bar, as TA-Lib MAX/MIN do. For a breakout rule
    ("close above the previous n-bar high") compare with the channel shifted one bar.

    References
    ----------
    .. [1] C. Faith, *Way of the Turtle*, McGraw-Hill, 2007 (R. Donchian's channel
       breakout rules).
    .. [2] TA-Lib, "MAX - Highest value over a specified period", "MIN",
       https://ta-lib.org/functions/
    """
    period = check_period("period", period)
    (high_values, low_values), start = prepare_inputs(high=high, low=low)
    upper = rolling_extreme(high_values[start:], period, maximum=True)
    lower = rolling_extreme(low_values[start:], period, maximum=False)
    middle = (upper + lower) / 2.0
    size = high_values.size
    return Bands(_placed(size, start, upper), _placed(size, start, middle), _placed(size, start, lower))


def keltner_channels(high: ArrayLike, low: ArrayLike, close: ArrayLike, period: int = 20, *,
                     atr_period: int = 10, multiplier: float = 2.0) -> Bands:
    """Compute Keltner channels: an EMA of the close with bands a multiple of the ATR away.

    Parameters
    ----------
    high, low, close : array_like
        Bar prices of equal length, oldest first.
    period : int, default 20
        Span of the EMA of the close (the middle line).
    atr_period : int, default 10
        Period of Wilder's ATR giving the band width.
    multiplier : float, default 2.0
        Band width in ATRs, finite and non-negative.

    Returns
    -------
    Bands
        ``upper``, ``middle`` and ``lower``, NaN for the first
        ``max(period - 1, atr_period)`` bars.

    Raises
    ------
    InvalidInput
        If a parameter is out of range, the inputs differ in length, or an input
        breaks the NaN policy.

    Notes
    -----
    This is the modern variant popularised by L. Raschke and used by StockCharts,
    not Keltner's 1960 original (a 10-day SMA of the typical price with a 10-day SMA
    of the high-low range):

    .. math:: M_t = \\mathrm{EMA}_{n}(c)_t, \\qquad M_t \\pm k\\,\\mathrm{ATR}_{m}(h, l, c)_t

    The EMA and the ATR are seeded as in :func:`ema` and :func:`atr` (TA-Lib's
    seeding), both from the first complete bar.

    References
    ----------
    .. [1] C. W. Keltner, *How to Make Money in Commodities*, Keltner Statistical
       Service, 1960.
    .. [2] StockCharts ChartSchool, "Keltner Channels",
       https://chartschool.stockcharts.com/table-of-contents/technical-indicators-and-overlays/technical-overlays/keltner-channels
    """
    period = check_period("period", period)
    atr_period = check_period("atr_period", atr_period)
    multiplier = check_multiplier("multiplier", multiplier)
    (high_values, low_values, close_values), start = prepare_inputs(high=high, low=low, close=close)
    centre = exponential_average(close_values[start:], period)
    width = multiplier * average_true_range(high_values[start:], low_values[start:], close_values[start:],
                                            atr_period)
    middle = np.where(np.isnan(width), np.nan, centre)
    size = close_values.size
    return Bands(_placed(size, start, centre + width), _placed(size, start, middle),
                 _placed(size, start, centre - width))
