"""Execution quality: TCA reports, impact calibrations, venue configurations and algorithm parent orders."""

from __future__ import annotations

from django.conf import settings
from django.db import models

from bifrost_web.trading.models import Portfolio

QTY = {"max_digits": 24, "decimal_places": 6}
MONEY = {"max_digits": 24, "decimal_places": 6}


class TCAReport(models.Model):
    """A transaction cost analysis of a portfolio's fills over a period (computed by a Celery task)."""

    class Status(models.TextChoices):
        PENDING = "pending"
        RUNNING = "running"
        DONE = "done"
        FAILED = "failed"

    portfolio = models.ForeignKey(Portfolio, on_delete=models.CASCADE, related_name="tca_reports")
    start = models.DateTimeField(null=True, blank=True)
    end = models.DateTimeField(null=True, blank=True)
    group_by = models.JSONField(default=list, blank=True)
    status = models.CharField(max_length=8, choices=Status.choices, default=Status.PENDING)
    summary = models.JSONField(default=dict, blank=True)
    result = models.JSONField(default=dict, blank=True)
    error = models.TextField(blank=True, default="")
    created_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"TCA {self.pk} of {self.portfolio_id} ({self.status})"


class ImpactCalibration(models.Model):
    """Impact coefficients fitted from a portfolio's own fills; the latest feeds algorithm selection."""

    portfolio = models.ForeignKey(Portfolio, on_delete=models.CASCADE, related_name="impact_calibrations")
    temporary = models.FloatField()
    permanent = models.FloatField()
    square_root = models.FloatField()
    observations = models.PositiveIntegerField()
    exponent = models.FloatField(null=True, blank=True)
    details = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"impact {self.pk}: temporary {self.temporary:.3f}, permanent {self.permanent:.3f}"


class VenueConfig(models.Model):
    """A simulated venue for smart order routing (fees per share; negative taker fee = inverted venue)."""

    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="venue_configs")
    name = models.CharField(max_length=32)
    taker_fee_per_share = models.DecimalField(max_digits=10, decimal_places=6, default="0.003")
    maker_rebate_per_share = models.DecimalField(max_digits=10, decimal_places=6, default="0.002")
    latency_ms = models.FloatField(default=1.0)
    fill_probability = models.FloatField(default=1.0)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["owner", "name"]
        constraints = [models.UniqueConstraint(fields=["owner", "name"], name="venueconfig_unique_owner_name")]

    def __str__(self) -> str:
        return self.name


class AlgoOrder(models.Model):
    """A parent order worked by an execution algorithm; its children are ordinary orders tagged ``algo:<id>``."""

    class State(models.TextChoices):
        PENDING = "pending"
        WORKING = "working"
        PAUSED = "paused"
        COMPLETED = "completed"
        EXPIRED = "expired"
        CANCELLED = "cancelled"

    portfolio = models.ForeignKey(Portfolio, on_delete=models.CASCADE, related_name="algo_orders")
    parent_id = models.CharField(max_length=48)
    symbol = models.CharField(max_length=32)
    side = models.CharField(max_length=4)
    quantity = models.DecimalField(**QTY)
    algo = models.CharField(max_length=16)
    params = models.JSONField(default=dict, blank=True)
    start = models.DateTimeField()
    end = models.DateTimeField()
    limit_price = models.DecimalField(**MONEY, null=True, blank=True)
    max_participation = models.FloatField(null=True, blank=True)
    on_kill_switch = models.CharField(max_length=8, default="cancel")
    state = models.CharField(max_length=10, choices=State.choices, default=State.PENDING)
    filled_quantity = models.DecimalField(**QTY, default=0)
    children_sent = models.PositiveIntegerField(default=0)
    schedule = models.JSONField(default=list, blank=True)
    state_reason = models.CharField(max_length=200, blank=True, default="")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [models.UniqueConstraint(fields=["portfolio", "parent_id"], name="algoorder_unique_parent_id")]

    def __str__(self) -> str:
        return f"{self.parent_id} {self.algo} {self.side} {self.quantity} {self.symbol} ({self.state})"
