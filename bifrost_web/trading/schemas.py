"""Input and output schemas of the trading API. Money and quantities travel as strings."""

from __future__ import annotations

from datetime import UTC
from decimal import Decimal

from rest_framework import serializers

from bifrost.orders.types import OrderType, Side, TimeInForce
from bifrost.portfolio.lots import LotMethod
from bifrost_web.trading import models

DEC = {"max_digits": 24, "decimal_places": 6, "coerce_to_string": True}


class PortfolioIn(serializers.Serializer):
    name = serializers.CharField(max_length=100)
    base_currency = serializers.CharField(max_length=3, default="USD")
    account_type = serializers.ChoiceField(choices=["cash", "margin"], default="cash")
    leverage_limit = serializers.DecimalField(max_digits=6, decimal_places=2, default="1")
    lot_method = serializers.ChoiceField(choices=["fifo", "lifo", "hifo", "specific"], default="fifo")
    tax_status = serializers.ChoiceField(choices=["taxable", "ira"], default="taxable")
    household = serializers.CharField(max_length=100, required=False, allow_blank=True)
    broker = serializers.ChoiceField(choices=["paper", "alpaca"], default="paper")


class PortfolioOut(serializers.ModelSerializer):
    household = serializers.CharField(source="household.name", default=None)

    class Meta:
        model = models.Portfolio
        fields = ["id", "name", "base_currency", "account_type", "leverage_limit", "maintenance_margin", "lot_method",
                  "tax_status", "household", "broker", "kill_switch", "kill_switch_reason", "created_at"]


class CashFlowIn(serializers.Serializer):
    kind = serializers.ChoiceField(choices=["deposit", "withdrawal", "fee", "interest", "dividend", "split"])
    amount = serializers.DecimalField(max_digits=24, decimal_places=6, required=False)
    symbol = serializers.CharField(max_length=32, required=False, allow_blank=True)
    per_share = serializers.DecimalField(max_digits=24, decimal_places=6, required=False)
    ratio = serializers.DecimalField(max_digits=12, decimal_places=6, required=False)
    ts_event = serializers.DateTimeField(required=False)
    entry_id = serializers.CharField(max_length=100, required=False)
    memo = serializers.CharField(max_length=200, required=False, allow_blank=True, default="")


class LedgerLineOut(serializers.ModelSerializer):
    amount = serializers.DecimalField(**DEC)

    class Meta:
        model = models.LedgerLine
        fields = ["account", "currency", "amount"]


class LedgerEntryOut(serializers.ModelSerializer):
    lines = LedgerLineOut(many=True, read_only=True)
    quantity = serializers.DecimalField(**DEC, allow_null=True)
    price = serializers.DecimalField(**DEC, allow_null=True)
    amount = serializers.DecimalField(**DEC, allow_null=True)

    class Meta:
        model = models.LedgerEntry
        fields = ["entry_id", "kind", "ts_event", "ts_recorded", "description", "symbol", "quantity", "price", "amount",
                  "lines"]


class OrderIn(serializers.Serializer):
    client_order_id = serializers.CharField(max_length=64, required=False)
    symbol = serializers.CharField(max_length=32)
    side = serializers.ChoiceField(choices=[s.value for s in Side])
    quantity = serializers.DecimalField(max_digits=24, decimal_places=6)
    order_type = serializers.ChoiceField(choices=[t.value for t in OrderType], default="market")
    time_in_force = serializers.ChoiceField(choices=[t.value for t in TimeInForce], default="day")
    limit_price = serializers.DecimalField(max_digits=24, decimal_places=6, required=False)
    stop_price = serializers.DecimalField(max_digits=24, decimal_places=6, required=False)
    trail_amount = serializers.DecimalField(max_digits=24, decimal_places=6, required=False)
    trail_percent = serializers.DecimalField(max_digits=8, decimal_places=4, required=False)
    tag = serializers.CharField(max_length=64, required=False, default="")
    lot_method = serializers.ChoiceField(choices=[m.value for m in LotMethod], required=False,
                                         help_text="Override the portfolio's lot method for the lots this order "
                                                   "closes (specific needs lot_ids).")
    lot_ids = serializers.ListField(child=serializers.CharField(max_length=64), required=False, max_length=100,
                                    help_text="Lots to relieve first, in this order (specific identification).")


class OrderEventOut(serializers.ModelSerializer):
    class Meta:
        model = models.OrderEventRecord
        fields = ["kind", "ts_event", "ts_recorded", "reason", "details"]


class OrderOut(serializers.ModelSerializer):
    quantity = serializers.DecimalField(**DEC)
    filled_quantity = serializers.DecimalField(**DEC)
    limit_price = serializers.DecimalField(**DEC, allow_null=True)
    stop_price = serializers.DecimalField(**DEC, allow_null=True)
    avg_fill_price = serializers.DecimalField(**DEC, allow_null=True)
    events = OrderEventOut(many=True, read_only=True)

    class Meta:
        model = models.Order
        fields = ["client_order_id", "symbol", "side", "quantity", "order_type", "time_in_force", "limit_price",
                  "stop_price", "trail_amount", "trail_percent", "status", "filled_quantity", "avg_fill_price",
                  "venue", "venue_order_id", "reject_reason", "tag", "lot_method", "lot_ids", "created_at",
                  "updated_at", "events"]


def _decimal_text(value, places: int) -> str | None:
    if value is None:
        return None
    value = value if isinstance(value, Decimal) else Decimal(str(value))
    return f"{value.quantize(Decimal(1).scaleb(-places)):f}"


def _instant_text(value) -> str:
    text = value.astimezone(UTC).isoformat()
    return text[:-6] + "Z" if text.endswith("+00:00") else text


def order_payload(order: models.Order, events) -> dict:
    """What :class:`OrderOut` gives for ``order`` with its ``events``, built directly.

    Order entry answers with this: building the DRF serializer's fields costs more than the
    rest of a paper order's checks. ``tests/web/trading`` keeps the two identical.
    """
    return {
        "client_order_id": order.client_order_id, "symbol": order.symbol, "side": order.side,
        "quantity": _decimal_text(order.quantity, 6), "order_type": order.order_type,
        "time_in_force": order.time_in_force, "limit_price": _decimal_text(order.limit_price, 6),
        "stop_price": _decimal_text(order.stop_price, 6), "trail_amount": _decimal_text(order.trail_amount, 6),
        "trail_percent": _decimal_text(order.trail_percent, 4), "status": order.status,
        "filled_quantity": _decimal_text(order.filled_quantity, 6),
        "avg_fill_price": _decimal_text(order.avg_fill_price, 6), "venue": order.venue,
        "venue_order_id": order.venue_order_id, "reject_reason": order.reject_reason, "tag": order.tag,
        "lot_method": order.lot_method, "lot_ids": list(order.lot_ids),
        "created_at": _instant_text(order.created_at), "updated_at": _instant_text(order.updated_at),
        "events": [{"kind": e.kind, "ts_event": _instant_text(e.ts_event), "ts_recorded": _instant_text(e.ts_recorded),
                    "reason": e.reason, "details": e.details} for e in events],
    }


class FillOut(serializers.ModelSerializer):
    client_order_id = serializers.CharField(source="order.client_order_id")
    quantity = serializers.DecimalField(**DEC)
    price = serializers.DecimalField(**DEC)
    commission = serializers.DecimalField(**DEC)
    fees = serializers.DecimalField(**DEC)

    class Meta:
        model = models.Fill
        fields = ["fill_id", "client_order_id", "symbol", "side", "quantity", "price", "commission", "fees",
                  "liquidity", "venue", "ts_event", "ts_recorded"]


class KillSwitchIn(serializers.Serializer):
    active = serializers.BooleanField()
    reason = serializers.CharField(max_length=200, required=False, allow_blank=True, default="")
