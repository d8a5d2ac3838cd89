"""Trading use cases: portfolios, cash flows, orders, paper fills, kill switches.

The domain objects do the work (``bifrost.orders`` state machine and pre-trade
chain, ``bifrost.execution.PaperExchange``, ``bifrost.portfolio.Ledger``); these
services load state, call them, and persist the outcome in one transaction.

Persistence rules
-----------------
- An order is written (status ``new``, event ``submitted``) and committed before it is
  checked or sent, so nothing is acknowledged that is not stored.
- The ledger stores every posted entry with its lines and the source (fill or cash
  event) it came from; the domain ledger is rebuilt by replaying those sources in
  posting order, which also re-derives lots and realised gains.
- A fill, its order update, its event and its ledger entry commit together. Fill ids
  are unique per portfolio and venue, so re-processing the same venue output (a
  retried task, a worker killed mid-run) stores nothing twice.
"""

from __future__ import annotations

import uuid
from dataclasses import asdict
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

from django.db import IntegrityError, connection, transaction
from django.db.models.signals import post_save

from bifrost.core.calendars import get_calendar
from bifrost.core.errors import (
    InvalidInput,
    NoDataInRange,
    NotFoundError,
    OrderRejected,
    StateConflict,
)
from bifrost.core.money import decimal_from_float, to_decimal
from bifrost.core.time import Clock, WallClock, ensure_utc
from bifrost.execution import PaperExchange
from bifrost.marketdata.types import Timeframe
from bifrost.orders.pretrade import AccountType, Decision, PreTradeChain, PreTradeContext
from bifrost.orders.types import EventKind, Fill, OrderEvent, OrderRequest, OrderStatus, Side
from bifrost.portfolio import (
    Deposit,
    Dividend,
    Fee,
    Interest,
    JournalEntry,
    Ledger,
    LedgerConfig,
    LotSelection,
    Split,
    Withdrawal,
)
from bifrost_web import caching
from bifrost_web.marketdata import models as md_models
from bifrost_web.marketdata import storage
from bifrost_web.rows import RowReader
from bifrost_web.trading import models, pretrade_hooks, selectors

CASH_EVENTS = {"deposit": Deposit, "withdrawal": Withdrawal, "fee": Fee, "interest": Interest}
OPEN_STATUSES = (OrderStatus.NEW.value, OrderStatus.ACCEPTED.value, OrderStatus.PARTIALLY_FILLED.value)


def _account_code(account) -> str:
    return ":".join(part for part in (account.kind.value, account.currency, account.symbol) if part)


# ------------------------------------------------------------------------------------------------
# Portfolios
# ------------------------------------------------------------------------------------------------

def portfolio_create(*, owner, name: str, base_currency: str = "USD", account_type: str = "cash",
                     leverage_limit: Decimal | str | int = 1, lot_method: str = "fifo", tax_status: str = "taxable",
                     household: str | None = None, broker: str = "paper") -> models.Portfolio:
    """Create a portfolio for ``owner`` (names are unique per owner)."""
    name = (name or "").strip()
    if not name:
        raise InvalidInput("portfolio name must not be empty")
    if account_type not in models.Portfolio.AccountType.values:
        raise InvalidInput(f"account_type must be cash or margin, was {account_type!r}")
    if lot_method not in models.Portfolio.LotMethod.values:
        raise InvalidInput(f"lot_method must be one of fifo, lifo, hifo, specific; was {lot_method!r}")
    if tax_status not in models.Portfolio.TaxStatus.values:
        raise InvalidInput(f"tax_status must be taxable or ira, was {tax_status!r}")
    if broker not in ("paper", "alpaca"):
        raise InvalidInput(f"broker must be paper or alpaca, was {broker!r}")
    leverage = to_decimal(leverage_limit, field="leverage_limit")
    if leverage < 1 or (account_type == "cash" and leverage != 1):
        raise InvalidInput(f"leverage_limit must be 1 for a cash account and at least 1 for margin, was {leverage}")
    if models.Portfolio.objects.filter(owner=owner, name=name).exists():
        raise StateConflict(f"you already have a portfolio named {name!r}")
    with transaction.atomic():
        group = None
        if household:
            group, _ = models.Household.objects.get_or_create(owner=owner, name=household.strip())
        return models.Portfolio.objects.create(
            owner=owner, name=name, base_currency=base_currency.upper(), account_type=account_type,
            leverage_limit=leverage, lot_method=lot_method, tax_status=tax_status, household=group, broker=broker)


# ------------------------------------------------------------------------------------------------
# Ledger persistence and replay
# ------------------------------------------------------------------------------------------------

def _ledger_config(portfolio: models.Portfolio) -> LedgerConfig:
    return LedgerConfig(lot_method=portfolio.lot_method, margin=portfolio.account_type == "margin",
                        leverage_limit=max(portfolio.leverage_limit, Decimal(1)))


def _source_payload(source) -> dict:
    data = asdict(source)
    out = {}
    for key, value in data.items():
        if isinstance(value, Decimal):
            out[key] = str(value)
        elif isinstance(value, datetime):
            out[key] = value.isoformat()
        elif hasattr(value, "value"):
            out[key] = value.value
        else:
            out[key] = value
    out["_type"] = type(source).__name__
    return out


_EVENT_TYPES = {cls.__name__: cls for cls in (Deposit, Withdrawal, Fee, Interest, Dividend, Split)}


def _source_from_payload(payload: dict, fill_row: models.Fill | None):
    kind = payload.get("_type")
    if kind == "Fill":
        return _domain_fill(fill_row)
    cls = _EVENT_TYPES[kind]
    args = {k: v for k, v in payload.items() if not k.startswith("_")}
    args["ts_event"] = datetime.fromisoformat(args["ts_event"])
    for key in ("amount", "amount_per_share", "ratio", "quantity"):
        if args.get(key) is not None:
            args[key] = Decimal(args[key])
    return cls(**args)


def _domain_fill(row: models.Fill) -> Fill:
    return Fill(fill_id=row.fill_id, client_order_id=row.order.client_order_id, symbol=row.symbol, side=row.side,
                quantity=row.quantity, price=row.price, ts_event=row.ts_event, commission=row.commission,
                fees=row.fees, liquidity=row.liquidity, venue=row.venue, currency=row.currency)


def ledger_for(portfolio: models.Portfolio, *, as_of: datetime | None = None) -> Ledger:
    """Rebuild the portfolio's domain ledger by replaying its sources in posting order.

    The replay posts with limits off (every entry was accepted when it was posted) and
    turns them back on for whatever the caller posts next."""
    ledger = Ledger(_ledger_config(portfolio))
    ledger.set_enforce_limits(False)
    fills = {f.fill_id: f for f in portfolio.fills.select_related("order")}
    rows = portfolio.ledger_entries.order_by("id").only("entry_id", "kind", "payload")
    if as_of is not None:
        rows = rows.filter(ts_event__lt=as_of)
    for row in rows:
        source = _source_from_payload(row.payload, fills.get(row.entry_id))
        selection = tuple(LotSelection(lot_id=s["lot_id"], quantity=Decimal(s["quantity"]))
                          for s in row.payload.get("_lot_selection", []))
        ledger.post(source, lot_selection=selection)
    ledger.set_enforce_limits(True)
    return ledger


def _persist_entry(portfolio: models.Portfolio, entry: JournalEntry, source, ledger: Ledger) -> models.LedgerEntry:
    fill = source if isinstance(source, Fill) else None
    payload = _source_payload(source)
    if entry.lot_selection:
        payload["_lot_selection"] = [{"lot_id": s.lot_id, "quantity": str(s.quantity)} for s in entry.lot_selection]
    row = models.LedgerEntry.objects.create(
        portfolio=portfolio, entry_id=entry.entry_id, kind=entry.kind.value, ts_event=entry.ts_event,
        description=entry.memo[:300], symbol=getattr(source, "symbol", "") or "",
        quantity=fill.quantity if fill else getattr(source, "quantity", None),
        price=fill.price if fill else getattr(source, "amount_per_share", None),
        amount=getattr(source, "amount", None), payload=payload,
    )
    models.LedgerLine.objects.bulk_create(
        [models.LedgerLine(entry=row, account=_account_code(account), currency=account.currency, amount=amount)
         for account, amount in entry.lines]
    )
    portfolio.cash_balance = ledger.cash(portfolio.base_currency)
    portfolio.position_quantities = {symbol: str(p.quantity) for symbol, p in ledger.positions().items() if p.quantity}
    models.Portfolio.objects.filter(pk=portfolio.pk).update(cash_balance=portfolio.cash_balance,
                                                             position_quantities=portfolio.position_quantities)
    return row


def cash_flow_record(*, user, portfolio_id: int, kind: str, amount: Decimal | str | int | None = None,
                     ts_event: datetime | None = None, symbol: str = "", per_share: Decimal | str | None = None,
                     ratio: Decimal | str | None = None, memo: str = "", entry_id: str | None = None,
                     clock: Clock | None = None) -> models.LedgerEntry:
    """Record a deposit, withdrawal, fee, interest, dividend or split through the ledger.

    Idempotent on ``entry_id``. Raises ``InsufficientFunds`` for a withdrawal a cash
    account cannot cover; nothing is written then.
    """
    portfolio = selectors.portfolio_get(user=user, portfolio_id=portfolio_id)
    ts = ensure_utc(ts_event, field="ts_event") if ts_event else (clock or WallClock()).now()
    entry_id = entry_id or f"{kind}-{uuid.uuid4().hex[:12]}"
    existing = portfolio.ledger_entries.filter(entry_id=entry_id).first()
    if existing is not None:
        return existing
    currency = portfolio.base_currency
    if kind in CASH_EVENTS:
        if amount is None:
            raise InvalidInput(f"a {kind} needs an amount")
        value = to_decimal(amount, field="amount")
        if value <= 0:
            raise InvalidInput(f"amount must be positive, was {value}")
        source = CASH_EVENTS[kind](entry_id=entry_id, ts_event=ts, amount=value, currency=currency, memo=memo)
    elif kind == "dividend":
        source = Dividend(entry_id=entry_id, ts_event=ts, symbol=symbol,
                          amount_per_share=to_decimal(per_share, field="per_share"), currency=currency)
    elif kind == "split":
        source = Split(entry_id=entry_id, ts_event=ts, symbol=symbol, ratio=to_decimal(ratio, field="ratio"))
    else:
        raise InvalidInput(f"kind must be one of deposit, withdrawal, fee, interest, dividend, split; was {kind!r}")
    with transaction.atomic():
        models.Portfolio.objects.select_for_update().filter(pk=portfolio.pk).first()
        ledger = ledger_for(portfolio)
        entry = ledger.post(source)
        return _persist_entry(portfolio, entry, source, ledger)


# ------------------------------------------------------------------------------------------------
# Orders
# ------------------------------------------------------------------------------------------------

def _cash_and_positions(portfolio: models.Portfolio) -> tuple[Decimal, dict[str, Decimal]]:
    """Cash and signed positions as of the last posting (kept on the portfolio row)."""
    return portfolio.cash_balance, {s: Decimal(q) for s, q in portfolio.position_quantities.items()}


_MARKET_CACHE_SECONDS = 5
_LOCAL_FACTS_SECONDS = 1.0
_local_facts: dict[str, tuple[float, tuple[str, Decimal | None] | None]] = {}


def _instrument_facts(symbol: str) -> tuple[str, Decimal | None] | None:
    """(calendar, last close) of a stored instrument, cached briefly; ``None`` if unknown.

    The last close moves only when bars are ingested, and pre-trade checks use it for
    price bands and cash estimates, so a few seconds of staleness is harmless and saves
    three queries on every order. Each process also keeps what it read for a second, so
    a burst of orders does not ask the shared cache each time.
    """
    import time

    from django.core.cache import cache

    now = time.monotonic()
    local = _local_facts.get(symbol)
    if local is not None and local[0] > now:
        return local[1]
    key = f"bifrost:instrument-facts:{symbol}"
    facts = cache.get(key)
    if facts is None:
        instrument = md_models.Instrument.objects.filter(symbol=symbol).values("id", "calendar").first()
        if instrument is not None:
            with connection.cursor() as cursor:
                cursor.execute(
                    "SELECT close FROM marketdata_bar WHERE instrument_id = %s AND timeframe IN ('1m', '1d') "
                    "ORDER BY ts DESC LIMIT 1", [instrument["id"]])
                row = cursor.fetchone()
            facts = (instrument["calendar"], decimal_from_float(row[0]) if row else None)
            cache.set(key, facts, _MARKET_CACHE_SECONDS)
    if len(_local_facts) > 50_000:
        _local_facts.clear()
    _local_facts[symbol] = (now + _LOCAL_FACTS_SECONDS, facts)
    return facts


def _last_price(symbol: str) -> Decimal | None:
    facts = _instrument_facts(symbol)
    return facts[1] if facts else None


class _KnownSymbols:
    """Membership test against the instrument table, for the known-symbol check."""

    def __contains__(self, symbol: object) -> bool:
        return isinstance(symbol, str) and _instrument_facts(symbol) is not None


_session_states: dict[str, tuple[datetime, tuple[bool, datetime | None, datetime | None]]] = {}


def _session_state(calendar_name: str, now: datetime) -> tuple[bool, datetime | None, datetime | None]:
    """(market open, session close if open, next open if closed) at ``now``'s minute.

    The answer only changes from one minute to the next, so each process keeps the last
    minute's answer per calendar: every order in that minute skips the calendar lookups.
    """
    minute = now.replace(second=0, microsecond=0)
    hit = _session_states.get(calendar_name)
    if hit is not None and hit[0] == minute:
        return hit[1]
    calendar = get_calendar(calendar_name)
    import pandas as pd

    ts = pd.Timestamp(minute)
    market_open = bool(calendar.is_open_on_minute(ts, ignore_breaks=True))
    session_close = None
    if market_open:
        session_close = calendar.session_close(calendar.minute_to_session(ts)).to_pydatetime()
    next_open = calendar.next_open(ts).to_pydatetime() if not market_open else None
    state = (market_open, session_close, next_open)
    _session_states[calendar_name] = (minute, state)
    return state


def _decimal(value) -> Decimal:
    if value is None:
        return Decimal(0)
    return value if isinstance(value, Decimal) else Decimal(str(value))


# The open orders of a portfolio other than the one being checked, summed per symbol and side,
# and whether the global kill switch is on: one round trip for the facts every order needs.
_OPEN_ORDERS_SQL = (
    "SELECT h.halted, o.symbol, o.side, o.at_limit, o.at_market, o.leaves FROM "
    "(SELECT EXISTS (SELECT 1 FROM trading_tradinghalt WHERE active) AS halted) h LEFT JOIN "
    "(SELECT symbol, side, "
    "SUM(CASE WHEN limit_price IS NOT NULL THEN (quantity - filled_quantity) * limit_price ELSE 0 END) AS at_limit, "
    "SUM(CASE WHEN limit_price IS NULL THEN quantity - filled_quantity ELSE 0 END) AS at_market, "
    "SUM(quantity - filled_quantity) AS leaves "
    "FROM trading_order WHERE portfolio_id = %s AND status IN (%s, %s, %s) AND client_order_id <> %s "
    "GROUP BY side, symbol) o ON 1 = 1")


def _open_orders(portfolio: models.Portfolio, *, excluding: str) -> tuple[bool, Decimal, dict[str, Decimal]]:
    """(global halt on, cash reserved by open buys, shares promised to open sells by symbol).

    Open buys reserve cash at their limit price, or at the last price when they have none.
    """
    with connection.cursor() as cursor:
        cursor.execute(_OPEN_ORDERS_SQL, [portfolio.pk, *OPEN_STATUSES, excluding])
        rows = cursor.fetchall()
    halted = bool(rows[0][0]) if rows else False
    reserved = Decimal(0)
    sells: dict[str, Decimal] = {}
    for _halted, symbol, side, at_limit, at_market, leaves in rows:
        if symbol is None:
            continue
        if side == Side.BUY.value:
            reserved += _decimal(at_limit)
            if at_market:
                price = _last_price(symbol)
                if price is not None:
                    reserved += _decimal(at_market) * price
        else:
            sells[symbol] = _decimal(leaves)
    return halted, reserved, sells


def pretrade_context(*, portfolio: models.Portfolio, request: OrderRequest, now: datetime) -> PreTradeContext:
    cash, positions = _cash_and_positions(portfolio)
    halted, reserved, committed_sells = _open_orders(portfolio, excluding=request.client_order_id)
    if request.side is Side.SELL:  # shares already promised to open sells are not available again
        for symbol, quantity in committed_sells.items():
            positions[symbol] = positions.get(symbol, Decimal(0)) - quantity
    facts = _instrument_facts(request.symbol)
    calendar = facts[0] if facts else "XNYS"
    market_open, session_close, next_open = _session_state(calendar, now)
    last = facts[1] if facts else None
    return PreTradeContext(
        portfolio_id=str(portfolio.pk), now=now,
        account_type=AccountType.MARGIN if portfolio.account_type == "margin" else AccountType.CASH,
        cash=cash - reserved, positions=positions, last_prices={request.symbol: last} if last is not None else {},
        known_symbols=_KnownSymbols(), market_open=market_open, session_close=session_close, next_open=next_open,
        kill_switch_active=portfolio.kill_switch, global_kill_switch_active=halted,
    )


def _record_event(order: models.Order, kind: EventKind, ts_event: datetime, *, reason: str = "",
                  fill: models.Fill | None = None, details: dict | None = None) -> None:
    models.OrderEventRecord.objects.create(order=order, kind=kind.value, ts_event=ts_event, reason=reason,
                                           fill=fill, details=details or {})


def _request_from_row(row: models.Order) -> OrderRequest:
    return OrderRequest(
        client_order_id=row.client_order_id, symbol=row.symbol, side=row.side, quantity=row.quantity,
        order_type=row.order_type, time_in_force=row.time_in_force, limit_price=row.limit_price,
        stop_price=row.stop_price, trail_amount=row.trail_amount, trail_percent=row.trail_percent,
        parent_id=row.parent.client_order_id if row.parent_id else None, oco_group=row.oco_group or None,
        tag=row.tag, lot_method=row.lot_method or None, lot_ids=tuple(row.lot_ids or ()),
    )


def _same_order(row: models.Order, request: OrderRequest) -> bool:
    return _request_from_row(row) == request


def order_submit(*, user, portfolio_id: int, request: OrderRequest, clock: Clock | None = None,
                 pretrade: PreTradeChain | None = None) -> models.Order:
    """Persist, check and send an order. Idempotent on ``client_order_id``.

    A broker order is stored (``new``) before it leaves for the broker, then updated with
    the broker's answer, so a crash in between leaves a record for reconciliation. A paper
    order is checked and matched by the in-process venue first and stored once, with its
    events, in one transaction - still before it is acknowledged.

    Raises
    ------
    OrderRejected
        A pre-trade check or the venue refused it; the order is stored as rejected.
    StateConflict
        The client order id was already used for a different order.
    """
    clock = clock or WallClock()
    portfolio = selectors.portfolio_get(user=user, portfolio_id=portfolio_id)
    now = clock.now()
    if portfolio.broker == "paper":
        with caching.version_snapshot():  # the services' cached configuration: one cache round trip
            return _paper_submit(portfolio, request, now, pretrade)
    try:
        with transaction.atomic():  # persisted before it is sent to the broker
            row = models.Order.objects.create(
                portfolio=portfolio, client_order_id=request.client_order_id, symbol=request.symbol,
                side=request.side.value, quantity=request.quantity, order_type=request.order_type.value,
                time_in_force=request.time_in_force.value, limit_price=request.limit_price,
                stop_price=request.stop_price, trail_amount=request.trail_amount, trail_percent=request.trail_percent,
                oco_group=request.oco_group or "", tag=request.tag, venue=portfolio.broker,
                lot_method=request.lot_method.value if request.lot_method else "", lot_ids=list(request.lot_ids),
                status=OrderStatus.NEW.value)
            _record_event(row, EventKind.SUBMITTED, now)
    except IntegrityError:  # the client id exists: a retry of the same order, or a conflicting reuse
        row = portfolio.orders.get(client_order_id=request.client_order_id)
        if not _same_order(row, request):
            raise StateConflict(
                f"client_order_id {request.client_order_id} was already used for a different order") from None
        row.duplicate = True
        return row
    chain = pretrade or pretrade_hooks.chain_for(portfolio, request, now)
    check = chain.check(request, pretrade_context(portfolio=portfolio, request=request, now=now))
    if check.decision is Decision.REJECT:
        reasons = "; ".join(f.message for f in check.findings if f.severity is Decision.REJECT)
        findings = _findings(check)
        with transaction.atomic():
            row.status = OrderStatus.REJECTED.value
            row.reject_reason = reasons
            row.save(update_fields=["status", "reject_reason", "updated_at"])
            _record_event(row, EventKind.REJECTED, now, reason=reasons, details={"findings": findings})
        raise OrderRejected(f"order {request.client_order_id} rejected: {reasons}",
                            details={"client_order_id": request.client_order_id, "findings": findings})
    if portfolio.broker == "paper":
        events = PaperExchange().submit(request, now)  # the venue's own acceptance rules
    else:
        events = _broker_submit(portfolio, request, now)
    with transaction.atomic():
        for event in events:
            _apply_status_event(row, event, now)
    if row.status == OrderStatus.REJECTED.value:
        raise OrderRejected(f"order {request.client_order_id} rejected by the venue: {row.reject_reason}",
                            details={"client_order_id": request.client_order_id})
    if check.decision is Decision.WARN:
        _record_event(row, EventKind.ACCEPTED, now, reason="pre-trade warnings",
                      details={"warnings": [f.message for f in check.findings]})
    return row


def _findings(check) -> list[dict]:
    return [{"rule": f.rule, "severity": f.severity.value, "message": f.message,
             "numbers": {k: str(v) for k, v in f.numbers.items()}} for f in check.findings]


_ORDER_ROWS = RowReader(models.Order)
_EVENT_ROWS = RowReader(models.OrderEventRecord)


def _order_commit_mode() -> None:
    """With ``BIFROST_ORDER_COMMIT=fast`` on PostgreSQL, the order-entry transaction commits
    asynchronously (``synchronous_commit off``): visible to every reader at once, flushed to
    disk by the WAL writer within about 0.6 s. An application crash loses nothing; a
    PostgreSQL crash can lose that last fraction of a second of acknowledged orders (a suffix
    of the log, so the audit chain stays intact), which broker reconciliation repairs for live
    orders. ``durable``, the default, waits for the disk like every other transaction."""
    from django.conf import settings

    if connection.vendor == "postgresql" and settings.BIFROST_ORDER_COMMIT == "fast":
        with connection.cursor() as cursor:
            cursor.execute("SET LOCAL synchronous_commit TO off")


def _paper_submit(portfolio: models.Portfolio, request: OrderRequest, now: datetime,
                  pretrade: PreTradeChain | None) -> models.Order:
    """Check, accept and store a paper order: one transaction, one round trip per table."""
    chain = pretrade or pretrade_hooks.chain_for(portfolio, request, now)
    check = chain.check(request, pretrade_context(portfolio=portfolio, request=request, now=now))
    events = [models.OrderEventRecord(kind=EventKind.SUBMITTED.value, ts_event=now, details={})]
    status, reason, venue_order_id = OrderStatus.ACCEPTED, "", ""
    if check.decision is Decision.REJECT:
        status = OrderStatus.REJECTED
        reason = "; ".join(f.message for f in check.findings if f.severity is Decision.REJECT)
        events.append(models.OrderEventRecord(kind=EventKind.REJECTED.value, ts_event=now, reason=reason,
                                              details={"findings": _findings(check)}))
    else:
        for event in PaperExchange().submit(request, now):  # the venue's own acceptance rules
            if event.kind is EventKind.REJECTED:
                status, reason = OrderStatus.REJECTED, event.reason
            venue_order_id = event.venue_order_id or venue_order_id
            events.append(models.OrderEventRecord(kind=event.kind.value, ts_event=event.ts_event,
                                                  reason=event.reason, details={}))
        if status is OrderStatus.ACCEPTED and check.decision is Decision.WARN:
            events.append(models.OrderEventRecord(kind=EventKind.ACCEPTED.value, ts_event=now,
                                                  reason="pre-trade warnings",
                                                  details={"warnings": [f.message for f in check.findings]}))
    row = models.Order(
        portfolio=portfolio, client_order_id=request.client_order_id, symbol=request.symbol,
        side=request.side.value, quantity=request.quantity, order_type=request.order_type.value,
        time_in_force=request.time_in_force.value, limit_price=request.limit_price,
        stop_price=request.stop_price, trail_amount=request.trail_amount, trail_percent=request.trail_percent,
        oco_group=request.oco_group or "", tag=request.tag, venue=portfolio.broker, status=status.value,
        lot_method=request.lot_method.value if request.lot_method else "", lot_ids=list(request.lot_ids),
        reject_reason=reason, venue_order_id=venue_order_id)
    try:
        # persisted before it is acknowledged: the order, its events, then what listens to the
        # order's creation (the audit trail appends under a lock, so it goes last, before commit)
        with transaction.atomic():
            _order_commit_mode()
            _ORDER_ROWS.insert([row])
            for event in events:
                event.order = row
            _EVENT_ROWS.insert(events)
            post_save.send(sender=models.Order, instance=row, created=True, update_fields=None, raw=False,
                           using=row._state.db)
    except IntegrityError:  # the client id exists: a retry of the same order, or a conflicting reuse
        row = portfolio.orders.get(client_order_id=request.client_order_id)
        if not _same_order(row, request):
            raise StateConflict(
                f"client_order_id {request.client_order_id} was already used for a different order") from None
        row.duplicate = True
        return row
    row._prefetched_objects_cache = {"events": _loaded(row.events.all(), events)}
    if status is OrderStatus.REJECTED:
        if check.decision is Decision.REJECT:
            raise OrderRejected(f"order {request.client_order_id} rejected: {reason}",
                                details={"client_order_id": request.client_order_id, "findings": _findings(check)})
        raise OrderRejected(f"order {request.client_order_id} rejected by the venue: {reason}",
                            details={"client_order_id": request.client_order_id})
    return row


def _loaded(queryset, rows: list) -> object:
    """``queryset`` marked as already holding ``rows`` (so serialising the order reads no more)."""
    queryset._result_cache = list(rows)
    queryset._prefetch_done = True
    return queryset


def venue_hint(tag: str) -> str | None:
    """The routing hint in an order's tag (``venue=XNAS``, alone or among ``;``-separated
    items such as ``algo:42;venue=XNAS``), which smart order routing sets on child orders."""
    for item in (tag or "").replace(",", ";").split(";"):
        key, sep, value = item.strip().partition("=")
        if sep and key.strip() == "venue" and value.strip():
            return value.strip()
    return None


def _broker_submit(portfolio: models.Portfolio, request: OrderRequest, now: datetime) -> list[OrderEvent]:
    from bifrost_web.trading.brokers import broker_for

    broker = broker_for(portfolio)
    try:
        placed = broker.submit(request, venue=venue_hint(request.tag))
    except OrderRejected as exc:
        return [OrderEvent(client_order_id=request.client_order_id, kind=EventKind.REJECTED, ts_event=now,
                           reason=exc.message)]
    return [OrderEvent(client_order_id=request.client_order_id, kind=EventKind.ACCEPTED, ts_event=now,
                       venue_order_id=placed.broker_order_id)]


def _apply_status_event(row: models.Order, event: OrderEvent, now: datetime) -> None:
    transitions = {EventKind.ACCEPTED: OrderStatus.ACCEPTED, EventKind.REJECTED: OrderStatus.REJECTED,
                   EventKind.CANCELLED: OrderStatus.CANCELLED, EventKind.EXPIRED: OrderStatus.EXPIRED}
    status = transitions.get(event.kind)
    if status is not None:
        current = OrderStatus(row.status)
        if current.is_terminal:
            raise StateConflict(f"order {row.client_order_id} is {current.value}; cannot apply {event.kind.value}")
        row.status = status.value
        if status is OrderStatus.REJECTED:
            row.reject_reason = event.reason
        if event.venue_order_id:
            row.venue_order_id = event.venue_order_id
        row.save(update_fields=["status", "reject_reason", "venue_order_id", "updated_at"])
    _record_event(row, event.kind, event.ts_event, reason=event.reason)


def order_cancel(*, user, portfolio_id: int, client_order_id: str, clock: Clock | None = None) -> models.Order:
    portfolio = selectors.portfolio_get(user=user, portfolio_id=portfolio_id)
    now = (clock or WallClock()).now()
    with transaction.atomic():
        row = portfolio.orders.select_for_update().filter(client_order_id=client_order_id).first()
        if row is None:
            raise NotFoundError(f"order {client_order_id} not found in portfolio {portfolio_id}")
        if OrderStatus(row.status).is_terminal:
            raise StateConflict(f"order {client_order_id} is {row.status}; nothing to cancel")
        if portfolio.broker != "paper":
            from bifrost_web.trading.brokers import broker_for

            broker_for(portfolio).cancel(client_order_id)
        _apply_status_event(row, OrderEvent(client_order_id=client_order_id, kind=EventKind.CANCELLED,
                                            ts_event=now, reason="cancelled by user"), now)
    return row


# ------------------------------------------------------------------------------------------------
# Paper fills
# ------------------------------------------------------------------------------------------------

def paper_process(*, portfolio_id: int, until: datetime | None = None, exchange: PaperExchange | None = None) -> dict:
    """Match the portfolio's open paper orders against stored bars since each was submitted.

    Replays deterministically from each order's submission, so fill ids repeat across
    runs and anything already stored is skipped: safe to retry after a crash.
    """
    portfolio = models.Portfolio.objects.get(pk=portfolio_id)
    open_rows = list(portfolio.orders.filter(status__in=OPEN_STATUSES, venue="paper").order_by("created_at", "id"))
    summary = {"orders": len(open_rows), "fills": 0, "events": 0}
    if not open_rows:
        return summary
    exchange = exchange or PaperExchange()
    submitted_at = {}
    for row in open_rows:
        first = row.events.order_by("id").first()
        submitted_at[row.client_order_id] = first.ts_event if first else row.created_at
        exchange.submit(_request_from_row(row), submitted_at[row.client_order_id])
    start = min(submitted_at.values())
    end = until or datetime.now(UTC)
    rows_by_id = {row.client_order_id: row for row in open_rows}
    for symbol in sorted({row.symbol for row in open_rows}):
        instrument = md_models.Instrument.objects.filter(symbol=symbol).first()
        if instrument is None:
            continue
        timeframe = Timeframe.M1 if storage.bar_counts([instrument.id]) and any(
            tf == "1m" for _, tf, *_ in storage.bar_counts([instrument.id])) else Timeframe.D1
        bars = storage.read_bars(instrument.id, timeframe, start=start - timedelta(days=1), end=end)
        calendar = get_calendar(instrument.calendar)
        for ts, bar in bars.iterrows():
            if timeframe is Timeframe.D1:
                session = ts.tz_localize(None)
                if not calendar.is_session(session):
                    continue
                ts_open = calendar.session_open(session).to_pydatetime()
                bar_end = calendar.session_close(session).to_pydatetime()
            else:
                ts_open = ts.to_pydatetime()
                bar_end = ts_open + timedelta(minutes=1)
            events = exchange.on_bar(symbol, ts_open, bar.open, bar.high, bar.low, bar.close, bar.volume,
                                     bar_end=bar_end)
            for event in events:
                stored = _store_venue_event(portfolio, rows_by_id[event.client_order_id], event)
                summary["events"] += stored[0]
                summary["fills"] += stored[1]
    return summary


def _store_venue_event(portfolio: models.Portfolio, row: models.Order, event: OrderEvent) -> tuple[int, int]:
    """Persist one venue event; fills post to the ledger in the same transaction."""
    with transaction.atomic():
        row.refresh_from_db()
        if event.fill is None:
            if event.kind is EventKind.TRIGGERED:
                _record_event(row, event.kind, event.ts_event, reason=event.reason)
                return 1, 0
            if OrderStatus(row.status).is_terminal:
                return 0, 0
            _apply_status_event(row, event, event.ts_event)
            return 1, 0
        fill = event.fill
        if portfolio.fills.filter(venue=fill.venue, fill_id=fill.fill_id).exists():
            return 0, 0  # already stored by an earlier run
        models.Portfolio.objects.select_for_update().filter(pk=portfolio.pk).first()
        ledger = ledger_for(portfolio)
        entry = ledger.post(fill, lot_method=row.lot_method or None, lot_ids=tuple(row.lot_ids or ()))
        fill_row = models.Fill.objects.create(
            portfolio=portfolio, order=row, fill_id=fill.fill_id, symbol=fill.symbol, side=fill.side.value,
            quantity=fill.quantity, price=fill.price, commission=fill.commission, fees=fill.fees,
            liquidity=fill.liquidity.value, venue=fill.venue, currency=fill.currency, ts_event=fill.ts_event)
        _persist_entry(portfolio, entry, fill, ledger)
        filled = row.filled_quantity + fill.quantity
        notional = (row.avg_fill_price or Decimal(0)) * row.filled_quantity + fill.quantity * fill.price
        row.filled_quantity = filled
        row.avg_fill_price = (notional / filled).quantize(Decimal("0.000001"))
        row.status = (OrderStatus.FILLED if filled >= row.quantity else OrderStatus.PARTIALLY_FILLED).value
        row.save(update_fields=["filled_quantity", "avg_fill_price", "status", "updated_at"])
        _record_event(row, EventKind.FILLED if row.status == "filled" else EventKind.PARTIALLY_FILLED,
                      fill.ts_event, fill=fill_row)
    return 1, 1


# ------------------------------------------------------------------------------------------------
# Valuation snapshots and returns
# ------------------------------------------------------------------------------------------------

def _close_before(symbol: str, end: datetime) -> Decimal | None:
    instrument = md_models.Instrument.objects.filter(symbol=symbol).values("id").first()
    if instrument is None:
        return None
    with connection.cursor() as cursor:
        cursor.execute("SELECT close FROM marketdata_bar WHERE instrument_id = %s AND timeframe IN ('1m', '1d') "
                       "AND ts < %s ORDER BY ts DESC LIMIT 1", [instrument["id"], end])
        row = cursor.fetchone()
    return decimal_from_float(row[0]) if row else None


def _end_of_day(day: date) -> datetime:
    from zoneinfo import ZoneInfo

    local_midnight = datetime.combine(day + timedelta(days=1), datetime.min.time(), ZoneInfo("America/New_York"))
    return local_midnight.astimezone(UTC)


def snapshot_take(*, portfolio_id: int, day: date) -> models.PortfolioSnapshot:
    """Value the portfolio at the end of ``day`` (New York) from the latest bars and store it."""
    from bifrost.portfolio import mark_to_market

    portfolio = models.Portfolio.objects.get(pk=portfolio_id)
    end = _end_of_day(day)
    ledger = ledger_for(portfolio, as_of=end)
    held = [s for s, p in ledger.positions().items() if p.quantity]
    prices = {}
    for symbol in held:
        price = _close_before(symbol, end)
        if price is None:
            raise NoDataInRange(f"no price for {symbol} on or before {day} to value portfolio {portfolio.pk}")
        prices[symbol] = price
    valuation = mark_to_market(ledger, prices, currency=portfolio.base_currency)
    flow = ledger.external_flows(portfolio.base_currency).get(day, Decimal(0))
    snapshot, _ = models.PortfolioSnapshot.objects.update_or_create(
        portfolio=portfolio, date=day,
        defaults={"nav": valuation.nav, "cash": valuation.cash, "long_value": valuation.long_market_value,
                  "short_value": valuation.short_market_value, "gross_exposure": valuation.gross_exposure,
                  "net_exposure": valuation.net_exposure, "net_flow": flow})
    return snapshot


def snapshots_rebuild(*, portfolio_id: int, start: date, end: date, calendar: str = "XNYS") -> int:
    """Store a snapshot for every session from ``start`` to ``end``; idempotent."""
    sessions = get_calendar(calendar).sessions_in_range(start.isoformat(), end.isoformat())
    for session in sessions:
        snapshot_take(portfolio_id=portfolio_id, day=session.date())
    return len(sessions)


def performance(*, portfolio: models.Portfolio) -> dict:
    """Time- and money-weighted returns from the stored daily snapshots."""
    from bifrost.portfolio import NavPoint, money_weighted_return, time_weighted_return

    rows = list(portfolio.snapshots.order_by("date"))
    points = [NavPoint(r.date, float(r.nav), float(r.net_flow)) for r in rows]
    result = {"snapshots": [{"date": r.date.isoformat(), "nav": str(r.nav), "cash": str(r.cash),
                             "gross_exposure": str(r.gross_exposure), "net_exposure": str(r.net_exposure),
                             "net_flow": str(r.net_flow)} for r in rows],
              "time_weighted_return": None, "money_weighted_return": None}
    if len(points) >= 2 and points[0].nav > 0:
        result["time_weighted_return"] = time_weighted_return(points)
        result["money_weighted_return"] = money_weighted_return(points)
    return result


# ------------------------------------------------------------------------------------------------
# Broker trade-history import
# ------------------------------------------------------------------------------------------------

def trades_import(*, user, portfolio_id: int, path: str, account: str | None = None,
                  tz: str | None = None) -> dict:
    """Import a broker trade-history file (docs/trade-import.md) into a portfolio.

    All or nothing; rows whose trade id is already in the ledger are skipped, so a file
    can be imported again. Limits are not enforced: these trades already happened.
    """
    from bifrost.adapters.files.trades import (
        ImportedTrade,
        lot_selection,
        read_trade_history,
        to_fill,
    )

    portfolio = selectors.portfolio_get(user=user, portfolio_id=portfolio_id)
    history = read_trade_history(path, tz=tz)
    accounts = history.accounts
    if account is None:
        if len(accounts) > 1:
            raise InvalidInput(f"{path} holds accounts {', '.join(accounts)}; choose one with account=")
    else:
        if account not in accounts:
            raise InvalidInput(f"{path} has no account {account!r} (accounts: {', '.join(accounts)})")
        history = history.for_account(account)
    known = set(portfolio.ledger_entries.values_list("entry_id", flat=True))
    summary = {"trades": 0, "cash_events": 0, "skipped": 0}
    with transaction.atomic():
        models.Portfolio.objects.select_for_update().filter(pk=portfolio.pk).first()
        ledger = ledger_for(portfolio)
        ledger.set_enforce_limits(False)
        for item in history.timeline():
            entry_id = item.trade_id if isinstance(item, ImportedTrade) else item.event.entry_id
            if entry_id in known:
                summary["skipped"] += 1
                continue
            if isinstance(item, ImportedTrade):
                fill = to_fill(item)
                entry = ledger.post(fill, lot_selection=lot_selection(item))
                order = models.Order.objects.create(
                    portfolio=portfolio, client_order_id=f"import-{item.trade_id}"[:64], symbol=fill.symbol,
                    side=fill.side.value, quantity=fill.quantity, order_type="market", time_in_force="day",
                    status=OrderStatus.FILLED.value, filled_quantity=fill.quantity, avg_fill_price=fill.price,
                    venue=fill.venue, tag="import")
                fill_row = models.Fill.objects.create(
                    portfolio=portfolio, order=order, fill_id=fill.fill_id, symbol=fill.symbol, side=fill.side.value,
                    quantity=fill.quantity, price=fill.price, commission=fill.commission, fees=fill.fees,
                    venue=fill.venue, currency=fill.currency, ts_event=fill.ts_event)
                _record_event(order, EventKind.FILLED, fill.ts_event, reason="imported", fill=fill_row)
                _persist_entry(portfolio, entry, fill, ledger)
                summary["trades"] += 1
            else:
                entry = ledger.post(item.event)
                _persist_entry(portfolio, entry, item.event, ledger)
                summary["cash_events"] += 1
    return summary


# ------------------------------------------------------------------------------------------------
# Broker reconciliation
# ------------------------------------------------------------------------------------------------

def broker_reconcile(*, user, portfolio_id: int, broker=None, apply: bool = False,
                     clock: Clock | None = None) -> dict:
    """Compare our orders and positions with the broker's; with ``apply``, repair ours.

    Repairs: missing fills are fetched and booked (idempotent by fill id); order statuses
    follow the broker's. Position differences the fills do not explain are reported and
    flagged for review, never booked automatically (a position only changes through a fill).
    """
    from bifrost.adapters.brokers.reconcile import (
        FetchFills,
        MarkOrderStatus,
        OrderSnapshot,
        PositionSnapshot,
        reconcile,
        repair_actions,
    )

    portfolio = selectors.portfolio_get(user=user, portfolio_id=portfolio_id)
    if broker is None:
        from bifrost_web.trading.brokers import broker_for

        broker = broker_for(portfolio)
    now = (clock or WallClock()).now()
    ours_orders = [OrderSnapshot(client_order_id=o.client_order_id, symbol=o.symbol, side=Side(o.side),
                                 quantity=o.quantity, filled_quantity=o.filled_quantity, status=OrderStatus(o.status))
                   for o in portfolio.orders.exclude(venue__in=["paper", "import"])]
    ours_positions = [PositionSnapshot(symbol=s, quantity=Decimal(q)) for s, q in portfolio.position_quantities.items()]
    report = reconcile(ours_orders, ours_positions, broker.list_orders("all"), broker.positions())
    actions = repair_actions(report)
    applied: list[str] = []
    if apply:
        rows = {o.client_order_id: o for o in portfolio.orders.all()}
        for action in actions:
            if isinstance(action, FetchFills):
                wanted = set(action.client_order_ids)
                for fill in broker.fills(action.since or now - timedelta(days=7)):
                    if fill.client_order_id in wanted and fill.client_order_id in rows:
                        _, stored = _store_venue_event(portfolio, rows[fill.client_order_id], OrderEvent(
                            client_order_id=fill.client_order_id, kind=EventKind.FILLED, ts_event=fill.ts_event,
                            fill=fill))
                        if stored:
                            applied.append(f"booked fill {fill.fill_id} for {fill.client_order_id}")
            elif isinstance(action, MarkOrderStatus) and action.client_order_id in rows:
                row = rows[action.client_order_id]
                row.refresh_from_db()
                if row.status != action.status.value:
                    with transaction.atomic():
                        row.status = action.status.value
                        row.save(update_fields=["status", "updated_at"])
                        kind = EventKind.SUBMITTED if action.status is OrderStatus.NEW else EventKind(action.status.value)
                        _record_event(row, kind, now, reason=f"reconcile: {action.reason}")
                    applied.append(f"order {action.client_order_id} marked {action.status.value}")
    return {"summary": report.summary, "differences": list(report.lines),
            "actions": [type(a).__name__ + ": " + getattr(a, "reason", "") for a in actions], "applied": applied}


# ------------------------------------------------------------------------------------------------
# Kill switches
# ------------------------------------------------------------------------------------------------

def kill_switch_set(*, user, active: bool, reason: str = "", portfolio_id: int | None = None,
                    clock: Clock | None = None) -> list[models.Order]:
    """Trip or release a kill switch. Tripping cancels every open order it covers.

    ``portfolio_id=None`` is the global switch (staff only)."""
    now = (clock or WallClock()).now()
    if active and not reason.strip():
        raise InvalidInput("a kill switch needs a reason")
    with transaction.atomic():
        if portfolio_id is None:
            if not user.is_staff:
                from bifrost.core.errors import PermissionDenied

                raise PermissionDenied("only staff may set the global kill switch")
            if active:
                models.TradingHalt.objects.create(active=True, reason=reason, set_by=user)
                scope = models.Order.objects.filter(status__in=OPEN_STATUSES)
            else:
                models.TradingHalt.objects.filter(active=True).update(active=False, released_at=now)
                return []
        else:
            portfolio = selectors.portfolio_get(user=user, portfolio_id=portfolio_id)
            portfolio.kill_switch = active
            portfolio.kill_switch_reason = reason if active else ""
            portfolio.save(update_fields=["kill_switch", "kill_switch_reason"])
            if not active:
                return []
            scope = portfolio.orders.filter(status__in=OPEN_STATUSES)
        cancelled = []
        for row in scope.select_for_update():
            _apply_status_event(row, OrderEvent(client_order_id=row.client_order_id, kind=EventKind.CANCELLED,
                                                ts_event=now, reason=f"kill switch: {reason}"), now)
            cancelled.append(row)
    return cancelled
