from django.urls import path

from bifrost_web.marketdata import views as market
from bifrost_web.portal import views

app_name = "portal"
urlpatterns = [
    path("", views.home, name="home"),
    path("market/", market.market_list, name="market-list"),
    path("market/<str:symbol>/", market.market_detail, name="market-detail"),
]
