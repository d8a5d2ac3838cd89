"""Plotly figures and the standalone HTML tear sheet.

Figures carry their data as plain JSON lists, so the tests read the values back
from the figure (exact) and find them in the HTML text (Python's float repr, which
Plotly's JSON encoder writes).
"""

from __future__ import annotations

import re

import numpy as np
import plotly
import pytest
from plotly.offline import get_plotlyjs_version

from bifrost.analytics import (
    equity_curve_figure,
    monthly_returns_heatmap,
    performance_report,
    rolling_sharpe_figure,
    rolling_sharpe_ratio,
    tearsheet_html,
    trade_markers_figure,
    underwater_figure,
)
from bifrost.core.errors import InvalidInput

EXACT = 1e-12


@pytest.fixture(scope="module")
def report(portfolio_returns, benchmark_returns):
    return performance_report(portfolio_returns, benchmark=benchmark_returns)


@pytest.fixture(scope="module")
def crossover_html(crossover_backtest, tmp_path_factory):
    returns = crossover_backtest["returns"]
    report = performance_report(returns, trades=crossover_backtest["trades"], exposure=crossover_backtest["position"])
    path = tmp_path_factory.mktemp("tearsheet") / "crossover.html"
    html = tearsheet_html(report, returns, benchmark=crossover_backtest["prices"].pct_change().iloc[1:],
                          prices=crossover_backtest["prices"], trades=crossover_backtest["trades"],
                          rolling_window=126, title="SPY 50/200 crossover", path=path)
    return {"html": html, "path": path, "report": report}


def test_equity_curve_figure_ends_at_total_return_for_strategy_and_benchmark(portfolio_returns, benchmark_returns,
                                                                           report):
    figure = equity_curve_figure(portfolio_returns, benchmark_returns)

    strategy, benchmark = figure.data
    assert strategy.y[-1] == pytest.approx(1.0 + report.total_return, rel=EXACT)
    assert benchmark.y[-1] == pytest.approx(1.0 + report.benchmark_total_return, rel=EXACT)
    assert strategy.x[0] == "1993-02-01" and strategy.x[-1] == "2018-04-11"


def test_underwater_figure_annotates_max_drawdown(report):
    figure = underwater_figure(underwater=report.underwater)

    assert min(figure.data[0].y) == report.max_drawdown
    assert figure.layout.annotations[0].text == "Max drawdown -57.81%"
    assert figure.layout.annotations[0].x == "2009-03-06"


def test_monthly_returns_heatmap_has_month_columns_and_table_values(report):
    figure = monthly_returns_heatmap(table=report.monthly_returns)

    heatmap = figure.data[0]
    assert list(heatmap.x) == ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]
    assert heatmap.y[0] == "1993" and heatmap.y[-1] == "2018"
    assert heatmap.z[0][0] is None  # no data in January 1993
    assert heatmap.z[-1][3] == report.monthly_returns.loc[2018, 4]


def test_rolling_sharpe_figure_plots_rolling_sharpe_ratio(portfolio_returns):
    figure = rolling_sharpe_figure(portfolio_returns, window=63)

    expected = rolling_sharpe_ratio(portfolio_returns, window=63).to_numpy()
    y = np.array([np.nan if v is None else v for v in figure.data[0].y])
    np.testing.assert_array_equal(np.isnan(y), np.isnan(expected))
    np.testing.assert_allclose(y[62:], expected[62:], rtol=EXACT)


def test_trade_markers_figure_puts_buys_and_sells_at_trade_prices(crossover_backtest):
    trades = crossover_backtest["trades"]

    figure = trade_markers_figure(crossover_backtest["prices"], trades)

    price, buys, sells = figure.data
    assert (buys.name, len(buys.x), sells.name, len(sells.x)) == ("Buy", 11, "Sell", 10)
    assert list(buys.y) == list(trades.loc[trades["side"] == "buy", "price"])
    assert buys.x[0] == "2000-10-16" and buys.marker.symbol == "triangle-up"
    assert sells.marker.symbol == "triangle-down"


def test_trade_markers_figure_accepts_integer_nanosecond_timestamps_and_signed_quantity(crossover_backtest):
    trades = crossover_backtest["trades"].drop(columns=["side"])
    trades["ts_event"] = trades.pop("timestamp").astype("int64")

    figure = trade_markers_figure(crossover_backtest["prices"], trades)

    assert figure.data[1].x[0] == "2000-10-16" and len(figure.data[2].x) == 10


def test_trade_markers_figure_unknown_side_raises_invalid_input(crossover_backtest):
    trades = crossover_backtest["trades"].assign(side="short")

    with pytest.raises(InvalidInput, match="trade side must be 'buy' or 'sell', was 'short'"):
        trade_markers_figure(crossover_backtest["prices"], trades)


def test_tearsheet_html_contains_metrics_drawdown_and_months(crossover_html):
    html, report = crossover_html["html"], crossover_html["report"]

    assert repr(report.max_drawdown) in html  # the underwater trace's minimum, as data
    assert f"Max drawdown {report.max_drawdown:.2%}" in html  # the annotation
    assert f"<th>Max drawdown</th><td>{report.max_drawdown:.2%}</td>" in html  # the metrics table
    assert '"Jan","Feb","Mar","Apr","May","Jun","Jul","Aug","Sep","Oct","Nov","Dec"' in html
    assert repr(float(report.monthly_returns.loc[2008, 10])) in html
    assert "<title>SPY 50/200 crossover</title>" in html
    assert "<th>Win rate</th>" in html and "<th>Profit factor</th>" in html


def test_tearsheet_html_embeds_plotlyjs_once_and_loads_no_external_script(crossover_html):
    html = crossover_html["html"]

    assert not re.search(r"<script[^>]*\bsrc\s*=", html)
    assert not re.search(r"<link[^>]*\bhref\s*=\s*[\"']https?:", html)
    assert html.count(f"plotly.js v{get_plotlyjs_version()}") == 1
    # one figure div per chart: equity, underwater, heatmap, rolling Sharpe, trades (plotly.js itself
    # may mention Plotly.newPlot inside its bundle, so the divs are counted, not the calls)
    assert len(re.findall(r'<div id="[^"]+" class="plotly-graph-div"', html)) == 5
    assert len(html) > 3_000_000  # plotly.js itself is inline
    assert plotly.__version__


def test_tearsheet_html_writes_the_same_document_to_path(crossover_html):
    assert crossover_html["path"].read_text(encoding="utf-8") == crossover_html["html"]


def test_tearsheet_html_report_of_other_returns_raises_invalid_input(report, crossover_backtest):
    with pytest.raises(InvalidInput, match="returns have 5015 periods but the report has 6345"):
        tearsheet_html(report, crossover_backtest["returns"])


def test_tearsheet_html_report_of_other_dates_raises_invalid_input(report, portfolio_returns):
    shifted = portfolio_returns.copy()
    shifted.index = shifted.index + np.timedelta64(1, "D")

    with pytest.raises(InvalidInput, match="returns run 1993-02-02 to 2018-04-12 but the report covers "
                                           "1993-02-01 to 2018-04-11"):
        tearsheet_html(report, shifted)
