"""Version numbers pushed over Redis pub/sub (``bifrost_web.caching.VersionFeed``): a bump made
on another connection reaches this process without a read, a lost subscription falls back to
reads and catches up when it is back, and the numbers follow a ``cache.clear()``.

The "other process" is another Redis connection running the same bump script: to Redis it is
indistinguishable from another worker."""

from __future__ import annotations

import time

import pytest
import redis
from django.core.cache import cache

from bifrost_web import caching

pytestmark = pytest.mark.redis


@pytest.fixture
def feed(redis_url, settings):
    settings.BIFROST_VERSION_FEED = True
    caching.reset_version_feed()
    feed = caching.version_feed()
    assert feed is not None, "with Redis as the cache the feed starts on first use"
    _until(lambda: feed.live, "the feed subscribed")
    yield feed
    caching.reset_version_feed()


@pytest.fixture
def other(redis_url):
    client = redis.Redis.from_url(redis_url)
    yield client
    client.close()


def _until(condition, what: str, seconds: float = 5.0) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, f"timed out waiting until {what}"
        time.sleep(0.002)


def _bump_elsewhere(client: redis.Redis, feed: caching.VersionFeed, name: str) -> int:
    return int(client.eval(caching._BUMP_SCRIPT, 1, feed.key(name), feed.channel, name))


def _counting_reads(monkeypatch) -> list:
    calls = []
    original = cache.get_many
    monkeypatch.setattr(cache, "get_many", lambda keys, *a, **k: calls.append(list(keys)) or original(keys, *a, **k))
    return calls


def test_a_bump_on_another_connection_arrives_without_a_read(feed, other, monkeypatch):
    name = "bifrost:test:feed-a"
    caching.versions([name])  # first use of the name: read once, then pushed
    reads = _counting_reads(monkeypatch)
    before = caching.versions([name])[name]
    value = _bump_elsewhere(other, feed, name)
    _until(lambda: caching.versions([name])[name] == value, "the bump arrived")
    assert value == before + 1 and reads == []
    assert int(other.get(feed.key(name))) == value  # the number Django's cache reads is the same one


def test_own_bump_is_seen_at_once_by_this_thread_and_pushed_to_the_feed(feed):
    name = "bifrost:test:feed-b"
    caching.register_version_keys(name)
    with caching.version_snapshot():
        before = caching.versions([name])[name]
        caching.bump(name)
        inside = caching.versions([name])[name]
    _until(lambda: feed.values.get(name) == inside, "the own bump's message came back")
    assert inside == before + 1


def test_lost_subscription_falls_back_to_reads_and_catches_up(feed, other, monkeypatch):
    name = "bifrost:test:feed-c"
    caching.register_version_keys(name)
    _until(lambda: name in feed.values or caching.versions([name]) is not None, "the name is known")
    caching.versions([name])
    subscribed = feed.subscriptions
    port = feed._pubsub.connection._sock.getsockname()[1]
    other.execute_command("CLIENT", "KILL", "ADDR", f"127.0.0.1:{port}")
    value = _bump_elsewhere(other, feed, name)  # published while nobody of this process listens
    # once the thread sees the connection gone, reads ask Redis; once it is back, the values are re-read
    _until(lambda: caching.versions([name])[name] == value, "the lost bump was read")
    _until(lambda: feed.live and feed.subscriptions > subscribed, "the feed subscribed again")
    reads = _counting_reads(monkeypatch)
    assert caching.versions([name])[name] == value and reads == []


def test_numbers_follow_a_cache_clear(feed, other):
    name = "bifrost:test:feed-d"
    for _ in range(3):
        _bump_elsewhere(other, feed, name)
    _until(lambda: caching.versions([name])[name] >= 3, "three bumps arrived")
    cache.clear()
    value = _bump_elsewhere(other, feed, name)  # the count starts again at 1
    _until(lambda: caching.versions([name])[name] == value, "the post-clear bump arrived")
    assert value == 1


def test_the_feed_is_off_without_redis_or_when_disabled(settings):
    settings.BIFROST_VERSION_FEED = False
    caching.reset_version_feed()
    try:
        assert caching.version_feed() is None
        before = caching.versions(["bifrost:test:feed-e"])["bifrost:test:feed-e"]
        caching.bump("bifrost:test:feed-e")
        assert caching.versions(["bifrost:test:feed-e"])["bifrost:test:feed-e"] == before + 1
    finally:
        caching.reset_version_feed()
