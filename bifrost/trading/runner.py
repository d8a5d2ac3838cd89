"""A live or paper trading loop: bars in, strategy decisions out through the trading engine.

The runner polls a bar source (or is fed bars by a stream callback), hands each closed
bar first to the venue (so working orders fill against it) and then to the strategy,
whose orders go through the engine's pre-trade chain to the paper exchange or a broker.
A bar is only handed over once it has closed: ``bar.end <= clock.now()``. The kill
switches of the engine stop new orders while the loop keeps running.
"""

from __future__ import annotations

import time
from abc import abstractmethod
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Protocol

from bifrost.core.errors import InvalidInput, OrderRejected
from bifrost.core.money import decimal_from_float
from bifrost.core.time import Clock, ensure_utc
from bifrost.orders.types import OrderRequest
from bifrost.trading.engine import TradingEngine


@dataclass(frozen=True, slots=True)
class BarEvent:
    """One closed bar of one symbol: ``[start, end)``."""

    symbol: str
    start: datetime
    end: datetime
    open: float
    high: float
    low: float
    close: float
    volume: float

    def __post_init__(self) -> None:
        object.__setattr__(self, "start", ensure_utc(self.start, field="start"))
        object.__setattr__(self, "end", ensure_utc(self.end, field="end"))
        if self.end <= self.start:
            raise InvalidInput(f"{self.symbol} bar end {self.end.isoformat()} is not after its start")


class BarSource(Protocol):
    @abstractmethod
    def poll(self) -> Iterable[BarEvent]:
        """Bars that have appeared since the last poll, oldest first."""
        ...


class Strategy(Protocol):
    @abstractmethod
    def on_bar(self, bar: BarEvent, context: StrategyContext) -> None: ...


class StrategyContext:
    """What a strategy may see and do: its positions and cash, and orders through the engine."""

    def __init__(self, engine: TradingEngine, log: Callable[[str], None]) -> None:
        self._engine = engine
        self._log = log
        self.rejections: list[str] = []

    @property
    def now(self) -> datetime:
        return self._engine.clock.now()

    def position(self, symbol: str) -> Decimal:
        return self._engine.ledger.position(symbol).quantity

    @property
    def cash(self) -> Decimal:
        return self._engine.ledger.cash()

    def submit(self, request: OrderRequest) -> bool:
        """Send an order; a pre-trade rejection is logged and reported as ``False``, not raised."""
        try:
            self._engine.submit(request)
            return True
        except OrderRejected as exc:
            self.rejections.append(exc.message)
            self._log(exc.message)
            return False

    def cancel(self, client_order_id: str) -> None:
        self._engine.cancel(client_order_id)

    def open_orders(self) -> list[str]:
        return [o.client_order_id for o in self._engine.open_orders()]


class Runner:
    """Drive a strategy from a bar source through a trading engine."""

    def __init__(self, *, engine: TradingEngine, source: BarSource, strategy: Strategy, clock: Clock,
                 log: Callable[[str], None] = lambda message: None) -> None:
        self.engine = engine
        self.source = source
        self.strategy = strategy
        self.clock = clock
        self.context = StrategyContext(engine, log)
        self.bars_seen = 0
        self._pending: list[BarEvent] = []

    def step(self) -> int:
        """Process every bar that has closed by now; return how many."""
        self._pending.extend(self.source.poll())
        self._pending.sort(key=lambda b: (b.end, b.symbol))
        now = self.clock.now()
        ready = [b for b in self._pending if b.end <= now]
        self._pending = [b for b in self._pending if b.end > now]
        for bar in ready:
            self.engine.on_bar(bar.symbol, bar.start, bar.open, bar.high, bar.low, bar.close, bar.volume,
                               bar_end=bar.end)
            self.engine.update_prices({bar.symbol: decimal_from_float(float(bar.close))})
            self.strategy.on_bar(bar, self.context)
            self.bars_seen += 1
        return len(ready)

    def run(self, *, poll_seconds: float = 5.0, max_steps: int | None = None,
            should_stop: Callable[[], bool] = lambda: False, sleep: Callable[[float], None] = time.sleep) -> int:
        """Poll until ``should_stop()`` or ``max_steps``; return the bars processed."""
        steps = 0
        while not should_stop() and (max_steps is None or steps < max_steps):
            self.step()
            steps += 1
            if max_steps is None or steps < max_steps:
                sleep(poll_seconds)
        return self.bars_seen
