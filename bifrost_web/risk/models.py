"""Limit sets (per portfolio or per household), their rules, risk alerts and risk snapshots."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q

from bifrost.risk.limits import LimitKind

LEVEL = {"max_digits": 24, "decimal_places": 8, "null": True, "blank": True}


class LimitSet(models.Model):
    """The limits of one portfolio or one household (exactly one of the two)."""

    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="risk_limit_sets")
    portfolio = models.OneToOneField("trading.Portfolio", on_delete=models.CASCADE, null=True, blank=True,
                                     related_name="risk_limit_set")
    household = models.OneToOneField("trading.Household", on_delete=models.CASCADE, null=True, blank=True,
                                     related_name="risk_limit_set")
    active = models.BooleanField(default=True)
    confidence = models.FloatField(default=0.99, help_text="confidence of the VaR and CVaR limits")
    horizon_days = models.PositiveSmallIntegerField(default=1)
    lookback_days = models.PositiveSmallIntegerField(default=250, help_text="return history for the risk model")
    webhook_url = models.URLField(blank=True, default="", help_text="alerts are POSTed here as JSON")
    email_alerts = models.BooleanField(default=True, help_text="e-mail hard-level alerts to the owner")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=(Q(portfolio__isnull=False, household__isnull=True)
                           | Q(portfolio__isnull=True, household__isnull=False)),
                name="risk_limitset_one_scope"),
        ]

    @property
    def scope_label(self) -> str:
        if self.portfolio_id:
            return f"portfolio {self.portfolio.name}"
        return f"household {self.household.name}"

    def __str__(self) -> str:
        return self.scope_label


class LimitRule(models.Model):
    """One limit with a soft (warn) and a hard (block) level, in the kind's unit (see bifrost.risk.limits)."""

    limit_set = models.ForeignKey(LimitSet, on_delete=models.CASCADE, related_name="rules")
    kind = models.CharField(max_length=24, choices=[(k.value, k.value) for k in LimitKind])
    key = models.CharField(max_length=150, blank=True, default="",
                           help_text="the sector or industry a group limit is restricted to ('' for all)")
    soft = models.DecimalField(**LEVEL)
    hard = models.DecimalField(**LEVEL)
    params = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["limit_set", "kind", "key"]
        constraints = [models.UniqueConstraint(fields=["limit_set", "kind", "key"], name="risk_rule_unique_kind")]

    def __str__(self) -> str:
        return f"{self.kind}{'[' + self.key + ']' if self.key else ''} soft={self.soft} hard={self.hard}"


class RiskAlert(models.Model):
    """A crossed level or a VaR jump. One open (unacknowledged) alert per ``dedup_key``: repeats
    bump ``occurrences`` and ``last_seen`` instead of adding rows."""

    class Severity(models.TextChoices):
        INFO = "info"
        WARNING = "warning"
        CRITICAL = "critical"

    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="risk_alerts")
    portfolio = models.ForeignKey("trading.Portfolio", on_delete=models.CASCADE, null=True, blank=True,
                                  related_name="risk_alerts")
    household = models.ForeignKey("trading.Household", on_delete=models.CASCADE, null=True, blank=True,
                                  related_name="risk_alerts")
    rule = models.CharField(max_length=32)
    severity = models.CharField(max_length=8, choices=Severity.choices)
    message = models.TextField()
    numbers = models.JSONField(default=dict, blank=True)
    dedup_key = models.CharField(max_length=200)
    first_seen = models.DateTimeField()
    last_seen = models.DateTimeField()
    occurrences = models.PositiveIntegerField(default=1)
    acknowledged = models.BooleanField(default=False)
    acknowledged_at = models.DateTimeField(null=True, blank=True)
    acknowledged_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True,
                                        related_name="+")

    class Meta:
        ordering = ["acknowledged", "-last_seen", "-id"]
        constraints = [models.UniqueConstraint(fields=["owner", "dedup_key"], condition=Q(acknowledged=False),
                                               name="risk_alert_one_open_per_key")]
        indexes = [models.Index(fields=["owner", "acknowledged"])]

    def __str__(self) -> str:
        return f"{self.severity}: {self.message}"


class RiskSnapshot(models.Model):
    """A revaluation of a portfolio's risk (intraday or end of day); ``report`` holds the full figures."""

    portfolio = models.ForeignKey("trading.Portfolio", on_delete=models.CASCADE, related_name="risk_snapshots")
    ts = models.DateTimeField()
    trigger = models.CharField(max_length=16, default="schedule", help_text="schedule, fill, manual or daily")
    nav = models.DecimalField(max_digits=24, decimal_places=6)
    var = models.FloatField(null=True, blank=True, help_text="1-day historical VaR in currency")
    es = models.FloatField(null=True, blank=True)
    report = models.JSONField(default=dict)

    class Meta:
        ordering = ["portfolio", "-ts"]
        indexes = [models.Index(fields=["portfolio", "ts"])]

    def __str__(self) -> str:
        return f"{self.portfolio_id} {self.ts.isoformat()} VaR {self.var}"
