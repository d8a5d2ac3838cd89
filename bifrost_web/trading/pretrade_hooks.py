"""Where services plug their pre-trade checks into order submission.

A service (risk, compliance) registers a *provider* in its ``AppConfig.ready()``: a
callable ``provider(portfolio, request, now)`` that returns the checks to run for this
order (for example the portfolio's limit set). :func:`chain_for` builds the chain the
order submission service runs: the trading core's basic checks, then every provider's
checks in registration order. The first hard rejection does not stop the others, so a
rejected order carries every breached rule.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import datetime

from bifrost.orders.pretrade import PreTradeChain, PreTradeCheck
from bifrost.orders.types import OrderRequest

CheckProvider = Callable[[object, OrderRequest, datetime], Iterable[PreTradeCheck]]

_providers: dict[str, CheckProvider] = {}


def register_pretrade_provider(name: str, provider: CheckProvider) -> None:
    """Add (or replace, by ``name``) a provider of pre-trade checks."""
    _providers[name] = provider


def unregister_pretrade_provider(name: str) -> None:
    _providers.pop(name, None)


def registered_providers() -> tuple[str, ...]:
    return tuple(_providers)


def chain_for(portfolio, request: OrderRequest, now: datetime) -> PreTradeChain:
    """The basic chain plus the checks every registered provider gives for this order."""
    chain = PreTradeChain.basic()
    for provider in _providers.values():
        for check in provider(portfolio, request, now):
            chain.register(check)
    return chain
