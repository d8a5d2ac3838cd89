"""VaR and ES: published constants, independent NumPy/SciPy computations, and limiting cases.

Tolerances are stated per test: exact formulas to 1e-10, Monte Carlo estimates to a few
standard errors.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from arch import arch_model
from scipy import stats

from bifrost.core.errors import InvalidInput
from bifrost.risk import (
    cornish_fisher_var,
    empirical_var_es,
    filtered_historical_var,
    historical_var,
    horizon_returns,
    monte_carlo_var,
    normal_var_es,
    parametric_var,
)


def test_normal_var_es_standard_normal_matches_published_constants():
    # Jorion, Value at Risk (3rd ed.), table 5-1: z(99%) = 2.326, z(95%) = 1.645;
    # McNeil, Frey, Embrechts, Quantitative Risk Management (2005), example 2.18: ES_0.99 = 2.665 for N(0,1).
    var99, es99 = normal_var_es(1.0, confidence=0.99)
    var95, es95 = normal_var_es(1.0, confidence=0.95)
    assert var99 == pytest.approx(2.326, abs=5e-4) and es99 == pytest.approx(2.665, abs=5e-4)
    assert var95 == pytest.approx(1.645, abs=5e-4) and es95 == pytest.approx(2.063, abs=5e-4)


def test_normal_var_jorion_ten_day_example_scales_by_root_ten():
    # Jorion ch. 5: a position with 1-day sigma of $1m has 99% 10-day VaR = 2.326 * 1m * sqrt(10) = $7.36m.
    var, _ = normal_var_es(1_000_000, confidence=0.99, horizon_days=10)
    assert var == pytest.approx(7_356_000, rel=5e-4)


def test_empirical_var_follows_inverted_cdf_convention(rng):
    pnl = rng.standard_normal(1000)
    var, es = empirical_var_es(pnl, confidence=0.99)
    ordered = np.sort(pnl)
    assert var == -ordered[9]  # the 10th worst of 1,000 (k = ceil(1000 * 0.01) = 10)
    assert var == -np.quantile(pnl, 0.01, method="inverted_cdf")
    assert es == pytest.approx(-ordered[:10].mean(), abs=1e-15)


def test_empirical_var_250_days_uses_third_worst():
    pnl = np.arange(1, 251, dtype=float) - 100.0  # losses 99, 98, 97, ...
    var, es = empirical_var_es(pnl, confidence=0.99)  # k = ceil(2.5) = 3
    assert var == 97.0 and es == pytest.approx(98.0)


def test_historical_var_portfolio_equals_var_of_weighted_returns(stock_returns):
    weights = np.full(stock_returns.shape[1], 0.1)
    estimate = historical_var(stock_returns, weights, confidence=0.975)
    reference = -np.quantile(stock_returns.to_numpy() @ weights, 0.025, method="inverted_cdf")
    assert estimate.var == pytest.approx(reference, abs=1e-15) and estimate.es >= estimate.var


def test_historical_var_sqrt_scaling_is_exactly_root_h(stock_returns):
    weights = np.full(stock_returns.shape[1], 0.1)
    one = historical_var(stock_returns, weights, confidence=0.99)
    ten = historical_var(stock_returns, weights, confidence=0.99, horizon_days=10)
    assert ten.var == pytest.approx(one.var * math.sqrt(10), rel=1e-12) and ten.scaling == "sqrt"


def test_overlapping_horizon_compounds_each_window(stock_returns):
    returns = stock_returns.iloc[:300]
    scenarios = horizon_returns(returns, 5, scaling="overlapping")
    reference = (1 + returns).rolling(5).apply(np.prod, raw=True).iloc[4:] - 1
    assert scenarios.shape == (296, returns.shape[1])
    np.testing.assert_allclose(scenarios, reference.to_numpy(), rtol=1e-10, atol=1e-14)


def test_overlapping_and_bootstrap_ten_day_var_are_near_sqrt_rule(stock_returns):
    weights = np.full(stock_returns.shape[1], 0.1)
    sqrt_rule = historical_var(stock_returns, weights, horizon_days=10)
    overlapping = historical_var(stock_returns, weights, horizon_days=10, scaling="overlapping")
    boot = historical_var(stock_returns, weights, horizon_days=10, scaling="bootstrap", seed=7, n_paths=20_000)
    boot_again = historical_var(stock_returns, weights, horizon_days=10, scaling="bootstrap", seed=7, n_paths=20_000)
    assert boot.var == boot_again.var  # seeded
    # the three 10-day figures estimate the same quantity; fat tails and autocorrelation keep them
    # apart by tens of percent, not multiples
    assert 0.6 < overlapping.var / sqrt_rule.var < 1.4 and 0.6 < boot.var / sqrt_rule.var < 1.4


def test_parametric_var_matches_numpy_portfolio_sigma(stock_returns):
    weights = np.linspace(0.05, 0.15, stock_returns.shape[1])
    pnl = stock_returns.to_numpy() @ weights
    z = stats.norm.ppf(0.99)
    no_mean = parametric_var(stock_returns, weights)
    with_mean = parametric_var(stock_returns, weights, include_mean=True, horizon_days=10)
    assert no_mean.var == pytest.approx(z * pnl.std(ddof=1), rel=1e-12)
    assert with_mean.var == pytest.approx(z * pnl.std(ddof=1) * math.sqrt(10) - pnl.mean() * 10, rel=1e-12)
    assert no_mean.es == pytest.approx(pnl.std(ddof=1) * stats.norm.pdf(z) / 0.01, rel=1e-12)


def test_cornish_fisher_reduces_to_normal_without_skew_or_kurtosis():
    # symmetric sample with the kurtosis of a normal: antithetic normal quantiles
    u = (np.arange(1, 5001) - 0.5) / 5000
    sample = stats.norm.ppf(u) * 0.01
    cf = cornish_fisher_var(sample, include_mean=False)
    normal = parametric_var(sample)
    assert cf.var == pytest.approx(normal.var, rel=2e-3)
    assert cf.es == pytest.approx(normal.es, rel=5e-3)


def test_cornish_fisher_matches_independent_expansion(stock_returns):
    pnl = stock_returns["AMD"].to_numpy()
    s, k = stats.skew(pnl, bias=False), stats.kurtosis(pnl, bias=False)
    z = stats.norm.ppf(0.01)
    z_cf = z + (z * z - 1) * s / 6 + (z ** 3 - 3 * z) * k / 24 - (2 * z ** 3 - 5 * z) * s * s / 36
    reference = -(pnl.mean() + z_cf * pnl.std(ddof=1))
    assert cornish_fisher_var(pnl).var == pytest.approx(reference, rel=1e-12)


def test_cornish_fisher_es_is_the_tail_average_of_the_cf_quantile(stock_returns):
    pnl = stock_returns["BAC"].to_numpy()
    s, k = stats.skew(pnl, bias=False), stats.kurtosis(pnl, bias=False)

    def quantile(u):
        z = stats.norm.ppf(u)
        return z + (z * z - 1) * s / 6 + (z ** 3 - 3 * z) * k / 24 - (2 * z ** 3 - 5 * z) * s * s / 36

    from scipy.integrate import quad

    tail = quad(quantile, 0, 0.01, limit=200)[0] / 0.01
    reference = -(pnl.mean() + tail * pnl.std(ddof=1))
    assert cornish_fisher_var(pnl).es == pytest.approx(reference, rel=1e-7)


def test_monte_carlo_normal_converges_to_parametric(stock_returns):
    weights = np.full(stock_returns.shape[1], 0.1)
    cov = np.cov(stock_returns.to_numpy(), rowvar=False)
    sigma = math.sqrt(weights @ cov @ weights)
    mc = monte_carlo_var(weights, covariance=cov, n_scenarios=200_000, seed=3)
    again = monte_carlo_var(weights, covariance=cov, n_scenarios=200_000, seed=3)
    assert mc.var == again.var  # seeded
    # standard error of the 99% quantile with 200k draws is about 0.3%; allow 1.5%
    assert mc.var == pytest.approx(stats.norm.ppf(0.99) * sigma, rel=0.015)
    assert mc.es == pytest.approx(sigma * stats.norm.pdf(stats.norm.ppf(0.99)) / 0.01, rel=0.015)


def test_monte_carlo_student_t_matches_scaled_t_quantile():
    cov = np.array([[0.0004, 0.0001], [0.0001, 0.0009]])
    weights = np.array([0.6, 0.4])
    sigma = math.sqrt(weights @ cov @ weights)
    dof = 4.0
    mc = monte_carlo_var(weights, covariance=cov, n_scenarios=400_000, distribution="t", dof=dof, seed=11,
                         horizon_days=1)
    # a linear combination of a multivariate t is a univariate t with the same dof
    reference = stats.t.ppf(0.99, dof) * math.sqrt((dof - 2) / dof) * sigma
    assert mc.var == pytest.approx(reference, rel=0.02)
    assert mc.var > stats.norm.ppf(0.99) * sigma  # fatter tail than the normal at 99%


def test_monte_carlo_rejects_bad_covariance():
    with pytest.raises(InvalidInput, match="positive semi-definite"):
        monte_carlo_var([1, 1], covariance=[[1.0, 2.0], [2.0, 1.0]], seed=1)
    with pytest.raises(InvalidInput, match="dof must be greater than 2"):
        monte_carlo_var([1.0], covariance=[[1.0]], distribution="t", dof=2)


def test_filtered_historical_matches_garch_forecast_times_residual_quantile(stock_returns):
    pnl = stock_returns["JPM"].to_numpy()[-2000:]
    estimate = filtered_historical_var(pnl, confidence=0.99, n_paths=40_000, seed=5)
    again = filtered_historical_var(pnl, confidence=0.99, n_paths=40_000, seed=5)
    # independent: fit the same model, then sigma_{T+1} x the empirical 1% quantile of standardised residuals
    scale = pnl.std(ddof=1)
    fit = arch_model(pnl / scale, mean="Constant", vol="GARCH", p=1, q=1, rescale=False).fit(disp="off")
    std_resid = (fit.resid / fit.conditional_volatility)
    sigma_next = math.sqrt(fit.forecast(horizon=1, reindex=False).variance.iloc[-1, 0])
    reference = -(fit.params["mu"] + sigma_next * np.quantile(std_resid, 0.01)) * scale
    assert estimate.var == again.var
    assert estimate.var == pytest.approx(reference, rel=0.05)  # 40k bootstrap draws around the quantile


def test_filtered_historical_reacts_to_recent_volatility(stock_returns):
    calm = stock_returns["XOM"].loc["2005":"2006"].to_numpy()
    stormy = np.concatenate([calm, stock_returns["XOM"].loc["2008-09":"2008-11"].to_numpy()])
    assert (filtered_historical_var(stormy, seed=1, n_paths=5000).var
            > 2 * filtered_historical_var(calm, seed=1, n_paths=5000).var)


@pytest.mark.parametrize(("kwargs", "fragment"), [
    ({"confidence": 1.0}, "confidence must be in"),
    ({"horizon_days": 0}, "horizon_days must be a positive"),
    ({"horizon_days": 2.5}, "horizon_days must be a positive"),
    ({"scaling": "cube"}, "scaling must be one of"),
])
def test_bad_parameters_name_the_problem(kwargs, fragment):
    with pytest.raises(InvalidInput, match=fragment):
        historical_var(np.zeros(10), **kwargs)


def test_nan_returns_are_refused():
    frame = pd.DataFrame({"A": [0.01, np.nan, 0.02], "B": [0.0, 0.01, 0.02]})
    with pytest.raises(InvalidInput, match="1 NaN or infinite"):
        parametric_var(frame, [0.5, 0.5])
    with pytest.raises(InvalidInput, match="one value per asset"):
        parametric_var(frame.fillna(0), [1.0])
