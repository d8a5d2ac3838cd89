"""The replay transport itself: recorded answers, auth routes, scripts, loud refusals."""

from __future__ import annotations

from pathlib import Path

import pytest
import requests

from .replay import CRUMB, UnmappedRequest, YahooReplayAdapter

CHART = "https://query2.finance.yahoo.com/v8/finance/chart/{symbol}"

Params = dict[str, str | int]


def test_replay_chart_request_returns_recorded_status_and_body(
    session: requests.Session, shared_data: Path
) -> None:
    params: Params = {
        "period1": 1577836800,
        "period2": 1578009600,
        "interval": "1d",
        "crumb": "anything",
    }

    response = session.get(CHART.format(symbol="AAPL"), params=params)

    recorded = (
        shared_data / "recorded/yahoo/chart/AAPL_1d_2020-01-01_2020-01-03.json"
    ).read_bytes()
    assert response.status_code == 200
    assert response.content == recorded
    assert response.headers["Content-Type"] == "application/json;charset=utf-8"


def test_replay_query1_host_serves_query2_recording_with_recorded_error_status(
    session: requests.Session,
) -> None:
    params: Params = {"period1": 1577836800, "period2": 1578009600, "interval": "1d"}

    response = session.get(CHART.format(symbol="SIX").replace("query2", "query1"), params=params)

    assert response.status_code == 404
    assert (
        response.json()["chart"]["error"]["description"] == "No data found, symbol may be delisted"
    )


def test_replay_auth_routes_return_crumb_and_bare_404(session: requests.Session) -> None:
    crumb = session.get("https://query1.finance.yahoo.com/v1/test/getcrumb")
    cookie = session.get("https://fc.yahoo.com")

    assert (crumb.status_code, crumb.text) == (200, CRUMB)
    assert cookie.status_code == 404


def test_replay_unmapped_request_raises_and_is_recorded(
    session: requests.Session, replay: YahooReplayAdapter
) -> None:
    params: Params = {"period1": 1, "period2": 2, "interval": "1d"}

    with pytest.raises(
        UnmappedRequest,
        match=r"no recording for GET https://query2\.finance\.yahoo\.com/v8/finance/chart/AAPL\?",
    ):
        session.get(CHART.format(symbol="AAPL"), params=params)

    assert len(replay.unmapped) == 1
    replay.unmapped.clear()  # expected here; the fixture fails tests that leave any


def test_replay_unknown_host_raises_unmapped_request(
    session: requests.Session, replay: YahooReplayAdapter
) -> None:
    with pytest.raises(UnmappedRequest, match="example.com"):
        session.get("https://example.com/")

    replay.unmapped.clear()


def test_replay_script_answers_steps_then_falls_back_to_recording(
    session: requests.Session, replay: YahooReplayAdapter
) -> None:
    replay.script("/v8/finance/chart/AAPL", [429, requests.exceptions.ReadTimeout("scripted")])
    params: Params = {"period1": 1577836800, "period2": 1578009600, "interval": "1d"}

    first = session.get(CHART.format(symbol="AAPL"), params=params)
    with pytest.raises(requests.exceptions.ReadTimeout):
        session.get(CHART.format(symbol="AAPL"), params=params)
    third = session.get(CHART.format(symbol="AAPL"), params=params)

    assert (first.status_code, first.text) == (429, "Too Many Requests")
    assert third.status_code == 200
    assert [c.answer for c in replay.calls] == [
        "script-429",
        "ReadTimeout",
        "yahoo/chart/AAPL_1d_2020-01-01_2020-01-03.json",
    ]


def test_replay_quote_summary_subset_of_modules_maps_to_smallest_superset(
    session: requests.Session, replay: YahooReplayAdapter
) -> None:
    url = "https://query2.finance.yahoo.com/v10/finance/quoteSummary/AAPL"

    session.get(url, params={"modules": "assetProfile", "formatted": "false"})
    session.get(url, params={"modules": "assetProfile,price", "formatted": "false"})

    assert [c.answer for c in replay.calls] == [
        "yahoo/quoteSummary/AAPL_assetProfile.json",
        "yahoo/quoteSummary/AAPL_all_modules.json",
    ]


def test_replay_intraday_chart_includeprepost_mismatch_is_unmapped(
    session: requests.Session, replay: YahooReplayAdapter
) -> None:
    params: Params = {
        "period1": 1727827200,
        "period2": 1727913600,
        "interval": "1m",
        "includePrePost": "true",
    }

    with pytest.raises(UnmappedRequest):
        session.get(CHART.format(symbol="AAPL"), params=params)

    replay.unmapped.clear()


def test_replay_serve_when_answers_only_requests_with_those_values(
    session: requests.Session, replay: YahooReplayAdapter
) -> None:
    split = "yahoo/chart/AAPL_1d_2020-08-31_2020-11-07_split_dividend.json"
    replay.serve("/v8/finance/chart/AAPL", split, when={"interval": "3mo"})
    quarterly: Params = {"period1": 1, "period2": 2, "interval": "3mo"}
    recorded_query: Params = {"period1": 1577836800, "period2": 1578009600, "interval": "1d"}
    monthly: Params = {"period1": 1, "period2": 2, "interval": "1mo"}

    session.get(CHART.format(symbol="AAPL"), params=quarterly)
    session.get(CHART.format(symbol="AAPL"), params=recorded_query)
    with pytest.raises(UnmappedRequest):
        session.get(CHART.format(symbol="AAPL"), params=monthly)

    assert [c.answer for c in replay.calls] == [
        split,
        "yahoo/chart/AAPL_1d_2020-01-01_2020-01-03.json",
        "UNMAPPED",
    ]
    replay.unmapped.clear()


def test_replay_serve_most_specific_override_wins_and_unknown_file_is_refused(
    session: requests.Session, replay: YahooReplayAdapter
) -> None:
    daily = "yahoo/chart/AAPL_1d_2020-01-01_2020-01-03.json"
    split = "yahoo/chart/AAPL_1d_2020-08-31_2020-11-07_split_dividend.json"
    replay.serve("/v8/finance/chart/AAPL", daily)
    replay.serve("/v8/finance/chart/AAPL", split, when={"interval": "3mo"})

    session.get(CHART.format(symbol="AAPL"), params={"interval": "3mo"})
    session.get(CHART.format(symbol="AAPL"), params={"interval": "1wk"})

    assert [c.answer for c in replay.calls] == [split, daily]
    with pytest.raises(KeyError, match="no recording"):
        replay.serve("/v8/finance/chart/AAPL", "yahoo/chart/missing.json")
