"""Audit-trail hooks on other apps' events, connected in ComplianceConfig.ready().

Orders and their events, kill-switch changes and logins are recorded without touching
the trading or accounts apps: we listen to their model and auth signals.
"""

from __future__ import annotations

from django.contrib.auth.signals import user_logged_in, user_login_failed
from django.db.models.signals import post_save, pre_save

from bifrost_web.trading import models as tr_models

_UID = "bifrost-compliance-audit"


def _order_saved(sender, instance: tr_models.Order, created: bool, **kwargs) -> None:
    if not created:
        return
    from bifrost_web.compliance.services import audit_record

    audit_record(actor=instance.portfolio.owner.username, action="order.create", object_type="order",
                 object_id=f"{instance.portfolio_id}:{instance.client_order_id}",
                 after={"symbol": instance.symbol, "side": instance.side, "quantity": str(instance.quantity),
                        "order_type": instance.order_type, "limit_price": str(instance.limit_price or ""),
                        "status": instance.status, "reject_reason": instance.reject_reason[:500],
                        "tag": instance.tag})


def _order_event_saved(sender, instance: tr_models.OrderEventRecord, created: bool, **kwargs) -> None:
    if not created or instance.kind == "submitted":  # the order.create entry records the submission
        return
    from bifrost_web.compliance.services import audit_record

    order = instance.order
    audit_record(actor="system:trading", action=f"order.{instance.kind}", object_type="order",
                 object_id=f"{order.portfolio_id}:{order.client_order_id}",
                 after={"reason": instance.reason[:500], "ts_event": instance.ts_event.isoformat()})


def _portfolio_presave(sender, instance: tr_models.Portfolio, **kwargs) -> None:
    if instance.pk is None:
        return
    previous = tr_models.Portfolio.objects.filter(pk=instance.pk).values("kill_switch", "leverage_limit").first()
    instance._audit_before = previous


def _portfolio_saved(sender, instance: tr_models.Portfolio, created: bool, **kwargs) -> None:
    before = getattr(instance, "_audit_before", None)
    if created or not before:
        return
    after = {"kill_switch": instance.kill_switch, "leverage_limit": str(instance.leverage_limit)}
    before = {"kill_switch": before["kill_switch"], "leverage_limit": str(before["leverage_limit"])}
    if before != after:
        from bifrost_web.compliance.services import audit_record

        audit_record(actor=instance.owner.username, action="portfolio.limits.change", object_type="portfolio",
                     object_id=str(instance.pk), before=before, after=after)


def _logged_in(sender, request, user, **kwargs) -> None:
    from bifrost_web.compliance.services import audit_record

    audit_record(actor=user.username, action="auth.login", object_type="user", object_id=str(user.pk))


def _login_failed(sender, credentials, request=None, **kwargs) -> None:
    from bifrost_web.compliance.services import audit_record

    audit_record(actor=str(credentials.get("username", ""))[:150] or "unknown", action="auth.login_failed",
                 object_type="user")


def connect() -> None:
    post_save.connect(_order_saved, sender=tr_models.Order, dispatch_uid=f"{_UID}-order")
    post_save.connect(_order_event_saved, sender=tr_models.OrderEventRecord, dispatch_uid=f"{_UID}-order-event")
    pre_save.connect(_portfolio_presave, sender=tr_models.Portfolio, dispatch_uid=f"{_UID}-portfolio-pre")
    post_save.connect(_portfolio_saved, sender=tr_models.Portfolio, dispatch_uid=f"{_UID}-portfolio")
    user_logged_in.connect(_logged_in, dispatch_uid=f"{_UID}-login")
    user_login_failed.connect(_login_failed, dispatch_uid=f"{_UID}-login-failed")
