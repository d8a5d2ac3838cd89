"""Pre-trade checks: a small protocol, a chain that combines checks, and the basic built-ins.

A check looks at one :class:`OrderRequest` in a :class:`PreTradeContext` the caller fills
(a snapshot of the account and market at ``now``) and returns a :class:`CheckResult`:
``accept``, ``warn`` (valid but suspect) or ``reject``, with findings that name the rule, say
what is wrong and carry the numbers. Checks are pure: they read the context and write nothing.

Writing a check (risk and compliance register their own)::

    class MaxOrderNotional:
        def __init__(self, *, limit: Decimal) -> None:
            self.limit = limit

        def check(self, order: OrderRequest, context: PreTradeContext) -> CheckResult:
            price = context.last_prices.get(order.symbol)
            if price is None or order.quantity * price <= self.limit:
                return CheckResult.accept()
            return CheckResult.reject(Finding(rule="max_order_notional", severity=Decision.REJECT,
                                              message=f"...", numbers={"limit": self.limit}))

    chain = PreTradeChain.basic()
    chain.register(MaxOrderNotional(limit=Decimal("250000")))

Decisions
---------
* The chain runs every check, in registration order, and keeps every finding: one reject makes
  the result reject, otherwise one warn makes it warn. No short-circuit, so a rejected order
  reports all its problems at once.
* A check that raises is a reject (rule ``check_failed``), not a crash: pre-trade fails closed.
* Market hours, by time in force:

  - DAY, IOC, FOK need the regular session open ("market is closed for DAY orders at <ts>").
    Extended hours are not modelled.
  - GTC is accepted at any time: it rests until the session opens.
  - OPG goes to the next opening auction, so it is accepted only while the market is closed,
    and, when ``next_open`` is known, not within ``opening_auction_cutoff`` of it.
  - CLS goes to today's closing auction, so it is accepted only while the market is open and,
    when ``session_close`` is known, before ``closing_auction_cutoff`` (10 minutes: NYSE's
    15:50 ET cutoff for market-on-close orders). A CLS order sent before the open is refused
    too: the check cannot tell pre-open from after-close without a calendar, and refusing is
    the safe side.
* Insufficient cash applies to buys in cash accounts only. ``cash`` in the context is cash
  available to trade (net of open buy orders). The estimated price is the limit price for limit
  and stop-limit orders, the higher of stop and last price for stop orders, and the last price
  otherwise, raised by ``market_buffer_bps`` for orders without a limit. Commissions are not
  included. With no price to estimate from, the order is rejected: a cash account must not be
  overdrawn on a guess.
* Limit-price sanity warns when a buy limit is more than ``warn_pct`` above the last price, or a
  sell limit more than ``warn_pct`` below it (a fat finger that would cross far through the
  market), and rejects beyond ``reject_pct`` when one is set. Without a last price it says nothing
  (the unknown-symbol check covers symbols we know nothing about).
"""

from __future__ import annotations

from abc import abstractmethod
from collections.abc import Container, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal
from enum import StrEnum
from typing import Any, Protocol, runtime_checkable

from bifrost.core.errors import InvalidInput, OrderRejected
from bifrost.core.money import to_decimal
from bifrost.core.time import ensure_utc
from bifrost.orders.types import OrderRequest, OrderType, Side, TimeInForce

__all__ = [
    "AccountType",
    "CheckResult",
    "Decision",
    "Finding",
    "CashAccountShortSaleCheck",
    "InsufficientCashCheck",
    "KillSwitchCheck",
    "KnownSymbolCheck",
    "LimitPriceBandCheck",
    "MarketHoursCheck",
    "OrderRejected",
    "PositiveQuantityCheck",
    "PreTradeChain",
    "PreTradeCheck",
    "PreTradeContext",
]

_ZERO = Decimal(0)
_HUNDRED = Decimal(100)
_BPS = Decimal(10_000)


class Decision(StrEnum):
    """Outcome of a check, from mildest to most severe."""

    ACCEPT = "accept"
    WARN = "warn"
    REJECT = "reject"

    @property
    def severity(self) -> int:
        return _SEVERITY[self]


_SEVERITY = {Decision.ACCEPT: 0, Decision.WARN: 1, Decision.REJECT: 2}


class AccountType(StrEnum):
    CASH = "cash"
    MARGIN = "margin"


@dataclass(frozen=True, slots=True, kw_only=True)
class Finding:
    """One problem a check found.

    Parameters
    ----------
    rule
        Stable rule name (``"kill_switch"``), for clients and dashboards.
    severity
        WARN or REJECT.
    message
        Human message naming the values and the rule.
    numbers
        The values behind the message (prices, quantities, limits), by name.
    """

    rule: str
    severity: Decision
    message: str
    numbers: Mapping[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        object.__setattr__(self, "severity", Decision(self.severity))
        if self.severity is Decision.ACCEPT:
            raise InvalidInput(f"a finding is a warning or a rejection, was accept (rule {self.rule!r})")
        if not self.rule:
            raise InvalidInput("a finding needs a rule name")

    def as_dict(self) -> dict[str, Any]:
        return {"rule": self.rule, "severity": self.severity.value, "message": self.message,
                "numbers": {k: str(v) for k, v in self.numbers.items()}}


@dataclass(frozen=True, slots=True)
class CheckResult:
    """The decision of one check or a whole chain, with every finding behind it.

    The decision is never milder than its most severe finding.
    """

    decision: Decision
    findings: tuple[Finding, ...] = ()

    def __post_init__(self) -> None:
        object.__setattr__(self, "decision", Decision(self.decision))
        object.__setattr__(self, "findings", tuple(self.findings))
        worst = max((f.severity.severity for f in self.findings), default=0)
        if self.decision.severity < worst:
            raise InvalidInput(f"decision {self.decision.value} is milder than its findings "
                               f"({', '.join(f'{f.rule}={f.severity.value}' for f in self.findings)})")

    @classmethod
    def accept(cls) -> CheckResult:
        return _ACCEPT

    @classmethod
    def of(cls, *findings: Finding) -> CheckResult:
        """The result of these findings: the most severe one decides (accept if none)."""
        worst = max((f.severity for f in findings), key=_SEVERITY.__getitem__, default=Decision.ACCEPT)
        return cls(worst, findings)

    @classmethod
    def warn(cls, rule: str, message: str, **numbers: Any) -> CheckResult:
        return cls(Decision.WARN, (Finding(rule=rule, severity=Decision.WARN, message=message, numbers=numbers),))

    @classmethod
    def reject(cls, rule: str, message: str, **numbers: Any) -> CheckResult:
        return cls(Decision.REJECT, (Finding(rule=rule, severity=Decision.REJECT, message=message,
                                             numbers=numbers),))

    @property
    def accepted(self) -> bool:
        """Whether the order may go out (accept or warn)."""
        return self.decision is not Decision.REJECT

    @property
    def messages(self) -> list[str]:
        return [f.message for f in self.findings]

    def raise_if_rejected(self, order: OrderRequest) -> None:
        """Raise :class:`OrderRejected` naming every rejecting finding if the decision is reject."""
        if self.decision is Decision.REJECT:
            reasons = "; ".join(f.message for f in self.findings if f.severity is Decision.REJECT)
            raise OrderRejected(f"order {order.client_order_id} rejected: {reasons}",
                                details={"findings": [f.as_dict() for f in self.findings]})


_ACCEPT = CheckResult(Decision.ACCEPT)


@dataclass(frozen=True, slots=True, kw_only=True)
class PreTradeContext:
    """What checks may know about the account and market at ``now``; the caller fills it.

    Parameters
    ----------
    portfolio_id
        The portfolio the order trades for.
    now
        The instant of the check (aware; stored in UTC), from the caller's clock.
    account_type
        CASH or MARGIN.
    cash
        Cash available to trade, net of open buy orders.
    positions
        Signed share quantity by symbol.
    last_prices
        Last trade (or mark) price by symbol.
    known_symbols
        Anything supporting ``in``: a set, or a lookup object with ``__contains__``.
    market_open
        Whether the regular session is in progress.
    session_close
        Close of the session in progress, if known (for the CLS cutoff).
    next_open
        Open of the next session while the market is closed, if known (for the OPG cutoff).
    kill_switch_active
        The portfolio's kill switch.
    global_kill_switch_active
        The platform-wide kill switch.
    """

    portfolio_id: str
    now: datetime
    account_type: AccountType = AccountType.MARGIN
    cash: Decimal = _ZERO
    positions: Mapping[str, Decimal] = field(default_factory=dict)
    last_prices: Mapping[str, Decimal] = field(default_factory=dict)
    known_symbols: Container[str] = frozenset()
    market_open: bool = False
    session_close: datetime | None = None
    next_open: datetime | None = None
    kill_switch_active: bool = False
    global_kill_switch_active: bool = False

    def __post_init__(self) -> None:
        if not self.portfolio_id:
            raise InvalidInput("portfolio_id must not be empty")
        object.__setattr__(self, "now", ensure_utc(self.now, field="now"))
        object.__setattr__(self, "account_type", AccountType(self.account_type))
        object.__setattr__(self, "cash", to_decimal(self.cash, field="cash"))
        for name in ("session_close", "next_open"):
            value = getattr(self, name)
            if value is not None:
                object.__setattr__(self, name, ensure_utc(value, field=name))


@runtime_checkable
class PreTradeCheck(Protocol):
    """One pre-trade rule.

    ``check`` must not change anything and should return :meth:`CheckResult.accept` when it
    has nothing to say. Put the rule's thresholds in the check's constructor (keyword-only,
    units in names) and the account's state in the context.
    """

    @abstractmethod
    def check(self, order: OrderRequest, context: PreTradeContext) -> CheckResult: ...


class PreTradeChain:
    """Run checks in registration order and combine their results.

    The chain is itself a :class:`PreTradeCheck`, so chains nest.
    """

    def __init__(self, checks: Iterable[PreTradeCheck] = ()) -> None:
        self._checks: list[PreTradeCheck] = []
        for check in checks:
            self.register(check)

    @classmethod
    def basic(cls) -> PreTradeChain:
        """The built-in checks with their default thresholds, kill switch first."""
        return cls([KillSwitchCheck(), PositiveQuantityCheck(), KnownSymbolCheck(), MarketHoursCheck(),
                    LimitPriceBandCheck(), InsufficientCashCheck(), CashAccountShortSaleCheck()])

    @property
    def checks(self) -> tuple[PreTradeCheck, ...]:
        return tuple(self._checks)

    def register(self, check: PreTradeCheck) -> None:
        """Append a check; it runs after those already registered.

        Raises
        ------
        InvalidInput
            If ``check`` has no callable ``check`` method.
        """
        if not callable(getattr(check, "check", None)):
            raise InvalidInput(f"a pre-trade check needs a check(order, context) method, "
                               f"{type(check).__name__} has none")
        self._checks.append(check)

    def check(self, order: OrderRequest, context: PreTradeContext) -> CheckResult:
        """Run every check and combine: any reject rejects, else any warn warns, else accept.

        Returns
        -------
        CheckResult
            The combined decision with all findings, in check order.
        """
        findings: list[Finding] = []
        for check in self._checks:
            try:
                result = check.check(order, context)
            except Exception as exc:  # fail closed: a broken check must not wave an order through
                findings.append(Finding(rule="check_failed", severity=Decision.REJECT,
                                        message=f"check {type(check).__name__} failed: "
                                                f"{type(exc).__name__}: {exc}",
                                        numbers={"check": type(check).__name__}))
                continue
            findings.extend(result.findings)
        return CheckResult.of(*findings) if findings else _ACCEPT


# -- built-in checks -------------------------------------------------------------------------


class KillSwitchCheck:
    """Reject every order while the portfolio's or the platform's kill switch is active."""

    rule = "kill_switch"

    def check(self, order: OrderRequest, context: PreTradeContext) -> CheckResult:
        if context.global_kill_switch_active:
            return CheckResult.reject(self.rule, "kill switch is active for all portfolios",
                                      portfolio_id=context.portfolio_id)
        if context.kill_switch_active:
            return CheckResult.reject(self.rule, f"kill switch is active for portfolio {context.portfolio_id}",
                                      portfolio_id=context.portfolio_id)
        return _ACCEPT


class PositiveQuantityCheck:
    """Reject a quantity that is not positive.

    ``OrderRequest`` already refuses such quantities; this check guards requests built around
    that validation (deserialised, or copied with ``object.__setattr__``).
    """

    rule = "positive_quantity"

    def check(self, order: OrderRequest, context: PreTradeContext) -> CheckResult:
        quantity = order.quantity
        if not isinstance(quantity, Decimal) or not quantity.is_finite() or quantity <= 0:
            return CheckResult.reject(self.rule, f"quantity must be positive, was {quantity}", quantity=quantity)
        return _ACCEPT


class KnownSymbolCheck:
    """Reject a symbol absent from ``context.known_symbols``."""

    rule = "unknown_symbol"

    def check(self, order: OrderRequest, context: PreTradeContext) -> CheckResult:
        if order.symbol not in context.known_symbols:
            return CheckResult.reject(self.rule, f"unknown symbol {order.symbol}", symbol=order.symbol)
        return _ACCEPT


_NEEDS_SESSION = frozenset({TimeInForce.DAY, TimeInForce.IOC, TimeInForce.FOK})


class MarketHoursCheck:
    """Reject orders whose time in force cannot work at ``context.now`` (see the module notes).

    Parameters
    ----------
    opening_auction_cutoff
        How long before ``next_open`` OPG orders stop being accepted.
    closing_auction_cutoff
        How long before ``session_close`` CLS orders stop being accepted.
    """

    rule = "market_hours"

    def __init__(self, *, opening_auction_cutoff: timedelta = timedelta(0),
                 closing_auction_cutoff: timedelta = timedelta(minutes=10)) -> None:
        for name, value in (("opening_auction_cutoff", opening_auction_cutoff),
                            ("closing_auction_cutoff", closing_auction_cutoff)):
            if value < timedelta(0):
                raise InvalidInput(f"{name} must not be negative, was {value}")
        self.opening_auction_cutoff = opening_auction_cutoff
        self.closing_auction_cutoff = closing_auction_cutoff

    def check(self, order: OrderRequest, context: PreTradeContext) -> CheckResult:
        tif = order.time_in_force
        now = context.now
        label = tif.value.upper()
        if tif in _NEEDS_SESSION:
            if not context.market_open:
                return CheckResult.reject(self.rule, f"market is closed for {label} orders at {now.isoformat()}",
                                          now=now.isoformat(), time_in_force=tif.value)
        elif tif is TimeInForce.OPG:
            if context.market_open:
                return CheckResult.reject(self.rule, f"the opening auction has passed: market is open at "
                                                     f"{now.isoformat()}; OPG orders are taken only before the open",
                                          now=now.isoformat(), time_in_force=tif.value)
            if context.next_open is not None and now > context.next_open - self.opening_auction_cutoff:
                cutoff = context.next_open - self.opening_auction_cutoff
                return CheckResult.reject(self.rule, f"OPG orders close at {cutoff.isoformat()}, "
                                                     f"{self.opening_auction_cutoff} before the open; "
                                                     f"now is {now.isoformat()}",
                                          now=now.isoformat(), cutoff=cutoff.isoformat(), time_in_force=tif.value)
        elif tif is TimeInForce.CLS:
            if not context.market_open:
                return CheckResult.reject(self.rule, f"market is closed for CLS orders at {now.isoformat()}; "
                                                     f"send them during the session",
                                          now=now.isoformat(), time_in_force=tif.value)
            if context.session_close is not None and now > context.session_close - self.closing_auction_cutoff:
                cutoff = context.session_close - self.closing_auction_cutoff
                return CheckResult.reject(self.rule, f"CLS orders close at {cutoff.isoformat()}, "
                                                     f"{self.closing_auction_cutoff} before the close; "
                                                     f"now is {now.isoformat()}",
                                          now=now.isoformat(), cutoff=cutoff.isoformat(), time_in_force=tif.value)
        return _ACCEPT


class LimitPriceBandCheck:
    """Warn (or reject) limit prices far through the last price.

    Parameters
    ----------
    warn_pct
        Warn when a buy limit is more than this percent above the last price (a sell limit
        this far below it). Default 5.
    reject_pct
        Reject beyond this percent; ``None`` (default) never rejects.
    """

    rule = "limit_price_band"

    def __init__(self, *, warn_pct: Decimal | str | int = Decimal(5),
                 reject_pct: Decimal | str | int | None = None) -> None:
        self.warn_pct = to_decimal(warn_pct, field="warn_pct")
        self.reject_pct = to_decimal(reject_pct, field="reject_pct") if reject_pct is not None else None
        if self.warn_pct < 0:
            raise InvalidInput(f"warn_pct must not be negative, was {self.warn_pct}")
        if self.reject_pct is not None and self.reject_pct < self.warn_pct:
            raise InvalidInput(f"reject_pct must be at least warn_pct {self.warn_pct}, was {self.reject_pct}")

    def check(self, order: OrderRequest, context: PreTradeContext) -> CheckResult:
        limit = order.limit_price
        last = context.last_prices.get(order.symbol)
        if limit is None or last is None or last <= 0:
            return _ACCEPT
        buy = order.side is Side.BUY
        through_pct = (limit - last) / last * _HUNDRED if buy else (last - limit) / last * _HUNDRED
        if through_pct <= self.warn_pct:
            return _ACCEPT
        direction = "above" if buy else "below"
        shown = through_pct.quantize(Decimal("0.01"))
        numbers = {"limit_price": limit, "last_price": last, "through_pct": shown}
        if self.reject_pct is not None and through_pct > self.reject_pct:
            return CheckResult.reject(self.rule, f"{order.side.value} limit {limit} for {order.symbol} is {shown}% "
                                                 f"{direction} the last price {last} (reject beyond "
                                                 f"{self.reject_pct}%)", reject_pct=self.reject_pct, **numbers)
        return CheckResult.warn(self.rule, f"{order.side.value} limit {limit} for {order.symbol} is {shown}% "
                                           f"{direction} the last price {last} (warn beyond {self.warn_pct}%)",
                                warn_pct=self.warn_pct, **numbers)


class CashAccountShortSaleCheck:
    """Reject a sell in a cash account for more shares than are held (cash accounts cannot short).

    ``context.positions`` should be net of shares already committed to open sell orders.
    """

    rule = "short_sale_in_cash_account"

    def check(self, order: OrderRequest, context: PreTradeContext) -> CheckResult:
        if order.side is not Side.SELL or context.account_type is not AccountType.CASH:
            return _ACCEPT
        held = context.positions.get(order.symbol, _ZERO)
        if order.quantity > held:
            return CheckResult.reject(
                self.rule,
                f"cash account {context.portfolio_id} cannot sell {order.quantity} {order.symbol}: it holds {held} "
                f"available to sell (short sales need a margin account)",
                quantity=order.quantity, held=held)
        return _ACCEPT


class InsufficientCashCheck:
    """Reject a buy in a cash account that costs more than the available cash.

    Parameters
    ----------
    market_buffer_bps
        Added to the last price for orders without a limit price, to allow for slippage.
    """

    rule = "insufficient_cash"

    def __init__(self, *, market_buffer_bps: Decimal | str | int = _ZERO) -> None:
        self.market_buffer_bps = to_decimal(market_buffer_bps, field="market_buffer_bps")
        if self.market_buffer_bps < 0:
            raise InvalidInput(f"market_buffer_bps must not be negative, was {self.market_buffer_bps}")

    def estimated_price(self, order: OrderRequest, context: PreTradeContext) -> Decimal | None:
        """The per-share price the check budgets for (``None`` if nothing to estimate from)."""
        if order.order_type in (OrderType.LIMIT, OrderType.STOP_LIMIT):
            return order.limit_price
        last = context.last_prices.get(order.symbol)
        base: Decimal | None = last
        if order.order_type is OrderType.STOP and order.stop_price is not None:
            base = order.stop_price if last is None else max(order.stop_price, last)
        if base is None:
            return None
        return base * (1 + self.market_buffer_bps / _BPS)

    def check(self, order: OrderRequest, context: PreTradeContext) -> CheckResult:
        if order.side is not Side.BUY or context.account_type is not AccountType.CASH:
            return _ACCEPT
        price = self.estimated_price(order, context)
        if price is None:
            return CheckResult.reject(self.rule, f"cannot estimate the cost of buying {order.quantity} "
                                                 f"{order.symbol} in cash account {context.portfolio_id}: no last "
                                                 f"price and no limit price",
                                      quantity=order.quantity, cash=context.cash)
        cost = order.quantity * price
        if cost > context.cash:
            return CheckResult.reject(
                self.rule,
                f"insufficient cash in cash account {context.portfolio_id}: buying {order.quantity} {order.symbol} "
                f"at an estimated {price} needs {cost}, cash available is {context.cash} "
                f"(short by {cost - context.cash})",
                quantity=order.quantity, estimated_price=price, estimated_cost=cost, cash=context.cash,
                shortfall=cost - context.cash)
        return _ACCEPT
