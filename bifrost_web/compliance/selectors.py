"""Read-only compliance queries, scoped to the requesting user."""

from __future__ import annotations

from django.db.models import QuerySet

from bifrost_web.compliance import models
from bifrost_web.trading import models as tr_models
from bifrost_web.trading import selectors as tr_selectors


def portfolio_get(*, user, portfolio_id: int) -> tr_models.Portfolio:
    return tr_selectors.portfolio_get(user=user, portfolio_id=portfolio_id)


def groups_for(*, user) -> QuerySet[models.IdenticalGroup]:
    return models.IdenticalGroup.objects.filter(owner=user)


def audit_for(*, user) -> QuerySet[models.AuditEntry]:
    """Staff see every entry; others see the entries they are the actor of."""
    qs = models.AuditEntry.objects.order_by("-sequence")
    return qs if user.is_staff else qs.filter(actor=user.username)
