"""Trading REST API: portfolios, cash flows, orders, fills, positions, lots, ledger, isolation."""

from datetime import UTC, datetime

import pytest

from bifrost.core.time import SimulatedClock
from bifrost.orders import OrderRequest
from bifrost_web.marketdata import services as md_services
from bifrost_web.trading import models, services
from tests.web.conftest import token_client as _client

pytestmark = pytest.mark.django_db


@pytest.fixture
def book(alice, daily_bars):
    """Alice's funded portfolio with one filled paper buy of 10 ACME."""
    md_services.bars_ingest(symbol="ACME", timeframe="1d", bars=daily_bars, source="test")
    portfolio = services.portfolio_create(owner=alice, name="main")
    services.cash_flow_record(user=alice, portfolio_id=portfolio.pk, kind="deposit", amount="10000",
                              ts_event=datetime(2024, 1, 2, 14, 0, tzinfo=UTC), entry_id="dep-1")
    services.order_submit(user=alice, portfolio_id=portfolio.pk,
                          request=OrderRequest(client_order_id="b1", symbol="ACME", side="buy", quantity="10",
                                               time_in_force="gtc"),
                          clock=SimulatedClock(datetime(2024, 1, 2, 15, 0, tzinfo=UTC)))
    services.paper_process(portfolio_id=portfolio.pk, until=datetime(2024, 1, 10, tzinfo=UTC))
    return portfolio


def test_create_and_list_portfolios(alice):
    client = _client(alice)
    created = client.post("/api/v1/portfolios/", {"name": "swing", "account_type": "margin", "leverage_limit": "2",
                                                  "lot_method": "hifo", "household": "family"}, format="json")
    listed = client.get("/api/v1/portfolios/")
    assert created.status_code == 201, created.json()
    assert created.json()["household"] == "family" and created.json()["lot_method"] == "hifo"
    assert [p["name"] for p in listed.json()] == ["swing"]


def test_create_portfolio_bad_input_is_400(alice):
    response = _client(alice).post("/api/v1/portfolios/", {"name": "x", "account_type": "cash",
                                                           "leverage_limit": "3"}, format="json")
    assert response.status_code == 400 and "leverage_limit" in response.json()["message"]


def test_positions_lots_fills_and_ledger_reflect_the_fill(alice, book):
    client = _client(alice)
    positions = client.get(f"/api/v1/portfolios/{book.pk}/positions/").json()
    lots = client.get(f"/api/v1/portfolios/{book.pk}/lots/").json()
    fills = client.get(f"/api/v1/portfolios/{book.pk}/fills/").json()
    ledger = client.get(f"/api/v1/portfolios/{book.pk}/ledger/").json()

    fill = fills[0]
    assert [p["symbol"] for p in positions["positions"]] == ["ACME"]
    assert positions["positions"][0]["quantity"] == "10"
    assert lots["lots"][0]["lot_id"] == fill["fill_id"] and lots["lots"][0]["acquired"] == "2024-01-03"
    assert [e["kind"] for e in ledger] == ["fill", "deposit"]
    assert all(sum(float(line["amount"]) for line in e["lines"]) == pytest.approx(0, abs=1e-9) for e in ledger)
    cash = 10000 - float(fill["quantity"]) * float(fill["price"])
    assert float(positions["cash"]) == pytest.approx(cash, abs=0.01)


def test_submit_and_cancel_order_through_api(alice, book, monkeypatch):
    client = _client(alice)
    monkeypatch.setattr(services, "WallClock", lambda: SimulatedClock(datetime(2024, 3, 28, 15, 0, tzinfo=UTC)))
    submitted = client.post(f"/api/v1/portfolios/{book.pk}/orders/",
                            {"client_order_id": "l1", "symbol": "ACME", "side": "buy", "quantity": "5",
                             "order_type": "limit", "limit_price": "50.25", "time_in_force": "gtc"}, format="json")
    again = client.post(f"/api/v1/portfolios/{book.pk}/orders/",
                        {"client_order_id": "l1", "symbol": "ACME", "side": "buy", "quantity": "5",
                         "order_type": "limit", "limit_price": "50.25", "time_in_force": "gtc"}, format="json")
    cancelled = client.delete(f"/api/v1/portfolios/{book.pk}/orders/l1/")
    cancel_again = client.delete(f"/api/v1/portfolios/{book.pk}/orders/l1/")

    assert submitted.status_code == 201 and submitted.json()["status"] == "accepted"
    assert submitted.json()["limit_price"] == "50.250000"
    assert again.status_code == 200 and book.orders.filter(client_order_id="l1").count() == 1
    assert cancelled.json()["status"] == "cancelled"
    assert cancel_again.status_code == 409 and cancel_again.json()["code"] == "conflict"


def test_order_entry_answer_equals_the_order_serializer(alice, book, monkeypatch):
    from bifrost_web.trading import schemas

    client = _client(alice)
    monkeypatch.setattr(services, "WallClock", lambda: SimulatedClock(datetime(2024, 3, 28, 15, 0, tzinfo=UTC)))
    bodies = [
        {"client_order_id": "p1", "symbol": "ACME", "side": "buy", "quantity": "5.5", "order_type": "limit",
         "limit_price": "50.25", "time_in_force": "gtc", "tag": "algo:1;venue=XNAS"},
        {"client_order_id": "p2", "symbol": "ACME", "side": "sell", "quantity": "1", "order_type": "trailing_stop",
         "trail_percent": "2.5", "time_in_force": "gtc"},
        {"client_order_id": "p3", "symbol": "ACME", "side": "sell", "quantity": "2", "order_type": "stop_limit",
         "stop_price": "40", "limit_price": "39.5", "time_in_force": "day"},
    ]
    answers = [client.post(f"/api/v1/portfolios/{book.pk}/orders/", body, format="json") for body in bodies]

    assert [a.status_code for a in answers] == [201, 201, 201]
    for answer, body in zip(answers, bodies, strict=True):
        stored = book.orders.prefetch_related("events").get(client_order_id=body["client_order_id"])
        assert answer.json() == schemas.OrderOut(stored).data
        assert client.get(f"/api/v1/portfolios/{book.pk}/orders/{body['client_order_id']}/").json() == answer.json()


@pytest.mark.parametrize(
    ("payload", "status", "fragment"),
    [
        ({"symbol": "ACME", "side": "buy", "quantity": "-5"}, 400, "quantity must be positive"),
        ({"symbol": "ACME", "side": "buy", "quantity": "5", "order_type": "limit"}, 400, "limit_price"),
        ({"symbol": "ACME", "side": "hold", "quantity": "5"}, 400, "side"),
        ({"symbol": "ZZZZ", "side": "buy", "quantity": "5", "time_in_force": "gtc"}, 422, "ZZZZ"),
    ],
    ids=["negative_quantity", "limit_without_price", "bad_side", "unknown_symbol"],
)
def test_bad_orders_get_4xx_with_reason(alice, book, payload, status, fragment):
    response = _client(alice).post(f"/api/v1/portfolios/{book.pk}/orders/", payload, format="json")
    assert response.status_code == status, response.json()
    assert fragment in response.json()["message"]


def test_rejected_order_is_stored_with_reason(alice, book):
    client = _client(alice)
    response = client.post(f"/api/v1/portfolios/{book.pk}/orders/",
                           {"client_order_id": "r1", "symbol": "ZZZZ", "side": "buy", "quantity": "5",
                            "time_in_force": "gtc"}, format="json")
    stored = client.get(f"/api/v1/portfolios/{book.pk}/orders/r1/").json()
    assert response.json()["code"] == "order_rejected"
    assert response.json()["details"]["client_order_id"] == "r1"
    assert stored["status"] == "rejected" and "ZZZZ" in stored["reject_reason"]


def test_user_never_sees_or_touches_another_users_portfolio(alice, bob, book):
    client = _client(bob)
    base = f"/api/v1/portfolios/{book.pk}"
    reads = [client.get(f"{base}/{path}") for path in ("", "orders/", "fills/", "positions/", "lots/", "ledger/",
                                                       "orders/b1/")]
    writes = [
        client.post(f"{base}/orders/", {"symbol": "ACME", "side": "sell", "quantity": "10"}, format="json"),
        client.delete(f"{base}/orders/b1/"),
        client.post(f"{base}/cash-flows/", {"kind": "withdrawal", "amount": "100"}, format="json"),
        client.post(f"{base}/kill-switch/", {"active": True, "reason": "x"}, format="json"),
        client.post(f"{base}/paper/process/"),
    ]
    assert [r.status_code for r in reads + writes] == [404] * 12
    assert client.get("/api/v1/portfolios/").json() == []
    book.refresh_from_db()
    assert not book.kill_switch and book.ledger_entries.count() == 2 and book.orders.count() == 1


def test_global_kill_switch_is_staff_only(alice):
    response = _client(alice).post("/api/v1/kill-switch/", {"active": True, "reason": "halt"}, format="json")
    assert response.status_code == 403 and not models.TradingHalt.objects.exists()


def test_performance_endpoint_returns_snapshots_and_returns(alice, book):
    from datetime import date

    services.snapshots_rebuild(portfolio_id=book.pk, start=date(2024, 1, 2), end=date(2024, 1, 31))
    body = _client(alice).get(f"/api/v1/portfolios/{book.pk}/performance/").json()
    navs = [float(s["nav"]) for s in body["snapshots"]]
    assert len(navs) == 21  # XNYS sessions in January 2024
    assert body["time_weighted_return"] == pytest.approx(navs[-1] / navs[0] - 1, abs=1e-9)
