"""Parameter spaces of a sweep, as JSON, turned into candidates by ``bifrost.backtest.optimize``.

A space maps each parameter to a list of values (a choice) or a range
``{"low", "high"[, "step"]}`` (integers when all are integers) or ``{"low", "high", "log": true}``;
see :func:`bifrost.backtest.parameter_space`. This module adds what the stored,
distributed sweep needs on top: the JSON kept on the sweep row, error messages that name
the parameter, and the matching ``optuna.distributions`` for ask/tell in a worker.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from bifrost.backtest.optimize import (
    FloatRange,
    IntRange,
    LogUniform,
    parameter_space,
)
from bifrost.backtest.optimize import grid_candidates as _grid
from bifrost.backtest.optimize import random_candidates as _random
from bifrost.core.errors import InvalidInput

MAX_TRIALS = 20_000


def check_space(space: Mapping[str, Any]) -> dict[str, Any]:
    """Validate a JSON space; return it as plain JSON (lists and range dicts) for storage.

    Raises
    ------
    InvalidInput
        If it is empty or a dimension is malformed (naming the parameter).
    """
    parameter_space(space)
    return {str(k): (list(v) if isinstance(v, (list, tuple)) else dict(v)) for k, v in space.items()}


def grid_candidates(space: Mapping[str, Any]) -> list[dict[str, Any]]:
    """Every combination of the space (``optimize.grid_candidates``), at most ``MAX_TRIALS``."""
    dims = parameter_space(space)
    for name, dim in dims.items():
        if isinstance(dim, LogUniform) or (isinstance(dim, FloatRange) and dim.step is None):
            raise InvalidInput(f"grid search needs a step for range {name} (or list its values)")
    candidates = _grid(dims)
    if len(candidates) > MAX_TRIALS:
        raise InvalidInput(f"the grid has {len(candidates)} combinations, more than the limit {MAX_TRIALS}; "
                           "use random or optuna search")
    return candidates


def random_candidates(space: Mapping[str, Any], *, n: int, seed: int) -> list[dict[str, Any]]:
    """``n`` seeded draws (``optimize.random_candidates``): the same seed gives the same list."""
    return _random(space, n_trials=n, seed=seed)


def optuna_distributions(space: Mapping[str, Any]) -> dict[str, Any]:
    """The space as ``optuna.distributions`` for ``study.ask``."""
    from optuna.distributions import CategoricalDistribution, FloatDistribution, IntDistribution

    out: dict[str, Any] = {}
    for name, dim in parameter_space(space).items():
        if isinstance(dim, IntRange):
            out[name] = IntDistribution(dim.low, dim.high, step=dim.step)
        elif isinstance(dim, FloatRange):
            high = dim.values()[-1] if dim.step is not None else dim.high
            out[name] = FloatDistribution(dim.low, high, step=dim.step)
        elif isinstance(dim, LogUniform):
            out[name] = FloatDistribution(dim.low, dim.high, log=True)
        else:
            out[name] = CategoricalDistribution(dim.options)
    return out
