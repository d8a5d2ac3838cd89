"""REST routes of the execution quality service, mounted under /api/v1/."""

from django.urls import path

from bifrost_web.execquality import api

_P = "portfolios/<int:portfolio_id>/execution"

urlpatterns = [
    path(f"{_P}/tca/", api.TCAReportListApi.as_view(), name="api-execution-tca"),
    path(f"{_P}/tca/<int:report_id>/", api.TCAReportDetailApi.as_view(), name="api-execution-tca-detail"),
    path(f"{_P}/tca/<int:report_id>/report.<str:fmt>", api.TCAExportApi.as_view(), name="api-execution-tca-export"),
    path(f"{_P}/impact/", api.ImpactApi.as_view(), name="api-execution-impact"),
    path(f"{_P}/recommend/", api.RecommendApi.as_view(), name="api-execution-recommend"),
    path(f"{_P}/algo-orders/", api.AlgoOrderListApi.as_view(), name="api-execution-algo-orders"),
    path(f"{_P}/algo-orders/<str:parent_id>/", api.AlgoOrderDetailApi.as_view(), name="api-execution-algo-order"),
    path("execution/schedule/", api.ScheduleApi.as_view(), name="api-execution-schedule"),
    path("execution/venues/", api.VenueListApi.as_view(), name="api-execution-venues"),
    path("execution/route/", api.RouteApi.as_view(), name="api-execution-route"),
]
