"""Read-only trading queries. Every lookup is scoped to the requesting user."""

from __future__ import annotations

from django.db import connection
from django.db.models import QuerySet

from bifrost.core.errors import NotFoundError
from bifrost_web.rows import RowReader
from bifrost_web.trading import models

_PORTFOLIO = RowReader(models.Portfolio)


def portfolios_for(*, user) -> QuerySet[models.Portfolio]:
    return models.Portfolio.objects.filter(owner=user).select_related("household")


def portfolio_get(*, user, portfolio_id: int) -> models.Portfolio:
    """The user's portfolio; another user's portfolio is reported as not found (no leak)."""
    try:
        portfolio_id = int(portfolio_id)
    except (TypeError, ValueError):
        raise NotFoundError(f"portfolio {portfolio_id} not found") from None
    with connection.cursor() as cursor:  # hand-written: every trading request starts here
        cursor.execute(f"SELECT {_PORTFOLIO.columns()} FROM {_PORTFOLIO.table} WHERE id = %s AND owner_id = %s",
                       [portfolio_id, user.pk])
        row = cursor.fetchone()
    if row is None:
        raise NotFoundError(f"portfolio {portfolio_id} not found")
    portfolio = _PORTFOLIO.instance(row)
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
