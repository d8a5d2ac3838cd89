"""Algorithm selection: expected cost and risk of each candidate from the impact model, and a choice.

Candidates for an order of ``Q`` shares (price ``P``, ``ADV``, daily volatility ``sigma``,
spread ``s`` bps) with ``H`` trading days left before the close (or the trader's horizon):

* ``market``: all at once (modelled as one minute of trading);
* ``twap`` and ``vwap`` over ``H``;
* ``pov`` at 5 %, 10 % and 20 % of volume (duration ``Q / (rate * ADV * forecast)``;
  infeasible when longer than ``H``);
* ``is``: the Almgren-Chriss trajectory over ``H`` for the urgency's risk aversion;
* ``vwap`` worked passively (``style="passive"``), when the order's profile carries a passive
  fill rate ``f`` and an adverse selection ``a`` (bps) measured by TCA on the symbol's past
  resting fills: rest each slice at the near touch and cross only what falls behind the
  schedule. Its cost is the VWAP cost less ``f * (s - 2 a)``: each share filled at the touch
  saves the spread, gives back its adverse selection, and about as much again is lost on the
  shares crossed after the price moved away. With ``s <= 2 a`` resting does not pay, and the
  candidate loses to the aggressive VWAP.

Cost model (bps): ``s / 2 + temporary * factor + permanent / 2``, with the temporary and
permanent terms of :class:`~bifrost.execquality.impact.ImpactModel` computed against the
volume expected in the window (``ADV * forecast * curve share``). ``factor`` is 1 for a
schedule that trades in proportion to volume (VWAP, POV) and
``sum_b t_b * sqrt(t_b / f_b)`` for a schedule trading share ``t_b`` in bucket ``b`` where
the market trades ``f_b`` (>= 1 by Jensen: TWAP pays for the intraday volume shape). Risk
is the standard deviation of the cost from price moves while shares remain: ``sigma
sqrt(H / 3)`` for a linear schedule, the Almgren-Chriss variance for ``is``. Each candidate
is scored ``cost + lambda * risk^2`` with ``lambda`` (1/bps) set by urgency; the lowest
score wins. Recalibrating the impact model changes every cost, and so the choice.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from bifrost.core.errors import InvalidInput
from bifrost.execquality.almgren_chriss import optimal_trajectory
from bifrost.execquality.impact import ImpactModel
from bifrost.execquality.volume_curve import VolumeCurve

__all__ = ["URGENCY_RISK_AVERSION", "Candidate", "OrderProfile", "Recommendation", "recommend"]

# Risk aversion per bps^2 of cost variance (1/bps): a 100 bps standard deviation costs
# 0.5, 5 and 50 bps of score at low, medium and high urgency.
URGENCY_RISK_AVERSION = {"low": 0.00005, "medium": 0.0005, "high": 0.005}

_MINUTES_PER_DAY = 390.0


@dataclass(frozen=True, slots=True, kw_only=True)
class OrderProfile:
    """The characteristics of an order that drive the choice of algorithm.

    ``minutes_to_close`` is the time left to work the order (the session's remaining minutes
    or the trader's deadline); ``volume_forecast`` is today's expected volume over ADV
    (1 = a normal day); ``minutes_after_open`` places the window on the volume curve.
    ``passive_fill_rate`` (share of an order filled by resting slices at the touch) and
    ``adverse_selection_bps`` (how far the mid moves against those fills) come from TCA of
    the symbol's past resting fills; with a zero fill rate no passive candidate is offered.
    """

    symbol: str
    side: str
    quantity: float
    price: float
    adv: float
    sigma_daily: float
    spread_bps: float = 5.0
    urgency: str = "medium"
    minutes_to_close: float = 390.0
    volume_forecast: float = 1.0
    minutes_after_open: float = 0.0
    passive_fill_rate: float = 0.0
    adverse_selection_bps: float = 0.0

    def __post_init__(self) -> None:
        if not 0 <= self.passive_fill_rate <= 1:
            raise InvalidInput(f"passive_fill_rate must be in [0, 1], was {self.passive_fill_rate!r}")
        if not math.isfinite(self.adverse_selection_bps):
            raise InvalidInput(f"adverse_selection_bps must be finite, was {self.adverse_selection_bps!r}")
        if self.side not in ("buy", "sell"):
            raise InvalidInput(f"side must be 'buy' or 'sell', was {self.side!r}")
        for name in ("quantity", "price", "adv", "sigma_daily", "minutes_to_close", "volume_forecast"):
            value = float(getattr(self, name))
            if not math.isfinite(value) or value <= 0:
                raise InvalidInput(f"{name} must be a positive number, was {getattr(self, name)!r}")
        if not math.isfinite(self.spread_bps) or self.spread_bps < 0:
            raise InvalidInput(f"spread_bps must be non-negative, was {self.spread_bps!r}")
        if self.urgency not in URGENCY_RISK_AVERSION:
            raise InvalidInput(f"urgency must be one of {', '.join(URGENCY_RISK_AVERSION)}, was {self.urgency!r}")

    @property
    def participation(self) -> float:
        return self.quantity / self.adv

    @property
    def notional(self) -> float:
        return self.quantity * self.price


@dataclass(frozen=True, slots=True)
class Candidate:
    algo: str
    params: dict[str, object]
    duration_minutes: float
    expected_cost_bps: float
    risk_bps: float
    score: float
    feasible: bool = True
    note: str = ""

    def to_dict(self) -> dict[str, object]:
        return {"algo": self.algo, "params": self.params, "duration_minutes": self.duration_minutes,
                "expected_cost_bps": self.expected_cost_bps, "risk_bps": self.risk_bps, "score": self.score,
                "feasible": self.feasible, "note": self.note}


@dataclass(frozen=True, slots=True)
class Recommendation:
    best: Candidate
    candidates: tuple[Candidate, ...]
    explanation: str
    model: dict[str, object] = field(default_factory=dict)

    def to_dict(self) -> dict[str, object]:
        return {"best": self.best.to_dict(), "candidates": [c.to_dict() for c in self.candidates],
                "explanation": self.explanation, "model": self.model}


def _window_share(curve: VolumeCurve, start_min: float, minutes: float) -> float:
    a, b = curve.cumulative(np.array([start_min, start_min + minutes]))
    return float(max(b - a, 1e-9))


def _twap_factor(curve: VolumeCurve, start_min: float, minutes: float) -> float:
    edges = np.linspace(start_min, start_min + minutes, max(int(minutes // curve.bucket_minutes), 1) + 1)
    cum = curve.cumulative(edges)
    market = np.diff(cum)
    total = market.sum()
    if total <= 0:
        return 1.0
    f = np.maximum(market / total, 1e-12)
    t = np.full(len(f), 1.0 / len(f))
    return float(np.sum(t * np.sqrt(t / f)))


def _label(candidate: Candidate) -> str:
    style = candidate.params.get("style")
    return candidate.algo.upper() + (f" ({style})" if style else "")


def recommend(profile: OrderProfile, model: ImpactModel | None = None, *, curve: VolumeCurve | None = None,
              periods: int = 13) -> Recommendation:
    """Score every candidate algorithm for ``profile`` and pick the lowest ``cost + lambda * risk^2``.

    Parameters
    ----------
    profile
        The order.
    model
        Impact coefficients (defaults, or a calibration from the user's own fills).
    curve
        Intraday volume curve of the symbol (flat when not given).
    periods
        Grid of the Almgren-Chriss schedule.

    Returns
    -------
    Recommendation
        The best candidate, all candidates (best first) and a plain-language explanation.
    """
    model = model or ImpactModel()
    curve = curve or VolumeCurve.flat(bucket_minutes=5)
    lam = URGENCY_RISK_AVERSION[profile.urgency]
    sigma_bps = profile.sigma_daily * 1e4
    horizon = float(profile.minutes_to_close)
    day_volume = profile.adv * profile.volume_forecast

    def cost(minutes: float, factor: float) -> float:
        share = _window_share(curve, profile.minutes_after_open, minutes)
        window_volume = day_volume * share
        temporary = model.temporary * profile.sigma_daily * math.sqrt(profile.quantity / window_volume) * factor
        permanent = model.permanent * profile.sigma_daily * profile.participation
        return profile.spread_bps / 2.0 + (temporary + permanent / 2.0) * 1e4

    def linear_risk(minutes: float) -> float:
        return sigma_bps * math.sqrt(minutes / _MINUTES_PER_DAY / 3.0)

    candidates: list[Candidate] = []

    def add(algo: str, params: dict[str, object], minutes: float, c: float, r: float, feasible: bool = True,
            note: str = "") -> None:
        candidates.append(Candidate(algo, params, minutes, c, r, c + lam * r * r, feasible, note))

    add("market", {}, 1.0, cost(1.0, 1.0), linear_risk(1.0))
    add("twap", {"minutes": horizon}, horizon, cost(horizon, _twap_factor(curve, profile.minutes_after_open, horizon)),
        linear_risk(horizon))
    add("vwap", {"minutes": horizon}, horizon, cost(horizon, 1.0), linear_risk(horizon))
    if profile.passive_fill_rate > 0:
        saving = profile.passive_fill_rate * (profile.spread_bps - 2.0 * profile.adverse_selection_bps)
        add("vwap", {"minutes": horizon, "style": "passive", "catch_up_minutes": 1}, horizon,
            cost(horizon, 1.0) - saving, linear_risk(horizon),
            note=f"rests at the touch: {profile.passive_fill_rate:.0%} expected to fill passively, "
                 f"adverse selection {profile.adverse_selection_bps:.2f} bps, saving {saving:.2f} bps")
    for rate in (0.05, 0.10, 0.20):
        minutes = profile.quantity / (rate * day_volume) * _MINUTES_PER_DAY
        feasible = minutes <= horizon
        c = profile.spread_bps / 2.0 + (model.temporary * profile.sigma_daily * math.sqrt(rate)
                                        + model.permanent * profile.sigma_daily * profile.participation / 2.0) * 1e4
        add("pov", {"rate": rate}, minutes, c, linear_risk(min(minutes, horizon)), feasible,
            "" if feasible else f"needs {minutes:.0f} min at {rate:.0%}, only {horizon:.0f} left")
    horizon_days = horizon / _MINUTES_PER_DAY
    volume_days = _window_share(curve, profile.minutes_after_open, horizon) * profile.volume_forecast
    effective_adv = profile.adv * profile.volume_forecast * volume_days / horizon_days
    lam_dollars = lam * 1e4 / profile.notional
    ac = model.almgren_chriss(shares=profile.quantity, price=profile.price, adv=effective_adv,
                              sigma_daily=profile.sigma_daily, horizon_days=horizon_days, periods=periods,
                              spread_bps=profile.spread_bps, risk_aversion=lam_dollars)
    schedule = optimal_trajectory(ac)
    to_bps = 1e4 / profile.notional
    # the trajectory trades on clock time, so its temporary cost pays the TWAP volume-shape factor too
    fixed = (0.5 * ac.gamma * ac.shares ** 2 + ac.epsilon * ac.shares) * to_bps
    temporary = (schedule.expected_cost * to_bps - fixed) * _twap_factor(curve, profile.minutes_after_open, horizon)
    add("is", {"risk_aversion": lam_dollars, "kappa_per_day": schedule.kappa, "periods": periods,
               "minutes": horizon}, horizon, fixed + temporary, math.sqrt(schedule.variance) * to_bps)
    feasible = [c for c in candidates if c.feasible]
    ranked = sorted(feasible, key=lambda c: c.score) + [c for c in candidates if not c.feasible]
    best = ranked[0]
    runner_up = ranked[1] if len(ranked) > 1 else None
    explanation = (
        f"{profile.side} {profile.quantity:,.0f} {profile.symbol} is {profile.participation:.2%} of ADV, "
        f"spread {profile.spread_bps:.1f} bps, daily volatility {profile.sigma_daily:.2%}, urgency {profile.urgency}, "
        f"{horizon:.0f} min to work it. {_label(best)} has the lowest cost + risk penalty: expected cost "
        f"{best.expected_cost_bps:.1f} bps, risk {best.risk_bps:.1f} bps")
    if runner_up is not None:
        if best.note:
            explanation += f" ({best.note})"
        explanation += (f"; next is {_label(runner_up)} at {runner_up.expected_cost_bps:.1f} bps cost and "
                        f"{runner_up.risk_bps:.1f} bps risk (score {runner_up.score:.1f} vs {best.score:.1f})")
    explanation += f". Impact model: {model.source} (temporary {model.temporary:.3f}, permanent {model.permanent:.3f})."
    return Recommendation(best, tuple(ranked), explanation, model.to_dict())
