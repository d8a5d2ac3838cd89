"""Process-local caches of slow-changing configuration, invalidated everywhere at once.

Pre-trade checks read configuration (limit sets, compliance settings, restricted lists) on
every order, but it changes rarely. :class:`VersionedCache` keeps loaded values in the
process and checks them against a version number held in Django's cache: any save or
delete bumps the number (connect :meth:`VersionedCache.changed` to the models' signals),
and every process reloads on its next read. With Redis as the cache (production) that is
immediate for every worker; with the in-process cache of the embedded default, other
processes see a change when their entry expires (``seconds``).
"""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Callable, Hashable, Iterable, Iterator
from typing import Any

_registered: set[str] = set()
_snapshot = threading.local()


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
    if getattr(_snapshot, "active", False):
        if _snapshot.values is None or any(k not in _snapshot.values for k in keys):
            wanted = sorted(_registered.union(keys))
            got = cache.get_many(wanted)
            _snapshot.values = {k: got.get(k, 0) for k in wanted}
        return {k: _snapshot.values[k] for k in keys}
    got = cache.get_many(keys)
    return {k: got.get(k, 0) for k in keys}


def bump(key: str) -> None:
    """Increase a version number: every process's entries under the old number are stale."""
    from django.core.cache import cache

    try:
        cache.incr(key)
    except ValueError:  # not set yet
        cache.set(key, 1, None)
    if getattr(_snapshot, "active", False):
        _snapshot.values = None


class VersionedCache:
    def __init__(self, name: str, *, seconds: float = 10.0, max_entries: int = 10_000) -> None:
        self.version_key = f"bifrost:{name}:version"
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
        self._entries[key] = (now + self.seconds, version, value)
        return value

    def changed(self, **_signal_kwargs) -> None:
        """Invalidate every process's entries (a signal receiver)."""
        bump(self.version_key)
        self._entries.clear()
