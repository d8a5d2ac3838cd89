from django.apps import AppConfig


class RiskConfig(AppConfig):
    name = "bifrost_web.risk"
    label = "risk"
    verbose_name = "Risk management"

    def ready(self) -> None:
        from django.db.models.signals import post_delete, post_save

        from bifrost_web.risk import services, signals
        from bifrost_web.trading.pretrade_hooks import register_pretrade_provider

        register_pretrade_provider("risk", services.pretrade_checks)
        post_save.connect(services.on_order_saved, sender="trading.Order", dispatch_uid="risk-order-saved")
        post_save.connect(signals.on_fill_saved, sender="trading.Fill", dispatch_uid="risk-fill-saved")
        for model in ("risk.LimitSet", "risk.LimitRule"):
            post_save.connect(services.limits_changed, sender=model, dispatch_uid=f"risk-limits-saved-{model}")
            post_delete.connect(services.limits_changed, sender=model, dispatch_uid=f"risk-limits-deleted-{model}")
