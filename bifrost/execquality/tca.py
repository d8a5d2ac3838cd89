"""Transaction cost analysis: slippage against benchmarks, Perold shortfall, explicit costs.

Sign convention (every cost in this package)
--------------------------------------------
A positive number is a **cost** to us. For a fill at price ``p`` against benchmark ``B``::

    slippage_bps = s * (p - B) / B * 10_000,    s = +1 for a buy, -1 for a sell

so a buy above the benchmark and a sell below it are positive (we paid), a buy below or a
sell above it are negative (we gained). Fees are positive, rebates negative.

Benchmarks
----------
``arrival``   mid (NBBO) when the order reached the market (``ts_submitted``); from bars, the
              last price known then (see :class:`~bifrost.execquality.market.BarBook`).
``decision``  ``decision_price`` when given, else the mid at ``ts_decision`` (defaults to arrival).
``interval_vwap`` / ``interval_twap``  volume- / time-weighted price from the order's arrival
              to its last fill (bars; the TWAP uses the time-weighted mid when quotes are given).
``open``, ``close``, ``prev_close``  of the session of the fill (bars).

Fills are attributed to their order's ``parent_id`` (child orders of an algorithm aggregate
to the parent); without an orders frame each ``order_id`` is its own parent, arriving at its
first fill.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from bifrost.core.errors import InvalidInput
from bifrost.execquality.frames import (
    _column_values,
    _normalize_fills,
    _normalize_orders,
    _with_columns,
    normalize_bars,
    normalize_fills,
    normalize_quotes,
    side_sign,
)
from bifrost.execquality.market import BarBook, QuoteBook, SymbolGroups, _ns
from bifrost.execution.fees import RegulatoryFees

__all__ = [
    "BENCHMARKS",
    "TCAInputs",
    "explicit_costs",
    "implementation_shortfall",
    "prepare",
    "slippage_per_fill",
    "slippage_per_order",
]

BENCHMARKS = ("arrival", "decision", "interval_vwap", "interval_twap", "open", "close", "prev_close")


@dataclass(frozen=True, slots=True)
class TCAInputs:
    """Normalised inputs with their market books: build once with :func:`prepare`, reuse.

    ``parents`` has one row per parent order (indexed by ``parent_id``); ``fill_parent`` and
    ``fill_order`` give, for each fill, the row of its parent in ``parents`` and of its order in
    ``orders``; ``fill_sign`` is +1 for buy fills and -1 for sell fills.
    """

    fills: pd.DataFrame
    orders: pd.DataFrame
    quotes: QuoteBook | None
    bars: BarBook | None
    parents: pd.DataFrame
    fill_parent: np.ndarray
    fill_order: np.ndarray
    fill_symbols: SymbolGroups
    parent_symbols: SymbolGroups
    fill_sign: np.ndarray


def _synthetic_orders(fills: pd.DataFrame) -> pd.DataFrame:
    grouped = fills.groupby("order_id", sort=False)
    return grouped.agg(ts_submitted=("ts", "min"), symbol=("symbol", "first"), side=("side", "first"),
                       quantity=("quantity", "sum"), broker=("broker", "first")).reset_index()


_PARENT_COLUMNS = ("ts_submitted", "ts_decision", "symbol", "side", "quantity", "strategy", "broker", "order_type")
_PARENT_PRICES = ("decision_price", "arrival_price", "end_price", "limit_price")


def _parents_table(orders: pd.DataFrame, index: pd.Index | None = None) -> tuple[pd.DataFrame, np.ndarray]:
    """One row per parent order, and the parent row of every order."""
    order_ids = orders["order_id"].to_numpy()
    parent_ids = orders["parent_id"].to_numpy()
    if (order_ids == parent_ids).all():  # no child orders: every order is its own parent
        data: dict[str, object] = {name: _column_values(orders[name]) for name in _PARENT_COLUMNS}
        data["quantity"] = orders["quantity"].to_numpy(dtype="float64")
        for name in _PARENT_PRICES:
            data[name] = (pd.to_numeric(orders[name], errors="coerce").to_numpy(dtype="float64")
                          if name in orders.columns else np.full(len(orders), np.nan))
        parents = pd.DataFrame(data, index=index if index is not None else pd.Index(order_ids), copy=False)
        parents.index.name = "parent_id"
        return parents, np.arange(len(orders))
    codes, uniques = pd.factorize(parent_ids)
    frame = orders.assign(_parent=codes)
    grouped = frame.groupby("_parent", sort=True)
    parents = grouped.agg(ts_submitted=("ts_submitted", "min"), ts_decision=("ts_decision", "min"),
                          symbol=("symbol", "first"), side=("side", "first"), quantity=("quantity", "sum"),
                          strategy=("strategy", "first"), broker=("broker", "first"),
                          order_type=("order_type", "first"))
    parents.index = pd.Index(np.asarray(uniques, dtype=object), name="parent_id")
    for name in _PARENT_PRICES:
        parents[name] = np.nan
    own = np.flatnonzero(order_ids == parent_ids)  # parent rows given explicitly override the aggregates
    rows = codes[own]
    for name in ("ts_submitted", "ts_decision", "quantity", "strategy", "order_type"):
        values = parents[name].to_numpy().copy()
        values[rows] = orders[name].to_numpy()[own]
        parents[name] = values
    for name in _PARENT_PRICES:
        if name in orders.columns:
            values = parents[name].to_numpy().copy()
            values[rows] = pd.to_numeric(orders[name], errors="coerce").to_numpy(dtype="float64")[own]
            parents[name] = values
    parents["quantity"] = parents["quantity"].astype("float64")
    return parents, codes


def prepare(fills: pd.DataFrame, orders: pd.DataFrame | None = None, quotes: pd.DataFrame | None = None,
            bars: pd.DataFrame | None = None) -> TCAInputs:
    """Validate the frames and build the lookup books.

    Raises
    ------
    InvalidInput
        If a frame is malformed, a fill names an order that is not in ``orders``, or a fill's
        symbol or side differs from its order's.
    """
    fills, fill_codes = _normalize_fills(fills)
    orders, index, order_codes = _normalize_orders(_synthetic_orders(fills) if orders is None else orders)
    position = index.get_indexer(fills["order_id"])
    missing = position < 0
    if missing.any():
        raise InvalidInput(f"fill {fills['fill_id'][missing].iloc[0]} names order "
                           f"{fills['order_id'][missing].iloc[0]!r}, which is not in orders")
    # compare integer codes, not strings: the fills' symbols mapped onto the orders' distinct symbols
    known = {symbol: i for i, symbol in enumerate(order_codes.symbols)}
    fill_symbol = np.array([known.get(s, -1) for s in fill_codes.symbols], dtype="int64")[fill_codes.symbol]
    for name, differs in (("symbol", order_codes.symbol[position] != fill_symbol),
                          ("side", order_codes.sign[position] != fill_codes.sign)):
        if differs.any():
            i = int(np.flatnonzero(differs)[0])
            raise InvalidInput(f"fill {fills['fill_id'].iloc[i]} has {name} {fills[name].iloc[i]!r} but its order "
                               f"has {orders[name].to_numpy()[position][i]!r}")
    parents, order_parent = _parents_table(orders, index.copy())
    fill_parent = order_parent[position]
    fills = _with_columns(fills, {"parent_id": parents.index.to_numpy()[fill_parent]})
    quote_book = QuoteBook(normalize_quotes(quotes)) if quotes is not None and len(quotes) else None
    bar_book = BarBook(normalize_bars(bars)) if bars is not None and len(bars) else None
    if len(parents) == len(orders) and (order_parent == np.arange(len(orders))).all():
        # every order is its own parent: the orders' codes are the parents', and the check above suffices
        parent_codes, parent_symbols = order_codes.symbol, order_codes.symbols
        fill_codes_parent = parent_codes[fill_parent]
    else:
        parent_codes, parent_symbols = pd.factorize(parents["symbol"].to_numpy())
        fill_codes_parent = parent_codes[fill_parent]
        if not (parent_symbols[fill_codes_parent] == fills["symbol"].to_numpy()).all():
            raise InvalidInput("every child order must trade its parent order's symbol")
    # rows grouped by symbol in time order: most lookups are at (or a fixed offset from) these times
    return TCAInputs(fills, orders, quote_book, bar_book, parents, fill_parent, position,
                     SymbolGroups(None, codes=fill_codes_parent, uniques=parent_symbols, ts_ns=_ns(fills["ts"])),
                     SymbolGroups(None, codes=parent_codes, uniques=parent_symbols,
                                  ts_ns=_ns(parents["ts_submitted"])),
                     fill_codes.sign)


def _price_at(inputs: TCAInputs, symbols: np.ndarray | SymbolGroups, ts_ns: np.ndarray) -> np.ndarray:
    out = np.full(len(ts_ns), np.nan)
    if inputs.quotes is not None:
        out = inputs.quotes.asof(symbols, ts_ns).mid
    if inputs.bars is not None:
        missing = np.isnan(out)
        if missing.any():
            out[missing] = _bars_price_at(inputs.bars, symbols, ts_ns, missing)
    return out


def _bars_price_at(bars: BarBook, symbols: np.ndarray | SymbolGroups, ts_ns: np.ndarray,
                   mask: np.ndarray) -> np.ndarray:
    """Bar prices at the masked rows (in row order)."""
    if isinstance(symbols, SymbolGroups):
        subset, rows = symbols.subset(mask)
        return bars.price_at(subset, ts_ns[rows])
    return bars.price_at(np.asarray(symbols)[mask], ts_ns[mask])


def _bps(sign: np.ndarray, price: np.ndarray, benchmark: np.ndarray) -> np.ndarray:
    if np.isnan(benchmark).all():  # e.g. session prices without bars: skip the arithmetic on NaN
        return np.full(len(benchmark), np.nan)
    with np.errstate(invalid="ignore", divide="ignore"):
        out = np.subtract(price, benchmark)
        out /= benchmark
        out *= sign
        out *= 1e4
        return out


def _fill_extremes(inputs: TCAInputs) -> tuple[np.ndarray, np.ndarray]:
    """First and last fill time (ns) of each parent; ``iNaT`` where it has none."""
    n = len(inputs.parents)
    ts_ns = _ns(inputs.fills["ts"])
    nat = np.iinfo("int64").min
    last = np.full(n, nat, dtype="int64")
    first = np.full(n, np.iinfo("int64").max, dtype="int64")
    np.maximum.at(last, inputs.fill_parent, ts_ns)
    np.minimum.at(first, inputs.fill_parent, ts_ns)
    first[first == np.iinfo("int64").max] = nat
    return first, last


def _parent_benchmarks(inputs: TCAInputs, end_ns: np.ndarray) -> dict[str, np.ndarray]:
    parents = inputs.parents
    groups = inputs.parent_symbols
    arrival_ns = _ns(parents["ts_submitted"])
    decision_ns = _ns(parents["ts_decision"])
    given_arrival = parents["arrival_price"].to_numpy()
    arrival = _price_at(inputs, groups, arrival_ns)
    arrival = np.where(np.isfinite(given_arrival), given_arrival, arrival)
    if (decision_ns == arrival_ns).all():
        decision = arrival.copy()
    else:
        decision = np.where(decision_ns == arrival_ns, arrival, _price_at(inputs, groups, decision_ns))
    given_decision = parents["decision_price"].to_numpy()
    decision = np.where(np.isfinite(given_decision), given_decision, decision)
    vwap = np.full(len(parents), np.nan)
    twap = np.full(len(parents), np.nan)
    if inputs.bars is not None:
        vwap, twap = inputs.bars.interval(groups, arrival_ns, end_ns)
    if inputs.quotes is not None:
        quoted = inputs.quotes.twap(groups, arrival_ns, end_ns)
        twap = np.where(np.isfinite(quoted), quoted, twap)
    return {"arrival": arrival, "decision": decision, "interval_vwap": vwap, "interval_twap": twap}


def _session_benchmarks(inputs: TCAInputs, symbols: np.ndarray, ts: pd.Series) -> tuple[np.ndarray, ...]:
    n = len(symbols)
    if inputs.bars is None:
        nan = np.full(n, np.nan)
        return nan, nan.copy(), nan.copy()
    sessions = inputs.bars.session_of(ts)
    return inputs.bars.session_prices(symbols, sessions)


def _end_ns(inputs: TCAInputs) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    first, last = _fill_extremes(inputs)
    nat = np.iinfo("int64").min
    arrival_ns = _ns(inputs.parents["ts_submitted"])
    return first, last, np.where(last == nat, arrival_ns, last)


def slippage_per_fill(inputs: TCAInputs) -> pd.DataFrame:
    """Slippage of every fill against every benchmark, in price units and basis points.

    Returns
    -------
    pandas.DataFrame
        The fills with, per benchmark ``b`` in :data:`BENCHMARKS`, the benchmark price ``b``
        and ``slippage_<b>_bps`` (positive = cost, see the module docstring).
    """
    fills = inputs.fills
    _, _, end_ns = _end_ns(inputs)
    bench = _parent_benchmarks(inputs, end_ns)
    rows = inputs.fill_parent
    sign = inputs.fill_sign
    price = fills["price"].to_numpy()
    columns: dict[str, np.ndarray] = {name: bench[name][rows] for name in
                                      ("arrival", "decision", "interval_vwap", "interval_twap")}
    columns["open"], columns["close"], columns["prev_close"] = _session_benchmarks(
        inputs, fills["symbol"].to_numpy(), fills["ts"])
    for name in BENCHMARKS:
        columns[f"slippage_{name}_bps"] = _bps(sign, price, columns[name])
    columns["notional"] = fills["quantity"].to_numpy() * price
    return _with_columns(fills, columns)


def slippage_per_order(inputs: TCAInputs) -> pd.DataFrame:
    """Slippage of each parent order's average fill price against every benchmark.

    Returns
    -------
    pandas.DataFrame
        Indexed by ``parent_id``: symbol, side, quantity, filled quantity, fill rate,
        average price, notional, explicit costs, the benchmark prices, ``slippage_<b>_bps``
        and ``explicit_bps``. Orders without fills have NaN slippage.
    """
    fills = inputs.fills
    parents = inputs.parents
    n = len(parents)
    rows = inputs.fill_parent
    q = fills["quantity"].to_numpy()
    p = fills["price"].to_numpy()
    filled = np.bincount(rows, weights=q, minlength=n)
    pq = np.bincount(rows, weights=q * p, minlength=n)
    explicit = np.bincount(rows, weights=fills["commission"].to_numpy() + fills["fees"].to_numpy(), minlength=n)
    count = np.bincount(rows, minlength=n)
    first_ns, last_ns, end_ns = _end_ns(inputs)
    nat = np.iinfo("int64").min
    out = parents.copy(deep=False)
    out["filled"] = filled
    out["explicit"] = explicit
    out["fill_count"] = count
    first_fill = np.full(n, len(fills))
    np.minimum.at(first_fill, rows, np.arange(len(fills)))
    has = first_fill < len(fills)
    venue = np.full(n, None, dtype=object)
    venue[has] = fills["venue"].to_numpy()[first_fill[has]]
    out["venue"] = venue
    out["first_fill"] = pd.to_datetime(np.where(first_ns == nat, np.datetime64("NaT"), first_ns.view("datetime64[ns]")),
                                       utc=True)
    out["last_fill"] = pd.to_datetime(np.where(last_ns == nat, np.datetime64("NaT"), last_ns.view("datetime64[ns]")),
                                      utc=True)
    with np.errstate(invalid="ignore", divide="ignore"):
        avg = np.where(filled > 0, pq / np.where(filled > 0, filled, 1.0), np.nan)
    out["avg_price"] = avg
    out["notional"] = pq
    out["fill_rate"] = filled / out["quantity"].to_numpy()
    bench = _parent_benchmarks(inputs, end_ns)
    for name in ("arrival", "decision", "interval_vwap", "interval_twap"):
        out[name] = bench[name]
    when = out["first_fill"].where(out["first_fill"].notna(), out["ts_submitted"])
    out["open"], out["close"], out["prev_close"] = _session_benchmarks(inputs, out["symbol"].to_numpy(), when)
    sign = side_sign(out["side"].to_numpy())
    for name in BENCHMARKS:
        out[f"slippage_{name}_bps"] = _bps(sign, avg, out[name].to_numpy())
    with np.errstate(invalid="ignore", divide="ignore"):
        out["explicit_bps"] = np.where(pq > 0, explicit / np.where(pq > 0, pq, 1.0) * 1e4, np.nan)
    out["time_to_first_fill_s"] = (out["first_fill"] - out["ts_submitted"]).dt.total_seconds()
    out["time_to_last_fill_s"] = (out["last_fill"] - out["ts_submitted"]).dt.total_seconds()
    return out


def implementation_shortfall(inputs: TCAInputs) -> pd.DataFrame:
    """Perold's implementation shortfall per parent order, decomposed, in dollars and bps.

    Returns
    -------
    pandas.DataFrame
        Indexed by ``parent_id`` with ``delay``, ``impact``, ``timing``, ``opportunity``,
        ``fees`` and ``total`` in currency units, each also as ``<name>_bps`` of the paper
        notional ``Q * P_d``; plus the prices used.

    Notes
    -----
    With ``s`` = +1 (buy) / -1 (sell), ordered quantity ``Q``, filled ``q = sum(q_i)`` at
    prices ``p_i``, decision price ``P_d``, arrival price ``P_0``, mid at each fill ``m_i``
    (``P_0`` when no quotes are known, which puts the whole move into ``impact``) and the
    price at the end of the order ``P_end`` (``end_price``, else the session close from bars,
    else the mid at the last fill)::

        delay       = s * q * (P_0 - P_d)
        impact      = s * sum q_i * (p_i - m_i)        (trading cost against the prevailing mid)
        timing      = s * sum q_i * (m_i - P_0)        (market drift while the order worked)
        opportunity = s * (Q - q) * (P_end - P_d)      (unfilled shares)
        fees        = sum commission_i + fees_i
        total       = delay + impact + timing + opportunity + fees
                    = paper-portfolio return - real-portfolio return

    Example (CFA Institute, *Trade Strategy and Execution*): decide to buy 1,000 at 10.00,
    order released at 10.05, 700 filled at 10.07 with 14 of fees, close 10.08: delay 35,
    impact 14, opportunity 24, fees 14, total 87 = 87 bps of 10,000.

    References
    ----------
    Perold, A. F. (1988), "The Implementation Shortfall: Paper versus Reality", Journal of
    Portfolio Management 14(3), 4-9. Kissell, R. (2013), *The Science of Algorithmic Trading
    and Portfolio Management*, ch. 3.
    """
    fills = inputs.fills
    parents = inputs.parents
    n = len(parents)
    _, last_ns, end_ns = _end_ns(inputs)
    bench = _parent_benchmarks(inputs, end_ns)
    rows = inputs.fill_parent
    sign_fill = side_sign(fills["side"].to_numpy())
    arrival_fill = bench["arrival"][rows]
    if inputs.quotes is not None:
        mid = inputs.quotes.asof(inputs.fill_symbols, _ns(fills["ts"])).mid
        mid = np.where(np.isfinite(mid), mid, arrival_fill)
    else:
        mid = arrival_fill
    q = fills["quantity"].to_numpy()
    p = fills["price"].to_numpy()
    out = parents[["symbol", "side", "quantity", "strategy", "broker"]].copy()
    out["filled"] = np.bincount(rows, weights=q, minlength=n)
    out["impact"] = np.bincount(rows, weights=sign_fill * q * (p - mid), minlength=n)
    out["timing"] = np.bincount(rows, weights=sign_fill * q * (mid - arrival_fill), minlength=n)
    out["fees"] = np.bincount(rows, weights=fills["commission"].to_numpy() + fills["fees"].to_numpy(), minlength=n)
    out["decision_price"] = bench["decision"]
    out["arrival_price"] = bench["arrival"]
    end_price = parents["end_price"].to_numpy().copy()
    missing = ~np.isfinite(end_price)
    end_ts = pd.Series(pd.to_datetime(end_ns, utc=True), index=parents.index)
    if missing.any() and inputs.bars is not None:
        _, close, _ = _session_benchmarks(inputs, parents["symbol"].to_numpy(), end_ts)
        end_price[missing] = close[missing]
        missing = ~np.isfinite(end_price)
    if missing.any():
        end_price[missing] = _price_at(inputs, parents["symbol"].to_numpy()[missing], end_ns[missing])
    out["end_price"] = end_price
    sign = side_sign(out["side"].to_numpy())
    unfilled = np.maximum(out["quantity"].to_numpy() - out["filled"].to_numpy(), 0.0)
    out["delay"] = sign * out["filled"].to_numpy() * (out["arrival_price"].to_numpy() - out["decision_price"].to_numpy())
    with np.errstate(invalid="ignore"):
        out["opportunity"] = np.where(unfilled > 0, sign * unfilled * (end_price - out["decision_price"].to_numpy()),
                                      0.0)
    components = ["delay", "impact", "timing", "opportunity", "fees"]
    out["total"] = out[components].sum(axis=1, min_count=1)
    paper = out["quantity"] * out["decision_price"]
    for name in [*components, "total"]:
        out[f"{name}_bps"] = out[name] / paper * 1e4
    out["paper_notional"] = paper
    return out


def explicit_costs(fills: pd.DataFrame, *, regulatory: RegulatoryFees | None = None) -> pd.DataFrame:
    """Split each fill's explicit costs into commission, SEC fee, FINRA TAF and exchange fees.

    The SEC Section 31 fee and FINRA TAF are recomputed from the dated schedules of
    :class:`~bifrost.execution.fees.RegulatoryFees` (sells only); the exchange fee is the
    rest of the recorded ``fees`` (negative for a rebate). Trade dates the schedules do not
    cover get NaN regulatory fees, and all of ``fees`` is reported as ``exchange``.

    Returns
    -------
    pandas.DataFrame
        The fills with ``sec_fee``, ``finra_taf``, ``exchange_fee`` and ``explicit_total``.

    Notes
    -----
    ``sec = ceil_cent(notional * sec_rate)``, ``taf = ceil_cent(min(q * taf_rate, taf_max))`` per
    fill, as ``RegulatoryFees`` computes them (in float64 here, for speed).
    """
    model = regulatory if regulatory is not None else RegulatoryFees()
    frame = normalize_fills(fills)
    trade_date = frame["ts"].dt.tz_convert("America/New_York").dt.date
    sec_rate = np.full(len(frame), np.nan)
    taf_rate = np.full(len(frame), np.nan)
    taf_max = np.full(len(frame), np.inf)
    codes, days = pd.factorize(trade_date)
    for code, day in enumerate(days):
        sec, taf = model.rates_on(day)
        if sec is None or taf is None:
            continue
        mask = codes == code
        sec_rate[mask] = float(sec.rate)
        taf_rate[mask] = float(taf.rate)
        if taf.max_per_trade is not None:
            taf_max[mask] = float(taf.max_per_trade)
    sell = frame["side"].to_numpy() == "sell"
    q = frame["quantity"].to_numpy()
    notional = q * frame["price"].to_numpy()

    def ceil_cent(x: np.ndarray) -> np.ndarray:
        return np.ceil(np.round(x * 100.0, 6)) / 100.0

    out = frame.copy()
    out["sec_fee"] = np.where(sell, ceil_cent(notional * sec_rate), 0.0)
    out["finra_taf"] = np.where(sell, ceil_cent(np.minimum(q * taf_rate, taf_max)), 0.0)
    known = np.isfinite(sec_rate)
    out.loc[~known & sell, ["sec_fee", "finra_taf"]] = np.nan
    regulatory_total = np.nan_to_num(out["sec_fee"].to_numpy()) + np.nan_to_num(out["finra_taf"].to_numpy())
    out["exchange_fee"] = np.round(frame["fees"].to_numpy() - regulatory_total, 10)
    out["explicit_total"] = frame["commission"].to_numpy() + frame["fees"].to_numpy()
    return out
