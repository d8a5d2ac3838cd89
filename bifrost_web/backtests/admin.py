"""Admin: backtests and sweeps are written by the services; their results are read-only here."""

from django.contrib import admin

from bifrost_web.backtests import models


class _ReadOnly(admin.ModelAdmin):
    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False


@admin.register(models.Backtest)
class BacktestAdmin(admin.ModelAdmin):
    list_display = ["id", "owner", "name", "strategy", "source", "timeframe", "status", "final_equity", "created_at"]
    list_filter = ["status", "source", "strategy"]
    search_fields = ["name", "strategy"]


@admin.register(models.BacktestSeries)
class BacktestSeriesAdmin(_ReadOnly):
    list_display = ["backtest", "n_points"]
    exclude = ["equity", "benchmark", "prices", "positions"]  # binary archives: read them through the selectors


@admin.register(models.BacktestFill)
class BacktestFillAdmin(_ReadOnly):
    list_display = ["backtest", "seq", "ts", "symbol", "side", "quantity", "price", "commission", "fees"]
    list_filter = ["side"]
    search_fields = ["symbol", "order_id"]
    list_select_related = ["backtest"]


@admin.register(models.BacktestOrder)
class BacktestOrderAdmin(_ReadOnly):
    list_display = ["backtest", "seq", "ts_submitted", "symbol", "side", "order_type", "quantity", "status", "reason"]
    list_filter = ["status", "order_type"]
    search_fields = ["symbol", "order_id"]
    list_select_related = ["backtest"]


@admin.register(models.Sweep)
class SweepAdmin(admin.ModelAdmin):
    list_display = ["id", "owner", "name", "strategy", "method", "status", "trials_done", "n_trials", "best_value"]
    list_filter = ["status", "method"]


@admin.register(models.SweepTrial)
class SweepTrialAdmin(_ReadOnly):
    list_display = ["sweep", "number", "status", "value", "params", "finished_at"]
    list_filter = ["status"]
    exclude = ["returns"]
    list_select_related = ["sweep"]
