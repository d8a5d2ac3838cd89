"""API token authentication with the token lookup cached.

DRF's ``TokenAuthentication`` reads the token and its user from the database on every
request. :class:`CachedTokenAuthentication` keeps ``token -> user`` in Django's cache
(Redis in production, so every worker shares it) under a hash of the token, never the
token itself. An entry is dropped as soon as the token is deleted or its user saved
(deactivated, renamed, made staff), from any process, by the signal handlers connected
in ``AccountsConfig.ready()``; ``BIFROST_AUTH_CACHE_SECONDS`` bounds how long an entry
lives otherwise (default 60 s; 0 turns the cache off). With the in-process cache of the
embedded default, another *process* sees a deletion when its entry expires.

Each process also remembers a lookup for up to :data:`LOCAL_SECONDS` (30 s), checked on every
request against an auth version number that every token deletion and user change bumps
(:mod:`bifrost_web.caching`): with Redis the number is pushed to every process, so a deleted
token stops working everywhere as soon as the message arrives, and a request asks neither the
database nor Redis. With the in-process default cache, the process that deleted the token
refuses it at once and the others when their entry expires.

The user comes back as a deferred model instance: identity, activity and staff flags are
loaded; any other field is read from the database on first access.
"""

from __future__ import annotations

import functools
import hashlib
import time

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.cache import cache
from django.db import DEFAULT_DB_ALIAS
from rest_framework import exceptions
from rest_framework.authentication import TokenAuthentication
from rest_framework.authtoken.models import Token

from bifrost_web import caching

_USER_FIELDS = ("id", "username", "is_active", "is_staff", "is_superuser")
LOCAL_SECONDS = 30.0
AUTH_VERSION_KEY = "bifrost:auth:version"
caching.register_version_keys(AUTH_VERSION_KEY)
_local: dict[str, tuple[float, int, tuple]] = {}  # cache key -> (expiry on the monotonic clock, auth version, entry)


@functools.cache
def _user_fields() -> tuple[str, ...]:
    """The cached user fields in model order, which ``Model.from_db`` expects."""
    return tuple(f.attname for f in get_user_model()._meta.concrete_fields if f.attname in _USER_FIELDS)


def _cache_key(key: str) -> str:
    return "bifrost:auth:token:" + hashlib.sha256(key.encode()).hexdigest()[:40]


def _timeout() -> int:
    return int(getattr(settings, "BIFROST_AUTH_CACHE_SECONDS", 60))


def forget_token(key: str) -> None:
    """Drop a token's cached lookup (it was deleted, or its user changed)."""
    _local.pop(_cache_key(key), None)
    cache.delete(_cache_key(key))
    caching.bump(AUTH_VERSION_KEY)


def forget_user_tokens(user_id: int) -> None:
    keys = [_cache_key(k) for k in Token.objects.filter(user_id=user_id).values_list("key", flat=True)]
    for key in keys:
        _local.pop(key, None)
    if keys:
        cache.delete_many(keys)
        caching.bump(AUTH_VERSION_KEY)


class CachedTokenAuthentication(TokenAuthentication):
    """``Authorization: Token <key>``, with the lookup served from the cache when it can be."""

    def authenticate_credentials(self, key: str):
        timeout = _timeout()
        if timeout <= 0:
            return super().authenticate_credentials(key)
        cache_key = _cache_key(key)
        now = time.monotonic()
        version = caching.versions([AUTH_VERSION_KEY])[AUTH_VERSION_KEY]
        local = _local.get(cache_key)
        fresh = local is not None and local[0] > now and local[1] == version
        hit = local[2] if fresh else cache.get(cache_key)
        if hit is None:
            user, token = super().authenticate_credentials(key)  # raises AuthenticationFailed
            hit = (tuple(getattr(user, f) for f in _user_fields()), token.created)
            cache.set(cache_key, hit, timeout)
            self._remember(cache_key, hit, now, timeout, version)
            return user, token
        if not fresh:
            self._remember(cache_key, hit, now, timeout, version)
        values, created = hit
        user = get_user_model().from_db(DEFAULT_DB_ALIAS, _user_fields(), list(values))
        if not user.is_active:  # the entry is dropped on save; this is belt and braces
            raise exceptions.AuthenticationFailed("User inactive or deleted.")
        token = Token.from_db(DEFAULT_DB_ALIAS, ["key", "user_id", "created"], [key, user.pk, created])
        token.user = user
        return user, token

    @staticmethod
    def _remember(cache_key: str, hit: tuple, now: float, timeout: int, version: int) -> None:
        if len(_local) > 10_000:
            _local.clear()
        _local[cache_key] = (now + min(LOCAL_SECONDS, timeout), version, hit)


def _token_deleted(sender, instance: Token, **kwargs) -> None:
    forget_token(instance.key)


def _user_saved(sender, instance, created: bool, update_fields=None, **kwargs) -> None:
    if created or (update_fields is not None and set(update_fields) <= {"last_login"}):
        return  # a login only stamps last_login, which the cache does not hold
    forget_user_tokens(instance.pk)


def _user_deleted(sender, instance, **kwargs) -> None:
    forget_user_tokens(instance.pk)


def connect() -> None:
    from django.db.models.signals import post_delete, post_save, pre_delete

    post_delete.connect(_token_deleted, sender=Token, dispatch_uid="bifrost-auth-token-deleted")
    post_save.connect(_token_deleted, sender=Token, dispatch_uid="bifrost-auth-token-saved")
    post_save.connect(_user_saved, sender=get_user_model(), dispatch_uid="bifrost-auth-user-saved")
    # before the cascade removes the tokens, while they can still be listed
    pre_delete.connect(_user_deleted, sender=get_user_model(), dispatch_uid="bifrost-auth-user-deleted")
