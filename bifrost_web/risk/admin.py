from django.contrib import admin

from bifrost_web.risk import models


class LimitRuleInline(admin.TabularInline):
    model = models.LimitRule
    extra = 0


@admin.register(models.LimitSet)
class LimitSetAdmin(admin.ModelAdmin):
    list_display = ("id", "owner", "portfolio", "household", "active", "confidence", "horizon_days")
    list_filter = ("active",)
    inlines = [LimitRuleInline]


@admin.register(models.RiskAlert)
class RiskAlertAdmin(admin.ModelAdmin):
    list_display = ("id", "owner", "severity", "rule", "message", "occurrences", "last_seen", "acknowledged")
    list_filter = ("severity", "acknowledged", "rule")
    search_fields = ("message", "dedup_key")


@admin.register(models.RiskSnapshot)
class RiskSnapshotAdmin(admin.ModelAdmin):
    list_display = ("id", "portfolio", "ts", "trigger", "nav", "var", "es")
    list_filter = ("trigger",)


@admin.register(models.LimitRule)
class LimitRuleAdmin(admin.ModelAdmin):
    list_display = ("id", "limit_set", "kind", "key", "soft", "hard")
    list_filter = ("kind",)
