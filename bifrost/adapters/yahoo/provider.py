"""Yahoo Finance market data, fetched through yfinance's HTTP layer.

yfinance owns the parts of talking to Yahoo that break often and are not ours to
maintain: the browser-like session, the cookie and crumb dance, and the consent
page. This module sends the same ``/v8/finance/chart`` and
``/v10/finance/quoteSummary`` requests that ``Ticker.history`` and ``Ticker.info``
send, through ``yfinance.data.YfData``, and turns the JSON into domain types
(bars as traded: a range ending before now costs one more, coarse chart request for
the splits since, see the Notes of ``YahooProvider``).

It does not call ``Ticker.history`` itself (yfinance 1.7) because that hides what
is needed to classify failures: a 400, a 404 and a 5xx with a JSON error body all
become ``YFPricesMissingError``; past ranges are fetched through an in-process
cache that also keeps error responses, so a retry would replay the failure; and
each new ticker costs an extra time-zone request whose fallback to ``Ticker.info``
runs only twice per process. ``Ticker.info`` likewise logs HTTP errors from its default
curl_cffi session and returns a partial dict unless ``yf.config.debug.hide_exceptions``
is turned off for the whole process.
"""

from __future__ import annotations

import json
import math
import re
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from decimal import ROUND_HALF_EVEN, Decimal
from typing import Any, TypeVar

import numpy as np
import pandas as pd
import requests
import yfinance as yf  # type: ignore[import-untyped]
from curl_cffi import requests as curl_requests
from yfinance.data import YfData  # type: ignore[import-untyped]
from yfinance.exceptions import YFException, YFRateLimitError  # type: ignore[import-untyped]

from bifrost.core.calendars import calendar_for_exchange
from bifrost.core.errors import (
    BifrostError,
    InvalidInput,
    NoDataInRange,
    ProviderError,
    RateLimited,
    TransientProviderError,
    UnknownSymbol,
)
from bifrost.core.time import check_range, ensure_utc
from bifrost.marketdata.types import (
    BAR_COLUMNS,
    PRICE_COLUMNS,
    ActionKind,
    AssetClass,
    CompanySnapshot,
    CorporateAction,
    History,
    InstrumentInfo,
    Timeframe,
    make_bars,
    normalize_symbol,
    session_label,
)

__all__ = ["YahooProvider"]

_T = TypeVar("_T")

Session = requests.Session | curl_requests.Session

_API_ROOT = "https://query2.finance.yahoo.com"
_CHART_PATH = "/v8/finance/chart/{symbol}"
_QUOTE_SUMMARY_PATH = "/v10/finance/quoteSummary/{symbol}"

# Yahoo interval names ("60m" as yfinance documents it; "1h" is an alias).
_INTERVALS: dict[Timeframe, str] = {
    Timeframe.M1: "1m",
    Timeframe.M5: "5m",
    Timeframe.M15: "15m",
    Timeframe.H1: "60m",
    Timeframe.D1: "1d",
}
# The events yfinance 1.7 asks for in Ticker.history.
_CHART_EVENTS = "div,splits,capitalGains"
# The split-history request (see YahooProvider, Notes): the coarsest bars Yahoo serves
# for a period1/period2 range, since only its events.splits is read.
_SPLIT_HISTORY_INTERVAL = "3mo"
_SPLIT_HISTORY_EVENTS = "splits"

# The modules yfinance 1.7 asks for in Ticker.info, plus "price" (name, currency, market cap).
_QUOTE_SUMMARY_MODULES: tuple[str, ...] = (
    "financialData",
    "quoteType",
    "defaultKeyStatistics",
    "assetProfile",
    "summaryDetail",
    "price",
)

_ASSET_CLASSES: dict[str, AssetClass] = {
    "EQUITY": AssetClass.EQUITY,
    "ETF": AssetClass.ETF,
    "INDEX": AssetClass.INDEX,
    "MUTUALFUND": AssetClass.FUND,
    "MONEYMARKET": AssetClass.FUND,
    "CURRENCY": AssetClass.FX,
    "CRYPTOCURRENCY": AssetClass.CRYPTO,
}

# Where each snapshot field lives in quoteSummary, as (module, key) in order of preference.
# Some keys appear in two modules with different values (forwardPE is computed from a
# different price in summaryDetail and defaultKeyStatistics); the first one present wins.
_FUNDAMENTAL_SOURCES: dict[str, tuple[tuple[str, str], ...]] = {
    "market_cap": (("summaryDetail", "marketCap"), ("price", "marketCap")),
    "enterprise_value": (("defaultKeyStatistics", "enterpriseValue"),),
    "trailing_pe": (("summaryDetail", "trailingPE"),),
    "forward_pe": (("summaryDetail", "forwardPE"), ("defaultKeyStatistics", "forwardPE")),
    "peg_ratio": (
        ("defaultKeyStatistics", "pegRatio"),
        ("defaultKeyStatistics", "trailingPegRatio"),
    ),
    "price_to_book": (("defaultKeyStatistics", "priceToBook"),),
    "price_to_sales": (("summaryDetail", "priceToSalesTrailing12Months"),),
    "eps_trailing": (("defaultKeyStatistics", "trailingEps"),),
    "eps_forward": (("defaultKeyStatistics", "forwardEps"),),
    "dividend_rate": (("summaryDetail", "dividendRate"),),
    "dividend_yield": (("summaryDetail", "dividendYield"),),
    "payout_ratio": (("summaryDetail", "payoutRatio"),),
    "beta": (("summaryDetail", "beta"), ("defaultKeyStatistics", "beta")),
    "profit_margin": (
        ("financialData", "profitMargins"),
        ("defaultKeyStatistics", "profitMargins"),
    ),
    "operating_margin": (("financialData", "operatingMargins"),),
    "return_on_equity": (("financialData", "returnOnEquity"),),
    "return_on_assets": (("financialData", "returnOnAssets"),),
    "revenue": (("financialData", "totalRevenue"),),
    "revenue_growth": (("financialData", "revenueGrowth"),),
    "earnings_growth": (("financialData", "earningsGrowth"),),
    "gross_margin": (("financialData", "grossMargins"),),
    "total_cash": (("financialData", "totalCash"),),
    "total_debt": (("financialData", "totalDebt"),),
    "debt_to_equity": (("financialData", "debtToEquity"),),
    "current_ratio": (("financialData", "currentRatio"),),
    "book_value_per_share": (("defaultKeyStatistics", "bookValue"),),
    "shares_outstanding": (("defaultKeyStatistics", "sharesOutstanding"),),
    "float_shares": (("defaultKeyStatistics", "floatShares"),),
    "fifty_two_week_high": (("summaryDetail", "fiftyTwoWeekHigh"),),
    "fifty_two_week_low": (("summaryDetail", "fiftyTwoWeekLow"),),
    "average_volume": (("summaryDetail", "averageVolume"), ("price", "averageDailyVolume3Month")),
}
_GOVERNANCE_SOURCES: dict[str, str] = {
    "audit_risk": "auditRisk",
    "board_risk": "boardRisk",
    "compensation_risk": "compensationRisk",
    "shareholder_rights_risk": "shareHolderRightsRisk",
    "overall_risk": "overallRisk",
}

# Yahoo's 400 for a range before listing: "Data doesn't exist for startDate = ..., endDate = ...".
_NO_DATA_RE = re.compile(r"(doesn['\u2019]t|does not) exist", re.IGNORECASE)

# Dividend and capital-gain amounts arrive as binary floats; rounding to eight decimals
# drops float noise (0.2050000011920929 -> 0.205) and keeps sub-cent amounts.
_AMOUNT_PLACES = 8

# YfData is a process-wide singleton holding one session and one crumb. The lock keeps
# "bind our session, send the request" atomic when several providers share a process.
_YF_LOCK = threading.Lock()


def _utc_now() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True, slots=True)
class _Request:
    # What one provider call asked for, to name it in error messages and details.
    symbol: str
    what: str
    details: dict[str, Any] = field(default_factory=dict)
    in_range: bool = False


class YahooProvider:
    """Market data from Yahoo Finance: bars, corporate actions, instruments, fundamentals.

    Parameters
    ----------
    session
        A ``requests.Session`` or ``curl_cffi.requests.Session`` that every request of
        this provider goes through. ``None`` creates a ``curl_cffi`` session that
        impersonates Chrome, as yfinance does by default.
    max_retries
        How many times a retryable failure (``RateLimited``,
        ``TransientProviderError``) is retried before it is raised; 0 disables retries.
    backoff_seconds
        Delay before the first retry; each further retry waits twice as long.
    sleep
        Called with the delay in seconds before each retry (injectable for tests).
    cache_dir
        Folder for yfinance's cookie, time-zone and ISIN caches. ``None`` leaves
        yfinance's default (a folder in the user's cache directory).
    timeout_seconds
        Network timeout of each HTTP request.
    now
        Returns the current instant (timezone-aware); it decides whether
        :meth:`history` needs the split-history request (see Notes). Defaults to
        the UTC wall clock; injectable for tests.

    Raises
    ------
    InvalidInput
        If ``session`` is of an unsupported type, a number is out of range, or
        ``now`` is not callable.

    Notes
    -----
    :meth:`history` returns bars as traded and per-share amounts as paid, because
    Bifrost stores unadjusted bars and applies splits and dividends itself
    (``bifrost.marketdata.adjust.adjust_bars``) from the stored split actions.

    Yahoo's chart ``open/high/low/close/volume`` (not ``adjclose``) are free of
    dividend adjustment, but Yahoo has already adjusted them for every split up to
    the moment of the request, and so the ``events.dividends`` amounts: AAPL's
    close on 2020-01-02 comes back as 75.0875, the traded 300.35 divided by the
    4:1 split of 2020-08-31, and its volume four times the traded one. Stored as
    they are, the returned split actions would then adjust them a second time.

    So :meth:`history` undoes Yahoo's split adjustment. It needs every split with
    an ex-date from the start of the range up to now. The main response's
    ``events.splits`` lists those up to the end of the range; when the range ends
    before ``now()``, one more chart request (interval ``3mo``, ``events=splits``,
    from the start of the range to now; its bars are ignored) supplies the later
    ones. Splits from both are merged by ex-date. With ``r_s`` the ratio of split
    ``s`` (new shares per old share, 4 for 4:1) and ``d`` a bar's session date (the
    exchange-local date for intraday bars):

    * ``F(d) = prod(r_s for splits s with ex_date_s > d)``;
    * ``open, high, low, close`` are multiplied by ``F(d)``, ``volume`` divided by it;
    * a dividend with ex-date ``e`` is multiplied by ``F(e)``.

    A bar on or after the last split's ex-date keeps Yahoo's values. Capital-gain
    amounts are returned as Yahoo reports them (no recording shows whether Yahoo
    split-adjusts them). The split actions returned are still only those with
    ex-dates inside the requested range. The result is only as correct as Yahoo's
    split list: a split Yahoo applied to the prices but does not list (or the
    reverse) is not detected here.

    yfinance keeps one session per process (``YfData`` is a singleton), so this
    provider binds its own session before each request under a module lock, and
    turns off yfinance's own retries (``yf.config.network.retries``) for the
    duration, since retrying is done here with the injected ``sleep``. yfinance
    still re-sends a request once with a fresh cookie and crumb after any HTTP
    4xx/5xx; that is part of one attempt here.
    """

    name: str = "yahoo"

    def __init__(
        self,
        *,
        session: Session | None = None,
        max_retries: int = 4,
        backoff_seconds: float = 1.0,
        sleep: Callable[[float], None] = time.sleep,
        cache_dir: str | None = None,
        timeout_seconds: float = 30.0,
        now: Callable[[], datetime] = _utc_now,
    ) -> None:
        if session is not None and not isinstance(
            session, requests.Session | curl_requests.Session
        ):
            raise InvalidInput(
                "session must be a requests.Session or curl_cffi.requests.Session, "
                f"was {type(session).__name__}"
            )
        if isinstance(max_retries, bool) or not isinstance(max_retries, int) or max_retries < 0:
            raise InvalidInput(f"max_retries must be a non-negative integer, was {max_retries!r}")
        if not math.isfinite(backoff_seconds) or backoff_seconds < 0:
            raise InvalidInput(
                f"backoff_seconds must be finite and non-negative, was {backoff_seconds!r}"
            )
        if not math.isfinite(timeout_seconds) or timeout_seconds <= 0:
            raise InvalidInput(
                f"timeout_seconds must be finite and positive, was {timeout_seconds!r}"
            )
        if not callable(now):
            raise InvalidInput(f"now must be callable, was {type(now).__name__}")
        self._session: Session = (
            session if session is not None else curl_requests.Session(impersonate="chrome")
        )
        self._max_retries = max_retries
        self._backoff_seconds = float(backoff_seconds)
        self._sleep = sleep
        self._timeout_seconds = float(timeout_seconds)
        self._now = now
        if cache_dir is not None:
            yf.set_tz_cache_location(str(cache_dir))

    # ------------------------------------------------------------------ public API

    def history(
        self, symbol: str, *, timeframe: Timeframe | str, start: datetime, end: datetime
    ) -> History:
        """Fetch bars in ``[start, end)`` and the corporate actions with ex-dates in that range.

        Parameters
        ----------
        symbol
            Yahoo ticker (``AAPL``, ``BRK-B``, ``OCDO.L``, ``EURUSD=X``).
        timeframe
            Bar size: 1m, 5m, 15m, 1h or 1d.
        start, end
            Timezone-aware bounds of the half-open range.

        Returns
        -------
        History
            Bars labelled per the bar-frame convention (intraday bars by their open
            instant, daily bars by session date at midnight UTC), regular-session
            intraday bars only, rows with a missing price dropped, prices and
            volumes as traded (Yahoo's split adjustment undone, see Notes of the
            class); splits (ratio), dividends (amount per share as of the ex-date)
            and capital gains (amount per share) whose ex-date falls in the range;
            and the instrument described by the chart's metadata, or ``None`` if the
            metadata is incomplete.

        Raises
        ------
        InvalidInput
            If the symbol or timeframe is malformed, a bound is naive, or
            ``start >= end``; nothing is requested. Also if ``now()`` does not
            return a timezone-aware datetime.
        UnknownSymbol
            If Yahoo does not know the symbol (or it is delisted).
        NoDataInRange
            If the symbol is known but has no bars in the range.
        RateLimited, TransientProviderError
            If Yahoo kept failing in a retryable way after ``max_retries`` retries.
        ProviderError
            For any other failure, including a malformed response and two
            responses naming different ratios for a split on the same date.
            The split-history request (see Notes of the class) fails the call as
            the main request would, except that a 400 "data doesn't exist" is a
            ``ProviderError`` there, not ``NoDataInRange``.
        """
        symbol = normalize_symbol(symbol)
        timeframe = Timeframe.parse(timeframe)
        start, end = check_range(start, end)
        request = _Request(
            symbol=symbol,
            what=f"{timeframe.value} bars in [{start.isoformat()}, {end.isoformat()})",
            details={
                "timeframe": timeframe.value,
                "start": start.isoformat(),
                "end": end.isoformat(),
            },
            in_range=True,
        )
        params = {
            "period1": math.floor(start.timestamp()),
            "period2": math.ceil(end.timestamp()),
            "interval": _INTERVALS[timeframe],
            "includePrePost": "false",
            "events": _CHART_EVENTS,
        }
        payload = self._fetch_json(
            _CHART_PATH.format(symbol=symbol), params, request, envelope="chart"
        )
        chart = _parse_chart(payload, request, timeframe=timeframe, start=start, end=end)
        splits = chart.splits
        # Read after the main response: Yahoo adjusted it for the splits up to about now.
        now = ensure_utc(self._now(), field="now()")
        if end < now:
            # The main response lists splits up to the end of the range only.
            later = self._split_history(symbol, start=start, now=now, tz_name=chart.tz_name)
            splits = _merge_splits(splits, later, request)
        return _as_traded_history(chart, request, splits)

    def _split_history(
        self, symbol: str, *, start: datetime, now: datetime, tz_name: str
    ) -> dict[date, Decimal]:
        # Every split from the start of the range up to now (class Notes); bars ignored.
        request = _Request(
            symbol=symbol,
            what=f"split history in [{start.isoformat()}, {now.isoformat()}]",
            details={
                "purpose": "split history",
                "start": start.isoformat(),
                "now": now.isoformat(),
            },
        )
        params = {
            "period1": math.floor(start.timestamp()),
            "period2": math.ceil(now.timestamp()),
            "interval": _SPLIT_HISTORY_INTERVAL,
            "includePrePost": "false",
            "events": _SPLIT_HISTORY_EVENTS,
        }
        payload = self._fetch_json(
            _CHART_PATH.format(symbol=symbol), params, request, envelope="chart"
        )
        results = payload["chart"].get("result") or []
        if not results or not isinstance(results[0], Mapping):
            # Not "no splits": the symbol has bars, so an empty answer is a fault.
            raise ProviderError(
                f"yahoo chart for {request.what} for {symbol!r} has an empty result",
                details=_details(request),
            )
        return _splits_from_events(results[0].get("events") or {}, request, tz_name=tz_name)

    def instrument(self, symbol: str) -> InstrumentInfo:
        """Describe ``symbol`` from Yahoo's quoteSummary.

        Parameters
        ----------
        symbol
            Yahoo ticker.

        Returns
        -------
        InstrumentInfo
            Name, exchange, currency, asset class, sector, industry, country,
            shares outstanding and the exchange calendar.

        Raises
        ------
        InvalidInput
            If the symbol is malformed; nothing is requested.
        UnknownSymbol
            If Yahoo has no quote or fundamentals for the symbol.
        RateLimited, TransientProviderError, ProviderError
            As for :meth:`history`.
        """
        symbol = normalize_symbol(symbol)
        request = _Request(symbol=symbol, what="quoteSummary")
        modules = self._quote_summary(request)
        return _instrument_from_summary(modules, request)

    def company_snapshot(self, symbol: str, *, as_of: date | None = None) -> CompanySnapshot:
        """Fetch today's fundamentals and governance risk scores of ``symbol``.

        Parameters
        ----------
        symbol
            Yahoo ticker.
        as_of
            Date to stamp the snapshot with; today's UTC date when ``None``.

        Returns
        -------
        CompanySnapshot
            Every field of ``FUNDAMENTAL_FIELDS`` (``None`` where Yahoo has no
            value; ratios and yields as Yahoo reports them, as fractions) and of
            ``GOVERNANCE_FIELDS`` (ISS deciles 1-10), the instrument when Yahoo
            describes it fully, and the raw quoteSummary modules.

        Raises
        ------
        InvalidInput
            If the symbol is malformed or ``as_of`` is not a date; nothing is requested.
        UnknownSymbol
            If Yahoo has no quote or fundamentals for the symbol.
        RateLimited, TransientProviderError, ProviderError
            As for :meth:`history`.
        """
        symbol = normalize_symbol(symbol)
        if as_of is None:
            as_of = datetime.now(UTC).date()
        elif isinstance(as_of, datetime) or not isinstance(as_of, date):
            raise InvalidInput(f"as_of must be a date, was {type(as_of).__name__}")
        request = _Request(symbol=symbol, what="quoteSummary")
        modules = self._quote_summary(request)
        fundamentals = {
            name: _first_number(modules, sources) for name, sources in _FUNDAMENTAL_SOURCES.items()
        }
        profile = modules.get("assetProfile") or {}
        governance = {name: _score(profile.get(key)) for name, key in _GOVERNANCE_SOURCES.items()}
        try:
            instrument: InstrumentInfo | None = _instrument_from_summary(modules, request)
        except ProviderError:
            instrument = None
        return CompanySnapshot(
            symbol=symbol,
            as_of=as_of,
            source=self.name,
            fundamentals=fundamentals,
            governance=governance,
            instrument=instrument,
            raw=modules,
        )

    # ------------------------------------------------------------------ transport

    def _quote_summary(self, request: _Request) -> dict[str, Any]:
        params = {
            "modules": ",".join(_QUOTE_SUMMARY_MODULES),
            "corsDomain": "finance.yahoo.com",
            "formatted": "false",
            "symbol": request.symbol,
            "lang": "en-US",
            "region": "US",
        }
        path = _QUOTE_SUMMARY_PATH.format(symbol=request.symbol)
        payload = self._fetch_json(path, params, request, envelope="quoteSummary")
        results = payload["quoteSummary"].get("result") or []
        if not results or not isinstance(results[0], Mapping):
            raise UnknownSymbol(
                f"yahoo does not know symbol {request.symbol!r} ({request.what}): empty result",
                details=_details(request),
            )
        return dict(results[0])

    def _fetch_json(
        self, path: str, params: Mapping[str, Any], request: _Request, *, envelope: str
    ) -> dict[str, Any]:
        url = _API_ROOT + path

        def attempt() -> dict[str, Any]:
            try:
                response = self._get(url, params)
            except YFRateLimitError as exc:
                raise RateLimited(
                    f"yahoo rate-limited {request.what} for {request.symbol!r}: HTTP 429 Too Many Requests",
                    details=_details(request, status=429),
                ) from exc
            except (YFException, OSError) as exc:
                # OSError covers requests' and curl_cffi's exception trees and the builtins.
                raise _transport_failure(exc, request) from exc
            return _decode(response, request, envelope=envelope)

        return self._with_retries(attempt)

    def _get(self, url: str, params: Mapping[str, Any]) -> Any:
        with _YF_LOCK:
            # Constructing YfData with a session installs it in the singleton.
            data = YfData(session=self._session)
            network = yf.config.network
            saved_retries = network.retries
            network.retries = 0
            try:
                return data.get(url=url, params=dict(params), timeout=self._timeout_seconds)
            finally:
                network.retries = saved_retries

    def _with_retries(self, attempt: Callable[[], _T]) -> _T:
        retries = 0
        while True:
            try:
                return attempt()
            except TransientProviderError as exc:  # RateLimited included
                exc.details["attempts"] = retries + 1
                if retries >= self._max_retries:
                    raise
                self._sleep(self._backoff_seconds * 2**retries)
                retries += 1


# ---------------------------------------------------------------------- failures


def _details(request: _Request, **extra: Any) -> dict[str, Any]:
    return {"provider": "yahoo", "symbol": request.symbol, **request.details, **extra}


def _transport_failure(exc: BaseException, request: _Request) -> ProviderError:
    transient = (
        TimeoutError,
        ConnectionError,
        requests.exceptions.Timeout,
        requests.exceptions.ConnectionError,
        requests.exceptions.ChunkedEncodingError,
        curl_requests.exceptions.Timeout,
        curl_requests.exceptions.ConnectionError,
        curl_requests.exceptions.ChunkedEncodingError,
    )
    reason = f"{type(exc).__name__}: {exc}"
    details = _details(request, error=type(exc).__name__)
    if isinstance(exc, transient):
        return TransientProviderError(
            f"yahoo request for {request.what} of {request.symbol!r} failed in transit ({reason})",
            details=details,
        )
    return ProviderError(
        f"yahoo request for {request.what} of {request.symbol!r} failed ({reason})", details=details
    )


def _decode(response: Any, request: _Request, *, envelope: str) -> dict[str, Any]:
    status = int(response.status_code)
    text = response.text or ""
    try:
        payload = json.loads(text)
    except ValueError:
        payload = None
    body = payload.get(envelope) if isinstance(payload, dict) else None
    error = body.get("error") if isinstance(body, dict) else None
    if status == 200 and isinstance(body, dict) and not error:
        return payload  # type: ignore[return-value]
    if isinstance(error, Mapping):
        code = str(error.get("code") or "")
        description = str(error.get("description") or "")
    else:
        code, description = "", " ".join(text.split())[:200]
    raise _http_failure(status, code, description, request, json_body=payload is not None)


def _http_failure(
    status: int, code: str, description: str, request: _Request, *, json_body: bool
) -> BifrostError:
    reason = (
        f"HTTP {status}"
        + (f" {code}" if code else "")
        + (f": {description}" if description else "")
    )
    details = _details(request, status=status, yahoo_code=code, yahoo_description=description)
    subject = f"{request.what} for {request.symbol!r}"
    if status == 429 or code == "Too Many Requests":
        return RateLimited(f"yahoo rate-limited {subject}: {reason}", details=details)
    if status >= 500 or status == 408 or (status == 200 and not json_body):
        return TransientProviderError(f"yahoo failed to serve {subject}: {reason}", details=details)
    if status == 404 or code == "Not Found":
        return UnknownSymbol(
            f"yahoo does not know symbol {request.symbol!r} ({request.what}): {reason}",
            details=details,
        )
    if request.in_range and _NO_DATA_RE.search(description):
        return NoDataInRange(f"yahoo has no data for {subject}: {reason}", details=details)
    return ProviderError(f"yahoo rejected the request for {subject}: {reason}", details=details)


# ---------------------------------------------------------------------- chart parsing


@dataclass(frozen=True, slots=True)
class _Chart:
    # One parsed chart response, before Yahoo's split adjustment is undone.
    timeframe: Timeframe
    start: datetime
    end: datetime
    meta: Mapping[str, Any]
    tz_name: str
    bars: pd.DataFrame  # in [start, end), as Yahoo sent them (split-adjusted)
    events: Mapping[str, Any]
    splits: dict[date, Decimal]  # every split in events.splits, in range or not


def _parse_chart(
    payload: dict[str, Any],
    request: _Request,
    *,
    timeframe: Timeframe,
    start: datetime,
    end: datetime,
) -> _Chart:
    results = payload["chart"].get("result") or []
    if not results or not isinstance(results[0], Mapping):
        raise NoDataInRange(
            f"yahoo has no data for {request.what} for {request.symbol!r}: empty result",
            details=_details(request),
        )
    result = results[0]
    meta = result.get("meta") or {}
    tz_name = meta.get("exchangeTimezoneName") or "UTC"
    bars = _bars_from_result(result, request, timeframe=timeframe, tz_name=tz_name)
    bars = bars[(bars.index >= pd.Timestamp(start)) & (bars.index < pd.Timestamp(end))]
    if bars.empty:
        raise NoDataInRange(
            f"yahoo has no data for {request.what} for {request.symbol!r}: "
            "no bars with prices in range",
            details=_details(request),
        )
    events = result.get("events") or {}
    return _Chart(
        timeframe=timeframe,
        start=start,
        end=end,
        meta=meta,
        tz_name=tz_name,
        bars=bars,
        events=events,
        splits=_splits_from_events(events, request, tz_name=tz_name),
    )


def _as_traded_history(chart: _Chart, request: _Request, splits: Mapping[date, Decimal]) -> History:
    # Undo Yahoo's split adjustment (class Notes) and build the History.
    adjustment = _SplitFactors(splits)
    bars = chart.bars
    if chart.timeframe.is_intraday:
        sessions = bars.index.tz_convert(chart.tz_name).tz_localize(None)
    else:
        sessions = bars.index.tz_localize(None)  # daily labels: session date at midnight UTC
    days = sessions.to_numpy(dtype="datetime64[ns]").astype("datetime64[D]")
    factor = adjustment.for_days(days)
    if (factor != 1.0).any():
        bars = bars.copy()
        for column in PRICE_COLUMNS:
            bars[column] = bars[column].to_numpy(dtype="float64") * factor
        bars["volume"] = bars["volume"].to_numpy(dtype="float64") / factor
    actions = _actions_from_events(
        chart.events,
        request,
        currency=chart.meta.get("currency") or "USD",
        tz_name=chart.tz_name,
        start=chart.start,
        end=chart.end,
        dividend_factor=adjustment.after,
    )
    return History(
        symbol=request.symbol,
        timeframe=chart.timeframe,
        bars=bars,
        actions=actions,
        instrument=_instrument_from_meta(request.symbol, chart.meta),
    )


class _SplitFactors:
    """``F(d)``: the product of the ratios of the splits with ex-date after day ``d``."""

    def __init__(self, splits: Mapping[date, Decimal]) -> None:
        self._days = np.array(sorted(splits), dtype="datetime64[D]")
        ratios = [splits[day] for day in sorted(splits)]
        # suffix[i] = product of ratios[i:]; suffix[len] = 1 (no split after the day).
        suffix = [Decimal(1)]
        for ratio in reversed(ratios):
            suffix.append(suffix[-1] * ratio)
        self._suffix = suffix[::-1]
        self._suffix_float = np.array([float(f) for f in self._suffix], dtype="float64")

    def after(self, day: date) -> Decimal:
        index = int(np.searchsorted(self._days, np.datetime64(day, "D"), side="right"))
        return self._suffix[index]

    def for_days(self, days: np.ndarray) -> np.ndarray:
        return self._suffix_float[np.searchsorted(self._days, days, side="right")]


def _merge_splits(
    first: Mapping[date, Decimal], second: Mapping[date, Decimal], request: _Request
) -> dict[date, Decimal]:
    merged = dict(first)
    for day, ratio in second.items():
        if merged.setdefault(day, ratio) != ratio:
            raise ProviderError(
                f"yahoo named two ratios for the split of {request.symbol!r} on {day}: "
                f"{merged[day]} and {ratio}",
                details=_details(request, ex_date=day.isoformat()),
            )
    return merged


def _splits_from_events(
    events: Mapping[str, Any], request: _Request, *, tz_name: str
) -> dict[date, Decimal]:
    splits: dict[date, Decimal] = {}
    for entry in (events.get("splits") or {}).values():
        try:
            day = _ex_date(entry, tz_name)
            ratio = _split_ratio(entry)
        except (KeyError, TypeError, ValueError, ArithmeticError) as exc:
            raise ProviderError(
                f"yahoo chart for {request.symbol!r} has a malformed splits event {entry!r}: {exc}",
                details=_details(request),
            ) from exc
        splits = _merge_splits(splits, {day: ratio}, request)
    return splits


def _ex_date(entry: Mapping[str, Any], tz_name: str) -> date:
    # Yahoo stamps an event with the opening instant of its ex-date's session.
    return pd.Timestamp(int(entry["date"]), unit="s", tz="UTC").tz_convert(tz_name).date()


def _bars_from_result(
    result: Mapping[str, Any], request: _Request, *, timeframe: Timeframe, tz_name: str
) -> pd.DataFrame:
    timestamps = result.get("timestamp") or []
    quotes = (result.get("indicators") or {}).get("quote") or [{}]
    quote = quotes[0] or {}
    count = len(timestamps)
    columns: dict[str, np.ndarray] = {}
    for name in BAR_COLUMNS:
        values = quote.get(name)
        if values is None:
            values = [None] * count
        if len(values) != count:
            raise ProviderError(
                f"yahoo chart for {request.symbol!r} is malformed: {len(values)} {name} values "
                f"for {count} timestamps",
                details=_details(request),
            )
        columns[name] = np.array(values, dtype="float64")  # null -> NaN
    seconds = np.asarray(timestamps, dtype="int64")
    instants = pd.to_datetime(seconds, unit="s", utc=True)
    if timeframe.is_intraday:
        keep = _in_regular_session(seconds, result.get("meta", {}).get("tradingPeriods"))
        index = instants
    else:
        keep = np.ones(count, dtype=bool)
        index = pd.DatetimeIndex([session_label(day) for day in instants.tz_convert(tz_name).date])
    bars = make_bars(
        index[keep],
        columns["open"][keep],
        columns["high"][keep],
        columns["low"][keep],
        columns["close"][keep],
        columns["volume"][keep],
    )
    bars = bars.dropna(subset=list(PRICE_COLUMNS))
    bars = bars.assign(volume=bars["volume"].fillna(0.0))
    bars = bars.sort_index(kind="stable")
    # A daily request reaching today gets today's bar and the live point on the same date.
    return bars[~bars.index.duplicated(keep="first")]


def _in_regular_session(seconds: np.ndarray, trading_periods: Any) -> np.ndarray:
    # Yahoo may return pre/post-market bars even with includePrePost=false; keep the
    # bars that open inside one of the regular periods it lists. Without periods, keep all.
    if isinstance(trading_periods, Mapping):
        trading_periods = trading_periods.get("regular")
    periods: list[tuple[int, int]] = []
    for day in trading_periods or []:
        for period in day if isinstance(day, list) else [day]:
            if isinstance(period, Mapping) and "start" in period and "end" in period:
                periods.append((int(period["start"]), int(period["end"])))
    if not periods:
        return np.ones(len(seconds), dtype=bool)
    periods.sort()
    starts = np.array([p[0] for p in periods], dtype="int64")
    ends = np.array([p[1] for p in periods], dtype="int64")
    position = np.searchsorted(starts, seconds, side="right") - 1
    inside = position >= 0
    return inside & (seconds < ends[np.clip(position, 0, None)])


def _actions_from_events(
    events: Mapping[str, Any],
    request: _Request,
    *,
    currency: str,
    tz_name: str,
    start: datetime,
    end: datetime,
    dividend_factor: Callable[[date], Decimal],
) -> tuple[CorporateAction, ...]:
    # An action is in range when its ex-date's session label is in [day of start, end).
    # Yahoo's dividend amounts are split-adjusted like its prices: dividend_factor(ex_date)
    # (the class Notes' F) restores the amount per share as of the ex-date.
    first_label = session_label(start)
    end_label = pd.Timestamp(end)
    actions: list[CorporateAction] = []
    kinds = (
        ("splits", ActionKind.SPLIT),
        ("dividends", ActionKind.DIVIDEND),
        ("capitalGains", ActionKind.CAPITAL_GAIN),
    )
    for key, kind in kinds:
        for entry in (events.get(key) or {}).values():
            try:
                ex_date = _ex_date(entry, tz_name)
                if not first_label <= session_label(ex_date) < end_label:
                    continue
                if kind is ActionKind.SPLIT:
                    value = _split_ratio(entry)
                elif kind is ActionKind.DIVIDEND:
                    value = _amount(entry["amount"], scale=dividend_factor(ex_date))
                else:
                    value = _amount(entry["amount"])
                actions.append(
                    CorporateAction(
                        symbol=request.symbol,
                        ex_date=ex_date,
                        kind=kind,
                        value=value,
                        currency=str(entry.get("currency") or currency),
                    )
                )
            except (KeyError, TypeError, ValueError, ArithmeticError) as exc:
                raise ProviderError(
                    f"yahoo chart for {request.symbol!r} has a malformed {key} event {entry!r}: {exc}",
                    details=_details(request),
                ) from exc
    return tuple(sorted(actions, key=lambda a: (a.ex_date, a.kind.value)))


def _split_ratio(entry: Mapping[str, Any]) -> Decimal:
    numerator = Decimal(str(entry["numerator"]))
    denominator = Decimal(str(entry["denominator"]))
    ratio = numerator / denominator
    return ratio.quantize(Decimal(1)) if ratio == ratio.to_integral_value() else ratio


def _amount(value: Any, *, scale: Decimal = Decimal(1)) -> Decimal:
    # scale multiplies the exact binary value before rounding, so float noise is not scaled up.
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise TypeError(f"amount must be a number, was {value!r}")
    exact = Decimal(repr(float(value))) * scale
    rounded = exact.quantize(
        Decimal(1).scaleb(-_AMOUNT_PLACES), rounding=ROUND_HALF_EVEN
    ).normalize()
    # normalize() writes 10 as 1E+1; keep whole amounts in plain notation.
    return rounded.quantize(Decimal(1)) if rounded == rounded.to_integral_value() else rounded


def _instrument_from_meta(symbol: str, meta: Mapping[str, Any]) -> InstrumentInfo | None:
    currency = meta.get("currency")
    if not currency:
        return None
    exchange = str(meta.get("exchangeName") or "")
    try:
        return InstrumentInfo(
            symbol=symbol,
            name=str(meta.get("longName") or meta.get("shortName") or ""),
            exchange=exchange,
            currency=str(currency),
            asset_class=_asset_class(meta.get("instrumentType")),
            calendar=calendar_for_exchange(exchange),
        )
    except InvalidInput:
        return None


# ---------------------------------------------------------------------- quoteSummary parsing


def _instrument_from_summary(modules: Mapping[str, Any], request: _Request) -> InstrumentInfo:
    quote_type = modules.get("quoteType") or {}
    price = modules.get("price") or {}
    profile = modules.get("assetProfile") or {}
    detail = modules.get("summaryDetail") or {}
    stats = modules.get("defaultKeyStatistics") or {}
    currency = price.get("currency") or detail.get("currency")
    if not currency:
        raise ProviderError(
            f"yahoo quoteSummary for {request.symbol!r} names no trading currency",
            details=_details(request),
        )
    exchange = str(quote_type.get("exchange") or price.get("exchange") or "")
    shares = _number(stats.get("sharesOutstanding"))
    try:
        return InstrumentInfo(
            symbol=request.symbol,
            name=str(
                quote_type.get("longName")
                or quote_type.get("shortName")
                or price.get("longName")
                or price.get("shortName")
                or ""
            ),
            exchange=exchange,
            currency=str(currency),
            asset_class=_asset_class(quote_type.get("quoteType") or price.get("quoteType")),
            sector=str(profile.get("sector") or ""),
            industry=str(profile.get("industry") or ""),
            country=str(profile.get("country") or ""),
            shares_outstanding=int(shares) if shares is not None else None,
            calendar=calendar_for_exchange(exchange),
        )
    except InvalidInput as exc:
        raise ProviderError(
            f"yahoo quoteSummary for {request.symbol!r} does not describe a valid instrument: {exc}",
            details=_details(request),
        ) from exc


def _asset_class(instrument_type: Any) -> AssetClass:
    return _ASSET_CLASSES.get(str(instrument_type or "").upper(), AssetClass.OTHER)


def _number(value: Any) -> float | None:
    # formatted=false gives plain numbers; formatted=true gives {"raw": .., "fmt": ..}.
    if isinstance(value, Mapping):
        value = value.get("raw")
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    number = float(value)
    return number if math.isfinite(number) else None


def _first_number(modules: Mapping[str, Any], sources: tuple[tuple[str, str], ...]) -> float | None:
    for module, key in sources:
        number = _number((modules.get(module) or {}).get(key))
        if number is not None:
            return number
    return None


def _score(value: Any) -> int | None:
    number = _number(value)
    return int(number) if number is not None else None
