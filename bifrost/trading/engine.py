"""The trading core for one portfolio: pre-trade checks, order state, a venue, the ledger.

The backtester, paper trading and live trading all drive this engine; only the clock
and the venue differ (a :class:`~bifrost.execution.PaperExchange` in backtests and
paper trading, a broker adapter live).

Flow of an order::

    submit(request) ─▶ Order(NEW) + SUBMITTED ─▶ kill switches ─▶ pre-trade chain
        ├─ reject ─▶ REJECTED (stored with every finding), OrderRejected raised
        └─ accept ─▶ venue.submit ─▶ ACCEPTED / REJECTED
    venue events (bars, quotes, broker fills) ─▶ process(events)
        ─▶ Order.apply ─▶ fills posted to the ledger (idempotent by fill id), relieving
           lots by the order's lot override (lot_method / lot_ids) if it has one
        ─▶ bracket / OCO follow-ups (activate children, cancel or resize siblings)

A listener, if given, sees every order created, every event applied and every
ledger entry posted; the web layer uses it to persist them in the same transaction.
"""

from __future__ import annotations

from abc import abstractmethod
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Protocol

from bifrost.core.errors import NotFoundError, OrderRejected, StateConflict
from bifrost.core.time import Clock
from bifrost.orders.groups import Bracket, GroupActionKind, OrderGroupManager
from bifrost.orders.pretrade import (
    AccountType,
    CheckResult,
    Decision,
    PreTradeChain,
    PreTradeContext,
)
from bifrost.orders.state import Order
from bifrost.orders.types import EventKind, Fill, OrderEvent, OrderRequest
from bifrost.portfolio.ledger import JournalEntry, Ledger


class Venue(Protocol):
    """Where orders go: the paper exchange or a broker adapter wrapped to speak events."""

    @abstractmethod
    def submit(self, order: OrderRequest, ts: datetime) -> list[OrderEvent]: ...

    @abstractmethod
    def cancel(self, client_order_id: str, ts: datetime) -> list[OrderEvent]: ...


class EngineListener(Protocol):
    @abstractmethod
    def order_created(self, order: Order) -> None: ...

    @abstractmethod
    def event_applied(self, order: Order, event: OrderEvent, ts_recorded: datetime) -> None: ...

    @abstractmethod
    def entry_posted(self, entry: JournalEntry, fill: Fill | None) -> None: ...


@dataclass(slots=True)
class MarketView:
    """What the engine knows of the market for pre-trade checks."""

    last_prices: dict[str, Decimal] = field(default_factory=dict)
    known_symbols: frozenset[str] | set[str] = field(default_factory=frozenset)
    market_open: Callable[[datetime], bool] = lambda ts: True
    session_close: Callable[[datetime], datetime | None] = lambda ts: None
    next_open: Callable[[datetime], datetime | None] = lambda ts: None


@dataclass(frozen=True, slots=True)
class SubmitResult:
    order: Order
    check: CheckResult
    duplicate: bool = False


def _same_request(a: OrderRequest, b: OrderRequest) -> bool:
    return a == b


class TradingEngine:
    """One portfolio's order flow from request to ledger.

    Parameters
    ----------
    portfolio_id
        Name used in messages and pre-trade contexts.
    ledger
        The portfolio's ledger (its config decides cash or margin).
    venue
        The paper exchange or a broker venue.
    clock
        Simulated time in backtests, the wall clock live.
    pretrade
        Checks every order passes before it leaves the system; defaults to the basic chain.
    market
        Last prices, known symbols and session state for the checks.
    listener
        Persistence hook (see module docstring).
    """

    def __init__(self, *, portfolio_id: str, ledger: Ledger, venue: Venue, clock: Clock,
                 pretrade: PreTradeChain | None = None, market: MarketView | None = None,
                 listener: EngineListener | None = None) -> None:
        self.portfolio_id = portfolio_id
        self.ledger = ledger
        self.venue = venue
        self.clock = clock
        self.pretrade = pretrade if pretrade is not None else PreTradeChain.basic()
        self.market = market if market is not None else MarketView()
        self.listener = listener
        self.orders: dict[str, Order] = {}
        self._open: dict[str, Order] = {}  # non-terminal orders, kept in step by _apply
        self.groups = OrderGroupManager()
        self.kill_switch = False
        self.kill_switch_reason = ""
        self.global_kill_switch: Callable[[], bool] = lambda: False

    # ------------------------------------------------------------------ queries

    def order(self, client_order_id: str) -> Order:
        try:
            return self.orders[client_order_id]
        except KeyError:
            raise NotFoundError(f"order {client_order_id} not found in portfolio {self.portfolio_id}") from None

    def open_orders(self) -> list[Order]:
        return list(self._open.values())

    def _reserved_cash(self, excluding: str | None = None) -> Decimal:
        """Cash committed to open buy orders at their limit or last price (but ``excluding``)."""
        total = Decimal(0)
        for order in self._open.values():
            request = order.request
            if request.client_order_id == excluding:
                continue
            if request.side.value != "buy":
                continue
            price = request.limit_price or self.market.last_prices.get(request.symbol)
            if price is not None:
                total += order.leaves_quantity * price
        return total

    def context(self, now: datetime, *, excluding: str | None = None) -> PreTradeContext:
        """What the pre-trade checks see; ``excluding`` is the order being checked, whose own
        cost is not yet committed."""
        cash = self.ledger.cash() - self._reserved_cash(excluding)
        positions = {s: p.quantity for s, p in self.ledger.positions().items()}
        return PreTradeContext(
            portfolio_id=self.portfolio_id, now=now,
            account_type=AccountType.MARGIN if self.ledger.config.margin else AccountType.CASH,
            cash=cash, positions=positions, last_prices=self.market.last_prices,
            known_symbols=self.market.known_symbols, market_open=self.market.market_open(now),
            session_close=self.market.session_close(now), next_open=self.market.next_open(now),
            kill_switch_active=self.kill_switch, global_kill_switch_active=self.global_kill_switch(),
        )

    # ------------------------------------------------------------------ commands

    def submit(self, request: OrderRequest) -> SubmitResult:
        """Check and send an order. Idempotent on ``client_order_id``.

        Raises
        ------
        OrderRejected
            When a pre-trade check rejects it; the order is kept, REJECTED, with the reasons.
        StateConflict
            When the client order id was used for a different order.
        """
        now = self.clock.now()
        existing = self.orders.get(request.client_order_id)
        if existing is not None:
            if not _same_request(existing.request, request):
                raise StateConflict(
                    f"client_order_id {request.client_order_id} was already used for a different order")
            return SubmitResult(existing, CheckResult.accept(), duplicate=True)
        order = Order(request, ts_created=now)
        self.orders[request.client_order_id] = order
        self._open[request.client_order_id] = order
        if self.listener:
            self.listener.order_created(order)
        self._apply(order, OrderEvent(client_order_id=request.client_order_id, kind=EventKind.SUBMITTED,
                                      ts_event=now), now)
        check = self.pretrade.check(request, self.context(now, excluding=request.client_order_id))
        if check.decision is Decision.REJECT:
            reasons = "; ".join(f.message for f in check.findings if f.severity is Decision.REJECT)
            self._apply(order, OrderEvent(client_order_id=request.client_order_id, kind=EventKind.REJECTED,
                                          ts_event=now, reason=reasons), now)
            raise OrderRejected(
                f"order {request.client_order_id} rejected: {reasons}",
                details={"client_order_id": request.client_order_id,
                         "findings": [{"rule": f.rule, "message": f.message,
                                       "numbers": {k: str(v) for k, v in f.numbers.items()}}
                                      for f in check.findings]},
            )
        self.process(self.venue.submit(request, now))
        return SubmitResult(order, check)

    def submit_bracket(self, bracket: Bracket) -> SubmitResult:
        """Send a bracket's entry; its take-profit and stop-loss go out as the entry fills."""
        self.groups.add_bracket(bracket)
        return self.submit(bracket.entry)

    def submit_oco(self, requests: Iterable[OrderRequest]) -> list[SubmitResult]:
        """Send orders that cancel (or reduce) each other as one fills."""
        requests = list(requests)
        self.groups.add_oco(requests)
        return [self.submit(r) for r in requests]

    def on_bar(self, symbol: str, ts_open: datetime, open_: float, high: float, low: float, close: float,
               volume: float, *, bar_end: datetime) -> list[JournalEntry]:
        """Feed a bar to a simulated venue and process what it produced."""
        events = self.venue.on_bar(symbol, ts_open, open_, high, low, close, volume, bar_end=bar_end)
        return self.process(events)

    def on_quote(self, symbol: str, ts: datetime, bid: Decimal | float, bid_size: Decimal | float,
                 ask: Decimal | float, ask_size: Decimal | float) -> list[JournalEntry]:
        """Feed a top-of-book quote to a simulated venue (spread crossing, partial fills) and
        process what it produced."""
        return self.process(self.venue.on_quote(symbol, ts, bid, bid_size, ask, ask_size))

    def on_trade(self, symbol: str, ts: datetime, price: Decimal | float, size: Decimal | float) -> list[JournalEntry]:
        """Feed a trade print to a simulated venue (resting limit orders it reaches fill)."""
        return self.process(self.venue.on_trade(symbol, ts, price, size))

    def cancel(self, client_order_id: str) -> Order:
        order = self.order(client_order_id)
        if order.is_terminal:
            raise StateConflict(f"order {client_order_id} is {order.status.value}; nothing to cancel")
        self.process(self.venue.cancel(client_order_id, self.clock.now()))
        return order

    def set_kill_switch(self, active: bool, reason: str = "") -> list[Order]:
        """Trip or release this portfolio's kill switch; tripping cancels every open order."""
        self.kill_switch = active
        self.kill_switch_reason = reason if active else ""
        cancelled = []
        if active:
            for order in self.open_orders():
                self.process(self.venue.cancel(order.client_order_id, self.clock.now()))
                cancelled.append(order)
        return cancelled

    # ------------------------------------------------------------------ events

    def process(self, events: Iterable[OrderEvent]) -> list[JournalEntry]:
        """Apply venue events to orders and post their fills. Returns the new ledger entries."""
        posted: list[JournalEntry] = []
        for event in events:
            order = self.orders.get(event.client_order_id)
            if order is None:
                continue  # an event for an order this engine does not own (reconcile handles it)
            now = self.clock.now()
            if not self._apply(order, event, now):
                continue
            if event.fill is not None:
                already = event.fill.fill_id in self.ledger
                request = order.request
                entry = self.ledger.post(event.fill, lot_method=request.lot_method, lot_ids=request.lot_ids)
                if not already:
                    posted.append(entry)
                    if self.listener:
                        self.listener.entry_posted(entry, event.fill)
            for action in self.groups.on_event(event):
                self._follow_up(action, now)
        return posted

    def _apply(self, order: Order, event: OrderEvent, now: datetime) -> bool:
        changed = order.apply(event, ts_recorded=now)
        if order.is_terminal:
            self._open.pop(order.client_order_id, None)
        if changed and self.listener:
            self.listener.event_applied(order, event, now)
        return changed

    def _follow_up(self, action, now: datetime) -> None:
        kind = action.kind
        if kind is GroupActionKind.ACTIVATE:
            self.submit(action.request)
        elif kind is GroupActionKind.CANCEL:
            order = self.orders.get(action.client_order_id)
            if order is not None and not order.is_terminal:
                self.process(self.venue.cancel(action.client_order_id, now))
        # RESIZE and DISCARD need no venue call for orders not yet sent; resizing working
        # children is done by cancel/replace at the venue (see OrderGroupManager).

    def update_prices(self, prices: Mapping[str, Decimal]) -> None:
        self.market.last_prices.update(prices)
