"""Portal pages of the execution quality service, in the ``portal`` namespace."""

from django.urls import path

from bifrost_web.execquality import views

urlpatterns = [
    path("execution/", views.execution_home, name="execution"),
    path("portfolios/<int:portfolio_id>/execution/", views.execution_portfolio, name="execution-portfolio"),
    path("portfolios/<int:portfolio_id>/execution/tca/", views.tca_run, name="execution-tca-run"),
    path("portfolios/<int:portfolio_id>/execution/impact/", views.impact_run, name="execution-impact-run"),
    path("portfolios/<int:portfolio_id>/execution/tca/<int:report_id>/", views.tca_detail, name="execution-tca"),
    path("portfolios/<int:portfolio_id>/execution/tca/<int:report_id>/report.<str:fmt>", views.tca_export,
         name="execution-tca-export"),
]
