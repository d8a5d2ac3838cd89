"""The pre-trade path's cached book (what-if and order submission) is invalidated by what it
depends on: fills and cash flows (ledger entries), new orders (order-rate limits), limit
changes; and a warm what-if reads nothing but the portfolio row.

Expected weights are computed here from the stored quantities and the last stored closes.
"""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext

from bifrost.core.time import SimulatedClock
from bifrost.orders import OrderRequest
from bifrost_web.risk import services
from bifrost_web.trading import services as trading_services
from tests.risk.webdata import ORDER_TIME, funded_portfolio, ingest_instruments, last_close

pytestmark = pytest.mark.django_db(transaction=True)  # writes commit, as in production: the cache follows commits


@pytest.fixture(autouse=True)
def _fresh_risk_caches():
    """Database ids are reused after each test's rollback: drop the risk layer's process caches."""
    yield
    from bifrost_web.risk import market

    market.clear_cache()


@pytest.fixture
def bars():
    return ingest_instruments()


@pytest.fixture
def book(alice, bars):
    return funded_portfolio(alice, "main", buys={"AAA": "300", "BBB": "400", "CCC": "200"})


def _weight_after(portfolio, bars, symbol: str, quantity: float) -> float:
    portfolio.refresh_from_db()
    held = {s: float(q) for s, q in portfolio.position_quantities.items()}
    nav = float(portfolio.cash_balance) + sum(q * last_close(bars, s) for s, q in held.items())
    return (held.get(symbol, 0.0) + quantity) * last_close(bars, symbol) / nav


def _position_weight(result: dict) -> float:
    (finding,) = [f for f in result["findings"] if f["rule"] == "position_weight"]
    return float(finding["numbers"]["value"])


def _what_if(user, portfolio, symbol="AAA", quantity="10") -> dict:
    return services.what_if(user=user, portfolio_id=portfolio.pk, symbol=symbol, side="buy", quantity=quantity)


def test_cached_book_sees_cash_flows_and_fills(alice, book, bars):
    services.limit_upsert(user=alice, portfolio_id=book.pk, kind="position_weight", soft="0.01", hard="0.9")
    before = _what_if(alice, book)
    expected_before = _weight_after(book, bars, "AAA", 10)
    trading_services.cash_flow_record(user=alice, portfolio_id=book.pk, kind="deposit", amount="50000",
                                      ts_event=datetime(2024, 3, 1, 14, 0, tzinfo=UTC), entry_id="top-up")
    after_deposit = _what_if(alice, book)
    expected_after_deposit = _weight_after(book, bars, "AAA", 10)
    trading_services.order_submit(user=alice, portfolio_id=book.pk, clock=SimulatedClock(ORDER_TIME),
                                  request=OrderRequest(client_order_id="more", symbol="AAA", side="buy",
                                                       quantity="100", time_in_force="gtc"))
    trading_services.paper_process(portfolio_id=book.pk, until=datetime(2024, 3, 5, tzinfo=UTC))
    after_fill = _what_if(alice, book)
    expected_after_fill = _weight_after(book, bars, "AAA", 10)
    assert float(book.position_quantities["AAA"]) == 400  # the fill went through
    assert _position_weight(before) == pytest.approx(expected_before, rel=1e-9)
    assert _position_weight(after_deposit) == pytest.approx(expected_after_deposit, rel=1e-9)
    assert _position_weight(after_fill) == pytest.approx(expected_after_fill, rel=1e-9)
    assert expected_before > expected_after_deposit and expected_after_fill > expected_after_deposit


def test_cached_book_counts_orders_submitted_after_it_was_built(alice, book):
    services.limit_upsert(user=alice, portfolio_id=book.pk, kind="order_rate", hard="5",
                          params={"window_seconds": 3600})
    before = _what_if(alice, book)  # the three buys of the fixture + this one = 4
    for i in range(2):
        trading_services.order_submit(user=alice, portfolio_id=book.pk, clock=SimulatedClock(ORDER_TIME),
                                      request=OrderRequest(client_order_id=f"rate-{i}", symbol="CCC", side="buy",
                                                           quantity="1", time_in_force="gtc"))
    after = _what_if(alice, book)  # 3 + 2 + this one = 6 > 5
    assert before["decision"] == "accept"
    assert after["decision"] == "reject"
    (finding,) = after["findings"]
    assert finding["rule"] == "order_rate" and float(finding["numbers"]["value"]) == 6


def test_cached_book_follows_limit_set_settings(alice, book, bars):
    services.limit_upsert(user=alice, portfolio_id=book.pk, kind="position_weight", hard="0.9")
    accepted = _what_if(alice, book)
    services.limit_upsert(user=alice, portfolio_id=book.pk, kind="position_weight", hard="0.05")
    rejected = _what_if(alice, book)
    assert accepted["decision"] == "accept" and rejected["decision"] == "reject"
    assert _position_weight(rejected) == pytest.approx(_weight_after(book, bars, "AAA", 10), rel=1e-9)


def test_warm_what_if_reads_only_the_portfolio_row(alice, book):
    services.limit_upsert(user=alice, portfolio_id=book.pk, kind="position_weight", soft="0.01", hard="0.9")
    services.limit_upsert(user=alice, portfolio_id=book.pk, kind="order_rate", hard="100")
    cold_result = _what_if(alice, book, symbol="BBB")
    with CaptureQueriesContext(connection) as cold:
        _what_if(alice, book, symbol="DDD")  # not held: the book is grown by one symbol once
    with CaptureQueriesContext(connection) as warm:
        warm_result = _what_if(alice, book, symbol="BBB")
    trading_services.order_submit(user=alice, portfolio_id=book.pk, clock=SimulatedClock(ORDER_TIME),
                                  request=OrderRequest(client_order_id="one-more", symbol="CCC", side="buy",
                                                       quantity="1", time_in_force="gtc"))
    with CaptureQueriesContext(connection) as after_order:
        _what_if(alice, book, symbol="BBB")
    assert len(cold.captured_queries) > 1
    assert _tables(warm) == ["trading_portfolio"]
    assert warm_result == cold_result
    assert _tables(after_order) == ["trading_portfolio", "trading_order"]  # a new order: only its times are read


def _tables(captured) -> list[str]:
    return [q["sql"].split(" FROM ")[1].split()[0].strip('"') for q in captured.captured_queries]


def test_check_in_an_open_transaction_sees_its_writes_and_caches_none_of_them(alice, book, bars):
    services.limit_upsert(user=alice, portfolio_id=book.pk, kind="position_weight", soft="0.01", hard="0.9")
    before = _what_if(alice, book)
    expected_before = _weight_after(book, bars, "AAA", 10)
    with pytest.raises(RuntimeError, match="use case failed"), transaction.atomic():
        trading_services.cash_flow_record(user=alice, portfolio_id=book.pk, kind="deposit", amount="50000",
                                          ts_event=datetime(2024, 3, 1, 14, 0, tzinfo=UTC), entry_id="rolled-back")
        inside = _what_if(alice, book)
        expected_inside = _weight_after(book, bars, "AAA", 10)
        raise RuntimeError("use case failed after the deposit")
    after = _what_if(alice, book)
    assert expected_inside < expected_before
    assert _position_weight(inside) == pytest.approx(expected_inside, rel=1e-9)
    assert _position_weight(before) == _position_weight(after) == pytest.approx(expected_before, rel=1e-9)
