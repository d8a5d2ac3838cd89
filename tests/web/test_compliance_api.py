"""Compliance web service: imported broker history -> tax lots, wash sales, 8949, PDT, pre-trade,
alerts, audit trail; isolation between users."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest
from django.db import connection
from rest_framework.authtoken.models import Token

from bifrost.core.errors import OrderRejected
from bifrost.core.time import SimulatedClock
from bifrost.orders import OrderRequest
from bifrost_web.compliance import models, services
from bifrost_web.marketdata import services as md_services
from bifrost_web.trading import models as tr_models
from bifrost_web.trading import services as tr_services
from tests.web.conftest import token_client as _client

pytestmark = pytest.mark.django_db
D = Decimal

HEADER = "trade_id,account,date,symbol,side,quantity,price,fees\n"


def _import(tmp_path, user, portfolio, rows: list[str], name="trades.csv"):
    path = tmp_path / f"{portfolio.pk}-{name}"
    path.write_text(HEADER + "\n".join(rows) + "\n")
    return tr_services.trades_import(user=user, portfolio_id=portfolio.pk, path=str(path))


@pytest.fixture
def family(alice, tmp_path):
    """Alice's household: a taxable margin account with IRS Pub. 550 example 1, and an IRA."""
    taxable = tr_services.portfolio_create(owner=alice, name="taxable", account_type="margin", leverage_limit="2",
                                           household="family")
    ira = tr_services.portfolio_create(owner=alice, name="ira", tax_status="ira", household="family")
    _import(tmp_path, alice, taxable, ["B1,T,2024-01-02,XYZ,buy,100,10,0", "S1,T,2024-03-01,XYZ,sell,100,7.50,0",
                                       "B2,T,2024-03-20,XYZ,buy,100,8,0",
                                       "B3,T,2024-01-02,QQQ,buy,10,400,1.00", "S3,T,2024-02-01,QQQ,sell,10,380,1.00"])
    _import(tmp_path, alice, ira, ["I1,I,2024-02-15,QQQ,buy,10,385,0"])
    return taxable, ira


def test_lots_and_wash_sales_from_imported_history(alice, family):
    taxable, _ = family
    client = _client(alice)
    lots = client.get(f"/api/v1/portfolios/{taxable.pk}/compliance/lots/?year=2024").json()
    washes = client.get(f"/api/v1/portfolios/{taxable.pk}/compliance/wash-sales/").json()
    # Pub. 550 example 1: $250 disallowed, new basis $1,050. QQQ: loss 202 disallowed by the IRA purchase.
    assert {lot["lot_id"]: lot["basis"] for lot in lots["lots"]} == {"B2/w1": "1050.00"}
    assert lots["realised"]["short_term"] == "0.00" and lots["realised"]["wash_disallowed"] == "452.00"
    assert lots["unpriced_symbols"] == ["XYZ"]
    assert washes["disallowed"] == "452.00"
    qqq = next(w for w in washes["wash_sales"] if w["symbol"] == "QQQ")
    assert qqq["replacement_account"] == "ira" and qqq["added_to_basis"] is False


def test_household_endpoint_reports_ira_loss_lost(alice, family):
    taxable, _ = family
    body = _client(alice).get(f"/api/v1/households/{taxable.household_id}/compliance/wash-sales/").json()
    assert body["permanently_disallowed"] == "202.00" and len(body["wash_sales"]) == 2


def test_form8949_csv_pdf_and_audit(alice, family):
    taxable, _ = family
    client = _client(alice)
    csv_response = client.get(f"/api/v1/portfolios/{taxable.pk}/compliance/form8949/?year=2024&export=csv")
    pdf_response = client.get(f"/api/v1/portfolios/{taxable.pk}/compliance/form8949/?year=2024&export=pdf")
    schedule = client.get(f"/api/v1/portfolios/{taxable.pk}/compliance/form8949/?year=2024&export=csv"
                          f"&part=schedule-d")
    text = csv_response.content.decode()
    assert csv_response.status_code == 200 and csv_response["Content-Type"] == "text/csv"
    assert "A,short,100 sh. XYZ,2024-01-02,2024-03-01,750.00,1000.00,W,250.00,0.00" in text
    assert pdf_response.content.startswith(b"%PDF")
    assert "16,Total (lines 7 and 15)" in schedule.content.decode()
    actions = list(models.AuditEntry.objects.filter(action="report.form8949").values_list("after", flat=True))
    assert [a["format"] for a in actions] == ["csv", "pdf", "csv"]


def test_bad_query_is_400_and_other_user_is_404(alice, bob, family):
    taxable, _ = family
    assert _client(alice).get(f"/api/v1/portfolios/{taxable.pk}/compliance/form8949/?export=xls").status_code == 400
    assert _client(alice).get(f"/api/v1/portfolios/{taxable.pk}/compliance/lots/?year=20x4").status_code == 400
    for path in ("lots", "realised", "wash-sales", "form8949", "pdt", "settings"):
        assert _client(bob).get(f"/api/v1/portfolios/{taxable.pk}/compliance/{path}/").status_code == 404
    assert _client(bob).get(f"/api/v1/households/{taxable.household_id}/compliance/wash-sales/").status_code == 404


def test_settings_validate_and_write_nothing_on_error(alice, family):
    taxable, _ = family
    client = _client(alice)
    bad = client.put(f"/api/v1/portfolios/{taxable.pk}/compliance/settings/", {"wash_sale_action": "maybe"},
                     format="json")
    assert bad.status_code == 400 and "wash_sale_action must be one of block, off, warn" in str(bad.json())
    assert not models.ComplianceSettings.objects.exists()
    good = client.put(f"/api/v1/portfolios/{taxable.pk}/compliance/settings/",
                      {"wash_sale_action": "block", "tax_lot_method": "tax_optimal"}, format="json")
    assert good.status_code == 200 and good.json()["wash_sale_action"] == "block"
    assert models.AuditEntry.objects.filter(action="compliance.settings.update").count() == 1


@pytest.fixture
def acme_account(alice, daily_bars, tmp_path):
    md_services.bars_ingest(symbol="ACME", timeframe="1d", bars=daily_bars, source="test")
    portfolio = tr_services.portfolio_create(owner=alice, name="acme", account_type="margin", leverage_limit="2")
    tr_services.cash_flow_record(user=alice, portfolio_id=portfolio.pk, kind="deposit", amount="100000",
                                 ts_event=datetime(2024, 1, 2, 14, 0, tzinfo=UTC), entry_id="dep-1")
    _import(tmp_path, alice, portfolio, ["A1,X,2024-01-03,ACME,buy,100,200,0", "A2,X,2024-02-01,ACME,sell,100,150,0"])
    return portfolio


def test_order_submission_runs_wash_sale_provider(alice, acme_account):
    services.compliance_settings_update(user=alice, portfolio_id=acme_account.pk, wash_sale_action="block")
    clock = SimulatedClock(datetime(2024, 2, 15, 15, 0, tzinfo=UTC))
    order = OrderRequest(client_order_id="rebuy", symbol="ACME", side="buy", quantity="40", order_type="limit",
                         limit_price="160", time_in_force="gtc")
    with pytest.raises(OrderRejected, match=r"would be a wash sale and disallow \$2,000.00"):
        tr_services.order_submit(user=alice, portfolio_id=acme_account.pk, request=order, clock=clock)
    row = tr_models.Order.objects.get(client_order_id="rebuy")
    assert row.status == "rejected" and "wash sale" in row.reject_reason
    services.compliance_settings_update(user=alice, portfolio_id=acme_account.pk, wash_sale_action="warn")
    accepted = tr_services.order_submit(user=alice, portfolio_id=acme_account.pk, clock=clock,
                                        request=OrderRequest(client_order_id="rebuy2", symbol="ACME", side="buy",
                                                             quantity="40", order_type="limit", limit_price="160",
                                                             time_in_force="gtc"))
    warnings = accepted.events.filter(reason="pre-trade warnings").first().details["warnings"]
    assert any("disallow $2,000.00" in w for w in warnings)


def test_what_if_check_api(alice, tmp_path):
    portfolio = tr_services.portfolio_create(owner=alice, name="recent")
    tr_services.cash_flow_record(user=alice, portfolio_id=portfolio.pk, kind="deposit", amount="50000",
                                 ts_event=datetime.now(UTC) - timedelta(days=40), entry_id="dep")
    start, sold = date.today() - timedelta(days=30), date.today() - timedelta(days=10)
    _import(tmp_path, alice, portfolio, [f"R1,X,{start},ZZZ,buy,10,50,0", f"R2,X,{sold},ZZZ,sell,10,40,0"])
    response = _client(alice).post(f"/api/v1/portfolios/{portfolio.pk}/compliance/check/",
                                   {"symbol": "ZZZ", "side": "buy", "quantity": "5", "limit_price": "41"},
                                   format="json")
    body = response.json()
    assert body["decision"] == "warn" and body["findings"][0]["numbers"]["disallowed"] == "50.00"


def test_pdt_status_endpoint_counts_day_trades(alice, tmp_path):
    portfolio = tr_services.portfolio_create(owner=alice, name="dt", account_type="margin", leverage_limit="2")
    rows = []
    for n, day in enumerate(["2024-04-01", "2024-04-02", "2024-04-03", "2024-04-04"]):
        rows += [f"b{n},X,{day}T10:00:00-04:00,DT,buy,1,10,0", f"s{n},X,{day}T11:00:00-04:00,DT,sell,1,11,0"]
    _import(tmp_path, alice, portfolio, rows)
    body = _client(alice).get(f"/api/v1/portfolios/{portfolio.pk}/compliance/pdt/?as_of=2024-04-04").json()
    assert body["regime"] == "legacy_pdt" and body["status"]["day_trades"] == 4
    assert body["status"]["pattern_day_trader"] is True and body["status"]["designated_on"] == "2024-04-04"
    portfolio.refresh_from_db()  # no positions: buying power = 4 x (equity - 0) = 4 x cash
    assert D(body["day_trading_buying_power"]) == 4 * portfolio.cash_balance


def test_scan_alerts_deduplicate_and_acknowledge(alice, bob, family):
    taxable, _ = family
    client = _client(alice)
    client.post(f"/api/v1/portfolios/{taxable.pk}/compliance/scan/")
    client.post(f"/api/v1/portfolios/{taxable.pk}/compliance/scan/")
    alerts = client.get("/api/v1/compliance/alerts/?open=true").json()
    assert sorted(a["kind"] for a in alerts) == ["wash_sale", "wash_sale"]
    assert {a["occurrences"] for a in alerts} == {2}
    assert _client(bob).post(f"/api/v1/compliance/alerts/{alerts[0]['id']}/ack/").status_code == 404
    acked = client.post(f"/api/v1/compliance/alerts/{alerts[0]['id']}/ack/").json()
    assert acked["acknowledged_at"] is not None
    assert len(client.get("/api/v1/compliance/alerts/?open=true").json()) == 1


def test_identical_groups_validate(alice, bob):
    client = _client(alice)
    assert client.post("/api/v1/compliance/identical-groups/", {"name": "sp500", "symbols": ["spy", "IVV", "VOO"]},
                       format="json").status_code == 201
    overlap = client.post("/api/v1/compliance/identical-groups/", {"name": "other", "symbols": ["VOO", "SPLG"]},
                          format="json")
    assert overlap.status_code == 400 and "VOO is in two" in str(overlap.json())
    assert client.get("/api/v1/compliance/identical-groups/").json() == [{"name": "sp500",
                                                                          "symbols": ["IVV", "SPY", "VOO"]}]
    assert _client(bob).get("/api/v1/compliance/identical-groups/").json() == []


def _audit_tamper_roundtrip(alice, acme_account):
    clock = SimulatedClock(datetime(2024, 2, 15, 15, 0, tzinfo=UTC))
    tr_services.order_submit(user=alice, portfolio_id=acme_account.pk, clock=clock,
                             request=OrderRequest(client_order_id="o1", symbol="ACME", side="buy", quantity="1",
                                                  time_in_force="gtc"))
    actions = list(models.AuditEntry.objects.values_list("action", flat=True))
    created = models.AuditEntry.objects.get(action="order.create", object_id__endswith=":o1")
    assert created.after["status"] == "accepted"  # one entry records the submission and its outcome
    checked, broken = services.audit_verify()
    assert broken is None and checked == len(actions)
    entry = models.AuditEntry.objects.get(action="order.create", object_id__endswith=":o1")
    with pytest.raises(PermissionError):
        entry.save()
    with pytest.raises(PermissionError):
        models.AuditEntry.objects.filter(pk=entry.pk).update(actor="mallory")
    with connection.cursor() as cursor:  # tamper below the application
        cursor.execute("UPDATE compliance_auditentry SET actor = %s WHERE id = %s", ["mallory", entry.pk])
    checked, broken = services.audit_verify()
    assert broken is not None and broken.sequence == entry.sequence and "altered" in broken.reason


def test_audit_chain_records_orders_and_detects_tampering(alice, acme_account):
    _audit_tamper_roundtrip(alice, acme_account)


@pytest.mark.postgres
def test_audit_tampering_detected_in_postgres(alice, acme_account):
    assert connection.vendor == "postgresql"
    _audit_tamper_roundtrip(alice, acme_account)


def test_portal_pages_render(alice, family, client):
    taxable, _ = family
    client.force_login(alice)
    overview = client.get("/compliance/")
    page = client.get(f"/compliance/portfolios/{taxable.pk}/?year=2024")
    assert overview.status_code == 200 and b"taxable" in overview.content
    assert page.status_code == 200 and b"B2/w1" in page.content and b"1050.00" in page.content
    assert client.get("/compliance/portfolios/99999/").status_code == 404


def test_restricted_and_watch_lists_apply_to_orders(alice, bob, acme_account):
    client = _client(alice)
    assert client.post("/api/v1/compliance/lists/", {"symbol": "acme", "kind": "restricted",
                                                      "reason": "material non-public information"},
                       format="json").status_code == 201
    assert client.post("/api/v1/compliance/lists/", {"symbol": "X", "kind": "banned"},
                       format="json").status_code == 400
    clock = SimulatedClock(datetime(2024, 2, 15, 15, 0, tzinfo=UTC))
    with pytest.raises(OrderRejected, match="ACME is on the restricted list: material non-public information"):
        tr_services.order_submit(user=alice, portfolio_id=acme_account.pk, clock=clock,
                                 request=OrderRequest(client_order_id="r1", symbol="ACME", side="buy", quantity="1",
                                                      time_in_force="gtc"))
    client.post("/api/v1/compliance/lists/", {"symbol": "ACME", "kind": "watch"}, format="json")
    order = tr_services.order_submit(user=alice, portfolio_id=acme_account.pk, clock=clock,
                                     request=OrderRequest(client_order_id="r2", symbol="ACME", side="buy",
                                                          quantity="1", time_in_force="gtc"))
    assert any("watch list" in w for w in order.events.get(reason="pre-trade warnings").details["warnings"])
    assert _client(bob).get("/api/v1/compliance/lists/").json() == []
    assert models.AuditEntry.objects.filter(action="compliance.list.set").count() == 2


def test_ownership_alert_from_company_snapshot(alice, acme_account):
    from bifrost_web.marketdata.models import CompanySnapshot, Instrument
    from bifrost_web.risk.models import RiskAlert

    # alice holds 0 ACME after the import (bought 100, sold 100); buy 60 more through the import path.
    tr_models.Portfolio.objects.filter(pk=acme_account.pk).update(position_quantities={"ACME": "60"})
    CompanySnapshot.objects.create(instrument=Instrument.objects.get(symbol="ACME"), as_of=date(2024, 3, 1),
                                   source="test", shares_outstanding=1000.0)
    body = _client(alice).get("/api/v1/compliance/ownership/").json()
    assert body["findings"] == [{"symbol": "ACME", "shares": "60", "shares_outstanding": "1000",
                                 "percent": "6.0000", "level": "13d"}]
    alert = RiskAlert.objects.get(owner=alice, rule="ownership_threshold")
    assert alert.severity == "critical" and "Schedule 13D/13G due" in alert.message


def test_reports_are_versioned_and_downloadable(alice, bob, family):
    taxable, _ = family
    client = _client(alice)
    first = client.post("/api/v1/compliance/reports/", {"kind": "form8949", "period": "2024",
                                                         "portfolio": taxable.pk}, format="json").json()
    second = client.post("/api/v1/compliance/reports/", {"kind": "form8949", "period": "2024",
                                                          "portfolio": taxable.pk}, format="json").json()
    assert (first["version"], second["version"]) == (1, 2) and first["sha256"] == second["sha256"]
    csv_body = client.get(first["csv"]).content.decode()
    assert "100 sh. XYZ" in csv_body and client.get(first["pdf"]).content.startswith(b"%PDF")
    assert _client(bob).get(first["csv"]).status_code == 404
    bad = client.post("/api/v1/compliance/reports/", {"kind": "form8949", "period": "2024"}, format="json")
    assert bad.status_code == 400 and models.ReportRun.objects.count() == 2
    assert models.AuditEntry.objects.filter(action="report.generate").count() == 2


def test_cash_account_good_faith_violation_endpoint(alice, tmp_path):
    portfolio = tr_services.portfolio_create(owner=alice, name="cash")
    tr_services.cash_flow_record(user=alice, portfolio_id=portfolio.pk, kind="deposit", amount="1000",
                                 ts_event=datetime(2024, 1, 2, 14, 0, tzinfo=UTC), entry_id="dep")
    _import(tmp_path, alice, portfolio, ["c0,C,2024-01-03,AAA,buy,100,10,0",
                                         "c1,C,2024-06-03T10:00:00-04:00,AAA,sell,100,10,0",
                                         "c2,C,2024-06-03T11:00:00-04:00,BBB,buy,50,20,0",
                                         "c3,C,2024-06-03T15:00:00-04:00,BBB,sell,50,21,0"])
    body = _client(alice).get(f"/api/v1/portfolios/{portfolio.pk}/compliance/cash-violations/").json()
    assert [(v["kind"], v["trade_id"]) for v in body["violations"]] == [("good_faith", "c3")]


def test_fills_crossing_zero_become_sale_plus_short_sale(alice, tmp_path):
    portfolio = tr_services.portfolio_create(owner=alice, name="flip", account_type="margin", leverage_limit="2")
    _import(tmp_path, alice, portfolio, ["f1,F,2024-03-04,FLP,buy,10,10,1.00",
                                         "f2,F,2024-03-05,FLP,sell,15,12,1.50",
                                         "f3,F,2024-03-06,FLP,buy,5,11,0"])
    trades = services.trades_for([portfolio])
    assert [(t.trade_id, t.action.value, t.quantity, t.fees) for t in trades] == [
        ("f1", "buy", D(10), D("1.00")), ("f2", "sell", D(10), D("1.00")), ("f2:short", "sell_short", D(5),
                                                                              D("0.50")),
        ("f3", "buy_to_cover", D(5), D(0))]
    _, result = services.tax_report(user=alice, portfolio_id=portfolio.pk)
    # long: 10 x 12 - 1.00 - (100 + 1.00) = 18; short: 5 x 12 - 0.50 - 5 x 11 = 4.50.
    assert [(d.lot_id, d.gain) for d in result.disposals] == [("f1", D("18.00")), ("f2:short", D("4.50"))]


def test_scan_raises_intraday_margin_deficit_alert(alice, acme_account):
    from bifrost_web.risk.models import RiskAlert

    services.compliance_settings_update(user=alice, portfolio_id=acme_account.pk, regime="intraday_margin")
    price = services.last_prices(["ACME"])["ACME"]
    # 1,000 shares bought entirely on credit: equity = 1,000 x price - 1,000 x price + 1,000 = 1,000,
    # requirement = 25% of 1,000 x price, far above it.
    tr_models.Portfolio.objects.filter(pk=acme_account.pk).update(position_quantities={"ACME": "1000"},
                                                                  cash_balance=D(1000) - 1000 * price)
    services.compliance_scan(portfolio_id=acme_account.pk, as_of=date(2026, 7, 1))
    alert = RiskAlert.objects.get(owner=alice, rule="margin_deficit")
    expected = (D("0.25") * 1000 * price - D(1000))
    assert alert.severity == "critical" and D(alert.numbers["deficit"]) == expected


def test_cash_account_sale_before_settlement_warns_through_order_path(alice, daily_bars, tmp_path):
    md_services.bars_ingest(symbol="ACME", timeframe="1d", bars=daily_bars, source="test")
    portfolio = tr_services.portfolio_create(owner=alice, name="cash-gfv")
    tr_services.cash_flow_record(user=alice, portfolio_id=portfolio.pk, kind="deposit", amount="1000",
                                 ts_event=datetime(2024, 1, 2, 14, 0, tzinfo=UTC), entry_id="dep")
    _import(tmp_path, alice, portfolio, ["g1,G,2024-03-01,ACME,buy,10,100,0",
                                         "g2,G,2024-03-04T10:00:00-05:00,ACME,sell,10,100,0",
                                         "g3,G,2024-03-04T11:00:00-05:00,ACME,buy,10,100,0"])
    order = tr_services.order_submit(
        user=alice, portfolio_id=portfolio.pk, clock=SimulatedClock(datetime(2024, 3, 4, 18, 0, tzinfo=UTC)),
        request=OrderRequest(client_order_id="gfv", symbol="ACME", side="sell", quantity="10", order_type="limit",
                             limit_price="100", time_in_force="gtc"))
    warnings = order.events.get(reason="pre-trade warnings").details["warnings"]
    # g3 was paid with g2's proceeds, which settle T+2 on 2024-03-06 (before the T+1 change).
    assert any("good-faith violation" in w and "settle on 2024-03-06" in w for w in warnings)


def test_celery_tasks_scan_generate_and_verify(alice, family):
    from bifrost_web.compliance import tasks
    from bifrost_web.risk.models import RiskAlert

    taxable, _ = family
    assert tasks.scan_portfolio.apply(args=[taxable.pk]).get() == {"alerts": 2}
    assert RiskAlert.objects.filter(owner=alice, rule="wash_sale").count() == 2
    made = tasks.generate_reports.apply(kwargs={"period": "2024Q4"}).get()
    # ownership and large-trader reports are stored; 13F needs prices for XYZ (none stored) and is skipped.
    assert made == 2 and set(models.ReportRun.objects.values_list("kind", flat=True)) == {"ownership",
                                                                                           "large_trader"}
    assert tasks.audit_verify.apply().get()["broken"] is None


def test_portal_shows_harvest_candidate(alice, acme_account, tmp_path, client):
    _import(tmp_path, alice, acme_account, ["H1,X,2024-03-15,ACME,buy,5,1000,0"], name="harvest.csv")
    client.force_login(alice)
    page = client.get(f"/compliance/portfolios/{acme_account.pk}/").content.decode()
    price = services.last_prices(["ACME"])["ACME"]
    loss = 5 * 1000 - 5 * price  # bought far above the last stored close
    assert "Tax-loss harvesting candidates" in page and "<td>H1</td>" in page and f"<td>{loss:.2f}</td>" in page


def test_audited_token_authentication_records_use_once_per_hour(alice):
    from rest_framework.test import APIRequestFactory

    from bifrost_web.compliance.auth import AuditedTokenAuthentication, token_fingerprint

    key = Token.objects.get_or_create(user=alice)[0].key
    request = APIRequestFactory().get("/api/v1/compliance/alerts/", HTTP_AUTHORIZATION=f"Token {key}")
    auth = AuditedTokenAuthentication()
    assert auth.authenticate(request)[0] == alice
    assert auth.authenticate(request)[0] == alice
    uses = models.AuditEntry.objects.filter(action="auth.token_use")
    assert [(u.actor, u.object_id) for u in uses] == [("alice", token_fingerprint(key))]
    assert key not in str(list(uses.values()))


def test_cheap_pretrade_tests_use_household_fills_and_todays_fills(alice, family):
    """The deferred checks' cheap tests: a wash sale needs a household fill of the symbol within 31 days,
    a day trade a fill of the symbol in this portfolio today; one query answers both."""
    from bifrost.orders.pretrade import PreTradeContext

    taxable, ira = family
    services.compliance_settings_update(user=alice, portfolio_id=taxable.pk, wash_sale_action="warn",
                                        day_trade_action="warn", regime="legacy_pdt")
    xyz_fill = tr_models.Fill.objects.filter(portfolio=taxable, symbol="XYZ").latest("ts_event").ts_event
    qqq_ira = tr_models.Fill.objects.get(portfolio=ira, symbol="QQQ").ts_event

    def needed(now, symbol):
        taxable.refresh_from_db()
        checks = {c.rule: c for c in services.pretrade_provider(taxable, None, now) if hasattr(c, "rule")}
        order = OrderRequest(client_order_id="probe", symbol=symbol, side="buy", quantity="1")
        context = PreTradeContext(portfolio_id=str(taxable.pk), now=now)
        return {rule: check._needed(order, context) for rule, check in checks.items()}

    same_day = needed(xyz_fill + timedelta(hours=1), "XYZ")
    assert same_day == {"wash_sale": True, "pattern_day_trader": True}
    assert needed(xyz_fill + timedelta(days=3), "XYZ") == {"wash_sale": True, "pattern_day_trader": False}
    assert needed(xyz_fill + timedelta(days=40), "XYZ") == {"wash_sale": False, "pattern_day_trader": False}
    # the IRA's QQQ purchase counts for the taxable account's wash test (one household)
    assert needed(qqq_ira + timedelta(days=5), "QQQ")["wash_sale"] is True
    assert needed(xyz_fill + timedelta(hours=1), "ABC") == {"wash_sale": False, "pattern_day_trader": False}


def test_household_membership_is_cached_and_follows_a_new_portfolio(alice, family):
    taxable, ira = family
    assert services.household_ids(taxable) == (taxable.pk, ira.pk)
    joined = tr_services.portfolio_create(owner=alice, name="joint", household="family")
    assert services.household_ids(taxable) == (taxable.pk, ira.pk, joined.pk)
