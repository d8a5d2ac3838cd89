"""REST routes of the compliance and regulatory service, mounted under /api/v1/."""

from django.urls import path

from bifrost_web.compliance import api

_P = "portfolios/<int:portfolio_id>/compliance/"

urlpatterns = [
    path(f"{_P}lots/", api.TaxLotsApi.as_view(), name="api-compliance-lots"),
    path(f"{_P}realised/", api.RealisedApi.as_view(), name="api-compliance-realised"),
    path(f"{_P}wash-sales/", api.WashSalesApi.as_view(), name="api-compliance-wash-sales"),
    path(f"{_P}form8949/", api.Form8949Api.as_view(), name="api-compliance-form8949"),
    path(f"{_P}pdt/", api.PdtApi.as_view(), name="api-compliance-pdt"),
    path(f"{_P}settings/", api.SettingsApi.as_view(), name="api-compliance-settings"),
    path(f"{_P}check/", api.CheckApi.as_view(), name="api-compliance-check"),
    path(f"{_P}scan/", api.ScanApi.as_view(), name="api-compliance-scan"),
    path("households/<int:household_id>/compliance/wash-sales/", api.HouseholdWashSalesApi.as_view(),
         name="api-compliance-household-wash-sales"),
    path("compliance/identical-groups/", api.IdenticalGroupsApi.as_view(), name="api-compliance-groups"),
    path("compliance/identical-groups/<str:name>/", api.IdenticalGroupDetailApi.as_view(),
         name="api-compliance-group"),
    path("compliance/alerts/", api.AlertsApi.as_view(), name="api-compliance-alerts"),
    path("compliance/alerts/<int:alert_id>/ack/", api.AlertAckApi.as_view(), name="api-compliance-alert-ack"),
    path("compliance/audit/", api.AuditApi.as_view(), name="api-compliance-audit"),
    path(f"{_P}cash-violations/", api.CashViolationsApi.as_view(), name="api-compliance-cash-violations"),
    path("compliance/lists/", api.ListedSymbolsApi.as_view(), name="api-compliance-lists"),
    path("compliance/lists/<str:symbol>/", api.ListedSymbolDetailApi.as_view(), name="api-compliance-list"),
    path("compliance/ownership/", api.OwnershipApi.as_view(), name="api-compliance-ownership"),
    path("compliance/reports/", api.ReportsApi.as_view(), name="api-compliance-reports"),
    path("compliance/reports/<int:report_id>/download/", api.ReportDownloadApi.as_view(),
         name="api-compliance-report-download"),
]
