"""API token authentication that records token use in the audit trail.

To audit every API token use, put ``bifrost_web.compliance.auth.AuditedTokenAuthentication``
in place of DRF's ``TokenAuthentication`` in ``REST_FRAMEWORK["DEFAULT_AUTHENTICATION_CLASSES"]``.
One entry per token per hour, naming a fingerprint of the token, never the token itself:
the shared cache de-duplicates across processes, and each process remembers the hours it
has already seen so that repeat requests do not ask the cache again. The token lookup
itself is cached (:class:`~bifrost_web.accounts.auth.CachedTokenAuthentication`).
"""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime

from django.core.cache import cache

from bifrost_web.accounts.auth import CachedTokenAuthentication

_seen_hours: dict[str, str] = {}  # fingerprint -> the hour this process last saw it recorded


def token_fingerprint(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()[:16]


class AuditedTokenAuthentication(CachedTokenAuthentication):
    def authenticate_credentials(self, key):
        user, token = super().authenticate_credentials(key)
        now = datetime.now(UTC)
        fingerprint = token_fingerprint(key)
        hour = f"{now:%Y%m%d%H}"
        if _seen_hours.get(fingerprint) == hour:
            return user, token
        if cache.add(f"bifrost:audit:token-use:{fingerprint}:{hour}", 1, timeout=3600):
            from bifrost_web.compliance.services import audit_record

            audit_record(actor=user.username, action="auth.token_use", object_type="api_token",
                         object_id=fingerprint, ts=now)
        if len(_seen_hours) > 10_000:
            _seen_hours.clear()
        _seen_hours[fingerprint] = hour
        return user, token
