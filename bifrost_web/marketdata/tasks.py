"""Celery tasks for ingestion and refresh.

Tasks take ids and primitives, re-fetch state and call a service. Writes are upserts
on natural keys, so a retried or re-delivered task stores the same rows once. Only
transient provider errors (timeouts, 5xx, rate limits) are retried, with exponential
backoff and jitter.
"""

from __future__ import annotations

import logging
from datetime import UTC, date, datetime, timedelta

from celery import shared_task
from django.conf import settings

from bifrost.core.calendars import get_calendar
from bifrost.core.errors import BifrostError, ConfigurationError, TransientProviderError
from bifrost.marketdata.types import Timeframe

logger = logging.getLogger("bifrost.tasks")


def get_provider(name: str | None = None):
    """The configured market-data provider (``BIFROST_PROVIDER``)."""
    name = (name or settings.BIFROST_PROVIDER).lower()
    if name == "yahoo":
        from bifrost.adapters.yahoo import YahooProvider

        return YahooProvider()
    raise ConfigurationError(f"market-data provider {name!r} is not available; set BIFROST_PROVIDER=yahoo")


@shared_task(
    bind=True,
    autoretry_for=(TransientProviderError,),
    retry_backoff=5,
    retry_backoff_max=300,
    retry_jitter=True,
    max_retries=5,
    soft_time_limit=300,
    time_limit=360,
)
def refresh_symbol(self, symbol: str, timeframe: str, start_iso: str, end_iso: str, snapshot: bool = False) -> dict:
    """Download and upsert one symbol's bars for ``[start, end)``."""
    from bifrost_web.marketdata.services import provider_refresh

    result = provider_refresh(
        provider=get_provider(), symbol=symbol, timeframe=timeframe,
        start=datetime.fromisoformat(start_iso), end=datetime.fromisoformat(end_iso), with_snapshot=snapshot,
    )
    return {"symbol": result.symbol, "timeframe": result.timeframe.value, "rows": result.rows}


@shared_task(soft_time_limit=900, time_limit=960)
def import_file(path: str, symbol: str | None = None, timeframe: str | None = None, tz: str | None = None,
                gap_policy: str | None = None) -> list[dict]:
    """Import a CSV or Parquet file of bars that the worker can read."""
    from bifrost_web.marketdata.services import file_import

    results = file_import(path=path, symbol=symbol, timeframe=timeframe, tz=tz, gap_policy=gap_policy)
    return [{"symbol": r.symbol, "timeframe": r.timeframe.value, "rows": r.rows} for r in results]


@shared_task(soft_time_limit=900, time_limit=960)
def generate_synthetic(symbols: int, start_iso: str, end_iso: str, timeframe: str = "1d", seed: int = 7,
                       prefix: str = "SYN") -> int:
    """Generate and store a seeded synthetic market; returns the number of bars stored."""
    from bifrost_web.marketdata.services import synthetic_generate

    results = synthetic_generate(symbols=symbols, start=date.fromisoformat(start_iso), end=date.fromisoformat(end_iso),
                                 timeframe=timeframe, seed=seed, prefix=prefix)
    return sum(r.rows for r in results)


@shared_task(soft_time_limit=1800, time_limit=1900)
def refresh_watch_lists(today_iso: str | None = None) -> dict:
    """Daily refresh of every watch-list symbol: fetch from the last stored bar to now.

    Skips days that are not XNYS sessions. Each symbol is queued as its own task so a
    failing symbol neither blocks nor fails the others.
    """
    from bifrost_web.marketdata import models, storage

    today = date.fromisoformat(today_iso) if today_iso else datetime.now(UTC).date()
    if not get_calendar("XNYS").is_session(today.isoformat()):
        logger.info("refresh skipped: %s is not an XNYS session", today)
        return {"queued": 0, "skipped": "not a session"}
    queued = 0
    now = datetime.now(UTC)
    for watch_list in models.WatchList.objects.prefetch_related("instruments"):
        timeframes = [Timeframe.parse(t) for t in watch_list.timeframes.split(",") if t.strip()]
        for instrument in watch_list.instruments.all():
            for tf in timeframes:
                last = {t: last_ts for _, t, _, _, last_ts in storage.bar_counts([instrument.id])}.get(tf.value)
                lookback = timedelta(days=365 * 5) if tf is Timeframe.D1 else timedelta(days=29)
                start = (last + timedelta(minutes=1)) if last else now - lookback
                if tf is not Timeframe.D1:
                    start = max(start, now - timedelta(days=29))  # Yahoo keeps 30 days of 1m bars
                refresh_symbol.delay(instrument.symbol, tf.value, start.isoformat(), now.isoformat(), tf is Timeframe.D1)
                queued += 1
    return {"queued": queued}


def run_and_report(func, *args) -> tuple[bool, str]:
    """Run a task body in-process and turn a Bifrost error into (False, message)."""
    try:
        return True, str(func(*args))
    except BifrostError as exc:
        return False, exc.message
