from django.apps import AppConfig


class ExecQualityConfig(AppConfig):
    name = "bifrost_web.execquality"
    label = "execquality"
    verbose_name = "Execution quality"
