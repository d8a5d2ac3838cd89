"""Guards against backtest overfitting: the deflated Sharpe ratio and the PBO.

Both take the returns of *every* configuration tried, not just the winner's:
the point is to price in the search.

* :func:`deflated_sharpe_ratio` (Bailey & López de Prado, 2014) is the
  probability that the selected strategy's true Sharpe ratio beats the Sharpe
  ratio one would expect from the best of ``N`` skill-less trials, allowing for
  the track-record length and the skewness and kurtosis of its returns.
* :func:`probability_of_backtest_overfitting` (Bailey, Borwein, López de Prado
  & Zhu, 2017) estimates, by combinatorially symmetric cross-validation
  (CSCV), how often the in-sample winner ranks below the median out of sample.

Sharpe ratios here are **per period** (not annualised): divide an annual one
by :math:`\\sqrt{P}` first. Returns are excess returns (subtract the risk-free
rate beforehand if it matters).
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable, Hashable
from dataclasses import dataclass, field
from itertools import combinations
from typing import TypeAlias

import numpy as np
import pandas as pd
from scipy.stats import norm

from bifrost.core.errors import InvalidInput

__all__ = [
    "BacktestOverfittingResult",
    "DeflatedSharpeResult",
    "deflated_sharpe_ratio",
    "deflated_sharpe_ratio_from_trials",
    "expected_maximum_sharpe_ratio",
    "probabilistic_sharpe_ratio",
    "probability_of_backtest_overfitting",
]

EULER_GAMMA = 0.5772156649015329  # Euler-Mascheroni constant

PerformanceFunction: TypeAlias = Callable[[np.ndarray], np.ndarray]


# --------------------------------------------------------------------------- helpers


def _finite(value: float, name: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)):
        raise InvalidInput(f"{name} must be a number, was {value!r}")
    number = float(value)
    if not math.isfinite(number):
        raise InvalidInput(f"{name} must be finite, was {value!r}")
    return number


def _count(value: int, name: str, minimum: int) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < minimum:
        raise InvalidInput(f"{name} must be an integer of at least {minimum}, was {value!r}")
    return int(value)


def _check_moments(skewness: float, kurtosis: float) -> tuple[float, float]:
    skew = _finite(skewness, "skewness")
    kurt = _finite(kurtosis, "kurtosis")
    # Pearson's inequality holds for every distribution and keeps the variance below non-negative.
    if kurt < 1.0 + skew * skew - 1e-12:
        raise InvalidInput(f"kurtosis must be at least 1 + skewness^2 = {1.0 + skew * skew:.6g} "
                           f"(raw kurtosis: 3 for a normal), was {kurt}")
    return skew, kurt


def _sharpe_standard_error(sharpe: float, n_observations: int, skew: float, kurt: float) -> float:
    variance = (1.0 - skew * sharpe + (kurt - 1.0) / 4.0 * sharpe * sharpe) / (n_observations - 1)
    return math.sqrt(max(variance, 0.0))


def _per_period_sharpe(matrix: np.ndarray) -> np.ndarray:
    # Column Sharpe ratios, mean / std (ddof=1); 0 for constant zero, +/-inf for constant non-zero.
    mean = matrix.mean(axis=0)
    constant = np.ptp(matrix, axis=0) == 0
    std = np.where(constant, 1.0, matrix.std(axis=0, ddof=1))
    sharpe = mean / std
    return np.where(constant, np.where(mean == 0, 0.0, np.sign(mean) * np.inf), sharpe)


def _as_matrix(trial_returns: pd.DataFrame | np.ndarray, *, name: str = "trial_returns"
               ) -> tuple[np.ndarray, list[Hashable]]:
    if isinstance(trial_returns, pd.DataFrame):
        labels: list[Hashable] = list(trial_returns.columns)
        raw = trial_returns.to_numpy()
    else:
        raw = trial_returns
        labels = []
    try:
        matrix = np.asarray(raw, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise InvalidInput(f"{name} must be numeric: {exc}") from exc
    if matrix.ndim == 1:
        matrix = matrix[:, None]
    if matrix.ndim != 2:
        raise InvalidInput(f"{name} must be a T x N matrix (periods x strategies), had shape {matrix.shape}")
    bad = ~np.isfinite(matrix)
    if bad.any():
        row, column = (int(i) for i in np.argwhere(bad)[0])
        raise InvalidInput(f"{name} must be finite; found {int(bad.sum())} NaN or infinite values, "
                           f"first at row {row}, column {column}")
    if not labels:
        labels = list(range(matrix.shape[1]))
    return matrix, labels


# --------------------------------------------------------------------------- Sharpe ratio statistics


def expected_maximum_sharpe_ratio(*, n_trials: int, trial_sharpe_variance: float,
                                  trial_sharpe_mean: float = 0.0) -> float:
    """Return the expected maximum Sharpe ratio of ``n_trials`` independent trials.

    Parameters
    ----------
    n_trials
        Number of independent trials, :math:`N \\ge 1`.
    trial_sharpe_variance
        Variance of the trials' Sharpe ratio estimates, :math:`V[\\{SR_n\\}]`,
        in the same (per-period) units as the Sharpe ratios.
    trial_sharpe_mean
        Mean of the trials' Sharpe ratios under the null; 0 for no skill.

    Returns
    -------
    float
        :math:`SR_0`, the benchmark the deflated Sharpe ratio tests against.

    Raises
    ------
    InvalidInput
        If ``n_trials < 1`` or the variance is negative or not finite.

    Notes
    -----
    The extreme-value approximation of Bailey & López de Prado (2014), eq. (6):

    .. math:: SR_0 = E[SR] + \\sqrt{V[\\{SR_n\\}]}\\left((1-\\gamma)\\,Z^{-1}
              \\left[1 - \\tfrac1N\\right] + \\gamma\\,Z^{-1}\\left[1 - \\tfrac{1}{N e}\\right]\\right)

    with :math:`\\gamma` the Euler-Mascheroni constant and :math:`Z^{-1}` the
    standard normal quantile. For :math:`N = 1` the maximum is the single
    trial, whose expectation is :math:`E[SR]`.

    References
    ----------
    .. [1] D. H. Bailey and M. López de Prado, "The Deflated Sharpe Ratio:
       Correcting for Selection Bias, Backtest Overfitting and Non-Normality",
       Journal of Portfolio Management 40(5), 94-107, 2014.
    """
    n = _count(n_trials, "n_trials", 1)
    variance = _finite(trial_sharpe_variance, "trial_sharpe_variance")
    mean = _finite(trial_sharpe_mean, "trial_sharpe_mean")
    if variance < 0:
        raise InvalidInput(f"trial_sharpe_variance must not be negative, was {variance}")
    if n == 1:
        return mean
    z = (1.0 - EULER_GAMMA) * norm.ppf(1.0 - 1.0 / n) + EULER_GAMMA * norm.ppf(1.0 - 1.0 / (n * math.e))
    return float(mean + math.sqrt(variance) * z)


def probabilistic_sharpe_ratio(*, sharpe_ratio: float, n_observations: int, benchmark_sharpe_ratio: float = 0.0,
                               skewness: float = 0.0, kurtosis: float = 3.0) -> float:
    """Return the probability that the true Sharpe ratio exceeds a benchmark.

    Parameters
    ----------
    sharpe_ratio
        Observed Sharpe ratio, per period (not annualised).
    n_observations
        Number of returns it was estimated from, :math:`T \\ge 2`.
    benchmark_sharpe_ratio
        :math:`SR^*`, per period.
    skewness, kurtosis
        Skewness :math:`\\gamma_3` and raw (not excess) kurtosis
        :math:`\\gamma_4` of the returns; 0 and 3 for normal returns.

    Returns
    -------
    float
        :math:`\\widehat{PSR}(SR^*)` in ``[0, 1]``.

    Raises
    ------
    InvalidInput
        On non-finite input, ``n_observations < 2`` or
        :math:`\\gamma_4 < 1 + \\gamma_3^2` (impossible moments).

    Notes
    -----
    .. math:: \\widehat{PSR}(SR^*) = Z\\left[\\frac{(\\widehat{SR} - SR^*)\\sqrt{T - 1}}
              {\\sqrt{1 - \\gamma_3 \\widehat{SR} + \\frac{\\gamma_4 - 1}{4}\\widehat{SR}^2}}\\right]

    References
    ----------
    .. [1] D. H. Bailey and M. López de Prado, "The Sharpe Ratio Efficient
       Frontier", Journal of Risk 15(2), 3-44, 2012.
    """
    sharpe = _finite(sharpe_ratio, "sharpe_ratio")
    benchmark = _finite(benchmark_sharpe_ratio, "benchmark_sharpe_ratio")
    t = _count(n_observations, "n_observations", 2)
    skew, kurt = _check_moments(skewness, kurtosis)
    error = _sharpe_standard_error(sharpe, t, skew, kurt)
    if error == 0:
        return 1.0 if sharpe > benchmark else (0.0 if sharpe < benchmark else 0.5)
    return float(norm.cdf((sharpe - benchmark) / error))


@dataclass(frozen=True, slots=True)
class DeflatedSharpeResult:
    """The deflated Sharpe ratio and what went into it (per-period units)."""

    probability: float
    sharpe_ratio: float
    expected_maximum_sharpe_ratio: float
    standard_error: float
    z_score: float
    n_trials: int
    n_observations: int
    trial_sharpe_variance: float
    skewness: float
    kurtosis: float
    selected: Hashable | None = None

    def to_dict(self) -> dict[str, object]:
        """Return the fields as plain Python values."""
        return {name: getattr(self, name) for name in self.__dataclass_fields__}


def deflated_sharpe_ratio(*, sharpe_ratio: float, n_observations: int, n_trials: int,
                          trial_sharpe_variance: float, skewness: float = 0.0,
                          kurtosis: float = 3.0) -> DeflatedSharpeResult:
    """Deflate a selected Sharpe ratio for the number of trials behind it.

    Parameters
    ----------
    sharpe_ratio
        Sharpe ratio of the selected strategy, per period (not annualised).
    n_observations
        Length of its track record, :math:`T \\ge 2` returns.
    n_trials
        Number of independent trials (configurations) tried, :math:`N \\ge 1`.
        With correlated trials, an effective number (e.g. from clustering).
    trial_sharpe_variance
        Variance of the trials' Sharpe ratios, per period squared. Ignored
        when ``n_trials == 1``.
    skewness, kurtosis
        Skewness and raw kurtosis (3 for normal) of the selected returns.

    Returns
    -------
    DeflatedSharpeResult
        ``probability`` is the DSR.

    Raises
    ------
    InvalidInput
        On non-finite input, ``n_trials < 1``, ``n_observations < 2``, a
        negative variance or impossible moments.

    Notes
    -----
    The DSR is the probabilistic Sharpe ratio against the expected maximum of
    :math:`N` skill-less trials (see :func:`expected_maximum_sharpe_ratio`):

    .. math:: \\widehat{DSR} = Z\\left[\\frac{(\\widehat{SR} - SR_0)\\sqrt{T - 1}}
              {\\sqrt{1 - \\gamma_3 \\widehat{SR} + \\frac{\\gamma_4 - 1}{4}\\widehat{SR}^2}}\\right]

    With :math:`N = 1`, :math:`SR_0 = 0` and the DSR equals
    :math:`\\widehat{PSR}(0)`.

    References
    ----------
    .. [1] D. H. Bailey and M. López de Prado, "The Deflated Sharpe Ratio:
       Correcting for Selection Bias, Backtest Overfitting and Non-Normality",
       Journal of Portfolio Management 40(5), 94-107, 2014; eq. (2) and the
       numerical example of its section 6.
    """
    sharpe = _finite(sharpe_ratio, "sharpe_ratio")
    t = _count(n_observations, "n_observations", 2)
    n = _count(n_trials, "n_trials", 1)
    variance = 0.0 if n == 1 else _finite(trial_sharpe_variance, "trial_sharpe_variance")
    skew, kurt = _check_moments(skewness, kurtosis)
    sr0 = expected_maximum_sharpe_ratio(n_trials=n, trial_sharpe_variance=variance)
    error = _sharpe_standard_error(sharpe, t, skew, kurt)
    if error > 0:
        z = (sharpe - sr0) / error
    else:
        z = math.inf if sharpe > sr0 else (-math.inf if sharpe < sr0 else 0.0)
    return DeflatedSharpeResult(
        probability=float(norm.cdf(z)), sharpe_ratio=sharpe, expected_maximum_sharpe_ratio=sr0,
        standard_error=error, z_score=float(z), n_trials=n, n_observations=t,
        trial_sharpe_variance=variance, skewness=skew, kurtosis=kurt,
    )


def deflated_sharpe_ratio_from_trials(trial_returns: pd.DataFrame | np.ndarray, *,
                                      selected: Hashable | None = None,
                                      n_trials: int | None = None) -> DeflatedSharpeResult:
    """Deflate the Sharpe ratio of one strategy among all the trials' returns.

    Parameters
    ----------
    trial_returns
        :math:`T \\times N` returns, one column per trial (a DataFrame or an
        array), finite. One column is allowed: the DSR is then the PSR(0).
    selected
        Column label (DataFrame) or position (array) of the strategy to test.
        Default: the column with the highest Sharpe ratio, as a researcher
        would pick.
    n_trials
        Effective number of independent trials. Default: the number of columns.

    Returns
    -------
    DeflatedSharpeResult
        With ``selected`` set to the tested column.

    Raises
    ------
    InvalidInput
        On NaNs, fewer than 2 rows, an unknown ``selected`` or a selected
        column with zero variance.

    Notes
    -----
    Sharpe ratios are per period, :math:`\\bar r / s` with ``ddof=1``;
    :math:`V[\\{SR_n\\}]` is their sample variance across columns (``ddof=1``).
    Skewness and kurtosis are the moment estimators
    :math:`m_3/m_2^{3/2}` and :math:`m_4/m_2^2` (``scipy.stats.skew`` and
    ``kurtosis(fisher=False)`` with ``bias=True``), which always satisfy
    :math:`\\gamma_4 \\ge 1 + \\gamma_3^2`. (quantstats uses pandas'
    bias-corrected estimators; the difference is :math:`O(1/T)`.)

    References
    ----------
    .. [1] D. H. Bailey and M. López de Prado, "The Deflated Sharpe Ratio",
       Journal of Portfolio Management 40(5), 2014.
    """
    matrix, labels = _as_matrix(trial_returns)
    t, columns = matrix.shape
    if t < 2:
        raise InvalidInput(f"trial_returns needs at least 2 rows, had {t}")
    sharpes = _per_period_sharpe(matrix)
    if selected is None:
        finite = np.where(np.isfinite(sharpes), sharpes, -np.inf)
        position = int(np.argmax(finite))
    elif isinstance(trial_returns, pd.DataFrame):
        if selected not in labels:
            raise InvalidInput(f"selected column {selected!r} is not among the trial_returns columns")
        position = labels.index(selected)
    else:
        if isinstance(selected, bool) or not isinstance(selected, (int, np.integer)) \
                or not 0 <= int(selected) < columns:
            raise InvalidInput(f"selected must be a column position in [0, {columns}), was {selected!r}")
        position = int(selected)
    column = matrix[:, position]
    if np.ptp(column) == 0:
        raise InvalidInput(f"selected column {labels[position]!r} has zero variance; its Sharpe ratio is undefined")
    n = columns if n_trials is None else _count(n_trials, "n_trials", 1)
    finite_sharpes = sharpes[np.isfinite(sharpes)]
    variance = float(np.var(finite_sharpes, ddof=1)) if finite_sharpes.size >= 2 else 0.0
    centred = column - column.mean()
    m2 = float(np.mean(centred ** 2))
    skew = float(np.mean(centred ** 3) / m2 ** 1.5)
    kurt = float(np.mean(centred ** 4) / m2 ** 2)
    result = deflated_sharpe_ratio(sharpe_ratio=float(sharpes[position]), n_observations=t, n_trials=n,
                                   trial_sharpe_variance=variance, skewness=skew, kurtosis=max(kurt, 1 + skew ** 2))
    return dataclasses.replace(result, selected=labels[position])


# --------------------------------------------------------------------------- CSCV / PBO


@dataclass(frozen=True, slots=True)
class BacktestOverfittingResult:
    """Outcome of CSCV: one entry per combination in the arrays.

    ``selected`` holds the column position of the in-sample winner of each
    combination; ``in_sample_performance`` and ``out_of_sample_performance``
    that winner's performance in and out of sample; ``relative_ranks`` its
    out-of-sample rank :math:`\\bar\\omega_c \\in (0, 1)`; ``logits``
    :math:`\\lambda_c`.
    """

    pbo: float
    probability_of_loss: float
    degradation_slope: float
    degradation_intercept: float
    n_partitions: int
    n_combinations: int
    n_observations: int
    n_strategies: int
    logits: np.ndarray = field(compare=False, repr=False)
    relative_ranks: np.ndarray = field(compare=False, repr=False)
    selected: np.ndarray = field(compare=False, repr=False)
    in_sample_performance: np.ndarray = field(compare=False, repr=False)
    out_of_sample_performance: np.ndarray = field(compare=False, repr=False)
    strategy_labels: tuple[Hashable, ...] = field(default=(), compare=False, repr=False)

    def to_dict(self, *, include_arrays: bool = False) -> dict[str, object]:
        """Return scalars (and, if asked, the per-combination arrays as lists)."""
        out: dict[str, object] = {name: getattr(self, name) for name in (
            "pbo", "probability_of_loss", "degradation_slope", "degradation_intercept", "n_partitions",
            "n_combinations", "n_observations", "n_strategies")}
        if include_arrays:
            for name in ("logits", "relative_ranks", "selected", "in_sample_performance",
                         "out_of_sample_performance"):
                out[name] = getattr(self, name).tolist()
        return out


def _blocks_sharpe(blocks: np.ndarray, combos: np.ndarray) -> np.ndarray:
    # Sharpe ratio of every column over the union of the blocks of each combination, from per-block
    # count/mean/M2 (Chan et al.'s pairwise update): exact, without concatenating rows per combination.
    size = blocks.shape[1]
    means = blocks.mean(axis=1)                                   # S x N
    m2 = ((blocks - means[:, None, :]) ** 2).sum(axis=1)          # S x N
    spans = np.ptp(blocks, axis=1)                                # S x N
    lows, highs = blocks.min(axis=1), blocks.max(axis=1)
    out = np.empty((combos.shape[0], blocks.shape[2]))
    for start in range(0, combos.shape[0], 1024):
        chosen = combos[start:start + 1024]
        block_means = means[chosen]                               # C x S/2 x N
        mean = block_means.mean(axis=1)
        total_m2 = m2[chosen].sum(axis=1) + size * ((block_means - mean[:, None, :]) ** 2).sum(axis=1)
        constant = (spans[chosen].max(axis=1) == 0) & (lows[chosen].min(axis=1) == highs[chosen].max(axis=1))
        std = np.sqrt(total_m2 / (size * chosen.shape[1] - 1))
        std = np.where(constant, 1.0, std)
        sharpe = mean / std
        out[start:start + 1024] = np.where(constant, np.where(mean == 0, 0.0, np.sign(mean) * np.inf), sharpe)
    return out


def probability_of_backtest_overfitting(trial_returns: pd.DataFrame | np.ndarray, *, n_partitions: int = 16,
                                        performance: PerformanceFunction | None = None
                                        ) -> BacktestOverfittingResult:
    """Estimate the probability of backtest overfitting by CSCV.

    Parameters
    ----------
    trial_returns
        :math:`T \\times N` matrix :math:`M` of returns, one column per
        strategy configuration tried (:math:`N \\ge 2`), rows in time order,
        finite.
    n_partitions
        :math:`S`, the number of row blocks: even, at least 2, and dividing
        :math:`T`. The work grows as :math:`\\binom{S}{S/2}` (12 870 for 16).
    performance
        Maps a ``rows x N`` array to ``N`` performance values (higher is
        better). Default: the per-period Sharpe ratio, mean / std (``ddof=1``).

    Returns
    -------
    BacktestOverfittingResult

    Raises
    ------
    InvalidInput
        If the matrix has NaNs or fewer than 2 columns, ``n_partitions`` is odd
        or below 2 or does not divide the rows, or ``performance`` returns
        NaN or the wrong shape.

    Notes
    -----
    CSCV (Bailey et al. 2017, section 2):

    1. Split the rows of :math:`M` into :math:`S` contiguous blocks of
       :math:`T/S` rows.
    2. For each of the :math:`\\binom{S}{S/2}` combinations :math:`c` of
       :math:`S/2` blocks, the training set :math:`J` is those blocks (in time
       order) and the test set :math:`\\bar J` the rest.
    3. Select :math:`n^* = \\arg\\max_n R_n` on :math:`J` (first on ties);
       rank its test performance :math:`\\bar R_{n^*}` among :math:`\\bar R`
       (1 = worst, ties averaged) and set
       :math:`\\bar\\omega_c = \\text{rank} / (N + 1)`,
       :math:`\\lambda_c = \\ln\\frac{\\bar\\omega_c}{1 - \\bar\\omega_c}`.
    4. :math:`\\text{PBO} = \\#\\{c : \\lambda_c \\le 0\\} / \\binom{S}{S/2}`.

    Performance degradation is the OLS line
    :math:`\\bar R_{n^*} = a + b\\,R_{n^*} + \\varepsilon` across combinations
    (``degradation_slope`` :math:`b`, ``nan`` if :math:`R_{n^*}` is constant);
    the probability of loss is :math:`\\#\\{c : \\bar R_{n^*} < 0\\} / \\binom{S}{S/2}`.

    With an odd :math:`N` a median out-of-sample rank gives
    :math:`\\lambda = 0`, counted as overfit, so skill-less strategies give a
    PBO of :math:`(N + 1) / 2N` rather than 1/2.

    References
    ----------
    .. [1] D. H. Bailey, J. M. Borwein, M. López de Prado and Q. J. Zhu, "The
       Probability of Backtest Overfitting", Journal of Computational Finance
       20(4), 39-69, 2017.
    """
    matrix, labels = _as_matrix(trial_returns)
    t, n = matrix.shape
    if n < 2:
        raise InvalidInput(f"trial_returns needs at least 2 strategies (columns), had {n}")
    if isinstance(n_partitions, bool) or not isinstance(n_partitions, (int, np.integer)) \
            or n_partitions < 2 or n_partitions % 2:
        raise InvalidInput(f"n_partitions must be an even integer of at least 2, was {n_partitions!r}")
    s = int(n_partitions)
    if t % s:
        raise InvalidInput(f"the number of rows ({t}) must be divisible by n_partitions ({s}); "
                           f"trim {t % s} rows first")
    if t // 2 < 2:
        raise InvalidInput(f"trial_returns needs at least 4 rows for in- and out-of-sample halves, had {t}")
    size = t // s
    blocks = matrix.reshape(s, size, n)
    combos = np.array(list(combinations(range(s), s // 2)), dtype=np.intp)
    complements = np.array([[b for b in range(s) if b not in set(c)] for c in combos], dtype=np.intp)

    if performance is None:
        in_sample = _blocks_sharpe(blocks, combos)
        out_sample = _blocks_sharpe(blocks, complements)
    else:
        in_sample = np.empty((combos.shape[0], n))
        out_sample = np.empty((combos.shape[0], n))
        for i, (train, test) in enumerate(zip(combos, complements, strict=True)):
            for target, chosen in ((in_sample, train), (out_sample, test)):
                value = np.asarray(performance(blocks[chosen].reshape(-1, n)), dtype=np.float64)
                if value.shape != (n,):
                    raise InvalidInput(f"performance must return {n} values (one per strategy), "
                                       f"returned shape {value.shape}")
                target[i] = value
    if np.isnan(in_sample).any() or np.isnan(out_sample).any():
        raise InvalidInput("performance returned NaN for some strategy and combination")

    rows = np.arange(combos.shape[0])
    winner = np.argmax(in_sample, axis=1)
    winner_in = in_sample[rows, winner]
    winner_out = out_sample[rows, winner]
    below = (out_sample < winner_out[:, None]).sum(axis=1)
    equal = (out_sample == winner_out[:, None]).sum(axis=1)
    rank = below + (equal + 1) / 2.0
    omega = rank / (n + 1)
    logits = np.log(omega / (1.0 - omega))

    finite = np.isfinite(winner_in) & np.isfinite(winner_out)
    x, y = winner_in[finite], winner_out[finite]
    if x.size >= 2 and np.ptp(x) > 0:
        x_dev = x - x.mean()
        slope = float(np.dot(x_dev, y - y.mean()) / np.dot(x_dev, x_dev))
        intercept = float(y.mean() - slope * x.mean())
    else:
        slope = intercept = math.nan

    return BacktestOverfittingResult(
        pbo=float(np.mean(logits <= 0)),
        probability_of_loss=float(np.mean(winner_out < 0)),
        degradation_slope=slope,
        degradation_intercept=intercept,
        n_partitions=s,
        n_combinations=int(combos.shape[0]),
        n_observations=t,
        n_strategies=n,
        logits=logits,
        relative_ranks=omega,
        selected=winner,
        in_sample_performance=winner_in,
        out_of_sample_performance=winner_out,
        strategy_labels=tuple(labels),
    )
