"""YahooProvider.history against recorded /v8/finance/chart responses.

Expected values are read from the recorded JSON in each test with the standard
library (zoneinfo for session dates), independently of the provider's pandas path.
Prices are compared exactly: both sides are the same binary floats from the JSON
(times the split factor, a power of two for 4:1 splits, where one applies).
Source of every file: /work/shared/data/recorded/SOURCES.md.

"Now" (the provider's injected clock, ``clock.at``): Yahoo's prices are split-adjusted
as of the request, and the provider undoes that with every split from the start of
the range to "now", asking for a split history when the range ends before "now".
Unless a test says otherwise, "now" is the end of the requested range: the recording
is taken as answered right when the range ended, so its own events.splits are all
the splits there are and no second request is made. Tests about the split history
set "now" later and answer that request from a recording.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

import numpy as np
import pandas as pd
import pytest

from bifrost.adapters.yahoo import YahooProvider
from bifrost.adapters.yahoo.provider import (
    _actions_from_events,
    _as_traded_history,
    _merge_splits,
    _parse_chart,
    _Request,
    _SplitFactors,
)
from bifrost.core.errors import ProviderError
from bifrost.marketdata import (
    BAR_COLUMNS,
    ActionKind,
    AssetClass,
    History,
    MarketDataProvider,
    Timeframe,
)

from .replay import FakeNow, YahooReplayAdapter

Recorded = Callable[[str], Any]

CHART_AAPL = "/v8/finance/chart/AAPL"
# The Date header of the Feb-2025 AAPL chart recordings (MANIFEST.json "recorded"): the
# "now" as of which Yahoo split-adjusted them.
AAPL_RECORDED_AT = datetime(2025, 2, 20, 11, 47, 40, tzinfo=UTC)

AAPL_DAILY = "yahoo/chart/AAPL_1d_2020-01-01_2020-01-03.json"
AAPL_SPLIT = "yahoo/chart/AAPL_1d_2020-08-31_2020-11-07_split_dividend.json"
AAPL_MINUTE = "yahoo/chart/AAPL_1m_2024-10-02_regular_session.json"
MSFT_DIVIDENDS = "yahoo/chart/MSFT_1d_2021-02-01_2022-01-31_dividends.json"
NVDA_SPLIT = "yahoo/chart/NVDA_1d_2021-02-01_2022-01-31_split.json"
TSLA_FULL = "yahoo/chart/TSLA_1d_period1-0_2023-08-12_full_history.json"
TSLA_PREPOST = "yahoo/chart/TSLA_30m_2021-11-22_prepost.json"
VFINX = "yahoo/chart/VFINX_3mo_range-max_dividends_capitalGains.json"


def _utc(year: int, month: int, day: int) -> datetime:
    return datetime(year, month, day, tzinfo=UTC)


def _result(recorded: Recorded, file: str) -> dict[str, Any]:
    return recorded(file)["chart"]["result"][0]


def _local_date(epoch_seconds: int, tz_name: str) -> date:
    return datetime.fromtimestamp(epoch_seconds, ZoneInfo(tz_name)).date()


def _serve_aapl_split_history(replay: YahooReplayAdapter) -> None:
    # Reuse: no recording of the provider's split-history request (interval=3mo,
    # events=splits) exists. The AAPL 2020-08-31..2020-11-07 daily recording answers
    # it: its events.splits holds the 4:1 split of 2020-08-31, AAPL's only split from
    # 2020 to when the recordings were made (Feb 2025); the provider reads nothing
    # else from this answer. The main request is matched as usual.
    replay.serve(CHART_AAPL, AAPL_SPLIT, when={"interval": "3mo"})


def _assert_bar_frame(history: History) -> None:
    bars = history.bars
    assert tuple(bars.columns) == BAR_COLUMNS
    assert all(bars[c].dtype == np.float64 for c in BAR_COLUMNS)
    assert bars.index.name == "ts"
    assert str(bars.index.tz) == "UTC"
    assert bars.index.is_monotonic_increasing and bars.index.is_unique
    assert not bars[list(BAR_COLUMNS)].isna().any().any()


def test_provider_protocol_yahoo_provider_is_market_data_provider(provider: YahooProvider) -> None:
    assert isinstance(provider, MarketDataProvider)
    assert provider.name == "yahoo"


def test_history_aapl_daily_2020_01_02_is_as_traded_before_the_4_for_1_split(
    provider: YahooProvider, replay: YahooReplayAdapter, clock: FakeNow, recorded: Recorded
) -> None:
    # This test used to expect the recorded bar unchanged (close 75.0875...). That bar
    # is split-adjusted: Yahoo divided the prices, and multiplied the volume, by the
    # 4:1 split of 2020-08-31. The provider now returns the bar as traded.
    result = _result(recorded, AAPL_DAILY)
    quote = result["indicators"]["quote"][0]
    tz_name = result["meta"]["exchangeTimezoneName"]
    clock.at = AAPL_RECORDED_AT
    _serve_aapl_split_history(replay)

    history = provider.history(
        "aapl", timeframe=Timeframe.D1, start=_utc(2020, 1, 1), end=_utc(2020, 1, 3)
    )

    _assert_bar_frame(history)
    assert history.symbol == "AAPL" and history.timeframe is Timeframe.D1
    session = _local_date(result["timestamp"][0], tz_name)
    assert session == date(2020, 1, 2)
    assert list(history.bars.index) == [pd.Timestamp("2020-01-02", tz="UTC")]
    bar = history.bars.iloc[0]
    for column in ("open", "high", "low", "close"):
        assert bar[column] == float(quote[column][0]) * 4
    assert bar["volume"] == float(quote["volume"][0]) / 4 == 33_870_100
    # Independent number: AAPL's traded close on 2020-01-02 was 300.35 (the recording
    # holds 75.0875015258789, a float32-rounded 300.35 / 4).
    assert quote["close"][0] == 75.0875015258789
    assert bar["close"] == pytest.approx(300.35, abs=1e-5)
    assert history.actions == ()  # the split is after the range
    main, split_history = replay.calls_to(CHART_AAPL)
    assert main.answer == AAPL_DAILY
    assert split_history.answer == AAPL_SPLIT


def test_history_aapl_daily_instrument_comes_from_chart_meta(
    provider: YahooProvider, clock: FakeNow
) -> None:
    clock.at = _utc(2020, 1, 3)

    history = provider.history("AAPL", timeframe="1d", start=_utc(2020, 1, 1), end=_utc(2020, 1, 3))

    assert history.instrument is not None
    assert history.instrument.name == "Apple Inc."
    assert history.instrument.exchange == "NMS"
    assert history.instrument.currency == "USD"
    assert history.instrument.asset_class is AssetClass.EQUITY
    assert history.instrument.calendar == "XNYS"


def test_history_aapl_split_range_returns_split_4_and_dividend_0_205(
    provider: YahooProvider, replay: YahooReplayAdapter, clock: FakeNow, recorded: Recorded
) -> None:
    result = _result(recorded, AAPL_SPLIT)
    quote = result["indicators"]["quote"][0]
    tz_name = result["meta"]["exchangeTimezoneName"]
    (split,) = result["events"]["splits"].values()
    (dividend,) = result["events"]["dividends"].values()
    end = _utc(2020, 11, 7)
    clock.at = end  # right after the recording's range: no split after it is known

    history = provider.history("AAPL", timeframe="1d", start=_utc(2020, 8, 31), end=end)

    _assert_bar_frame(history)
    assert len(history.bars) == len(result["timestamp"]) == 49
    assert history.bars.index[0] == pd.Timestamp("2020-08-31", tz="UTC")
    assert history.bars.index[-1] == pd.Timestamp("2020-11-06", tz="UTC")
    # Every bar is on or after the split's ex-date, so none is changed.
    for column in BAR_COLUMNS:
        assert list(history.bars[column]) == [float(v) for v in quote[column]]
    assert len(replay.calls_to(CHART_AAPL)) == 1  # the range reaches "now"
    splits = [a for a in history.actions if a.kind is ActionKind.SPLIT]
    dividends = [a for a in history.actions if a.kind is ActionKind.DIVIDEND]
    assert [(a.ex_date, a.value) for a in splits] == [
        (
            _local_date(split["date"], tz_name),
            Decimal(split["numerator"]) / Decimal(split["denominator"]),
        )
    ]
    assert splits[0].ex_date == date(2020, 8, 31) and splits[0].value == Decimal("4")
    assert [(a.ex_date, a.value) for a in dividends] == [
        (_local_date(dividend["date"], tz_name), Decimal(str(dividend["amount"])))
    ]
    assert dividends[0].ex_date == date(2020, 11, 6) and dividends[0].value == Decimal("0.205")
    assert dividends[0].currency == "USD"


def test_history_nvda_2021_returns_4_for_1_split_on_2021_07_20(
    provider: YahooProvider, clock: FakeNow, recorded: Recorded
) -> None:
    result = _result(recorded, NVDA_SPLIT)
    end = _utc(2022, 1, 31)
    clock.at = end

    history = provider.history("NVDA", timeframe="1d", start=_utc(2021, 2, 1), end=end)

    assert len(history.bars) == len(result["timestamp"]) == 252
    # The recording asked for events=split only, so its dividends are not in the file.
    splits = [a for a in history.actions if a.kind is ActionKind.SPLIT]
    assert [(a.ex_date, a.value) for a in splits] == [(date(2021, 7, 20), Decimal("4"))]


def test_history_nvda_2021_bars_before_split_are_multiplied_by_4_and_after_unchanged(
    provider: YahooProvider, replay: YahooReplayAdapter, clock: FakeNow, recorded: Recorded
) -> None:
    # "Now" is the end of the range, so the 4:1 split of 2021-07-20 is the only split
    # the provider knows of. That tests the mechanism, not NVDA's traded prices: the
    # recording was made in Feb 2025, after NVDA's 10:1 split of 2024-06-10, so every
    # recorded price is also divided by 10 (see the _SplitFactors test below).
    result = _result(recorded, NVDA_SPLIT)
    quote = result["indicators"]["quote"][0]
    tz_name = result["meta"]["exchangeTimezoneName"]
    ex_date = date(2021, 7, 20)
    end = _utc(2022, 1, 31)
    clock.at = end

    history = provider.history("NVDA", timeframe="1d", start=_utc(2021, 2, 1), end=end)

    _assert_bar_frame(history)
    sessions = [_local_date(ts, tz_name) for ts in result["timestamp"]]
    assert list(history.bars.index) == [pd.Timestamp(d, tz="UTC") for d in sessions]
    before = [i for i, d in enumerate(sessions) if d < ex_date]
    assert sessions[before[-1]] == date(2021, 7, 19) and sessions[before[-1] + 1] == ex_date
    factors = [4.0 if d < ex_date else 1.0 for d in sessions]
    for column in ("open", "high", "low", "close"):
        expected = [float(v) * f for v, f in zip(quote[column], factors, strict=True)]
        assert list(history.bars[column]) == expected
    expected_volume = [float(v) / f for v, f in zip(quote["volume"], factors, strict=True)]
    assert list(history.bars["volume"]) == expected_volume
    assert history.bars.loc["2021-07-19", "close"] == 18.77975082397461 * 4
    assert history.bars.loc["2021-07-19", "volume"] == 749_060_000 / 4
    assert history.bars.loc["2021-07-20", "close"] == 18.61199951171875  # ex-date: unchanged
    assert len(replay.calls_to("/v8/finance/chart/NVDA")) == 1


def test_history_msft_2021_returns_the_four_recorded_dividends(
    provider: YahooProvider, clock: FakeNow, recorded: Recorded
) -> None:
    result = _result(recorded, MSFT_DIVIDENDS)
    tz_name = result["meta"]["exchangeTimezoneName"]
    expected = sorted(
        (_local_date(d["date"], tz_name), Decimal(str(d["amount"])))
        for d in result["events"]["dividends"].values()
    )
    clock.at = _utc(2022, 1, 31)  # MSFT has not split since 2003 anyway

    history = provider.history(
        "MSFT", timeframe="1d", start=_utc(2021, 2, 1), end=_utc(2022, 1, 31)
    )

    dividends = [(a.ex_date, a.value) for a in history.actions if a.kind is ActionKind.DIVIDEND]
    assert dividends == expected
    assert dividends == [
        (date(2021, 2, 17), Decimal("0.56")),
        (date(2021, 5, 19), Decimal("0.56")),
        (date(2021, 8, 18), Decimal("0.56")),
        (date(2021, 11, 17), Decimal("0.62")),
    ]


def test_history_aapl_1m_regular_session_drops_null_bar_and_trailing_point(
    provider: YahooProvider, clock: FakeNow, recorded: Recorded
) -> None:
    result = _result(recorded, AAPL_MINUTE)
    quote = result["indicators"]["quote"][0]
    start, end = _utc(2024, 10, 2), _utc(2024, 10, 3)
    clock.at = end
    expected = [
        datetime.fromtimestamp(ts, UTC)
        for i, ts in enumerate(result["timestamp"])
        if start.timestamp() <= ts < end.timestamp() and quote["open"][i] is not None
    ]

    history = provider.history("AAPL", timeframe=Timeframe.M1, start=start, end=end)

    _assert_bar_frame(history)
    assert len(result["timestamp"]) == 391  # 390 session minutes + the trailing live point
    assert len(history.bars) == len(expected) == 389
    assert list(history.bars.index) == [pd.Timestamp(t) for t in expected]
    minutes = history.bars.index.hour * 60 + history.bars.index.minute
    assert minutes.min() == 13 * 60 + 30 and minutes.max() == 19 * 60 + 59
    assert pd.Timestamp("2024-10-02 15:15", tz="UTC") not in history.bars.index  # the null bar
    assert history.bars.index.max() < pd.Timestamp(end)  # 2024-10-03 20:00 live point dropped
    first = history.bars.iloc[0]
    assert first["open"] == float(quote["open"][0]) and first["volume"] == float(quote["volume"][0])


def test_history_tsla_intraday_with_prepost_recording_keeps_regular_session_only(
    provider: YahooProvider, replay: YahooReplayAdapter, clock: FakeNow, recorded: Recorded
) -> None:
    # Reuse: the only intraday recording with pre/post bars is 30m (includePrePost=true);
    # it stands in for a 15m answer in which Yahoo sent extended-hours bars unasked.
    replay.serve("/v8/finance/chart/TSLA", TSLA_PREPOST)
    result = _result(recorded, TSLA_PREPOST)
    quote = result["indicators"]["quote"][0]
    (regular,) = result["meta"]["tradingPeriods"]["regular"][0]
    expected = [
        (i, ts)
        for i, ts in enumerate(result["timestamp"])
        if regular["start"] <= ts < regular["end"]
    ]
    clock.at = _utc(2021, 11, 23)

    history = provider.history(
        "TSLA", timeframe=Timeframe.M15, start=_utc(2021, 11, 22), end=_utc(2021, 11, 23)
    )

    _assert_bar_frame(history)
    assert len(result["timestamp"]) == 30
    assert len(history.bars) == len(expected) == 13
    assert history.bars.index[0] == pd.Timestamp("2021-11-22 14:30", tz="UTC")
    assert history.bars.index[-1] == pd.Timestamp("2021-11-22 20:30", tz="UTC")
    assert list(history.bars["open"]) == [float(quote["open"][i]) for i, _ in expected]


def test_history_tsla_full_daily_history_matches_recorded_count_and_ends(
    provider: YahooProvider, clock: FakeNow, recorded: Recorded
) -> None:
    # The recording asked for events=div only, so it lists neither of TSLA's splits
    # (2020-08-31, 2022-08-25) and its earlier bars stay as Yahoo adjusted them; the
    # provider itself asks for splits. Only the last bar, after both, is compared.
    clock.at = _utc(2023, 8, 12)
    result = _result(recorded, TSLA_FULL)
    quote = result["indicators"]["quote"][0]
    tz_name = result["meta"]["exchangeTimezoneName"]
    valid = [i for i, _ in enumerate(result["timestamp"]) if quote["close"][i] is not None]

    history = provider.history(
        "TSLA", timeframe="1d", start=_utc(1970, 1, 1), end=_utc(2023, 8, 12)
    )

    _assert_bar_frame(history)
    assert len(history.bars) == len(valid) == 3303
    assert history.bars.index[0] == pd.Timestamp(
        _local_date(result["timestamp"][valid[0]], tz_name), tz="UTC"
    )
    assert history.bars.index[0] == pd.Timestamp("2010-06-29", tz="UTC")
    assert history.bars["close"].iloc[-1] == float(quote["close"][valid[-1]])
    assert history.actions == ()


def test_history_btc_usd_daily_keeps_new_year_holiday_bar(
    provider: YahooProvider, clock: FakeNow, recorded: Recorded
) -> None:
    result = _result(recorded, "yahoo/chart/BTC-USD_1d_2020-01-01_2020-01-03.json")
    quote = result["indicators"]["quote"][0]
    end = _utc(2020, 1, 3)
    clock.at = end
    in_range = [i for i, ts in enumerate(result["timestamp"]) if ts < end.timestamp()]

    history = provider.history("BTC-USD", timeframe="1d", start=_utc(2020, 1, 1), end=end)

    # The recording has 3 bars; the 2020-01-03 one starts at period2 and is outside [start, end).
    assert len(result["timestamp"]) == 3
    assert list(history.bars.index) == [
        pd.Timestamp("2020-01-01", tz="UTC"),
        pd.Timestamp("2020-01-02", tz="UTC"),
    ]
    assert list(history.bars["close"]) == [float(quote["close"][i]) for i in in_range]
    assert history.instrument is not None
    assert history.instrument.asset_class is AssetClass.CRYPTO
    assert history.instrument.calendar == "24/7"


def test_history_eurusd_daily_maps_fx_with_zero_volume(
    provider: YahooProvider, clock: FakeNow, recorded: Recorded
) -> None:
    result = _result(recorded, "yahoo/chart/EURUSDX_1d_2020-01-01_2020-01-03.json")
    end = _utc(2020, 1, 3)
    clock.at = end

    history = provider.history("EURUSD=X", timeframe="1d", start=_utc(2020, 1, 1), end=end)

    assert len(history.bars) == sum(ts < end.timestamp() for ts in result["timestamp"]) == 2
    assert (history.bars["volume"] == 0.0).all()
    assert history.instrument is not None and history.instrument.asset_class is AssetClass.FX


def test_history_ocdo_london_keeps_yahoo_pence_currency(
    provider: YahooProvider, clock: FakeNow
) -> None:
    clock.at = _utc(2020, 1, 3)

    history = provider.history(
        "OCDO.L", timeframe="1d", start=_utc(2020, 1, 1), end=_utc(2020, 1, 3)
    )

    assert list(history.bars.index) == [pd.Timestamp("2020-01-02", tz="UTC")]
    assert history.bars["close"].iloc[0] == 1259.5
    assert history.instrument is not None
    assert history.instrument.currency == "GBp"  # prices are in pence, as Yahoo quotes them
    assert history.instrument.calendar == "XLON"


def test_history_vfinx_events_returns_capital_gains_as_actions(
    provider: YahooProvider, replay: YahooReplayAdapter, clock: FakeNow, recorded: Recorded
) -> None:
    # Reuse: the only capital-gains recording is quarterly bars over range=max; it is
    # served for a daily request here to exercise event parsing only.
    replay.serve("/v8/finance/chart/VFINX", VFINX)
    result = _result(recorded, VFINX)
    tz_name = result["meta"]["exchangeTimezoneName"]
    expected = sorted(
        (_local_date(g["date"], tz_name), Decimal(str(g["amount"])))
        for g in result["events"]["capitalGains"].values()
    )
    clock.at = datetime.fromtimestamp(result["meta"]["regularMarketTime"], UTC)  # 2025-10-30

    history = provider.history(
        "VFINX", timeframe="1d", start=_utc(1979, 1, 1), end=_utc(2025, 10, 31)
    )

    gains = [(a.ex_date, a.value) for a in history.actions if a.kind is ActionKind.CAPITAL_GAIN]
    assert gains == expected
    assert gains[0] == (date(1987, 12, 29), Decimal("0.17"))
    assert len([a for a in history.actions if a.kind is ActionKind.DIVIDEND]) == len(
        result["events"]["dividends"]
    )
    assert history.instrument is not None and history.instrument.asset_class is AssetClass.FUND


def test_history_subrange_of_recording_drops_bars_and_actions_outside_range(
    provider: YahooProvider, replay: YahooReplayAdapter, clock: FakeNow
) -> None:
    # Yahoo answers a narrower range with fewer bars; the serve() makes the wider
    # recording answer it so the provider's own [start, end) filter is what is tested.
    replay.serve("/v8/finance/chart/AAPL", AAPL_SPLIT)
    clock.at = _utc(2020, 11, 6)

    history = provider.history(
        "AAPL", timeframe="1d", start=_utc(2020, 9, 1), end=_utc(2020, 11, 6)
    )

    assert history.bars.index[0] == pd.Timestamp("2020-09-01", tz="UTC")
    assert history.bars.index[-1] == pd.Timestamp("2020-11-05", tz="UTC")
    assert history.actions == ()  # split on 08-31 and dividend on 11-06 are both outside


@pytest.mark.parametrize("timeframe", ["5m", "1h"])
def test_history_other_intraday_timeframes_request_yahoo_interval(
    provider: YahooProvider, replay: YahooReplayAdapter, clock: FakeNow, timeframe: str
) -> None:
    # No 5m/1h recording exists (SOURCES.md, Gaps); the 1m file answers, and the test
    # checks the interval the provider asked for.
    replay.serve("/v8/finance/chart/AAPL", AAPL_MINUTE)
    clock.at = _utc(2024, 10, 3)

    history = provider.history(
        "AAPL", timeframe=timeframe, start=_utc(2024, 10, 2), end=_utc(2024, 10, 3)
    )

    (call,) = replay.calls_to("/v8/finance/chart/AAPL")
    assert call.params["interval"] == {"5m": "5m", "1h": "60m"}[timeframe]
    assert call.params["includePrePost"] == "false"
    assert call.params["period1"] == "1727827200" and call.params["period2"] == "1727913600"
    assert history.timeframe is Timeframe.parse(timeframe)
    assert len(history.bars) == 389


# ---------------------------------------------------------------- split history and "now"


def test_history_range_ending_before_now_makes_exactly_one_split_history_request(
    provider: YahooProvider, replay: YahooReplayAdapter, clock: FakeNow, recorded: Recorded
) -> None:
    # The AAPL split range asked for as of when it was recorded (Feb 2025): the range
    # ends long before "now", so one more chart request fetches the splits since.
    result = _result(recorded, AAPL_SPLIT)
    quote = result["indicators"]["quote"][0]
    start, end = _utc(2020, 8, 31), _utc(2020, 11, 7)
    clock.at = AAPL_RECORDED_AT
    _serve_aapl_split_history(replay)

    history = provider.history("AAPL", timeframe="1d", start=start, end=end)

    main, split_history = replay.calls_to(CHART_AAPL)
    assert main.params["interval"] == "1d"
    assert split_history.params == {
        "period1": str(int(start.timestamp())),
        "period2": "1740052060",  # AAPL_RECORDED_AT, rounded up to whole seconds
        "interval": "3mo",
        "includePrePost": "false",
        "events": "splits",
    }
    assert split_history.answer == AAPL_SPLIT
    assert clock.calls == 1
    # Both answers list the 4:1 split of 2020-08-31: merged into one, which is on or
    # before every bar, so the bars are as recorded and the dividend after it too.
    for column in BAR_COLUMNS:
        assert list(history.bars[column]) == [float(v) for v in quote[column]]
    assert [(a.kind, a.ex_date, a.value) for a in history.actions] == [
        (ActionKind.SPLIT, date(2020, 8, 31), Decimal("4")),
        (ActionKind.DIVIDEND, date(2020, 11, 6), Decimal("0.205")),
    ]


@pytest.mark.parametrize(
    "now",
    [_utc(2020, 11, 7), datetime(2020, 11, 6, 21, 0, tzinfo=UTC)],
    ids=["now-equals-end", "now-inside-range"],
)
def test_history_range_reaching_now_makes_no_split_history_request(
    provider: YahooProvider, replay: YahooReplayAdapter, clock: FakeNow, now: datetime
) -> None:
    clock.at = now

    provider.history("AAPL", timeframe="1d", start=_utc(2020, 8, 31), end=_utc(2020, 11, 7))

    (call,) = replay.calls_to(CHART_AAPL)
    assert call.answer == AAPL_SPLIT
    assert clock.calls == 1


def test_aapl_split_recording_previous_close_is_the_traded_499_23_divided_by_4(
    provider: YahooProvider, clock: FakeNow, recorded: Recorded
) -> None:
    # Independent number: AAPL's traded close on 2020-08-28, the last session before
    # the 4:1 split, was 499.23. No recording has a bar for that day; the nearest is
    # meta.chartPreviousClose of the split recording (the close of the session before
    # period1, rounded by Yahoo to 3 decimals): 124.808 = 499.23 / 4 = 124.8075, rounded.
    # So the recorded prices before a split are divided by its ratio, and multiplying
    # by the ratio the provider returns gives the traded price back.
    meta = _result(recorded, AAPL_SPLIT)["meta"]
    clock.at = _utc(2020, 11, 7)

    history = provider.history(
        "AAPL", timeframe="1d", start=_utc(2020, 8, 31), end=_utc(2020, 11, 7)
    )

    (split,) = [a for a in history.actions if a.kind is ActionKind.SPLIT]
    assert meta["chartPreviousClose"] == 124.808
    # Rounding to 3 decimals moves the recorded value by up to 0.0005, times 4 here.
    assert meta["chartPreviousClose"] * float(split.value) == pytest.approx(499.23, abs=0.0021)


# ---------------------------------------------------------------- the adjustment itself
# No recording holds two splits, a split after an intraday range, or a dividend before a
# split, so these call the functions history() is built from on recorded payloads.


def test_split_factors_compound_nvda_4_for_1_and_10_for_1() -> None:
    # NVDA's splits: 4:1 on 2021-07-20 and 10:1 on 2024-06-10.
    factors = _SplitFactors({date(2021, 7, 20): Decimal(4), date(2024, 6, 10): Decimal(10)})

    assert factors.after(date(2021, 7, 19)) == Decimal(40)
    assert factors.after(date(2021, 7, 20)) == Decimal(10)  # a bar on the ex-date is post-split
    assert factors.after(date(2024, 6, 7)) == Decimal(10)
    assert factors.after(date(2024, 6, 10)) == Decimal(1)
    days = np.array(["2021-02-01", "2021-07-20", "2025-01-02"], dtype="datetime64[D]")
    assert list(factors.for_days(days)) == [40.0, 10.0, 1.0]


def test_split_factors_without_splits_are_one_and_reverse_split_shrinks_prices() -> None:
    assert _SplitFactors({}).after(date(2020, 1, 2)) == Decimal(1)
    reverse = _SplitFactors({date(2020, 1, 2): Decimal("0.1")})  # 1-for-10
    assert reverse.after(date(2020, 1, 1)) == Decimal("0.1")


def test_nvda_recording_with_both_splits_known_gives_traded_prices(recorded: Recorded) -> None:
    # As of the recording (Feb 2025) Yahoo had divided NVDA's 2021 prices by 40 before
    # 2021-07-20 and by 10 from then on. With both splits known (as a split-history
    # request made then would list them) the prices come back 40x and 10x.
    payload = recorded(NVDA_SPLIT)
    quote = payload["chart"]["result"][0]["indicators"]["quote"][0]
    request = _Request(symbol="NVDA", what="test", in_range=True)
    start, end = _utc(2021, 2, 1), _utc(2022, 1, 31)
    chart = _parse_chart(payload, request, timeframe=Timeframe.D1, start=start, end=end)
    splits = _merge_splits(chart.splits, {date(2024, 6, 10): Decimal(10)}, request)

    history = _as_traded_history(chart, request, splits)

    bars = history.bars
    assert bars.loc["2021-02-01", "close"] == quote["close"][0] * 40
    assert bars.loc["2021-02-01", "close"] == pytest.approx(529.48, abs=1e-4)
    assert bars.loc["2021-02-01", "volume"] == quote["volume"][0] / 40
    assert bars.loc["2022-01-28", "close"] == quote["close"][-1] * 10
    assert bars.loc["2022-01-28", "close"] == pytest.approx(228.40, abs=1e-4)
    # Only the split inside the range is returned as an action.
    assert [(a.ex_date, a.value) for a in history.actions] == [(date(2021, 7, 20), Decimal(4))]


def test_dividend_before_a_split_is_multiplied_by_its_ratio() -> None:
    # AAPL's dividend with ex-date 2020-08-07 was 0.82 per share (traded basis); Yahoo
    # reports it as 0.205 after the 4:1 split of 2020-08-31. The float32-looking noise
    # on one amount is removed after scaling, not scaled up.
    request = _Request(symbol="AAPL", what="test", in_range=True)
    factors = _SplitFactors({date(2020, 8, 31): Decimal(4)})
    events = {
        "dividends": {
            "1596807000": {"amount": 0.205, "date": 1596807000},  # 2020-08-07 13:30 UTC
            "1589549400": {"amount": 0.2050000011920929, "date": 1589549400},  # 2020-05-15
            "1604673000": {"amount": 0.205, "date": 1604673000},  # 2020-11-06, after the split
        },
        "splits": {
            "1598880600": {"date": 1598880600, "numerator": 4, "denominator": 1},
        },
    }

    actions = _actions_from_events(
        events,
        request,
        currency="USD",
        tz_name="America/New_York",
        start=_utc(2020, 5, 1),
        end=_utc(2020, 11, 7),
        dividend_factor=factors.after,
    )

    assert [(a.kind, a.ex_date, a.value) for a in actions] == [
        (ActionKind.DIVIDEND, date(2020, 5, 15), Decimal("0.82")),
        (ActionKind.DIVIDEND, date(2020, 8, 7), Decimal("0.82")),
        (ActionKind.SPLIT, date(2020, 8, 31), Decimal("4")),
        (ActionKind.DIVIDEND, date(2020, 11, 6), Decimal("0.205")),
    ]


@pytest.mark.parametrize(
    ("ex_date", "factor"),
    [(date(2024, 10, 3), 2.0), (date(2024, 10, 2), 1.0)],
    ids=["split-next-session", "split-on-the-session"],
)
def test_intraday_bars_use_their_exchange_session_date(
    recorded: Recorded, ex_date: date, factor: float
) -> None:
    # A made-up 2:1 split, to see which intraday bars it reaches: the AAPL 1m bars
    # of 2024-10-02 (New York) are before an ex-date of 10-03 and not before 10-02.
    payload = recorded(AAPL_MINUTE)
    request = _Request(symbol="AAPL", what="test", in_range=True)
    start, end = _utc(2024, 10, 2), _utc(2024, 10, 3)
    chart = _parse_chart(payload, request, timeframe=Timeframe.M1, start=start, end=end)

    history = _as_traded_history(chart, request, {ex_date: Decimal(2)})

    assert len(history.bars) == len(chart.bars) == 389
    assert (history.bars["close"] == chart.bars["close"] * factor).all()
    assert (history.bars["volume"] == chart.bars["volume"] / factor).all()


def test_merge_splits_refuses_two_ratios_for_one_date() -> None:
    request = _Request(symbol="AAPL", what="test")
    day = date(2020, 8, 31)

    assert _merge_splits({day: Decimal(4)}, {day: Decimal(4)}, request) == {day: Decimal(4)}
    with pytest.raises(ProviderError, match="two ratios for the split of 'AAPL' on 2020-08-31"):
        _merge_splits({day: Decimal(4)}, {day: Decimal(2)}, request)
