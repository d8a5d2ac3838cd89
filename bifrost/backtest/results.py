"""What a backtest leaves behind, whatever engine ran it.

A :class:`BacktestRecord` is the exchange format between the engines (the event-driven
engine, the vectorised fast path, an imported Backtrader run) and everything that reads
a backtest: storage in the portal, the tear sheet, optimisation, and the risk,
execution-quality and compliance services. It holds plain pandas objects:

``equity``
    NAV after each bar time (UTC ``DatetimeIndex``), in the account currency.
``fills``
    One row per execution, columns :data:`FILL_COLUMNS`: ``ts`` (UTC), ``symbol``,
    ``side`` (``"buy"``/``"sell"``), ``quantity`` (> 0), ``price``, ``commission``,
    ``fees`` (regulatory and exchange), ``order_id``, ``fill_id``.
``orders``
    One row per order, columns :data:`ORDER_COLUMNS`; ``status`` is the final state
    (``filled``, ``cancelled``, ``rejected``, ``expired``, ``accepted`` if still working
    at the end), ``reason`` why it was rejected or cancelled.

Round-trip trades are derived from the fills (FIFO per symbol; a position that flips
through zero closes one trade and opens the next), so every engine's trade list is
built the same way.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from bifrost.core.errors import InvalidInput

FILL_COLUMNS = ("ts", "symbol", "side", "quantity", "price", "commission", "fees", "order_id", "fill_id")
ORDER_COLUMNS = ("order_id", "ts_submitted", "symbol", "side", "order_type", "quantity", "limit_price",
                 "stop_price", "status", "reason")
TRADE_COLUMNS = ("symbol", "direction", "entry_ts", "exit_ts", "quantity", "entry_price", "exit_price", "pnl",
                 "return_pct", "fees", "bars_held")


def empty_fills() -> pd.DataFrame:
    return pd.DataFrame({c: pd.Series(dtype="float64" if c in ("quantity", "price", "commission", "fees")
                                      else "object") for c in FILL_COLUMNS}).astype({"ts": "datetime64[ns, UTC]"})


def empty_orders() -> pd.DataFrame:
    frame = pd.DataFrame({c: pd.Series(dtype="object") for c in ORDER_COLUMNS})
    return frame.astype({"ts_submitted": "datetime64[ns, UTC]", "quantity": "float64", "limit_price": "float64",
                         "stop_price": "float64"})


def _check_columns(frame: pd.DataFrame, columns: tuple[str, ...], what: str) -> None:
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise InvalidInput(f"backtest {what} lack columns {missing}")


@dataclass(frozen=True)
class BacktestRecord:
    """A finished backtest: equity curve, fills and orders, with how it was made."""

    equity: pd.Series
    fills: pd.DataFrame = field(default_factory=empty_fills)
    orders: pd.DataFrame = field(default_factory=empty_orders)
    initial_cash: float = 100_000.0
    strategy: str = ""
    params: Mapping[str, Any] = field(default_factory=dict)
    engine: str = "bifrost"
    symbols: tuple[str, ...] = ()
    timeframe: str = "1d"
    benchmark: pd.Series | None = None
    prices: pd.DataFrame | None = None  # closes per symbol, for trade markers and exposure
    positions: pd.DataFrame | None = None  # value held per symbol after each bar time
    ledger: Any = field(default=None, compare=False, repr=False)  # the Decimal ledger, when the core broker ran
    # what the run's target adjuster (risk limits) changed: one dict per adjusted target, with
    # ts, targets, adjusted and the adjustments (notes naming the rule)
    target_adjustments: tuple[dict[str, Any], ...] = field(default=(), compare=False, repr=False)

    def __post_init__(self) -> None:
        if not isinstance(self.equity, pd.Series) or self.equity.empty:
            raise InvalidInput("a backtest record needs a non-empty equity series")
        index = self.equity.index
        if not isinstance(index, pd.DatetimeIndex) or index.tz is None:
            raise InvalidInput("backtest equity needs a timezone-aware DatetimeIndex")
        if not index.is_monotonic_increasing:
            raise InvalidInput("backtest equity timestamps must increase")
        if not np.isfinite(self.equity.to_numpy(dtype="float64")).all():
            raise InvalidInput("backtest equity has non-finite values")
        _check_columns(self.fills, FILL_COLUMNS, "fills")
        _check_columns(self.orders, ORDER_COLUMNS, "orders")
        if len(self.fills) and (self.fills["quantity"].astype(float) <= 0).any():
            raise InvalidInput("backtest fills need positive quantities; the side carries the direction")
        if len(self.fills) and not set(self.fills["side"]).issubset({"buy", "sell"}):
            raise InvalidInput(f"backtest fill sides must be buy or sell, were {sorted(set(self.fills['side']))}")

    @property
    def final_equity(self) -> float:
        return float(self.equity.iloc[-1])

    @property
    def start(self) -> pd.Timestamp:
        return self.equity.index[0]

    @property
    def end(self) -> pd.Timestamp:
        return self.equity.index[-1]

    def returns(self) -> pd.Series:
        """Simple returns per bar time, the first measured against the initial cash."""
        values = self.equity.astype("float64")
        previous = values.shift(1)
        previous.iloc[0] = self.initial_cash
        return (values / previous - 1.0).rename("returns")

    def fees_paid(self) -> float:
        return float(self.fills["commission"].astype(float).sum() + self.fills["fees"].astype(float).sum())

    def trades(self) -> pd.DataFrame:
        """Round trips from the fills: FIFO per symbol, fees apportioned by quantity."""
        return round_trips(self.fills, self.equity.index)

    def report(self, *, benchmark: pd.Series | None = None, periods_per_year: float | None = None):
        """The performance report of this backtest (``bifrost.analytics.performance_report``)."""
        from bifrost.analytics import performance_report

        returns = self.returns()
        bench = benchmark if benchmark is not None else self.benchmark
        if bench is not None:
            bench = bench.reindex(returns.index).fillna(0.0)
        trades = self.trades()
        executions = pd.DataFrame({
            "notional": self.fills["quantity"].astype(float) * self.fills["price"].astype(float),
            "fees": self.fills["commission"].astype(float) + self.fills["fees"].astype(float)})
        closed = pd.DataFrame({"pnl": trades["pnl"].astype(float), "fees": 0.0, "notional": 0.0})
        rows = pd.concat([closed, executions], ignore_index=True) if len(trades) else executions
        exposure = self.positions.abs().sum(axis=1) if self.positions is not None else None
        return performance_report(returns, benchmark=bench, trades=rows, exposure=exposure,
                                  periods_per_year=periods_per_year or _periods_per_year(returns.index),
                                  starting_equity=self.initial_cash)


def _periods_per_year(index: pd.DatetimeIndex) -> float:
    if len(index) < 3:
        return 252.0
    step = float(np.median(np.diff(index.asi8))) / 1e9
    if step >= 20 * 3600:
        return 252.0
    bars_per_day = max(1.0, round(6.5 * 3600 / step))
    return 252.0 * bars_per_day


def round_trips(fills: pd.DataFrame, index: pd.DatetimeIndex | None = None) -> pd.DataFrame:
    """Pair fills into closed trades, FIFO per symbol.

    A sell against a long (or a buy against a short) closes the oldest open quantity
    first; what is left of the fill opens a position in the other direction. Each
    trade's ``fees`` is its share of the entry and exit fills' commission and fees,
    and ``pnl`` is net of them.
    """
    _check_columns(fills, FILL_COLUMNS, "fills")
    rows: list[tuple] = []
    positions = index.asi8 if index is not None and len(index) else None
    books: dict[str, deque] = {}
    for fill in fills.sort_values("ts", kind="stable").itertuples(index=False):
        quantity = float(fill.quantity)
        sign = 1.0 if fill.side == "buy" else -1.0
        cost_per_share = (float(fill.commission) + float(fill.fees)) / quantity
        book = books.setdefault(fill.symbol, deque())
        remaining = quantity
        while remaining > 1e-12 and book and book[0][0] * sign < 0:
            open_sign, open_qty, open_price, open_ts, open_cost = book[0]
            closed = min(open_qty, remaining)
            gross = (float(fill.price) - open_price) * closed * open_sign
            fees = (open_cost + cost_per_share) * closed
            held = 0
            if positions is not None:
                held = int(np.searchsorted(positions, fill.ts.value) - np.searchsorted(positions, open_ts.value))
            rows.append((fill.symbol, "long" if open_sign > 0 else "short", open_ts, fill.ts, closed, open_price,
                         float(fill.price), gross - fees, (gross - fees) / (open_price * closed), fees, held))
            remaining -= closed
            if closed >= open_qty - 1e-12:
                book.popleft()
            else:
                book[0] = (open_sign, open_qty - closed, open_price, open_ts, open_cost)
        if remaining > 1e-12:
            book.append((sign, remaining, float(fill.price), fill.ts, cost_per_share))
    trades = pd.DataFrame(rows, columns=list(TRADE_COLUMNS))
    if trades.empty:
        trades = trades.astype({"quantity": "float64", "pnl": "float64", "fees": "float64"})
    return trades
