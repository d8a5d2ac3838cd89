"""Celery tasks: scheduling, idempotent refresh, retry policy."""

from datetime import date

import pytest
from django.conf import settings

from bifrost.core.errors import ConfigurationError, TransientProviderError
from bifrost_web.marketdata import models, tasks

pytestmark = pytest.mark.django_db


def test_beat_schedule_runs_watch_list_refresh_after_the_close():
    entry = settings.CELERY_BEAT_SCHEDULE["refresh-watch-lists"]
    assert entry["task"] == "bifrost_web.marketdata.tasks.refresh_watch_lists"
    schedule = entry["schedule"]
    assert (schedule.minute, schedule.hour, schedule.day_of_week) == ({30}, {22}, {1, 2, 3, 4, 5})


def test_refresh_symbol_retries_only_transient_errors():
    assert tasks.refresh_symbol.autoretry_for == (TransientProviderError,)
    assert tasks.refresh_symbol.retry_backoff and tasks.refresh_symbol.max_retries == 5
    assert tasks.refresh_symbol.soft_time_limit < tasks.refresh_symbol.time_limit


def test_refresh_watch_lists_skips_holidays():
    # 2024-12-25 is not an XNYS session: nothing is queued and no provider is touched.
    assert tasks.refresh_watch_lists("2024-12-25") == {"queued": 0, "skipped": "not a session"}


def test_refresh_with_unconfigured_provider_fails_clearly(django_user_model):
    user = django_user_model.objects.create_user("wl")
    watch_list = models.WatchList.objects.create(owner=user, name="core", timeframes="1d")
    watch_list.instruments.add(models.Instrument.objects.create(symbol="AAPL"))
    with pytest.raises(ConfigurationError, match="BIFROST_PROVIDER"):
        tasks.refresh_watch_lists(date(2024, 12, 24).isoformat())
