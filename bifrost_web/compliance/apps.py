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
        from django.db.models.signals import post_delete, post_save

        from bifrost_web.compliance import models

        for signal in (post_save, post_delete):
            signal.connect(services.portfolio_changed, sender="trading.Portfolio",
                           dispatch_uid=f"compliance-households-{signal is post_save}")
        for model in (models.ComplianceSettings, models.ListedSymbol, models.IdenticalGroup):
            for signal in (post_save, post_delete):
                signal.connect(services.pretrade_config.changed, sender=model,
                               dispatch_uid=f"compliance-config-{signal is post_save}-{model.__name__}")
