"""Celery tasks of backtests and sweeps: ids in, state re-fetched, one service call each.

Every task is idempotent (a finished backtest or trial is skipped), so late acks and
redelivery are safe. A sweep fans out as a ``group`` of chunk tasks; no task waits on
another: the chunk that finishes the last trial computes the sweep's summary.
"""

from __future__ import annotations

from celery import shared_task

from bifrost.core.errors import InvalidInput


@shared_task(acks_late=True, soft_time_limit=1500, time_limit=1800)
def backtest_execute(backtest_id: int) -> str:
    from bifrost_web.backtests import services

    try:
        backtest = services.backtest_execute(backtest_id=backtest_id)
    except InvalidInput as exc:  # recorded on the row as failed; not a worker error
        return f"failed: {exc.message}"
    return backtest.status


@shared_task(acks_late=True)
def sweep_start(sweep_id: int) -> None:
    from bifrost_web.backtests import services

    services.sweep_dispatch(sweep_id=sweep_id)


@shared_task(acks_late=True, soft_time_limit=1500, time_limit=1800)
def sweep_chunk(sweep_id: int, numbers: list[int]) -> int:
    from bifrost_web.backtests import services

    try:
        return services.sweep_run_chunk(sweep_id=sweep_id, numbers=numbers)
    except InvalidInput as exc:
        services.sweep_fail(sweep_id=sweep_id, error=exc.message)
        return 0


@shared_task(acks_late=True, soft_time_limit=3500, time_limit=3600)
def sweep_optuna(sweep_id: int, batch_size: int = 4) -> int:
    from bifrost_web.backtests import services

    try:
        return services.sweep_run_optuna(sweep_id=sweep_id, batch_size=batch_size)
    except InvalidInput as exc:
        services.sweep_fail(sweep_id=sweep_id, error=exc.message)
        return 0
