"""Execution-quality endpoints under /api/v1/portfolios/<id>/execution/... and /api/v1/execution/...

Every lookup is scoped to the authenticated user: another user's portfolio, report or
algorithm order answers 404, exactly like one that does not exist.
"""

from __future__ import annotations

from django.http import HttpResponse
from drf_spectacular.utils import extend_schema
from rest_framework import status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from bifrost_web.execquality import schemas, selectors, services


class TCAReportListApi(APIView):
    @extend_schema(responses=schemas.TCAReportOut(many=True))
    def get(self, request: Request, portfolio_id: int) -> Response:
        portfolio = selectors.portfolio_get(user=request.user, portfolio_id=portfolio_id)
        return Response(schemas.TCAReportOut(selectors.tca_reports_for(portfolio=portfolio)[:200], many=True).data)

    @extend_schema(request=schemas.TCAReportIn, responses={202: schemas.TCAReportOut})
    def post(self, request: Request, portfolio_id: int) -> Response:
        """Queue a TCA of the portfolio's fills; it runs on a Celery worker. Poll the detail for its status."""
        data = schemas.TCAReportIn(data=request.data)
        data.is_valid(raise_exception=True)
        report = services.tca_report_request(user=request.user, portfolio_id=portfolio_id, **data.validated_data)
        report.refresh_from_db()
        return Response(schemas.TCAReportOut(report).data, status=status.HTTP_202_ACCEPTED)


class TCAReportDetailApi(APIView):
    @extend_schema(responses=schemas.TCAReportDetailOut)
    def get(self, request: Request, portfolio_id: int, report_id: int) -> Response:
        report = selectors.tca_report_get(user=request.user, portfolio_id=portfolio_id, report_id=report_id)
        return Response(schemas.TCAReportDetailOut(report).data)


class TCAExportApi(APIView):
    """The TCA of the report's period rendered now as HTML (charts) or PDF (tables)."""

    @extend_schema(responses={(200, "text/html"): str, (200, "application/pdf"): bytes})
    def get(self, request: Request, portfolio_id: int, report_id: int, fmt: str) -> HttpResponse:
        report = selectors.tca_report_get(user=request.user, portfolio_id=portfolio_id, report_id=report_id)
        result = services.tca_compute(user=request.user, portfolio_id=portfolio_id, start=report.start,
                                      end=report.end, group_by=report.group_by)
        if fmt == "pdf":
            response = HttpResponse(result.to_pdf(), content_type="application/pdf")
            response["Content-Disposition"] = f'attachment; filename="tca-{portfolio_id}-{report_id}.pdf"'
            return response
        return HttpResponse(result.to_html(), content_type="text/html; charset=utf-8")


class ImpactApi(APIView):
    @extend_schema(responses=schemas.CalibrationOut(many=True))
    def get(self, request: Request, portfolio_id: int) -> Response:
        portfolio = selectors.portfolio_get(user=request.user, portfolio_id=portfolio_id)
        return Response(schemas.CalibrationOut(selectors.calibrations_for(portfolio=portfolio)[:100], many=True).data)

    @extend_schema(request=None, responses={201: schemas.CalibrationOut})
    def post(self, request: Request, portfolio_id: int) -> Response:
        """Recalibrate the impact model from the portfolio's own fills (synchronous; a few seconds at most)."""
        calibration = services.impact_recalibrate(user=request.user, portfolio_id=portfolio_id)
        return Response(schemas.CalibrationOut(calibration).data, status=status.HTTP_201_CREATED)


class RecommendApi(APIView):
    @extend_schema(request=schemas.RecommendIn, responses=dict)
    def post(self, request: Request, portfolio_id: int) -> Response:
        data = schemas.RecommendIn(data=request.data)
        data.is_valid(raise_exception=True)
        result = services.recommendation_for(user=request.user, portfolio_id=portfolio_id, **data.validated_data)
        return Response(result.to_dict())


class ScheduleApi(APIView):
    @extend_schema(request=schemas.ScheduleIn, responses=dict)
    def post(self, request: Request) -> Response:
        """The Almgren-Chriss optimal trajectory with kappa, expected cost, variance and the efficient frontier."""
        data = schemas.ScheduleIn(data=request.data)
        data.is_valid(raise_exception=True)
        return Response(services.schedule_for(**data.validated_data))


class VenueListApi(APIView):
    @extend_schema(responses=schemas.VenueOut(many=True))
    def get(self, request: Request) -> Response:
        return Response(schemas.VenueOut(selectors.venues_for(user=request.user), many=True).data)

    @extend_schema(request=schemas.VenueIn, responses={201: schemas.VenueOut})
    def post(self, request: Request) -> Response:
        data = schemas.VenueIn(data=request.data)
        data.is_valid(raise_exception=True)
        venue = services.venue_create(user=request.user, **data.validated_data)
        return Response(schemas.VenueOut(venue).data, status=status.HTTP_201_CREATED)


class RouteApi(APIView):
    @extend_schema(request=schemas.RouteIn, responses=dict)
    def post(self, request: Request) -> Response:
        """Split an order across the user's venues to minimise the expected all-in cost."""
        data = schemas.RouteIn(data=request.data)
        data.is_valid(raise_exception=True)
        return Response(services.route_preview(user=request.user, **data.validated_data))


class AlgoOrderListApi(APIView):
    @extend_schema(responses=schemas.AlgoOrderOut(many=True))
    def get(self, request: Request, portfolio_id: int) -> Response:
        portfolio = selectors.portfolio_get(user=request.user, portfolio_id=portfolio_id)
        return Response(schemas.AlgoOrderOut(selectors.algo_orders_for(portfolio=portfolio)[:200], many=True).data)

    @extend_schema(request=schemas.AlgoOrderIn, responses={201: schemas.AlgoOrderOut})
    def post(self, request: Request, portfolio_id: int) -> Response:
        data = schemas.AlgoOrderIn(data=request.data)
        data.is_valid(raise_exception=True)
        row = services.algo_order_create(user=request.user, portfolio_id=portfolio_id, **data.validated_data)
        return Response(schemas.AlgoOrderOut(row).data, status=status.HTTP_201_CREATED)


class AlgoOrderDetailApi(APIView):
    @extend_schema(responses=schemas.AlgoOrderOut)
    def get(self, request: Request, portfolio_id: int, parent_id: str) -> Response:
        row = selectors.algo_order_get(user=request.user, portfolio_id=portfolio_id, parent_id=parent_id)
        return Response(schemas.AlgoOrderOut(row).data)

    @extend_schema(request=None, responses=schemas.AlgoOrderOut)
    def delete(self, request: Request, portfolio_id: int, parent_id: str) -> Response:
        """Cancel the parent order and its working children."""
        row = services.algo_order_cancel(user=request.user, portfolio_id=portfolio_id, parent_id=parent_id)
        return Response(schemas.AlgoOrderOut(row).data)
