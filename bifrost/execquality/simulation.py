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

Resting orders (:meth:`SimulatedMarket.execute_passive`) join the back of the displayed queue
and fill from the volume initiated on the other side, whose share of each minute moves with
the price (order flow drives prices: Cont, Kukanov and Stoikov 2014 explain about 65 % of
short-horizon mid changes by order flow imbalance, a correlation near 0.8). That link is what
adversely selects resting orders; it is a property of the market, the same for every strategy.

References
----------
Cont, R., Kukanov, A. and Stoikov, S. (2014), "The price impact of order book events",
Journal of Financial Econometrics 12(1), 47-88. Bouchaud, J.-P., Bonart, J., Donier, J. and
Gould, M. (2018), *Trades, Quotes and Prices*, ch. 12 (the square-root law of metaorders).
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

__all__ = ["SimulatedMarket", "StrategyComparison", "compare_strategies", "passive_statistics", "schedule_for",
           "u_shaped_curve"]

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
    queue_ahead_shares: float = 500.0
    flow_price_correlation: float = 0.8

    def __post_init__(self) -> None:
        for name in ("price", "sigma_daily", "adv"):
            if not getattr(self, name) > 0:
                raise InvalidInput(f"{name} must be positive, was {getattr(self, name)!r}")
        if not self.queue_ahead_shares >= 0:
            raise InvalidInput(f"queue_ahead_shares must be non-negative, was {self.queue_ahead_shares!r}")
        if not 0 <= self.flow_price_correlation < 1:
            raise InvalidInput(f"flow_price_correlation must be in [0, 1), was {self.flow_price_correlation!r}")

    def _curve(self) -> VolumeCurve:
        return self.curve if self.curve is not None else u_shaped_curve()

    def path(self, seed: int) -> tuple[np.ndarray, np.ndarray]:
        """Undisturbed mids at each minute's start (391 values) and market volume per minute (390)."""
        mids, volume, _ = self._draws(seed)
        return mids, volume

    def _draws(self, seed: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        # mids, volume and the standardised mid move of each minute, from one seeded stream
        rng = np.random.default_rng(seed)
        sigma_minute = self.sigma_daily * self.price / math.sqrt(MINUTES)
        moves = rng.standard_normal(MINUTES)
        mids = self.price + np.concatenate(([0.0], np.cumsum(moves * sigma_minute)))
        shape = np.diff(self._curve().cumulative(np.arange(MINUTES + 1)))
        noise = rng.lognormal(-0.5 * self.volume_noise ** 2, self.volume_noise, MINUTES)
        return np.maximum(mids, 0.01), np.maximum(self.adv * shape * noise, 1.0), moves

    def sell_initiated_share(self, seed: int) -> np.ndarray:
        """Share of each minute's volume initiated by sellers (390 values in (0, 1)).

        ``Phi(-rho z + sqrt(1 - rho^2) e)`` with ``z`` the minute's standardised mid move,
        ``e`` independent noise and ``rho = flow_price_correlation``: when sellers dominate
        the price falls, which is what makes resting buy orders adversely selected.
        """
        _, _, moves = self._draws(seed)
        noise = np.random.default_rng([seed, 2]).standard_normal(MINUTES)
        rho = self.flow_price_correlation
        return stats.norm.cdf(-rho * moves + math.sqrt(1.0 - rho * rho) * noise)

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

    def execute_passive(self, target_cumulative: np.ndarray, *, side: str = "buy", seeds: np.ndarray | range,
                        catch_up_minutes: int = 1) -> dict[str, np.ndarray]:
        """Work a schedule passively: rest at the near touch and cross only what is behind schedule.

        ``target_cumulative`` (391 non-decreasing values from 0 to the quantity) is the shares
        the schedule wants done by the start of each minute. At the start of minute ``t`` the
        policy crosses the spread for whatever is still missing from ``target[t + 1 - L]``
        (``L = catch_up_minutes``; everything left in the last minute) and rests the rest of
        ``target[t + 1]`` at the near touch (the bid for a buy), re-pegged every minute.

        Fill model of the resting order: it joins the back of the displayed queue
        (``queue_ahead_shares``) and fills from the volume initiated on the other side
        (:meth:`sell_initiated_share` for a buy): ``min(resting, max(v_t * share_t - queue, 0))``,
        at the touch during the minute, ``(m_t + m_{t+1}) / 2 -/+ spread / 2`` plus the
        permanent impact so far. Because the other side's flow moves the price, resting buys
        fill mostly in falling minutes (adverse selection) and the shares left unfilled are
        crossed after rising ones. Passive fills pay the same temporary impact as crossed ones
        (the square-root law holds for a metaorder whatever its order types; Bouchaud et al.
        2018, ch. 12), so they save the spread and nothing else.

        Returns
        -------
        dict
            Per seed: ``shortfall_bps`` against the arrival mid (positive = cost),
            ``passive_fraction`` of the shares filled passively and ``adverse_selection_bps``,
            the share-weighted move of the mid against the passive fills by the minute's end
            (positive = adverse).

        Raises
        ------
        InvalidInput
            If the target is not 391 non-decreasing values from 0, or ``catch_up_minutes < 1``.
        """
        target = np.asarray(target_cumulative, dtype="float64")
        if target.shape != (MINUTES + 1,) or target[0] != 0 or (np.diff(target) < -1e-9).any() or target[-1] <= 0:
            raise InvalidInput(f"target_cumulative must be {MINUTES + 1} non-decreasing numbers from 0 to the quantity")
        if catch_up_minutes < 1:
            raise InvalidInput(f"catch_up_minutes must be at least 1, was {catch_up_minutes}")
        sign = 1.0 if side == "buy" else -1.0
        seeds = np.asarray(seeds)
        draws = [self._draws(int(s)) for s in seeds]
        mids = np.stack([d[0] for d in draws])
        volume = np.stack([d[1] for d in draws])
        flow = np.stack([self.sell_initiated_share(int(s)) for s in seeds])
        other_side = volume * (flow if side == "buy" else 1.0 - flow)
        quantity = target[-1]
        half = self.spread_bps / 2e4
        gamma = self.impact.permanent * self.sigma_daily * self.price / self.adv
        eta = self.impact.temporary * self.sigma_daily
        must = target[np.maximum(np.arange(MINUTES) + 1 - catch_up_minutes, 0)]
        must[-1] = quantity
        filled = np.zeros(len(seeds))
        paid = np.zeros(len(seeds))
        passive = np.zeros(len(seeds))
        against = np.zeros(len(seeds))
        for t in range(MINUTES):
            cross = np.maximum(must[t] - filled, 0.0)
            resting = np.maximum(target[t + 1] - filled - cross, 0.0)
            rested = np.minimum(resting, np.maximum(other_side[:, t] - self.queue_ahead_shares, 0.0))
            temporary = eta * np.sqrt((cross + rested) / volume[:, t])
            permanent = sign * gamma * filled
            paid += cross * (mids[:, t] + permanent) * (1.0 + sign * (half + temporary))
            touch_mid = 0.5 * (mids[:, t] + mids[:, t + 1]) + permanent
            paid += rested * touch_mid * (1.0 + sign * (temporary - half))
            against += rested * sign * (touch_mid - mids[:, t + 1] - permanent)
            passive += rested
            filled += cross + rested
        arrival = mids[:, 0]
        average = paid / filled
        with np.errstate(invalid="ignore", divide="ignore"):
            adverse = np.where(passive > 0, against / np.where(passive > 0, passive, 1.0) / arrival * 1e4, 0.0)
        return {"shortfall_bps": sign * (average - arrival) / arrival * 1e4, "passive_fraction": passive / filled,
                "adverse_selection_bps": adverse, "filled": filled}

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
        """The undisturbed NBBO at each minute's start, spread ``spread_bps`` around the mid, ``queue_ahead_shares`` deep."""
        mids, _ = self.path(seed)
        half = mids * self.spread_bps / 2e4
        start = get_calendar("XNYS").session_open(pd.Timestamp(self.session))
        ts = start + pd.to_timedelta(np.arange(MINUTES + 1), unit="min")
        return pd.DataFrame({"ts": ts, "symbol": self.symbol, "bid": (mids - half).round(4),
                             "ask": (mids + half).round(4), "bid_size": round(self.queue_ahead_shares),
                             "ask_size": round(self.queue_ahead_shares)})

    def session_open(self) -> datetime:
        return get_calendar("XNYS").session_open(pd.Timestamp(self.session)).to_pydatetime()

    def minute(self, index: int) -> datetime:
        return self.session_open() + timedelta(minutes=index)


def schedule_for(recommendation_or_algo: Recommendation | str, *, quantity: float, market: SimulatedMarket,
                 minutes: int = MINUTES, profile: OrderProfile | None = None) -> np.ndarray:
    """Shares per minute that an algorithm would trade (390 values) in ``market``.

    ``market``: all in the first minute; ``twap``: equal per minute over ``minutes``;
    ``vwap``: in proportion to the expected volume curve (a passive VWAP has the same
    schedule; :meth:`SimulatedMarket.execute_passive` works it); ``pov``: the rate of expected
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
        out = quantity * np.diff(_curve_target(market, window))
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


def passive_statistics(*, market: SimulatedMarket, quantity: float, side: str = "buy",
                       seeds: range | np.ndarray = range(1_000_000, 1_000_050)) -> tuple[float, float]:
    """Passive fill rate and adverse selection (bps) of a VWAP worked passively on past sessions.

    This is what TCA of the symbol's own resting fills reports (fill rate of resting
    children; the move of the mid against them); the default seeds are disjoint from the
    ones :func:`compare_strategies` evaluates on, so the selection learns only from the past.
    """
    target = quantity * _curve_target(market, MINUTES)
    result = market.execute_passive(target, side=side, seeds=seeds)
    return float(result["passive_fraction"].mean()), float(result["adverse_selection_bps"].mean())


def _curve_target(market: SimulatedMarket, window: int) -> np.ndarray:
    # cumulative share of the order due by the start of each minute, following the volume curve
    cumulative = market._curve().cumulative(np.minimum(np.arange(MINUTES + 1), window))
    return cumulative / cumulative[-1]


def compare_strategies(*, market: SimulatedMarket, quantity: float, urgency: str = "low", seeds: int = 200,
                       side: str = "buy", naive_twap_minutes: int = 60) -> StrategyComparison:
    """Work one order with the recommended algorithm, a market order and TWAPs over the same seeds.

    The naive TWAP slices the order evenly over ``naive_twap_minutes`` (an hour by default,
    what a trader without a cost model often does); the full TWAP slices it over the whole
    session, the same horizon the recommendation may use. Both cross the spread with every
    slice, as does the market order.

    The recommendation sees only what a trader would know before trading (ADV, volatility,
    spread, the volume curve, and the passive fill rate and adverse selection that TCA
    measured on past sessions, :func:`passive_statistics`); each seed is a different market
    path. Improvements are ``shortfall(other) - shortfall(selected)`` (positive = the
    selection is cheaper), with a paired Student-t 95 % interval. ``mean_shortfall_bps``
    also holds an aggressive VWAP, to show what working passively adds.
    """
    if seeds < 2:
        raise InvalidInput(f"seeds must be at least 2, was {seeds}")
    fill_rate, adverse = passive_statistics(market=market, quantity=quantity, side=side)
    profile = OrderProfile(symbol=market.symbol, side=side, quantity=quantity, price=market.price, adv=market.adv,
                           sigma_daily=market.sigma_daily, spread_bps=market.spread_bps, urgency=urgency,
                           passive_fill_rate=fill_rate, adverse_selection_bps=adverse)
    recommendation = recommend(profile, market.impact, curve=market._curve())
    selected = schedule_for(recommendation, quantity=quantity, market=market, profile=profile)
    plans = {"market": schedule_for("market", quantity=quantity, market=market),
             "twap": schedule_for("twap", quantity=quantity, market=market, minutes=naive_twap_minutes),
             "twap_full": schedule_for("twap", quantity=quantity, market=market),
             "vwap": schedule_for("vwap", quantity=quantity, market=market)}
    results = {name: np.array([market.execute(plan, side=side, seed=s)["shortfall_bps"] for s in range(seeds)])
               for name, plan in plans.items()}
    best = recommendation.best
    if best.params.get("style") == "passive":
        target = np.concatenate(([0.0], np.cumsum(selected)))
        results["selected"] = market.execute_passive(target, side=side, seeds=range(seeds),
                                                     catch_up_minutes=int(best.params["catch_up_minutes"]))[
            "shortfall_bps"]
        label = f"{best.algo} (passive)"
    else:
        results["selected"] = np.array([market.execute(selected, side=side, seed=s)["shortfall_bps"]
                                        for s in range(seeds)])
        label = best.algo
    return StrategyComparison(label, seeds,
                              {name: float(values.mean()) for name, values in results.items()},
                              _paired(results["market"] - results["selected"]),
                              _paired(results["twap"] - results["selected"]),
                              _paired(results["twap_full"] - results["selected"]))
