"""Correlation and covariance estimators, diversification measures and a clustered ordering.

All estimators take T x N returns (array or DataFrame) and return an N x N array, or a
DataFrame labelled like the input's columns when given a DataFrame.

References
----------
J.P. Morgan/Reuters, *RiskMetrics Technical Document*, 4th ed., 1996, section 5.2 (EWMA with
lambda = 0.94 for daily data). O. Ledoit and M. Wolf, "A well-conditioned estimator for
large-dimensional covariance matrices", J. Multivariate Analysis 88 (2004). Y. Choueifaty and
Y. Coignard, "Toward maximum diversification", J. Portfolio Management 35 (2008).
A. Meucci, "Managing diversification", Risk 22 (2009) (effective number of bets).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from bifrost.core.errors import InvalidInput
from bifrost.risk._arrays import covariance_matrix, returns_matrix, weights_vector

__all__ = [
    "clustered_order",
    "correlation_from_covariance",
    "diversification_ratio",
    "effective_number_of_bets",
    "ewma_covariance",
    "ledoit_wolf_covariance",
    "pearson_correlation",
    "rolling_correlation",
    "sample_covariance",
    "spearman_correlation",
]


def _labelled(values: np.ndarray, like: Any) -> np.ndarray | pd.DataFrame:
    if isinstance(like, pd.DataFrame):
        return pd.DataFrame(values, index=like.columns, columns=like.columns)
    return values


def sample_covariance(returns: Any) -> np.ndarray | pd.DataFrame:
    """Sample covariance with ``ddof=1``."""
    matrix = returns_matrix(returns)
    return _labelled(np.atleast_2d(np.cov(matrix, rowvar=False, ddof=1)), returns)


def pearson_correlation(returns: Any) -> np.ndarray | pd.DataFrame:
    """Pearson product-moment correlation."""
    matrix = returns_matrix(returns, min_rows=3)
    return _labelled(np.atleast_2d(np.corrcoef(matrix, rowvar=False)), returns)


def spearman_correlation(returns: Any) -> np.ndarray | pd.DataFrame:
    """Spearman rank correlation (scipy.stats.spearmanr)."""
    matrix = returns_matrix(returns, min_rows=3)
    if matrix.shape[1] == 1:
        return _labelled(np.ones((1, 1)), returns)
    result = stats.spearmanr(matrix).statistic
    return _labelled(np.atleast_2d(np.asarray(result, dtype=float)), returns)


def ewma_covariance(returns: Any, *, decay: float = 0.94, demean: bool = False) -> np.ndarray | pd.DataFrame:
    """RiskMetrics exponentially weighted covariance as of the last observation.

    Notes
    -----
    ``S_t = decay * S_{t-1} + (1 - decay) r_t r_t'`` with zero mean (RiskMetrics' daily
    convention; ``demean=True`` subtracts the weighted mean). Written as the weighted sum
    ``S_T = sum_i w_i r_{T-i} r_{T-i}'`` with ``w_i`` proportional to ``decay^i``, normalised to
    sum to one over the available history, so a short history is not biased toward zero (the
    RiskMetrics document's finite-sample form; the recursion started from the first outer product
    gives the same weights up to that normalisation).
    """
    matrix = returns_matrix(returns)
    if not 0 < decay < 1:
        raise InvalidInput(f"decay (lambda) must be in (0, 1), was {decay}")
    t = matrix.shape[0]
    weights = decay ** np.arange(t - 1, -1, -1, dtype=float)
    weights /= weights.sum()
    centred = matrix - weights @ matrix if demean else matrix
    cov = (centred * weights[:, None]).T @ centred
    return _labelled(cov, returns)


def ledoit_wolf_covariance(returns: Any) -> tuple[np.ndarray | pd.DataFrame, float]:
    """Ledoit-Wolf shrinkage covariance (scikit-learn) and the shrinkage intensity.

    scikit-learn's estimator shrinks toward a scaled identity and uses the maximum-likelihood
    (``1/T``) sample covariance as its starting point.
    """
    from sklearn.covariance import LedoitWolf

    matrix = returns_matrix(returns, min_rows=3)
    fitted = LedoitWolf().fit(matrix)
    return _labelled(fitted.covariance_, returns), float(fitted.shrinkage_)


def correlation_from_covariance(covariance: Any) -> np.ndarray | pd.DataFrame:
    """``C_ij = S_ij / sqrt(S_ii S_jj)``."""
    cov = covariance_matrix(covariance)
    sd = np.sqrt(np.diag(cov))
    if np.any(sd <= 0):
        raise InvalidInput("covariance has a zero variance; correlation is undefined for that asset")
    return _labelled(cov / np.outer(sd, sd), covariance)


def rolling_correlation(returns: pd.DataFrame, *, window: int, first: str | None = None,
                        second: str | None = None) -> pd.DataFrame | pd.Series:
    """Rolling Pearson correlation over ``window`` observations (pandas).

    With ``first`` and ``second`` the rolling correlation of that pair (a Series); otherwise
    the rolling matrix in pandas' long form (index: date, asset).
    """
    if not isinstance(returns, pd.DataFrame):
        raise InvalidInput("rolling_correlation needs a DataFrame of returns indexed by date")
    returns_matrix(returns)
    if window < 3 or window > len(returns):
        raise InvalidInput(f"window must be between 3 and the number of observations ({len(returns)}), was {window}")
    if first is not None or second is not None:
        for name in (first, second):
            if name not in returns.columns:
                raise InvalidInput(f"unknown column {name!r} for rolling correlation")
        return returns[first].rolling(window).corr(returns[second])
    return returns.rolling(window).corr()


def diversification_ratio(weights: Any, covariance: Any) -> float:
    """Choueifaty's diversification ratio ``sum_i |w_i| s_i / sqrt(w' S w)`` (1 for one asset, more is better)."""
    cov = covariance_matrix(covariance)
    w = weights_vector(weights, cov.shape[0])
    sigma = math.sqrt(max(float(w @ cov @ w), 0.0))
    if sigma == 0:
        raise InvalidInput("portfolio variance is zero; the diversification ratio is undefined")
    return float(np.abs(w) @ np.sqrt(np.diag(cov)) / sigma)


def effective_number_of_bets(weights: Any, covariance: Any) -> float:
    """Meucci's effective number of (uncorrelated principal-component) bets.

    Notes
    -----
    With ``S = E diag(l) E'``, the portfolio's exposure to principal component k is
    ``b_k = (E' w)_k``; its share of variance ``p_k = b_k^2 l_k / (w' S w)``. The effective
    number of bets is ``exp(-sum_k p_k ln p_k)``, between 1 (one bet) and N (equal risk in every
    component).
    """
    cov = covariance_matrix(covariance)
    w = weights_vector(weights, cov.shape[0])
    eigenvalues, eigenvectors = np.linalg.eigh(cov)
    exposure = eigenvectors.T @ w
    contribution = exposure ** 2 * np.clip(eigenvalues, 0.0, None)
    total = contribution.sum()
    if total <= 0:
        raise InvalidInput("portfolio variance is zero; the effective number of bets is undefined")
    p = contribution / total
    p = p[p > 0]
    return float(np.exp(-np.sum(p * np.log(p))))


def clustered_order(correlation: Any, *, method: str = "average") -> list[int]:
    """Column order that puts correlated assets next to each other (for a clustered heatmap).

    Hierarchical clustering (scipy) on the distance ``sqrt((1 - rho) / 2)``; the order is the
    dendrogram's leaf order.
    """
    from scipy.cluster.hierarchy import leaves_list, linkage
    from scipy.spatial.distance import squareform

    corr = covariance_matrix(correlation, field="correlation")
    n = corr.shape[0]
    if n < 3:
        return list(range(n))
    distance = np.sqrt(np.clip((1.0 - corr) / 2.0, 0.0, None))
    np.fill_diagonal(distance, 0.0)
    return [int(i) for i in leaves_list(linkage(squareform(distance, checks=False), method=method))]
