"""Users and API clients shared by the web tests."""

from __future__ import annotations

import contextlib
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
from django.contrib.auth import get_user_model
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

REPO = Path(__file__).resolve().parents[2]


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


@contextlib.contextmanager
def served(*args: str, env: dict, log_path: Path, wait_seconds: float = 120):
    """Run ``bifrost serve <args>`` on a free loopback port until the block ends; yields the port.

    Waits until the port accepts connections; fails the test with the server's log if the
    process exits or does not listen in time. Traffic stays on 127.0.0.1.
    """
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    with open(log_path, "w") as log:
        server = subprocess.Popen([sys.executable, "-m", "bifrost_cli", "serve", "--host", "127.0.0.1", "--port",
                                   str(port), *args], env=env, stdout=log, stderr=subprocess.STDOUT, cwd=REPO)
    try:
        deadline = time.monotonic() + wait_seconds
        while True:
            if server.poll() is not None:
                pytest.fail(f"bifrost serve exited early:\n{log_path.read_text()[-3000:]}")
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                if time.monotonic() > deadline:
                    pytest.fail(f"bifrost serve did not listen within {wait_seconds:.0f} s:\n"
                                f"{log_path.read_text()[-3000:]}")
                time.sleep(0.2)
        yield port
    finally:
        server.terminate()
        server.wait(timeout=20)
