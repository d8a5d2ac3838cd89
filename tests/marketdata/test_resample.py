"""Tests of session-aware resampling.

Expected values come from an independent computation: plain pandas ``groupby`` on
New York local time, with the session hours written down here as known facts
(regular hours 9:30-16:00 ET; 2020-11-26 Thanksgiving closed; 2020-11-27 closes
at 13:00 ET; US daylight saving time began 2020-03-08), not from the exchange
calendar the code under test uses. Volumes are whole numbers so sums are exact
whatever the summation order; comparisons are exact.
"""

from __future__ import annotations

from datetime import date

import numpy as np
import pandas as pd
import pytest

from bifrost.core.errors import DataQualityError, InvalidInput
from bifrost.marketdata import Timeframe, make_bars, resample_bars

NEW_YORK = "America/New_York"
OPEN_MINUTE = 9 * 60 + 30
# Trading days in the fixture and their close in minutes after local midnight.
SESSION_CLOSE_MINUTE = {
    date(2020, 3, 6): 16 * 60,   # Friday before the DST change (EST, UTC-5)
    date(2020, 3, 9): 16 * 60,   # Monday after it (EDT, UTC-4)
    date(2020, 11, 25): 16 * 60,  # day before the Thanksgiving holiday
    date(2020, 11, 27): 13 * 60,  # half day after Thanksgiving
    date(2020, 11, 30): 16 * 60,
}
HOLIDAY = date(2020, 11, 26)


def _extended_hours_minute_bars(days: list[date], seed: int) -> pd.DataFrame:
    # One-minute bars 04:00-19:59 New York time on each day: pre-market, regular
    # and after-hours, as a data vendor with extended hours would send them.
    stamps = []
    for day in days:
        local_midnight = pd.Timestamp(day).tz_localize(NEW_YORK)
        stamps.append(local_midnight + pd.to_timedelta(np.arange(4 * 60, 20 * 60), unit="min"))
    ts = stamps[0].append(stamps[1:]).tz_convert("UTC")
    rng = np.random.default_rng(seed)
    n = len(ts)
    close = 100.0 * np.exp(np.cumsum(rng.normal(0.0, 1e-3, n)))
    open_ = np.concatenate(([100.0], close[:-1]))
    high = np.maximum(open_, close) * (1.0 + rng.uniform(0.0, 1e-3, n))
    low = np.minimum(open_, close) * (1.0 - rng.uniform(0.0, 1e-3, n))
    volume = rng.integers(1, 10_000, n).astype("float64")
    return make_bars(ts, open_, high, low, close, volume)


def _expected_by_local_time(bars: pd.DataFrame, bucket_minutes: int | None) -> pd.DataFrame:
    # Independent reference: group by New York local date and minute of day.
    local = bars.index.tz_convert(NEW_YORK)
    local_date = pd.Series(local.date, index=bars.index)
    minute = local.hour * 60 + local.minute
    close_minute = local_date.map(SESSION_CLOSE_MINUTE)
    in_session = close_minute.notna().to_numpy() & (minute >= OPEN_MINUTE) & (
        minute < close_minute.fillna(0).to_numpy()
    )
    frame = bars[in_session].copy()
    frame["day"] = local_date[in_session].to_numpy()
    if bucket_minutes is None:
        frame["bucket"] = 0
    else:
        frame["bucket"] = (minute[in_session] - OPEN_MINUTE) // bucket_minutes
    grouped = frame.groupby(["day", "bucket"], sort=True).agg(
        open=("open", "first"), high=("high", "max"), low=("low", "min"),
        close=("close", "last"), volume=("volume", "sum"),
    )
    labels = []
    for day, bucket in grouped.index:
        if bucket_minutes is None:
            labels.append(pd.Timestamp(day).tz_localize("UTC"))
        else:
            start_local = pd.Timestamp(day) + pd.Timedelta(minutes=OPEN_MINUTE + bucket * bucket_minutes)
            labels.append(start_local.tz_localize(NEW_YORK).tz_convert("UTC"))
    grouped.index = pd.DatetimeIndex(labels, name="ts")
    return grouped


@pytest.fixture(scope="module")
def minute_bars() -> pd.DataFrame:
    days = sorted([*SESSION_CLOSE_MINUTE, HOLIDAY])
    return _extended_hours_minute_bars(days, seed=20201127)


@pytest.mark.parametrize(
    ("target", "bucket_minutes"),
    [(Timeframe.M5, 5), (Timeframe.M15, 15), (Timeframe.H1, 60)],
)
def test_resample_bars_minutes_to_intraday_matches_local_time_groupby(
    minute_bars: pd.DataFrame, target: Timeframe, bucket_minutes: int
) -> None:
    expected = _expected_by_local_time(minute_bars, bucket_minutes)

    result = resample_bars(minute_bars, source=Timeframe.M1, target=target)

    pd.testing.assert_frame_equal(result, expected, check_exact=True, check_freq=False)


def test_resample_bars_minutes_to_day_equals_per_session_aggregates(minute_bars: pd.DataFrame) -> None:
    expected = _expected_by_local_time(minute_bars, None)

    result = resample_bars(minute_bars, source=Timeframe.M1, target=Timeframe.D1)

    pd.testing.assert_frame_equal(result, expected, check_exact=True, check_freq=False)
    assert list(result.index.date) == sorted(SESSION_CLOSE_MINUTE)


def test_resample_bars_hourly_half_day_last_bucket_ends_at_early_close(minute_bars: pd.DataFrame) -> None:
    day = minute_bars.loc["2020-11-27"]

    result = resample_bars(day, source=Timeframe.M1, target=Timeframe.H1)

    # 9:30, 10:30, 11:30 and 12:30 EST are 14:30 ... 17:30 UTC.
    assert [t.strftime("%H:%M") for t in result.index] == ["14:30", "15:30", "16:30", "17:30"]
    last_bucket = day.loc["2020-11-27 17:30":"2020-11-27 17:59"]
    assert len(last_bucket) == 30
    assert result["close"].iloc[-1] == day.loc["2020-11-27 17:59", "close"].item()
    assert result["volume"].iloc[-1] == last_bucket["volume"].sum()


def test_resample_bars_hourly_full_day_last_bucket_is_half_hour(minute_bars: pd.DataFrame) -> None:
    day = minute_bars.loc["2020-11-25"]

    result = resample_bars(day, source=Timeframe.M1, target=Timeframe.H1)

    assert len(result) == 7
    assert result.index[-1] == pd.Timestamp("2020-11-25 20:30", tz="UTC")  # 15:30 EST
    assert result["volume"].iloc[-1] == day.loc["2020-11-25 20:30":"2020-11-25 20:59", "volume"].sum()


def test_resample_bars_dst_change_keeps_buckets_at_local_open(minute_bars: pd.DataFrame) -> None:
    two_days = minute_bars.loc["2020-03-06":"2020-03-10"]

    result = resample_bars(two_days, source=Timeframe.M1, target=Timeframe.H1)

    first_of_day = result.groupby(result.index.date).head(1).index
    assert list(first_of_day) == [
        pd.Timestamp("2020-03-06 14:30", tz="UTC"),  # 9:30 EST
        pd.Timestamp("2020-03-09 13:30", tz="UTC"),  # 9:30 EDT
    ]


def test_resample_bars_outside_session_bars_dropped(minute_bars: pd.DataFrame) -> None:
    local = minute_bars.index.tz_convert(NEW_YORK)
    minute = np.asarray(local.hour * 60 + local.minute)
    close_minute = np.array([SESSION_CLOSE_MINUTE.get(d, 0) for d in local.date])
    outside = minute_bars[(minute < OPEN_MINUTE) | (minute >= close_minute)]

    hourly = resample_bars(outside, source=Timeframe.M1, target=Timeframe.H1)
    daily = resample_bars(minute_bars, source=Timeframe.M1, target=Timeframe.D1)

    # pre-market, after-hours, 13:00-16:00 on the half day and the whole holiday
    assert len(outside) == 6 * 16 * 60 - 4 * 390 - 210
    assert len(hourly) == 0
    regular = minute_bars.loc["2020-11-25 14:30":"2020-11-25 20:59"]
    assert daily.loc["2020-11-25", "volume"].item() == regular["volume"].sum()
    assert pd.Timestamp("2020-11-26", tz="UTC") not in daily.index


def test_resample_bars_hour_source_to_day_matches_minute_source(minute_bars: pd.DataFrame) -> None:
    hourly = resample_bars(minute_bars, source=Timeframe.M1, target=Timeframe.H1)

    daily_from_hours = resample_bars(hourly, source=Timeframe.H1, target=Timeframe.D1)
    daily_from_minutes = resample_bars(minute_bars, source=Timeframe.M1, target=Timeframe.D1)

    pd.testing.assert_frame_equal(daily_from_hours, daily_from_minutes, check_exact=True)


def test_resample_bars_chained_steps_equal_direct(minute_bars: pd.DataFrame) -> None:
    five = resample_bars(minute_bars, source=Timeframe.M1, target=Timeframe.M5)
    fifteen = resample_bars(five, source=Timeframe.M5, target=Timeframe.M15)

    chained = resample_bars(fifteen, source=Timeframe.M15, target=Timeframe.H1)
    direct = resample_bars(minute_bars, source=Timeframe.M1, target=Timeframe.H1)

    pd.testing.assert_frame_equal(chained, direct, check_exact=True)


def test_resample_bars_only_buckets_with_bars_are_emitted(minute_bars: pd.DataFrame) -> None:
    day = minute_bars.loc["2020-11-25 14:30":"2020-11-25 20:59"]
    gappy = day.drop(day.loc["2020-11-25 15:30":"2020-11-25 16:29"].index)  # 10:30-11:29 EST

    result = resample_bars(gappy, source=Timeframe.M1, target=Timeframe.H1)

    assert pd.Timestamp("2020-11-25 15:30", tz="UTC") not in result.index
    assert len(result) == 6


@pytest.mark.parametrize(
    ("source", "target"),
    [(Timeframe.H1, Timeframe.M5), (Timeframe.M15, Timeframe.M15), (Timeframe.D1, Timeframe.H1)],
)
def test_resample_bars_not_finer_to_coarser_raises_naming_both(
    minute_bars: pd.DataFrame, source: Timeframe, target: Timeframe
) -> None:
    with pytest.raises(InvalidInput) as caught:
        resample_bars(minute_bars, source=source, target=target)

    message = str(caught.value)
    assert f"source {source.value}" in message
    assert f"target {target.value}" in message


def test_resample_bars_empty_input_returns_empty_frame() -> None:
    empty = make_bars(pd.DatetimeIndex([], tz="UTC"), [], [], [], [], [])

    result = resample_bars(empty, source=Timeframe.M1, target=Timeframe.D1)

    assert len(result) == 0
    assert list(result.columns) == ["open", "high", "low", "close", "volume"]
    assert all(dtype == np.float64 for dtype in result.dtypes)
    assert str(result.index.tz) == "UTC"
    assert result.index.name == "ts"


def test_resample_bars_decreasing_index_raises(minute_bars: pd.DataFrame) -> None:
    backwards = minute_bars.iloc[::-1]

    with pytest.raises(InvalidInput, match="strictly increasing"):
        resample_bars(backwards, source=Timeframe.M1, target=Timeframe.H1)


def test_resample_bars_nan_price_raises_data_quality_error(minute_bars: pd.DataFrame) -> None:
    broken = minute_bars.copy()
    broken.iloc[5, broken.columns.get_loc("high")] = np.nan

    with pytest.raises(DataQualityError, match=r"'high': 1"):
        resample_bars(broken, source=Timeframe.M1, target=Timeframe.H1)
