from django.contrib import admin

from bifrost_web.compliance import models


@admin.register(models.IdenticalGroup)
class IdenticalGroupAdmin(admin.ModelAdmin):
    list_display = ("owner", "name", "symbols")


@admin.register(models.ComplianceSettings)
class ComplianceSettingsAdmin(admin.ModelAdmin):
    list_display = ("portfolio", "wash_sale_action", "day_trade_action", "tax_lot_method", "regime")


@admin.register(models.AuditEntry)
class AuditEntryAdmin(admin.ModelAdmin):
    """Read-only: the audit trail cannot be changed through the application."""

    list_display = ("sequence", "ts", "actor", "action", "object_type", "object_id")
    search_fields = ("actor", "action", "object_id")

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(models.ListedSymbol)
class ListedSymbolAdmin(admin.ModelAdmin):
    list_display = ("owner", "symbol", "kind", "reason", "added_at")


@admin.register(models.ReportRun)
class ReportRunAdmin(admin.ModelAdmin):
    list_display = ("owner", "kind", "period", "version", "created_at", "created_by")
    exclude = ("pdf",)
