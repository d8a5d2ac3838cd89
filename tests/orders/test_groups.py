"""Tests of brackets, OCO groups and the group manager.

Quantities are hand arithmetic: an entry of 100 filled 40 then 60 should leave children
working 40, then 100; a take profit filling 30 of 100 should leave the stop working 70.
"""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bifrost.core.errors import InvalidInput, StateConflict
from bifrost.orders import (
    Bracket,
    EventKind,
    Fill,
    GroupAction,
    GroupActionKind,
    Order,
    OrderEvent,
    OrderGroupManager,
    OrderRequest,
    OrderStatus,
    OrderType,
    Side,
    TimeInForce,
    make_bracket,
)

T0 = datetime(2024, 3, 8, 15, 0, tzinfo=UTC)
A = GroupActionKind


def _entry(client_order_id: str = "E1", *, side: Side = Side.BUY, quantity: str = "100",
           order_type: OrderType = OrderType.LIMIT, limit_price: str | None = "187.50",
           stop_price: str | None = None) -> OrderRequest:
    return OrderRequest(client_order_id=client_order_id, symbol="AAPL", side=side, quantity=Decimal(quantity),
                        order_type=order_type, time_in_force=TimeInForce.DAY,
                        limit_price=Decimal(limit_price) if limit_price else None,
                        stop_price=Decimal(stop_price) if stop_price else None, tag="breakout")


def _long_bracket(quantity: str = "100") -> Bracket:
    return make_bracket(_entry(quantity=quantity), take_profit_price=Decimal("195.00"),
                        stop_loss_price=Decimal("183.00"))


_fill_ids = iter(range(1, 10**9))


def _fill(order_id: str, quantity: str, price: str = "187.50", *, side: Side = Side.BUY,
          fill_id: str | None = None) -> OrderEvent:
    fill = Fill(fill_id=fill_id or f"F{next(_fill_ids)}", client_order_id=order_id, symbol="AAPL", side=side,
                quantity=Decimal(quantity), price=Decimal(price), ts_event=T0)
    return OrderEvent(client_order_id=order_id, kind=EventKind.PARTIALLY_FILLED, ts_event=T0, fill=fill)


def _event(order_id: str, kind: EventKind, **details) -> OrderEvent:
    return OrderEvent(client_order_id=order_id, kind=kind, ts_event=T0, details=details)


def _summary(actions: list[GroupAction]) -> list[tuple[str, str, Decimal]]:
    return [(a.kind.value, a.client_order_id, a.quantity) for a in actions]


# -- make_bracket ----------------------------------------------------------------------------


def test_make_bracket_long_builds_opposite_side_children_in_one_oco_group():
    entry = _entry()

    bracket = make_bracket(entry, take_profit_price=Decimal("195.00"), stop_loss_price=Decimal("183.00"))

    tp, sl = bracket.take_profit, bracket.stop_loss
    assert bracket.entry is entry
    assert (tp.client_order_id, tp.side, tp.order_type, tp.limit_price, tp.quantity) == (
        "E1-tp", Side.SELL, OrderType.LIMIT, Decimal("195.00"), Decimal(100))
    assert (sl.client_order_id, sl.side, sl.order_type, sl.stop_price, sl.quantity) == (
        "E1-sl", Side.SELL, OrderType.STOP, Decimal("183.00"), Decimal(100))
    assert {tp.oco_group, sl.oco_group, bracket.oco_group} == {"E1-oco"}
    assert (tp.parent_id, sl.parent_id) == ("E1", "E1")
    assert (tp.time_in_force, sl.time_in_force, tp.tag) == (TimeInForce.GTC, TimeInForce.GTC, "breakout")


def test_make_bracket_short_mirrors_the_children():
    entry = _entry(side=Side.SELL, limit_price="187.50")

    bracket = make_bracket(entry, take_profit_price="180", stop_loss_price="191.25", take_profit_id="short-tp",
                           stop_loss_id="short-sl", oco_group="grp-7")

    assert (bracket.take_profit.side, bracket.take_profit.limit_price, bracket.take_profit.client_order_id) == (
        Side.BUY, Decimal(180), "short-tp")
    assert (bracket.stop_loss.side, bracket.stop_loss.stop_price, bracket.stop_loss.oco_group) == (
        Side.BUY, Decimal("191.25"), "grp-7")


def test_make_bracket_trailing_stop_loss_builds_trailing_child():
    entry = _entry(order_type=OrderType.MARKET, limit_price=None)

    bracket = make_bracket(entry, take_profit_price="195", stop_loss_trail_percent="2.5",
                           reference_price="187.40")

    sl = bracket.stop_loss
    assert (sl.order_type, sl.trail_percent, sl.trail_amount, sl.stop_price) == (
        OrderType.TRAILING_STOP, Decimal("2.5"), None, None)


def test_make_bracket_stop_limit_stop_loss_builds_stop_limit_child():
    bracket = make_bracket(_entry(), take_profit_price="195", stop_loss_price="183", stop_loss_limit_price="182.50")

    assert (bracket.stop_loss.order_type, bracket.stop_loss.stop_price, bracket.stop_loss.limit_price) == (
        OrderType.STOP_LIMIT, Decimal(183), Decimal("182.50"))


@pytest.mark.parametrize(("entry", "kwargs", "message"), [
    (_entry(), {"take_profit_price": "183", "stop_loss_price": "195"},
     "take_profit_price 183 must be above stop_loss_price 195 for a long (buy) entry"),
    (_entry(side=Side.SELL), {"take_profit_price": "195", "stop_loss_price": "183"},
     "take_profit_price 195 must be below stop_loss_price 183 for a short (sell) entry"),
    (_entry(), {"take_profit_price": "186", "stop_loss_price": "183"},
     "take_profit_price 186 must be above the entry limit_price 187.50 for a long (buy) entry"),
    (_entry(), {"take_profit_price": "195", "stop_loss_price": "188"},
     "stop_loss_price 188 must be below the entry limit_price 187.50 for a long (buy) entry"),
    (_entry(order_type=OrderType.STOP, limit_price=None, stop_price="190"),
     {"take_profit_price": "195", "stop_loss_price": "191"},
     "stop_loss_price 191 must be below the entry stop_price 190 for a long (buy) entry"),
    (_entry(order_type=OrderType.MARKET, limit_price=None),
     {"take_profit_price": "195", "stop_loss_price": "183", "reference_price": "196"},
     "take_profit_price 195 must be above the reference_price 196 for a long (buy) entry"),
    (_entry(), {"take_profit_price": "195", "stop_loss_price": "183", "stop_loss_limit_price": "184"},
     "stop_loss_limit_price 184 must be at or below stop_loss_price 183 for a long (buy) entry "
     "(the exit sells through the stop)"),
    (_entry(), {"take_profit_price": "195", "stop_loss_trail_amount": "200"},
     "stop_loss_trail_amount 200 must be below the entry limit_price 187.50 for a long (buy) entry, or the stop "
     "would start at or below zero"),
    (_entry(), {"take_profit_price": "195"},
     "a bracket needs exactly one of stop_loss_price, stop_loss_trail_amount or stop_loss_trail_percent, was "
     "given none"),
    (_entry(), {"take_profit_price": "195", "stop_loss_price": "183", "stop_loss_trail_amount": "2"},
     "a bracket needs exactly one of stop_loss_price, stop_loss_trail_amount or stop_loss_trail_percent, was "
     "given stop_loss_price, stop_loss_trail_amount"),
    (_entry(), {"take_profit_price": "0", "stop_loss_price": "183"}, "take_profit_price must be positive, was 0"),
    (_entry("E" * 62), {"take_profit_price": "195", "stop_loss_price": "183"},
     "take_profit_id must be at most 64 characters, was '" + "E" * 62 + "-tp' (65); pass explicit ids for long "
     "entry ids"),
])
def test_make_bracket_inconsistent_prices_raise_clear_errors(entry, kwargs, message):
    with pytest.raises(InvalidInput) as excinfo:
        make_bracket(entry, **kwargs)

    assert str(excinfo.value) == message


def test_make_bracket_entry_already_in_a_group_raises():
    entry = OrderRequest(client_order_id="E9", symbol="AAPL", side=Side.BUY, quantity=Decimal(10),
                         oco_group="other")

    with pytest.raises(InvalidInput) as excinfo:
        make_bracket(entry, take_profit_price="195", stop_loss_price="183")

    assert str(excinfo.value) == ("a bracket entry must not already belong to a group, entry 'E9' has "
                                  "parent_id=None, oco_group='other'")


# -- the manager on brackets -----------------------------------------------------------------


def test_manager_entry_fill_activates_both_children():
    manager = OrderGroupManager()
    bracket = _long_bracket()
    manager.add_bracket(bracket)

    actions = manager.on_event(_fill("E1", "100"))

    assert _summary(actions) == [("activate", "E1-tp", Decimal(100)), ("activate", "E1-sl", Decimal(100))]
    assert actions[0].request == bracket.take_profit
    assert actions[1].request == bracket.stop_loss


def test_manager_children_wait_for_the_entry_fill():
    manager = OrderGroupManager()
    manager.add_bracket(_long_bracket())

    actions = [manager.on_event(_event("E1", kind)) for kind in (EventKind.SUBMITTED, EventKind.ACCEPTED)]

    assert actions == [[], []]


def test_manager_partial_entry_fill_sizes_children_then_grows_them():
    manager = OrderGroupManager()
    manager.add_bracket(_long_bracket())

    first = manager.on_event(_fill("E1", "40"))
    second = manager.on_event(_fill("E1", "60"))

    assert _summary(first) == [("activate", "E1-tp", Decimal(40)), ("activate", "E1-sl", Decimal(40))]
    assert (first[0].request.quantity, first[0].request.limit_price) == (Decimal(40), Decimal("195.00"))
    assert _summary(second) == [("resize", "E1-tp", Decimal(100)), ("resize", "E1-sl", Decimal(100))]


def test_manager_take_profit_fill_cancels_stop_loss():
    manager = OrderGroupManager()
    manager.add_bracket(_long_bracket())
    manager.on_event(_fill("E1", "100"))

    actions = manager.on_event(_fill("E1-tp", "100", "195.00", side=Side.SELL))

    assert _summary(actions) == [("cancel", "E1-sl", Decimal(0))]
    assert actions[0].reason == "E1-tp filled the group's 100"


def test_manager_partial_take_profit_reduces_stop_then_full_cancels_it():
    manager = OrderGroupManager()
    manager.add_bracket(_long_bracket())
    manager.on_event(_fill("E1", "100"))

    partial = manager.on_event(_fill("E1-tp", "30", "195.00", side=Side.SELL))
    rest = manager.on_event(_fill("E1-tp", "70", "195.00", side=Side.SELL))

    assert _summary(partial) == [("resize", "E1-sl", Decimal(70))]
    assert _summary(rest) == [("cancel", "E1-sl", Decimal(0))]


def test_manager_stop_fill_while_entry_working_cancels_entry_rest_and_take_profit():
    manager = OrderGroupManager()
    manager.add_bracket(_long_bracket())
    manager.on_event(_fill("E1", "40"))

    actions = manager.on_event(_fill("E1-sl", "40", "183.00", side=Side.SELL))

    assert _summary(actions) == [("cancel", "E1", Decimal(0)), ("cancel", "E1-tp", Decimal(0))]


def test_manager_entry_cancelled_unfilled_discards_children():
    manager = OrderGroupManager()
    manager.add_bracket(_long_bracket())

    actions = manager.on_event(_event("E1", EventKind.EXPIRED))

    assert _summary(actions) == [("discard", "E1-tp", Decimal(0)), ("discard", "E1-sl", Decimal(0))]
    assert actions[0].reason == "entry expired before any fill"


def test_manager_entry_cancelled_after_partial_fill_keeps_children():
    manager = OrderGroupManager()
    manager.add_bracket(_long_bracket())
    manager.on_event(_fill("E1", "40"))

    actions = manager.on_event(_event("E1", EventKind.CANCELLED))

    assert actions == []


def test_manager_duplicate_fill_produces_no_second_action():
    manager = OrderGroupManager()
    manager.add_bracket(_long_bracket())
    event = _fill("E1", "40", fill_id="dup-1")
    manager.on_event(event)

    actions = manager.on_event(event)

    assert actions == []


def test_manager_follows_a_child_replaced_by_cancel_replace():
    manager = OrderGroupManager()
    manager.add_bracket(_long_bracket())
    manager.on_event(_fill("E1", "100"))
    manager.on_event(_fill("E1-tp", "30", "195.00", side=Side.SELL))  # resize stop to 70
    manager.on_event(_event("E1-sl", EventKind.REPLACED, replaced_by="E1-sl-r1"))

    actions = manager.on_event(_fill("E1-tp", "70", "195.00", side=Side.SELL))

    assert _summary(actions) == [("cancel", "E1-sl-r1", Decimal(0))]


def test_manager_ignores_events_of_orders_outside_groups():
    manager = OrderGroupManager()
    manager.add_bracket(_long_bracket())

    actions = manager.on_event(_fill("LONE-1", "10"))

    assert actions == []


def test_manager_same_group_twice_raises():
    manager = OrderGroupManager()
    manager.add_bracket(_long_bracket())

    with pytest.raises(StateConflict) as excinfo:
        manager.add_bracket(_long_bracket())

    assert str(excinfo.value) == "oco_group 'E1-oco' is already tracked"


def test_manager_drives_real_orders_through_a_bracket():
    # The executor's loop: apply each event to its Order, then carry out the manager's actions.
    manager = OrderGroupManager()
    bracket = _long_bracket()
    manager.add_bracket(bracket)
    orders = {"E1": Order(bracket.entry, ts_created=T0)}

    def deliver(event: OrderEvent) -> None:
        orders[event.client_order_id].apply(event, ts_recorded=T0)
        for action in manager.on_event(event):
            if action.kind is A.ACTIVATE:
                orders[action.client_order_id] = Order(action.request, ts_created=T0)
            elif action.kind is A.CANCEL:
                deliver(_event(action.client_order_id, EventKind.CANCELLED))

    deliver(_event("E1", EventKind.ACCEPTED))
    deliver(_fill("E1", "100"))
    deliver(_event("E1-tp", EventKind.ACCEPTED))
    deliver(_event("E1-sl", EventKind.ACCEPTED))
    deliver(_fill("E1-tp", "100", "195.00", side=Side.SELL))

    assert {k: o.status for k, o in orders.items()} == {
        "E1": OrderStatus.FILLED, "E1-tp": OrderStatus.FILLED, "E1-sl": OrderStatus.CANCELLED}


# -- generic OCO -----------------------------------------------------------------------------


def _oco_pair() -> list[OrderRequest]:
    return [OrderRequest(client_order_id=cid, symbol="AAPL", side=Side.BUY, quantity=Decimal(100),
                         order_type=OrderType.LIMIT, limit_price=Decimal(price), oco_group="dip")
            for cid, price in (("B1", "180.00"), ("B2", "175.00"))]


def test_manager_oco_partial_fill_reduces_sibling_and_full_fill_cancels_it():
    manager = OrderGroupManager()
    manager.add_oco(_oco_pair())

    partial = manager.on_event(_fill("B1", "30", "180.00"))
    rest = manager.on_event(_fill("B1", "70", "180.00"))

    assert _summary(partial) == [("resize", "B2", Decimal(70))]
    assert _summary(rest) == [("cancel", "B2", Decimal(0))]


def test_manager_oco_members_of_different_quantity_raise():
    first, second = _oco_pair()
    second = OrderRequest(client_order_id="B2", symbol="AAPL", side=Side.BUY, quantity=Decimal(50),
                          order_type=OrderType.LIMIT, limit_price=Decimal("175.00"), oco_group="dip")

    with pytest.raises(InvalidInput) as excinfo:
        OrderGroupManager().add_oco([first, second])

    assert str(excinfo.value) == "OCO members must have one quantity, 'B1' has 100 and 'B2' has 50"


# -- property: the exits always cover exactly the open position ------------------------------


@settings(max_examples=200, deadline=None)
@given(data=st.data())
def test_manager_live_children_always_cover_the_open_position(data):
    manager = OrderGroupManager()
    manager.add_bracket(_long_bracket("100"))
    entry_filled = exits_filled = Decimal(0)
    working: dict[str, Decimal] = {}  # rebuilt only from actions and fills
    live: set[str] = set()
    entry_live = True

    for _ in range(data.draw(st.integers(min_value=1, max_value=12))):
        choices = (["entry"] if entry_live and entry_filled < 100 else []) + sorted(
            c for c in live if working[c] > 0)
        if not choices:
            break
        who = data.draw(st.sampled_from(choices))
        if who == "entry":
            quantity = Decimal(data.draw(st.integers(min_value=1, max_value=int(100 - entry_filled))))
            actions = manager.on_event(_fill("E1", str(quantity)))
            entry_filled += quantity
        else:
            quantity = Decimal(data.draw(st.integers(min_value=1, max_value=int(working[who]))))
            actions = manager.on_event(_fill(who, str(quantity), "190.00", side=Side.SELL))
            exits_filled += quantity
            working[who] -= quantity
            if working[who] == 0:
                live.discard(who)
        for action in actions:
            if action.kind in (A.ACTIVATE, A.RESIZE):
                working[action.client_order_id] = action.quantity
                live.add(action.client_order_id)
            elif action.client_order_id == "E1":
                entry_live = False
            else:
                live.discard(action.client_order_id)

        position = entry_filled - exits_filled
        assert Decimal(0) <= position
        assert all(working[c] == position for c in live), (working, live, position)
        if exits_filled > 0:  # an exit fill ends whatever of the entry was still working
            assert not entry_live or entry_filled == 100
