"""The strategy API: one class runs unchanged in a backtest, in paper trading and live.

A strategy subclasses :class:`Strategy`, declares its parameters and their defaults in
``params``, and overrides the callbacks it needs. Every callback receives the
:class:`~bifrost.backtest.context.Context`, which is the only door to data, indicators,
the portfolio and orders::

    class SmaCross(Strategy):
        params = {"fast": 10, "slow": 30, "quantity": 100}

        def on_start(self, ctx):
            self.fast = ctx.indicator("sma", period=self.p.fast)
            self.slow = ctx.indicator("sma", period=self.p.slow)

        def on_bar(self, ctx, bar):
            if self.fast[-1] <= self.slow[-1] and self.fast[0] > self.slow[0]:
                ctx.buy(bar.symbol, self.p.quantity)

Callbacks, in the order the engine calls them at one instant:

``on_start(ctx)``
    Once, before the first bar: subscribe to extra symbols or timeframes, declare
    indicators, schedule timers.
``on_order(ctx, event)`` and ``on_fill(ctx, fill)``
    When the venue reports on an order (accepted, triggered, filled, cancelled,
    rejected, expired) and for every execution, before the bar that caused them is shown.
``on_bar(ctx, bar)``
    For every closed bar of every subscription, oldest first; at one instant the base
    timeframe comes before coarser ones, symbols in subscription order.
``on_timer(ctx, name)``
    When a scheduled timer fires, after the bars of that instant.
``on_stop(ctx)``
    Once, after the last bar.

State lives on ``self``; ``self.p`` holds the parameters; ``ctx.log`` writes to the run's
log. A strategy never sees a bar before it has closed: indicators and history reach only
bars whose end is at or before the current instant.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import SimpleNamespace
from typing import Any, ClassVar

from bifrost.core.errors import InvalidInput

__all__ = ["STRATEGIES", "Strategy", "register_strategy", "strategy_class"]


class Strategy:
    """Base class of strategies; see the module docstring for the callbacks."""

    #: Parameter names and defaults. A value's type is enforced: ints stay ints, floats accept ints.
    params: ClassVar[Mapping[str, Any]] = {}
    #: Registered name (set by :func:`register_strategy`).
    name: ClassVar[str] = ""

    def __init__(self, **params: Any) -> None:
        unknown = sorted(set(params) - set(self.params))
        if unknown:
            raise InvalidInput(f"{type(self).__name__} has no parameter(s) {unknown}; "
                               f"known: {sorted(self.params)}")
        merged = dict(self.params)
        for key, value in params.items():
            merged[key] = _coerce(type(self).__name__, key, self.params[key], value)
        self.p = SimpleNamespace(**merged)
        self.validate()

    @classmethod
    def param_defaults(cls) -> dict[str, Any]:
        return dict(cls.params)

    def parameters(self) -> dict[str, Any]:
        return dict(vars(self.p))

    def validate(self) -> None:
        """Check parameter combinations; raise :class:`InvalidInput` naming the problem."""

    # Callbacks: the engine skips the ones a subclass does not override.
    def on_start(self, ctx) -> None:
        """Before the first bar."""

    def on_bar(self, ctx, bar) -> None:
        """A bar of a subscription has closed."""

    def on_order(self, ctx, event) -> None:
        """The venue reported on an order."""

    def on_fill(self, ctx, fill) -> None:
        """An execution."""

    def on_timer(self, ctx, name: str) -> None:
        """A scheduled timer fired."""

    def on_stop(self, ctx) -> None:
        """After the last bar."""

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self.parameters().items())
        return f"{type(self).__name__}({args})"


def overrides(strategy: Strategy, method: str) -> bool:
    """Whether ``strategy`` defines its own ``method`` (so the engine must call it)."""
    return getattr(type(strategy), method) is not getattr(Strategy, method)


def _coerce(owner: str, key: str, default: Any, value: Any) -> Any:
    if default is None or isinstance(default, str):
        return value
    if isinstance(default, bool):
        if isinstance(value, bool):
            return value
        if isinstance(value, str) and value.lower() in ("true", "false", "1", "0", "yes", "no"):
            return value.lower() in ("true", "1", "yes")
        raise InvalidInput(f"{owner} parameter {key} must be true or false, was {value!r}")
    if isinstance(default, int):
        try:
            number = float(value)
        except (TypeError, ValueError):
            raise InvalidInput(f"{owner} parameter {key} must be an integer, was {value!r}") from None
        if not number.is_integer():
            raise InvalidInput(f"{owner} parameter {key} must be an integer, was {value!r}")
        return int(number)
    if isinstance(default, float):
        try:
            number = float(value)
        except (TypeError, ValueError):
            raise InvalidInput(f"{owner} parameter {key} must be a number, was {value!r}") from None
        if number != number or number in (float("inf"), float("-inf")):
            raise InvalidInput(f"{owner} parameter {key} must be finite, was {value!r}")
        return number
    return value


STRATEGIES: dict[str, type[Strategy]] = {}


def register_strategy(name: str):
    """Class decorator: register a strategy under ``name`` for the CLI, API and sweeps."""

    def decorate(cls: type[Strategy]) -> type[Strategy]:
        if not (isinstance(cls, type) and issubclass(cls, Strategy)):
            raise InvalidInput(f"{cls!r} is not a Strategy subclass")
        if name in STRATEGIES and STRATEGIES[name] is not cls:
            raise InvalidInput(f"a strategy named {name!r} is already registered")
        cls.name = name
        STRATEGIES[name] = cls
        return cls

    return decorate


def strategy_class(name: str) -> type[Strategy]:
    """The registered strategy class ``name``.

    Raises
    ------
    InvalidInput
        If no strategy has that name (the message lists the known ones).
    """
    try:
        return STRATEGIES[name]
    except KeyError:
        raise InvalidInput(f"unknown strategy {name!r}; known: {sorted(STRATEGIES)}") from None
