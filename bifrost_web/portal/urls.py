from django.urls import include, path

from bifrost_web.marketdata import views as market
from bifrost_web.portal import views
from bifrost_web.trading import views as trading

app_name = "portal"
urlpatterns = [
    path("", views.home, name="home"),
    path("market/", market.market_list, name="market-list"),
    path("market/<str:symbol>/", market.market_detail, name="market-detail"),
    path("portfolios/", trading.portfolio_list, name="portfolios"),
    path("portfolios/<int:portfolio_id>/", trading.portfolio_detail, name="portfolio-detail"),
    path("portfolios/<int:portfolio_id>/orders/", trading.order_ticket, name="order-ticket"),
    path("portfolios/<int:portfolio_id>/orders/<str:client_order_id>/cancel/", trading.order_cancel,
         name="order-cancel"),
    path("portfolios/<int:portfolio_id>/cash/", trading.cash_flow, name="cash-flow"),
    path("portfolios/<int:portfolio_id>/kill-switch/", trading.kill_switch, name="kill-switch"),
    path("portfolios/<int:portfolio_id>/paper/", trading.paper_process, name="paper-process"),
    path("", include("bifrost_web.backtests.portal_urls")),
    path("", include("bifrost_web.risk.portal_urls")),
    path("", include("bifrost_web.execquality.portal_urls")),
    path("", include("bifrost_web.compliance.portal_urls")),
]
