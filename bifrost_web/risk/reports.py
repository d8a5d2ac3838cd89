"""Charts and the PDF of the risk report (built from the JSON report of services.risk_report)."""

from __future__ import annotations

import io

import pandas as pd

from bifrost.risk.charts import contribution_figure, correlation_heatmap, limit_usage_figure


def dashboard_charts(report: dict) -> dict[str, str]:
    """Plotly figures as JSON strings, by name: correlation, contributions, limits, sectors."""
    charts: dict[str, str] = {}
    corr = report.get("correlation")
    if corr:
        frame = pd.DataFrame(corr["matrix"], index=corr["symbols"], columns=corr["symbols"])
        charts["correlation"] = correlation_heatmap(frame).to_json()
    if report.get("decomposition"):
        rows = [{"name": r["symbol"], "component": r["component_var"]} for r in report["decomposition"][:25]]
        charts["contributions"] = contribution_figure(rows, title="Component VaR (delta-normal)").to_json()
    usage = [{"name": f"{r['kind']} {r['subject']}".strip(), "usage": r["usage"], "soft_breached": r["status"] == "soft"}
             for r in report.get("limits", []) if r.get("usage") is not None]
    if usage:
        charts["limits"] = limit_usage_figure(usage).to_json()
    sectors = report.get("exposures", {}).get("by_group", {}).get("sector")
    if sectors:
        import plotly.graph_objects as go

        figure = go.Figure(go.Bar(x=list(sectors), y=[v["net_pct"] for v in sectors.values()], name="net"))
        figure.update_layout(title="Net exposure by sector (% of NAV)", yaxis={"tickformat": ".0%"},
                             template="plotly_white", height=320, margin={"l": 60, "r": 20, "t": 50, "b": 80})
        charts["sectors"] = figure.to_json()
    return charts


def _fmt(value, pct: bool = False) -> str:
    if value is None:
        return "-"
    return f"{value:.2%}" if pct else f"{value:,.2f}"


def report_pdf(report: dict) -> bytes:
    """The daily risk report as a PDF (reportlab): tables and a component-VaR bar chart."""
    from reportlab.graphics.charts.barcharts import HorizontalBarChart
    from reportlab.graphics.shapes import Drawing
    from reportlab.lib import colors
    from reportlab.lib.pagesizes import A4
    from reportlab.lib.styles import getSampleStyleSheet
    from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

    styles = getSampleStyleSheet()
    buffer = io.BytesIO()
    doc = SimpleDocTemplate(buffer, pagesize=A4, title=f"Risk report {report['name']}")
    grid = TableStyle([("GRID", (0, 0), (-1, -1), 0.25, colors.grey), ("FONTSIZE", (0, 0), (-1, -1), 8),
                       ("BACKGROUND", (0, 0), (-1, 0), colors.whitesmoke)])
    story = [Paragraph(f"Risk report: {report['scope']} {report['name']}", styles["Title"]),
             Paragraph(f"As of {report['as_of']} · NAV {_fmt(report['nav'])} {report['currency']} · "
                       f"{report['confidence']:.1%} confidence, {report['horizon_days']}-day horizon", styles["Normal"]),
             Spacer(1, 8), Paragraph("VaR and expected shortfall by method", styles["Heading2"])]
    var_rows = [["method", "VaR", "VaR % NAV", "ES", "ES % NAV", "scaling"]]
    for row in report.get("var", []):
        if "var" in row:
            var_rows.append([row["method"], _fmt(row["var"]), _fmt(row["var_pct"], True), _fmt(row["es"]),
                             _fmt(row["es_pct"], True), row["scaling"]])
    story += [Table(var_rows, style=grid), Spacer(1, 8)]
    backtest = report.get("backtest")
    if backtest and "exceptions" in backtest:
        story += [Paragraph("VaR backtest", styles["Heading2"]), Paragraph(
            f"{backtest['exceptions']} exceptions in {backtest['observations']} days (expected "
            f"{backtest['expected_exceptions']:.1f}); Kupiec p = {backtest['kupiec_pvalue']:.3f}; Christoffersen "
            f"independence p = {backtest['independence_pvalue']:.3f}; conditional coverage p = "
            f"{backtest['conditional_coverage_pvalue']:.3f}; Basel zone {backtest['zone']} (basis: {backtest['basis']}).",
            styles["Normal"])]
    if report.get("decomposition"):
        top = report["decomposition"][:10]
        story += [Paragraph("Top risk contributors", styles["Heading2"])]
        drawing = Drawing(460, 18 * len(top) + 30)
        chart = HorizontalBarChart()
        chart.x, chart.y, chart.width, chart.height = 60, 10, 380, 18 * len(top)
        chart.data = [[r["component_var"] for r in reversed(top)]]
        chart.categoryAxis.categoryNames = [r["symbol"] for r in reversed(top)]
        chart.bars[0].fillColor = colors.HexColor("#2c7fb8")
        drawing.add(chart)
        story += [drawing, Table([["symbol", "value", "marginal VaR", "component VaR", "% of VaR"]] + [
            [r["symbol"], _fmt(r["value"]), f"{r['marginal_var']:.4f}", _fmt(r["component_var"]),
             _fmt(r["component_pct"], True)] for r in top], style=grid)]
    exposures = report.get("exposures", {})
    story += [Paragraph("Exposures", styles["Heading2"]), Table([
        ["long", "short", "gross", "net", "leverage", "beta-adjusted net", "Herfindahl"],
        [_fmt(exposures.get("long")), _fmt(exposures.get("short")), _fmt(exposures.get("gross")),
         _fmt(exposures.get("net")), f"{exposures.get('leverage', 0):.2f}x", _fmt(exposures.get("beta_adjusted_net")),
         f"{exposures.get('herfindahl', 0):.3f}"]], style=grid)]
    sectors = exposures.get("by_group", {}).get("sector", {})
    if sectors:
        story += [Spacer(1, 6), Table([["sector", "gross", "net", "net % NAV"]] + [
            [name, _fmt(v["gross"]), _fmt(v["net"]), _fmt(v["net_pct"], True)] for name, v in sectors.items()],
            style=grid)]
    if report.get("limits"):
        story += [Paragraph("Limit usage", styles["Heading2"]), Table([["limit", "subject", "value", "soft", "hard",
                                                                         "usage", "status"]] + [
            [r["kind"], r["subject"] or "", "-" if r["value"] is None else f"{r['value']:.4g}",
             "-" if r["soft"] is None else f"{r['soft']:.4g}", "-" if r["hard"] is None else f"{r['hard']:.4g}",
             "-" if r["usage"] is None else f"{r['usage']:.0%}", r["status"]] for r in report["limits"]],
            style=grid)]
    if report.get("stress"):
        story += [Paragraph("Stress tests (historical scenarios on today's book)", styles["Heading2"]),
                  Table([["scenario", "window", "P&L", "% NAV"]] + [
                      [s["details"]["label"], f"{s['details']['start']} .. {s['details']['end']}", _fmt(s["pnl"]),
                       _fmt(s["pnl_pct"], True)] for s in report["stress"]], style=grid)]
    if report.get("alerts"):
        story += [Paragraph("Open alerts", styles["Heading2"])] + [
            Paragraph(f"[{a['severity']}] {a['message']} (x{a['occurrences']})", styles["Normal"])
            for a in report["alerts"]]
    doc.build(story)
    return buffer.getvalue()
