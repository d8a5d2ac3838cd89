from django.contrib import admin

from bifrost_web.trading import models


class AppendOnlyAdmin(admin.ModelAdmin):
    """Ledger records are append-only: the admin shows them and never changes them."""

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def has_add_permission(self, request):
        return False


class LedgerLineInline(admin.TabularInline):
    model = models.LedgerLine
    extra = 0
    can_delete = False
    readonly_fields = ["account", "currency", "amount"]


@admin.register(models.Household)
class HouseholdAdmin(admin.ModelAdmin):
    list_display = ["name", "owner"]


@admin.register(models.Portfolio)
class PortfolioAdmin(admin.ModelAdmin):
    list_display = ["name", "owner", "household", "account_type", "base_currency", "lot_method", "tax_status",
                    "broker", "kill_switch"]
    list_filter = ["account_type", "tax_status", "broker", "kill_switch"]
    search_fields = ["name", "owner__username"]


@admin.register(models.TradingHalt)
class TradingHaltAdmin(admin.ModelAdmin):
    list_display = ["set_at", "active", "reason", "set_by", "released_at"]


@admin.register(models.LedgerEntry)
class LedgerEntryAdmin(AppendOnlyAdmin):
    list_display = ["ts_event", "portfolio", "entry_id", "kind", "symbol", "quantity", "price", "amount"]
    list_filter = ["kind"]
    search_fields = ["entry_id", "symbol"]
    inlines = [LedgerLineInline]


@admin.register(models.LedgerLine)
class LedgerLineAdmin(AppendOnlyAdmin):
    list_display = ["entry", "account", "currency", "amount"]
    search_fields = ["account"]


@admin.register(models.Order)
class OrderAdmin(admin.ModelAdmin):
    list_display = ["created_at", "portfolio", "client_order_id", "symbol", "side", "quantity", "order_type",
                    "time_in_force", "status", "filled_quantity", "avg_fill_price"]
    list_filter = ["status", "order_type", "side", "venue"]
    search_fields = ["client_order_id", "symbol"]


@admin.register(models.Fill)
class FillAdmin(admin.ModelAdmin):
    list_display = ["ts_event", "portfolio", "fill_id", "symbol", "side", "quantity", "price", "commission", "fees"]
    search_fields = ["fill_id", "symbol"]


@admin.register(models.OrderEventRecord)
class OrderEventAdmin(admin.ModelAdmin):
    list_display = ["ts_recorded", "order", "kind", "ts_event", "reason"]
    list_filter = ["kind"]


@admin.register(models.PortfolioSnapshot)
class PortfolioSnapshotAdmin(admin.ModelAdmin):
    list_display = ["date", "portfolio", "nav", "cash", "gross_exposure", "net_exposure"]
