"""The TCA report: cost tables, Rule 605/606-style summaries, outliers and charts (HTML and PDF).

:func:`tca_report` runs every analysis of this package on plain frames of fills, orders,
quotes and bars, and returns a :class:`TCAReport` that renders as standalone HTML with
plotly charts (slippage distribution, markout curve, realised impact against the
square-root law, cost against size) or as a PDF of its tables with the same charts, plus bars
per group and per broker and venue, drawn with reportlab.graphics.
"""

from __future__ import annotations

import html
import io
import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import plotly.graph_objects as go

from bifrost.execquality.bestex import best_execution, rule605_summary, rule606_summary
from bifrost.execquality.fillquality import (
    DEFAULT_HORIZONS_S,
    fill_quality,
    markout_curve,
    markouts,
)
from bifrost.execquality.impact import ImpactModel, square_root_impact
from bifrost.execquality.tca import TCAInputs, implementation_shortfall, prepare, slippage_per_order

__all__ = ["TCAReport", "figures_from_result", "tca_report"]

_LAYOUT = {"template": "plotly_white", "margin": {"l": 60, "r": 20, "t": 50, "b": 40}, "height": 360}


def _clean(value: object) -> object:
    if isinstance(value, float | np.floating):
        return None if not math.isfinite(float(value)) else float(value)
    if isinstance(value, np.integer):
        return int(value)
    if isinstance(value, pd.Timestamp):
        return value.isoformat()
    if isinstance(value, dict):
        return {str(k): _clean(v) for k, v in value.items()}
    return value


def _records(frame: pd.DataFrame) -> list[dict[str, object]]:
    return [{str(k): _clean(v) for k, v in row.items()} for row in frame.to_dict(orient="records")]


@dataclass(frozen=True, slots=True)
class TCAReport:
    """Everything TCA found; ``summary`` holds the headline numbers (bps, positive = cost)."""

    summary: dict[str, object]
    per_order: pd.DataFrame
    shortfall: pd.DataFrame
    best_execution: pd.DataFrame
    rule605: pd.DataFrame
    markout_curve: pd.DataFrame
    outliers: pd.DataFrame
    by_group: pd.DataFrame
    impact: pd.DataFrame = field(default_factory=pd.DataFrame)
    rule606: pd.DataFrame = field(default_factory=pd.DataFrame)
    title: str = "Transaction cost analysis"

    # ------------------------------------------------------------------ data

    def to_dict(self) -> dict[str, object]:
        """JSON-ready: summary, per-order rows, shortfall, Rule 605 table, markouts, outliers, groups."""
        per_order = self.per_order.reset_index().rename(columns={"index": "parent_id"})
        columns = [c for c in ("parent_id", "symbol", "side", "quantity", "filled", "fill_rate", "avg_price",
                               "arrival", "slippage_arrival_bps", "slippage_interval_vwap_bps",
                               "slippage_close_bps", "explicit_bps", "notional", "strategy", "broker")
                   if c in per_order.columns]
        shortfall = self.shortfall.reset_index().rename(columns={"index": "parent_id"})
        return {"summary": _clean(self.summary), "orders": _records(per_order[columns]),
                "shortfall": _records(shortfall[[c for c in shortfall.columns if c in (
                    "parent_id", "delay_bps", "impact_bps", "timing_bps", "opportunity_bps", "fees_bps",
                    "total_bps", "total")]]),
                "rule605": _records(self.rule605), "rule606": _records(self.rule606),
                "markouts": _records(self.markout_curve),
                "outliers": _records(self.outliers), "by_group": _records(self.by_group),
                "impact": _records(self.impact)}

    # ------------------------------------------------------------------ charts

    def figures(self) -> list[go.Figure]:
        """Slippage distribution, markout curve, impact vs the square-root law, cost vs size."""
        figures = []
        slippage = self.per_order["slippage_arrival_bps"].dropna()
        hist = go.Figure(go.Histogram(x=slippage, nbinsx=40, name="orders"))
        hist.update_layout(title="Slippage vs arrival (bps, positive = cost)", xaxis_title="bps",
                           yaxis_title="orders", **_LAYOUT)
        figures.append(hist)
        if not self.markout_curve.empty:
            curve = go.Figure(go.Scatter(x=self.markout_curve["horizon"], y=self.markout_curve["markout_bps"],
                                         mode="lines+markers", name="markout"))
            curve.update_layout(title="Markouts after the fill (bps, positive = price moved our way)",
                                xaxis_title="horizon", yaxis_title="bps", **_LAYOUT)
            figures.append(curve)
        if not self.impact.empty:
            impact = go.Figure()
            impact.add_trace(go.Scatter(x=self.impact["participation"], y=self.impact["cost_bps"], mode="markers",
                                        name="realised"))
            grid = np.linspace(0, float(self.impact["participation"].max()), 50)
            sigma = float(self.impact["sigma_daily"].median())
            impact.add_trace(go.Scatter(x=grid, y=square_root_impact(grid, 1.0, sigma, self.summary.get(
                "square_root_coefficient", 1.0)) * 1e4, mode="lines", name="square-root law"))
            impact.update_layout(title="Realised impact vs the square-root law", xaxis_title="quantity / ADV",
                                 yaxis_title="cost (bps)", **_LAYOUT)
            figures.append(impact)
        size = go.Figure(go.Scatter(x=self.per_order["notional"], y=self.per_order["slippage_arrival_bps"],
                                    mode="markers", text=list(self.per_order.index)))
        size.update_layout(title="Cost vs order size", xaxis_title="notional", xaxis_type="log",
                           yaxis_title="slippage vs arrival (bps)", **_LAYOUT)
        figures.append(size)
        return figures

    def to_html(self, *, path: str | Path | None = None, include_plotlyjs: bool | str = True,
                full_html: bool = True) -> str:
        """Render the report as HTML (plotly.js inlined once unless told otherwise)."""
        figures = self.figures()
        parts = [f.to_html(full_html=False, include_plotlyjs=(include_plotlyjs if i == 0 else False),
                           config={"displaylogo": False}) for i, f in enumerate(figures)]
        summary_rows = "".join(f"<tr><th>{html.escape(str(k))}</th><td>{html.escape(_fmt(v))}</td></tr>"
                               for k, v in self.summary.items() if not isinstance(v, dict))
        body = "\n".join([
            f"<h1>{html.escape(self.title)}</h1>",
            f'<table class="metrics">{summary_rows}</table>',
            "<h2>Rule 605-style best-execution summary</h2>", _table(self.rule605),
            "<h2>Rule 606-style routing summary</h2>", _table(self.rule606),
            "<h2>By strategy and broker</h2>", _table(self.by_group),
            "<h2>Implementation shortfall (Perold), bps</h2>",
            _table(self.shortfall[[c for c in self.shortfall.columns if c.endswith("_bps")]].reset_index()),
            "<h2>Outliers</h2>", _table(self.outliers),
            *[f'<div class="figure">{part}</div>' for part in parts],
        ])
        if not full_html:
            return body
        document = ("<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\">"
                    f"<title>{html.escape(self.title)}</title><style>body{{font-family:system-ui,sans-serif;"
                    "margin:2em;max-width:1200px}table{border-collapse:collapse;margin-bottom:1.5em}"
                    "th,td{padding:3px 10px;border-bottom:1px solid #ddd;text-align:right}"
                    "th{text-align:left}</style></head><body>" + body + "</body></html>")
        if path is not None:
            Path(path).write_text(document, encoding="utf-8")
        return document

    def pdf_charts(self) -> list[tuple[str, object]]:
        """The charts of the PDF as ``(title, reportlab Drawing)`` pairs.

        The HTML report's charts (slippage distribution, markout curve, realised impact
        against the square-root law, cost against order size) and, when the report has them,
        bars of the cost per group and of the Rule 605 effective spread per broker and venue.
        """
        charts: list[tuple[str, object]] = []
        slippage = self.per_order["slippage_arrival_bps"].to_numpy(dtype="float64")
        slippage = slippage[np.isfinite(slippage)]
        if len(slippage):
            counts, edges = np.histogram(slippage, bins=min(20, max(len(slippage) // 2, 1)))
            centres = (edges[:-1] + edges[1:]) / 2.0
            charts.append(("Slippage vs arrival (bps, positive = cost)",
                           _bar_drawing([float(c) for c in counts], [f"{c:.0f}" for c in centres],
                                        x_label="bps", y_label="orders")))
        curve = self.markout_curve
        if not curve.empty and np.isfinite(curve["markout_bps"].to_numpy(dtype="float64")).any():
            values = curve["markout_bps"].to_numpy(dtype="float64")
            charts.append(("Markouts after the fill (bps, positive = price moved our way)",
                           _line_drawing([(list(range(len(values))), list(values))], x_label="horizon",
                                         y_label="bps", x_names=[str(h) for h in curve["horizon"]])))
        if not self.impact.empty:
            x = self.impact["participation"].to_numpy(dtype="float64")
            grid = np.linspace(0.0, float(x.max()), 50)
            sigma = float(self.impact["sigma_daily"].median())
            law = square_root_impact(grid, 1.0, sigma, self.summary.get("square_root_coefficient", 1.0)) * 1e4
            charts.append(("Realised impact vs the square-root law",
                           _line_drawing([(list(x), list(self.impact["cost_bps"].to_numpy(dtype="float64"))),
                                          (list(grid), list(law))], x_label="quantity / ADV",
                                         y_label="cost (bps)", markers_only=(True, False))))
        size = self.per_order[["notional", "slippage_arrival_bps"]].astype("float64")
        size = size[np.isfinite(size).all(axis=1) & (size["notional"] > 0)]
        if len(size):
            charts.append(("Cost vs order size",
                           _line_drawing([(list(np.log10(size["notional"])), list(size["slippage_arrival_bps"]))],
                                         x_label="log10 notional", y_label="slippage vs arrival (bps)",
                                         markers_only=(True,))))
        if not self.by_group.empty and "arrival_bps" in self.by_group:
            keys = [c for c in self.by_group.columns if c not in (
                "orders", "notional", "arrival_bps", "vwap_bps", "explicit_bps", "fill_rate")]
            bars = _finite_bars(self.by_group, keys, "arrival_bps")
            if bars:
                charts.append(("Cost vs arrival by group (bps, notional-weighted)",
                               _bar_drawing(bars[1], bars[0], x_label="group", y_label="bps")))
        if not self.rule605.empty and "avg_effective_spread" in self.rule605:
            bars = _finite_bars(self.rule605, [c for c in ("broker", "venue") if c in self.rule605.columns],
                                "avg_effective_spread")
            if bars:
                charts.append(("Effective spread per broker and venue ($ per share, share-weighted)",
                               _bar_drawing(bars[1], bars[0], x_label="broker / venue", y_label="$ per share")))
        return charts

    def to_pdf(self, path: str | Path | None = None) -> bytes:
        """Render the summary, the Rule 605/606 tables, shortfall, outliers and the charts as a PDF (reportlab)."""
        from reportlab.lib import colors
        from reportlab.lib.pagesizes import landscape, letter
        from reportlab.lib.styles import getSampleStyleSheet
        from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

        buffer = io.BytesIO()
        styles = getSampleStyleSheet()
        story: list[object] = [Paragraph(html.escape(self.title), styles["Title"])]

        def add_table(title: str, frame: pd.DataFrame, limit: int = 40) -> None:
            story.append(Paragraph(html.escape(title), styles["Heading2"]))
            if frame.empty:
                story.append(Paragraph("none", styles["Normal"]))
                return
            shown = frame.head(limit)
            data = [list(map(str, shown.columns))] + [[_fmt(v) for v in row] for row in shown.itertuples(index=False)]
            table = Table(data, repeatRows=1)
            table.setStyle(TableStyle([("FONTSIZE", (0, 0), (-1, -1), 6.5),
                                       ("BACKGROUND", (0, 0), (-1, 0), colors.lightgrey),
                                       ("GRID", (0, 0), (-1, -1), 0.25, colors.grey)]))
            story.extend([table, Spacer(1, 8)])

        summary = pd.DataFrame([(k, v) for k, v in self.summary.items() if not isinstance(v, dict)],
                               columns=["metric", "value"])
        add_table("Summary (bps, positive = cost)", summary)
        add_table("Rule 605-style summary", self.rule605)
        add_table("Rule 606-style routing summary", self.rule606)
        add_table("By strategy and broker", self.by_group)
        add_table("Implementation shortfall (bps)",
                  self.shortfall[[c for c in self.shortfall.columns if c.endswith("_bps")]].reset_index())
        add_table("Outliers", self.outliers)
        for title, drawing in self.pdf_charts():
            story.extend([Paragraph(html.escape(title), styles["Heading2"]), drawing, Spacer(1, 8)])
        SimpleDocTemplate(buffer, pagesize=landscape(letter), title=self.title).build(story)
        data = buffer.getvalue()
        if path is not None:
            Path(path).write_bytes(data)
        return data


def figures_from_result(result: dict[str, object]) -> list[tuple[str, go.Figure]]:
    """Rebuild the report's charts from :meth:`TCAReport.to_dict` output (for stored reports).

    Returns ``(id, figure)`` pairs: ``slippage``, ``markouts``, ``impact`` and ``size`` when the
    data for them is present.
    """
    figures: list[tuple[str, go.Figure]] = []
    orders = pd.DataFrame(result.get("orders") or [])
    if len(orders) and "slippage_arrival_bps" in orders:
        hist = go.Figure(go.Histogram(x=orders["slippage_arrival_bps"].dropna(), nbinsx=40, name="orders"))
        hist.update_layout(title="Slippage vs arrival (bps, positive = cost)", xaxis_title="bps",
                           yaxis_title="orders", **_LAYOUT)
        figures.append(("slippage", hist))
    markout = pd.DataFrame(result.get("markouts") or [])
    if len(markout):
        curve = go.Figure(go.Scatter(x=markout["horizon"], y=markout["markout_bps"], mode="lines+markers"))
        curve.update_layout(title="Markouts after the fill (bps, positive = price moved our way)",
                            xaxis_title="horizon", yaxis_title="bps", **_LAYOUT)
        figures.append(("markouts", curve))
    impact = pd.DataFrame(result.get("impact") or [])
    if len(impact):
        ordered = impact.sort_values("participation")
        chart = go.Figure([go.Scatter(x=impact["participation"], y=impact["cost_bps"], mode="markers",
                                      name="realised"),
                           go.Scatter(x=ordered["participation"], y=ordered["square_root_bps"], mode="lines",
                                      name="square-root law")])
        chart.update_layout(title="Realised impact vs the square-root law", xaxis_title="quantity / ADV",
                            yaxis_title="cost (bps)", **_LAYOUT)
        figures.append(("impact", chart))
    if len(orders) and "notional" in orders:
        size = go.Figure(go.Scatter(x=orders["notional"], y=orders["slippage_arrival_bps"], mode="markers",
                                    text=orders.get("parent_id")))
        size.update_layout(title="Cost vs order size", xaxis_title="notional", xaxis_type="log",
                           yaxis_title="slippage vs arrival (bps)", **_LAYOUT)
        figures.append(("size", size))
    return figures


_CHART_WIDTH, _CHART_HEIGHT = 560, 220


def _finite_bars(frame: pd.DataFrame, keys: Sequence[str], column: str) -> tuple[list[str], list[float]] | None:
    # group labels and values of the rows where the value is known (None when there is none)
    names, values = [], []
    for _, row in frame.iterrows():
        value = float(row[column])
        if math.isfinite(value):
            names.append(" / ".join(str(row[k]) for k in keys) or "all")
            values.append(value)
    return (names, values) if values else None


def _bar_drawing(values: Sequence[float], names: Sequence[str], *, x_label: str, y_label: str):
    # a vertical bar chart with axis titles (reportlab.graphics)
    from reportlab.graphics.charts.barcharts import VerticalBarChart
    from reportlab.graphics.shapes import Drawing, String
    from reportlab.lib import colors

    drawing = Drawing(_CHART_WIDTH, _CHART_HEIGHT)
    chart = VerticalBarChart()
    chart.x, chart.y, chart.width, chart.height = 60, 45, _CHART_WIDTH - 80, _CHART_HEIGHT - 70
    chart.data = [list(values)]
    chart.categoryAxis.categoryNames = [name if len(values) <= 12 or i % max(len(values) // 10, 1) == 0 else ""
                                        for i, name in enumerate(names)]
    chart.categoryAxis.labels.fontSize = 6
    chart.valueAxis.labels.fontSize = 6
    chart.bars[0].fillColor = colors.steelblue
    lowest = min(min(values), 0.0)
    chart.valueAxis.valueMin = lowest
    drawing.add(chart)
    drawing.add(String(_CHART_WIDTH / 2, 8, x_label, fontSize=8, textAnchor="middle"))
    drawing.add(String(10, _CHART_HEIGHT - 14, y_label, fontSize=8))
    return drawing


def _line_drawing(series: Sequence[tuple[Sequence[float], Sequence[float]]], *, x_label: str, y_label: str,
                  markers_only: Sequence[bool] = (), x_names: Sequence[str] | None = None):
    # an x-y plot of one or more series, as points (markers_only) or lines with markers
    from reportlab.graphics.charts.lineplots import LinePlot
    from reportlab.graphics.shapes import Drawing, String
    from reportlab.graphics.widgets.markers import makeMarker
    from reportlab.lib import colors

    drawing = Drawing(_CHART_WIDTH, _CHART_HEIGHT)
    plot = LinePlot()
    plot.x, plot.y, plot.width, plot.height = 60, 45, _CHART_WIDTH - 80, _CHART_HEIGHT - 70
    plot.data = [[(float(a), float(b)) for a, b in zip(x, y, strict=True) if math.isfinite(a) and math.isfinite(b)]
                 for x, y in series]
    palette = (colors.steelblue, colors.darkorange, colors.seagreen)
    for i in range(len(series)):
        plot.lines[i].strokeColor = palette[i % len(palette)]
        plot.lines[i].symbol = makeMarker("FilledCircle", size=3)
        if i < len(markers_only) and markers_only[i]:
            plot.lines[i].strokeWidth = 0
            plot.lines[i].strokeColor = None
            plot.lines[i].symbol.fillColor = palette[i % len(palette)]
    plot.xValueAxis.labels.fontSize = 6
    plot.yValueAxis.labels.fontSize = 6
    if x_names is not None:
        names = list(x_names)
        plot.xValueAxis.valueMin, plot.xValueAxis.valueMax = -0.5, len(names) - 0.5
        plot.xValueAxis.valueSteps = list(range(len(names)))
        plot.xValueAxis.labelTextFormat = lambda v: names[int(round(v))] if 0 <= round(v) < len(names) else ""
    drawing.add(plot)
    drawing.add(String(_CHART_WIDTH / 2, 8, x_label, fontSize=8, textAnchor="middle"))
    drawing.add(String(10, _CHART_HEIGHT - 14, y_label, fontSize=8))
    return drawing


def _fmt(value: object) -> str:
    if isinstance(value, float | np.floating):
        return "" if not math.isfinite(float(value)) else f"{float(value):,.4g}" if abs(value) < 1e4 else f"{float(value):,.0f}"
    return str(value)


def _table(frame: pd.DataFrame, limit: int = 50) -> str:
    if frame.empty:
        return "<p>none</p>"
    head = "".join(f"<th>{html.escape(str(c))}</th>" for c in frame.columns)
    rows = "".join("<tr>" + "".join(f"<td>{html.escape(_fmt(v))}</td>" for v in row) + "</tr>"
                   for row in frame.head(limit).itertuples(index=False))
    return f"<table><tr>{head}</tr>{rows}</table>"


def _weighted(values: pd.Series, weights: pd.Series) -> float:
    ok = values.notna() & (weights > 0)
    return float((values[ok] * weights[ok]).sum() / weights[ok].sum()) if ok.any() else float("nan")


def tca_report(fills: pd.DataFrame | TCAInputs, orders: pd.DataFrame | None = None, quotes: pd.DataFrame | None = None,
               bars: pd.DataFrame | None = None, *, statistics: pd.DataFrame | None = None,
               model: ImpactModel | None = None, group_by: Sequence[str] = ("strategy", "broker"),
               horizons_s: Sequence[float] = DEFAULT_HORIZONS_S, outlier_mads: float = 4.0,
               title: str = "Transaction cost analysis") -> TCAReport:
    """Run the whole TCA on plain frames (no database needed).

    Parameters
    ----------
    fills, orders, quotes, bars
        See :mod:`bifrost.execquality.frames`; or a prepared :class:`TCAInputs` as ``fills``.
    statistics
        Per-symbol ``adv`` and ``sigma_daily`` (e.g. from
        :func:`~bifrost.execquality.impact.daily_statistics`) for the impact analysis; without
        it that section is empty.
    model
        Impact model whose square-root coefficient is drawn against realised costs.
    group_by
        Columns of the per-order table to summarise by (strategy, broker, venue, symbol...).
    outlier_mads
        Orders whose arrival slippage is more than this many median absolute deviations
        from the median are listed as outliers.

    Returns
    -------
    TCAReport
    """
    inputs = fills if isinstance(fills, TCAInputs) else prepare(fills, orders, quotes, bars)
    model = model or ImpactModel()
    per_order = slippage_per_order(inputs)
    shortfall = implementation_shortfall(inputs)
    has_market = inputs.quotes is not None or inputs.bars is not None
    bestex = best_execution(inputs) if has_market else pd.DataFrame()
    rule605 = rule605_summary(bestex) if has_market and len(bestex) else pd.DataFrame()
    rule606 = rule606_summary(bestex, inputs.orders) if has_market and len(bestex) else pd.DataFrame()
    curve = markout_curve(markouts(inputs, horizons_s)) if has_market and len(inputs.fills) else pd.DataFrame()
    quality = fill_quality(inputs, horizons_s) if len(per_order) else {}
    slip = per_order["slippage_arrival_bps"]
    median = float(slip.median()) if slip.notna().any() else float("nan")
    mad = float((slip - median).abs().median()) if slip.notna().any() else float("nan")
    if math.isfinite(mad) and mad > 0:
        outliers = per_order[(slip - median).abs() > outlier_mads * mad]
    else:
        outliers = per_order.iloc[0:0]
    outliers = outliers.reset_index()[["parent_id" if "parent_id" in outliers.reset_index().columns else "index",
                                       "symbol", "side", "quantity", "filled", "slippage_arrival_bps"]]
    keys = [k for k in group_by if k in per_order.columns]
    rows = []
    if keys:
        for key, group in per_order.groupby(keys):
            entry = dict(zip(keys, key if isinstance(key, tuple) else (key,), strict=True))
            entry.update({"orders": int(len(group)), "notional": float(group["notional"].sum()),
                          "arrival_bps": _weighted(group["slippage_arrival_bps"], group["notional"]),
                          "vwap_bps": _weighted(group["slippage_interval_vwap_bps"], group["notional"]),
                          "explicit_bps": _weighted(group["explicit_bps"], group["notional"]),
                          "fill_rate": float(group["filled"].sum() / group["quantity"].sum())})
            rows.append(entry)
    by_group = pd.DataFrame(rows)
    impact = pd.DataFrame()
    if statistics is not None and len(per_order):
        filled = per_order[per_order["filled"] > 0]
        stats = statistics.reindex(filled["symbol"].to_numpy())
        impact = pd.DataFrame({"parent_id": filled.index.to_numpy(), "symbol": filled["symbol"].to_numpy(),
                               "participation": filled["filled"].to_numpy() / stats["adv"].to_numpy(dtype=float),
                               "sigma_daily": stats["sigma_daily"].to_numpy(dtype=float),
                               "cost_bps": filled["slippage_arrival_bps"].to_numpy()}).dropna()
        if len(impact):
            impact["square_root_bps"] = square_root_impact(impact["participation"].to_numpy(), 1.0,
                                                           impact["sigma_daily"].to_numpy(), model.square_root) * 1e4
    notional = per_order["notional"]
    summary: dict[str, object] = {
        "orders": int(len(per_order)), "fills": int(len(inputs.fills)),
        "notional": float(notional.sum()),
        "arrival_bps": _weighted(per_order["slippage_arrival_bps"], notional),
        "decision_bps": _weighted(per_order["slippage_decision_bps"], notional),
        "interval_vwap_bps": _weighted(per_order["slippage_interval_vwap_bps"], notional),
        "interval_twap_bps": _weighted(per_order["slippage_interval_twap_bps"], notional),
        "close_bps": _weighted(per_order["slippage_close_bps"], notional),
        "explicit_bps": _weighted(per_order["explicit_bps"], notional),
        "shortfall_bps": float(shortfall["total"].sum() / shortfall["paper_notional"].sum() * 1e4)
        if shortfall["paper_notional"].sum() > 0 else float("nan"),
        "fill_rate": quality.get("fill_rate", float("nan")),
        "outside_quote_fills": int(bestex["flag_outside_quote"].sum()) if len(bestex) else 0,
        "square_root_coefficient": model.square_root,
    }
    if "markouts_bps" in quality:
        summary["markouts_bps"] = quality["markouts_bps"]
    return TCAReport(summary, per_order, shortfall, bestex, rule605, curve, outliers, by_group, impact, rule606, title)
