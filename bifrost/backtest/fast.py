"""The fast path: signal-based strategies compiled with Numba, for parameter sweeps.

A strategy that can be written as entry and exit signals on bar closes (long only, a fixed
number of shares or a fraction of equity per entry) is simulated here in one compiled
pass, with the event engine's rules:

* a signal on bar ``i`` sends a market order that fills at the open of bar ``i + 1``; a
  signal on the last bar never fills;
* an entry is taken only when flat and when the cash account can pay for it at the
  signal bar's close (the simulated broker's check); an exit sells the whole position;
* the notional of each fill is booked to the cent (half even) and the commission is
  ``commission_bps`` of the notional, rounded to the cent (half even) - computed in
  integer micro-dollars, so the result is the ledger's to the cent, not a float
  approximation of it.

``tests/backtest/test_fast.py`` checks that it gives the same fills and equity as the
event engine on the strategies both can express.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

import numba
import numpy as np
import pandas as pd

from bifrost.backtest.results import FILL_COLUMNS, ORDER_COLUMNS, BacktestRecord
from bifrost.core.errors import InvalidInput
from bifrost.indicators.vectorised import sma

__all__ = ["SignalRun", "crossover_signals", "simulate_signals", "sma_crossover_fast", "sweep_sma_crossover"]

_MICRO = 1_000_000


@numba.njit(cache=True)
def _round_half_even_div(numerator: np.int64, denominator: np.int64) -> np.int64:
    """``numerator / denominator`` rounded half to even, for non-negative integers."""
    q = numerator // denominator
    r = numerator - q * denominator
    twice = 2 * r
    if twice > denominator or (twice == denominator and q % 2 == 1):
        q += 1
    return q


@numba.njit(cache=True)
def _simulate(open_micro, close, entries, exits, quantity, equity_fraction, cash_cents, bps_tenths, out_equity,
              fill_bar, fill_side, fill_qty, fill_price_micro, fill_fee_cents):
    """Run the signals; return the number of fills. Cash is kept in integer cents."""
    n = close.shape[0]
    held = 0
    cash = cash_cents
    fills = 0
    pending = 0  # +1 buy, -1 sell, sent on the previous bar
    pending_qty = 0
    for i in range(n):
        if pending != 0:
            price = open_micro[i]
            notional_micro = pending_qty * price
            notional_cents = _round_half_even_div(notional_micro, 10_000)
            fee_cents = _round_half_even_div(notional_micro * bps_tenths, 1_000_000_000)
            if pending > 0:
                cash -= notional_cents + fee_cents
                held += pending_qty
            else:
                cash += notional_cents - fee_cents
                held -= pending_qty
            fill_bar[fills] = i
            fill_side[fills] = pending
            fill_qty[fills] = pending_qty
            fill_price_micro[fills] = price
            fill_fee_cents[fills] = fee_cents
            fills += 1
            pending = 0
        c = close[i]
        if held == 0 and entries[i]:
            if quantity > 0:
                size = quantity
            else:
                size = np.int64(np.floor(cash / 100.0 * equity_fraction / c))
            if size > 0 and size * c <= cash / 100.0 + 1e-9:
                pending = 1
                pending_qty = size
        elif held > 0 and exits[i]:
            pending = -1
            pending_qty = held
        out_equity[i] = cash / 100.0 + held * c
    return fills


def _micro(prices: np.ndarray) -> np.ndarray:
    return np.rint(np.asarray(prices, dtype="float64") * _MICRO).astype(np.int64)


@dataclass(frozen=True)
class SignalRun:
    """The compact result of :func:`simulate_signals`: arrays, turned into a full
    :class:`BacktestRecord` by :meth:`record` when wanted (sweeps only need the numbers)."""

    bars: pd.DataFrame
    equity: np.ndarray
    fill_bar: np.ndarray
    fill_side: np.ndarray
    fill_qty: np.ndarray
    fill_price_micro: np.ndarray
    fill_fee_cents: np.ndarray
    cash: float
    symbol: str
    strategy: str
    params: dict

    @property
    def final_equity(self) -> float:
        return float(self.equity[-1])

    @property
    def n_fills(self) -> int:
        return len(self.fill_bar)

    def record(self) -> BacktestRecord:
        return _record(self.bars, self.equity, self.fill_bar, self.fill_side, self.fill_qty, self.fill_price_micro,
                       self.fill_fee_cents, cash=self.cash, symbol=self.symbol, strategy=self.strategy,
                       params=self.params)


def simulate_signals(bars: pd.DataFrame, entries: np.ndarray, exits: np.ndarray, *, quantity: int | None = None,
                     equity_pct: float | None = None, cash: float = 100_000, commission_bps: float = 0.0,
                     symbol: str = "ACME", strategy: str = "signals", params: dict | None = None) -> SignalRun:
    """Simulate long-only ``entries``/``exits`` (booleans per bar, on the close) on ``bars``.

    Give ``quantity`` (shares per entry) or ``equity_pct`` (percent of cash per entry).
    ``commission_bps`` must be a multiple of 0.1 bp. ``.record()`` of the result is the
    full :class:`BacktestRecord`.

    Raises
    ------
    InvalidInput
        Misshapen signals, both or neither sizing, negative or unsupported commission.
    """
    n = len(bars)
    entries = np.asarray(entries, dtype=np.bool_)
    exits = np.asarray(exits, dtype=np.bool_)
    if entries.shape != (n,) or exits.shape != (n,):
        raise InvalidInput(f"entries and exits need one value per bar ({n})")
    if (quantity is None) == (equity_pct is None):
        raise InvalidInput("give exactly one of quantity and equity_pct")
    if quantity is not None and not (int(quantity) == quantity and quantity > 0):
        raise InvalidInput(f"quantity must be a positive whole number of shares, was {quantity}")
    if equity_pct is not None and not 0 < equity_pct <= 100:
        raise InvalidInput(f"equity_pct must be in (0, 100], was {equity_pct}")
    tenths = Decimal(str(commission_bps)) * 10
    if commission_bps < 0 or tenths != tenths.to_integral_value():
        raise InvalidInput(f"commission_bps must be a non-negative multiple of 0.1, was {commission_bps}")
    cash_cents = int((Decimal(str(cash)) * 100).to_integral_value())
    if cash_cents <= 0:
        raise InvalidInput(f"starting cash must be positive, was {cash}")
    open_micro = _micro(bars["open"].to_numpy())
    close = _micro(bars["close"].to_numpy()) / _MICRO
    equity = np.empty(n)
    capacity = int(min(n, 2 * (np.count_nonzero(entries) + 1)))  # each entry and its exit fill once at most
    fill_bar = np.empty(capacity, dtype=np.int64)
    fill_side = np.empty(capacity, dtype=np.int64)
    fill_qty = np.empty(capacity, dtype=np.int64)
    fill_price = np.empty(capacity, dtype=np.int64)
    fill_fee = np.empty(capacity, dtype=np.int64)
    count = _simulate(open_micro, close, entries, exits, np.int64(quantity or 0),
                      (equity_pct or 0.0) / 100.0, np.int64(cash_cents), np.int64(int(tenths)), equity, fill_bar,
                      fill_side, fill_qty, fill_price, fill_fee)
    return SignalRun(bars, equity, fill_bar[:count], fill_side[:count], fill_qty[:count], fill_price[:count],
                     fill_fee[:count], cash_cents / 100.0, symbol, strategy, params or {})


def _record(bars, equity, fill_bar, fill_side, fill_qty, fill_price, fill_fee, *, cash, symbol, strategy,
            params) -> BacktestRecord:
    from bifrost.backtest.data import session_bounds
    from bifrost.marketdata.types import Timeframe

    index = pd.DatetimeIndex(bars.index).tz_convert("UTC")
    step = np.median(np.diff(index.asi8)) if len(index) > 1 else 86_400e9
    timeframe = Timeframe.D1 if step >= 20 * 3600e9 else Timeframe.parse(f"{int(round(step / 60e9))}m")
    starts, ends = session_bounds(index.asi8, timeframe, "XNYS", symbol)
    count = len(fill_bar)
    ids = [f"o-{k + 1}" for k in range(count)]
    fills = pd.DataFrame({
        "ts": pd.to_datetime(starts[fill_bar], utc=True),
        "symbol": symbol,
        "side": np.where(fill_side > 0, "buy", "sell"),
        "quantity": fill_qty.astype("float64"),
        "price": fill_price / _MICRO,
        "commission": fill_fee / 100.0,
        "fees": 0.0,
        "order_id": ids,
        "fill_id": [f"{i}-1" for i in ids],
    }, columns=list(FILL_COLUMNS))
    sent = np.maximum(fill_bar - 1, 0)
    orders = pd.DataFrame({
        "order_id": ids, "ts_submitted": pd.to_datetime(ends[sent], utc=True), "symbol": symbol,
        "side": fills["side"], "order_type": "market", "quantity": fills["quantity"], "limit_price": np.nan,
        "stop_price": np.nan, "status": "filled", "reason": ""}, columns=list(ORDER_COLUMNS))
    return BacktestRecord(equity=pd.Series(equity, index=pd.DatetimeIndex(ends, tz="UTC", name="ts"), name="equity"),
                          fills=fills, orders=orders, initial_cash=cash, strategy=strategy, params=params,
                          engine="bifrost-fast", symbols=(symbol,), timeframe=timeframe.value)


def crossover_signals(fast: np.ndarray, slow: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Bars where ``fast`` crosses above ``slow`` (entries) and below it (exits)."""
    x0, y0, x1, y1 = fast[:-1], slow[:-1], fast[1:], slow[1:]
    up = np.zeros(len(fast), dtype=np.bool_)
    down = np.zeros(len(fast), dtype=np.bool_)
    with np.errstate(invalid="ignore"):
        up[1:] = (x0 <= y0) & (x1 > y1)
        down[1:] = (x0 >= y0) & (x1 < y1)
    return up, down


def sma_crossover_fast(bars: pd.DataFrame, *, fast: int = 10, slow: int = 30, quantity: int = 100,
                       cash: float = 100_000, commission_bps: float = 0.0, symbol: str = "ACME") -> BacktestRecord:
    """The ``sma_crossover`` example strategy on the fast path."""
    if not 0 < fast < slow:
        raise InvalidInput(f"fast period must be positive and below slow period, were {fast} and {slow}")
    close = bars["close"].to_numpy(dtype="float64")
    entries, exits = crossover_signals(sma(close, fast), sma(close, slow))
    return simulate_signals(bars, entries, exits, quantity=quantity, cash=cash, commission_bps=commission_bps,
                            symbol=symbol, strategy="sma_crossover",
                            params={"fast": fast, "slow": slow, "quantity": quantity}).record()


@numba.njit(cache=True)
def _sma(close, period):
    n = close.shape[0]
    out = np.full(n, np.nan)
    total = 0.0
    for i in range(n):
        total += close[i]
        if i >= period:
            total -= close[i - period]
        if i >= period - 1:
            out[i] = total / period
    return out


@numba.njit(cache=True, parallel=True)
def _sweep(open_micro, close, fasts, slows, quantity, cash_cents, bps_tenths, final):
    n = close.shape[0]
    for k in numba.prange(fasts.shape[0]):
        f = _sma(close, fasts[k])
        s = _sma(close, slows[k])
        entries = np.zeros(n, dtype=np.bool_)
        exits = np.zeros(n, dtype=np.bool_)
        for i in range(1, n):
            if f[i - 1] <= s[i - 1] and f[i] > s[i]:
                entries[i] = True
            elif f[i - 1] >= s[i - 1] and f[i] < s[i]:
                exits[i] = True
        equity = np.empty(n)
        scratch = np.empty(n, dtype=np.int64)
        _simulate(open_micro, close, entries, exits, quantity, 0.0, cash_cents, bps_tenths, equity, scratch,
                  scratch.copy(), scratch.copy(), scratch.copy(), scratch.copy())
        final[k] = equity[-1]


def sweep_sma_crossover(bars: pd.DataFrame, fasts, slows, *, quantity: int = 100, cash: float = 100_000,
                        commission_bps: float = 0.0) -> pd.DataFrame:
    """Final equity of every (fast, slow) pair, simulated in parallel on all cores.

    The SMA here is a running sum (it can differ from :func:`bifrost.indicators.sma` in
    the last bits, which can move a crossing that is a tie to the last bit).
    """
    fasts = np.asarray(fasts, dtype=np.int64)
    slows = np.asarray(slows, dtype=np.int64)
    if fasts.shape != slows.shape or not (fasts > 0).all() or not (fasts < slows).all():
        raise InvalidInput("fasts and slows must pair up, with 0 < fast < slow")
    tenths = int(Decimal(str(commission_bps)) * 10)
    final = np.empty(len(fasts))
    _sweep(_micro(bars["open"].to_numpy()), _micro(bars["close"].to_numpy()) / _MICRO, fasts, slows,
           np.int64(quantity), np.int64(round(cash * 100)), np.int64(tenths), final)
    return pd.DataFrame({"fast": fasts, "slow": slows, "final_equity": final})
