"""YahooProvider failures: error mapping, retry and backoff, input validation, sessions.

Error bodies are recorded (SIX 404, BEKE 400, the weekend empty chart); 429, 500 and
timeouts are scripted in the replay because no recording of them exists.

Call counts: yfinance re-sends a request once with a fresh cookie and crumb after any
HTTP 4xx/5xx (YfData._make_request), so one provider attempt that meets an HTTP error
shows as two chart calls; a transport exception shows as one.

"Now": these tests are about failures, not about undoing Yahoo's split adjustment, so
the provider's clock reads the end of the requested range (JAN_3). The range then
reaches "now", no split-history request is made, and the call counts below are those
of the main request alone. As of that "now" no later split is known, so the AAPL bar
comes back as recorded (75.0875..., which the recording's split adjustment made a
quarter of the traded 300.35; test_provider_history covers undoing it).
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pandas as pd
import pytest
import requests

from bifrost.adapters.yahoo import YahooProvider
from bifrost.core.errors import (
    InvalidInput,
    NoDataInRange,
    ProviderError,
    RateLimited,
    TransientProviderError,
    UnknownSymbol,
)
from bifrost.marketdata import Timeframe

from .replay import FakeNow, SleepRecorder, YahooReplayAdapter

CHART_AAPL = "/v8/finance/chart/AAPL"
JAN_1, JAN_3 = datetime(2020, 1, 1, tzinfo=UTC), datetime(2020, 1, 3, tzinfo=UTC)
RANGE_TEXT = "[2020-01-01T00:00:00+00:00, 2020-01-03T00:00:00+00:00)"


@pytest.fixture(autouse=True)
def _now_is_end_of_range(clock: FakeNow) -> None:
    clock.at = JAN_3  # see the module docstring


def _aapl_daily(provider: YahooProvider) -> pd.DataFrame:
    return provider.history("AAPL", timeframe=Timeframe.D1, start=JAN_1, end=JAN_3).bars


# ---------------------------------------------------------------- error mapping


def test_history_unknown_symbol_404_raises_unknown_symbol_without_retry(
    provider: YahooProvider, replay: YahooReplayAdapter, sleeps: SleepRecorder
) -> None:
    with pytest.raises(UnknownSymbol) as caught:
        provider.history("SIX", timeframe="1d", start=JAN_1, end=JAN_3)

    assert str(caught.value) == (
        f"yahoo does not know symbol 'SIX' (1d bars in {RANGE_TEXT}): "
        "HTTP 404 Not Found: No data found, symbol may be delisted"
    )
    assert caught.value.details["status"] == 404
    assert caught.value.details["start"] == "2020-01-01T00:00:00+00:00"
    assert not caught.value.retryable
    assert sleeps.delays == []
    assert len(replay.calls_to("/v8/finance/chart/SIX")) == 2  # one attempt (see module docstring)


def test_history_range_before_listing_400_raises_no_data_in_range(
    provider: YahooProvider, replay: YahooReplayAdapter, sleeps: SleepRecorder
) -> None:
    with pytest.raises(NoDataInRange) as caught:
        provider.history("BEKE", timeframe="1d", start=JAN_1, end=JAN_3)

    assert str(caught.value) == (
        f"yahoo has no data for 1d bars in {RANGE_TEXT} for 'BEKE': HTTP 400 Bad Request: "
        "Data doesn't exist for startDate = 1577836800, endDate = 1578009600"
    )
    assert isinstance(caught.value, LookupError)
    assert sleeps.delays == []
    assert len(replay.calls_to("/v8/finance/chart/BEKE")) == 2


def test_history_weekend_1m_empty_chart_raises_no_data_in_range(
    provider: YahooProvider, replay: YahooReplayAdapter
) -> None:
    start, end = datetime(2025, 2, 1, tzinfo=UTC), datetime(2025, 2, 2, tzinfo=UTC)

    with pytest.raises(NoDataInRange) as caught:
        provider.history("AAPL", timeframe=Timeframe.M1, start=start, end=end)

    assert str(caught.value) == (
        "yahoo has no data for 1m bars in [2025-02-01T00:00:00+00:00, 2025-02-02T00:00:00+00:00) "
        "for 'AAPL': no bars with prices in range"
    )
    assert [c.answer for c in replay.calls_to(CHART_AAPL)] == [
        "yahoo/chart/AAPL_1m_2025-02-01_weekend_empty.json"
    ]


def test_history_unexpected_4xx_raises_provider_error_not_retried(
    provider: YahooProvider, replay: YahooReplayAdapter, sleeps: SleepRecorder
) -> None:
    replay.script(CHART_AAPL, [403, 403])

    with pytest.raises(ProviderError) as caught:
        _aapl_daily(provider)

    assert type(caught.value) is ProviderError
    assert (
        str(caught.value)
        == f"yahoo rejected the request for 1d bars in {RANGE_TEXT} for 'AAPL': HTTP 403: Forbidden"
    )
    assert sleeps.delays == []


# ---------------------------------------------------------------- retries


def test_history_rate_limited_then_ok_retries_with_doubling_delays(
    provider: YahooProvider, replay: YahooReplayAdapter, sleeps: SleepRecorder
) -> None:
    # Two attempts rate-limited (each = two 429 calls), the third gets the recording.
    replay.script(CHART_AAPL, [429, 429, 429, 429])

    bars = _aapl_daily(provider)

    assert sleeps.delays == [1.0, 2.0]
    assert bars["close"].iloc[0] == 75.0875015258789
    assert [c.answer for c in replay.calls_to(CHART_AAPL)] == ["script-429"] * 4 + [
        "yahoo/chart/AAPL_1d_2020-01-01_2020-01-03.json"
    ]


def test_history_persistent_rate_limit_raises_rate_limited_after_max_retries(
    session: requests.Session, replay: YahooReplayAdapter, sleeps: SleepRecorder, tmp_path: Path
) -> None:
    provider = YahooProvider(
        session=session,
        sleep=sleeps,
        max_retries=2,
        backoff_seconds=0.5,
        now=FakeNow(JAN_3),
        cache_dir=str(tmp_path),
    )
    replay.script(CHART_AAPL, [429] * 6)

    with pytest.raises(RateLimited) as caught:
        _aapl_daily(provider)

    assert (
        str(caught.value)
        == f"yahoo rate-limited 1d bars in {RANGE_TEXT} for 'AAPL': HTTP 429 Too Many Requests"
    )
    assert caught.value.retryable
    assert caught.value.details["attempts"] == 3
    assert sleeps.delays == [0.5, 1.0]
    assert len(replay.calls_to(CHART_AAPL)) == 6


def test_history_server_error_then_ok_retries_once(
    provider: YahooProvider, replay: YahooReplayAdapter, sleeps: SleepRecorder
) -> None:
    replay.script(CHART_AAPL, [500, 503])

    bars = _aapl_daily(provider)

    assert sleeps.delays == [1.0]
    assert list(bars.index) == [pd.Timestamp("2020-01-02", tz="UTC")]


def test_history_timeout_then_ok_retries_once(
    provider: YahooProvider, replay: YahooReplayAdapter, sleeps: SleepRecorder
) -> None:
    replay.script(CHART_AAPL, [requests.exceptions.ReadTimeout("replay: read timed out")])

    bars = _aapl_daily(provider)

    assert sleeps.delays == [1.0]
    assert bars["close"].iloc[0] == 75.0875015258789
    assert [c.answer for c in replay.calls_to(CHART_AAPL)][0] == "ReadTimeout"


def test_history_persistent_server_error_without_retries_raises_transient_error(
    session: requests.Session, replay: YahooReplayAdapter, sleeps: SleepRecorder, tmp_path: Path
) -> None:
    provider = YahooProvider(
        session=session, sleep=sleeps, max_retries=0, now=FakeNow(JAN_3), cache_dir=str(tmp_path)
    )
    replay.script(CHART_AAPL, [502, 502])

    with pytest.raises(TransientProviderError) as caught:
        _aapl_daily(provider)

    assert type(caught.value) is TransientProviderError
    assert (
        str(caught.value)
        == f"yahoo failed to serve 1d bars in {RANGE_TEXT} for 'AAPL': HTTP 502: Bad Gateway"
    )
    assert sleeps.delays == []


def test_history_connection_error_exhausting_retries_raises_transient_error(
    session: requests.Session, replay: YahooReplayAdapter, sleeps: SleepRecorder, tmp_path: Path
) -> None:
    provider = YahooProvider(
        session=session, sleep=sleeps, max_retries=1, now=FakeNow(JAN_3), cache_dir=str(tmp_path)
    )
    replay.script(CHART_AAPL, [requests.exceptions.ConnectionError("replay: connection reset")] * 2)

    with pytest.raises(
        TransientProviderError,
        match=r"failed in transit \(ConnectionError: replay: connection reset\)",
    ):
        _aapl_daily(provider)

    assert sleeps.delays == [1.0]
    assert len(replay.calls_to(CHART_AAPL)) == 2


def test_company_snapshot_rate_limited_then_ok_retries(
    provider: YahooProvider, replay: YahooReplayAdapter, sleeps: SleepRecorder
) -> None:
    replay.script("/v10/finance/quoteSummary/AAPL", [429, 429])

    snapshot = provider.company_snapshot("AAPL")

    assert sleeps.delays == [1.0]
    assert snapshot.governance["audit_risk"] == 3


# ---------------------------------------------------------------- input validation


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        (
            {"start": datetime(2020, 1, 1), "end": JAN_3},
            "start must be timezone-aware, was naive 2020-01-01T00:00:00",
        ),
        (
            {"start": JAN_1, "end": datetime(2020, 1, 3)},
            "end must be timezone-aware, was naive 2020-01-03T00:00:00",
        ),
        (
            {"start": JAN_3, "end": JAN_1},
            "date range is inverted or empty: start 2020-01-03T00:00:00+00:00 must be before end "
            "2020-01-01T00:00:00+00:00",
        ),
        (
            {"start": JAN_1, "end": JAN_1},
            "date range is inverted or empty: start 2020-01-01T00:00:00+00:00 must be before end "
            "2020-01-01T00:00:00+00:00",
        ),
        (
            {"start": JAN_1, "end": JAN_3, "timeframe": "2h"},
            "timeframe must be one of 1m, 5m, 15m, 1h, 1d, was '2h'",
        ),
        (
            {"start": JAN_1, "end": JAN_3, "symbol": "AA PL"},
            "symbol must be 1-32 characters of A-Z, 0-9 and . - = ^ _ /, was 'AA PL'",
        ),
    ],
)
def test_history_invalid_input_raises_before_any_request(
    provider: YahooProvider, replay: YahooReplayAdapter, kwargs: dict[str, object], message: str
) -> None:
    arguments: dict[str, object] = {"symbol": "AAPL", "timeframe": "1d", **kwargs}
    symbol = arguments.pop("symbol")

    with pytest.raises(InvalidInput) as caught:
        provider.history(symbol, **arguments)  # type: ignore[arg-type]

    assert str(caught.value) == message
    assert replay.calls == []


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"max_retries": -1}, "max_retries must be a non-negative integer, was -1"),
        (
            {"backoff_seconds": float("nan")},
            "backoff_seconds must be finite and non-negative, was nan",
        ),
        ({"timeout_seconds": 0.0}, "timeout_seconds must be finite and positive, was 0.0"),
        (
            {"session": object()},
            "session must be a requests.Session or curl_cffi.requests.Session, was object",
        ),
        ({"now": "2020-01-03"}, "now must be callable, was str"),
    ],
)
def test_provider_init_invalid_settings_raise_invalid_input(
    kwargs: dict[str, object], message: str
) -> None:
    with pytest.raises(InvalidInput) as caught:
        YahooProvider(**kwargs)  # type: ignore[arg-type]

    assert str(caught.value) == message


# ---------------------------------------------------------------- sessions


def test_history_two_providers_each_use_their_own_session(
    shared_data: Path, tmp_path: Path
) -> None:
    # yfinance keeps one session per process; each provider must rebind its own.
    adapters = [YahooReplayAdapter(shared_data), YahooReplayAdapter(shared_data)]
    providers = []
    for adapter in adapters:
        http = requests.Session()
        http.mount("https://", adapter)
        providers.append(
            YahooProvider(
                session=http, sleep=SleepRecorder(), now=FakeNow(JAN_3), cache_dir=str(tmp_path)
            )
        )

    _aapl_daily(providers[0])
    _aapl_daily(providers[1])
    _aapl_daily(providers[0])

    assert [len(a.calls_to(CHART_AAPL)) for a in adapters] == [2, 1]
    assert all(not a.unmapped for a in adapters)


# ---------------------------------------------------------------- split history


def test_history_split_history_404_raises_unknown_symbol_naming_that_request(
    provider: YahooProvider, replay: YahooReplayAdapter, clock: FakeNow
) -> None:
    # Reuse: the SIX 404 recording answers the split-history request (interval=3mo),
    # as Yahoo would for a symbol it stopped knowing between the two requests.
    replay.serve(
        CHART_AAPL,
        "yahoo/chart/error_404_SIX_no_data_found_symbol_may_be_delisted.json",
        when={"interval": "3mo"},
    )
    clock.at = datetime(2025, 2, 20, tzinfo=UTC)

    with pytest.raises(UnknownSymbol) as caught:
        _aapl_daily(provider)

    assert str(caught.value).startswith(
        "yahoo does not know symbol 'AAPL' (split history in "
        "[2020-01-01T00:00:00+00:00, 2025-02-20T00:00:00+00:00]): HTTP 404"
    )
    assert caught.value.details["purpose"] == "split history"
    answers = [c.answer for c in replay.calls_to(CHART_AAPL)]
    assert answers[0] == "yahoo/chart/AAPL_1d_2020-01-01_2020-01-03.json"
    assert [c.params["interval"] for c in replay.calls_to(CHART_AAPL)] == ["1d", "3mo", "3mo"]


def test_history_split_history_400_no_data_is_a_provider_error_not_no_data_in_range(
    provider: YahooProvider, replay: YahooReplayAdapter, clock: FakeNow
) -> None:
    # Reuse: the BEKE 400 recording answers the split-history request. The range has
    # bars, so "data doesn't exist" there is a fault, not an empty range.
    replay.serve(
        CHART_AAPL,
        "yahoo/chart/error_400_BEKE_data_doesnt_exist_for_range.json",
        when={"interval": "3mo"},
    )
    clock.at = datetime(2025, 2, 20, tzinfo=UTC)

    with pytest.raises(ProviderError) as caught:
        _aapl_daily(provider)

    assert type(caught.value) is ProviderError
    assert "split history in" in str(caught.value)


def test_history_naive_now_raises_invalid_input(provider: YahooProvider, clock: FakeNow) -> None:
    clock.at = datetime(2025, 2, 20)

    with pytest.raises(InvalidInput, match=r"now\(\) must be timezone-aware"):
        _aapl_daily(provider)
