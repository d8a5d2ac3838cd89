"""The Almgren-Chriss optimal execution trajectory, its cost, risk and efficient frontier.

Model (Almgren and Chriss 2000, sections 1-2): trade ``X`` shares over ``T`` days in ``N``
periods of ``tau = T / N``. The price moves as an arithmetic random walk with volatility
``sigma`` ($/share/day^0.5); trading ``n_k`` shares in period ``k`` moves the price
permanently by ``gamma * n_k`` and costs, temporarily, ``epsilon * sign(n_k) + eta * n_k / tau``
per share. With holdings ``x_k`` after period ``k`` (``x_0 = X``, ``x_N = 0``)::

    E[cost] = 1/2 gamma X^2 + epsilon sum|n_k| + (eta - gamma tau / 2) / tau * sum n_k^2
    Var[cost] = sigma^2 tau sum_{k=1}^{N} x_k^2

The mean-variance optimal trajectory for risk aversion ``lambda`` is
``x_j = X sinh(kappa (T - t_j)) / sinh(kappa T)`` with ``kappa`` solving
``2 / tau^2 (cosh(kappa tau) - 1) = lambda sigma^2 / eta_tilde``, ``eta_tilde = eta - gamma tau / 2``.

References
----------
Almgren, R. and Chriss, N. (2000), "Optimal Execution of Portfolio Transactions", Journal of
Risk 3(2), 5-39: equations (for E and V) in section 1.5, the trajectory and kappa in section
2.2, the half-life ``theta = 1 / kappa`` in section 2.3; the example (S0 = 50, X = 10^6,
T = 5 days, N = 5, sigma = 0.95, epsilon = 0.0625, eta = 2.5e-6, gamma = 2.5e-7) in
section 2.4, where lambda = 1e-6 gives kappa close to 0.6 per day and a half-life of 1.7 days.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from bifrost.core.errors import InvalidInput

__all__ = ["AlmgrenChrissParams", "Schedule", "efficient_frontier", "expected_cost", "optimal_trajectory",
           "variance"]


def _positive(value: float, name: str, *, allow_zero: bool = False) -> float:
    value = float(value)
    if not math.isfinite(value) or value < 0 or (value == 0 and not allow_zero):
        rule = "non-negative" if allow_zero else "positive"
        raise InvalidInput(f"{name} must be a finite {rule} number, was {value!r}")
    return value


@dataclass(frozen=True, slots=True, kw_only=True)
class AlmgrenChrissParams:
    """Inputs of the model, in shares, days and dollars per share.

    Parameters
    ----------
    shares
        ``X``: shares to trade (the model is symmetric in buys and sells).
    horizon_days
        ``T``.
    periods
        ``N`` (integer >= 1).
    sigma
        Price volatility in $/share/day^0.5 (daily return volatility times price).
    eta
        Temporary impact, $/share per (share/day).
    gamma
        Permanent impact, $/share per share.
    epsilon
        Fixed cost per share (half the spread plus fees).
    risk_aversion
        ``lambda`` in 1/$.
    """

    shares: float
    horizon_days: float
    periods: int
    sigma: float
    eta: float
    gamma: float = 0.0
    epsilon: float = 0.0
    risk_aversion: float = 0.0

    def __post_init__(self) -> None:
        _positive(self.shares, "shares")
        _positive(self.horizon_days, "horizon_days")
        if isinstance(self.periods, bool) or not isinstance(self.periods, int) or self.periods < 1:
            raise InvalidInput(f"periods must be an integer >= 1, was {self.periods!r}")
        _positive(self.sigma, "sigma", allow_zero=True)
        _positive(self.eta, "eta")
        _positive(self.gamma, "gamma", allow_zero=True)
        _positive(self.epsilon, "epsilon", allow_zero=True)
        _positive(self.risk_aversion, "risk_aversion", allow_zero=True)
        if self.eta_tilde <= 0:
            raise InvalidInput(f"eta - gamma * tau / 2 must be positive (eta {self.eta}, gamma {self.gamma}, "
                               f"tau {self.tau}); use more periods or a smaller gamma")

    @property
    def tau(self) -> float:
        return self.horizon_days / self.periods

    @property
    def eta_tilde(self) -> float:
        return self.eta - self.gamma * self.tau / 2.0

    def with_risk_aversion(self, risk_aversion: float) -> AlmgrenChrissParams:
        return AlmgrenChrissParams(shares=self.shares, horizon_days=self.horizon_days, periods=self.periods,
                                   sigma=self.sigma, eta=self.eta, gamma=self.gamma, epsilon=self.epsilon,
                                   risk_aversion=risk_aversion)


@dataclass(frozen=True, slots=True)
class Schedule:
    """An execution schedule with its model statistics.

    ``times_days`` are ``t_0 .. t_N``, ``holdings`` ``x_0 .. x_N``, ``trades`` ``n_1 .. n_N``.
    """

    times_days: np.ndarray
    holdings: np.ndarray
    trades: np.ndarray
    kappa: float
    kappa_tilde: float
    expected_cost: float
    variance: float
    risk_aversion: float

    @property
    def std(self) -> float:
        return math.sqrt(self.variance)

    @property
    def half_life_days(self) -> float:
        """``theta = 1 / kappa``; infinite for the risk-neutral (straight-line) schedule."""
        return math.inf if self.kappa == 0 else 1.0 / self.kappa

    @property
    def utility(self) -> float:
        return self.expected_cost + self.risk_aversion * self.variance


def expected_cost(params: AlmgrenChrissParams, holdings: Sequence[float] | np.ndarray) -> float:
    """Expected cost (dollars) of any trajectory ``x_0 = X, ..., x_N = 0`` under the linear model."""
    x = _holdings(params, holdings)
    n = -np.diff(x)
    return float(0.5 * params.gamma * params.shares ** 2 + params.epsilon * np.abs(n).sum()
                 + params.eta_tilde / params.tau * np.square(n).sum())


def variance(params: AlmgrenChrissParams, holdings: Sequence[float] | np.ndarray) -> float:
    """Variance (dollars squared) of the cost of any trajectory: ``sigma^2 tau sum_{k>=1} x_k^2``."""
    x = _holdings(params, holdings)
    return float(params.sigma ** 2 * params.tau * np.square(x[1:]).sum())


def _holdings(params: AlmgrenChrissParams, holdings: Sequence[float] | np.ndarray) -> np.ndarray:
    x = np.asarray(holdings, dtype="float64")
    if x.shape != (params.periods + 1,):
        raise InvalidInput(f"holdings must have periods + 1 = {params.periods + 1} entries, had {x.shape}")
    if not math.isclose(x[0], params.shares, rel_tol=1e-9) or abs(x[-1]) > 1e-9 * params.shares:
        raise InvalidInput(f"holdings must start at {params.shares} and end at 0, were {x[0]} and {x[-1]}")
    return x


def optimal_trajectory(params: AlmgrenChrissParams) -> Schedule:
    """The mean-variance optimal schedule for ``params.risk_aversion``.

    Returns
    -------
    Schedule
        Holdings, trades, ``kappa`` and ``kappa_tilde`` (1/day), expected cost and variance.
        ``risk_aversion = 0`` gives the straight line (TWAP), the minimum-cost schedule.

    Notes
    -----
    ``kappa_tilde^2 = lambda sigma^2 / eta_tilde``; ``kappa = arccosh(1 + kappa_tilde^2 tau^2 / 2) / tau``;
    ``x_j = X sinh(kappa (T - t_j)) / sinh(kappa T)``. Very large ``kappa T`` (more than 700) would
    overflow ``sinh``; the trajectory is then computed as ``exp(-kappa t_j)`` with the same
    end condition, which it equals to double precision.
    """
    p = params
    times = np.linspace(0.0, p.horizon_days, p.periods + 1)
    kappa_tilde = math.sqrt(p.risk_aversion * p.sigma ** 2 / p.eta_tilde)
    kappa = math.acosh(1.0 + 0.5 * (kappa_tilde * p.tau) ** 2) / p.tau
    if kappa == 0.0:
        holdings = p.shares * (1.0 - times / p.horizon_days)
    elif kappa * p.horizon_days < 700:
        holdings = p.shares * np.sinh(kappa * (p.horizon_days - times)) / math.sinh(kappa * p.horizon_days)
    else:
        holdings = p.shares * (np.exp(-kappa * times) - np.exp(kappa * (times - 2 * p.horizon_days)))
    holdings[0], holdings[-1] = p.shares, 0.0
    trades = -np.diff(holdings)
    return Schedule(times, holdings, trades, kappa, kappa_tilde, expected_cost(p, holdings), variance(p, holdings),
                    p.risk_aversion)


def efficient_frontier(params: AlmgrenChrissParams, risk_aversions: Sequence[float] | np.ndarray) -> list[Schedule]:
    """Optimal schedules across risk aversions: the efficient frontier ``(Var, E)``.

    Raises
    ------
    InvalidInput
        If ``risk_aversions`` is empty or holds a negative value.
    """
    values = [float(v) for v in risk_aversions]
    if not values:
        raise InvalidInput("risk_aversions must not be empty")
    return [optimal_trajectory(params.with_risk_aversion(v)) for v in sorted(values)]
