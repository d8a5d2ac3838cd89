from django.apps import AppConfig


class RiskConfig(AppConfig):
    name = "bifrost_web.risk"
    label = "risk"
    verbose_name = "Risk management"
