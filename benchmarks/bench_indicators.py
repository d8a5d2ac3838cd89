"""Benchmark the indicators: vectorised against TA-Lib, and the streaming form per update.

Run with ``python benchmarks/bench_indicators.py [--bars 1000000] [--stream-bars 200000]``.
Needs the ``ta-lib`` wheel (the test extra). Generates a seeded random-walk OHLCV series
of ``--bars`` bars, then for every indicator:

* times the vectorised function and the equivalent TA-Lib call on the same arrays in the
  same run (best of ``--repeats``) and prints both, with ratio = ours / TA-Lib (above 1:
  ours slower), and the largest absolute difference after warm-up as a sanity check;
* times the streaming class over the first ``--stream-bars`` bars, one ``update`` per bar
  from Python floats, and prints microseconds per update (best of ``--repeats``).

VWAP, the rolling z-score and Keltner channels have no TA-Lib function: they are timed
against the nearest TA-Lib composition (TYPPRICE with cumulative sums, SMA with STDDEV,
EMA with ATR), marked ``~`` in the table. The VWAP composition takes per-session
differences of one running sum over the whole series, so its own rounding grows along
the series: its ``max |diff|`` (about 1e-7 at a million bars) is that error, not ours,
whose sums restart at each session.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import talib  # noqa: E402

from bifrost import indicators as ind  # noqa: E402


def _best(function: Callable[[], Any], repeats: int) -> tuple[float, Any]:
    best, result = float("inf"), None
    for _ in range(repeats):
        started = time.perf_counter()
        result = function()
        best = min(best, time.perf_counter() - started)
    return best, result


def _outputs(result: Any) -> list[np.ndarray]:
    return [result] if isinstance(result, np.ndarray) else list(result)


def _max_difference(ours: Any, theirs: Any) -> float:
    worst = 0.0
    for a, b in zip(_outputs(ours), _outputs(theirs), strict=True):
        both = ~np.isnan(a) & ~np.isnan(b)
        if both.any():
            worst = max(worst, float(np.max(np.abs(a[both] - b[both]))))
    return worst


def _market(bars: int, seed: int) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(seed)
    close = 100.0 * np.exp(np.cumsum(rng.normal(0.0, 0.001, bars)))
    spread = close * rng.uniform(0.0, 0.002, bars)
    high = np.maximum(close, np.roll(close, 1)) + spread
    low = np.minimum(close, np.roll(close, 1)) - spread
    volume = rng.integers(100, 10_000, bars).astype(np.float64)
    session = np.arange(bars) // 390  # 390 one-minute bars per regular session
    return {"high": high, "low": low, "close": close, "volume": volume, "session": session}


def _talib_vwap(h: np.ndarray, lo: np.ndarray, c: np.ndarray, v: np.ndarray, s: np.ndarray) -> np.ndarray:
    # Nearest TA-Lib-side equivalent: TYPPRICE, then per-session running sums in NumPy.
    typical = talib.TYPPRICE(h, lo, c)
    starts = np.flatnonzero(np.diff(s, prepend=-1))
    weighted, traded = np.cumsum(typical * v), np.cumsum(v)
    offset = np.repeat(np.concatenate(([0.0], weighted[starts[1:] - 1])), np.diff(np.append(starts, s.size)))
    offset_v = np.repeat(np.concatenate(([0.0], traded[starts[1:] - 1])), np.diff(np.append(starts, s.size)))
    return (weighted - offset) / (traded - offset_v)


def _talib_zscore(c: np.ndarray, period: int) -> np.ndarray:
    return (c - talib.SMA(c, period)) / talib.STDDEV(c, period, 1.0)


def _talib_keltner(h: np.ndarray, lo: np.ndarray, c: np.ndarray) -> tuple[np.ndarray, ...]:
    middle, width = talib.EMA(c, 20), 2.0 * talib.ATR(h, lo, c, 10)
    return middle + width, middle, middle - width


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--bars", type=int, default=1_000_000)
    parser.add_argument("--stream-bars", type=int, default=200_000)
    parser.add_argument("--repeats", type=int, default=5)
    arguments = parser.parse_args()
    m = _market(arguments.bars, seed=2024)
    h, lo, c, v, s = m["high"], m["low"], m["close"], m["volume"], m["session"]

    # name, ours, TA-Lib (or ~composition), streaming factory, bar fields
    cases: list[tuple[str, Callable[[], Any], Callable[[], Any], Callable[[], Any], tuple[str, ...]]] = [
        ("sma(20)", lambda: ind.sma(c, 20), lambda: talib.SMA(c, 20),
         lambda: ind.SimpleMovingAverage(20), ("close",)),
        ("ema(20)", lambda: ind.ema(c, 20), lambda: talib.EMA(c, 20),
         lambda: ind.ExponentialMovingAverage(20), ("close",)),
        ("wma(20)", lambda: ind.wma(c, 20), lambda: talib.WMA(c, 20),
         lambda: ind.WeightedMovingAverage(20), ("close",)),
        ("bollinger(20, 2)", lambda: ind.bollinger_bands(c, 20), lambda: talib.BBANDS(c, 20, 2.0, 2.0, 0),
         lambda: ind.BollingerBands(20), ("close",)),
        ("macd(12, 26, 9)", lambda: ind.macd(c), lambda: talib.MACD(c, 12, 26, 9),
         lambda: ind.MACD(), ("close",)),
        ("rsi(14)", lambda: ind.rsi(c, 14), lambda: talib.RSI(c, 14),
         lambda: ind.RelativeStrengthIndex(14), ("close",)),
        ("atr(14)", lambda: ind.atr(h, lo, c, 14), lambda: talib.ATR(h, lo, c, 14),
         lambda: ind.AverageTrueRange(14), ("high", "low", "close")),
        ("stochastic(5, 3, 3)", lambda: ind.stochastic(h, lo, c), lambda: talib.STOCH(h, lo, c),
         lambda: ind.Stochastic(), ("high", "low", "close")),
        ("adx(14) +DI -DI", lambda: ind.adx(h, lo, c, 14),
         lambda: (talib.ADX(h, lo, c, 14), talib.PLUS_DI(h, lo, c, 14), talib.MINUS_DI(h, lo, c, 14)),
         lambda: ind.AverageDirectionalIndex(14), ("high", "low", "close")),
        ("obv", lambda: ind.obv(c, v), lambda: talib.OBV(c, v),
         lambda: ind.OnBalanceVolume(), ("close", "volume")),
        ("donchian(20)", lambda: ind.donchian_channels(h, lo, 20),
         lambda: (talib.MAX(h, 20), (talib.MAX(h, 20) + talib.MIN(lo, 20)) / 2.0, talib.MIN(lo, 20)),
         lambda: ind.DonchianChannels(20), ("high", "low")),
        ("~ vwap (session)", lambda: ind.vwap(h, lo, c, v, session=s), lambda: _talib_vwap(h, lo, c, v, s),
         lambda: ind.VolumeWeightedAveragePrice(), ("high", "low", "close", "volume", "session")),
        ("~ rolling_zscore(20)", lambda: ind.rolling_zscore(c, 20), lambda: _talib_zscore(c, 20),
         lambda: ind.RollingZScore(20), ("close",)),
        ("~ keltner(20, 10, 2)", lambda: ind.keltner_channels(h, lo, c), lambda: _talib_keltner(h, lo, c),
         lambda: ind.KeltnerChannels(), ("high", "low", "close")),
    ]

    stream_bars = min(arguments.stream_bars, arguments.bars)
    columns = {name: m[name][:stream_bars].tolist() for name in m}
    print(f"TA-Lib {talib.__version__} (C library {talib.__ta_version__.decode().split()[0]}), "
          f"NumPy {np.__version__}; {arguments.bars:,} bars vectorised, {stream_bars:,} streamed, "
          f"best of {arguments.repeats}")
    header = (f"{'indicator':<22}{'ours ms':>10}{'TA-Lib ms':>11}{'ratio':>8}{'max |diff|':>12}"
              f"{'stream us/upd':>15}{'TA-Lib us/bar':>15}")
    print(header)
    print("-" * len(header))
    for name, ours, theirs, factory, fields in cases:
        ours_seconds, ours_result = _best(ours, arguments.repeats)
        theirs_seconds, theirs_result = _best(theirs, arguments.repeats)
        rows = list(zip(*(columns[field] for field in fields), strict=True))

        def stream(rows: list[tuple[Any, ...]] = rows, factory: Callable[[], Any] = factory) -> None:
            update = factory().update
            for row in rows:
                update(*row)

        stream_seconds, _ = _best(stream, max(1, arguments.repeats // 2))
        print(f"{name:<22}{ours_seconds * 1e3:>10.2f}{theirs_seconds * 1e3:>11.2f}"
              f"{ours_seconds / theirs_seconds:>7.1f}x{_max_difference(ours_result, theirs_result):>12.1e}"
              f"{stream_seconds / stream_bars * 1e6:>15.2f}{theirs_seconds / arguments.bars * 1e6:>15.4f}")
    print("ratio = our vectorised time / TA-Lib time on the same arrays (above 1: ours slower); "
          "'~' rows compare with a TA-Lib composition")


if __name__ == "__main__":
    main()
