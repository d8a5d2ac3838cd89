"""A worker killed in the middle of posting fills loses and duplicates nothing (real PostgreSQL and Celery)."""

import time
import uuid
from datetime import UTC, datetime
from decimal import Decimal

import pytest
from django.contrib.auth import get_user_model

from bifrost.core.time import SimulatedClock
from bifrost.orders import OrderRequest
from bifrost_web.config.celery_app import app
from bifrost_web.marketdata import services as md_services
from bifrost_web.trading import models, services, tasks
from tests.conftest import spawn_celery_worker, stop_celery_worker
from tests.factories import xnys_minute_bars

pytestmark = [pytest.mark.postgres, pytest.mark.redis, pytest.mark.celery_worker,
              pytest.mark.django_db(transaction=True)]

ORDERS = 120


def _wait_for(predicate, timeout: float, what: str):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.05)
    pytest.fail(f"timed out waiting for {what}")


def test_killing_worker_mid_run_loses_and_duplicates_nothing(redis_url):
    user = get_user_model().objects.create_user("crash", password="pw-crash-123456")
    md_services.bars_ingest(symbol="ACME", timeframe="1m", bars=xnys_minute_bars("2024-03-01"), source="test")
    portfolio = services.portfolio_create(owner=user, name="crash")
    services.cash_flow_record(user=user, portfolio_id=portfolio.pk, kind="deposit", amount="1000000",
                              ts_event=datetime(2024, 3, 1, 14, 0, tzinfo=UTC), entry_id="dep")
    clock = SimulatedClock(datetime(2024, 3, 1, 14, 31, tzinfo=UTC))
    for i in range(ORDERS):
        services.order_submit(user=user, portfolio_id=portfolio.pk, clock=clock, request=OrderRequest(
            client_order_id=f"o{i:03d}", symbol="ACME", side="buy", quantity="1", time_in_force="gtc"))

    queue = f"bifrost-crash-{uuid.uuid4().hex[:8]}"
    previous_queue, previous_eager = app.conf.task_default_queue, app.conf.task_always_eager
    app.conf.task_default_queue, app.conf.task_always_eager = queue, False
    try:
        # Act 1: a worker (solo pool: the task runs in the process we kill) starts posting fills...
        worker, _ = spawn_celery_worker(queue, pool="solo")
        tasks.paper_process.delay(portfolio.pk)
        _wait_for(lambda: models.Fill.objects.filter(portfolio=portfolio).count() >= 10, 120, "first fills")
        worker.kill()  # SIGKILL: no cleanup, mid-transaction at worst
        worker.wait(timeout=20)
        stored_at_crash = models.Fill.objects.filter(portfolio=portfolio).count()

        # Every stored fill is whole: fill, ledger entry and order update committed together.
        assert 10 <= stored_at_crash < ORDERS
        assert models.LedgerEntry.objects.filter(portfolio=portfolio, kind="fill").count() == stored_at_crash
        assert models.Order.objects.filter(portfolio=portfolio, status="filled").count() == stored_at_crash

        # Act 2: a new worker runs the same task again.
        worker, _ = spawn_celery_worker(queue, pool="solo")
        tasks.paper_process.delay(portfolio.pk).get(timeout=180)
        stop_celery_worker(worker, queue, redis_url)
    finally:
        app.conf.task_default_queue, app.conf.task_always_eager = previous_queue, previous_eager

    fills = models.Fill.objects.filter(portfolio=portfolio)
    assert fills.count() == ORDERS and fills.values("fill_id").distinct().count() == ORDERS
    assert models.Order.objects.filter(portfolio=portfolio, status="filled").count() == ORDERS
    assert models.LedgerEntry.objects.filter(portfolio=portfolio).count() == ORDERS + 1
    ledger = services.ledger_for(portfolio)
    ledger.reconcile()
    assert ledger.position("ACME").quantity == Decimal(ORDERS)
    spent = sum((f.quantity * f.price).quantize(Decimal("0.01")) for f in fills)
    assert ledger.cash() == Decimal("1000000") - spent
