"""Risk limits: limit sets with soft (warn) and hard (block) levels, the pre-trade check that
evaluates an order on the book it would leave, and the same rules applied to target weights.

Limit kinds and their units
---------------------------
==================== ============================================================ ==============
kind                 measure (on the book after the order unless noted)           unit
==================== ============================================================ ==============
position_weight      abs(position value) / NAV                                    fraction
position_notional    abs(position value)                                          currency
position_shares      abs(position quantity)                                       shares
adv_participation    order quantity / average daily volume of the symbol          fraction
sector_weight        gross value of the order's sector / NAV (sector from          fraction
                     company data; ``params["sector"]`` limits one sector only)
industry_weight      same for the industry                                        fraction
gross_exposure       sum of abs(position values)                                  currency
net_exposure         abs(sum of position values)                                  currency
leverage             gross exposure / NAV                                         ratio
var                  delta-normal VaR of the book / NAV, with the order's          fraction
                     incremental VaR (``confidence``, ``horizon_days`` of the book)
cvar                 the same for expected shortfall                              fraction
correlation          correlation of the new position's P&L with the rest of the   correlation
                     book's P&L (before the order)
daily_loss           (start-of-day NAV - NAV) / start-of-day NAV (current state)  fraction
trailing_drawdown    1 - NAV / highest NAV of the trailing window (current state) fraction
max_drawdown         1 - NAV / all-time high-water mark (current state)           fraction
order_rate           orders in the last ``params["window_seconds"]`` (default 60), count
                     this one included
restricted_symbols   the order's symbol is in ``params["symbols"]`` (hard) or     -
                     ``params["warn_symbols"]`` (soft)
==================== ============================================================ ==============

Decisions
---------
* A level is breached when the measure is strictly above it: a book exactly at a cap passes.
* Position, group, exposure, VaR and correlation limits do not block an order that lowers the
  measure (a sale that shrinks a position that is already too big passes), so risk can always
  be reduced. State limits (daily loss, drawdowns), order rate, participation and the
  restricted list apply to every order.
* A measure the book cannot compute (no price, no sector, no return history for the symbol)
  is a warning naming what is missing, never a silent pass.
* The VaR used pre-trade is delta-normal on the book's covariance, so the incremental VaR of
  an order in symbol k with value change d is exact and O(1):
  ``s'^2 = s^2 + 2 d (S v)_k + d^2 S_kk``.
* NAV is taken as unchanged by the order (a trade swaps cash for stock; fees are ignored).

Every finding names the scope ("portfolio 7", "household Smith"), the rule, the value the
order would leave and the level, and carries the numbers.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal
from enum import StrEnum
from typing import Any

import numpy as np
from scipy import stats

from bifrost.core.errors import InvalidInput
from bifrost.orders.pretrade import CheckResult, Decision, Finding, PreTradeContext
from bifrost.orders.types import OrderRequest, Side

__all__ = [
    "Limit",
    "LimitKind",
    "LimitSet",
    "RiskBook",
    "RiskLimitCheck",
    "LimitTargetAdjuster",
    "TargetAdjustment",
    "apply_limits_to_targets",
    "limit_usage",
]


class LimitKind(StrEnum):
    POSITION_WEIGHT = "position_weight"
    POSITION_NOTIONAL = "position_notional"
    POSITION_SHARES = "position_shares"
    ADV_PARTICIPATION = "adv_participation"
    SECTOR_WEIGHT = "sector_weight"
    INDUSTRY_WEIGHT = "industry_weight"
    GROSS_EXPOSURE = "gross_exposure"
    NET_EXPOSURE = "net_exposure"
    LEVERAGE = "leverage"
    VAR = "var"
    CVAR = "cvar"
    CORRELATION = "correlation"
    DAILY_LOSS = "daily_loss"
    TRAILING_DRAWDOWN = "trailing_drawdown"
    MAX_DRAWDOWN = "max_drawdown"
    ORDER_RATE = "order_rate"
    RESTRICTED_SYMBOLS = "restricted_symbols"


_PCT_KINDS = frozenset({LimitKind.POSITION_WEIGHT, LimitKind.ADV_PARTICIPATION, LimitKind.SECTOR_WEIGHT,
                        LimitKind.INDUSTRY_WEIGHT, LimitKind.VAR, LimitKind.CVAR, LimitKind.DAILY_LOSS,
                        LimitKind.TRAILING_DRAWDOWN, LimitKind.MAX_DRAWDOWN})
_MONEY_KINDS = frozenset({LimitKind.POSITION_NOTIONAL, LimitKind.GROSS_EXPOSURE, LimitKind.NET_EXPOSURE})
DRAWDOWN_KINDS = frozenset({LimitKind.TRAILING_DRAWDOWN, LimitKind.MAX_DRAWDOWN})


@dataclass(frozen=True, slots=True, kw_only=True)
class Limit:
    """One rule with a soft (warn) and a hard (block) level; at least one level is required.

    Parameters
    ----------
    kind
        A :class:`LimitKind` (see the module table for units).
    soft, hard
        Levels in the kind's unit; breached when the measure is strictly above. ``soft`` must
        not exceed ``hard``.
    params
        Extra settings: ``sector``/``industry`` (limit one group), ``window_seconds``
        (order rate), ``symbols``/``warn_symbols`` (restricted list).
    """

    kind: LimitKind
    soft: float | None = None
    hard: float | None = None
    params: Mapping[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        try:
            object.__setattr__(self, "kind", LimitKind(self.kind))
        except ValueError:
            raise InvalidInput(f"unknown limit kind {self.kind!r}; one of "
                               f"{', '.join(k.value for k in LimitKind)}") from None
        for name in ("soft", "hard"):
            value = getattr(self, name)
            if value is not None:
                value = float(value)
                if not math.isfinite(value) or value < 0:
                    raise InvalidInput(f"{self.kind.value} {name} level must be a finite non-negative number, "
                                       f"was {value}")
                object.__setattr__(self, name, value)
        if self.kind is LimitKind.RESTRICTED_SYMBOLS:
            symbols = frozenset(str(s).upper() for s in self.params.get("symbols", ()))
            warn = frozenset(str(s).upper() for s in self.params.get("warn_symbols", ()))
            if not symbols and not warn:
                raise InvalidInput("restricted_symbols needs params symbols (block) or warn_symbols (warn)")
            object.__setattr__(self, "params", {**self.params, "symbols": symbols, "warn_symbols": warn})
            return
        if self.soft is None and self.hard is None:
            raise InvalidInput(f"{self.kind.value} limit needs a soft or a hard level")
        if self.soft is not None and self.hard is not None and self.soft > self.hard:
            raise InvalidInput(f"{self.kind.value} soft level {self.soft} must not exceed the hard level {self.hard}")
        if self.kind is LimitKind.ORDER_RATE:
            window = float(self.params.get("window_seconds", 60))
            if not window > 0:
                raise InvalidInput(f"order_rate window_seconds must be positive, was {window}")
            object.__setattr__(self, "params", {**self.params, "window_seconds": window})
        if self.kind is LimitKind.CORRELATION:
            for name, level in (("soft", self.soft), ("hard", self.hard)):
                if level is not None and level > 1:
                    raise InvalidInput(f"correlation {name} level must be at most 1, was {level}")

    def as_dict(self) -> dict[str, Any]:
        params = {k: sorted(v) if isinstance(v, frozenset) else v for k, v in self.params.items()}
        return {"kind": self.kind.value, "soft": self.soft, "hard": self.hard, "params": params}


@dataclass(frozen=True, slots=True)
class LimitSet:
    """The limits of one scope (a portfolio or a household); ``scope`` names it in messages."""

    limits: tuple[Limit, ...]
    scope: str = "portfolio"

    def __post_init__(self) -> None:
        object.__setattr__(self, "limits", tuple(self.limits))
        for limit in self.limits:
            if not isinstance(limit, Limit):
                raise InvalidInput(f"a limit set holds Limit objects, got {type(limit).__name__}")

    @classmethod
    def from_dicts(cls, rows: Iterable[Mapping[str, Any]], *, scope: str = "portfolio") -> LimitSet:
        return cls(tuple(Limit(kind=r["kind"], soft=r.get("soft"), hard=r.get("hard"),
                               params=dict(r.get("params") or {})) for r in rows), scope)

    def evaluate(self, book: RiskBook, *, symbol: str, quantity: float, price: float | None,
                 now: datetime | None = None) -> CheckResult:
        """Evaluate a signed order (``quantity`` > 0 buys) against every limit on ``book``."""
        return _evaluate(self, book, symbol, float(quantity), price, now)


@dataclass(slots=True, kw_only=True)
class RiskBook:
    """What the limits read: the book before the order, its risk model and its state.

    Parameters
    ----------
    nav
        Net asset value (positive), in currency.
    quantities
        Signed shares by symbol.
    prices
        Last price by symbol (for every held symbol, and the traded one if known).
    sectors, industries
        Classification by symbol (company data).
    adv
        Average daily volume (shares) by symbol.
    covariance, covariance_symbols
        Daily covariance of simple returns and its symbol order (for VaR, CVaR, correlation).
    confidence, horizon_days
        For the VaR and CVaR limits.
    day_start_nav, high_water_mark, trailing_high_water_mark
        For the daily-loss and drawdown limits (``None`` when unknown).
    recent_orders
        Submission instants of recent orders (aware datetimes), this one excluded.
    """

    nav: float
    quantities: Mapping[str, float] = field(default_factory=dict)
    prices: Mapping[str, float] = field(default_factory=dict)
    sectors: Mapping[str, str] = field(default_factory=dict)
    industries: Mapping[str, str] = field(default_factory=dict)
    adv: Mapping[str, float] = field(default_factory=dict)
    covariance: np.ndarray | None = None
    covariance_symbols: Sequence[str] = ()
    confidence: float = 0.99
    horizon_days: int = 1
    day_start_nav: float | None = None
    high_water_mark: float | None = None
    trailing_high_water_mark: float | None = None
    recent_orders: Sequence[datetime] = ()
    # derived in __post_init__
    values: dict[str, float] = field(init=False)
    gross: float = field(init=False)
    net: float = field(init=False)
    sector_gross: dict[str, float] = field(init=False)
    industry_gross: dict[str, float] = field(init=False)
    _index: dict[str, int] = field(init=False)
    _cov_values: np.ndarray | None = field(init=False)
    _variance: float = field(init=False)
    _held_covered: bool = field(init=False)

    def __post_init__(self) -> None:
        self.nav = float(self.nav)
        if not self.nav > 0 or not math.isfinite(self.nav):
            raise InvalidInput(f"nav must be positive for risk limits, was {self.nav}")
        self.quantities = {s: float(q) for s, q in self.quantities.items() if float(q) != 0}
        self.prices = {s: float(p) for s, p in self.prices.items()}
        missing = [s for s in self.quantities if s not in self.prices]
        if missing:
            raise InvalidInput(f"no price for held symbols {', '.join(sorted(missing))}")
        self.values = {s: q * self.prices[s] for s, q in self.quantities.items()}
        self.gross = sum(abs(v) for v in self.values.values())
        self.net = sum(self.values.values())
        self.sector_gross = _group_gross(self.values, self.sectors)
        self.industry_gross = _group_gross(self.values, self.industries)
        self._index = {s: i for i, s in enumerate(self.covariance_symbols)}
        self._held_covered = all(s in self._index for s in self.values)
        self._cov_values = None
        self._variance = 0.0
        if self.covariance is not None:
            cov = np.asarray(self.covariance, dtype=float)
            if cov.shape != (len(self._index), len(self._index)):
                raise InvalidInput(f"covariance is {cov.shape}, expected {len(self._index)} x {len(self._index)} "
                                   f"for covariance_symbols")
            self.covariance = cov
            v = np.array([self.values.get(s, 0.0) for s in self.covariance_symbols])
            self._cov_values = cov @ v
            self._variance = max(float(v @ self._cov_values), 0.0)

    @property
    def has_risk_model(self) -> bool:
        return self._cov_values is not None

    def var_after(self, symbol: str, value_change: float) -> tuple[float, float, float, float] | None:
        """(VaR before, VaR after, ES before, ES after) in currency, or ``None`` without history for ``symbol``."""
        if self._cov_values is None:
            return None
        if not self._held_covered or (value_change and symbol not in self._index):
            return None
        variance_after = self._variance
        if value_change:
            k = self._index[symbol]
            variance_after += 2 * value_change * self._cov_values[k] + value_change ** 2 * self.covariance[k, k]
        z, es_factor = _z_factors(self.confidence)
        root = math.sqrt(self.horizon_days)
        before, after = math.sqrt(self._variance) * root, math.sqrt(max(variance_after, 0.0)) * root
        return z * before, z * after, es_factor * before, es_factor * after

    def correlation_with_book(self, symbol: str) -> float | None:
        """Correlation of ``symbol``'s returns with the P&L of the rest of the book (``None`` if unknown)."""
        if self._cov_values is None or symbol not in self._index or not self._held_covered:
            return None
        k = self._index[symbol]
        own = self.values.get(symbol, 0.0)
        s_kk = float(self.covariance[k, k])
        cross = float(self._cov_values[k]) - s_kk * own  # cov(r_k, rest of book)
        rest_var = self._variance - 2 * own * float(self._cov_values[k]) + own * own * s_kk
        if rest_var <= 0 or s_kk <= 0:
            return None
        return cross / math.sqrt(rest_var * s_kk)


_Z_CACHE: dict[float, tuple[float, float]] = {}


def _z_factors(confidence: float) -> tuple[float, float]:
    cached = _Z_CACHE.get(confidence)
    if cached is None:
        z = float(stats.norm.ppf(confidence))
        cached = (z, float(stats.norm.pdf(z) / (1 - confidence)))
        _Z_CACHE[confidence] = cached
    return cached


def _group_gross(values: Mapping[str, float], mapping: Mapping[str, str]) -> dict[str, float]:
    totals: dict[str, float] = {}
    for symbol, value in values.items():
        label = mapping.get(symbol)
        if label:
            totals[label] = totals.get(label, 0.0) + abs(value)
    return totals


# -- formatting -------------------------------------------------------------------------------

def _fmt(kind: LimitKind, value: float) -> str:
    if kind in _PCT_KINDS:
        text = f"{value * 100:.1f}"
        return f"{text[:-2] if text.endswith('.0') else text}%"
    if kind in _MONEY_KINDS:
        return f"{value:,.2f}"
    if kind is LimitKind.LEVERAGE:
        return f"{value:.2f}x"
    if kind is LimitKind.CORRELATION:
        return f"{value:.2f}"
    return f"{value:,.0f}" if float(value).is_integer() else f"{value:,.4g}"


def _level_breach(limit: Limit, value: float, before: float | None, scope: str, subject: str,
                  extra: Mapping[str, Any] | None = None, suffix: str = "") -> Finding | None:
    """A finding if ``value`` is above the hard (reject) or soft (warn) level; ``before`` lets reductions pass."""
    if before is not None and value <= before:
        return None
    if limit.hard is not None and value > limit.hard:
        severity, level, word = Decision.REJECT, limit.hard, "hard cap"
    elif limit.soft is not None and value > limit.soft:
        severity, level, word = Decision.WARN, limit.soft, "soft limit"
    else:
        return None
    kind = limit.kind
    numbers: dict[str, Any] = {"value": value, "level": level, "scope": scope}
    if limit.soft is not None:
        numbers["soft"] = limit.soft
    if limit.hard is not None:
        numbers["hard"] = limit.hard
    if before is not None:
        numbers["before"] = before
    numbers.update(extra or {})
    return Finding(rule=kind.value, severity=severity, numbers=numbers,
                   message=f"{scope}: {subject} {_fmt(kind, value)}{suffix}, {word} {_fmt(kind, level)}")


def _evaluate(limit_set: LimitSet, book: RiskBook, symbol: str, quantity: float, price: float | None,
              now: datetime | None) -> CheckResult:
    scope = limit_set.scope
    findings: list[Finding] = []
    if price is None:
        price = book.prices.get(symbol)
    q_before = book.quantities.get(symbol, 0.0)
    q_after = q_before + quantity
    v_before = book.values.get(symbol, 0.0)
    value_change = quantity * price if price is not None else None
    v_after = v_before + value_change if value_change is not None else None
    nav = book.nav
    for limit in limit_set.limits:
        kind = limit.kind
        finding: Finding | None = None
        if kind is LimitKind.RESTRICTED_SYMBOLS:
            upper = symbol.upper()
            if upper in limit.params["symbols"]:
                finding = Finding(rule=kind.value, severity=Decision.REJECT, numbers={"symbol": symbol, "scope": scope},
                                  message=f"{scope}: {symbol} is on the restricted list")
            elif upper in limit.params["warn_symbols"]:
                finding = Finding(rule=kind.value, severity=Decision.WARN, numbers={"symbol": symbol, "scope": scope},
                                  message=f"{scope}: {symbol} is on the watch list")
        elif kind is LimitKind.POSITION_SHARES:
            finding = _level_breach(limit, abs(q_after), abs(q_before), scope, f"position in {symbol} would be",
                                    {"symbol": symbol})
        elif kind is LimitKind.ORDER_RATE:
            window = limit.params["window_seconds"]
            if now is None:
                finding = _missing(kind, scope, "no clock time to count orders against")
            else:
                since = now - timedelta(seconds=window)
                count = 1 + sum(1 for t in book.recent_orders if t > since)
                finding = _level_breach(limit, float(count), None, scope,
                                        f"orders in the last {window:g}s would be", {"window_seconds": window})
        elif kind is LimitKind.ADV_PARTICIPATION:
            adv = book.adv.get(symbol)
            if not adv:
                finding = _missing(kind, scope, f"no average daily volume for {symbol}")
            else:
                finding = _level_breach(limit, abs(quantity) / adv, None, scope,
                                        f"order for {abs(quantity):,.0f} {symbol} would be",
                                        {"symbol": symbol, "adv": adv}, " of average daily volume")
        elif kind is LimitKind.DAILY_LOSS:
            if book.day_start_nav:
                loss = max(0.0, (book.day_start_nav - nav) / book.day_start_nav)
                finding = _level_breach(limit, loss, None, scope, "loss today is",
                                        {"day_start_nav": book.day_start_nav, "nav": nav})
            else:
                finding = _missing(kind, scope, "no start-of-day NAV")
        elif kind in DRAWDOWN_KINDS:
            mark = book.high_water_mark if kind is LimitKind.MAX_DRAWDOWN else book.trailing_high_water_mark
            if mark:
                drawdown = max(0.0, 1 - nav / mark)
                label = "drawdown from the high-water mark is" if kind is LimitKind.MAX_DRAWDOWN \
                    else "trailing drawdown is"
                finding = _level_breach(limit, drawdown, None, scope, label, {"high_water_mark": mark, "nav": nav})
            else:
                finding = _missing(kind, scope, "no high-water mark")
        elif value_change is None:
            finding = _missing(kind, scope, f"no price for {symbol}")
        elif kind is LimitKind.POSITION_WEIGHT:
            finding = _level_breach(limit, abs(v_after) / nav, abs(v_before) / nav, scope,
                                    f"{symbol} would be", {"symbol": symbol}, " of NAV")
        elif kind is LimitKind.POSITION_NOTIONAL:
            finding = _level_breach(limit, abs(v_after), abs(v_before), scope, f"position in {symbol} would be",
                                    {"symbol": symbol})
        elif kind in (LimitKind.SECTOR_WEIGHT, LimitKind.INDUSTRY_WEIGHT):
            is_sector = kind is LimitKind.SECTOR_WEIGHT
            mapping, totals = (book.sectors, book.sector_gross) if is_sector else (book.industries, book.industry_gross)
            group_name = "sector" if is_sector else "industry"
            label = mapping.get(symbol)
            wanted = limit.params.get(group_name)
            if not label:
                finding = _missing(kind, scope, f"no {group_name} for {symbol}")
            elif wanted is None or wanted == label:
                before = totals.get(label, 0.0)
                after = before - abs(v_before) + abs(v_after)
                finding = _level_breach(limit, after / nav, before / nav, scope,
                                        f"{group_name} {label} would be", {group_name: label}, " of NAV")
        elif kind is LimitKind.GROSS_EXPOSURE:
            after = book.gross - abs(v_before) + abs(v_after)
            finding = _level_breach(limit, after, book.gross, scope, "gross exposure would be")
        elif kind is LimitKind.NET_EXPOSURE:
            after = book.net + value_change
            finding = _level_breach(limit, abs(after), abs(book.net), scope, "net exposure would be")
        elif kind is LimitKind.LEVERAGE:
            after = book.gross - abs(v_before) + abs(v_after)
            finding = _level_breach(limit, after / nav, book.gross / nav, scope, "leverage would be")
        elif kind in (LimitKind.VAR, LimitKind.CVAR):
            risk = book.var_after(symbol, value_change)
            if risk is None:
                finding = _missing(kind, scope, f"no return history for {symbol} or a held position")
            else:
                var_b, var_a, es_b, es_a = risk
                before, after = (var_b, var_a) if kind is LimitKind.VAR else (es_b, es_a)
                name = "VaR" if kind is LimitKind.VAR else "CVaR"
                finding = _level_breach(
                    limit, after / nav, before / nav, scope,
                    f"{book.horizon_days}-day {book.confidence:.0%} {name} would be",
                    {"incremental": round(after - before, 6), "before_amount": round(before, 6),
                     "after_amount": round(after, 6)}, " of NAV")
        elif kind is LimitKind.CORRELATION:
            if abs(v_after) > abs(v_before):
                corr = book.correlation_with_book(symbol)
                if corr is None:
                    if book.values and any(s != symbol for s in book.values):
                        finding = _missing(kind, scope, f"no return history for {symbol} or the book")
                else:
                    signed = corr if v_after > 0 else -corr
                    finding = _level_breach(limit, signed, None, scope,
                                            f"correlation of {symbol} with the book would be", {"symbol": symbol})
        if finding is not None:
            findings.append(finding)
    return CheckResult.of(*findings) if findings else CheckResult.accept()


def _missing(kind: LimitKind, scope: str, what: str) -> Finding:
    return Finding(rule=kind.value, severity=Decision.WARN, numbers={"scope": scope, "missing": what},
                   message=f"{scope}: {kind.value} limit not evaluated: {what}")


class RiskLimitCheck:
    """A :class:`bifrost.orders.pretrade.PreTradeCheck` that evaluates a limit set on a book.

    The order's price is the context's last price for the symbol, else the book's, else the
    order's limit price.
    """

    rule = "risk_limits"

    def __init__(self, limit_set: LimitSet, book: RiskBook) -> None:
        self.limit_set = limit_set
        self.book = book

    def check(self, order: OrderRequest, context: PreTradeContext) -> CheckResult:
        price: Decimal | float | None = context.last_prices.get(order.symbol)
        if price is None:
            price = self.book.prices.get(order.symbol)
        if price is None and order.limit_price is not None:
            price = order.limit_price
        quantity = float(order.quantity)
        signed = quantity if order.side is Side.BUY else -quantity
        return self.limit_set.evaluate(self.book, symbol=order.symbol, quantity=signed,
                                       price=float(price) if price is not None else None, now=context.now)


# -- target-level use -------------------------------------------------------------------------

@dataclass(frozen=True, slots=True)
class TargetAdjustment:
    """Target weights after the limits, and what was changed and why."""

    weights: dict[str, float]
    adjustments: tuple[str, ...]
    scale: float


def apply_limits_to_targets(targets: Mapping[str, float], limit_set: LimitSet, *, nav: float,
                            prices: Mapping[str, float] | None = None, sectors: Mapping[str, str] | None = None,
                            industries: Mapping[str, str] | None = None, covariance: np.ndarray | None = None,
                            covariance_symbols: Sequence[str] = (), confidence: float = 0.99, horizon_days: int = 1,
                            level: str = "hard") -> TargetAdjustment:
    """Adjust target weights (fractions of NAV) so the portfolio they describe meets the limits.

    The same rules as the pre-trade check, applied to a whole target portfolio, in this order:
    restricted symbols go to zero; each weight is capped by the position weight, notional and
    share limits (shares need ``prices``); each sector and industry over its cap is scaled down
    pro rata; then the whole vector is scaled down to meet the leverage, gross and net exposure
    limits and the VaR and CVaR budgets (delta-normal, so VaR scales linearly with the vector).
    Scaling down never breaks a cap already met. Order-flow limits (rate, participation,
    drawdown, daily loss, correlation) say nothing about a target and are skipped.

    Parameters
    ----------
    level
        ``"hard"`` (default) or ``"soft"``: which level to bring the targets under.
    """
    if level not in ("hard", "soft"):
        raise InvalidInput(f"level must be 'hard' or 'soft', was {level!r}")
    if not nav > 0:
        raise InvalidInput(f"nav must be positive, was {nav}")
    weights = {s: float(w) for s, w in targets.items()}
    for symbol, weight in weights.items():
        if not math.isfinite(weight):
            raise InvalidInput(f"target weight of {symbol} must be finite, was {weight}")
    notes: list[str] = []
    prices = prices or {}

    def cap_of(limit: Limit) -> float | None:
        if level == "soft" and limit.soft is not None:
            return limit.soft
        return limit.hard if limit.hard is not None else limit.soft

    by_kind: dict[LimitKind, list[Limit]] = {}
    for limit in limit_set.limits:
        by_kind.setdefault(limit.kind, []).append(limit)
    for limit in by_kind.get(LimitKind.RESTRICTED_SYMBOLS, []):
        for symbol in list(weights):
            if symbol.upper() in limit.params["symbols"] and weights[symbol]:
                notes.append(f"{symbol}: restricted, target {weights[symbol]:.2%} set to 0")
                weights[symbol] = 0.0
    for symbol in list(weights):
        caps = [(cap_of(lim), "position weight") for lim in by_kind.get(LimitKind.POSITION_WEIGHT, [])]
        caps += [(cap_of(lim) / nav, "position notional") for lim in by_kind.get(LimitKind.POSITION_NOTIONAL, [])]
        for lim in by_kind.get(LimitKind.POSITION_SHARES, []):
            if symbol in prices:
                caps.append((cap_of(lim) * float(prices[symbol]) / nav, "position shares"))
            else:
                notes.append(f"{symbol}: no price, share limit not applied")
        for cap, name in caps:
            if abs(weights[symbol]) > cap:
                notes.append(f"{symbol}: {name} cap, {weights[symbol]:.2%} -> {math.copysign(cap, weights[symbol]):.2%}")
                weights[symbol] = math.copysign(cap, weights[symbol])
    for kind, mapping, group_name in ((LimitKind.SECTOR_WEIGHT, sectors or {}, "sector"),
                                      (LimitKind.INDUSTRY_WEIGHT, industries or {}, "industry")):
        for limit in by_kind.get(kind, []):
            cap = cap_of(limit)
            totals = _group_gross(weights, mapping)
            for label, gross in totals.items():
                if limit.params.get(group_name) not in (None, label) or gross <= cap:
                    continue
                factor = cap / gross
                for symbol in weights:
                    if mapping.get(symbol) == label:
                        weights[symbol] *= factor
                notes.append(f"{group_name} {label}: {gross:.2%} scaled to {cap:.2%}")
    scale = 1.0
    gross = sum(abs(w) for w in weights.values())
    net = abs(sum(weights.values()))
    for limit in by_kind.get(LimitKind.LEVERAGE, []):
        scale = _tighten(scale, gross, cap_of(limit), "leverage", notes)
    for limit in by_kind.get(LimitKind.GROSS_EXPOSURE, []):
        scale = _tighten(scale, gross, cap_of(limit) / nav, "gross exposure", notes)
    for limit in by_kind.get(LimitKind.NET_EXPOSURE, []):
        scale = _tighten(scale, net, cap_of(limit) / nav, "net exposure", notes)
    budgets = by_kind.get(LimitKind.VAR, []) + by_kind.get(LimitKind.CVAR, [])
    if budgets:
        if covariance is None:
            notes.append("no covariance: VaR and CVaR budgets not applied")
        else:
            index = {s: i for i, s in enumerate(covariance_symbols)}
            missing = [s for s, w in weights.items() if w and s not in index]
            if missing:
                notes.append(f"no return history for {', '.join(sorted(missing))}: VaR budgets not applied")
            else:
                v = np.zeros(len(index))
                for symbol, weight in weights.items():
                    if symbol in index:
                        v[index[symbol]] = weight
                sigma = math.sqrt(max(float(v @ np.asarray(covariance) @ v), 0.0)) * math.sqrt(horizon_days)
                z, es_factor = _z_factors(confidence)
                for limit in budgets:
                    measure = (z if limit.kind is LimitKind.VAR else es_factor) * sigma
                    scale = _tighten(scale, measure, cap_of(limit), limit.kind.value, notes)
    if scale < 1.0:
        weights = {s: w * scale for s, w in weights.items()}
    return TargetAdjustment(weights=weights, adjustments=tuple(notes), scale=scale)


@dataclass(frozen=True, slots=True, kw_only=True)
class LimitTargetAdjuster:
    """A limit set applied to a strategy's targets before orders are made.

    The ``target_adjuster`` of :func:`bifrost.backtest.run` and of the persisted strategy
    runner: called with the target weights, the equity and last prices, it returns
    :func:`apply_limits_to_targets` of them (weights capped, sectors and industries scaled
    pro rata, the vector scaled to the exposure and VaR budgets), notes naming each rule.

    Parameters
    ----------
    limit_set
        The limits (a portfolio's set).
    sectors, industries
        Symbol to sector and industry, for the group caps.
    covariance, covariance_symbols
        Daily return covariance and its symbols, for the VaR and CVaR budgets.
    level
        ``"hard"`` (default) or ``"soft"``: which level to bring the targets under.

    Examples
    --------
    >>> adjuster = LimitTargetAdjuster(limit_set=LimitSet((Limit(kind="position_weight", hard=0.25),)))
    >>> adjuster({"AAA": 0.4}, nav=1e6, prices={"AAA": 100.0}).weights
    {'AAA': 0.25}
    """

    limit_set: LimitSet
    sectors: Mapping[str, str] = field(default_factory=dict)
    industries: Mapping[str, str] = field(default_factory=dict)
    covariance: np.ndarray | None = None
    covariance_symbols: Sequence[str] = ()
    confidence: float = 0.99
    horizon_days: int = 1
    level: str = "hard"

    def __call__(self, weights: Mapping[str, float], *, nav: float,
                 prices: Mapping[str, float] | None = None) -> TargetAdjustment:
        return apply_limits_to_targets(weights, self.limit_set, nav=nav, prices=prices, sectors=self.sectors,
                                       industries=self.industries, covariance=self.covariance,
                                       covariance_symbols=self.covariance_symbols, confidence=self.confidence,
                                       horizon_days=self.horizon_days, level=self.level)


def _tighten(scale: float, measure: float, cap: float, name: str, notes: list[str]) -> float:
    if measure * scale > cap and measure > 0:
        new = cap / measure
        notes.append(f"{name}: {measure * scale:.4g} over {cap:.4g}, targets scaled by {new / scale:.4f}")
        return new
    return scale


# -- usage of the current book ---------------------------------------------------------------

def limit_usage(limit_set: LimitSet, book: RiskBook) -> list[dict[str, Any]]:
    """How much of each limit the current book uses (no order), for dashboards and monitoring.

    Returns one row per limit (per-position and per-group limits report their largest user):
    ``kind``, ``subject``, ``value``, ``soft``, ``hard``, ``usage`` (value / hard level, or /
    soft when there is no hard level) and ``status`` (``ok``, ``soft`` or ``hard`` breached,
    ``n/a`` when the measure needs an order or data the book lacks). The restricted list reports
    any held restricted symbol as a hard breach.
    """
    rows = []
    nav = book.nav
    for limit in limit_set.limits:
        kind = limit.kind
        subject, value = "", None
        if kind is LimitKind.RESTRICTED_SYMBOLS:
            held = sorted(s for s in book.values if s.upper() in limit.params["symbols"])
            rows.append({"kind": kind.value, "subject": ", ".join(held), "value": float(len(held)), "soft": None,
                         "hard": 0.0, "usage": float(len(held)), "status": "hard" if held else "ok",
                         "params": limit.as_dict()["params"]})
            continue
        if kind in (LimitKind.POSITION_WEIGHT, LimitKind.POSITION_NOTIONAL, LimitKind.POSITION_SHARES):
            if book.values:
                measure = {LimitKind.POSITION_WEIGHT: lambda s: abs(book.values[s]) / nav,
                           LimitKind.POSITION_NOTIONAL: lambda s: abs(book.values[s]),
                           LimitKind.POSITION_SHARES: lambda s: abs(book.quantities[s])}[kind]
                subject = max(book.values, key=measure)
                value = measure(subject)
            else:
                value = 0.0
        elif kind in (LimitKind.SECTOR_WEIGHT, LimitKind.INDUSTRY_WEIGHT):
            group_name = "sector" if kind is LimitKind.SECTOR_WEIGHT else "industry"
            totals = book.sector_gross if kind is LimitKind.SECTOR_WEIGHT else book.industry_gross
            wanted = limit.params.get(group_name)
            if wanted is not None:
                totals = {wanted: totals.get(wanted, 0.0)}
            if totals:
                subject = max(totals, key=totals.__getitem__)
                value = totals[subject] / nav
            else:
                value = 0.0
        elif kind is LimitKind.GROSS_EXPOSURE:
            value = book.gross
        elif kind is LimitKind.NET_EXPOSURE:
            value = abs(book.net)
        elif kind is LimitKind.LEVERAGE:
            value = book.gross / nav
        elif kind in (LimitKind.VAR, LimitKind.CVAR):
            risk = book.var_after("", 0.0)
            if risk is not None:
                value = (risk[0] if kind is LimitKind.VAR else risk[2]) / nav
        elif kind is LimitKind.DAILY_LOSS and book.day_start_nav:
            value = max(0.0, (book.day_start_nav - nav) / book.day_start_nav)
        elif kind is LimitKind.MAX_DRAWDOWN and book.high_water_mark:
            value = max(0.0, 1 - nav / book.high_water_mark)
        elif kind is LimitKind.TRAILING_DRAWDOWN and book.trailing_high_water_mark:
            value = max(0.0, 1 - nav / book.trailing_high_water_mark)
        reference = limit.hard if limit.hard is not None else limit.soft
        if value is None:
            status, usage = "n/a", None
        else:
            status = ("hard" if limit.hard is not None and value > limit.hard
                      else "soft" if limit.soft is not None and value > limit.soft else "ok")
            usage = value / reference if reference else (0.0 if value == 0 else math.inf)
        rows.append({"kind": kind.value, "subject": subject, "value": value, "soft": limit.soft, "hard": limit.hard,
                     "usage": usage, "status": status, "params": limit.as_dict()["params"]})
    return rows
