"""Input and output schemas of the execution-quality API (shape only; the domain enforces the rules)."""

from __future__ import annotations

from rest_framework import serializers

from bifrost_web.execquality import models


class TCAReportIn(serializers.Serializer):
    start = serializers.DateTimeField(required=False, allow_null=True, default=None)
    end = serializers.DateTimeField(required=False, allow_null=True, default=None)
    group_by = serializers.ListField(child=serializers.CharField(), required=False, default=None, allow_null=True)


class TCAReportOut(serializers.ModelSerializer):
    class Meta:
        model = models.TCAReport
        fields = ["id", "portfolio", "start", "end", "group_by", "status", "summary", "error", "created_at",
                  "finished_at"]


class TCAReportDetailOut(TCAReportOut):
    class Meta(TCAReportOut.Meta):
        fields = [*TCAReportOut.Meta.fields, "result"]


class CalibrationOut(serializers.ModelSerializer):
    class Meta:
        model = models.ImpactCalibration
        fields = ["id", "portfolio", "temporary", "permanent", "square_root", "observations", "exponent", "details",
                  "created_at"]


class RecommendIn(serializers.Serializer):
    symbol = serializers.CharField(max_length=32)
    side = serializers.ChoiceField(choices=["buy", "sell"])
    quantity = serializers.FloatField(min_value=0)
    urgency = serializers.ChoiceField(choices=["low", "medium", "high"], default="medium")
    minutes_to_close = serializers.FloatField(required=False, allow_null=True, default=None)
    adv = serializers.FloatField(required=False, allow_null=True, default=None)
    sigma_daily = serializers.FloatField(required=False, allow_null=True, default=None)
    price = serializers.FloatField(required=False, allow_null=True, default=None)
    spread_bps = serializers.FloatField(required=False, default=5.0)
    passive_fill_rate = serializers.FloatField(
        required=False, default=0.0, min_value=0.0, max_value=1.0,
        help_text="Share of the order expected to fill resting at the touch (from your TCA); 0 leaves passive "
                  "styles out.")
    adverse_selection_bps = serializers.FloatField(
        required=False, default=0.0, help_text="How far the mid moves against passive fills, bps (from your TCA).")


class ScheduleIn(serializers.Serializer):
    shares = serializers.FloatField()
    horizon_days = serializers.FloatField()
    periods = serializers.IntegerField()
    sigma = serializers.FloatField()
    eta = serializers.FloatField()
    gamma = serializers.FloatField(default=0.0)
    epsilon = serializers.FloatField(default=0.0)
    risk_aversion = serializers.FloatField(default=0.0)
    frontier_points = serializers.IntegerField(default=0, min_value=0, max_value=50)


class VenueIn(serializers.Serializer):
    name = serializers.CharField(max_length=32)
    taker_fee_per_share = serializers.DecimalField(max_digits=10, decimal_places=6)
    maker_rebate_per_share = serializers.DecimalField(max_digits=10, decimal_places=6)
    latency_ms = serializers.FloatField(default=1.0)
    fill_probability = serializers.FloatField(default=1.0)


class VenueOut(serializers.ModelSerializer):
    class Meta:
        model = models.VenueConfig
        fields = ["id", "name", "taker_fee_per_share", "maker_rebate_per_share", "latency_ms", "fill_probability"]


class QuoteIn(serializers.Serializer):
    venue = serializers.CharField()
    bid = serializers.FloatField()
    bid_size = serializers.FloatField()
    ask = serializers.FloatField()
    ask_size = serializers.FloatField()


class RouteIn(serializers.Serializer):
    side = serializers.ChoiceField(choices=["buy", "sell"])
    quantity = serializers.FloatField()
    quotes = QuoteIn(many=True)
    limit_price = serializers.FloatField(required=False, allow_null=True, default=None)
    latency_cost_per_ms = serializers.FloatField(default=0.0)


class AlgoOrderIn(serializers.Serializer):
    parent_id = serializers.CharField(max_length=48)
    symbol = serializers.CharField(max_length=32)
    side = serializers.ChoiceField(choices=["buy", "sell"])
    quantity = serializers.DecimalField(max_digits=24, decimal_places=6)
    algo = serializers.CharField(max_length=16)
    start = serializers.DateTimeField()
    end = serializers.DateTimeField()
    params = serializers.DictField(required=False, default=dict)
    limit_price = serializers.DecimalField(max_digits=24, decimal_places=6, required=False, allow_null=True,
                                           default=None)
    max_participation = serializers.FloatField(required=False, allow_null=True, default=None)
    on_kill_switch = serializers.ChoiceField(choices=["cancel", "pause"], default="cancel")


class AlgoOrderOut(serializers.ModelSerializer):
    class Meta:
        model = models.AlgoOrder
        fields = ["id", "parent_id", "symbol", "side", "quantity", "algo", "params", "start", "end", "limit_price",
                  "max_participation", "on_kill_switch", "state", "state_reason", "filled_quantity",
                  "children_sent", "created_at", "updated_at"]
