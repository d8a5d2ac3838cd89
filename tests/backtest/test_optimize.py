"""Parameter sweeps: grid, seeded random and Optuna search, executors, progress and guards.

Checks are independent of the code: the grid is compared with ``itertools.product`` of
hand-listed values; random draws with the bounds and with SciPy's Kolmogorov-Smirnov
test; Optuna with the known optimum of a quadratic; the real-engine objective with a
direct rerun and an exhaustive argmax; the guards with bifrost.analytics called directly.
"""

from __future__ import annotations

import itertools
from concurrent.futures import ProcessPoolExecutor
from functools import partial

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from bifrost.analytics import deflated_sharpe_ratio_from_trials, probability_of_backtest_overfitting
from bifrost.backtest.optimize import (
    BacktestObjective,
    Choice,
    FloatRange,
    IntRange,
    LogUniform,
    grid_candidates,
    optimize,
    parameter_space,
    random_candidates,
)
from bifrost.core.errors import InvalidInput
from tests.factories import xnys_daily_bars


def quadratic(params):
    """Known optimum: x = 3, y = -1, value 0."""
    return {"value": -((params["x"] - 3.0) ** 2) - (params["y"] + 1.0) ** 2}


def noise_strategy(params, *, n_periods=320):
    """Skill-less trial: i.i.d. returns seeded by the params (a pure function of them)."""
    seed = hash((params["a"], params["b"])) % (2**32)
    returns = np.random.default_rng(seed).normal(0.0, 0.01, n_periods)
    return {"sharpe": float(returns.mean() / returns.std(ddof=1)), "returns": returns}


def process_pool(evaluate, chunks):
    with ProcessPoolExecutor(max_workers=2) as pool:
        yield from pool.map(partial(_run_chunk, evaluate), chunks)


def _run_chunk(evaluate, chunk):
    return [evaluate(params) for params in chunk]


def test_grid_is_exactly_the_cartesian_product():
    space = {"fast": IntRange(5, 20, 5), "slow": [30, 50], "band": FloatRange(1.0, 2.0, 0.5), "kind": Choice("ab")}
    got = grid_candidates(space)
    expected = [dict(zip(("fast", "slow", "band", "kind"), combo, strict=True)) for combo in
                itertools.product([5, 10, 15, 20], [30, 50], [1.0, 1.5, 2.0], ["a", "b"])]
    assert got == expected
    assert len({tuple(sorted(c.items())) for c in got}) == 48


def test_json_space_means_the_same_as_dimensions():
    assert parameter_space({"fast": {"low": 5, "high": 20, "step": 5}, "w": {"low": 0.1, "high": 0.3, "step": 0.1},
                            "lr": {"low": 1e-4, "high": 1e-1, "log": True}, "kind": ["a", "b"]}) == {
        "fast": IntRange(5, 20, 5), "w": FloatRange(0.1, 0.3, 0.1), "lr": LogUniform(1e-4, 1e-1),
        "kind": Choice(["a", "b"])}
    assert [c["w"] for c in grid_candidates({"w": {"low": 0.1, "high": 0.3, "step": 0.1}})] == [0.1, 0.2, 0.3]


def test_random_search_is_reproducible_and_within_bounds():
    space = {"n": IntRange(2, 40, 2), "x": FloatRange(-1.0, 1.0), "lr": LogUniform(1e-4, 1.0), "k": ["p", "q", "r"]}
    first = random_candidates(space, n_trials=2000, seed=7)
    assert first == random_candidates(space, n_trials=2000, seed=7)
    assert first != random_candidates(space, n_trials=2000, seed=8)
    n = np.array([c["n"] for c in first])
    x = np.array([c["x"] for c in first])
    lr = np.array([c["lr"] for c in first])
    assert set(n) <= set(range(2, 41, 2)) and len(set(n)) == 20
    assert x.min() >= -1.0 and x.max() <= 1.0
    assert lr.min() >= 1e-4 and lr.max() <= 1.0
    assert {c["k"] for c in first} == {"p", "q", "r"}
    # Log-uniform: log10(lr) is uniform on [-4, 0] (KS test, 1% level); plain uniform would fail it.
    assert stats.kstest(lr, stats.loguniform(1e-4, 1.0).cdf).pvalue > 0.01
    assert stats.kstest(lr, stats.uniform(1e-4, 1.0 - 1e-4).cdf).pvalue < 1e-6


def test_optuna_finds_the_known_optimum_and_is_seeded():
    space = {"x": FloatRange(-10.0, 10.0), "y": FloatRange(-10.0, 10.0)}
    result = optimize(quadratic, space, method="optuna", n_trials=120, seed=3, metric="value", chunk_size=4)
    assert result.best_params["x"] == pytest.approx(3.0, abs=0.5)
    assert result.best_params["y"] == pytest.approx(-1.0, abs=0.5)
    assert result.best_value > -0.25
    again = optimize(quadratic, space, method="optuna", n_trials=120, seed=3, metric="value", chunk_size=4)
    pd.testing.assert_frame_equal(result.trials, again.trials)
    assert len(result.trials) == 120


def test_grid_best_is_the_exhaustive_argmax_and_minimize_flips_it():
    space = {"x": IntRange(-5, 8), "y": IntRange(-4, 4)}
    result = optimize(quadratic, space, metric="value")
    assert result.best_params == {"x": 3, "y": -1} and result.best_value == 0.0
    worst = optimize(quadratic, space, metric="value", direction="minimize")
    assert worst.best_params == {"x": -5, "y": 4}
    assert len(result.trials) == 14 * 9 and list(result.trials.columns) == ["trial", "x", "y", "value"]


def test_process_pool_executor_gives_the_same_trials_and_progress_counts_up():
    space = {"a": IntRange(1, 6), "b": [0.5, 1.5, 2.5]}
    seen = []
    local = optimize(noise_strategy, space, metric="sharpe", chunk_size=5, progress=lambda d, t: seen.append((d, t)))
    pooled = optimize(noise_strategy, space, metric="sharpe", chunk_size=5, map_chunks=process_pool)
    pd.testing.assert_frame_equal(local.trials, pooled.trials)
    pd.testing.assert_frame_equal(local.returns, pooled.returns)
    assert seen == [(5, 18), (10, 18), (15, 18), (18, 18)]


def test_overfitting_guards_match_analytics_on_the_trials_returns():
    space = {"a": IntRange(1, 8), "b": [0.5, 1.5]}
    result = optimize(noise_strategy, space, metric="sharpe")
    matrix = np.column_stack([noise_strategy(p)["returns"] for p in grid_candidates(space)])
    assert result.returns.shape == (320, 16)
    np.testing.assert_array_equal(result.returns.to_numpy(), matrix)
    sharpes = matrix.mean(axis=0) / matrix.std(axis=0, ddof=1)
    assert result.best_trial == int(np.argmax(sharpes))
    direct = deflated_sharpe_ratio_from_trials(matrix, selected=result.best_trial)
    assert result.deflated_sharpe.probability == pytest.approx(direct.probability, rel=1e-12)
    assert result.deflated_sharpe.n_trials == 16
    assert result.pbo.pbo == pytest.approx(probability_of_backtest_overfitting(matrix, n_partitions=16).pbo)
    # Skill-less trials: the best one's deflated Sharpe is not significant.
    assert result.deflated_sharpe.probability < 0.95
    summary = result.summary()
    assert summary["n_trials"] == 16 and summary["pbo"]["n_strategies"] == 16


def test_sweep_over_the_real_engine_picks_the_best_backtest():
    bars = xnys_daily_bars("2019-01-02", "2021-12-31", seed=11)
    objective = BacktestObjective("sma_crossover", {"ACME": bars}, commission_bps=10, fixed_params={"quantity": 100})
    space = {"fast": [5, 10, 20], "slow": [30, 60]}
    result = optimize(objective, space, metric="total_return", chunk_size=2)

    from bifrost.backtest import run

    finals = {}
    for fast, slow in itertools.product([5, 10, 20], [30, 60]):
        record = run("sma_crossover", {"ACME": bars}, params={"fast": fast, "slow": slow, "quantity": 100},
                     commission_bps=10)
        finals[(fast, slow)] = record.final_equity
    best = max(finals, key=finals.get)
    assert (result.best_params["fast"], result.best_params["slow"]) == best
    assert result.best_value == pytest.approx(finals[best] / 100_000 - 1, rel=1e-9)
    assert result.trials["final_equity"].tolist() == pytest.approx(list(finals.values()))
    assert result.returns.shape[1] == 6 and result.pbo is not None


def test_bad_sweeps_are_rejected_naming_the_problem():
    with pytest.raises(InvalidInput, match="non-empty parameter space"):
        optimize(quadratic, {})
    with pytest.raises(InvalidInput, match="space x: IntRange high 1 is below low 5"):
        optimize(quadratic, {"x": {"low": 5, "high": 1}})
    with pytest.raises(InvalidInput, match="grid over a FloatRange needs a step"):
        optimize(quadratic, {"x": FloatRange(0.0, 1.0), "y": [0]}, metric="value")
    with pytest.raises(InvalidInput, match="random search needs n_trials"):
        optimize(quadratic, {"x": [1], "y": [0]}, method="random", metric="value")
    with pytest.raises(InvalidInput, match="lack 'sharpe_ratio'"):
        optimize(quadratic, {"x": [1], "y": [0]})
    with pytest.raises(InvalidInput, match="method must be grid, random or optuna"):
        optimize(quadratic, {"x": [1]}, method="annealing")
    with pytest.raises(InvalidInput, match="LogUniform low must be positive"):
        parameter_space({"lr": {"low": 0, "high": 1, "log": True}})
