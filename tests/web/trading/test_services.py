"""Trading services against the configured database: orders persisted, checked, filled and booked."""

from datetime import UTC, datetime
from decimal import Decimal

import pytest
from django.contrib.auth import get_user_model

from bifrost.core.errors import InvalidInput, NotFoundError, OrderRejected, StateConflict
from bifrost.core.time import SimulatedClock
from bifrost.orders import OrderRequest
from bifrost.portfolio import InsufficientFunds
from bifrost_web.marketdata import services as md_services
from bifrost_web.trading import models, services

pytestmark = pytest.mark.django_db

IN_SESSION = datetime(2024, 1, 2, 15, 0, tzinfo=UTC)  # Tuesday 10:00 New York
AFTER_CLOSE = datetime(2024, 1, 2, 22, 0, tzinfo=UTC)


@pytest.fixture
def funded(alice, daily_bars):
    md_services.bars_ingest(symbol="ACME", timeframe="1d", bars=daily_bars, source="test")
    portfolio = services.portfolio_create(owner=alice, name="main")
    services.cash_flow_record(user=alice, portfolio_id=portfolio.pk, kind="deposit", amount="10000",
                              ts_event=datetime(2024, 1, 2, 14, 0, tzinfo=UTC), entry_id="dep-1")
    return portfolio


def _buy(client_id="b1", qty="10", **kw):
    return OrderRequest(client_order_id=client_id, symbol="ACME", side="buy", quantity=qty, **kw)


def test_portfolio_create_rejects_bad_settings_and_duplicates(alice):
    services.portfolio_create(owner=alice, name="main")
    with pytest.raises(StateConflict, match="already have a portfolio named 'main'"):
        services.portfolio_create(owner=alice, name="main")
    with pytest.raises(InvalidInput, match="leverage_limit must be 1 for a cash account"):
        services.portfolio_create(owner=alice, name="x", account_type="cash", leverage_limit=2)
    with pytest.raises(InvalidInput, match="lot_method"):
        services.portfolio_create(owner=alice, name="y", lot_method="random")


def test_deposit_books_balanced_lines(funded):
    lines = {(line.account, line.amount) for line in models.LedgerLine.objects.filter(entry__entry_id="dep-1")}
    assert lines == {("cash:USD", Decimal("10000")), ("contributions:USD", Decimal("-10000"))}
    assert services.ledger_for(funded).cash() == Decimal("10000")


def test_withdrawal_beyond_cash_refused_and_nothing_written(alice, funded):
    with pytest.raises(InsufficientFunds):
        services.cash_flow_record(user=alice, portfolio_id=funded.pk, kind="withdrawal", amount="20000")
    assert funded.ledger_entries.count() == 1


def test_order_submit_accepted_then_paper_fill_posts_to_ledger(alice, funded, daily_bars):
    order = services.order_submit(user=alice, portfolio_id=funded.pk, request=_buy(time_in_force="gtc"),
                                  clock=SimulatedClock(IN_SESSION))
    assert order.status == "accepted"
    assert [e.kind for e in order.events.order_by("id")] == ["submitted", "accepted"]

    first = services.paper_process(portfolio_id=funded.pk, until=datetime(2024, 1, 10, tzinfo=UTC))
    again = services.paper_process(portfolio_id=funded.pk, until=datetime(2024, 1, 10, tzinfo=UTC))

    order.refresh_from_db()
    expected_price = Decimal(repr(float(daily_bars["open"].iloc[1]))).quantize(Decimal("0.000001"))  # 2024-01-03 open
    assert (order.status, order.filled_quantity, order.avg_fill_price) == ("filled", Decimal("10"), expected_price)
    assert first["fills"] == 1 and again == {"orders": 0, "fills": 0, "events": 0}
    ledger = services.ledger_for(funded)
    assert ledger.position("ACME").quantity == Decimal("10")
    assert ledger.cash() == Decimal("10000") - (Decimal("10") * expected_price).quantize(Decimal("0.01"))
    ledger.reconcile()


def test_submit_is_idempotent_and_conflicting_reuse_is_409(alice, funded):
    clock = SimulatedClock(IN_SESSION)
    first = services.order_submit(user=alice, portfolio_id=funded.pk, request=_buy(), clock=clock)
    again = services.order_submit(user=alice, portfolio_id=funded.pk, request=_buy(), clock=clock)
    assert first.pk == again.pk and funded.orders.count() == 1
    with pytest.raises(StateConflict, match="already used"):
        services.order_submit(user=alice, portfolio_id=funded.pk, request=_buy(qty="11"), clock=clock)


@pytest.mark.parametrize(
    ("request_kwargs", "when", "message"),
    [
        ({"symbol": "NOPE"}, IN_SESSION, "NOPE"),
        ({"quantity": "100000"}, IN_SESSION, "cash"),
        ({}, AFTER_CLOSE, "market is closed"),
    ],
    ids=["unknown_symbol", "insufficient_cash", "market_closed_day_order"],
)
def test_bad_orders_rejected_and_stored_as_rejected(alice, funded, request_kwargs, when, message):
    args = {"client_order_id": "bad", "symbol": "ACME", "side": "buy", "quantity": "10", **request_kwargs}
    with pytest.raises(OrderRejected) as caught:
        services.order_submit(user=alice, portfolio_id=funded.pk, request=OrderRequest(**args),
                              clock=SimulatedClock(when))
    assert message in str(caught.value)
    row = funded.orders.get(client_order_id="bad")
    assert row.status == "rejected" and message in row.reject_reason
    assert [e.kind for e in row.events.order_by("id")] == ["submitted", "rejected"]


def test_kill_switch_cancels_open_orders_and_blocks_new_ones(alice, funded):
    clock = SimulatedClock(IN_SESSION)
    services.order_submit(user=alice, portfolio_id=funded.pk, request=_buy(order_type="limit", limit_price="1"),
                          clock=clock)
    cancelled = services.kill_switch_set(user=alice, portfolio_id=funded.pk, active=True, reason="max drawdown")
    assert [o.client_order_id for o in cancelled] == ["b1"]
    assert funded.orders.get(client_order_id="b1").status == "cancelled"
    with pytest.raises(OrderRejected, match="kill switch"):
        services.order_submit(user=alice, portfolio_id=funded.pk, request=_buy("b2"), clock=clock)
    services.kill_switch_set(user=alice, portfolio_id=funded.pk, active=False)
    assert services.order_submit(user=alice, portfolio_id=funded.pk, request=_buy("b3"), clock=clock).status \
        == "accepted"


def test_global_kill_switch_needs_staff(alice, funded):
    from bifrost.core.errors import PermissionDenied

    with pytest.raises(PermissionDenied):
        services.kill_switch_set(user=alice, active=True, reason="halt")


def test_other_users_portfolio_is_not_found(alice, funded):
    bob = get_user_model().objects.create_user("bob", password="pw-bob-1234567")
    with pytest.raises(NotFoundError):
        services.order_submit(user=bob, portfolio_id=funded.pk, request=_buy(), clock=SimulatedClock(IN_SESSION))
    with pytest.raises(NotFoundError):
        services.cash_flow_record(user=bob, portfolio_id=funded.pk, kind="deposit", amount="5")
    assert funded.orders.count() == 0 and funded.ledger_entries.count() == 1


def test_snapshots_and_returns_follow_the_book(alice, funded, daily_bars):
    from datetime import date

    services.order_submit(user=alice, portfolio_id=funded.pk, request=_buy(time_in_force="gtc"),
                          clock=SimulatedClock(IN_SESSION))
    services.paper_process(portfolio_id=funded.pk, until=datetime(2024, 1, 10, tzinfo=UTC))

    count = services.snapshots_rebuild(portfolio_id=funded.pk, start=date(2024, 1, 2), end=date(2024, 1, 5))
    perf = services.performance(portfolio=funded)

    assert count == 4 and [s["date"] for s in perf["snapshots"]] == ["2024-01-02", "2024-01-03", "2024-01-04",
                                                                      "2024-01-05"]
    fill = funded.fills.get()
    closes = daily_bars["close"]
    # 2024-01-05: cash booked in cents after buying 10 at the fill price (no fees on the default paper
    # exchange), plus 10 shares at that day's close, valued in cents.
    cent = Decimal("0.01")
    cash = Decimal("10000") - (fill.quantity * fill.price).quantize(cent)
    value = (10 * Decimal(repr(float(closes.iloc[3])))).quantize(cent)
    expected_nav = cash + value
    assert Decimal(perf["snapshots"][-1]["nav"]) == expected_nav
    assert perf["snapshots"][0]["net_flow"] == "10000.000000"
    # No flows after day one: the time-weighted return is NAV growth from 2024-01-02 to 2024-01-05.
    assert perf["time_weighted_return"] == pytest.approx(float(expected_nav) / 10000 - 1, abs=1e-9)


def test_cash_account_cannot_sell_more_than_it_holds(alice, funded):
    clock = SimulatedClock(IN_SESSION)
    with pytest.raises(OrderRejected, match="cannot sell 5 ACME: it holds 0"):
        services.order_submit(user=alice, portfolio_id=funded.pk, clock=clock, request=OrderRequest(
            client_order_id="s1", symbol="ACME", side="sell", quantity="5"))
    assert funded.orders.get(client_order_id="s1").status == "rejected"


def test_cash_reserved_by_open_buys_counts_once(alice, funded):
    clock = SimulatedClock(IN_SESSION)
    # 10,000 cash: a 60 × 100 limit buy (6,000) fits; a second one does not, because the first reserves 6,000.
    services.order_submit(user=alice, portfolio_id=funded.pk, clock=clock, request=OrderRequest(
        client_order_id="r1", symbol="ACME", side="buy", quantity="60", order_type="limit", limit_price="100",
        time_in_force="gtc"))
    with pytest.raises(OrderRejected, match="cash available is 4000"):
        services.order_submit(user=alice, portfolio_id=funded.pk, clock=clock, request=OrderRequest(
            client_order_id="r2", symbol="ACME", side="buy", quantity="60", order_type="limit", limit_price="100",
            time_in_force="gtc"))


def test_venue_hints_are_read_from_order_tags():
    assert services.venue_hint("venue=XNAS") == "XNAS"
    assert services.venue_hint("algo:42;venue=IEX ") == "IEX"
    assert services.venue_hint("algo:42") is None and services.venue_hint("") is None
    assert services.venue_hint("venue=") is None
