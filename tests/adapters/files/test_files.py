"""Tests of CSV and Parquet bar import and export.

Files are written as literal text in ``tmp_path`` so every malformed case is visible
in the test. Expected UTC instants are worked out by hand: New York is UTC-5 in
winter (EST) and UTC-4 from 2020-03-08 02:00 local (EDT), when 02:00-02:59 local does
not exist. The real-data test reads the shared ``sp500_sector_ohlcv_2015_2020.csv``
(SOURCES.md). Comparisons of prices are exact: round trips must not lose a bit.
"""

from __future__ import annotations

import gzip
from datetime import UTC, date, datetime
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from bifrost.adapters.files import FileBars, read_and_validate, read_bars_file, write_bars_file
from bifrost.core.errors import DataQualityError, InvalidInput
from bifrost.marketdata import QualityRule, Timeframe, make_bars

YAHOO_HEADER = "Date,Open,High,Low,Close,Adj Close,Volume\n"
OHLCV_HEADER = "ts,open,high,low,close,volume\n"




def _write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def _utc(text: str) -> pd.Timestamp:
    return pd.Timestamp(text).tz_localize("UTC")


def _yahoo_rows(days: list[str]) -> str:
    return "".join(f"{d},10.0,11.0,9.0,10.5,10.4,1000\n" for d in days)


# ----------------------------------------------------------------------------- good files

def test_read_bars_file_yahoo_daily_csv_reads_values_and_ignores_adj_close(tmp_path: Path) -> None:
    # Arrange: Yahoo's download header, including Adj Close.
    path = _write(tmp_path, "AAPL.csv", YAHOO_HEADER
                  + "2020-01-02,74.059998,75.150002,73.797501,75.087502,73.449402,135480400\n"
                  + "2020-01-03,74.287498,75.144997,74.125000,74.357498,72.735321,146322800\n")

    # Act
    (result,) = read_bars_file(path, symbol="aapl")

    # Assert
    assert result.symbol == "AAPL" and result.timeframe is Timeframe.D1
    assert result.source == str(path)
    assert list(result.bars.columns) == ["open", "high", "low", "close", "volume"]
    assert list(result.bars.index) == [_utc("2020-01-02"), _utc("2020-01-03")]
    assert result.bars["close"].tolist() == [75.087502, 74.357498]
    assert result.bars["volume"].tolist() == [135480400.0, 146322800.0]
    assert str(result.bars.index.tz) == "UTC" and result.bars.index.name == "ts"


def test_read_bars_file_long_csv_splits_symbols_in_order_of_appearance(tmp_path: Path) -> None:
    # Arrange: lower-case tickers, an alias header (ticker, timestamp) and odd header case.
    path = _write(tmp_path, "long.csv", "Ticker,TimeStamp,OPEN,High,low,Close,Volume\n"
                  "msft,2020-01-02T14:30:00Z,1,2,0.5,1.5,10\n"
                  "aapl,2020-01-02T14:30:00Z,3,4,2.5,3.5,20\n"
                  "msft,2020-01-02T14:31:00Z,1.5,2,1,1.75,30\n")

    # Act
    result = read_bars_file(path)

    # Assert
    assert [(r.symbol, r.timeframe, len(r.bars)) for r in result] == [
        ("MSFT", Timeframe.M1, 2), ("AAPL", Timeframe.M1, 1),
    ]
    assert result[0].bars["close"].tolist() == [1.5, 1.75]
    assert list(result[0].bars.index) == [_utc("2020-01-02 14:30"), _utc("2020-01-02 14:31")]


def test_read_bars_file_symbol_filter_keeps_only_that_symbol(tmp_path: Path) -> None:
    # Arrange
    path = _write(tmp_path, "long.csv", "symbol,date,open,high,low,close,volume\n"
                  "AAA,2020-01-02,1,1,1,1,1\nBBB,2020-01-02,2,2,2,2,2\nBBB,2020-01-03,3,3,3,3,3\n")

    # Act
    (result,) = read_bars_file(path, symbol="bbb")

    # Assert
    assert result.symbol == "BBB" and result.bars["close"].tolist() == [2.0, 3.0]


def test_read_bars_file_symbol_absent_from_file_raises_naming_symbols(tmp_path: Path) -> None:
    # Arrange
    path = _write(tmp_path, "long.csv", "symbol,date,open,high,low,close,volume\nAAA,2020-01-02,1,1,1,1,1\n")

    # Act / Assert
    with pytest.raises(InvalidInput, match=r"long\.csv: symbol ZZZ not found; the file holds AAA"):
        read_bars_file(path, symbol="zzz")


def test_read_bars_file_gzip_csv_with_bom_reads_like_plain(tmp_path: Path) -> None:
    # Arrange: a UTF-8 byte-order mark, as Excel writes, inside a gzip file.
    path = tmp_path / "bars.csv.gz"
    with gzip.open(path, "wt", encoding="utf-8") as handle:
        handle.write("\ufeff" + OHLCV_HEADER + "2020-01-02,1,2,0.5,1.5,10\n2020-01-03,1.5,2,1,1.75,11\n")

    # Act
    (result,) = read_bars_file(path, symbol="XYZ")

    # Assert
    assert result.timeframe is Timeframe.D1
    assert result.bars["close"].tolist() == [1.5, 1.75]


def test_read_bars_file_new_york_offsets_across_dst_convert_to_utc(tmp_path: Path) -> None:
    # Arrange: 09:30 New York is -05:00 in January and -04:00 in July: one zone, no tz= needed.
    path = _write(tmp_path, "ny.csv", OHLCV_HEADER
                  + "2020-01-02T09:30:00-05:00,1,1,1,1,1\n"
                  + "2020-01-02T09:31:00-05:00,1,1,1,1,1\n"
                  + "2020-07-02T09:30:00-04:00,1,1,1,1,1\n")

    # Act
    (result,) = read_bars_file(path, symbol="SPY")

    # Assert
    assert result.timeframe is Timeframe.M1
    assert list(result.bars.index) == [
        _utc("2020-01-02 14:30"), _utc("2020-01-02 14:31"), _utc("2020-07-02 13:30"),
    ]


def test_read_bars_file_naive_times_with_tz_localize_then_convert(tmp_path: Path) -> None:
    # Arrange
    path = _write(tmp_path, "naive.csv", OHLCV_HEADER
                  + "2020-01-02 09:30:00,1,1,1,1,1\n2020-01-02 09:35:00,1,1,1,1,1\n"
                  + "2020-07-02 09:30:00,1,1,1,1,1\n")

    # Act
    (result,) = read_bars_file(path, symbol="SPY", tz="America/New_York")

    # Assert
    assert result.timeframe is Timeframe.M5
    assert list(result.bars.index) == [
        _utc("2020-01-02 14:30"), _utc("2020-01-02 14:35"), _utc("2020-07-02 13:30"),
    ]


def test_read_bars_file_daily_datetimes_label_by_written_date(tmp_path: Path) -> None:
    # Arrange: Yahoo-style daily stamps at local midnight -05:00 (05:00 UTC).
    path = _write(tmp_path, "daily.csv", OHLCV_HEADER
                  + "2020-01-02 00:00:00-05:00,1,1,1,1,1\n2020-01-03 00:00:00-05:00,1,1,1,1,1\n")

    # Act
    (result,) = read_bars_file(path, symbol="SPY")

    # Assert: inferred daily, labelled by the session date at midnight UTC.
    assert result.timeframe is Timeframe.D1
    assert list(result.bars.index) == [_utc("2020-01-02"), _utc("2020-01-03")]


@pytest.mark.parametrize(
    ("step", "expected"),
    [("1min", Timeframe.M1), ("5min", Timeframe.M5), ("15min", Timeframe.M15), ("1h", Timeframe.H1)],
)
def test_read_bars_file_spacing_infers_timeframe(tmp_path: Path, step: str, expected: Timeframe) -> None:
    # Arrange
    stamps = pd.date_range("2020-01-02 14:30", periods=3, freq=step, tz="UTC")
    text = OHLCV_HEADER + "".join(f"{t.isoformat()},1,1,1,1,1\n" for t in stamps)
    path = _write(tmp_path, "bars.csv", text)

    # Act
    (result,) = read_bars_file(path, symbol="SPY")

    # Assert
    assert result.timeframe is expected


def test_read_bars_file_explicit_timeframe_wins_over_spacing(tmp_path: Path) -> None:
    # Arrange: 15-minute spacing, but the caller knows these are 5m bars with gaps.
    path = _write(tmp_path, "bars.csv", OHLCV_HEADER
                  + "2020-01-02T14:30:00Z,1,1,1,1,1\n2020-01-02T14:45:00Z,1,1,1,1,1\n")

    # Act
    (result,) = read_bars_file(path, symbol="SPY", timeframe="5m")

    # Assert
    assert result.timeframe is Timeframe.M5


def test_read_bars_file_keeps_file_order_and_validation_reports_not_sorted(tmp_path: Path) -> None:
    # Arrange
    path = _write(tmp_path, "AAPL.csv", YAHOO_HEADER + _yahoo_rows(["2020-01-03", "2020-01-02"]))

    # Act
    (result,) = read_bars_file(path, symbol="AAPL")
    with pytest.raises(DataQualityError) as caught:
        read_and_validate(path, symbol="AAPL")

    # Assert
    assert list(result.bars.index) == [_utc("2020-01-03"), _utc("2020-01-02")]
    assert [v.rule for v in caught.value.violations] == [QualityRule.NOT_SORTED]


def test_read_bars_file_empty_cells_read_as_nan_and_fail_validation(tmp_path: Path) -> None:
    # Arrange: Yahoo writes "null" for missing values.
    path = _write(tmp_path, "AAPL.csv", YAHOO_HEADER + _yahoo_rows(["2020-01-02"])
                  + "2020-01-03,null,null,null,,null,null\n")

    # Act
    (result,) = read_bars_file(path, symbol="AAPL")
    with pytest.raises(DataQualityError) as caught:
        read_and_validate(path, symbol="AAPL")

    # Assert
    assert result.bars.iloc[1].isna().all()
    assert {v.rule for v in caught.value.violations} == {QualityRule.NON_FINITE_VALUE}
    assert str(caught.value).startswith(f"{path}: 1 bars of AAPL failed validation: AAPL 2020-01-03")


def test_read_and_validate_good_file_returns_ok_reports(tmp_path: Path) -> None:
    # Arrange: XNYS sessions 2020-01-02, 03, 06.
    path = _write(tmp_path, "AAPL.csv", YAHOO_HEADER + _yahoo_rows(["2020-01-02", "2020-01-03", "2020-01-06"]))

    # Act
    ((bars, report),) = read_and_validate(path, symbol="AAPL")

    # Assert
    assert report.ok and report.bar_count == 3 and bars.symbol == "AAPL"


# ----------------------------------------------------------------------------- malformed files

def test_read_bars_file_missing_close_column_raises_naming_column_and_file(tmp_path: Path) -> None:
    # Arrange
    path = _write(tmp_path, "bad.csv", "Date,Open,High,Low,Volume\n2020-01-02,1,1,1,1\n")

    # Act
    with pytest.raises(InvalidInput) as caught:
        read_bars_file(path, symbol="AAPL")

    # Assert
    assert str(caught.value) == (
        f"{path}: missing required column close; found columns: Date, Open, High, Low, Volume"
    )
    assert caught.value.details["missing"] == ["close"]


def test_read_bars_file_missing_symbol_column_without_symbol_raises(tmp_path: Path) -> None:
    # Arrange
    path = _write(tmp_path, "AAPL.csv", YAHOO_HEADER + _yahoo_rows(["2020-01-02"]))

    # Act / Assert
    with pytest.raises(InvalidInput, match="missing required column symbol \\(or ticker\\); pass symbol="):
        read_bars_file(path)


def test_read_bars_file_abc_in_close_at_line_7_raises_naming_line_column_value(tmp_path: Path) -> None:
    # Arrange: header is line 1, so the sixth data row is line 7.
    rows = _yahoo_rows(["2020-01-02", "2020-01-03", "2020-01-06", "2020-01-07", "2020-01-08"])
    path = _write(tmp_path, "AAPL.csv", YAHOO_HEADER + rows + "2020-01-09,10.0,11.0,9.0,abc,10.4,1000\n")

    # Act
    with pytest.raises(InvalidInput) as caught:
        read_bars_file(path, symbol="AAPL")

    # Assert
    assert str(caught.value) == f"{path} line 7: unparseable number 'abc' in column Close"
    assert caught.value.details == {
        "path": str(path), "line": 7, "column": "Close", "value": "abc", "count": 1,
    }


def test_read_bars_file_several_bad_numbers_lists_first_lines(tmp_path: Path) -> None:
    # Arrange: a blank line (line 3) is skipped but still counted.
    path = _write(tmp_path, "bad.csv", OHLCV_HEADER + "2020-01-02,1,1,1,1,1\n\n"
                  + "2020-01-03,1,1,1,1,1_000\n2020-01-06,1,1,1,1,\"1,000\"\n2020-01-07,1,1,1,1,x\n")

    # Act / Assert
    with pytest.raises(InvalidInput) as caught:
        read_bars_file(path, symbol="AAPL")
    assert str(caught.value) == (
        f"{path} line 4: unparseable number '1_000' in column volume "
        "(also line 5 '1,000', line 6 'x')"
    )


def test_read_bars_file_unparseable_timestamp_raises_with_line(tmp_path: Path) -> None:
    # Arrange: a US-style date (ambiguous day/month) on line 3.
    path = _write(tmp_path, "AAPL.csv", YAHOO_HEADER + _yahoo_rows(["2020-01-02", "1/3/2020"]))

    # Act / Assert
    with pytest.raises(InvalidInput) as caught:
        read_bars_file(path, symbol="AAPL")
    assert str(caught.value) == (
        f"{path} line 3: unparseable timestamp '1/3/2020' in column Date; expected ISO 8601 such "
        "as 2020-01-02 or 2020-01-02T14:30:00-05:00"
    )


def test_read_bars_file_impossible_date_raises_with_line(tmp_path: Path) -> None:
    # Arrange
    path = _write(tmp_path, "AAPL.csv", YAHOO_HEADER + _yahoo_rows(["2020-02-28", "2020-02-30"]))

    # Act / Assert
    with pytest.raises(InvalidInput, match=r"line 3: unparseable timestamp '2020-02-30' in column Date; "
                                           "not a real date or time of day"):
        read_bars_file(path, symbol="AAPL")


def test_read_bars_file_utc_and_eastern_offsets_mixed_raises_naming_offsets(tmp_path: Path) -> None:
    # Arrange: +00:00 and -05:00 minutes apart cannot both be one zone's offset.
    path = _write(tmp_path, "mixed.csv", OHLCV_HEADER
                  + "2020-01-02T14:30:00+00:00,1,1,1,1,1\n"
                  + "2020-01-02T14:31:00+00:00,1,1,1,1,1\n"
                  + "2020-01-02T09:32:00-05:00,1,1,1,1,1\n")

    # Act
    with pytest.raises(InvalidInput) as caught:
        read_bars_file(path, symbol="SPY")

    # Assert
    assert str(caught.value).startswith(
        f"{path}: column ts mixes UTC offsets +00:00 (first at line 2: '2020-01-02T14:30:00+00:00'), "
        "-05:00 (first at line 4: '2020-01-02T09:32:00-05:00'), which no single time zone has at "
        "those instants"
    )
    assert caught.value.details["offsets"] == ["-05:00", "+00:00"]


def test_read_bars_file_offset_contradicting_tz_raises(tmp_path: Path) -> None:
    # Arrange: -05:00 in July is not New York (EDT is -04:00).
    path = _write(tmp_path, "ny.csv", OHLCV_HEADER
                  + "2020-01-02T09:30:00-05:00,1,1,1,1,1\n2020-07-02T09:30:00-05:00,1,1,1,1,1\n")

    # Act / Assert
    with pytest.raises(InvalidInput) as caught:
        read_bars_file(path, symbol="SPY", tz="America/New_York", timeframe="1m")
    assert str(caught.value) == (
        f"{path} line 3: timestamp with the wrong UTC offset '2020-07-02T09:30:00-05:00' in column ts; "
        "America/New_York is -04:00 at that instant, not -05:00"
    )


def test_read_bars_file_naive_timestamps_without_tz_raise(tmp_path: Path) -> None:
    # Arrange
    path = _write(tmp_path, "naive.csv", OHLCV_HEADER + "2020-01-02 09:30,1,1,1,1,1\n")

    # Act / Assert
    with pytest.raises(InvalidInput) as caught:
        read_bars_file(path, symbol="SPY")
    assert str(caught.value).startswith(
        f"{path} line 2: naive timestamp '2020-01-02 09:30' in column ts; it has no UTC offset and "
        "tz= was not given"
    )


def test_read_bars_file_naive_mixed_with_offsets_raises(tmp_path: Path) -> None:
    # Arrange
    path = _write(tmp_path, "mixed.csv", OHLCV_HEADER
                  + "2020-01-02 09:30,1,1,1,1,1\n2020-01-02T14:31:00Z,1,1,1,1,1\n")

    # Act / Assert
    with pytest.raises(InvalidInput) as caught:
        read_bars_file(path, symbol="SPY", tz="America/New_York")
    assert str(caught.value) == (
        f"{path}: column ts mixes naive timestamps ('2020-01-02 09:30' at line 2) with timestamps "
        "that carry a UTC offset ('2020-01-02T14:31:00Z' at line 3); a file is written in one time zone"
    )


def test_read_bars_file_dates_mixed_with_datetimes_raises(tmp_path: Path) -> None:
    # Arrange
    path = _write(tmp_path, "mixed.csv", OHLCV_HEADER + "2020-01-02,1,1,1,1,1\n2020-01-03T00:00Z,1,1,1,1,1\n")

    # Act / Assert
    with pytest.raises(InvalidInput, match=r"mixes date-only values \('2020-01-02' at line 2\) with "
                                           r"date-times \('2020-01-03T00:00Z' at line 3\)"):
        read_bars_file(path, symbol="SPY")


def test_read_bars_file_skipped_dst_local_time_raises(tmp_path: Path) -> None:
    # Arrange: 02:30 on 2020-03-08 does not exist in New York.
    path = _write(tmp_path, "dst.csv", OHLCV_HEADER
                  + "2020-03-06 09:30,1,1,1,1,1\n2020-03-08 02:30,1,1,1,1,1\n")

    # Act / Assert
    with pytest.raises(InvalidInput, match=r"line 3: non-existent or ambiguous local time "
                                           r"'2020-03-08 02:30' in column ts; a daylight-saving change"):
        read_bars_file(path, symbol="SPY", tz="America/New_York", timeframe="1m")


def test_read_bars_file_unknown_tz_raises(tmp_path: Path) -> None:
    # Arrange
    path = _write(tmp_path, "bars.csv", OHLCV_HEADER + "2020-01-02 09:30,1,1,1,1,1\n")

    # Act / Assert
    with pytest.raises(InvalidInput, match="tz must be an IANA time zone such as America/New_York, was 'Mars/Olympus'"):
        read_bars_file(path, symbol="SPY", tz="Mars/Olympus")


def test_read_bars_file_empty_file_raises(tmp_path: Path) -> None:
    # Arrange
    path = _write(tmp_path, "empty.csv", "")

    # Act / Assert
    with pytest.raises(InvalidInput) as caught:
        read_bars_file(path, symbol="SPY")
    assert str(caught.value) == f"{path}: file is empty"


@pytest.mark.parametrize("trailer", ["", "\n\n", " , , , , ,\n"])
def test_read_bars_file_header_only_raises(tmp_path: Path, trailer: str) -> None:
    # Arrange
    path = _write(tmp_path, "header.csv", OHLCV_HEADER + trailer)

    # Act / Assert
    with pytest.raises(InvalidInput) as caught:
        read_bars_file(path, symbol="SPY")
    assert str(caught.value) == f"{path}: file has a header but no data rows"


def test_read_bars_file_duplicate_header_ignoring_case_raises(tmp_path: Path) -> None:
    # Arrange
    path = _write(tmp_path, "dup.csv", "ts,Close,open,high,low,close,volume\n2020-01-02,1,1,1,1,1,1\n")

    # Act / Assert
    with pytest.raises(InvalidInput, match="columns 'Close' and 'close' are the same column"):
        read_bars_file(path, symbol="SPY")


def test_read_bars_file_two_timestamp_columns_raises(tmp_path: Path) -> None:
    # Arrange
    path = _write(tmp_path, "two.csv", "date,ts,open,high,low,close,volume\n2020-01-02,2020-01-02,1,1,1,1,1\n")

    # Act / Assert
    with pytest.raises(InvalidInput, match="columns 'ts', 'date' all name the ts column; keep one"):
        read_bars_file(path, symbol="SPY")


def test_read_bars_file_weekly_spacing_raises_asking_for_timeframe(tmp_path: Path) -> None:
    # Arrange
    path = _write(tmp_path, "weekly.csv", OHLCV_HEADER + "2020-01-03T21:00Z,1,1,1,1,1\n2020-01-10T21:00Z,1,1,1,1,1\n")

    # Act / Assert
    with pytest.raises(InvalidInput, match=r"smallest spacing between two bars of one symbol is 7 days "
                                           r"00:00:00, which is not 1m, 5m, 15m, 1h or a day; pass timeframe="):
        read_bars_file(path, symbol="SPY")


def test_read_bars_file_single_intraday_bar_raises_asking_for_timeframe(tmp_path: Path) -> None:
    # Arrange
    path = _write(tmp_path, "one.csv", OHLCV_HEADER + "2020-01-02T14:30Z,1,1,1,1,1\n")

    # Act / Assert
    with pytest.raises(InvalidInput, match="cannot infer the timeframe from one timestamp per symbol"):
        read_bars_file(path, symbol="SPY")


def test_read_bars_file_dates_with_intraday_timeframe_raises(tmp_path: Path) -> None:
    # Arrange
    path = _write(tmp_path, "daily.csv", OHLCV_HEADER + "2020-01-02,1,1,1,1,1\n")

    # Act / Assert
    with pytest.raises(InvalidInput, match="the timestamps are dates, which means daily bars, but timeframe=5m"):
        read_bars_file(path, symbol="SPY", timeframe="5m")


def test_read_bars_file_invalid_symbol_value_raises_with_line(tmp_path: Path) -> None:
    # Arrange
    path = _write(tmp_path, "long.csv", "symbol,date,open,high,low,close,volume\n"
                  "AAPL,2020-01-02,1,1,1,1,1\nAA PL,2020-01-02,1,1,1,1,1\n")

    # Act / Assert
    with pytest.raises(InvalidInput, match=r"line 3: invalid symbol 'AA PL' in column symbol"):
        read_bars_file(path)


def test_read_bars_file_unsupported_extension_and_missing_file_raise(tmp_path: Path) -> None:
    # Act / Assert
    with pytest.raises(InvalidInput, match=r"bars\.xlsx: file name must end in \.csv, \.csv\.gz or \.parquet"):
        read_bars_file(tmp_path / "bars.xlsx")
    with pytest.raises(InvalidInput, match=r"nowhere\.csv: no such file"):
        read_bars_file(tmp_path / "nowhere.csv")


def test_read_bars_file_ragged_row_raises_malformed_csv(tmp_path: Path) -> None:
    # Arrange: line 3 has one field too many.
    path = _write(tmp_path, "ragged.csv", OHLCV_HEADER + "2020-01-02,1,1,1,1,1\n2020-01-03,1,1,1,1,1,9\n")

    # Act / Assert
    with pytest.raises(InvalidInput) as caught:
        read_bars_file(path, symbol="SPY")
    assert str(caught.value) == (
        f"{path}: malformed CSV (line 3: Expected 6 columns, got 7: 2020-01-03,1,1,1,1,1,9)"
    )


def test_read_bars_file_symbol_spellings_merge_into_one_symbol(tmp_path: Path) -> None:
    # Arrange: "aapl" and " AAPL" are the same ticker once normalized.
    path = _write(tmp_path, "long.csv", "symbol,date,open,high,low,close,volume\n"
                  "aapl,2020-01-02,1,1,1,1,1\n AAPL,2020-01-03,2,2,2,2,2\n")

    # Act
    result = read_bars_file(path)

    # Assert
    assert [(r.symbol, r.bars["close"].tolist()) for r in result] == [("AAPL", [1.0, 2.0])]


def test_read_bars_file_quoted_line_break_counts_records_not_lines(tmp_path: Path) -> None:
    # Arrange: a quoted note spanning two lines makes line numbers unreliable.
    path = _write(tmp_path, "notes.csv", "date,note,open,high,low,close,volume\n"
                  '2020-01-02,"two\nlines",1,1,1,1,1\n2020-01-03,plain,1,1,1,oops,1\n')

    # Act / Assert
    with pytest.raises(InvalidInput, match=r"notes\.csv record 2: unparseable number 'oops' in column close"):
        read_bars_file(path, symbol="SPY")


# ----------------------------------------------------------------------------- Parquet

def test_read_bars_file_parquet_new_york_timestamps_convert_to_utc(tmp_path: Path) -> None:
    # Arrange: a zone-aware Parquet column in New York time.
    stamps = pd.DatetimeIndex(["2020-01-02 09:30", "2020-01-02 09:31"]).tz_localize("America/New_York")
    frame = pd.DataFrame({"Datetime": stamps, "Open": [1.0, 2.0], "High": [1.5, 2.5], "Low": [0.5, 1.5],
                          "Close": [1.25, 2.25], "Volume": [100, 200]})
    path = tmp_path / "ny.parquet"
    frame.to_parquet(path, index=False)

    # Act
    (result,) = read_bars_file(path, symbol="SPY")

    # Assert
    assert result.timeframe is Timeframe.M1
    assert list(result.bars.index) == [_utc("2020-01-02 14:30"), _utc("2020-01-02 14:31")]
    assert result.bars["volume"].dtype == np.float64 and result.bars["volume"].tolist() == [100.0, 200.0]


def test_read_bars_file_parquet_naive_timestamps_need_tz(tmp_path: Path) -> None:
    # Arrange
    frame = pd.DataFrame({"ts": pd.DatetimeIndex(["2020-07-02 09:30", "2020-07-02 09:45"]),
                          "open": [1.0, 1.0], "high": [1.0, 1.0], "low": [1.0, 1.0], "close": [1.0, 1.0],
                          "volume": [1.0, 1.0]})
    path = tmp_path / "naive.parquet"
    frame.to_parquet(path, index=False)

    # Act
    with pytest.raises(InvalidInput) as caught:
        read_bars_file(path, symbol="SPY")
    (result,) = read_bars_file(path, symbol="SPY", tz="America/New_York")

    # Assert
    assert str(caught.value).startswith(f"{path} row 1: naive timestamp '2020-07-02 09:30:00' in column ts")
    assert result.timeframe is Timeframe.M15
    assert list(result.bars.index) == [_utc("2020-07-02 13:30"), _utc("2020-07-02 13:45")]


def test_read_bars_file_parquet_text_number_error_names_row(tmp_path: Path) -> None:
    # Arrange
    frame = pd.DataFrame({"ts": ["2020-01-02", "2020-01-03"], "open": ["1", "2"], "high": ["1", "2"],
                          "low": ["1", "2"], "close": ["1", "abc"], "volume": ["1", "2"]})
    path = tmp_path / "text.parquet"
    frame.to_parquet(path, index=False)

    # Act / Assert
    with pytest.raises(InvalidInput, match=r"text\.parquet row 2: unparseable number 'abc' in column close"):
        read_bars_file(path, symbol="SPY")


def test_read_bars_file_parquet_without_rows_raises(tmp_path: Path) -> None:
    # Arrange
    frame = pd.DataFrame({c: pd.Series([], dtype="float64") for c in ("ts", "open", "high", "low", "close", "volume")})
    path = tmp_path / "empty.parquet"
    frame.to_parquet(path, index=False)

    # Act / Assert
    with pytest.raises(InvalidInput, match="file has a header but no data rows"):
        read_bars_file(path, symbol="SPY")


def test_read_bars_file_corrupt_parquet_raises(tmp_path: Path) -> None:
    # Arrange
    path = tmp_path / "corrupt.parquet"
    path.write_bytes(b"this is not parquet")

    # Act / Assert
    with pytest.raises(InvalidInput, match=r"corrupt\.parquet: not a readable Parquet file"):
        read_bars_file(path, symbol="SPY")


# ----------------------------------------------------------------------------- round trips

def _intraday_frame() -> pd.DataFrame:
    rng = np.random.default_rng(7)
    ts = pd.date_range("2020-01-02 14:30", periods=50, freq="1min", tz="UTC")
    close = 100.0 * np.exp(np.cumsum(rng.normal(0.0, 1e-3, ts.size)))  # full-precision floats
    return make_bars(ts, close * 1.0001, close * 1.001, close * 0.999, close,
                     rng.integers(1, 10_000, ts.size))


def _daily_frame() -> pd.DataFrame:
    ts = pd.DatetimeIndex(["2020-01-02", "2020-01-03", "2020-01-06"]).tz_localize("UTC")
    return make_bars(ts, [1 / 3, 2 / 3, 0.1 + 0.2], [1.0, 1.0, 1.0], [0.1, 0.2, 0.3],
                     [0.3, 0.6, 0.9], [1e9, 2e9, 3e9])


@pytest.mark.parametrize("suffix", [".csv", ".csv.gz", ".parquet"])
@pytest.mark.parametrize("timeframe", [Timeframe.M1, Timeframe.D1])
def test_write_then_read_bars_file_round_trip_is_exact(tmp_path: Path, suffix: str, timeframe: Timeframe) -> None:
    # Arrange
    frame = _intraday_frame() if timeframe is Timeframe.M1 else _daily_frame()
    originals = [FileBars(symbol="AAA", timeframe=timeframe, bars=frame),
                 FileBars(symbol="BRK-B", timeframe=timeframe, bars=frame * 3.0)]
    path = tmp_path / f"bars{suffix}"

    # Act
    written = write_bars_file(path, originals)
    result = read_bars_file(written)

    # Assert
    assert [(r.symbol, r.timeframe) for r in result] == [("AAA", timeframe), ("BRK-B", timeframe)]
    pd.testing.assert_frame_equal(result[0].bars, frame, check_exact=True, check_freq=False)
    pd.testing.assert_frame_equal(result[1].bars, frame * 3.0, check_exact=True, check_freq=False)


def test_write_bars_file_csv_uses_documented_text_forms(tmp_path: Path) -> None:
    # Arrange
    intraday = FileBars(symbol="AAA", timeframe="1m", bars=_intraday_frame().iloc[:1])
    daily = FileBars(symbol="AAA", timeframe="1d", bars=_daily_frame().iloc[:1])

    # Act
    intraday_text = write_bars_file(tmp_path / "i.csv", intraday).read_text().splitlines()
    daily_text = write_bars_file(tmp_path / "d.csv", daily).read_text().splitlines()

    # Assert
    assert intraday_text[0] == "symbol,ts,open,high,low,close,volume"
    assert intraday_text[1].startswith("AAA,2020-01-02T14:30:00+00:00,")
    assert daily_text[1] == "AAA,2020-01-02,0.3333333333333333,1,0.1,0.3,1000000000"


def test_write_bars_file_mixed_timeframes_raises(tmp_path: Path) -> None:
    # Arrange
    frames = [FileBars(symbol="AAA", timeframe="1m", bars=_intraday_frame()),
              FileBars(symbol="BBB", timeframe="1d", bars=_daily_frame())]

    # Act / Assert
    with pytest.raises(InvalidInput, match="one file holds one timeframe; the frames mix 1d, 1m"):
        write_bars_file(tmp_path / "mixed.csv", frames)
    assert not (tmp_path / "mixed.csv").exists()


def test_write_bars_file_daily_label_not_midnight_raises(tmp_path: Path) -> None:
    # Arrange: a daily bar labelled at the 21:00 UTC close would be written as the wrong date.
    frame = _daily_frame()
    frame.index = frame.index + pd.Timedelta(hours=21)

    # Act / Assert
    with pytest.raises(InvalidInput, match="daily bars must be labelled at 00:00 UTC"):
        write_bars_file(tmp_path / "daily.csv", FileBars(symbol="AAA", timeframe="1d", bars=frame))
    assert not (tmp_path / "daily.csv").exists()


def test_write_bars_file_nothing_to_write_raises(tmp_path: Path) -> None:
    # Act / Assert
    with pytest.raises(InvalidInput, match="nothing to write"):
        write_bars_file(tmp_path / "none.csv", [])


# ----------------------------------------------------------------------------- real data

def test_read_bars_file_real_sector_file_reads_66_symbols(tmp_path: Path, shared_data: Path) -> None:
    # Arrange
    path = shared_data / "equities" / "sp500_sector_ohlcv_2015_2020.csv"

    # Act
    result = {item.symbol: item for item in read_bars_file(path)}

    # Assert: first row of the file is AAPL 2015-01-12 close 109.2500 (SOURCES.md layout).
    assert len(result) == 66
    aapl = result["AAPL"]
    assert aapl.timeframe is Timeframe.D1 and len(aapl.bars) == 1258
    assert aapl.bars.index[0] == _utc("2015-01-12")
    assert aapl.bars.iloc[0].tolist() == [112.6, 112.63, 108.8, 109.25, 49650800.0]
    assert len(result["DUK"].bars) == 1254 and len(result["SO"].bars) == 1255


def test_read_and_validate_real_sector_file_rejects_naming_duk_and_so(shared_data: Path) -> None:
    # Arrange
    path = shared_data / "equities" / "sp500_sector_ohlcv_2015_2020.csv"

    # Act
    with pytest.raises(DataQualityError) as caught:
        read_and_validate(path)

    # Assert: 4 DUK and 3 SO missing sessions, all in 2019-11.
    violations = caught.value.violations
    assert caught.value.details["symbols"] == ["DUK", "SO"]
    assert [(v.symbol, v.ts) for v in violations] == [
        ("DUK", datetime(2019, 11, d, tzinfo=UTC)) for d in (19, 20, 21, 22)
    ] + [("SO", datetime(2019, 11, d, tzinfo=UTC)) for d in (19, 21, 22)]
    assert str(caught.value).startswith(f"{path}: 2 of 66 symbols failed validation (DUK, SO); first: 4 bars of DUK")


def test_read_and_validate_real_aapl_only_passes(shared_data: Path) -> None:
    # Arrange
    path = shared_data / "equities" / "sp500_sector_ohlcv_2015_2020.csv"

    # Act
    ((bars, report),) = read_and_validate(path, symbol="AAPL")

    # Assert
    assert report.ok and report.bar_count == 1258
    assert bars.bars.index[-1].date() == date(2020, 1, 9)
