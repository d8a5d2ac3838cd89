"""Backtest and sweep use cases: validate, load bars, call the engine, store.

Writes of a finished run happen in one transaction: a failed run leaves its row
``failed`` with the error and no fills, orders or series. Progress is written
outside that transaction, so other processes (the CLI, the portal) see it move.
"""

from __future__ import annotations

import dataclasses
import logging
import math
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

import numpy as np
import pandas as pd
from django.db import transaction
from django.utils import timezone

from bifrost.backtest.results import FILL_COLUMNS, ORDER_COLUMNS, BacktestRecord
from bifrost.core.errors import InvalidInput
from bifrost.marketdata.types import Timeframe, normalize_symbol
from bifrost_web.backtests import codec, models, selectors, space

logger = logging.getLogger("bifrost.backtests")

Progress = Callable[[int, int], None]
_FILL_FLOATS = ("quantity", "price", "commission", "fees")
_ORDER_FLOATS = ("quantity", "limit_price", "stop_price")


# --------------------------------------------------------------------------- engine access

def strategy_class(name: str):
    """The registered strategy ``name`` (``InvalidInput`` listing the known ones otherwise)."""
    import bifrost.backtest  # noqa: F401  (registers the shipped strategies)
    from bifrost.backtest.strategy import strategy_class as lookup

    if not isinstance(name, str) or not name:
        raise InvalidInput("strategy is required (a registered name such as sma_crossover)")
    return lookup(name)


def strategy_params(name: str, params: Mapping[str, Any] | None) -> dict[str, Any]:
    """Validate ``params`` against strategy ``name``; return all its parameters, defaults filled in."""
    cls = strategy_class(name)
    return cls(**dict(params or {})).parameters()


def _engine_run(strategy: str, data: Mapping[str, pd.DataFrame], *, params: Mapping[str, Any], timeframe: str,
                cash: float, commission_bps: float | None, progress: Progress | None) -> BacktestRecord:
    from bifrost.backtest import run

    return run(strategy, dict(data), params=dict(params), timeframe=timeframe, cash=cash,
               commission_bps=commission_bps, progress=progress)


# --------------------------------------------------------------------------- validation

def normalize_symbols(symbols: Sequence[str] | str) -> list[str]:
    from bifrost_web.marketdata.models import Instrument

    if isinstance(symbols, str):
        symbols = [s for s in symbols.replace(",", " ").split() if s]
    if not symbols:
        raise InvalidInput("symbols: give at least one symbol")
    out = []
    for raw in symbols:
        try:
            symbol = normalize_symbol(str(raw))
        except (InvalidInput, ValueError) as exc:
            raise InvalidInput(f"symbols: {raw!r} is not a valid symbol ({exc})") from None
        if symbol not in out:
            out.append(symbol)
    known = set(Instrument.objects.filter(symbol__in=out).values_list("symbol", flat=True))
    missing = [s for s in out if s not in known]
    if missing:
        raise InvalidInput(f"unknown symbol(s) {missing}: ingest them first (bifrost data ingest)")
    return out


def _timeframe(value: str) -> str:
    try:
        return Timeframe.parse(value).value
    except (InvalidInput, ValueError):
        raise InvalidInput(f"timeframe {value!r} is not one of {[t.value for t in Timeframe]}") from None


def _instant(value: datetime | str | None, field: str) -> datetime | None:
    if value is None or value == "":
        return None
    if isinstance(value, str):
        try:
            value = datetime.fromisoformat(value)
        except ValueError:
            raise InvalidInput(f"{field} must be an ISO date such as 2024-01-31, was {value!r}") from None
    if not isinstance(value, datetime):  # a date
        value = datetime(value.year, value.month, value.day)
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def parse_period(start, end) -> tuple[datetime | None, datetime | None]:
    start, end = _instant(start, "start"), _instant(end, "end")
    if start is not None and end is not None and start >= end:
        raise InvalidInput(f"start {start.date()} must be before end {end.date()}")
    return start, end


def _cash(cash) -> Decimal:
    try:
        value = Decimal(str(cash))
    except (InvalidOperation, ValueError):
        raise InvalidInput(f"cash must be a number, was {cash!r}") from None
    if not value.is_finite() or value <= 0:
        raise InvalidInput(f"cash must be positive, was {cash!r}")
    return value


def _commission(commission_bps) -> float | None:
    if commission_bps is None or commission_bps == "":
        return None
    try:
        value = float(commission_bps)
    except (TypeError, ValueError):
        raise InvalidInput(f"commission_bps must be a number, was {commission_bps!r}") from None
    if not math.isfinite(value) or value < 0:
        raise InvalidInput(f"commission_bps must be zero or positive, was {commission_bps!r}")
    return value


def load_bars(*, symbols: Sequence[str], timeframe: str, start: datetime | None,
              end: datetime | None) -> dict[str, pd.DataFrame]:
    """Bars per symbol from the bar store for ``[start, end)``; ``InvalidInput`` if one has none."""
    from bifrost.core.errors import NoDataInRange
    from bifrost_web.marketdata.selectors import bars_read

    data = {}
    for symbol in symbols:
        try:
            bars = bars_read(symbol=symbol, timeframe=timeframe, start=start, end=end)
        except NoDataInRange as exc:
            raise InvalidInput(exc.message) from None
        if bars.empty:
            span = f"{start.date() if start else '…'} to {end.date() if end else '…'}"
            raise InvalidInput(f"{symbol} has no {timeframe} bars from {span}")
        data[symbol] = bars
    return data


# --------------------------------------------------------------------------- metrics

def _json_safe(value: Any) -> Any:
    if isinstance(value, Mapping):
        return {str(k): _json_safe(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_json_safe(v) for v in value]
    if isinstance(value, (np.integer,)):
        return int(value)
    if isinstance(value, (float, np.floating)):
        return float(value) if math.isfinite(value) else None
    if isinstance(value, (pd.Timestamp, datetime)):
        return value.isoformat()
    if value is None or isinstance(value, (str, bool, int)):
        return value
    if isinstance(value, Decimal):
        return str(value)
    return str(value)  # e.g. a class passed as a Backtrader parameter: kept readable, not executable


def record_report(record: BacktestRecord):
    """The record's :class:`PerformanceReport` (``BacktestRecord.report``)."""
    return record.report()


def record_metrics(record: BacktestRecord) -> dict[str, Any]:
    """Headline metrics of a record as JSON-safe values (non-finite ratios become ``None``)."""
    metrics = record_report(record).to_dict()
    metrics.pop("monthly_returns", None)
    metrics.update(final_equity=record.final_equity, initial_cash=record.initial_cash,
                   fees_paid=record.fees_paid(), n_fills=len(record.fills), n_orders=len(record.orders),
                   n_bars=len(record.equity))
    return _json_safe(metrics)


# --------------------------------------------------------------------------- storage

def _ts(value, what: str) -> datetime | None:
    if value is None or (not isinstance(value, datetime) and pd.isna(value)):
        return None
    stamp = pd.Timestamp(value)
    if stamp.tzinfo is None:
        raise InvalidInput(f"{what} timestamps must be timezone-aware, was {value!r}")
    if stamp.nanosecond:
        raise InvalidInput(f"{what} timestamp {stamp} has sub-microsecond precision, which the database cannot keep")
    return stamp.tz_convert("UTC").to_pydatetime()


def _float_or_none(value) -> float | None:
    if value is None:
        return None
    value = float(value)
    return None if math.isnan(value) else value


def _extras(frame: pd.DataFrame, standard: tuple[str, ...]) -> list[dict | None]:
    extra_columns = [c for c in frame.columns if c not in standard]
    if not extra_columns:
        return [None] * len(frame)
    rows = frame[extra_columns].to_dict("records")
    return [_json_safe(r) for r in rows]


def _write_record(backtest: models.Backtest, record: BacktestRecord) -> None:
    fills, orders = record.fills.reset_index(drop=True), record.orders.reset_index(drop=True)
    fill_extras = _extras(fills, FILL_COLUMNS)
    models.BacktestFill.objects.bulk_create([
        models.BacktestFill(
            backtest=backtest, seq=i, ts=_ts(row.ts, "fill"), symbol=str(row.symbol), side=str(row.side),
            quantity=float(row.quantity), price=float(row.price), commission=float(row.commission),
            fees=float(row.fees), order_id="" if pd.isna(row.order_id) else str(row.order_id),
            fill_id="" if pd.isna(row.fill_id) else str(row.fill_id), extra=fill_extras[i])
        for i, row in enumerate(fills[list(FILL_COLUMNS)].itertuples(index=False))
    ], batch_size=2000)
    order_extras = _extras(orders, ORDER_COLUMNS)
    models.BacktestOrder.objects.bulk_create([
        models.BacktestOrder(
            backtest=backtest, seq=i, order_id="" if pd.isna(row.order_id) else str(row.order_id),
            ts_submitted=_ts(row.ts_submitted, "order"), symbol=str(row.symbol), side=str(row.side),
            order_type=str(row.order_type), quantity=float(row.quantity),
            limit_price=_float_or_none(row.limit_price), stop_price=_float_or_none(row.stop_price),
            status=str(row.status), reason="" if row.reason is None or pd.isna(row.reason) else str(row.reason),
            extra=order_extras[i])
        for i, row in enumerate(orders[list(ORDER_COLUMNS)].itertuples(index=False))
    ], batch_size=2000)
    models.BacktestSeries.objects.create(
        backtest=backtest, n_points=len(record.equity),
        equity=codec.series_to_bytes(record.equity, what="equity"),
        benchmark=None if record.benchmark is None else codec.series_to_bytes(record.benchmark, what="benchmark"),
        prices=None if record.prices is None else codec.frame_to_bytes(record.prices, what="prices"),
        positions=None if record.positions is None else codec.frame_to_bytes(record.positions, what="positions"))
    backtest.engine = record.engine or backtest.engine
    backtest.strategy = record.strategy or backtest.strategy
    backtest.params = _json_safe(dict(record.params))
    backtest.symbols = list(record.symbols) or backtest.symbols
    backtest.timeframe = record.timeframe or backtest.timeframe
    backtest.initial_cash = _cash(record.initial_cash)
    backtest.metrics = record_metrics(record)
    backtest.final_equity = record.final_equity
    backtest.n_fills = len(fills)
    backtest.status = models.RunStatus.DONE
    backtest.progress = 1.0
    backtest.error = ""
    backtest.finished_at = timezone.now()
    backtest.save()


def backtest_store_record(*, user, record: BacktestRecord, name: str = "", source: str = "bifrost",
                          start: datetime | None = None, end: datetime | None = None,
                          commission_bps: float | None = None) -> models.Backtest:
    """Store a finished :class:`BacktestRecord` (e.g. an imported Backtrader run) for ``user``.

    Raises
    ------
    InvalidInput
        If the record cannot be stored exactly (naive or sub-microsecond timestamps).
    """
    if not isinstance(record, BacktestRecord):
        raise InvalidInput(f"expected a BacktestRecord, got {type(record).__name__}")
    if not source or len(source) > 50:
        raise InvalidInput(f"source must be a short label such as bifrost or backtrader-import, was {source!r}")
    with transaction.atomic():
        backtest = models.Backtest.objects.create(
            owner=user, name=name[:200], strategy=record.strategy or "(unnamed)", source=source,
            engine=record.engine, symbols=list(record.symbols), timeframe=record.timeframe,
            start=start or record.start.to_pydatetime(), end=end or record.end.to_pydatetime(),
            commission_bps=_commission(commission_bps), status=models.RunStatus.RUNNING,
            started_at=timezone.now())
        _write_record(backtest, record)
    return backtest


# --------------------------------------------------------------------------- running

def backtest_create(*, user, strategy: str, symbols: Sequence[str] | str, timeframe: str = "1d",
                    start: datetime | str | None = None, end: datetime | str | None = None,
                    params: Mapping[str, Any] | None = None, cash: Any = 100_000,
                    commission_bps: Any = None, benchmark: str | None = None, name: str = "") -> models.Backtest:
    """Validate a backtest request and store it as ``queued``.

    Raises
    ------
    InvalidInput
        Naming the unknown strategy, parameter or symbol, or the bad period, cash or commission.
    """
    merged = strategy_params(strategy, params)
    symbol_list = normalize_symbols(symbols)
    bench = normalize_symbols([benchmark])[0] if benchmark else ""
    start_dt, end_dt = parse_period(start, end)
    return models.Backtest.objects.create(
        owner=user, name=(name or f"{strategy} {' '.join(symbol_list)}")[:200], strategy=strategy,
        params=_json_safe(merged), symbols=symbol_list, timeframe=_timeframe(timeframe), start=start_dt, end=end_dt,
        initial_cash=_cash(cash), commission_bps=_commission(commission_bps), benchmark_symbol=bench)


def backtest_submit(*, user, **request: Any) -> models.Backtest:
    """Create a queued backtest and run it on a Celery worker once the transaction commits."""
    from bifrost_web.backtests import tasks

    with transaction.atomic():
        backtest = backtest_create(user=user, **request)
        transaction.on_commit(lambda: tasks.backtest_execute.delay(backtest.pk))
    return backtest


def _benchmark_returns(symbol: str, timeframe: str, index: pd.DatetimeIndex, start, end) -> pd.Series:
    closes = load_bars(symbols=[symbol], timeframe=timeframe, start=start, end=end)[symbol]["close"]
    closes = closes.reindex(closes.index.union(index)).ffill().reindex(index)
    return closes.pct_change().fillna(0.0).rename(symbol)


class _ProgressWriter:
    """Write a run's progress to its row at most every half second (outside the result transaction)."""

    def __init__(self, backtest_id: int, forward: Progress | None) -> None:
        self.backtest_id, self.forward, self.last = backtest_id, forward, 0.0

    def __call__(self, done: int, total: int) -> None:
        if self.forward is not None:
            self.forward(done, total)
        now = time.monotonic()
        if total and (now - self.last >= 0.5 or done >= total):
            self.last = now
            models.Backtest.objects.filter(pk=self.backtest_id).update(progress=min(1.0, done / total))


def backtest_execute(*, backtest_id: int, progress: Progress | None = None) -> models.Backtest:
    """Run a queued backtest and store its record; on failure mark it ``failed`` with the error.

    Idempotent: a backtest that is already done is returned unchanged (a re-delivered task).
    """
    backtest = models.Backtest.objects.get(pk=backtest_id)
    if backtest.status == models.RunStatus.DONE:
        return backtest
    models.Backtest.objects.filter(pk=backtest_id).update(status=models.RunStatus.RUNNING,
                                                          started_at=timezone.now(), progress=0.0, error="")
    try:
        data = load_bars(symbols=backtest.symbols, timeframe=backtest.timeframe, start=backtest.start,
                         end=backtest.end)
        record = _engine_run(backtest.strategy, data, params=backtest.params, timeframe=backtest.timeframe,
                             cash=float(backtest.initial_cash), commission_bps=backtest.commission_bps,
                             progress=_ProgressWriter(backtest_id, progress))
        if backtest.benchmark_symbol and record.benchmark is None:
            record = dataclasses.replace(record, benchmark=_benchmark_returns(
                backtest.benchmark_symbol, backtest.timeframe, record.equity.index, backtest.start, backtest.end))
        with transaction.atomic():
            backtest = models.Backtest.objects.select_for_update().get(pk=backtest_id)
            models.BacktestSeries.objects.filter(backtest=backtest).delete()
            backtest.fills.all().delete()
            backtest.orders.all().delete()
            _write_record(backtest, record)
    except Exception as exc:
        message = getattr(exc, "message", None) or f"{type(exc).__name__}: {exc}"
        models.Backtest.objects.filter(pk=backtest_id).update(status=models.RunStatus.FAILED, error=message,
                                                              finished_at=timezone.now())
        if not isinstance(exc, InvalidInput):
            logger.exception("backtest %s failed", backtest_id)
        raise
    return backtest


def backtest_run(*, user, strategy: str, symbols: Sequence[str] | str, timeframe: str = "1d",
                 start: datetime | str | None = None, end: datetime | str | None = None,
                 params: Mapping[str, Any] | None = None, cash: Any = 100_000, commission_bps: Any = None,
                 benchmark: str | None = None, name: str = "", progress: Progress | None = None) -> models.Backtest:
    """Validate, run in this process, and store a backtest; return the stored row.

    Loads bars from the bar store, runs ``bifrost.backtest.run`` and stores the
    :class:`BacktestRecord`: fills and orders one row each, series as archives.

    Raises
    ------
    InvalidInput
        Bad request (nothing is stored), or a failure of the run itself (the row is
        kept as ``failed`` with the message).
    """
    backtest = backtest_create(user=user, strategy=strategy, symbols=symbols, timeframe=timeframe, start=start,
                               end=end, params=params, cash=cash, commission_bps=commission_bps,
                               benchmark=benchmark, name=name)
    return backtest_execute(backtest_id=backtest.pk, progress=progress)


def backtest_delete(*, user, backtest_id: int) -> None:
    selectors.backtest_get(user=user, backtest_id=backtest_id).delete()


def backtest_compare(*, user, ids: Iterable[int | str]) -> dict[str, Any]:
    """Metrics side by side and equity curves rebased to 1 for two or more of ``user``'s backtests.

    Raises
    ------
    InvalidInput
        Fewer than two ids, or an id that is not a number.
    NotFoundError
        An id that is not one of the user's finished backtests.
    """
    try:
        id_list = list(dict.fromkeys(int(i) for i in ids))
    except (TypeError, ValueError):
        raise InvalidInput(f"ids must be backtest numbers, were {list(ids)!r}") from None
    if len(id_list) < 2:
        raise InvalidInput("compare needs at least two backtest ids")
    rows, curves = [], []
    for backtest_id in id_list:
        backtest = selectors.backtest_get(user=user, backtest_id=backtest_id)
        if backtest.status != models.RunStatus.DONE:
            raise InvalidInput(f"backtest {backtest_id} is {backtest.status}, not done")
        equity = selectors.backtest_equity(backtest=backtest)
        rows.append({"id": backtest.pk, "name": backtest.name, "strategy": backtest.strategy,
                     "params": backtest.params, "symbols": backtest.symbols, "source": backtest.source,
                     "metrics": backtest.metrics})
        rebased = equity / float(backtest.initial_cash)
        curves.append({"id": backtest.pk, "name": backtest.name or backtest.strategy,
                       "ts": [t.isoformat() for t in rebased.index], "value": [float(v) for v in rebased]})
    return {"backtests": rows, "equity": curves}


# --------------------------------------------------------------------------- sweeps

def sweep_create(*, user, strategy: str, method: str, space_spec: Mapping[str, Any],
                 symbols: Sequence[str] | str, timeframe: str = "1d", start=None, end=None,
                 n_trials: int | None = None, objective: str = "sharpe_ratio", maximize: bool = True,
                 seed: int = 0, chunk_size: int = 8, fixed_params: Mapping[str, Any] | None = None,
                 cash: Any = 100_000, commission_bps: Any = None, name: str = "") -> models.Sweep:
    """Validate a sweep and store it ``queued`` with its trials (grid/random) ready to evaluate.

    Raises
    ------
    InvalidInput
        Unknown strategy, a space parameter the strategy does not have, a malformed space,
        an unknown objective, or bad symbols, period, cash or chunk size.
    """
    from bifrost.analytics.metrics import PerformanceReport

    cls = strategy_class(strategy)
    spec = space.check_space(space_spec)
    defaults = cls.param_defaults()
    unknown = sorted(set(spec) - set(defaults))
    if unknown:
        raise InvalidInput(f"{strategy} has no parameter(s) {unknown}; known: {sorted(defaults)}")
    fixed = dict(fixed_params or {})
    unknown = sorted(set(fixed) - set(defaults))
    if unknown:
        raise InvalidInput(f"{strategy} has no parameter(s) {unknown}; known: {sorted(defaults)}")
    numeric = sorted(n for n, f in PerformanceReport.__dataclass_fields__.items()
                     if f.type in ("float", "float | None", "int | None", "int")) + ["final_equity"]
    if objective not in numeric:
        raise InvalidInput(f"objective {objective!r} is not a metric; use one of {numeric}")
    if method not in models.SweepMethod.values:
        raise InvalidInput(f"method must be one of {models.SweepMethod.values}, was {method!r}")
    if not isinstance(chunk_size, int) or not 1 <= chunk_size <= 1000:
        raise InvalidInput(f"chunk_size must be an integer from 1 to 1000, was {chunk_size!r}")
    if method == "grid":
        candidates = space.grid_candidates(spec)
    else:
        if not isinstance(n_trials, int) or n_trials < 1 or n_trials > space.MAX_TRIALS:
            raise InvalidInput(f"{method} search needs n_trials from 1 to {space.MAX_TRIALS}, was {n_trials!r}")
        candidates = space.random_candidates(spec, n=n_trials, seed=seed) if method == "random" else []
        if method == "optuna":
            space.optuna_distributions(spec)
    symbol_list = normalize_symbols(symbols)
    start_dt, end_dt = parse_period(start, end)
    with transaction.atomic():
        sweep = models.Sweep.objects.create(
            owner=user, name=(name or f"{strategy} {method}")[:200], strategy=strategy, method=method, space=spec,
            fixed_params=_json_safe(fixed), objective=objective, maximize=maximize,
            n_trials=len(candidates) if method != "optuna" else n_trials, seed=seed, chunk_size=chunk_size,
            symbols=symbol_list, timeframe=_timeframe(timeframe), start=start_dt, end=end_dt,
            initial_cash=_cash(cash), commission_bps=_commission(commission_bps))
        models.SweepTrial.objects.bulk_create([
            models.SweepTrial(sweep=sweep, number=i, params=_json_safe(c)) for i, c in enumerate(candidates)])
    return sweep


def sweep_chunks(sweep: models.Sweep) -> list[list[int]]:
    """Trial numbers still to evaluate, cut into chunks of ``chunk_size``."""
    pending = list(sweep.trials.exclude(status__in=[models.RunStatus.DONE, models.RunStatus.FAILED])
                   .order_by("number").values_list("number", flat=True))
    return [pending[i:i + sweep.chunk_size] for i in range(0, len(pending), sweep.chunk_size)]


def sweep_dispatch(*, sweep_id: int) -> None:
    """Fan a sweep out: a Celery ``group`` of chunk tasks (grid/random), or one Optuna task."""
    from celery import group

    from bifrost_web.backtests import tasks

    sweep = models.Sweep.objects.get(pk=sweep_id)
    models.Sweep.objects.filter(pk=sweep_id).update(status=models.RunStatus.RUNNING)
    if sweep.method == models.SweepMethod.OPTUNA:
        tasks.sweep_optuna.delay(sweep_id)
        return
    chunks = sweep_chunks(sweep)
    if not chunks:
        sweep_finalize(sweep_id=sweep_id)
        return
    group(tasks.sweep_chunk.si(sweep_id, chunk) for chunk in chunks).apply_async()


def sweep_submit(*, user, **request: Any) -> models.Sweep:
    """Create a sweep and dispatch it once the transaction commits."""
    from bifrost_web.backtests import tasks

    with transaction.atomic():
        sweep = sweep_create(user=user, **request)
        transaction.on_commit(lambda: tasks.sweep_start.delay(sweep.pk))
    return sweep


def _sweep_data(sweep: models.Sweep) -> dict[str, pd.DataFrame]:
    return load_bars(symbols=sweep.symbols, timeframe=sweep.timeframe, start=sweep.start, end=sweep.end)


def _evaluate(sweep: models.Sweep, data: Mapping[str, pd.DataFrame], params: Mapping[str, Any]
              ) -> tuple[float | None, dict[str, Any], pd.Series]:
    merged = {**sweep.fixed_params, **params}
    record = _engine_run(sweep.strategy, data, params=merged, timeframe=sweep.timeframe,
                         cash=float(sweep.initial_cash), commission_bps=sweep.commission_bps, progress=None)
    metrics = record_metrics(record)
    value = metrics.get(sweep.objective)
    return (float(value) if value is not None else None), metrics, record.returns()


def _evaluate_safely(sweep: models.Sweep, data: Mapping[str, pd.DataFrame], number: int,
                     params: Mapping[str, Any]):
    """A trial's outcome, or the error it raised: one broken trial must not stall the sweep."""
    try:
        return _evaluate(sweep, data, params)
    except InvalidInput as exc:
        return exc
    except Exception as exc:  # a strategy bug: recorded on the trial with its type, and logged
        logger.exception("sweep %s trial %s failed", sweep.pk, number)
        return InvalidInput(f"{type(exc).__name__}: {exc}")


def _store_trial(sweep: models.Sweep, number: int, params: Mapping[str, Any], outcome) -> None:
    if isinstance(outcome, Exception):
        fields = {"status": models.RunStatus.FAILED, "error": getattr(outcome, "message", str(outcome)),
                  "value": None, "metrics": {}, "returns": None}
    else:
        value, metrics, returns = outcome
        fields = {"status": models.RunStatus.DONE, "error": "", "value": value, "metrics": metrics,
                  "returns": codec.series_to_bytes(returns, what="trial returns")}
    models.SweepTrial.objects.update_or_create(sweep=sweep, number=number,
                                               defaults={"params": _json_safe(dict(params)),
                                                         "finished_at": timezone.now(), **fields})


def _count_and_maybe_finalize(sweep_id: int) -> bool:
    with transaction.atomic():
        sweep = models.Sweep.objects.select_for_update().get(pk=sweep_id)
        done = sweep.trials.filter(status__in=[models.RunStatus.DONE, models.RunStatus.FAILED]).count()
        sweep.trials_done = done
        sweep.save(update_fields=["trials_done"])
        last = done >= sweep.n_trials and sweep.status == models.RunStatus.RUNNING
        if last:  # under the row lock: a chunk finishing at the same moment waits, then sees it done
            sweep_finalize(sweep_id=sweep_id)
    return last


def sweep_run_chunk(*, sweep_id: int, numbers: Sequence[int], progress: Progress | None = None) -> int:
    """Evaluate trials ``numbers`` of a sweep with the engine; the last chunk to finish finalises.

    Idempotent: trials already done are skipped, so a re-delivered chunk does no double work.
    A trial whose parameters the strategy rejects is stored ``failed`` with the message.
    """
    sweep = models.Sweep.objects.get(pk=sweep_id)
    trials = list(sweep.trials.filter(number__in=list(numbers))
                  .exclude(status__in=[models.RunStatus.DONE, models.RunStatus.FAILED]).order_by("number"))
    if trials:
        data = _sweep_data(sweep)
        for trial in trials:
            outcome = _evaluate_safely(sweep, data, trial.number, trial.params)
            _store_trial(sweep, trial.number, trial.params, outcome)
            _count_and_maybe_finalize(sweep_id)
            if progress is not None:
                progress(models.Sweep.objects.get(pk=sweep_id).trials_done, sweep.n_trials)
    else:
        _count_and_maybe_finalize(sweep_id)
    return len(trials)


def sweep_run_optuna(*, sweep_id: int, batch_size: int = 4, progress: Progress | None = None) -> int:
    """Run an Optuna sweep in this process: ask a batch, evaluate, tell, store each trial.

    A restarted run (re-delivered task) replays the stored trials into a new study and
    continues with the remaining ones, with TPE seeded from the sweep's seed.
    """
    import optuna

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    sweep = models.Sweep.objects.get(pk=sweep_id)
    distributions = space.optuna_distributions(sweep.space)
    direction = "maximize" if sweep.maximize else "minimize"
    study = optuna.create_study(direction=direction, sampler=optuna.samplers.TPESampler(seed=sweep.seed))
    for stored in sweep.trials.order_by("number"):
        state = optuna.trial.TrialState.COMPLETE if stored.value is not None else optuna.trial.TrialState.FAIL
        study.add_trial(optuna.trial.create_trial(
            params={k: stored.params[k] for k in distributions}, distributions=distributions,
            value=stored.value if stored.value is not None else None, state=state))
    data = _sweep_data(sweep) if len(study.trials) < sweep.n_trials else {}
    evaluated = 0
    while len(study.trials) < sweep.n_trials:
        batch = [study.ask(distributions) for _ in range(min(batch_size, sweep.n_trials - len(study.trials)))]
        for trial in batch:
            outcome = _evaluate_safely(sweep, data, trial.number, trial.params)
            _store_trial(sweep, trial.number, trial.params, outcome)
            if isinstance(outcome, Exception) or outcome[0] is None:
                study.tell(trial, state=optuna.trial.TrialState.FAIL)
            else:
                study.tell(trial, outcome[0])
            evaluated += 1
            _count_and_maybe_finalize(sweep_id)
            if progress is not None:
                progress(len(study.trials), sweep.n_trials)
    _count_and_maybe_finalize(sweep_id)
    return evaluated


def _partitions(n_rows: int) -> int | None:
    for s in (16, 14, 12, 10, 8, 6, 4, 2):
        if n_rows // s >= 4:
            return s
    return None


def sweep_overfitting(trial_returns: pd.DataFrame, best_column: Any) -> tuple[dict, dict]:
    """Deflated Sharpe ratio of the best trial and PBO (CSCV) of the sweep, as JSON dicts.

    ``trial_returns`` has one column per finished trial. CSCV needs the row count to be a
    multiple of the partition count ``S`` (16 when there are at least 64 rows, else the largest
    even S with 4 rows a block): the oldest rows beyond that multiple are dropped.
    """
    from bifrost.analytics.overfitting import (
        deflated_sharpe_ratio_from_trials,
        probability_of_backtest_overfitting,
    )

    matrix = trial_returns.fillna(0.0)
    try:
        dsr = deflated_sharpe_ratio_from_trials(matrix, selected=best_column)
        deflated = _json_safe({"probability": dsr.probability, "sharpe_ratio": dsr.sharpe_ratio,
                               "expected_maximum_sharpe_ratio": dsr.expected_maximum_sharpe_ratio,
                               "z_score": dsr.z_score, "n_trials": dsr.n_trials,
                               "n_observations": dsr.n_observations, "per_period": True})
    except InvalidInput as exc:
        deflated = {"error": exc.message}
    partitions = _partitions(len(matrix))
    if matrix.shape[1] < 2:
        pbo = {"error": "PBO needs at least two finished trials"}
    elif partitions is None:
        pbo = {"error": f"PBO needs at least 8 bars, the trials have {len(matrix)}"}
    else:
        rows = len(matrix) - len(matrix) % partitions
        try:
            # a trial flat over some blocks makes CSCV evaluate sign(0) * inf in a discarded branch
            with np.errstate(invalid="ignore"):
                result = probability_of_backtest_overfitting(matrix.iloc[-rows:].to_numpy(), n_partitions=partitions)
            pbo = _json_safe(result.to_dict())
        except InvalidInput as exc:
            pbo = {"error": exc.message}
    return deflated, pbo


def sweep_finalize(*, sweep_id: int) -> models.Sweep:
    """Pick the best trial and compute the deflated Sharpe ratio and PBO over all finished trials."""
    with transaction.atomic():
        sweep = models.Sweep.objects.select_for_update().get(pk=sweep_id)
        finished = list(sweep.trials.filter(status=models.RunStatus.DONE, value__isnull=False).order_by("number"))
        sweep.trials_done = sweep.trials.filter(status__in=[models.RunStatus.DONE, models.RunStatus.FAILED]).count()
        sweep.finished_at = timezone.now()
        if not finished:
            sweep.status = models.RunStatus.FAILED
            sweep.error = "no trial finished with a value; see the trials' errors"
            sweep.save()
            return sweep
        best = (max if sweep.maximize else min)(finished, key=lambda t: t.value)
        sweep.best_params, sweep.best_value, sweep.best_trial = best.params, best.value, best.number
        matrix = pd.DataFrame({t.number: codec.series_from_bytes(t.returns) for t in finished if t.returns})
        sweep.deflated_sharpe, sweep.pbo = sweep_overfitting(matrix, best.number)
        sweep.status = models.RunStatus.DONE
        sweep.save()
    return sweep


def sweep_fail(*, sweep_id: int, error: str) -> None:
    models.Sweep.objects.filter(pk=sweep_id).update(status=models.RunStatus.FAILED, error=error[:2000],
                                                    finished_at=timezone.now())


def sweep_run_inline(*, sweep_id: int, progress: Progress | None = None) -> models.Sweep:
    """Evaluate a whole sweep in this process (no broker): the CLI's in-process mode."""
    sweep = models.Sweep.objects.get(pk=sweep_id)
    models.Sweep.objects.filter(pk=sweep_id).update(status=models.RunStatus.RUNNING)
    if sweep.method == models.SweepMethod.OPTUNA:
        sweep_run_optuna(sweep_id=sweep_id, progress=progress)
    else:
        chunks = sweep_chunks(sweep)
        for chunk in chunks:
            sweep_run_chunk(sweep_id=sweep_id, numbers=chunk, progress=progress)
        if not chunks:
            sweep_finalize(sweep_id=sweep_id)
    return models.Sweep.objects.get(pk=sweep_id)


__all__ = ["backtest_compare", "backtest_create", "backtest_execute", "backtest_run",
           "backtest_store_record", "backtest_submit", "record_metrics", "sweep_create", "sweep_dispatch",
           "sweep_finalize", "sweep_run_chunk", "sweep_run_inline", "sweep_run_optuna", "sweep_submit"]


def backtest_analysis(*, user, backtest_id: int, sections: Sequence[str] = ("risk", "tca", "tax"),
                      confidence: float = 0.99) -> dict[str, Any]:
    """Risk, transaction costs and tax of a stored backtest (see :mod:`bifrost.backtest.analysis`).

    TCA reads the bars of the traded symbols from the bar store over the backtest's period.

    Raises
    ------
    InvalidInput
        An unknown section, or a section that cannot run on this backtest (too short for
        risk, no fills, no stored bars).
    NotFoundError
        The backtest is not the user's.
    """
    from bifrost.backtest.analysis import risk_summary, tax_summary, tca_summary

    unknown = sorted(set(sections) - {"risk", "tca", "tax"})
    if unknown:
        raise InvalidInput(f"unknown analysis sections {unknown}; use risk, tca, tax")
    record = selectors.backtest_record(user=user, backtest_id=backtest_id)
    out: dict[str, Any] = {"backtest": backtest_id}
    if "risk" in sections:
        out["risk"] = risk_summary(record, confidence=confidence)
    if "tax" in sections:
        out["tax"] = tax_summary(record)
    if "tca" in sections:
        traded = sorted(set(record.fills["symbol"])) if len(record.fills) else []
        end = (record.end + pd.Timedelta(days=1)).to_pydatetime()
        bars = load_bars(symbols=traded, timeframe=record.timeframe,
                         start=(record.start - pd.Timedelta(days=7)).to_pydatetime(), end=end) if traded else {}
        out["tca"] = tca_summary(record, bars)
    return _json_safe(out)
