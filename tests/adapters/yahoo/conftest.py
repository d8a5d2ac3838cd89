"""Fixtures for the Yahoo adapter tests: recorded responses, no network, no home caches."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
import yfinance as yf  # type: ignore[import-untyped]
from curl_cffi import requests as curl_requests

from bifrost.adapters.yahoo import YahooProvider
from tests.network import refuse_network

from .replay import FakeNow, SleepRecorder, YahooReplayAdapter


@pytest.fixture(scope="session", autouse=True)
def _yfinance_cache_in_tmp(tmp_path_factory: pytest.TempPathFactory) -> None:
    # yfinance's cookie/tz caches are process-wide; keep them out of the user's home
    # even for a provider built without cache_dir.
    yf.set_tz_cache_location(str(tmp_path_factory.mktemp("yfinance-cache")))


@pytest.fixture(autouse=True)
def _no_network(monkeypatch: pytest.MonkeyPatch) -> None:
    refuse_network(monkeypatch, "a Yahoo adapter test")

    def refuse_curl(*args: Any, **kwargs: Any) -> None:
        raise AssertionError("a Yahoo adapter test tried to open a network connection")

    # curl_cffi talks through libcurl, below Python's socket module.
    monkeypatch.setattr(curl_requests.Session, "request", refuse_curl)


@pytest.fixture
def replay(shared_data: Path) -> Iterator[YahooReplayAdapter]:
    adapter = YahooReplayAdapter(shared_data)
    yield adapter
    assert not adapter.unmapped, f"requests without a recording: {adapter.unmapped}"


@pytest.fixture
def session(replay: YahooReplayAdapter) -> requests.Session:
    http = requests.Session()
    http.mount("https://", replay)
    http.mount("http://", replay)
    return http


@pytest.fixture
def sleeps() -> SleepRecorder:
    return SleepRecorder()


@pytest.fixture
def clock() -> FakeNow:
    """The provider's ``now``; unset until the test sets ``clock.at`` (see FakeNow)."""
    return FakeNow()


@pytest.fixture
def provider(
    session: requests.Session, sleeps: SleepRecorder, clock: FakeNow, tmp_path: Path
) -> YahooProvider:
    return YahooProvider(
        session=session, sleep=sleeps, now=clock, cache_dir=str(tmp_path / "yfinance")
    )


@pytest.fixture
def recorded(shared_data: Path) -> Callable[[str], Any]:
    """Load a recorded body as JSON, e.g. ``recorded("yahoo/chart/AAPL_1d_....json")``."""

    def load(file: str) -> Any:
        return json.loads((shared_data / "recorded" / file).read_text(encoding="utf-8"))

    return load
