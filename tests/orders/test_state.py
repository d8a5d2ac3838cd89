"""Tests of the order state machine.

Expected averages are hand arithmetic, exact in Decimal: fills of 30 at 100.10 and 70 at
100.20 have notional 3003.00 + 7014.00 = 10017.00 over 100 shares, an average of 100.17.
The stateful test checks the average against an independent ``fractions.Fraction`` VWAP,
to the 28 significant digits of the default decimal context (relative tolerance 1e-27).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal
from fractions import Fraction

import pytest
from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, precondition, rule

from bifrost.core.errors import InvalidInput, StateConflict
from bifrost.orders import (
    EventKind,
    Fill,
    IllegalTransition,
    Order,
    OrderEvent,
    OrderRequest,
    OrderStatus,
    OrderType,
    Overfill,
    Side,
)

T0 = datetime(2024, 3, 8, 15, 0, tzinfo=UTC)  # Friday 10:00 New York time, XNYS open


def _request(client_order_id: str = "abc", *, quantity: str = "100", side: Side = Side.BUY,
             order_type: OrderType = OrderType.LIMIT, symbol: str = "AAPL") -> OrderRequest:
    return OrderRequest(client_order_id=client_order_id, symbol=symbol, side=side, quantity=Decimal(quantity),
                        order_type=order_type,
                        limit_price=Decimal("100.25") if order_type is OrderType.LIMIT else None,
                        stop_price=Decimal("99.50") if order_type is OrderType.STOP else None)


def _event(kind: EventKind, *, order_id: str = "abc", seconds: int = 1, reason: str = "",
           venue_order_id: str = "", details: dict | None = None) -> OrderEvent:
    return OrderEvent(client_order_id=order_id, kind=kind, ts_event=T0 + timedelta(seconds=seconds),
                      reason=reason, venue_order_id=venue_order_id, details=details or {})


def _fill_event(fill_id: str, quantity: str, price: str, *, order_id: str = "abc",
                kind: EventKind = EventKind.PARTIALLY_FILLED, side: Side = Side.BUY,
                symbol: str = "AAPL") -> OrderEvent:
    fill = Fill(fill_id=fill_id, client_order_id=order_id, symbol=symbol, side=side, quantity=Decimal(quantity),
                price=Decimal(price), ts_event=T0 + timedelta(seconds=2))
    return OrderEvent(client_order_id=order_id, kind=kind, ts_event=fill.ts_event, fill=fill)


def _accepted_order(request: OrderRequest | None = None) -> Order:
    order = Order(request or _request(), ts_created=T0)
    order.apply(_event(EventKind.ACCEPTED, order_id=order.client_order_id, venue_order_id="V-1"),
                ts_recorded=T0 + timedelta(seconds=1, milliseconds=5))
    return order


def _snapshot(order: Order) -> tuple:
    return (order.status, order.filled_quantity, order.leaves_quantity, order.filled_notional,
            order.average_fill_price, len(order.events), order.is_triggered, order.reject_reason,
            order.replaced_by, order.venue_order_id, order.fills)


# -- construction and acceptance -------------------------------------------------------------


def test_order_from_request_starts_new_with_full_leaves():
    request = _request(quantity="250")

    order = Order(request, ts_created=T0)

    assert (order.order_id, order.status, order.filled_quantity, order.leaves_quantity) == (
        "abc", OrderStatus.NEW, Decimal(0), Decimal(250))
    assert order.average_fill_price is None
    assert order.events == []
    assert order.ts_created == T0


def test_order_with_explicit_order_id_keeps_client_id_for_events():
    order = Order(_request(), ts_created=T0, order_id="ord-000017")

    order.apply(_event(EventKind.ACCEPTED), ts_recorded=T0)

    assert (order.order_id, order.client_order_id, order.status) == ("ord-000017", "abc", OrderStatus.ACCEPTED)


def test_order_accepted_sets_status_and_venue_order_id():
    order = Order(_request(), ts_created=T0)

    applied = order.apply(_event(EventKind.ACCEPTED, venue_order_id="V-77"), ts_recorded=T0)

    assert applied is True
    assert (order.status, order.venue_order_id) == (OrderStatus.ACCEPTED, "V-77")


def test_order_submitted_is_recorded_without_changing_status():
    order = Order(_request(), ts_created=T0)

    order.apply(_event(EventKind.SUBMITTED), ts_recorded=T0)

    assert order.status is OrderStatus.NEW
    assert [r.kind for r in order.events] == [EventKind.SUBMITTED]


# -- fills -----------------------------------------------------------------------------------


def test_order_two_fills_reach_filled_with_exact_vwap():
    order = _accepted_order()

    order.apply(_fill_event("f1", "30", "100.10"), ts_recorded=T0)
    partially = (order.status, order.filled_quantity, order.leaves_quantity, order.average_fill_price)
    order.apply(_fill_event("f2", "70", "100.20", kind=EventKind.FILLED), ts_recorded=T0)

    assert partially == (OrderStatus.PARTIALLY_FILLED, Decimal(30), Decimal(70), Decimal("100.10"))
    assert (order.status, order.filled_quantity, order.leaves_quantity) == (OrderStatus.FILLED, Decimal(100),
                                                                            Decimal(0))
    assert order.filled_notional == Decimal("10017.00")
    assert order.average_fill_price == Decimal("100.17")


def test_order_vwap_of_thirds_keeps_exact_notional():
    # 1 @ 10 and 2 @ 11: notional 32 over 3 shares = 10.666..., rounded once at 28 digits.
    order = _accepted_order(_request(quantity="3"))

    order.apply(_fill_event("f1", "1", "10"), ts_recorded=T0)
    order.apply(_fill_event("f2", "2", "11"), ts_recorded=T0)

    assert order.filled_notional == Decimal(32)
    assert order.average_fill_price == Decimal("10.66666666666666666666666667")


def test_order_many_small_fills_do_not_drift_from_vwap():
    order = _accepted_order(_request(quantity="3000"))
    prices = ["187.4401", "187.4399", "187.4433"]

    for i in range(3000):
        order.apply(_fill_event(f"f{i}", "1", prices[i % 3]), ts_recorded=T0)

    # (187.4401 + 187.4399 + 187.4433) / 3 = 562.3233 / 3 = 187.4411 exactly.
    assert order.average_fill_price == Decimal("187.4411")
    assert order.status is OrderStatus.FILLED


def test_order_overfill_is_refused_and_nothing_changes():
    order = _accepted_order()
    order.apply(_fill_event("f1", "80", "100.00"), ts_recorded=T0)
    before = _snapshot(order)

    with pytest.raises(Overfill) as excinfo:
        order.apply(_fill_event("f2", "30", "100.00"), ts_recorded=T0)

    assert str(excinfo.value) == "order abc fill f2 of 30 exceeds leaves quantity 20 (quantity 100, filled 80)"
    assert isinstance(excinfo.value, IllegalTransition) and isinstance(excinfo.value, StateConflict)
    assert _snapshot(order) == before


def test_order_duplicate_fill_id_is_ignored():
    order = _accepted_order()
    event = _fill_event("f1", "40", "100.00")
    order.apply(event, ts_recorded=T0)
    before = _snapshot(order)

    applied = order.apply(event, ts_recorded=T0 + timedelta(seconds=30))

    assert applied is False
    assert _snapshot(order) == before
    assert order.filled_quantity == Decimal(40)


def test_order_duplicate_fill_id_after_filled_is_ignored():
    order = _accepted_order()
    event = _fill_event("f1", "100", "100.00", kind=EventKind.FILLED)
    order.apply(event, ts_recorded=T0)

    applied = order.apply(event, ts_recorded=T0)

    assert (applied, order.status, len(order.events)) == (False, OrderStatus.FILLED, 2)


def test_order_duplicate_fill_id_with_other_contents_raises():
    order = _accepted_order()
    order.apply(_fill_event("f1", "40", "100.00"), ts_recorded=T0)
    before = _snapshot(order)

    with pytest.raises(IllegalTransition) as excinfo:
        order.apply(_fill_event("f1", "50", "100.00"), ts_recorded=T0)

    assert str(excinfo.value) == ("order abc already applied fill f1 with quantity 40 at 100.00; refusing a "
                                  "different fill with the same id (50 at 100.00)")
    assert _snapshot(order) == before


def test_order_status_follows_quantities_not_event_kind():
    order = _accepted_order()

    order.apply(_fill_event("f1", "40", "100.00", kind=EventKind.FILLED), ts_recorded=T0)
    after_first = order.status
    order.apply(_fill_event("f2", "60", "100.00", kind=EventKind.PARTIALLY_FILLED), ts_recorded=T0)

    assert (after_first, order.status) == (OrderStatus.PARTIALLY_FILLED, OrderStatus.FILLED)


def test_order_fill_on_new_order_implies_acceptance():
    order = Order(_request(), ts_created=T0)

    order.apply(_fill_event("f1", "100", "100.25", kind=EventKind.FILLED), ts_recorded=T0)

    assert order.status is OrderStatus.FILLED


def test_order_accepted_after_a_fill_raises():
    order = Order(_request(), ts_created=T0)
    order.apply(_fill_event("f1", "10", "100.25"), ts_recorded=T0)

    with pytest.raises(IllegalTransition) as excinfo:
        order.apply(_event(EventKind.ACCEPTED), ts_recorded=T0)

    assert str(excinfo.value) == "order abc is partially filled; cannot apply accepted"


@pytest.mark.parametrize(("field", "event"), [
    ("side", _fill_event("f1", "10", "100.00", side=Side.SELL)),
    ("symbol", _fill_event("f1", "10", "100.00", symbol="MSFT")),
])
def test_order_fill_for_another_side_or_symbol_raises(field, event):
    order = _accepted_order()

    with pytest.raises(InvalidInput) as excinfo:
        order.apply(event, ts_recorded=T0)

    assert "does not belong to order abc (abc buy AAPL)" in str(excinfo.value)
    assert order.filled_quantity == Decimal(0)


def test_order_event_for_another_order_raises():
    order = _accepted_order()

    with pytest.raises(InvalidInput) as excinfo:
        order.apply(_event(EventKind.CANCELLED, order_id="xyz"), ts_recorded=T0)

    assert str(excinfo.value) == "event for order 'xyz' applied to order 'abc'"
    assert order.status is OrderStatus.ACCEPTED


# -- terminal states and other transitions ---------------------------------------------------


def test_order_cancel_after_filled_raises_with_clear_message():
    order = _accepted_order()
    order.apply(_fill_event("f1", "100", "100.00", kind=EventKind.FILLED), ts_recorded=T0)

    with pytest.raises(IllegalTransition) as excinfo:
        order.apply(_event(EventKind.CANCELLED), ts_recorded=T0)

    assert str(excinfo.value) == "order abc is filled; cannot apply cancelled"
    assert excinfo.value.code == "illegal_transition"
    assert excinfo.value.details == {"order_id": "abc", "status": "filled", "event": "cancelled"}
    assert order.status is OrderStatus.FILLED


def test_order_fill_after_cancel_raises():
    order = _accepted_order()
    order.apply(_event(EventKind.CANCELLED), ts_recorded=T0)

    with pytest.raises(IllegalTransition) as excinfo:
        order.apply(_fill_event("f1", "10", "100.00"), ts_recorded=T0)

    assert str(excinfo.value) == "order abc is cancelled; cannot apply partially filled"
    assert order.filled_quantity == Decimal(0)


def test_order_cancel_after_partial_fill_keeps_fills_and_stops_working():
    order = _accepted_order()
    order.apply(_fill_event("f1", "40", "100.00"), ts_recorded=T0)

    order.apply(_event(EventKind.CANCELLED, reason="user request"), ts_recorded=T0)

    assert (order.status, order.filled_quantity, order.leaves_quantity, order.working_quantity) == (
        OrderStatus.CANCELLED, Decimal(40), Decimal(60), Decimal(0))
    assert order.is_terminal


def test_order_rejected_records_reason():
    order = Order(_request(), ts_created=T0)

    order.apply(_event(EventKind.REJECTED, reason="insufficient buying power"), ts_recorded=T0)

    assert (order.status, order.reject_reason) == (OrderStatus.REJECTED, "insufficient buying power")
    assert order.events[-1].reason == "insufficient buying power"


def test_order_rejected_without_reason_says_so():
    order = Order(_request(), ts_created=T0)

    order.apply(_event(EventKind.REJECTED), ts_recorded=T0)

    assert order.reject_reason == "venue gave no reason"


def test_order_expired_from_accepted_is_terminal():
    order = _accepted_order()

    order.apply(_event(EventKind.EXPIRED, reason="DAY order at session close"), ts_recorded=T0)

    assert (order.status, order.is_terminal, order.working_quantity) == (OrderStatus.EXPIRED, True, Decimal(0))


def test_order_triggered_on_stop_keeps_status():
    order = _accepted_order(_request(order_type=OrderType.STOP, side=Side.SELL))

    order.apply(_event(EventKind.TRIGGERED), ts_recorded=T0)

    assert (order.status, order.is_triggered) == (OrderStatus.ACCEPTED, True)
    assert order.events[-1].kind is EventKind.TRIGGERED


def test_order_triggered_on_limit_order_raises():
    order = _accepted_order()

    with pytest.raises(IllegalTransition) as excinfo:
        order.apply(_event(EventKind.TRIGGERED), ts_recorded=T0)

    assert str(excinfo.value) == "order abc is a limit order; cannot apply triggered"
    assert order.is_triggered is False


def test_order_triggered_before_acceptance_raises():
    order = Order(_request(order_type=OrderType.STOP, side=Side.SELL), ts_created=T0)

    with pytest.raises(IllegalTransition) as excinfo:
        order.apply(_event(EventKind.TRIGGERED), ts_recorded=T0)

    assert str(excinfo.value) == "order abc is new; cannot apply triggered"


def test_order_conflicting_venue_order_id_raises():
    order = _accepted_order()

    with pytest.raises(InvalidInput) as excinfo:
        order.apply(_event(EventKind.CANCELLED, venue_order_id="V-2"), ts_recorded=T0)

    assert str(excinfo.value) == "order abc has venue_order_id 'V-1'; event carries 'V-2'"
    assert order.status is OrderStatus.ACCEPTED


# -- records ---------------------------------------------------------------------------------


def test_order_records_every_event_with_both_timestamps():
    order = Order(_request(), ts_created=T0)
    learned = T0 + timedelta(seconds=1, milliseconds=250)

    order.apply(_event(EventKind.ACCEPTED, seconds=1), ts_recorded=learned)
    fill_event = _fill_event("f1", "100", "100.00", kind=EventKind.FILLED)
    order.apply(fill_event, ts_recorded=learned + timedelta(seconds=2))

    first, second = order.events
    assert (first.kind, first.ts_event, first.ts_recorded, first.reason, first.fill) == (
        EventKind.ACCEPTED, T0 + timedelta(seconds=1), learned, "", None)
    assert (second.kind, second.ts_recorded, second.fill) == (
        EventKind.FILLED, learned + timedelta(seconds=2), fill_event.fill)


def test_order_ts_recorded_in_other_zone_is_stored_in_utc():
    order = Order(_request(), ts_created=T0)
    new_york = timezone(timedelta(hours=-5))

    order.apply(_event(EventKind.ACCEPTED), ts_recorded=datetime(2024, 3, 8, 10, 0, 1, tzinfo=new_york))

    assert order.events[0].ts_recorded == datetime(2024, 3, 8, 15, 0, 1, tzinfo=UTC)
    assert order.events[0].ts_recorded.tzinfo is UTC


def test_order_naive_ts_recorded_raises_and_records_nothing():
    order = Order(_request(), ts_created=T0)

    with pytest.raises(InvalidInput) as excinfo:
        order.apply(_event(EventKind.ACCEPTED), ts_recorded=datetime(2024, 3, 8, 15, 0))

    assert str(excinfo.value) == "ts_recorded must be timezone-aware, was naive 2024-03-08T15:00:00"
    assert (order.status, order.events) == (OrderStatus.NEW, [])


# -- cancel/replace --------------------------------------------------------------------------


def test_order_replace_links_orders_and_marks_original_replaced():
    original = _accepted_order()
    original.apply(_fill_event("f1", "30", "100.00"), ts_recorded=T0)
    new_request = OrderRequest(client_order_id="abc-r1", symbol="AAPL", side=Side.BUY, quantity=Decimal(70),
                               order_type=OrderType.LIMIT, limit_price=Decimal("100.40"))

    replacement = original.replace(new_request, ts_event=T0 + timedelta(seconds=5),
                                   ts_recorded=T0 + timedelta(seconds=6), reason="reprice")

    assert (original.status, original.replaced_by, original.filled_quantity) == (
        OrderStatus.REPLACED, "abc-r1", Decimal(30))
    assert (replacement.status, replacement.replaces, replacement.quantity, replacement.filled_quantity) == (
        OrderStatus.NEW, "abc", Decimal(70), Decimal(0))
    assert replacement.ts_created == T0 + timedelta(seconds=5)
    assert (original.events[-1].kind, original.events[-1].reason) == (EventKind.REPLACED, "reprice")


def test_order_replaced_event_with_replacement_id_links_original():
    order = _accepted_order()

    order.apply(_event(EventKind.REPLACED, details={"replaced_by": "abc-r2"}), ts_recorded=T0)

    assert (order.status, order.replaced_by) == (OrderStatus.REPLACED, "abc-r2")


def test_order_replace_of_filled_order_raises():
    order = _accepted_order()
    order.apply(_fill_event("f1", "100", "100.00"), ts_recorded=T0)

    with pytest.raises(IllegalTransition) as excinfo:
        order.replace(_request("abc-r1"), ts_event=T0, ts_recorded=T0)

    assert str(excinfo.value) == "order abc is filled; cannot apply replaced"


def test_order_replace_changing_side_raises():
    order = _accepted_order()

    with pytest.raises(InvalidInput) as excinfo:
        order.replace(_request("abc-r1", side=Side.SELL), ts_event=T0, ts_recorded=T0)

    assert str(excinfo.value) == "a replacement must keep symbol and side (buy AAPL), was sell AAPL"
    assert order.status is OrderStatus.ACCEPTED


def test_order_replace_reusing_client_id_raises():
    order = _accepted_order()

    with pytest.raises(InvalidInput) as excinfo:
        order.replace(_request("abc"), ts_event=T0, ts_recorded=T0)

    assert str(excinfo.value) == "a replacement needs a new client_order_id, was 'abc' (the original's)"
    assert order.status is OrderStatus.ACCEPTED


# -- stateful: random legal and illegal events -----------------------------------------------

S, K = OrderStatus, EventKind
LIVE = {S.NEW, S.ACCEPTED, S.PARTIALLY_FILLED}
# The lifecycle as specified, written out independently of the implementation's tables.
ALLOWED_FROM = {
    K.SUBMITTED: {S.NEW},
    K.ACCEPTED: {S.NEW},
    K.CANCELLED: LIVE,
    K.REJECTED: LIVE,
    K.EXPIRED: LIVE,
    K.TRIGGERED: {S.ACCEPTED, S.PARTIALLY_FILLED},
}
STATUS_AFTER = {K.SUBMITTED: None, K.ACCEPTED: S.ACCEPTED, K.CANCELLED: S.CANCELLED, K.REJECTED: S.REJECTED,
                K.EXPIRED: S.EXPIRED, K.TRIGGERED: None}


class OrderLifecycle(RuleBasedStateMachine):
    """Drive one order with random events; a model predicts legality and the VWAP."""

    @initialize(hundredths=st.integers(min_value=1, max_value=50_000), stop=st.booleans(),
                side=st.sampled_from(Side))
    def create(self, hundredths, stop, side):
        self.quantity = Decimal(hundredths).scaleb(-2)
        self.side = side
        self.request = OrderRequest(client_order_id="sm-1", symbol="MSFT", side=side, quantity=self.quantity,
                                    order_type=OrderType.STOP if stop else OrderType.LIMIT,
                                    stop_price=Decimal("410.00") if stop else None,
                                    limit_price=None if stop else Decimal("410.00"))
        self.order = Order(self.request, ts_created=T0)
        self.status = S.NEW
        self.fills: list[tuple[Decimal, Decimal]] = []
        self.applied: list[OrderEvent] = []
        self.next_fill = 0
        self.terminal_status = None
        self.events_applied = 0
        self.tick = 0

    def _ts(self) -> datetime:
        self.tick += 1
        return T0 + timedelta(milliseconds=self.tick)

    @rule(kind=st.sampled_from(sorted(ALLOWED_FROM)), reason=st.sampled_from(["", "venue said no"]))
    def status_event(self, kind, reason):
        event = OrderEvent(client_order_id="sm-1", kind=kind, ts_event=self._ts(), reason=reason)
        legal = self.status in ALLOWED_FROM[kind] and (
            kind is not K.TRIGGERED or self.request.order_type is OrderType.STOP)
        before = _snapshot(self.order)
        if legal:
            assert self.order.apply(event, ts_recorded=self._ts()) is True
            self.status = STATUS_AFTER[kind] or self.status
            self.events_applied += 1
        else:
            with pytest.raises(IllegalTransition):
                self.order.apply(event, ts_recorded=self._ts())
            assert _snapshot(self.order) == before

    @rule(hundredths=st.integers(min_value=1, max_value=60_000),
          price_ticks=st.integers(min_value=1, max_value=10_000_000),
          kind=st.sampled_from([K.PARTIALLY_FILLED, K.FILLED]))
    def fill(self, hundredths, price_ticks, kind):
        quantity = Decimal(hundredths).scaleb(-2)
        price = Decimal(price_ticks).scaleb(-4)
        self.next_fill += 1
        fill = Fill(fill_id=f"F{self.next_fill}", client_order_id="sm-1", symbol="MSFT", side=self.side,
                    quantity=quantity, price=price, ts_event=self._ts())
        event = OrderEvent(client_order_id="sm-1", kind=kind, ts_event=fill.ts_event, fill=fill)
        filled = sum((q for q, _ in self.fills), Decimal(0))
        before = _snapshot(self.order)
        if self.status not in LIVE:
            with pytest.raises(IllegalTransition) as excinfo:
                self.order.apply(event, ts_recorded=self._ts())
            assert not isinstance(excinfo.value, Overfill)
            assert _snapshot(self.order) == before
        elif quantity > self.quantity - filled:
            with pytest.raises(Overfill):
                self.order.apply(event, ts_recorded=self._ts())
            assert _snapshot(self.order) == before
        else:
            assert self.order.apply(event, ts_recorded=self._ts()) is True
            self.fills.append((quantity, price))
            self.applied.append(event)
            self.events_applied += 1
            self.status = S.FILLED if filled + quantity == self.quantity else S.PARTIALLY_FILLED

    @precondition(lambda self: self.applied)
    @rule(data=st.data())
    def repeat_fill(self, data):
        event = data.draw(st.sampled_from(self.applied))
        before = _snapshot(self.order)

        assert self.order.apply(event, ts_recorded=self._ts()) is False

        assert _snapshot(self.order) == before

    @rule()
    def replace(self):
        request = OrderRequest(client_order_id=f"sm-r{self.tick}", symbol="MSFT", side=self.side,
                               quantity=self.quantity, order_type=OrderType.MARKET)
        before = _snapshot(self.order)
        if self.status in LIVE:
            replacement = self.order.replace(request, ts_event=self._ts(), ts_recorded=self._ts())
            assert (replacement.replaces, self.order.replaced_by) == ("sm-1", request.client_order_id)
            assert replacement.status is S.NEW
            self.status = S.REPLACED
            self.events_applied += 1
        else:
            with pytest.raises(IllegalTransition):
                self.order.replace(request, ts_event=self._ts(), ts_recorded=self._ts())
            assert _snapshot(self.order) == before

    @invariant()
    def quantities_add_up(self):
        order = self.order
        assert Decimal(0) <= order.filled_quantity <= order.quantity
        assert order.leaves_quantity == order.quantity - order.filled_quantity
        assert order.filled_quantity == sum((q for q, _ in self.fills), Decimal(0))
        assert (order.status is S.FILLED) == (order.filled_quantity == order.quantity)

    @invariant()
    def status_matches_model_and_terminal_never_changes(self):
        assert self.order.status is self.status
        if self.terminal_status is not None:
            assert self.order.status is self.terminal_status
        elif self.order.is_terminal:
            self.terminal_status = self.order.status
        assert len(self.order.events) == self.events_applied

    @invariant()
    def average_price_is_exact_vwap(self):
        order = self.order
        if not self.fills:
            assert order.average_fill_price is None
            return
        notional = sum((Fraction(q) * Fraction(p) for q, p in self.fills), Fraction(0))
        vwap = notional / sum((Fraction(q) for q, _ in self.fills), Fraction(0))
        assert Fraction(order.filled_notional) == notional
        assert abs(Fraction(order.average_fill_price) - vwap) <= vwap * Fraction(1, 10**27)


OrderLifecycle.TestCase.settings = settings(max_examples=300, stateful_step_count=40, deadline=None)
test_order_lifecycle_random_events_keep_invariants = OrderLifecycle.TestCase
