"""Stored backtests and optimisation sweeps.

Storage layout, and why:

* ``Backtest`` holds what a person searches and lists by (strategy, symbols, period,
  status, headline metrics as JSON). It stays small, so the list page never loads
  a curve.
* ``BacktestSeries`` (one-to-one) holds the per-bar series (equity, benchmark,
  closes per symbol, positions) as compressed NumPy archives (``codec.py``): int64
  nanosecond timestamps and float64 values, bit-exact on the way back. A series is
  always read whole and never queried point by point, so one row per bar would
  only multiply rows (ten years of daily bars is 2,520 rows per backtest, times
  every sweep trial) and lose precision on the timestamps; JSON would triple the size
  and be slower to parse.
* ``BacktestFill`` and ``BacktestOrder`` are one row per fill and per order, because
  other services query them (fills of one symbol, orders rejected in a window) the
  way they query a portfolio's fills.
* ``Sweep``/``SweepTrial``: one row per trial with its parameters, metrics and its
  per-bar returns (an archive), which the deflated Sharpe ratio and the probability
  of backtest overfitting need.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models

MONEY = {"max_digits": 24, "decimal_places": 6}


class RunStatus(models.TextChoices):
    QUEUED = "queued"
    RUNNING = "running"
    DONE = "done"
    FAILED = "failed"


class Backtest(models.Model):
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="backtests")
    name = models.CharField(max_length=200, blank=True)
    strategy = models.CharField(max_length=200)
    params = models.JSONField(default=dict, blank=True)
    engine = models.CharField(max_length=50, default="bifrost")
    source = models.CharField(max_length=50, default="bifrost", help_text="bifrost, backtrader-import, sweep")
    symbols = models.JSONField(default=list)
    timeframe = models.CharField(max_length=10, default="1d")
    start = models.DateTimeField(null=True, blank=True, help_text="first bar time requested (UTC)")
    end = models.DateTimeField(null=True, blank=True, help_text="end of the requested range, exclusive (UTC)")
    initial_cash = models.DecimalField(**MONEY, default=100_000)
    commission_bps = models.FloatField(null=True, blank=True)
    benchmark_symbol = models.CharField(max_length=32, blank=True)
    status = models.CharField(max_length=10, choices=RunStatus.choices, default=RunStatus.QUEUED)
    error = models.TextField(blank=True)
    progress = models.FloatField(default=0.0, help_text="fraction done, 0 to 1")
    metrics = models.JSONField(default=dict, blank=True)
    final_equity = models.FloatField(null=True, blank=True)
    n_fills = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["owner", "-created_at"], name="backtest_owner_created")]

    def __str__(self) -> str:
        return f"{self.name or self.strategy} #{self.pk}"


class BacktestSeries(models.Model):
    """Per-bar series of a finished backtest, as compressed NumPy archives (see ``codec``)."""

    backtest = models.OneToOneField(Backtest, on_delete=models.CASCADE, primary_key=True, related_name="series")
    equity = models.BinaryField()
    benchmark = models.BinaryField(null=True)
    prices = models.BinaryField(null=True)
    positions = models.BinaryField(null=True)
    n_points = models.PositiveIntegerField()


class BacktestFill(models.Model):
    backtest = models.ForeignKey(Backtest, on_delete=models.CASCADE, related_name="fills")
    seq = models.PositiveIntegerField(help_text="row order in the record")
    ts = models.DateTimeField()
    symbol = models.CharField(max_length=32)
    side = models.CharField(max_length=4)
    quantity = models.FloatField()
    price = models.FloatField()
    commission = models.FloatField()
    fees = models.FloatField()
    order_id = models.CharField(max_length=100, blank=True)
    fill_id = models.CharField(max_length=100, blank=True)
    extra = models.JSONField(null=True, blank=True, help_text="engine-specific columns beyond the standard ones")

    class Meta:
        ordering = ["backtest", "seq"]
        constraints = [models.UniqueConstraint(fields=["backtest", "seq"], name="backtest_fill_unique_seq")]
        indexes = [models.Index(fields=["backtest", "symbol", "ts"], name="backtest_fill_symbol_ts")]


class BacktestOrder(models.Model):
    backtest = models.ForeignKey(Backtest, on_delete=models.CASCADE, related_name="orders")
    seq = models.PositiveIntegerField()
    order_id = models.CharField(max_length=100, blank=True)
    ts_submitted = models.DateTimeField(null=True)
    symbol = models.CharField(max_length=32)
    side = models.CharField(max_length=4)
    order_type = models.CharField(max_length=20)
    quantity = models.FloatField()
    limit_price = models.FloatField(null=True)
    stop_price = models.FloatField(null=True)
    status = models.CharField(max_length=20)
    reason = models.TextField(blank=True)
    extra = models.JSONField(null=True, blank=True)

    class Meta:
        ordering = ["backtest", "seq"]
        constraints = [models.UniqueConstraint(fields=["backtest", "seq"], name="backtest_order_unique_seq")]
        indexes = [models.Index(fields=["backtest", "status"], name="backtest_order_status")]


class SweepMethod(models.TextChoices):
    GRID = "grid"
    RANDOM = "random"
    OPTUNA = "optuna"


class Sweep(models.Model):
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="sweeps")
    name = models.CharField(max_length=200, blank=True)
    strategy = models.CharField(max_length=200)
    method = models.CharField(max_length=10, choices=SweepMethod.choices)
    space = models.JSONField(help_text="parameter space: lists, or {low, high[, step, log]} ranges")
    fixed_params = models.JSONField(default=dict, blank=True)
    objective = models.CharField(max_length=50, default="sharpe_ratio")
    maximize = models.BooleanField(default=True)
    n_trials = models.PositiveIntegerField()
    seed = models.BigIntegerField(default=0)
    chunk_size = models.PositiveIntegerField(default=8)
    symbols = models.JSONField(default=list)
    timeframe = models.CharField(max_length=10, default="1d")
    start = models.DateTimeField(null=True, blank=True)
    end = models.DateTimeField(null=True, blank=True)
    initial_cash = models.DecimalField(**MONEY, default=100_000)
    commission_bps = models.FloatField(null=True, blank=True)
    status = models.CharField(max_length=10, choices=RunStatus.choices, default=RunStatus.QUEUED)
    error = models.TextField(blank=True)
    trials_done = models.PositiveIntegerField(default=0)
    best_params = models.JSONField(null=True, blank=True)
    best_value = models.FloatField(null=True, blank=True)
    best_trial = models.PositiveIntegerField(null=True, blank=True)
    deflated_sharpe = models.JSONField(null=True, blank=True)
    pbo = models.JSONField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.name or self.strategy} sweep #{self.pk}"

    @property
    def progress(self) -> float:
        return self.trials_done / self.n_trials if self.n_trials else 0.0


class SweepTrial(models.Model):
    sweep = models.ForeignKey(Sweep, on_delete=models.CASCADE, related_name="trials")
    number = models.PositiveIntegerField()
    params = models.JSONField()
    status = models.CharField(max_length=10, choices=RunStatus.choices, default=RunStatus.QUEUED)
    error = models.TextField(blank=True)
    value = models.FloatField(null=True, blank=True, help_text="the sweep's objective for this trial")
    metrics = models.JSONField(default=dict, blank=True)
    returns = models.BinaryField(null=True, help_text="per-bar returns (codec archive) for DSR and PBO")
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["sweep", "number"]
        constraints = [models.UniqueConstraint(fields=["sweep", "number"], name="sweep_trial_unique_number")]
