"""Exposures (gross, net, long, short, beta-adjusted, by group) and concentration.

Positions are market values in the portfolio currency (quantity x price, signed: short
positions negative). Weights are market value / NAV. Analytics are float64; convert Decimal
ledgers with :func:`market_values` first.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

import numpy as np

from bifrost.core.errors import InvalidInput

__all__ = ["ExposureReport", "exposure_report", "herfindahl_index", "market_values", "top_weights"]


def market_values(quantities: Mapping[str, Decimal | float], prices: Mapping[str, Decimal | float]
                  ) -> dict[str, float]:
    """Signed market values ``quantity * price`` as floats, for every non-zero position.

    Raises
    ------
    InvalidInput
        A held symbol has no price.
    """
    values = {}
    for symbol, quantity in quantities.items():
        q = float(quantity)
        if q == 0:
            continue
        if symbol not in prices:
            raise InvalidInput(f"no price for held symbol {symbol}; cannot value the position")
        values[symbol] = q * float(prices[symbol])
    return values


@dataclass(frozen=True, slots=True, kw_only=True)
class ExposureReport:
    """Exposures in currency and as fractions of NAV."""

    nav: float
    long: float
    short: float
    gross: float
    net: float
    beta_adjusted_net: float
    beta_adjusted_gross: float
    weights: dict[str, float]
    by_group: dict[str, dict[str, dict[str, float]]] = field(default_factory=dict)
    herfindahl: float = 0.0
    effective_positions: float = 0.0
    top: list[tuple[str, float]] = field(default_factory=list)

    @property
    def leverage(self) -> float:
        """Gross exposure / NAV."""
        return self.gross / self.nav

    def as_dict(self) -> dict[str, Any]:
        return {"nav": self.nav, "long": self.long, "short": self.short, "gross": self.gross, "net": self.net,
                "gross_pct": self.gross / self.nav, "net_pct": self.net / self.nav, "leverage": self.leverage,
                "beta_adjusted_net": self.beta_adjusted_net, "beta_adjusted_gross": self.beta_adjusted_gross,
                "weights": self.weights, "by_group": self.by_group, "herfindahl": self.herfindahl,
                "effective_positions": self.effective_positions,
                "top": [{"symbol": s, "weight": w} for s, w in self.top]}


def herfindahl_index(weights: Mapping[str, float] | Any) -> float:
    """Herfindahl-Hirschman index of the absolute weights, normalised to sum to one.

    ``H = sum_i (|w_i| / sum_j |w_j|)^2``: 1 for a single position, ``1/N`` for N equal ones;
    ``1/H`` is the effective number of positions.
    """
    values = np.abs(np.fromiter(weights.values(), dtype=float) if isinstance(weights, Mapping)
                    else np.asarray(weights, dtype=float))
    total = values.sum()
    if total <= 0:
        raise InvalidInput("weights are all zero; concentration is undefined")
    return float(np.sum((values / total) ** 2))


def top_weights(weights: Mapping[str, float], n: int = 5) -> list[tuple[str, float]]:
    """The ``n`` largest positions by absolute weight, largest first (ties by symbol)."""
    if n < 1:
        raise InvalidInput(f"n must be positive, was {n}")
    return sorted(weights.items(), key=lambda item: (-abs(item[1]), item[0]))[:n]


def exposure_report(values: Mapping[str, float], *, nav: float, betas: Mapping[str, float] | None = None,
                    groups: Mapping[str, Mapping[str, str]] | None = None, top_n: int = 5) -> ExposureReport:
    """Gross, net, long, short, beta-adjusted and grouped exposures of signed market values.

    Parameters
    ----------
    values
        Signed market value by symbol.
    nav
        Net asset value (positive).
    betas
        Beta by symbol to the market; missing symbols count with beta 1 (a stated proxy).
    groups
        Classification name -> {symbol: label}, e.g. ``{"sector": {...}, "country": {...},
        "currency": {...}}``; unclassified symbols are grouped under ``"Unknown"``.
    top_n
        How many of the largest weights to list.

    Returns
    -------
    ExposureReport
        ``by_group[name][label]`` holds ``long``, ``short``, ``gross``, ``net`` in currency and
        ``net_pct``, ``gross_pct`` of NAV.
    """
    if not nav > 0:
        raise InvalidInput(f"nav must be positive to express exposures as weights, was {nav}")
    for symbol, value in values.items():
        if not np.isfinite(value):
            raise InvalidInput(f"market value of {symbol} must be finite, was {value}")
    betas = betas or {}
    long = sum(v for v in values.values() if v > 0)
    short = -sum(v for v in values.values() if v < 0)
    beta_net = sum(v * float(betas.get(s, 1.0)) for s, v in values.items())
    beta_gross = sum(abs(v * float(betas.get(s, 1.0))) for s, v in values.items())
    weights = {s: v / nav for s, v in values.items()}
    by_group: dict[str, dict[str, dict[str, float]]] = {}
    for name, mapping in (groups or {}).items():
        table: dict[str, dict[str, float]] = {}
        for symbol, value in values.items():
            label = mapping.get(symbol) or "Unknown"
            row = table.setdefault(label, {"long": 0.0, "short": 0.0, "gross": 0.0, "net": 0.0})
            row["long" if value > 0 else "short"] += abs(value)
            row["gross"] += abs(value)
            row["net"] += value
        for row in table.values():
            row["net_pct"] = row["net"] / nav
            row["gross_pct"] = row["gross"] / nav
        by_group[name] = dict(sorted(table.items(), key=lambda item: -item[1]["gross"]))
    herfindahl = herfindahl_index(weights) if any(weights.values()) else 0.0
    return ExposureReport(nav=nav, long=long, short=short, gross=long + short, net=long - short,
                          beta_adjusted_net=beta_net, beta_adjusted_gross=beta_gross, weights=weights,
                          by_group=by_group, herfindahl=herfindahl,
                          effective_positions=1 / herfindahl if herfindahl else 0.0,
                          top=top_weights(weights, top_n) if weights else [])
