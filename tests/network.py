"""Shared network helpers for adapter tests: a guard that fails any real connection, and the
pieces every recorded-response replay needs (the manifest, a response, a sleep recorder)."""

from __future__ import annotations

import json
import socket
from http import HTTPStatus
from pathlib import Path
from typing import Any

import pytest
from requests import PreparedRequest, Response
from requests.structures import CaseInsensitiveDict


def refuse_network(monkeypatch: pytest.MonkeyPatch, who: str) -> None:
    def refuse(*args: Any, **kwargs: Any) -> None:
        raise AssertionError(f"{who} tried to open a network connection")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket.socket, "connect_ex", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)


class UnmappedRequest(AssertionError):
    """A request the replay has no recording or script for (never sent to the network)."""


class SleepRecorder:
    """A ``sleep`` for code under test: records each delay and returns at once."""

    def __init__(self) -> None:
        self.delays: list[float] = []

    def __call__(self, seconds: float) -> None:
        self.delays.append(seconds)


def recorded_manifest(data_dir: Path, prefix: str) -> tuple[Path, list[dict[str, Any]]]:
    """The ``recorded/`` folder of the shared data and its manifest entries under ``prefix``."""
    root = Path(data_dir) / "recorded"
    entries = json.loads((root / "MANIFEST.json").read_text(encoding="utf-8"))
    return root, [entry for entry in entries if entry["file"].startswith(prefix)]


def replay_response(adapter: Any, request: PreparedRequest, status: int, body: bytes, content_type: str) -> Response:
    """A ``requests`` response carrying a recorded (or scripted) answer to ``request``."""
    response = Response()
    response.status_code = status
    response.reason = HTTPStatus(status).phrase
    response.headers = CaseInsensitiveDict({"Content-Type": content_type, "Content-Length": str(len(body))})
    response._content = body
    response.encoding = "utf-8"
    response.url = request.url or ""
    response.request = request
    response.connection = adapter
    return response
