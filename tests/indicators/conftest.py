"""Fixtures of the indicator tests."""

from __future__ import annotations

import pytest

from tests.indicators.support import TICKERS, load_ticker, random_walk


@pytest.fixture(params=TICKERS)
def real_bars(request, shared_data):
    """Daily OHLCV of AAPL and MSFT, 2000-2013 (Quandl WIKI, unadjusted)."""
    return load_ticker(shared_data, request.param)


@pytest.fixture(params=[11, 12])
def walk_bars(request):
    """3,000 bars of a seeded random walk around 100."""
    return random_walk(request.param)
