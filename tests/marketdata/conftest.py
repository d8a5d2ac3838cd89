"""Fixtures for market-data tests."""

import pytest


@pytest.fixture(scope="session")
def shared_data_dir(shared_data):
    """The shared real-data directory (see ``shared_data`` in tests/conftest.py)."""
    return shared_data
