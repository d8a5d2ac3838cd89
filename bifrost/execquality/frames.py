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
    values, codes, uniques = _mapped_codes(series, str.lower, field)
    for i, value in enumerate(uniques):
        if value not in ("buy", "sell"):
            row = int(np.flatnonzero(codes == i)[0])
            raise InvalidInput(f"{field} must be 'buy' or 'sell', row {row} was {series.iloc[row]!r}")
    return values


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
    _require(fills, ("ts", "symbol", "side", "quantity", "price"), "fills")
    out = fills.copy(deep=False)
    out["ts"] = _utc(out["ts"], "fills.ts")
    out["symbol"] = _mapped(out["symbol"], str.upper, "symbol")
    out["side"] = _side(out["side"], "fills.side")
    out["quantity"] = _float(out["quantity"], "fills.quantity", positive=True)
    out["price"] = _float(out["price"], "fills.price", positive=True)
    for name in ("commission", "fees"):
        out[name] = 0.0 if name not in out.columns else _float(out[name].fillna(0), f"fills.{name}")
    if "order_id" not in out.columns:
        out["order_id"] = [f"order-{i}" for i in range(len(out))]
    out["order_id"] = _ids(out["order_id"])
    if "fill_id" not in out.columns:
        out["fill_id"] = [f"fill-{i}" for i in range(len(out))]
    for name, default in (("venue", "unknown"), ("broker", "unknown"), ("liquidity", "taker")):
        if name not in out.columns:
            out[name] = default
        elif out[name].isna().any() or out[name].dtype != object:
            out[name] = out[name].fillna(default).astype(str)
    out.index = pd.RangeIndex(len(out))
    return out


def normalize_orders(orders: pd.DataFrame) -> pd.DataFrame:
    """Validate and convert an orders frame (see module docstring).

    Raises
    ------
    InvalidInput
        If a required column is missing, an order id repeats, or a value is invalid.
    """
    return _normalize_orders(orders)[0]


def _normalize_orders(orders: pd.DataFrame) -> tuple[pd.DataFrame, pd.Index]:
    # also returns the order-id index built for the uniqueness check, for reuse in lookups
    _require(orders, ("order_id", "ts_submitted", "symbol", "side", "quantity"), "orders")
    out = orders.copy(deep=False)
    out["order_id"] = _ids(out["order_id"])
    index = pd.Index(out["order_id"])
    if not index.is_unique:
        duplicated = index.duplicated()
        raise InvalidInput(f"orders.order_id must be unique, {index[duplicated][0]!r} repeats")
    out["ts_submitted"] = _utc(out["ts_submitted"], "orders.ts_submitted")
    out["ts_decision"] = (out["ts_submitted"] if "ts_decision" not in out.columns
                          else _utc(out["ts_decision"].fillna(out["ts_submitted"]), "orders.ts_decision"))
    out["symbol"] = _mapped(out["symbol"], str.upper, "symbol")
    out["side"] = _side(out["side"], "orders.side")
    out["quantity"] = _float(out["quantity"], "orders.quantity", positive=True)
    for name in ("limit_price", "stop_price", "decision_price"):
        out[name] = np.nan if name not in out.columns else _float(
            out[name].where(out[name].notna(), np.nan), f"orders.{name}", allow_nan=True)
    if "parent_id" not in out.columns:
        out["parent_id"] = out["order_id"]
    else:
        out["parent_id"] = _ids(out["parent_id"].where(out["parent_id"].notna() & (out["parent_id"] != ""),
                                                       out["order_id"]))
    for name, default in (("order_type", "market"), ("status", "unknown"), ("strategy", ""), ("broker", "unknown")):
        if name not in out.columns:
            out[name] = default
        elif out[name].isna().any() or out[name].dtype != object:
            out[name] = out[name].fillna(default).astype(str)
    out.index = pd.RangeIndex(len(out))
    return out, index


def normalize_quotes(quotes: pd.DataFrame) -> pd.DataFrame:
    """Validate and convert an NBBO quote frame; sorted by symbol then ``ts``; adds ``mid``.

    Raises
    ------
    InvalidInput
        If a column is missing, a price is not positive, or a quote is crossed (bid > ask).
    """
    _require(quotes, ("ts", "symbol", "bid", "ask"), "quotes")
    out = quotes.copy(deep=False)
    out["ts"] = _utc(out["ts"], "quotes.ts")
    out["symbol"] = _mapped(out["symbol"], str.upper, "symbol")
    out["bid"] = _float(out["bid"], "quotes.bid", positive=True)
    out["ask"] = _float(out["ask"], "quotes.ask", positive=True)
    crossed = out["bid"].to_numpy() > out["ask"].to_numpy()
    if crossed.any():
        i = int(np.flatnonzero(crossed)[0])
        raise InvalidInput(f"quotes must not be crossed: row {i} has bid {out['bid'].iloc[i]} > ask {out['ask'].iloc[i]}")
    out["mid"] = (out["bid"] + out["ask"]) / 2.0
    if not _grouped_and_sorted(out["symbol"].to_numpy(), out["ts"]):
        out = out.sort_values(["symbol", "ts"], kind="stable")
    out.index = pd.RangeIndex(len(out))
    return out


def _grouped_and_sorted(symbols: np.ndarray, ts: pd.Series) -> bool:
    # True when each symbol's rows are contiguous and in time order (then no sort is needed)
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
