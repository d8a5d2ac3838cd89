"""The TCA report on the seeded demo market: summary numbers, HTML with charts, PDF."""

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
