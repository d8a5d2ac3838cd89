"""Compliance use cases: tax lots and wash sales from fills, day-trade status, pre-trade
provider, settings, alerts and the audit trail.

Tax results are recomputed from the household's fills on each request (fills are the
source of truth; a household of a few thousand trades replays in milliseconds). Every
account of the owner's household takes part in wash-sale matching, IRAs included.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from typing import Any

from django.db import IntegrityError, connection, transaction

from bifrost.compliance import (
    AccountProfile,
    IdenticalGroups,
    SplitAction,
    TaxLotMethod,
    TaxResult,
    TaxTrade,
)
from bifrost.compliance import compute_tax_lots as _compute
from bifrost.compliance.audit import GENESIS_HASH, ChainBreak, entry_hash, verify_chain
from bifrost.compliance.daytrading import DayTradingRegime, PdtStatus, pdt_status, regime_for
from bifrost.compliance.positions import RestrictedListCheck
from bifrost.compliance.pretrade import (
    DayTradeCheck,
    GoodFaithCheck,
    IntradayMarginCheck,
    WashSaleCheck,
)
from bifrost.compliance.tax import WASH_WINDOW_DAYS
from bifrost.core.errors import InvalidInput, NotFoundError
from bifrost.core.money import decimal_from_float
from bifrost.portfolio.lots import NEW_YORK, trade_date
from bifrost_web.caching import VersionedCache
from bifrost_web.compliance import models
from bifrost_web.rows import RowReader
from bifrost_web.trading import models as tr_models
from bifrost_web.trading import selectors as tr_selectors

_ZERO = Decimal(0)
_AUDIT_LOCK = 0x62_69_66_72_6F_73_74  # "bifrost": the advisory lock that orders audit appends


# ------------------------------------------------------------------------------------------
# Trades of a household, as plain domain records
# ------------------------------------------------------------------------------------------

def household_portfolios(portfolio: tr_models.Portfolio) -> list[tr_models.Portfolio]:
    """The portfolio and every other portfolio of the same owner's household."""
    if portfolio.household_id is None:
        return [portfolio]
    return list(tr_models.Portfolio.objects.filter(owner_id=portfolio.owner_id, household_id=portfolio.household_id)
                .order_by("pk"))


# Which portfolios make up a household, read on every order: kept in process, reloaded everywhere
# when a portfolio is saved or deleted (membership changes that way; positions and cash, which
# the ledger writes with queryset updates, are not kept here).
household_members = VersionedCache("compliance:households", seconds=60.0)


def household_ids(portfolio: tr_models.Portfolio) -> tuple[int, ...]:
    if portfolio.household_id is None:
        return (portfolio.pk,)
    return household_members.get((portfolio.owner_id, portfolio.household_id), lambda: tuple(
        tr_models.Portfolio.objects.filter(owner_id=portfolio.owner_id, household_id=portfolio.household_id)
        .order_by("pk").values_list("pk", flat=True)))


def portfolio_changed(sender=None, **kwargs) -> None:
    """Signal receiver: drop the household memberships now and again when the write commits
    (a process that read the old membership before the commit stored it under the first bump)."""
    household_members.changed()
    transaction.on_commit(household_members.changed, robust=True)


def account_name(portfolio: tr_models.Portfolio) -> str:
    return portfolio.name


def _lot_selections(portfolios: Iterable[tr_models.Portfolio]) -> dict[tuple[int, str], tuple[str, ...]]:
    # The lots each closing fill relieved in the ledger, in order: an explicit selection, or an
    # order's lot override resolved when the fill was posted (each lot whole but the last).
    out = {}
    rows = tr_models.LedgerEntry.objects.filter(portfolio__in=list(portfolios), kind="fill") \
        .values_list("portfolio_id", "entry_id", "payload")
    for portfolio_id, entry_id, payload in rows:
        selection = (payload or {}).get("_lot_selection") or []
        if selection:
            out[portfolio_id, entry_id] = tuple(item["lot_id"] for item in selection)
    return out


def trades_for(portfolios: Iterable[tr_models.Portfolio]) -> list[TaxTrade]:
    """Convert the portfolios' fills into :class:`TaxTrade` records.

    A fill is a buy or sell; whether it opens or covers a short follows from the running
    position. A sell larger than the long position becomes a sale plus a short sale
    (ids ``<fill>`` and ``<fill>:short``), and a buy larger than a short likewise.
    """
    portfolios = list(portfolios)
    names = {p.pk: account_name(p) for p in portfolios}
    selections = _lot_selections(portfolios)
    rows = tr_models.Fill.objects.filter(portfolio__in=portfolios).order_by("ts_event", "id").values_list(
        "portfolio_id", "fill_id", "symbol", "side", "quantity", "price", "commission", "fees", "ts_event",
        "currency")
    position: dict[tuple[int, str], Decimal] = {}
    trades: list[TaxTrade] = []
    for pid, fill_id, symbol, side, quantity, price, commission, fees, ts, currency in rows:
        key = (pid, symbol)
        held = position.get(key, _ZERO)
        total_fees = commission + fees
        common = {"account": names[pid], "ts": ts, "symbol": symbol, "price": price, "currency": currency}
        if side == "buy":
            cover = min(quantity, -held) if held < 0 else _ZERO
            legs = [(fill_id, "buy_to_cover", cover), (f"{fill_id}:long" if cover else fill_id, "buy",
                                                       quantity - cover)]
        else:
            sell = min(quantity, held) if held > 0 else _ZERO
            legs = [(fill_id, "sell", sell), (f"{fill_id}:short" if sell else fill_id, "sell_short", quantity - sell)]
        fees_left = total_fees
        for trade_id, action, leg_quantity in legs:
            if leg_quantity <= 0:
                continue
            last = leg_quantity == quantity or trade_id.endswith((":long", ":short"))
            leg_fees = fees_left if last else (total_fees * leg_quantity / quantity).quantize(Decimal("0.01"))
            fees_left -= leg_fees
            named = selections.get((pid, fill_id), ()) if action in ("sell", "buy_to_cover") else ()
            trades.append(TaxTrade(trade_id=trade_id, action=action, quantity=leg_quantity, fees=leg_fees,
                                   lot_id=named[0] if len(named) == 1 else None,
                                   lot_ids=named if len(named) > 1 else (), **common))
        position[key] = held + (quantity if side == "buy" else -quantity)
    return trades


def splits_for(portfolios: Iterable[tr_models.Portfolio]) -> list[SplitAction]:
    portfolios = list(portfolios)
    names = {p.pk: account_name(p) for p in portfolios}
    out = []
    for pid, payload in tr_models.LedgerEntry.objects.filter(portfolio__in=portfolios).values_list(
            "portfolio_id", "payload"):
        if (payload or {}).get("_type") == "Split":
            out.append(SplitAction(symbol=payload["symbol"], ts=datetime.fromisoformat(payload["ts_event"]),
                                   ratio=Decimal(payload["ratio"]), account=names[pid]))
    return out


def settings_for(portfolio: tr_models.Portfolio) -> models.ComplianceSettings:
    """The portfolio's settings, or unsaved defaults (reading never writes)."""
    found = models.ComplianceSettings.objects.filter(portfolio=portfolio).first()
    return found or models.ComplianceSettings(portfolio=portfolio)


def _method(portfolio: tr_models.Portfolio, settings: models.ComplianceSettings) -> TaxLotMethod:
    if settings.tax_lot_method != models.ComplianceSettings.LotMethod.PORTFOLIO:
        return TaxLotMethod(settings.tax_lot_method)
    return TaxLotMethod(portfolio.lot_method)


def profiles_for(portfolios: Iterable[tr_models.Portfolio]) -> dict[str, AccountProfile]:
    portfolios = list(portfolios)
    stored = {s.portfolio_id: s for s in models.ComplianceSettings.objects.filter(portfolio__in=portfolios)}
    out = {}
    for p in portfolios:
        settings = stored.get(p.pk) or models.ComplianceSettings(portfolio=p)
        out[account_name(p)] = AccountProfile(tax_advantaged=p.tax_status == "ira", lot_method=_method(p, settings))
    return out


def identical_groups_for(owner) -> IdenticalGroups:
    return IdenticalGroups.of(models.IdenticalGroup.objects.filter(owner=owner).values_list("symbols", flat=True))


def household_tax(portfolio: tr_models.Portfolio, *, extra: Iterable[TaxTrade] = ()) -> TaxResult:
    """Tax lots and wash sales of the portfolio's household."""
    portfolios = household_portfolios(portfolio)
    return _compute([*trades_for(portfolios), *extra], splits=splits_for(portfolios),
                    accounts=profiles_for(portfolios), identical=identical_groups_for(portfolio.owner),
                    currency=portfolio.base_currency)


def tax_report(*, user, portfolio_id: int) -> tuple[tr_models.Portfolio, TaxResult]:
    portfolio = tr_selectors.portfolio_get(user=user, portfolio_id=portfolio_id)
    return portfolio, household_tax(portfolio)


def last_prices(symbols: Iterable[str]) -> dict[str, Decimal]:
    """Last stored close (1m or 1d bars) per symbol; symbols without bars are left out."""
    from bifrost_web.marketdata.models import Bar

    out = {}
    for symbol in set(symbols):
        close = Bar.objects.filter(instrument__symbol=symbol, timeframe__in=["1m", "1d"]).order_by("-ts") \
            .values_list("close", flat=True).first()
        if close is not None:
            out[symbol] = decimal_from_float(close)
    return out


def portfolio_equity(portfolio: tr_models.Portfolio, prices: dict[str, Decimal] | None = None) -> Decimal | None:
    """Cash plus positions at last prices; ``None`` when a position has no price."""
    positions = {s: Decimal(q) for s, q in (portfolio.position_quantities or {}).items() if Decimal(q)}
    prices = prices if prices is not None else last_prices(positions)
    if any(s not in prices for s in positions):
        return None
    return portfolio.cash_balance + sum((q * prices[s] for s, q in positions.items()), _ZERO)


def _regime(portfolio: tr_models.Portfolio, settings: models.ComplianceSettings, day: date) -> DayTradingRegime:
    if settings.regime == models.ComplianceSettings.Regime.AUTO:
        return regime_for(day, adopted_on=settings.intraday_adopted_on)
    return DayTradingRegime(settings.regime)


def pdt_report(*, user, portfolio_id: int, as_of: date | None = None) -> dict[str, Any]:
    """Day-trading status: the regime, and under the legacy rule the 5-day count and designation."""
    portfolio = tr_selectors.portfolio_get(user=user, portfolio_id=portfolio_id)
    settings = settings_for(portfolio)
    as_of = as_of or trade_date(datetime.now(UTC))
    regime = _regime(portfolio, settings, as_of)
    equity = portfolio_equity(portfolio)
    trades = trades_for([portfolio])
    status: PdtStatus = pdt_status(trades, as_of, method=settings.counting_method, equity=equity,
                                   account=account_name(portfolio))
    buying_power = None
    positions = {s: Decimal(q) for s, q in (portfolio.position_quantities or {}).items() if Decimal(q)}
    prices = last_prices(positions)
    if equity is not None and all(s in prices for s in positions):
        from bifrost.compliance.daytrading import day_trading_buying_power, intraday_margin

        maintenance = intraday_margin(cash=portfolio.cash_balance, positions=positions, prices=prices).requirement
        buying_power = day_trading_buying_power(equity=equity, maintenance_requirement=maintenance)
    return {"portfolio": portfolio.pk, "account_type": portfolio.account_type, "regime": regime.value,
            "counting_method": settings.counting_method, "status": status,
            "day_trading_buying_power": None if buying_power is None else str(buying_power)}


# ------------------------------------------------------------------------------------------
# Pre-trade provider
# ------------------------------------------------------------------------------------------

class _Deferred:
    """A pre-trade check built only for an order that can trip it.

    ``needed(order, context)`` is a cheap test (one indexed query at most) that is true
    whenever the real check could say anything but accept; otherwise the order is accepted
    without loading the household's trade history. The real check is built once, on the
    first order that needs it.
    """

    def __init__(self, rule: str, build: Callable[[], Any], needed: Callable[[Any, Any], bool]) -> None:
        self.rule = rule
        self._build = build
        self._needed = needed
        self._check = None

    def check(self, order, context):
        from bifrost.orders.pretrade import CheckResult

        if not self._needed(order, context):
            return CheckResult.accept()
        if self._check is None:
            self._check = self._build()
        return self._check.check(order, context)


def _last_fills(ids: Iterable[int], symbols: Iterable[str], since: datetime) -> dict[tuple[int, str], datetime]:
    """The latest fill at or after ``since`` of each (portfolio, symbol) among ``ids`` x ``symbols``."""
    from django.utils.dateparse import parse_datetime

    ids, symbols = sorted(set(ids)), sorted(set(symbols))
    with connection.cursor() as cursor:  # hand-written: it runs on every order that could wash or day-trade
        cursor.execute(
            f"SELECT portfolio_id, symbol, MAX(ts_event) FROM trading_fill "
            f"WHERE portfolio_id IN ({', '.join(['%s'] * len(ids))}) AND symbol IN ({', '.join(['%s'] * len(symbols))}) "
            f"AND ts_event >= %s GROUP BY portfolio_id, symbol",
            [*ids, *symbols, connection.ops.adapt_datetimefield_value(since)])
        rows = cursor.fetchall()
    out = {}
    for pid, symbol, last in rows:
        if isinstance(last, str):  # SQLite hands back its stored text (naive UTC)
            last = parse_datetime(last).replace(tzinfo=UTC)
        out[(pid, symbol)] = last
    return out


# Compliance settings, the owner's lists and identical-symbol groups, read on every order: kept in
# process, reloaded everywhere when any of them is saved or deleted (signals in ComplianceConfig.ready()).
pretrade_config = VersionedCache("compliance:pretrade-config")


def _pretrade_config(portfolio: tr_models.Portfolio):
    def load():
        listed = list(models.ListedSymbol.objects.filter(owner_id=portfolio.owner_id)
                      .values_list("symbol", "kind", "reason"))
        groups = IdenticalGroups.of(models.IdenticalGroup.objects.filter(owner_id=portfolio.owner_id)
                                    .values_list("symbols", flat=True))
        stored = models.ComplianceSettings.objects.filter(portfolio_id=portfolio.pk).first()
        return stored or models.ComplianceSettings(portfolio_id=portfolio.pk), listed, groups

    return pretrade_config.get((portfolio.pk, portfolio.owner_id), load)


def pretrade_provider(portfolio: tr_models.Portfolio, request, now: datetime, *,
                      lot_method: str | None = None) -> list:
    """Checks the compliance service adds to an order of ``portfolio`` (registered in ready()).

    ``lot_method`` previews a per-sale override of the lot method (a what-if); an order's own
    override (``request.lot_method`` / ``lot_ids``) is honoured by the wash-sale check. The wash-sale and settlement checks replay the household's
    trades, so they are deferred (:class:`_Deferred`) and only run for orders that could
    trip them: a wash sale needs a fill of a substantially identical symbol in the household
    within the last 30 days (a loss sale before a buy, a purchase before a sale); a
    good-faith violation needs a sale; a day trade needs a fill of the symbol today.
    """
    settings, listed, groups = _pretrade_config(portfolio)
    checks: list = []
    if listed:
        checks.append(RestrictedListCheck(
            restricted={s: r for s, k, r in listed if k == models.ListedSymbol.Kind.RESTRICTED},
            watch={s: r for s, k, r in listed if k == models.ListedSymbol.Kind.WATCH}))
    off = models.ComplianceSettings.Action.OFF
    ids = household_ids(portfolio)
    name = account_name(portfolio)
    memo: dict[str, Any] = {}
    wash_since = now - timedelta(days=WASH_WINDOW_DAYS + 1)

    def portfolios() -> list[tr_models.Portfolio]:  # full rows only for the checks that replay trades
        if "portfolios" not in memo:
            memo["portfolios"] = household_portfolios(portfolio)
        return memo["portfolios"]

    def trades() -> list[TaxTrade]:
        if "trades" not in memo:
            memo["trades"] = trades_for(portfolios())
        return memo["trades"]

    def identical(symbol: str) -> set[str]:
        key = groups.key(symbol)
        return {symbol.upper(), *(s for group in groups.groups if key in group for s in group)}

    def last_fills(order) -> dict[tuple[int, str], datetime]:
        # one query answers both cheap tests: household fills of identical symbols in the wash
        # window, and this portfolio's fills of the symbol today (inside that window)
        if memo.get("fills_for") != order.symbol:
            memo["fills"] = _last_fills(ids, identical(order.symbol), wash_since)
            memo["fills_for"] = order.symbol
        return memo["fills"]

    if settings.wash_sale_action != off:
        def wash_needed(order, context) -> bool:
            members = identical(order.symbol)
            return any(symbol in members for _, symbol in last_fills(order))

        checks.append(_Deferred("wash_sale", lambda: WashSaleCheck(
            trades=trades(), account=name, accounts=profiles_for(portfolios()), identical=groups,
            lot_method=lot_method, block=settings.wash_sale_action == models.ComplianceSettings.Action.BLOCK),
            wash_needed))
    if portfolio.account_type == "cash" and settings.day_trade_action != off:
        checks.append(_Deferred("cash_account_settlement", lambda: GoodFaithCheck(
            trades=[t for t in trades() if t.account == name], deposits=cash_flows(portfolio),
            block=settings.day_trade_action == models.ComplianceSettings.Action.BLOCK),
            lambda order, context: order.side.value == "sell"))
    if portfolio.account_type == "margin" and settings.day_trade_action != off:
        regime = _regime(portfolio, settings, trade_date(now))
        if regime is DayTradingRegime.LEGACY_PDT:
            today = datetime.combine(trade_date(now), time(0), tzinfo=NEW_YORK).astimezone(UTC)
            checks.append(_Deferred("pattern_day_trader", lambda: DayTradeCheck(
                trades=[t for t in trades() if t.account == name], account=name, equity=portfolio_equity(portfolio),
                method=settings.counting_method,
                block=settings.day_trade_action == models.ComplianceSettings.Action.BLOCK),
                lambda order, context: last_fills(order).get((portfolio.pk, order.symbol.upper()),
                                                          wash_since) >= today))
        else:
            positions = [s for s, q in (portfolio.position_quantities or {}).items() if Decimal(q)]
            checks.append(IntradayMarginCheck(prices=last_prices(positions)))
    return checks


def order_check(*, user, portfolio_id: int, request, now: datetime | None = None,
                lot_method: str | None = None) -> dict[str, Any]:
    """What-if: run the compliance checks on an order (optionally with a lot-method override) without
    submitting it."""
    from bifrost.orders.pretrade import PreTradeChain
    from bifrost_web.trading.services import pretrade_context

    portfolio = tr_selectors.portfolio_get(user=user, portfolio_id=portfolio_id)
    now = now or datetime.now(UTC)
    chain = PreTradeChain(pretrade_provider(portfolio, request, now, lot_method=lot_method))
    result = chain.check(request, pretrade_context(portfolio=portfolio, request=request, now=now))
    return {"decision": result.decision.value, "findings": [f.as_dict() for f in result.findings]}


# ------------------------------------------------------------------------------------------
# Settings and groups
# ------------------------------------------------------------------------------------------

_SETTING_FIELDS = ("wash_sale_action", "day_trade_action", "tax_lot_method", "counting_method", "regime",
                   "intraday_adopted_on", "basis_reporting")


def compliance_settings_update(*, user, portfolio_id: int, **changes: Any) -> models.ComplianceSettings:
    """Change a portfolio's rule settings (validated against the choices); audited."""
    portfolio = tr_selectors.portfolio_get(user=user, portfolio_id=portfolio_id)
    unknown = sorted(set(changes) - set(_SETTING_FIELDS))
    if unknown:
        raise InvalidInput(f"unknown compliance settings {', '.join(unknown)}; allowed: {', '.join(_SETTING_FIELDS)}")
    with transaction.atomic():
        settings, _ = models.ComplianceSettings.objects.select_for_update().get_or_create(portfolio=portfolio)
        before = {f: _json(getattr(settings, f)) for f in _SETTING_FIELDS}
        for field, value in changes.items():
            if field != "intraday_adopted_on":
                choices = {c for c, _ in models.ComplianceSettings._meta.get_field(field).choices}
                if value not in choices:
                    raise InvalidInput(f"{field} must be one of {', '.join(sorted(choices))}, was {value!r}")
            setattr(settings, field, value)
        if settings.intraday_adopted_on is not None:
            regime_for(settings.intraday_adopted_on, adopted_on=settings.intraday_adopted_on)  # validates the date
        settings.save()
        audit_record(actor=user.username, action="compliance.settings.update", object_type="portfolio",
                     object_id=str(portfolio.pk), before=before,
                     after={f: _json(getattr(settings, f)) for f in _SETTING_FIELDS})
    return settings


def identical_group_set(*, user, name: str, symbols: list[str]) -> models.IdenticalGroup:
    """Create or replace a substantially-identical group of the user's."""
    name = (name or "").strip()
    if not name:
        raise InvalidInput("group name must not be empty")
    cleaned = sorted({str(s).strip().upper() for s in symbols if str(s).strip()})
    others = models.IdenticalGroup.objects.filter(owner=user).exclude(name=name)
    IdenticalGroups.of([*others.values_list("symbols", flat=True), cleaned])  # validates: >=2, no overlap
    with transaction.atomic():
        group, _ = models.IdenticalGroup.objects.update_or_create(owner=user, name=name,
                                                                  defaults={"symbols": cleaned})
        audit_record(actor=user.username, action="compliance.identical_group.set", object_type="identical_group",
                     object_id=name, after={"symbols": cleaned})
    return group


def identical_group_delete(*, user, name: str) -> None:
    deleted, _ = models.IdenticalGroup.objects.filter(owner=user, name=name).delete()
    if not deleted:
        raise NotFoundError(f"identical group {name!r} not found")
    audit_record(actor=user.username, action="compliance.identical_group.delete", object_type="identical_group",
                 object_id=name)


# ------------------------------------------------------------------------------------------
# Alerts
# ------------------------------------------------------------------------------------------

COMPLIANCE_RULES = ("wash_sale", "day_trade_count", "margin_deficit", "ownership_threshold", "restricted_symbol",
                    "override_used", "good_faith_violation")


def alert_raise(*, owner, kind: str, message: str, dedup_key: str, severity: str = "warning",
                portfolio: tr_models.Portfolio | None = None, numbers: dict | None = None,
                now: datetime | None = None):
    """Raise a compliance alert in the platform's alert system (the risk service's alerts).

    One open alert per ``compliance:<dedup_key>``: repeats bump its occurrences; new alerts
    are delivered by e-mail (critical) and webhook as the risk service configures.
    """
    from bifrost_web.risk import services as risk_services

    if kind not in COMPLIANCE_RULES:
        raise InvalidInput(f"compliance alert kind must be one of {', '.join(COMPLIANCE_RULES)}, was {kind!r}")
    if severity not in ("info", "warning", "critical"):
        raise InvalidInput(f"severity must be info, warning or critical, was {severity!r}")
    alert, _created = risk_services.alert_raise(owner=owner, rule=kind, severity=severity, message=message,
                                                dedup_key=f"compliance:{dedup_key}"[:200], numbers=numbers,
                                                portfolio=portfolio, now=now)
    return alert


def alerts_for(*, user, open_only: bool = False):
    """The user's compliance alerts (risk alerts with a compliance rule)."""
    from bifrost_web.risk.models import RiskAlert

    qs = RiskAlert.objects.filter(owner=user, rule__in=COMPLIANCE_RULES)
    return (qs.filter(acknowledged=False) if open_only else qs).order_by("acknowledged", "-last_seen", "-id")


def alert_acknowledge(*, user, alert_id: int):
    from bifrost_web.risk import services as risk_services
    from bifrost_web.risk.models import RiskAlert

    if not RiskAlert.objects.filter(owner=user, pk=alert_id, rule__in=COMPLIANCE_RULES).exists():
        raise NotFoundError(f"alert {alert_id} not found")
    alert = risk_services.alert_acknowledge(user=user, alert_id=alert_id)
    audit_record(actor=user.username, action="compliance.alert.acknowledge", object_type="alert",
                 object_id=str(alert.pk))
    return alert


def compliance_scan(*, portfolio_id: int, as_of: date | None = None) -> dict[str, int]:
    """Raise alerts for the portfolio's wash sales and legacy day-trade status (idempotent)."""
    portfolio = tr_models.Portfolio.objects.get(pk=portfolio_id)
    name = account_name(portfolio)
    result = household_tax(portfolio)
    raised = 0
    for wash in result.wash_sales:
        if wash.account != name:
            continue
        alert_raise(owner=portfolio.owner, portfolio=portfolio, kind="wash_sale",
                    message=f"wash sale: {wash.symbol} sale {wash.loss_trade_id} on {wash.sale_date} disallowed "
                            f"${wash.disallowed:,.2f} (replacement {wash.replacement_trade_id} in "
                            f"{wash.replacement_account})",
                    dedup_key=f"wash_sale:{portfolio.pk}:{wash.loss_trade_id}:{wash.loss_lot_id}:"
                              f"{wash.replacement_trade_id}",
                    numbers={"disallowed": str(wash.disallowed)})
        raised += 1
    if portfolio.account_type == "margin":
        settings = settings_for(portfolio)
        as_of = as_of or trade_date(datetime.now(UTC))
        if _regime(portfolio, settings, as_of) is DayTradingRegime.INTRADAY_MARGIN:
            from bifrost.compliance.daytrading import intraday_margin

            positions = {s: Decimal(q) for s, q in (portfolio.position_quantities or {}).items() if Decimal(q)}
            prices = last_prices(positions)
            if all(s in prices for s in positions):
                state = intraday_margin(cash=portfolio.cash_balance, positions=positions, prices=prices)
                if state.deficit > 0:
                    alert_raise(owner=portfolio.owner, portfolio=portfolio, kind="margin_deficit",
                                severity="critical",
                                message=f"intraday margin deficit ${state.deficit:,.2f}: requirement "
                                        f"${state.requirement:,.2f}, equity ${state.equity:,.2f}",
                                dedup_key=f"margin_deficit:{portfolio.pk}:{as_of}",
                                numbers={"deficit": str(state.deficit), "requirement": str(state.requirement),
                                         "equity": str(state.equity)})
                    raised += 1
        elif _regime(portfolio, settings, as_of) is DayTradingRegime.LEGACY_PDT:
            status = pdt_status(trades_for([portfolio]), as_of, method=settings.counting_method,
                                equity=portfolio_equity(portfolio), account=name)
            if status.day_trades >= 3 or status.pattern_day_trader:
                severity = "critical" if status.restricted else "warning"
                alert_raise(owner=portfolio.owner, portfolio=portfolio, kind="day_trade_count", severity=severity,
                            message=f"{status.day_trades} day trades in the 5 business days to {as_of}"
                                    + ("; pattern day trader" if status.pattern_day_trader else ""),
                            dedup_key=f"day_trades:{portfolio.pk}:{status.window[0]}",
                            numbers={"day_trades": status.day_trades})
                raised += 1
    return {"alerts": raised}


# ------------------------------------------------------------------------------------------
# Audit trail
# ------------------------------------------------------------------------------------------

def _json(value: Any) -> Any:
    if isinstance(value, (date, datetime)):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    return value


_AUDIT_ROWS = RowReader(models.AuditEntry)


def audit_record(*, actor: str, action: str, object_type: str = "", object_id: str = "",
                 before: dict | None = None, after: dict | None = None, ts: datetime | None = None
                 ) -> models.AuditEntry:
    """Append one entry to the hash chain (in the caller's transaction, if any).

    On PostgreSQL appends are serial: a transaction-scoped advisory lock, held to commit,
    makes concurrent writers queue for the next sequence number instead of racing for it,
    so callers should append last, just before they commit. SQLite serialises writers
    itself; a writer that still loses the race retries on top of the winner.
    """
    ts = (ts or datetime.now(UTC)).astimezone(UTC)
    postgres = connection.vendor == "postgresql"
    for attempt in range(5):
        try:
            with transaction.atomic(savepoint=not postgres), connection.cursor() as cursor:
                if postgres:
                    cursor.execute("SELECT pg_advisory_xact_lock(%s)", [_AUDIT_LOCK])
                cursor.execute("SELECT sequence, entry_hash FROM compliance_auditentry "
                               "ORDER BY sequence DESC LIMIT 1")
                last = cursor.fetchone()
                entry = models.AuditEntry(sequence=last[0] + 1 if last else 1, ts=ts, actor=actor[:150],
                                          action=action[:64], object_type=object_type[:64],
                                          object_id=object_id[:128], before=before, after=after,
                                          previous_hash=last[1] if last else GENESIS_HASH)
                entry.entry_hash = entry_hash(entry.previous_hash, entry.chain_fields())
                _AUDIT_ROWS.insert([entry])
                return entry
        except IntegrityError:  # another writer took the sequence number; retry on top of it
            if attempt == 4 or postgres:
                raise
    raise AssertionError("unreachable")


def audit_verify() -> tuple[int, ChainBreak | None]:
    """Verify the whole chain from the stored rows; returns (entries checked, first break)."""
    rows = models.AuditEntry.objects.order_by("sequence").iterator(chunk_size=2000)
    return verify_chain((row.sequence, row.previous_hash, row.entry_hash, row.chain_fields()) for row in rows)


# ------------------------------------------------------------------------------------------
# Restricted and watch lists
# ------------------------------------------------------------------------------------------

def listed_symbol_set(*, user, symbol: str, kind: str, reason: str = "") -> models.ListedSymbol:
    """Put ``symbol`` on the user's restricted or watch list (replacing its previous entry); audited."""
    symbol = (symbol or "").strip().upper()
    if not symbol:
        raise InvalidInput("symbol must not be empty")
    if kind not in models.ListedSymbol.Kind.values:
        raise InvalidInput(f"kind must be restricted or watch, was {kind!r}")
    with transaction.atomic():
        before = models.ListedSymbol.objects.filter(owner=user, symbol=symbol).values("kind", "reason").first()
        row, _ = models.ListedSymbol.objects.update_or_create(owner=user, symbol=symbol,
                                                              defaults={"kind": kind, "reason": reason[:200]})
        audit_record(actor=user.username, action="compliance.list.set", object_type="symbol", object_id=symbol,
                     before=before, after={"kind": kind, "reason": reason[:200]})
    return row


def listed_symbol_delete(*, user, symbol: str) -> None:
    symbol = (symbol or "").strip().upper()
    with transaction.atomic():
        deleted, _ = models.ListedSymbol.objects.filter(owner=user, symbol=symbol).delete()
        if not deleted:
            raise NotFoundError(f"{symbol} is on neither list")
        audit_record(actor=user.username, action="compliance.list.delete", object_type="symbol", object_id=symbol)


# ------------------------------------------------------------------------------------------
# Position reporting and stored reports
# ------------------------------------------------------------------------------------------

def owner_positions(owner) -> dict[str, Decimal]:
    """Signed shares per symbol summed over every portfolio of ``owner`` (the beneficial owner)."""
    totals: dict[str, Decimal] = {}
    for quantities in tr_models.Portfolio.objects.filter(owner=owner).values_list("position_quantities", flat=True):
        for symbol, quantity in (quantities or {}).items():
            totals[symbol] = totals.get(symbol, _ZERO) + Decimal(quantity)
    return {s: q for s, q in totals.items() if q}


def shares_outstanding(symbols: Iterable[str]) -> dict[str, Decimal | None]:
    """Latest shares outstanding per symbol from company snapshots (``None`` if unknown)."""
    from bifrost_web.marketdata.models import CompanySnapshot

    out: dict[str, Decimal | None] = {}
    for symbol in symbols:
        value = CompanySnapshot.objects.filter(instrument__symbol=symbol, shares_outstanding__isnull=False) \
            .order_by("-as_of").values_list("shares_outstanding", flat=True).first()
        out[symbol] = Decimal(str(int(value))) if value else None
    return out


def ownership_report(*, user, alert_pct: Decimal = Decimal("4.5"), raise_alerts: bool = True) -> list:
    """Beneficial ownership of every issuer the user holds; alerts at ``alert_pct`` and above 5%."""
    from bifrost.compliance.positions import beneficial_ownership

    positions = owner_positions(user)
    findings = beneficial_ownership(positions, shares_outstanding(positions), alert_pct=alert_pct)
    if raise_alerts:
        for f in findings:
            if f.level in ("alert", "13d"):
                alert_raise(owner=user, kind="ownership_threshold", severity="critical" if f.level == "13d" else
                            "warning", message=f"{f.symbol}: {f.percent}% of shares outstanding"
                            + (" - above 5%: Schedule 13D/13G due" if f.level == "13d" else
                               f" - at or above the {alert_pct}% early-warning level"),
                            dedup_key=f"ownership:{f.symbol}:{f.level}", numbers={"percent": str(f.percent)})
    return findings


def _report_content(*, user, kind: str, period: str, portfolio: tr_models.Portfolio | None
                    ) -> tuple[str, bytes, dict]:
    from bifrost.compliance import reports
    from bifrost.compliance.positions import holdings_13f, large_trader_activity

    if kind == models.ReportRun.Kind.FORM_8949:
        if portfolio is None or not period.isdigit():
            raise InvalidInput("a form8949 report needs a portfolio and a year period such as 2024")
        year = int(period)
        result = household_tax(portfolio)
        settings = settings_for(portfolio)
        rows = reports.form8949_rows([d for d in result.disposals if d.account == account_name(portfolio)],
                                     year=year, reporting=settings.basis_reporting)
        total = sum((r.gain for r in rows), _ZERO)
        return (reports.form8949_csv(rows), reports.form8949_pdf(rows, taxpayer=portfolio.name, year=year),
                {"rows": len(rows), "gain": str(total)})
    if kind == models.ReportRun.Kind.OWNERSHIP:
        findings = ownership_report(user=user, raise_alerts=True)
        header = ["symbol", "shares", "shares_outstanding", "percent", "level"]
        rows = [[f.symbol, f.shares, f.shares_outstanding or "", f.percent or "", f.level] for f in findings]
        return (reports.table_csv(header, rows), reports.table_pdf(f"Beneficial ownership {period}", header, rows),
                {"above_5pct": [f.symbol for f in findings if f.level == "13d"]})
    if kind == models.ReportRun.Kind.HOLDINGS_13F:
        positions = {s: q for s, q in owner_positions(user).items() if q > 0}
        prices = last_prices(positions)
        missing = sorted(set(positions) - set(prices))
        if missing:
            raise InvalidInput(f"no price for {', '.join(missing)}: cannot value the 13F holdings")
        rows13, total, required = holdings_13f(positions, prices)
        header = ["symbol", "shares", "price", "value_usd"]
        rows = [[r.symbol, r.shares, r.price, r.value_usd] for r in rows13]
        note = f"total ${total:,.0f}; " + ("13F filing required" if required else "below the $100M threshold")
        return (reports.table_csv(header, rows), reports.table_pdf(f"13F holdings {period}", header, rows,
                                                                   subtitle=note),
                {"total_usd": str(total), "filing_required": required})
    if kind == models.ReportRun.Kind.LARGE_TRADER:
        trades = trades_for(tr_models.Portfolio.objects.filter(owner=user))
        if period.isdigit():
            trades = [t for t in trades if t.trade_date.year == int(period)]
        breaches = large_trader_activity(trades)
        header = ["period", "start", "shares", "notional", "by"]
        rows = [[b.period, b.start, b.shares, b.notional, b.by] for b in breaches]
        return (reports.table_csv(header, rows), reports.table_pdf(f"Large trader activity (Rule 13h-1) {period}",
                                                                   header, rows),
                {"breaches": len(breaches)})
    raise InvalidInput(f"kind must be one of {', '.join(models.ReportRun.Kind.values)}, was {kind!r}")


def report_generate(*, user, kind: str, period: str, portfolio_id: int | None = None,
                    actor: str | None = None) -> models.ReportRun:
    """Generate a report and store it as the next version of (kind, period[, portfolio]); audited."""
    import hashlib

    portfolio = tr_selectors.portfolio_get(user=user, portfolio_id=portfolio_id) if portfolio_id else None
    period = (period or "").strip()
    if not period:
        raise InvalidInput("period must not be empty (a year such as 2024, a quarter such as 2024Q4)")
    csv_text, pdf, summary = _report_content(user=user, kind=kind, period=period, portfolio=portfolio)
    with transaction.atomic():
        last = models.ReportRun.objects.select_for_update().filter(
            owner=user, portfolio=portfolio, kind=kind, period=period).order_by("-version").first()
        run = models.ReportRun.objects.create(
            owner=user, portfolio=portfolio, kind=kind, period=period, version=(last.version + 1) if last else 1,
            created_by=actor or user.username, summary=summary, csv_text=csv_text, pdf=pdf,
            sha256=hashlib.sha256(csv_text.encode() + pdf).hexdigest())
        audit_record(actor=actor or user.username, action="report.generate", object_type="report",
                     object_id=str(run.pk), after={"kind": kind, "period": period, "version": run.version,
                                                   "sha256": run.sha256})
    return run


def cash_violations(*, user, portfolio_id: int) -> list:
    """Good-faith and free-riding violations of a cash account, from its fills and cash flows."""
    from bifrost.compliance.cashaccount import cash_account_violations

    portfolio = tr_selectors.portfolio_get(user=user, portfolio_id=portfolio_id)
    return cash_account_violations(trades_for([portfolio]), settled_cash=_ZERO, deposits=cash_flows(portfolio))


def cash_flows(portfolio: tr_models.Portfolio) -> list[tuple[date, Decimal]]:
    """Deposits (+) and withdrawals (-) of a portfolio by trade date, treated as settled that day."""
    return [(trade_date(ts), amount if kind == "deposit" else -amount)
            for kind, amount, ts in portfolio.ledger_entries.filter(kind__in=["deposit", "withdrawal"])
            .values_list("kind", "amount", "ts_event")]
