"""Analytics: backtest performance metrics, overfitting guards and tear sheets.

All inputs are float64 returns (arrays, Series or DataFrames); nothing here
touches storage or the network.
"""

from bifrost.analytics.metrics import (
    DrawdownEpisode,
    PerformanceReport,
    cumulative_wealth,
    drawdown_episodes,
    monthly_returns_table,
    performance_report,
    rolling_sharpe_ratio,
    underwater_series,
)
from bifrost.analytics.overfitting import (
    BacktestOverfittingResult,
    DeflatedSharpeResult,
    deflated_sharpe_ratio,
    deflated_sharpe_ratio_from_trials,
    expected_maximum_sharpe_ratio,
    probabilistic_sharpe_ratio,
    probability_of_backtest_overfitting,
)
from bifrost.analytics.tearsheet import (
    equity_curve_figure,
    monthly_returns_heatmap,
    rolling_sharpe_figure,
    tearsheet_html,
    trade_markers_figure,
    underwater_figure,
)

__all__ = [
    "BacktestOverfittingResult",
    "DeflatedSharpeResult",
    "DrawdownEpisode",
    "PerformanceReport",
    "cumulative_wealth",
    "deflated_sharpe_ratio",
    "deflated_sharpe_ratio_from_trials",
    "drawdown_episodes",
    "equity_curve_figure",
    "expected_maximum_sharpe_ratio",
    "monthly_returns_heatmap",
    "monthly_returns_table",
    "performance_report",
    "probabilistic_sharpe_ratio",
    "probability_of_backtest_overfitting",
    "rolling_sharpe_figure",
    "rolling_sharpe_ratio",
    "tearsheet_html",
    "trade_markers_figure",
    "underwater_figure",
    "underwater_series",
]
