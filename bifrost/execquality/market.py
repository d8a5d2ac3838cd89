"""Point-in-time market lookups for TCA: the NBBO or the last bar at an instant, interval averages.

All lookups are "as of": the quote in force at ``t`` is the last one with ``ts <= t``; the
price known from bars at ``t`` is the close of the last bar that ended at or before ``t``,
or, before the first such bar, the open of the first bar at or after ``t``. No lookup reads
the future except markouts, which ask for ``t + horizon`` on purpose.

Inputs are normalised frames (:mod:`bifrost.execquality.frames`); queries are NumPy arrays
of symbols and int64 nanoseconds, answered with one ``searchsorted`` per symbol.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

__all__ = ["BarBook", "QuoteBook", "SymbolGroups"]


def _ns(values: pd.Series | np.ndarray) -> np.ndarray:
    """Integer nanoseconds since the epoch (UTC) of a datetime Series or array."""
    if isinstance(values, pd.Series):
        return pd.DatetimeIndex(values).asi8 if values.dt.tz is not None else \
            values.to_numpy(dtype="datetime64[ns]").view("int64")
    return np.asarray(values, dtype="int64")


def _slices(symbols: np.ndarray) -> dict[str, tuple[int, int]]:
    # symbols are sorted: contiguous runs
    if len(symbols) == 0:
        return {}
    change = np.flatnonzero(symbols[1:] != symbols[:-1]) + 1
    starts = np.concatenate(([0], change))
    ends = np.concatenate((change, [len(symbols)]))
    return {str(symbols[s]): (int(s), int(e)) for s, e in zip(starts, ends, strict=True)}


def _search(haystack: np.ndarray, needles: np.ndarray, side: str) -> np.ndarray:
    # searchsorted is much faster on sorted needles (memory locality); sort, search, unsort. The
    # sort need not be stable: equal needles get equal answers.
    if len(needles) > 64 and not (needles[1:] >= needles[:-1]).all():
        order = np.argsort(needles)
        found = np.empty(len(needles), dtype="int64")
        found[order] = np.searchsorted(haystack, needles[order], side=side)
        return found
    return np.searchsorted(haystack, needles, side=side)


class SymbolGroups:
    """Row positions of each symbol in a query array, computed once and reused across lookups.

    With ``ts_ns`` the rows of each symbol are in time order, so lookups at those times (or at
    times that move with them) search sorted needles and read the books sequentially.
    """

    __slots__ = ("groups", "size")

    def __init__(self, symbols: np.ndarray | None, *, codes: np.ndarray | None = None,
                 uniques: np.ndarray | None = None, ts_ns: np.ndarray | None = None) -> None:
        if codes is None or uniques is None:
            codes, uniques = pd.factorize(np.asarray(symbols, dtype=object))
        if len(uniques) < 2 ** 15:  # a stable sort of 16-bit integers is a radix sort: linear time
            codes = codes.astype("int16")
        if ts_ns is None:
            order = np.argsort(codes, kind="stable")
        else:
            by_time = np.argsort(ts_ns)
            order = by_time[np.argsort(codes[by_time], kind="stable")]
        bounds = np.searchsorted(codes[order], np.arange(len(uniques) + 1))
        self.groups = {str(u): order[bounds[i]:bounds[i + 1]] for i, u in enumerate(uniques)}
        self.size = len(codes)

    def subset(self, mask: np.ndarray) -> tuple[SymbolGroups, np.ndarray]:
        """Groups of the rows where ``mask`` is true, and those rows' positions."""
        rows = np.flatnonzero(mask)
        remap = np.full(self.size, -1)
        remap[rows] = np.arange(len(rows))
        out = SymbolGroups.__new__(SymbolGroups)
        out.groups = {k: remap[v[mask[v]]] for k, v in self.groups.items() if mask[v].any()}
        out.size = len(rows)
        return out, rows


def _groups(symbols: np.ndarray | SymbolGroups) -> dict[str, np.ndarray]:
    if isinstance(symbols, SymbolGroups):
        return symbols.groups
    return SymbolGroups(symbols).groups


@dataclass(frozen=True, slots=True)
class _Quote:
    bid: np.ndarray
    ask: np.ndarray
    mid: np.ndarray


class QuoteBook:
    """The NBBO history of one or more symbols, for as-of lookups.

    Parameters
    ----------
    quotes
        A normalised quote frame (sorted by symbol, then ``ts``).
    """

    def __init__(self, quotes: pd.DataFrame) -> None:
        self._ts = _ns(quotes["ts"])
        self._bid = quotes["bid"].to_numpy(dtype="float64")
        self._ask = quotes["ask"].to_numpy(dtype="float64")
        self._mid = (self._bid + self._ask) / 2.0
        self._slices = _slices(quotes["symbol"].to_numpy())
        # time integral of the mid, for time-weighted averages
        self._integral = np.zeros(len(self._ts))
        for start, end in self._slices.values():
            dt = np.diff(self._ts[start:end]).astype("float64")
            self._integral[start + 1:end] = np.cumsum(self._mid[start:end - 1] * dt)

    def asof(self, symbols: np.ndarray, ts_ns: np.ndarray) -> _Quote:
        """Bid, ask and mid in force at each ``(symbol, ts)``; NaN before a symbol's first quote."""
        n = len(ts_ns)
        bid = np.full(n, np.nan)
        ask = np.full(n, np.nan)
        for symbol, rows in _groups(symbols).items():
            span = self._slices.get(symbol)
            if span is None:
                continue
            start, end = span
            idx = _search(self._ts[start:end], ts_ns[rows], "right") - 1
            ok = idx >= 0
            bid[rows[ok]] = self._bid[start + idx[ok]]
            ask[rows[ok]] = self._ask[start + idx[ok]]
        return _Quote(bid, ask, (bid + ask) / 2.0)

    def twap(self, symbols: np.ndarray, start_ns: np.ndarray, end_ns: np.ndarray) -> np.ndarray:
        """Time-weighted average mid over ``[start, end]``; the mid at ``start`` when they are equal."""
        out = np.full(len(start_ns), np.nan)
        for symbol, rows in _groups(symbols).items():
            span = self._slices.get(symbol)
            if span is None:
                continue
            lo, hi = span
            ts, mid, integral = self._ts[lo:hi], self._mid[lo:hi], self._integral[lo:hi]

            a0, m0 = _area(ts, mid, integral, start_ns[rows])
            a1, _ = _area(ts, mid, integral, end_ns[rows])
            width = (end_ns[rows] - start_ns[rows]).astype("float64")
            out[rows] = np.where(width > 0, (a1 - a0) / np.where(width > 0, width, 1.0), m0)
        return out


def _area(ts: np.ndarray, mid: np.ndarray, integral: np.ndarray, t: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    # integral of the mid from the first quote to t, and the mid in force at t
    i = _search(ts, t, "right") - 1
    ok = i >= 0
    j = np.where(ok, i, 0)
    value = integral[j] + mid[j] * (t - ts[j]).astype("float64")
    return np.where(ok, value, np.nan), np.where(ok, mid[j], np.nan)


class BarBook:
    """OHLCV bars of one or more symbols, for as-of prices, interval VWAP/TWAP and session prices.

    Parameters
    ----------
    bars
        A normalised bar frame (see :func:`~bifrost.execquality.frames.normalize_bars`).
    """

    def __init__(self, bars: pd.DataFrame) -> None:
        self.frame = bars
        self._ts = _ns(bars["ts"])
        self._end = _ns(bars["bar_end"])
        self._open = bars["open"].to_numpy(dtype="float64")
        self._close = bars["close"].to_numpy(dtype="float64")
        self._high = bars["high"].to_numpy(dtype="float64")
        self._low = bars["low"].to_numpy(dtype="float64")
        volume = bars["volume"].to_numpy(dtype="float64")
        typical = (self._high + self._low + self._close) / 3.0
        self._slices = _slices(bars["symbol"].to_numpy())
        self._cum_pv = np.zeros(len(volume) + 1)
        self._cum_v = np.zeros(len(volume) + 1)
        self._cum_p = np.zeros(len(volume) + 1)
        self._cum_pv[1:] = np.cumsum(typical * volume)
        self._cum_v[1:] = np.cumsum(volume)
        self._cum_p[1:] = np.cumsum(typical)
        sessions = bars[["symbol", "session"]].copy()
        sessions["open"] = self._open
        sessions["close"] = self._close
        grouped = sessions.groupby(["symbol", "session"], sort=True)
        daily = grouped.agg(open=("open", "first"), close=("close", "last")).reset_index()
        daily["prev_close"] = daily.groupby("symbol")["close"].shift(1)
        self.sessions = daily.set_index(["symbol", "session"])

    def price_at(self, symbols: np.ndarray, ts_ns: np.ndarray) -> np.ndarray:
        """Last price known at ``t``: the close of the last bar ended by ``t``, else the next bar's open."""
        out = np.full(len(ts_ns), np.nan)
        for symbol, rows in _groups(symbols).items():
            span = self._slices.get(symbol)
            if span is None:
                continue
            lo, hi = span
            t = ts_ns[rows]
            ended = np.searchsorted(self._end[lo:hi], t, side="right") - 1
            upcoming = np.minimum(np.searchsorted(self._ts[lo:hi], t, side="left"), hi - lo - 1)
            out[rows] = np.where(ended >= 0, self._close[lo + np.maximum(ended, 0)], self._open[lo + upcoming])
        return out

    def bar_at(self, symbols: np.ndarray, ts_ns: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Low, high and close of the bar that opened last at or before ``t`` (NaN if none)."""
        low = np.full(len(ts_ns), np.nan)
        high = np.full(len(ts_ns), np.nan)
        close = np.full(len(ts_ns), np.nan)
        for symbol, rows in _groups(symbols).items():
            span = self._slices.get(symbol)
            if span is None:
                continue
            lo, hi = span
            i = np.searchsorted(self._ts[lo:hi], ts_ns[rows], side="right") - 1
            ok = i >= 0
            low[rows[ok]] = self._low[lo + i[ok]]
            high[rows[ok]] = self._high[lo + i[ok]]
            close[rows[ok]] = self._close[lo + i[ok]]
        return low, high, close

    def interval(self, symbols: np.ndarray, start_ns: np.ndarray, end_ns: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Volume-weighted and plain average typical price ``(H+L+C)/3`` of bars overlapping ``[start, end]``.

        A bar overlaps when ``ts_open <= end`` and ``bar_end > start``. The VWAP is NaN when the
        bars traded no volume.
        """
        vwap = np.full(len(start_ns), np.nan)
        twap = np.full(len(start_ns), np.nan)
        for symbol, rows in _groups(symbols).items():
            span = self._slices.get(symbol)
            if span is None:
                continue
            lo, hi = span
            first = lo + np.searchsorted(self._end[lo:hi], start_ns[rows], side="right")
            last = lo + np.searchsorted(self._ts[lo:hi], end_ns[rows], side="right")  # exclusive
            count = (last - first).astype("float64")
            v = self._cum_v[last] - self._cum_v[first]
            pv = self._cum_pv[last] - self._cum_pv[first]
            p = self._cum_p[last] - self._cum_p[first]
            with np.errstate(invalid="ignore", divide="ignore"):
                vwap[rows] = np.where(v > 0, pv / np.where(v > 0, v, 1.0), np.nan)
                twap[rows] = np.where(count > 0, p / np.where(count > 0, count, 1.0), np.nan)
        return vwap, twap

    def session_prices(self, symbols: np.ndarray, sessions: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Open, close and previous close of each ``(symbol, session)``; NaN when unknown."""
        index = pd.MultiIndex.from_arrays([np.asarray(symbols), np.asarray(sessions)])
        found = self.sessions.reindex(index)
        return (found["open"].to_numpy(dtype="float64"), found["close"].to_numpy(dtype="float64"),
                found["prev_close"].to_numpy(dtype="float64"))

    def session_of(self, ts: pd.Series) -> np.ndarray:
        """Trading day of each instant, with the same rule as the bars' ``session`` column."""
        midnight = (ts.dt.hour == 0) & (ts.dt.minute == 0)
        return np.where(midnight, ts.dt.date, ts.dt.tz_convert("America/New_York").dt.date)
