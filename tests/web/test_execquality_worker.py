"""TCA reports and impact recalibration on a real Celery worker process (Redis broker)."""

import time
from datetime import UTC, datetime, timedelta

import pytest
from django.contrib.auth import get_user_model

from bifrost.core.time import SimulatedClock
from bifrost.orders import OrderRequest
from bifrost_web.execquality import models, services, tasks
from bifrost_web.marketdata import services as md_services
from bifrost_web.trading import services as trading_services
from tests.factories import xnys_daily_bars

pytestmark = [pytest.mark.redis, pytest.mark.celery_worker, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def portfolio():
    user = get_user_model().objects.create_user("trader", password="pw-trader-123456")
    bars = xnys_daily_bars("2024-01-02", "2024-03-28", seed=5)
    md_services.bars_ingest(symbol="ACME", timeframe="1d", bars=bars, source="test")
    portfolio = trading_services.portfolio_create(owner=user, name="main")
    trading_services.cash_flow_record(user=user, portfolio_id=portfolio.pk, kind="deposit", amount="1000000",
                                      ts_event=datetime(2024, 1, 2, 14, 0, tzinfo=UTC), entry_id="dep-1")
    for i, size in enumerate([10, 50, 100, 200, 400]):
        day = bars.index[30 + 3 * i]
        trading_services.order_submit(user=user, portfolio_id=portfolio.pk,
                                      request=OrderRequest(client_order_id=f"b{i}", symbol="ACME", side="buy",
                                                           quantity=str(size), time_in_force="gtc"),
                                      clock=SimulatedClock(day.to_pydatetime() - timedelta(hours=2)))
        trading_services.paper_process(portfolio_id=portfolio.pk, until=day.to_pydatetime() + timedelta(days=1))
    return user, portfolio


def _wait(pk, *, timeout=120.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        row = models.TCAReport.objects.get(pk=pk)
        if row.status in ("done", "failed"):
            return row
        time.sleep(0.2)
    pytest.fail(f"TCA report {pk} did not finish in {timeout} s")


def test_tca_report_and_recalibration_run_on_the_worker(celery_worker, portfolio):
    user, book = portfolio
    report = services.tca_report_request(user=user, portfolio_id=book.pk)
    done = _wait(report.pk)
    assert done.status == "done", done.error
    assert done.summary["orders"] == 5 and done.summary["fills"] == 5
    assert done.result["rule605"] and done.result["shortfall"]
    outcome = tasks.impact_recalibrate.delay(book.pk).get(timeout=120)
    assert outcome.startswith("calibration ")
    assert models.ImpactCalibration.objects.filter(portfolio=book, observations=5).count() == 1
    assert "tca_report_run" in celery_worker["log"].read_text()
