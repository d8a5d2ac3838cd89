"""Read-only trading queries. Every lookup is scoped to the requesting user."""

from __future__ import annotations

from django.db.models import QuerySet

from bifrost.core.errors import NotFoundError
from bifrost_web.trading import models


def portfolios_for(*, user) -> QuerySet[models.Portfolio]:
    return models.Portfolio.objects.filter(owner=user).select_related("household")


def portfolio_get(*, user, portfolio_id: int) -> models.Portfolio:
    """The user's portfolio; another user's portfolio is reported as not found (no leak)."""
    portfolio = models.Portfolio.objects.filter(owner=user, pk=portfolio_id).first()
    if portfolio is None:
        raise NotFoundError(f"portfolio {portfolio_id} not found")
    portfolio.owner = user  # the filter proved it; spares a query wherever the owner is read
    return portfolio


def orders_for(*, portfolio: models.Portfolio, status: str | None = None) -> QuerySet[models.Order]:
    qs = portfolio.orders.all()
    if status == "open":
        qs = qs.filter(status__in=["new", "accepted", "partially_filled"])
    elif status:
        qs = qs.filter(status=status)
    return qs


def order_get(*, portfolio: models.Portfolio, client_order_id: str) -> models.Order:
    order = portfolio.orders.filter(client_order_id=client_order_id).first()
    if order is None:
        raise NotFoundError(f"order {client_order_id} not found in portfolio {portfolio.pk}")
    return order


def global_halt() -> models.TradingHalt | None:
    return models.TradingHalt.objects.filter(active=True).order_by("-set_at").first()
