"""Real-price fixtures for the analytics tests (shared data: PyPortfolioOpt's sample prices).

``pypfopt_stock_prices_20.csv`` holds adjusted closes of 20 US stocks, 1989-12-29 to
2018-04-11; ``pypfopt_spy_prices.csv`` SPY, 1993-01-29 to 2019-12-09.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

# The ten stocks with prices on every date of the file.
FULL_HISTORY = ["AAPL", "GE", "AMD", "WMT", "BAC", "T", "XOM", "BBY", "PFE", "JPM"]


@pytest.fixture(scope="session")
def stock_prices(shared_data: Path) -> pd.DataFrame:
    return pd.read_csv(shared_data / "equities" / "pypfopt_stock_prices_20.csv", index_col="date",
                       parse_dates=True)


@pytest.fixture(scope="session")
def spy_prices(shared_data: Path) -> pd.Series:
    return pd.read_csv(shared_data / "equities" / "pypfopt_spy_prices.csv", index_col="date",
                       parse_dates=True)["SPY"]


@pytest.fixture(scope="session")
def stock_returns(stock_prices: pd.DataFrame) -> pd.DataFrame:
    """Daily returns of the ten full-history stocks from SPY's first full day (6 345 days)."""
    prices = stock_prices.loc["1993-01-29":, FULL_HISTORY]
    return prices.pct_change().iloc[1:]


@pytest.fixture(scope="session")
def portfolio_returns(stock_returns: pd.DataFrame) -> pd.Series:
    """An equal-weight, daily-rebalanced portfolio of the ten stocks: 1993-02-01 to 2018-04-11."""
    return stock_returns.mean(axis=1).rename("portfolio")


@pytest.fixture(scope="session")
def benchmark_returns(spy_prices: pd.Series, portfolio_returns: pd.Series) -> pd.Series:
    """SPY daily returns on the portfolio's dates (the files share every trading day)."""
    returns = spy_prices.pct_change().reindex(portfolio_returns.index)
    assert not returns.isna().any()
    return returns.rename("SPY")


@pytest.fixture(scope="session")
def crossover_backtest(spy_prices: pd.Series) -> dict[str, object]:
    """A 50/200-day moving-average crossover on SPY, long 100 shares or flat.

    The signal is read at the close and traded at that close; the position earns the
    next day's return. Each round trip is one closed trade: ``pnl`` = 100 x (exit -
    entry), fee 1.00 per fill. Returns are those of a fully invested position.
    """
    prices = spy_prices.loc["2000-01-01":]
    signal = (prices.rolling(50).mean() > prices.rolling(200).mean()).astype(float)
    position = signal.shift(1).fillna(0.0)
    returns = (position * prices.pct_change()).iloc[1:]
    changes = signal.diff().fillna(signal.iloc[0])
    rows, entry = [], None
    for date, change in changes[changes != 0].items():
        price = float(prices[date])
        if change > 0:
            entry = price
            rows.append({"timestamp": date, "side": "buy", "quantity": 100.0, "price": price, "fee": 1.0,
                         "pnl": np.nan})
        else:
            rows.append({"timestamp": date, "side": "sell", "quantity": -100.0, "price": price, "fee": 1.0,
                         "pnl": 100.0 * (price - entry)})
    return {"prices": prices, "returns": returns, "position": position.iloc[1:], "trades": pd.DataFrame(rows)}
