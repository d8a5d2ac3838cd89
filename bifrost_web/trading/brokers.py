"""Which broker adapter a live portfolio talks to. Credentials come only from the environment."""

from __future__ import annotations

import os

from bifrost.core.errors import ConfigurationError


def broker_for(portfolio):
    """The broker adapter for ``portfolio.broker`` (``alpaca``): ALPACA_API_KEY_ID,
    ALPACA_API_SECRET_KEY and ALPACA_PAPER (default 1, Alpaca's paper endpoint)."""
    if portfolio.broker == "alpaca":
        key, secret = os.environ.get("ALPACA_API_KEY_ID"), os.environ.get("ALPACA_API_SECRET_KEY")
        if not key or not secret:
            raise ConfigurationError("portfolio uses Alpaca but ALPACA_API_KEY_ID / ALPACA_API_SECRET_KEY are not set")
        from bifrost.adapters.brokers import AlpacaBroker

        return AlpacaBroker(api_key=key, secret_key=secret, paper=os.environ.get("ALPACA_PAPER", "1") != "0")
    raise ConfigurationError(f"portfolio broker {portfolio.broker!r} has no live adapter")
