"""Process-local caches of slow-changing configuration, invalidated everywhere at once.

Pre-trade checks read configuration (limit sets, compliance settings, restricted lists) on
every order, but it changes rarely. :class:`VersionedCache` keeps loaded values in the
process and checks them against a version number held in Django's cache: any save or
delete bumps the number (connect :meth:`VersionedCache.changed` to the models' signals),
and every process reloads on its next read. With the in-process cache of the embedded
default, other processes see a change when their entry expires (``seconds``).

With Redis as the cache (production) the numbers are also pushed: a bump increments the
number and publishes the new value in one server-side script, and each process keeps a
subscriber thread (:class:`VersionFeed`) that holds the latest values, so reading them costs
no round trip. (On this machine a Redis round trip from a process that was idle between
requests took 0.36 ms at the median and 1.3 ms at p99: most of a served what-if check's
budget.) A change reaches other processes as fast as Redis delivers the message, well under a
millisecond on one host, the same order as the time between reading a version and using it.
While the subscription is down (Redis restarting, network) reads go to Redis as before, and
after every (re)subscription the values are read again, so no lost message leaves a process
behind. ``BIFROST_VERSION_FEED=0`` turns the feed off.
"""

from __future__ import annotations

import contextlib
import contextvars
import logging
import os
import threading
import time
from collections.abc import Callable, Hashable, Iterable, Iterator
from typing import Any

log = logging.getLogger(__name__)

_registered: set[str] = set()
_snapshot = threading.local()
_deferred: contextvars.ContextVar[set[str] | None] = contextvars.ContextVar("bifrost_deferred_bumps", default=None)

# INCR and PUBLISH in one script: no subscriber can miss a bump that happened
_BUMP_SCRIPT = """
local value = redis.call('INCR', KEYS[1])
redis.call('PUBLISH', ARGV[1], ARGV[2] .. ' ' .. value)
return value
"""


def register_version_keys(*keys: str) -> None:
    """Declare version numbers that :func:`version_snapshot` should read in its one round trip."""
    _registered.update(keys)


@contextlib.contextmanager
def version_snapshot() -> Iterator[None]:
    """Within the block, read every registered version number once, in one ``get_many``.

    Order entry and the what-if checks consult several services' versions (compliance
    settings, risk limits, books, order times); this makes that one cache round trip instead
    of one per service. A bump made in the block (this thread) drops the snapshot, so later
    reads see it. Nested blocks share the outer snapshot.
    """
    if getattr(_snapshot, "active", False):
        yield
        return
    _snapshot.active, _snapshot.values = True, None
    try:
        yield
    finally:
        _snapshot.active, _snapshot.values = False, None


def versions(keys: Iterable[str]) -> dict[str, int]:
    """The current version numbers of ``keys`` (0 for one never bumped)."""
    from django.core.cache import cache

    keys = list(keys)
    feed = version_feed()
    if getattr(_snapshot, "active", False):
        if _snapshot.values is None or any(k not in _snapshot.values for k in keys):
            wanted = sorted(_registered.union(keys))
            held = feed.read(wanted) if feed is not None else None
            if held is None:
                got = cache.get_many(wanted)
                held = {k: got.get(k, 0) for k in wanted}
            _snapshot.values = held
        return {k: _snapshot.values[k] for k in keys}
    held = feed.read(keys) if feed is not None else None
    if held is not None:
        return held
    got = cache.get_many(keys)
    return {k: got.get(k, 0) for k in keys}


@contextlib.contextmanager
def deferred_bumps() -> Iterator[None]:
    """Within the block, each version number is bumped once, when the block ends.

    For bulk writes (an ingest of 500 series signals 500 changes): other processes rebuild
    once, after the last write, instead of after every one. The writing process's own local
    caches are still dropped at each write by the signal receivers. The block covers the
    threads its code hands work to with :func:`contextvars.copy_context` (``bars_ingest_many``
    does). Nested blocks belong to the outermost.
    """
    if _deferred.get() is not None:
        yield
        return
    keys: set[str] = set()
    token = _deferred.set(keys)
    try:
        yield
    finally:
        _deferred.reset(token)
        for key in sorted(keys):
            bump(key)


def bump(key: str) -> None:
    """Increase a version number: every process's entries under the old number are stale."""
    from django.core.cache import cache

    pending = _deferred.get()
    if pending is not None:
        pending.add(key)
        return
    feed = version_feed()
    if feed is not None:
        value = feed.bump(key)
    else:
        try:
            value = cache.incr(key)
        except ValueError:  # not set yet
            cache.set(key, 1, None)
            value = 1
    if getattr(_snapshot, "active", False):
        if _snapshot.values is not None and feed is not None:
            _snapshot.values = {**_snapshot.values, key: value}  # this thread sees its own bump at once
        else:
            _snapshot.values = None


class VersionFeed:
    """The current version numbers, pushed by Redis to a subscriber thread of this process.

    :meth:`read` answers from memory while the subscription is up and the values were read
    after it started (``None`` otherwise: the caller asks Redis). Messages are applied in the
    order Redis published them (last one wins, so a ``cache.clear()`` that resets the numbers
    is followed too). A value read from Redis is applied only if no message or own bump for
    that key came meanwhile. A process's own bump is applied at once (its message, which
    follows, carries the same value).

    A closed connection is noticed as soon as the thread reads from it (at once on one host);
    one that goes silent (a network partition) by the ping check, within ``2 * ping_seconds +
    1`` seconds. Bumps published meanwhile are not lost: the values are read again on
    resubscription.
    """

    def __init__(self, redis_client, *, subscriber, key, channel: str, ping_seconds: float = 5.0) -> None:
        self.client = redis_client
        self.key = key  # the Django cache's key function: a version name -> its Redis key
        self.channel = channel
        self.ping_seconds = ping_seconds
        self.values: dict[str, int] = {}
        self.seq: dict[str, int] = {}  # messages applied per key, to reject reads that raced one
        self.live = False
        self.subscriptions = 0  # how many times the subscription was (re)established
        self._bump = redis_client.register_script(_BUMP_SCRIPT)
        self._subscriber = subscriber  # a client of its own: its connection is never shared with the cache's
        self._stop = threading.Event()
        self._pubsub = None
        self.thread = threading.Thread(target=self._run, name="bifrost-version-feed", daemon=True)
        self.thread.start()

    def read(self, keys: list[str]) -> dict[str, int] | None:
        if not self.live:
            return None
        values = self.values
        missing = [k for k in keys if k not in values]
        if missing:  # first use of a version name in this process: one read, then pushed
            self._load(missing)
            if not self.live:
                return None
        try:
            return {k: values[k] for k in keys}
        except KeyError:  # cleared by a reconnection meanwhile
            return None

    def bump(self, key: str) -> int:
        value = int(self._bump(keys=[self.key(key)], args=[self.channel, key]))
        # read-your-writes in this process at once; the message that follows carries the same value
        self.seq[key] = self.seq.get(key, 0) + 1
        self.values[key] = value
        return value

    def stop(self) -> None:
        """Stop answering at once; the thread closes its connection itself within a second (a
        connection is not closed under a thread that may be reading it)."""
        self._stop.set()
        self.live = False

    def _load(self, keys: list[str]) -> None:
        seen = {k: self.seq.get(k, 0) for k in keys}
        raw = self.client.mget([self.key(k) for k in keys])
        for k, value in zip(keys, raw, strict=True):
            if self.seq.get(k, 0) == seen[k]:  # no message overtook this read
                self.values[k] = int(value) if value is not None else 0

    def _apply(self, message: dict) -> None:
        name, _, value = message["data"].decode().rpartition(" ")
        self.values[name] = int(value)
        self.seq[name] = self.seq.get(name, 0) + 1

    def _run(self) -> None:
        backoff = 0.1
        while not self._stop.is_set():
            try:
                self._listen()
                backoff = 0.1
            except Exception as exc:  # connection lost or refused: fall back to reads, then retry
                if self._stop.is_set():
                    return
                log.warning("version feed: %s; reading versions from the cache until it is back", exc)
            self.live = False
            self._stop.wait(backoff)
            backoff = min(backoff * 2, 5.0)

    def _listen(self) -> None:
        pubsub = self._pubsub = self._subscriber.pubsub()
        try:
            pubsub.subscribe(self.channel)
            deadline = time.monotonic() + 10
            while True:  # the confirmation: from here on no bump can pass unseen
                message = pubsub.get_message(timeout=1.0)
                if message is not None and message["type"] == "subscribe":
                    break
                if time.monotonic() > deadline or self._stop.is_set():
                    raise ConnectionError("no subscription confirmation from Redis")
            names = sorted(_registered.union(self.values))
            self.values, self.seq = {}, {}
            if names:
                self._load(names)
            self.subscriptions += 1
            self.live = not self._stop.is_set()
            last_heard = last_ping = time.monotonic()
            while not self._stop.is_set():
                message = pubsub.get_message(timeout=1.0)
                now = time.monotonic()
                if message is not None:
                    last_heard = now
                    if message["type"] == "message":
                        self._apply(message)
                if now - last_ping >= self.ping_seconds:
                    pubsub.ping()
                    last_ping = now
                if now - last_heard > 2 * self.ping_seconds + 1:
                    raise ConnectionError("Redis stopped answering the version feed's pings")
        finally:
            self.live = False
            self._pubsub = None
            with contextlib.suppress(Exception):
                pubsub.close()


_feed: VersionFeed | None = None
_feed_pid = 0
_feed_lock = threading.Lock()


def version_feed() -> VersionFeed | None:
    """This process's feed (started on first use), or ``None`` when the cache is not Redis."""
    global _feed, _feed_pid
    if _feed_pid == os.getpid():
        return _feed
    with _feed_lock:
        if _feed_pid != os.getpid():  # first use, or a forked child: the parent's thread is not here
            from django.conf import settings
            from django.core.cache import cache

            feed = None
            client = getattr(cache, "client", None)
            if getattr(settings, "BIFROST_VERSION_FEED", True) and hasattr(client, "get_client"):
                import redis

                location = settings.CACHES["default"]["LOCATION"]
                location = location[0] if isinstance(location, list | tuple) else location
                feed = VersionFeed(client.get_client(write=True), subscriber=redis.Redis.from_url(location),
                                   key=lambda name: str(client.make_key(name)),
                                   channel=str(client.make_key("bifrost:versions:feed")))
            _feed, _feed_pid = feed, os.getpid()
    return _feed


def reset_version_feed() -> None:
    """Stop this process's feed; the next read starts a new one (tests, settings changes)."""
    global _feed, _feed_pid
    with _feed_lock:
        if _feed is not None:
            _feed.stop()
        _feed, _feed_pid = None, 0


class VersionedCache:
    """Values loaded per key, kept while the version number is unchanged, at most ``seconds``.

    ``version_key`` names a number another module bumps (several caches may follow one
    number); by default the cache has its own, ``bifrost:<name>:version``. ``seconds`` may be
    a callable, read at each load (a setting).
    """

    def __init__(self, name: str, *, seconds: float | Callable[[], float] = 10.0, max_entries: int = 10_000,
                 version_key: str | None = None) -> None:
        self.version_key = version_key or f"bifrost:{name}:version"
        register_version_keys(self.version_key)
        self.seconds = seconds
        self.max_entries = max_entries
        self._entries: dict[Hashable, tuple[float, int, Any]] = {}

    def get(self, key: Hashable, load: Callable[[], Any]) -> Any:
        """The value for ``key``, from ``load()`` unless this process holds a current one."""
        version = versions([self.version_key])[self.version_key]
        now = time.monotonic()
        hit = self._entries.get(key)
        if hit is not None and hit[1] == version and hit[0] > now:
            return hit[2]
        value = load()
        if len(self._entries) >= self.max_entries:
            self._entries.clear()
        seconds = self.seconds() if callable(self.seconds) else self.seconds
        self._entries[key] = (now + seconds, version, value)
        return value

    def forget(self) -> None:
        """Drop this process's entries only (its own uncommitted write; tests)."""
        self._entries.clear()

    def changed(self, **_signal_kwargs) -> None:
        """Invalidate every process's entries (a signal receiver)."""
        bump(self.version_key)
        self._entries.clear()
