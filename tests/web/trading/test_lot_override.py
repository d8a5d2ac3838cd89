"""An order's per-sale lot override (lot_method / lot_ids) through the order schemas and the Order row."""

from __future__ import annotations

from decimal import Decimal

import pytest

from bifrost.orders import OrderRequest
from bifrost.portfolio import LotMethod
from bifrost_web.trading import models, schemas
from bifrost_web.trading import services as tr_services

pytestmark = pytest.mark.django_db


def test_order_in_accepts_lot_override_and_builds_the_request():
    data = schemas.OrderIn(data={"symbol": "ACME", "side": "sell", "quantity": "10", "lot_method": "specific",
                                 "lot_ids": ["f-2", "f-1"]})
    assert data.is_valid(), data.errors
    request = OrderRequest(client_order_id="c1", **data.validated_data)
    assert request.lot_method is LotMethod.SPECIFIC and request.lot_ids == ("f-2", "f-1")


def test_order_in_refuses_unknown_lot_method():
    data = schemas.OrderIn(data={"symbol": "ACME", "side": "sell", "quantity": "10", "lot_method": "tax_optimal"})
    assert not data.is_valid()
    assert "lot_method" in data.errors


def test_order_out_and_payload_show_the_override(alice):
    portfolio = tr_services.portfolio_create(owner=alice, name="taxable")
    row = models.Order.objects.create(portfolio=portfolio, client_order_id="c1", symbol="ACME", side="sell",
                                      quantity=Decimal(10), order_type="market", time_in_force="day",
                                      lot_method="lifo", lot_ids=["f-1"])
    row.refresh_from_db()
    out = schemas.OrderOut(row).data
    payload = schemas.order_payload(row, [])
    assert (out["lot_method"], out["lot_ids"]) == ("lifo", ["f-1"])
    assert (payload["lot_method"], payload["lot_ids"]) == ("lifo", ["f-1"])


def _buy(user, portfolio, client_order_id, day):
    from datetime import UTC, datetime

    from bifrost.core.time import SimulatedClock

    tr_services.order_submit(user=user, portfolio_id=portfolio.pk,
                             request=OrderRequest(client_order_id=client_order_id, symbol="ACME", side="buy",
                                                  quantity="10", time_in_force="gtc"),
                             clock=SimulatedClock(datetime(2024, 1, day, 15, 0, tzinfo=UTC)))
    tr_services.paper_process(portfolio_id=portfolio.pk, until=datetime(2024, 1, day + 1, 23, tzinfo=UTC))


@pytest.mark.parametrize(("override", "kept_order"), [({}, "b2"), ({"lot_method": "lifo"}, "b1"),
                                                      ({"lot_method": "specific", "lot_ids": ["b2's lot"]}, "b1")])
def test_sale_through_api_relieves_the_lots_its_override_names(alice, daily_bars, monkeypatch, override, kept_order):
    from datetime import UTC, datetime

    from bifrost.core.time import SimulatedClock
    from bifrost_web.marketdata import services as md_services
    from bifrost_web.trading import reports
    from tests.web.conftest import token_client

    md_services.bars_ingest(symbol="ACME", timeframe="1d", bars=daily_bars, source="test")
    portfolio = tr_services.portfolio_create(owner=alice, name="fifo-book")  # FIFO by default
    tr_services.cash_flow_record(user=alice, portfolio_id=portfolio.pk, kind="deposit", amount="100000",
                                 ts_event=datetime(2024, 1, 2, 14, tzinfo=UTC), entry_id="dep")
    _buy(alice, portfolio, "b1", 2)
    _buy(alice, portfolio, "b2", 8)
    opened = reports.lots_report(portfolio)["lots"]
    by_order = {}  # the lot each buy opened (lot ids carry the fill id)
    for row in models.Fill.objects.filter(portfolio=portfolio).select_related("order"):
        by_order[row.order.client_order_id] = next(lot["lot_id"] for lot in opened if row.fill_id in lot["lot_id"])
    if "lot_ids" in override:
        override = {**override, "lot_ids": [by_order["b2"]]}
    monkeypatch.setattr(tr_services, "WallClock", lambda: SimulatedClock(datetime(2024, 1, 16, 15, tzinfo=UTC)))
    answer = token_client(alice).post(f"/api/v1/portfolios/{portfolio.pk}/orders/",
                                      {"client_order_id": "s1", "symbol": "ACME", "side": "sell", "quantity": "10",
                                       "time_in_force": "gtc", **override}, format="json")
    tr_services.paper_process(portfolio_id=portfolio.pk, until=datetime(2024, 1, 18, tzinfo=UTC))

    left = reports.lots_report(portfolio)["lots"]
    assert len(opened) == 2 and len(set(by_order.values())) == 2
    assert answer.status_code == 201, answer.json()
    assert models.Order.objects.get(client_order_id="s1").status == "filled"
    assert [lot["lot_id"] for lot in left] == [by_order[kept_order]]


def test_portal_ticket_sends_the_lot_override_and_shows_a_bad_one(alice, daily_bars, monkeypatch, client):
    from datetime import UTC, datetime

    from bifrost.core.time import SimulatedClock
    from bifrost_web.marketdata import services as md_services
    from bifrost_web.trading import reports

    md_services.bars_ingest(symbol="ACME", timeframe="1d", bars=daily_bars, source="test")
    portfolio = tr_services.portfolio_create(owner=alice, name="ticket-book")
    tr_services.cash_flow_record(user=alice, portfolio_id=portfolio.pk, kind="deposit", amount="100000",
                                 ts_event=datetime(2024, 1, 2, 14, tzinfo=UTC), entry_id="dep")
    _buy(alice, portfolio, "b1", 2)
    _buy(alice, portfolio, "b2", 8)
    client.force_login(alice)
    page = client.get(f"/portfolios/{portfolio.pk}/").content.decode()
    monkeypatch.setattr(tr_services, "WallClock", lambda: SimulatedClock(datetime(2024, 1, 16, 15, tzinfo=UTC)))
    url = f"/portfolios/{portfolio.pk}/orders/"
    client.post(url, {"side": "sell", "symbol": "ACME", "quantity": "10", "order_type": "market",
                      "time_in_force": "gtc", "lot_method": "lifo", "client_order_id": "s1"})
    refused = client.post(url, {"side": "sell", "symbol": "ACME", "quantity": "1", "time_in_force": "gtc",
                                "lot_method": "cheapest", "client_order_id": "s2", "order_type": "market"},
                          follow=True).content.decode()
    tr_services.paper_process(portfolio_id=portfolio.pk, until=datetime(2024, 1, 18, tzinfo=UTC))

    first_fill = models.Fill.objects.get(order__client_order_id="b1").fill_id
    left = reports.lots_report(portfolio)["lots"]
    assert 'id="ticket-lot-method"' in page and "<option>lifo</option>" in page
    assert models.Order.objects.get(client_order_id="s1").lot_method == "lifo"
    assert len(left) == 1 and first_fill in left[0]["lot_id"]  # LIFO sold the later lot
    assert "cheapest" in refused and not models.Order.objects.filter(client_order_id="s2").exists()
