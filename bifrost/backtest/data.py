"""Bar series and the event timeline of a backtest.

A :class:`BarSeries` holds one symbol at one timeframe as plain arrays: when each bar
opened and closed (int64 nanoseconds, UTC) and its prices. ``i`` is the index of the
last bar that has closed at the engine's current instant, so everything a strategy reads
through a series is, by construction, in the past.

Bar close instants come from the exchange calendar: a daily bar (labelled at midnight UTC
of its session date, as the bar store keeps it) opens at the session open and closes at
the session close (13:00 on a half day); an intraday bar closes ``timeframe`` after it
opens, cut at its session's close.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from bifrost.core.calendars import get_calendar
from bifrost.core.errors import InvalidInput
from bifrost.marketdata.resample import resample_bars
from bifrost.marketdata.types import BAR_COLUMNS, Timeframe

__all__ = ["Bar", "BarSeries", "session_bounds"]


class Bar:
    """A read-only view of the current (last closed) bar of a series.

    The engine hands each series' view to ``on_bar``; its fields always show the bar at the
    series' current index, so keep values, not the view, if you need them later.
    """

    __slots__ = ("series", "symbol", "timeframe")

    def __init__(self, series: BarSeries) -> None:
        self.series = series
        self.symbol = series.symbol
        self.timeframe = series.timeframe

    @property
    def open(self) -> float:
        return self.series.open[self.series.i]

    @property
    def high(self) -> float:
        return self.series.high[self.series.i]

    @property
    def low(self) -> float:
        return self.series.low[self.series.i]

    @property
    def close(self) -> float:
        return self.series.close[self.series.i]

    @property
    def volume(self) -> float:
        return self.series.volume[self.series.i]

    @property
    def index(self) -> int:
        return self.series.i

    @property
    def start(self) -> pd.Timestamp:
        return pd.Timestamp(int(self.series.start_ns[self.series.i]), tz="UTC")

    @property
    def end(self) -> pd.Timestamp:
        return pd.Timestamp(int(self.series.end_ns[self.series.i]), tz="UTC")

    def __repr__(self) -> str:
        if self.series.i < 0:
            return f"Bar({self.symbol} {self.timeframe}: none closed yet)"
        return (f"Bar({self.symbol} {self.timeframe} {self.end.isoformat()} o={self.open} h={self.high} "
                f"l={self.low} c={self.close} v={self.volume})")


class BarSeries:
    """One symbol at one timeframe: arrays plus the index of the last closed bar."""

    __slots__ = ("symbol", "timeframe", "label_ns", "start_ns", "end_ns", "open", "high", "low", "close", "volume",
                 "arrays", "i", "sid", "bar", "base", "calendar")

    def __init__(self, symbol: str, timeframe: Timeframe, frame: pd.DataFrame, *, calendar: str = "XNYS",
                 base: bool = True) -> None:
        self.symbol = symbol
        self.timeframe = timeframe
        self.calendar = calendar
        self.i = -1
        self.sid = -1
        self.base = base
        self.bar = Bar(self)
        self.load(frame)

    def load(self, frame: pd.DataFrame) -> None:
        """(Re)load the bars; a live session reloads as bars arrive. ``i`` is left alone.

        Raises
        ------
        InvalidInput
            Missing columns, no bars, a naive or unsorted index, bad prices, bars off the calendar.
        """
        symbol = self.symbol
        missing = [c for c in BAR_COLUMNS if c not in frame.columns]
        if missing:
            raise InvalidInput(f"{symbol} bars lack columns {missing}")
        if frame.empty and self.base:
            raise InvalidInput(f"no bars for {symbol}")
        index = pd.DatetimeIndex(frame.index)
        if index.tz is None:
            raise InvalidInput(f"{symbol} bars need a timezone-aware (UTC) index")
        index = index.tz_convert("UTC")
        if not index.is_monotonic_increasing or index.has_duplicates:
            raise InvalidInput(f"{symbol} bar timestamps must strictly increase")
        values = {c: frame[c].to_numpy(dtype="float64") for c in BAR_COLUMNS}
        for name in ("open", "high", "low", "close"):
            if not (np.isfinite(values[name]).all() and (values[name] > 0).all()):
                raise InvalidInput(f"{symbol} has non-positive or missing {name} prices")
        bad_bars = ((values["high"] < values["low"]) | (values["open"] > values["high"])
                    | (values["open"] < values["low"]) | (values["close"] > values["high"])
                    | (values["close"] < values["low"]))
        if bad_bars.any():
            bad = index[np.argmax(bad_bars)]
            raise InvalidInput(f"{symbol} has an inconsistent bar at {bad.isoformat()} (open/close outside high-low)")
        self.label_ns = index.asi8.astype("int64")
        self.start_ns, self.end_ns = session_bounds(self.label_ns, self.timeframe, self.calendar, symbol)
        self.arrays = values
        for name in BAR_COLUMNS:  # per-bar lists are made on first use (see __getattr__)
            try:
                object.__delattr__(self, name)
            except AttributeError:
                pass

    def __getattr__(self, name: str):
        # open/high/low/close/volume as Python lists (fast scalar reads in the event loop),
        # built the first time they are read: a wide universe read only at rebalances never
        # pays for a million float objects it does not use
        if name in BAR_COLUMNS:
            values = self.arrays[name].tolist()
            object.__setattr__(self, name, values)
            return values
        raise AttributeError(name)

    def __len__(self) -> int:
        return len(self.close)

    def frame(self) -> pd.DataFrame:
        return pd.DataFrame(self.arrays, index=pd.DatetimeIndex(self.label_ns, tz="UTC", name="ts"))

    def coarser(self, timeframe: Timeframe) -> BarSeries:
        """This series aggregated to ``timeframe`` (session-aware), as a non-base series."""
        if timeframe.minutes <= self.timeframe.minutes:
            raise InvalidInput(f"{self.symbol}: can only subscribe to a coarser timeframe than {self.timeframe.value}, "
                               f"not {timeframe.value}")
        if self.timeframe is Timeframe.D1:
            raise InvalidInput(f"{self.symbol}: daily bars cannot be aggregated further")
        bars = resample_bars(self.frame().rename_axis("ts"), source=self.timeframe, target=timeframe,
                             calendar=self.calendar)
        return BarSeries(self.symbol, timeframe, bars, calendar=self.calendar, base=False)

    def __repr__(self) -> str:
        return f"BarSeries({self.symbol} {self.timeframe.value}, {len(self)} bars)"


def session_bounds(label_ns: np.ndarray, timeframe: Timeframe, calendar: str,
                   symbol: str = "") -> tuple[np.ndarray, np.ndarray]:
    """When each bar opened and closed, in UTC nanoseconds, from the exchange calendar.

    Raises
    ------
    InvalidInput
        If a daily bar is not on a session of the calendar, or an intraday bar opens
        outside every session.
    """
    cal = get_calendar(calendar)
    opens = cal.opens_nanos
    closes = cal.closes_nanos
    if timeframe is Timeframe.D1:
        sessions = cal.sessions.asi8  # midnight labels, tz-naive nanoseconds
        position = np.searchsorted(sessions, label_ns)
        ok = (position < len(sessions)) & (sessions[np.minimum(position, len(sessions) - 1)] == label_ns)
        if not ok.all():
            bad = pd.Timestamp(int(label_ns[np.argmin(ok)]), tz="UTC")
            raise InvalidInput(f"{symbol} has a daily bar on {bad.date()}, which is not a {calendar} session")
        return opens[position].astype("int64"), closes[position].astype("int64")
    position = np.searchsorted(closes, label_ns, side="right")
    inside = (position < len(closes)) & (opens[np.minimum(position, len(opens) - 1)] <= label_ns)
    if not inside.all():
        bad = pd.Timestamp(int(label_ns[np.argmin(inside)]), tz="UTC")
        raise InvalidInput(f"{symbol} has a {timeframe.value} bar at {bad.isoformat()}, outside {calendar} sessions")
    ends = np.minimum(label_ns + timeframe.minutes * 60_000_000_000, closes[position])
    return label_ns.astype("int64"), ends.astype("int64")
