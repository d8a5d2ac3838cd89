"""Trading tasks: paper fills and end-of-day snapshots. Idempotent; safe to retry."""

from __future__ import annotations

from datetime import UTC, date, datetime

from celery import shared_task

from bifrost.core.calendars import get_calendar


@shared_task(soft_time_limit=600, time_limit=660, acks_late=True)
def paper_process(portfolio_id: int) -> dict:
    """Match a portfolio's open paper orders against stored bars (see services.paper_process)."""
    from bifrost_web.trading import services

    return services.paper_process(portfolio_id=portfolio_id)


@shared_task(soft_time_limit=1200, time_limit=1260)
def paper_process_all() -> int:
    from bifrost_web.trading import models

    ids = list(models.Portfolio.objects.filter(broker="paper", orders__status__in=["accepted", "partially_filled"])
               .values_list("pk", flat=True).distinct())
    for portfolio_id in ids:
        paper_process.delay(portfolio_id)
    return len(ids)


@shared_task(soft_time_limit=1200, time_limit=1260)
def snapshot_all(day_iso: str | None = None) -> int:
    """End-of-day NAV, cash and exposure snapshot of every portfolio (XNYS sessions only)."""
    from bifrost.core.errors import BifrostError
    from bifrost_web.trading import models, services

    day = date.fromisoformat(day_iso) if day_iso else datetime.now(UTC).date()
    if not get_calendar("XNYS").is_session(day.isoformat()):
        return 0
    done = 0
    for portfolio_id in models.Portfolio.objects.values_list("pk", flat=True):
        try:
            services.snapshot_take(portfolio_id=portfolio_id, day=day)
            done += 1
        except BifrostError:
            continue  # a portfolio holding a symbol without prices is valued on a later run
    return done
