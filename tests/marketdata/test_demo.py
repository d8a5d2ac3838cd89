"""Tests of the bundled demo history (arch's S&P 500 and NASDAQ Composite files).

Reference values are read independently: the raw ``sp500.csv.gz`` / ``nasdaq.csv.gz``
files parsed here with plain pandas, and arch's own loader ``arch.data.<name>.load()``.
Comparisons are exact (the same decimal text parsed to float64).
"""

from __future__ import annotations

import importlib.metadata
from datetime import date
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from bifrost.marketdata import (
    AssetClass,
    DemoSeries,
    Timeframe,
    load_demo_history,
    make_bars,
    validate_bars,
)
from bifrost.marketdata.demo import _align_to_sessions


@pytest.fixture(scope="module")
def demo() -> dict[str, DemoSeries]:
    return {series.symbol: series for series in load_demo_history()}


def _raw_arch_file(name: str) -> pd.DataFrame:
    # Independent read of the file arch ships: M/D/YYYY dates, Yahoo column names.
    files = importlib.metadata.files("arch") or []
    (path,) = [f for f in files if str(f).endswith(f"arch/data/{name}/{name}.csv.gz")]
    frame = pd.read_csv(Path(path.locate()), float_precision="round_trip")
    frame.index = pd.to_datetime(frame.pop("Date"), format="%m/%d/%Y")
    return frame


def test_load_demo_history_returns_gspc_then_ixic_with_instruments(demo: dict[str, DemoSeries]) -> None:
    # Act
    series = load_demo_history()

    # Assert
    assert [s.symbol for s in series] == ["^GSPC", "^IXIC"]
    gspc, ixic = demo["^GSPC"].instrument, demo["^IXIC"].instrument
    assert (gspc.name, gspc.exchange, gspc.asset_class, gspc.currency, gspc.calendar) == (
        "S&P 500 Index", "SNP", AssetClass.INDEX, "USD", "XNYS")
    assert (ixic.name, ixic.exchange, ixic.asset_class, ixic.currency, ixic.calendar) == (
        "NASDAQ Composite Index", "NIM", AssetClass.INDEX, "USD", "XNYS")
    assert all(s.timeframe is Timeframe.D1 for s in series)


def test_load_demo_history_gspc_close_on_2008_10_15_matches_raw_file(demo: dict[str, DemoSeries]) -> None:
    # Arrange
    raw = _raw_arch_file("sp500")
    expected = raw.loc["2008-10-15"]

    # Act
    bar = demo["^GSPC"].bars.loc[pd.Timestamp("2008-10-15", tz="UTC")]

    # Assert: the raw line is "10/15/2008,994.599976,994.599976,903.98999,907.840027,907.840027,6542330000".
    assert bar["close"] == expected["Close"] == 907.840027
    assert bar["volume"] == 6_542_330_000.0
    assert [bar["open"], bar["high"], bar["low"], bar["volume"]] == [
        expected["Open"], expected["High"], expected["Low"], float(expected["Volume"])
    ]


@pytest.mark.parametrize(("symbol", "name"), [("^GSPC", "sp500"), ("^IXIC", "nasdaq")])
def test_load_demo_history_every_bar_equals_arch_loader(
    demo: dict[str, DemoSeries], symbol: str, name: str
) -> None:
    # Arrange
    module = importlib.import_module(f"arch.data.{name}")
    reference = module.load()

    # Act
    bars = demo[symbol].bars

    # Assert
    assert len(bars) == len(reference) == 5031
    assert list(bars.index.date) == list(reference.index.date)
    for ours, theirs in (("open", "Open"), ("high", "High"), ("low", "Low"), ("close", "Close")):
        np.testing.assert_array_equal(bars[ours].to_numpy(), reference[theirs].to_numpy(dtype=float))
    np.testing.assert_array_equal(bars["volume"].to_numpy(), reference["Volume"].to_numpy(dtype=float))


@pytest.mark.parametrize("symbol", ["^GSPC", "^IXIC"])
def test_load_demo_history_bars_pass_daily_xnys_validation(demo: dict[str, DemoSeries], symbol: str) -> None:
    # Arrange
    series = demo[symbol]

    # Act
    report = validate_bars(series.symbol, series.bars, timeframe=series.timeframe, calendar="XNYS")

    # Assert
    assert report.ok and report.warnings == ()
    assert report.bar_count == 5031
    assert (report.first_ts.date(), report.last_ts.date()) == (date(1999, 1, 4), date(2018, 12, 31))
    assert series.bars.index.tz is not None and str(series.bars.index.tz) == "UTC"
    assert (series.bars.index == series.bars.index.normalize()).all()


@pytest.mark.parametrize("symbol", ["^GSPC", "^IXIC"])
def test_load_demo_history_drops_nothing_and_says_so(demo: dict[str, DemoSeries], symbol: str) -> None:
    # Act
    series = demo[symbol]

    # Assert: every source row is an XNYS session and every session has a row.
    assert series.dropped == () and series.missing_sessions == ()
    assert "5031 source rows, 5031 bars 1999-01-04..2018-12-31 on XNYS" in series.notes
    assert "every source row is an XNYS session with finite values; none dropped" in series.notes
    assert "Adj Close is not used: it equals Close on every row" in series.notes
    assert any("NCSA" in note for note in series.notes)


def test_arch_licence_is_ncsa_as_documented() -> None:
    # Act
    metadata = importlib.metadata.metadata("arch")

    # Assert: the demo module's docstring relies on this licence.
    assert metadata["License-Expression"] == "NCSA"


def test_align_to_sessions_weekend_and_nan_rows_are_dropped_and_gap_listed() -> None:
    # Arrange: 2020-01-04 is a Saturday; 2020-01-06 has a NaN close; 2020-01-07 is absent.
    days = ["2020-01-02", "2020-01-03", "2020-01-04", "2020-01-06", "2020-01-08"]
    close = np.array([10.0, 11.0, 12.0, np.nan, 13.0])
    raw = make_bars(pd.DatetimeIndex(days).tz_localize("UTC"), close, close, close, close, np.ones(5))
    raw["adj_close"] = close

    # Act
    bars, dropped, missing, reasons = _align_to_sessions(raw, "XNYS")

    # Assert
    assert list(bars.index.date) == [date(2020, 1, 2), date(2020, 1, 3), date(2020, 1, 8)]
    assert dropped == [date(2020, 1, 4), date(2020, 1, 6)]
    assert reasons == ["2020-01-04 is not an XNYS session", "2020-01-06 has a non-finite value"]
    assert missing == [date(2020, 1, 6), date(2020, 1, 7)]
