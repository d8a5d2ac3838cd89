from django.apps import AppConfig


class RiskConfig(AppConfig):
    name = "bifrost_web.risk"
    label = "risk"
    verbose_name = "Risk management"

    def ready(self) -> None:
        from django.db.models.signals import post_delete, post_save

        from bifrost_web.risk import services, signals
        from bifrost_web.trading.pretrade_hooks import (
            register_pretrade_provider,
            register_target_adjuster_provider,
        )

        register_pretrade_provider("risk", services.pretrade_checks)
        register_target_adjuster_provider("risk", services.target_adjuster_provider)
        post_save.connect(services.on_order_saved, sender="trading.Order", dispatch_uid="risk-order-saved")
        post_save.connect(signals.on_fill_saved, sender="trading.Fill", dispatch_uid="risk-fill-saved")
        # the pre-trade path's cached books (ledger entries and orders are never deleted on their
        # own: a portfolio's deletion stands for its cascade)
        for model in ("trading.LedgerEntry", "trading.Order", "trading.Portfolio", "trading.PortfolioSnapshot"):
            post_save.connect(services.book_changed, sender=model, dispatch_uid=f"risk-book-saved-{model}")
        for model in ("trading.Portfolio", "trading.PortfolioSnapshot"):
            post_delete.connect(services.book_changed, sender=model, dispatch_uid=f"risk-book-deleted-{model}")
        # market data under the books: bars (every successful ingest records a run), adjustments, company data
        from bifrost_web.risk import market

        for model in ("marketdata.IngestRun", "marketdata.Instrument", "marketdata.CorporateAction",
                      "marketdata.CompanySnapshot"):
            post_save.connect(market.market_changed, sender=model, dispatch_uid=f"risk-market-saved-{model}")
            post_delete.connect(market.market_changed, sender=model, dispatch_uid=f"risk-market-deleted-{model}")
        for model in ("risk.LimitSet", "risk.LimitRule"):
            post_save.connect(services.limits_changed, sender=model, dispatch_uid=f"risk-limits-saved-{model}")
            post_delete.connect(services.limits_changed, sender=model, dispatch_uid=f"risk-limits-deleted-{model}")
