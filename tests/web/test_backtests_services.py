"""Backtest and sweep services on the real engine and the bar store (SQLite or PostgreSQL)."""

from decimal import Decimal

import numpy as np
import pandas as pd
import pytest

from bifrost.analytics.overfitting import (
    deflated_sharpe_ratio_from_trials,
    probability_of_backtest_overfitting,
)
from bifrost.backtest import run
from bifrost.core.errors import InvalidInput
from bifrost_web.backtests import models, selectors, services
from bifrost_web.marketdata import services as md_services
from tests.factories import xnys_daily_bars

pytestmark = pytest.mark.django_db

START, END = "2023-01-01", "2024-01-01"


@pytest.fixture
def acme_bars():
    bars = xnys_daily_bars("2023-01-03", "2023-12-29", seed=3)  # 250 XNYS sessions
    md_services.bars_ingest(symbol="ACME", timeframe="1d", bars=bars, source="test")
    return bars


def _reference_sma_crossover(bars: pd.DataFrame, fast: int, slow: int, quantity: int, commission_bps: float):
    """Independent pandas replay: cross at a close, fill at the next session's open; notional and commission
    are booked to the cent, as a cash ledger does."""
    close = bars["close"]
    above = close.rolling(fast).mean() > close.rolling(slow).mean()
    ready = close.rolling(slow).mean().notna()
    cash, position, fills = 100_000.0, 0, []
    for i in range(1, len(bars) - 1):
        if not (ready.iloc[i] and ready.iloc[i - 1]):
            continue
        side = "buy" if above.iloc[i] and not above.iloc[i - 1] and position == 0 else \
            "sell" if not above.iloc[i] and above.iloc[i - 1] and position > 0 else None
        if side is None:
            continue
        price = bars["open"].iloc[i + 1]
        commission = round(quantity * price * commission_bps / 10_000, 2)
        cash += (-1 if side == "buy" else 1) * round(quantity * price, 2) - commission  # cash moves in cents
        position = quantity if side == "buy" else 0
        fills.append((bars.index[i + 1].date(), side, price))
    return fills, cash + position * close.iloc[-1]


def test_run_stores_what_the_engine_returns_and_matches_a_pandas_replay(alice, acme_bars):
    progress = []

    stored = services.backtest_run(user=alice, strategy="sma_crossover", symbols=["acme"], start=START, end=END,
                                   params={"fast": 5, "slow": 20}, commission_bps=10,
                                   progress=lambda done, total: progress.append((done, total)))

    direct = run("sma_crossover", {"ACME": acme_bars}, params={"fast": 5, "slow": 20}, commission_bps=10)
    back = selectors.backtest_record(user=alice, backtest_id=stored.pk)
    reference_fills, reference_equity = _reference_sma_crossover(acme_bars, 5, 20, 100, 10)
    assert stored.status == "done" and stored.progress == 1.0 and stored.symbols == ["ACME"]
    assert stored.params == {"fast": 5, "slow": 20, "quantity": 100}
    pd.testing.assert_series_equal(back.equity, direct.equity, check_exact=True)
    pd.testing.assert_frame_equal(back.fills, direct.fills, check_exact=True)
    pd.testing.assert_frame_equal(back.orders, direct.orders, check_exact=True)
    assert [(t.date(), s) for t, s in zip(back.fills["ts"], back.fills["side"], strict=True)] == \
        [(d, s) for d, s, _ in reference_fills]
    # the engine keeps prices to 6 decimals (Decimal money), so equity may differ by a cent of rounding
    assert list(back.fills["price"]) == pytest.approx([p for _, _, p in reference_fills], abs=5e-7)
    assert back.final_equity == pytest.approx(reference_equity, abs=0.0101)
    assert stored.metrics["n_trades"] == len(reference_fills) // 2
    assert progress and progress[-1][0] == progress[-1][1]


@pytest.mark.parametrize(("request_fields", "message"), [
    ({"strategy": "no_such_strategy"}, "unknown strategy 'no_such_strategy'"),
    ({"params": {"fast": 5, "slowest": 9}}, "slowest"),
    ({"params": {"fast": 30, "slow": 20}}, "fast period must be below slow period"),
    ({"symbols": ["ACME", "NOPE"]}, "unknown symbol(s) ['NOPE']"),
    ({"start": "2024-02-01", "end": "2024-01-01"}, "must be before end"),
    ({"cash": "-5"}, "cash must be positive"),
    ({"timeframe": "7x"}, "timeframe '7x'"),
])
def test_run_bad_input_names_the_problem_and_writes_nothing(alice, acme_bars, request_fields, message):
    request = {"strategy": "sma_crossover", "symbols": ["ACME"], "start": START, "end": END,
               "params": {"fast": 5, "slow": 20}, **request_fields}

    with pytest.raises(InvalidInput) as caught:
        services.backtest_run(user=alice, **request)

    assert message in caught.value.message
    assert not models.Backtest.objects.exists()


def test_run_without_bars_in_range_fails_and_keeps_no_results(alice, acme_bars):
    with pytest.raises(InvalidInput, match="ACME has no 1d bars"):
        services.backtest_run(user=alice, strategy="sma_crossover", symbols=["ACME"], start="2020-01-01",
                              end="2020-06-01")

    failed = models.Backtest.objects.get()
    assert failed.status == "failed" and "ACME has no 1d bars" in failed.error
    assert not models.BacktestFill.objects.exists() and not models.BacktestSeries.objects.exists()


def test_benchmark_symbol_is_stored_as_returns_and_gives_beta(alice, acme_bars):
    md_services.bars_ingest(symbol="SPX", timeframe="1d", bars=xnys_daily_bars("2023-01-03", "2023-12-29", seed=9),
                            source="test")

    stored = services.backtest_run(user=alice, strategy="sma_crossover", symbols=["ACME"], start=START, end=END,
                                   params={"fast": 5, "slow": 20}, benchmark="SPX")

    record = selectors.backtest_record(user=alice, backtest_id=stored.pk)
    closes = xnys_daily_bars("2023-01-03", "2023-12-29", seed=9)["close"]
    assert record.benchmark.to_numpy()[1:] == pytest.approx(closes.pct_change().to_numpy()[1:], rel=1e-12)
    returns = record.returns().to_numpy()
    bench = record.benchmark.to_numpy()
    beta = np.cov(returns, bench, ddof=1)[0, 1] / np.var(bench, ddof=1)  # OLS slope
    assert stored.metrics["beta"] == pytest.approx(beta, rel=1e-9)


def _direct_trial(bars, fast, slow):
    record = run("sma_crossover", {"ACME": bars}, params={"fast": fast, "slow": slow})
    returns = record.returns()
    return returns, returns.mean() / returns.std(ddof=1) * np.sqrt(252)


def test_grid_sweep_inline_finds_the_best_sharpe_with_dsr_and_pbo(alice, acme_bars):
    sweep = services.sweep_create(user=alice, strategy="sma_crossover", method="grid",
                                  space_spec={"fast": [3, 5, 8], "slow": [15, 25]}, symbols=["ACME"],
                                  start=START, end=END, chunk_size=4)
    seen = []

    done = services.sweep_run_inline(sweep_id=sweep.pk, progress=lambda d, t: seen.append((d, t)))

    combos = [(f, s) for f in (3, 5, 8) for s in (15, 25)]
    direct = {c: _direct_trial(acme_bars, *c) for c in combos}
    best = max(combos, key=lambda c: direct[c][1])
    assert done.status == "done" and done.trials_done == 6 and seen[-1] == (6, 6)
    assert (done.best_params["fast"], done.best_params["slow"]) == best
    assert done.best_value == pytest.approx(direct[best][1], rel=1e-9)
    trial_values = {(t.params["fast"], t.params["slow"]): t.value for t in done.trials.all()}
    assert trial_values == pytest.approx({c: direct[c][1] for c in combos}, rel=1e-9)
    matrix = pd.DataFrame({i: direct[c][0] for i, c in enumerate(combos)})
    dsr = deflated_sharpe_ratio_from_trials(matrix, selected=combos.index(best))
    assert done.deflated_sharpe["probability"] == pytest.approx(dsr.probability, rel=1e-9)
    assert done.deflated_sharpe["n_trials"] == 6
    pbo = probability_of_backtest_overfitting(matrix.iloc[-240:].to_numpy(), n_partitions=16)  # 250 rows -> 16 x 15
    assert done.pbo["pbo"] == pytest.approx(pbo.pbo, rel=1e-12) and done.pbo["n_partitions"] == 16


def test_sweep_trial_with_invalid_params_fails_alone(alice, acme_bars):
    sweep = services.sweep_create(user=alice, strategy="sma_crossover", method="grid",
                                  space_spec={"fast": [5, 30], "slow": [20]}, symbols=["ACME"], start=START, end=END)

    done = services.sweep_run_inline(sweep_id=sweep.pk)

    failed = done.trials.get(status="failed")
    assert failed.params == {"fast": 30, "slow": 20} and "fast period must be below slow period" in failed.error
    assert done.status == "done" and done.best_params == {"fast": 5, "slow": 20}
    assert done.pbo == {"error": "PBO needs at least two finished trials"}


def test_chunk_redelivery_does_not_rerun_finished_trials(alice, acme_bars):
    sweep = services.sweep_create(user=alice, strategy="sma_crossover", method="grid",
                                  space_spec={"fast": [3, 5], "slow": [20]}, symbols=["ACME"], start=START, end=END)
    services.sweep_run_inline(sweep_id=sweep.pk)
    finished = {t.number: t.finished_at for t in sweep.trials.all()}

    evaluated = services.sweep_run_chunk(sweep_id=sweep.pk, numbers=[0, 1])

    assert evaluated == 0
    assert {t.number: t.finished_at for t in sweep.trials.all()} == finished


def test_random_sweep_is_reproducible_from_its_seed(alice, acme_bars):
    spec = {"fast": {"low": 2, "high": 9}, "slow": {"low": 12, "high": 40}}
    first = services.sweep_create(user=alice, strategy="sma_crossover", method="random", space_spec=spec,
                                  n_trials=5, seed=11, symbols=["ACME"], start=START, end=END)
    second = services.sweep_create(user=alice, strategy="sma_crossover", method="random", space_spec=spec,
                                   n_trials=5, seed=11, symbols=["ACME"], start=START, end=END)

    params = [t.params for t in first.trials.all()]
    assert params == [t.params for t in second.trials.all()] and len(params) == 5
    assert all(2 <= p["fast"] <= 9 and 12 <= p["slow"] <= 40 and isinstance(p["fast"], int) for p in params)


def test_optuna_sweep_runs_ask_tell_batches_and_replays_on_restart(alice, acme_bars):
    sweep = services.sweep_create(user=alice, strategy="sma_crossover", method="optuna",
                                  space_spec={"fast": {"low": 2, "high": 10}, "slow": {"low": 15, "high": 40}},
                                  n_trials=6, seed=5, symbols=["ACME"], start=START, end=END)

    done = services.sweep_run_inline(sweep_id=sweep.pk)
    again = services.sweep_run_optuna(sweep_id=sweep.pk)

    trials = list(done.trials.order_by("number"))
    assert [t.number for t in trials] == list(range(6)) and again == 0
    best = max((t for t in trials if t.value is not None), key=lambda t: t.value)
    _, sharpe = _direct_trial(acme_bars, best.params["fast"], best.params["slow"])
    assert done.best_value == pytest.approx(sharpe, rel=1e-9) and done.best_params == best.params


@pytest.mark.parametrize(("fields", "message"), [
    ({"space_spec": {"fastest": [1, 2]}}, "no parameter(s) ['fastest']"),
    ({"space_spec": {"fast": []}}, "space fast: Choice needs at least one value"),
    ({"space_spec": {"fast": {"low": 9, "high": 2, "step": 1}}}, "high 2 is below low 9"),
    ({"space_spec": {"fast": {"low": 2.0, "high": 9.0}}}, "grid search needs a step for range fast"),
    ({"objective": "luck"}, "objective 'luck' is not a metric"),
    ({"method": "random"}, "random search needs n_trials"),
])
def test_sweep_bad_input_names_it_and_writes_nothing(alice, acme_bars, fields, message):
    request = {"strategy": "sma_crossover", "method": "grid", "space_spec": {"fast": [3, 5]}, "symbols": ["ACME"],
               **fields}
    with pytest.raises(InvalidInput) as caught:
        services.sweep_create(user=alice, **request)
    assert message in caught.value.message
    assert not models.Sweep.objects.exists()


def test_initial_cash_is_kept_exactly(alice, acme_bars):
    stored = services.backtest_run(user=alice, strategy="sma_crossover", symbols=["ACME"], start=START, end=END,
                                   params={"fast": 5, "slow": 20}, cash="25000.5")
    assert stored.initial_cash == Decimal("25000.5")
    assert selectors.backtest_record(user=alice, backtest_id=stored.pk).initial_cash == 25000.5


def test_multi_asset_rotation_round_trips_with_prices_and_positions(alice):
    data = {}
    for i, symbol in enumerate(["AAA", "BBB", "CCC"]):
        data[symbol] = xnys_daily_bars("2022-01-03", "2023-12-29", seed=20 + i)
        md_services.bars_ingest(symbol=symbol, timeframe="1d", bars=data[symbol], source="test")
    params = {"lookback": 60, "skip": 5, "top_n": 1}

    stored = services.backtest_run(user=alice, strategy="momentum_rotation", symbols="AAA BBB CCC", params=params)

    direct = run("momentum_rotation", data, params=params)
    back = selectors.backtest_record(user=alice, backtest_id=stored.pk)
    assert stored.symbols == ["AAA", "BBB", "CCC"] and len(direct.fills) > 2
    pd.testing.assert_frame_equal(back.prices, direct.prices, check_exact=True)
    pd.testing.assert_frame_equal(back.positions, direct.positions, check_exact=True)
    pd.testing.assert_frame_equal(back.fills, direct.fills, check_exact=True)
    assert set(back.fills["symbol"]) == set(direct.fills["symbol"])
