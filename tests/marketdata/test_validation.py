"""Tests of bar validation on ingest.

Session facts are written down here rather than taken from the calendar the code
uses: NYSE trades 9:30-16:00 New York time (14:30-21:00 UTC in winter, 13:30-20:00
UTC in summer); 2020-01-01 (New Year) and weekends are closed; 2019-11-29 (day after
Thanksgiving) closes at 13:00 New York time (18:00 UTC); the Hong Kong exchange breaks
for lunch 12:00-13:00 local time (04:00-05:00 UTC). The real-data tests use the shared
fixture ``equities/sp500_sector_ohlcv_2015_2020.csv`` (see SOURCES.md); its row counts
are checked directly, and all comparisons are exact.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bifrost.core.errors import DataQualityError, InvalidInput
from bifrost.marketdata import (
    GapPolicy,
    QualityRule,
    Timeframe,
    Violation,
    check_bars,
    make_bars,
    validate_bars,
    validate_frame_shape,
)

# XNYS sessions 2020-01-02..2020-01-10 (Jan 4-5 are a weekend).
SESSIONS_JAN_2020 = ["2020-01-02", "2020-01-03", "2020-01-06", "2020-01-07", "2020-01-08",
                     "2020-01-09", "2020-01-10"]




@pytest.fixture(scope="module")
def sector_ohlcv(shared_data: Path) -> pd.DataFrame:
    path = shared_data / "equities" / "sp500_sector_ohlcv_2015_2020.csv"
    return pd.read_csv(path, dtype={"Date": str, "Ticker": str})


def _ticker_bars(frame: pd.DataFrame, ticker: str) -> pd.DataFrame:
    rows = frame[frame["Ticker"] == ticker]
    ts = pd.DatetimeIndex(pd.to_datetime(rows["Date"], format="%Y-%m-%d")).tz_localize("UTC")
    return make_bars(ts, rows["Open"], rows["High"], rows["Low"], rows["Close"], rows["Volume"])


def _daily(days: list[str], close: list[float] | None = None) -> pd.DataFrame:
    n = len(days)
    close_values = np.asarray(close if close is not None else np.linspace(10.0, 11.0, n), dtype=float)
    ts = pd.DatetimeIndex(days).tz_localize("UTC")
    return make_bars(ts, close_values, close_values + 0.5, close_values - 0.5, close_values,
                     np.full(n, 1000.0))


def _minutes(start_utc: str, count: int, step: str = "1min") -> pd.DataFrame:
    ts = pd.date_range(start_utc, periods=count, freq=step, tz="UTC")
    price = np.linspace(100.0, 101.0, count)
    return make_bars(ts, price, price + 0.1, price - 0.1, price, np.full(count, 10.0))


def _utc(text: str) -> datetime:
    return pd.Timestamp(text).tz_localize("UTC").to_pydatetime()


def _only(report_items: tuple[Violation, ...], rule: QualityRule) -> list[Violation]:
    return [v for v in report_items if v.rule is rule]


# ----------------------------------------------------------------------------- clean data

def test_validate_bars_clean_daily_sessions_reports_ok() -> None:
    # Arrange
    bars = _daily(SESSIONS_JAN_2020)

    # Act
    report = validate_bars("aapl", bars, timeframe=Timeframe.D1)

    # Assert
    assert report.ok
    assert report.violations == () and report.warnings == ()
    assert report.symbol == "AAPL"
    assert report.bar_count == 7
    assert report.first_ts == _utc("2020-01-02") and report.last_ts == _utc("2020-01-10")
    assert report.summary() == (
        "AAPL 1d on XNYS: 7 bars 2020-01-02T00:00:00+00:00..2020-01-10T00:00:00+00:00 "
        "(gaps: reject); ok"
    )


def test_validate_bars_full_intraday_session_reports_ok() -> None:
    # Arrange: every minute of 2020-01-02, 14:30-20:59 UTC (390 bars).
    bars = _minutes("2020-01-02 14:30", 390)

    # Act
    report = validate_bars("SPY", bars, timeframe="1m")

    # Assert
    assert report.ok and report.warnings == ()
    assert report.gap_policy is GapPolicy.WARN


def test_validate_bars_empty_frame_reports_ok_with_no_span() -> None:
    # Arrange
    bars = _daily([])

    # Act
    report = validate_bars("AAPL", bars, timeframe="1d")

    # Assert
    assert report.ok and report.bar_count == 0
    assert report.first_ts is None and report.last_ts is None


# ----------------------------------------------------------------------------- value rules

def test_check_bars_high_below_close_raises_with_symbol_timestamp_and_rule() -> None:
    # Arrange: on 2020-01-03 high 10.5 is below close 11.0.
    bars = _daily(SESSIONS_JAN_2020[:3])
    bars.loc[pd.Timestamp("2020-01-03", tz="UTC"), ["open", "high", "low", "close"]] = [10.2, 10.5, 10.0, 11.0]

    # Act
    with pytest.raises(DataQualityError) as caught:
        check_bars("AAPL", bars, timeframe=Timeframe.D1)

    # Assert
    error = caught.value
    assert len(error.violations) == 1
    violation = error.violations[0]
    assert violation.rule is QualityRule.HIGH_BELOW_OPEN_CLOSE
    assert violation.ts == datetime(2020, 1, 3, tzinfo=UTC)
    assert str(violation) == (
        "AAPL 2020-01-03T00:00:00+00:00: high 10.5 is below close 11.0 (rule high_below_open_close)"
    )
    assert str(error) == f"1 bars of AAPL failed validation: {violation}"
    assert error.code == "data_quality"
    assert error.details["violation_count"] == 1
    assert error.details["counts"] == {"high_below_open_close": 1}


def test_validate_bars_high_below_open_and_close_names_both() -> None:
    # Arrange
    bars = _daily(SESSIONS_JAN_2020[:2])
    bars.iloc[1, :4] = [12.0, 11.0, 10.0, 11.5]

    # Act
    report = validate_bars("AAPL", bars, timeframe="1d")

    # Assert
    assert [str(v) for v in report.violations] == [
        "AAPL 2020-01-03T00:00:00+00:00: high 11.0 is below open 12.0 and close 11.5 "
        "(rule high_below_open_close)"
    ]


def test_validate_bars_low_above_open_reports_low_above_open_close() -> None:
    # Arrange
    bars = _daily(SESSIONS_JAN_2020[:3])
    bars.iloc[2, :4] = [9.0, 11.0, 9.5, 10.0]  # low 9.5 above open 9.0

    # Act
    report = validate_bars("MSFT", bars, timeframe="1d")

    # Assert
    assert [str(v) for v in report.violations] == [
        "MSFT 2020-01-06T00:00:00+00:00: low 9.5 is above open 9.0 (rule low_above_open_close)"
    ]


def test_validate_bars_high_below_low_reports_both_rules() -> None:
    # Arrange: high 9 and low 11 with open = close = 10 break three rules at once.
    bars = _daily(SESSIONS_JAN_2020[:2])
    bars.iloc[0, :4] = [10.0, 9.0, 11.0, 10.0]

    # Act
    report = validate_bars("IBM", bars, timeframe="1d")

    # Assert
    assert report.violation_counts == {
        QualityRule.HIGH_BELOW_OPEN_CLOSE: 1,
        QualityRule.LOW_ABOVE_OPEN_CLOSE: 1,
        QualityRule.HIGH_BELOW_LOW: 1,
    }
    (high_low,) = _only(report.violations, QualityRule.HIGH_BELOW_LOW)
    assert str(high_low) == "IBM 2020-01-02T00:00:00+00:00: high 9.0 is below low 11.0 (rule high_below_low)"


def test_validate_bars_zero_and_negative_prices_report_non_positive_price() -> None:
    # Arrange
    bars = _daily(SESSIONS_JAN_2020[:3])
    bars.iloc[1, :4] = [-1.0, 1.0, -2.0, 0.0]

    # Act
    report = validate_bars("XOM", bars, timeframe="1d")

    # Assert
    messages = [str(v) for v in _only(report.violations, QualityRule.NON_POSITIVE_PRICE)]
    assert messages == [
        "XOM 2020-01-03T00:00:00+00:00: open -1.0 must be positive (rule non_positive_price)",
        "XOM 2020-01-03T00:00:00+00:00: low -2.0 must be positive (rule non_positive_price)",
        "XOM 2020-01-03T00:00:00+00:00: close 0.0 must be positive (rule non_positive_price)",
    ]


def test_validate_bars_negative_volume_reports_negative_volume_and_zero_passes() -> None:
    # Arrange
    bars = _daily(SESSIONS_JAN_2020[:3])
    bars.iloc[0, 4] = 0.0
    bars.iloc[2, 4] = -5.0

    # Act
    report = validate_bars("T", bars, timeframe="1d")

    # Assert
    assert [str(v) for v in report.violations] == [
        "T 2020-01-06T00:00:00+00:00: volume -5.0 must not be negative (rule negative_volume)"
    ]


def test_validate_bars_nan_and_infinity_report_non_finite_value() -> None:
    # Arrange
    bars = _daily(SESSIONS_JAN_2020[:3])
    bars.iloc[1, 3] = np.nan
    bars.iloc[2, 4] = np.inf

    # Act
    report = validate_bars("GE", bars, timeframe="1d")

    # Assert
    assert [str(v) for v in report.violations] == [
        "GE 2020-01-03T00:00:00+00:00: close is nan; bar values must be finite (rule non_finite_value)",
        "GE 2020-01-06T00:00:00+00:00: volume is inf; bar values must be finite (rule non_finite_value)",
    ]


# ----------------------------------------------------------------------------- order rules

def test_validate_bars_repeated_label_reports_duplicate_timestamp() -> None:
    # Arrange
    bars = _daily(["2020-01-02", "2020-01-03", "2020-01-03", "2020-01-06"])

    # Act
    report = validate_bars("AAPL", bars, timeframe="1d")

    # Assert
    assert [str(v) for v in report.violations] == [
        "AAPL 2020-01-03T00:00:00+00:00: row 2 repeats the timestamp of row 1 (rule duplicate_timestamp)"
    ]


def test_validate_bars_out_of_order_rows_report_not_sorted() -> None:
    # Arrange
    bars = _daily(["2020-01-02", "2020-01-06", "2020-01-03", "2020-01-07"])

    # Act
    report = validate_bars("AAPL", bars, timeframe="1d")

    # Assert: the set of dates is complete, so only the order is wrong.
    assert [str(v) for v in report.violations] == [
        "AAPL 2020-01-03T00:00:00+00:00: row 2 is earlier than the row before it "
        "(2020-01-06T00:00:00+00:00); bars must be in increasing time order (rule not_sorted)"
    ]


# ----------------------------------------------------------------------------- calendar rules

def test_validate_bars_daily_bar_on_saturday_reports_outside_session() -> None:
    # Arrange: 2020-01-04 is a Saturday.
    bars = _daily(["2020-01-03", "2020-01-04", "2020-01-06"])

    # Act
    report = validate_bars("AAPL", bars, timeframe="1d")

    # Assert
    assert [str(v) for v in report.violations] == [
        "AAPL 2020-01-04T00:00:00+00:00: 2020-01-04 (Saturday) is not a session of the XNYS calendar "
        "(rule outside_session)"
    ]


def test_validate_bars_daily_bar_on_holiday_reports_outside_session() -> None:
    # Arrange: 2020-01-01 is New Year's Day, a weekday holiday.
    bars = _daily(["2019-12-31", "2020-01-01", "2020-01-02"])

    # Act
    report = validate_bars("AAPL", bars, timeframe="1d")

    # Assert
    (violation,) = report.violations
    assert violation.rule is QualityRule.OUTSIDE_SESSION
    assert violation.ts == _utc("2020-01-01")


def test_validate_bars_daily_label_not_midnight_reports_misaligned_timestamp() -> None:
    # Arrange: a daily bar labelled 21:00 UTC (the close) instead of the session date.
    bars = _daily(SESSIONS_JAN_2020[:2])
    bars.index = pd.DatetimeIndex([_utc("2020-01-02"), _utc("2020-01-03 21:00")], name="ts")

    # Act
    report = validate_bars("AAPL", bars, timeframe="1d")

    # Assert
    assert [str(v) for v in report.violations] == [
        "AAPL 2020-01-03T21:00:00+00:00: daily bar is labelled 21:00 UTC; a daily label is the "
        "session date at 00:00 UTC (rule misaligned_timestamp)"
    ]


def test_validate_bars_intraday_bar_after_close_reports_outside_session() -> None:
    # Arrange: 2020-01-02 closes at 21:00 UTC; add a 21:00 bar (after hours).
    bars = pd.concat([_minutes("2020-01-02 20:58", 2), _minutes("2020-01-02 21:00", 1)])

    # Act
    report = validate_bars("SPY", bars, timeframe="1m")

    # Assert
    assert [str(v) for v in report.violations] == [
        "SPY 2020-01-02T21:00:00+00:00: bar opening 21:00 UTC is outside every XNYS session; the "
        "session of 2020-01-02 trades 14:30-21:00 UTC (rule outside_session)"
    ]


def test_validate_bars_intraday_bar_after_early_close_reports_outside_session() -> None:
    # Arrange: 2019-11-29 closes early at 18:00 UTC; 17:59 is in, 18:00 is out.
    bars = _minutes("2019-11-29 17:59", 2)

    # Act
    report = validate_bars("SPY", bars, timeframe="1m")

    # Assert
    (violation,) = report.violations
    assert violation.rule is QualityRule.OUTSIDE_SESSION
    assert violation.ts == _utc("2019-11-29 18:00")
    assert "trades 14:30-18:00 UTC" in violation.message


def test_validate_bars_intraday_bar_in_lunch_break_reports_outside_session() -> None:
    # Arrange: Hong Kong breaks 04:00-05:00 UTC on 2020-01-02.
    bars = make_bars(
        pd.DatetimeIndex([_utc("2020-01-02 03:59"), _utc("2020-01-02 04:30"), _utc("2020-01-02 05:00")]),
        [10.0] * 3, [10.0] * 3, [10.0] * 3, [10.0] * 3, [1.0] * 3,
    )

    # Act
    report = validate_bars("0005.HK", bars, timeframe="1m", calendar="XHKG", gap_policy="ignore")

    # Assert
    (violation,) = report.violations
    assert violation.rule is QualityRule.OUTSIDE_SESSION
    assert str(violation).startswith("0005.HK 2020-01-02T04:30:00+00:00: bar opening 04:30 UTC")
    assert violation.message.endswith("with a break 04:00-05:00 UTC")


def test_validate_bars_intraday_off_grid_reports_misaligned_timestamp() -> None:
    # Arrange: a 5m bar at 14:37 is neither 14:30 + k*5m nor a multiple of 5m from midnight.
    bars = make_bars(pd.DatetimeIndex([_utc("2020-01-02 14:30"), _utc("2020-01-02 14:37")]),
                     [1.0, 1.0], [1.0, 1.0], [1.0, 1.0], [1.0, 1.0], [1.0, 1.0])

    # Act
    report = validate_bars("SPY", bars, timeframe="5m")

    # Assert
    (violation,) = report.violations
    assert violation.rule is QualityRule.MISALIGNED_TIMESTAMP
    assert violation.ts == _utc("2020-01-02 14:37")


# ----------------------------------------------------------------------------- gap rules

def test_check_bars_daily_missing_session_raises_naming_the_date() -> None:
    # Arrange: drop 2020-01-07, a Tuesday session.
    days = [d for d in SESSIONS_JAN_2020 if d != "2020-01-07"]
    bars = _daily(days)

    # Act
    with pytest.raises(DataQualityError) as caught:
        check_bars("AAPL", bars, timeframe="1d")

    # Assert
    assert [str(v) for v in caught.value.violations] == [
        "AAPL 2020-01-07T00:00:00+00:00: no bar for XNYS session 2020-01-07 (Tuesday) "
        "(rule missing_session)"
    ]


def test_validate_bars_daily_gap_with_warn_policy_reports_warning_only() -> None:
    # Arrange
    bars = _daily([d for d in SESSIONS_JAN_2020 if d != "2020-01-07"])

    # Act
    warned = validate_bars("AAPL", bars, timeframe="1d", gap_policy=GapPolicy.WARN)
    ignored = validate_bars("AAPL", bars, timeframe="1d", gap_policy="ignore")

    # Assert
    assert warned.ok and [v.ts for v in warned.warnings] == [_utc("2020-01-07")]
    assert warned.counts == {QualityRule.MISSING_SESSION: 1}
    assert ignored.ok and ignored.warnings == ()


def test_validate_bars_intraday_missing_minutes_warn_as_one_run() -> None:
    # Arrange: 2020-01-02 full session except 15:00, 15:01, 15:02 and 16:10 UTC.
    full = _minutes("2020-01-02 14:30", 390)
    drop = pd.DatetimeIndex([_utc(t) for t in ("2020-01-02 15:00", "2020-01-02 15:01",
                                                "2020-01-02 15:02", "2020-01-02 16:10")])
    bars = full.drop(drop)

    # Act
    report = validate_bars("XYZ", bars, timeframe="1m")

    # Assert: not rejecting by default; one warning per run of missing bars.
    assert report.ok
    assert [str(v) for v in report.warnings] == [
        "XYZ 2020-01-02T15:00:00+00:00: 3 1m bars missing from 15:00 to 15:02 UTC in XNYS session "
        "2020-01-02 (rule missing_bars_intraday)",
        "XYZ 2020-01-02T16:10:00+00:00: 1 1m bar missing at 16:10 UTC in XNYS session 2020-01-02 "
        "(rule missing_bars_intraday)",
    ]


def test_check_bars_intraday_gap_with_reject_policy_raises() -> None:
    # Arrange
    bars = _minutes("2020-01-02 14:30", 390).drop(pd.DatetimeIndex([_utc("2020-01-02 18:00")]))

    # Act
    with pytest.raises(DataQualityError) as caught:
        check_bars("XYZ", bars, timeframe="1m", gap_policy="reject")

    # Assert
    (violation,) = caught.value.violations
    assert violation.rule is QualityRule.MISSING_BARS_INTRADAY
    assert violation.ts == _utc("2020-01-02 18:00")


def test_validate_bars_intraday_session_without_bars_warns_missing_session() -> None:
    # Arrange: 15m bars on 2020-01-02 and 2020-01-06, none on the 2020-01-03 session.
    bars = pd.concat([_minutes("2020-01-02 14:30", 26, "15min"), _minutes("2020-01-06 14:30", 26, "15min")])

    # Act
    report = validate_bars("XYZ", bars, timeframe=Timeframe.M15)

    # Assert: the session is reported once, at its open, not as 26 missing bars.
    assert [str(v) for v in report.warnings] == [
        "XYZ 2020-01-03T14:30:00+00:00: no 15m bar in XNYS session 2020-01-03 (Friday) "
        "(rule missing_session)"
    ]


def test_validate_bars_hourly_on_clock_grid_checks_gaps_on_that_grid() -> None:
    # Arrange: hourly bars on the clock (15:00..20:00 UTC) with 17:00 missing.
    hours = ["15:00", "16:00", "18:00", "19:00", "20:00"]
    bars = make_bars(pd.DatetimeIndex([_utc(f"2020-01-02 {h}") for h in hours]),
                     [1.0] * 5, [1.0] * 5, [1.0] * 5, [1.0] * 5, [1.0] * 5)

    # Act
    report = validate_bars("XYZ", bars, timeframe="1h")

    # Assert
    assert report.ok
    assert [(v.rule, v.ts) for v in report.warnings] == [
        (QualityRule.MISSING_BARS_INTRADAY, _utc("2020-01-02 17:00"))
    ]


def test_validate_bars_hourly_on_open_grid_including_partial_last_bar_reports_ok() -> None:
    # Arrange: 14:30, 15:30, ..., 20:30 UTC (the last bar is the 30-minute remainder).
    bars = _minutes("2020-01-02 14:30", 7, "1h")

    # Act
    report = validate_bars("XYZ", bars, timeframe="1h")

    # Assert
    assert report.ok and report.warnings == ()


# ----------------------------------------------------------------------------- shape rules

def test_validate_bars_naive_index_reports_naive_timestamp() -> None:
    # Arrange
    bars = _daily(SESSIONS_JAN_2020[:2])
    bars.index = bars.index.tz_localize(None)

    # Act
    report = validate_bars("AAPL", bars, timeframe="1d")

    # Assert
    (violation,) = report.violations
    assert violation.rule is QualityRule.NAIVE_TIMESTAMP and violation.ts is None
    assert str(violation) == (
        "AAPL: index is timezone-naive; bar timestamps must be aware UTC (first value "
        "2020-01-02 00:00:00) (rule naive_timestamp)"
    )
    assert report.failed_bar_count == 2


def test_validate_bars_naive_index_still_checks_values_by_row() -> None:
    # Arrange
    bars = _daily(SESSIONS_JAN_2020[:2])
    bars.index = bars.index.tz_localize(None)
    bars.iloc[1, 4] = -1.0

    # Act
    report = validate_bars("AAPL", bars, timeframe="1d")

    # Assert
    (volume,) = _only(report.violations, QualityRule.NEGATIVE_VOLUME)
    assert volume.ts is None
    assert volume.message == "row 1 (2020-01-03 00:00:00): volume -1.0 must not be negative"


def test_validate_bars_index_mixing_zones_reports_mixed_timezones() -> None:
    # Arrange: concatenating a UTC frame and a New York frame gives an object index.
    utc_part = _daily(["2020-01-02"])
    ny_part = _daily(["2020-01-03"])
    ny_part.index = pd.DatetimeIndex([pd.Timestamp("2020-01-02 19:00", tz="America/New_York")], name="ts")
    bars = pd.concat([utc_part, ny_part])

    # Act
    report = validate_bars("AAPL", bars, timeframe="1d")

    # Assert
    mixed = _only(report.violations, QualityRule.MIXED_TIMEZONES)
    assert len(mixed) == 1 and mixed[0].ts is None
    assert "UTC (first at row 0)" in mixed[0].message
    assert "America/New_York (first at row 1)" in mixed[0].message


def test_validate_bars_index_mixing_naive_and_aware_reports_mixed_timezones() -> None:
    # Arrange
    bars = _daily(SESSIONS_JAN_2020[:2])
    bars.index = pd.Index([datetime(2020, 1, 2, tzinfo=UTC), datetime(2020, 1, 3)], dtype=object)

    # Act
    report = validate_bars("AAPL", bars, timeframe="1d")

    # Assert
    (violation,) = report.violations
    assert violation.rule is QualityRule.MIXED_TIMEZONES
    assert violation.message.startswith("index mixes naive and aware timestamps")


def test_validate_bars_new_york_index_reports_not_utc() -> None:
    # Arrange
    bars = _daily(SESSIONS_JAN_2020[:2])
    bars.index = bars.index.tz_convert("America/New_York")

    # Act
    report = validate_bars("AAPL", bars, timeframe="1d")

    # Assert
    (violation,) = report.violations
    assert str(violation) == (
        "AAPL: index is in time zone America/New_York; bar timestamps must be in UTC (rule not_utc)"
    )


def test_validate_frame_shape_missing_and_text_columns_report_shape_rules() -> None:
    # Arrange
    bars = _daily(SESSIONS_JAN_2020[:2]).drop(columns=["volume"])
    bars["close"] = bars["close"].astype(str)

    # Act
    found = validate_frame_shape("AAPL", bars)

    # Assert
    assert [str(v) for v in found] == [
        "AAPL: column volume is missing; a bar frame needs open, high, low, close, volume "
        "(rule missing_column)",
        "AAPL: column close must be numeric (float64), was object (rule non_numeric_column)",
    ]


def test_validate_bars_range_index_reports_invalid_index() -> None:
    # Arrange
    bars = _daily(SESSIONS_JAN_2020[:2]).reset_index(drop=True)

    # Act
    report = validate_bars("AAPL", bars, timeframe="1d")

    # Assert
    (violation,) = report.violations
    assert violation.rule is QualityRule.INVALID_INDEX
    assert "was RangeIndex" in violation.message


def test_validate_bars_nat_label_reports_invalid_index_with_row() -> None:
    # Arrange
    bars = _daily(SESSIONS_JAN_2020[:3])
    bars.index = pd.DatetimeIndex([_utc("2020-01-02"), pd.NaT, _utc("2020-01-06")], name="ts")

    # Act
    report = validate_bars("AAPL", bars, timeframe="1d")

    # Assert: the NaT row is reported; the other two (with 2020-01-03 now missing) are checked.
    assert [(v.rule, v.ts) for v in report.violations] == [
        (QualityRule.INVALID_INDEX, None),
        (QualityRule.MISSING_SESSION, _utc("2020-01-03")),
    ]
    assert report.violations[0].message == "row 1 has no timestamp (NaT)"


# ----------------------------------------------------------------------------- errors and reports

def test_check_bars_many_violations_lists_three_and_carries_all() -> None:
    # Arrange: five bars with negative volume.
    bars = _daily(SESSIONS_JAN_2020[:5])
    bars["volume"] = -1.0

    # Act
    with pytest.raises(DataQualityError) as caught:
        check_bars("AAPL", bars, timeframe="1d")

    # Assert
    error = caught.value
    assert len(error.violations) == 5
    first_three = "; ".join(str(v) for v in error.violations[:3])
    assert str(error) == (
        f"5 bars of AAPL failed validation: {first_three}; ... and 2 more (negative_volume 5)"
    )
    assert str(error).startswith(
        "5 bars of AAPL failed validation: AAPL 2020-01-02T00:00:00+00:00: volume -1.0 must not be "
        "negative (rule negative_volume)"
    )
    assert error.details["violation_count"] == 5


def test_quality_report_summary_counts_violations_and_warnings() -> None:
    # Arrange: one negative volume (rejects) and one missing minute (warns).
    bars = _minutes("2020-01-02 14:30", 10).drop(pd.DatetimeIndex([_utc("2020-01-02 14:33")]))
    bars.iloc[0, 4] = -3.0

    # Act
    report = validate_bars("XYZ", bars, timeframe="1m")

    # Assert
    assert not report.ok
    assert report.counts == {QualityRule.NEGATIVE_VOLUME: 1, QualityRule.MISSING_BARS_INTRADAY: 1}
    assert report.summary() == (
        "XYZ 1m on XNYS: 9 bars 2020-01-02T14:30:00+00:00..2020-01-02T14:39:00+00:00 (gaps: warn); "
        "FAILED; 1 violations (negative_volume 1); 1 warnings (missing_bars_intraday 1)"
    )


def test_validate_bars_unknown_gap_policy_raises_invalid_input() -> None:
    # Arrange
    bars = _daily(SESSIONS_JAN_2020[:2])

    # Act / Assert
    with pytest.raises(InvalidInput, match="gap_policy must be one of reject, warn, ignore, was 'skip'"):
        validate_bars("AAPL", bars, timeframe="1d", gap_policy="skip")


def test_validate_bars_non_frame_raises_invalid_input() -> None:
    # Act / Assert
    with pytest.raises(InvalidInput, match="bars must be a pandas DataFrame, was list"):
        validate_bars("AAPL", [1, 2], timeframe="1d")  # type: ignore[arg-type]


def test_violation_unknown_rule_raises_invalid_input() -> None:
    # Act / Assert
    with pytest.raises(InvalidInput, match="violation rule must be a QualityRule code, was 'too_shiny'"):
        Violation(symbol="AAPL", ts=None, rule="too_shiny", message="x")  # type: ignore[arg-type]


def test_violation_naive_ts_raises_invalid_input() -> None:
    # Act / Assert
    with pytest.raises(InvalidInput, match="violation ts must be aware UTC"):
        Violation(symbol="AAPL", ts=datetime(2020, 1, 2), rule=QualityRule.NOT_SORTED, message="x")


# ----------------------------------------------------------------------------- scale and invariants

def test_validate_bars_million_minute_bars_finds_exactly_the_injected_faults() -> None:
    # Arrange: 1,000,000 one-minute bars on consecutive XNYS sessions (390 per session,
    # written from the calendar facts in the module docstring: 14:30-21:00 UTC in winter).
    # Use the sessions of 2015-2025 via the calendar only to lay the grid; the faults are ours.
    from bifrost.core.calendars import get_calendar

    calendar = get_calendar("XNYS")
    sessions = calendar.sessions_in_range("2015-01-02", "2026-01-01")
    opens = pd.DatetimeIndex(calendar.opens.loc[sessions]).as_unit("ns").asi8
    closes = pd.DatetimeIndex(calendar.closes.loc[sessions]).as_unit("ns").asi8
    minute = 60_000_000_000
    ts = np.concatenate([np.arange(o, c, minute) for o, c in zip(opens, closes, strict=True)])[:1_000_000]
    price = 100.0 + np.sin(np.arange(ts.size) / 1000.0)
    bars = make_bars(ts, price, price + 0.05, price - 0.05, price, np.full(ts.size, 100.0))
    bars.iloc[123_456, 1] = price[123_456] - 1.0  # high below open/close
    bars.iloc[765_432, 4] = -1.0  # negative volume

    # Act
    report = validate_bars("SPY", bars, timeframe="1m")

    # Assert
    assert report.bar_count == 1_000_000
    assert [(v.rule, v.ts) for v in report.violations] == [
        (QualityRule.HIGH_BELOW_OPEN_CLOSE, bars.index[123_456].to_pydatetime()),
        (QualityRule.HIGH_BELOW_LOW, bars.index[123_456].to_pydatetime()),
        (QualityRule.NEGATIVE_VOLUME, bars.index[765_432].to_pydatetime()),
    ]
    assert report.warnings == ()


@settings(max_examples=60, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.floats(0.01, 1e6), st.floats(0.01, 1e6),
            st.floats(0.0, 1e3), st.floats(0.0, 1.0), st.floats(0.0, 1e9),
        ),
        min_size=1, max_size=7,
    )
)
def test_validate_bars_consistent_ohlc_never_breaks_value_rules(rows: list[tuple[float, ...]]) -> None:
    # Arrange: high >= max(open, close) and 0 < low <= min(open, close) by construction.
    open_ = np.array([r[0] for r in rows])
    close = np.array([r[1] for r in rows])
    high = np.maximum(open_, close) + np.array([r[2] for r in rows])
    low = np.minimum(open_, close) * np.array([1.0 - 0.5 * r[3] for r in rows])
    volume = np.array([r[4] for r in rows])
    days = SESSIONS_JAN_2020[: len(rows)]
    bars = make_bars(pd.DatetimeIndex(days).tz_localize("UTC"), open_, high, low, close, volume)

    # Act
    report = validate_bars("AAPL", bars, timeframe="1d")

    # Assert
    assert report.violations == ()


# ----------------------------------------------------------------------------- real data

def test_validate_bars_real_aapl_daily_2015_2020_passes(sector_ohlcv: pd.DataFrame) -> None:
    # Arrange
    bars = _ticker_bars(sector_ohlcv, "AAPL")

    # Act
    report = check_bars("AAPL", bars, timeframe="1d")

    # Assert: 1,258 XNYS sessions 2015-01-12..2020-01-09 (SOURCES.md).
    assert report.ok and report.bar_count == 1258
    assert report.first_ts == _utc("2015-01-12") and report.last_ts == _utc("2020-01-09")


def test_check_bars_real_duk_missing_november_2019_raises_missing_session(
    sector_ohlcv: pd.DataFrame,
) -> None:
    # Arrange: DUK has no rows for 2019-11-19..22. SOURCES.md says 1,255 rows; the file
    # holds 1,254 (1,258 sessions less the four missing).
    bars = _ticker_bars(sector_ohlcv, "DUK")

    # Act
    with pytest.raises(DataQualityError) as caught:
        check_bars("DUK", bars, timeframe="1d")

    # Assert
    assert len(bars) == 1254
    assert [(v.rule, v.ts) for v in caught.value.violations] == [
        (QualityRule.MISSING_SESSION, _utc(d)) for d in ("2019-11-19", "2019-11-20", "2019-11-21", "2019-11-22")
    ]
    assert str(caught.value).startswith(
        "4 bars of DUK failed validation: DUK 2019-11-19T00:00:00+00:00: no bar for XNYS session "
        "2019-11-19 (Tuesday) (rule missing_session)"
    )


def test_check_bars_real_so_missing_november_2019_raises_missing_session(
    sector_ohlcv: pd.DataFrame,
) -> None:
    # Arrange: SO lacks 2019-11-19, 21 and 22 but has the 20th; 1,255 rows (SOURCES.md: 1,256).
    bars = _ticker_bars(sector_ohlcv, "SO")

    # Act
    with pytest.raises(DataQualityError) as caught:
        check_bars("SO", bars, timeframe="1d")

    # Assert
    assert len(bars) == 1255
    assert [v.ts for v in caught.value.violations] == [
        _utc("2019-11-19"), _utc("2019-11-21"), _utc("2019-11-22")
    ]
    assert {v.rule for v in caught.value.violations} == {QualityRule.MISSING_SESSION}


def test_validate_bars_real_sector_file_only_duk_and_so_fail(sector_ohlcv: pd.DataFrame) -> None:
    # Arrange
    tickers = sorted(sector_ohlcv["Ticker"].unique())

    # Act
    failing = {
        ticker: validate_bars(ticker, _ticker_bars(sector_ohlcv, ticker), timeframe="1d").violation_counts
        for ticker in tickers
    }
    failing = {ticker: counts for ticker, counts in failing.items() if counts}

    # Assert
    assert len(tickers) == 66
    assert failing == {
        "DUK": {QualityRule.MISSING_SESSION: 4},
        "SO": {QualityRule.MISSING_SESSION: 3},
    }


def test_validate_bars_intraday_summer_session_uses_daylight_saving_hours() -> None:
    # Arrange: on 2020-07-02 NYSE opens 13:30 UTC; a 13:30 bar is in, a 13:29 bar is out.
    bars = _minutes("2020-07-02 13:29", 2)

    # Act
    report = validate_bars("SPY", bars, timeframe="1m")

    # Assert
    assert [(v.rule, v.ts) for v in report.violations] == [
        (QualityRule.OUTSIDE_SESSION, _utc("2020-07-02 13:29"))
    ]


def test_violation_str_without_timestamp_names_symbol_only() -> None:
    # Arrange
    violation = Violation(symbol="AAPL", ts=None, rule="missing_column", message="column close is missing")

    # Act
    text = str(violation)

    # Assert
    assert text == "AAPL: column close is missing (rule missing_column)"
    assert violation.rule is QualityRule.MISSING_COLUMN


def test_validate_bars_daily_before_calendar_range_reports_outside_session() -> None:
    # Arrange: the shared calendars start in 1990.
    bars = _daily(["1989-12-29"])

    # Act
    report = validate_bars("AAPL", bars, timeframe="1d")

    # Assert
    (violation,) = report.violations
    assert violation.rule is QualityRule.OUTSIDE_SESSION
    assert violation.message.startswith("1989-12-29 is outside the XNYS calendar's range 1990-01-02..")
    assert date(1989, 12, 29) == violation.ts.date()
