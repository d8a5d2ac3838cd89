"""Read-only risk queries, scoped to the requesting user (another user's data reads as not found)."""

from __future__ import annotations

from django.db.models import QuerySet

from bifrost.core.errors import NotFoundError
from bifrost_web.risk import models
from bifrost_web.trading import models as trading_models


def household_get(*, user, household_id: int) -> trading_models.Household:
    household = trading_models.Household.objects.filter(owner=user, pk=household_id).first()
    if household is None:
        raise NotFoundError(f"household {household_id} not found")
    return household


def limit_set_for_portfolio(*, portfolio: trading_models.Portfolio) -> models.LimitSet | None:
    return models.LimitSet.objects.filter(portfolio=portfolio).prefetch_related("rules").first()


def limit_set_for_household(*, household: trading_models.Household) -> models.LimitSet | None:
    return models.LimitSet.objects.filter(household=household).prefetch_related("rules").first()


def rule_get(*, user, rule_id: int) -> models.LimitRule:
    rule = models.LimitRule.objects.filter(pk=rule_id, limit_set__owner=user).select_related(
        "limit_set", "limit_set__portfolio", "limit_set__household").first()
    if rule is None:
        raise NotFoundError(f"limit {rule_id} not found")
    return rule


def alerts_for(*, user, portfolio: trading_models.Portfolio | None = None, open_only: bool = False,
               limit: int = 200) -> QuerySet[models.RiskAlert]:
    qs = models.RiskAlert.objects.filter(owner=user)
    if portfolio is not None:
        qs = qs.filter(portfolio=portfolio) | qs.filter(household_id=portfolio.household_id,
                                                        household__isnull=False)
    if open_only:
        qs = qs.filter(acknowledged=False)
    return qs.order_by("acknowledged", "-last_seen", "-id")[:limit]


def alert_get(*, user, alert_id: int) -> models.RiskAlert:
    alert = models.RiskAlert.objects.filter(owner=user, pk=alert_id).first()
    if alert is None:
        raise NotFoundError(f"alert {alert_id} not found")
    return alert


def snapshots_for(*, portfolio: trading_models.Portfolio, limit: int = 500) -> QuerySet[models.RiskSnapshot]:
    return portfolio.risk_snapshots.order_by("-ts")[:limit]
