"""Almgren-Chriss (2000): the optimal trajectory against the paper's closed forms and a numerical optimum."""

import math

import numpy as np
import pytest

from bifrost.core.errors import InvalidInput
from bifrost.execquality.almgren_chriss import (
    AlmgrenChrissParams,
    efficient_frontier,
    expected_cost,
    optimal_trajectory,
    variance,
)

# The paper's example (section 2.4): S0 = 50, 30 % annual volatility -> sigma = 0.95 $/share/day^0.5,
# X = 10^6 shares over T = 5 days in N = 5 periods, epsilon = 1/16 (half of a 1/8 spread),
# eta = 2.5e-6 (1 % of daily volume costs a spread), gamma = 2.5e-7, lambda = 1e-6.
PAPER = AlmgrenChrissParams(shares=1e6, horizon_days=5, periods=5, sigma=0.95, eta=2.5e-6, gamma=2.5e-7,
                            epsilon=0.0625, risk_aversion=1e-6)


def _closed_form(p: AlmgrenChrissParams, kappa: float) -> tuple[float, float]:
    # Almgren & Chriss (2000), the expressions for E(x) and V(x) of the optimal trajectory (section 2.2)
    X, T, tau = p.shares, p.horizon_days, p.tau
    e = (0.5 * p.gamma * X ** 2 + p.epsilon * X + p.eta_tilde * X ** 2 * math.tanh(0.5 * kappa * tau)
         * (tau * math.sinh(2 * kappa * T) + 2 * T * math.sinh(kappa * tau)) / (2 * tau ** 2 * math.sinh(kappa * T) ** 2))
    v = (0.5 * p.sigma ** 2 * X ** 2 * (tau * math.sinh(kappa * T) * math.cosh(kappa * (T - tau)) - T * math.sinh(kappa * tau))
         / (math.sinh(kappa * T) ** 2 * math.sinh(kappa * tau)))
    return e, v


def test_paper_example_kappa_about_0_6_per_day_and_half_life_1_7_days():
    schedule = optimal_trajectory(PAPER)
    assert schedule.kappa == pytest.approx(0.6, abs=0.02)
    assert schedule.half_life_days == pytest.approx(1.7, abs=0.1)
    # kappa solves 2/tau^2 (cosh(kappa tau) - 1) = lambda sigma^2 / eta_tilde
    assert 2 * (math.cosh(schedule.kappa * PAPER.tau) - 1) / PAPER.tau ** 2 == pytest.approx(
        PAPER.risk_aversion * PAPER.sigma ** 2 / PAPER.eta_tilde)


def test_trajectory_expected_cost_and_variance_match_closed_forms():
    schedule = optimal_trajectory(PAPER)
    k, X, T, tau = schedule.kappa, PAPER.shares, PAPER.horizon_days, PAPER.tau
    t = np.arange(6) * tau
    np.testing.assert_allclose(schedule.holdings, X * np.sinh(k * (T - t)) / math.sinh(k * T), atol=1e-6)
    trades = 2 * math.sinh(0.5 * k * tau) / math.sinh(k * T) * np.cosh(k * (T - (t[1:] - tau / 2))) * X
    np.testing.assert_allclose(schedule.trades, trades, rtol=1e-10)
    e, v = _closed_form(PAPER, k)
    assert schedule.expected_cost == pytest.approx(e, rel=1e-10)
    assert schedule.variance == pytest.approx(v, rel=1e-10)


def test_risk_neutral_trajectory_is_linear_with_the_papers_naive_cost_and_variance():
    p = PAPER.with_risk_aversion(0.0)
    schedule = optimal_trajectory(p)
    X, T, N = p.shares, p.horizon_days, p.periods
    np.testing.assert_allclose(schedule.trades, np.full(N, X / N))
    assert schedule.expected_cost == pytest.approx(0.5 * p.gamma * X ** 2 + p.epsilon * X + p.eta_tilde * X ** 2 / T)
    assert schedule.variance == pytest.approx(p.sigma ** 2 * X ** 2 * T / 3 * (1 - 1 / N) * (1 - 1 / (2 * N)))
    assert schedule.half_life_days == math.inf


def test_closed_form_is_the_numerical_minimum_of_mean_variance_utility():
    p = AlmgrenChrissParams(shares=1e5, horizon_days=1, periods=10, sigma=0.5, eta=2e-5, gamma=1e-6,
                            epsilon=0.01, risk_aversion=2e-5)
    schedule = optimal_trajectory(p)

    # the utility is quadratic in x_1..x_{N-1}; its minimum solves the tridiagonal first-order conditions
    #   (eta_tilde / tau) (2 x_k - x_{k-1} - x_{k+1}) + lambda sigma^2 tau x_k = 0,  x_0 = X, x_N = 0
    n = p.periods - 1
    a = p.eta_tilde / p.tau
    b = p.risk_aversion * p.sigma ** 2 * p.tau
    matrix = np.diag(np.full(n, 2 * a + b)) - np.diag(np.full(n - 1, a), 1) - np.diag(np.full(n - 1, a), -1)
    rhs = np.zeros(n)
    rhs[0] = a * p.shares
    numeric = np.linalg.solve(matrix, rhs)
    np.testing.assert_allclose(schedule.holdings[1:-1], numeric, rtol=1e-9)
    rng = np.random.default_rng(0)
    for _ in range(20):
        x = schedule.holdings.copy()
        x[1:-1] += rng.normal(0, 500, n)
        assert expected_cost(p, x) + p.risk_aversion * variance(p, x) > schedule.utility


def test_efficient_frontier_trades_cost_for_variance():
    frontier = efficient_frontier(PAPER, [0, 1e-7, 1e-6, 1e-5])
    costs = [s.expected_cost for s in frontier]
    variances = [s.variance for s in frontier]
    assert costs == sorted(costs) and variances == sorted(variances, reverse=True)
    # every point is the best schedule for its own lambda: better than the neighbours at that lambda
    for s in frontier:
        for other in frontier:
            assert s.expected_cost + s.risk_aversion * s.variance <= other.expected_cost + s.risk_aversion * other.variance + 1e-6


@pytest.mark.parametrize(("kwargs", "message"), [
    ({"periods": 0}, "periods"),
    ({"eta": -1}, "eta"),
    ({"gamma": 1e-3}, "eta - gamma"),
])
def test_invalid_parameters_raise(kwargs, message):
    base = {"shares": 1e6, "horizon_days": 5, "periods": 5, "sigma": 0.95, "eta": 2.5e-6, "gamma": 2.5e-7}
    with pytest.raises(InvalidInput, match=message):
        AlmgrenChrissParams(**{**base, **kwargs})


def test_holdings_must_start_at_shares_and_end_at_zero():
    with pytest.raises(InvalidInput, match="start at"):
        variance(PAPER, [1.0, 0, 0, 0, 0, 0])
