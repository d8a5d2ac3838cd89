"""Marginal, component (Euler) and incremental VaR.

VaR is positively homogeneous of degree one in the holdings, so Euler's theorem splits it into
components ``w_i * dVaR/dw_i`` that sum to the total. Under the delta-normal model the split is
closed-form; under historical simulation the component of a position is its share of the loss
in the VaR scenario itself (and, for ES, of the mean tail loss), which also sums exactly.

References
----------
P. Jorion, *Value at Risk*, 3rd ed., chapter 7 ("VaR tools": marginal, incremental and
component VaR). D. Tasche, "Risk contributions and performance measurement", 1999.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from bifrost.core.errors import InvalidInput
from bifrost.risk._arrays import (
    confidence_level,
    covariance_matrix,
    horizon,
    returns_matrix,
    weights_vector,
)
from bifrost.risk.var import empirical_var_es

__all__ = ["VarDecomposition", "historical_decomposition", "incremental_var", "parametric_decomposition"]


@dataclass(frozen=True, slots=True, kw_only=True)
class VarDecomposition:
    """Per-position VaR contributions; ``component`` sums to ``var`` (and ``es_component`` to ``es``)."""

    method: str
    confidence: float
    horizon_days: int
    var: float
    es: float
    marginal: np.ndarray
    component: np.ndarray
    es_component: np.ndarray
    names: tuple[str, ...] = field(default=())

    @property
    def component_pct(self) -> np.ndarray:
        """Components as fractions of total VaR."""
        return self.component / self.var if self.var else np.zeros_like(self.component)

    def as_rows(self) -> list[dict[str, Any]]:
        names = self.names or tuple(str(i) for i in range(len(self.component)))
        pct = self.component_pct
        return [{"name": n, "marginal": float(m), "component": float(c), "component_pct": float(p),
                 "es_component": float(e)}
                for n, m, c, p, e in zip(names, self.marginal, self.component, pct, self.es_component, strict=True)]


def _names(obj: Any) -> tuple[str, ...]:
    if isinstance(obj, pd.DataFrame):
        return tuple(str(c) for c in obj.columns)
    if isinstance(obj, pd.Series):
        return tuple(str(i) for i in obj.index)
    return ()


def parametric_decomposition(weights: Any, covariance: Any = None, *, returns: Any = None, confidence: float = 0.99,
                             horizon_days: int = 1, mean: Any = None) -> VarDecomposition:
    """Delta-normal VaR split into marginal and component VaR.

    Give the ``covariance``, or the ``returns`` it would be estimated from (sample covariance,
    ``ddof=1``): then ``S w`` is computed as ``X' (X w) / (T - 1)`` with X the demeaned returns,
    two matrix-vector products instead of forming the N x N matrix.

    Notes
    -----
    With ``s = sqrt(w' S w)``, ``z`` the normal quantile and ``mu`` the mean (zero if omitted)::

        VaR          = z s sqrt(h) - w' mu h
        marginal_i   = z (S w)_i / s sqrt(h) - mu_i h
        component_i  = w_i * marginal_i            (sum_i component_i = VaR)

    ES components use ``phi(z) / alpha`` in place of ``z``.
    """
    if (covariance is None) == (returns is None):
        raise InvalidInput("give either covariance or returns, not both or neither")
    if covariance is not None:
        cov = covariance_matrix(covariance)
        n = cov.shape[0]
        w = weights_vector(weights, n)
        sw = cov @ w
    else:
        matrix = returns_matrix(returns)
        n = matrix.shape[1]
        w = weights_vector(weights, n)
        centred = matrix - matrix.mean(axis=0)
        sw = centred.T @ (centred @ w) / (matrix.shape[0] - 1)
    mu = np.zeros(n) if mean is None else weights_vector(mean, n, field="mean")
    confidence = confidence_level(confidence)
    h = horizon(horizon_days)
    z = float(stats.norm.ppf(confidence))
    es_factor = float(stats.norm.pdf(z) / (1 - confidence))
    sigma = math.sqrt(max(float(w @ sw), 0.0))
    root = math.sqrt(h)
    beta = sw / sigma if sigma > 0 else np.zeros(n)  # d sigma / d w
    marginal = z * beta * root - mu * h
    es_marginal = es_factor * beta * root - mu * h
    return VarDecomposition(method="parametric", confidence=confidence, horizon_days=h,
                            var=z * sigma * root - float(w @ mu) * h, es=es_factor * sigma * root - float(w @ mu) * h,
                            marginal=marginal, component=w * marginal, es_component=w * es_marginal,
                            names=_names(covariance) or _names(returns) or _names(weights))


def historical_decomposition(returns: Any, weights: Any, *, confidence: float = 0.99) -> VarDecomposition:
    """Historical VaR and ES split by position, at the VaR scenario and over the tail.

    The VaR scenario is the ``ceil(n * alpha)``-th worst day (the quantile convention of
    :mod:`bifrost.risk.var`); position i contributes ``-w_i r_i`` on that day, and its ES
    contribution is ``-w_i`` times its mean return over the k worst days. Both sum exactly to
    the totals. Marginal VaR is the component divided by the holding (zero for a zero holding).
    """
    matrix = returns_matrix(returns)
    w = weights_vector(weights, matrix.shape[1])
    confidence = confidence_level(confidence)
    pnl = matrix @ w
    n = pnl.shape[0]
    k = max(1, math.ceil(n * (1 - confidence) - 1e-9))
    order = np.argsort(pnl, kind="stable")
    tail = order[:k]
    scenario = tail[np.argmax(pnl[tail])]  # the k-th worst
    component = -w * matrix[scenario]
    es_component = -w * matrix[tail].mean(axis=0)
    var, es = empirical_var_es(pnl, confidence=confidence)
    with np.errstate(divide="ignore", invalid="ignore"):
        marginal = np.where(w != 0, component / np.where(w != 0, w, 1.0), 0.0)
    return VarDecomposition(method="historical", confidence=confidence, horizon_days=1, var=var, es=es,
                            marginal=marginal, component=component, es_component=es_component,
                            names=_names(returns))


def incremental_var(weights: Any, trade: Any, *, covariance: Any = None, returns: Any = None,
                    confidence: float = 0.99, horizon_days: int = 1) -> dict[str, float]:
    """The change in VaR and ES from adding ``trade`` to ``weights``.

    Parameters
    ----------
    weights
        Current N holdings.
    trade
        N changes to the holdings (the proposed order(s) in the same units).
    covariance
        For the delta-normal model; or give ``returns`` for historical simulation.
    returns
        T x N returns for historical simulation.

    Returns
    -------
    dict
        ``var_before``, ``var_after``, ``incremental_var`` (exact: after minus before),
        ``incremental_var_linear`` (the marginal-VaR approximation ``marginal . trade``),
        ``es_before``, ``es_after``, ``incremental_es``.
    """
    if (covariance is None) == (returns is None):
        raise InvalidInput("give either covariance (delta-normal) or returns (historical), not both or neither")
    if covariance is not None:
        cov = covariance_matrix(covariance)
        w = weights_vector(weights, cov.shape[0])
        dw = weights_vector(trade, cov.shape[0], field="trade")
        before = parametric_decomposition(w, cov, confidence=confidence, horizon_days=horizon_days)
        after = parametric_decomposition(w + dw, cov, confidence=confidence, horizon_days=horizon_days)
    else:
        matrix = returns_matrix(returns)
        w = weights_vector(weights, matrix.shape[1])
        dw = weights_vector(trade, matrix.shape[1], field="trade")
        before = historical_decomposition(matrix, w, confidence=confidence)
        after = historical_decomposition(matrix, w + dw, confidence=confidence)
    return {"var_before": before.var, "var_after": after.var, "incremental_var": after.var - before.var,
            "incremental_var_linear": float(before.marginal @ dw), "es_before": before.es, "es_after": after.es,
            "incremental_es": after.es - before.es}
