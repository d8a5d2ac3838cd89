"""Real-price fixtures for the risk tests (shared data; see ../shared/data/SOURCES.md)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

# stocks with prices on every date of pypfopt_stock_prices_20.csv
FULL_HISTORY = ["AAPL", "GE", "AMD", "WMT", "BAC", "T", "XOM", "BBY", "PFE", "JPM"]


@pytest.fixture(scope="session")
def stock_returns(shared_data: Path) -> pd.DataFrame:
    """Daily simple returns of ten large US stocks, 1990-2018 (PyPortfolioOpt's sample prices)."""
    prices = pd.read_csv(shared_data / "equities" / "pypfopt_stock_prices_20.csv", index_col="date",
                         parse_dates=True)[FULL_HISTORY]
    return prices.pct_change().iloc[1:]


@pytest.fixture(scope="session")
def sector_panel(shared_data: Path) -> tuple[pd.DataFrame, pd.Series]:
    """Adjusted closes of 66 S&P 500 stocks (6 per GICS sector), 2015-2020, and their sectors."""
    frame = pd.read_csv(shared_data / "equities" / "sp500_sector_ohlcv_2015_2020.csv", parse_dates=["Date"])
    prices = frame.pivot(index="Date", columns="Ticker", values="AdjClose").dropna(axis=1, thresh=1250).ffill()
    sectors = frame.drop_duplicates("Ticker").set_index("Ticker")["Sector"]
    return prices.dropna(), sectors.loc[prices.columns]


@pytest.fixture
def rng() -> np.random.Generator:
    return np.random.default_rng(20240101)


@pytest.fixture(autouse=True)
def _fresh_risk_caches():
    """The web layer caches market data, NAV history and limit sets in process; database ids are
    reused after each test's rollback, so no test may see another's cached entries."""
    yield
    from django.conf import settings

    if settings.configured and "bifrost_web.risk" in settings.INSTALLED_APPS:
        from bifrost_web.risk import market

        market.clear_cache()
