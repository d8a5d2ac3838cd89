"""Users and API clients shared by the web tests."""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient


def token_client(user) -> APIClient:
    """An API client that authenticates as ``user`` with its token."""
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {Token.objects.get_or_create(user=user)[0].key}")
    return client


@pytest.fixture
def alice():
    return get_user_model().objects.create_user("alice", password="pw-alice-123456")


@pytest.fixture
def bob():
    return get_user_model().objects.create_user("bob", password="pw-bob-1234567")
