"""Portal pages: compliance overview per portfolio (lots, realised by term, wash sales, PDT), alerts."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from bifrost.compliance import harvest_candidates, unrealised
from bifrost.core.errors import BifrostError, NotFoundError
from bifrost_web.compliance import models, selectors, services
from bifrost_web.trading import selectors as tr_selectors


@login_required
def overview(request: HttpRequest) -> HttpResponse:
    return render(request, "compliance/overview.html", {
        "portfolios": list(tr_selectors.portfolios_for(user=request.user)),
        "alerts": list(services.alerts_for(user=request.user, open_only=True)[:50]),
        "groups": list(selectors.groups_for(user=request.user)),
        "listed": list(models.ListedSymbol.objects.filter(owner=request.user)),
        "reports": list(models.ReportRun.objects.filter(owner=request.user).defer("csv_text", "pdf")[:50]),
    })


@login_required
def portfolio(request: HttpRequest, portfolio_id: int) -> HttpResponse:
    try:
        found, result = services.tax_report(user=request.user, portfolio_id=portfolio_id)
        pdt = services.pdt_report(user=request.user, portfolio_id=portfolio_id)
    except NotFoundError as exc:
        raise Http404(exc.message) from exc
    name = services.account_name(found)
    lots = [lot for lot in result.open_lots if lot.account == name]
    prices = services.last_prices({lot.symbol for lot in lots})
    today = date.today()
    valued = unrealised([lot for lot in lots if lot.symbol in prices], prices, today)
    harvest = [c for c in harvest_candidates(result, prices, today,
                                             identical=services.identical_groups_for(request.user))
               if c.lot.account == name]
    year = request.GET.get("year")
    year = int(year) if year and year.isdigit() else date.today().year
    return render(request, "compliance/portfolio.html", {
        "portfolio": found, "year": year, "settings": services.settings_for(found),
        "lots": lots, "valued": valued, "harvest": harvest,
        "unrealised_short": sum((u.gain for u in valued if not u.long_term), Decimal(0)),
        "unrealised_long": sum((u.gain for u in valued if u.long_term), Decimal(0)),
        "disposals": [d for d in result.disposals if d.account == name and d.disposed.year == year],
        "realised": result.realised(year=year, account=name),
        "wash_sales": [w for w in result.wash_sales if w.account == name or w.replacement_account == name],
        "pdt": pdt,
    })


@login_required
@require_POST
def settings_update(request: HttpRequest, portfolio_id: int) -> HttpResponse:
    fields = {k: request.POST[k] for k in ("wash_sale_action", "day_trade_action", "tax_lot_method",
                                           "counting_method", "regime", "basis_reporting") if request.POST.get(k)}
    try:
        services.compliance_settings_update(user=request.user, portfolio_id=portfolio_id, **fields)
        messages.success(request, "Compliance settings saved.")
    except NotFoundError as exc:
        raise Http404(exc.message) from exc
    except BifrostError as exc:
        messages.error(request, exc.message)
    return redirect("portal:compliance-portfolio", portfolio_id=portfolio_id)


@login_required
@require_POST
def alert_ack(request: HttpRequest, alert_id: int) -> HttpResponse:
    try:
        services.alert_acknowledge(user=request.user, alert_id=alert_id)
    except NotFoundError as exc:
        raise Http404(exc.message) from exc
    return redirect("portal:compliance")
