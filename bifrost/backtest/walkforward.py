"""Walk-forward analysis: optimise in sample, evaluate out of sample, roll forward.

The timeline (the bars' index) is cut into folds. In each fold the parameters are chosen
by a sweep (:func:`bifrost.backtest.optimize.optimize`) on the in-sample window only, then
evaluated, unchanged, on the out-of-sample window that follows it. Out-of-sample windows
follow each other without overlap, so their returns stitch into one out-of-sample equity
curve: the track record the procedure would have produced, free of the in-sample
selection (Pardo, *The Evaluation and Optimization of Trading Strategies*, 2nd ed.,
2008, ch. 11).

* rolling: the in-sample window has a fixed length and slides by ``step_bars``;
* anchored: it always starts at the first bar and grows.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
import pandas as pd

from bifrost.backtest.optimize import (
    RETURNS_KEY,
    MapChunks,
    Objective,
    Progress,
    SweepResult,
    grid_candidates,
    optimize,
    parameter_space,
)
from bifrost.core.errors import InvalidInput

__all__ = ["Fold", "WalkForwardResult", "walk_forward", "walk_forward_folds"]

WindowObjective = Callable[[pd.Timestamp, pd.Timestamp], Objective]


@dataclass(frozen=True, slots=True)
class Fold:
    """One fold: in-sample bars ``[train_first, train_last]``, out-of-sample ``[test_first, test_last]``
    (positions in the timeline, inclusive) and their timestamps."""

    number: int
    train_first: int
    train_last: int
    test_first: int
    test_last: int
    train_start: pd.Timestamp
    train_end: pd.Timestamp
    test_start: pd.Timestamp
    test_end: pd.Timestamp


def _positive_int(value: Any, name: str) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
        raise InvalidInput(f"{name} must be a positive integer, was {value!r}")
    return int(value)


def walk_forward_folds(index: pd.DatetimeIndex, *, train_bars: int, test_bars: int, step_bars: int | None = None,
                       anchored: bool = False) -> list[Fold]:
    """Cut a timeline into walk-forward folds.

    Parameters
    ----------
    index
        The bar times, strictly increasing.
    train_bars
        In-sample length (rolling), or the first in-sample length (anchored).
    test_bars
        Out-of-sample length of every fold.
    step_bars
        How far each fold moves; default ``test_bars`` (out-of-sample windows back to back).
        Must be at least ``test_bars`` so out-of-sample windows never overlap.
    anchored
        Keep the in-sample start at the first bar.

    Returns
    -------
    list of Fold
        Every fold whose out-of-sample window fits in the timeline entirely.

    Raises
    ------
    InvalidInput
        For bad lengths, an unsorted index, or a timeline too short for one fold.
    """
    if not isinstance(index, pd.DatetimeIndex) or not index.is_monotonic_increasing or index.has_duplicates:
        raise InvalidInput("walk-forward needs a strictly increasing DatetimeIndex")
    train = _positive_int(train_bars, "train_bars")
    test = _positive_int(test_bars, "test_bars")
    step = test if step_bars is None else _positive_int(step_bars, "step_bars")
    if step < test:
        raise InvalidInput(f"step_bars ({step}) must be at least test_bars ({test}) so out-of-sample windows "
                           "do not overlap")
    folds = []
    offset = 0
    while offset + train + test <= len(index):
        first = 0 if anchored else offset
        train_last = offset + train - 1
        test_first, test_last = train_last + 1, train_last + test
        folds.append(Fold(len(folds), first, train_last, test_first, test_last, index[first], index[train_last],
                          index[test_first], index[test_last]))
        offset += step
    if not folds:
        raise InvalidInput(f"the timeline has {len(index)} bars, fewer than train_bars + test_bars = {train + test}")
    return folds


@dataclass(frozen=True)
class WalkForwardResult:
    """Per-fold table, the stitched out-of-sample returns and equity, and each fold's sweep."""

    folds: pd.DataFrame
    oos_returns: pd.Series
    oos_equity: pd.Series
    sweeps: tuple[SweepResult, ...]
    metric: str
    anchored: bool

    def efficiency(self) -> float:
        """Mean out-of-sample over mean in-sample metric (Pardo's walk-forward efficiency)."""
        in_sample = float(self.folds[f"is_{self.metric}"].mean())
        out = float(self.folds[f"oos_{self.metric}"].mean())
        return out / in_sample if in_sample else math.nan


def walk_forward(objective_for: WindowObjective, index: pd.DatetimeIndex, space: Mapping[str, Any], *,
                 train_bars: int, test_bars: int, step_bars: int | None = None, anchored: bool = False,
                 method: Literal["grid", "random", "optuna"] = "grid", n_trials: int | None = None, seed: int = 0,
                 metric: str = "sharpe_ratio", direction: Literal["maximize", "minimize"] = "maximize",
                 map_chunks: MapChunks | None = None, chunk_size: int = 16, progress: Progress | None = None,
                 initial_equity: float = 1.0, n_partitions: int = 16) -> WalkForwardResult:
    """Optimise on each in-sample window and evaluate the winner out of sample.

    Parameters
    ----------
    objective_for
        ``objective_for(start, end)`` returns the objective (``evaluate(params) -> dict``,
        with ``"returns"``) restricted to the bars from ``start`` to ``end`` inclusive; it
        may use earlier bars to warm indicators up, never later ones. For a backtest use
        ``BacktestObjective(...).window``.
    index
        The bar times the folds are cut from.
    space, method, n_trials, seed, metric, direction, map_chunks, chunk_size, n_partitions
        As in :func:`bifrost.backtest.optimize.optimize`, for every in-sample sweep.
    train_bars, test_bars, step_bars, anchored
        As in :func:`walk_forward_folds`.
    progress
        ``progress(done, total)`` in evaluations (every in-sample trial and every
        out-of-sample run).
    initial_equity
        Start of the stitched out-of-sample equity curve.

    Returns
    -------
    WalkForwardResult
        ``folds`` has, per fold, the windows, the chosen parameters, the in-sample
        ``is_<metric>`` and the out-of-sample ``oos_<metric>`` and ``oos_total_return``.

    Raises
    ------
    InvalidInput
        For bad windows or space, or an objective without ``"returns"``.
    """
    folds = walk_forward_folds(index, train_bars=train_bars, test_bars=test_bars, step_bars=step_bars,
                               anchored=anchored)
    dims = parameter_space(space)
    if method == "grid":
        per_fold = len(grid_candidates(dims))
    elif n_trials is None or isinstance(n_trials, bool) or not isinstance(n_trials, (int, np.integer)) \
            or n_trials < 1:
        raise InvalidInput(f"{method} search needs n_trials, a positive integer, was {n_trials!r}")
    else:
        per_fold = int(n_trials)
    total = len(folds) * (per_fold + 1)
    rows, sweeps, pieces = [], [], []
    for fold in folds:
        done = fold.number * (per_fold + 1)
        fold_progress = None if progress is None else (lambda d, _t, base=done: progress(base + d, total))
        sweep = optimize(objective_for(fold.train_start, fold.train_end), dims, method=method, n_trials=n_trials,
                         seed=seed + fold.number, metric=metric, direction=direction, map_chunks=map_chunks,
                         chunk_size=chunk_size, progress=fold_progress, n_partitions=n_partitions)
        out = objective_for(fold.test_start, fold.test_end)(dict(sweep.best_params))
        if progress is not None:
            progress(done + per_fold + 1, total)
        if RETURNS_KEY not in out:
            raise InvalidInput("walk-forward needs an objective whose metrics include 'returns'")
        returns = out[RETURNS_KEY]
        returns = returns if isinstance(returns, pd.Series) else pd.Series(np.asarray(returns, dtype="float64"))
        pieces.append(returns.astype("float64"))
        total_return = float(np.prod(1.0 + returns.to_numpy()) - 1.0)
        rows.append({
            "fold": fold.number, "train_start": fold.train_start, "train_end": fold.train_end,
            "test_start": fold.test_start, "test_end": fold.test_end, "train_bars": fold.train_last - fold.train_first + 1,
            "test_bars": fold.test_last - fold.test_first + 1, **{f"param_{k}": v for k, v in sweep.best_params.items()},
            f"is_{metric}": sweep.best_value, f"oos_{metric}": float(out[metric]) if metric in out else math.nan,
            "oos_total_return": total_return,
            "pbo": sweep.pbo.pbo if sweep.pbo is not None else math.nan,
            "deflated_sharpe": sweep.deflated_sharpe.probability if sweep.deflated_sharpe is not None else math.nan,
        })
        sweeps.append(sweep)
    oos = pd.concat(pieces)
    if isinstance(oos.index, pd.DatetimeIndex) and (oos.index.has_duplicates or not oos.index.is_monotonic_increasing):
        raise InvalidInput("the out-of-sample returns of the folds overlap; the objective returned returns outside "
                           "its window")
    oos = oos.rename("returns")
    equity = (initial_equity * (1.0 + oos).cumprod()).rename("equity")
    return WalkForwardResult(folds=pd.DataFrame(rows), oos_returns=oos, oos_equity=equity, sweeps=tuple(sweeps),
                             metric=metric, anchored=anchored)
