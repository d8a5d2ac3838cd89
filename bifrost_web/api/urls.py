from django.urls import path

from bifrost_web.accounts.api import TokenApi
from bifrost_web.marketdata import api as md

urlpatterns = [
    path("auth/token/", TokenApi.as_view(), name="api-token"),
    path("instruments/", md.InstrumentListApi.as_view(), name="api-instruments"),
    path("instruments/<str:symbol>/", md.InstrumentDetailApi.as_view(), name="api-instrument"),
    path("instruments/<str:symbol>/bars/", md.BarsApi.as_view(), name="api-bars"),
    path("instruments/<str:symbol>/snapshots/", md.SnapshotsApi.as_view(), name="api-snapshots"),
    path("instruments/<str:symbol>/actions/", md.ActionsApi.as_view(), name="api-actions"),
    path("marketdata/import/", md.ImportApi.as_view(), name="api-import"),
    path("marketdata/refresh/", md.RefreshApi.as_view(), name="api-refresh"),
    path("marketdata/ingest-runs/", md.IngestRunsApi.as_view(), name="api-ingest-runs"),
]
