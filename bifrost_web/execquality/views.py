"""Portal pages of the execution quality service: per-portfolio TCA, impact, algorithm orders, reports."""

from __future__ import annotations

import json

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from bifrost.core.errors import BifrostError, NotFoundError
from bifrost.execquality.report import figures_from_result
from bifrost_web.execquality import selectors, services
from bifrost_web.trading import selectors as trading_selectors


def _portfolio(request: HttpRequest, portfolio_id: int):
    try:
        return selectors.portfolio_get(user=request.user, portfolio_id=portfolio_id)
    except NotFoundError as exc:
        raise Http404(exc.message) from exc


@login_required
def execution_home(request: HttpRequest) -> HttpResponse:
    portfolios = list(trading_selectors.portfolios_for(user=request.user))
    return render(request, "execquality/home.html", {
        "portfolios": portfolios, "venues": list(selectors.venues_for(user=request.user)),
        "demo_venues": services.venue_profiles(user=request.user)})


@login_required
def execution_portfolio(request: HttpRequest, portfolio_id: int) -> HttpResponse:
    portfolio = _portfolio(request, portfolio_id)
    return render(request, "execquality/portfolio.html", {
        "portfolio": portfolio, "reports": selectors.tca_reports_for(portfolio=portfolio)[:50],
        "calibrations": selectors.calibrations_for(portfolio=portfolio)[:20],
        "model": selectors.impact_model_for(portfolio=portfolio),
        "algo_orders": selectors.algo_orders_for(portfolio=portfolio)[:50]})


@login_required
@require_POST
def tca_run(request: HttpRequest, portfolio_id: int) -> HttpResponse:
    _portfolio(request, portfolio_id)
    try:
        report = services.tca_report_request(user=request.user, portfolio_id=portfolio_id)
        messages.success(request, f"TCA report {report.pk} queued.")
    except BifrostError as exc:
        messages.error(request, exc.message)
    return redirect("portal:execution-portfolio", portfolio_id=portfolio_id)


@login_required
@require_POST
def impact_run(request: HttpRequest, portfolio_id: int) -> HttpResponse:
    _portfolio(request, portfolio_id)
    try:
        calibration = services.impact_recalibrate(user=request.user, portfolio_id=portfolio_id)
        messages.success(request, f"Impact recalibrated from {calibration.observations} orders.")
    except BifrostError as exc:
        messages.error(request, exc.message)
    return redirect("portal:execution-portfolio", portfolio_id=portfolio_id)


@login_required
def tca_detail(request: HttpRequest, portfolio_id: int, report_id: int) -> HttpResponse:
    _portfolio(request, portfolio_id)
    try:
        report = selectors.tca_report_get(user=request.user, portfolio_id=portfolio_id, report_id=report_id)
    except NotFoundError as exc:
        raise Http404(exc.message) from exc
    result = report.result or {}
    figures = [{"id": key, "figure": json.loads(figure.to_json())} for key, figure in figures_from_result(result)]
    summary = [(k, v) for k, v in (report.summary or {}).items() if not isinstance(v, dict)]
    return render(request, "execquality/tca.html", {
        "portfolio": report.portfolio, "report": report, "summary": summary, "figures": figures,
        "rule605": result.get("rule605", []), "rule606": result.get("rule606", []), "by_group": result.get("by_group", []),
        "shortfall": result.get("shortfall", [])[:200], "outliers": result.get("outliers", [])})


@login_required
def tca_export(request: HttpRequest, portfolio_id: int, report_id: int, fmt: str) -> HttpResponse:
    _portfolio(request, portfolio_id)
    try:
        report = selectors.tca_report_get(user=request.user, portfolio_id=portfolio_id, report_id=report_id)
        result = services.tca_compute(user=request.user, portfolio_id=portfolio_id, start=report.start,
                                      end=report.end, group_by=report.group_by)
    except NotFoundError as exc:
        raise Http404(exc.message) from exc
    if fmt == "pdf":
        response = HttpResponse(result.to_pdf(), content_type="application/pdf")
        response["Content-Disposition"] = f'attachment; filename="tca-{portfolio_id}-{report_id}.pdf"'
        return response
    if fmt != "html":
        raise Http404(f"unknown format {fmt}")
    return HttpResponse(result.to_html(), content_type="text/html; charset=utf-8")
