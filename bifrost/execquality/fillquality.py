"""Fill quality: fill rate, time to fill, markouts and adverse selection.

Markout sign: ``markout_bps(h) = s * (mid(t + h) - p) / p * 10_000``. Positive means the
price moved our way after the fill (we bought below where the market went); negative means
we were picked off. ``adverse_selection_bps(h)`` is the share-weighted ``-markout``, so a
positive number is a cost, as everywhere in this package.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from bifrost.core.errors import InvalidInput
from bifrost.execquality.frames import side_sign
from bifrost.execquality.market import _ns
from bifrost.execquality.tca import TCAInputs, _bars_price_at, slippage_per_order

__all__ = ["DEFAULT_HORIZONS_S", "fill_quality", "markout_curve", "markouts"]

DEFAULT_HORIZONS_S: tuple[float, ...] = (1.0, 60.0, 300.0, 1800.0)


def _label(seconds: float) -> str:
    if seconds < 60 or seconds % 60:
        return f"{seconds:g}s"
    return f"{seconds / 60:g}m"


def markouts(inputs: TCAInputs, horizons_s: Sequence[float] = DEFAULT_HORIZONS_S) -> pd.DataFrame:
    """Markout of every fill at each horizon, in basis points (positive = price moved our way).

    The mid at ``t + h`` comes from quotes, or from bars (last close known then) when no quote
    is available. Horizons beyond the data give NaN from quotes only if no later quote exists;
    as-of lookups keep the last quote.

    Raises
    ------
    InvalidInput
        If a horizon is negative or there is no market data at all.
    """
    if inputs.quotes is None and inputs.bars is None:
        raise InvalidInput("markouts need quotes or bars")
    if any(h < 0 for h in horizons_s):
        raise InvalidInput(f"horizons_s must not be negative, was {list(horizons_s)}")
    fills = inputs.fills
    symbols = inputs.fill_symbols
    ts_ns = _ns(fills["ts"])
    price = fills["price"].to_numpy()
    sign = side_sign(fills["side"].to_numpy())
    out = fills[["fill_id", "order_id", "parent_id", "ts", "symbol", "side", "quantity", "price",
                 "venue", "broker"]].copy()
    for horizon in horizons_s:
        later_ns = ts_ns + int(round(horizon * 1e9))
        mid = np.full(len(fills), np.nan)
        if inputs.quotes is not None:
            mid = inputs.quotes.asof(symbols, later_ns).mid
        if inputs.bars is not None:
            gap = ~np.isfinite(mid)
            if gap.any():
                mid[gap] = _bars_price_at(inputs.bars, symbols, later_ns, gap)
        out[f"markout_{_label(horizon)}_bps"] = sign * (mid - price) / price * 1e4
    return out


def markout_curve(per_fill_markouts: pd.DataFrame, *, by: str | None = None) -> pd.DataFrame:
    """Share-weighted average markout per horizon (optionally per ``by`` group), for charts."""
    columns = [c for c in per_fill_markouts.columns if c.startswith("markout_")]
    groups = [("all", per_fill_markouts)] if by is None else list(per_fill_markouts.groupby(by))
    rows = []
    for key, group in groups:
        weights = group["quantity"].to_numpy()
        for column in columns:
            values = group[column].to_numpy()
            ok = np.isfinite(values)
            value = float(np.average(values[ok], weights=weights[ok])) if ok.any() and weights[ok].sum() > 0 \
                else float("nan")
            rows.append({"group": key, "horizon": column[len("markout_"):-len("_bps")], "markout_bps": value,
                         "adverse_selection_bps": -value})
    return pd.DataFrame(rows)


def fill_quality(inputs: TCAInputs, horizons_s: Sequence[float] = DEFAULT_HORIZONS_S) -> dict[str, object]:
    """Summary of fill quality over all parent orders.

    Returns
    -------
    dict
        ``orders``, ``fill_rate`` (filled shares / ordered shares), ``orders_fully_filled``,
        ``median_time_to_first_fill_s``, ``median_time_to_last_fill_s``,
        ``markouts_bps`` and ``adverse_selection_bps`` (share-weighted, per horizon label).
    """
    per_order = slippage_per_order(inputs)
    ordered = float(per_order["quantity"].sum())
    filled = float(per_order["filled"].sum())
    result: dict[str, object] = {
        "orders": int(len(per_order)),
        "fill_rate": filled / ordered if ordered else float("nan"),
        "orders_fully_filled": int((per_order["filled"] >= per_order["quantity"] - 1e-9).sum()),
        "median_time_to_first_fill_s": float(per_order["time_to_first_fill_s"].median()),
        "median_time_to_last_fill_s": float(per_order["time_to_last_fill_s"].median()),
    }
    if inputs.quotes is not None or inputs.bars is not None:
        curve = markout_curve(markouts(inputs, horizons_s))
        result["markouts_bps"] = dict(zip(curve["horizon"], curve["markout_bps"], strict=True))
        result["adverse_selection_bps"] = dict(zip(curve["horizon"], curve["adverse_selection_bps"], strict=True))
    return result
