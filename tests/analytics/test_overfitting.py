"""Deflated Sharpe ratio and probability of backtest overfitting (CSCV).

References and tolerances
-------------------------
* D. H. Bailey and M. López de Prado, "The Deflated Sharpe Ratio: Correcting for
  Selection Bias, Backtest Overfitting and Non-Normality", Journal of Portfolio
  Management 40(5), 2014, section 6 (numerical example): N = 100 trials, annualised
  V[{SR_n}] = 1/2, best annualised SR 2.5, T = 1 250 daily returns (five years of
  250 days), skewness -3, kurtosis 10. Published: SR_0 ~ 0.1132 (per day) and
  DSR ~ 0.9004. Checked to 5e-5, half a unit in the last published digit.
* quantstats 0.0.86 ``probabilistic_sharpe_ratio`` for PSR on real returns: 1e-10.
* The exact expected maximum of N standard normals (numerical integration) against
  the paper's approximation: within 3 % at N = 10, 1 % at 100, 0.5 % at 1 000 (the
  approximation's own error, which shrinks with N).
* D. H. Bailey, J. M. Borwein, M. López de Prado and Q. J. Zhu, "The Probability of
  Backtest Overfitting", Journal of Computational Finance 20(4), 2017. Its results
  are Monte Carlo experiments without stated seeds, so CSCV is checked on a small
  matrix worked by hand (exact), on limiting cases (a dominant strategy: PBO = 0
  exactly; a ranking that reverses between halves: PBO = 1; pure noise: PBO = 1/2
  in expectation, checked as a mean over 100 seeds to +/- 0.1, about 4.5 standard
  errors), and on real returns the default fast path against the generic one (1e-10).
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from scipy import integrate, stats

from bifrost.analytics import (
    deflated_sharpe_ratio,
    deflated_sharpe_ratio_from_trials,
    expected_maximum_sharpe_ratio,
    probabilistic_sharpe_ratio,
    probability_of_backtest_overfitting,
)
from bifrost.core.errors import InvalidInput

EXACT = 1e-12
PAPER = 5e-5


def _sharpe(matrix: np.ndarray) -> np.ndarray:
    return matrix.mean(axis=0) / matrix.std(axis=0, ddof=1)


# --------------------------------------------------------------------------- deflated Sharpe ratio


def test_deflated_sharpe_ratio_paper_example_reproduces_published_sr0_and_dsr():
    # Annualised inputs converted to daily with the paper's 250 days a year.
    result = deflated_sharpe_ratio(sharpe_ratio=2.5 / math.sqrt(250), n_observations=1250, n_trials=100,
                                   trial_sharpe_variance=0.5 / 250, skewness=-3.0, kurtosis=10.0)

    assert result.expected_maximum_sharpe_ratio == pytest.approx(0.1132, abs=PAPER)
    assert result.probability == pytest.approx(0.9004, abs=PAPER)
    assert result.sharpe_ratio == pytest.approx(0.1581, abs=PAPER)


def test_deflated_sharpe_ratio_paper_example_normal_returns_deflate_less():
    # Same example without the negative skew and fat tails: the Sharpe ratio is estimated more
    # precisely, so the same excess over SR_0 is more significant.
    skewed = deflated_sharpe_ratio(sharpe_ratio=2.5 / math.sqrt(250), n_observations=1250, n_trials=100,
                                   trial_sharpe_variance=0.5 / 250, skewness=-3.0, kurtosis=10.0)
    normal = deflated_sharpe_ratio(sharpe_ratio=2.5 / math.sqrt(250), n_observations=1250, n_trials=100,
                                   trial_sharpe_variance=0.5 / 250)

    assert normal.probability > skewed.probability
    assert normal.z_score == pytest.approx(
        (2.5 / math.sqrt(250) - skewed.expected_maximum_sharpe_ratio) * math.sqrt(1249)
        / math.sqrt(1 + 0.5 * (2.5 / math.sqrt(250)) ** 2), abs=EXACT)


def test_deflated_sharpe_ratio_one_trial_equals_psr_against_zero():
    sharpe, t, skew, kurt = 0.08, 500, -0.7, 6.5

    result = deflated_sharpe_ratio(sharpe_ratio=sharpe, n_observations=t, n_trials=1,
                                   trial_sharpe_variance=math.nan, skewness=skew, kurtosis=kurt)

    assert result.expected_maximum_sharpe_ratio == 0.0
    assert result.probability == pytest.approx(
        probabilistic_sharpe_ratio(sharpe_ratio=sharpe, n_observations=t, skewness=skew, kurtosis=kurt), abs=EXACT)


def test_deflated_sharpe_ratio_more_trials_lower_probability():
    common = {"sharpe_ratio": 0.1, "n_observations": 1000, "trial_sharpe_variance": 0.002}

    probabilities = [deflated_sharpe_ratio(n_trials=n, **common).probability for n in (1, 10, 100, 1000)]

    assert probabilities == sorted(probabilities, reverse=True)
    assert probabilities[0] > 0.99 and probabilities[-1] < 0.5


@pytest.mark.parametrize(("n_trials", "tolerance"), [(10, 0.03), (100, 0.01), (1000, 0.005)])
def test_expected_maximum_sharpe_ratio_close_to_exact_normal_maximum(n_trials, tolerance):
    # E[max of N iid standard normals] = integral of x N phi(x) Phi(x)^(N-1) dx: 1.5388 for N = 10,
    # 2.5076 for 100 (as in Tippett's 1925 tables). The approximation is high by 2.3 %, 0.9 %, 0.4 %.
    exact, _ = integrate.quad(lambda x: x * n_trials * stats.norm.pdf(x) * stats.norm.cdf(x) ** (n_trials - 1),
                              -12, 12, limit=200)

    approximation = expected_maximum_sharpe_ratio(n_trials=n_trials, trial_sharpe_variance=1.0)

    assert approximation == pytest.approx(exact, rel=tolerance)
    assert approximation > exact


def test_expected_maximum_sharpe_ratio_scales_with_trial_standard_deviation_and_mean():
    unit = expected_maximum_sharpe_ratio(n_trials=50, trial_sharpe_variance=1.0)

    scaled = expected_maximum_sharpe_ratio(n_trials=50, trial_sharpe_variance=0.04, trial_sharpe_mean=0.1)

    assert scaled == pytest.approx(0.1 + 0.2 * unit, abs=EXACT)


def test_deflated_sharpe_ratio_from_trials_one_column_equals_psr_with_moment_estimators(portfolio_returns):
    values = portfolio_returns.to_numpy()
    sharpe = values.mean() / values.std(ddof=1)

    result = deflated_sharpe_ratio_from_trials(portfolio_returns.to_frame())

    assert result.selected == "portfolio" and result.n_trials == 1
    assert result.probability == pytest.approx(probabilistic_sharpe_ratio(
        sharpe_ratio=sharpe, n_observations=values.size, skewness=stats.skew(values),
        kurtosis=stats.kurtosis(values, fisher=False)), abs=EXACT)


def test_deflated_sharpe_ratio_from_trials_one_column_close_to_quantstats_psr(portfolio_returns):
    # quantstats uses bias-corrected moments; over 6 345 days the PSR differs by far less than 1e-3.
    import quantstats.stats as qs_stats

    result = deflated_sharpe_ratio_from_trials(portfolio_returns.to_frame())

    assert result.probability == pytest.approx(qs_stats.probabilistic_sharpe_ratio(portfolio_returns), abs=1e-3)


def test_deflated_sharpe_ratio_from_trials_picks_best_column_and_uses_cross_sectional_variance(stock_returns):
    # Ten real stocks as ten "trials" over 2010-2017: the best Sharpe ratio is selected.
    trials = stock_returns.loc["2010":"2017"]
    sharpes = _sharpe(trials.to_numpy())
    best = trials.columns[int(np.argmax(sharpes))]

    result = deflated_sharpe_ratio_from_trials(trials)

    assert result.selected == best
    assert result.n_trials == 10 and result.n_observations == len(trials)
    assert result.trial_sharpe_variance == pytest.approx(np.var(sharpes, ddof=1), abs=EXACT)
    assert result.expected_maximum_sharpe_ratio == pytest.approx(
        expected_maximum_sharpe_ratio(n_trials=10, trial_sharpe_variance=np.var(sharpes, ddof=1)), abs=EXACT)
    assert result.probability < probabilistic_sharpe_ratio(
        sharpe_ratio=result.sharpe_ratio, n_observations=len(trials), skewness=result.skewness,
        kurtosis=result.kurtosis)


def test_deflated_sharpe_ratio_from_trials_selected_by_position_on_array():
    rng = np.random.default_rng(3)
    matrix = rng.normal(0.0, 0.01, size=(300, 4))

    result = deflated_sharpe_ratio_from_trials(matrix, selected=2, n_trials=7)

    assert result.selected == 2 and result.n_trials == 7
    assert result.sharpe_ratio == pytest.approx(_sharpe(matrix)[2], abs=EXACT)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"n_trials": 0}, "n_trials must be an integer of at least 1, was 0"),
        ({"trial_sharpe_variance": -0.1}, "trial_sharpe_variance must not be negative, was -0.1"),
        ({"n_observations": 1}, "n_observations must be an integer of at least 2, was 1"),
        ({"skewness": 2.0, "kurtosis": 4.0}, "kurtosis must be at least 1 \\+ skewness\\^2 = 5"),
        ({"sharpe_ratio": math.nan}, "sharpe_ratio must be finite, was nan"),
    ],
)
def test_deflated_sharpe_ratio_bad_inputs_raise_invalid_input(kwargs, message):
    arguments = {"sharpe_ratio": 0.1, "n_observations": 100, "n_trials": 10, "trial_sharpe_variance": 0.01}
    arguments.update(kwargs)

    with pytest.raises(InvalidInput, match=message):
        deflated_sharpe_ratio(**arguments)


def test_deflated_sharpe_ratio_from_trials_nan_raises_invalid_input():
    matrix = np.zeros((10, 3))
    matrix[4, 1] = np.nan

    with pytest.raises(InvalidInput, match="found 1 NaN or infinite values, first at row 4, column 1"):
        deflated_sharpe_ratio_from_trials(matrix)


def test_deflated_sharpe_ratio_from_trials_unknown_column_raises_invalid_input():
    frame = pd.DataFrame({"a": [0.01, 0.02, -0.01], "b": [0.0, 0.01, 0.02]})

    with pytest.raises(InvalidInput, match="selected column 'c' is not among the trial_returns columns"):
        deflated_sharpe_ratio_from_trials(frame, selected="c")


def test_probabilistic_sharpe_ratio_equal_to_benchmark_is_one_half():
    assert probabilistic_sharpe_ratio(sharpe_ratio=0.05, n_observations=250,
                                      benchmark_sharpe_ratio=0.05) == pytest.approx(0.5, abs=EXACT)


# --------------------------------------------------------------------------- PBO by CSCV


def test_pbo_hand_worked_matrix_matches_logits_pbo_loss_and_degradation():
    # Four one-row blocks, strategies A, B, C, performance = mean. The six splits (train | test):
    #  {0,1}|{2,3}: train A 3.5 B 1.5 C 1.0 -> A; test A -1.5 B 2.0 C 2.0: rank 1 -> w 1/4, logit ln(1/3)
    #  {0,2}|{1,3}: train A 1.0 B 1.0 C 2.5 -> C; test A 1.0 B 2.5 C 0.5: rank 1 -> ln(1/3)
    #  {0,3}|{1,2}: train A 1.5 B 2.0 C 1.5 -> B; test A 0.5 B 1.5 C 1.5: rank 2.5 (tie) -> ln(5/3)
    #  {1,2}|{0,3}: train A 0.5 B 1.5 C 1.5 -> B (first); test A 1.5 B 2.0 C 1.5: rank 3 -> ln 3
    #  {1,3}|{0,2}: train A 1.0 B 2.5 C 0.5 -> B; test A 1.0 B 1.0 C 2.5: rank 1.5 -> ln(3/5)
    #  {2,3}|{0,1}: train A -1.5 B 2.0 C 2.0 -> B (first); test A 3.5 B 1.5 C 1.0: rank 2 -> 0
    # PBO = 4/6 (logit <= 0). Test means of the winner: -1.5, 0.5, 1.5, 2.0, 1.0, 1.5 -> loss 1/6.
    # Regressing them on train means 3.5, 2.5, 2.0, 1.5, 2.5, 2.0: slope -25/14, intercept 5.
    matrix = np.array([[4.0, 1.0, 2.0], [3.0, 2.0, 0.0], [-2.0, 1.0, 3.0], [-1.0, 3.0, 1.0]])

    result = probability_of_backtest_overfitting(matrix, n_partitions=4, performance=lambda m: m.mean(axis=0))

    np.testing.assert_allclose(result.logits, np.log([1 / 3, 1 / 3, 5 / 3, 3.0, 3 / 5, 1.0]), atol=EXACT)
    np.testing.assert_array_equal(result.selected, [0, 2, 1, 1, 1, 1])
    assert result.pbo == pytest.approx(4 / 6, abs=EXACT)
    assert result.probability_of_loss == pytest.approx(1 / 6, abs=EXACT)
    assert result.degradation_slope == pytest.approx(-25 / 14, abs=EXACT)
    assert result.degradation_intercept == pytest.approx(5.0, abs=EXACT)
    assert result.n_combinations == 6


def test_pbo_dominant_strategy_everywhere_is_zero():
    # Column 3 earns 2 % a day on top of the same noise as the others: best in every block.
    rng = np.random.default_rng(11)
    matrix = rng.normal(0.0, 0.01, size=(800, 10))
    matrix[:, 3] += 0.02

    result = probability_of_backtest_overfitting(matrix, n_partitions=8)

    assert result.pbo == 0.0
    assert (result.selected == 3).all()
    np.testing.assert_allclose(result.logits, math.log(10.0), atol=EXACT)  # rank 10 of 10: w = 10/11
    assert result.probability_of_loss == 0.0
    assert result.n_combinations == 70


def test_pbo_ranking_reversed_between_halves_is_one():
    # Two blocks; strategy k has mean 4 - k in the first half and k + 1 in the second (same wiggle).
    wiggle = np.tile([0.5, -0.5], 10)[:, None]
    first = np.array([4.0, 3.0, 2.0, 1.0]) + wiggle
    second = np.array([1.0, 2.0, 3.0, 4.0]) + wiggle
    matrix = np.vstack([first, second])

    result = probability_of_backtest_overfitting(matrix, n_partitions=2)

    assert result.pbo == 1.0
    np.testing.assert_array_equal(result.selected, [0, 3])
    np.testing.assert_allclose(result.logits, math.log(1 / 4), atol=EXACT)  # rank 1 of 4: w = 1/5


def test_pbo_pure_noise_averages_one_half_over_seeds():
    # For iid columns the out-of-sample rank of the in-sample winner is uniform, so with N = 10
    # each logit is <= 0 with probability exactly 1/2. PBO per seed has a standard deviation of
    # about 0.22 here; over 100 seeds the mean's standard error is about 0.022.
    pbos = [probability_of_backtest_overfitting(np.random.default_rng(seed).normal(0.0, 0.01, size=(480, 10)),
                                                n_partitions=8).pbo for seed in range(100)]

    assert np.mean(pbos) == pytest.approx(0.5, abs=0.1)


def test_pbo_default_sharpe_path_equals_generic_performance_on_real_returns(stock_returns):
    # The default path combines per-block moments; the generic one concatenates the rows.
    matrix = stock_returns.loc["2010":"2017"].to_numpy()
    matrix = matrix[: len(matrix) // 8 * 8]

    fast = probability_of_backtest_overfitting(matrix, n_partitions=8)
    generic = probability_of_backtest_overfitting(matrix, n_partitions=8, performance=_sharpe)

    np.testing.assert_allclose(fast.in_sample_performance, generic.in_sample_performance, rtol=1e-10)
    np.testing.assert_allclose(fast.out_of_sample_performance, generic.out_of_sample_performance, rtol=1e-10)
    np.testing.assert_array_equal(fast.selected, generic.selected)
    assert fast.pbo == generic.pbo
    assert 0.0 <= fast.pbo <= 1.0 and fast.n_strategies == 10


def test_pbo_sixteen_partitions_use_all_12870_combinations():
    matrix = np.random.default_rng(5).normal(size=(64, 4))

    result = probability_of_backtest_overfitting(matrix, n_partitions=16)

    assert result.n_combinations == 12870 == math.comb(16, 8)
    assert result.logits.shape == (12870,)


def test_pbo_to_dict_includes_arrays_on_request():
    matrix = np.random.default_rng(5).normal(size=(40, 4))

    data = probability_of_backtest_overfitting(matrix, n_partitions=4).to_dict(include_arrays=True)

    assert data["n_combinations"] == 6 and len(data["logits"]) == 6


@pytest.mark.parametrize(
    ("n_partitions", "message"),
    [
        (3, "n_partitions must be an even integer of at least 2, was 3"),
        (0, "n_partitions must be an even integer of at least 2, was 0"),
        (True, "n_partitions must be an even integer of at least 2, was True"),
        (6, r"the number of rows \(40\) must be divisible by n_partitions \(6\); trim 4 rows first"),
    ],
)
def test_pbo_bad_partitions_raise_invalid_input(n_partitions, message):
    with pytest.raises(InvalidInput, match=message):
        probability_of_backtest_overfitting(np.zeros((40, 3)) + np.arange(40)[:, None], n_partitions=n_partitions)


def test_pbo_nan_in_matrix_raises_invalid_input():
    matrix = np.random.default_rng(1).normal(size=(40, 3))
    matrix[7, 2] = np.nan

    with pytest.raises(InvalidInput, match="first at row 7, column 2"):
        probability_of_backtest_overfitting(matrix, n_partitions=4)


def test_pbo_single_strategy_raises_invalid_input():
    with pytest.raises(InvalidInput, match="at least 2 strategies \\(columns\\), had 1"):
        probability_of_backtest_overfitting(np.random.default_rng(1).normal(size=(40, 1)), n_partitions=4)


def test_pbo_performance_of_wrong_shape_raises_invalid_input():
    with pytest.raises(InvalidInput, match=r"performance must return 3 values \(one per strategy\), returned shape \(\)"):
        probability_of_backtest_overfitting(np.random.default_rng(1).normal(size=(40, 3)), n_partitions=4,
                                            performance=lambda m: m.mean())


def test_pbo_performance_returning_nan_raises_invalid_input():
    with pytest.raises(InvalidInput, match="performance returned NaN"):
        probability_of_backtest_overfitting(np.random.default_rng(1).normal(size=(40, 3)), n_partitions=4,
                                            performance=lambda m: np.full(3, np.nan))
