"""Benchmark session-aware resampling against plain pandas resampling.

Run with ``python benchmarks/bench_resample.py``. Generates 1,000,000 one-minute
bars with the synthetic market, then times ``resample_bars`` to 1h and 1d and
pandas ``DataFrame.resample("1h" / "1D").agg(...)`` on the same frame (best of 5).

Plain pandas is not session-aware: ``resample("1h")`` anchors buckets at clock
hours (UTC 14:00-15:00 holds 9:30-10:00 New York time in winter), emits a row for
every empty hour (nights, weekends, holidays; dropped here with ``dropna``), does
not cut the last bucket at an early close, and ``resample("1D")`` groups by UTC
calendar day, which equals the session date on XNYS only because its sessions
fall inside one UTC day. The timings are therefore for comparable work, not for
identical output.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from datetime import date
from functools import partial
from pathlib import Path

import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bifrost.marketdata import Timeframe, generate_bars, resample_bars  # noqa: E402

BAR_COUNT = 1_000_000
REPEATS = 5
AGGREGATION = {"open": "first", "high": "max", "low": "min", "close": "last", "volume": "sum"}


def _best_of(function: Callable[[], pd.DataFrame], repeats: int = REPEATS) -> tuple[float, pd.DataFrame]:
    best = float("inf")
    result = pd.DataFrame()
    for _ in range(repeats):
        started = time.perf_counter()
        result = function()
        best = min(best, time.perf_counter() - started)
    return best, result


def _pandas_resample(bars: pd.DataFrame, rule: str) -> pd.DataFrame:
    return bars.resample(rule).agg(AGGREGATION).dropna(subset=["open"])


def main() -> None:
    started = time.perf_counter()
    # 2,600 XNYS sessions from 2010 hold a little more than 1,000,000 minutes.
    bars = generate_bars(
        symbol="BENCH", start=date(2010, 1, 1), end=date(2020, 6, 30), timeframe=Timeframe.M1, seed=2024,
    ).iloc[:BAR_COUNT]
    generated = time.perf_counter() - started
    print(f"generated {len(bars):,} one-minute bars "
          f"({bars.index[0]:%Y-%m-%d} .. {bars.index[-1]:%Y-%m-%d}) in {generated:.3f} s")
    resample_bars(bars.iloc[:1000], source=Timeframe.M1, target=Timeframe.H1)  # warm the calendar cache

    print(f"best of {REPEATS}; pandas is clock-anchored, not session-aware (see module docstring)")
    header = f"{'target':<7}{'method':<28}{'bars in':>10}{'bars out':>10}{'seconds':>10}{'bars/s':>14}{'ratio':>8}"
    print(header)
    print("-" * len(header))
    for target, rule in ((Timeframe.H1, "1h"), (Timeframe.D1, "1D")):
        ours_seconds, ours = _best_of(partial(resample_bars, bars, source=Timeframe.M1, target=target))
        pandas_seconds, theirs = _best_of(partial(_pandas_resample, bars, rule))
        for method, seconds, out in (
            ("bifrost resample_bars", ours_seconds, ours),
            (f'pandas resample("{rule}")', pandas_seconds, theirs),
        ):
            ratio = seconds / ours_seconds
            print(f"{target.value:<7}{method:<28}{len(bars):>10,}{len(out):>10,}{seconds:>10.4f}"
                  f"{len(bars) / seconds:>14,.0f}{ratio:>7.2f}x")
    print("ratio = seconds / bifrost seconds for the same target (above 1: pandas slower)")


if __name__ == "__main__":
    main()
