"""Position reporting: beneficial ownership (Schedules 13D/13G), 13F holdings, large traders
(Rule 13h-1), and a restricted / watch list pre-trade check.

* **Beneficial ownership.** Section 13(d) requires a Schedule 13D (or the short-form 13G
  for eligible holders) once a person beneficially owns more than 5% of a class of voting
  equity. Ownership is the sum over every account of the person (household) divided by
  shares outstanding from company data; an early-warning alert fires at a configurable
  lower level (default 4.5%).
* **Form 13F.** Institutional investment managers exercising discretion over $100 million
  or more of 13(f) securities on the last trading day of any month of a calendar year file
  quarterly holdings: per security the number of shares and the market value (whole
  dollars, as reported since 2023) at quarter end.
* **Large trader (Rule 13h-1).** Identifying activity level: transactions in NMS
  securities of 2 million shares or $20 million in a calendar day, or 20 million shares or
  $200 million in a calendar month (purchases and sales both count).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date
from decimal import ROUND_HALF_UP, Decimal

from bifrost.compliance.trades import TaxTrade
from bifrost.core.errors import InvalidInput
from bifrost.orders.pretrade import CheckResult, PreTradeContext
from bifrost.orders.types import OrderRequest

__all__ = ["Holding13F", "LargeTraderBreach", "OwnershipFinding", "RestrictedListCheck", "beneficial_ownership",
           "holdings_13f", "large_trader_activity"]

_ZERO = Decimal(0)
_HUNDRED = Decimal(100)


@dataclass(frozen=True, slots=True, kw_only=True)
class OwnershipFinding:
    """Ownership of one issuer: ``level`` is ``"13d"`` above the filing threshold, ``"alert"``
    above the warning level, ``"unknown"`` without shares outstanding, else ``""``."""

    symbol: str
    shares: Decimal
    shares_outstanding: Decimal | None
    percent: Decimal | None
    level: str


def beneficial_ownership(positions: Mapping[str, Decimal], shares_outstanding: Mapping[str, Decimal | None], *,
                         filing_pct: Decimal = Decimal(5), alert_pct: Decimal = Decimal("4.5")
                         ) -> list[OwnershipFinding]:
    """Return each long position's percentage of shares outstanding and its reporting level.

    Raises
    ------
    InvalidInput
        If ``alert_pct`` is not between 0 and ``filing_pct``.
    """
    if not _ZERO < alert_pct <= filing_pct:
        raise InvalidInput(f"alert_pct must be above 0 and at most filing_pct {filing_pct}, was {alert_pct}")
    out = []
    for symbol, shares in sorted(positions.items()):
        if shares <= 0:
            continue
        outstanding = shares_outstanding.get(symbol)
        if not outstanding:
            out.append(OwnershipFinding(symbol=symbol, shares=shares, shares_outstanding=None, percent=None,
                                        level="unknown"))
            continue
        percent = (shares / Decimal(outstanding) * _HUNDRED).quantize(Decimal("0.0001"))
        level = "13d" if percent > filing_pct else "alert" if percent >= alert_pct else ""
        out.append(OwnershipFinding(symbol=symbol, shares=shares, shares_outstanding=Decimal(outstanding),
                                    percent=percent, level=level))
    return out


@dataclass(frozen=True, slots=True, kw_only=True)
class Holding13F:
    symbol: str
    shares: Decimal
    price: Decimal
    value_usd: Decimal


def holdings_13f(positions: Mapping[str, Decimal], prices: Mapping[str, Decimal], *,
                 threshold_usd: Decimal = Decimal(100_000_000)) -> tuple[list[Holding13F], Decimal, bool]:
    """Return the 13F information table (long positions, value in whole dollars), the total and
    whether the total reaches the $100 million filing threshold.

    Raises
    ------
    InvalidInput
        If a long position has no price.
    """
    rows = []
    for symbol, shares in sorted(positions.items()):
        if shares <= 0:
            continue
        price = prices.get(symbol)
        if price is None:
            raise InvalidInput(f"no quarter-end price for {symbol}, needed for the 13F value")
        value = (shares * price).quantize(Decimal(1), rounding=ROUND_HALF_UP)
        rows.append(Holding13F(symbol=symbol, shares=shares, price=price, value_usd=value))
    total = sum((r.value_usd for r in rows), _ZERO)
    return rows, total, total >= threshold_usd


@dataclass(frozen=True, slots=True, kw_only=True)
class LargeTraderBreach:
    """A calendar day or month at or above a Rule 13h-1 identifying activity level."""

    period: str  # "day" or "month"
    start: date
    shares: Decimal
    notional: Decimal
    by: str  # "shares", "notional" or "shares and notional"


def large_trader_activity(trades: Iterable[TaxTrade], *, day_shares: Decimal = Decimal(2_000_000),
                          day_notional: Decimal = Decimal(20_000_000), month_shares: Decimal = Decimal(20_000_000),
                          month_notional: Decimal = Decimal(200_000_000)) -> list[LargeTraderBreach]:
    """Return the days and months whose aggregate volume reaches an identifying activity level."""
    days: dict[date, list[Decimal]] = defaultdict(lambda: [_ZERO, _ZERO])
    months: dict[date, list[Decimal]] = defaultdict(lambda: [_ZERO, _ZERO])
    for trade in trades:
        day = trade.trade_date
        shares = trade.shares
        notional = trade.quantity * trade.price * trade.multiplier
        for bucket in (days[day], months[day.replace(day=1)]):
            bucket[0] += shares
            bucket[1] += notional
    out = []
    for period, table, share_limit, notional_limit in (("day", days, day_shares, day_notional),
                                                      ("month", months, month_shares, month_notional)):
        for start, (shares, notional) in sorted(table.items()):
            reasons = [name for name, hit in (("shares", shares >= share_limit),
                                              ("notional", notional >= notional_limit)) if hit]
            if reasons:
                out.append(LargeTraderBreach(period=period, start=start, shares=shares, notional=notional,
                                             by=" and ".join(reasons)))
    return out


class RestrictedListCheck:
    """Reject orders in restricted symbols; warn on watch-list symbols."""

    rule = "restricted_list"

    def __init__(self, *, restricted: Mapping[str, str] | Iterable[str] = (),
                 watch: Mapping[str, str] | Iterable[str] = ()) -> None:
        self.restricted = dict(restricted) if isinstance(restricted, Mapping) else dict.fromkeys(restricted, "")
        self.watch = dict(watch) if isinstance(watch, Mapping) else dict.fromkeys(watch, "")

    def check(self, order: OrderRequest, context: PreTradeContext) -> CheckResult:
        symbol = order.symbol
        if symbol in self.restricted:
            reason = self.restricted[symbol]
            return CheckResult.reject(self.rule, f"{symbol} is on the restricted list"
                                                 + (f": {reason}" if reason else ""), symbol=symbol)
        if symbol in self.watch:
            reason = self.watch[symbol]
            return CheckResult.warn("watch_list", f"{symbol} is on the watch list" + (f": {reason}" if reason else ""),
                                    symbol=symbol)
        return CheckResult.accept()
