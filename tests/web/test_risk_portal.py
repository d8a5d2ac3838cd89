"""Risk portal pages: dashboard with VaR, charts and alerts, limit form, alert acknowledgement,
report as HTML and PDF; another user's pages are 404; Postgres and a real Celery worker."""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model

from bifrost_web.risk import models, services, tasks
from tests.risk.webdata import funded_portfolio, ingest_instruments


@pytest.fixture(autouse=True)
def _fresh_risk_caches():
    """Database ids are reused after each test's rollback: drop the risk layer's process caches."""
    yield
    from bifrost_web.risk import market

    market.clear_cache()


pytestmark = pytest.mark.django_db


@pytest.fixture
def book(alice):
    ingest_instruments()
    return funded_portfolio(alice, "main", buys={"AAA": "300", "BBB": "400", "CCC": "200"})


def test_dashboard_shows_var_charts_limits_and_alerts(client, alice, book):
    client.force_login(alice)
    saved = client.post(f"/portfolios/{book.pk}/risk/limits/", {"kind": "sector_weight", "soft": "0.2",
                                                                "hard": "0.9"})
    bad = client.post(f"/portfolios/{book.pk}/risk/limits/", {"kind": "leverage", "soft": "2", "hard": "1"},
                      follow=True)
    services.risk_revalue(portfolio_id=book.pk, trigger="manual")
    page = client.get(f"/portfolios/{book.pk}/risk/")
    html = page.content.decode()
    assert saved.status_code == 302 and "must not exceed the hard level" in bad.content.decode()
    assert page.status_code == 200
    assert 'id="risk-var"' in html and "filtered_historical" in html and "monte_carlo_t" in html
    assert 'id="chart-correlation"' in html and 'id="chart-limits"' in html
    assert "portfolio main: sector_weight Technology" in html  # the soft-level alert
    alert = models.RiskAlert.objects.get()
    client.post(f"/portfolios/{book.pk}/risk/alerts/{alert.pk}/ack/")
    alert.refresh_from_db()
    assert alert.acknowledged
    assert client.get("/risk/").status_code == 200


def test_report_html_and_pdf(client, alice, book):
    client.force_login(alice)
    html = client.get(f"/portfolios/{book.pk}/risk/report/").content.decode()
    pdf = client.get(f"/portfolios/{book.pk}/risk/report.pdf")
    assert "2020 COVID crash" in html and 'id="report-backtest"' in html
    assert pdf.status_code == 200 and pdf["Content-Type"] == "application/pdf" and pdf.content[:5] == b"%PDF-"
    assert len(pdf.content) > 2000


def test_other_users_risk_pages_are_404(client, book):
    intruder = get_user_model().objects.create_user("mallory", password="pw-mallory-12345")
    client.force_login(intruder)
    paths = [f"/portfolios/{book.pk}/risk/", f"/portfolios/{book.pk}/risk/report/",
             f"/portfolios/{book.pk}/risk/report.pdf", f"/portfolios/{book.pk}/risk/alerts.json"]
    assert [client.get(p).status_code for p in paths] == [404] * 4
    assert client.post(f"/portfolios/{book.pk}/risk/limits/", {"kind": "leverage", "hard": "1"}).status_code == 404
    assert not models.LimitRule.objects.exists()


def test_daily_report_task_stores_one_snapshot_per_day(alice, book):
    services.limit_upsert(user=alice, portfolio_id=book.pk, kind="leverage", hard="2")
    assert tasks.risk_daily_reports("2024-03-28") == 1
    assert tasks.risk_daily_reports("2024-03-28") == 1
    assert tasks.risk_daily_reports("2024-03-30") == 0  # a Saturday
    snapshot = models.RiskSnapshot.objects.get(portfolio=book, trigger="daily")
    assert {s["name"] for s in snapshot.report["stress"]} >= {"crash_1987", "rates_2022"}


@pytest.mark.postgres
def test_open_alert_uniqueness_is_enforced_by_postgres(alice, book):
    from django.db import IntegrityError, connection, transaction
    from django.utils import timezone

    assert connection.vendor == "postgresql"
    now = timezone.now()
    models.RiskAlert.objects.create(owner=alice, portfolio=book, rule="x", severity="warning", message="m",
                                    dedup_key="k", first_seen=now, last_seen=now)
    with pytest.raises(IntegrityError), transaction.atomic():
        models.RiskAlert.objects.create(owner=alice, portfolio=book, rule="x", severity="warning", message="m",
                                        dedup_key="k", first_seen=now, last_seen=now)
    alert, created = services.alert_raise(owner=alice, portfolio=book, rule="x", severity="critical", message="m2",
                                          dedup_key="k")
    assert not created and alert.occurrences == 2 and alert.severity == "critical"


@pytest.mark.celery_worker
@pytest.mark.django_db(transaction=True)
def test_revaluation_runs_on_a_real_worker(celery_worker, alice):
    ingest_instruments()
    portfolio = funded_portfolio(alice, "worker", buys={"AAA": "100"})
    services.limit_upsert(user=alice, portfolio_id=portfolio.pk, kind="position_weight", soft="0.01")
    result = tasks.risk_revalue_all.delay().get(timeout=60)
    assert result == 1
    import time

    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and not models.RiskSnapshot.objects.filter(portfolio=portfolio).exists():
        time.sleep(0.5)
    snapshot = models.RiskSnapshot.objects.get(portfolio=portfolio)
    assert snapshot.trigger == "schedule" and snapshot.var > 0
    assert models.RiskAlert.objects.filter(owner=alice, rule="position_weight").exists()
