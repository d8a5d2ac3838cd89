from django.apps import AppConfig


class ComplianceConfig(AppConfig):
    name = "bifrost_web.compliance"
    label = "compliance"
    verbose_name = "Compliance and regulatory"

    def ready(self) -> None:
        from bifrost_web.compliance import services, signals
        from bifrost_web.trading.pretrade_hooks import register_pretrade_provider

        register_pretrade_provider("compliance", services.pretrade_provider)
        signals.connect()
