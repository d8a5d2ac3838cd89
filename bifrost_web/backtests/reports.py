"""Tear sheet of a stored backtest: the figures of ``bifrost.analytics.tearsheet`` for the portal,
and the standalone HTML document for export."""

from __future__ import annotations

import json
from typing import Any

import pandas as pd

from bifrost.analytics import tearsheet
from bifrost.backtest.results import BacktestRecord
from bifrost_web.backtests import services


def _rolling_window(n_periods: int) -> int | None:
    for window in (126, 63, 21):
        if n_periods >= 2 * window:
            return window
    return None


def _prices_and_trades(record: BacktestRecord, symbol: str | None) -> tuple[str, pd.Series, pd.DataFrame] | None:
    if record.prices is None or record.prices.empty:
        return None
    symbols = list(record.prices.columns)
    if symbol not in symbols:
        traded = list(record.fills["symbol"].unique()) if len(record.fills) else []
        symbol = next((s for s in symbols if s in traded), symbols[0])
    fills = record.fills[record.fills["symbol"] == symbol]
    trades = pd.DataFrame({"timestamp": fills["ts"], "price": fills["price"].astype(float), "side": fills["side"]})
    return symbol, record.prices[symbol].dropna(), trades


def tearsheet_figures(record: BacktestRecord, *, symbol: str | None = None) -> list[dict[str, Any]]:
    """Plotly figures as JSON dicts: equity vs benchmark, underwater, monthly heatmap,
    rolling Sharpe and trade markers on the price of ``symbol`` (default: the first traded)."""
    report = services.record_report(record)
    returns = record.returns()
    benchmark = None if record.benchmark is None else record.benchmark.reindex(returns.index).fillna(0.0)
    figures = [("equity", tearsheet.equity_curve_figure(returns, benchmark, starting_equity=record.initial_cash)),
               ("underwater", tearsheet.underwater_figure(underwater=report.underwater))]
    if report.monthly_returns is not None:
        figures.append(("monthly", tearsheet.monthly_returns_heatmap(table=report.monthly_returns)))
    window = _rolling_window(len(returns))
    if window:
        figures.append(("rolling_sharpe", tearsheet.rolling_sharpe_figure(
            returns, window=window, periods_per_year=report.periods_per_year)))
    markers = _prices_and_trades(record, symbol)
    if markers is not None:
        name, prices, trades = markers
        figure = tearsheet.trade_markers_figure(prices, trades)
        figure.update_layout(title=f"Trades in {name}")
        figures.append(("trades", figure))
    return [{"id": key, "figure": json.loads(figure.to_json())} for key, figure in figures]


def tearsheet_document(record: BacktestRecord, *, title: str) -> str:
    """The standalone HTML tear sheet (plotly.js inlined, opens offline)."""
    report = services.record_report(record)
    returns = record.returns()
    benchmark = None if record.benchmark is None else record.benchmark.reindex(returns.index).fillna(0.0)
    markers = _prices_and_trades(record, None)
    window = _rolling_window(len(returns)) or len(returns) + 1
    return tearsheet.tearsheet_html(report, returns, benchmark=benchmark,
                                    prices=markers[1] if markers else None, trades=markers[2] if markers else None,
                                    rolling_window=window, title=title)


def sweep_heatmap(trials: pd.DataFrame, params: list[str], metric: str = "value") -> dict[str, Any] | None:
    """A heatmap of the objective over two parameters (mean over the others), or a bar chart for one."""
    import plotly.graph_objects as go

    done = trials[trials["status"] == "done"] if len(trials) else trials
    if done.empty or not params:
        return None
    if len(params) == 1 or done[params[1]].nunique() < 2:
        grouped = done.groupby(params[0])[metric].mean()
        figure = go.Figure(go.Bar(x=[str(v) for v in grouped.index], y=grouped.tolist()))
        figure.update_layout(title=f"Objective by {params[0]}", xaxis_title=params[0], yaxis_title=metric,
                             template="plotly_white", height=380)
    else:
        table = done.pivot_table(index=params[1], columns=params[0], values=metric, aggfunc="mean")
        figure = go.Figure(go.Heatmap(z=table.to_numpy().tolist(), x=[str(v) for v in table.columns],
                                      y=[str(v) for v in table.index], colorscale="RdYlGn",
                                      colorbar={"title": metric}))
        figure.update_layout(title=f"Objective over {params[0]} x {params[1]}", xaxis_title=params[0],
                             yaxis_title=params[1], template="plotly_white", height=420)
    return json.loads(figure.to_json())
