"""Vectorised indicators against TA-Lib 0.8 (the ``ta-lib`` wheel) on real and random-walk bars.

Data: raw daily AAPL and MSFT bars 2000-2013 (shared Quandl WIKI file; AAPL trades up to
about $700 before its split) and two seeded 3,000-bar random walks around 100.

Tolerance: NaN on exactly the bars where TA-Lib has NaN (same lookback), then
``|ours - TA-Lib| <= 1e-9`` absolute. The two are not bit-identical: TA-Lib updates
rolling sums by adding and subtracting (rounding that accumulates along the series),
writes recursions as ``prev + (x - prev) * k`` and forms the variance as
``E[x^2] - mean^2``; ours sums each window afresh from a reference price and writes
``decay * prev + k * x``. Both are correct to rounding: the largest difference seen is
1.4e-10 (Bollinger bands on AAPL at ~$700, where TA-Lib's ``E[x^2] - mean^2`` loses
digits); moving averages, EMA, MACD, RSI, ATR, ADX and stochastic stay below 1e-11, and
OBV, MAX/MIN (Donchian) are exact.

Seeding: TA-Lib's EMA, MACD, RSI, ATR and ADX carry their seed forever (it decays but
never vanishes), so both sides always get the same full arrays from bar 0, and the
leading-NaN tests give both the same NaN prefix, which TA-Lib's wrapper skips as ours does.
"""

from __future__ import annotations

import numpy as np
import pytest

from bifrost import indicators as ind
from tests.indicators.support import (
    assert_matches_reference,
    import_talib,
    load_ticker,
    random_walk,
)

talib = import_talib()

PERIODS = (2, 5, 14, 30, 100)
SOURCES = ("AAPL", "MSFT", "walk-11", "walk-12")


@pytest.fixture(params=SOURCES)
def bars(request):
    if request.param.startswith("walk-"):
        return random_walk(int(request.param.removeprefix("walk-")))
    return load_ticker(request.getfixturevalue("shared_data"), request.param)


def _hlc(bars):
    return bars["high"], bars["low"], bars["close"]


@pytest.mark.parametrize("period", PERIODS)
def test_sma_after_warmup_matches_talib(bars, period):
    ours = ind.sma(bars["close"], period)
    assert_matches_reference(ours, talib.SMA(bars["close"], period))


@pytest.mark.parametrize("period", PERIODS)
def test_ema_with_sma_seed_matches_talib(bars, period):
    ours = ind.ema(bars["close"], period)
    assert_matches_reference(ours, talib.EMA(bars["close"], period))


@pytest.mark.parametrize("period", PERIODS)
def test_wma_after_warmup_matches_talib(bars, period):
    ours = ind.wma(bars["close"], period)
    assert_matches_reference(ours, talib.WMA(bars["close"], period))


@pytest.mark.parametrize("period", PERIODS)
@pytest.mark.parametrize("multiplier", [1.0, 2.0, 2.5])
def test_bollinger_bands_population_std_matches_talib_bbands(bars, period, multiplier):
    ours = ind.bollinger_bands(bars["close"], period, multiplier=multiplier)
    upper, middle, lower = talib.BBANDS(bars["close"], period, multiplier, multiplier, 0)
    assert_matches_reference(ours.upper, upper)
    assert_matches_reference(ours.middle, middle)
    assert_matches_reference(ours.lower, lower)


@pytest.mark.parametrize(("fast", "slow", "signal"), [(12, 26, 9), (5, 35, 5), (2, 3, 2)])
def test_macd_with_talib_seeding_matches_talib(bars, fast, slow, signal):
    ours = ind.macd(bars["close"], fast_period=fast, slow_period=slow, signal_period=signal)
    line, signal_line, histogram = talib.MACD(bars["close"], fast, slow, signal)
    assert_matches_reference(ours.macd, line)
    assert_matches_reference(ours.signal, signal_line)
    assert_matches_reference(ours.histogram, histogram)


def test_macd_default_warmup_is_33_bars_as_talib(bars):
    ours = ind.macd(bars["close"])
    assert np.isnan(ours.macd[:33]).all() and not np.isnan(ours.macd[33:]).any()


@pytest.mark.parametrize("period", PERIODS)
def test_rsi_wilder_smoothing_matches_talib(bars, period):
    ours = ind.rsi(bars["close"], period)
    assert_matches_reference(ours, talib.RSI(bars["close"], period))


@pytest.mark.parametrize("period", (1, *PERIODS))
def test_atr_wilder_smoothing_matches_talib(bars, period):
    ours = ind.atr(*_hlc(bars), period)
    assert_matches_reference(ours, talib.ATR(*_hlc(bars), period))


@pytest.mark.parametrize(("fast_k", "slow_k", "slow_d"), [(5, 3, 3), (14, 3, 3), (14, 5, 4), (1, 1, 1), (3, 1, 2)])
def test_stochastic_sma_smoothing_matches_talib_stoch(bars, fast_k, slow_k, slow_d):
    ours = ind.stochastic(*_hlc(bars), fast_k_period=fast_k, slow_k_period=slow_k, slow_d_period=slow_d)
    slow_k_line, slow_d_line = talib.STOCH(*_hlc(bars), fast_k, slow_k, 0, slow_d, 0)
    assert_matches_reference(ours.slow_k, slow_k_line)
    assert_matches_reference(ours.slow_d, slow_d_line)


@pytest.mark.parametrize("period", PERIODS)
def test_adx_and_directional_indicators_match_talib(bars, period):
    ours = ind.adx(*_hlc(bars), period)
    assert_matches_reference(ours.adx, talib.ADX(*_hlc(bars), period))
    assert_matches_reference(ours.plus_di, talib.PLUS_DI(*_hlc(bars), period))
    assert_matches_reference(ours.minus_di, talib.MINUS_DI(*_hlc(bars), period))


def test_obv_integer_volumes_equals_talib_exactly(bars):
    ours = ind.obv(bars["close"], bars["volume"])
    assert_matches_reference(ours, talib.OBV(bars["close"], bars["volume"]), atol=0.0)


@pytest.mark.parametrize("period", PERIODS)  # TA-Lib MAX/MIN need period >= 2
def test_donchian_channels_equal_talib_max_min_exactly(bars, period):
    ours = ind.donchian_channels(bars["high"], bars["low"], period)
    upper, lower = talib.MAX(bars["high"], period), talib.MIN(bars["low"], period)
    assert_matches_reference(ours.upper, upper, atol=0.0)
    assert_matches_reference(ours.lower, lower, atol=0.0)
    assert_matches_reference(ours.middle, (upper + lower) / 2.0, atol=0.0)


@pytest.mark.parametrize(("period", "atr_period", "multiplier"), [(20, 10, 2.0), (10, 20, 1.5), (5, 5, 0.0)])
def test_keltner_channels_equal_talib_ema_plus_atr_composition(bars, period, atr_period, multiplier):
    middle = talib.EMA(bars["close"], period)
    width = multiplier * talib.ATR(*_hlc(bars), atr_period)
    warm = np.isnan(width) | np.isnan(middle)
    expected_middle = np.where(warm, np.nan, middle)
    ours = ind.keltner_channels(*_hlc(bars), period, atr_period=atr_period, multiplier=multiplier)
    assert_matches_reference(ours.middle, expected_middle)
    assert_matches_reference(ours.upper, expected_middle + width)
    assert_matches_reference(ours.lower, expected_middle - width)


def test_leading_nan_warmup_is_skipped_as_talib_does(bars):
    """An indicator of an indicator: the inner one's NaN warm-up seeds the outer one later."""
    close = bars["close"]
    inner_ours, inner_talib = ind.rsi(close, 14), talib.RSI(close, 14)
    assert_matches_reference(ind.sma(inner_ours, 10), talib.SMA(inner_talib, 10))
    assert_matches_reference(ind.ema(inner_ours, 10), talib.EMA(inner_talib, 10))
    for ours, theirs in zip(ind.macd(inner_ours), talib.MACD(inner_talib), strict=True):
        assert_matches_reference(ours, theirs)


def test_leading_nan_in_one_input_starts_at_first_complete_bar(bars):
    high, low, close = (array.copy() for array in _hlc(bars))
    high[:3], close[:7] = np.nan, np.nan
    assert_matches_reference(ind.atr(high, low, close, 14), talib.ATR(high, low, close, 14))
    ours = ind.adx(high, low, close, 5)
    assert_matches_reference(ours.adx, talib.ADX(high, low, close, 5))
    for ours_line, theirs in zip(ind.stochastic(high, low, close), talib.STOCH(high, low, close), strict=True):
        assert_matches_reference(ours_line, theirs)


def test_flat_prices_follow_talib_zero_conventions():
    """Bars without movement: RSI and DI 0 before any move, %K 0 and zero band width on flat windows.

    TA-Lib 0.8 tests for exact zero (RSI, DI, DX) or a flat range relative to the price
    level (stochastic); the comparison covers a flat start and a flat stretch mid-series.
    """
    walk = random_walk(21, 400)
    high, low, close = (np.round(walk[name]) for name in ("high", "low", "close"))
    for flat in (slice(0, 40), slice(100, 220)):
        high[flat] = low[flat] = close[flat] = close[flat.start]
    for period in (3, 14):
        assert_matches_reference(ind.rsi(close, period), talib.RSI(close, period))
        ours = ind.adx(high, low, close, period)
        assert_matches_reference(ours.adx, talib.ADX(high, low, close, period))
        assert_matches_reference(ours.plus_di, talib.PLUS_DI(high, low, close, period))
        assert_matches_reference(ours.minus_di, talib.MINUS_DI(high, low, close, period))
        for ours_line, theirs in zip(ind.stochastic(high, low, close, fast_k_period=period),
                                     talib.STOCH(high, low, close, period, 3, 0, 3, 0), strict=True):
            assert_matches_reference(ours_line, theirs)
        for ours_line, theirs in zip(ind.bollinger_bands(close, period),
                                     talib.BBANDS(close, period, 2.0, 2.0, 0), strict=True):
            assert_matches_reference(ours_line, theirs)
    assert (ind.rsi(close, 14)[14:40] == 0.0).all()
    assert (ind.adx(high, low, close, 14).plus_di[14:40] == 0.0).all()
    assert (ind.adx(high, low, close, 14).adx[27:40] == 0.0).all()
    bands = ind.bollinger_bands(close, 20)
    assert (bands.upper[119:220] == bands.lower[119:220]).all()
    assert (ind.stochastic(high, low, close).slow_k[108:220] == 0.0).all()


@pytest.mark.parametrize("size", [0, 1, 5, 14])
def test_series_no_longer_than_warmup_is_all_nan(size):
    close = random_walk(3, 20)["close"][:size]
    for result in (ind.rsi(close, 14), ind.atr(close, close, close, 14), *ind.macd(close)):
        assert result.shape == (size,)
        assert np.isnan(result).all()


def test_series_one_bar_past_warmup_has_one_value_as_talib():
    close = random_walk(3, 15)["close"]
    assert_matches_reference(ind.rsi(close, 14), talib.RSI(close, 14))
    assert np.flatnonzero(~np.isnan(ind.rsi(close, 14))).tolist() == [14]
