"""Best-execution monitoring against the NBBO at order receipt, in the manner of SEC Rule 605.

Each fill is compared with the national best bid and offer in force when its order was
received (``ts_submitted`` of the order; the fill's own time when no orders are given). When
no quote is known for a fill, the bar that contained the receipt time stands in for the
quote: its low as the bid and its high as the ask (the widest quote that could have been in
force), so ``outside the quote`` then means outside the bar's range, which no honest fill
can be. ``quote_source`` says which was used.

Definitions (Rule 605(a)(1), 17 CFR 242.600(b)), amounts per share, positive = cost::

    buy:  price improvement = ask - p (when p < ask);  outside = p - ask (when p > ask)
    sell: price improvement = p - bid (when p > bid);  outside = bid - p (when p < bid)
    effective spread = 2 * s * (p - mid_at_receipt)
    realized spread  = 2 * s * (p - mid_at(execution + horizon))

with ``s`` = +1 for buys and -1 for sells. The rule's original horizon for the realized
spread is 5 minutes; the 2024 amendments use 15 seconds and 1 minute (pass
``realized_horizon_s``). Summary statistics are share-weighted.

References
----------
SEC Rule 605 of Regulation NMS, 17 CFR 242.605, and the definitions in 17 CFR 242.600(b);
SEC Release No. 34-99679 (2024), "Disclosure of Order Execution Information".
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from bifrost.execquality.market import _ns
from bifrost.execquality.tca import TCAInputs, _bars_price_at, _with_columns

__all__ = ["CATEGORIES", "best_execution", "rule605_summary", "rule606_summary"]

CATEGORIES = ("improved", "at_quote", "outside_quote", "no_quote")
_SOURCES = np.array(["none", "nbbo", "bar"], dtype=object)


def best_execution(inputs: TCAInputs, *, realized_horizon_s: float = 300.0, tolerance: float = 1e-9) -> pd.DataFrame:
    """Compare every fill with the NBBO at receipt (or the bar when there are no quotes).

    Parameters
    ----------
    inputs
        From :func:`~bifrost.execquality.tca.prepare`.
    realized_horizon_s
        Seconds after execution at which the realized spread's midpoint is taken.
    tolerance
        Price difference treated as equality (at the quote).

    Returns
    -------
    pandas.DataFrame
        The fills with ``bid``, ``ask``, ``mid`` at receipt, ``quote_source``, ``category``
        (``improved``, ``at_quote``, ``outside_quote`` or ``no_quote``),
        ``price_improvement`` and ``outside_amount`` per share, ``effective_spread``,
        ``realized_spread`` (per share, NaN without a later quote), ``effective_over_quoted``
        and ``flag_outside_quote``.
    """
    fills = inputs.fills
    receipt_ns = _ns(inputs.orders["ts_submitted"])[inputs.fill_order]
    symbols = inputs.fill_symbols
    exec_ns = _ns(fills["ts"])
    n = len(fills)
    bid = np.full(n, np.nan)
    ask = np.full(n, np.nan)
    later_mid = np.full(n, np.nan)
    source_code = np.zeros(n, dtype="int8")  # index into _SOURCES
    if inputs.quotes is not None:
        quote = inputs.quotes.asof(symbols, receipt_ns)
        bid, ask = quote.bid, quote.ask
        source_code[np.isfinite(bid)] = 1
        later_mid = inputs.quotes.asof(symbols, exec_ns + int(realized_horizon_s * 1e9)).mid
    if inputs.bars is not None:
        missing = ~np.isfinite(bid)
        if missing.any():
            subset, rows = symbols.subset(missing)
            low, high, _ = inputs.bars.bar_at(subset, receipt_ns[rows])
            bid[rows], ask[rows] = low, high
            source_code[missing & np.isfinite(bid)] = 2
        gap = ~np.isfinite(later_mid)
        if gap.any():
            later_mid[gap] = _bars_price_at(inputs.bars, symbols, exec_ns + int(realized_horizon_s * 1e9), gap)
    price = fills["price"].to_numpy()
    sign = inputs.fill_sign
    buy = sign > 0
    mid = (bid + ask) / 2.0
    far = np.where(buy, ask, bid)  # the quote we would have paid by crossing
    beyond = sign * (price - far)  # > 0: worse than the quote
    codes = np.ones(n, dtype="int8")  # index into CATEGORIES; comparisons with NaN are false
    codes[beyond < -tolerance] = 0
    codes[beyond > tolerance] = 2
    codes[~np.isfinite(far)] = 3
    category = pd.Categorical.from_codes(codes, categories=list(CATEGORIES))
    quoted = ask - bid
    effective = 2.0 * sign * (price - mid)
    with np.errstate(invalid="ignore", divide="ignore"):
        over_quoted = np.where(quoted > 0, effective / np.where(quoted > 0, quoted, 1.0), np.nan)
    columns = {
        "bid": bid, "ask": ask, "mid": mid, "quote_source": _SOURCES.take(source_code), "category": category,
        "price_improvement": np.where(codes == 0, -beyond, 0.0),
        "outside_amount": np.where(codes == 2, beyond, 0.0),
        "effective_spread": effective,
        "realized_spread": 2.0 * sign * (price - later_mid),
        "effective_over_quoted": over_quoted,
        "flag_outside_quote": codes == 2,
        "time_to_execution_s": (exec_ns - receipt_ns) / 1e9,
    }
    return _with_columns(fills, columns)


def _weighted(values: pd.Series, weights: pd.Series) -> float:
    mask = np.isfinite(values.to_numpy()) & (weights.to_numpy() > 0)
    total = float(weights[mask].sum())
    return float((values[mask] * weights[mask]).sum() / total) if total > 0 else float("nan")


def rule605_summary(per_fill: pd.DataFrame, *, by: Sequence[str] = ("broker", "venue")) -> pd.DataFrame:
    """Rule 605-style statistics per group, share-weighted.

    Parameters
    ----------
    per_fill
        Output of :func:`best_execution`.
    by
        Grouping columns (``()`` for one overall row).

    Returns
    -------
    pandas.DataFrame
        Per group: ``orders``, ``shares``, shares ``improved`` / ``at_quote`` /
        ``outside_quote`` with their fractions, ``avg_price_improvement`` (per share, over
        improved shares), ``avg_outside_amount`` (over outside shares),
        ``avg_effective_spread``, ``avg_realized_spread``, ``avg_effective_over_quoted``,
        ``avg_time_to_execution_s`` and ``flagged_fills``.
    """
    frame = per_fill.copy()
    keys = list(by)
    if not keys:
        frame["_all"] = "all"
        keys = ["_all"]
    rows = []
    for key, group in frame.groupby(keys, sort=True):
        shares = group["quantity"]
        total = float(shares.sum())
        improved = group["category"] == "improved"
        at = group["category"] == "at_quote"
        outside = group["category"] == "outside_quote"
        row = dict(zip(keys, key if isinstance(key, tuple) else (key,), strict=True))
        row.update({
            "orders": int(group["order_id"].nunique()),
            "shares": total,
            "shares_improved": float(shares[improved].sum()),
            "shares_at_quote": float(shares[at].sum()),
            "shares_outside_quote": float(shares[outside].sum()),
            "avg_price_improvement": _weighted(group["price_improvement"][improved], shares[improved]),
            "avg_outside_amount": _weighted(group["outside_amount"][outside], shares[outside]),
            "avg_effective_spread": _weighted(group["effective_spread"], shares),
            "avg_realized_spread": _weighted(group["realized_spread"], shares),
            "avg_effective_over_quoted": _weighted(group["effective_over_quoted"], shares),
            "avg_time_to_execution_s": _weighted(group["time_to_execution_s"], shares),
            "flagged_fills": int(group["flag_outside_quote"].sum()),
        })
        for name in ("improved", "at_quote", "outside_quote"):
            row[f"pct_{name}"] = row[f"shares_{name}"] / total * 100.0 if total else float("nan")
        rows.append(row)
    result = pd.DataFrame(rows)
    return result.drop(columns=["_all"], errors="ignore")


def rule606_summary(per_fill: pd.DataFrame, orders: pd.DataFrame) -> pd.DataFrame:
    """Rule 606-style routing table: where orders went, by order type, with fees and rebates.

    Parameters
    ----------
    per_fill
        Output of :func:`best_execution` (fills with the NBBO at receipt).
    orders
        The normalised orders (``TCAInputs.orders``).

    Returns
    -------
    pandas.DataFrame
        Per venue: ``orders`` routed there, their percentage of all routed orders, the
        percentages that were ``market``, ``marketable_limit``, ``non_marketable_limit`` and
        ``other`` orders, ``shares``, and ``net_fees`` (regulatory plus exchange fees; negative
        when rebates exceed fees).

    Notes
    -----
    An order is routed to every venue that filled part of it. A limit order is marketable when
    its limit reached the far side of the NBBO at receipt (``limit >= ask`` for a buy,
    ``limit <= bid`` for a sell). Rule 606(a)(1) asks for these shares per venue per quarter,
    for held orders; payment for order flow is not known here and is left out.

    References
    ----------
    SEC Rule 606 of Regulation NMS, 17 CFR 242.606(a)(1).
    """
    if per_fill.empty:
        return pd.DataFrame(columns=["venue", "orders", "pct_of_orders", "pct_market", "pct_marketable_limit",
                                     "pct_non_marketable_limit", "pct_other", "shares", "net_fees"])
    info = orders.set_index("order_id")[["order_type", "limit_price", "side"]]
    first = per_fill.drop_duplicates(["order_id", "venue"]).join(info, on="order_id", rsuffix="_order")
    limit = first["limit_price"].to_numpy(dtype="float64")
    buy = first["side"].to_numpy() == "buy"
    far = np.where(buy, first["ask"].to_numpy(), first["bid"].to_numpy())
    marketable = np.where(buy, limit >= far, limit <= far)
    kind = np.select([first["order_type"].to_numpy() == "market",
                      (first["order_type"].to_numpy() == "limit") & marketable,
                      first["order_type"].to_numpy() == "limit"],
                     ["market", "marketable_limit", "non_marketable_limit"], "other")
    first = first.assign(kind=kind)
    total = first["order_id"].nunique()
    rows = []
    for venue, group in first.groupby("venue", sort=True):
        fills = per_fill[per_fill["venue"] == venue]
        n = len(group)
        row = {"venue": venue, "orders": n, "pct_of_orders": n / total * 100.0}
        for name in ("market", "marketable_limit", "non_marketable_limit", "other"):
            row[f"pct_{name}"] = float((group["kind"] == name).sum()) / n * 100.0
        row["shares"] = float(fills["quantity"].sum())
        row["net_fees"] = float(fills["fees"].sum())
        rows.append(row)
    return pd.DataFrame(rows)
