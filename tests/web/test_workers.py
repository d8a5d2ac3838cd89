"""Tasks on a real Celery worker process with Redis as broker and result backend.

These run in the services pass (REDIS_URL set; PostgreSQL when DATABASE_URL is set);
the worker process reads and writes the same test database as this process.
"""

import pytest
from django.core.cache import cache

from bifrost.marketdata.types import Timeframe
from bifrost_web.marketdata import models, storage, tasks

pytestmark = [pytest.mark.redis]


@pytest.mark.celery_worker
@pytest.mark.django_db(transaction=True)
def test_import_file_task_runs_on_worker_and_stores_bars(celery_worker, tmp_path, daily_bars):
    frame = daily_bars.reset_index()
    frame["ts"] = frame["ts"].map(lambda t: t.isoformat())
    path = tmp_path / "ACME.csv"
    frame.to_csv(path, index=False)

    result = tasks.import_file.delay(str(path), "ACME")
    summary = result.get(timeout=90)
    result.forget()

    assert summary == [{"symbol": "ACME", "timeframe": "1d", "rows": 61}]
    instrument = models.Instrument.objects.get(symbol="ACME")
    assert len(storage.read_bars(instrument.id, Timeframe.D1)) == 61
    assert "import_file" in celery_worker["log"].read_text()


@pytest.mark.celery_worker
@pytest.mark.django_db(transaction=True)
def test_worker_task_bad_file_fails_and_writes_nothing(celery_worker, tmp_path):
    path = tmp_path / "bad.csv"
    path.write_text("ts,open,high,low,close,volume\n2024-01-02T00:00:00+00:00,10,9,11,10,5\n")

    result = tasks.import_file.delay(str(path), "BAD", "1d")
    with pytest.raises(Exception) as caught:
        result.get(timeout=90)

    assert "BAD" in str(caught.value) and "high" in str(caught.value)
    assert not models.Instrument.objects.filter(symbol="BAD").exists()
    assert models.IngestRun.objects.filter(symbol="BAD", status="failed").count() == 1


@pytest.mark.celery_worker
@pytest.mark.django_db(transaction=True)
def test_synthetic_task_is_idempotent_on_redelivery(celery_worker):
    first = tasks.generate_synthetic.delay(2, "2024-01-02", "2024-02-29", "1d", 5, "IDM").get(timeout=90)
    second = tasks.generate_synthetic.delay(2, "2024-01-02", "2024-02-29", "1d", 5, "IDM").get(timeout=90)
    stored = sorted((tf, n) for _, tf, n, _, _ in storage.bar_counts())
    assert first == second == 2 * 41  # 41 XNYS sessions from 2024-01-02 to 2024-02-29
    assert stored == [("1d", 41), ("1d", 41)]


def test_django_cache_uses_real_redis(redis_url):
    import redis

    cache.set("bifrost-test-key", {"answer": 42}, timeout=30)
    client = redis.Redis.from_url(redis_url)
    keys = [k.decode() for k in client.scan_iter("*bifrost-test-key*")]
    assert cache.get("bifrost-test-key") == {"answer": 42}
    assert len(keys) == 1
    cache.delete("bifrost-test-key")
