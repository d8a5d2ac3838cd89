"""Portfolios, the double-entry ledger, orders, fills and their events.

Money and quantities are NUMERIC (Decimal). Every order event keeps ``ts_event``
(when it happened at the venue) and ``ts_recorded`` (when we stored it).
"""

from __future__ import annotations

from django.conf import settings
from django.db import models

from bifrost.orders.types import EventKind, Liquidity, OrderStatus, OrderType, Side, TimeInForce
from bifrost.portfolio.lots import LotMethod

MONEY = {"max_digits": 24, "decimal_places": 6}
QTY = {"max_digits": 24, "decimal_places": 6}


def _choices(enum) -> list[tuple[str, str]]:
    return [(e.value, e.value) for e in enum]


class Household(models.Model):
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="households")
    name = models.CharField(max_length=100)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["owner", "name"], name="household_unique_owner_name")]

    def __str__(self) -> str:
        return self.name


class Portfolio(models.Model):
    class AccountType(models.TextChoices):
        CASH = "cash"
        MARGIN = "margin"

    class LotMethod(models.TextChoices):
        FIFO = "fifo"
        LIFO = "lifo"
        HIFO = "hifo"
        SPECIFIC = "specific"

    class TaxStatus(models.TextChoices):
        TAXABLE = "taxable"
        TAX_ADVANTAGED = "ira"

    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="portfolios")
    household = models.ForeignKey(Household, on_delete=models.SET_NULL, null=True, blank=True,
                                  related_name="portfolios")
    name = models.CharField(max_length=100)
    base_currency = models.CharField(max_length=3, default="USD")
    account_type = models.CharField(max_length=8, choices=AccountType.choices, default=AccountType.CASH)
    leverage_limit = models.DecimalField(max_digits=6, decimal_places=2, default=1,
                                         help_text="max gross exposure / equity (margin accounts)")
    maintenance_margin = models.DecimalField(max_digits=5, decimal_places=4, default="0.25",
                                             help_text="maintenance requirement as a fraction of long market value")
    lot_method = models.CharField(max_length=8, choices=LotMethod.choices, default=LotMethod.FIFO)
    tax_status = models.CharField(max_length=8, choices=TaxStatus.choices, default=TaxStatus.TAXABLE)
    broker = models.CharField(max_length=16, default="paper", help_text="paper or alpaca")
    kill_switch = models.BooleanField(default=False)
    kill_switch_reason = models.CharField(max_length=200, blank=True, default="")
    # Balances after the last posting, written in the same transaction as the ledger entry
    # (the ledger stays the source of truth; these spare the order path a replay).
    cash_balance = models.DecimalField(**MONEY, default=0)
    position_quantities = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["owner", "name"]
        constraints = [models.UniqueConstraint(fields=["owner", "name"], name="portfolio_unique_owner_name")]

    def __str__(self) -> str:
        return f"{self.owner}:{self.name}"


class TradingHalt(models.Model):
    """The global kill switch: while an active row exists, no order leaves the system."""

    active = models.BooleanField(default=True)
    reason = models.CharField(max_length=200)
    set_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True)
    set_at = models.DateTimeField(auto_now_add=True)
    released_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"halt {'active' if self.active else 'released'}: {self.reason}"


class LedgerEntry(models.Model):
    """One balanced journal entry. ``entry_id`` is the natural key (a fill id, a cash-flow id)."""

    portfolio = models.ForeignKey(Portfolio, on_delete=models.CASCADE, related_name="ledger_entries")
    entry_id = models.CharField(max_length=100)
    kind = models.CharField(max_length=24)
    ts_event = models.DateTimeField()
    ts_recorded = models.DateTimeField(auto_now_add=True)
    description = models.CharField(max_length=300, blank=True, default="")
    symbol = models.CharField(max_length=32, blank=True, default="")
    quantity = models.DecimalField(**QTY, null=True, blank=True)
    price = models.DecimalField(**MONEY, null=True, blank=True)
    amount = models.DecimalField(**MONEY, null=True, blank=True, help_text="cash amount of a cash flow")
    payload = models.JSONField(default=dict, help_text="the source fill or event, replayed to rebuild the ledger")

    class Meta:
        ordering = ["portfolio", "ts_event", "id"]
        constraints = [models.UniqueConstraint(fields=["portfolio", "entry_id"], name="ledger_unique_entry")]
        indexes = [models.Index(fields=["portfolio", "ts_event"])]

    def __str__(self) -> str:
        return f"{self.portfolio_id}:{self.entry_id} {self.kind}"


class LedgerLine(models.Model):
    entry = models.ForeignKey(LedgerEntry, on_delete=models.CASCADE, related_name="lines")
    account = models.CharField(max_length=64)
    currency = models.CharField(max_length=3, default="USD")
    amount = models.DecimalField(**MONEY)

    def __str__(self) -> str:
        return f"{self.account} {self.amount} {self.currency}"


class Order(models.Model):
    portfolio = models.ForeignKey(Portfolio, on_delete=models.CASCADE, related_name="orders")
    client_order_id = models.CharField(max_length=64)
    symbol = models.CharField(max_length=32)
    side = models.CharField(max_length=4, choices=_choices(Side))
    quantity = models.DecimalField(**QTY)
    order_type = models.CharField(max_length=16, choices=_choices(OrderType))
    time_in_force = models.CharField(max_length=4, choices=_choices(TimeInForce))
    limit_price = models.DecimalField(**MONEY, null=True, blank=True)
    stop_price = models.DecimalField(**MONEY, null=True, blank=True)
    trail_amount = models.DecimalField(**MONEY, null=True, blank=True)
    trail_percent = models.DecimalField(max_digits=8, decimal_places=4, null=True, blank=True)
    parent = models.ForeignKey("self", on_delete=models.SET_NULL, null=True, blank=True, related_name="children")
    oco_group = models.CharField(max_length=64, blank=True, default="")
    replaces = models.OneToOneField("self", on_delete=models.SET_NULL, null=True, blank=True,
                                    related_name="replaced_by")
    status = models.CharField(max_length=20, choices=_choices(OrderStatus), default=OrderStatus.NEW.value)
    filled_quantity = models.DecimalField(**QTY, default=0)
    avg_fill_price = models.DecimalField(**MONEY, null=True, blank=True)
    venue = models.CharField(max_length=16, default="paper")
    venue_order_id = models.CharField(max_length=64, blank=True, default="")
    reject_reason = models.TextField(blank=True, default="")
    tag = models.CharField(max_length=64, blank=True, default="")
    # Per-sale override of the portfolio's lot method for the lots this order's fills close
    # (OrderRequest.lot_method / lot_ids): "" keeps the portfolio's method.
    lot_method = models.CharField(max_length=8, blank=True, default="",
                                  choices=[(m.value, m.value) for m in LotMethod])
    lot_ids = models.JSONField(default=list, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["portfolio", "client_order_id"], name="order_unique_client_id"),
        ]
        indexes = [
            models.Index(fields=["portfolio", "status"]), models.Index(fields=["symbol"]),
            # the open orders that every pre-trade check sums per side and symbol (reserved cash,
            # shares promised to sells): read in index order, without touching closed orders
            models.Index(fields=["portfolio", "side", "symbol"], name="order_open_by_side_symbol",
                         condition=models.Q(status__in=["new", "accepted", "partially_filled"])),
        ]

    def __str__(self) -> str:
        return f"{self.client_order_id} {self.side} {self.quantity} {self.symbol} ({self.status})"


class Fill(models.Model):
    portfolio = models.ForeignKey(Portfolio, on_delete=models.CASCADE, related_name="fills")
    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="fills")
    fill_id = models.CharField(max_length=100)
    symbol = models.CharField(max_length=32)
    side = models.CharField(max_length=4, choices=_choices(Side))
    quantity = models.DecimalField(**QTY)
    price = models.DecimalField(**MONEY)
    commission = models.DecimalField(**MONEY, default=0)
    fees = models.DecimalField(**MONEY, default=0)
    liquidity = models.CharField(max_length=8, choices=_choices(Liquidity), default=Liquidity.TAKER.value)
    venue = models.CharField(max_length=16, default="paper")
    currency = models.CharField(max_length=3, default="USD")
    ts_event = models.DateTimeField()
    ts_recorded = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["ts_event", "id"]
        constraints = [models.UniqueConstraint(fields=["portfolio", "venue", "fill_id"], name="fill_unique_id")]

    def __str__(self) -> str:
        return f"{self.fill_id} {self.side} {self.quantity} {self.symbol} @ {self.price}"


class OrderEventRecord(models.Model):
    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="events")
    kind = models.CharField(max_length=20, choices=_choices(EventKind))
    ts_event = models.DateTimeField()
    ts_recorded = models.DateTimeField(auto_now_add=True)
    reason = models.TextField(blank=True, default="")
    fill = models.ForeignKey(Fill, on_delete=models.SET_NULL, null=True, blank=True)
    details = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["ts_recorded", "id"]

    def __str__(self) -> str:
        return f"{self.order_id} {self.kind} {self.ts_event.isoformat()}"


class PortfolioSnapshot(models.Model):
    """End-of-day valuation: NAV, cash and exposures, marked to the latest bars."""

    portfolio = models.ForeignKey(Portfolio, on_delete=models.CASCADE, related_name="snapshots")
    date = models.DateField()
    nav = models.DecimalField(**MONEY)
    cash = models.DecimalField(**MONEY)
    long_value = models.DecimalField(**MONEY)
    short_value = models.DecimalField(**MONEY)
    gross_exposure = models.DecimalField(**MONEY)
    net_exposure = models.DecimalField(**MONEY)
    net_flow = models.DecimalField(**MONEY, default=0, help_text="external cash flow on this date")

    class Meta:
        ordering = ["portfolio", "date"]
        constraints = [models.UniqueConstraint(fields=["portfolio", "date"], name="snapshot_unique_portfolio_date")]

    def __str__(self) -> str:
        return f"{self.portfolio_id} {self.date} NAV {self.nav}"
