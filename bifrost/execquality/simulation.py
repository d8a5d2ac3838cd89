"""A seeded intraday market with market impact, for demos and for comparing execution strategies.

The market runs minute by minute over one session. The mid follows an arithmetic random
walk with daily volatility ``sigma``; market volume per minute follows a U-shaped intraday
curve times log-normal noise; our own trading moves the price:

* permanent: ``mid += s * gamma' * sigma * P0 * q / ADV`` for every ``q`` shares we trade;
* temporary: a child of ``q`` shares in a minute with market volume ``v`` pays
  ``spread / 2 + eta' * sigma * sqrt(q / v)`` (fraction of the mid) on top of the mid.

These are the same forms as :class:`~bifrost.execquality.impact.ImpactModel`, so the
recommendation of :func:`~bifrost.execquality.selection.recommend` can be tested against the
market it models. :meth:`SimulatedMarket.bars` and :meth:`SimulatedMarket.quotes` give the
undisturbed tape as minute bars and NBBO quotes for demos.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime, timedelta

import numpy as np
import pandas as pd
from scipy import stats

from bifrost.core.calendars import get_calendar
from bifrost.core.errors import InvalidInput
from bifrost.execquality.almgren_chriss import optimal_trajectory
from bifrost.execquality.impact import ImpactModel
from bifrost.execquality.selection import OrderProfile, Recommendation, recommend
from bifrost.execquality.volume_curve import VolumeCurve

__all__ = ["SimulatedMarket", "StrategyComparison", "compare_strategies", "schedule_for", "u_shaped_curve"]

MINUTES = 390


def u_shaped_curve(*, bucket_minutes: int = 5, depth: float = 2.0) -> VolumeCurve:
    """A U-shaped intraday volume curve: ``1 + depth * ((m - 195) / 195)^2`` per bucket, normalised."""
    centres = (np.arange(MINUTES // bucket_minutes) + 0.5) * bucket_minutes
    return VolumeCurve(bucket_minutes, 1.0 + depth * ((centres - MINUTES / 2) / (MINUTES / 2)) ** 2, 0)


@dataclass(frozen=True, slots=True, kw_only=True)
class SimulatedMarket:
    """One session of a seeded market (see the module docstring)."""

    symbol: str = "DEMO"
    price: float = 50.0
    sigma_daily: float = 0.02
    adv: float = 1_000_000.0
    spread_bps: float = 4.0
    volume_noise: float = 0.3
    impact: ImpactModel = ImpactModel()
    curve: VolumeCurve | None = None
    session: str = "2024-03-04"

    def __post_init__(self) -> None:
        for name in ("price", "sigma_daily", "adv"):
            if not getattr(self, name) > 0:
                raise InvalidInput(f"{name} must be positive, was {getattr(self, name)!r}")

    def _curve(self) -> VolumeCurve:
        return self.curve if self.curve is not None else u_shaped_curve()

    def path(self, seed: int) -> tuple[np.ndarray, np.ndarray]:
        """Undisturbed mids at each minute's start (391 values) and market volume per minute (390)."""
        rng = np.random.default_rng(seed)
        sigma_minute = self.sigma_daily * self.price / math.sqrt(MINUTES)
        mids = self.price + np.concatenate(([0.0], np.cumsum(rng.standard_normal(MINUTES) * sigma_minute)))
        shape = np.diff(self._curve().cumulative(np.arange(MINUTES + 1)))
        noise = rng.lognormal(-0.5 * self.volume_noise ** 2, self.volume_noise, MINUTES)
        return np.maximum(mids, 0.01), np.maximum(self.adv * shape * noise, 1.0)

    def execute(self, shares_per_minute: np.ndarray, *, side: str = "buy", seed: int) -> dict[str, float]:
        """Trade ``shares_per_minute`` (390 values) into the seeded market.

        Returns
        -------
        dict
            ``shortfall_bps`` against the arrival mid (positive = cost), ``average_price``,
            ``arrival`` and ``filled``.
        """
        q = np.asarray(shares_per_minute, dtype="float64")
        if q.shape != (MINUTES,) or (q < 0).any():
            raise InvalidInput(f"shares_per_minute must be {MINUTES} non-negative numbers")
        sign = 1.0 if side == "buy" else -1.0
        mids, volume = self.path(seed)
        permanent = sign * self.impact.permanent * self.sigma_daily * self.price * np.cumsum(q) / self.adv
        before = mids[:-1] + np.concatenate(([0.0], permanent[:-1]))
        temporary = self.spread_bps / 2e4 + self.impact.temporary * self.sigma_daily * np.sqrt(q / volume)
        prices = before * (1.0 + sign * temporary)
        filled = q.sum()
        average = float((prices * q).sum() / filled) if filled else float("nan")
        arrival = float(mids[0])
        return {"shortfall_bps": sign * (average - arrival) / arrival * 1e4, "average_price": average,
                "arrival": arrival, "filled": float(filled)}

    def bars(self, seed: int) -> pd.DataFrame:
        """The undisturbed session as one-minute bars (``ts`` = bar open, UTC)."""
        mids, volume = self.path(seed)
        rng = np.random.default_rng(seed + 1)
        opens, closes = mids[:-1], mids[1:]
        wiggle = np.abs(rng.standard_normal(MINUTES)) * self.sigma_daily * self.price / math.sqrt(MINUTES) / 2
        start = get_calendar("XNYS").session_open(pd.Timestamp(self.session))
        ts = start + pd.to_timedelta(np.arange(MINUTES), unit="min")
        return pd.DataFrame({"ts": ts, "symbol": self.symbol, "open": opens.round(4),
                             "high": (np.maximum(opens, closes) + wiggle).round(4),
                             "low": (np.minimum(opens, closes) - wiggle).round(4), "close": closes.round(4),
                             "volume": volume.round()})

    def quotes(self, seed: int) -> pd.DataFrame:
        """The undisturbed NBBO at each minute's start, spread ``spread_bps`` around the mid."""
        mids, _ = self.path(seed)
        half = mids * self.spread_bps / 2e4
        start = get_calendar("XNYS").session_open(pd.Timestamp(self.session))
        ts = start + pd.to_timedelta(np.arange(MINUTES + 1), unit="min")
        return pd.DataFrame({"ts": ts, "symbol": self.symbol, "bid": (mids - half).round(4),
                             "ask": (mids + half).round(4), "bid_size": 500, "ask_size": 500})

    def session_open(self) -> datetime:
        return get_calendar("XNYS").session_open(pd.Timestamp(self.session)).to_pydatetime()

    def minute(self, index: int) -> datetime:
        return self.session_open() + timedelta(minutes=index)


def schedule_for(recommendation_or_algo: Recommendation | str, *, quantity: float, market: SimulatedMarket,
                 minutes: int = MINUTES, profile: OrderProfile | None = None) -> np.ndarray:
    """Shares per minute that an algorithm would trade (390 values) in ``market``.

    ``market``: all in the first minute; ``twap``: equal per minute over ``minutes``;
    ``vwap``: in proportion to the expected volume curve; ``pov``: the rate of expected
    volume until done; ``is``: the Almgren-Chriss holdings of the recommendation, per minute.
    """
    if isinstance(recommendation_or_algo, Recommendation):
        candidate = recommendation_or_algo.best
        algo, params = candidate.algo, candidate.params
    else:
        algo, params = recommendation_or_algo, {}
    out = np.zeros(MINUTES)
    window = int(min(minutes, MINUTES))
    if algo == "market":
        out[0] = quantity
    elif algo == "twap":
        out[:window] = quantity / window
    elif algo == "vwap":
        shape = np.diff(market._curve().cumulative(np.arange(window + 1)))
        out[:window] = quantity * shape / shape.sum()
    elif algo == "pov":
        shape = np.diff(market._curve().cumulative(np.arange(MINUTES + 1))) * market.adv * float(params["rate"])
        done = np.minimum(np.cumsum(shape), quantity)
        out = np.diff(np.concatenate(([0.0], done)))
    elif algo == "is":
        if profile is None:
            raise InvalidInput("an 'is' schedule needs the order profile")
        ac = market.impact.almgren_chriss(shares=quantity, price=market.price, adv=market.adv,
                                          sigma_daily=market.sigma_daily, horizon_days=window / MINUTES,
                                          periods=int(params.get("periods", 13)), spread_bps=market.spread_bps,
                                          risk_aversion=float(params["risk_aversion"]))
        schedule = optimal_trajectory(ac)
        minutes_grid = schedule.times_days * MINUTES
        holdings = np.interp(np.arange(window + 1), minutes_grid, schedule.holdings)
        out[:window] = -np.diff(holdings)
    else:
        raise InvalidInput(f"unknown algorithm {algo!r}")
    return out


@dataclass(frozen=True, slots=True)
class StrategyComparison:
    """Mean shortfall per strategy over seeds, and the selected strategy's paired improvement."""

    selected: str
    seeds: int
    mean_shortfall_bps: dict[str, float]
    improvement_vs_market_bps: tuple[float, float, float]  # mean, 95 % CI low, high
    improvement_vs_twap_bps: tuple[float, float, float]
    improvement_vs_full_twap_bps: tuple[float, float, float]

    def to_dict(self) -> dict[str, object]:
        return {"selected": self.selected, "seeds": self.seeds, "mean_shortfall_bps": self.mean_shortfall_bps,
                "improvement_vs_market_bps": list(self.improvement_vs_market_bps),
                "improvement_vs_twap_bps": list(self.improvement_vs_twap_bps),
                "improvement_vs_full_twap_bps": list(self.improvement_vs_full_twap_bps)}


def _paired(difference: np.ndarray) -> tuple[float, float, float]:
    mean = float(difference.mean())
    half = float(stats.t.ppf(0.975, len(difference) - 1) * difference.std(ddof=1) / math.sqrt(len(difference)))
    return mean, mean - half, mean + half


def compare_strategies(*, market: SimulatedMarket, quantity: float, urgency: str = "low", seeds: int = 200,
                       side: str = "buy", naive_twap_minutes: int = 60) -> StrategyComparison:
    """Work one order with the recommended algorithm, a market order and TWAPs over the same seeds.

    The naive TWAP slices the order evenly over ``naive_twap_minutes`` (an hour by default,
    what a trader without a cost model often does); the full TWAP slices it over the whole
    session, the same horizon the recommendation may use.

    The recommendation sees only what a trader would know before trading (ADV, volatility,
    spread, the volume curve); each seed is a different market path. Improvements are
    ``shortfall(other) - shortfall(selected)`` (positive = the selection is cheaper), with a
    paired Student-t 95 % interval.
    """
    if seeds < 2:
        raise InvalidInput(f"seeds must be at least 2, was {seeds}")
    profile = OrderProfile(symbol=market.symbol, side=side, quantity=quantity, price=market.price, adv=market.adv,
                           sigma_daily=market.sigma_daily, spread_bps=market.spread_bps, urgency=urgency)
    recommendation = recommend(profile, market.impact, curve=market._curve())
    selected = schedule_for(recommendation, quantity=quantity, market=market, profile=profile)
    plans = {"selected": selected, "market": schedule_for("market", quantity=quantity, market=market),
             "twap": schedule_for("twap", quantity=quantity, market=market, minutes=naive_twap_minutes),
             "twap_full": schedule_for("twap", quantity=quantity, market=market)}
    results = {name: np.array([market.execute(plan, side=side, seed=s)["shortfall_bps"] for s in range(seeds)])
               for name, plan in plans.items()}
    return StrategyComparison(recommendation.best.algo, seeds,
                              {name: float(values.mean()) for name, values in results.items()},
                              _paired(results["market"] - results["selected"]),
                              _paired(results["twap"] - results["selected"]),
                              _paired(results["twap_full"] - results["selected"]))
