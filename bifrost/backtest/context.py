"""What a strategy sees and does: data, indicators, the account, orders and timers.

The same :class:`Context` serves the backtest and the paper or live runner; only the
broker behind it differs (:class:`~bifrost.backtest.broker.SimBroker` in a backtest, the
trading core's engine in paper and live trading).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from typing import Any, Protocol

import numpy as np
import pandas as pd

from bifrost.backtest.broker import ORDER_TYPES, TIFS
from bifrost.backtest.data import BarSeries
from bifrost.core.errors import InvalidInput, StateConflict
from bifrost.indicators.registry import get_indicator
from bifrost.marketdata.types import Timeframe, normalize_symbol

__all__ = ["Context", "Indicator", "LookAheadError", "TIMER_RULES", "TargetAdjuster", "TargetResult"]

TIMER_RULES = ("session_start", "session_end", "week_start", "week_end", "month_start", "month_end")


class TargetResult(Protocol):
    """What a target adjuster returns: the weights to trade to and one note per change."""

    weights: Mapping[str, float]
    adjustments: tuple[str, ...]


# Adjusts a strategy's target weights before orders are made (risk limits, for one): called as
# ``adjuster(weights, nav=..., prices=...)`` with the whole target portfolio as fractions of equity
# (the strategy's targets plus the current weight of every other position that stays held), the
# equity and the last prices; returns the weights to trade to and a note per change.
# :class:`bifrost.risk.LimitTargetAdjuster` is the risk service's; any callable of that shape works.
TargetAdjuster = Callable[..., TargetResult]


class LookAheadError(InvalidInput):
    """A strategy asked for a value from a bar that has not closed yet."""

    code = "look_ahead"


class Indicator:
    """An indicator's values on one series, read relative to the current bar.

    ``ind[0]`` is the value at the last closed bar, ``ind[-1]`` the one before; a positive
    index would read the future and raises :class:`LookAheadError`. Before enough bars
    have closed the value is ``nan``.
    """

    __slots__ = ("_v", "_s", "name", "_compute")

    def __init__(self, name: str, series: BarSeries, compute: Callable[[], np.ndarray]) -> None:
        self.name = name
        self._s = series
        self._compute = compute
        self._v: list[float] = []
        self.refresh()

    def refresh(self) -> None:
        values = np.asarray(self._compute(), dtype="float64")
        if values.shape != (len(self._s),):
            raise InvalidInput(f"indicator {self.name} returned {values.shape[0] if values.ndim else 0} values "
                               f"for {len(self._s)} bars")
        self._v = values
        self.__class__ = _Unread  # the per-bar list is made on the first read (many are never read per bar)

    def __getitem__(self, ago: int) -> float:
        if ago > 0:
            raise LookAheadError(f"indicator {self.name}[{ago}] would read a bar that has not closed yet")
        j = self._s.i + ago
        if j < 0:
            return math.nan
        return self._v[j]

    @property
    def value(self) -> float:
        return self[0]

    def values(self) -> np.ndarray:
        """Values up to and including the current bar."""
        return np.asarray(self._v[: self._s.i + 1], dtype="float64")

    def __repr__(self) -> str:
        return f"Indicator({self.name} on {self._s.symbol} {self._s.timeframe.value} = {self[0]})"


class Context:
    """The strategy's handle on the run. Created by the engine; see :class:`~bifrost.backtest.strategy.Strategy`."""

    def __init__(self, engine) -> None:
        self._engine = engine
        self.broker = engine.broker
        self.logs: list[str] = []
        self._ids = 0
        self.rejections: list[str] = []
        self._started = False
        self.target_adjuster: TargetAdjuster | None = getattr(engine, "target_adjuster", None)
        self.target_adjustments: list[dict[str, Any]] = []

    # ------------------------------------------------------------------ time and data

    @property
    def now(self) -> pd.Timestamp:
        return pd.Timestamp(self._engine.now_ns, tz="UTC")

    @property
    def symbols(self) -> tuple[str, ...]:
        return self._engine.symbols

    def log(self, message: str) -> None:
        self.logs.append(f"{self.now.isoformat()} {message}")

    def data(self, symbol: str | None = None, timeframe: str | Timeframe | None = None) -> BarSeries:
        """The series of ``symbol`` (default: the first) at ``timeframe`` (default: the base)."""
        return self._engine.series_for(symbol, timeframe)

    def subscribe(self, symbol: str, timeframe: str | Timeframe) -> BarSeries:
        """Also receive ``symbol``'s bars at a coarser ``timeframe`` (in ``on_start`` only)."""
        if self._started:
            raise StateConflict("subscriptions are made in on_start")
        return self._engine.subscribe(normalize_symbol(symbol), Timeframe.parse(timeframe))

    def history(self, field: str = "close", n: int | None = None, *, symbol: str | None = None,
                timeframe: str | Timeframe | None = None) -> np.ndarray:
        """The last ``n`` closed bars' ``field`` (all closed bars if ``n`` is None)."""
        series = self.data(symbol, timeframe)
        if field not in series.arrays:
            raise InvalidInput(f"unknown bar field {field!r}; use open, high, low, close or volume")
        stop = series.i + 1
        start = 0 if n is None else max(0, stop - n)
        return series.arrays[field][start:stop]

    def price(self, symbol: str) -> float:
        """The last close of ``symbol`` (``nan`` before its first bar)."""
        series = self._engine.series_for(symbol, None)
        return series.close[series.i] if series.i >= 0 else math.nan

    def indicator(self, name: str | Callable[..., Any], *, symbol: str | None = None,
                  timeframe: str | Timeframe | None = None, output: str | int | None = None,
                  inputs: tuple[str, ...] | None = None, **params: Any) -> Indicator:
        """Declare an indicator on a series (in ``on_start``).

        ``name`` is a registered indicator (``"sma"``, ``"macd"``, ...; see
        :mod:`bifrost.indicators.registry`) or a function of arrays; ``output`` picks one
        output of a multi-output indicator (``"upper"``, ``"signal"``, or an index).
        """
        if self._started:
            raise StateConflict("indicators are declared in on_start")
        series = self.data(symbol, timeframe)
        if callable(name):
            fields = inputs or ("close",)
            label = getattr(name, "__name__", "indicator")

            def compute() -> np.ndarray:
                result = name(*[series.arrays[f] for f in fields], **params)
                return _pick(result, output, None, label)
        else:
            spec = get_indicator(name)
            label = spec.name

            def compute() -> np.ndarray:
                sample = {f: series.arrays[f] for f in (*spec.inputs, *spec.optional_inputs) if f in series.arrays}
                return _pick(spec.compute(sample, **params), output, spec.outputs, label)
        handle = Indicator(f"{label}({', '.join(f'{k}={v}' for k, v in params.items())})", series, compute)
        self._engine.indicators.append(handle)
        return handle

    def crossover(self, a: Indicator, b: Indicator | float) -> Indicator:
        """+1 on a bar where ``a`` crosses above ``b`` (at or below it on the previous bar,
        above it now), -1 where it crosses below, 0 otherwise (and while either is ``nan``)."""
        if self._started:
            raise StateConflict("indicators are declared in on_start")
        if isinstance(b, Indicator) and b._s is not a._s:
            raise InvalidInput("crossover compares two indicators of the same series")

        def compute() -> np.ndarray:
            x = np.asarray(a._v, dtype="float64")
            y = np.asarray(b._v, dtype="float64") if isinstance(b, Indicator) else np.full(len(x), float(b))
            out = np.zeros(len(x))
            if len(x) > 1:
                x0, y0, x1, y1 = x[:-1], y[:-1], x[1:], y[1:]
                with np.errstate(invalid="ignore"):
                    out[1:] = np.where((x0 <= y0) & (x1 > y1), 1.0, np.where((x0 >= y0) & (x1 < y1), -1.0, 0.0))
            return out

        other = b.name if isinstance(b, Indicator) else repr(b)
        handle = Indicator(f"crossover({a.name}, {other})", a._s, compute)
        self._engine.indicators.append(handle)
        return handle

    def on_signal(self, indicator: Indicator, callback: Callable[..., None]) -> None:
        """Call ``callback(ctx, bar, value)`` on each closed bar where ``indicator`` is non-zero
        (in ``on_start``). A strategy made of signals and timers, without ``on_bar``, lets the
        engine skip the bars where nothing can happen."""
        if self._started:
            raise StateConflict("signals are subscribed in on_start")
        if not isinstance(indicator, Indicator):
            raise InvalidInput("on_signal needs an indicator from ctx.indicator or ctx.crossover")
        if not callable(callback):
            raise InvalidInput("on_signal needs a callable callback(ctx, bar, value)")
        self._engine.signals.append((indicator, callback))

    def schedule(self, name: str, rule: str) -> None:
        """Call ``on_timer(ctx, name)`` by ``rule`` (in ``on_start``).

        Rules: ``session_start``/``session_end`` (after the first/last bar of each session),
        ``week_start``/``week_end``, ``month_start``/``month_end`` (the first/last session of
        the week or month by the exchange calendar), or an interval such as ``"30min"``,
        ``"1h"`` (on the first bar time at or after each boundary). Timers fire after the
        bars of their instant.
        """
        if self._started:
            raise StateConflict("timers are scheduled in on_start")
        self._engine.add_timer(name, rule)

    # ------------------------------------------------------------------ account

    def _sync(self) -> None:
        self._engine.sync_prices()

    def position(self, symbol: str) -> float:
        return self.broker.positions.get(symbol, 0.0)

    @property
    def positions(self) -> dict[str, float]:
        return {s: q for s, q in self.broker.positions.items() if q}

    @property
    def cash(self) -> float:
        return self.broker.cash

    @property
    def equity(self) -> float:
        self._sync()
        return self.broker.equity()

    # ------------------------------------------------------------------ orders

    def _next_id(self, tag: str) -> str:
        self._ids += 1
        return f"{tag or 'o'}-{self._ids}"

    def order(self, symbol: str, side: str, quantity: float, *, type: str = "market", limit: float | None = None,
              stop: float | None = None, trail_amount: float | None = None, trail_percent: float | None = None,
              tif: str = "gtc", tag: str = "", order_id: str | None = None) -> str | None:
        """Send an order; return its id, or ``None`` if it was refused before leaving (the
        reason is in ``ctx.rejections`` and the log, and ``on_order`` sees a rejection)."""
        if side not in ("buy", "sell"):
            raise InvalidInput(f"side must be buy or sell, was {side!r}")
        if type not in ORDER_TYPES:
            raise InvalidInput(f"unknown order type {type!r}; use one of {ORDER_TYPES}")
        if tif not in TIFS:
            raise InvalidInput(f"time in force {tif!r} is not supported in a backtest; use one of {TIFS}")
        if not (quantity > 0 and math.isfinite(quantity)):
            raise InvalidInput(f"order quantity must be positive, was {quantity}")
        if type in ("limit", "stop_limit") and (limit is None or not limit > 0):
            raise InvalidInput(f"a {type} order needs a positive limit price")
        if type in ("stop", "stop_limit") and (stop is None or not stop > 0):
            raise InvalidInput(f"a {type} order needs a positive stop price")
        if type == "trailing_stop" and (trail_amount is None) == (trail_percent is None):
            raise InvalidInput("a trailing stop needs exactly one of trail_amount and trail_percent")
        if symbol not in self._engine.base:
            symbol = normalize_symbol(symbol)
            if symbol not in self._engine.base:
                raise InvalidInput(f"unknown symbol {symbol}: the run has data for {list(self._engine.base)}")
        self._sync()
        order = self.broker.submit(order_id or self._next_id(tag), symbol, side == "buy", float(quantity), type, tif,
                                   self._engine.now_ns, limit=limit, stop=stop, trail_amount=trail_amount,
                                   trail_percent=trail_percent, tag=tag)
        if order.status == "rejected":
            self.rejections.append(order.reason)
            self.log(f"order {order.id} refused: {order.reason}")
            return None
        return order.id

    def buy(self, symbol: str, quantity: float, **kwargs: Any) -> str | None:
        return self.order(symbol, "buy", quantity, **kwargs)

    def sell(self, symbol: str, quantity: float, **kwargs: Any) -> str | None:
        return self.order(symbol, "sell", quantity, **kwargs)

    def close(self, symbol: str, **kwargs: Any) -> str | None:
        """Flatten ``symbol`` with a market order (nothing if flat)."""
        held = self.position(symbol)
        if abs(held) < 1e-12:
            return None
        return self.order(symbol, "sell" if held > 0 else "buy", abs(held), **kwargs)

    def bracket(self, symbol: str, quantity: float, *, side: str = "buy", stop_loss: float | None = None,
                take_profit: float | None = None, type: str = "market", limit: float | None = None,
                tif: str = "gtc", tag: str = "") -> str | None:
        """An entry with a stop loss and/or take profit that go out when it fills and cancel each other."""
        if stop_loss is None and take_profit is None:
            raise InvalidInput("a bracket needs a stop_loss, a take_profit or both")
        reference = limit if limit is not None else self.price(symbol)
        buy = side == "buy"
        if stop_loss is not None and reference == reference and (stop_loss >= reference if buy else
                                                                  stop_loss <= reference):
            raise InvalidInput(f"stop loss {stop_loss} must be {'below' if buy else 'above'} the entry {reference}")
        if take_profit is not None and reference == reference and (take_profit <= reference if buy else
                                                                   take_profit >= reference):
            raise InvalidInput(f"take profit {take_profit} must be {'above' if buy else 'below'} the entry {reference}")
        if side not in ("buy", "sell"):
            raise InvalidInput(f"side must be buy or sell, was {side!r}")
        if type not in ("market", "limit"):
            raise InvalidInput(f"a bracket entry is a market or limit order, not {type!r}")
        if not (quantity > 0 and math.isfinite(quantity)):
            raise InvalidInput(f"order quantity must be positive, was {quantity}")
        symbol = normalize_symbol(symbol)
        if symbol not in self._engine.base:
            raise InvalidInput(f"unknown symbol {symbol}: the run has data for {list(self._engine.base)}")
        self._sync()
        order = self.broker.submit_bracket(self._next_id(tag or "bracket"), symbol, buy, float(quantity), type, tif,
                                           self._engine.now_ns, limit=limit, take_profit=take_profit,
                                           stop_loss=stop_loss, tag=tag)
        if order.status == "rejected":
            self.rejections.append(order.reason)
            self.log(f"order {order.id} refused: {order.reason}")
            return None
        return order.id

    def cancel(self, order_id: str) -> bool:
        return self.broker.cancel(order_id, self._engine.now_ns)

    def open_orders(self, symbol: str | None = None) -> list[str]:
        if symbol is not None:
            return [o.id for o in self.broker.working.get(normalize_symbol(symbol), ())]
        return [o.id for orders in self.broker.working.values() for o in orders]

    def order_status(self, order_id: str) -> str:
        try:
            return self.broker.orders[order_id].status
        except KeyError:
            raise InvalidInput(f"unknown order id {order_id!r}") from None

    # ------------------------------------------------------------------ targets

    def order_target_shares(self, symbol: str, target: float, **kwargs: Any) -> str | None:
        """Trade the difference between ``target`` shares and what is held and already working."""
        symbol = normalize_symbol(symbol)
        pending = sum((o.qty - o.filled) * (1 if o.buy else -1) for o in self.broker.working.get(symbol, ())
                      if o.type == "market")
        delta = target - self.position(symbol) - pending
        if abs(delta) < 1e-9:
            return None
        return self.order(symbol, "buy" if delta > 0 else "sell", abs(delta), **kwargs)

    def _current_weights(self, equity: float, *, leave_out: set[str]) -> dict[str, float]:
        weights = {}
        for symbol, held in self.broker.positions.items():
            price = self.price(symbol) if symbol in self._engine.base else math.nan
            if held and symbol not in leave_out and price > 0:
                weights[symbol] = held * price / equity
        return weights

    def _adjust_targets(self, targets: dict[str, float], *, others: dict[str, float], equity: float
                        ) -> dict[str, float]:
        """The targets after the run's target adjuster (unchanged without one); each change is
        logged and kept in ``target_adjustments``."""
        if self.target_adjuster is None or not targets or not equity > 0:
            return targets
        book = {**others, **targets}
        prices = {s: p for s in book if s in self._engine.base and (p := self.price(s)) > 0}
        result = self.target_adjuster(book, nav=equity, prices=prices)
        adjusted = {s: float(result.weights.get(s, 0.0)) for s in targets}
        if result.adjustments:
            self.target_adjustments.append({"ts": self.now.isoformat(), "targets": dict(targets),
                                            "adjusted": dict(adjusted), "adjustments": list(result.adjustments)})
            for note in result.adjustments:
                self.log(f"risk adjusted targets: {note}")
        return adjusted

    def order_target_value(self, symbol: str, value: float, *, lot_size: int = 1, **kwargs: Any) -> str | None:
        """Hold ``value`` (currency; negative for short) of ``symbol``, whole lots toward zero.

        With a target adjuster (``run(..., target_adjuster=...)``, or a portfolio's risk limits in
        the persisted runner), the target is first adjusted as part of the portfolio it would
        make: the other positions as held.
        """
        price = self.price(symbol)
        if not price > 0:
            raise InvalidInput(f"no price yet for {symbol}")
        if self.target_adjuster is not None:
            symbol = normalize_symbol(symbol)
            equity = self.equity
            if equity > 0:
                others = self._current_weights(equity, leave_out={symbol})
                value = self._adjust_targets({symbol: value / equity}, others=others, equity=equity)[symbol] * equity
        shares = math.floor(abs(value) / price / lot_size) * lot_size
        return self.order_target_shares(symbol, math.copysign(shares, value), **kwargs)

    def order_target_percent(self, symbol: str, weight: float, **kwargs: Any) -> str | None:
        """Hold ``weight`` of equity in ``symbol`` (fraction: 0.1 is 10 %), whole shares toward zero."""
        return self.order_target_value(symbol, weight * self.equity, **kwargs)

    def rebalance(self, weights: Mapping[str, float], *, close_others: bool = True, lot_size: int = 1,
                  cash_buffer: float = 0.0) -> list[str]:
        """Move the portfolio to target ``weights`` of equity: sells first, then buys.

        Shares are whole lots rounded toward zero at the last price; symbols held but not
        in ``weights`` are closed when ``close_others``. ``cash_buffer`` (a fraction) is
        kept uninvested to absorb the move to the next open. With a target adjuster the
        weights are adjusted first (see :meth:`order_target_value`). Returns the order ids sent.
        """
        if self.target_adjuster is not None:
            weights = {normalize_symbol(s): float(w) for s, w in weights.items()}
            equity_now = self.equity
            others = {} if close_others else self._current_weights(equity_now, leave_out=set(weights))
            weights = self._adjust_targets(weights, others=others, equity=equity_now)
        total = sum(abs(w) for w in weights.values())
        if total > (self.broker.leverage_limit if self.broker.margin else 1.0) + 1e-9:
            raise InvalidInput(f"target weights sum to {total:.4f} of equity, more than the account allows")
        equity = self.equity * (1.0 - cash_buffer)
        targets: dict[str, float] = {}
        for symbol, weight in weights.items():
            symbol = normalize_symbol(symbol)
            price = self.price(symbol)
            if not price > 0:
                continue
            targets[symbol] = math.copysign(math.floor(abs(weight) * equity / price / lot_size) * lot_size, weight)
        if close_others:
            for symbol, held in self.broker.positions.items():
                if held and symbol not in targets:
                    targets[symbol] = 0.0
        deltas = sorted(((t - self.position(s), s) for s, t in targets.items()), key=lambda d: d[0])
        ids = []
        for delta, symbol in deltas:  # sells (negative deltas) first
            if abs(delta) < 1e-9:
                continue
            order_id = self.order(symbol, "buy" if delta > 0 else "sell", abs(delta), tag="rebalance")
            if order_id is not None:
                ids.append(order_id)
        return ids


class _Unread(Indicator):
    """An indicator whose values are still an array; the first read makes them a list."""

    __slots__ = ()

    def _materialise(self) -> None:
        self._v = self._v.tolist()
        self.__class__ = Indicator

    def __getitem__(self, ago: int) -> float:
        self._materialise()
        return Indicator.__getitem__(self, ago)

    def values(self) -> np.ndarray:
        self._materialise()
        return Indicator.values(self)


def _pick(result: Any, output: str | int | None, names: tuple[str, ...] | None, label: str) -> np.ndarray:
    if isinstance(result, np.ndarray) and result.ndim == 1:
        return result
    arrays = tuple(result)
    if len(arrays) == 1 and output is None:
        return np.asarray(arrays[0])
    if output is None:
        raise InvalidInput(f"indicator {label} has several outputs {names or len(arrays)}; pick one with output=")
    if isinstance(output, str):
        if names is None or output not in names:
            raise InvalidInput(f"indicator {label} has no output {output!r}; outputs: {names}")
        return np.asarray(arrays[names.index(output)])
    return np.asarray(arrays[output])
