"""Trading endpoints. Every lookup is scoped to the authenticated user: another user's
portfolio answers 404, exactly like one that does not exist."""

from __future__ import annotations

import uuid

from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from bifrost.orders.types import OrderRequest
from bifrost_web.trading import reports, schemas, selectors, services


class PortfolioListApi(APIView):
    @extend_schema(responses=schemas.PortfolioOut(many=True))
    def get(self, request: Request) -> Response:
        return Response(schemas.PortfolioOut(selectors.portfolios_for(user=request.user), many=True).data)

    @extend_schema(request=schemas.PortfolioIn, responses={201: schemas.PortfolioOut})
    def post(self, request: Request) -> Response:
        data = schemas.PortfolioIn(data=request.data)
        data.is_valid(raise_exception=True)
        portfolio = services.portfolio_create(owner=request.user, **data.validated_data)
        return Response(schemas.PortfolioOut(portfolio).data, status=status.HTTP_201_CREATED)


class PortfolioDetailApi(APIView):
    @extend_schema(responses=schemas.PortfolioOut)
    def get(self, request: Request, portfolio_id: int) -> Response:
        return Response(schemas.PortfolioOut(selectors.portfolio_get(user=request.user,
                                                                     portfolio_id=portfolio_id)).data)


class CashFlowApi(APIView):
    @extend_schema(request=schemas.CashFlowIn, responses={201: schemas.LedgerEntryOut})
    def post(self, request: Request, portfolio_id: int) -> Response:
        data = schemas.CashFlowIn(data=request.data)
        data.is_valid(raise_exception=True)
        entry = services.cash_flow_record(user=request.user, portfolio_id=portfolio_id, **data.validated_data)
        return Response(schemas.LedgerEntryOut(entry).data, status=status.HTTP_201_CREATED)


class LedgerApi(APIView):
    @extend_schema(responses=schemas.LedgerEntryOut(many=True))
    def get(self, request: Request, portfolio_id: int) -> Response:
        portfolio = selectors.portfolio_get(user=request.user, portfolio_id=portfolio_id)
        entries = portfolio.ledger_entries.prefetch_related("lines").order_by("-id")[:500]
        return Response(schemas.LedgerEntryOut(entries, many=True).data)


class OrderListApi(APIView):
    @extend_schema(parameters=[OpenApiParameter("status", str, description="open, filled, cancelled, ...")],
                   responses=schemas.OrderOut(many=True))
    def get(self, request: Request, portfolio_id: int) -> Response:
        portfolio = selectors.portfolio_get(user=request.user, portfolio_id=portfolio_id)
        orders = selectors.orders_for(portfolio=portfolio, status=request.query_params.get("status"))
        return Response(schemas.OrderOut(orders.prefetch_related("events")[:500], many=True).data)

    @extend_schema(request=schemas.OrderIn, responses={201: schemas.OrderOut, 200: schemas.OrderOut})
    def post(self, request: Request, portfolio_id: int) -> Response:
        data = schemas.OrderIn(data=request.data)
        data.is_valid(raise_exception=True)
        params = dict(data.validated_data)
        params.setdefault("client_order_id", f"api-{uuid.uuid4().hex[:20]}")
        params = {k: v for k, v in params.items() if v is not None}
        order = services.order_submit(user=request.user, portfolio_id=portfolio_id, request=OrderRequest(**params))
        existed = getattr(order, "duplicate", False)
        return Response(schemas.order_payload(order, order.events.all()),
                        status=status.HTTP_200_OK if existed else status.HTTP_201_CREATED)


class OrderDetailApi(APIView):
    @extend_schema(responses=schemas.OrderOut)
    def get(self, request: Request, portfolio_id: int, client_order_id: str) -> Response:
        portfolio = selectors.portfolio_get(user=request.user, portfolio_id=portfolio_id)
        return Response(schemas.OrderOut(selectors.order_get(portfolio=portfolio, client_order_id=client_order_id)).data)

    @extend_schema(responses=schemas.OrderOut)
    def delete(self, request: Request, portfolio_id: int, client_order_id: str) -> Response:
        order = services.order_cancel(user=request.user, portfolio_id=portfolio_id, client_order_id=client_order_id)
        return Response(schemas.OrderOut(order).data)


class FillListApi(APIView):
    @extend_schema(responses=schemas.FillOut(many=True))
    def get(self, request: Request, portfolio_id: int) -> Response:
        portfolio = selectors.portfolio_get(user=request.user, portfolio_id=portfolio_id)
        return Response(schemas.FillOut(portfolio.fills.select_related("order").order_by("-ts_event")[:1000],
                                        many=True).data)


class PositionsApi(APIView):
    def get(self, request: Request, portfolio_id: int) -> Response:
        portfolio = selectors.portfolio_get(user=request.user, portfolio_id=portfolio_id)
        return Response(reports.positions_report(portfolio))


class LotsApi(APIView):
    def get(self, request: Request, portfolio_id: int) -> Response:
        portfolio = selectors.portfolio_get(user=request.user, portfolio_id=portfolio_id)
        return Response(reports.lots_report(portfolio))


class PaperProcessApi(APIView):
    """Match open paper orders against the bars stored since they were sent."""

    def post(self, request: Request, portfolio_id: int) -> Response:
        portfolio = selectors.portfolio_get(user=request.user, portfolio_id=portfolio_id)
        return Response(services.paper_process(portfolio_id=portfolio.pk))


class KillSwitchApi(APIView):
    @extend_schema(request=schemas.KillSwitchIn, responses=schemas.OrderOut(many=True))
    def post(self, request: Request, portfolio_id: int | None = None) -> Response:
        data = schemas.KillSwitchIn(data=request.data)
        data.is_valid(raise_exception=True)
        cancelled = services.kill_switch_set(user=request.user, portfolio_id=portfolio_id, **data.validated_data)
        return Response({"cancelled": [o.client_order_id for o in cancelled]})


class PerformanceApi(APIView):
    """Daily NAV snapshots with time- and money-weighted returns."""

    def get(self, request: Request, portfolio_id: int) -> Response:
        portfolio = selectors.portfolio_get(user=request.user, portfolio_id=portfolio_id)
        return Response(services.performance(portfolio=portfolio))
