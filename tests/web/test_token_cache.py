"""Cached API token authentication: lookups come from the cache, and a deleted token or a
deactivated user is refused on the very next request."""

import time

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from rest_framework.authtoken.models import Token
from rest_framework.exceptions import AuthenticationFailed
from rest_framework.test import APIRequestFactory

from bifrost_web.accounts.auth import CachedTokenAuthentication
from tests.web.conftest import token_client

pytestmark = pytest.mark.django_db


def _authenticate(key: str):
    request = APIRequestFactory().get("/api/v1/portfolios/", HTTP_AUTHORIZATION=f"Token {key}")
    return CachedTokenAuthentication().authenticate(request)


def test_token_lookup_second_time_reads_no_database(alice):
    key = Token.objects.create(user=alice).key
    first = _authenticate(key)
    with CaptureQueriesContext(connection) as queries:
        user, token = _authenticate(key)

    assert first[0] == alice and len(queries.captured_queries) == 0
    assert (user.pk, user.username, user.is_active, token.key, token.user_id) == (alice.pk, "alice", True, key, alice.pk)


def test_cached_user_loads_other_fields_on_access(alice):
    alice.email = "alice@example.org"
    alice.save()
    key = Token.objects.create(user=alice).key
    _authenticate(key)
    user, _ = _authenticate(key)
    assert user.email == "alice@example.org"


def test_deleted_token_is_refused_on_the_next_request(alice):
    client = token_client(alice)
    assert client.get("/api/v1/portfolios/").status_code == 200
    Token.objects.filter(user=alice).get().delete()
    answer = client.get("/api/v1/portfolios/")
    assert answer.status_code == 401 and answer.json()["code"] == "authentication_failed"


def test_deactivated_user_is_refused_on_the_next_request(alice):
    key = Token.objects.create(user=alice).key
    _authenticate(key)
    alice.is_active = False
    alice.save()
    with pytest.raises(AuthenticationFailed, match="inactive or deleted"):
        _authenticate(key)


def test_wrong_token_is_refused_and_not_cached(alice):
    Token.objects.create(user=alice)
    with pytest.raises(AuthenticationFailed, match="Invalid token"):
        _authenticate("0" * 40)
    with pytest.raises(AuthenticationFailed, match="Invalid token"):
        _authenticate("0" * 40)


def test_cache_off_reads_the_database_every_time(alice, settings):
    settings.BIFROST_AUTH_CACHE_SECONDS = 0
    key = Token.objects.create(user=alice).key
    _authenticate(key)
    with CaptureQueriesContext(connection) as queries:
        _authenticate(key)
    assert len(queries.captured_queries) == 1


def _seen_by_this_process(version_key: str, before: int) -> None:
    """Wait until this process reads a version other than ``before`` (with Redis the bump arrives by pub/sub)."""
    from bifrost_web import caching

    deadline = time.monotonic() + 5
    while caching.versions([version_key])[version_key] == before:
        assert time.monotonic() < deadline, f"{version_key} never moved from {before}"
        time.sleep(0.005)


def _deleted_elsewhere(key: str) -> None:
    """What another process's deletion leaves here: the row gone and the shared entry dropped."""
    from bifrost_web.accounts import auth

    with connection.cursor() as cursor:
        cursor.execute("DELETE FROM authtoken_token WHERE key = %s", [key])
    auth.cache.delete(auth._cache_key(key))


def test_token_deleted_by_another_process_stops_working_when_the_auth_version_moves(alice):
    from bifrost_web import caching
    from bifrost_web.accounts import auth

    feed = caching.version_feed()
    if feed is not None:  # let messages of earlier tests' deletions arrive first (the channel is ordered)
        settled = int(feed.client.eval(caching._BUMP_SCRIPT, 1, feed.key("bifrost:test:settle"), feed.channel,
                                       "bifrost:test:settle"))  # a bump this process hears only by message
        deadline = time.monotonic() + 5
        while feed.live and feed.values.get("bifrost:test:settle") != settled and time.monotonic() < deadline:
            time.sleep(0.005)
    key = Token.objects.create(user=alice).key
    _authenticate(key)
    before = caching.versions([auth.AUTH_VERSION_KEY])[auth.AUTH_VERSION_KEY]
    _deleted_elsewhere(key)
    within_flight = _authenticate(key)[0]  # the version has not moved yet: the local entry still answers
    caching.bump(auth.AUTH_VERSION_KEY)  # the deleting process's signal does this too
    _seen_by_this_process(auth.AUTH_VERSION_KEY, before)
    with pytest.raises(AuthenticationFailed, match="Invalid token"):
        _authenticate(key)
    assert within_flight == alice


def test_local_entry_expires_without_a_version_change(alice):
    from bifrost_web.accounts import auth

    key = Token.objects.create(user=alice).key
    _authenticate(key)
    _deleted_elsewhere(key)
    expiry, version, entry = auth._local[auth._cache_key(key)]
    auth._local[auth._cache_key(key)] = (0.0, version, entry)  # LOCAL_SECONDS later
    with pytest.raises(AuthenticationFailed, match="Invalid token"):
        _authenticate(key)
    assert auth.LOCAL_SECONDS == 30.0


def test_deleting_a_token_bumps_the_auth_version(alice):
    from bifrost_web import caching
    from bifrost_web.accounts import auth

    token = Token.objects.create(user=alice)
    before = caching.versions([auth.AUTH_VERSION_KEY])[auth.AUTH_VERSION_KEY]
    token.delete()
    _seen_by_this_process(auth.AUTH_VERSION_KEY, before)
