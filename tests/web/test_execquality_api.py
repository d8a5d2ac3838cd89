"""Execution-quality REST API and portal: TCA of paper fills, impact recalibration, recommendations,
schedules, venues and routing, algorithm orders with the kill switch, isolation between users."""

from datetime import UTC, datetime, timedelta

import numpy as np
import pandas as pd
import pytest

from bifrost.core.time import SimulatedClock
from bifrost.orders import OrderRequest
from bifrost_web.execquality import models, services
from bifrost_web.marketdata import services as md_services
from bifrost_web.trading import services as trading_services
from tests.factories import xnys_daily_bars
from tests.web.conftest import token_client as _client

pytestmark = pytest.mark.django_db

SIZES = [10, 40, 80, 150, 300, 600]


@pytest.fixture
def run_on_commit(django_capture_on_commit_callbacks):
    """Run the Celery task queued on commit (eager in tests), as the worker would after the commit."""
    return django_capture_on_commit_callbacks


@pytest.fixture
def bars():
    bars = xnys_daily_bars("2024-01-02", "2024-03-28", seed=5)
    md_services.bars_ingest(symbol="ACME", timeframe="1d", bars=bars, source="test")
    return bars


@pytest.fixture
def book(alice, bars):
    """Alice's portfolio with six filled paper market buys of different sizes, on different days."""
    portfolio = trading_services.portfolio_create(owner=alice, name="main")
    trading_services.cash_flow_record(user=alice, portfolio_id=portfolio.pk, kind="deposit", amount="1000000",
                                      ts_event=datetime(2024, 1, 2, 14, 0, tzinfo=UTC), entry_id="dep-1")
    for i, size in enumerate(SIZES):
        day = bars.index[30 + 3 * i]
        trading_services.order_submit(
            user=alice, portfolio_id=portfolio.pk,
            request=OrderRequest(client_order_id=f"b{i}", symbol="ACME", side="buy", quantity=str(size),
                                 time_in_force="gtc", tag="momentum"),
            clock=SimulatedClock(day.to_pydatetime() - timedelta(hours=2)))  # after the previous close
        trading_services.paper_process(portfolio_id=portfolio.pk, until=day.to_pydatetime() + timedelta(days=1))
    assert portfolio.fills.count() == len(SIZES)
    return portfolio


def test_tca_report_runs_on_paper_fills_and_matches_independent_slippage(alice, book, bars, run_on_commit):
    client = _client(alice)
    with run_on_commit(execute=True):
        created = client.post(f"/api/v1/portfolios/{book.pk}/execution/tca/", {}, format="json")
    assert created.status_code == 202, created.json()
    detail = client.get(f"/api/v1/portfolios/{book.pk}/execution/tca/{created.json()['id']}/").json()
    assert detail["status"] == "done", detail["error"]
    summary = detail["summary"]
    assert summary["orders"] == len(SIZES) and summary["fills"] == len(SIZES)
    # independent: each market order, sent after the previous session's close, fills at its session's open;
    # the arrival price is that previous close; notional-weighted slippage in bps
    slips, notionals = [], []
    for fill in book.fills.all():
        session = pd.Timestamp(fill.ts_event.date(), tz="UTC")
        position = bars.index.get_loc(session)
        arrival = bars["close"].iloc[position - 1]
        price = float(fill.price)
        slips.append((price - arrival) / arrival * 1e4)
        notionals.append(float(fill.quantity) * price)
    assert summary["arrival_bps"] == pytest.approx(np.average(slips, weights=notionals), rel=1e-9)
    assert {row["strategy"] for row in detail["result"]["by_group"]} == {"momentum"}


def test_tca_exports_html_and_pdf(alice, book):
    client = _client(alice)
    report_id = client.post(f"/api/v1/portfolios/{book.pk}/execution/tca/", {}, format="json").json()["id"]
    page = client.get(f"/api/v1/portfolios/{book.pk}/execution/tca/{report_id}/report.html")
    pdf = client.get(f"/api/v1/portfolios/{book.pk}/execution/tca/{report_id}/report.pdf")
    assert page.status_code == 200 and b"Slippage vs arrival" in page.content
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF-")


def test_tca_without_fills_fails_with_a_clear_message(alice, run_on_commit):
    portfolio = trading_services.portfolio_create(owner=alice, name="empty")
    client = _client(alice)
    with run_on_commit(execute=True):
        report_id = client.post(f"/api/v1/portfolios/{portfolio.pk}/execution/tca/", {}, format="json").json()["id"]
    detail = client.get(f"/api/v1/portfolios/{portfolio.pk}/execution/tca/{report_id}/").json()
    assert detail["status"] == "failed" and "no fills" in detail["error"]


def test_bad_tca_period_is_400_and_writes_nothing(alice, book):
    response = _client(alice).post(f"/api/v1/portfolios/{book.pk}/execution/tca/",
                                   {"start": "2024-03-01T00:00:00Z", "end": "2024-02-01T00:00:00Z"}, format="json")
    assert response.status_code == 400 and "start must be before end" in response.json()["message"]
    assert models.TCAReport.objects.count() == 0


def test_users_never_see_each_others_execution_data(alice, bob, book):
    _client(alice).post(f"/api/v1/portfolios/{book.pk}/execution/tca/", {}, format="json")
    report = models.TCAReport.objects.get()
    other = _client(bob)
    assert other.get(f"/api/v1/portfolios/{book.pk}/execution/tca/").status_code == 404
    assert other.get(f"/api/v1/portfolios/{book.pk}/execution/tca/{report.pk}/").status_code == 404
    assert other.post(f"/api/v1/portfolios/{book.pk}/execution/impact/").status_code == 404
    assert other.get(f"/api/v1/portfolios/{book.pk}/execution/algo-orders/").status_code == 404
    services.venue_create(user=alice, name="ALICE-X", taker_fee_per_share="0.003", maker_rebate_per_share="0.002")
    assert other.get("/api/v1/execution/venues/").json() == []


def test_recalibration_is_stored_and_changes_the_recommendation(alice, book):
    client = _client(alice)
    order = {"symbol": "ACME", "side": "buy", "quantity": 2000, "urgency": "high", "minutes_to_close": 120}
    before = client.post(f"/api/v1/portfolios/{book.pk}/execution/recommend/", order, format="json").json()
    assert before["model"]["source"] == "default"
    created = client.post(f"/api/v1/portfolios/{book.pk}/execution/impact/")
    assert created.status_code == 201, created.json()
    assert created.json()["observations"] == len(SIZES)
    after = client.post(f"/api/v1/portfolios/{book.pk}/execution/recommend/", order, format="json").json()
    assert after["model"]["source"] == f"calibration {created.json()['id']}"
    assert after["model"]["temporary"] == pytest.approx(created.json()["temporary"])
    costs_before = {(c["algo"], str(c["params"].get("rate"))): c["expected_cost_bps"] for c in before["candidates"]}
    costs_after = {(c["algo"], str(c["params"].get("rate"))): c["expected_cost_bps"] for c in after["candidates"]}
    assert costs_before != costs_after


def test_recommend_needs_market_statistics(alice, book):
    response = _client(alice).post(f"/api/v1/portfolios/{book.pk}/execution/recommend/",
                                   {"symbol": "NOPE", "side": "buy", "quantity": 100}, format="json")
    assert response.status_code == 400 and "NOPE" in response.json()["message"]
    explicit = _client(alice).post(f"/api/v1/portfolios/{book.pk}/execution/recommend/",
                                   {"symbol": "NOPE", "side": "buy", "quantity": 100, "adv": 1e6,
                                    "sigma_daily": 0.02, "price": 10, "minutes_to_close": 200}, format="json")
    assert explicit.status_code == 200 and explicit.json()["best"]["algo"]


def test_schedule_endpoint_gives_the_almgren_chriss_example(alice):
    body = {"shares": 1e6, "horizon_days": 5, "periods": 5, "sigma": 0.95, "eta": 2.5e-6, "gamma": 2.5e-7,
            "epsilon": 0.0625, "risk_aversion": 1e-6, "frontier_points": 5}
    data = _client(alice).post("/api/v1/execution/schedule/", body, format="json").json()
    assert data["kappa"] == pytest.approx(0.6, abs=0.02)
    assert data["holdings"][0] == 1e6 and data["holdings"][-1] == 0
    costs = [p["expected_cost"] for p in data["frontier"]]
    assert costs == sorted(costs) and len(costs) == 5
    bad = _client(alice).post("/api/v1/execution/schedule/", {**body, "periods": 0}, format="json")
    assert bad.status_code == 400 and "periods" in bad.json()["message"]


def test_venues_and_routing_prefer_the_cheaper_venue(alice):
    client = _client(alice)
    assert client.post("/api/v1/execution/venues/", {"name": "MT", "taker_fee_per_share": "0.0030",
                                                      "maker_rebate_per_share": "0.0025"}, format="json").status_code == 201
    assert client.post("/api/v1/execution/venues/", {"name": "INV", "taker_fee_per_share": "-0.0010",
                                                      "maker_rebate_per_share": "-0.0015"}, format="json").status_code == 201
    duplicate = client.post("/api/v1/execution/venues/", {"name": "MT", "taker_fee_per_share": "0.003",
                                                           "maker_rebate_per_share": "0.002"}, format="json")
    assert duplicate.status_code == 409
    too_high = client.post("/api/v1/execution/venues/", {"name": "BAD", "taker_fee_per_share": "0.0050",
                                                          "maker_rebate_per_share": "0"}, format="json")
    assert too_high.status_code == 400 and "taker_fee_per_share" in too_high.json()["message"]
    quotes = [{"venue": "MT", "bid": 9.99, "bid_size": 500, "ask": 10.0, "ask_size": 500},
              {"venue": "INV", "bid": 9.99, "bid_size": 500, "ask": 10.0, "ask_size": 300}]
    plan = client.post("/api/v1/execution/route/", {"side": "buy", "quantity": 600, "quotes": quotes},
                       format="json").json()
    assert [(leg["venue"], leg["quantity"]) for leg in plan["legs"]] == [("INV", 300), ("MT", 300)]


def test_algo_order_sends_children_through_the_trading_core_and_stops_on_kill_switch(alice, book, bars):
    client = _client(alice)
    day = bars.index[50]
    start = day.to_pydatetime() + timedelta(hours=14, minutes=30)
    body = {"parent_id": "TW1", "symbol": "ACME", "side": "buy", "quantity": "100", "algo": "twap",
            "start": start.isoformat(), "end": (start + timedelta(minutes=100)).isoformat()}
    created = client.post(f"/api/v1/portfolios/{book.pk}/execution/algo-orders/", body, format="json")
    assert created.status_code == 201, created.json()
    row = models.AlgoOrder.objects.get(parent_id="TW1")
    services.algo_order_work(algo_order_id=row.pk, clock=SimulatedClock(start + timedelta(minutes=10)))
    child = book.orders.get(client_order_id="TW1-1")
    assert child.tag == "algo:TW1" and child.quantity == 10
    trading_services.kill_switch_set(user=alice, active=True, reason="test", portfolio_id=book.pk)
    row = services.algo_order_work(algo_order_id=row.pk, clock=SimulatedClock(start + timedelta(minutes=20)))
    assert row.state == "cancelled" and row.state_reason == "kill switch"
    assert book.orders.filter(tag="algo:TW1").count() == 1
    again = client.delete(f"/api/v1/portfolios/{book.pk}/execution/algo-orders/TW1/")
    assert again.status_code == 409


def test_algo_order_validation_and_cancel(alice, book):
    client = _client(alice)
    t0 = datetime(2024, 3, 1, 15, 0, tzinfo=UTC)
    bad = client.post(f"/api/v1/portfolios/{book.pk}/execution/algo-orders/",
                      {"parent_id": "X", "symbol": "ACME", "side": "buy", "quantity": "10", "algo": "magic",
                       "start": t0.isoformat(), "end": (t0 + timedelta(hours=1)).isoformat()}, format="json")
    assert bad.status_code == 400 and "algo must be one of" in bad.json()["message"]
    assert models.AlgoOrder.objects.count() == 0
    client.post(f"/api/v1/portfolios/{book.pk}/execution/algo-orders/",
                {"parent_id": "P2", "symbol": "ACME", "side": "sell", "quantity": "10", "algo": "pov",
                 "params": {"rate": 0.1}, "start": t0.isoformat(), "end": (t0 + timedelta(hours=1)).isoformat()},
                format="json")
    cancelled = client.delete(f"/api/v1/portfolios/{book.pk}/execution/algo-orders/P2/")
    assert cancelled.status_code == 200 and cancelled.json()["state"] == "cancelled"


def test_portal_pages_render_for_the_owner_only(alice, bob, book, client, run_on_commit):
    with run_on_commit(execute=True):
        services.tca_report_request(user=alice, portfolio_id=book.pk)
    report = models.TCAReport.objects.get()
    client.force_login(alice)
    home = client.get("/execution/")
    page = client.get(f"/portfolios/{book.pk}/execution/")
    tca = client.get(f"/portfolios/{book.pk}/execution/tca/{report.pk}/")
    assert home.status_code == 200 and b"execution-portfolios" in home.content
    assert page.status_code == 200 and b"tca-reports" in page.content
    assert tca.status_code == 200 and b'id="fig-slippage"' in tca.content and b"rule605" in tca.content
    assert b'id="rule606"' in tca.content
    client.force_login(bob)
    assert client.get(f"/portfolios/{book.pk}/execution/tca/{report.pk}/").status_code == 404


def test_recommend_with_passive_statistics_offers_and_prices_the_passive_vwap(alice, book):
    client = _client(alice)
    order = {"symbol": "NOPE", "side": "buy", "quantity": 50_000, "adv": 1e6, "sigma_daily": 0.02, "price": 50,
             "minutes_to_close": 390, "urgency": "low", "spread_bps": 4.0}
    plain = client.post(f"/api/v1/portfolios/{book.pk}/execution/recommend/", order, format="json").json()
    passive = client.post(f"/api/v1/portfolios/{book.pk}/execution/recommend/",
                          {**order, "passive_fill_rate": 0.765, "adverse_selection_bps": 1.58}, format="json").json()
    bad = client.post(f"/api/v1/portfolios/{book.pk}/execution/recommend/", {**order, "passive_fill_rate": 1.5},
                      format="json")

    def styles(answer):
        return {(c["algo"], c["params"].get("style")): c["expected_cost_bps"] for c in answer["candidates"]}

    assert ("vwap", "passive") not in styles(plain)
    aggressive, resting = styles(passive)[("vwap", None)], styles(passive)[("vwap", "passive")]
    # the passive VWAP costs the aggressive VWAP less the spread it saves: f * (spread - 2 * adverse selection)
    assert aggressive - resting == pytest.approx(0.765 * (4.0 - 2 * 1.58), rel=1e-9)
    assert passive["best"]["params"].get("style") == "passive"
    assert bad.status_code == 400 and "passive_fill_rate" in bad.json()["message"]
