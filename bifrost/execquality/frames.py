"""Plain-DataFrame inputs of transaction cost analysis: fills, orders, quotes and bars.

TCA runs on the same columns whatever produced the executions: the paper broker, a live
broker or a backtest (``BacktestRecord.fills`` / ``.orders``). Each ``normalize_*`` function
checks the required columns, converts types (Decimal and strings to float64, timestamps to
UTC ``datetime64[ns, UTC]``) and returns a new frame; nothing is changed in place.

Fills (required): ``ts`` (UTC), ``symbol``, ``side`` ("buy"/"sell"), ``quantity``, ``price``.
Optional: ``commission``, ``fees`` (regulatory + exchange, rebates negative), ``order_id``,
``fill_id``, ``venue``, ``broker``, ``liquidity``.

Orders (required): ``order_id``, ``ts_submitted``, ``symbol``, ``side``, ``quantity``.
Optional: ``order_type``, ``limit_price``, ``stop_price``, ``status``, ``reason``,
``ts_decision`` (when the decision was taken; defaults to ``ts_submitted``),
``decision_price`` (the paper price; defaults to the mid at ``ts_decision``),
``parent_id`` (child orders of an algorithm name their parent; fills are aggregated to it),
``strategy``, ``broker``.

Quotes: ``ts``, ``symbol``, ``bid``, ``ask`` (``bid_size``, ``ask_size`` optional): the NBBO.

Bars: ``ts`` (bar open), ``symbol``, ``open``, ``high``, ``low``, ``close``, ``volume``;
``bar_end`` optional (defaults to the next bar's open, or ``ts`` plus the modal spacing).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import NamedTuple

import numpy as np
import pandas as pd

from bifrost.core.calendars import get_calendar
from bifrost.core.errors import InvalidInput

__all__ = [
    "FILL_COLUMNS",
    "ORDER_COLUMNS",
    "fills_from_records",
    "normalize_bars",
    "normalize_fills",
    "normalize_orders",
    "normalize_quotes",
    "side_sign",
]

FILL_COLUMNS = ("ts", "symbol", "side", "quantity", "price", "commission", "fees", "order_id", "fill_id")
ORDER_COLUMNS = ("order_id", "ts_submitted", "symbol", "side", "order_type", "quantity", "limit_price",
                 "stop_price", "status", "reason")


def _column_values(series: pd.Series) -> object:
    # the column's array without a copy (extension arrays as they are, NumPy dtypes as ndarrays)
    return series.array if isinstance(series.dtype, pd.api.extensions.ExtensionDtype) else series.to_numpy()


def _with_columns(frame: pd.DataFrame, columns: dict[str, object]) -> pd.DataFrame:
    """``frame`` with the columns added or replaced, sharing every array (the input is not changed).

    One ``DataFrame(..., copy=False)`` over the arrays neither copies a column nor consolidates
    the columns into 2-D blocks (what ``assign``, ``concat`` and item assignment do), which
    dominates TCA time on millions of fills. Scalars become constant columns.
    """
    data = {name: _column_values(frame[name]) for name in frame.columns}
    for name, values in columns.items():
        data[name] = _constant(len(frame), values) if np.ndim(values) == 0 else values  # type: ignore[arg-type]
    return pd.DataFrame(data, index=frame.index, copy=False)


def _constant(n: int, value: object) -> np.ndarray:
    # np.full with a string makes an object array ten times slower than empty + fill
    if isinstance(value, str):
        out = np.empty(n, dtype=object)
        out.fill(value)
        return out
    return np.full(n, value)


def _values(series: pd.Series | object) -> object:
    return _column_values(series) if isinstance(series, pd.Series) else series


def _require(frame: pd.DataFrame, columns: Sequence[str], name: str) -> None:
    if not isinstance(frame, pd.DataFrame):
        raise InvalidInput(f"{name} must be a pandas DataFrame, was {type(frame).__name__}")
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise InvalidInput(f"{name} is missing column(s) {', '.join(missing)}; has {', '.join(map(str, frame.columns))}")


def _utc(series: pd.Series, field: str) -> pd.Series:
    if isinstance(series.dtype, pd.DatetimeTZDtype) and str(series.dtype) == "datetime64[ns, UTC]":
        return series
    try:
        values = pd.to_datetime(series, utc=False)
    except (ValueError, TypeError) as exc:
        raise InvalidInput(f"{field} holds values that are not timestamps: {exc}") from exc
    if values.dt.tz is None:
        if len(values) and values.notna().any():
            raise InvalidInput(f"{field} must be timezone-aware (UTC), got naive timestamps")
        values = values.dt.tz_localize("UTC")
    values = values.dt.tz_convert("UTC")
    if values.dtype != "datetime64[ns, UTC]":
        values = values.astype("datetime64[ns, UTC]")
    return values


def _float(series: pd.Series, field: str, *, positive: bool = False, allow_nan: bool = False) -> pd.Series:
    if series.dtype.kind in "iuf":
        values = series.astype("float64", copy=False)
    else:
        try:
            values = pd.to_numeric(series.map(lambda v: float(v) if v is not None else np.nan), errors="raise")
        except (ValueError, TypeError) as exc:
            raise InvalidInput(f"{field} must be numeric: {exc}") from exc
        values = values.astype("float64")
    arr = values.to_numpy()
    if not allow_nan:
        bad = ~np.isfinite(arr)
        if bad.any():
            raise InvalidInput(f"{field} must be finite, row {int(np.flatnonzero(bad)[0])} was {arr[bad][0]}")
    if positive:
        with np.errstate(invalid="ignore"):
            nonpos = arr <= 0
        if nonpos.any():
            raise InvalidInput(f"{field} must be positive, row {int(np.flatnonzero(nonpos)[0])} was {arr[nonpos][0]}")
    return values


def _mapped(series: pd.Series, convert, field: str) -> pd.Series:
    # apply a string conversion to the distinct values only (fast on long columns of few symbols)
    return _mapped_codes(series, convert, field)[0]


def _mapped_codes(series: pd.Series, convert, field: str) -> tuple[pd.Series, np.ndarray, np.ndarray]:
    codes, uniques = pd.factorize(series)
    if len(codes) and codes.min() < 0:
        raise InvalidInput(f"{field} must not be missing, row {int(np.flatnonzero(codes < 0)[0])} is empty")
    converted = np.array([convert(str(u)) for u in uniques], dtype=object)
    if all(a == b for a, b in zip(converted, uniques, strict=True)):
        return (series if series.dtype == object else series.astype(object)), codes, converted
    return pd.Series(converted[codes], index=series.index), codes, converted


def _side(series: pd.Series, field: str) -> pd.Series:
    return _side_sign(series, field)[0]


def _side_sign(series: pd.Series, field: str) -> tuple[pd.Series, np.ndarray]:
    # the normalised sides and their signs (+1 buy, -1 sell), from the codes: no string compares per row
    values, codes, uniques = _mapped_codes(series, str.lower, field)
    for i, value in enumerate(uniques):
        if value not in ("buy", "sell"):
            row = int(np.flatnonzero(codes == i)[0])
            raise InvalidInput(f"{field} must be 'buy' or 'sell', row {row} was {series.iloc[row]!r}")
    return values, np.where(uniques == "buy", 1.0, -1.0)[codes]


def _symbol_codes(series: pd.Series) -> tuple[pd.Series, np.ndarray, np.ndarray]:
    # upper-cased symbols with integer codes into their distinct values ("aapl" and "AAPL" share one)
    values, codes, converted = _mapped_codes(series, str.upper, "symbol")
    canonical, uniques = pd.factorize(converted)
    return values, canonical[codes], np.asarray(uniques, dtype=object)


def _ids(series: pd.Series) -> pd.Series:
    if series.dtype == object and pd.api.types.infer_dtype(series, skipna=False) == "string":
        return series
    return series.astype(str)


def side_sign(side: pd.Series | np.ndarray) -> np.ndarray:
    """+1 for buys, -1 for sells (as float64)."""
    return np.where(np.asarray(side) == "buy", 1.0, -1.0)


def normalize_fills(fills: pd.DataFrame) -> pd.DataFrame:
    """Validate and convert a fills frame (see module docstring); rows keep their input order.

    Raises
    ------
    InvalidInput
        If a required column is missing, a side is not buy/sell, a quantity or price is not
        positive, or a timestamp is naive.
    """
    return _normalize_fills(fills)[0]


class _Codes(NamedTuple):
    """Integer symbol codes, the distinct symbols and the side signs of a normalised frame's rows."""

    symbol: np.ndarray
    symbols: np.ndarray
    sign: np.ndarray


def _normalize_fills(fills: pd.DataFrame) -> tuple[pd.DataFrame, _Codes]:
    _require(fills, ("ts", "symbol", "side", "quantity", "price"), "fills")
    n = len(fills)
    out = {name: _column_values(fills[name]) for name in fills.columns}
    out["ts"] = _values(_utc(fills["ts"], "fills.ts"))
    symbol, symbol_codes, symbols = _symbol_codes(fills["symbol"])
    out["symbol"] = _values(symbol)
    side, sign = _side_sign(fills["side"], "fills.side")
    out["side"] = _values(side)
    out["quantity"] = _values(_float(fills["quantity"], "fills.quantity", positive=True))
    out["price"] = _values(_float(fills["price"], "fills.price", positive=True))
    for name in ("commission", "fees"):
        out[name] = np.zeros(n) if name not in fills.columns else _values(_float(fills[name].fillna(0),
                                                                                 f"fills.{name}"))
    order_ids = fills["order_id"] if "order_id" in fills.columns else \
        pd.Series([f"order-{i}" for i in range(n)], index=fills.index, dtype=object)
    out["order_id"] = _values(_ids(order_ids))
    if "fill_id" not in fills.columns:
        out["fill_id"] = np.array([f"fill-{i}" for i in range(n)], dtype=object)
    for name, default in (("venue", "unknown"), ("broker", "unknown"), ("liquidity", "taker")):
        if name not in fills.columns:
            out[name] = _constant(n, default)
        elif fills[name].isna().any() or fills[name].dtype != object:
            out[name] = _values(fills[name].fillna(default).astype(str))
    return pd.DataFrame(out, index=pd.RangeIndex(n), copy=False), _Codes(symbol_codes, symbols, sign)


def normalize_orders(orders: pd.DataFrame) -> pd.DataFrame:
    """Validate and convert an orders frame (see module docstring).

    Raises
    ------
    InvalidInput
        If a required column is missing, an order id repeats, or a value is invalid.
    """
    return _normalize_orders(orders)[0]


def _normalize_orders(orders: pd.DataFrame) -> tuple[pd.DataFrame, pd.Index, _Codes]:
    # also returns the order-id index built for the uniqueness check, for reuse in lookups, and the codes
    _require(orders, ("order_id", "ts_submitted", "symbol", "side", "quantity"), "orders")
    n = len(orders)
    out = {name: _column_values(orders[name]) for name in orders.columns}
    order_ids = _ids(orders["order_id"])
    out["order_id"] = _values(order_ids)
    index = pd.Index(order_ids)
    if not index.is_unique:
        duplicated = index.duplicated()
        raise InvalidInput(f"orders.order_id must be unique, {index[duplicated][0]!r} repeats")
    submitted = _utc(orders["ts_submitted"], "orders.ts_submitted")
    out["ts_submitted"] = _values(submitted)
    out["ts_decision"] = (out["ts_submitted"] if "ts_decision" not in orders.columns
                          else _values(_utc(orders["ts_decision"].fillna(submitted), "orders.ts_decision")))
    symbol, symbol_codes, symbols = _symbol_codes(orders["symbol"])
    out["symbol"] = _values(symbol)
    side, sign = _side_sign(orders["side"], "orders.side")
    out["side"] = _values(side)
    out["quantity"] = _values(_float(orders["quantity"], "orders.quantity", positive=True))
    for name in ("limit_price", "stop_price", "decision_price"):
        out[name] = np.full(n, np.nan) if name not in orders.columns else _values(_float(
            orders[name].where(orders[name].notna(), np.nan), f"orders.{name}", allow_nan=True))
    if "parent_id" not in orders.columns:
        out["parent_id"] = out["order_id"]
    else:
        parent = orders["parent_id"]
        out["parent_id"] = _values(_ids(parent.where(parent.notna() & (parent != ""),
                                                     pd.Series(out["order_id"], index=orders.index))))
    for name, default in (("order_type", "market"), ("status", "unknown"), ("strategy", ""), ("broker", "unknown")):
        if name not in orders.columns:
            out[name] = _constant(n, default)
        elif orders[name].isna().any() or orders[name].dtype != object:
            out[name] = _values(orders[name].fillna(default).astype(str))
    return pd.DataFrame(out, index=pd.RangeIndex(n), copy=False), index, _Codes(symbol_codes, symbols, sign)


def normalize_quotes(quotes: pd.DataFrame) -> pd.DataFrame:
    """Validate and convert an NBBO quote frame; sorted by symbol then ``ts``; adds ``mid``.

    Raises
    ------
    InvalidInput
        If a column is missing, a price is not positive, or a quote is crossed (bid > ask).
    """
    _require(quotes, ("ts", "symbol", "bid", "ask"), "quotes")
    data = {name: _column_values(quotes[name]) for name in quotes.columns}
    ts = _utc(quotes["ts"], "quotes.ts")
    symbol, symbol_codes, _ = _symbol_codes(quotes["symbol"])
    data["ts"] = _values(ts)
    data["symbol"] = _values(symbol)
    bid = _float(quotes["bid"], "quotes.bid", positive=True).to_numpy()
    ask = _float(quotes["ask"], "quotes.ask", positive=True).to_numpy()
    data["bid"], data["ask"] = bid, ask
    crossed = bid > ask
    if crossed.any():
        i = int(np.flatnonzero(crossed)[0])
        raise InvalidInput(f"quotes must not be crossed: row {i} has bid {bid[i]} > ask {ask[i]}")
    data["mid"] = (bid + ask) / 2.0
    out = pd.DataFrame(data, index=pd.RangeIndex(len(quotes)), copy=False)
    if not _grouped_and_sorted(symbol_codes, ts):
        out = out.sort_values(["symbol", "ts"], kind="stable")
        out.index = pd.RangeIndex(len(out))
    return out


def _grouped_and_sorted(symbols: np.ndarray, ts: pd.Series) -> bool:
    # True when each symbol's rows (symbols or their integer codes) are contiguous and in time order
    # (then no sort is needed)
    if len(symbols) < 2:
        return True
    same = symbols[1:] == symbols[:-1]
    starts = np.concatenate(([0], np.flatnonzero(~same) + 1))
    if len(set(symbols[starts].tolist())) != len(starts):
        return False
    ns = pd.DatetimeIndex(ts).asi8
    return bool((np.diff(ns)[same] >= 0).all())


def normalize_bars(bars: pd.DataFrame, *, calendar: str = "XNYS") -> pd.DataFrame:
    """Validate and convert a bar frame; sorted by symbol then ``ts``; adds ``bar_end``, ``session``.

    ``session`` is the trading day of the bar: the UTC date for bars labelled at midnight
    UTC (daily bars), the New York date otherwise. Without a ``bar_end`` column, daily bars end
    at their session's close in ``calendar``; other bars at the next bar's open (or ``ts`` plus
    the usual spacing).

    Raises
    ------
    InvalidInput
        If a column is missing or a price is not positive or ``high < low``.
    """
    _require(bars, ("ts", "symbol", "open", "high", "low", "close", "volume"), "bars")
    out = bars.copy()
    out["ts"] = _utc(out["ts"], "bars.ts")
    out["symbol"] = out["symbol"].astype(str).str.upper()
    for name in ("open", "high", "low", "close"):
        out[name] = _float(out[name], f"bars.{name}", positive=True)
    out["volume"] = _float(out["volume"], "bars.volume")
    if (out["volume"].to_numpy() < 0).any():
        raise InvalidInput("bars.volume must not be negative")
    if (out["high"].to_numpy() < out["low"].to_numpy()).any():
        raise InvalidInput("bars.high must not be below bars.low")
    out = out.sort_values(["symbol", "ts"], kind="stable").reset_index(drop=True)
    if "bar_end" in out.columns:
        out["bar_end"] = _utc(out["bar_end"], "bars.bar_end")
    else:
        nxt = out.groupby("symbol", sort=False)["ts"].shift(-1)
        spacing = out.groupby("symbol", sort=False)["ts"].diff().mode()
        step = spacing.iloc[0] if len(spacing) else pd.Timedelta(days=1)
        out["bar_end"] = nxt.where(nxt.notna() & ((nxt - out["ts"]) <= step), out["ts"] + step)
    midnight = (out["ts"].dt.hour == 0) & (out["ts"].dt.minute == 0)
    local = out["ts"].dt.tz_convert("America/New_York").dt.date
    out["session"] = np.where(midnight, out["ts"].dt.date, local)
    if "bar_end" not in bars.columns and midnight.any():
        # daily bars labelled at midnight UTC end at their session's close (exchange calendar), not at the
        # next label: a price is known from the close on
        closes = get_calendar(calendar).closes
        days = out.loc[midnight, "ts"].dt.tz_localize(None)
        close = closes.reindex(days.to_numpy()).to_numpy()
        known = ~pd.isna(close)
        ends = out.loc[midnight, "bar_end"].to_numpy().copy()
        ends[known] = pd.to_datetime(close[known], utc=True)
        out.loc[midnight, "bar_end"] = ends
    return out


def fills_from_records(records: Iterable[object]) -> pd.DataFrame:
    """Build a fills frame from ``bifrost.orders.Fill`` objects (paper broker or live adapters).

    Maps ``ts_event`` to ``ts``, ``client_order_id`` to ``order_id``, and keeps ``venue`` and
    ``liquidity``. Decimal values become float64.
    """
    rows = []
    for fill in records:
        rows.append({
            "ts": fill.ts_event, "symbol": fill.symbol, "side": str(fill.side.value),  # type: ignore[attr-defined]
            "quantity": float(fill.quantity), "price": float(fill.price),  # type: ignore[attr-defined]
            "commission": float(fill.commission), "fees": float(fill.fees),  # type: ignore[attr-defined]
            "order_id": fill.client_order_id, "fill_id": fill.fill_id,  # type: ignore[attr-defined]
            "venue": fill.venue, "liquidity": str(fill.liquidity.value),  # type: ignore[attr-defined]
        })
    if not rows:
        return pd.DataFrame(columns=list(FILL_COLUMNS))
    return normalize_fills(pd.DataFrame(rows))
