"""Sweeps and backtests on a real Celery worker process (Redis broker, PostgreSQL or SQLite database).

The sweep is cut into chunk tasks that the worker picks up from the broker; progress is
read back from the database while they run, as the CLI and the portal do.
"""

import time

import pytest
from django.contrib.auth import get_user_model

from bifrost.backtest import run
from bifrost_web.backtests import models, services
from bifrost_web.marketdata import services as md_services
from tests.factories import xnys_daily_bars

pytestmark = [pytest.mark.redis, pytest.mark.celery_worker, pytest.mark.django_db(transaction=True)]


def _wait(model, pk, *, timeout=120.0):
    seen = []
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        row = model.objects.get(pk=pk)
        seen.append(getattr(row, "trials_done", row.progress))
        if row.status in ("done", "failed"):
            return row, seen
        time.sleep(0.2)
    pytest.fail(f"{model.__name__} {pk} did not finish in {timeout} s; last seen {seen[-5:]}")


@pytest.fixture
def setup_data():
    user = get_user_model().objects.create_user("quant", password="pw-quant-123456")
    bars = xnys_daily_bars("2023-01-03", "2023-12-29", seed=3)
    md_services.bars_ingest(symbol="ACME", timeframe="1d", bars=bars, source="test")
    return user, bars


def test_grid_sweep_fans_out_in_chunks_on_the_worker(celery_worker, setup_data):
    user, bars = setup_data

    sweep = services.sweep_submit(user=user, strategy="sma_crossover", method="grid",
                                  space_spec={"fast": [3, 5, 8], "slow": [15, 25]}, symbols=["ACME"],
                                  start="2023-01-01", end="2024-01-01", chunk_size=2)
    done, seen = _wait(models.Sweep, sweep.pk)

    assert done.status == "done", done.error
    assert done.trials_done == 6 and seen == sorted(seen)
    log = celery_worker["log"].read_text()
    assert log.count("bifrost_web.backtests.tasks.sweep_chunk") >= 3  # three chunks of two trials
    sharpe = {}
    for fast in (3, 5, 8):
        for slow in (15, 25):
            returns = run("sma_crossover", {"ACME": bars}, params={"fast": fast, "slow": slow}).returns()
            sharpe[(fast, slow)] = returns.mean() / returns.std(ddof=1) * 252 ** 0.5
    best = max(sharpe, key=sharpe.get)
    assert (done.best_params["fast"], done.best_params["slow"]) == best
    assert done.best_value == pytest.approx(sharpe[best], rel=1e-9)
    assert done.pbo["n_strategies"] == 6 and 0 <= done.deflated_sharpe["probability"] <= 1


def test_optuna_sweep_runs_in_the_worker(celery_worker, setup_data):
    user, _ = setup_data

    sweep = services.sweep_submit(user=user, strategy="sma_crossover", method="optuna",
                                  space_spec={"fast": {"low": 2, "high": 10}, "slow": {"low": 15, "high": 40}},
                                  n_trials=5, seed=3, symbols=["ACME"], start="2023-01-01", end="2024-01-01")
    done, _ = _wait(models.Sweep, sweep.pk)

    assert done.status == "done", done.error
    assert sorted(done.trials.values_list("number", flat=True)) == [0, 1, 2, 3, 4]
    assert "bifrost_web.backtests.tasks.sweep_optuna" in celery_worker["log"].read_text()


def test_backtest_submit_runs_on_the_worker(celery_worker, setup_data):
    user, bars = setup_data

    backtest = services.backtest_submit(user=user, strategy="sma_crossover", symbols=["ACME"],
                                        start="2023-01-01", end="2024-01-01", params={"fast": 5, "slow": 20})
    done, _ = _wait(models.Backtest, backtest.pk)

    direct = run("sma_crossover", {"ACME": bars}, params={"fast": 5, "slow": 20})
    assert done.status == "done", done.error
    assert done.final_equity == direct.final_equity and done.n_fills == len(direct.fills)
