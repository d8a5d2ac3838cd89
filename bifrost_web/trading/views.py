"""Portal pages: portfolios, the order ticket, the blotter, positions with P&L, the ledger."""

from __future__ import annotations

import uuid

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from bifrost.core.errors import BifrostError, NotFoundError
from bifrost.orders.types import OrderRequest, OrderType, TimeInForce
from bifrost.portfolio import LotMethod
from bifrost_web.trading import reports, selectors, services


def _portfolio(request: HttpRequest, portfolio_id: int):
    try:
        return selectors.portfolio_get(user=request.user, portfolio_id=portfolio_id)
    except NotFoundError as exc:
        raise Http404(exc.message) from exc


@login_required
def portfolio_list(request: HttpRequest) -> HttpResponse:
    if request.method == "POST":
        form = request.POST
        try:
            portfolio = services.portfolio_create(
                owner=request.user, name=form.get("name", ""), account_type=form.get("account_type", "cash"),
                leverage_limit=form.get("leverage_limit") or "1", lot_method=form.get("lot_method", "fifo"),
                tax_status=form.get("tax_status", "taxable"), household=form.get("household") or None)
            messages.success(request, f"Created portfolio {portfolio.name}.")
            return redirect("portal:portfolio-detail", portfolio_id=portfolio.pk)
        except BifrostError as exc:
            messages.error(request, exc.message)
    portfolios = list(selectors.portfolios_for(user=request.user))
    return render(request, "trading/portfolios.html", {"portfolios": portfolios})


@login_required
def portfolio_detail(request: HttpRequest, portfolio_id: int) -> HttpResponse:
    portfolio = _portfolio(request, portfolio_id)
    context = {
        "portfolio": portfolio,
        "report": reports.positions_report(portfolio),
        "orders": portfolio.orders.all()[:100],
        "fills": portfolio.fills.select_related("order").order_by("-ts_event")[:50],
        "entries": portfolio.ledger_entries.prefetch_related("lines").order_by("-id")[:50],
        "order_types": [t.value for t in OrderType], "tifs": [t.value for t in TimeInForce],
        "lot_methods": [m.value for m in LotMethod],
        "performance": services.performance(portfolio=portfolio),
    }
    return render(request, "trading/portfolio.html", context)


@login_required
@require_POST
def order_ticket(request: HttpRequest, portfolio_id: int) -> HttpResponse:
    portfolio = _portfolio(request, portfolio_id)
    form = request.POST
    try:
        order_request = OrderRequest(
            client_order_id=form.get("client_order_id") or f"web-{uuid.uuid4().hex[:16]}",
            symbol=form.get("symbol", ""), side=form.get("side", "buy"), quantity=form.get("quantity", ""),
            order_type=form.get("order_type", "market"), time_in_force=form.get("time_in_force", "day"),
            limit_price=form.get("limit_price") or None, stop_price=form.get("stop_price") or None,
            lot_method=form.get("lot_method") or None,
            lot_ids=tuple(i.strip() for i in form.get("lot_ids", "").split(",") if i.strip()))
        order = services.order_submit(user=request.user, portfolio_id=portfolio.pk, request=order_request)
        messages.success(request, f"Order {order.client_order_id} {order.status}.")
    except BifrostError as exc:
        messages.error(request, exc.message)
    except ValueError as exc:
        messages.error(request, str(exc))
    return redirect("portal:portfolio-detail", portfolio_id=portfolio.pk)


@login_required
@require_POST
def order_cancel(request: HttpRequest, portfolio_id: int, client_order_id: str) -> HttpResponse:
    portfolio = _portfolio(request, portfolio_id)
    try:
        services.order_cancel(user=request.user, portfolio_id=portfolio.pk, client_order_id=client_order_id)
        messages.success(request, f"Order {client_order_id} cancelled.")
    except BifrostError as exc:
        messages.error(request, exc.message)
    return redirect("portal:portfolio-detail", portfolio_id=portfolio.pk)


@login_required
@require_POST
def cash_flow(request: HttpRequest, portfolio_id: int) -> HttpResponse:
    portfolio = _portfolio(request, portfolio_id)
    try:
        services.cash_flow_record(user=request.user, portfolio_id=portfolio.pk, kind=request.POST.get("kind", ""),
                                  amount=request.POST.get("amount", ""), memo=request.POST.get("memo", ""))
        messages.success(request, "Cash flow recorded.")
    except BifrostError as exc:
        messages.error(request, exc.message)
    return redirect("portal:portfolio-detail", portfolio_id=portfolio.pk)


@login_required
@require_POST
def kill_switch(request: HttpRequest, portfolio_id: int) -> HttpResponse:
    portfolio = _portfolio(request, portfolio_id)
    active = request.POST.get("active") == "1"
    try:
        cancelled = services.kill_switch_set(user=request.user, portfolio_id=portfolio.pk, active=active,
                                             reason=request.POST.get("reason", ""))
        messages.success(request, ("Kill switch on; cancelled " + str(len(cancelled)) + " open orders.")
                         if active else "Kill switch released.")
    except BifrostError as exc:
        messages.error(request, exc.message)
    return redirect("portal:portfolio-detail", portfolio_id=portfolio.pk)


@login_required
@require_POST
def paper_process(request: HttpRequest, portfolio_id: int) -> HttpResponse:
    portfolio = _portfolio(request, portfolio_id)
    summary = services.paper_process(portfolio_id=portfolio.pk)
    messages.success(request, f"Paper exchange: {summary['fills']} new fills from {summary['orders']} open orders.")
    return redirect("portal:portfolio-detail", portfolio_id=portfolio.pk)
