"""Shared guard for adapter tests: any real network connection fails the test."""

import socket
from typing import Any

import pytest


def refuse_network(monkeypatch: pytest.MonkeyPatch, who: str) -> None:
    def refuse(*args: Any, **kwargs: Any) -> None:
        raise AssertionError(f"{who} tried to open a network connection")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket.socket, "connect_ex", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)
