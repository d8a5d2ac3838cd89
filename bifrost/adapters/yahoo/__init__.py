"""Yahoo Finance adapter: a ``MarketDataProvider`` backed by yfinance."""

from bifrost.adapters.yahoo.provider import YahooProvider

__all__ = ["YahooProvider"]
