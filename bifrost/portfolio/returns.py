"""Portfolio returns: time-weighted (Modified Dietz, chain-linked) and money-weighted (XIRR).

These are analytics: NAVs and flows are float64 here. Build the input from
ledger snapshots with :meth:`Snapshot.nav_point <bifrost.portfolio.valuation.Snapshot.nav_point>`.

Conventions
-----------
A series is a sequence of :class:`NavPoint` ``(date, nav, flow)`` in strictly
increasing date order. ``nav`` is the valuation at the end of the day, after
that day's external ``flow`` (positive: money in; negative: money out). The first
point is the opening valuation: its flow is taken to be inside its NAV already
and is not used. ``flows_at`` says when during the day a flow arrives:
``"end"`` (default: after the close, so it earns nothing that day) or
``"start"`` (before the open, so it earns the whole day).
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np
from scipy.optimize import brentq

from bifrost.core.errors import InvalidInput

__all__ = ["NavPoint", "annualise", "modified_dietz", "money_weighted_return", "period_returns",
           "time_weighted_return", "xirr"]

FlowTiming = Literal["end", "start"]
DAYS_PER_YEAR = 365.0


@dataclass(frozen=True, slots=True)
class NavPoint:
    """End-of-day net asset value and the external flow of that day."""

    date: dt.date
    nav: float
    flow: float = 0.0

    def __post_init__(self) -> None:
        if not isinstance(self.date, dt.date) or isinstance(self.date, dt.datetime):
            raise InvalidInput(f"NavPoint date must be a date, was {self.date!r}")
        for name in ("nav", "flow"):
            value = float(getattr(self, name))
            if not math.isfinite(value):
                raise InvalidInput(f"NavPoint {name} must be finite, was {value} on {self.date}")
            object.__setattr__(self, name, value)
        if self.nav < 0:
            raise InvalidInput(f"NavPoint nav must not be negative, was {self.nav} on {self.date}")


def _check_series(points: Sequence[NavPoint]) -> None:
    if len(points) < 2:
        raise InvalidInput(f"a return needs at least 2 NAV points, got {len(points)}")
    for previous, current in zip(points, points[1:], strict=False):
        if current.date <= previous.date:
            raise InvalidInput(f"NAV points must be in strictly increasing date order: {current.date} "
                               f"follows {previous.date}")


def _check_timing(flows_at: str) -> None:
    if flows_at not in ("end", "start"):
        raise InvalidInput(f"flows_at must be 'end' or 'start', was {flows_at!r}")


def period_returns(points: Sequence[NavPoint], *, flows_at: FlowTiming = "end") -> np.ndarray:
    """Return the simple return of each sub-period between consecutive points.

    Parameters
    ----------
    points
        NAV series (see the module conventions).
    flows_at
        ``"end"``: ``r_t = (V_t - F_t) / V_{t-1} - 1``;
        ``"start"``: ``r_t = V_t / (V_{t-1} + F_t) - 1``.

    Returns
    -------
    numpy.ndarray
        ``len(points) - 1`` float64 returns.

    Raises
    ------
    InvalidInput
        If the series is too short or unordered, or a sub-period starts with no
        capital (the denominator is not positive).
    """
    _check_series(points)
    _check_timing(flows_at)
    nav = np.array([point.nav for point in points], dtype="float64")
    flow = np.array([point.flow for point in points], dtype="float64")
    if flows_at == "end":
        numerator, denominator = nav[1:] - flow[1:], nav[:-1]
    else:
        numerator, denominator = nav[1:], nav[:-1] + flow[1:]
    bad = np.flatnonzero(denominator <= 0)
    if bad.size:
        day = points[int(bad[0]) + 1].date
        raise InvalidInput(f"the sub-period ending {day} starts with no capital (denominator "
                           f"{denominator[bad[0]]}); a time-weighted return needs positive capital")
    return numerator / denominator - 1.0


def time_weighted_return(points: Sequence[NavPoint], *, flows_at: FlowTiming = "end") -> float:
    """Return the chain-linked time-weighted return over the whole series (not annualised).

    Notes
    -----
    ``TWR = prod(1 + r_t) - 1`` with ``r_t`` from :func:`period_returns`; with
    daily points this is the daily-valued true TWR that GIPS prefers.

    References
    ----------
    CFA Institute, *Global Investment Performance Standards (GIPS) for Firms*
    (2020), provisions 2.A.23 and 22.A.32; Bacon, *Practical Portfolio
    Performance Measurement and Attribution*, 2nd ed., ch. 2.
    """
    returns = period_returns(points, flows_at=flows_at)
    return float(np.prod(1.0 + returns) - 1.0)


def modified_dietz(points: Sequence[NavPoint], *, flows_at: FlowTiming = "end") -> float:
    """Return the Modified Dietz return of the period from the first to the last point.

    Notes
    -----
    ``R = (V_1 - V_0 - sum F_i) / (V_0 + sum w_i F_i)`` with
    ``w_i = (CD - D_i) / CD``, ``CD`` the calendar days of the period and ``D_i``
    the days from the start to flow ``i``; a flow at the start of its day counts
    one day more (``w_i = (CD - D_i + 1) / CD``).

    Raises
    ------
    InvalidInput
        If the series is too short or unordered, or the weighted capital is not positive.

    References
    ----------
    Dietz, *Pension Funds: Measuring Investment Performance* (1966); CFA
    Institute, GIPS 2020, provision 22.A.32 (approximation by Modified Dietz).
    """
    _check_series(points)
    _check_timing(flows_at)
    start, end = points[0], points[-1]
    calendar_days = (end.date - start.date).days
    extra = 1 if flows_at == "start" else 0
    total_flow = weighted_flow = 0.0
    for point in points[1:]:
        weight = (calendar_days - (point.date - start.date).days + extra) / calendar_days
        total_flow += point.flow
        weighted_flow += weight * point.flow
    capital = start.nav + weighted_flow
    if capital <= 0:
        raise InvalidInput(f"Modified Dietz needs positive weighted capital, was {capital} "
                           f"({start.date} to {end.date})")
    return (end.nav - start.nav - total_flow) / capital


def annualise(total_return: float, days: int) -> float:
    """Return the annual rate equivalent to ``total_return`` earned over ``days`` calendar days.

    Notes
    -----
    ``(1 + R) ** (365 / days) - 1`` (actual/365).
    """
    if days <= 0:
        raise InvalidInput(f"days must be positive, was {days}")
    if total_return <= -1.0:
        raise InvalidInput(f"total_return must be above -100%, was {total_return}")
    return math.exp(math.log1p(total_return) * DAYS_PER_YEAR / days) - 1.0


def _npv(rate: float, times: Sequence[float], amounts: Sequence[float]) -> float:
    log_growth = math.log1p(rate)
    return math.fsum(amount * math.exp(-time * log_growth) for time, amount in zip(times, amounts, strict=True))


# Rates tried when looking for a sign change of the NPV, nearest to zero first.
_GRID = (0.0, 0.1, -0.1, 0.25, -0.25, 0.5, -0.5, 1.0, -0.75, 2.0, -0.9, 5.0, -0.99, 10.0, -0.999, 100.0,
         -0.9999, 1000.0, -0.99999, 1e5)


def xirr(cash_flows: Sequence[tuple[dt.date, float]]) -> float:
    """Return the annual internal rate of return of dated cash flows (actual/365), like Excel's XIRR.

    Parameters
    ----------
    cash_flows
        ``(date, amount)`` from the investor's side: money in negative, money
        out (and the closing value) positive. Dates need not be sorted.

    Returns
    -------
    float
        The rate ``r`` with ``sum CF_i / (1 + r) ** ((d_i - d_0) / 365) = 0``. If
        several rates solve it, the one nearest zero.

    Raises
    ------
    InvalidInput
        If there are fewer than two flows, no flow of each sign, or no rate
        between -99.999% and 10,000,000% solves the equation.

    Notes
    -----
    Solved with :func:`scipy.optimize.brentq` on the bracket of the first sign
    change of the NPV in a grid of rates ordered by distance from zero.
    """
    flows = [(day, float(amount)) for day, amount in cash_flows]
    if len(flows) < 2:
        raise InvalidInput(f"an internal rate of return needs at least 2 cash flows, got {len(flows)}")
    if any(not math.isfinite(amount) for _, amount in flows):
        raise InvalidInput("cash flows must be finite")
    if not (any(amount > 0 for _, amount in flows) and any(amount < 0 for _, amount in flows)):
        raise InvalidInput("cash flows need at least one negative (money in) and one positive (money out) "
                           "amount for an internal rate of return")
    first = min(day for day, _ in flows)
    times = [(day - first).days / DAYS_PER_YEAR for day, _ in flows]
    amounts = [amount for _, amount in flows]
    values: dict[float, float] = {}
    for rate in _GRID:
        try:
            values[rate] = _npv(rate, times, amounts)
        except OverflowError:
            continue
        if values[rate] == 0.0:
            return rate
    ordered = sorted(values)
    brackets = [(low, high) for low, high in zip(ordered, ordered[1:], strict=False)
                if values[low] * values[high] < 0]
    if not brackets:
        raise InvalidInput("no internal rate of return between -99.999% and 10,000,000%: the NPV of the "
                           "cash flows never changes sign")
    roots = [brentq(_npv, low, high, args=(times, amounts), xtol=1e-14, rtol=1e-14, maxiter=200)
             for low, high in brackets]
    return float(min(roots, key=abs))


def money_weighted_return(points: Sequence[NavPoint]) -> float:
    """Return the annualised money-weighted return (XIRR) of a NAV series.

    The opening NAV is invested on the first date, each later flow is invested
    (or withdrawn) on its date, and the closing NAV is received on the last date.

    Raises
    ------
    InvalidInput
        If the series is too short or unordered, or has no internal rate of return.
    """
    _check_series(points)
    flows = [(points[0].date, -points[0].nav)]
    flows.extend((point.date, -point.flow) for point in points[1:] if point.flow)
    flows.append((points[-1].date, points[-1].nav))
    return xirr(flows)
