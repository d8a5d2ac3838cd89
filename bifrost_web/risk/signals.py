"""Event-driven revaluation: a stored fill in a watched portfolio queues a risk revaluation."""

from __future__ import annotations

from django.db import transaction


def on_fill_saved(sender, instance, created: bool, **kwargs) -> None:
    if not created:
        return
    from bifrost_web.risk import models

    portfolio_id = instance.portfolio_id
    watched = models.LimitSet.objects.filter(active=True, portfolio_id=portfolio_id).exists() or \
        models.LimitSet.objects.filter(active=True, household__portfolios__pk=portfolio_id).exists()
    if watched:
        from bifrost_web.risk import tasks

        transaction.on_commit(lambda: tasks.risk_revalue.delay(portfolio_id, "fill"))
