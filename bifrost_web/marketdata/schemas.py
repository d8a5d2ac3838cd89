"""Input and output schemas of the market-data API."""

from __future__ import annotations

from rest_framework import serializers

from bifrost.marketdata.types import Timeframe
from bifrost_web.marketdata import models

TIMEFRAME_CHOICES = [t.value for t in Timeframe]


class InstrumentOut(serializers.ModelSerializer):
    class Meta:
        model = models.Instrument
        fields = ["symbol", "name", "exchange", "currency", "asset_class", "sector", "industry", "country",
                  "shares_outstanding", "calendar", "source", "updated_at"]


class SeriesOut(serializers.Serializer):
    timeframe = serializers.CharField()
    bars = serializers.IntegerField()
    first_ts = serializers.DateTimeField()
    last_ts = serializers.DateTimeField()


class InstrumentDetailOut(InstrumentOut):
    series = SeriesOut(many=True, read_only=True)

    class Meta(InstrumentOut.Meta):
        fields = [*InstrumentOut.Meta.fields, "series"]


class BarsQuery(serializers.Serializer):
    timeframe = serializers.ChoiceField(choices=TIMEFRAME_CHOICES, default="1d")
    start = serializers.DateTimeField(required=False)
    end = serializers.DateTimeField(required=False)
    adjust = serializers.ChoiceField(choices=["none", "splits", "all"], default="none")
    limit = serializers.IntegerField(required=False, min_value=1, max_value=1_000_000)

    def validate(self, attrs):
        start, end = attrs.get("start"), attrs.get("end")
        if start and end and start >= end:
            raise serializers.ValidationError(
                {"start": f"start {start.isoformat()} must be before end {end.isoformat()}"})
        return attrs


class BarsOut(serializers.Serializer):
    symbol = serializers.CharField()
    timeframe = serializers.CharField()
    adjust = serializers.CharField()
    ts = serializers.ListField(child=serializers.DateTimeField())
    open = serializers.ListField(child=serializers.FloatField())
    high = serializers.ListField(child=serializers.FloatField())
    low = serializers.ListField(child=serializers.FloatField())
    close = serializers.ListField(child=serializers.FloatField())
    volume = serializers.ListField(child=serializers.FloatField())


class SnapshotOut(serializers.ModelSerializer):
    class Meta:
        model = models.CompanySnapshot
        exclude = ["id", "instrument", "raw"]


class ActionOut(serializers.ModelSerializer):
    value = serializers.DecimalField(max_digits=20, decimal_places=8, coerce_to_string=True)

    class Meta:
        model = models.CorporateAction
        fields = ["ex_date", "kind", "value", "currency", "source"]


class ImportIn(serializers.Serializer):
    file = serializers.FileField()
    symbol = serializers.CharField(required=False, max_length=32)
    timeframe = serializers.ChoiceField(choices=TIMEFRAME_CHOICES, required=False)
    tz = serializers.CharField(required=False, max_length=64)
    gap_policy = serializers.ChoiceField(choices=["reject", "warn", "ignore"], required=False)


class IngestResultOut(serializers.Serializer):
    symbol = serializers.CharField()
    timeframe = serializers.CharField()
    rows = serializers.IntegerField()
    method = serializers.CharField()
    actions = serializers.IntegerField()
    first_ts = serializers.DateTimeField(allow_null=True)
    last_ts = serializers.DateTimeField(allow_null=True)
    warnings = serializers.ListField(child=serializers.CharField())


class RefreshIn(serializers.Serializer):
    symbol = serializers.CharField(max_length=32)
    timeframe = serializers.ChoiceField(choices=TIMEFRAME_CHOICES, default="1d")
    start = serializers.DateTimeField()
    end = serializers.DateTimeField()
    snapshot = serializers.BooleanField(default=False)

    def validate(self, attrs):
        if attrs["start"] >= attrs["end"]:
            raise serializers.ValidationError(
                {"start": f"start {attrs['start'].isoformat()} must be before end {attrs['end'].isoformat()}"})
        return attrs


class TaskOut(serializers.Serializer):
    task_id = serializers.CharField()
    state = serializers.CharField()


class IngestRunOut(serializers.ModelSerializer):
    class Meta:
        model = models.IngestRun
        fields = ["id", "source", "symbol", "timeframe", "status", "rows", "message", "details", "started_at",
                  "finished_at"]
