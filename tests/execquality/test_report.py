"""The TCA report on the seeded demo market: summary numbers, HTML with charts, PDF."""

import base64
import re
import zlib

import numpy as np
import pandas as pd
import pytest

from bifrost.execquality import SimulatedMarket, tca_report


@pytest.fixture(scope="module")
def report():
    market = SimulatedMarket()
    bars, quotes = market.bars(1), market.quotes(1)
    rows = []
    for i in range(30):
        t = bars["ts"].iloc[10 * i] + pd.Timedelta(seconds=30)
        ask = float(quotes["ask"].iloc[10 * i])
        bid = float(quotes["bid"].iloc[10 * i])
        side = "buy" if i % 2 == 0 else "sell"
        price = ask if side == "buy" else bid
        if i == 7:
            price = bid - 1.0  # a sell far outside the quote: an outlier and a flagged fill
        rows.append({"ts": t, "symbol": "DEMO", "side": side, "quantity": 100.0 * (i + 1), "price": price,
                     "order_id": f"o{i}", "broker": f"B{i % 2}", "venue": "V", "commission": 1.0})
    fills = pd.DataFrame(rows)
    orders = fills[["order_id", "symbol", "side", "quantity"]].assign(
        ts_submitted=fills["ts"] - pd.Timedelta(seconds=30), strategy="demo", broker=fills["broker"])
    stats = pd.DataFrame({"adv": [1e6], "sigma_daily": [0.02]}, index=["DEMO"])
    return tca_report(fills, orders, quotes, bars, statistics=stats)


def test_summary_is_notional_weighted_arrival_slippage(report):
    per_order = report.per_order
    expected = np.average(per_order["slippage_arrival_bps"], weights=per_order["notional"])
    assert report.summary["arrival_bps"] == pytest.approx(expected)
    assert report.summary["orders"] == 30 and report.summary["outside_quote_fills"] == 1


def test_outlier_and_group_tables(report):
    assert list(report.outliers["parent_id"]) == ["o7"]
    assert set(report.by_group["broker"]) == {"B0", "B1"}
    assert report.by_group["orders"].sum() == 30


def test_html_has_charts_and_pdf_renders(report):
    document = report.to_html()
    assert "Realised impact vs the square-root law" in document and "Markouts after the fill" in document
    assert "Rule 605" in document and "Rule 606" in document
    assert report.to_pdf().startswith(b"%PDF-")
    data = report.to_dict()
    assert data["summary"]["orders"] == 30 and len(data["orders"]) == 30


def _pdf_text(data: bytes) -> str:
    # the page content streams of a reportlab PDF (ASCII85 then Flate encoded), where drawings and text live
    parts = []
    for match in re.finditer(rb"stream\r?\n(.*?)~>\s*endstream", data, re.S):
        parts.append(zlib.decompress(base64.a85decode(match.group(1))).decode("latin-1"))
    return "\n".join(parts)


def test_pdf_charts_carry_the_report_data(report):
    charts = dict(report.pdf_charts())
    assert list(charts) == [
        "Slippage vs arrival (bps, positive = cost)",
        "Markouts after the fill (bps, positive = price moved our way)",
        "Realised impact vs the square-root law",
        "Cost vs order size",
        "Cost vs arrival by group (bps, notional-weighted)",
        "Effective spread per broker and venue ($ per share, share-weighted)"]
    histogram = charts["Slippage vs arrival (bps, positive = cost)"].contents[0]
    assert sum(histogram.data[0]) == report.per_order["slippage_arrival_bps"].notna().sum() == 30
    markouts = charts["Markouts after the fill (bps, positive = price moved our way)"].contents[0]
    assert [y for _, y in markouts.data[0]] == pytest.approx(list(report.markout_curve["markout_bps"]))
    impact = charts["Realised impact vs the square-root law"].contents[0]
    assert len(impact.data) == 2 and len(impact.data[0]) == len(report.impact)
    # the square-root law line: sigma * sqrt(Q / ADV) at the largest participation, in bps
    x_max, y_max = impact.data[1][-1]
    assert y_max == pytest.approx(0.02 * np.sqrt(x_max) * 1e4)
    spreads = charts["Effective spread per broker and venue ($ per share, share-weighted)"].contents[0]
    assert spreads.data[0] == pytest.approx(list(report.rule605["avg_effective_spread"]))
    assert spreads.categoryAxis.categoryNames == ["B0 / V", "B1 / V"]


def test_pdf_contains_the_chart_drawings(report, tmp_path):
    data = report.to_pdf(tmp_path / "tca.pdf")
    assert (tmp_path / "tca.pdf").read_bytes() == data
    content = _pdf_text(data)
    # axis titles and category labels exist only inside the drawings
    for label in ("(quantity / ADV) Tj", "(log10 notional) Tj", "(broker / venue) Tj", "(B1 / V) Tj", "(30m) Tj",
                  "(cost \\(bps\\)) Tj"):
        assert label in content, label
    # bars and markers are filled and stroked paths ("B*"): the tables draw none
    painted = sum(1 for line in content.splitlines() if line.endswith(" B*") or line == "B*")
    bars = sum(len(drawing.contents[0].data[0]) for title, drawing in report.pdf_charts()
               if hasattr(drawing.contents[0], "categoryAxis"))
    assert painted >= bars + len(report.impact) + len(report.per_order) > 60


def test_pdf_without_market_data_draws_no_empty_charts():
    # no quotes or bars: no benchmark, so no slippage to chart, and no bar of unknown values drawn as zero
    fills = pd.DataFrame({"ts": [pd.Timestamp("2024-03-04 15:00Z")], "symbol": ["X"], "side": ["buy"],
                          "quantity": [10.0], "price": [50.0]})
    report = tca_report(fills)
    assert report.pdf_charts() == []
    content = _pdf_text(report.to_pdf())
    assert "(Slippage vs arrival" not in content and "(Summary \\(bps, positive = cost\\)) Tj" in content
