"""Backtest performance metrics from a series of periodic returns.

Everything here is analytics: returns, equity and benchmark values are float64.
Trade amounts may arrive as ``Decimal`` or :class:`~bifrost.core.money.Money`
from the ledger; they cross into float64 in one place, :func:`_analytics_float`.

Conventions
-----------
``returns`` are simple (not log) returns per period, ``r_t = V_t / V_{t-1} - 1``,
given as a ``pd.Series`` with a ``DatetimeIndex`` or as a 1-D array. Calendar
quantities (drawdown duration in days, the monthly table) need the index; with a
plain array they are ``None``. ``periods_per_year`` (252 for trading days)
annualises; ``risk_free`` is the risk-free return **per period** (for a 4 % a
year rate on daily data, ``1.04 ** (1 / 252) - 1``).

The formulas follow empyrical (``empyrical-reloaded``) where it defines the
metric, so results agree with it to rounding; the test suite checks them against
empyrical and quantstats on real prices and states where conventions differ.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, TypeAlias

import numpy as np
import pandas as pd

from bifrost.core.errors import InvalidInput
from bifrost.core.money import Money, to_float

__all__ = [
    "DrawdownEpisode",
    "PerformanceReport",
    "cumulative_wealth",
    "drawdown_episodes",
    "monthly_returns_table",
    "performance_report",
    "rolling_sharpe_ratio",
    "underwater_series",
]

ReturnsLike: TypeAlias = pd.Series | np.ndarray | Sequence[float]
TradesLike: TypeAlias = pd.DataFrame | Sequence[Mapping[str, Any]]

MONTH_NAMES = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


# --------------------------------------------------------------------------- result types


@dataclass(frozen=True, slots=True)
class DrawdownEpisode:
    """One spell under water: from a peak of wealth to the first return to that peak.

    Positions index the returns (``0`` is the first period). ``peak_position`` is
    ``-1`` when the peak is the starting capital, before the first period; that
    peak has no date, so ``peak`` is ``None`` and ``duration_days`` counts from the
    first date. An episode that has not recovered by the last period is
    ``ongoing``: ``recovery_position`` and ``recovery`` are ``None`` and the
    durations run to the last period.
    """

    depth: float
    peak_position: int
    trough_position: int
    recovery_position: int | None
    duration_periods: int
    peak: pd.Timestamp | None = None
    trough: pd.Timestamp | None = None
    recovery: pd.Timestamp | None = None
    duration_days: int | None = None

    @property
    def ongoing(self) -> bool:
        """Whether wealth is still below the peak at the last period."""
        return self.recovery_position is None

    def to_dict(self) -> dict[str, Any]:
        """Return plain Python values; timestamps as ISO-8601 strings."""
        return {
            "depth": self.depth,
            "peak_position": self.peak_position,
            "trough_position": self.trough_position,
            "recovery_position": self.recovery_position,
            "duration_periods": self.duration_periods,
            "duration_days": self.duration_days,
            "peak": _iso(self.peak),
            "trough": _iso(self.trough),
            "recovery": _iso(self.recovery),
            "ongoing": self.ongoing,
        }


@dataclass(frozen=True, slots=True)
class PerformanceReport:
    """Performance of one return series; built by :func:`performance_report`.

    A field is ``None`` when the input it needs was not given (no benchmark, no
    trades, no exposure, no DatetimeIndex) and ``nan`` when it was given but the
    metric is undefined (zero volatility, no drawdown for Calmar). Ratios and
    rates are fractions (0.05 is 5 %), annualised where the name says so or the
    docstring of :func:`performance_report` says so.
    """

    n_periods: int
    periods_per_year: float
    risk_free: float
    start: pd.Timestamp | None
    end: pd.Timestamp | None
    total_return: float
    cagr: float
    annualised_volatility: float
    sharpe_ratio: float
    downside_deviation: float
    sortino_ratio: float
    calmar_ratio: float
    max_drawdown: float
    max_drawdown_episode: DrawdownEpisode | None
    longest_drawdown_episode: DrawdownEpisode | None
    n_trades: int | None = None
    win_rate: float | None = None
    profit_factor: float | None = None
    expectancy: float | None = None
    fees_paid: float | None = None
    turnover: float | None = None
    exposure: float | None = None
    alpha: float | None = None
    beta: float | None = None
    information_ratio: float | None = None
    tracking_error: float | None = None
    benchmark_total_return: float | None = None
    benchmark_cagr: float | None = None
    underwater: pd.Series | np.ndarray = field(default_factory=lambda: np.empty(0), compare=False, repr=False)
    monthly_returns: pd.DataFrame | None = field(default=None, compare=False, repr=False)

    def to_dict(self, *, include_series: bool = False) -> dict[str, Any]:
        """Return the report as plain Python values.

        Parameters
        ----------
        include_series
            Also include ``underwater`` (a list, or a mapping from ISO date when
            the returns had a DatetimeIndex). Off by default: it has one value
            per period.

        Returns
        -------
        dict
            Scalars as ``float``/``int`` (``nan`` and ``inf`` kept), timestamps
            as ISO strings, drawdown episodes as dicts, and ``monthly_returns``
            as ``{year: {month: value}}`` with ``None`` for months without data.
        """
        out: dict[str, Any] = {}
        for name in self.__dataclass_fields__:
            if name in ("underwater", "monthly_returns"):
                continue
            value = getattr(self, name)
            if isinstance(value, DrawdownEpisode):
                value = value.to_dict()
            elif isinstance(value, pd.Timestamp):
                value = value.isoformat()
            out[name] = value
        out["monthly_returns"] = None if self.monthly_returns is None else {
            int(year): {int(month): (None if math.isnan(v) else float(v)) for month, v in row.items()}
            for year, row in self.monthly_returns.iterrows()
        }
        if include_series:
            if isinstance(self.underwater, pd.Series):
                out["underwater"] = {ts.isoformat(): float(v) for ts, v in self.underwater.items()}
            else:
                out["underwater"] = [float(v) for v in self.underwater]
        return out


# --------------------------------------------------------------------------- input helpers


def _iso(ts: pd.Timestamp | None) -> str | None:
    return None if ts is None else ts.isoformat()


def _analytics_float(value: Any, *, field_name: str, currency: list[str]) -> float:
    # The one crossing from ledger types (Decimal, Money) to analytics float64.
    if value is None:
        return math.nan
    if isinstance(value, Money):
        if currency and value.currency != currency[0]:
            raise InvalidInput(f"{field_name} mixes currencies: {currency[0]} and {value.currency}")
        currency[:1] = [value.currency]
        return to_float(value.amount)
    if isinstance(value, Decimal):
        return to_float(value)
    if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)):
        raise InvalidInput(f"{field_name} must be a number, Decimal or Money, was {value!r}")
    return float(value)


def _float_column(values: pd.Series, *, field_name: str) -> np.ndarray:
    if pd.api.types.is_numeric_dtype(values.dtype) and not pd.api.types.is_bool_dtype(values.dtype):
        return values.to_numpy(dtype=np.float64, na_value=np.nan)
    currency: list[str] = []
    return np.array([_analytics_float(v, field_name=field_name, currency=currency) for v in values],
                    dtype=np.float64)


def _check_periods_per_year(periods_per_year: float) -> float:
    value = float(periods_per_year)
    if not math.isfinite(value) or value <= 0:
        raise InvalidInput(f"periods_per_year must be a positive number, was {periods_per_year!r}")
    return value


def _as_returns(returns: ReturnsLike, *, name: str = "returns") -> tuple[np.ndarray, pd.DatetimeIndex | None]:
    """Validate returns; give float64 values and the DatetimeIndex (or None)."""
    if isinstance(returns, pd.DataFrame):
        if returns.shape[1] != 1:
            raise InvalidInput(f"{name} must be one series, got a DataFrame with {returns.shape[1]} columns")
        returns = returns.iloc[:, 0]
    index: pd.DatetimeIndex | None = None
    if isinstance(returns, pd.Series):
        if isinstance(returns.index, pd.DatetimeIndex):
            index = returns.index
        raw: Any = returns.to_numpy()
    else:
        raw = returns
    try:
        values = np.asarray(raw, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise InvalidInput(f"{name} must be numeric: {exc}") from exc
    if values.ndim != 1:
        raise InvalidInput(f"{name} must be one-dimensional, had shape {values.shape}")
    if values.size < 2:
        raise InvalidInput(f"{name} needs at least 2 periods, had {values.size}")
    bad = ~np.isfinite(values)
    if bad.any():
        where = int(np.argmax(bad))
        label = index[where] if index is not None else where
        raise InvalidInput(f"{name} must be finite, was {values[where]} at {label} "
                           f"({int(bad.sum())} non-finite values)")
    if (values < -1.0).any():
        where = int(np.argmax(values < -1.0))
        label = index[where] if index is not None else where
        raise InvalidInput(f"{name} must be >= -1 (a loss of at most 100 %), was {values[where]} at {label}")
    if index is not None:
        if not index.is_unique:
            raise InvalidInput(f"{name} index must not repeat dates; "
                               f"{index[index.duplicated()][0]} appears more than once")
        if not index.is_monotonic_increasing:
            raise InvalidInput(f"{name} index must be in increasing date order")
    return values, index


def _aligned(other: ReturnsLike, values: np.ndarray, index: pd.DatetimeIndex | None, *, name: str) -> np.ndarray:
    """Return ``other`` on the dates (or positions) of the returns."""
    if isinstance(other, pd.DataFrame) and other.shape[1] == 1:
        other = other.iloc[:, 0]
    if index is not None and isinstance(other, pd.Series) and isinstance(other.index, pd.DatetimeIndex):
        if not other.index.is_unique:
            raise InvalidInput(f"{name} index must not repeat dates")
        reindexed = other.reindex(index)
        missing = reindexed.isna().to_numpy()
        if missing.any():
            raise InvalidInput(f"{name} has no value on {int(missing.sum())} of the {len(index)} returns dates; "
                               f"first missing {index[int(np.argmax(missing))].date()}")
        other = reindexed
    aligned, _ = _as_returns(other, name=name)
    if aligned.size != values.size:
        raise InvalidInput(f"{name} must have one value per return period: had {aligned.size}, "
                           f"returns have {values.size}")
    return aligned


# --------------------------------------------------------------------------- series


def cumulative_wealth(returns: ReturnsLike) -> pd.Series | np.ndarray:
    """Return wealth after each period, starting from 1.

    Parameters
    ----------
    returns
        Simple returns per period.

    Returns
    -------
    pd.Series or numpy.ndarray
        ``W_t``, a Series on the returns' dates when they had a DatetimeIndex.

    Notes
    -----
    .. math:: W_t = \\prod_{s \\le t} (1 + r_s)
    """
    values, index = _as_returns(returns)
    wealth = np.cumprod(1.0 + values)
    return pd.Series(wealth, index=index, name="wealth") if index is not None else wealth


def _underwater(values: np.ndarray) -> np.ndarray:
    # Anchor at the starting capital so a loss in the first period is a drawdown.
    wealth = np.concatenate(([1.0], np.cumprod(1.0 + values)))
    peak = np.maximum.accumulate(wealth)
    return (wealth / peak - 1.0)[1:]


def underwater_series(returns: ReturnsLike) -> pd.Series | np.ndarray:
    """Return the drawdown from the running peak of wealth after each period.

    Parameters
    ----------
    returns
        Simple returns per period.

    Returns
    -------
    pd.Series or numpy.ndarray
        Values in ``[-1, 0]``; ``0`` at a new high.

    Notes
    -----
    With :math:`W_0 = 1` the starting capital and :math:`W_t` as in
    :func:`cumulative_wealth`,

    .. math:: u_t = \\frac{W_t}{\\max_{0 \\le s \\le t} W_s} - 1

    The anchor :math:`W_0` makes a first-period loss a drawdown, as empyrical
    (``drawdown_series``) and quantstats (``to_drawdown_series``) also do.
    """
    values, index = _as_returns(returns)
    under = _underwater(values)
    return pd.Series(under, index=index, name="underwater") if index is not None else under


def _episodes(values: np.ndarray, index: pd.DatetimeIndex | None) -> list[DrawdownEpisode]:
    under = _underwater(values)
    n = under.size
    below = np.concatenate(([False], under < 0.0, [False])).astype(np.int8)
    edges = np.diff(below)
    starts = np.flatnonzero(edges == 1)       # first period under water
    ends = np.flatnonzero(edges == -1) - 1    # last period under water
    episodes: list[DrawdownEpisode] = []
    for start, end in zip(starts.tolist(), ends.tolist(), strict=True):
        peak = start - 1
        trough = start + int(np.argmin(under[start:end + 1]))
        recovery = end + 1 if end + 1 < n else None
        last = recovery if recovery is not None else n - 1
        days = None
        if index is not None:
            first_date = index[peak] if peak >= 0 else index[0]
            days = int((index[last] - first_date).days)
        episodes.append(DrawdownEpisode(
            depth=float(under[trough]),
            peak_position=peak,
            trough_position=trough,
            recovery_position=recovery,
            duration_periods=last - peak,
            peak=index[peak] if index is not None and peak >= 0 else None,
            trough=index[trough] if index is not None else None,
            recovery=index[recovery] if index is not None and recovery is not None else None,
            duration_days=days,
        ))
    return episodes


def drawdown_episodes(returns: ReturnsLike) -> list[DrawdownEpisode]:
    """List every drawdown, in time order.

    Parameters
    ----------
    returns
        Simple returns per period.

    Returns
    -------
    list of DrawdownEpisode
        One per maximal run of periods with :math:`u_t < 0` (see
        :func:`underwater_series`).

    Notes
    -----
    An episode runs from its peak (the last period at the running high, or the
    starting capital) through its trough (the lowest :math:`u_t`) to its
    recovery (the first period back at the peak). ``duration_periods`` is
    recovery position minus peak position; ``duration_days`` the calendar days
    between their dates. quantstats' ``drawdown_details`` reports the same
    episodes by their first and last periods *under water* instead, with
    ``days`` = last - first + 1 calendar days.
    """
    values, index = _as_returns(returns)
    return _episodes(values, index)


def monthly_returns_table(returns: ReturnsLike) -> pd.DataFrame:
    """Tabulate compounded returns by calendar year and month, for a heatmap.

    Parameters
    ----------
    returns
        Simple returns per period, as a Series with a DatetimeIndex.

    Returns
    -------
    pandas.DataFrame
        Index: year (int); columns: month 1-12 (int). ``nan`` where the series
        has no data in that month (quantstats' ``monthly_returns`` shows 0 there).

    Raises
    ------
    InvalidInput
        If the returns have no DatetimeIndex.

    Notes
    -----
    .. math:: R_{y,m} = \\prod_{t \\in (y, m)} (1 + r_t) - 1
    """
    values, index = _as_returns(returns)
    if index is None:
        raise InvalidInput("monthly returns need returns indexed by a DatetimeIndex")
    return _monthly_table(values, index)


def _monthly_table(values: np.ndarray, index: pd.DatetimeIndex) -> pd.DataFrame:
    growth = pd.Series(1.0 + values, index=index)
    table = (growth.groupby([index.year, index.month]).prod() - 1.0).unstack()
    table = table.reindex(columns=range(1, 13))
    table.index = table.index.astype(int)
    table.index.name = "year"
    table.columns.name = "month"
    return table.astype(np.float64)


def rolling_sharpe_ratio(returns: ReturnsLike, *, window: int, risk_free: float = 0.0,
                         periods_per_year: float = 252) -> pd.Series | np.ndarray:
    """Return the annualised Sharpe ratio over a trailing window.

    Parameters
    ----------
    returns
        Simple returns per period.
    window
        Periods in each window (at least 2).
    risk_free
        Risk-free return per period.
    periods_per_year
        Periods in a year, for annualisation.

    Returns
    -------
    pd.Series or numpy.ndarray
        ``nan`` for the first ``window - 1`` periods and for windows with zero
        volatility.

    Notes
    -----
    Over each window, :math:`\\sqrt{P}\\,\\bar e / s_e` with :math:`e = r - r_f`
    and :math:`s_e` the sample standard deviation (``ddof=1``); as quantstats'
    ``rolling_sharpe``.
    """
    values, index = _as_returns(returns)
    ppy = _check_periods_per_year(periods_per_year)
    if isinstance(window, bool) or not isinstance(window, (int, np.integer)) or window < 2:
        raise InvalidInput(f"window must be an integer of at least 2, was {window!r}")
    if window > values.size:
        raise InvalidInput(f"window ({window}) must not exceed the number of periods ({values.size})")
    excess = pd.Series(values - _check_risk_free(risk_free))
    rolling = excess.rolling(int(window))
    mean = rolling.mean().to_numpy()
    std = rolling.std(ddof=1).to_numpy()
    spread = (excess.rolling(int(window)).max() - excess.rolling(int(window)).min()).to_numpy()
    out = np.full(values.size, np.nan)
    ok = np.isfinite(std) & (spread > 0)
    out[ok] = mean[ok] / std[ok] * math.sqrt(ppy)
    return pd.Series(out, index=index, name="rolling_sharpe") if index is not None else out


# --------------------------------------------------------------------------- scalar metrics


def _check_risk_free(risk_free: float) -> float:
    if isinstance(risk_free, bool) or not isinstance(risk_free, (int, float, np.integer, np.floating)):
        raise InvalidInput(f"risk_free must be a number (the risk-free return per period), was {risk_free!r}")
    value = float(risk_free)
    if not math.isfinite(value) or value <= -1.0:
        raise InvalidInput(f"risk_free must be a finite return per period above -1, was {risk_free!r}")
    return value


def _ratio(numerator: float, denominator: float) -> float:
    # Zero dispersion: the ratio is +/-inf for a nonzero numerator, undefined otherwise.
    if denominator > 0:
        return numerator / denominator
    if numerator == 0:
        return math.nan
    return math.copysign(math.inf, numerator)


def _std(values: np.ndarray) -> float:
    # Exactly zero for constant input (np.std can leave a 1e-18 residue).
    if np.ptp(values) == 0:
        return 0.0
    return float(np.std(values, ddof=1))


def _total_return(values: np.ndarray) -> float:
    return float(np.prod(1.0 + values) - 1.0)


def _cagr(values: np.ndarray, ppy: float) -> float:
    final = 1.0 + _total_return(values)
    if final <= 0:
        return -1.0
    return float(final ** (ppy / values.size) - 1.0)


def _trade_metrics(trades: TradesLike, *, mean_equity: float | None, n_periods: int,
                   ppy: float) -> dict[str, Any]:
    if isinstance(trades, pd.DataFrame):
        frame = trades
    else:
        try:
            frame = pd.DataFrame(list(trades))
        except (TypeError, ValueError) as exc:
            raise InvalidInput(f"trades must be a DataFrame or a sequence of mappings: {exc}") from exc
    out: dict[str, Any] = {"n_trades": 0, "win_rate": math.nan, "profit_factor": math.nan,
                           "expectancy": math.nan, "fees_paid": 0.0, "turnover": None}
    if frame.empty:
        out["turnover"] = 0.0 if mean_equity is not None else None
        return out
    if "pnl" in frame:
        pnl = _float_column(frame["pnl"], field_name="trades.pnl")
        pnl = pnl[~np.isnan(pnl)]  # rows without realised P&L open positions
        if np.isinf(pnl).any():
            raise InvalidInput("trades.pnl must be finite")
        gains = float(pnl[pnl > 0].sum())
        losses = float(-pnl[pnl < 0].sum())
        wins, decided = int((pnl > 0).sum()), int((pnl != 0).sum())
        out["n_trades"] = int(pnl.size)
        out["win_rate"] = wins / decided if decided else math.nan
        out["profit_factor"] = _ratio(gains, losses) if (gains or losses) else math.nan
        out["expectancy"] = float(pnl.mean()) if pnl.size else math.nan
    for fee_column in ("fee", "fees"):
        if fee_column in frame:
            fees = _float_column(frame[fee_column], field_name=f"trades.{fee_column}")
            if np.isinf(fees).any():
                raise InvalidInput(f"trades.{fee_column} must be finite")
            out["fees_paid"] = float(np.nansum(fees))
            break
    notional = None
    if "notional" in frame:
        notional = np.abs(_float_column(frame["notional"], field_name="trades.notional"))
    elif "quantity" in frame and "price" in frame:
        notional = np.abs(_float_column(frame["quantity"], field_name="trades.quantity")
                          * _float_column(frame["price"], field_name="trades.price"))
    if notional is not None and mean_equity is not None:
        if not np.isfinite(notional).all():
            raise InvalidInput("trades notional (or quantity x price) must be finite on every row")
        out["turnover"] = float(notional.sum() / mean_equity * ppy / n_periods)
    return out


def _exposure(exposure: pd.Series | pd.DataFrame | np.ndarray | Sequence[float], values: np.ndarray,
              index: pd.DatetimeIndex | None) -> float:
    if isinstance(exposure, pd.DataFrame) and exposure.shape[1] == 1:
        exposure = exposure.iloc[:, 0]
    if isinstance(exposure, pd.DataFrame):
        frame = exposure
        if index is not None and isinstance(frame.index, pd.DatetimeIndex):
            frame = frame.reindex(index)
            if frame.isna().all(axis=1).any():
                raise InvalidInput("exposure has no row for some returns dates")
            frame = frame.fillna(0.0)
        matrix = frame.to_numpy(dtype=np.float64)
        if matrix.shape[0] != values.size or not np.isfinite(matrix).all():
            raise InvalidInput(f"exposure must have one finite row per return period: had "
                               f"{matrix.shape[0]} rows, returns have {values.size}")
        invested = (np.abs(matrix) > 0).any(axis=1)
    else:
        series = exposure
        if index is not None and isinstance(series, pd.Series) and isinstance(series.index, pd.DatetimeIndex):
            series = series.reindex(index)
            if series.isna().any():
                raise InvalidInput(f"exposure has no value on {int(series.isna().sum())} of the returns dates")
        try:
            array = np.asarray(series.to_numpy() if isinstance(series, pd.Series | pd.DataFrame) else series,
                               dtype=np.float64).reshape(-1)
        except (TypeError, ValueError) as exc:
            raise InvalidInput(f"exposure must be numeric: {exc}") from exc
        if array.size != values.size or not np.isfinite(array).all():
            raise InvalidInput(f"exposure must have one finite value per return period: had {array.size}, "
                               f"returns have {values.size}")
        invested = np.abs(array) > 0
    return float(invested.mean())


# --------------------------------------------------------------------------- entry point


def performance_report(
    returns: ReturnsLike,
    *,
    benchmark: ReturnsLike | None = None,
    trades: TradesLike | None = None,
    exposure: pd.Series | pd.DataFrame | np.ndarray | Sequence[float] | None = None,
    risk_free: float = 0.0,
    periods_per_year: float = 252,
    starting_equity: float | None = None,
) -> PerformanceReport:
    """Measure the performance of a return series.

    Parameters
    ----------
    returns
        Simple returns per period (``pd.Series`` with a ``DatetimeIndex``, or a
        1-D array), finite and >= -1, at least 2 periods.
    benchmark
        Benchmark returns per period. A Series with a DatetimeIndex is aligned
        to the returns' dates and must cover all of them; an array must have
        the same length.
    trades
        A DataFrame or a sequence of mappings, one row per fill or closed trade.
        Columns used: ``pnl`` (realised P&L of a closed trade; rows without it
        are left out of the trade statistics), ``fee`` or ``fees`` (cost paid,
        positive), ``notional`` or ``quantity`` and ``price`` (traded value).
        Amounts may be numbers, ``Decimal`` or ``Money`` (one currency).
    exposure
        Gross exposure or position per period (a Series/array), or positions by
        symbol (a DataFrame with one row per period). Non-zero means invested.
    risk_free
        Risk-free return **per period** (not annual), subtracted in the Sharpe,
        Sortino, alpha and beta.
    periods_per_year
        Periods in a year, for annualisation (252 for trading days).
    starting_equity
        Capital at the start, in the trades' currency. Needed for turnover:
        equity at each period end is ``starting_equity * W_t``.

    Returns
    -------
    PerformanceReport

    Raises
    ------
    InvalidInput
        On non-finite or malformed inputs, misaligned benchmark or exposure,
        or a non-positive ``periods_per_year`` or ``starting_equity``.

    Notes
    -----
    With :math:`T` periods, :math:`P` periods a year, :math:`e_t = r_t - r_f`
    and :math:`s` the sample standard deviation (``ddof=1``):

    * total return :math:`R = \\prod_t (1 + r_t) - 1`;
      CAGR :math:`(1 + R)^{P/T} - 1` (periods, not calendar days, measure time;
      as empyrical ``annual_return`` and quantstats >= 0.0.6x ``cagr``).
    * annualised volatility :math:`s_r \\sqrt{P}`.
    * Sharpe :math:`\\sqrt{P}\\,\\bar e / s_e`: the per-period ratio times
      :math:`\\sqrt P`, which assumes i.i.d. returns (Lo, 2002).
    * downside deviation :math:`DD = \\sqrt{P}\\sqrt{\\tfrac1T \\sum_t \\min(e_t, 0)^2}`,
      the root mean square of negative excess returns over **all** periods
      (target 0 on excess returns; empyrical ``downside_risk``); Sortino
      :math:`P\\,\\bar e / DD`. Not the standard deviation of the negative
      returns alone.
    * Calmar :math:`\\text{CAGR} / |\\text{MDD}|`; MDD :math:`\\min_t u_t`
      (:func:`underwater_series`); its episode per :func:`drawdown_episodes`.
    * trades: win rate = winning / (winning + losing) trades (break-even
      trades count as neither, as in quantstats); profit factor = gross
      profit / gross loss; expectancy = mean P&L per closed trade; fees = sum.
    * turnover :math:`\\frac{\\sum |\\text{notional}|}{\\overline{E}}\\frac{P}{T}`,
      two-sided (buys plus sells: replacing the whole book once is 2.0) over
      mean end-of-period equity :math:`\\overline{E}`, annualised.
    * exposure: fraction of periods with a non-zero position.
    * benchmark :math:`b`: OLS :math:`e_t = \\alpha + \\beta (b_t - r_f) + \\varepsilon_t`;
      alpha annualised by compounding, :math:`(1 + \\alpha)^P - 1`, as
      empyrical ``alpha``; active return :math:`a_t = r_t - b_t`, tracking
      error :math:`s_a\\sqrt P`, information ratio :math:`\\sqrt P\\,\\bar a / s_a`
      (empyrical ``excess_sharpe`` and quantstats ``information_ratio`` are the
      same ratio without the :math:`\\sqrt P`).

    References
    ----------
    .. [1] W. F. Sharpe, "The Sharpe Ratio", Journal of Portfolio Management
       21(1), 1994.
    .. [2] F. A. Sortino and L. N. Price, "Performance Measurement in a Downside
       Risk Framework", Journal of Investing 3(3), 1994.
    .. [3] A. W. Lo, "The Statistics of Sharpe Ratios", Financial Analysts
       Journal 58(4), 2002.
    .. [4] T. W. Young, "Calmar Ratio: A Smoother Tool", Futures 20(1), 1991.
    .. [5] empyrical-reloaded, ``empyrical.stats``
       (https://github.com/stefan-jansen/empyrical-reloaded).
    """
    values, index = _as_returns(returns)
    ppy = _check_periods_per_year(periods_per_year)
    rf = _check_risk_free(risk_free)
    n = values.size
    excess = values - rf

    volatility = _std(values) * math.sqrt(ppy)
    sharpe = _ratio(float(excess.mean()), _std(excess)) * math.sqrt(ppy)
    downside = float(math.sqrt(np.mean(np.minimum(excess, 0.0) ** 2)) * math.sqrt(ppy))
    sortino = _ratio(float(excess.mean()) * ppy, downside)
    cagr = _cagr(values, ppy)
    under = _underwater(values)
    max_drawdown = float(under.min())
    calmar = cagr / abs(max_drawdown) if max_drawdown < 0 else math.nan
    episodes = _episodes(values, index)
    worst = min(episodes, key=lambda e: e.depth) if episodes else None
    longest = max(episodes, key=lambda e: e.duration_periods) if episodes else None

    extra: dict[str, Any] = {}
    if benchmark is not None:
        bench = _aligned(benchmark, values, index, name="benchmark")
        x = bench - rf
        x_dev = x - x.mean()
        variance = float(np.dot(x_dev, x_dev))
        if _std(x) > 0:
            beta = float(np.dot(x_dev, excess - excess.mean()) / variance)
            alpha_per_period = float(excess.mean() - beta * x.mean())
            alpha = (1.0 + alpha_per_period) ** ppy - 1.0 if alpha_per_period > -1 else -1.0
        else:
            beta = alpha = math.nan
        active = values - bench
        active_std = _std(active)
        extra.update(
            alpha=float(alpha), beta=beta,
            tracking_error=active_std * math.sqrt(ppy),
            information_ratio=_ratio(float(active.mean()), active_std) * math.sqrt(ppy),
            benchmark_total_return=_total_return(bench), benchmark_cagr=_cagr(bench, ppy),
        )
    if starting_equity is not None:
        if isinstance(starting_equity, bool) or not isinstance(starting_equity, (int, float, Decimal)) \
                or not math.isfinite(float(starting_equity)) or float(starting_equity) <= 0:
            raise InvalidInput(f"starting_equity must be a positive amount, was {starting_equity!r}")
    if trades is not None:
        mean_equity = None
        if starting_equity is not None:
            equity_scale = to_float(starting_equity) if isinstance(starting_equity, Decimal) else float(starting_equity)
            mean_equity = equity_scale * float(np.mean(np.cumprod(1.0 + values)))
            if mean_equity <= 0:
                raise InvalidInput("turnover needs positive average equity; the returns wipe the account out")
        extra.update(_trade_metrics(trades, mean_equity=mean_equity, n_periods=n, ppy=ppy))
    if exposure is not None:
        extra["exposure"] = _exposure(exposure, values, index)

    return PerformanceReport(
        n_periods=n,
        periods_per_year=ppy,
        risk_free=rf,
        start=index[0] if index is not None else None,
        end=index[-1] if index is not None else None,
        total_return=_total_return(values),
        cagr=cagr,
        annualised_volatility=volatility,
        sharpe_ratio=sharpe,
        downside_deviation=downside,
        sortino_ratio=sortino,
        calmar_ratio=calmar,
        max_drawdown=max_drawdown,
        max_drawdown_episode=worst,
        longest_drawdown_episode=longest,
        underwater=pd.Series(under, index=index, name="underwater") if index is not None else under,
        monthly_returns=_monthly_table(values, index) if index is not None else None,
        **extra,
    )
