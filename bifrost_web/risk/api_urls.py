"""REST routes of the risk management service, mounted under /api/v1/."""

from django.urls import path

from bifrost_web.risk import api

P = "portfolios/<int:portfolio_id>/risk/"
H = "households/<int:household_id>/risk/"

urlpatterns = [
    path(P, api.RiskReportApi.as_view(), name="api-risk-report"),
    path(P + "limits/", api.PortfolioLimitsApi.as_view(), name="api-risk-limits"),
    path(P + "limits/<int:rule_id>/", api.LimitDetailApi.as_view(), name="api-risk-limit"),
    path(P + "alerts/", api.AlertListApi.as_view(), name="api-risk-alerts"),
    path(P + "alerts/<int:alert_id>/ack/", api.AlertAckApi.as_view(), name="api-risk-alert-ack"),
    path(P + "stress/", api.StressApi.as_view(), name="api-risk-stress"),
    path(P + "check/", api.CheckApi.as_view(), name="api-risk-check"),
    path(P + "targets/", api.TargetsApi.as_view(), name="api-risk-targets"),
    path(P + "backtest/", api.BacktestApi.as_view(), name="api-risk-backtest"),
    path(P + "revalue/", api.RevalueApi.as_view(), name="api-risk-revalue"),
    path(P + "snapshots/", api.SnapshotListApi.as_view(), name="api-risk-snapshots"),
    path(H, api.HouseholdRiskReportApi.as_view(), name="api-household-risk-report"),
    path(H + "limits/", api.HouseholdLimitsApi.as_view(), name="api-household-risk-limits"),
    path(H + "limits/<int:rule_id>/", api.LimitDetailApi.as_view(), name="api-household-risk-limit"),
    path("risk/alerts/", api.AlertListApi.as_view(), name="api-risk-alerts-all"),
    path("risk/alerts/<int:alert_id>/ack/", api.AlertAckApi.as_view(), name="api-risk-alert-ack-any"),
]
