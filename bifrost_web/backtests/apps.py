from django.apps import AppConfig


class BacktestsConfig(AppConfig):
    name = "bifrost_web.backtests"
    label = "backtests"
    verbose_name = "Backtests and research"
