"""Market-data endpoints: thin views, one service or selector call each."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import permissions, status
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from bifrost.core.errors import InvalidInput
from bifrost_web.marketdata import schemas, selectors, services, tasks


class InstrumentListApi(APIView):
    @extend_schema(parameters=[OpenApiParameter("q", str, description="symbol prefix or name fragment")],
                   responses=schemas.InstrumentOut(many=True))
    def get(self, request: Request) -> Response:
        instruments = selectors.instrument_search(query=request.query_params.get("q", ""))
        return Response(schemas.InstrumentOut(instruments, many=True).data)


class InstrumentDetailApi(APIView):
    @extend_schema(responses=schemas.InstrumentDetailOut)
    def get(self, request: Request, symbol: str) -> Response:
        instrument = selectors.instrument_get(symbol=symbol)
        instrument.series = [
            {"timeframe": s.timeframe, "bars": s.bars, "first_ts": s.first_ts, "last_ts": s.last_ts}
            for s in selectors.series_summaries(symbols=[instrument.symbol])
        ]
        return Response(schemas.InstrumentDetailOut(instrument).data)


class BarsApi(APIView):
    @extend_schema(parameters=[schemas.BarsQuery], responses=schemas.BarsOut)
    def get(self, request: Request, symbol: str) -> Response:
        query = schemas.BarsQuery(data=request.query_params)
        query.is_valid(raise_exception=True)
        params = query.validated_data
        bars = selectors.bars_read(symbol=symbol, timeframe=params["timeframe"], start=params.get("start"),
                                   end=params.get("end"), adjust=params["adjust"])
        if params.get("limit"):
            bars = bars.tail(params["limit"])
        body = {
            "symbol": symbol.upper(), "timeframe": params["timeframe"], "adjust": params["adjust"],
            "ts": [ts.isoformat() for ts in bars.index],
            **{column: bars[column].tolist() for column in ("open", "high", "low", "close", "volume")},
        }
        return Response(body)


class SnapshotsApi(APIView):
    @extend_schema(responses=schemas.SnapshotOut(many=True))
    def get(self, request: Request, symbol: str) -> Response:
        return Response(schemas.SnapshotOut(selectors.snapshots_for(symbol=symbol), many=True).data)


class ActionsApi(APIView):
    @extend_schema(responses=schemas.ActionOut(many=True))
    def get(self, request: Request, symbol: str) -> Response:
        instrument = selectors.instrument_get(symbol=symbol)
        return Response(schemas.ActionOut(instrument.actions.order_by("ex_date"), many=True).data)


class ImportApi(APIView):
    """Upload a CSV or Parquet file of bars (schema: docs/data-import.md). Staff only."""

    permission_classes = [permissions.IsAdminUser]
    parser_classes = [MultiPartParser, FormParser]

    @extend_schema(request=schemas.ImportIn, responses={201: schemas.IngestResultOut(many=True)})
    def post(self, request: Request) -> Response:
        data = schemas.ImportIn(data=request.data)
        data.is_valid(raise_exception=True)
        params = data.validated_data
        upload = params["file"]
        suffix = "".join(Path(upload.name).suffixes[-2:]).lower()
        if not suffix.endswith((".csv", ".csv.gz", ".parquet")):
            raise InvalidInput(f"file must be .csv, .csv.gz or .parquet, was {upload.name!r}")
        with tempfile.TemporaryDirectory() as tmp:
            path = os.path.join(tmp, Path(upload.name).name)
            with open(path, "wb") as handle:
                for chunk in upload.chunks():
                    handle.write(chunk)
            results = services.file_import(path=path, symbol=params.get("symbol"), timeframe=params.get("timeframe"),
                                           tz=params.get("tz"), gap_policy=params.get("gap_policy"))
        out = [
            {"symbol": r.symbol, "timeframe": r.timeframe.value, "rows": r.rows, "method": r.method,
             "actions": r.actions, "first_ts": r.first_ts, "last_ts": r.last_ts, "warnings": list(r.warnings)}
            for r in results
        ]
        return Response(schemas.IngestResultOut(out, many=True).data, status=status.HTTP_201_CREATED)


class RefreshApi(APIView):
    """Queue a download from the configured provider (Yahoo Finance). Staff only."""

    permission_classes = [permissions.IsAdminUser]

    @extend_schema(request=schemas.RefreshIn, responses={202: schemas.TaskOut})
    def post(self, request: Request) -> Response:
        data = schemas.RefreshIn(data=request.data)
        data.is_valid(raise_exception=True)
        p = data.validated_data
        result = tasks.refresh_symbol.delay(p["symbol"], p["timeframe"], p["start"].isoformat(), p["end"].isoformat(),
                                            p["snapshot"])
        return Response({"task_id": result.id, "state": result.state}, status=status.HTTP_202_ACCEPTED)


class IngestRunsApi(APIView):
    @extend_schema(responses=schemas.IngestRunOut(many=True))
    def get(self, request: Request) -> Response:
        from bifrost_web.marketdata.models import IngestRun

        return Response(schemas.IngestRunOut(IngestRun.objects.all()[:200], many=True).data)
