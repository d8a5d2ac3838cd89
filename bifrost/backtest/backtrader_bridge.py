"""Run an unmodified Backtrader strategy on Bifrost bars and import the run as a backtest.

Backtrader (``pip install backtrader``; an optional dependency, imported on first use)
keeps its own broker, so the bridge does two things around an ordinary ``bt.Cerebro``:

* :func:`backtrader_feed` turns a Bifrost bar frame (columns open, high, low, close,
  volume; UTC index of bar *starts*, daily bars labelled 00:00 UTC of the session date)
  into a ``bt.feeds.PandasData``. Backtrader stamps a bar with the moment it *closes*, so
  a daily bar gets the session close of the exchange calendar (21:00 UTC in winter,
  20:00 UTC in summer, 18:00 UTC on a 13:00 ET early close) and an intraday bar its
  start plus the bar length. The feed's ``tz`` is the exchange's zone, so inside the
  strategy ``self.data.datetime.datetime(0)`` reads as exchange-local time (16:00 for a
  daily bar) while Backtrader stores UTC.
* :func:`recorder_analyzer` is a ``bt.Analyzer`` that records every order (final status
  and the reason for a margin rejection, cancellation or expiry), every execution
  (price, size, commission) and, after each bar, the broker value and the positions.
  :func:`backtrader_record` turns a finished strategy that carried it into a
  :class:`~bifrost.backtest.results.BacktestRecord` (``engine="backtrader"``), so the
  Bifrost reports, tear sheet, storage and services read it like any other backtest.

:func:`run_backtrader` does all of it in one call.

Timestamps in the record: equity and positions are stamped at the bar end (as the
Bifrost engine does); a fill is stamped at the *start* of the bar in which Backtrader
executed it, because Backtrader gives no time within a bar and a market order fills at
that bar's open.
"""

from __future__ import annotations

import datetime as _dt
import math
from collections.abc import Mapping
from functools import lru_cache
from typing import Any

import numpy as np
import pandas as pd

from bifrost.backtest.results import (
    FILL_COLUMNS,
    ORDER_COLUMNS,
    BacktestRecord,
    empty_fills,
    empty_orders,
)
from bifrost.core.calendars import get_calendar
from bifrost.core.errors import ConfigurationError, InvalidInput
from bifrost.marketdata.types import BAR_COLUMNS, Timeframe, normalize_symbol

__all__ = ["backtrader_feed", "backtrader_record", "build_cerebro", "recorder_analyzer", "run_backtrader"]

RECORDER_NAME = "bifrost_recorder"

# Backtrader's order status names -> the final states of ORDER_COLUMNS.
_STATUS = {
    "Created": "accepted", "Submitted": "accepted", "Accepted": "accepted", "Partial": "accepted",
    "Completed": "filled", "Canceled": "cancelled", "Cancelled": "cancelled", "Expired": "expired",
    "Margin": "rejected", "Rejected": "rejected",
}
_REASON = {
    "Margin": "margin: not enough cash for the order at the execution price (Backtrader broker)",
    "Rejected": "rejected by the Backtrader broker",
    "Canceled": "cancelled", "Cancelled": "cancelled",
    "Expired": "expired (valid until passed)",
}


def _bt():
    try:
        import backtrader
    except ImportError as exc:  # pragma: no cover - backtrader is installed with the test extra
        raise ConfigurationError("the Backtrader bridge needs the backtrader package (pip install backtrader)") from exc
    return backtrader


def _bar_times(bars: pd.DataFrame, timeframe: Timeframe, calendar: str, symbol: str
               ) -> tuple[pd.DatetimeIndex, pd.DatetimeIndex]:
    """Start and end (close) instants of every bar, UTC."""
    index = bars.index
    if not isinstance(index, pd.DatetimeIndex) or index.tz is None:
        raise InvalidInput(f"{symbol} bars need a timezone-aware DatetimeIndex of bar starts")
    index = index.tz_convert("UTC")
    if not index.is_monotonic_increasing or index.has_duplicates:
        raise InvalidInput(f"{symbol} bar timestamps must be strictly increasing")
    if timeframe is Timeframe.D1:
        cal = get_calendar(calendar)
        sessions = index.tz_localize(None)
        if (sessions != sessions.normalize()).any():
            raise InvalidInput(f"{symbol} daily bars must be labelled 00:00 UTC of the session date")
        opens = cal.opens.reindex(sessions)
        if opens.isna().any():
            bad = sessions[opens.isna().to_numpy()][0]
            raise InvalidInput(f"{symbol} has a daily bar on {bad.date()}, which is not a {calendar} session")
        return pd.DatetimeIndex(opens).tz_convert("UTC"), pd.DatetimeIndex(cal.closes.reindex(sessions)).tz_convert("UTC")
    return index, index + pd.Timedelta(minutes=timeframe.minutes)


def _check_bars(bars: pd.DataFrame, symbol: str) -> None:
    if not isinstance(bars, pd.DataFrame):
        raise InvalidInput(f"{symbol} bars must be a DataFrame, was {type(bars).__name__}")
    missing = [c for c in BAR_COLUMNS if c not in bars.columns]
    if missing:
        raise InvalidInput(f"{symbol} bars lack columns {missing}")
    if bars.empty:
        raise InvalidInput(f"no bars for {symbol}")
    values = bars[list(BAR_COLUMNS)].to_numpy(dtype="float64")
    if not np.isfinite(values).all():
        raise InvalidInput(f"{symbol} bars have NaN or infinite prices or volumes")


def backtrader_feed(bars: pd.DataFrame, *, symbol: str = "DATA", timeframe: Timeframe | str = Timeframe.D1,
                    calendar: str = "XNYS") -> Any:
    """Wrap a Bifrost bar frame as a Backtrader data feed.

    Parameters
    ----------
    bars
        Columns open, high, low, close, volume; UTC ``DatetimeIndex`` of bar starts (daily
        bars at 00:00 UTC of the session date).
    symbol
        The feed's name (``data._name``), used as the symbol in the record.
    timeframe
        ``"1m"``, ``"5m"``, ``"15m"``, ``"1h"`` or ``"1d"``.
    calendar
        exchange_calendars name giving the sessions of daily bars and the feed's time zone.

    Returns
    -------
    backtrader.feeds.PandasData
        Bars stamped at their close (UTC inside Backtrader, exchange-local when read in
        the strategy), with ``timeframe``/``compression`` set so resampling works, and
        ``sessionstart``/``sessionend`` the exchange's regular hours.

    Raises
    ------
    InvalidInput
        For missing columns, NaN prices, empty or unsorted bars, a naive index, or a daily
        bar off the calendar.
    """
    bt = _bt()
    symbol = normalize_symbol(symbol)
    timeframe = Timeframe.parse(timeframe)
    _check_bars(bars, symbol)
    starts, ends = _bar_times(bars, timeframe, calendar, symbol)
    cal = get_calendar(calendar)
    frame = pd.DataFrame({c: bars[c].to_numpy(dtype="float64") for c in BAR_COLUMNS},
                         index=ends.tz_localize(None))  # naive UTC: Backtrader's internal clock
    frame["openinterest"] = 0.0
    if timeframe is Timeframe.D1:
        bt_timeframe, compression = bt.TimeFrame.Days, 1
    else:
        bt_timeframe, compression = bt.TimeFrame.Minutes, timeframe.minutes
    tz_name = str(cal.tz)
    local_open = cal.opens.iloc[-1].tz_convert(tz_name).time()
    local_close = _dt.time(16, 0) if tz_name == "America/New_York" else cal.closes.iloc[-1].tz_convert(tz_name).time()
    feed = bt.feeds.PandasData(dataname=frame, name=symbol, timeframe=bt_timeframe, compression=compression,
                               tz=tz_name, sessionstart=local_open, sessionend=local_close)
    feed._bifrost_starts = dict(zip(ends.asi8.tolist(), starts.asi8.tolist(), strict=True))
    feed._bifrost_closes = pd.Series(bars["close"].to_numpy(dtype="float64"), index=ends, name=symbol)
    return feed


def _utc(num: float) -> pd.Timestamp:
    bt = _bt()
    # Backtrader's float day number is UTC; round away the float noise to the microsecond.
    return pd.Timestamp(bt.num2date(num)).tz_localize("UTC").round("us")


@lru_cache(maxsize=1)
def recorder_analyzer() -> type:
    """The ``bt.Analyzer`` class that records orders, executions, equity and positions.

    Add it with ``cerebro.addanalyzer(recorder_analyzer(), _name="bifrost_recorder")``;
    :func:`build_cerebro` does. Its ``get_analysis()`` returns a dict with ``orders``
    (one dict per order ref, final state), ``fills`` (one dict per execution),
    ``equity`` (bar end, value) and ``positions`` (bar end, {symbol: size}).
    """
    bt = _bt()

    class BifrostRecorder(bt.Analyzer):
        def start(self) -> None:
            self.orders: dict[int, dict[str, Any]] = {}
            self.fills: list[dict[str, Any]] = []
            self.equity: list[tuple[pd.Timestamp, float]] = []
            self.positions: list[tuple[pd.Timestamp, dict[str, float]]] = []
            self._fill_count = 0

        def notify_order(self, order: Any) -> None:
            data = order.data
            symbol = data._name or f"DATA{self.strategy.datas.index(data)}"
            status = order.getstatusname()
            row = self.orders.get(order.ref)
            if row is None:
                created = order.created
                row = {
                    "order_id": f"bt-{order.ref}",
                    "ts_submitted": _utc(created.dt),
                    "symbol": symbol,
                    "side": "buy" if order.isbuy() else "sell",
                    "order_type": order.getordername().lower().replace("stoplimit", "stop_limit"),
                    "quantity": abs(float(created.size)),
                    "limit_price": float("nan"),
                    "stop_price": float("nan"),
                }
                kind = order.exectype
                price = float(created.price) if created.price is not None else float("nan")
                if kind == bt.Order.Limit:
                    row["limit_price"] = price
                elif kind in (bt.Order.Stop, bt.Order.StopTrail):
                    row["stop_price"] = price
                elif kind in (bt.Order.StopLimit, bt.Order.StopTrailLimit):
                    row["stop_price"] = price
                    row["limit_price"] = float(created.pricelimit) if created.pricelimit is not None else float("nan")
                self.orders[order.ref] = row
            row["status"] = _STATUS.get(status, status.lower())
            row["reason"] = _REASON.get(status, "")
            starts = getattr(data, "_bifrost_starts", {})
            for bit in order.executed.iterpending():
                self._fill_count += 1
                end = _utc(bit.dt)
                start = starts.get(end.value)
                self.fills.append({
                    "ts": pd.Timestamp(start, tz="UTC") if start is not None else end,
                    "symbol": symbol,
                    "side": "buy" if bit.size > 0 else "sell",
                    "quantity": abs(float(bit.size)),
                    "price": float(bit.price),
                    "commission": float(bit.closedcomm + bit.openedcomm),
                    "fees": 0.0,
                    "order_id": row["order_id"],
                    "fill_id": f"bt-{order.ref}-{self._fill_count}",
                })

        def next(self) -> None:
            self._mark()

        def prenext(self) -> None:
            self._mark()

        def nextstart(self) -> None:
            self._mark()

        def _mark(self) -> None:
            ts = _utc(self.strategy.datetime[0])
            broker = self.strategy.broker
            positions = {}
            for i, data in enumerate(self.strategy.datas):
                positions[data._name or f"DATA{i}"] = float(broker.getposition(data).size)
            value = float(broker.getvalue())
            if self.equity and self.equity[-1][0] == ts:
                self.equity[-1] = (ts, value)
                self.positions[-1] = (ts, positions)
            else:
                self.equity.append((ts, value))
                self.positions.append((ts, positions))

        def get_analysis(self) -> dict[str, Any]:
            return {"orders": list(self.orders.values()), "fills": list(self.fills), "equity": list(self.equity),
                    "positions": list(self.positions)}

    return BifrostRecorder


def _feeds(data: Mapping[str, pd.DataFrame] | pd.DataFrame, timeframe: Timeframe, calendar: str) -> list[Any]:
    if isinstance(data, pd.DataFrame):
        data = {"DATA": data}
    if not isinstance(data, Mapping) or not data:
        raise InvalidInput("data must be a non-empty mapping of symbol to bar frame")
    return [backtrader_feed(frame, symbol=symbol, timeframe=timeframe, calendar=calendar)
            for symbol, frame in data.items()]


def _commission_fraction(commission: float | None, commission_bps: float | None) -> float:
    if commission is not None and commission_bps is not None:
        raise InvalidInput("give commission (a fraction) or commission_bps, not both")
    value = commission_bps / 10_000.0 if commission_bps is not None else (commission or 0.0)
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value) or value < 0:
        raise InvalidInput(f"commission must be a non-negative fraction of traded value, was {value!r}")
    return float(value)


def build_cerebro(strategy_cls: type, data: Mapping[str, pd.DataFrame] | pd.DataFrame, *,
                  params: Mapping[str, Any] | None = None, cash: float = 100_000.0,
                  commission: float | None = None, commission_bps: float | None = None,
                  slippage_pct: float = 0.0, timeframe: Timeframe | str = Timeframe.D1, calendar: str = "XNYS",
                  cheat_on_close: bool = False) -> Any:
    """A ``bt.Cerebro`` with the bars, the broker settings, the strategy and the recorder.

    Add your own analyzers or observers to it, call ``cerebro.run()``, then pass the
    strategy to :func:`backtrader_record`. Parameters as in :func:`run_backtrader`.
    """
    bt = _bt()
    if not isinstance(strategy_cls, type) or not issubclass(strategy_cls, bt.Strategy):
        raise InvalidInput(f"strategy_cls must be a backtrader.Strategy subclass, was {strategy_cls!r}")
    if isinstance(cash, bool) or not isinstance(cash, (int, float)) or not math.isfinite(cash) or cash <= 0:
        raise InvalidInput(f"cash must be a positive number, was {cash!r}")
    if isinstance(slippage_pct, bool) or not isinstance(slippage_pct, (int, float)) or not 0 <= slippage_pct < 1:
        raise InvalidInput(f"slippage_pct must be a fraction in [0, 1), was {slippage_pct!r}")
    fraction = _commission_fraction(commission, commission_bps)
    params = dict(params or {})
    known = set(strategy_cls.params._getkeys())
    unknown = sorted(set(params) - known)
    if unknown:
        raise InvalidInput(f"unknown parameters {unknown} for {strategy_cls.__name__}; it takes {sorted(known)}")
    timeframe = Timeframe.parse(timeframe)
    cerebro = bt.Cerebro(stdstats=False)
    for feed in _feeds(data, timeframe, calendar):
        cerebro.adddata(feed, name=feed._name)
    cerebro.broker.setcash(float(cash))
    cerebro.broker.setcommission(commission=fraction)
    if slippage_pct:
        cerebro.broker.set_slippage_perc(perc=float(slippage_pct))
    if cheat_on_close:
        cerebro.broker.set_coc(True)
    cerebro.addstrategy(strategy_cls, **params)
    cerebro.addanalyzer(recorder_analyzer(), _name=RECORDER_NAME)
    cerebro._bifrost_meta = {"cash": float(cash), "params": params, "timeframe": timeframe.value,
                             "commission": fraction}
    return cerebro


def backtrader_record(strategy: Any, *, initial_cash: float | None = None, params: Mapping[str, Any] | None = None,
                      timeframe: Timeframe | str = Timeframe.D1, benchmark: pd.Series | None = None
                      ) -> BacktestRecord:
    """Import a finished Backtrader strategy (one that ran with the recorder) as a backtest.

    Parameters
    ----------
    strategy
        The strategy instance from ``cerebro.run()``.
    initial_cash
        Starting cash; default the broker's ``startingcash``.
    params
        Parameters to store with the record; default the strategy's own ``params``.
    timeframe, benchmark
        Stored on the record.

    Raises
    ------
    InvalidInput
        If the strategy did not run with :func:`recorder_analyzer` or saw no bar.
    """
    recorder = getattr(strategy.analyzers, RECORDER_NAME, None)
    if recorder is None:
        raise InvalidInput(f"the strategy ran without the {RECORDER_NAME!r} analyzer; build it with build_cerebro")
    result = recorder.get_analysis()
    if not result["equity"]:
        raise InvalidInput("the Backtrader run produced no bar")
    times = pd.DatetimeIndex([ts for ts, _ in result["equity"]], name="ts")
    equity = pd.Series([v for _, v in result["equity"]], index=times, name="equity", dtype="float64")
    positions = pd.DataFrame([p for _, p in result["positions"]], index=times, dtype="float64")
    fills = pd.DataFrame(result["fills"], columns=list(FILL_COLUMNS)) if result["fills"] else empty_fills()
    if len(fills):
        fills["ts"] = pd.DatetimeIndex(fills["ts"]).tz_convert("UTC")
    orders = pd.DataFrame(result["orders"], columns=list(ORDER_COLUMNS)) if result["orders"] else empty_orders()
    closes = [getattr(d, "_bifrost_closes", None) for d in strategy.datas]
    prices = pd.concat([c for c in closes if c is not None], axis=1) if any(c is not None for c in closes) else None
    if params is None:
        params = {k: getattr(strategy.params, k) for k in strategy.params._getkeys()}
    symbols = tuple(d._name for d in strategy.datas)
    return BacktestRecord(
        equity=equity, fills=fills, orders=orders,
        initial_cash=float(initial_cash if initial_cash is not None else strategy.broker.startingcash),
        strategy=type(strategy).__name__, params=dict(params), engine="backtrader", symbols=symbols,
        timeframe=Timeframe.parse(timeframe).value, benchmark=benchmark, prices=prices, positions=positions,
    )


def run_backtrader(strategy_cls: type, data: Mapping[str, pd.DataFrame] | pd.DataFrame, *,
                   params: Mapping[str, Any] | None = None, cash: float = 100_000.0,
                   commission: float | None = None, commission_bps: float | None = None,
                   slippage_pct: float = 0.0, timeframe: Timeframe | str = Timeframe.D1, calendar: str = "XNYS",
                   cheat_on_close: bool = False, benchmark: pd.Series | None = None) -> BacktestRecord:
    """Run an unmodified Backtrader strategy on Bifrost bars; return a Bifrost backtest record.

    Parameters
    ----------
    strategy_cls
        A ``backtrader.Strategy`` subclass, as written for Backtrader.
    data
        Symbol -> bar frame (or one frame, named ``DATA``); one Backtrader feed each, in order.
    params
        Keyword parameters for the strategy (must be among its ``params``).
    cash
        Starting cash of the Backtrader broker.
    commission, commission_bps
        Commission as a fraction of traded value (Backtrader's convention, 0.001 = 0.1%)
        or in basis points; at most one.
    slippage_pct
        Backtrader's percentage slippage (``set_slippage_perc``), a fraction.
    timeframe, calendar
        Bar size and exchange calendar (see :func:`backtrader_feed`).
    cheat_on_close
        Backtrader's ``set_coc``: market orders fill at the close of the bar that sent them.
    benchmark
        Optional benchmark returns stored on the record.

    Returns
    -------
    BacktestRecord
        ``engine="backtrader"``; equity is Backtrader's broker value after each bar.

    Raises
    ------
    InvalidInput
        For a class that is not a Backtrader strategy, unknown parameters, bad cash or
        commission, or bad bars.
    """
    cerebro = build_cerebro(strategy_cls, data, params=params, cash=cash, commission=commission,
                            commission_bps=commission_bps, slippage_pct=slippage_pct, timeframe=timeframe,
                            calendar=calendar, cheat_on_close=cheat_on_close)
    strategy = cerebro.run()[0]
    return backtrader_record(strategy, initial_cash=float(cash), params=dict(params or {}), timeframe=timeframe,
                             benchmark=benchmark)
