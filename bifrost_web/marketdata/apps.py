from django.apps import AppConfig


class MarketdataConfig(AppConfig):
    name = "bifrost_web.marketdata"
    label = "marketdata"
    verbose_name = "Market data"
