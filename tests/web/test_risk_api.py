"""Risk REST API: limits CRUD, pre-trade enforcement through order submission, household limits,
the drawdown kill switch, reports checked against an independent computation, stress, what-if,
targets, backtest, alerts and user isolation."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

import numpy as np
import pandas as pd
import pytest
from django.contrib.auth import get_user_model

from bifrost.core.time import SimulatedClock
from bifrost.orders import OrderRequest
from bifrost.risk import HISTORICAL_SCENARIOS
from bifrost_web.risk import models
from bifrost_web.trading import models as trading_models
from bifrost_web.trading import services as trading_services
from tests.risk.webdata import (
    ORDER_TIME,
    client_for,
    funded_portfolio,
    ingest_instruments,
    last_close,
)


@pytest.fixture(autouse=True)
def _fresh_risk_caches():
    """Database ids are reused after each test's rollback: drop the risk layer's process caches."""
    yield
    from bifrost_web.risk import market

    market.clear_cache()


pytestmark = pytest.mark.django_db


@pytest.fixture
def alice():
    return get_user_model().objects.create_user("alice", email="alice@example.com", password="pw-alice-123456")


@pytest.fixture
def bob():
    return get_user_model().objects.create_user("bob", password="pw-bob-1234567")


@pytest.fixture
def bars():
    return ingest_instruments()


@pytest.fixture
def book(alice, bars):
    """Alice's portfolio: 100k cash, then 300 AAA, 400 BBB, 200 CCC bought on 2024-01-03."""
    return funded_portfolio(alice, "main", buys={"AAA": "300", "BBB": "400", "CCC": "200"}, household="family")


@pytest.fixture
def at_order_time(monkeypatch):
    monkeypatch.setattr(trading_services, "WallClock", lambda: SimulatedClock(ORDER_TIME))


def _values(portfolio, bars) -> dict[str, float]:
    portfolio.refresh_from_db()
    return {s: float(q) * last_close(bars, s) for s, q in portfolio.position_quantities.items() if float(q)}


def _nav(portfolio, bars) -> float:
    return float(portfolio.cash_balance) + sum(_values(portfolio, bars).values())


def _order(client, portfolio, coid: str, symbol: str, side: str, quantity: str):
    return client.post(f"/api/v1/portfolios/{portfolio.pk}/orders/",
                       {"client_order_id": coid, "symbol": symbol, "side": side, "quantity": quantity,
                        "time_in_force": "gtc"}, format="json")


def test_limits_crud_and_validation(alice, book):
    client = client_for(alice)
    base = f"/api/v1/portfolios/{book.pk}/risk/limits/"
    created = client.post(base, {"kind": "sector_weight", "soft": "0.25", "hard": "0.30"}, format="json")
    replaced = client.post(base, {"kind": "sector_weight", "soft": "0.2", "hard": "0.3"}, format="json")
    energy = client.post(base, {"kind": "sector_weight", "hard": "0.1", "params": {"sector": "Energy"}},
                         format="json")
    bad = client.post(base, {"kind": "position_weight", "soft": "0.5", "hard": "0.2"}, format="json")
    unknown = client.post(base, {"kind": "gamma", "hard": "1"}, format="json")
    settings = client.patch(base, {"confidence": 0.975, "horizon_days": 10}, format="json")
    listed = client.get(base).json()
    assert created.status_code == 201 and replaced.status_code == 201 and energy.status_code == 201
    assert bad.status_code == 400 and "must not exceed the hard level" in bad.json()["message"]
    assert unknown.status_code == 400
    assert settings.json()["settings"]["confidence"] == 0.975
    assert sorted((r["kind"], r["key"], r["soft"]) for r in listed["limits"]) == [
        ("sector_weight", "", "0.2"), ("sector_weight", "Energy", None)]
    deleted = client.delete(f"{base}{energy.json()['id']}/")
    assert deleted.status_code == 204 and models.LimitRule.objects.count() == 1


def test_order_breaching_sector_cap_is_rejected_with_the_numbers(alice, book, bars, at_order_time):
    client = client_for(alice)
    client.post(f"/api/v1/portfolios/{book.pk}/risk/limits/", {"kind": "sector_weight", "soft": "0.4",
                                                                "hard": "0.5"}, format="json")
    values, nav = _values(book, bars), _nav(book, bars)
    tech = values["AAA"] + values["BBB"]
    # buy enough AAA to take Technology to about 60% of NAV
    quantity = int((0.6 * nav - tech) / last_close(bars, "AAA"))
    expected_pct = (tech + quantity * last_close(bars, "AAA")) / nav * 100
    response = _order(client, book, "big", "AAA", "buy", str(quantity))
    stored = trading_models.Order.objects.get(portfolio=book, client_order_id="big")
    assert response.status_code == 422, response.json()
    assert stored.status == "rejected"
    shown = f"{expected_pct:.1f}".removesuffix(".0")  # one decimal, "60" rather than "60.0"
    assert f"portfolio main: sector Technology would be {shown}% of NAV, hard cap 50%" in stored.reject_reason
    finding = response.json()["details"]["findings"][0]
    assert finding["rule"] == "sector_weight" and float(finding["numbers"]["value"]) == pytest.approx(
        expected_pct / 100, rel=1e-9)


def test_order_over_soft_level_is_accepted_with_a_warning(alice, book, bars, at_order_time):
    client = client_for(alice)
    client.post(f"/api/v1/portfolios/{book.pk}/risk/limits/", {"kind": "position_weight", "soft": "0.01",
                                                                "hard": "0.9"}, format="json")
    response = _order(client, book, "w1", "DDD", "buy", "100")
    order = trading_models.Order.objects.get(portfolio=book, client_order_id="w1")
    assert response.status_code == 201 and order.status == "accepted"
    warnings = order.events.filter(reason="pre-trade warnings").first().details["warnings"]
    assert any("DDD would be" in w and "soft limit 1%" in w for w in warnings)


def test_household_limit_counts_every_portfolio(alice, book, bars, at_order_time):
    other = funded_portfolio(alice, "second", buys={"DDD": "300"}, household="family")
    client = client_for(alice)
    household = book.household
    client.post(f"/api/v1/households/{household.pk}/risk/limits/", {"kind": "sector_weight",
                                                                     "hard": "0.1", "params": {"sector": "Financials"}},
                format="json")
    household_nav = _nav(book, bars) + _nav(other, bars)
    financials = _values(other, bars)["DDD"]
    assert financials / household_nav < 0.1  # the household is under its cap before the order
    quantity = int((0.1 * household_nav - financials) / last_close(bars, "DDD")) + 5
    # the order is placed in the *first* portfolio, which holds no DDD: only the household view breaches
    response = _order(client, book, "hh", "DDD", "buy", str(quantity))
    assert response.status_code == 422
    assert "household family: sector Financials would be" in response.json()["message"]


def test_drawdown_breach_rejects_and_trips_the_kill_switch(alice, book, bars, at_order_time):
    client = client_for(alice)
    nav = _nav(book, bars)
    # history: the book was worth 30% more two sessions ago
    for day, value in ((date(2024, 2, 27), nav * 1.3), (date(2024, 2, 28), nav * 1.25)):
        trading_models.PortfolioSnapshot.objects.create(
            portfolio=book, date=day, nav=Decimal(str(round(value, 2))), cash=0, long_value=0, short_value=0,
            gross_exposure=0, net_exposure=0)
    client.post(f"/api/v1/portfolios/{book.pk}/risk/limits/", {"kind": "max_drawdown", "soft": "0.1",
                                                                "hard": "0.2"}, format="json")
    open_order = _order(client, book, "resting", "DDD", "buy", "1")  # rejected too: the breach is state-wide
    response = _order(client, book, "dd", "AAA", "buy", "1")
    book.refresh_from_db()
    order = trading_models.Order.objects.get(portfolio=book, client_order_id="dd")
    assert open_order.status_code == 422 and response.status_code == 422
    assert "drawdown from the high-water mark is 23.1%, hard cap 20%" in order.reject_reason
    assert order.status == "rejected" and list(order.events.values_list("kind", flat=True)) == [
        "submitted", "rejected"]
    assert book.kill_switch and "max_drawdown" not in book.kill_switch_reason
    assert "drawdown" in book.kill_switch_reason
    alert = models.RiskAlert.objects.get(rule="kill_switch")
    assert alert.severity == "critical" and alert.portfolio_id == book.pk


def test_risk_report_matches_independent_var(alice, book, bars):
    body = client_for(alice).get(f"/api/v1/portfolios/{book.pk}/risk/?confidence=0.95").json()
    values = _values(book, bars)
    closes = pd.DataFrame({s: bars[s]["close"] for s in values})
    returns = closes.pct_change().iloc[1:].iloc[-250:]
    pnl = returns.to_numpy() @ np.array([values[s] for s in closes.columns])
    k = int(np.ceil(len(pnl) * 0.05 - 1e-9))
    expected = -np.sort(pnl)[k - 1]
    methods = {row["method"]: row for row in body["var"]}
    assert methods["historical"]["var"] == pytest.approx(expected, rel=1e-9)
    assert set(methods) == {"historical", "parametric", "parametric_mean", "cornish_fisher", "monte_carlo_normal",
                            "monte_carlo_t", "filtered_historical"}
    assert body["nav"] == pytest.approx(_nav(book, bars), rel=1e-12)
    assert sum(r["component_var"] for r in body["decomposition"]) == pytest.approx(methods["parametric"]["var"],
                                                                                   rel=1e-9)
    sectors = body["exposures"]["by_group"]["sector"]
    assert sectors["Technology"]["gross"] == pytest.approx(values["AAA"] + values["BBB"])
    assert set(body["correlation"]["symbols"]) == {"AAA", "BBB", "CCC"}


def test_stress_what_if_targets_and_backtest(alice, book, bars):
    client = client_for(alice)
    base = f"/api/v1/portfolios/{book.pk}/risk/"
    client.post(base + "limits/", {"kind": "position_weight", "hard": "0.2"}, format="json")
    stress = client.post(base + "stress/", {"scenarios": ["covid_2020"], "index_shocks": [-0.1],
                                            "volatility_factor": 2, "correlation_to_one": True,
                                            "reverse_loss_pct": 0.05}, format="json").json()
    values = _values(book, bars)
    gross = sum(values.values())
    assert stress["historical"][0]["pnl"] == pytest.approx(
        gross * HISTORICAL_SCENARIOS["covid_2020"].factor_moves["market"])  # beta 1 proxy for all three
    assert stress["index"][0]["pnl"] == pytest.approx(-0.1 * gross)
    assert stress["reverse"]["index_move"] == pytest.approx(-0.05 * _nav(book, bars) / gross)
    assert stress["volatility"]["var_after"] == pytest.approx(2 * stress["volatility"]["var_before"])
    nav = _nav(book, bars)
    quantity = int(0.25 * nav / last_close(bars, "DDD"))
    check = client.post(base + "check/", {"symbol": "DDD", "side": "buy", "quantity": str(quantity)},
                        format="json").json()
    assert check["decision"] == "reject" and "DDD would be 2" in check["findings"][0]["message"]
    assert not trading_models.Order.objects.filter(portfolio=book, symbol="DDD").exists()  # nothing stored
    targets = client.post(base + "targets/", {"targets": {"AAA": 0.5, "CCC": 0.1}}, format="json").json()
    assert targets["weights"] == pytest.approx({"AAA": 0.2, "CCC": 0.1})
    backtest = client.get(base + "backtest/?window=100").json()
    assert backtest["basis"] == "current holdings" and backtest["observations"] > 100
    assert backtest["zone"] in ("green", "yellow", "red")


def test_revaluation_alerts_are_deduplicated_and_acknowledged(alice, book):
    client = client_for(alice)
    base = f"/api/v1/portfolios/{book.pk}/risk/"
    client.post(base + "limits/", {"kind": "position_weight", "soft": "0.05", "hard": "0.1"}, format="json")
    first = client.post(base + "revalue/")
    second = client.post(base + "revalue/")
    alerts = client.get(base + "alerts/?open=1").json()
    assert first.status_code == 201 and second.status_code == 201
    assert len(alerts) == 1 and alerts[0]["occurrences"] == 2 and alerts[0]["severity"] == "critical"
    acked = client.post(f"{base}alerts/{alerts[0]['id']}/ack/").json()
    client.post(base + "revalue/")
    after = client.get(base + "alerts/").json()
    assert acked["acknowledged"] is True
    assert len(after) == 2 and [a["acknowledged"] for a in after] == [False, True]
    assert models.RiskSnapshot.objects.filter(portfolio=book).count() == 3


def test_critical_alert_is_emailed(alice, book, mailoutbox, django_capture_on_commit_callbacks):
    client = client_for(alice)
    client.post(f"/api/v1/portfolios/{book.pk}/risk/limits/", {"kind": "leverage", "hard": "0.1"}, format="json")
    with django_capture_on_commit_callbacks(execute=True):
        client.post(f"/api/v1/portfolios/{book.pk}/risk/revalue/")
    assert len(mailoutbox) == 1 and mailoutbox[0].to == ["alice@example.com"]
    assert "leverage" in mailoutbox[0].subject


def test_fill_triggers_revaluation(alice, book, django_capture_on_commit_callbacks):
    client_for(alice).post(f"/api/v1/portfolios/{book.pk}/risk/limits/", {"kind": "leverage", "hard": "5"},
                           format="json")
    trading_services.order_submit(
        user=alice, portfolio_id=book.pk,
        request=OrderRequest(client_order_id="s1", symbol="CCC", side="sell", quantity="50", time_in_force="gtc"),
        clock=SimulatedClock(ORDER_TIME))
    with django_capture_on_commit_callbacks(execute=True):
        trading_services.paper_process(portfolio_id=book.pk, until=datetime(2024, 3, 10, tzinfo=UTC))
    snapshot = models.RiskSnapshot.objects.get(portfolio=book)
    assert snapshot.trigger == "fill"
    assert snapshot.report["positions"][2]["quantity"] == 150.0


def test_another_user_sees_nothing(alice, bob, book):
    client = client_for(alice)
    rule = client.post(f"/api/v1/portfolios/{book.pk}/risk/limits/", {"kind": "leverage", "soft": "0.01"},
                       format="json").json()
    client.post(f"/api/v1/portfolios/{book.pk}/risk/revalue/")
    alert = models.RiskAlert.objects.get()
    intruder = client_for(bob)
    base = f"/api/v1/portfolios/{book.pk}/risk/"
    responses = [intruder.get(base), intruder.get(base + "limits/"), intruder.get(base + "alerts/"),
                 intruder.post(base + "limits/", {"kind": "leverage", "hard": "9"}, format="json"),
                 intruder.delete(f"{base}limits/{rule['id']}/"), intruder.post(f"{base}alerts/{alert.pk}/ack/"),
                 intruder.post(base + "stress/", {}, format="json"), intruder.post(base + "revalue/"),
                 intruder.get(f"/api/v1/households/{book.household_id}/risk/limits/"),
                 intruder.post(f"/api/v1/risk/alerts/{alert.pk}/ack/")]
    assert [r.status_code for r in responses] == [404] * 10
    assert intruder.get("/api/v1/risk/alerts/").json() == []
    alert.refresh_from_db()
    assert not alert.acknowledged and models.LimitRule.objects.get().soft == Decimal("0.01")


def test_market_model_grown_by_one_symbol_equals_the_full_covariance(bars):
    from bifrost_web.risk import market

    grown = market.market_model(["AAA", "BBB"]).with_symbol("CCC")
    full = market.market_model(["AAA", "BBB", "CCC"], cache=False)
    assert list(grown.returns.columns) == ["AAA", "BBB", "CCC"]
    np.testing.assert_allclose(grown.covariance, full.covariance, rtol=1e-12)
    assert grown.with_symbol("ZZZ").no_history == ["ZZZ"]


def test_household_report_sums_the_portfolios(alice, book, bars):
    other = funded_portfolio(alice, "second", buys={"DDD": "300"}, household="family")
    body = client_for(alice).get(f"/api/v1/households/{book.household_id}/risk/").json()
    assert body["scope"] == "household" and body["nav"] == pytest.approx(_nav(book, bars) + _nav(other, bars))
    assert {p["symbol"] for p in body["positions"]} == {"AAA", "BBB", "CCC", "DDD"}


def test_revaluation_trips_the_kill_switch_on_a_drawdown(alice, book, bars):
    from bifrost_web.risk import services

    nav = _nav(book, bars)
    trading_models.PortfolioSnapshot.objects.create(
        portfolio=book, date=date(2024, 2, 28), nav=Decimal(str(round(nav * 1.5, 2))), cash=0, long_value=0,
        short_value=0, gross_exposure=0, net_exposure=0)
    services.limit_upsert(user=alice, portfolio_id=book.pk, kind="max_drawdown", soft="0.1", hard="0.3")
    services.risk_revalue(portfolio_id=book.pk)
    book.refresh_from_db()
    assert book.kill_switch and "max_drawdown 33.33% over 30.00%" in book.kill_switch_reason
    assert set(models.RiskAlert.objects.values_list("rule", "severity")) == {
        ("max_drawdown", "critical"), ("kill_switch", "critical")}


def test_new_alert_is_posted_to_the_webhook(alice, book, django_capture_on_commit_callbacks):
    import json
    import threading
    from http.server import BaseHTTPRequestHandler, HTTPServer

    received = []

    class Hook(BaseHTTPRequestHandler):
        def do_POST(self):  # noqa: N802 - http.server's naming
            received.append(json.loads(self.rfile.read(int(self.headers["Content-Length"]))))
            self.send_response(204)
            self.end_headers()

        def log_message(self, *args):
            pass

    server = HTTPServer(("127.0.0.1", 0), Hook)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        client = client_for(alice)
        base = f"/api/v1/portfolios/{book.pk}/risk/"
        client.post(base + "limits/", {"kind": "leverage", "soft": "0.1"}, format="json")
        client.patch(base + "limits/", {"webhook_url": f"http://127.0.0.1:{server.server_port}/hook"}, format="json")
        with django_capture_on_commit_callbacks(execute=True):
            client.post(base + "revalue/")
        with django_capture_on_commit_callbacks(execute=True):
            client.post(base + "revalue/")  # a repeat bumps the open alert: nothing new is sent
    finally:
        server.shutdown()
    assert len(received) == 1
    assert received[0]["rule"] == "leverage" and received[0]["severity"] == "warning"
