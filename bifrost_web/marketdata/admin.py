from django.contrib import admin

from bifrost_web.marketdata import models, storage


@admin.register(models.Instrument)
class InstrumentAdmin(admin.ModelAdmin):
    list_display = ["symbol", "name", "exchange", "asset_class", "sector", "currency", "calendar", "updated_at"]
    list_filter = ["asset_class", "exchange", "sector"]
    search_fields = ["symbol", "name"]


@admin.register(models.Bar)
class BarAdmin(admin.ModelAdmin):
    """Bars are written by ingestion only; the admin reads them."""

    list_display = ["instrument", "timeframe", "ts", "open", "high", "low", "close", "volume"]
    list_filter = ["timeframe"]
    search_fields = ["instrument__symbol"]
    list_select_related = ["instrument"]
    show_full_result_count = False
    ordering = ["-ts"]
    list_per_page = 100

    def get_object(self, request, object_id, from_field=None):
        # The id encodes (instrument, timeframe, minute): look the bar up by its natural key,
        # which is the indexed key of the partitioned table.
        try:
            instrument_id, tf, ts = storage.decode_bar_id(int(object_id))
        except (TypeError, ValueError, StopIteration):
            return None
        return models.Bar.objects.filter(instrument_id=instrument_id, timeframe=tf.value, ts=ts).first()

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(models.CorporateAction)
class CorporateActionAdmin(admin.ModelAdmin):
    list_display = ["instrument", "ex_date", "kind", "value", "currency", "source"]
    list_filter = ["kind"]
    search_fields = ["instrument__symbol"]


@admin.register(models.CompanySnapshot)
class CompanySnapshotAdmin(admin.ModelAdmin):
    list_display = ["instrument", "as_of", "source", "market_cap", "trailing_pe", "beta", "overall_risk"]
    list_filter = ["source"]
    search_fields = ["instrument__symbol"]
    date_hierarchy = "as_of"


@admin.register(models.WatchList)
class WatchListAdmin(admin.ModelAdmin):
    list_display = ["name", "owner", "timeframes", "created_at"]
    filter_horizontal = ["instruments"]


@admin.register(models.IngestRun)
class IngestRunAdmin(admin.ModelAdmin):
    list_display = ["started_at", "source", "symbol", "timeframe", "status", "rows"]
    list_filter = ["status", "source"]
    search_fields = ["symbol", "message"]
    readonly_fields = [f.name for f in models.IngestRun._meta.fields]
