"""Compliance settings, substantially-identical groups and the hash-chained audit trail.

Tax lots, wash sales and day-trade counts are not stored: they are recomputed from the
portfolios' fills (the source of truth) by ``bifrost.compliance``. Compliance alerts are
``bifrost_web.risk`` alerts (one alert system: portal, e-mail, webhook, acknowledgement).
"""

from __future__ import annotations

from django.conf import settings
from django.db import models

from bifrost_web.trading.models import Portfolio


class IdenticalGroup(models.Model):
    """Symbols a user treats as substantially identical for the wash-sale rule."""

    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="identical_groups")
    name = models.CharField(max_length=64)
    symbols = models.JSONField(default=list)

    class Meta:
        ordering = ["owner", "name"]
        constraints = [models.UniqueConstraint(fields=["owner", "name"], name="identicalgroup_unique_owner_name")]

    def __str__(self) -> str:
        return f"{self.name}: {', '.join(self.symbols)}"


class ComplianceSettings(models.Model):
    """Rule settings of one portfolio (account)."""

    class Action(models.TextChoices):
        OFF = "off"
        WARN = "warn"
        BLOCK = "block"

    class Regime(models.TextChoices):
        AUTO = "auto"  # by date and the broker's adoption date
        LEGACY_PDT = "legacy_pdt"
        INTRADAY_MARGIN = "intraday_margin"

    class LotMethod(models.TextChoices):
        PORTFOLIO = "portfolio"  # use Portfolio.lot_method
        FIFO = "fifo"
        LIFO = "lifo"
        HIFO = "hifo"
        TAX_OPTIMAL = "tax_optimal"

    class Counting(models.TextChoices):
        OPENING = "opening"
        DIRECTION_CHANGE = "direction_change"

    class Reporting(models.TextChoices):
        REPORTED = "reported"
        NOT_REPORTED = "not_reported"
        NO_1099B = "no_1099b"

    portfolio = models.OneToOneField(Portfolio, on_delete=models.CASCADE, related_name="compliance_settings")
    wash_sale_action = models.CharField(max_length=8, choices=Action.choices, default=Action.WARN)
    day_trade_action = models.CharField(max_length=8, choices=Action.choices, default=Action.WARN)
    tax_lot_method = models.CharField(max_length=12, choices=LotMethod.choices, default=LotMethod.PORTFOLIO)
    counting_method = models.CharField(max_length=16, choices=Counting.choices, default=Counting.OPENING)
    regime = models.CharField(max_length=16, choices=Regime.choices, default=Regime.AUTO)
    intraday_adopted_on = models.DateField(null=True, blank=True,
                                           help_text="when the broker adopted the 2026 intraday margin standard")
    basis_reporting = models.CharField(max_length=12, choices=Reporting.choices, default=Reporting.REPORTED)
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"compliance settings of {self.portfolio}"


class ListedSymbol(models.Model):
    """A symbol on the user's restricted list (orders rejected) or watch list (orders warned)."""

    class Kind(models.TextChoices):
        RESTRICTED = "restricted"
        WATCH = "watch"

    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="listed_symbols")
    symbol = models.CharField(max_length=32)
    kind = models.CharField(max_length=12, choices=Kind.choices)
    reason = models.CharField(max_length=200, blank=True, default="")
    added_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["owner", "kind", "symbol"]
        constraints = [models.UniqueConstraint(fields=["owner", "symbol"], name="listedsymbol_unique_owner_symbol")]

    def __str__(self) -> str:
        return f"{self.kind}: {self.symbol}"


class ReportRun(models.Model):
    """One stored version of a generated regulatory report (CSV and PDF), never changed after."""

    class Kind(models.TextChoices):
        FORM_8949 = "form8949"
        OWNERSHIP = "ownership"
        HOLDINGS_13F = "13f"
        LARGE_TRADER = "large_trader"

    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="compliance_reports")
    portfolio = models.ForeignKey(Portfolio, on_delete=models.CASCADE, null=True, blank=True,
                                  related_name="compliance_reports")
    kind = models.CharField(max_length=16, choices=Kind.choices)
    period = models.CharField(max_length=16, help_text="2024, 2024Q4 or an ISO date")
    version = models.PositiveIntegerField()
    created_at = models.DateTimeField(auto_now_add=True)
    created_by = models.CharField(max_length=150)
    summary = models.JSONField(default=dict, blank=True)
    csv_text = models.TextField()
    pdf = models.BinaryField()
    sha256 = models.CharField(max_length=64)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [models.UniqueConstraint(fields=["owner", "portfolio", "kind", "period", "version"],
                                               name="reportrun_unique_version")]

    def __str__(self) -> str:
        return f"{self.kind} {self.period} v{self.version}"


class AuditEntryQuerySet(models.QuerySet):
    def update(self, **kwargs):  # entries cannot be changed through the application
        raise PermissionError("audit entries are append-only")

    def delete(self):
        raise PermissionError("audit entries are append-only")


class AuditEntry(models.Model):
    """One hash-chained audit entry. Append-only: saving an existing row or deleting raises."""

    sequence = models.PositiveBigIntegerField(unique=True)
    ts = models.DateTimeField()
    actor = models.CharField(max_length=150, help_text="username, or system:<component>")
    action = models.CharField(max_length=64)
    object_type = models.CharField(max_length=64, blank=True, default="")
    object_id = models.CharField(max_length=128, blank=True, default="")
    before = models.JSONField(null=True, blank=True)
    after = models.JSONField(null=True, blank=True)
    previous_hash = models.CharField(max_length=64)
    entry_hash = models.CharField(max_length=64, unique=True)

    objects = AuditEntryQuerySet.as_manager()

    class Meta:
        ordering = ["sequence"]

    def save(self, *args, **kwargs):
        if self.pk is not None or not self._state.adding:
            raise PermissionError(f"audit entry {self.sequence} is append-only and cannot be changed")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise PermissionError(f"audit entry {self.sequence} is append-only and cannot be deleted")

    def chain_fields(self) -> dict:
        return {"sequence": self.sequence, "ts": self.ts.isoformat(), "actor": self.actor, "action": self.action,
                "object_type": self.object_type, "object_id": self.object_id, "before": self.before,
                "after": self.after}

    def __str__(self) -> str:
        return f"#{self.sequence} {self.actor} {self.action} {self.object_type}:{self.object_id}"
