"""API token authentication that records token use in the audit trail.

To audit every API token use, put ``bifrost_web.compliance.auth.AuditedTokenAuthentication``
in place of DRF's ``TokenAuthentication`` in ``REST_FRAMEWORK["DEFAULT_AUTHENTICATION_CLASSES"]``.
One entry per token per hour (the cache de-duplicates), naming a fingerprint of the token,
never the token itself.
"""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime

from django.core.cache import cache
from rest_framework.authentication import TokenAuthentication


def token_fingerprint(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()[:16]


class AuditedTokenAuthentication(TokenAuthentication):
    def authenticate_credentials(self, key):
        user, token = super().authenticate_credentials(key)
        now = datetime.now(UTC)
        fingerprint = token_fingerprint(key)
        if cache.add(f"bifrost:audit:token-use:{fingerprint}:{now:%Y%m%d%H}", 1, timeout=3600):
            from bifrost_web.compliance.services import audit_record

            audit_record(actor=user.username, action="auth.token_use", object_type="api_token",
                         object_id=fingerprint, ts=now)
        return user, token
