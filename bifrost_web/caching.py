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

import time
from collections.abc import Callable, Hashable
from typing import Any


class VersionedCache:
    def __init__(self, name: str, *, seconds: float = 10.0, max_entries: int = 10_000) -> None:
        self.version_key = f"bifrost:{name}:version"
        self.seconds = seconds
        self.max_entries = max_entries
        self._entries: dict[Hashable, tuple[float, int, Any]] = {}

    def get(self, key: Hashable, load: Callable[[], Any]) -> Any:
        """The value for ``key``, from ``load()`` unless this process holds a current one."""
        from django.core.cache import cache

        version = cache.get(self.version_key, 0)
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
        from django.core.cache import cache

        try:
            cache.incr(self.version_key)
        except ValueError:  # not set yet
            cache.set(self.version_key, 1, None)
        self._entries.clear()
