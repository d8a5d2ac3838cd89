"""Intraday volume curves estimated from a symbol's own history, for VWAP scheduling.

A curve gives the expected fraction of a session's volume traded in each bucket of
``bucket_minutes`` after the session open. Each past session's bucket volumes are divided
by that session's total, and the fractions averaged across sessions, so one heavy day does
not dominate. Session opens and closes come from the exchange calendar (half days end early).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import numpy as np
import pandas as pd

from bifrost.core.calendars import get_calendar
from bifrost.core.errors import InvalidInput
from bifrost.core.time import ensure_utc
from bifrost.execquality.frames import normalize_bars

__all__ = ["VolumeCurve"]


@dataclass(frozen=True, slots=True)
class VolumeCurve:
    """Expected fraction of session volume per bucket after the open.

    ``fractions`` sum to one; bucket ``i`` covers minutes ``[i * bucket_minutes, (i+1) * bucket_minutes)``.
    """

    bucket_minutes: int
    fractions: np.ndarray
    sessions: int
    calendar: str = "XNYS"

    def __post_init__(self) -> None:
        fractions = np.asarray(self.fractions, dtype="float64")
        if fractions.ndim != 1 or not len(fractions) or (fractions < 0).any() or not np.isfinite(fractions).all():
            raise InvalidInput("volume curve fractions must be a non-empty vector of non-negative numbers")
        total = fractions.sum()
        if total <= 0:
            raise InvalidInput("volume curve fractions must not all be zero")
        object.__setattr__(self, "fractions", fractions / total)

    @classmethod
    def flat(cls, *, session_minutes: int = 390, bucket_minutes: int = 5, calendar: str = "XNYS") -> VolumeCurve:
        """A flat curve (VWAP then equals TWAP)."""
        buckets = -(-session_minutes // bucket_minutes)
        return cls(bucket_minutes, np.ones(buckets), 0, calendar)

    @classmethod
    def from_bars(cls, bars: pd.DataFrame, *, symbol: str | None = None, bucket_minutes: int = 5,
                  calendar: str = "XNYS") -> VolumeCurve:
        """Estimate the curve from intraday bars (``ts`` = bar open).

        Raises
        ------
        InvalidInput
            If no bar falls inside a session, or the bars hold several symbols and none is named.
        """
        if bucket_minutes <= 0:
            raise InvalidInput(f"bucket_minutes must be positive, was {bucket_minutes}")
        frame = normalize_bars(bars)
        if symbol is not None:
            frame = frame[frame["symbol"] == symbol.upper()]
        elif frame["symbol"].nunique() > 1:
            raise InvalidInput("bars hold several symbols; name the one to estimate the curve for")
        cal = get_calendar(calendar)
        local = frame["ts"].dt.tz_convert(cal.tz).dt.tz_localize(None).dt.normalize()
        dates = pd.DatetimeIndex(local.unique())
        sessions = dates[dates.isin(cal.sessions)] if len(dates) else dates
        opens = {d: cal.session_open(d) for d in sessions}
        closes = {d: cal.session_close(d) for d in sessions}
        minutes = np.full(len(frame), -1.0)
        for d in sessions:
            mask = (local == d).to_numpy()
            ts = frame["ts"][mask]
            inside = (ts >= opens[d]) & (ts < closes[d])
            offset = (ts - opens[d]).dt.total_seconds().to_numpy() / 60.0
            minutes[np.flatnonzero(mask)] = np.where(inside.to_numpy(), offset, -1.0)
        frame = frame.assign(minute=minutes, day=local.to_numpy())
        frame = frame[frame["minute"] >= 0]
        if frame.empty:
            raise InvalidInput("no bar falls inside a trading session; cannot estimate a volume curve")
        frame["bucket"] = (frame["minute"] // bucket_minutes).astype(int)
        per = frame.groupby(["day", "bucket"])["volume"].sum().unstack(fill_value=0.0)
        totals = per.sum(axis=1)
        per = per[totals > 0].div(totals[totals > 0], axis=0)
        full = int(np.ceil(390 / bucket_minutes))
        per = per.reindex(columns=range(max(full, int(per.columns.max()) + 1)), fill_value=0.0)
        return cls(bucket_minutes, per.mean(axis=0).to_numpy(), int(len(per)), calendar)

    def cumulative(self, minutes_after_open: np.ndarray | float) -> np.ndarray:
        """Expected fraction of the session's volume traded by ``minutes_after_open`` (linear inside a bucket)."""
        edges = np.arange(len(self.fractions) + 1) * float(self.bucket_minutes)
        cum = np.concatenate(([0.0], np.cumsum(self.fractions)))
        return np.interp(np.asarray(minutes_after_open, dtype="float64"), edges, cum)

    def minutes_after_open(self, ts: datetime) -> float:
        """Minutes since the open of the session containing ``ts`` (negative before it)."""
        cal = get_calendar(self.calendar)
        instant = pd.Timestamp(ensure_utc(ts, field="ts"))
        day = instant.tz_convert(cal.tz).tz_localize(None).normalize()
        if not cal.is_session(day):
            day = cal.date_to_session(day, direction="next")
        return (instant - cal.session_open(day)).total_seconds() / 60.0

    def fraction_between(self, start: datetime, end: datetime, at: datetime) -> float:
        """Share of the ``[start, end]`` volume expected to trade by ``at`` (0 to 1).

        Falls back to the elapsed-time fraction when the curve expects no volume in the window.
        """
        a, b, t = (self.minutes_after_open(x) for x in (start, end, at))
        if b <= a:
            return 1.0 if t >= b else 0.0
        ca, cb, ct = self.cumulative(np.array([a, b, min(max(t, a), b)]))
        if cb - ca <= 1e-12:
            return float(np.clip((t - a) / (b - a), 0.0, 1.0))
        return float(np.clip((ct - ca) / (cb - ca), 0.0, 1.0))
