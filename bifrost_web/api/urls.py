from django.urls import include, path

from bifrost_web.accounts.api import TokenApi
from bifrost_web.marketdata import api as md
from bifrost_web.trading import api as tr

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
    path("portfolios/", tr.PortfolioListApi.as_view(), name="api-portfolios"),
    path("portfolios/<int:portfolio_id>/", tr.PortfolioDetailApi.as_view(), name="api-portfolio"),
    path("portfolios/<int:portfolio_id>/cash-flows/", tr.CashFlowApi.as_view(), name="api-cash-flows"),
    path("portfolios/<int:portfolio_id>/ledger/", tr.LedgerApi.as_view(), name="api-ledger"),
    path("portfolios/<int:portfolio_id>/orders/", tr.OrderListApi.as_view(), name="api-orders"),
    path("portfolios/<int:portfolio_id>/orders/<str:client_order_id>/", tr.OrderDetailApi.as_view(),
         name="api-order"),
    path("portfolios/<int:portfolio_id>/fills/", tr.FillListApi.as_view(), name="api-fills"),
    path("portfolios/<int:portfolio_id>/positions/", tr.PositionsApi.as_view(), name="api-positions"),
    path("portfolios/<int:portfolio_id>/lots/", tr.LotsApi.as_view(), name="api-lots"),
    path("portfolios/<int:portfolio_id>/paper/process/", tr.PaperProcessApi.as_view(), name="api-paper-process"),
    path("portfolios/<int:portfolio_id>/kill-switch/", tr.KillSwitchApi.as_view(), name="api-kill-switch"),
    path("portfolios/<int:portfolio_id>/performance/", tr.PerformanceApi.as_view(), name="api-performance"),
    path("kill-switch/", tr.KillSwitchApi.as_view(), name="api-global-kill-switch"),
    # the pre-trade what-if checks first: each include passed over costs an exception per request
    path("", include("bifrost_web.risk.api_urls")),
    path("", include("bifrost_web.compliance.api_urls")),
    path("", include("bifrost_web.execquality.api_urls")),
    path("", include("bifrost_web.backtests.api_urls")),
]
