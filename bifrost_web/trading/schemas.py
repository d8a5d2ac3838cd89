"""Input and output schemas of the trading API. Money and quantities travel as strings."""

from __future__ import annotations

from rest_framework import serializers

from bifrost.orders.types import OrderType, Side, TimeInForce
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
                  "venue", "venue_order_id", "reject_reason", "tag", "created_at", "updated_at", "events"]


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
