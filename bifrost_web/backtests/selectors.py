"""Read-only backtest and sweep queries, always scoped to the user.

Another user's backtest answers :class:`NotFoundError`, exactly like one that does not exist.
"""

from __future__ import annotations

import pandas as pd
from django.db.models import QuerySet

from bifrost.backtest.results import (
    FILL_COLUMNS,
    ORDER_COLUMNS,
    BacktestRecord,
    empty_fills,
    empty_orders,
)
from bifrost.core.errors import NotFoundError
from bifrost_web.backtests import codec, models


def backtests_for(*, user, status: str | None = None, strategy: str | None = None) -> QuerySet[models.Backtest]:
    qs = models.Backtest.objects.filter(owner=user)
    if status:
        qs = qs.filter(status=status)
    if strategy:
        qs = qs.filter(strategy=strategy)
    return qs.order_by("-created_at", "-id")


def backtest_get(*, user, backtest_id: int) -> models.Backtest:
    backtest = models.Backtest.objects.filter(owner=user, pk=backtest_id).first()
    if backtest is None:
        raise NotFoundError(f"you have no backtest {backtest_id}")
    return backtest


def _series(backtest: models.Backtest) -> models.BacktestSeries:
    series = models.BacktestSeries.objects.filter(backtest=backtest).first()
    if series is None:
        raise NotFoundError(f"backtest {backtest.pk} has no stored results (status {backtest.status})")
    return series


def backtest_equity(*, backtest: models.Backtest) -> pd.Series:
    return codec.series_from_bytes(_series(backtest).equity)


def _frame(rows: list[dict], columns: tuple[str, ...], empty: pd.DataFrame, time_columns: tuple[str, ...]
           ) -> pd.DataFrame:
    if not rows:
        return empty
    extras = [r.pop("extra") or {} for r in rows]
    frame = pd.DataFrame(rows, columns=list(columns))
    for column in time_columns:
        frame[column] = pd.to_datetime(frame[column], utc=True).dt.as_unit("ns")
    frame = frame.astype({c: t for c, t in empty.dtypes.items() if c not in time_columns})
    extra_columns = list(dict.fromkeys(k for e in extras for k in e))
    for column in extra_columns:
        frame[column] = [e.get(column) for e in extras]
    return frame


def backtest_fills(*, backtest: models.Backtest) -> pd.DataFrame:
    rows = list(backtest.fills.order_by("seq").values(*FILL_COLUMNS, "extra"))
    frame = _frame(rows, FILL_COLUMNS, empty_fills(), ("ts",))
    if len(frame):
        for column in ("order_id", "fill_id"):
            frame[column] = frame[column].replace("", None)
    return frame


def backtest_orders(*, backtest: models.Backtest) -> pd.DataFrame:
    rows = list(backtest.orders.order_by("seq").values(*ORDER_COLUMNS, "extra"))
    frame = _frame(rows, ORDER_COLUMNS, empty_orders(), ("ts_submitted",))
    if len(frame):
        frame["order_id"] = frame["order_id"].replace("", None)
    return frame


def backtest_record(*, user, backtest_id: int) -> BacktestRecord:
    """The stored backtest as the :class:`BacktestRecord` it was made from.

    Equity, benchmark, prices and positions come back bit for bit; fills and orders
    in their original order with the standard dtypes (``order_id``/``fill_id`` as strings,
    an empty id as ``None``, empty ``reason`` as ``""``). Other services read a backtest
    through this the way they read a portfolio's history.

    Raises
    ------
    NotFoundError
        If the user has no such backtest, or it has not finished.
    """
    backtest = backtest_get(user=user, backtest_id=backtest_id)
    return record_of(backtest)


def record_of(backtest: models.Backtest) -> BacktestRecord:
    series = _series(backtest)
    return BacktestRecord(
        equity=codec.series_from_bytes(series.equity),
        fills=backtest_fills(backtest=backtest),
        orders=backtest_orders(backtest=backtest),
        initial_cash=float(backtest.initial_cash),
        strategy=backtest.strategy,
        params=dict(backtest.params),
        engine=backtest.engine,
        symbols=tuple(backtest.symbols),
        timeframe=backtest.timeframe,
        benchmark=None if series.benchmark is None else codec.series_from_bytes(series.benchmark),
        prices=None if series.prices is None else codec.frame_from_bytes(series.prices),
        positions=None if series.positions is None else codec.frame_from_bytes(series.positions),
    )


def sweeps_for(*, user) -> QuerySet[models.Sweep]:
    return models.Sweep.objects.filter(owner=user).order_by("-created_at", "-id")


def sweep_get(*, user, sweep_id: int) -> models.Sweep:
    sweep = models.Sweep.objects.filter(owner=user, pk=sweep_id).first()
    if sweep is None:
        raise NotFoundError(f"you have no sweep {sweep_id}")
    return sweep


def sweep_trials(*, sweep: models.Sweep) -> pd.DataFrame:
    """One row per trial: number, status, value, each parameter as a column, and the headline metrics."""
    rows = []
    for trial in sweep.trials.order_by("number").only("number", "params", "status", "value", "metrics", "error"):
        metrics = trial.metrics or {}
        rows.append({"number": trial.number, "status": trial.status, "value": trial.value, **trial.params,
                     **{k: metrics.get(k) for k in ("total_return", "sharpe_ratio", "max_drawdown", "n_trades")},
                     "error": trial.error})
    return pd.DataFrame(rows)
