"""Portal pages of the risk management service, in the ``portal`` namespace."""

from django.urls import path

from bifrost_web.risk import views

urlpatterns = [
    path("risk/", views.risk_overview, name="risk"),
    path("portfolios/<int:portfolio_id>/risk/", views.risk_dashboard, name="risk-dashboard"),
    path("portfolios/<int:portfolio_id>/risk/alerts.json", views.risk_alerts_json, name="risk-alerts-json"),
    path("portfolios/<int:portfolio_id>/risk/limits/", views.risk_limit_save, name="risk-limit-save"),
    path("portfolios/<int:portfolio_id>/risk/limits/<int:rule_id>/delete/", views.risk_limit_delete,
         name="risk-limit-delete"),
    path("portfolios/<int:portfolio_id>/risk/alerts/<int:alert_id>/ack/", views.risk_alert_ack,
         name="risk-alert-ack"),
    path("portfolios/<int:portfolio_id>/risk/report/", views.risk_report_page, name="risk-report"),
    path("portfolios/<int:portfolio_id>/risk/report.pdf", views.risk_report_pdf, name="risk-report-pdf"),
]
