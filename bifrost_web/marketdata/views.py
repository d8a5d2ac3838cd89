"""Portal pages for market data."""

from __future__ import annotations

from datetime import date, timedelta

import numpy as np
import pandas as pd
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render

from bifrost.core.errors import BifrostError
from bifrost.marketdata.types import GOVERNANCE_FIELDS, Timeframe
from bifrost_web.marketdata import models, selectors

RANGES = {"1m": timedelta(days=31), "3m": timedelta(days=92), "1y": timedelta(days=366),
          "5y": timedelta(days=5 * 366), "max": None}
INTRADAY_RANGES = {"1d": timedelta(days=1), "5d": timedelta(days=7), "1m": timedelta(days=31), "max": None}
SNAPSHOT_COLUMNS = ["as_of", "source", "market_cap", "trailing_pe", "forward_pe", "eps_trailing", "dividend_yield",
                    "beta", "price_to_book", "profit_margin", *GOVERNANCE_FIELDS]


@login_required
def market_list(request: HttpRequest) -> HttpResponse:
    query = request.GET.get("q", "")
    instruments = list(selectors.instrument_search(query=query, limit=200))
    summaries = {}
    for s in selectors.series_summaries(symbols=[i.symbol for i in instruments]):
        summaries.setdefault(s.symbol, []).append(s)
    rows = [{"instrument": i, "series": summaries.get(i.symbol, [])} for i in instruments]
    return render(request, "marketdata/list.html", {"rows": rows, "query": query})


def _chart_payload(bars: pd.DataFrame, timeframe: Timeframe) -> dict:
    close = bars["close"]
    sma20 = close.rolling(20).mean()
    sma50 = close.rolling(50).mean()
    std20 = close.rolling(20).std(ddof=0)  # Bollinger's population standard deviation

    def clean(series: pd.Series) -> list:
        values = series.to_numpy(dtype="float64")
        return [None if not np.isfinite(v) else round(float(v), 6) for v in values]

    if timeframe.is_intraday:
        x = [ts.tz_convert("America/New_York").strftime("%Y-%m-%d %H:%M") for ts in bars.index]
    else:
        x = [ts.strftime("%Y-%m-%d") for ts in bars.index]
    return {
        "x": x, "open": clean(bars["open"]), "high": clean(bars["high"]), "low": clean(bars["low"]),
        "close": clean(close), "volume": clean(bars["volume"]), "sma20": clean(sma20), "sma50": clean(sma50),
        "bb_upper": clean(sma20 + 2 * std20), "bb_lower": clean(sma20 - 2 * std20),
        "intraday": timeframe.is_intraday,
    }


def _cell(value) -> str:
    if value is None:
        return "—"
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, float):
        magnitude = abs(value)
        for limit, suffix in ((1e12, "T"), (1e9, "B"), (1e6, "M")):
            if magnitude >= limit:
                return f"{value / limit:.2f}{suffix}"
        return f"{value:.4g}"
    return str(value)


@login_required
def market_detail(request: HttpRequest, symbol: str) -> HttpResponse:
    try:
        instrument = selectors.instrument_get(symbol=symbol)
    except BifrostError as exc:
        raise Http404(exc.message) from exc
    series = selectors.series_summaries(symbols=[instrument.symbol])
    stored = sorted({Timeframe(s.timeframe) for s in series}, key=lambda t: t.minutes)
    default_tf = Timeframe.D1 if Timeframe.D1 in stored or any(t.is_intraday for t in stored) else None
    timeframe = Timeframe.parse(request.GET.get("tf") or (default_tf.value if default_tf else "1d"))
    ranges = INTRADAY_RANGES if timeframe.is_intraday else RANGES
    range_key = request.GET.get("range") or ("5d" if timeframe.is_intraday else "1y")
    if range_key not in ranges:
        range_key = "max"
    adjust = request.GET.get("adjust", "none")
    error = None
    chart = None
    try:
        last = max((s.last_ts for s in series), default=None)
        span = ranges[range_key]
        start = (last - span) if (last is not None and span is not None) else None
        bars = selectors.bars_read(symbol=instrument.symbol, timeframe=timeframe, start=start, adjust=adjust)
        if bars.empty:
            error = f"No {timeframe.value} bars stored for {instrument.symbol} in this range."
        else:
            chart = _chart_payload(bars.tail(5000), timeframe)
    except BifrostError as exc:
        error = exc.message
    snapshots = list(models.CompanySnapshot.objects.filter(instrument=instrument).order_by("-as_of")[:20])
    snapshot_rows = [[_cell(getattr(s, c)) for c in SNAPSHOT_COLUMNS] for s in snapshots]
    context = {
        "instrument": instrument, "series": series, "timeframes": [t.value for t in Timeframe],
        "timeframe": timeframe.value, "ranges": list(ranges), "range_key": range_key, "adjust": adjust,
        "chart": chart, "error": error, "snapshot_columns": SNAPSHOT_COLUMNS, "snapshot_rows": snapshot_rows,
        "actions": instrument.actions.order_by("-ex_date")[:50],
    }
    return render(request, "marketdata/detail.html", context)
