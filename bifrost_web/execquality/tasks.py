"""Celery tasks of the execution-quality service: ids in, state re-fetched, one service call each.

``tca_report_run`` is idempotent (a finished report is skipped). ``impact_recalibrate`` writes a
new calibration row each time it succeeds; running it twice only adds a newer, identical fit.
``algo_orders_work`` steps every live parent order once; schedule it every minute in beat
(``{"task": "bifrost_web.execquality.tasks.algo_orders_work", "schedule": 60}``) where the
deployment wants algorithm orders worked in the background.
"""

from __future__ import annotations

from celery import shared_task

from bifrost.core.errors import InvalidInput


@shared_task(acks_late=True, soft_time_limit=600, time_limit=900)
def tca_report_run(report_id: int) -> str:
    from bifrost_web.execquality import services

    return services.tca_report_run(report_id=report_id).status


@shared_task(acks_late=True, soft_time_limit=600, time_limit=900)
def impact_recalibrate(portfolio_id: int) -> str:
    from bifrost_web.execquality import services

    try:
        calibration = services.impact_recalibrate(portfolio_id=portfolio_id)
    except InvalidInput as exc:
        return f"skipped: {exc.message}"
    return f"calibration {calibration.pk}"


@shared_task(acks_late=True, soft_time_limit=50, time_limit=60)
def algo_orders_work() -> int:
    from bifrost_web.execquality import models, services

    live = models.AlgoOrder.objects.filter(state__in=["pending", "working", "paused"]).values_list("pk", flat=True)
    for pk in live:
        services.algo_order_work(algo_order_id=pk)
    return len(live)
