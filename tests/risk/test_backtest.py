"""VaR backtests: the Basel traffic-light table, Kupiec's non-rejection regions (Jorion), and
Christoffersen's statistic computed independently; the backtest of the platform's own VaR on
real multi-stock data."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from bifrost.core.errors import InvalidInput
from bifrost.risk import (
    basel_zone,
    christoffersen_test,
    historical_var,
    kupiec_test,
    rolling_var_forecasts,
    var_backtest,
)

# Basel Committee (1996), "Supervisory framework for the use of backtesting", table 2
# (250 observations, 99% VaR): zone, plus factor, cumulative probability.
BASEL_TABLE = {
    0: ("green", 0.00, 0.0811), 1: ("green", 0.00, 0.2858), 2: ("green", 0.00, 0.5432),
    3: ("green", 0.00, 0.7581), 4: ("green", 0.00, 0.8922), 5: ("yellow", 0.40, 0.9588),
    6: ("yellow", 0.50, 0.9863), 7: ("yellow", 0.65, 0.9960), 8: ("yellow", 0.75, 0.9989),
    9: ("yellow", 0.85, 0.9997), 10: ("red", 1.00, 0.9999), 11: ("red", 1.00, 1.0000),
}


@pytest.mark.parametrize("exceptions", sorted(BASEL_TABLE))
def test_basel_zone_matches_committee_table(exceptions):
    zone, plus, cumulative = BASEL_TABLE[exceptions]
    result = basel_zone(exceptions, 250, confidence=0.99)
    assert (result.zone, result.plus_factor) == (zone, plus)
    assert result.cumulative_probability == pytest.approx(cumulative, abs=5e-5)


def _kupiec_reference(x: int, n: int, p: float) -> float:
    # LR = 2 [log L(x/n) - log L(p)]; the binomial coefficient cancels
    return 2 * (stats.binom.logpmf(x, n, x / n) - stats.binom.logpmf(x, n, p))


@pytest.mark.parametrize(("n", "x"), [(250, 0), (250, 4), (250, 7), (1000, 10), (1000, 25), (500, 500)])
def test_kupiec_matches_binomial_likelihood_ratio(n, x):
    lr, pvalue = kupiec_test(x, n, confidence=0.99)
    reference = _kupiec_reference(x, n, 0.01)
    assert lr == pytest.approx(reference, rel=1e-10, abs=1e-12)
    assert pvalue == pytest.approx(stats.chi2.sf(reference, 1), rel=1e-10)


@pytest.mark.parametrize(("n", "low", "high"), [(510, 1, 11), (1000, 4, 17)])
def test_kupiec_non_rejection_region_matches_jorion(n, low, high):
    # Jorion, Value at Risk (3rd ed.), table 6-3, p = 1%, 95% test: 1 < N < 11 (T = 510), 4 < N < 17 (T = 1000)
    assert kupiec_test(low, n)[1] < 0.05 and kupiec_test(high, n)[1] < 0.05
    assert all(kupiec_test(x, n)[1] >= 0.05 for x in range(low + 1, high))


def _christoffersen_reference(hits: list[int]) -> float:
    counts = {(i, j): 0 for i in (0, 1) for j in (0, 1)}
    for a, b in zip(hits, hits[1:], strict=False):
        counts[(a, b)] += 1
    n00, n01, n10, n11 = counts[(0, 0)], counts[(0, 1)], counts[(1, 0)], counts[(1, 1)]
    pi0, pi1 = n01 / (n00 + n01), n11 / (n10 + n11)
    pi = (n01 + n11) / (n00 + n01 + n10 + n11)

    def ll(k, prob):
        return k * math.log(prob) if k else 0.0

    null = ll(n00 + n10, 1 - pi) + ll(n01 + n11, pi)
    alt = ll(n00, 1 - pi0) + ll(n01, pi0) + ll(n10, 1 - pi1) + ll(n11, pi1)
    return -2 * (null - alt)


def test_christoffersen_clustered_exceptions_are_rejected():
    hits = [0] * 240 + [1, 1, 1, 1, 0, 0, 1, 1, 0, 0]
    lr, pvalue, transitions = christoffersen_test(hits)
    assert lr == pytest.approx(_christoffersen_reference(hits), rel=1e-12)
    assert transitions == {"n00": 241, "n01": 2, "n10": 2, "n11": 4}
    assert pvalue < 0.01


def test_christoffersen_spread_exceptions_are_not_rejected():
    hits = [0] * 250
    for i in (20, 70, 120, 170, 220):
        hits[i] = 1
    lr, pvalue, _ = christoffersen_test(hits)
    assert lr == pytest.approx(_christoffersen_reference(hits), rel=1e-12) and pvalue > 0.05


def test_var_backtest_conditional_coverage_is_the_sum():
    rng = np.random.default_rng(5)
    pnl = rng.standard_normal(1000)
    forecasts = np.full(1000, stats.norm.ppf(0.99))
    result = var_backtest(pnl, forecasts, confidence=0.99)
    assert result.exceptions == int(np.sum(pnl < -forecasts))
    assert result.conditional_coverage_lr == pytest.approx(result.kupiec_lr + result.independence_lr)
    assert result.conditional_coverage_pvalue == pytest.approx(stats.chi2.sf(result.conditional_coverage_lr, 2))
    with pytest.raises(InvalidInput, match="same length"):
        var_backtest(pnl, forecasts[:-1])


def test_rolling_forecasts_are_out_of_sample(stock_returns):
    pnl = stock_returns.mean(axis=1).to_numpy()
    forecasts = rolling_var_forecasts(pnl, window=250, confidence=0.99)
    assert forecasts.shape == (len(pnl) - 250,)
    # day 250's forecast uses days 0..249 only
    assert forecasts[0] == pytest.approx(historical_var(pnl[:250], confidence=0.99).var, abs=1e-15)
    assert forecasts[-1] == pytest.approx(historical_var(pnl[-251:-1], confidence=0.99).var, abs=1e-15)


def test_platform_var_backtest_on_real_sector_data(sector_panel):
    """Equal-weight book of the 66 S&P 500 stocks, 2015-2020: 99% one-day historical VaR on a
    250-day window, checked out of sample. The numbers are reported in docs/risk.md."""
    prices, _ = sector_panel
    pnl = prices.pct_change().iloc[1:].mean(axis=1)
    forecasts = rolling_var_forecasts(pnl, window=250, confidence=0.99)
    realised = pnl.iloc[250:].to_numpy()
    result = var_backtest(realised, forecasts, confidence=0.99)
    # independent count with pandas: rolling inverted-cdf quantile, shifted one day
    k = math.ceil(250 * 0.01)
    reference_var = -pnl.rolling(250).apply(lambda w: np.sort(w)[k - 1], raw=True).shift(1).iloc[250:]
    reference_exceptions = int((pnl.iloc[250:] < -reference_var).sum())
    assert result.exceptions == reference_exceptions
    assert result.observations == len(pnl) - 250
    assert result.zone in ("green", "yellow", "red")
    print(f"\nplatform VaR backtest (66 stocks, 2016-2020): {result.exceptions} exceptions in "
          f"{result.observations} days (expected {result.expected_exceptions:.1f}); Kupiec p={result.kupiec_pvalue:.3f}; "
          f"Christoffersen p={result.independence_pvalue:.3f}; zone {result.zone}")
    frame = pd.DataFrame({"forecast": forecasts, "pnl": realised})
    assert (frame["forecast"] > 0).all()
