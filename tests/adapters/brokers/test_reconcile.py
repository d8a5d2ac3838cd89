"""Reconciliation: worked scenarios with the expected report lines and repair actions.

Each scenario is small enough to check by hand; the expected lines and actions are
written out in full. The last tests reconcile against orders and positions mapped
from the recorded Alpaca docs examples, and check an invariant with Hypothesis.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bifrost.adapters.brokers import (
    AdjustPosition,
    AlpacaBroker,
    BrokerOrder,
    BrokerPosition,
    FetchFills,
    FlagForReview,
    MarkOrderStatus,
    OrderSnapshot,
    PositionSnapshot,
    reconcile,
    repair_actions,
)
from bifrost.core.errors import InvalidInput
from bifrost.orders.types import OrderStatus, OrderType, Side, TimeInForce

from .replay import AlpacaReplayAdapter

T0 = datetime(2024, 12, 10, 14, 30, tzinfo=UTC)


def ours(client_order_id: str, symbol: str, side: Side, quantity: str, filled: str,
         status: OrderStatus) -> OrderSnapshot:
    return OrderSnapshot(client_order_id=client_order_id, symbol=symbol, side=side, quantity=Decimal(quantity),
                         filled_quantity=Decimal(filled), status=status)


def theirs(client_order_id: str, symbol: str, side: Side, quantity: str, filled: str, status: OrderStatus,
           *, submitted_at: datetime = T0, broker_order_id: str | None = None) -> BrokerOrder:
    return BrokerOrder(
        client_order_id=client_order_id, broker_order_id=broker_order_id or f"alp-{client_order_id}",
        symbol=symbol, side=side, quantity=Decimal(quantity), filled_quantity=Decimal(filled),
        avg_fill_price=Decimal("100") if Decimal(filled) > 0 else None, status=status,
        order_type=OrderType.MARKET, time_in_force=TimeInForce.DAY, submitted_at=submitted_at, updated_at=submitted_at,
    )


def position(symbol: str, quantity: str) -> PositionSnapshot:
    return PositionSnapshot(symbol=symbol, quantity=Decimal(quantity))


def broker_position(symbol: str, quantity: str) -> BrokerPosition:
    q = Decimal(quantity)
    return BrokerPosition(symbol=symbol, quantity=q, avg_entry_price=Decimal("100"), market_value=q * 100,
                          cost_basis=q * 100)


def test_reconcile_matching_books_reports_clean_with_no_actions() -> None:
    report = reconcile(
        [ours("c-1", "AAPL", Side.BUY, "100", "100", OrderStatus.FILLED)], [position("AAPL", "100")],
        [theirs("c-1", "AAPL", Side.BUY, "100", "100", OrderStatus.FILLED)], [broker_position("AAPL", "100")],
    )

    assert report.is_clean
    assert report.lines == []
    assert report.summary == "in line with the broker (1 orders matched)"
    assert repair_actions(report) == []


def test_reconcile_ours_accepted_broker_filled_fetches_missing_fills_without_adjustment() -> None:
    # We hold 100 AAPL and sent a 20-share buy; the broker filled it and holds 120.
    report = reconcile(
        [ours("c-1", "AAPL", Side.BUY, "20", "0", OrderStatus.ACCEPTED)], [position("AAPL", "100")],
        [theirs("c-1", "AAPL", Side.BUY, "20", "20", OrderStatus.FILLED)], [broker_position("AAPL", "120")],
    )

    assert report.lines == [
        "order c-1 (AAPL buy 20): status ours accepted, broker filled",
        "order c-1 (AAPL buy 20): filled ours 0, broker 20 (+20, missing fills)",
        "AAPL position: ours 100, broker 120 (+20)",
    ]
    assert repair_actions(report) == [
        FetchFills(since=T0, client_order_ids=("c-1",), reason="the broker reports fills we have not booked"),
        MarkOrderStatus(client_order_id="c-1", status=OrderStatus.FILLED, filled_quantity=Decimal("20"),
                        reason="broker reports filled (ours accepted)", needs_review=False),
    ]  # the +20 is the missing fill: no position adjustment


def test_reconcile_unexplained_position_difference_adjusts_with_review() -> None:
    report = reconcile([], [position("AAPL", "100")], [], [broker_position("AAPL", "120")])

    assert report.lines == ["AAPL position: ours 100, broker 120 (+20)"]
    (action,) = repair_actions(report)
    assert action == AdjustPosition(symbol="AAPL", quantity_change=Decimal("20"), ours_quantity=Decimal("100"),
                                    broker_quantity=Decimal("120"), reason="broker 120, ours 100", needs_review=True)
    assert action.description == (
        "AAPL: adjust position by +20 with a reconciliation ledger entry (needs review): broker 120, ours 100")


def test_reconcile_missing_fills_explain_part_of_short_position_adjusts_the_rest() -> None:
    # Ours flat in TSLA; the broker is short 5. A 3-share sell filled that we missed; 2 are unexplained.
    report = reconcile(
        [ours("c-7", "TSLA", Side.SELL, "3", "0", OrderStatus.ACCEPTED)], [],
        [theirs("c-7", "TSLA", Side.SELL, "3", "3", OrderStatus.FILLED)], [broker_position("TSLA", "-5")],
    )

    assert report.lines[-1] == "TSLA position: ours 0, broker -5 (-5)"
    adjust = repair_actions(report)[-1]
    assert isinstance(adjust, AdjustPosition)
    assert adjust.quantity_change == Decimal("-2")
    assert adjust.reason == "broker -5, ours 0, -3 expected from missing fills"


def test_reconcile_open_order_unknown_to_broker_is_lost_and_marked_cancelled_for_review() -> None:
    report = reconcile(
        [ours("c-2", "MSFT", Side.SELL, "10", "0", OrderStatus.ACCEPTED),
         ours("c-3", "MSFT", Side.BUY, "5", "0", OrderStatus.NEW),
         ours("c-old", "MSFT", Side.BUY, "5", "5", OrderStatus.FILLED)],  # closed and aged out: not lost
        [], [], [],
    )

    assert report.lines == [
        "order c-2 (MSFT sell 10): ours accepted, broker has no record (lost)",
        "order c-3 (MSFT buy 5): ours new, broker has no record (lost)",
    ]
    assert repair_actions(report) == [
        MarkOrderStatus(client_order_id="c-2", status=OrderStatus.CANCELLED, filled_quantity=Decimal(0),
                        reason="broker has no record of the order (ours accepted)", needs_review=True),
        MarkOrderStatus(client_order_id="c-3", status=OrderStatus.CANCELLED, filled_quantity=Decimal(0),
                        reason="broker has no record of the order (ours new)", needs_review=False),
    ]


def test_reconcile_order_unknown_to_us_is_external_and_flagged() -> None:
    external = theirs("manual-1", "NVDA", Side.BUY, "10", "10", OrderStatus.FILLED, broker_order_id="alp-99")

    report = reconcile([], [], [external], [broker_position("NVDA", "10")])

    assert report.lines == [
        "order manual-1 (NVDA buy 10): at broker filled (filled 10, broker id alp-99), unknown to us (external)",
        "NVDA position: ours 0, broker 10 (+10)",
    ]
    assert repair_actions(report) == [
        AdjustPosition(symbol="NVDA", quantity_change=Decimal(10), ours_quantity=Decimal(0),
                       broker_quantity=Decimal(10), reason="broker 10, ours 0"),
        FlagForReview(subject="external order manual-1",
                      reason="NVDA buy at the broker (filled, filled 10) that we did not place: adopt it or explain it",
                      client_order_id="manual-1", broker_order_id="alp-99"),
    ]


def test_reconcile_ours_cancelled_broker_filled_marks_filled_with_review() -> None:
    report = reconcile(
        [ours("c-4", "AMD", Side.BUY, "50", "0", OrderStatus.CANCELLED)], [],
        [theirs("c-4", "AMD", Side.BUY, "50", "50", OrderStatus.FILLED)], [broker_position("AMD", "50")],
    )

    actions = repair_actions(report)

    assert [type(a).__name__ for a in actions] == ["FetchFills", "MarkOrderStatus"]
    mark = actions[1]
    assert isinstance(mark, MarkOrderStatus)
    assert (mark.status, mark.needs_review) == (OrderStatus.FILLED, True)
    assert mark.description == (
        "mark order c-4 filled, filled 50: broker reports filled (ours cancelled) (needs review)")


def test_reconcile_ours_filled_more_than_broker_flags_for_review() -> None:
    report = reconcile(
        [ours("c-5", "AAPL", Side.BUY, "100", "100", OrderStatus.FILLED)], [position("AAPL", "100")],
        [theirs("c-5", "AAPL", Side.BUY, "100", "60", OrderStatus.PARTIALLY_FILLED)],
        [broker_position("AAPL", "60")],
    )

    assert report.lines == [
        "order c-5 (AAPL buy 100): status ours filled, broker partially_filled",
        "order c-5 (AAPL buy 100): filled ours 100, broker 60 (-40, more filled than the broker reports)",
        "AAPL position: ours 100, broker 60 (-40)",
    ]
    actions = repair_actions(report)
    assert [type(a).__name__ for a in actions] == ["MarkOrderStatus", "AdjustPosition", "FlagForReview"]
    assert actions[-1] == FlagForReview(
        subject="order c-5", reason="we booked 100 filled, the broker reports 60: a fill may be booked twice or wrongly",
        client_order_id="c-5", broker_order_id="alp-c-5")


def test_reconcile_fetch_fills_since_is_earliest_broker_submission() -> None:
    later = datetime(2024, 12, 10, 15, 0, tzinfo=UTC)
    report = reconcile(
        [ours("c-1", "AAPL", Side.BUY, "1", "0", OrderStatus.ACCEPTED),
         ours("c-2", "MSFT", Side.BUY, "1", "0", OrderStatus.ACCEPTED)], [],
        [theirs("c-1", "AAPL", Side.BUY, "1", "1", OrderStatus.FILLED, submitted_at=later),
         theirs("c-2", "MSFT", Side.BUY, "1", "1", OrderStatus.FILLED, submitted_at=T0)],
        [broker_position("AAPL", "1"), broker_position("MSFT", "1")],
    )

    fetch = repair_actions(report)[0]

    assert isinstance(fetch, FetchFills)
    assert (fetch.since, fetch.client_order_ids) == (T0, ("c-1", "c-2"))
    assert report.summary == (
        "6 differences: 0 lost, 0 external, 2 status, 2 filled quantity, 2 position (2 orders matched)")


def test_reconcile_duplicate_client_order_id_raises_invalid_input() -> None:
    order = ours("c-1", "AAPL", Side.BUY, "1", "0", OrderStatus.ACCEPTED)

    with pytest.raises(InvalidInput) as caught:
        reconcile([order, order], [], [], [])

    assert str(caught.value) == "our orders list client_order_id 'c-1' twice"


def test_reconcile_duplicate_position_symbol_raises_invalid_input() -> None:
    with pytest.raises(InvalidInput) as caught:
        reconcile([], [], [], [broker_position("AAPL", "1"), broker_position("aapl", "2")])

    assert str(caught.value) == "broker positions list AAPL twice"


def test_reconcile_recorded_docs_order_and_position_in_line_is_clean(
    broker: AlpacaBroker, replay: AlpacaReplayAdapter, recorded: Callable[[str], Any]
) -> None:
    # Orders and positions mapped by the adapter from Alpaca's docs examples.
    replay.serve_body("GET", "/v2/orders", [recorded("alpaca/order_docs_example.json")], when={"status": "all"})
    replay.serve_body("GET", "/v2/positions", [recorded("alpaca/position_docs_example.json")])
    broker_orders, broker_positions = broker.list_orders("all"), broker.positions()
    ours_orders = [OrderSnapshot(client_order_id="eb9e2aaa-f71a-4f51-b5b4-52a6c565dad4", symbol="AAPL",
                                 side=Side.BUY, quantity=None, filled_quantity=Decimal(0),
                                 status=OrderStatus.ACCEPTED)]

    clean = reconcile(ours_orders, [position("AAPL", "5")], broker_orders, broker_positions)
    off = reconcile(ours_orders, [position("AAPL", "3")], broker_orders, broker_positions)

    assert clean.is_clean
    assert off.lines == ["AAPL position: ours 3, broker 5 (+2)"]  # the docs symbol "AAPL " matched as AAPL


_quantities = st.integers(min_value=-500, max_value=500).map(Decimal)


@given(
    ours_positions=st.dictionaries(st.sampled_from(["AAPL", "MSFT", "TSLA"]), _quantities, max_size=3),
    broker_positions=st.dictionaries(st.sampled_from(["AAPL", "MSFT", "TSLA"]), _quantities, max_size=3),
    missing=st.lists(st.tuples(st.sampled_from(["AAPL", "MSFT", "TSLA"]), st.sampled_from(list(Side)),
                               st.integers(min_value=1, max_value=100)), max_size=5),
)
def test_repair_actions_missing_fills_plus_adjustments_reach_broker_positions(
    ours_positions: dict[str, Decimal], broker_positions: dict[str, Decimal],
    missing: list[tuple[str, Side, int]],
) -> None:
    ours_orders = [ours(f"c-{i}", s, side, str(q), "0", OrderStatus.ACCEPTED) for i, (s, side, q) in enumerate(missing)]
    broker_orders = [theirs(f"c-{i}", s, side, str(q), str(q), OrderStatus.FILLED)
                     for i, (s, side, q) in enumerate(missing)]

    report = reconcile(ours_orders, [position(s, str(q)) for s, q in ours_positions.items()],
                       broker_orders, [broker_position(s, str(q)) for s, q in broker_positions.items()])
    actions = repair_actions(report)

    after = dict(ours_positions)
    for symbol, side, quantity in missing:  # what posting the fetched fills does
        after[symbol] = after.get(symbol, Decimal(0)) + side.sign * quantity
    for action in actions:
        if isinstance(action, AdjustPosition):
            after[action.symbol] = after.get(action.symbol, Decimal(0)) + action.quantity_change
    symbols = set(after) | set(broker_positions)
    assert {s: after.get(s, Decimal(0)) for s in symbols} == {s: broker_positions.get(s, Decimal(0)) for s in symbols}


def test_reconcile_missing_fill_absent_from_broker_position_adjusts_it_back() -> None:
    # The broker filled a 10-share buy we missed, yet both sides show 0 AAPL (sold
    # again elsewhere): posting the fill alone would leave us 10 long.
    report = reconcile(
        [ours("c-8", "AAPL", Side.BUY, "10", "0", OrderStatus.ACCEPTED)], [],
        [theirs("c-8", "AAPL", Side.BUY, "10", "10", OrderStatus.FILLED)], [],
    )

    actions = repair_actions(report)

    assert [type(a).__name__ for a in actions] == ["FetchFills", "MarkOrderStatus", "AdjustPosition"]
    assert actions[-1] == AdjustPosition(
        symbol="AAPL", quantity_change=Decimal(-10), ours_quantity=Decimal(0), broker_quantity=Decimal(0),
        reason="broker 0, ours 0, +10 expected from missing fills")
