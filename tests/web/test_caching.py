"""Versioned process caches and the per-request version snapshot."""

import pytest
from django.core.cache import cache

from bifrost_web import caching
from bifrost_web.caching import VersionedCache


def test_versioned_cache_reloads_after_a_change_anywhere():
    loads = []
    config = VersionedCache("test:config-a", seconds=60)
    first = config.get("k", lambda: loads.append(1) or "v1")
    again = config.get("k", lambda: loads.append(2) or "v2")
    caching.bump(config.version_key)  # what another process's change does: only the shared number moves
    after_bump = config.get("k", lambda: loads.append(3) or "v3")  # another process bumped: this one reloads
    assert (first, again, after_bump, loads) == ("v1", "v1", "v3", [1, 3])


def test_versioned_cache_entry_expires_without_a_bump():
    config = VersionedCache("test:config-b", seconds=0)
    assert config.get("k", lambda: "v1") == "v1" and config.get("k", lambda: "v2") == "v2"


def test_version_snapshot_reads_registered_versions_once_and_sees_own_bumps(without_feed):
    caching.register_version_keys("bifrost:test:x", "bifrost:test:y")
    calls = []
    original = cache.get_many

    def counting(keys, *args, **kwargs):
        calls.append(sorted(keys))
        return original(keys, *args, **kwargs)

    cache.get_many = counting
    try:
        with caching.version_snapshot():
            x = caching.versions(["bifrost:test:x"])
            y = caching.versions(["bifrost:test:y"])
            caching.bump("bifrost:test:y")
            y_after = caching.versions(["bifrost:test:y"])
        outside = caching.versions(["bifrost:test:x"])
    finally:
        cache.get_many = original
    assert x == {"bifrost:test:x": 0} and y == {"bifrost:test:y": 0} and y_after == {"bifrost:test:y": 1}
    assert len(calls) == 3  # one read for both keys, one after the bump, one outside the block
    assert "bifrost:test:x" in calls[0] and "bifrost:test:y" in calls[0]
    assert outside == {"bifrost:test:x": 0}


@pytest.fixture
def without_feed(settings):
    """Versions read from the cache on every use (the embedded default; Redis with the feed off)."""
    settings.BIFROST_VERSION_FEED = False
    caching.reset_version_feed()
    yield
    caching.reset_version_feed()


@pytest.fixture(autouse=True)
def _clean_cache():
    cache.clear()
    yield
    cache.clear()
