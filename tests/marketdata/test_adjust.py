"""Tests of split and dividend back-adjustment.

References
----------
* Yahoo Finance Help, "What is the adjusted close?" (SLN28256): the published MSFT
  February 2003 example (2:1 split ex 2003-02-18, $0.08 dividend ex 2003-02-19),
  adjusted closes given to the cent.
* Quandl WIKI prices for AAPL 2000-03-01..2013-03-01 (shared data file
  ``equities/quandl_wiki_5stocks_2000_2013.csv``, public domain): unadjusted OHLCV and
  "Adj Close". Known AAPL events in that span: 2:1 splits ex 2000-06-21 and
  ex 2005-02-28; $2.65 quarterly dividends ex 2012-08-09, 2012-11-07 and 2013-02-07.
  The file's Adj Close is also scaled by events after 2013 (the 2014 7:1 split and
  later dividends), so only *ratios* of Adj Close are comparable; we compare
  ``our_adjusted_close / quandl_adj_close``, which must be constant.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from bifrost.core.errors import DataQualityError, InvalidInput
from bifrost.marketdata import ActionKind, CorporateAction, adjust_bars, make_bars

AAPL_SPLITS = (date(2000, 6, 21), date(2005, 2, 28))
AAPL_DIVIDEND_EX_DATES = (date(2012, 8, 9), date(2012, 11, 7), date(2013, 2, 7))
AAPL_DIVIDEND = Decimal("2.65")


def _split(ex_date: date, ratio: str, symbol: str = "AAPL") -> CorporateAction:
    return CorporateAction(symbol=symbol, ex_date=ex_date, kind=ActionKind.SPLIT, value=Decimal(ratio))


def _dividend(ex_date: date, amount: str | Decimal, symbol: str = "AAPL") -> CorporateAction:
    return CorporateAction(symbol=symbol, ex_date=ex_date, kind=ActionKind.DIVIDEND, value=Decimal(amount))


def _daily_bars(days: list[str], closes: list[float], volumes: list[float] | None = None) -> pd.DataFrame:
    ts = pd.DatetimeIndex(days).tz_localize("UTC")
    close = np.asarray(closes, dtype="float64")
    volume = np.asarray(volumes if volumes is not None else [1000.0] * len(days))
    return make_bars(ts, close, close * 1.01, close * 0.99, close, volume)


@pytest.fixture(scope="module")
def aapl(shared_data_dir: Path) -> tuple[pd.DataFrame, np.ndarray]:
    """AAPL unadjusted daily bars and Quandl's Adj Close, in date order."""
    raw = pd.read_csv(shared_data_dir / "equities" / "quandl_wiki_5stocks_2000_2013.csv", parse_dates=["Date"])
    rows = raw[raw["Ticker"] == "AAPL"].sort_values("Date")
    bars = make_bars(
        rows["Date"].dt.tz_localize("UTC"), rows["Open"], rows["High"], rows["Low"], rows["Close"], rows["Volume"]
    )
    return bars, rows["Adj Close"].to_numpy(dtype="float64")


def _ratio_spread(adjusted_close: np.ndarray, reference: np.ndarray) -> float:
    # Largest relative departure of ours / reference from its value on the last day.
    ratio = adjusted_close / reference
    return float(np.max(np.abs(ratio / ratio[-1] - 1.0)))


def test_adjust_bars_yahoo_published_example_matches_to_the_cent() -> None:
    bars = _daily_bars(["2003-02-13", "2003-02-14", "2003-02-18", "2003-02-19"], [46.99, 48.30, 24.96, 24.53])
    actions = [_split(date(2003, 2, 18), "2", "MSFT"), _dividend(date(2003, 2, 19), "0.08", "MSFT")]

    adjusted = adjust_bars(bars, actions, splits=True, dividends=True)

    assert adjusted["close"].round(2).tolist() == [23.42, 24.07, 24.88, 24.53]


def test_adjust_bars_aapl_splits_match_quandl_ratios_to_1e9(aapl: tuple[pd.DataFrame, np.ndarray]) -> None:
    bars, quandl_adjusted = aapl
    before_dividends = bars.index < pd.Timestamp("2012-08-09", tz="UTC")
    actions = [_split(d, "2") for d in AAPL_SPLITS]

    adjusted = adjust_bars(bars[before_dividends], actions, splits=True, dividends=False)

    # Quandl keeps ~13 significant digits; the observed spread is ~5e-14.
    assert _ratio_spread(adjusted["close"].to_numpy(), quandl_adjusted[before_dividends]) < 1e-9
    # Sanity: the raw series is not continuous, so the check has teeth.
    assert _ratio_spread(bars["close"].to_numpy()[before_dividends], quandl_adjusted[before_dividends]) > 0.7


def test_adjust_bars_aapl_declared_dividends_match_quandl_within_2_5e4(
    aapl: tuple[pd.DataFrame, np.ndarray],
) -> None:
    bars, quandl_adjusted = aapl
    actions = [_split(d, "2") for d in AAPL_SPLITS] + [_dividend(d, AAPL_DIVIDEND) for d in AAPL_DIVIDEND_EX_DATES]

    adjusted = adjust_bars(bars, actions, splits=True, dividends=True)

    # Quandl's own dividend factors are not exactly 1 - 2.65 / close: they imply
    # dividends of 2.635, 2.755 and 2.574 against the file's closes, i.e. factor
    # errors of 2.4e-5, 1.8e-4 and 1.7e-4 (community-maintained data). The observed
    # spread is 1.7e-4, so 2.5e-4 is the tolerance this reference allows.
    spread = _ratio_spread(adjusted["close"].to_numpy(), quandl_adjusted)
    assert spread < 2.5e-4
    # Without the dividends the three 0.43-0.57% steps remain.
    splits_only = adjust_bars(bars, actions, splits=True, dividends=False)
    assert _ratio_spread(splits_only["close"].to_numpy(), quandl_adjusted) > 0.014


def test_adjust_bars_aapl_dividends_implied_by_quandl_reproduce_adj_close_to_1e9(
    aapl: tuple[pd.DataFrame, np.ndarray],
) -> None:
    bars, quandl_adjusted = aapl
    close = bars["close"].to_numpy()
    # Quandl's factor step at the session before each ex-date gives the dividend its
    # CRSP formula used: D = (1 - factor_step) * close_before_ex_date.
    factor = quandl_adjusted / close
    actions = [_split(d, "2") for d in AAPL_SPLITS]
    for ex_date in AAPL_DIVIDEND_EX_DATES:
        after = int(np.searchsorted(bars.index.date, ex_date))
        step = factor[after - 1] / factor[after]
        implied = (1.0 - step) * close[after - 1]
        actions.append(_dividend(ex_date, Decimal(str(float(implied)))))

    adjusted = adjust_bars(bars, actions, splits=True, dividends=True)

    assert _ratio_spread(adjusted["close"].to_numpy(), quandl_adjusted) < 1e-9


def test_adjust_bars_aapl_split_adjusts_all_prices_and_volume(aapl: tuple[pd.DataFrame, np.ndarray]) -> None:
    bars, _ = aapl
    actions = [_split(d, "2") for d in AAPL_SPLITS]

    adjusted = adjust_bars(bars, actions)

    day_2000 = pd.Timestamp("2000-06-20", tz="UTC")
    day_2005 = pd.Timestamp("2005-02-25", tz="UTC")
    after = pd.Timestamp("2005-02-28", tz="UTC")
    for column in ("open", "high", "low", "close"):
        assert adjusted.loc[day_2000, column] == bars.loc[day_2000, column] / 4
        assert adjusted.loc[day_2005, column] == bars.loc[day_2005, column] / 2
        assert adjusted.loc[after, column] == bars.loc[after, column]
    assert adjusted.loc[day_2000, "volume"] == bars.loc[day_2000, "volume"] * 4  # 4,476,700 raw
    assert adjusted.loc[day_2005, "close"] == pytest.approx(44.495)  # 88.99 / 2, next day 44.86


def test_adjust_bars_dividend_leaves_volume_and_later_bars_unchanged() -> None:
    bars = _daily_bars(["2024-01-02", "2024-01-03", "2024-01-04"], [50.0, 40.0, 41.0], [100.0, 200.0, 300.0])

    adjusted = adjust_bars(bars, [_dividend(date(2024, 1, 4), "2", "XYZ")], splits=False, dividends=True)

    # factor 1 - 2 / 40 = 0.95 on both earlier bars, measured on the close before ex-date
    assert adjusted["close"].tolist() == [47.5, 38.0, 41.0]
    assert adjusted["volume"].tolist() == [100.0, 200.0, 300.0]


def test_adjust_bars_ex_date_on_weekend_applies_to_bars_before_it() -> None:
    bars = _daily_bars(["2024-01-05", "2024-01-08"], [100.0, 50.0])  # Friday, Monday

    adjusted = adjust_bars(bars, [_split(date(2024, 1, 6), "2", "XYZ")])

    assert adjusted["close"].tolist() == [50.0, 50.0]


def test_adjust_bars_flags_select_action_kinds() -> None:
    bars = _daily_bars(["2024-01-02", "2024-01-03", "2024-01-04"], [100.0, 50.0, 40.0])
    actions = [_split(date(2024, 1, 3), "2", "XYZ"), _dividend(date(2024, 1, 4), "5", "XYZ")]

    splits_only = adjust_bars(bars, actions, splits=True, dividends=False)
    dividends_only = adjust_bars(bars, actions, splits=False, dividends=True)
    neither = adjust_bars(bars, actions, splits=False, dividends=False)

    assert splits_only["close"].tolist() == [50.0, 50.0, 40.0]
    assert dividends_only["close"].tolist() == [90.0, 45.0, 40.0]  # 1 - 5 / 50 = 0.9
    assert neither["close"].tolist() == [100.0, 50.0, 40.0]


def test_adjust_bars_action_on_or_before_first_bar_changes_nothing() -> None:
    bars = _daily_bars(["2024-01-02", "2024-01-03"], [100.0, 101.0])

    adjusted = adjust_bars(bars, [_split(date(2024, 1, 2), "3", "XYZ"), _dividend(date(2023, 6, 1), "1", "XYZ")],
                           dividends=True)

    pd.testing.assert_frame_equal(adjusted, bars)


def test_adjust_bars_intraday_bars_use_new_york_session_date() -> None:
    # 19:59 New York on 2024-01-02 is 00:59 UTC on 2024-01-03: still the 01-02 session.
    ts = pd.DatetimeIndex(
        ["2024-01-02 14:30", "2024-01-03 00:59", "2024-01-03 14:30", "2024-01-03 20:59"]
    ).tz_localize("UTC")
    bars = make_bars(ts, [10.0] * 4, [11.0] * 4, [9.0] * 4, [10.0] * 4, [100.0] * 4)

    adjusted = adjust_bars(bars, [_split(date(2024, 1, 3), "5", "XYZ")])

    assert adjusted["close"].tolist() == [2.0, 2.0, 10.0, 10.0]
    assert adjusted["volume"].tolist() == [500.0, 500.0, 100.0, 100.0]


def test_adjust_bars_actions_of_two_symbols_raise() -> None:
    bars = _daily_bars(["2024-01-02", "2024-01-03"], [100.0, 50.0])

    with pytest.raises(InvalidInput, match=r"one symbol, got \['AAA', 'BBB'\]"):
        adjust_bars(bars, [_split(date(2024, 1, 3), "2", "AAA"), _split(date(2024, 1, 3), "2", "BBB")])


def test_adjust_bars_dividend_not_below_close_raises() -> None:
    bars = _daily_bars(["2024-01-02", "2024-01-03"], [10.0, 9.0])

    with pytest.raises(InvalidInput, match="dividend must be smaller than the close before its ex-date"):
        adjust_bars(bars, [_dividend(date(2024, 1, 3), "10", "XYZ")], dividends=True)


def test_adjust_bars_input_frame_is_not_modified() -> None:
    bars = _daily_bars(["2024-01-02", "2024-01-03"], [100.0, 50.0])
    snapshot = bars.copy()

    adjust_bars(bars, [_split(date(2024, 1, 3), "2", "XYZ")])

    pd.testing.assert_frame_equal(bars, snapshot)


def test_adjust_bars_nan_close_before_dividend_raises_data_quality_error() -> None:
    bars = _daily_bars(["2024-01-02", "2024-01-03"], [float("nan"), 9.0])

    with pytest.raises(DataQualityError, match="close before ex-date 2024-01-03 must be positive"):
        adjust_bars(bars, [_dividend(date(2024, 1, 3), "1", "XYZ")], dividends=True)
