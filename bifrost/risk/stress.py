"""Stress tests: historical scenarios replayed on today's book, hypothetical and factor shocks,
and reverse stress tests.

Positions are signed market values in currency. A scenario moves factors (the market and, for
the historical scenarios, the Fama-French size and value factors); a position's return is its
loadings times the factor moves, so the market loading is its beta. Positions without a known
beta count with beta 1 and zero size/value loadings (a stated proxy: the position moves with
the market).

Historical scenarios
--------------------
Factor moves are compounded daily returns over the window (first and last session included) from
the Kenneth R. French Data Library daily three-factor file (CRSP value-weighted US market =
Mkt-RF + RF; SMB; HML), except the 2022 rate shock, which ends after that file (June 2020): it
uses the S&P 500 price index close of 2022-01-03 (4796.56) and 2022-10-12 (3577.03), a -25.4%
move, with no size or value move. The 2010 flash crash is the close-to-close move of
2010-05-06; the intraday fall was much deeper and recovered within the day, which daily data
cannot show. The numbers are embedded so the platform does not need the data files; a test
recomputes them from the files.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import Any

import numpy as np
from scipy import stats

from bifrost.core.errors import InvalidInput
from bifrost.risk._arrays import confidence_level, covariance_matrix, weights_vector

__all__ = [
    "HISTORICAL_SCENARIOS",
    "Scenario",
    "StressResult",
    "correlation_shock",
    "factor_shock",
    "index_shock",
    "reverse_stress_covariance",
    "reverse_stress_index",
    "run_scenario",
    "sector_shock",
    "volatility_shock",
]


@dataclass(frozen=True, slots=True, kw_only=True)
class Scenario:
    """A named set of factor moves (simple returns over the window)."""

    name: str
    label: str
    start: date
    end: date
    factor_moves: Mapping[str, float]
    source: str


_FF = "Ken French daily 3 factors (CRSP 202006 build), compounded over the window"

HISTORICAL_SCENARIOS: dict[str, Scenario] = {s.name: s for s in (
    Scenario(name="crash_1987", label="1987 crash (Black Monday)", start=date(1987, 10, 14),
             end=date(1987, 10, 19), factor_moves={"market": -0.2502, "smb": 0.0887, "hml": 0.0306}, source=_FF),
    Scenario(name="dotcom_2000", label="2000-02 dot-com bust", start=date(2000, 3, 27), end=date(2002, 10, 9),
             factor_moves={"market": -0.4961, "smb": 0.0414, "hml": 0.9466}, source=_FF),
    Scenario(name="lehman_2008", label="2008 Lehman to the March 2009 low", start=date(2008, 9, 15),
             end=date(2009, 3, 9), factor_moves={"market": -0.4492, "smb": -0.0605, "hml": -0.2851}, source=_FF),
    Scenario(name="flash_crash_2010", label="2010 flash crash (close to close)", start=date(2010, 5, 6),
             end=date(2010, 5, 6), factor_moves={"market": -0.0327, "smb": -0.0027, "hml": -0.0090}, source=_FF),
    Scenario(name="downgrade_2011", label="2011 US downgrade", start=date(2011, 7, 25), end=date(2011, 8, 8),
             factor_moves={"market": -0.1772, "smb": -0.0517, "hml": -0.0101}, source=_FF),
    Scenario(name="covid_2020", label="2020 COVID crash", start=date(2020, 2, 20), end=date(2020, 3, 23),
             factor_moves={"market": -0.3427, "smb": -0.0323, "hml": -0.1834}, source=_FF),
    Scenario(name="rates_2022", label="2022 rate shock", start=date(2022, 1, 4), end=date(2022, 10, 12),
             factor_moves={"market": 3577.03 / 4796.56 - 1}, source="S&P 500 price index closes 4796.56 -> 3577.03"),
)}


@dataclass(frozen=True, slots=True, kw_only=True)
class StressResult:
    """Scenario P&L (negative is a loss), in total and by position."""

    name: str
    pnl: float
    pnl_pct: float | None
    by_position: dict[str, float] = field(default_factory=dict)
    details: dict[str, Any] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return {"name": self.name, "pnl": self.pnl, "pnl_pct": self.pnl_pct, "by_position": self.by_position,
                "details": self.details}


def _check_values(values: Mapping[str, float]) -> dict[str, float]:
    out = {}
    for symbol, value in values.items():
        v = float(value)
        if not math.isfinite(v):
            raise InvalidInput(f"market value of {symbol} must be finite, was {value}")
        out[symbol] = v
    return out


def _result(name: str, by_position: dict[str, float], nav: float | None, **details: Any) -> StressResult:
    pnl = float(sum(by_position.values()))
    if nav is not None and not nav > 0:
        raise InvalidInput(f"nav must be positive, was {nav}")
    return StressResult(name=name, pnl=pnl, pnl_pct=pnl / nav if nav else None, by_position=by_position,
                        details=details)


def factor_shock(values: Mapping[str, float], loadings: Mapping[str, Mapping[str, float]],
                 moves: Mapping[str, float], *, nav: float | None = None, name: str = "factor_shock",
                 default_market_beta: float = 1.0) -> StressResult:
    """P&L of factor moves propagated through loadings: ``pnl_i = v_i * sum_f B_if * move_f``.

    ``loadings[symbol][factor]``; a symbol without a ``"market"`` loading gets
    ``default_market_beta``, other missing loadings are zero.
    """
    values = _check_values(values)
    for factor, move in moves.items():
        if not math.isfinite(float(move)) or float(move) <= -1 and factor == "market":
            raise InvalidInput(f"factor move {factor} must be finite and above -100%, was {move}")
    by_position = {}
    for symbol, value in values.items():
        row = loadings.get(symbol, {})
        ret = 0.0
        for factor, move in moves.items():
            beta = row.get(factor, default_market_beta if factor == "market" else 0.0)
            ret += float(beta) * float(move)
        by_position[symbol] = value * ret
    return _result(name, by_position, nav, moves=dict(moves))


def run_scenario(values: Mapping[str, float], scenario: Scenario | str, *, nav: float | None = None,
                 betas: Mapping[str, float] | None = None,
                 loadings: Mapping[str, Mapping[str, float]] | None = None) -> StressResult:
    """Replay a historical scenario (by name or object) on today's positions through their factor loadings.

    ``betas`` gives market betas only; ``loadings`` full rows (``market``, ``smb``, ``hml``).
    """
    if isinstance(scenario, str):
        if scenario not in HISTORICAL_SCENARIOS:
            raise InvalidInput(f"unknown scenario {scenario!r}; one of {', '.join(HISTORICAL_SCENARIOS)}")
        scenario = HISTORICAL_SCENARIOS[scenario]
    rows: dict[str, dict[str, float]] = {s: dict(r) for s, r in (loadings or {}).items()}
    for symbol, beta in (betas or {}).items():
        rows.setdefault(symbol, {})["market"] = float(beta)
    result = factor_shock(values, rows, scenario.factor_moves, nav=nav, name=scenario.name)
    return StressResult(name=scenario.name, pnl=result.pnl, pnl_pct=result.pnl_pct, by_position=result.by_position,
                        details={"label": scenario.label, "start": scenario.start.isoformat(),
                                 "end": scenario.end.isoformat(), "moves": dict(scenario.factor_moves),
                                 "source": scenario.source})


def index_shock(values: Mapping[str, float], shock: float, *, betas: Mapping[str, float] | None = None,
                nav: float | None = None) -> StressResult:
    """The market index moves by ``shock`` (-0.2 for -20%); each position by beta x shock."""
    return factor_shock(values, {s: {"market": b} for s, b in (betas or {}).items()}, {"market": shock}, nav=nav,
                        name=f"index {shock:+.1%}")


def sector_shock(values: Mapping[str, float], sectors: Mapping[str, str], shocks: Mapping[str, float], *,
                 nav: float | None = None) -> StressResult:
    """Each position in a shocked sector moves by that sector's shock; others do not move."""
    values = _check_values(values)
    unknown = [s for s in shocks if s not in set(sectors.values())]
    by_position = {symbol: value * float(shocks.get(sectors.get(symbol, ""), 0.0)) for symbol, value in values.items()}
    return _result("sector shock", by_position, nav, shocks=dict(shocks), sectors_not_held=unknown)


def _portfolio_sigma(w: np.ndarray, cov: np.ndarray) -> float:
    return math.sqrt(max(float(w @ cov @ w), 0.0))


def volatility_shock(weights: Any, covariance: Any, factor: float, *, confidence: float = 0.99) -> dict[str, float]:
    """Delta-normal VaR before and after every volatility is multiplied by ``factor`` (correlations kept)."""
    cov = covariance_matrix(covariance)
    w = weights_vector(weights, cov.shape[0])
    if not factor > 0:
        raise InvalidInput(f"volatility factor must be positive, was {factor}")
    z = float(stats.norm.ppf(confidence_level(confidence)))
    before = z * _portfolio_sigma(w, cov)
    return {"var_before": before, "var_after": before * factor, "factor": factor}


def correlation_shock(weights: Any, covariance: Any, *, target: float = 1.0,
                      confidence: float = 0.99) -> dict[str, float]:
    """Delta-normal VaR before and after every pairwise correlation is set to ``target`` (1: no diversification).

    With all correlations at 1, ``sigma = |sum_i w_i s_i|``; for a general target the matrix is
    ``s_i s_j (target + (1 - target) [i == j])``.
    """
    cov = covariance_matrix(covariance)
    w = weights_vector(weights, cov.shape[0])
    if not -1 <= target <= 1:
        raise InvalidInput(f"target correlation must be in [-1, 1], was {target}")
    z = float(stats.norm.ppf(confidence_level(confidence)))
    sd = np.sqrt(np.diag(cov))
    shocked = np.outer(sd, sd) * target
    np.fill_diagonal(shocked, sd ** 2)
    return {"var_before": z * _portfolio_sigma(w, cov), "var_after": z * _portfolio_sigma(w, shocked),
            "target": target}


def reverse_stress_index(values: Mapping[str, float], loss: float, *,
                         betas: Mapping[str, float] | None = None) -> float | None:
    """The smallest index move (by size) that loses ``loss`` (a positive amount), or ``None`` if no index fall does.

    The book's beta exposure is ``E = sum_i v_i beta_i``; a move x loses ``-E x``, so
    ``x = -loss / E`` (a fall for a net-long book, a rise for a net-short one).
    """
    if not loss > 0:
        raise InvalidInput(f"loss threshold must be positive, was {loss}")
    values = _check_values(values)
    exposure = sum(v * float((betas or {}).get(s, 1.0)) for s, v in values.items())
    if exposure == 0:
        return None
    move = -loss / exposure
    return move if move > -1 else None


def reverse_stress_covariance(weights: Any, covariance: Any, loss: float) -> dict[str, Any]:
    """The most likely joint return scenario that loses ``loss``: the smallest shock in Mahalanobis distance.

    Notes
    -----
    Minimising ``r' S^-1 r`` subject to ``w' r = -loss`` gives ``r* = -loss S w / (w' S w)``, at a
    distance of ``loss / sigma_p`` standard deviations of the portfolio (``sigma_p^2 = w' S w``).
    Under a normal model the one-day probability of a loss at least this large is
    ``Phi(-loss / sigma_p)``.
    """
    cov = covariance_matrix(covariance)
    w = weights_vector(weights, cov.shape[0])
    if not loss > 0:
        raise InvalidInput(f"loss threshold must be positive, was {loss}")
    variance = float(w @ cov @ w)
    if variance <= 0:
        raise InvalidInput("portfolio variance is zero: no market move produces a loss")
    scenario = -loss * (cov @ w) / variance
    distance = loss / math.sqrt(variance)
    return {"scenario": scenario, "sigmas": distance, "probability": float(stats.norm.sf(distance))}
