"""Reconcile on reconnect: our orders and positions against the broker's (recorded Alpaca responses)."""

import copy
import json
from datetime import UTC, datetime
from decimal import Decimal

import pytest
from django.contrib.auth import get_user_model

from bifrost.adapters.brokers import AlpacaBroker
from bifrost.core.time import SimulatedClock
from bifrost_web.trading import models, services
from tests.adapters.brokers.replay import AlpacaReplayAdapter

pytestmark = pytest.mark.django_db


@pytest.fixture
def alpaca(shared_data):
    replay = AlpacaReplayAdapter(shared_data)
    broker = AlpacaBroker(api_key="PKREPLAYTEST", secret_key="replay-secret", paper=True, sleep=lambda s: None)
    broker.session.mount("https://", replay)
    yield broker, replay, shared_data / "recorded" / "alpaca"
    assert not replay.unmapped, replay.unmapped


def test_reconcile_reports_differences_and_repairs_status(alpaca):
    broker, replay, folder = alpaca
    order = json.loads((folder / "order_docs_example.json").read_text())
    position = json.loads((folder / "position_docs_example.json").read_text())
    # DERIVED from the docs example (no live order recording exists): the broker has cancelled it.
    cancelled = copy.deepcopy(order) | {"status": "canceled", "canceled_at": "2024-01-02T15:00:00Z"}
    replay.serve_body("GET", "/v2/orders", [cancelled], when={"status": "all"})
    replay.serve_body("GET", "/v2/positions", [position])
    user = get_user_model().objects.create_user("live", password="pw-live-1234567")
    portfolio = services.portfolio_create(owner=user, name="alpaca", broker="alpaca")
    models.Order.objects.create(portfolio=portfolio, client_order_id=order["client_order_id"], symbol="AAPL",
                                side="buy", quantity=Decimal("3"), order_type="market", time_in_force="day",
                                status="accepted", venue="alpaca")

    dry = services.broker_reconcile(user=user, portfolio_id=portfolio.pk, broker=broker)
    applied = services.broker_reconcile(user=user, portfolio_id=portfolio.pk, broker=broker, apply=True,
                                        clock=SimulatedClock(datetime(2024, 1, 2, 16, 0, tzinfo=UTC)))

    text = "\n".join(dry["differences"])
    assert "AAPL" in text and "cancel" in text.lower()
    assert any("position" in line.lower() and "5" in line for line in dry["differences"])
    assert dry["applied"] == []
    assert applied["applied"] == [f"order {order['client_order_id']} marked cancelled"]
    row = portfolio.orders.get(client_order_id=order["client_order_id"])
    assert row.status == "cancelled" and row.events.get().reason.startswith("reconcile:")
    # The unexplained position difference is reported, never booked.
    assert portfolio.ledger_entries.count() == 0
