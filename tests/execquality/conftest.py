"""Fixtures of the execution-quality tests: the LOBSTER AMZN sample as quotes, trades and minute bars."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import numpy as np
import pandas as pd
import pytest

from bifrost.core.time import SimulatedClock
from bifrost.execution import PaperExchange
from bifrost.portfolio import Deposit, Ledger, LedgerConfig
from bifrost.trading import MarketView, TradingEngine

LOBSTER_DAY = pd.Timestamp("2012-06-21", tz="America/New_York")


@pytest.fixture(scope="session")
def lobster(shared_data_dir):
    """Level-1 book (post-message state) and executions of AMZN on 2012-06-21, times in UTC."""
    folder = shared_data_dir / "lobster"
    messages = pd.read_csv(folder / "AMZN_2012-06-21_34200000_57600000_message_1.csv")
    book = pd.read_csv(folder / "AMZN_2012-06-21_34200000_57600000_orderbook_1.csv")
    ts = (LOBSTER_DAY + pd.to_timedelta(messages["Time"], unit="s")).dt.tz_convert("UTC")
    quotes = pd.DataFrame({"ts": ts, "symbol": "AMZN", "bid": book["BestBid"] / 10_000, "ask": book["BestAsk"] / 10_000,
                           "bid_size": book["BestBidVolume"], "ask_size": book["BestAskVolume"]})
    executions = messages["Type"].isin([4, 5]).to_numpy()
    trades = pd.DataFrame({"ts": ts[executions], "price": messages["Price"][executions] / 10_000,
                           "size": messages["Size"][executions].astype(float),
                           # Direction is the side of the resting order; the aggressor is the other side
                           "side": np.where(messages["Direction"][executions] == -1, "buy", "sell"),
                           "type": messages["Type"][executions]}).reset_index(drop=True)
    minute = trades.set_index("ts")
    bars = minute.resample("1min")["price"].ohlc()
    bars["volume"] = minute.resample("1min")["size"].sum()
    bars = bars.dropna().reset_index().rename(columns={"ts": "ts"})
    bars["symbol"] = "AMZN"
    return {"quotes": quotes, "trades": trades, "bars": bars}


@pytest.fixture(scope="session")
def shared_data_dir():
    from tests.conftest import shared_data_path

    path = shared_data_path()
    if not path.is_dir():
        pytest.skip(f"shared test data not found at {path}")
    return path


def make_engine(start: datetime, *, cash: str = "10000000", symbols=("ACME",), prices=None,
                participation_cap=None) -> TradingEngine:
    clock = SimulatedClock(start)
    ledger = Ledger(LedgerConfig())
    ledger.post(Deposit(entry_id="dep-1", ts_event=start, amount=Decimal(cash)))
    market = MarketView(last_prices=dict(prices or {s: Decimal("50") for s in symbols}), known_symbols=set(symbols))
    exchange = PaperExchange(participation_cap=participation_cap)
    return TradingEngine(portfolio_id="p1", ledger=ledger, venue=exchange, clock=clock, market=market)


def minute_bars(symbol: str, start: datetime, closes, volumes, *, spread: float = 0.02) -> pd.DataFrame:
    closes = np.asarray(closes, dtype=float)
    opens = np.r_[closes[0], closes[:-1]]
    ts = pd.date_range(start, periods=len(closes), freq="1min", tz=UTC)
    return pd.DataFrame({"ts": ts, "symbol": symbol, "open": opens, "high": np.maximum(opens, closes) + spread,
                         "low": np.minimum(opens, closes) - spread, "close": closes,
                         "volume": np.asarray(volumes, dtype=float)})
