"""Fixtures for the broker adapter tests: recorded Alpaca responses, no network."""

from __future__ import annotations

import copy
import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from bifrost.adapters.brokers import AlpacaBroker
from tests.network import refuse_network

from .replay import AlpacaReplayAdapter, SleepRecorder

API_KEY = "PKREPLAYTEST"
SECRET_KEY = "replay-secret"
HOST = "paper-api.alpaca.markets"


@pytest.fixture(autouse=True)
def _no_network(monkeypatch: pytest.MonkeyPatch) -> None:
    refuse_network(monkeypatch, "a broker adapter test")


@pytest.fixture
def recorded(shared_data: Path) -> Callable[[str], Any]:
    """Load a recorded body as JSON, read independently of the adapter."""

    def load(file: str) -> Any:
        return json.loads((shared_data / "recorded" / file).read_text(encoding="utf-8"))

    return load


@pytest.fixture
def order_body(recorded: Callable[[str], Any]) -> Callable[..., dict[str, Any]]:
    """An order body DERIVED from ``alpaca/order_docs_example.json`` with some fields replaced.

    No live order recording exists (SOURCES.md, Gaps); tests that need an order
    in another state or of another type change the docs example's fields and say so.
    """

    def build(**changes: Any) -> dict[str, Any]:
        body = copy.deepcopy(recorded("alpaca/order_docs_example.json"))
        body.update(changes)
        return body

    return build


@pytest.fixture
def replay(shared_data: Path) -> Iterator[AlpacaReplayAdapter]:
    adapter = AlpacaReplayAdapter(shared_data)
    yield adapter
    assert not adapter.unmapped, f"requests without an answer: {adapter.unmapped}"


@pytest.fixture
def sleeps() -> SleepRecorder:
    return SleepRecorder()


@pytest.fixture
def broker(replay: AlpacaReplayAdapter, sleeps: SleepRecorder) -> AlpacaBroker:
    adapter = AlpacaBroker(api_key=API_KEY, secret_key=SECRET_KEY, paper=True, sleep=sleeps,
                           max_retries=3, backoff_seconds=0.5, timeout_seconds=7.0)
    adapter.session.mount("https://", replay)
    adapter.session.mount("http://", replay)
    return adapter
