"""REST routes of the backtests and research service, mounted under /api/v1/."""

from django.urls import path

from bifrost_web.backtests import api

urlpatterns = [
    path("backtests/", api.BacktestListApi.as_view(), name="api-backtests"),
    path("backtests/compare/", api.BacktestCompareApi.as_view(), name="api-backtests-compare"),
    path("backtests/strategies/", api.StrategyListApi.as_view(), name="api-backtest-strategies"),
    path("backtests/<int:backtest_id>/", api.BacktestDetailApi.as_view(), name="api-backtest"),
    path("backtests/<int:backtest_id>/equity/", api.BacktestEquityApi.as_view(), name="api-backtest-equity"),
    path("backtests/<int:backtest_id>/fills/", api.BacktestFillsApi.as_view(), name="api-backtest-fills"),
    path("backtests/<int:backtest_id>/orders/", api.BacktestOrdersApi.as_view(), name="api-backtest-orders"),
    path("backtests/<int:backtest_id>/trades/", api.BacktestTradesApi.as_view(), name="api-backtest-trades"),
    path("backtests/<int:backtest_id>/analysis/", api.BacktestAnalysisApi.as_view(), name="api-backtest-analysis"),
    path("backtests/<int:backtest_id>/tearsheet/", api.BacktestTearsheetApi.as_view(),
         name="api-backtest-tearsheet"),
    path("sweeps/", api.SweepListApi.as_view(), name="api-sweeps"),
    path("sweeps/<int:sweep_id>/", api.SweepDetailApi.as_view(), name="api-sweep"),
]
