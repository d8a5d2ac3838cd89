"""Plotly figures of a backtest, and a standalone HTML tear sheet.

Figure data are written as plain JSON lists (not Plotly's base64 typed arrays),
so the numbers are readable in the HTML. The tear sheet embeds plotly.js from
the installed ``plotly`` package: it opens offline and loads nothing from a CDN.
"""

from __future__ import annotations

import html
import math
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import plotly.graph_objects as go

from bifrost.analytics.metrics import (
    MONTH_NAMES,
    PerformanceReport,
    ReturnsLike,
    TradesLike,
    _aligned,
    _as_returns,
    _float_column,
    monthly_returns_table,
    rolling_sharpe_ratio,
    underwater_series,
)
from bifrost.core.errors import InvalidInput

__all__ = [
    "equity_curve_figure",
    "monthly_returns_heatmap",
    "rolling_sharpe_figure",
    "tearsheet_html",
    "trade_markers_figure",
    "underwater_figure",
]

_LAYOUT = {"template": "plotly_white", "margin": {"l": 60, "r": 20, "t": 50, "b": 40}, "height": 380}


def _x(index: pd.DatetimeIndex | None, n: int) -> list[Any]:
    if index is None:
        return list(range(n))
    if index.tz is not None:
        index = index.tz_convert("UTC").tz_localize(None)
    daily = bool((index == index.normalize()).all())
    return list(index.strftime("%Y-%m-%d" if daily else "%Y-%m-%dT%H:%M:%S"))


def _y(values: np.ndarray | pd.Series) -> list[float | None]:
    return [None if not math.isfinite(v) else float(v) for v in np.asarray(values, dtype=np.float64)]


def equity_curve_figure(returns: ReturnsLike, benchmark: ReturnsLike | None = None, *,
                        starting_equity: float = 1.0) -> go.Figure:
    """Plot the growth of ``starting_equity`` for the strategy and a benchmark.

    Parameters
    ----------
    returns
        Simple returns per period.
    benchmark
        Benchmark returns, aligned as in :func:`performance_report`.
    starting_equity
        Value at the start (1.0 plots growth of one unit).

    Returns
    -------
    plotly.graph_objects.Figure
    """
    values, index = _as_returns(returns)
    x = _x(index, values.size)
    figure = go.Figure()
    figure.add_trace(go.Scatter(x=x, y=_y(starting_equity * np.cumprod(1.0 + values)), name="Strategy",
                                mode="lines"))
    if benchmark is not None:
        bench = _aligned(benchmark, values, index, name="benchmark")
        figure.add_trace(go.Scatter(x=x, y=_y(starting_equity * np.cumprod(1.0 + bench)), name="Benchmark",
                                    mode="lines"))
    figure.update_layout(title="Equity curve", yaxis_title="Equity", **_LAYOUT)
    return figure


def underwater_figure(returns: ReturnsLike | None = None, *, underwater: pd.Series | np.ndarray | None = None
                      ) -> go.Figure:
    """Plot the drawdown from the running peak, marking the maximum drawdown.

    Parameters
    ----------
    returns
        Simple returns per period; or give ``underwater`` instead.
    underwater
        A precomputed underwater series (e.g. ``PerformanceReport.underwater``).

    Returns
    -------
    plotly.graph_objects.Figure
        Values are fractions (-0.25 is 25 % below the peak); the annotation
        names the maximum drawdown.
    """
    if (returns is None) == (underwater is None):
        raise InvalidInput("give exactly one of returns or underwater")
    series = underwater_series(returns) if underwater is None else underwater
    values = np.asarray(series, dtype=np.float64)
    index = series.index if isinstance(series, pd.Series) and isinstance(series.index, pd.DatetimeIndex) else None
    x = _x(index, values.size)
    figure = go.Figure(go.Scatter(x=x, y=_y(values), name="Drawdown", mode="lines", fill="tozeroy",
                                  line={"color": "#c0392b"}))
    if values.size and values.min() < 0:
        trough = int(np.argmin(values))
        figure.add_annotation(x=x[trough], y=float(values[trough]), text=f"Max drawdown {values[trough]:.2%}",
                              showarrow=True, arrowhead=2)
    figure.update_layout(title="Underwater (drawdown)", yaxis_tickformat=".0%", **_LAYOUT)
    return figure


def monthly_returns_heatmap(returns: ReturnsLike | None = None, *, table: pd.DataFrame | None = None
                            ) -> go.Figure:
    """Plot compounded monthly returns as a year x month heatmap.

    Parameters
    ----------
    returns
        Simple returns per period with a DatetimeIndex; or give ``table``.
    table
        A table from :func:`monthly_returns_table`.

    Returns
    -------
    plotly.graph_objects.Figure
        Cells hold fractions; empty months are blank.
    """
    if (returns is None) == (table is None):
        raise InvalidInput("give exactly one of returns or table")
    data = monthly_returns_table(returns) if table is None else table
    z = [_y(row) for row in data.to_numpy(dtype=np.float64)]
    text = [["" if v is None else f"{v:.1%}" for v in row] for row in z]
    limit = max((abs(v) for row in z for v in row if v is not None), default=0.0) or 1.0
    figure = go.Figure(go.Heatmap(
        z=z, x=[MONTH_NAMES[int(m) - 1] for m in data.columns], y=[str(y) for y in data.index], text=text,
        texttemplate="%{text}", colorscale="RdYlGn", zmid=0.0, zmin=-limit, zmax=limit,
        hovertemplate="%{y} %{x}: %{z:.2%}<extra></extra>", colorbar={"tickformat": ".0%"},
    ))
    layout = dict(_LAYOUT)
    layout["height"] = max(300, 22 * len(data.index) + 120)
    figure.update_layout(title="Monthly returns", yaxis={"autorange": "reversed", "type": "category"}, **layout)
    return figure


def rolling_sharpe_figure(returns: ReturnsLike, *, window: int = 126, risk_free: float = 0.0,
                          periods_per_year: float = 252) -> go.Figure:
    """Plot the annualised Sharpe ratio over a trailing window.

    Parameters
    ----------
    returns
        Simple returns per period.
    window
        Periods per window (126 is about six months of trading days).
    risk_free
        Risk-free return per period.
    periods_per_year
        Periods in a year.

    Returns
    -------
    plotly.graph_objects.Figure
        See :func:`rolling_sharpe_ratio` for the formula.
    """
    series = rolling_sharpe_ratio(returns, window=window, risk_free=risk_free, periods_per_year=periods_per_year)
    index = series.index if isinstance(series, pd.Series) else None
    values = np.asarray(series, dtype=np.float64)
    figure = go.Figure(go.Scatter(x=_x(index, values.size), y=_y(values), name=f"Sharpe ({window})", mode="lines"))
    figure.add_hline(y=0.0, line={"color": "grey", "dash": "dot"})
    figure.update_layout(title=f"Rolling Sharpe ratio ({window} periods)", **_LAYOUT)
    return figure


def _timestamps(values: pd.Series) -> pd.DatetimeIndex:
    if pd.api.types.is_integer_dtype(values.dtype):
        stamps = pd.to_datetime(values.to_numpy(), unit="ns", utc=True)
    else:
        try:
            stamps = pd.to_datetime(values.to_numpy())
        except (TypeError, ValueError) as exc:
            raise InvalidInput(f"trade timestamps must be datetimes or integer nanoseconds: {exc}") from exc
    return pd.DatetimeIndex(stamps)


def trade_markers_figure(prices: pd.Series, trades: TradesLike) -> go.Figure:
    """Plot a price series with a marker at each trade.

    Parameters
    ----------
    prices
        Prices with a DatetimeIndex.
    trades
        DataFrame or sequence of mappings with ``timestamp`` (or ``ts_event``,
        datetimes or integer nanoseconds UTC), ``price``, and ``side``
        (``"buy"``/``"sell"``) or a signed ``quantity``.

    Returns
    -------
    plotly.graph_objects.Figure
        Buys are green up-triangles, sells red down-triangles.

    Raises
    ------
    InvalidInput
        If a column is missing or a side is neither buy nor sell.
    """
    if not isinstance(prices, pd.Series) or not isinstance(prices.index, pd.DatetimeIndex):
        raise InvalidInput("prices must be a Series with a DatetimeIndex")
    frame = trades if isinstance(trades, pd.DataFrame) else pd.DataFrame(list(trades))
    time_column = "timestamp" if "timestamp" in frame else "ts_event" if "ts_event" in frame else None
    if time_column is None or "price" not in frame:
        raise InvalidInput("trades need a timestamp (or ts_event) and a price column")
    if "side" in frame:
        side = frame["side"].astype(str).str.lower().to_numpy()
        unknown = ~np.isin(side, ("buy", "sell"))
        if unknown.any():
            raise InvalidInput(f"trade side must be 'buy' or 'sell', was {frame['side'].to_numpy()[unknown][0]!r}")
        is_buy = side == "buy"
    elif "quantity" in frame:
        is_buy = _float_column(frame["quantity"], field_name="trades.quantity") > 0
    else:
        raise InvalidInput("trades need a side or a signed quantity column")
    price = _float_column(frame["price"], field_name="trades.price")
    x = _x(_timestamps(frame[time_column]), len(frame))
    figure = go.Figure(go.Scatter(x=_x(prices.index, len(prices)), y=_y(prices.to_numpy()), name="Price",
                                  mode="lines", line={"color": "#34495e"}))
    for label, mask, symbol, colour in (("Buy", is_buy, "triangle-up", "#27ae60"),
                                        ("Sell", ~is_buy, "triangle-down", "#c0392b")):
        figure.add_trace(go.Scatter(x=[v for v, m in zip(x, mask, strict=True) if m], y=_y(price[mask]),
                                    name=label, mode="markers",
                                    marker={"symbol": symbol, "color": colour, "size": 10}))
    figure.update_layout(title="Trades", yaxis_title="Price", **_LAYOUT)
    return figure


_PERCENT_FIELDS = ("total_return", "cagr", "annualised_volatility", "downside_deviation", "max_drawdown",
                   "win_rate", "exposure", "alpha", "tracking_error", "benchmark_total_return", "benchmark_cagr")
_LABELS: Mapping[str, str] = {
    "total_return": "Total return", "cagr": "CAGR", "annualised_volatility": "Volatility (ann.)",
    "sharpe_ratio": "Sharpe ratio", "sortino_ratio": "Sortino ratio", "downside_deviation": "Downside deviation",
    "calmar_ratio": "Calmar ratio", "max_drawdown": "Max drawdown", "n_trades": "Trades",
    "win_rate": "Win rate", "profit_factor": "Profit factor", "expectancy": "Expectancy per trade",
    "fees_paid": "Fees paid", "turnover": "Turnover (ann.)", "exposure": "Exposure", "alpha": "Alpha (ann.)",
    "beta": "Beta", "information_ratio": "Information ratio", "tracking_error": "Tracking error",
    "benchmark_total_return": "Benchmark total return", "benchmark_cagr": "Benchmark CAGR",
}


def _format(name: str, value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        if not math.isfinite(value):
            return str(value)
        return f"{value:.2%}" if name in _PERCENT_FIELDS else f"{value:,.4f}"
    return str(value)


def _metrics_table(report: PerformanceReport) -> str:
    rows = []
    data = report.to_dict()
    if report.start is not None:
        rows.append(("Period", f"{report.start.date()} to {report.end.date() if report.end is not None else ''}"))
    rows.append(("Periods", str(report.n_periods)))
    for name, label in _LABELS.items():
        if data.get(name) is not None:
            rows.append((label, _format(name, data[name])))
    episode = report.max_drawdown_episode
    if episode is not None:
        rows.append(("Max drawdown duration", f"{episode.duration_periods} periods"
                     + (f" / {episode.duration_days} days" if episode.duration_days is not None else "")
                     + (" (ongoing)" if episode.ongoing else "")))
    body = "\n".join(f"<tr><th>{html.escape(k)}</th><td>{html.escape(v)}</td></tr>" for k, v in rows)
    return f'<table class="metrics">\n{body}\n</table>'


def tearsheet_html(report: PerformanceReport, returns: ReturnsLike, *, benchmark: ReturnsLike | None = None,
                   prices: pd.Series | None = None, trades: TradesLike | None = None, rolling_window: int = 126,
                   title: str = "Performance tear sheet", path: str | Path | None = None) -> str:
    """Render a standalone HTML tear sheet: metrics table and figures.

    Parameters
    ----------
    report
        The report of ``returns`` (from :func:`performance_report`).
    returns
        The returns the report was built from.
    benchmark
        Benchmark returns for the equity curve.
    prices, trades
        If both are given, a price chart with trade markers is added.
    rolling_window
        Window of the rolling Sharpe chart, in periods; the chart is left out
        when the series is shorter.
    title
        Page title.
    path
        If given, the HTML is also written there (UTF-8).

    Returns
    -------
    str
        A complete HTML document. plotly.js is inlined once from the installed
        ``plotly`` package (``include_plotlyjs=True``); no external scripts.

    Raises
    ------
    InvalidInput
        If ``returns`` does not have the report's number of periods or dates.
    """
    values, index = _as_returns(returns)
    if values.size != report.n_periods:
        raise InvalidInput(f"returns have {values.size} periods but the report has {report.n_periods}")
    if index is not None and report.start is not None and report.end is not None \
            and (index[0] != report.start or index[-1] != report.end):
        raise InvalidInput(f"returns run {index[0].date()} to {index[-1].date()} but the report covers "
                           f"{report.start.date()} to {report.end.date()}")
    figures: list[go.Figure] = [equity_curve_figure(returns, benchmark), underwater_figure(underwater=report.underwater)]
    if report.monthly_returns is not None:
        figures.append(monthly_returns_heatmap(table=report.monthly_returns))
    if values.size >= rolling_window:
        figures.append(rolling_sharpe_figure(returns, window=rolling_window, risk_free=report.risk_free,
                                             periods_per_year=report.periods_per_year))
    if prices is not None and trades is not None:
        figures.append(trade_markers_figure(prices, trades))
    parts: Sequence[str] = [
        figure.to_html(full_html=False, include_plotlyjs=(i == 0), config={"displaylogo": False})
        for i, figure in enumerate(figures)
    ]
    document = "\n".join([
        "<!DOCTYPE html>",
        '<html lang="en">',
        "<head>",
        '<meta charset="utf-8">',
        f"<title>{html.escape(title)}</title>",
        "<style>body{font-family:system-ui,sans-serif;margin:2em;max-width:1100px}"
        "table.metrics{border-collapse:collapse;margin-bottom:2em}"
        "table.metrics th,table.metrics td{padding:3px 12px;border-bottom:1px solid #ddd;text-align:left}"
        "table.metrics td{text-align:right;font-variant-numeric:tabular-nums}</style>",
        "</head>",
        "<body>",
        f"<h1>{html.escape(title)}</h1>",
        _metrics_table(report),
        *[f'<div class="figure">{part}</div>' for part in parts],
        "</body>",
        "</html>",
    ])
    if path is not None:
        Path(path).write_text(document, encoding="utf-8")
    return document
