"""Portal pages: the risk overview, a portfolio's risk dashboard, its limits form, alerts and the
daily risk report (HTML and PDF)."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from bifrost.core.errors import BifrostError, NotFoundError
from bifrost.risk import HISTORICAL_SCENARIOS
from bifrost.risk.limits import LimitKind
from bifrost_web.risk import models, reports, selectors, services
from bifrost_web.trading import selectors as trading_selectors


def _portfolio(request: HttpRequest, portfolio_id: int):
    try:
        return trading_selectors.portfolio_get(user=request.user, portfolio_id=portfolio_id)
    except NotFoundError as exc:
        raise Http404(exc.message) from exc


@login_required
def risk_overview(request: HttpRequest) -> HttpResponse:
    portfolios = list(trading_selectors.portfolios_for(user=request.user))
    alerts = selectors.alerts_for(user=request.user, open_only=True, limit=50)
    latest = {s.portfolio_id: s for s in models.RiskSnapshot.objects.filter(
        portfolio__in=portfolios).order_by("portfolio_id", "-ts")}
    rows = [{"portfolio": p, "snapshot": latest.get(p.pk)} for p in portfolios]
    return render(request, "risk/overview.html", {"rows": rows, "alerts": alerts})


def _report_or_error(request: HttpRequest, portfolio, **kwargs) -> tuple[dict | None, str]:
    try:
        return services.risk_report(portfolio=portfolio, **kwargs), ""
    except BifrostError as exc:
        return None, exc.message


@login_required
def risk_dashboard(request: HttpRequest, portfolio_id: int) -> HttpResponse:
    portfolio = _portfolio(request, portfolio_id)
    report, error = _report_or_error(request, portfolio, fast=True)
    limit_set = selectors.limit_set_for_portfolio(portfolio=portfolio)
    context = {"portfolio": portfolio, "report": report, "error": error,
               "rules": [services.rule_as_dict(r) for r in limit_set.rules.all()] if limit_set else [],
               "limit_set": limit_set, "kinds": [k.value for k in LimitKind],
               "alerts": selectors.alerts_for(user=request.user, portfolio=portfolio, limit=50),
               "charts": reports.dashboard_charts(report) if report else {}}
    return render(request, "risk/dashboard.html", context)


@login_required
def risk_alerts_json(request: HttpRequest, portfolio_id: int) -> JsonResponse:
    """Open alerts for the dashboard's polling refresh."""
    portfolio = _portfolio(request, portfolio_id)
    alerts = selectors.alerts_for(user=request.user, portfolio=portfolio, open_only=True, limit=50)
    return JsonResponse({"alerts": [services.alert_as_dict(a) for a in alerts]})


@login_required
@require_POST
def risk_limit_save(request: HttpRequest, portfolio_id: int) -> HttpResponse:
    portfolio = _portfolio(request, portfolio_id)
    form = request.POST
    params = {}
    if form.get("subject"):
        kind = form.get("kind", "")
        if kind == "restricted_symbols":
            params["symbols"] = [s.strip() for s in form["subject"].split(",") if s.strip()]
        elif kind in ("sector_weight", "industry_weight"):
            params[kind.split("_")[0]] = form["subject"].strip()
    try:
        services.limit_upsert(user=request.user, portfolio_id=portfolio.pk, kind=form.get("kind", ""),
                              soft=form.get("soft") or None, hard=form.get("hard") or None, params=params)
        messages.success(request, f"Saved the {form.get('kind')} limit.")
    except BifrostError as exc:
        messages.error(request, exc.message)
    return redirect("portal:risk-dashboard", portfolio_id=portfolio.pk)


@login_required
@require_POST
def risk_limit_delete(request: HttpRequest, portfolio_id: int, rule_id: int) -> HttpResponse:
    portfolio = _portfolio(request, portfolio_id)
    try:
        services.limit_delete(user=request.user, rule_id=rule_id)
        messages.success(request, "Limit removed.")
    except BifrostError as exc:
        messages.error(request, exc.message)
    return redirect("portal:risk-dashboard", portfolio_id=portfolio.pk)


@login_required
@require_POST
def risk_alert_ack(request: HttpRequest, portfolio_id: int, alert_id: int) -> HttpResponse:
    portfolio = _portfolio(request, portfolio_id)
    try:
        services.alert_acknowledge(user=request.user, alert_id=alert_id)
    except NotFoundError as exc:
        raise Http404(exc.message) from exc
    return redirect("portal:risk-dashboard", portfolio_id=portfolio.pk)


@login_required
def risk_report_page(request: HttpRequest, portfolio_id: int) -> HttpResponse:
    portfolio = _portfolio(request, portfolio_id)
    report, error = _report_or_error(request, portfolio, include=("stress", "backtest"))
    return render(request, "risk/report.html", {
        "portfolio": portfolio, "report": report, "error": error,
        "charts": reports.dashboard_charts(report) if report else {},
        "scenarios": HISTORICAL_SCENARIOS})


@login_required
def risk_report_pdf(request: HttpRequest, portfolio_id: int) -> HttpResponse:
    portfolio = _portfolio(request, portfolio_id)
    report, error = _report_or_error(request, portfolio, include=("stress", "backtest"))
    if report is None:
        messages.error(request, error)
        return redirect("portal:risk-dashboard", portfolio_id=portfolio.pk)
    response = HttpResponse(reports.report_pdf(report), content_type="application/pdf")
    response["Content-Disposition"] = f'attachment; filename="risk-{portfolio.name}.pdf"'
    return response
