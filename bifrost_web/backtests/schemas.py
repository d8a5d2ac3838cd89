"""Input and output schemas of the backtests API."""

from __future__ import annotations

from rest_framework import serializers

from bifrost_web.backtests import models

DEC = {"max_digits": 24, "decimal_places": 6, "coerce_to_string": True}


class BacktestIn(serializers.Serializer):
    strategy = serializers.CharField(max_length=200)
    symbols = serializers.ListField(child=serializers.CharField(max_length=32), min_length=1, max_length=500)
    timeframe = serializers.CharField(max_length=10, default="1d")
    start = serializers.DateTimeField(required=False, allow_null=True)
    end = serializers.DateTimeField(required=False, allow_null=True)
    params = serializers.DictField(required=False, default=dict)
    cash = serializers.DecimalField(max_digits=24, decimal_places=6, default="100000")
    commission_bps = serializers.FloatField(required=False, allow_null=True, min_value=0)
    benchmark = serializers.CharField(max_length=32, required=False, allow_blank=True, allow_null=True)
    name = serializers.CharField(max_length=200, required=False, allow_blank=True, default="")


class BacktestOut(serializers.ModelSerializer):
    initial_cash = serializers.DecimalField(**DEC)

    class Meta:
        model = models.Backtest
        fields = ["id", "name", "strategy", "params", "engine", "source", "symbols", "timeframe", "start", "end",
                  "initial_cash", "commission_bps", "benchmark_symbol", "status", "error", "progress", "final_equity",
                  "n_fills", "created_at", "started_at", "finished_at"]


class BacktestDetailOut(BacktestOut):
    class Meta(BacktestOut.Meta):
        fields = [*BacktestOut.Meta.fields, "metrics"]


class SweepIn(serializers.Serializer):
    strategy = serializers.CharField(max_length=200)
    method = serializers.ChoiceField(choices=models.SweepMethod.values)
    space = serializers.DictField()
    symbols = serializers.ListField(child=serializers.CharField(max_length=32), min_length=1, max_length=500)
    timeframe = serializers.CharField(max_length=10, default="1d")
    start = serializers.DateTimeField(required=False, allow_null=True)
    end = serializers.DateTimeField(required=False, allow_null=True)
    n_trials = serializers.IntegerField(required=False, allow_null=True, min_value=1)
    objective = serializers.CharField(max_length=50, default="sharpe_ratio")
    maximize = serializers.BooleanField(default=True)
    seed = serializers.IntegerField(default=0)
    chunk_size = serializers.IntegerField(default=8, min_value=1, max_value=1000)
    fixed_params = serializers.DictField(required=False, default=dict)
    cash = serializers.DecimalField(max_digits=24, decimal_places=6, default="100000")
    commission_bps = serializers.FloatField(required=False, allow_null=True, min_value=0)
    name = serializers.CharField(max_length=200, required=False, allow_blank=True, default="")


class SweepOut(serializers.ModelSerializer):
    initial_cash = serializers.DecimalField(**DEC)
    progress = serializers.FloatField(read_only=True)

    class Meta:
        model = models.Sweep
        fields = ["id", "name", "strategy", "method", "space", "fixed_params", "objective", "maximize", "n_trials",
                  "trials_done", "progress", "seed", "chunk_size", "symbols", "timeframe", "start", "end",
                  "initial_cash", "commission_bps", "status", "error", "best_params", "best_value", "best_trial",
                  "deflated_sharpe", "pbo", "created_at", "finished_at"]


class SweepTrialOut(serializers.ModelSerializer):
    class Meta:
        model = models.SweepTrial
        fields = ["number", "params", "status", "error", "value", "metrics", "finished_at"]
