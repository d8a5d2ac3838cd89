"""Portal pages of the compliance and regulatory service, in the ``portal`` namespace."""

from django.urls import path

from bifrost_web.compliance import views

urlpatterns = [
    path("compliance/", views.overview, name="compliance"),
    path("compliance/portfolios/<int:portfolio_id>/", views.portfolio, name="compliance-portfolio"),
    path("compliance/portfolios/<int:portfolio_id>/settings/", views.settings_update,
         name="compliance-settings"),
    path("compliance/alerts/<int:alert_id>/ack/", views.alert_ack, name="compliance-alert-ack"),
]
