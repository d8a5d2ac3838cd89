"""Example strategies, written once for backtest, paper and live."""

from __future__ import annotations

from decimal import Decimal

from bifrost.indicators import SimpleMovingAverage
from bifrost.orders.types import OrderRequest
from bifrost.trading.runner import BarEvent, StrategyContext


class SmaCrossover:
    """Long-only moving-average crossover: buy ``quantity`` shares when the fast SMA crosses
    above the slow SMA, sell the position when it crosses below.

    Parameters
    ----------
    fast, slow
        SMA periods in bars (``fast < slow``).
    quantity
        Shares per entry.
    """

    def __init__(self, *, fast: int = 10, slow: int = 30, quantity: Decimal | str | int = 100) -> None:
        if fast >= slow:
            from bifrost.core.errors import InvalidInput

            raise InvalidInput(f"fast period must be below slow period, were {fast} and {slow}")
        self.fast, self.slow, self.quantity = fast, slow, Decimal(str(quantity))
        self._fast = SimpleMovingAverage(fast)
        self._slow = SimpleMovingAverage(slow)
        self._previous: float | None = None
        self._orders = 0
        self.signals: list[tuple[str, str]] = []

    def on_bar(self, bar: BarEvent, context: StrategyContext) -> None:
        fast, slow = self._fast.update(bar.close), self._slow.update(bar.close)
        if not self._slow.ready:
            return
        spread = fast - slow
        previous, self._previous = self._previous, spread
        if previous is None:
            return
        held = context.position(bar.symbol)
        if previous <= 0 < spread and held == 0:
            self._send(context, bar, "buy", self.quantity)
        elif previous >= 0 > spread and held > 0:
            self._send(context, bar, "sell", held)

    def _send(self, context: StrategyContext, bar: BarEvent, side: str, quantity: Decimal) -> None:
        self._orders += 1
        self.signals.append((bar.end.isoformat(), side))
        context.submit(OrderRequest(client_order_id=f"sma-{self._orders}", symbol=bar.symbol, side=side,
                                    quantity=quantity, time_in_force="gtc"))
