"""Market-data persistence: instruments, bars, corporate actions, company snapshots.

On PostgreSQL the bar table is declaratively partitioned: LIST by timeframe, then
RANGE by month (intraday) or by year (daily). See ``storage.py`` and migration 0002.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models

from bifrost.marketdata.types import ActionKind, AssetClass, Timeframe


class Instrument(models.Model):
    symbol = models.CharField(max_length=32, unique=True)
    name = models.CharField(max_length=200, blank=True, default="")
    exchange = models.CharField(max_length=32, blank=True, default="")
    currency = models.CharField(max_length=3, default="USD")
    asset_class = models.CharField(max_length=16, choices=[(a.value, a.value) for a in AssetClass],
                                   default=AssetClass.EQUITY.value)
    sector = models.CharField(max_length=100, blank=True, default="")
    industry = models.CharField(max_length=150, blank=True, default="")
    country = models.CharField(max_length=100, blank=True, default="")
    shares_outstanding = models.BigIntegerField(null=True, blank=True)
    calendar = models.CharField(max_length=16, default="XNYS")
    source = models.CharField(max_length=32, blank=True, default="")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["symbol"]

    def __str__(self) -> str:
        return self.symbol


class Bar(models.Model):
    """One OHLCV bar. ``ts`` is the open instant (intraday) or session date 00:00 UTC (daily)."""

    id = models.BigAutoField(primary_key=True)
    instrument = models.ForeignKey(Instrument, on_delete=models.CASCADE, related_name="bars")
    timeframe = models.CharField(max_length=3, choices=[(t.value, t.value) for t in Timeframe])
    ts = models.DateTimeField()
    open = models.FloatField()
    high = models.FloatField()
    low = models.FloatField()
    close = models.FloatField()
    volume = models.FloatField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["instrument", "timeframe", "ts"], name="bar_unique_instrument_tf_ts"),
        ]

    def __str__(self) -> str:
        return f"{self.instrument_id} {self.timeframe} {self.ts.isoformat()}"


class CorporateAction(models.Model):
    instrument = models.ForeignKey(Instrument, on_delete=models.CASCADE, related_name="actions")
    ex_date = models.DateField()
    kind = models.CharField(max_length=16, choices=[(k.value, k.value) for k in ActionKind])
    value = models.DecimalField(max_digits=20, decimal_places=8)
    currency = models.CharField(max_length=3, default="USD")
    source = models.CharField(max_length=32, blank=True, default="")

    class Meta:
        ordering = ["instrument", "ex_date"]
        constraints = [
            models.UniqueConstraint(fields=["instrument", "ex_date", "kind"], name="action_unique_instrument_date_kind"),
        ]

    def __str__(self) -> str:
        return f"{self.instrument} {self.kind} {self.value} on {self.ex_date}"


class CompanySnapshot(models.Model):
    """Fundamentals and governance scores as known on ``as_of``: history is queryable by date."""

    instrument = models.ForeignKey(Instrument, on_delete=models.CASCADE, related_name="snapshots")
    as_of = models.DateField()
    source = models.CharField(max_length=32)
    market_cap = models.FloatField(null=True, blank=True)
    enterprise_value = models.FloatField(null=True, blank=True)
    trailing_pe = models.FloatField(null=True, blank=True)
    forward_pe = models.FloatField(null=True, blank=True)
    peg_ratio = models.FloatField(null=True, blank=True)
    price_to_book = models.FloatField(null=True, blank=True)
    price_to_sales = models.FloatField(null=True, blank=True)
    eps_trailing = models.FloatField(null=True, blank=True)
    eps_forward = models.FloatField(null=True, blank=True)
    dividend_rate = models.FloatField(null=True, blank=True)
    dividend_yield = models.FloatField(null=True, blank=True)
    payout_ratio = models.FloatField(null=True, blank=True)
    beta = models.FloatField(null=True, blank=True)
    profit_margin = models.FloatField(null=True, blank=True)
    operating_margin = models.FloatField(null=True, blank=True)
    return_on_equity = models.FloatField(null=True, blank=True)
    return_on_assets = models.FloatField(null=True, blank=True)
    revenue = models.FloatField(null=True, blank=True)
    revenue_growth = models.FloatField(null=True, blank=True)
    earnings_growth = models.FloatField(null=True, blank=True)
    gross_margin = models.FloatField(null=True, blank=True)
    total_cash = models.FloatField(null=True, blank=True)
    total_debt = models.FloatField(null=True, blank=True)
    debt_to_equity = models.FloatField(null=True, blank=True)
    current_ratio = models.FloatField(null=True, blank=True)
    book_value_per_share = models.FloatField(null=True, blank=True)
    shares_outstanding = models.FloatField(null=True, blank=True)
    float_shares = models.FloatField(null=True, blank=True)
    fifty_two_week_high = models.FloatField(null=True, blank=True)
    fifty_two_week_low = models.FloatField(null=True, blank=True)
    average_volume = models.FloatField(null=True, blank=True)
    audit_risk = models.PositiveSmallIntegerField(null=True, blank=True)
    board_risk = models.PositiveSmallIntegerField(null=True, blank=True)
    compensation_risk = models.PositiveSmallIntegerField(null=True, blank=True)
    shareholder_rights_risk = models.PositiveSmallIntegerField(null=True, blank=True)
    overall_risk = models.PositiveSmallIntegerField(null=True, blank=True)
    raw = models.JSONField(default=dict, blank=True)
    recorded_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["instrument", "-as_of"]
        constraints = [
            models.UniqueConstraint(fields=["instrument", "as_of", "source"], name="snapshot_unique_instrument_date_source"),
        ]

    def __str__(self) -> str:
        return f"{self.instrument} {self.as_of} ({self.source})"


class WatchList(models.Model):
    """Symbols whose data the periodic refresh keeps current."""

    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="watch_lists")
    name = models.CharField(max_length=100)
    timeframes = models.CharField(max_length=64, default="1d", help_text="comma-separated, e.g. 1d,1h")
    instruments = models.ManyToManyField(Instrument, related_name="watch_lists", blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["owner", "name"], name="watchlist_unique_owner_name")]

    def __str__(self) -> str:
        return f"{self.owner}:{self.name}"


class IngestRun(models.Model):
    """One ingest attempt: what came in, from where, and how it ended."""

    class Status(models.TextChoices):
        RUNNING = "running"
        SUCCEEDED = "succeeded"
        FAILED = "failed"

    source = models.CharField(max_length=64)
    symbol = models.CharField(max_length=32, blank=True, default="")
    timeframe = models.CharField(max_length=3, blank=True, default="")
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.RUNNING)
    rows = models.BigIntegerField(default=0)
    message = models.TextField(blank=True, default="")
    details = models.JSONField(default=dict, blank=True)
    started_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-started_at"]

    def __str__(self) -> str:
        return f"{self.source} {self.symbol} {self.timeframe} {self.status}"
