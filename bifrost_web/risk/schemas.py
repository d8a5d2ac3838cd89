"""Input and output schemas of the risk API. Limit levels travel as strings (exact decimals)."""

from __future__ import annotations

from rest_framework import serializers

from bifrost.risk import HISTORICAL_SCENARIOS
from bifrost.risk.limits import LimitKind


class LimitIn(serializers.Serializer):
    kind = serializers.ChoiceField(choices=[k.value for k in LimitKind])
    soft = serializers.DecimalField(max_digits=24, decimal_places=8, required=False, allow_null=True)
    hard = serializers.DecimalField(max_digits=24, decimal_places=8, required=False, allow_null=True)
    params = serializers.DictField(required=False, default=dict)


class LimitOut(serializers.Serializer):
    id = serializers.IntegerField()
    kind = serializers.CharField()
    key = serializers.CharField()
    soft = serializers.CharField(allow_null=True)
    hard = serializers.CharField(allow_null=True)
    params = serializers.DictField()
    scope = serializers.CharField()


class LimitSetIn(serializers.Serializer):
    active = serializers.BooleanField(required=False)
    confidence = serializers.FloatField(required=False, min_value=0.5, max_value=0.9999)
    horizon_days = serializers.IntegerField(required=False, min_value=1, max_value=250)
    lookback_days = serializers.IntegerField(required=False, min_value=20, max_value=5000)
    webhook_url = serializers.URLField(required=False, allow_blank=True)
    email_alerts = serializers.BooleanField(required=False)


class AlertOut(serializers.Serializer):
    id = serializers.IntegerField()
    rule = serializers.CharField()
    severity = serializers.CharField()
    message = serializers.CharField()
    numbers = serializers.DictField()
    portfolio = serializers.IntegerField(allow_null=True)
    household = serializers.IntegerField(allow_null=True)
    first_seen = serializers.CharField()
    last_seen = serializers.CharField()
    occurrences = serializers.IntegerField()
    acknowledged = serializers.BooleanField()
    acknowledged_at = serializers.CharField(allow_null=True)


class StressIn(serializers.Serializer):
    scenarios = serializers.ListField(child=serializers.ChoiceField(choices=list(HISTORICAL_SCENARIOS)),
                                      required=False)
    index_shocks = serializers.ListField(child=serializers.FloatField(min_value=-0.99, max_value=5), required=False,
                                         default=list)
    sector_shocks = serializers.DictField(child=serializers.FloatField(min_value=-1, max_value=5), required=False)
    factor_moves = serializers.DictField(child=serializers.FloatField(min_value=-0.99, max_value=5), required=False)
    volatility_factor = serializers.FloatField(required=False, min_value=0.01, max_value=100)
    correlation_to_one = serializers.BooleanField(required=False, default=False)
    reverse_loss_pct = serializers.FloatField(required=False, min_value=0.0001, max_value=1)


class CheckIn(serializers.Serializer):
    symbol = serializers.CharField(max_length=32)
    side = serializers.ChoiceField(choices=["buy", "sell"])
    quantity = serializers.DecimalField(max_digits=24, decimal_places=6)
    limit_price = serializers.DecimalField(max_digits=24, decimal_places=6, required=False)


class TargetsIn(serializers.Serializer):
    targets = serializers.DictField(child=serializers.FloatField(min_value=-10, max_value=10), allow_empty=False)
    level = serializers.ChoiceField(choices=["hard", "soft"], default="hard")
