from django.contrib import admin

from bifrost_web.execquality import models


@admin.register(models.TCAReport)
class TCAReportAdmin(admin.ModelAdmin):
    list_display = ("id", "portfolio", "status", "start", "end", "created_at")
    list_filter = ("status",)


@admin.register(models.ImpactCalibration)
class ImpactCalibrationAdmin(admin.ModelAdmin):
    list_display = ("id", "portfolio", "temporary", "permanent", "square_root", "observations", "created_at")


@admin.register(models.VenueConfig)
class VenueConfigAdmin(admin.ModelAdmin):
    list_display = ("name", "owner", "taker_fee_per_share", "maker_rebate_per_share", "latency_ms", "fill_probability")


@admin.register(models.AlgoOrder)
class AlgoOrderAdmin(admin.ModelAdmin):
    list_display = ("parent_id", "portfolio", "algo", "side", "quantity", "symbol", "state", "filled_quantity")
    list_filter = ("state", "algo")
