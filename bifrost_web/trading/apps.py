from django.apps import AppConfig


class TradingConfig(AppConfig):
    name = "bifrost_web.trading"
    label = "trading"
    verbose_name = "Trading"
