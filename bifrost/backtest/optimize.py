"""Parameter sweeps: grid, seeded random and Optuna search, with overfitting guards.

A sweep evaluates an *objective* ``evaluate(params) -> dict of metrics`` for many
parameter sets. The objective must be a pure, picklable callable (a module-level
function, a ``functools.partial`` of one, or an instance of a module-level class such
as :class:`BacktestObjective`) so that chunks of parameter sets can run in another
process: ``map_chunks(evaluate, chunks)`` decides where. The default runs them here,
one after another; the web layer passes one that sends each chunk to a Celery worker.

If the objective's metrics hold ``"returns"`` (per-period returns, a Series or array),
the sweep keeps them as one column per trial and reports the guards of
:mod:`bifrost.analytics.overfitting`: the deflated Sharpe ratio of the best trial given
the number of trials (Bailey & López de Prado 2014) and the probability of backtest
overfitting by CSCV (Bailey, Borwein, López de Prado & Zhu 2017).

Parameter spaces are written with :class:`IntRange`, :class:`FloatRange`,
:class:`Choice` and :class:`LogUniform`, or as JSON (what the portal and API send):
a list is a choice, ``{"low", "high", "step"}`` a range (integer when all three are
integers), ``{"low", "high", "log": true}`` log-uniform.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal, TypeAlias

import numpy as np
import pandas as pd

from bifrost.core.errors import InvalidInput

__all__ = [
    "BacktestObjective",
    "Choice",
    "FloatRange",
    "IntRange",
    "LogUniform",
    "SweepResult",
    "grid_candidates",
    "in_process",
    "optimize",
    "parameter_space",
    "random_candidates",
    "returns_matrix",
]

Params: TypeAlias = dict[str, Any]
Metrics: TypeAlias = Mapping[str, Any]
Objective: TypeAlias = Callable[[Params], Metrics]
MapChunks: TypeAlias = Callable[[Objective, list[list[Params]]], Iterable[list[Metrics]]]
Progress: TypeAlias = Callable[[int, int], None]

MAX_GRID = 100_000
RETURNS_KEY = "returns"


def _number(value: Any, name: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)) \
            or not math.isfinite(float(value)):
        raise InvalidInput(f"{name} must be a finite number, was {value!r}")
    return value


def _is_int(value: Any) -> bool:
    return isinstance(value, (int, np.integer)) and not isinstance(value, bool)


@dataclass(frozen=True, slots=True)
class IntRange:
    """Integers ``low, low + step, ..., <= high``."""

    low: int
    high: int
    step: int = 1

    def __post_init__(self) -> None:
        for name in ("low", "high", "step"):
            if not _is_int(getattr(self, name)):
                raise InvalidInput(f"IntRange {name} must be an integer, was {getattr(self, name)!r}")
        if self.step <= 0:
            raise InvalidInput(f"IntRange step must be positive, was {self.step}")
        if self.high < self.low:
            raise InvalidInput(f"IntRange high {self.high} is below low {self.low}")

    def values(self) -> list[int]:
        return list(range(int(self.low), int(self.high) + 1, int(self.step)))

    def sample(self, rng: np.random.Generator) -> int:
        return int(self.low + self.step * rng.integers(0, len(self.values())))


@dataclass(frozen=True, slots=True)
class FloatRange:
    """Floats in ``[low, high]``; with ``step``, only ``low + k * step`` (grids need a step)."""

    low: float
    high: float
    step: float | None = None

    def __post_init__(self) -> None:
        _number(self.low, "FloatRange low")
        _number(self.high, "FloatRange high")
        if self.high < self.low:
            raise InvalidInput(f"FloatRange high {self.high} is below low {self.low}")
        if self.step is not None and _number(self.step, "FloatRange step") <= 0:
            raise InvalidInput(f"FloatRange step must be positive, was {self.step}")

    def values(self) -> list[float]:
        if self.step is None:
            raise InvalidInput("a grid over a FloatRange needs a step (or use random/optuna search)")
        count = math.floor((self.high - self.low) / self.step + 1e-9) + 1
        return [round(float(self.low) + i * float(self.step), 12) for i in range(count)]

    def sample(self, rng: np.random.Generator) -> float:
        if self.step is not None:
            return self.values()[int(rng.integers(0, len(self.values())))]
        return float(rng.uniform(self.low, self.high))


@dataclass(frozen=True, slots=True)
class LogUniform:
    """Floats in ``[low, high]`` whose logarithm is uniform (``low > 0``)."""

    low: float
    high: float

    def __post_init__(self) -> None:
        if _number(self.low, "LogUniform low") <= 0:
            raise InvalidInput(f"LogUniform low must be positive, was {self.low}")
        if _number(self.high, "LogUniform high") < self.low:
            raise InvalidInput(f"LogUniform high {self.high} is below low {self.low}")

    def values(self) -> list[float]:
        raise InvalidInput("a grid cannot enumerate a LogUniform range; list its values with Choice")

    def sample(self, rng: np.random.Generator) -> float:
        return float(min(self.high, max(self.low, math.exp(rng.uniform(math.log(self.low), math.log(self.high))))))


@dataclass(frozen=True, slots=True)
class Choice:
    """One of the listed values."""

    options: tuple[Any, ...]

    def __init__(self, options: Iterable[Any]) -> None:
        values = tuple(options)
        if not values:
            raise InvalidInput("Choice needs at least one value")
        object.__setattr__(self, "options", values)

    def values(self) -> list[Any]:
        return list(self.options)

    def sample(self, rng: np.random.Generator) -> Any:
        return self.options[int(rng.integers(0, len(self.options)))]


Dimension: TypeAlias = IntRange | FloatRange | LogUniform | Choice


def _dimension(name: str, spec: Any) -> Dimension:
    if isinstance(spec, (IntRange, FloatRange, LogUniform, Choice)):
        return spec
    if isinstance(spec, (list, tuple)):
        return Choice(spec)
    if isinstance(spec, Mapping):
        unknown = set(spec) - {"low", "high", "step", "log"}
        if unknown or "low" not in spec or "high" not in spec:
            raise InvalidInput(f"space {name} must be a list or {{low, high[, step, log]}}, was {dict(spec)!r}")
        low, high, step, log = spec["low"], spec["high"], spec.get("step"), bool(spec.get("log", False))
        if log and step is not None:
            raise InvalidInput(f"space {name}: use either step or log, not both")
        if log:
            return LogUniform(low, high)
        if _is_int(low) and _is_int(high) and (step is None or _is_int(step)):
            return IntRange(low, high, 1 if step is None else step)
        return FloatRange(float(_number(low, f"{name}.low")), float(_number(high, f"{name}.high")),
                          None if step is None else float(_number(step, f"{name}.step")))
    raise InvalidInput(f"space {name} must be a list, a range object or a dimension, was {spec!r}")


def parameter_space(space: Mapping[str, Any]) -> dict[str, Dimension]:
    """Validate a parameter space (dimensions or JSON) and return it as dimensions.

    Raises
    ------
    InvalidInput
        If the space is empty or a dimension is malformed, naming the parameter.
    """
    if not isinstance(space, Mapping) or not space:
        raise InvalidInput('a sweep needs a non-empty parameter space, e.g. {"fast": [5, 10], "slow": [30, 50]}')
    out: dict[str, Dimension] = {}
    for name, spec in space.items():
        try:
            out[str(name)] = _dimension(str(name), spec)
        except InvalidInput as exc:
            message = str(exc)
            raise InvalidInput(message if message.startswith("space ") else f"space {name}: {message}") from None
    return out


def _plain(value: Any) -> Any:
    if isinstance(value, np.integer):
        return int(value)
    if isinstance(value, np.floating):
        return float(value)
    return value


def grid_candidates(space: Mapping[str, Any]) -> list[Params]:
    """Every combination of the space's values (the Cartesian product, last name fastest).

    Raises
    ------
    InvalidInput
        For a float range without a step, a log-uniform range, or more than
        ``MAX_GRID`` combinations.
    """
    dims = parameter_space(space)
    values = {name: dim.values() for name, dim in dims.items()}
    size = math.prod(len(v) for v in values.values())
    if size > MAX_GRID:
        raise InvalidInput(f"the grid has {size} combinations, more than the limit {MAX_GRID}; "
                           "use random or optuna search")
    names = list(values)
    return [{n: _plain(v) for n, v in zip(names, combo, strict=True)}
            for combo in itertools.product(*values.values())]


def random_candidates(space: Mapping[str, Any], *, n_trials: int, seed: int | np.random.Generator) -> list[Params]:
    """``n_trials`` parameter sets drawn independently from the space with a seeded generator.

    Integer and stepped ranges draw uniformly among their values, float ranges uniformly
    on ``[low, high]``, log-uniform ranges uniformly in the logarithm, choices uniformly.
    The same seed gives the same list.
    """
    if isinstance(n_trials, bool) or not _is_int(n_trials) or n_trials < 1:
        raise InvalidInput(f"n_trials must be a positive integer, was {n_trials!r}")
    dims = parameter_space(space)
    rng = seed if isinstance(seed, np.random.Generator) else np.random.default_rng(seed)
    return [{name: _plain(dim.sample(rng)) for name, dim in dims.items()} for _ in range(int(n_trials))]


def in_process(evaluate: Objective, chunks: list[list[Params]]) -> Iterator[list[Metrics]]:
    """The default ``map_chunks``: evaluate the chunks here, in order."""
    for chunk in chunks:
        yield [evaluate(params) for params in chunk]


def returns_matrix(trial_returns: Mapping[int, Any]) -> pd.DataFrame:
    """One column of per-period returns per trial, aligned on the union of their times.

    A trial without a return at some time (it had no bar there) gets 0: it was not
    invested. Arrays without an index must all have the same length.
    """
    columns = {}
    for number, values in trial_returns.items():
        series = values if isinstance(values, pd.Series) else pd.Series(np.asarray(values, dtype="float64"))
        columns[number] = series.astype("float64")
    matrix = pd.DataFrame(columns).sort_index().fillna(0.0)
    if not np.isfinite(matrix.to_numpy()).all():
        raise InvalidInput("trial returns must be finite")
    return matrix


@dataclass(frozen=True)
class SweepResult:
    """A finished sweep.

    ``trials`` has one row per trial: ``trial``, the parameters (prefixed ``param_``
    when a name clashes with a metric) and the scalar metrics. ``returns`` (T x N, one
    column per trial number) is there when the objective returned ``"returns"``, and
    then so are ``deflated_sharpe`` (of the best trial, deflated for all the trials)
    and, with at least two trials, ``pbo`` (CSCV).
    """

    trials: pd.DataFrame
    method: str
    metric: str
    direction: str
    best_trial: int
    best_params: Params
    best_value: float
    param_names: tuple[str, ...]
    returns: pd.DataFrame | None = None
    deflated_sharpe: Any = None  # bifrost.analytics.DeflatedSharpeResult
    pbo: Any = None  # bifrost.analytics.BacktestOverfittingResult
    notes: tuple[str, ...] = field(default=())

    def summary(self) -> dict[str, Any]:
        """Plain values for storage and JSON: best trial, value and the guards."""
        return {
            "method": self.method, "metric": self.metric, "direction": self.direction, "n_trials": len(self.trials),
            "best_trial": self.best_trial, "best_params": dict(self.best_params), "best_value": self.best_value,
            "deflated_sharpe": self.deflated_sharpe.to_dict() if self.deflated_sharpe is not None else None,
            "pbo": self.pbo.to_dict() if self.pbo is not None else None, "notes": list(self.notes),
        }


def _check_metrics(metrics: Any, params: Params, metric: str) -> dict[str, Any]:
    if not isinstance(metrics, Mapping):
        raise InvalidInput(f"the objective must return a dict of metrics, returned {type(metrics).__name__} "
                           f"for {params}")
    if metric not in metrics:
        raise InvalidInput(f"the objective's metrics lack {metric!r} (have {sorted(metrics)}) for {params}")
    return dict(metrics)


def _score(value: Any, direction: str) -> float:
    try:
        number = float(value)
    except (TypeError, ValueError):
        return -math.inf
    if not math.isfinite(number):
        return -math.inf
    return number if direction == "maximize" else -number


def _chunks(candidates: Sequence[Params], chunk_size: int) -> list[list[Params]]:
    return [list(candidates[i:i + chunk_size]) for i in range(0, len(candidates), chunk_size)]


def _evaluate_all(evaluate: Objective, candidates: list[Params], *, map_chunks: MapChunks, chunk_size: int,
                  progress: Progress | None, done: int, total: int, metric: str) -> list[dict[str, Any]]:
    chunks = _chunks(candidates, chunk_size)
    results: list[dict[str, Any]] = []
    for chunk, metrics in zip(chunks, map_chunks(evaluate, chunks), strict=True):
        metrics = list(metrics)
        if len(metrics) != len(chunk):
            raise InvalidInput(f"map_chunks returned {len(metrics)} results for a chunk of {len(chunk)}")
        results.extend(_check_metrics(m, p, metric) for m, p in zip(metrics, chunk, strict=True))
        done += len(chunk)
        if progress is not None:
            progress(done, total)
    return results


def _optuna_distribution(name: str, dim: Dimension):
    import optuna

    if isinstance(dim, IntRange):
        return optuna.distributions.IntDistribution(dim.low, dim.high, step=dim.step)
    if isinstance(dim, FloatRange):
        if dim.step is not None:
            values = dim.values()
            return optuna.distributions.FloatDistribution(values[0], values[-1], step=dim.step)
        return optuna.distributions.FloatDistribution(dim.low, dim.high)
    if isinstance(dim, LogUniform):
        return optuna.distributions.FloatDistribution(dim.low, dim.high, log=True)
    return optuna.distributions.CategoricalDistribution(dim.options)


def _optuna_search(evaluate: Objective, dims: dict[str, Dimension], *, n_trials: int, seed: int, metric: str,
                   direction: str, map_chunks: MapChunks, chunk_size: int, progress: Progress | None
                   ) -> tuple[list[Params], list[dict[str, Any]]]:
    import optuna

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    sampler = optuna.samplers.TPESampler(seed=seed)
    study = optuna.create_study(direction=direction, sampler=sampler)
    distributions = {name: _optuna_distribution(name, dim) for name, dim in dims.items()}
    candidates: list[Params] = []
    results: list[dict[str, Any]] = []
    while len(candidates) < n_trials:
        batch = min(chunk_size, n_trials - len(candidates))  # one chunk per ask/tell round
        asked = [study.ask(distributions) for _ in range(batch)]
        params = [{name: _plain(trial.params[name]) for name in dims} for trial in asked]
        metrics = _evaluate_all(evaluate, params, map_chunks=map_chunks, chunk_size=batch, progress=progress,
                                done=len(candidates), total=n_trials, metric=metric)
        for trial, row in zip(asked, metrics, strict=True):
            value = _score(row[metric], "maximize")
            if math.isfinite(value):
                study.tell(trial, value)
            else:
                study.tell(trial, state=optuna.trial.TrialState.FAIL)
        candidates.extend(params)
        results.extend(metrics)
    return candidates, results


def optimize(evaluate: Objective, space: Mapping[str, Any], *, method: Literal["grid", "random", "optuna"] = "grid",
             n_trials: int | None = None, seed: int = 0, metric: str = "sharpe_ratio",
             direction: Literal["maximize", "minimize"] = "maximize", map_chunks: MapChunks | None = None,
             chunk_size: int = 16, progress: Progress | None = None, n_partitions: int = 16) -> SweepResult:
    """Search a parameter space for the best value of one metric.

    Parameters
    ----------
    evaluate
        Pure, picklable ``evaluate(params) -> dict`` of metrics; optionally with
        ``"returns"`` (per-period returns) for the overfitting guards.
    space
        Parameter name -> dimension (or its JSON form); see :func:`parameter_space`.
    method
        ``"grid"`` (every combination), ``"random"`` (``n_trials`` seeded draws) or
        ``"optuna"`` (``n_trials`` of Optuna's TPE sampler, seeded).
    n_trials
        Number of trials for random and Optuna search (ignored by grid).
    seed
        Seed of the random draws and of the TPE sampler.
    metric, direction
        The metric that ranks trials and whether higher or lower is better. Trials whose
        metric is NaN or missing a number rank last.
    map_chunks
        ``map_chunks(evaluate, chunks)`` yields the metrics of each chunk, in order;
        default :func:`in_process`.
    chunk_size
        Parameter sets per chunk (and per Optuna ask/tell round).
    progress
        Called with ``(done, total)`` after every chunk.
    n_partitions
        CSCV blocks for the PBO (even); the oldest ``T mod n_partitions`` return rows are
        left out of it so the blocks are equal.

    Returns
    -------
    SweepResult

    Raises
    ------
    InvalidInput
        For a bad space, method, direction, trial count or chunk size, or an objective
        that does not return the metric.
    """
    if method not in ("grid", "random", "optuna"):
        raise InvalidInput(f"method must be grid, random or optuna, was {method!r}")
    if direction not in ("maximize", "minimize"):
        raise InvalidInput(f"direction must be maximize or minimize, was {direction!r}")
    if isinstance(chunk_size, bool) or not _is_int(chunk_size) or chunk_size < 1:
        raise InvalidInput(f"chunk_size must be a positive integer, was {chunk_size!r}")
    if not callable(evaluate):
        raise InvalidInput("evaluate must be a callable evaluate(params) -> dict of metrics")
    dims = parameter_space(space)
    mapper = map_chunks or in_process
    if method in ("random", "optuna") and (n_trials is None or isinstance(n_trials, bool) or not _is_int(n_trials)
                                           or n_trials < 1):
        raise InvalidInput(f"{method} search needs n_trials, a positive integer, was {n_trials!r}")
    if method == "optuna":
        candidates, results = _optuna_search(evaluate, dims, n_trials=int(n_trials), seed=seed, metric=metric,
                                             direction=direction, map_chunks=mapper, chunk_size=chunk_size,
                                             progress=progress)
    else:
        candidates = grid_candidates(dims) if method == "grid" else random_candidates(dims, n_trials=int(n_trials),
                                                                                       seed=seed)
        results = _evaluate_all(evaluate, candidates, map_chunks=mapper, chunk_size=chunk_size, progress=progress,
                                done=0, total=len(candidates), metric=metric)
    return _sweep_result(candidates, results, dims=dims, method=method, metric=metric, direction=direction,
                         n_partitions=n_partitions)


def _sweep_result(candidates: list[Params], results: list[dict[str, Any]], *, dims: Mapping[str, Dimension],
                  method: str, metric: str, direction: str, n_partitions: int) -> SweepResult:
    from bifrost.analytics import (
        deflated_sharpe_ratio_from_trials,
        probability_of_backtest_overfitting,
    )

    rows, trial_returns = [], {}
    metric_names = {k for r in results for k in r if k != RETURNS_KEY}
    for number, (params, metrics) in enumerate(zip(candidates, results, strict=True)):
        row: dict[str, Any] = {"trial": number}
        for name, value in params.items():
            row[f"param_{name}" if name in metric_names or name == "trial" else name] = value
        for key, value in metrics.items():
            if key == RETURNS_KEY:
                trial_returns[number] = value
            elif np.isscalar(value) or value is None:
                row[key] = value
        rows.append(row)
    trials = pd.DataFrame(rows)
    scores = [_score(r[metric], direction) for r in results]
    best = int(np.argmax(scores))  # first on ties
    notes: list[str] = []
    returns = dsr = pbo = None
    if trial_returns and len(trial_returns) == len(results):
        returns = returns_matrix(trial_returns)
        best_column = returns[best]
        if len(returns) >= 2 and np.ptp(best_column.to_numpy()) > 0:
            dsr = deflated_sharpe_ratio_from_trials(returns, selected=best, n_trials=len(results))
        else:
            notes.append("deflated Sharpe ratio not computed: the best trial's returns are constant")
        usable = len(returns) - len(returns) % n_partitions
        if len(results) >= 2 and usable >= max(4, n_partitions):
            # A trial flat over some blocks (no position) makes the analytics evaluate sign(0) * inf inside an
            # np.where that discards it; silence that harmless warning rather than fail the sweep.
            with np.errstate(invalid="ignore"):
                pbo = probability_of_backtest_overfitting(returns.iloc[len(returns) - usable:],
                                                          n_partitions=n_partitions)
        else:
            notes.append(f"PBO not computed: needs at least 2 trials and {n_partitions} return rows")
    elif trial_returns:
        notes.append("overfitting guards not computed: only some trials returned their returns")
    return SweepResult(trials=trials, method=method, metric=metric, direction=direction, best_trial=best,
                       best_params=dict(candidates[best]), best_value=float(results[best][metric]),
                       param_names=tuple(dims), returns=returns, deflated_sharpe=dsr, pbo=pbo, notes=tuple(notes))


class BacktestObjective:
    """A picklable objective that backtests a registered strategy with the given params.

    ``BacktestObjective("sma_crossover", {"GOOG": bars}, commission_bps=10)(params)``
    runs :func:`bifrost.backtest.run` and returns the scalar metrics of the record's
    performance report plus ``"returns"``. With ``start``/``end`` only the returns in
    ``[start, end]`` are scored; bars before ``start`` (at most ``warmup_bars`` of them)
    still feed the indicators, and nothing after ``end`` is given to the engine.
    """

    def __init__(self, strategy: str, data: Mapping[str, pd.DataFrame], *, start: pd.Timestamp | None = None,
                 end: pd.Timestamp | None = None, warmup_bars: int = 0, fixed_params: Mapping[str, Any] | None = None,
                 **run_kwargs: Any) -> None:
        self.strategy = strategy
        self.data = dict(data)
        self.start = None if start is None else pd.Timestamp(start)
        self.end = None if end is None else pd.Timestamp(end)
        self.warmup_bars = int(warmup_bars)
        self.fixed_params = dict(fixed_params or {})
        self.run_kwargs = run_kwargs

    def window(self, start: pd.Timestamp | None, end: pd.Timestamp | None, *, warmup_bars: int | None = None
               ) -> BacktestObjective:
        """The same objective restricted to ``[start, end]`` (bar-start times, inclusive)."""
        return BacktestObjective(self.strategy, self.data, start=start, end=end,
                                 warmup_bars=self.warmup_bars if warmup_bars is None else warmup_bars,
                                 fixed_params=self.fixed_params, **self.run_kwargs)

    def _sliced(self) -> dict[str, pd.DataFrame]:
        out = {}
        for symbol, frame in self.data.items():
            selected = frame
            if self.end is not None:
                selected = selected[selected.index <= self.end]
            if self.start is not None:
                first = int(np.searchsorted(selected.index, self.start))
                selected = selected.iloc[max(0, first - self.warmup_bars):]
            out[symbol] = selected
        return out

    def __call__(self, params: Params) -> dict[str, Any]:
        from bifrost.backtest import run

        record = run(self.strategy, self._sliced(), params={**self.fixed_params, **params}, **self.run_kwargs)
        returns = record.returns()
        if self.start is not None:
            # Equity is stamped at bar ends; a bar starting at or after ``start`` ends after it.
            returns = returns[returns.index > self.start]
        if returns.empty:
            raise InvalidInput(f"no returns in the window {self.start} .. {self.end}")
        from bifrost.analytics import performance_report

        report = record.report()
        if self.start is not None:
            report = performance_report(returns, periods_per_year=report.periods_per_year)
        metrics = {k: v for k, v in report.to_dict().items() if isinstance(v, (int, float)) and not isinstance(v, bool)}
        metrics["final_equity"] = record.final_equity
        metrics["n_fills"] = len(record.fills)
        metrics[RETURNS_KEY] = returns
        return metrics
