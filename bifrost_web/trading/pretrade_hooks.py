"""Where services plug their pre-trade checks into order submission.

A service (risk, compliance) registers a *provider* in its ``AppConfig.ready()``: a
callable ``provider(portfolio, request, now)`` that returns the checks to run for this
order (for example the portfolio's limit set). :func:`chain_for` builds the chain the
order submission service runs: the trading core's basic checks, then every provider's
checks in registration order. The first hard rejection does not stop the others, so a
rejected order carries every breached rule.

The same services can register a *target adjuster provider*: ``provider(portfolio)`` returns
a :class:`~bifrost.backtest.context.TargetAdjuster` (or ``None``) that adjusts a strategy's
target weights before its orders are made (the risk service caps weights and scales sectors
to the portfolio's limits). :func:`target_adjuster_for` chains them for the strategy runner.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime

from bifrost.backtest.context import TargetAdjuster
from bifrost.orders.pretrade import PreTradeChain, PreTradeCheck
from bifrost.orders.types import OrderRequest

CheckProvider = Callable[[object, OrderRequest, datetime], Iterable[PreTradeCheck]]

AdjusterProvider = Callable[[object], TargetAdjuster | None]

_providers: dict[str, CheckProvider] = {}
_adjuster_providers: dict[str, AdjusterProvider] = {}


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


def register_target_adjuster_provider(name: str, provider: AdjusterProvider) -> None:
    """Add (or replace, by ``name``) a provider of a strategy target adjuster."""
    _adjuster_providers[name] = provider


@dataclass(frozen=True)
class TargetAdjustments:
    """Targets after a chain of adjusters, with every adjuster's notes."""

    weights: dict[str, float]
    adjustments: tuple[str, ...]


@dataclass(frozen=True)
class _Chain:
    adjusters: tuple[TargetAdjuster, ...]

    def __call__(self, weights: Mapping[str, float], *, nav: float,
                 prices: Mapping[str, float]) -> TargetAdjustments:
        current, notes = dict(weights), []
        for adjuster in self.adjusters:
            result = adjuster(current, nav=nav, prices=prices)
            current = dict(result.weights)
            notes.extend(result.adjustments)
        return TargetAdjustments(weights=current, adjustments=tuple(notes))


def target_adjuster_for(portfolio) -> TargetAdjuster | None:
    """The registered providers' adjusters for ``portfolio`` chained, or ``None`` if none applies."""
    adjusters = tuple(a for provider in _adjuster_providers.values() if (a := provider(portfolio)) is not None)
    if not adjusters:
        return None
    return adjusters[0] if len(adjusters) == 1 else _Chain(adjusters)
