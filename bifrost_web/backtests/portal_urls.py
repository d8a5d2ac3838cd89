"""Portal pages of the backtests and research service, in the ``portal`` namespace."""

from django.urls import path

from bifrost_web.backtests import views

urlpatterns = [
    path("backtests/", views.backtest_list, name="backtests"),
    path("backtests/compare/", views.backtest_compare, name="backtest-compare"),
    path("backtests/<int:backtest_id>/", views.backtest_detail, name="backtest-detail"),
    path("backtests/<int:backtest_id>/status.json", views.backtest_status, name="backtest-status"),
    path("backtests/<int:backtest_id>/tearsheet.html", views.backtest_export, name="backtest-export"),
    path("sweeps/", views.sweep_list, name="sweeps"),
    path("sweeps/<int:sweep_id>/", views.sweep_detail, name="sweep-detail"),
    path("sweeps/<int:sweep_id>/progress.json", views.sweep_progress, name="sweep-progress"),
]
