"""Risk tasks: intraday revaluation (scheduled and on fills), alert delivery, daily reports.

Schedules (add to ``CELERY_BEAT_SCHEDULE`` in settings; the risk app does not own them)::

    "risk-revalue": {"task": "bifrost_web.risk.tasks.risk_revalue_all", "schedule": 300.0},
    "risk-daily-report": {"task": "bifrost_web.risk.tasks.risk_daily_reports",
                          "schedule": crontab(minute="0", hour="23", day_of_week="1-5")},

Tasks take ids, re-fetch state and are idempotent in effect: a repeated revaluation adds a
snapshot and bumps (does not duplicate) open alerts.
"""

from __future__ import annotations

import logging
import urllib.error

from celery import shared_task

log = logging.getLogger(__name__)


@shared_task(soft_time_limit=120, time_limit=150, acks_late=True)
def risk_revalue(portfolio_id: int, trigger: str = "schedule") -> int | None:
    """Revalue one portfolio's risk; returns the snapshot id (``None`` if the book cannot be valued)."""
    from bifrost.core.errors import BifrostError
    from bifrost_web.risk import services

    try:
        return services.risk_revalue(portfolio_id=portfolio_id, trigger=trigger).pk
    except BifrostError as exc:  # no prices yet, non-positive NAV: logged, retried on the next run
        log.warning("risk revaluation of portfolio %s skipped: %s", portfolio_id, exc)
        return None


@shared_task(soft_time_limit=600, time_limit=660)
def risk_revalue_all() -> int:
    """Queue a revaluation of every watched portfolio (those with an active limit set)."""
    from bifrost_web.risk import services

    ids = services.portfolios_to_watch()
    for portfolio_id in ids:
        risk_revalue.delay(portfolio_id, "schedule")
    return len(ids)


@shared_task(bind=True, soft_time_limit=30, time_limit=45, max_retries=5, acks_late=True)
def alert_deliver(self, alert_id: int) -> dict:
    """E-mail and webhook delivery of a new alert; network errors retry with backoff."""
    from bifrost_web.risk import services

    try:
        return services.alert_deliver(alert_id=alert_id)
    except (urllib.error.URLError, TimeoutError, ConnectionError) as exc:
        raise self.retry(exc=exc, countdown=min(600, 10 * 2 ** self.request.retries)) from exc


@shared_task(soft_time_limit=1200, time_limit=1260)
def risk_daily_reports(day_iso: str | None = None) -> int:
    """End-of-day risk snapshot (full report with stress tests and backtest) of every watched portfolio."""
    from datetime import date

    from bifrost.core.calendars import get_calendar
    from bifrost.core.errors import BifrostError
    from bifrost_web.risk import services

    day = date.fromisoformat(day_iso) if day_iso else services.daily_report_date()
    if not get_calendar("XNYS").is_session(day.isoformat()):
        return 0
    done = 0
    for portfolio_id in services.portfolios_to_watch():
        try:
            services.daily_report_store(portfolio_id=portfolio_id, day=day)
            done += 1
        except BifrostError as exc:
            log.warning("daily risk report of portfolio %s skipped: %s", portfolio_id, exc)
    return done
