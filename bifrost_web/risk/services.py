"""Risk use cases: limit sets, the pre-trade provider, alerts, revaluation, reports, stress tests.

The computations are :mod:`bifrost.risk`'s; these services load positions (from the trading
core's portfolio rows), prices and company data (from stored bars and instruments), call the
domain, and persist limits, alerts and snapshots.

Decisions
---------
* A household limit set applies to the sum of the positions, cash and NAV of all the
  household's portfolios; an order in any of them is checked against the household book as it
  would be after the order (and against its own portfolio's set).
* Drawdowns use the time-weighted NAV index from the trading core's daily snapshots (deposits
  and withdrawals do not move it), extended to now by the live NAV. The high-water mark handed
  to the limits is the live NAV scaled by (peak index / current index).
* A hard breach of a drawdown limit rejects the order and, once the rejection is stored, trips
  the kill switch of the portfolio (every portfolio of a household, for a household limit).
  The revaluation task trips it as well when prices alone carry the book through the level.
* Alerts are de-duplicated on (owner, key): the key names the scope, the rule, its subject and
  the level crossed, so a worsening breach (soft to hard) is a new alert and a repeat is not.
"""

from __future__ import annotations

import copy
import dataclasses
import json
import logging
import math
import threading
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

import numpy as np
import pandas as pd
from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone

from bifrost.core.errors import InvalidInput, NotFoundError
from bifrost.core.time import Clock, WallClock
from bifrost.orders.pretrade import CheckResult, Decision, PreTradeContext
from bifrost.orders.types import OrderRequest
from bifrost.risk import (
    HISTORICAL_SCENARIOS,
    Limit,
    LimitKind,
    LimitSet,
    RiskBook,
    RiskLimitCheck,
    TargetAdjustment,
    apply_limits_to_targets,
    clustered_order,
    cornish_fisher_var,
    correlation_shock,
    diversification_ratio,
    drawdown_stats,
    effective_number_of_bets,
    exposure_report,
    filtered_historical_var,
    historical_decomposition,
    historical_var,
    index_shock,
    ledoit_wolf_covariance,
    limit_usage,
    monte_carlo_var,
    parametric_decomposition,
    parametric_var,
    position_drawdowns,
    reverse_stress_covariance,
    reverse_stress_index,
    rolling_var_forecasts,
    run_scenario,
    sector_shock,
    var_backtest,
    volatility_shock,
)
from bifrost.risk.limits import DRAWDOWN_KINDS
from bifrost_web import caching
from bifrost_web.risk import market, models, selectors
from bifrost_web.trading import models as trading_models
from bifrost_web.trading import selectors as trading_selectors

log = logging.getLogger(__name__)
NEW_YORK = ZoneInfo("America/New_York")
_ORDER_RATE_LOOKBACK = timedelta(hours=1)


# ------------------------------------------------------------------------------------------------
# Limit sets
# ------------------------------------------------------------------------------------------------

def _scope(*, user, portfolio_id: int | None, household_id: int | None):
    if (portfolio_id is None) == (household_id is None):
        raise InvalidInput("give exactly one of portfolio_id or household_id")
    if portfolio_id is not None:
        return trading_selectors.portfolio_get(user=user, portfolio_id=portfolio_id), None
    return None, selectors.household_get(user=user, household_id=household_id)


def limit_set_get_or_create(*, user, portfolio_id: int | None = None, household_id: int | None = None
                            ) -> models.LimitSet:
    portfolio, household = _scope(user=user, portfolio_id=portfolio_id, household_id=household_id)
    limit_set, _ = models.LimitSet.objects.get_or_create(portfolio=portfolio, household=household,
                                                         defaults={"owner": user})
    return limit_set


def limit_set_update(*, user, portfolio_id: int | None = None, household_id: int | None = None,
                     **fields: Any) -> models.LimitSet:
    """Change the set's settings: ``active``, ``confidence``, ``horizon_days``, ``lookback_days``,
    ``webhook_url``, ``email_alerts``."""
    allowed = {"active", "confidence", "horizon_days", "lookback_days", "webhook_url", "email_alerts"}
    unknown = set(fields) - allowed
    if unknown:
        raise InvalidInput(f"unknown limit-set settings: {', '.join(sorted(unknown))}")
    if "confidence" in fields and not 0.5 <= float(fields["confidence"]) < 1:
        raise InvalidInput(f"confidence must be in [0.5, 1), was {fields['confidence']}")
    if "horizon_days" in fields and not 1 <= int(fields["horizon_days"]) <= 250:
        raise InvalidInput(f"horizon_days must be between 1 and 250, was {fields['horizon_days']}")
    if "lookback_days" in fields and not 20 <= int(fields["lookback_days"]) <= 5000:
        raise InvalidInput(f"lookback_days must be between 20 and 5000, was {fields['lookback_days']}")
    with transaction.atomic():
        limit_set = limit_set_get_or_create(user=user, portfolio_id=portfolio_id, household_id=household_id)
        for name, value in fields.items():
            setattr(limit_set, name, value)
        limit_set.save()
    return limit_set


def _level(value) -> Decimal | None:
    if value is None or value == "":
        return None
    try:
        return Decimal(str(value))
    except ArithmeticError:
        raise InvalidInput(f"limit level must be a number, was {value!r}") from None


def limit_upsert(*, user, kind: str, soft=None, hard=None, params: dict | None = None,
                 portfolio_id: int | None = None, household_id: int | None = None) -> models.LimitRule:
    """Create or replace the limit of ``kind`` (and sector/industry key) in a portfolio's or household's set.

    Raises
    ------
    InvalidInput
        The limit is invalid (unknown kind, soft above hard, no level, ...): nothing is written.
    """
    params = dict(params or {})
    soft_d, hard_d = _level(soft), _level(hard)
    domain = Limit(kind=kind, soft=float(soft_d) if soft_d is not None else None,
                   hard=float(hard_d) if hard_d is not None else None, params=params)  # validates
    key = str(params.get("sector") or params.get("industry") or "")
    stored_params = domain.as_dict()["params"]
    with transaction.atomic():
        limit_set = limit_set_get_or_create(user=user, portfolio_id=portfolio_id, household_id=household_id)
        rule, _ = models.LimitRule.objects.update_or_create(
            limit_set=limit_set, kind=domain.kind.value, key=key,
            defaults={"soft": soft_d, "hard": hard_d, "params": stored_params})
    return rule


def limit_delete(*, user, rule_id: int) -> None:
    rule = selectors.rule_get(user=user, rule_id=rule_id)
    rule.delete()


def domain_limit_set(limit_set: models.LimitSet) -> LimitSet:
    rules = [Limit(kind=r.kind, soft=float(r.soft) if r.soft is not None else None,
                   hard=float(r.hard) if r.hard is not None else None, params=r.params or {})
             for r in limit_set.rules.all()]
    return LimitSet(tuple(rules), scope=limit_set.scope_label)


def rule_as_dict(rule: models.LimitRule) -> dict:
    return {"id": rule.pk, "kind": rule.kind, "key": rule.key,
            "soft": None if rule.soft is None else format(rule.soft.normalize(), "f"),
            "hard": None if rule.hard is None else format(rule.hard.normalize(), "f"),
            "params": rule.params, "scope": "portfolio" if rule.limit_set.portfolio_id else "household",
            "subject": rule.key or ", ".join(rule.params.get("symbols", []))}


# ------------------------------------------------------------------------------------------------
# Books
# ------------------------------------------------------------------------------------------------

@dataclass
class ScopeBook:
    """A risk book plus what built it (for reports)."""

    book: RiskBook
    portfolios: list[trading_models.Portfolio]
    model: market.MarketModel
    cash: float
    nav_index: pd.Series | None


def _scope_portfolios(portfolio: trading_models.Portfolio | None,
                      household: trading_models.Household | None) -> list[trading_models.Portfolio]:
    if household is not None:
        return list(trading_models.Portfolio.objects.filter(household=household).order_by("pk"))
    return [portfolio]


# the daily NAV frames of the pre-trade path, dropped everywhere when a snapshot is saved or deleted
_nav_cache = caching.VersionedCache("risk:nav", seconds=lambda: market._ttl())


def _nav_index(portfolios: list[trading_models.Portfolio], *, cached: bool = False) -> pd.DataFrame:
    """Daily NAV and external flows summed over the portfolios (from the trading snapshots).

    ``cached`` (the pre-trade path) reuses the frame while no snapshot was saved or deleted
    anywhere (the NAV version, bumped by :func:`book_changed`), at most for
    ``BIFROST_RISK_CACHE_SECONDS``: the snapshots are written once a day, and the drawdown
    limits use the live NAV on top of them.
    """
    if cached:
        return _nav_cache.get(tuple(p.pk for p in portfolios), lambda: _nav_index(portfolios))
    rows = list(trading_models.PortfolioSnapshot.objects.filter(portfolio__in=portfolios).values_list(
        "date", "nav", "net_flow"))
    if not rows:
        return pd.DataFrame(columns=["nav", "net_flow"])
    frame = pd.DataFrame.from_records(rows, columns=["date", "nav", "net_flow"])
    frame[["nav", "net_flow"]] = frame[["nav", "net_flow"]].astype(float)
    return frame.groupby("date")[["nav", "net_flow"]].sum().sort_index()


def _twr_index(daily: pd.DataFrame, live_nav: float) -> pd.Series | None:
    """Time-weighted NAV index (starts at 1) with the live NAV appended."""
    if daily.empty or daily["nav"].iloc[0] <= 0:
        return None
    nav, flow = daily["nav"].to_numpy(), daily["net_flow"].to_numpy()
    growth = np.ones(len(nav))
    for i in range(1, len(nav)):
        growth[i] = (nav[i] - flow[i]) / nav[i - 1] if nav[i - 1] > 0 else 1.0
    index = pd.Series(np.cumprod(growth), index=pd.to_datetime(daily.index))
    if nav[-1] > 0 and live_nav > 0:
        index.loc[index.index[-1] + pd.Timedelta(days=1)] = index.iloc[-1] * live_nav / nav[-1]  # "now"
    return index


_BOOK_VERSION_KEY = "bifrost:risk:book-version"
_ORDERS_VERSION_KEY = "bifrost:risk:orders-version"
_BOOK_CACHE: dict[tuple, tuple[float, tuple, ScopeBook]] = {}
_ORDERS_CACHE: dict[tuple, tuple[float, int, list[tuple[datetime, str, int]]]] = {}


def _book_cache_seconds() -> float:
    return float(getattr(settings, "BIFROST_RISK_BOOK_CACHE_SECONDS", 60))


def _bump(key: str) -> None:
    caching.bump(key)


def book_changed(sender=None, instance=None, created: bool = True, **kwargs) -> None:
    """Signal receiver: positions, cash, orders or portfolios changed; every process rebuilds what depends on them.

    Connected (see :mod:`bifrost_web.risk.apps`) to new ledger entries (every fill, cash flow,
    dividend and split of the trading core posts one, and the portfolio's positions and cash
    with it), portfolio saves and deletes (household membership) and NAV snapshots (drawdown
    and daily-loss bases): these drop the cached books. New orders only drop the cached order
    times of the order-rate limits. This process's entries go at once (a check later in the same
    transaction sees the write); the shared version is bumped when the transaction commits, and
    a process that read the old state before then stored it under the old version.
    """
    model = sender._meta.model_name if sender is not None else ""
    if model in ("order", "ledgerentry") and not created:
        return
    connection = transaction.get_connection()
    if connection.in_atomic_block:  # until the transaction ends, this thread's checks bypass the shared entries
        _uncommitted.block = connection.atomic_blocks[0]
    if model == "order":
        key, local = _ORDERS_VERSION_KEY, _ORDERS_CACHE
    else:
        key, local = _BOOK_VERSION_KEY, _BOOK_CACHE
        _portfolio_cache.forget()
        if model == "portfoliosnapshot":
            _nav_cache.forget()
    local.clear()

    def after_commit() -> None:
        _bump(key)
        if model == "portfoliosnapshot":
            _nav_cache.changed()
        local.clear()
        _uncommitted.block = None

    transaction.on_commit(after_commit, robust=True)


_uncommitted = threading.local()


def _sees_uncommitted_writes() -> bool:
    """Whether this thread wrote positions or orders in a transaction that is still open: its
    checks must neither use the shared cached books (built without its writes) nor store books
    built from state that may yet be rolled back. (A rolled-back transaction can leave the mark
    on a reused ``atomic`` object: the next transaction through it then only skips the cache.)"""
    block = getattr(_uncommitted, "block", None)
    if block is None:
        return False
    connection = transaction.get_connection()
    if any(open_block is block for open_block in connection.atomic_blocks):
        return True
    _uncommitted.block = None
    return False


def _state_versions() -> tuple[int, tuple[int, int], int]:
    """The limits version, the book's (positions and cash, market data) and the order times'."""
    got = caching.versions([_LIMITS_VERSION_KEY, _BOOK_VERSION_KEY, market.MARKET_VERSION_KEY, _ORDERS_VERSION_KEY])
    return (got[_LIMITS_VERSION_KEY], (got[_BOOK_VERSION_KEY], got[market.MARKET_VERSION_KEY]),
            got[_ORDERS_VERSION_KEY])


def _recent_order_rows(portfolios: list[trading_models.Portfolio], now: datetime) -> list[tuple[datetime, str, int]]:
    return list(trading_models.Order.objects.filter(
        portfolio__in=portfolios, created_at__gte=now - _ORDER_RATE_LOOKBACK).values_list(
        "created_at", "client_order_id", "portfolio_id"))


def scope_book(*, portfolio: trading_models.Portfolio | None = None,
               household: trading_models.Household | None = None, limit_set: models.LimitSet | None = None,
               extra_symbols: tuple[str, ...] = (), now: datetime | None = None,
               exclude_order: str | None = None, cached: bool = False) -> ScopeBook:
    """Build the :class:`RiskBook` of a portfolio or a household as it is now.

    ``cached`` (the pre-trade path: orders and what-ifs) reuses the book built for the same
    limit set, scope and New York day while nothing it depends on has changed: the versions
    bumped by :func:`limits_changed`, :func:`book_changed` and
    :func:`~bifrost_web.risk.market.market_changed` (kept in Django's cache, so with Redis every
    process sees a change at once) must match, and an entry lives at most
    ``BIFROST_RISK_BOOK_CACHE_SECONDS`` (default 60 s; market data has its own
    ``BIFROST_RISK_CACHE_SECONDS``). The recent order times (order-rate limits) are cached apart,
    against the orders version, so a new order does not rebuild the book. A write that bypasses
    the ORM's signals (a queryset ``update`` of a portfolio's positions) is seen when the entry
    expires.
    """
    import time

    now = now or timezone.now()
    if not cached or _sees_uncommitted_writes():
        return _build_scope_book(portfolio=portfolio, household=household, limit_set=limit_set,
                                 extra_symbols=extra_symbols, now=now, exclude_order=exclude_order,
                                 cached_history=cached)
    limits_version, book_version, orders_version = _state_versions()
    scope = (limit_set.pk if limit_set else None, portfolio.pk if portfolio else None,
             household.pk if household else None, now.astimezone(NEW_YORK).date())
    expires = time.monotonic() + min(_book_cache_seconds(), market._ttl())

    def entry(extra: tuple[str, ...]) -> ScopeBook:
        hit = _BOOK_CACHE.get((*scope, extra))
        if hit is None or hit[1] != (limits_version, book_version) or hit[0] <= time.monotonic():
            built = _build_scope_book(portfolio=portfolio, household=household, limit_set=limit_set,
                                      extra_symbols=extra, now=now, exclude_order=None, with_orders=False)
            hit = (expires, (limits_version, book_version), built)
            _BOOK_CACHE[(*scope, extra)] = hit
        return hit[2]

    built = entry(())  # the book as held; an order in a held symbol (the usual case) needs nothing more
    extra = tuple(s for s in extra_symbols if s not in built.model.prices and s not in built.model.no_history)
    if extra:
        built = entry(extra)
    if limit_set is None or not _has_order_rate(limit_set):
        return built
    hit = _ORDERS_CACHE.get(scope)
    if hit is None or hit[1] != orders_version or hit[0] <= time.monotonic():
        hit = (expires, orders_version, _recent_order_rows(built.portfolios, now))
        _ORDERS_CACHE[scope] = hit
    since = now - _ORDER_RATE_LOOKBACK
    recent = [ts for ts, cid, pid in hit[2] if ts >= since
              and not (cid == exclude_order and (portfolio is None or pid == portfolio.pk))]
    if not recent:  # the cached book was built without order times
        return built
    book = copy.copy(built.book)  # the derived sums stay valid: only the order times differ
    book.recent_orders = recent
    return dataclasses.replace(built, book=book)


def _has_order_rate(limit_set: models.LimitSet) -> bool:
    """Whether the set has an order-rate rule (kept on the row, which the limits cache rebuilds on any change)."""
    found = getattr(limit_set, "_bifrost_has_order_rate", None)
    if found is None:
        found = limit_set._bifrost_has_order_rate = any(
            r.kind == LimitKind.ORDER_RATE.value for r in limit_set.rules.all())
    return found


def _build_scope_book(*, portfolio: trading_models.Portfolio | None, household: trading_models.Household | None,
                      limit_set: models.LimitSet | None, extra_symbols: tuple[str, ...], now: datetime,
                      exclude_order: str | None, with_orders: bool = True,
                      cached_history: bool = True) -> ScopeBook:
    cached = cached_history  # the pre-trade path reuses the daily NAV history (see _nav_index)
    portfolios = _scope_portfolios(portfolio, household)
    quantities: dict[str, float] = {}
    cash = 0.0
    for p in portfolios:
        cash += float(p.cash_balance)
        for symbol, quantity in (p.position_quantities or {}).items():
            quantities[symbol] = quantities.get(symbol, 0.0) + float(quantity)
    quantities = {s: q for s, q in quantities.items() if q}
    lookback = limit_set.lookback_days if limit_set else 250
    model = market.market_model(set(quantities), lookback_days=lookback)
    for symbol in extra_symbols:
        model = model.with_symbol(symbol)
    missing = sorted(s for s in quantities if s not in model.prices)
    if missing:
        raise NotFoundError(f"no price for held {', '.join(missing)}: ingest daily bars to value the book")
    nav = cash + sum(q * model.prices[s] for s, q in quantities.items())
    if nav <= 0:
        raise InvalidInput(f"NAV of {'household ' + household.name if household else 'portfolio ' + portfolio.name} "
                           f"is {nav:,.2f}; risk limits need a positive NAV")
    daily = _nav_index(portfolios, cached=cached)
    index = _twr_index(daily, nav)
    day_start = hwm = trailing = None
    today = now.astimezone(NEW_YORK).date()
    if not daily.empty:
        before_today = daily[daily.index < today]
        if not before_today.empty:
            day_start = float(before_today["nav"].iloc[-1])
    if index is not None and len(index) >= 1:
        current = float(index.iloc[-1])
        hwm = nav * float(index.max()) / current
        window = 21
        if limit_set is not None:
            for rule in limit_set.rules.all():
                if rule.kind == LimitKind.TRAILING_DRAWDOWN.value:
                    window = int(rule.params.get("window_days", 21))
        trailing = nav * float(index.iloc[-(window + 1):].max()) / current
    recent: list[datetime] = []
    if with_orders and limit_set is not None and any(r.kind == LimitKind.ORDER_RATE.value
                                                     for r in limit_set.rules.all()):
        qs = trading_models.Order.objects.filter(portfolio__in=portfolios, created_at__gte=now - _ORDER_RATE_LOOKBACK)
        if exclude_order:
            qs = qs.exclude(client_order_id=exclude_order, portfolio=portfolio) if portfolio else qs.exclude(
                client_order_id=exclude_order)
        recent = list(qs.values_list("created_at", flat=True))
    cov = model.covariance
    book = RiskBook(
        nav=nav, quantities=quantities, prices=model.prices,
        sectors=model.sectors, industries=model.industries,
        adv=model.adv, covariance=cov, covariance_symbols=tuple(model.returns.columns) if cov is not None else (),
        confidence=limit_set.confidence if limit_set else 0.99,
        horizon_days=limit_set.horizon_days if limit_set else 1,
        day_start_nav=day_start, high_water_mark=hwm, trailing_high_water_mark=trailing, recent_orders=recent)
    return ScopeBook(book=book, portfolios=portfolios, model=model, cash=cash, nav_index=index)


# ------------------------------------------------------------------------------------------------
# Pre-trade provider and the drawdown kill switch
# ------------------------------------------------------------------------------------------------

_pending_trips = threading.local()


def _pending() -> dict[tuple[int, str], list[tuple[int, str]]]:
    if not hasattr(_pending_trips, "items"):
        _pending_trips.items = {}
    return _pending_trips.items


class WebRiskCheck:
    """The pre-trade check of one limit set: builds the book at check time and evaluates the order.

    A hard drawdown breach is remembered for this order; when the trading core stores the
    rejection (``post_save`` of the order), the kill switch is tripped (see :func:`on_order_saved`).
    """

    def __init__(self, limit_set: models.LimitSet, portfolio: trading_models.Portfolio) -> None:
        self.limit_set = limit_set
        self.portfolio = portfolio
        self.prices: Mapping[str, float] = {}  # the last check's book prices (last closes)

    def check(self, order: OrderRequest, context: PreTradeContext) -> CheckResult:
        household = self.limit_set.household
        built = scope_book(portfolio=None if household else self.portfolio, household=household,
                           limit_set=self.limit_set, extra_symbols=(order.symbol,), now=context.now,
                           exclude_order=order.client_order_id, cached=True)
        domain = getattr(self.limit_set, "_bifrost_domain", None)
        if domain is None:  # kept on the cached limit-set row (see _active_limit_sets), rebuilt with it
            domain = self.limit_set._bifrost_domain = domain_limit_set(self.limit_set)
        result = RiskLimitCheck(domain, built.book).check(order, context)
        self.prices = built.book.prices
        drawdown = [f for f in result.findings if f.severity is Decision.REJECT and f.rule in DRAWDOWN_KINDS]
        if drawdown:
            targets = [p.pk for p in built.portfolios]
            _pending().setdefault((self.portfolio.pk, order.client_order_id), []).extend(
                (pid, drawdown[0].message) for pid in targets)
        return result


_LIMITS_VERSION_KEY = "bifrost:risk:limits-version"
caching.register_version_keys(_LIMITS_VERSION_KEY, _BOOK_VERSION_KEY, _ORDERS_VERSION_KEY)
_LIMITS_CACHE: dict[tuple[int, int | None], tuple[float, int, list[models.LimitSet]]] = {}
_LIMITS_CACHE_SECONDS = 60.0


def limits_changed(**_) -> None:
    """Signal receiver: a limit set or rule was saved or deleted; every process reloads its limits."""
    caching.bump(_LIMITS_VERSION_KEY)
    _LIMITS_CACHE.clear()


def _active_limit_sets(portfolio) -> list[models.LimitSet]:
    """The active limit sets of a portfolio and its household, rules attached.

    Cached in process and checked against a version number in Django's cache, bumped by
    :func:`limits_changed` on any save or delete of a limit set or rule (admin edits included).
    With Redis as the cache (production) every worker sees a change at once; with the in-process
    default cache other worker processes see it when their entry expires, within 60 s.
    """
    import time

    version = caching.versions([_LIMITS_VERSION_KEY])[_LIMITS_VERSION_KEY]
    key = (portfolio.pk, portfolio.household_id)
    hit = _LIMITS_CACHE.get(key)
    if hit is not None and hit[1] == version and hit[0] > time.monotonic():
        return hit[2]
    scope = Q(portfolio_id=portfolio.pk)
    if portfolio.household_id:
        scope |= Q(household_id=portfolio.household_id)
    sets = list(models.LimitSet.objects.filter(scope, active=True).select_related("household").order_by("pk"))
    rules: dict[int, list[models.LimitRule]] = {}
    if sets:
        for rule in models.LimitRule.objects.filter(limit_set_id__in=[s.pk for s in sets]):
            rules.setdefault(rule.limit_set_id, []).append(rule)
    kept = []
    for limit_set in sets:
        if limit_set.pk in rules:
            limit_set.portfolio = portfolio if limit_set.portfolio_id == portfolio.pk else None
            _prefetched(limit_set, rules[limit_set.pk])
            kept.append(limit_set)
    _LIMITS_CACHE[key] = (time.monotonic() + _LIMITS_CACHE_SECONDS, version, kept)
    return kept


def pretrade_checks(portfolio, request: OrderRequest, now: datetime) -> list[WebRiskCheck]:
    """The provider registered with the trading core: the portfolio's and its household's limit sets."""
    return [WebRiskCheck(limit_set, portfolio) for limit_set in _active_limit_sets(portfolio)]


def _prefetched(limit_set: models.LimitSet, rules: list[models.LimitRule]) -> None:
    """Attach already-loaded rules so ``limit_set.rules.all()`` does not query again."""
    limit_set._prefetched_objects_cache = {"rules": models.LimitRule.objects.none()}
    queryset = limit_set.rules.all()
    queryset._result_cache = rules
    queryset._prefetch_done = True
    limit_set._prefetched_objects_cache = {"rules": queryset}


def on_order_saved(sender, instance, **kwargs) -> None:
    """Trip the kill switch once an order rejected for a drawdown breach is stored."""
    pending = _pending()
    if not pending or instance.status != "rejected":
        return
    trips = pending.pop((instance.portfolio_id, instance.client_order_id), None)
    if trips:
        for portfolio_id, message in dict(trips).items():
            kill_switch_trip(portfolio_id=portfolio_id, reason=f"risk: {message}")


def kill_switch_trip(*, portfolio_id: int, reason: str) -> bool:
    """Trip a portfolio's kill switch for a risk breach (no-op if already active); alert the owner."""
    from bifrost_web.trading import services as trading_services

    portfolio = trading_models.Portfolio.objects.select_related("owner").get(pk=portfolio_id)
    if portfolio.kill_switch:
        return False
    trading_services.kill_switch_set(user=portfolio.owner, active=True, reason=reason[:200], portfolio_id=portfolio_id)
    alert_raise(owner=portfolio.owner, portfolio=portfolio, rule="kill_switch", severity="critical",
                message=f"kill switch tripped on portfolio {portfolio.name}: {reason}",
                numbers={"portfolio_id": portfolio_id}, dedup_key=f"p{portfolio_id}:kill_switch")
    return True


def what_if(*, user, portfolio_id: int, symbol: str, side: str, quantity, limit_price=None,
            clock: Clock | None = None) -> dict:
    """Check a hypothetical order against the portfolio's and household's limits; nothing is stored."""
    with caching.version_snapshot():  # limits, book and order-time versions in one cache round trip
        return _what_if(user=user, portfolio_id=portfolio_id, symbol=symbol, side=side, quantity=quantity,
                        limit_price=limit_price, clock=clock)


# portfolio rows for the what-if's ownership check, following the book version (see book_changed)
_portfolio_cache = caching.VersionedCache("risk:portfolio-rows", seconds=lambda: _book_cache_seconds(),
                                          version_key=_BOOK_VERSION_KEY)


def _checked_portfolio(*, user, portfolio_id) -> trading_models.Portfolio:
    """The user's portfolio for a what-if check, from this process's memory while the book is unchanged.

    Portfolio saves and deletes and every ledger entry bump the book version (see
    :func:`book_changed`), so an entry under the current version is the row as stored; it
    lives at most ``BIFROST_RISK_BOOK_CACHE_SECONDS``. The instance is shared by the checks
    that read it and must not be changed. A missing or foreign portfolio is never remembered:
    it is looked up (and refused) each time.
    """
    def load() -> trading_models.Portfolio:
        return trading_selectors.portfolio_get(user=user, portfolio_id=portfolio_id)  # refuses a missing one

    try:
        key = (user.pk, int(portfolio_id))
    except (TypeError, ValueError):
        return load()
    if _sees_uncommitted_writes():  # this thread's open transaction changed the book: read it, keep nothing
        return load()
    return _portfolio_cache.get(key, load)


def _what_if(*, user, portfolio_id: int, symbol: str, side: str, quantity, limit_price, clock: Clock | None) -> dict:
    portfolio = _checked_portfolio(user=user, portfolio_id=portfolio_id)
    now = (clock or WallClock()).now()
    request = OrderRequest(client_order_id="what-if", symbol=symbol, side=side, quantity=quantity,
                           order_type="limit" if limit_price is not None else "market",
                           limit_price=limit_price, time_in_force="day")
    # no last price in the context: the checks value the order at the book's price for the symbol
    context = PreTradeContext(portfolio_id=str(portfolio.pk), now=now)
    findings = []
    price = None
    for check in pretrade_checks(portfolio, request, now):
        findings.extend(check.check(request, context).findings)
        price = check.prices.get(request.symbol, price)
    if price is None:
        price = market.last_close(request.symbol)
    _pending().pop((portfolio.pk, "what-if"), None)  # a what-if never trips anything
    result = CheckResult.of(*findings) if findings else CheckResult.accept()
    return {"decision": result.decision.value, "findings": [f.as_dict() for f in result.findings],
            "symbol": request.symbol, "side": request.side.value, "quantity": str(request.quantity),
            "price": price}


def targets_adjust(*, user, portfolio_id: int, targets: dict[str, float], level: str = "hard") -> dict:
    """Apply the portfolio's limits to a target weight vector (scale down, cap) before orders are made."""
    portfolio = trading_selectors.portfolio_get(user=user, portfolio_id=portfolio_id)
    limit_set = selectors.limit_set_for_portfolio(portfolio=portfolio)
    if limit_set is None:
        return {"weights": dict(targets), "adjustments": [], "scale": 1.0}
    built = scope_book(portfolio=portfolio, limit_set=limit_set, extra_symbols=tuple(targets))
    book = built.book
    result = apply_limits_to_targets(targets, domain_limit_set(limit_set), nav=book.nav, prices=book.prices,
                                     sectors=book.sectors, industries=book.industries, covariance=book.covariance,
                                     covariance_symbols=book.covariance_symbols, confidence=book.confidence,
                                     horizon_days=book.horizon_days, level=level)
    return {"weights": result.weights, "adjustments": list(result.adjustments), "scale": result.scale}


class PortfolioTargetAdjuster:
    """A portfolio's own limit set, as stored at call time, applied to a strategy's targets.

    Registered as the risk service's target adjuster provider, so the persisted strategy
    runner (``bifrost portfolio run-strategy``) caps weights, scales sectors and industries pro
    rata and scales the whole vector to the exposure and VaR budgets before orders are made;
    the order's own pre-trade check still follows. Sectors, industries and the covariance come
    from the stored company data and bars (cached like the pre-trade path's). Each change is
    logged here and on the strategy's log (``ctx.target_adjustments``).
    """

    def __init__(self, portfolio_id: int, *, level: str = "hard") -> None:
        self.portfolio_id = portfolio_id
        self.level = level

    def __call__(self, weights: Mapping[str, float], *, nav: float, prices: Mapping[str, float]) -> TargetAdjustment:
        limit_set = (models.LimitSet.objects.filter(portfolio_id=self.portfolio_id, active=True)
                     .select_related("portfolio").prefetch_related("rules").first())
        if limit_set is None or not limit_set.rules.all():
            return TargetAdjustment(weights=dict(weights), adjustments=(), scale=1.0)
        model = market.market_model(set(weights), lookback_days=limit_set.lookback_days)
        result = apply_limits_to_targets(
            weights, domain_limit_set(limit_set), nav=nav, prices={**model.prices, **prices}, sectors=model.sectors,
            industries=model.industries, covariance=model.covariance,
            covariance_symbols=tuple(model.returns.columns) if model.covariance is not None else (),
            confidence=limit_set.confidence, horizon_days=limit_set.horizon_days, level=self.level)
        for note in result.adjustments:
            log.info("risk adjusted the strategy targets of portfolio %s: %s", self.portfolio_id, note)
        return result


def target_adjuster_provider(portfolio) -> PortfolioTargetAdjuster | None:
    """The risk service's target adjuster for a portfolio with a limit set of its own, else ``None``."""
    if not models.LimitSet.objects.filter(portfolio_id=portfolio.pk).exists():
        return None
    return PortfolioTargetAdjuster(portfolio.pk)


# ------------------------------------------------------------------------------------------------
# Alerts
# ------------------------------------------------------------------------------------------------

_SEVERITY_RANK = {"info": 0, "warning": 1, "critical": 2}


def alert_raise(*, owner, rule: str, severity: str, message: str, dedup_key: str, numbers: dict | None = None,
                portfolio=None, household=None, now: datetime | None = None) -> tuple[models.RiskAlert, bool]:
    """Record an alert, or bump the open one with the same key. Returns (alert, created)."""
    now = now or timezone.now()
    numbers = json.loads(json.dumps(numbers or {}, default=str))
    for _ in range(2):
        existing = models.RiskAlert.objects.filter(owner=owner, dedup_key=dedup_key, acknowledged=False).first()
        if existing is not None:
            existing.occurrences += 1
            existing.last_seen = now
            existing.message = message
            existing.numbers = numbers
            if _SEVERITY_RANK[severity] > _SEVERITY_RANK[existing.severity]:
                existing.severity = severity
            existing.save(update_fields=["occurrences", "last_seen", "message", "numbers", "severity"])
            _push_on_commit(existing, "bumped")
            return existing, False
        try:
            with transaction.atomic():
                alert = models.RiskAlert.objects.create(
                    owner=owner, portfolio=portfolio, household=household, rule=rule, severity=severity,
                    message=message, numbers=numbers, dedup_key=dedup_key, first_seen=now, last_seen=now)
        except IntegrityError:  # another worker opened it first: bump that one
            continue
        transaction.on_commit(lambda pk=alert.pk: _deliver(pk))
        _push_on_commit(alert, "raised")
        return alert, True
    raise RuntimeError(f"could not record alert {dedup_key}")  # pragma: no cover


def _deliver(alert_id: int) -> None:
    from bifrost_web.risk import tasks

    tasks.alert_deliver.delay(alert_id)


def alert_deliver(*, alert_id: int) -> dict:
    """Send a new alert by e-mail (critical ones, to an owner with an address) and to the webhook."""
    from django.core.mail import send_mail

    alert = models.RiskAlert.objects.select_related("owner", "portfolio", "household").get(pk=alert_id)
    limit_set = None
    if alert.portfolio_id:
        limit_set = models.LimitSet.objects.filter(portfolio_id=alert.portfolio_id).first()
    if limit_set is None and alert.household_id:
        limit_set = models.LimitSet.objects.filter(household_id=alert.household_id).first()
    sent = {"email": False, "webhook": False}
    email_on = limit_set.email_alerts if limit_set else True
    if alert.severity == "critical" and email_on and alert.owner.email:
        send_mail(subject=f"[Bifrost risk] {alert.message[:120]}", message=_alert_text(alert),
                  from_email=getattr(settings, "DEFAULT_FROM_EMAIL", None), recipient_list=[alert.owner.email])
        sent["email"] = True
    if limit_set is not None and limit_set.webhook_url:
        _post_json(limit_set.webhook_url, alert_as_dict(alert))
        sent["webhook"] = True
    return sent


def _post_json(url: str, payload: dict) -> None:
    import urllib.request

    request = urllib.request.Request(url, data=json.dumps(payload).encode(), method="POST",
                                     headers={"Content-Type": "application/json", "User-Agent": "bifrost-risk"})
    with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310 - URL set by the owner
        response.read()


def _alert_text(alert: models.RiskAlert) -> str:
    return (f"{alert.severity.upper()} {alert.rule}\n{alert.message}\n\nfirst seen {alert.first_seen.isoformat()}, "
            f"{alert.occurrences} occurrence(s).\nNumbers: {json.dumps(alert.numbers)}")


def alert_as_dict(alert: models.RiskAlert) -> dict:
    return {"id": alert.pk, "rule": alert.rule, "severity": alert.severity, "message": alert.message,
            "numbers": alert.numbers, "portfolio": alert.portfolio_id, "household": alert.household_id,
            "first_seen": alert.first_seen.isoformat(), "last_seen": alert.last_seen.isoformat(),
            "occurrences": alert.occurrences, "acknowledged": alert.acknowledged,
            "acknowledged_at": alert.acknowledged_at.isoformat() if alert.acknowledged_at else None}


def alert_acknowledge(*, user, alert_id: int) -> models.RiskAlert:
    alert = selectors.alert_get(user=user, alert_id=alert_id)
    if not alert.acknowledged:
        alert.acknowledged = True
        alert.acknowledged_at = timezone.now()
        alert.acknowledged_by = user
        alert.save(update_fields=["acknowledged", "acknowledged_at", "acknowledged_by"])
        _push_on_commit(alert, "acknowledged")
    return alert


def alert_group(owner_id: int) -> str:
    """The channel-layer group of one user's portal sockets (see :mod:`bifrost_web.risk.consumers`)."""
    return f"risk-alerts.{owner_id}"


def _push_on_commit(alert: models.RiskAlert, event: str) -> None:
    # the payload is taken now (the row as this transaction leaves it) and sent only once it commits:
    # a rolled-back raise is never shown. ``robust``: a channel layer that is down is logged, and
    # neither the caller nor the other commit hooks (e-mail, webhook) fail with it.
    owner_id, payload = alert.owner_id, alert_as_dict(alert)
    transaction.on_commit(lambda: alert_push(owner_id=owner_id, event=event, alert=payload), robust=True)


def alert_push(*, owner_id: int, event: str, alert: dict) -> None:
    """Send an alert event (``raised``, ``bumped`` or ``acknowledged``) to the owner's open portal sockets.

    Goes through the channel layer (Redis in production, so a Celery worker or another web
    process reaches every socket; in-memory in the embedded default, the web process only).
    """
    from asgiref.sync import async_to_sync
    from channels.layers import get_channel_layer

    layer = get_channel_layer()
    if layer is None:
        return
    async_to_sync(layer.group_send)(alert_group(owner_id), {"type": "risk.alert", "event": event, "alert": alert})


# ------------------------------------------------------------------------------------------------
# Reports, revaluation, stress tests, backtests
# ------------------------------------------------------------------------------------------------

def _finite(value: Any) -> Any:
    if isinstance(value, float | np.floating):
        return float(value) if math.isfinite(value) else None
    if isinstance(value, dict):
        return {str(k): _finite(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_finite(v) for v in value]
    if isinstance(value, np.ndarray):
        return [_finite(v) for v in value.tolist()]
    if isinstance(value, np.integer):
        return int(value)
    return value


def _var_table(returns: pd.DataFrame, values: np.ndarray, nav: float, *, confidence: float, horizon_days: int,
               seed: int, fast: bool) -> list[dict]:
    rows = []
    estimators = [
        ("historical", lambda: historical_var(returns, values, confidence=confidence, horizon_days=horizon_days)),
        ("parametric", lambda: parametric_var(returns, values, confidence=confidence, horizon_days=horizon_days)),
        ("parametric_mean", lambda: parametric_var(returns, values, confidence=confidence, horizon_days=horizon_days,
                                                   include_mean=True)),
        ("cornish_fisher", lambda: cornish_fisher_var(returns, values, confidence=confidence,
                                                      horizon_days=horizon_days)),
        ("monte_carlo_normal", lambda: monte_carlo_var(values, covariance=np.cov(returns.to_numpy(), rowvar=False),
                                                       confidence=confidence, horizon_days=horizon_days,
                                                       n_scenarios=20_000 if fast else 100_000, seed=seed)),
        ("monte_carlo_t", lambda: monte_carlo_var(values, covariance=np.cov(returns.to_numpy(), rowvar=False),
                                                  confidence=confidence, horizon_days=horizon_days, distribution="t",
                                                  dof=5, n_scenarios=20_000 if fast else 100_000, seed=seed)),
    ]
    if returns.shape[0] >= 100:
        estimators.append(("filtered_historical", lambda: filtered_historical_var(
            returns, values, confidence=confidence, horizon_days=horizon_days, n_paths=2_000 if fast else 10_000,
            seed=seed)))
    for name, make in estimators:
        try:
            estimate = make()
        except (InvalidInput, np.linalg.LinAlgError, ValueError) as exc:
            rows.append({"method": name, "error": str(exc)})
            continue
        rows.append({"method": name, "var": estimate.var, "es": estimate.es, "var_pct": estimate.var / nav,
                     "es_pct": estimate.es / nav, "scaling": estimate.scaling, "observations": estimate.observations})
    return rows


def risk_report(*, portfolio: trading_models.Portfolio | None = None,
                household: trading_models.Household | None = None, confidence: float | None = None,
                horizon_days: int | None = None, fast: bool = False, include: tuple[str, ...] = ()) -> dict:
    """Every measure of a portfolio's (or household's) current book, as JSON-ready data.

    ``fast`` uses fewer Monte Carlo and bootstrap draws (for intraday revaluation).
    ``include`` adds ``"stress"`` and ``"backtest"`` sections.
    """
    limit_set = (selectors.limit_set_for_household(household=household) if household
                 else selectors.limit_set_for_portfolio(portfolio=portfolio))
    built = scope_book(portfolio=portfolio, household=household, limit_set=limit_set)
    book, model = built.book, built.model
    confidence = confidence or (limit_set.confidence if limit_set else 0.99)
    horizon_days = horizon_days or (limit_set.horizon_days if limit_set else 1)
    nav = book.nav
    info = model.info
    betas = {s: i["beta"] for s, i in info.items() if i.get("beta") is not None}
    groups = {name: {s: i[name] for s, i in info.items() if i.get(name)}
              for name in ("sector", "industry", "country", "currency")}
    exposures = exposure_report(book.values, nav=nav, betas=betas, groups=groups, top_n=10)
    report: dict[str, Any] = {
        "scope": "household" if household else "portfolio",
        "portfolio": portfolio.pk if portfolio else None, "household": household.pk if household else None,
        "name": household.name if household else portfolio.name, "as_of": timezone.now().isoformat(),
        "currency": built.portfolios[0].base_currency if built.portfolios else "USD",
        "nav": nav, "cash": built.cash, "confidence": confidence, "horizon_days": horizon_days,
        "positions": [{"symbol": s, "quantity": q, "price": book.prices[s], "value": book.values[s],
                       "weight": book.values[s] / nav, "sector": info.get(s, {}).get("sector", ""),
                       "beta": betas.get(s)} for s, q in sorted(book.quantities.items())],
        "exposures": exposures.as_dict(), "no_history": sorted(set(model.no_history)),
        "var": [], "decomposition": [], "correlation": None,
    }
    held = [s for s in book.values if s in model.returns.columns]
    if held and model.returns.shape[0] >= 20:
        returns = model.returns[held]
        values = np.array([book.values[s] for s in held])
        report["var"] = _var_table(returns, values, nav, confidence=confidence, horizon_days=horizon_days,
                                   seed=int(portfolio.pk if portfolio else household.pk), fast=fast)
        cov = np.cov(returns.to_numpy(), rowvar=False).reshape(len(held), len(held))
        parametric = parametric_decomposition(values, cov, confidence=confidence, horizon_days=horizon_days)
        historical = historical_decomposition(returns, values, confidence=confidence)
        report["decomposition"] = [
            {"symbol": s, "value": float(v), "marginal_var": float(pm), "component_var": float(pc),
             "component_pct": float(pc / parametric.var) if parametric.var else None,
             "historical_component_var": float(hc), "component_es": float(pe)}
            for s, v, pm, pc, hc, pe in zip(held, values, parametric.marginal, parametric.component,
                                            historical.component, parametric.es_component, strict=True)]
        report["decomposition"].sort(key=lambda r: -abs(r["component_var"]))
        if len(held) >= 2:
            corr = returns.corr()
            order = clustered_order(corr.to_numpy())
            ordered = [held[i] for i in order]
            _, shrinkage = ledoit_wolf_covariance(returns)
            report["correlation"] = {
                "symbols": ordered, "matrix": corr.loc[ordered, ordered].round(4).to_numpy().tolist(),
                "spearman": returns.corr(method="spearman").loc[ordered, ordered].round(4).to_numpy().tolist(),
                "diversification_ratio": diversification_ratio(values, cov),
                "effective_number_of_bets": effective_number_of_bets(values, cov),
                "ledoit_wolf_shrinkage": shrinkage, "observations": int(returns.shape[0])}
    if built.nav_index is not None and len(built.nav_index) >= 2:
        report["drawdown"] = drawdown_stats(built.nav_index).as_dict()
    if held:
        closes = model.closes(held).iloc[-(limit_set.lookback_days if limit_set else 250):]
        if len(closes) >= 2:
            table = position_drawdowns(closes.dropna(axis=1, how="all").ffill().dropna())
            report["position_drawdowns"] = {s: {"current": float(r["current"]), "maximum": float(r["maximum"]),
                                                "current_duration": int(r["current_duration"])}
                                            for s, r in table.iterrows()}
    report["limits"] = limit_usage(domain_limit_set(limit_set), book) if limit_set else []
    if "stress" in include:
        report["stress"] = _stress_all(book, betas)
    if "backtest" in include and portfolio is not None:
        try:
            report["backtest"] = backtest_for(portfolio=portfolio, confidence=confidence)
        except InvalidInput as exc:
            report["backtest"] = {"error": exc.message}
    owner = built.portfolios[0].owner if built.portfolios else None
    if owner is not None:
        alerts = models.RiskAlert.objects.filter(owner=owner, acknowledged=False)
        alerts = alerts.filter(household=household) if household else alerts.filter(portfolio=portfolio)
        report["alerts"] = [alert_as_dict(a) for a in alerts.order_by("-last_seen")[:50]]
    return _finite(report)


def _stress_all(book: RiskBook, betas: dict[str, float]) -> list[dict]:
    rows = [run_scenario(book.values, name, nav=book.nav, betas=betas).as_dict() for name in HISTORICAL_SCENARIOS]
    return rows


def stress_run(*, user, portfolio_id: int, scenarios: list[str] | None = None, index_shocks: list[float] = (),
               sector_shocks: dict[str, float] | None = None, volatility_factor: float | None = None,
               correlation_to_one: bool = False, factor_moves: dict[str, float] | None = None,
               reverse_loss_pct: float | None = None) -> dict:
    """Historical scenarios, hypothetical shocks and a reverse stress test on the portfolio's book today."""
    portfolio = trading_selectors.portfolio_get(user=user, portfolio_id=portfolio_id)
    limit_set = selectors.limit_set_for_portfolio(portfolio=portfolio)
    built = scope_book(portfolio=portfolio, limit_set=limit_set)
    book, model = built.book, built.model
    betas = {s: i["beta"] for s, i in model.info.items() if i.get("beta") is not None}
    names = list(HISTORICAL_SCENARIOS) if scenarios is None else list(scenarios)
    out: dict[str, Any] = {"nav": book.nav, "beta_proxy": sorted(s for s in book.values if s not in betas),
                           "historical": [run_scenario(book.values, n, nav=book.nav, betas=betas).as_dict()
                                          for n in names]}
    out["index"] = [index_shock(book.values, float(x), betas=betas, nav=book.nav).as_dict() for x in index_shocks]
    if sector_shocks:
        out["sector"] = sector_shock(book.values, book.sectors, sector_shocks, nav=book.nav).as_dict()
    if factor_moves:
        from bifrost.risk import factor_shock

        loadings = {s: {"market": b} for s, b in betas.items()}
        out["factor"] = factor_shock(book.values, loadings, factor_moves, nav=book.nav).as_dict()
    held = [s for s in book.values if s in model.returns.columns]
    if held and model.returns.shape[0] >= 20:
        cov = np.cov(model.returns[held].to_numpy(), rowvar=False).reshape(len(held), len(held))
        values = np.array([book.values[s] for s in held])
        if volatility_factor is not None:
            out["volatility"] = volatility_shock(values, cov, float(volatility_factor), confidence=book.confidence)
        if correlation_to_one:
            out["correlation"] = correlation_shock(values, cov, confidence=book.confidence)
        if reverse_loss_pct is not None:
            loss = float(reverse_loss_pct) * book.nav
            reverse = reverse_stress_covariance(values, cov, loss)
            out["reverse"] = {"loss": loss, "sigmas": reverse["sigmas"], "probability": reverse["probability"],
                              "scenario": dict(zip(held, reverse["scenario"].tolist(), strict=True)),
                              "index_move": reverse_stress_index(book.values, loss, betas=betas)}
    elif reverse_loss_pct is not None:
        loss = float(reverse_loss_pct) * book.nav
        out["reverse"] = {"loss": loss, "index_move": reverse_stress_index(book.values, loss, betas=betas)}
    return _finite(out)


def backtest_for(*, portfolio: trading_models.Portfolio, confidence: float = 0.99, window: int = 250) -> dict:
    """Backtest of the platform's one-day historical VaR on the portfolio's own history.

    With at least ``window + 20`` daily snapshots the realised time-weighted returns are used;
    otherwise the current holdings are replayed over their price history (``basis`` says which).
    """
    daily = _nav_index([portfolio])
    basis = "snapshots"
    pnl = None
    if len(daily) >= window + 21:
        nav, flow = daily["nav"].to_numpy(), daily["net_flow"].to_numpy()
        pnl = (nav[1:] - flow[1:]) / nav[:-1] - 1
    else:
        basis = "current holdings"
        quantities = {s: float(q) for s, q in (portfolio.position_quantities or {}).items() if float(q)}
        if not quantities:
            raise InvalidInput("nothing to backtest: no snapshots history and no positions")
        closes = market.MarketModel().closes(quantities).dropna()
        if len(closes) < window + 21:
            window = max(20, min(window, len(closes) // 2))
        if len(closes) < window + 2:
            raise InvalidInput(f"need at least {window + 2} days of prices to backtest VaR, have {len(closes)}")
        values = np.array([quantities[s] * closes[s].iloc[-1] for s in closes.columns])
        pnl = closes.pct_change().iloc[1:].to_numpy() @ (values / np.abs(values).sum())
    forecasts = rolling_var_forecasts(pnl, window=window, confidence=confidence)
    result = var_backtest(pnl[window:], forecasts, confidence=confidence)
    return _finite({"basis": basis, "window": window, **result.as_dict()})


def _dedup_key(prefix: str, row: dict) -> str:
    return f"{prefix}:{row['kind']}:{row.get('subject') or ''}:{row['status']}"


def risk_revalue(*, portfolio_id: int, trigger: str = "schedule", now: datetime | None = None) -> models.RiskSnapshot:
    """Revalue a portfolio's risk, store a snapshot, raise alerts for crossed levels and VaR jumps,
    and trip the kill switch on a hard drawdown breach (portfolio or household)."""
    now = now or timezone.now()
    portfolio = trading_models.Portfolio.objects.select_related("owner", "household").get(pk=portfolio_id)
    report = risk_report(portfolio=portfolio, fast=True)
    historical = next((r for r in report["var"] if r.get("method") == "historical" and "var" in r), None)
    previous = portfolio.risk_snapshots.order_by("-ts").first()
    snapshot = models.RiskSnapshot.objects.create(
        portfolio=portfolio, ts=now, trigger=trigger, nav=Decimal(str(round(report["nav"], 6))),
        var=historical["var"] if historical else None, es=historical["es"] if historical else None, report=report)
    scopes = [("portfolio", portfolio, None, report["limits"])]
    if portfolio.household_id:
        household_set = selectors.limit_set_for_household(household=portfolio.household)
        if household_set is not None and household_set.active:
            built = scope_book(household=portfolio.household, limit_set=household_set, now=now)
            scopes.append(("household", None, portfolio.household,
                           limit_usage(domain_limit_set(household_set), built.book)))
    for kind, p, h, rows in scopes:
        prefix = f"p{p.pk}" if p else f"h{h.pk}"
        label = f"portfolio {p.name}" if p else f"household {h.name}"
        for row in rows:
            if row["status"] not in ("soft", "hard"):
                continue
            level = row["hard"] if row["status"] == "hard" else row["soft"]
            subject = f" {row['subject']}" if row.get("subject") else ""
            alert_raise(owner=portfolio.owner, portfolio=p, household=h, rule=row["kind"],
                        severity="critical" if row["status"] == "hard" else "warning",
                        message=f"{label}: {row['kind']}{subject} at {row['value']:.4g}, "
                                f"{'hard' if row['status'] == 'hard' else 'soft'} level {level:.4g}",
                        numbers=row, dedup_key=_dedup_key(prefix, row), now=now)
            if row["status"] == "hard" and row["kind"] in {k.value for k in DRAWDOWN_KINDS}:
                targets = [portfolio] if kind == "portfolio" else list(h.portfolios.all())
                for target in targets:
                    kill_switch_trip(portfolio_id=target.pk,
                                     reason=f"risk: {label} {row['kind']} {row['value']:.2%} over {level:.2%}")
    jump = float(getattr(settings, "BIFROST_RISK_VAR_JUMP", 0.5))
    if previous is not None and previous.var and snapshot.var and snapshot.var > previous.var * (1 + jump):
        alert_raise(owner=portfolio.owner, portfolio=portfolio, rule="var_jump", severity="warning",
                    message=f"portfolio {portfolio.name}: 1-day VaR rose from {previous.var:,.2f} to "
                            f"{snapshot.var:,.2f} (+{snapshot.var / previous.var - 1:.0%})",
                    numbers={"before": previous.var, "after": snapshot.var}, dedup_key=f"p{portfolio.pk}:var_jump",
                    now=now)
    return snapshot


def portfolios_to_watch() -> list[int]:
    """Portfolios with an active limit set of their own or through their household."""
    own = models.LimitSet.objects.filter(active=True, portfolio__isnull=False).values_list("portfolio_id", flat=True)
    via_household = trading_models.Portfolio.objects.filter(
        household__risk_limit_set__active=True).values_list("pk", flat=True)
    return sorted(set(own) | set(via_household))


def daily_report_date(now: datetime | None = None) -> date:
    return (now or datetime.now(UTC)).astimezone(NEW_YORK).date()


def daily_report_store(*, portfolio_id: int, day: date) -> models.RiskSnapshot:
    """Store the full daily report (with stress tests and the VaR backtest) as a ``daily`` snapshot; idempotent per day."""
    portfolio = trading_models.Portfolio.objects.get(pk=portfolio_id)
    report = risk_report(portfolio=portfolio, include=("stress", "backtest"))
    historical = next((r for r in report["var"] if r.get("method") == "historical" and "var" in r), None)
    end_of_day = datetime.combine(day, datetime.max.time().replace(microsecond=0), NEW_YORK).astimezone(UTC)
    with transaction.atomic():
        models.RiskSnapshot.objects.filter(portfolio=portfolio, trigger="daily", ts=end_of_day).delete()
        return models.RiskSnapshot.objects.create(
            portfolio=portfolio, ts=end_of_day, trigger="daily", nav=Decimal(str(round(report["nav"], 6))),
            var=historical["var"] if historical else None, es=historical["es"] if historical else None,
            report=report)
