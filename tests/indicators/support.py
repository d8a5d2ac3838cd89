"""Test data for the indicator tests: real daily bars and seeded random walks."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

import numpy as np
import pandas as pd

EQUITIES_CSV = Path("equities") / "quandl_wiki_5stocks_2000_2013.csv"
TICKERS = ("AAPL", "MSFT")
OHLCV = ("high", "low", "close", "volume")


@lru_cache(maxsize=4)
def load_ticker(shared_data: Path, ticker: str) -> dict[str, np.ndarray]:
    """Raw (unadjusted) daily high, low, close and volume of one ticker, oldest first."""
    frame = pd.read_csv(shared_data / EQUITIES_CSV, parse_dates=["Date"])
    frame = frame[frame["Ticker"] == ticker].sort_values("Date")
    return {name: frame[name.capitalize()].to_numpy(dtype=np.float64) for name in OHLCV}


def random_walk(seed: int, size: int = 3_000, *, price: float = 100.0) -> dict[str, np.ndarray]:
    """Consistent OHLCV bars: a Gaussian random-walk close, high/low around open and close."""
    rng = np.random.default_rng(seed)
    close = price + np.cumsum(rng.normal(0.0, 1.0, size))
    close = np.abs(close) + 1.0
    open_ = np.r_[close[0], close[:-1]] + rng.normal(0.0, 0.2, size)
    high = np.maximum(open_, close) + rng.uniform(0.0, 1.0, size)
    low = np.minimum(open_, close) - rng.uniform(0.0, 1.0, size)
    volume = rng.integers(0, 50_000, size).astype(np.float64)
    return {"high": high, "low": low, "close": close, "volume": volume}


def import_talib():
    """Import TA-Lib; skip the module without it, but fail under CI, where it must be installed."""
    import os

    import pytest

    try:
        import talib
    except ImportError:
        message = "TA-Lib reference tests need the ta-lib wheel (pip install ta-lib; test extra)"
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(message)
        pytest.skip(message, allow_module_level=True)
    return talib


def assert_matches_reference(ours: np.ndarray, reference: np.ndarray, *, atol: float = 1e-9,
                             rtol: float = 0.0) -> None:
    """Same NaN bars (warm-up), at least one compared value, and values within tolerance."""
    ours, reference = np.asarray(ours), np.asarray(reference)
    assert ours.shape == reference.shape
    np.testing.assert_array_equal(np.isnan(ours), np.isnan(reference), err_msg="warm-up NaN differ")
    compared = ~np.isnan(reference)
    assert compared.any(), "nothing to compare: every value is warm-up"
    np.testing.assert_allclose(ours[compared], reference[compared], rtol=rtol, atol=atol)
