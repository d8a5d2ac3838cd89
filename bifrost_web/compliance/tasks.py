"""Compliance Celery tasks (ids in, services do the work; idempotent through alert de-duplication)."""

from __future__ import annotations

from celery import shared_task


@shared_task(name="compliance.scan_portfolio", soft_time_limit=120, time_limit=180)
def scan_portfolio(portfolio_id: int) -> dict:
    from bifrost_web.compliance import services

    return services.compliance_scan(portfolio_id=portfolio_id)


@shared_task(name="compliance.scan_all", soft_time_limit=600, time_limit=900)
def scan_all() -> int:
    """Queue a scan of every taxable or margin portfolio (for a nightly beat entry)."""
    from bifrost_web.trading.models import Portfolio

    ids = list(Portfolio.objects.values_list("pk", flat=True))
    for pk in ids:
        scan_portfolio.delay(pk)
    return len(ids)


@shared_task(name="compliance.audit_verify", soft_time_limit=600, time_limit=900)
def audit_verify() -> dict:
    from bifrost_web.compliance import services

    checked, broken = services.audit_verify()
    if broken is not None:
        services.audit_record(actor="system:audit", action="audit.chain_broken", object_type="audit_entry",
                              object_id=str(broken.sequence), after={"reason": broken.reason})
    return {"checked": checked, "broken": None if broken is None else broken.sequence}


@shared_task(name="compliance.generate_reports", soft_time_limit=1200, time_limit=1260)
def generate_reports(period: str | None = None) -> int:
    """Store a new version of the ownership, 13F and large-trader reports of every user with
    positions (for a quarterly beat entry; ``period`` defaults to the current quarter)."""
    from datetime import date

    from django.contrib.auth import get_user_model

    from bifrost.core.errors import BifrostError
    from bifrost_web.compliance import services

    today = date.today()
    period = period or f"{today.year}Q{(today.month - 1) // 3 + 1}"
    made = 0
    for user in get_user_model().objects.filter(portfolios__isnull=False).distinct():
        for kind in ("ownership", "13f", "large_trader"):
            try:
                services.report_generate(user=user, kind=kind, period=period, actor="system:scheduler")
                made += 1
            except BifrostError:  # e.g. a holding without a price: skip this report, keep the others
                continue
    return made
