"""Marginal, component and incremental VaR: Euler sums, finite differences, Jorion's two-asset example."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from bifrost.core.errors import InvalidInput
from bifrost.risk import (
    historical_decomposition,
    incremental_var,
    parametric_decomposition,
    parametric_var,
)


def test_jorion_two_currency_example():
    # Jorion, Value at Risk (3rd ed.), section 7.2: $2m CAD (sigma 5%) and $1m EUR (sigma 12%),
    # uncorrelated, 95% VaR with z = 1.65: portfolio VaR $257,738, component VaR $105,630 (CAD) and
    # $152,108 (EUR). Jorion rounds z to 1.65, so scale our exact-z figures by 1.65 / z.
    values = np.array([2e6, 1e6])
    cov = np.diag([0.05 ** 2, 0.12 ** 2])
    result = parametric_decomposition(values, cov, confidence=0.95)
    factor = 1.65 / stats.norm.ppf(0.95)
    assert result.var * factor == pytest.approx(257_738, abs=1)
    np.testing.assert_allclose(result.component * factor, [105_630, 152_108], atol=1)


def test_components_sum_to_var_and_match_finite_differences(stock_returns):
    weights = np.array([0.2, 0.1, 0.05, 0.15, 0.1, -0.05, 0.1, 0.05, 0.2, 0.1])
    cov = np.cov(stock_returns.to_numpy(), rowvar=False)
    result = parametric_decomposition(weights, cov, confidence=0.99, horizon_days=10)
    assert result.component.sum() == pytest.approx(result.var, rel=1e-12)
    assert result.es_component.sum() == pytest.approx(result.es, rel=1e-12)

    def var_of(w):
        return stats.norm.ppf(0.99) * math.sqrt(w @ cov @ w) * math.sqrt(10)

    step = 1e-6
    numeric = [(var_of(weights + step * e) - var_of(weights - step * e)) / (2 * step) for e in np.eye(10)]
    np.testing.assert_allclose(result.marginal, numeric, rtol=1e-6)
    # the covariance-based total equals the delta-normal VaR of the weighted series
    assert result.var == pytest.approx(parametric_var(stock_returns, weights, horizon_days=10).var, rel=1e-12)


def test_components_with_mean_still_sum_to_var():
    cov = np.array([[0.04, 0.01], [0.01, 0.09]]) / 252
    mean = np.array([0.0004, 0.0008])
    result = parametric_decomposition([0.5, 0.5], cov, mean=mean, confidence=0.99, horizon_days=5)
    assert result.component.sum() == pytest.approx(result.var, rel=1e-12)


def test_historical_components_sum_exactly_to_var_and_es(stock_returns):
    weights = pd.Series(0.1, index=stock_returns.columns)
    result = historical_decomposition(stock_returns, weights, confidence=0.99)
    assert result.component.sum() == pytest.approx(result.var, rel=1e-12)
    assert result.es_component.sum() == pytest.approx(result.es, rel=1e-12)
    assert [row["name"] for row in result.as_rows()][:2] == ["AAPL", "GE"]


def test_incremental_var_exact_and_linear_agree_for_small_trades(stock_returns):
    cov = np.cov(stock_returns.to_numpy(), rowvar=False)
    weights = np.full(10, 0.1)
    trade = np.zeros(10)
    trade[2] = 0.0001
    result = incremental_var(weights, trade, covariance=cov)
    assert result["incremental_var"] == pytest.approx(result["var_after"] - result["var_before"], abs=1e-15)
    assert result["incremental_var"] == pytest.approx(result["incremental_var_linear"], rel=5e-4)


def test_incremental_var_of_a_hedge_is_negative(stock_returns):
    cov = np.cov(stock_returns.to_numpy(), rowvar=False)
    weights = np.full(10, 0.1)
    hedge = -0.05 * np.ones(10)
    assert incremental_var(weights, hedge, covariance=cov)["incremental_var"] < 0
    assert incremental_var(weights, hedge, returns=stock_returns)["incremental_var"] < 0


def test_incremental_var_needs_one_model():
    with pytest.raises(InvalidInput, match="either covariance"):
        incremental_var([1.0], [1.0])


def test_decomposition_from_returns_equals_decomposition_from_covariance(stock_returns):
    weights = np.linspace(0.02, 0.2, 10)
    from_cov = parametric_decomposition(weights, np.cov(stock_returns.to_numpy(), rowvar=False))
    from_returns = parametric_decomposition(weights, returns=stock_returns)
    np.testing.assert_allclose(from_returns.component, from_cov.component, rtol=1e-10)
    assert from_returns.names == tuple(stock_returns.columns)
    with pytest.raises(InvalidInput, match="either covariance or returns"):
        parametric_decomposition(weights)
