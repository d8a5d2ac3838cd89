"""YahooProvider.instrument and .company_snapshot against recorded quoteSummary responses.

Expected values come from yahoo/quoteSummary/AAPL_all_modules.json (node-yahoo-finance2
fixture, formatted=false, recorded 2025-02-24), read in each test; compared exactly.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime
from typing import Any

import pytest

from bifrost.adapters.yahoo import YahooProvider
from bifrost.core.errors import InvalidInput, UnknownSymbol
from bifrost.marketdata import FUNDAMENTAL_FIELDS, GOVERNANCE_FIELDS, AssetClass

from .replay import SleepRecorder, YahooReplayAdapter

Recorded = Callable[[str], Any]

AAPL_ALL = "yahoo/quoteSummary/AAPL_all_modules.json"
SUMMARY_PATH = "/v10/finance/quoteSummary/{symbol}"


def _modules(recorded: Recorded) -> dict[str, Any]:
    return recorded(AAPL_ALL)["quoteSummary"]["result"][0]


def test_company_snapshot_aapl_governance_equals_recorded_risk_scores(
    provider: YahooProvider, recorded: Recorded
) -> None:
    profile = _modules(recorded)["assetProfile"]

    snapshot = provider.company_snapshot("AAPL", as_of=date(2025, 2, 24))

    assert snapshot.governance == {
        "audit_risk": profile["auditRisk"],
        "board_risk": profile["boardRisk"],
        "compensation_risk": profile["compensationRisk"],
        "shareholder_rights_risk": profile["shareHolderRightsRisk"],
        "overall_risk": profile["overallRisk"],
    }
    assert snapshot.governance == {
        "audit_risk": 3,
        "board_risk": 1,
        "compensation_risk": 3,
        "shareholder_rights_risk": 1,
        "overall_risk": 1,
    }
    assert set(snapshot.governance) == set(GOVERNANCE_FIELDS)


def test_company_snapshot_aapl_fundamentals_equal_recorded_values(
    provider: YahooProvider, recorded: Recorded
) -> None:
    modules = _modules(recorded)
    detail, stats, financial = (
        modules["summaryDetail"],
        modules["defaultKeyStatistics"],
        modules["financialData"],
    )

    snapshot = provider.company_snapshot("AAPL", as_of=date(2025, 2, 24))

    f = snapshot.fundamentals
    assert set(f) == set(FUNDAMENTAL_FIELDS)
    assert f["market_cap"] == detail["marketCap"] == 3688676720640
    assert f["trailing_pe"] == detail["trailingPE"]
    # forwardPE differs between modules; summaryDetail is preferred.
    assert f["forward_pe"] == detail["forwardPE"] != stats["forwardPE"]
    assert f["price_to_book"] == stats["priceToBook"]
    assert f["price_to_sales"] == detail["priceToSalesTrailing12Months"]
    assert f["eps_trailing"] == stats["trailingEps"] == 6.31
    assert f["eps_forward"] == stats["forwardEps"]
    assert f["dividend_rate"] == detail["dividendRate"]
    assert f["dividend_yield"] == detail["dividendYield"]
    assert f["payout_ratio"] == detail["payoutRatio"]
    assert f["beta"] == detail["beta"]
    assert f["profit_margin"] == financial["profitMargins"]
    assert f["operating_margin"] == financial["operatingMargins"]
    assert f["return_on_equity"] == financial["returnOnEquity"]
    assert f["return_on_assets"] == financial["returnOnAssets"]
    assert f["revenue"] == financial["totalRevenue"]
    assert f["revenue_growth"] == financial["revenueGrowth"]
    assert f["earnings_growth"] == financial["earningsGrowth"]
    assert f["gross_margin"] == financial["grossMargins"]
    assert f["total_cash"] == financial["totalCash"]
    assert f["total_debt"] == financial["totalDebt"]
    assert f["debt_to_equity"] == financial["debtToEquity"]
    assert f["current_ratio"] == financial["currentRatio"]
    assert f["book_value_per_share"] == stats["bookValue"] == 4.438
    assert f["shares_outstanding"] == stats["sharesOutstanding"]
    assert f["float_shares"] == stats["floatShares"]
    assert f["enterprise_value"] == stats["enterpriseValue"]
    assert f["fifty_two_week_high"] == detail["fiftyTwoWeekHigh"]
    assert f["fifty_two_week_low"] == detail["fiftyTwoWeekLow"]
    assert f["average_volume"] == detail["averageVolume"]
    # This recording has no pegRatio (Yahoo dropped it from defaultKeyStatistics).
    assert "pegRatio" not in stats and f["peg_ratio"] is None


def test_company_snapshot_aapl_stamps_as_of_source_instrument_and_raw(
    provider: YahooProvider,
) -> None:
    snapshot = provider.company_snapshot("aapl", as_of=date(2025, 2, 24))

    assert snapshot.symbol == "AAPL"
    assert snapshot.as_of == date(2025, 2, 24)
    assert snapshot.source == "yahoo"
    assert snapshot.instrument is not None and snapshot.instrument.sector == "Technology"
    assert snapshot.raw["assetProfile"]["auditRisk"] == 3


def test_company_snapshot_without_as_of_uses_today_utc(provider: YahooProvider) -> None:
    before = datetime.now(UTC).date()

    snapshot = provider.company_snapshot("AAPL")

    assert before <= snapshot.as_of <= datetime.now(UTC).date()


def test_company_snapshot_datetime_as_of_raises_invalid_input_before_any_request(
    provider: YahooProvider, replay: YahooReplayAdapter
) -> None:
    with pytest.raises(InvalidInput, match="as_of must be a date, was datetime"):
        provider.company_snapshot("AAPL", as_of=datetime(2025, 2, 24, tzinfo=UTC))  # type: ignore[arg-type]

    assert replay.calls == []


def test_instrument_aapl_equals_recorded_profile(
    provider: YahooProvider, recorded: Recorded
) -> None:
    modules = _modules(recorded)

    info = provider.instrument("AAPL")

    assert info.symbol == "AAPL"
    assert info.name == modules["quoteType"]["longName"] == "Apple Inc."
    assert info.exchange == modules["quoteType"]["exchange"] == "NMS"
    assert info.currency == modules["price"]["currency"] == "USD"
    assert info.asset_class is AssetClass.EQUITY
    assert info.sector == modules["assetProfile"]["sector"] == "Technology"
    assert info.industry == modules["assetProfile"]["industry"] == "Consumer Electronics"
    assert info.country == modules["assetProfile"]["country"] == "United States"
    assert (
        info.shares_outstanding
        == modules["defaultKeyStatistics"]["sharesOutstanding"]
        == 15022100480
    )
    assert info.calendar == "XNYS"


def test_instrument_request_asks_for_yfinance_info_modules(
    provider: YahooProvider, replay: YahooReplayAdapter
) -> None:
    provider.instrument("AAPL")

    (call,) = replay.calls_to(SUMMARY_PATH.format(symbol="AAPL"))
    assert set(call.params["modules"].split(",")) == {
        "financialData",
        "quoteType",
        "defaultKeyStatistics",
        "assetProfile",
        "summaryDetail",
        "price",
    }
    assert call.params["formatted"] == "false"


@pytest.mark.parametrize(
    ("symbol", "file", "description"),
    [
        (
            "ADH",
            "yahoo/quoteSummary/error_404_ADH_no_fundamentals.json",
            "No fundamentals data found for any of the summaryTypes=assetProfile",
        ),
        # Recorded for the malformed symbol "QQQ,", which normalize_symbol refuses; served for ZZZZ.
        (
            "ZZZZ",
            "yahoo/quoteSummary/error_404_quote_not_found_for_ticker_symbol.json",
            "Quote not found for ticker symbol: QQQ,",
        ),
    ],
)
def test_company_snapshot_quote_summary_404_raises_unknown_symbol_without_retry(
    provider: YahooProvider,
    replay: YahooReplayAdapter,
    sleeps: SleepRecorder,
    symbol: str,
    file: str,
    description: str,
) -> None:
    # Reuse: both 404s were recorded with modules=assetProfile; served here for
    # the provider's module list, which Yahoo answers with the same 404.
    replay.serve(SUMMARY_PATH.format(symbol=symbol), file)

    with pytest.raises(UnknownSymbol) as caught:
        provider.company_snapshot(symbol, as_of=date(2025, 2, 24))

    assert str(caught.value) == (
        f"yahoo does not know symbol {symbol!r} (quoteSummary): HTTP 404 Not Found: {description}"
    )
    assert caught.value.details["status"] == 404
    assert sleeps.delays == []
    # One attempt: yfinance itself re-sends once with a fresh crumb after any 4xx.
    assert len(replay.calls_to(SUMMARY_PATH.format(symbol=symbol))) == 2


def test_instrument_quote_summary_404_raises_unknown_symbol(
    provider: YahooProvider, replay: YahooReplayAdapter
) -> None:
    replay.serve(
        SUMMARY_PATH.format(symbol="ADH"), "yahoo/quoteSummary/error_404_ADH_no_fundamentals.json"
    )

    with pytest.raises(UnknownSymbol, match="'ADH'"):
        provider.instrument("ADH")


def test_instrument_malformed_symbol_raises_invalid_input_before_any_request(
    provider: YahooProvider, replay: YahooReplayAdapter
) -> None:
    with pytest.raises(InvalidInput, match="symbol must be 1-32 characters"):
        provider.instrument("QQQ,")

    assert replay.calls == []
