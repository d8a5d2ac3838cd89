"""Market impact: the square-root law, a temporary/permanent impact model and its calibration.

Costs are fractions of price (or bps), positive = cost, normalised by daily volatility
``sigma`` (a return, 0.02 = 2 %) and average daily volume ``ADV`` (shares).

Model used for algorithm selection (Almgren, Thum, Hauptmann and Li 2005, with the
temporary exponent fixed at 1/2)::

    permanent J = gamma' * sigma * (Q / ADV)
    temporary K = eta'   * sigma * (Q / (ADV * T)) ** 0.5          T = duration in days
    realised cost of an order worked over T = spread / 2 + K + J / 2

and the square-root law for the total cost: ``I = spread / 2 + Y * sigma * sqrt(Q / ADV)``.

References
----------
Almgren, R., Thum, C., Hauptmann, E. and Li, H. (2005), "Direct Estimation of Equity Market
Impact", Risk 18(7), 58-62. Tóth, B. et al. (2011), "Anomalous price impact and the critical
nature of liquidity in financial markets", Physical Review X 1, 021006 (square-root law).
Bouchaud, J.-P., Bonart, J., Donier, J. and Gould, M. (2018), *Trades, Quotes and Prices*, ch. 12.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import statsmodels.api as sm

from bifrost.core.errors import InvalidInput
from bifrost.execquality.almgren_chriss import AlmgrenChrissParams
from bifrost.execquality.frames import normalize_bars, side_sign
from bifrost.execquality.market import _ns
from bifrost.execquality.tca import TCAInputs, slippage_per_order
from bifrost.execution.slippage import SquareRootImpactSlippage

__all__ = [
    "ImpactCalibration",
    "ImpactModel",
    "calibrate_impact",
    "daily_statistics",
    "impact_observations",
    "square_root_impact",
]

SESSION_SECONDS = 6.5 * 3600.0


def square_root_impact(quantity: float | np.ndarray, adv: float | np.ndarray, sigma_daily: float | np.ndarray,
                       coefficient: float = 1.0) -> np.ndarray:
    """The square-root law ``Y * sigma * sqrt(Q / ADV)`` as a fraction of price.

    Raises
    ------
    InvalidInput
        If ADV is not positive or a quantity is negative.
    """
    q = np.asarray(quantity, dtype="float64")
    v = np.asarray(adv, dtype="float64")
    if (v <= 0).any():
        raise InvalidInput("adv must be positive")
    if (q < 0).any():
        raise InvalidInput("quantity must not be negative")
    return coefficient * np.asarray(sigma_daily, dtype="float64") * np.sqrt(q / v)


@dataclass(frozen=True, slots=True, kw_only=True)
class ImpactModel:
    """Temporary and permanent impact coefficients (dimensionless, of order one).

    Parameters
    ----------
    temporary
        ``eta'``. The default 0.142 and ``permanent`` 0.314 are the Almgren et al. (2005)
        estimates (their ``eta`` and ``gamma``, with ``beta = 0.6`` there; 1/2 here).
    permanent
        ``gamma'``.
    square_root
        ``Y`` of the square-root law for single-day orders.
    source
        Where the numbers came from ("default" or a calibration id).
    """

    temporary: float = 0.142
    permanent: float = 0.314
    square_root: float = 1.0
    source: str = "default"

    def __post_init__(self) -> None:
        for name in ("temporary", "permanent", "square_root"):
            value = getattr(self, name)
            if not math.isfinite(value) or value < 0:
                raise InvalidInput(f"{name} impact coefficient must be finite and non-negative, was {value!r}")

    def expected_cost(self, *, quantity: float, adv: float, sigma_daily: float, duration_days: float,
                      spread_bps: float = 0.0) -> float:
        """Expected cost in bps of working ``quantity`` over ``duration_days``.

        Raises
        ------
        InvalidInput
            If ADV or the duration is not positive.
        """
        if adv <= 0 or duration_days <= 0:
            raise InvalidInput(f"adv and duration_days must be positive, were {adv} and {duration_days}")
        participation = quantity / adv
        temporary = self.temporary * sigma_daily * math.sqrt(participation / duration_days)
        permanent = self.permanent * sigma_daily * participation
        return spread_bps / 2.0 + (temporary + permanent / 2.0) * 1e4

    def timing_risk(self, *, sigma_daily: float, duration_days: float) -> float:
        """Standard deviation (bps) of the cost of a linear schedule: ``sigma * sqrt(T / 3)``."""
        return sigma_daily * math.sqrt(max(duration_days, 0.0) / 3.0) * 1e4

    def almgren_chriss(self, *, shares: float, price: float, adv: float, sigma_daily: float, horizon_days: float,
                       periods: int, spread_bps: float = 0.0, risk_aversion: float = 0.0) -> AlmgrenChrissParams:
        """The linear Almgren-Chriss parameters equivalent to this model for one order.

        The temporary coefficient is the secant of the square-root cost at the straight-line
        rate ``v0 = X / T``, so a TWAP costs the same in both models:
        ``eta = eta' sigma P sqrt(v0 / ADV) / v0``; ``gamma = gamma' sigma P / ADV``;
        ``epsilon = P * spread / 2``; ``sigma_AC = sigma P``.
        """
        rate = shares / horizon_days
        # a zero temporary coefficient (a calibration on noise) would make the model degenerate: floor it
        eta = max(self.temporary, 1e-6) * sigma_daily * price * math.sqrt(rate / adv) / rate
        gamma = self.permanent * sigma_daily * price / adv
        tau = horizon_days / periods
        gamma = min(gamma, 1.9 * eta / tau)  # keep eta_tilde positive for very coarse grids
        return AlmgrenChrissParams(shares=shares, horizon_days=horizon_days, periods=periods,
                                   sigma=sigma_daily * price, eta=eta, gamma=gamma,
                                   epsilon=price * spread_bps / 2e4, risk_aversion=risk_aversion)

    def slippage_model(self, *, adv_shares: float | None = None, volatility_daily: float | None = None,
                       spread_bps: float = 0.0) -> SquareRootImpactSlippage:
        """The backtester's slippage model with this model's square-root coefficient."""
        return SquareRootImpactSlippage(volatility_daily=volatility_daily, adv_shares=adv_shares,
                                        spread_bps=spread_bps, impact_coefficient=self.square_root)

    def to_dict(self) -> dict[str, float | str]:
        return {"temporary": self.temporary, "permanent": self.permanent, "square_root": self.square_root,
                "source": self.source}


@dataclass(frozen=True, slots=True)
class ImpactCalibration:
    """Result of :func:`calibrate_impact`: the model and the fit statistics."""

    model: ImpactModel
    observations: int
    temporary_stderr: float
    permanent_stderr: float
    square_root_stderr: float
    square_root_r2: float
    exponent: float
    exponent_ci: tuple[float, float]
    details: dict[str, float] = field(default_factory=dict)

    def to_dict(self) -> dict[str, object]:
        return {"model": self.model.to_dict(), "observations": self.observations,
                "temporary_stderr": self.temporary_stderr, "permanent_stderr": self.permanent_stderr,
                "square_root_stderr": self.square_root_stderr, "square_root_r2": self.square_root_r2,
                "exponent": self.exponent, "exponent_ci": list(self.exponent_ci), **self.details}


def _through_origin(y: np.ndarray, x: np.ndarray) -> tuple[float, float, float]:
    if not np.any(y) or not np.any(x):  # nothing to explain (e.g. no post-trade move visible in daily bars)
        return 0.0, float("nan"), float("nan")
    fit = sm.OLS(y, x.reshape(-1, 1)).fit()
    return float(fit.params[0]), float(fit.bse[0]), float(fit.rsquared)


def calibrate_impact(observations: pd.DataFrame, *, source: str = "calibrated", min_observations: int = 5) -> ImpactCalibration:
    """Fit the impact coefficients from realised parent orders (ordinary least squares, statsmodels).

    Parameters
    ----------
    observations
        One row per parent order with ``quantity``, ``adv``, ``sigma_daily``,
        ``duration_days``, ``cost_bps`` (arrival slippage, positive = cost) and optionally
        ``permanent_bps`` (post-trade move against the arrival mid) and ``spread_bps``.
    source
        Label stored in the model.
    min_observations
        Fewer usable rows raise.

    Returns
    -------
    ImpactCalibration

    Raises
    ------
    InvalidInput
        On missing columns, too few observations, or non-positive ADV/sigma/duration.

    Notes
    -----
    Regressions through the origin, with ``c = (cost - spread / 2) / sigma``:

    * permanent: ``permanent / sigma = gamma' * Q / ADV`` (only when ``permanent_bps`` is given;
      else ``gamma'`` keeps its default);
    * temporary: ``c - gamma' Q / (2 ADV) = eta' * sqrt(Q / (ADV T))``;
    * square-root law: ``c = Y * sqrt(Q / ADV)``; and ``log c = a + delta log(Q / ADV)`` on the
      orders with positive cost, whose ``delta`` (with its 95 % interval) tests the exponent 1/2.
    """
    required = ("quantity", "adv", "sigma_daily", "duration_days", "cost_bps")
    missing = [c for c in required if c not in observations.columns]
    if missing:
        raise InvalidInput(f"impact observations are missing column(s) {', '.join(missing)}")
    frame = observations.copy()
    for column in required:
        frame[column] = pd.to_numeric(frame[column], errors="coerce")
    frame["spread_bps"] = pd.to_numeric(frame.get("spread_bps", 0.0), errors="coerce")
    frame = frame.replace([np.inf, -np.inf], np.nan).dropna(subset=list(required))
    frame["spread_bps"] = frame["spread_bps"].fillna(0.0)
    frame = frame[(frame["quantity"] > 0)]
    if ((frame["adv"] <= 0) | (frame["sigma_daily"] <= 0) | (frame["duration_days"] <= 0)).any():
        raise InvalidInput("adv, sigma_daily and duration_days must be positive in every observation")
    if len(frame) < min_observations:
        raise InvalidInput(f"impact calibration needs at least {min_observations} orders with fills, had {len(frame)}")
    participation = frame["quantity"].to_numpy() / frame["adv"].to_numpy()
    sigma = frame["sigma_daily"].to_numpy()
    cost = (frame["cost_bps"].to_numpy() - frame["spread_bps"].to_numpy() / 2.0) / 1e4 / sigma
    default = ImpactModel()
    permanent, permanent_se = default.permanent, float("nan")
    if "permanent_bps" in frame.columns and frame["permanent_bps"].notna().sum() >= min_observations:
        ok = frame["permanent_bps"].notna().to_numpy()
        y = frame["permanent_bps"].to_numpy()[ok] / 1e4 / sigma[ok]
        permanent, permanent_se, _ = _through_origin(y, participation[ok])
        permanent = max(permanent, 0.0)
    rate = np.sqrt(participation / frame["duration_days"].to_numpy())
    temporary, temporary_se, _ = _through_origin(cost - permanent * participation / 2.0, rate)
    square_root, square_root_se, r2 = _through_origin(cost, np.sqrt(participation))
    positive = cost > 0
    exponent, ci = float("nan"), (float("nan"), float("nan"))
    if positive.sum() >= 3:
        fit = sm.OLS(np.log(cost[positive]), sm.add_constant(np.log(participation[positive]))).fit()
        exponent = float(fit.params[1])
        low, high = fit.conf_int(0.05)[1]
        ci = (float(low), float(high))
    model = ImpactModel(temporary=max(temporary, 0.0), permanent=permanent, square_root=max(square_root, 0.0),
                        source=source)
    return ImpactCalibration(model, int(len(frame)), temporary_se, permanent_se, square_root_se, r2, exponent, ci)


def daily_statistics(bars: pd.DataFrame, *, lookback_sessions: int = 20) -> pd.DataFrame:
    """Average daily volume and daily return volatility per symbol from bars (any frequency).

    Returns
    -------
    pandas.DataFrame
        Indexed by symbol: ``adv`` (mean session volume over the last ``lookback_sessions``),
        ``sigma_daily`` (std of close-to-close session returns), ``last_close``, ``sessions``.
    """
    frame = normalize_bars(bars)
    sessions = frame.groupby(["symbol", "session"], sort=True).agg(volume=("volume", "sum"), close=("close", "last"))
    rows = {}
    for symbol, group in sessions.groupby(level="symbol"):
        tail = group.tail(lookback_sessions + 1)
        returns = tail["close"].pct_change().dropna()
        rows[symbol] = {"adv": float(tail["volume"].tail(lookback_sessions).mean()),
                        "sigma_daily": float(returns.std(ddof=1)) if len(returns) > 1 else float("nan"),
                        "last_close": float(tail["close"].iloc[-1]), "sessions": int(len(group))}
    return pd.DataFrame.from_dict(rows, orient="index")


def impact_observations(inputs: TCAInputs, statistics: pd.DataFrame, *, permanent_horizon_s: float = 1800.0,
                        session_seconds: float = SESSION_SECONDS) -> pd.DataFrame:
    """Turn TCA results into calibration rows: participation, duration, cost and post-trade move.

    ``statistics`` is indexed by symbol with ``adv`` and ``sigma_daily`` (see
    :func:`daily_statistics`). The duration is the time from arrival to the last fill in
    trading days of ``session_seconds`` (at least one minute); the permanent move is the mid
    ``permanent_horizon_s`` after the last fill against the arrival price, signed as a cost.
    """
    per_order = slippage_per_order(inputs)
    per_order = per_order[per_order["filled"] > 0]
    stats = statistics.reindex(per_order["symbol"].to_numpy())
    seconds = np.maximum(per_order["time_to_last_fill_s"].to_numpy(dtype="float64"), 60.0)
    symbols = per_order["symbol"].to_numpy()
    later_ns = _ns(per_order["last_fill"]) + int(permanent_horizon_s * 1e9)
    later = np.full(len(per_order), np.nan)
    if inputs.quotes is not None:
        later = inputs.quotes.asof(symbols, later_ns).mid
    if inputs.bars is not None:
        gap = ~np.isfinite(later)
        if gap.any():
            later[gap] = inputs.bars.price_at(symbols[gap], later_ns[gap])
    sign = side_sign(per_order["side"].to_numpy())
    arrival = per_order["arrival"].to_numpy()
    return pd.DataFrame({
        "parent_id": per_order.index.to_numpy(),
        "symbol": symbols,
        "side": per_order["side"].to_numpy(),
        "quantity": per_order["filled"].to_numpy(),
        "adv": stats["adv"].to_numpy(dtype="float64"),
        "sigma_daily": stats["sigma_daily"].to_numpy(dtype="float64"),
        "duration_days": seconds / session_seconds,
        "cost_bps": per_order["slippage_arrival_bps"].to_numpy(),
        "permanent_bps": sign * (later - arrival) / arrival * 1e4,
    })
