"""The trading engine end to end in process: request → checks → paper exchange → ledger."""

from datetime import UTC, datetime
from decimal import Decimal

import pytest

from bifrost.core.errors import OrderRejected, StateConflict
from bifrost.core.time import SimulatedClock
from bifrost.execution import PaperExchange, PerShareFeeModel
from bifrost.orders import OrderRequest, OrderStatus
from bifrost.orders.groups import make_bracket
from bifrost.portfolio import Deposit, Ledger, LedgerConfig
from bifrost.trading import MarketView, TradingEngine

T0 = datetime(2024, 3, 4, 14, 30, tzinfo=UTC)  # Monday 9:30 New York
MIN = 60


def _ts(minutes: int) -> datetime:
    return datetime.fromtimestamp(T0.timestamp() + minutes * MIN, tz=UTC)


@pytest.fixture
def engine():
    clock = SimulatedClock(T0)
    ledger = Ledger(LedgerConfig())
    ledger.post(Deposit(entry_id="dep-1", ts_event=T0, amount=Decimal("10000")))
    market = MarketView(last_prices={"ACME": Decimal("50")}, known_symbols={"ACME"})
    exchange = PaperExchange(PerShareFeeModel())
    return TradingEngine(portfolio_id="p1", ledger=ledger, venue=exchange, clock=clock, market=market)


def _bar(engine, minute, o, h, lo, c, v=10_000):
    engine.clock.advance_to(_ts(minute + 1))
    return engine.on_bar("ACME", _ts(minute), o, h, lo, c, v, bar_end=_ts(minute + 1))


def test_market_buy_fills_next_open_and_posts_to_ledger(engine):
    result = engine.submit(OrderRequest(client_order_id="b1", symbol="ACME", side="buy", quantity="100"))
    assert result.order.status is OrderStatus.ACCEPTED

    entries = _bar(engine, 0, 50.10, 50.50, 49.90, 50.20)

    order = engine.order("b1")
    assert order.status is OrderStatus.FILLED and order.average_fill_price == Decimal("50.1")
    assert len(entries) == 1
    # 100 × 50.10 = 5,010.00 plus the per-share commission max(1.00, 100 × 0.005) = 1.00
    assert engine.ledger.cash() == Decimal("10000") - Decimal("5010.00") - Decimal("1.00")
    assert engine.ledger.position("ACME").quantity == Decimal("100")
    engine.ledger.reconcile()


def test_resubmitting_same_request_is_idempotent(engine):
    request = OrderRequest(client_order_id="b1", symbol="ACME", side="buy", quantity="10")
    first = engine.submit(request)
    again = engine.submit(request)
    assert again.duplicate and again.order is first.order and len(engine.orders) == 1


def test_reusing_client_id_for_another_order_conflicts(engine):
    engine.submit(OrderRequest(client_order_id="b1", symbol="ACME", side="buy", quantity="10"))
    with pytest.raises(StateConflict, match="already used"):
        engine.submit(OrderRequest(client_order_id="b1", symbol="ACME", side="buy", quantity="11"))


def test_insufficient_cash_rejected_and_stored_as_rejected(engine):
    with pytest.raises(OrderRejected) as caught:
        engine.submit(OrderRequest(client_order_id="big", symbol="ACME", side="buy", quantity="1000"))
    order = engine.order("big")
    assert order.status is OrderStatus.REJECTED
    assert "cash" in str(caught.value).lower() and "50,000" in str(caught.value).replace("50000", "50,000")
    assert engine.ledger.cash() == Decimal("10000")


def test_unknown_symbol_rejected(engine):
    with pytest.raises(OrderRejected, match="ZZZZ"):
        engine.submit(OrderRequest(client_order_id="u1", symbol="ZZZZ", side="buy", quantity="1"))
    assert engine.order("u1").status is OrderStatus.REJECTED


def test_kill_switch_cancels_open_orders_and_blocks_new_ones(engine):
    engine.submit(OrderRequest(client_order_id="l1", symbol="ACME", side="buy", quantity="10",
                               order_type="limit", limit_price="45"))
    cancelled = engine.set_kill_switch(True, "drawdown limit")
    assert [o.client_order_id for o in cancelled] == ["l1"]
    assert engine.order("l1").status is OrderStatus.CANCELLED
    with pytest.raises(OrderRejected, match="kill switch"):
        engine.submit(OrderRequest(client_order_id="l2", symbol="ACME", side="buy", quantity="1"))
    engine.set_kill_switch(False)
    assert engine.submit(OrderRequest(client_order_id="l3", symbol="ACME", side="buy", quantity="1")).order.status \
        is OrderStatus.ACCEPTED


def test_bracket_take_profit_fill_cancels_stop_loss(engine):
    entry = OrderRequest(client_order_id="e1", symbol="ACME", side="buy", quantity="100")
    engine.submit_bracket(make_bracket(entry, take_profit_price="52", stop_loss_price="48"))

    _bar(engine, 0, 50.00, 50.40, 49.80, 50.30)  # entry fills at the open, 50.00
    children = [o for o in engine.orders.values() if o.client_order_id != "e1"]
    assert len(children) == 2 and all(o.status is OrderStatus.ACCEPTED for o in children)
    _bar(engine, 1, 50.30, 52.50, 50.20, 52.40)  # high 52.50 crosses the 52 take-profit

    statuses = sorted((o.request.order_type.value, o.status.value) for o in children)
    assert statuses == [("limit", "filled"), ("stop", "cancelled")]
    assert engine.ledger.position("ACME").quantity == 0
    gains = engine.ledger.realised_gains()
    assert sum(g.gain for g in gains) == Decimal("200") - Decimal("2.00") - engine.order(
        [o.client_order_id for o in children if o.status is OrderStatus.FILLED][0]).fills[0].fees


def test_quotes_and_prints_fill_through_the_engine_into_the_ledger(engine):
    engine.submit(OrderRequest(client_order_id="q1", symbol="ACME", side="buy", quantity="150"))
    engine.clock.advance_to(_ts(1))
    # a marketable buy takes the ask: the 100 shares shown there, then the rest at the next quote
    posted = engine.on_quote("ACME", _ts(1), "49.98", "100", "50.02", "100")
    order = engine.order("q1")
    assert len(posted) == 1 and order.filled_quantity == Decimal("100")
    engine.on_quote("ACME", _ts(2), "49.99", "100", "50.03", "500")
    assert order.status is OrderStatus.FILLED
    assert order.average_fill_price == ((Decimal("50.02") * 100 + Decimal("50.03") * 50) / 150).quantize(
        order.average_fill_price)
    assert engine.ledger.position("ACME").quantity == Decimal("150")
    # a resting sell limit is reached by a trade print at its price
    engine.submit(OrderRequest(client_order_id="s1", symbol="ACME", side="sell", quantity="100",
                               order_type="limit", limit_price="50.40", time_in_force="gtc"))
    engine.clock.advance_to(_ts(3))
    engine.on_trade("ACME", _ts(3), "50.45", "500")
    assert engine.order("s1").status is OrderStatus.FILLED
    engine.ledger.reconcile()


def test_sale_with_lot_override_relieves_the_orders_lots(engine):
    # Two lots: 60 at 50.10 and 60 at 52.10 (each plus the 1.00 minimum commission). The ledger is FIFO; the
    # sale's order asks for LIFO, so its fill relieves the second lot: basis 60 x 52.10 + 1.00 = 3,127.00.
    engine.submit(OrderRequest(client_order_id="b1", symbol="ACME", side="buy", quantity="60"))
    _bar(engine, 0, 50.10, 50.50, 49.90, 50.20)
    engine.submit(OrderRequest(client_order_id="b2", symbol="ACME", side="buy", quantity="60"))
    _bar(engine, 1, 52.10, 52.50, 51.90, 52.20)
    engine.submit(OrderRequest(client_order_id="s1", symbol="ACME", side="sell", quantity="60", lot_method="lifo"))
    (entry,) = _bar(engine, 2, 53.00, 53.50, 52.90, 53.20)

    (gain,) = engine.ledger.realised_gains(entry.entry_id)
    assert gain.basis == Decimal("3127.00")
    assert [lot.cost for lot in engine.ledger.open_lots("ACME")] == [Decimal("3006.00")]
    engine.ledger.reconcile()
