"""The pre-trade path's cached book (what-if and order submission) is invalidated by what it
depends on: fills and cash flows (ledger entries), new orders (order-rate limits), limit
changes, new market data; and a warm what-if reads nothing from the database.

Expected weights are computed here from the stored quantities and the last stored closes.
"""

from __future__ import annotations

import time
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


def test_warm_what_if_reads_nothing_from_the_database(alice, book):
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
    assert _tables(warm) == []  # the portfolio row too is cached, under the book version
    assert warm_result == cold_result
    assert _tables(after_order) == ["trading_order"]  # a new order: only its times are read


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


def test_new_bars_reach_the_cached_book_at_once(alice, book, bars):
    """An ingest bumps the market version: the next what-if prices the book on the new closes."""
    from bifrost_web.marketdata import services as md_services
    from bifrost_web.risk import market
    from tests.factories import xnys_daily_bars

    services.limit_upsert(user=alice, portfolio_id=book.pk, kind="position_weight", soft="0.01", hard="0.9")
    before = _what_if(alice, book)
    version = market.market_version()
    higher = xnys_daily_bars("2023-01-03", "2024-03-28", seed=0, price=100.0)
    higher[["open", "high", "low", "close"]] *= 2  # AAA restated at twice the price
    md_services.bars_ingest(symbol="AAA", timeframe="1d", bars=higher, source="test")
    after = _what_if(alice, book)
    bars = {**bars, "AAA": higher}
    assert market.market_version() > version
    assert before["price"] == pytest.approx(last_close(bars, "AAA") / 2)
    assert after["price"] == pytest.approx(last_close(bars, "AAA"))
    assert _position_weight(after) == pytest.approx(_weight_after(book, bars, "AAA", 10), rel=1e-9)


def test_a_market_version_bump_elsewhere_drops_this_process_entries(alice, book, bars):
    from bifrost_web import caching
    from bifrost_web.risk import market

    services.limit_upsert(user=alice, portfolio_id=book.pk, kind="position_weight", soft="0.01", hard="0.9")
    _what_if(alice, book)
    with CaptureQueriesContext(connection) as warm:
        _what_if(alice, book)
    before = market.market_version()
    caching.bump(market.MARKET_VERSION_KEY)  # what another process's ingest does to this one
    deadline = time.monotonic() + 5
    while market.market_version() == before:  # with Redis the bump arrives by pub/sub
        assert time.monotonic() < deadline
    with CaptureQueriesContext(connection) as after_bump:
        _what_if(alice, book)
    assert _tables(warm) == [] and any("marketdata_instrument" in q["sql"] for q in after_bump.captured_queries)


def test_a_bulk_ingest_moves_the_market_version_once(monkeypatch):
    """500 series stored by one call must not make every process rebuild 500 times."""
    from bifrost.marketdata.types import InstrumentInfo
    from bifrost_web import caching
    from bifrost_web.marketdata import services as md_services
    from bifrost_web.risk import market
    from tests.factories import xnys_daily_bars

    made = []  # bumps that reach the shared cache (not the ones a deferral collects); the key is shared with
    original = caching.bump  # other test processes, so this process's own bumps are counted, not the number

    def counting(key):
        if caching._deferred.get() is None:
            made.append(key)
        original(key)

    monkeypatch.setattr(caching, "bump", counting)
    series = [(symbol, "1d", xnys_daily_bars("2023-06-01", "2024-03-28", seed=10 + i, price=30.0),
               InstrumentInfo(symbol=symbol, sector="Utilities")) for i, symbol in enumerate(["EEE", "FFF", "GGG"])]
    md_services.bars_ingest_many(series=series, source="test", workers=2)
    assert made.count(market.MARKET_VERSION_KEY) == 1
    md_services.bars_ingest(symbol="EEE", timeframe="1d", bars=series[0][2], source="test")
    assert made.count(market.MARKET_VERSION_KEY) == 2
