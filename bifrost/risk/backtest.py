"""VaR backtesting: exceptions, Kupiec, Christoffersen and the Basel traffic light.

An exception is a day whose loss exceeds that day's VaR forecast (``-pnl_t > var_t``); the
forecast must be made before the day (out of sample), which :func:`rolling_var_forecasts` does.

References
----------
P. Kupiec, "Techniques for verifying the accuracy of risk measurement models", Journal of
Derivatives 3 (1995). P. Christoffersen, "Evaluating interval forecasts", International Economic
Review 39 (1998). Basel Committee on Banking Supervision, "Supervisory framework for the use of
backtesting in conjunction with the internal models approach to market risk capital
requirements", January 1996, table 2.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats
from scipy.special import xlogy

from bifrost.core.errors import InvalidInput
from bifrost.risk._arrays import confidence_level

__all__ = [
    "BaselZone",
    "VarBacktest",
    "basel_zone",
    "christoffersen_test",
    "kupiec_test",
    "rolling_var_forecasts",
    "var_backtest",
]

# Basel 1996, table 2: plus factor to the capital multiplier by exceptions in 250 days at 99%
_PLUS_FACTOR_250 = {5: 0.40, 6: 0.50, 7: 0.65, 8: 0.75, 9: 0.85}


@dataclass(frozen=True, slots=True)
class BaselZone:
    zone: str  # "green", "yellow" or "red"
    cumulative_probability: float
    plus_factor: float | None


def basel_zone(exceptions: int, observations: int = 250, *, confidence: float = 0.99) -> BaselZone:
    """Basel traffic-light zone for a number of exceptions.

    Zones follow the binomial cumulative probability ``P(X <= exceptions)`` of an accurate model
    (X ~ Binomial(observations, 1 - confidence)): green below 95%, yellow from 95% to below
    99.99%, red from 99.99%. For 250 observations at 99% this is the committee's table: green 0-4,
    yellow 5-9, red 10 or more, with plus factors 0.40, 0.50, 0.65, 0.75, 0.85 in the yellow zone
    and 1.00 in the red (``None`` for other sample sizes, which the table does not cover).
    """
    confidence = confidence_level(confidence)
    if observations < 1 or not 0 <= exceptions <= observations:
        raise InvalidInput(f"exceptions must be between 0 and observations ({observations}), was {exceptions}")
    cumulative = float(stats.binom.cdf(exceptions, observations, 1 - confidence))
    # the committee's table rounds to 4 digits (99.99%); compare with the same precision
    rounded = round(cumulative, 4)
    zone = "green" if rounded < 0.95 else "yellow" if rounded < 0.9999 else "red"
    plus = None
    if observations == 250 and abs(confidence - 0.99) < 1e-12:
        plus = 0.0 if zone == "green" else 1.0 if zone == "red" else _PLUS_FACTOR_250[exceptions]
    return BaselZone(zone, cumulative, plus)


def kupiec_test(exceptions: int, observations: int, *, confidence: float = 0.99) -> tuple[float, float]:
    """Kupiec's proportion-of-failures likelihood ratio and its chi-square(1) p-value.

    ``LR = -2 ln[(1-p)^(n-x) p^x] + 2 ln[(1-x/n)^(n-x) (x/n)^x]`` with ``p = 1 - confidence``.
    """
    confidence = confidence_level(confidence)
    n, x = observations, exceptions
    if n < 1 or not 0 <= x <= n:
        raise InvalidInput(f"exceptions must be between 0 and observations ({n}), was {x}")
    p = 1 - confidence
    phat = x / n
    log_null = xlogy(n - x, 1 - p) + xlogy(x, p)
    log_alt = xlogy(n - x, 1 - phat) + xlogy(x, phat)
    lr = max(0.0, float(-2 * (log_null - log_alt)))
    return lr, float(stats.chi2.sf(lr, 1))


def christoffersen_test(hits: Any) -> tuple[float, float, dict[str, int]]:
    """Christoffersen's independence likelihood ratio, its chi-square(1) p-value and the transition counts.

    ``hits`` is the 0/1 exception sequence. With ``n_ij`` the number of days in state j after a
    day in state i, ``pi0 = n01 / (n00 + n01)``, ``pi1 = n11 / (n10 + n11)``,
    ``pi = (n01 + n11) / (n - 1)``::

        LR_ind = -2 ln[(1-pi)^(n00+n10) pi^(n01+n11)] + 2 ln[(1-pi0)^n00 pi0^n01 (1-pi1)^n10 pi1^n11]
    """
    seq = np.asarray(hits).astype(int).ravel()
    if seq.shape[0] < 2 or not np.isin(seq, (0, 1)).all():
        raise InvalidInput("hits must be a 0/1 sequence of at least two days")
    prev, curr = seq[:-1], seq[1:]
    n00 = int(np.sum((prev == 0) & (curr == 0)))
    n01 = int(np.sum((prev == 0) & (curr == 1)))
    n10 = int(np.sum((prev == 1) & (curr == 0)))
    n11 = int(np.sum((prev == 1) & (curr == 1)))
    pi0 = n01 / (n00 + n01) if n00 + n01 else 0.0
    pi1 = n11 / (n10 + n11) if n10 + n11 else 0.0
    pi = (n01 + n11) / (n00 + n01 + n10 + n11)
    log_null = xlogy(n00 + n10, 1 - pi) + xlogy(n01 + n11, pi)
    log_alt = xlogy(n00, 1 - pi0) + xlogy(n01, pi0) + xlogy(n10, 1 - pi1) + xlogy(n11, pi1)
    lr = max(0.0, float(-2 * (log_null - log_alt)))
    return lr, float(stats.chi2.sf(lr, 1)), {"n00": n00, "n01": n01, "n10": n10, "n11": n11}


@dataclass(frozen=True, slots=True, kw_only=True)
class VarBacktest:
    confidence: float
    observations: int
    exceptions: int
    expected_exceptions: float
    exception_rate: float
    kupiec_lr: float
    kupiec_pvalue: float
    independence_lr: float
    independence_pvalue: float
    conditional_coverage_lr: float
    conditional_coverage_pvalue: float
    zone: str
    zone_cumulative_probability: float
    plus_factor: float | None
    transitions: dict[str, int]

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def var_backtest(pnl: Any, var_forecasts: Any, *, confidence: float = 0.99) -> VarBacktest:
    """Compare realised P&L with VaR forecasts made the day before.

    Parameters
    ----------
    pnl
        Realised daily P&L (or returns), length n.
    var_forecasts
        VaR for each of those days (positive numbers for losses), same units and length.
    confidence
        The VaR's confidence level.

    Notes
    -----
    Conditional coverage is ``LR_cc = LR_pof + LR_ind``, chi-square with 2 degrees of freedom.
    The traffic-light zone uses the actual number of observations (see :func:`basel_zone`).
    """
    confidence = confidence_level(confidence)
    realised = np.asarray(pnl, dtype=float).ravel()
    forecasts = np.asarray(var_forecasts, dtype=float).ravel()
    if realised.shape != forecasts.shape:
        raise InvalidInput(f"pnl and var_forecasts must have the same length, had {realised.shape[0]} "
                           f"and {forecasts.shape[0]}")
    if realised.shape[0] < 2 or not (np.isfinite(realised).all() and np.isfinite(forecasts).all()):
        raise InvalidInput("pnl and var_forecasts need at least two finite values each")
    hits = (-realised > forecasts).astype(int)
    n, x = hits.shape[0], int(hits.sum())
    pof, pof_p = kupiec_test(x, n, confidence=confidence)
    ind, ind_p, transitions = christoffersen_test(hits)
    zone = basel_zone(x, n, confidence=confidence)
    return VarBacktest(confidence=confidence, observations=n, exceptions=x, expected_exceptions=n * (1 - confidence),
                       exception_rate=x / n, kupiec_lr=pof, kupiec_pvalue=pof_p, independence_lr=ind,
                       independence_pvalue=ind_p, conditional_coverage_lr=pof + ind,
                       conditional_coverage_pvalue=float(stats.chi2.sf(pof + ind, 2)), zone=zone.zone,
                       zone_cumulative_probability=zone.cumulative_probability, plus_factor=zone.plus_factor,
                       transitions=transitions)


def rolling_var_forecasts(pnl: Any, *, window: int = 250, confidence: float = 0.99,
                          estimator: Callable[[np.ndarray, float], float] | str = "historical") -> np.ndarray:
    """One-day-ahead VaR for each day after the first ``window``, from the ``window`` days before it.

    ``estimator`` is ``"historical"`` (the module's quantile convention), ``"parametric"``
    (zero-mean normal), or a callable ``f(history, confidence) -> var``. The result has
    ``len(pnl) - window`` forecasts, aligned with ``pnl[window:]``.
    """
    confidence = confidence_level(confidence)
    values = pnl.to_numpy(dtype=float) if isinstance(pnl, pd.Series) else np.asarray(pnl, dtype=float).ravel()
    if window < 20 or values.shape[0] <= window:
        raise InvalidInput(f"window must be at least 20 and shorter than the history ({values.shape[0]}), "
                           f"was {window}")
    if not np.isfinite(values).all():
        raise InvalidInput("pnl must be finite")
    n = values.shape[0] - window
    if estimator == "historical":
        windows = np.lib.stride_tricks.sliding_window_view(values, window)[:n]
        k = max(1, math.ceil(window * (1 - confidence) - 1e-9))
        return -np.partition(windows, k - 1, axis=1)[:, k - 1]
    if estimator == "parametric":
        windows = np.lib.stride_tricks.sliding_window_view(values, window)[:n]
        return stats.norm.ppf(confidence) * windows.std(axis=1, ddof=1)
    if callable(estimator):
        return np.array([estimator(values[i:i + window], confidence) for i in range(n)])
    raise InvalidInput(f"estimator must be 'historical', 'parametric' or a callable, was {estimator!r}")
