"""Compliance endpoints. Every lookup is scoped to the authenticated user: another user's
portfolio, alert or group answers 404, exactly like one that does not exist."""

from __future__ import annotations

import uuid
from dataclasses import asdict, is_dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from django.http import HttpResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from bifrost.compliance import harvest_candidates, unrealised
from bifrost.compliance.reports import (
    form8949_csv,
    form8949_pdf,
    form8949_rows,
    schedule_d,
    schedule_d_csv,
)
from bifrost.core.errors import InvalidInput, NotFoundError
from bifrost.orders.types import OrderRequest
from bifrost_web.compliance import models, selectors, services
from bifrost_web.trading import models as tr_models


def plain(value: Any) -> Any:
    """Dataclasses, Decimals and dates as JSON values (money as strings)."""
    if is_dataclass(value) and not isinstance(value, type):
        return {k: plain(v) for k, v in asdict(value).items() if not k.startswith("_")}
    if hasattr(value, "_asdict"):  # named tuples (Disposal, WashSale)
        return {k: plain(v) for k, v in value._asdict().items()}
    if isinstance(value, dict):
        return {k: plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [plain(v) for v in value]
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, date):
        return value.isoformat()
    return value


def _year(request: Request) -> int | None:
    raw = request.query_params.get("year")
    if raw in (None, ""):
        return None
    if not raw.isdigit() or not 1900 <= int(raw) <= 2200:
        raise InvalidInput(f"year must be a four-digit year, was {raw!r}")
    return int(raw)


def _as_of(request: Request) -> date | None:
    raw = request.query_params.get("as_of")
    if not raw:
        return None
    try:
        return date.fromisoformat(raw)
    except ValueError:
        raise InvalidInput(f"as_of must be an ISO date such as 2024-12-31, was {raw!r}") from None


_YEAR = OpenApiParameter("year", int, description="tax year (disposal date)")


class TaxLotsApi(APIView):
    """Open lots with unrealised gain by term, realised totals by term, harvesting candidates."""

    @extend_schema(parameters=[_YEAR, OpenApiParameter("as_of", str)], responses=dict)
    def get(self, request: Request, portfolio_id: int) -> Response:
        portfolio, result = services.tax_report(user=request.user, portfolio_id=portfolio_id)
        name = services.account_name(portfolio)
        as_of = _as_of(request) or date.today()
        lots = [lot for lot in result.open_lots if lot.account == name]
        prices = services.last_prices({lot.symbol for lot in lots})
        priced = unrealised([lot for lot in lots if lot.symbol in prices], prices, as_of)
        by_term = {"short_term": Decimal(0), "long_term": Decimal(0)}
        for item in priced:
            by_term["long_term" if item.long_term else "short_term"] += item.gain
        unpriced = sorted({lot.symbol for lot in lots if lot.symbol not in prices})
        harvest = [c for c in harvest_candidates(result, prices, as_of,
                                                 identical=services.identical_groups_for(request.user))
                   if c.lot.account == name]
        return Response({
            "portfolio": portfolio.pk, "as_of": as_of.isoformat(),
            "lots": [{**plain(u.lot), "price": str(u.price), "market_value": str(u.market_value),
                      "unrealised": str(u.gain), "long_term": u.long_term} for u in priced]
            + [{**plain(lot), "price": None, "market_value": None, "unrealised": None} for lot in lots
               if lot.symbol in unpriced],
            "unrealised": plain(by_term), "unpriced_symbols": unpriced,
            "realised": plain(result.realised(year=_year(request), account=name)),
            "harvest_candidates": [{"lot_id": c.lot.lot_id, "symbol": c.lot.symbol, "loss": str(c.loss),
                                    "long_term": c.long_term, "rebuy_after": c.rebuy_after.isoformat()}
                                   for c in harvest],
        })


class RealisedApi(APIView):
    @extend_schema(parameters=[_YEAR], responses=dict)
    def get(self, request: Request, portfolio_id: int) -> Response:
        portfolio, result = services.tax_report(user=request.user, portfolio_id=portfolio_id)
        name, year = services.account_name(portfolio), _year(request)
        disposals = [d for d in result.disposals if d.account == name and (year is None or d.disposed.year == year)]
        return Response({"portfolio": portfolio.pk, "disposals": plain(disposals),
                         "totals": plain(result.realised(year=year, account=name,
                                                         include_tax_advantaged=True))})


class WashSalesApi(APIView):
    @extend_schema(parameters=[_YEAR], responses=dict)
    def get(self, request: Request, portfolio_id: int) -> Response:
        portfolio, result = services.tax_report(user=request.user, portfolio_id=portfolio_id)
        name, year = services.account_name(portfolio), _year(request)
        washes = [w for w in result.wash_sales
                  if (w.account == name or w.replacement_account == name) and (year is None or w.sale_date.year == year)]
        return Response({"portfolio": portfolio.pk, "wash_sales": plain(washes),
                         "disallowed": str(sum((w.disallowed for w in washes if w.account == name), Decimal(0)))})


class HouseholdWashSalesApi(APIView):
    @extend_schema(parameters=[_YEAR], responses=dict)
    def get(self, request: Request, household_id: int) -> Response:
        household = tr_models.Household.objects.filter(owner=request.user, pk=household_id).first()
        if household is None:
            raise NotFoundError(f"household {household_id} not found")
        portfolio = household.portfolios.filter(owner=request.user).order_by("pk").first()
        if portfolio is None:
            return Response({"household": household.pk, "wash_sales": [], "permanently_disallowed": "0"})
        result = services.household_tax(portfolio)
        year = _year(request)
        washes = [w for w in result.wash_sales if year is None or w.sale_date.year == year]
        return Response({"household": household.pk, "wash_sales": plain(washes),
                         "permanently_disallowed": str(result.permanently_disallowed)})


class Form8949Api(APIView):
    """Form 8949 rows and the Schedule D summary; ``export=csv|pdf|json`` (``part=schedule-d`` for its CSV).

    (``export``, not ``format``: DRF reserves ``format`` for renderer selection.)
    """

    @extend_schema(parameters=[_YEAR, OpenApiParameter("export", str, enum=["json", "csv", "pdf"]),
                               OpenApiParameter("part", str, enum=["8949", "schedule-d"])], responses=dict)
    def get(self, request: Request, portfolio_id: int) -> Response | HttpResponse:
        portfolio, result = services.tax_report(user=request.user, portfolio_id=portfolio_id)
        settings = services.settings_for(portfolio)
        name, year = services.account_name(portfolio), _year(request)
        rows = form8949_rows([d for d in result.disposals if d.account == name], year=year,
                             reporting=settings.basis_reporting)
        fmt = request.query_params.get("export", "json")
        stem = f"form8949-{portfolio.pk}-{year or 'all'}"
        if fmt == "csv":
            part = request.query_params.get("part", "8949")
            text = schedule_d_csv(schedule_d(rows)) if part == "schedule-d" else form8949_csv(rows)
            response = HttpResponse(text, content_type="text/csv")
            response["Content-Disposition"] = f'attachment; filename="{stem}{"-schedule-d" if part != "8949" else ""}.csv"'
        elif fmt == "pdf":
            response = HttpResponse(form8949_pdf(rows, taxpayer=f"{request.user.username} / {portfolio.name}",
                                                 year=year), content_type="application/pdf")
            response["Content-Disposition"] = f'attachment; filename="{stem}.pdf"'
        elif fmt == "json":
            return Response({"rows": plain(rows), "schedule_d": plain(schedule_d(rows))})
        else:
            raise InvalidInput(f"export must be json, csv or pdf, was {fmt!r}")
        services.audit_record(actor=request.user.username, action="report.form8949", object_type="portfolio",
                              object_id=str(portfolio.pk), after={"format": fmt, "year": year, "rows": len(rows)})
        return response


class PdtApi(APIView):
    @extend_schema(parameters=[OpenApiParameter("as_of", str)], responses=dict)
    def get(self, request: Request, portfolio_id: int) -> Response:
        report = services.pdt_report(user=request.user, portfolio_id=portfolio_id, as_of=_as_of(request))
        status = report.pop("status")
        return Response({**report, "status": {**plain(status), "restricted": status.restricted}})


class ComplianceSettingsIn(serializers.Serializer):
    wash_sale_action = serializers.CharField(required=False)
    day_trade_action = serializers.CharField(required=False)
    tax_lot_method = serializers.CharField(required=False)
    counting_method = serializers.CharField(required=False)
    regime = serializers.CharField(required=False)
    intraday_adopted_on = serializers.DateField(required=False, allow_null=True)
    basis_reporting = serializers.CharField(required=False)


def _settings_out(settings: models.ComplianceSettings) -> dict:
    return {"portfolio": settings.portfolio_id, **{f: plain(getattr(settings, f)) for f in services._SETTING_FIELDS}}


class SettingsApi(APIView):
    @extend_schema(responses=dict)
    def get(self, request: Request, portfolio_id: int) -> Response:
        portfolio = selectors.portfolio_get(user=request.user, portfolio_id=portfolio_id)
        return Response(_settings_out(services.settings_for(portfolio)))

    @extend_schema(request=ComplianceSettingsIn, responses=dict)
    def put(self, request: Request, portfolio_id: int) -> Response:
        data = ComplianceSettingsIn(data=request.data)
        data.is_valid(raise_exception=True)
        settings = services.compliance_settings_update(user=request.user, portfolio_id=portfolio_id,
                                                       **data.validated_data)
        return Response(_settings_out(settings))


class ComplianceCheckIn(serializers.Serializer):
    symbol = serializers.CharField()
    side = serializers.ChoiceField(choices=["buy", "sell"])
    quantity = serializers.DecimalField(max_digits=24, decimal_places=6)
    limit_price = serializers.DecimalField(max_digits=24, decimal_places=6, required=False)
    lot_method = serializers.ChoiceField(choices=["fifo", "lifo", "hifo", "tax_optimal"], required=False)


class CheckApi(APIView):
    """Pre-trade what-if: the compliance checks' verdict on an order, without submitting it."""

    @extend_schema(request=ComplianceCheckIn, responses=dict)
    def post(self, request: Request, portfolio_id: int) -> Response:
        data = ComplianceCheckIn(data=request.data)
        data.is_valid(raise_exception=True)
        params = dict(data.validated_data)
        lot_method = params.pop("lot_method", None)
        if params.get("limit_price") is not None:
            params["order_type"] = "limit"
        order = OrderRequest(client_order_id=f"whatif-{uuid.uuid4().hex[:16]}", **params)
        return Response(services.order_check(user=request.user, portfolio_id=portfolio_id, request=order,
                                             lot_method=lot_method))


class IdenticalGroupIn(serializers.Serializer):
    name = serializers.CharField(max_length=64)
    symbols = serializers.ListField(child=serializers.CharField(max_length=32), min_length=2)


class IdenticalGroupsApi(APIView):
    @extend_schema(responses=dict)
    def get(self, request: Request) -> Response:
        return Response([{"name": g.name, "symbols": g.symbols} for g in selectors.groups_for(user=request.user)])

    @extend_schema(request=IdenticalGroupIn, responses=dict)
    def post(self, request: Request) -> Response:
        data = IdenticalGroupIn(data=request.data)
        data.is_valid(raise_exception=True)
        group = services.identical_group_set(user=request.user, **data.validated_data)
        return Response({"name": group.name, "symbols": group.symbols}, status=201)


class IdenticalGroupDetailApi(APIView):
    @extend_schema(request=None, responses={204: None})
    def delete(self, request: Request, name: str) -> Response:
        services.identical_group_delete(user=request.user, name=name)
        return Response(status=204)


def _alert_out(alert) -> dict:
    return {"id": alert.pk, "kind": alert.rule, "severity": alert.severity, "message": alert.message,
            "numbers": alert.numbers, "portfolio": alert.portfolio_id, "occurrences": alert.occurrences,
            "first_seen": alert.first_seen.isoformat(), "last_seen": alert.last_seen.isoformat(),
            "acknowledged_at": alert.acknowledged_at.isoformat() if alert.acknowledged_at else None}


class AlertsApi(APIView):
    @extend_schema(parameters=[OpenApiParameter("open", bool)], responses=dict)
    def get(self, request: Request) -> Response:
        alerts = services.alerts_for(user=request.user, open_only=request.query_params.get("open") == "true")
        return Response([_alert_out(a) for a in alerts[:500]])


class AlertAckApi(APIView):
    @extend_schema(request=None, responses=dict)
    def post(self, request: Request, alert_id: int) -> Response:
        return Response(_alert_out(services.alert_acknowledge(user=request.user, alert_id=alert_id)))


class ScanApi(APIView):
    """Raise alerts for the portfolio's wash sales and day-trade count now."""

    @extend_schema(request=None, responses=dict)
    def post(self, request: Request, portfolio_id: int) -> Response:
        portfolio = selectors.portfolio_get(user=request.user, portfolio_id=portfolio_id)
        return Response(services.compliance_scan(portfolio_id=portfolio.pk))


class AuditApi(APIView):
    """The user's own audit entries (staff see all), newest first; ``verify=true`` checks the chain."""

    @extend_schema(parameters=[OpenApiParameter("verify", bool)], responses=dict)
    def get(self, request: Request) -> Response:
        body: dict[str, Any] = {"entries": [
            {"sequence": e.sequence, "ts": e.ts.isoformat(), "actor": e.actor, "action": e.action,
             "object_type": e.object_type, "object_id": e.object_id, "before": e.before, "after": e.after,
             "hash": e.entry_hash} for e in selectors.audit_for(user=request.user)[:500]]}
        if request.query_params.get("verify") == "true":
            checked, broken = services.audit_verify()
            body["verify"] = {"checked": checked, "intact": broken is None,
                              "first_broken": None if broken is None else {"sequence": broken.sequence,
                                                                           "reason": broken.reason}}
        return Response(body)


class ListedSymbolIn(serializers.Serializer):
    symbol = serializers.CharField(max_length=32)
    kind = serializers.CharField(max_length=12)
    reason = serializers.CharField(max_length=200, required=False, allow_blank=True, default="")


class ListedSymbolsApi(APIView):
    """The restricted list (orders rejected) and watch list (orders warned)."""

    @extend_schema(responses=dict)
    def get(self, request: Request) -> Response:
        return Response([{"symbol": row.symbol, "kind": row.kind, "reason": row.reason}
                         for row in models.ListedSymbol.objects.filter(owner=request.user)])

    @extend_schema(request=ListedSymbolIn, responses=dict)
    def post(self, request: Request) -> Response:
        data = ListedSymbolIn(data=request.data)
        data.is_valid(raise_exception=True)
        row = services.listed_symbol_set(user=request.user, **data.validated_data)
        return Response({"symbol": row.symbol, "kind": row.kind, "reason": row.reason}, status=201)


class ListedSymbolDetailApi(APIView):
    @extend_schema(request=None, responses={204: None})
    def delete(self, request: Request, symbol: str) -> Response:
        services.listed_symbol_delete(user=request.user, symbol=symbol)
        return Response(status=204)


class OwnershipApi(APIView):
    """Beneficial ownership of every issuer held across the user's portfolios (Schedules 13D/13G)."""

    @extend_schema(parameters=[OpenApiParameter("alert_pct", str)], responses=dict)
    def get(self, request: Request) -> Response:
        raw = request.query_params.get("alert_pct", "4.5")
        try:
            alert_pct = Decimal(raw)
        except ArithmeticError:
            raise InvalidInput(f"alert_pct must be a number, was {raw!r}") from None
        return Response({"findings": plain(services.ownership_report(user=request.user, alert_pct=alert_pct))})


class CashViolationsApi(APIView):
    @extend_schema(responses=dict)
    def get(self, request: Request, portfolio_id: int) -> Response:
        return Response({"violations": plain(services.cash_violations(user=request.user,
                                                                       portfolio_id=portfolio_id))})


class ComplianceReportIn(serializers.Serializer):
    kind = serializers.CharField()
    period = serializers.CharField(max_length=16)
    portfolio = serializers.IntegerField(required=False, allow_null=True)


def _report_out(run: models.ReportRun) -> dict:
    return {"id": run.pk, "kind": run.kind, "period": run.period, "version": run.version,
            "portfolio": run.portfolio_id, "created_at": run.created_at.isoformat(), "created_by": run.created_by,
            "summary": run.summary, "sha256": run.sha256,
            "csv": f"/api/v1/compliance/reports/{run.pk}/download/?export=csv",
            "pdf": f"/api/v1/compliance/reports/{run.pk}/download/?export=pdf"}


class ReportsApi(APIView):
    """Stored report versions; POST generates the next version."""

    @extend_schema(responses=dict)
    def get(self, request: Request) -> Response:
        runs = models.ReportRun.objects.filter(owner=request.user).defer("csv_text", "pdf")[:200]
        return Response([_report_out(run) for run in runs])

    @extend_schema(request=ComplianceReportIn, responses=dict)
    def post(self, request: Request) -> Response:
        data = ComplianceReportIn(data=request.data)
        data.is_valid(raise_exception=True)
        run = services.report_generate(user=request.user, kind=data.validated_data["kind"],
                                       period=data.validated_data["period"],
                                       portfolio_id=data.validated_data.get("portfolio"))
        return Response(_report_out(run), status=201)


class ReportDownloadApi(APIView):
    @extend_schema(parameters=[OpenApiParameter("export", str, enum=["csv", "pdf"])],
                   responses={(200, "text/csv"): OpenApiTypes.STR, (200, "application/pdf"): OpenApiTypes.BINARY})
    def get(self, request: Request, report_id: int) -> HttpResponse:
        run = models.ReportRun.objects.filter(owner=request.user, pk=report_id).first()
        if run is None:
            raise NotFoundError(f"report {report_id} not found")
        fmt = request.query_params.get("export", "csv")
        stem = f"{run.kind}-{run.period}-v{run.version}"
        if fmt == "csv":
            response = HttpResponse(run.csv_text, content_type="text/csv")
        elif fmt == "pdf":
            response = HttpResponse(bytes(run.pdf), content_type="application/pdf")
        else:
            raise InvalidInput(f"export must be csv or pdf, was {fmt!r}")
        response["Content-Disposition"] = f'attachment; filename="{stem}.{fmt}"'
        return response
