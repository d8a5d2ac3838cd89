"""Risk endpoints under /api/v1/portfolios/<id>/risk/ and /api/v1/households/<id>/risk/.

Every lookup is scoped to the authenticated user: another user's portfolio, household, limit
or alert answers 404, exactly like one that does not exist."""

from __future__ import annotations

from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from bifrost.core.errors import InvalidInput, NotFoundError
from bifrost_web.api.fast import FastJsonPost, strict_decimal, strict_text
from bifrost_web.risk import models, schemas, selectors, services
from bifrost_web.trading import selectors as trading_selectors


def _float_param(request: Request, name: str, default: float | None) -> float | None:
    raw = request.query_params.get(name)
    if raw in (None, ""):
        return default
    try:
        return float(raw)
    except ValueError:
        raise InvalidInput(f"{name} must be a number, was {raw!r}") from None


class RiskReportApi(APIView):
    """VaR and ES by method, decomposition, exposures, correlation, drawdown, limit usage and alerts."""

    @extend_schema(parameters=[OpenApiParameter("confidence", float), OpenApiParameter("horizon_days", int),
                               OpenApiParameter("include", str, description="comma list: stress, backtest")])
    def get(self, request: Request, portfolio_id: int) -> Response:
        portfolio = trading_selectors.portfolio_get(user=request.user, portfolio_id=portfolio_id)
        confidence = _float_param(request, "confidence", None)
        horizon = _float_param(request, "horizon_days", None)
        if confidence is not None and not 0.5 <= confidence < 1:
            raise InvalidInput(f"confidence must be in [0.5, 1), was {confidence}")
        if horizon is not None and (horizon != int(horizon) or not 1 <= horizon <= 250):
            raise InvalidInput(f"horizon_days must be a whole number from 1 to 250, was {horizon}")
        include = tuple(x for x in request.query_params.get("include", "").split(",") if x)
        return Response(services.risk_report(portfolio=portfolio, confidence=confidence,
                                             horizon_days=int(horizon) if horizon else None, include=include))


class HouseholdRiskReportApi(APIView):
    """The report of a household's combined book (all its portfolios)."""

    @extend_schema(parameters=[OpenApiParameter("confidence", float), OpenApiParameter("horizon_days", int)])
    def get(self, request: Request, household_id: int) -> Response:
        household = selectors.household_get(user=request.user, household_id=household_id)
        confidence = _float_param(request, "confidence", None)
        horizon = _float_param(request, "horizon_days", None)
        if confidence is not None and not 0.5 <= confidence < 1:
            raise InvalidInput(f"confidence must be in [0.5, 1), was {confidence}")
        return Response(services.risk_report(household=household, confidence=confidence,
                                             horizon_days=int(horizon) if horizon else None))


def _limits_response(limit_set: models.LimitSet | None) -> dict:
    if limit_set is None:
        return {"settings": None, "limits": []}
    return {"settings": {"active": limit_set.active, "confidence": limit_set.confidence,
                         "horizon_days": limit_set.horizon_days, "lookback_days": limit_set.lookback_days,
                         "webhook_url": limit_set.webhook_url, "email_alerts": limit_set.email_alerts},
            "limits": [services.rule_as_dict(r) for r in limit_set.rules.all()]}


class _LimitsBase(APIView):
    scope = "portfolio"

    def _ids(self, request: Request, pk: int) -> dict:
        if self.scope == "portfolio":
            trading_selectors.portfolio_get(user=request.user, portfolio_id=pk)
            return {"portfolio_id": pk}
        selectors.household_get(user=request.user, household_id=pk)
        return {"household_id": pk}

    def _set(self, request: Request, pk: int) -> models.LimitSet | None:
        if self.scope == "portfolio":
            return selectors.limit_set_for_portfolio(
                portfolio=trading_selectors.portfolio_get(user=request.user, portfolio_id=pk))
        return selectors.limit_set_for_household(
            household=selectors.household_get(user=request.user, household_id=pk))

    @extend_schema(responses=schemas.LimitOut(many=True))
    def get(self, request: Request, pk: int) -> Response:
        return Response(_limits_response(self._set(request, pk)))

    @extend_schema(request=schemas.LimitIn, responses={201: schemas.LimitOut})
    def post(self, request: Request, pk: int) -> Response:
        data = schemas.LimitIn(data=request.data)
        data.is_valid(raise_exception=True)
        rule = services.limit_upsert(user=request.user, **self._ids(request, pk), **data.validated_data)
        return Response(services.rule_as_dict(rule), status=status.HTTP_201_CREATED)

    @extend_schema(request=schemas.LimitSetIn)
    def patch(self, request: Request, pk: int) -> Response:
        data = schemas.LimitSetIn(data=request.data)
        data.is_valid(raise_exception=True)
        limit_set = services.limit_set_update(user=request.user, **self._ids(request, pk), **data.validated_data)
        return Response(_limits_response(limit_set))


class PortfolioLimitsApi(_LimitsBase):
    scope = "portfolio"

    def get(self, request: Request, portfolio_id: int) -> Response:
        return super().get(request, portfolio_id)

    def post(self, request: Request, portfolio_id: int) -> Response:
        return super().post(request, portfolio_id)

    def patch(self, request: Request, portfolio_id: int) -> Response:
        return super().patch(request, portfolio_id)


class HouseholdLimitsApi(_LimitsBase):
    scope = "household"

    def get(self, request: Request, household_id: int) -> Response:
        return super().get(request, household_id)

    def post(self, request: Request, household_id: int) -> Response:
        return super().post(request, household_id)

    def patch(self, request: Request, household_id: int) -> Response:
        return super().patch(request, household_id)


class LimitDetailApi(APIView):
    def delete(self, request: Request, rule_id: int, portfolio_id: int | None = None,
               household_id: int | None = None) -> Response:
        rule = selectors.rule_get(user=request.user, rule_id=rule_id)
        owner_scope = (rule.limit_set.portfolio_id, rule.limit_set.household_id)
        if owner_scope != (portfolio_id, household_id):  # a rule is addressed through its own scope only
            raise NotFoundError(f"limit {rule_id} not found")
        services.limit_delete(user=request.user, rule_id=rule_id)
        return Response(status=status.HTTP_204_NO_CONTENT)


class AlertListApi(APIView):
    @extend_schema(parameters=[OpenApiParameter("open", bool)], responses=schemas.AlertOut(many=True))
    def get(self, request: Request, portfolio_id: int | None = None) -> Response:
        portfolio = (trading_selectors.portfolio_get(user=request.user, portfolio_id=portfolio_id)
                     if portfolio_id is not None else None)
        open_only = request.query_params.get("open", "").lower() in ("1", "true", "yes")
        alerts = selectors.alerts_for(user=request.user, portfolio=portfolio, open_only=open_only)
        return Response([services.alert_as_dict(a) for a in alerts])


class AlertAckApi(APIView):
    @extend_schema(request=None, responses=schemas.AlertOut)
    def post(self, request: Request, alert_id: int, **_) -> Response:
        return Response(services.alert_as_dict(services.alert_acknowledge(user=request.user, alert_id=alert_id)))


class StressApi(APIView):
    @extend_schema(request=schemas.StressIn)
    def post(self, request: Request, portfolio_id: int) -> Response:
        data = schemas.StressIn(data=request.data)
        data.is_valid(raise_exception=True)
        return Response(services.stress_run(user=request.user, portfolio_id=portfolio_id, **data.validated_data))


class CheckApi(FastJsonPost, APIView):
    """Pre-trade what-if: the portfolio's and household's limits on a hypothetical order; nothing is stored.

    A token-authenticated JSON request with a plainly valid body skips DRF's request handling
    (see :mod:`bifrost_web.api.fast`); any other request, and every error, goes through DRF.
    """

    @extend_schema(request=schemas.CheckIn)
    def post(self, request: Request, portfolio_id: int) -> Response:
        data = schemas.CheckIn(data=request.data)
        data.is_valid(raise_exception=True)
        return Response(services.what_if(user=request.user, portfolio_id=portfolio_id, **data.validated_data))

    def fast_validate(self, data):
        """What ``schemas.CheckIn`` would return, for the bodies it accepts unchanged; else ``None``."""
        if not data.keys() <= {"symbol", "side", "quantity", "limit_price"} or data.get("side") not in ("buy", "sell"):
            return None
        arguments = {"symbol": strict_text(data.get("symbol"), 32), "side": data["side"],
                     "quantity": strict_decimal(data.get("quantity"))}
        if "limit_price" in data:
            arguments["limit_price"] = strict_decimal(data["limit_price"])
        return None if any(value is None for value in arguments.values()) else arguments

    def fast_post(self, user, *, portfolio_id, **arguments):
        return services.what_if(user=user, portfolio_id=portfolio_id, **arguments)


class TargetsApi(APIView):
    """Apply the portfolio's limits to target weights (fractions of NAV) before orders are made."""

    @extend_schema(request=schemas.TargetsIn)
    def post(self, request: Request, portfolio_id: int) -> Response:
        data = schemas.TargetsIn(data=request.data)
        data.is_valid(raise_exception=True)
        return Response(services.targets_adjust(user=request.user, portfolio_id=portfolio_id, **data.validated_data))


class BacktestApi(APIView):
    @extend_schema(parameters=[OpenApiParameter("confidence", float), OpenApiParameter("window", int)])
    def get(self, request: Request, portfolio_id: int) -> Response:
        portfolio = trading_selectors.portfolio_get(user=request.user, portfolio_id=portfolio_id)
        confidence = _float_param(request, "confidence", 0.99)
        window = int(_float_param(request, "window", 250))
        return Response(services.backtest_for(portfolio=portfolio, confidence=confidence, window=window))


class RevalueApi(APIView):
    """Revalue now: store a risk snapshot and raise any alerts."""

    @extend_schema(request=None)
    def post(self, request: Request, portfolio_id: int) -> Response:
        trading_selectors.portfolio_get(user=request.user, portfolio_id=portfolio_id)
        snapshot = services.risk_revalue(portfolio_id=portfolio_id, trigger="manual")
        return Response({"snapshot": snapshot.pk, "ts": snapshot.ts.isoformat(), "nav": str(snapshot.nav),
                         "var": snapshot.var, "es": snapshot.es}, status=status.HTTP_201_CREATED)


class SnapshotListApi(APIView):
    def get(self, request: Request, portfolio_id: int) -> Response:
        portfolio = trading_selectors.portfolio_get(user=request.user, portfolio_id=portfolio_id)
        return Response([{"id": s.pk, "ts": s.ts.isoformat(), "trigger": s.trigger, "nav": str(s.nav), "var": s.var,
                          "es": s.es} for s in selectors.snapshots_for(portfolio=portfolio)])
