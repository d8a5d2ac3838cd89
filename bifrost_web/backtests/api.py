"""Backtest and sweep endpoints. Every lookup is scoped to the authenticated user: another
user's backtest or sweep answers 404, exactly like one that does not exist."""

from __future__ import annotations

from django.http import HttpResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from bifrost.core.errors import InvalidInput
from bifrost_web.backtests import reports, schemas, selectors, services


class BacktestListApi(APIView):
    @extend_schema(parameters=[OpenApiParameter("status", str), OpenApiParameter("strategy", str)],
                   responses=schemas.BacktestOut(many=True))
    def get(self, request: Request) -> Response:
        backtests = selectors.backtests_for(user=request.user, status=request.query_params.get("status"),
                                            strategy=request.query_params.get("strategy"))
        return Response(schemas.BacktestOut(backtests[:500], many=True).data)

    @extend_schema(request=schemas.BacktestIn, responses={202: schemas.BacktestOut})
    def post(self, request: Request) -> Response:
        """Validate and queue a backtest; it runs on a Celery worker. Poll the detail for its status."""
        data = schemas.BacktestIn(data=request.data)
        data.is_valid(raise_exception=True)
        backtest = services.backtest_submit(user=request.user, **data.validated_data)
        backtest.refresh_from_db()
        return Response(schemas.BacktestOut(backtest).data, status=status.HTTP_202_ACCEPTED)


class BacktestDetailApi(APIView):
    @extend_schema(responses=schemas.BacktestDetailOut)
    def get(self, request: Request, backtest_id: int) -> Response:
        backtest = selectors.backtest_get(user=request.user, backtest_id=backtest_id)
        return Response(schemas.BacktestDetailOut(backtest).data)

    @extend_schema(responses={204: None})
    def delete(self, request: Request, backtest_id: int) -> Response:
        services.backtest_delete(user=request.user, backtest_id=backtest_id)
        return Response(status=status.HTTP_204_NO_CONTENT)


class BacktestEquityApi(APIView):
    @extend_schema(responses=OpenApiTypes.OBJECT)
    def get(self, request: Request, backtest_id: int) -> Response:
        """Equity after each bar, benchmark returns if any, and the drawdown from the running peak."""
        record = selectors.backtest_record(user=request.user, backtest_id=backtest_id)
        equity = record.equity
        drawdown = equity / equity.cummax().clip(lower=record.initial_cash) - 1.0
        body = {"ts": [t.isoformat() for t in equity.index], "equity": equity.tolist(),
                "drawdown": drawdown.tolist(), "initial_cash": record.initial_cash,
                "benchmark_returns": None if record.benchmark is None
                else record.benchmark.reindex(equity.index).fillna(0.0).tolist()}
        return Response(body)


def _frame_rows(frame) -> list[dict]:
    out = frame.copy()
    for column in out.columns:
        if str(out[column].dtype).startswith("datetime64"):
            out[column] = out[column].map(lambda t: None if t is None or t != t else t.isoformat())
    out = out.astype(object).where(out.notna(), None)
    return out.to_dict("records")


class BacktestFillsApi(APIView):
    @extend_schema(responses=OpenApiTypes.OBJECT)
    def get(self, request: Request, backtest_id: int) -> Response:
        backtest = selectors.backtest_get(user=request.user, backtest_id=backtest_id)
        return Response(_frame_rows(selectors.backtest_fills(backtest=backtest)))


class BacktestOrdersApi(APIView):
    @extend_schema(responses=OpenApiTypes.OBJECT)
    def get(self, request: Request, backtest_id: int) -> Response:
        backtest = selectors.backtest_get(user=request.user, backtest_id=backtest_id)
        return Response(_frame_rows(selectors.backtest_orders(backtest=backtest)))


class BacktestTradesApi(APIView):
    @extend_schema(responses=OpenApiTypes.OBJECT)
    def get(self, request: Request, backtest_id: int) -> Response:
        """Round-trip trades, FIFO per symbol, net of fees."""
        record = selectors.backtest_record(user=request.user, backtest_id=backtest_id)
        return Response(_frame_rows(record.trades()))


class BacktestAnalysisApi(APIView):
    @extend_schema(parameters=[OpenApiParameter("sections", str, description="Comma-separated: risk, tca, tax."),
                               OpenApiParameter("confidence", float)], responses=OpenApiTypes.OBJECT)
    def get(self, request: Request, backtest_id: int) -> Response:
        """The risk, execution-quality and compliance services on this backtest: VaR and ES, drawdowns
        and a VaR backtest; transaction costs of its fills; tax lots, realised gains and wash sales."""
        from bifrost.core.errors import InvalidInput

        sections = [s.strip() for s in request.query_params.get("sections", "risk,tca,tax").split(",") if s.strip()]
        try:
            confidence = float(request.query_params.get("confidence", "0.99"))
        except ValueError:
            raise InvalidInput("confidence must be a number such as 0.99") from None
        return Response(services.backtest_analysis(user=request.user, backtest_id=backtest_id, sections=sections,
                                                   confidence=confidence))


class BacktestTearsheetApi(APIView):
    @extend_schema(parameters=[OpenApiParameter("download", bool)], responses={(200, "text/html"): str})
    def get(self, request: Request, backtest_id: int) -> HttpResponse:
        """The standalone HTML tear sheet (plotly.js inlined); ``?download=1`` saves it as a file."""
        backtest = selectors.backtest_get(user=request.user, backtest_id=backtest_id)
        record = selectors.record_of(backtest)
        document = reports.tearsheet_document(record, title=f"{backtest.name or backtest.strategy} (#{backtest.pk})")
        response = HttpResponse(document, content_type="text/html; charset=utf-8")
        if request.query_params.get("download") in ("1", "true", "yes"):
            response["Content-Disposition"] = f'attachment; filename="backtest-{backtest.pk}-tearsheet.html"'
        return response


class BacktestCompareApi(APIView):
    @extend_schema(parameters=[OpenApiParameter("ids", str, description="comma-separated backtest ids")],
                   responses=OpenApiTypes.OBJECT)
    def get(self, request: Request) -> Response:
        raw = request.query_params.get("ids", "")
        ids = [part for part in raw.replace(" ", ",").split(",") if part]
        if not ids:
            raise InvalidInput("ids is required, e.g. ?ids=3,5")
        return Response(services.backtest_compare(user=request.user, ids=ids))


class StrategyListApi(APIView):
    @extend_schema(responses=OpenApiTypes.OBJECT)
    def get(self, request: Request) -> Response:
        """Registered strategies and their default parameters."""
        import bifrost.backtest  # noqa: F401
        from bifrost.backtest.strategy import STRATEGIES

        return Response([{"name": name, "params": cls.param_defaults(), "doc": (cls.__doc__ or "").strip()}
                         for name, cls in sorted(STRATEGIES.items())])


class SweepListApi(APIView):
    @extend_schema(responses=schemas.SweepOut(many=True))
    def get(self, request: Request) -> Response:
        return Response(schemas.SweepOut(selectors.sweeps_for(user=request.user)[:200], many=True).data)

    @extend_schema(request=schemas.SweepIn, responses={202: schemas.SweepOut})
    def post(self, request: Request) -> Response:
        """Create a sweep; its trials fan out over Celery workers. Poll the detail for progress."""
        data = schemas.SweepIn(data=request.data)
        data.is_valid(raise_exception=True)
        params = dict(data.validated_data)
        params["space_spec"] = params.pop("space")
        sweep = services.sweep_submit(user=request.user, **params)
        sweep.refresh_from_db()
        return Response(schemas.SweepOut(sweep).data, status=status.HTTP_202_ACCEPTED)


class SweepDetailApi(APIView):
    @extend_schema(parameters=[OpenApiParameter("trials", bool, description="include the trials (default yes)")],
                   responses=OpenApiTypes.OBJECT)
    def get(self, request: Request, sweep_id: int) -> Response:
        """Progress, best parameters, deflated Sharpe ratio, PBO and (unless ?trials=0) the trials."""
        sweep = selectors.sweep_get(user=request.user, sweep_id=sweep_id)
        body = schemas.SweepOut(sweep).data
        if request.query_params.get("trials", "1") not in ("0", "false", "no"):
            body["trials"] = schemas.SweepTrialOut(sweep.trials.order_by("number").defer("returns"), many=True).data
        return Response(body)
