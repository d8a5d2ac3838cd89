"""Correlation and covariance estimators against pandas, NumPy and the published formulas."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from bifrost.core.errors import InvalidInput
from bifrost.risk import (
    clustered_order,
    correlation_from_covariance,
    diversification_ratio,
    effective_number_of_bets,
    ewma_covariance,
    ledoit_wolf_covariance,
    pearson_correlation,
    rolling_correlation,
    spearman_correlation,
)


def test_pearson_and_spearman_match_pandas(stock_returns):
    pd.testing.assert_frame_equal(pearson_correlation(stock_returns), stock_returns.corr(), atol=1e-12)
    pd.testing.assert_frame_equal(spearman_correlation(stock_returns), stock_returns.corr(method="spearman"),
                                  atol=1e-12)


def test_ewma_matches_riskmetrics_recursion(stock_returns):
    # RiskMetrics Technical Document (1996) eq. 5.20: S_t = lambda S_{t-1} + (1 - lambda) r_t r_t'.
    returns = stock_returns.iloc[-1000:].to_numpy()
    decay = 0.94
    recursion = np.zeros((10, 10))
    for row in returns:
        recursion = decay * recursion + (1 - decay) * np.outer(row, row)
    recursion /= 1 - decay ** len(returns)  # the finite-sample normalisation (weights sum to one)
    np.testing.assert_allclose(ewma_covariance(returns, decay=decay), recursion, rtol=1e-10)


def test_ewma_variance_of_single_series_matches_pandas_ewm(stock_returns):
    series = stock_returns["AAPL"].iloc[-500:]
    reference = (series ** 2).ewm(alpha=0.06, adjust=True).mean().iloc[-1]
    assert ewma_covariance(series.to_numpy(), decay=0.94)[0, 0] == pytest.approx(reference, rel=1e-10)


def test_ledoit_wolf_matches_the_2004_formula(stock_returns):
    # Ledoit and Wolf (2004), lemma 3.2 / theorem 3.4, written out in NumPy.
    x = stock_returns.iloc[-300:].to_numpy()
    n, p = x.shape
    x = x - x.mean(axis=0)
    sample = x.T @ x / n
    mu = np.trace(sample) / p
    delta2 = np.sum((sample - mu * np.eye(p)) ** 2) / p
    beta_bar2 = sum(np.sum((np.outer(row, row) - sample) ** 2) for row in x) / n ** 2 / p
    shrinkage = min(beta_bar2, delta2) / delta2
    reference = shrinkage * mu * np.eye(p) + (1 - shrinkage) * sample
    covariance, intensity = ledoit_wolf_covariance(stock_returns.iloc[-300:])
    assert intensity == pytest.approx(shrinkage, rel=1e-8)
    np.testing.assert_allclose(covariance.to_numpy(), reference, rtol=1e-8)


def test_rolling_pair_correlation_matches_pandas(stock_returns):
    rolled = rolling_correlation(stock_returns, window=60, first="AAPL", second="JPM")
    reference = stock_returns["AAPL"].rolling(60).corr(stock_returns["JPM"])
    pd.testing.assert_series_equal(rolled, reference)
    with pytest.raises(InvalidInput, match="window must be between"):
        rolling_correlation(stock_returns, window=2)


def test_diversification_ratio_and_enb_limiting_cases():
    uncorrelated = np.diag([0.04, 0.04, 0.04, 0.04])
    equal = np.full(4, 0.25)
    assert diversification_ratio(equal, uncorrelated) == pytest.approx(2.0)  # sqrt(N)
    assert effective_number_of_bets(equal, uncorrelated) == pytest.approx(4.0)
    perfectly_correlated = np.full((4, 4), 0.04)
    assert diversification_ratio(equal, perfectly_correlated) == pytest.approx(1.0)
    assert effective_number_of_bets(equal, perfectly_correlated) == pytest.approx(1.0)
    assert effective_number_of_bets([1, 0, 0, 0], uncorrelated) == pytest.approx(1.0)


def test_correlation_from_covariance_and_clustered_order_groups_blocks():
    block = np.array([[1, .9, .1, .1], [.9, 1, .1, .1], [.1, .1, 1, .8], [.1, .1, .8, 1]])
    sd = np.array([0.1, 0.2, 0.3, 0.4])
    np.testing.assert_allclose(correlation_from_covariance(block * np.outer(sd, sd)), block)
    order = clustered_order(block[[0, 2, 1, 3]][:, [0, 2, 1, 3]])  # shuffled: a, c, b, d
    pairs = {frozenset(order[:2]), frozenset(order[2:])}
    assert pairs == {frozenset({0, 2}), frozenset({1, 3})}
    assert math.isclose(diversification_ratio([1.0], [[0.01]]), 1.0)
