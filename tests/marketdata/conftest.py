"""Fixtures for market-data tests: the shared real-data directory."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

_REPO_ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="session")
def shared_data_dir() -> Path:
    """The shared real-data directory: ``$BIFROST_SHARED_DATA`` or ``<repo>/../shared/data``.

    Skips when the directory is missing on a developer machine; fails in CI
    (``CI=true``), where the data must be present.
    """
    configured = os.environ.get("BIFROST_SHARED_DATA")
    path = Path(configured) if configured else _REPO_ROOT.parent / "shared" / "data"
    if not path.is_dir():
        message = (
            f"shared data directory {path} does not exist; set BIFROST_SHARED_DATA "
            "to the folder holding equities/quandl_wiki_5stocks_2000_2013.csv"
        )
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(message)
        pytest.skip(message)
    return path
