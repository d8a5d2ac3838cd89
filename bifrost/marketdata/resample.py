"""Session-aware resampling of bar frames from a finer to a coarser timeframe.

Buckets are anchored at each session's open from the exchange calendar, not at clock
hours: on XNYS the hourly buckets run 9:30-10:30, ..., 15:30-16:00 New York time, and
a half day ends its last bucket at the early close. The work is done on int64
nanosecond arrays with ``searchsorted`` and ``ufunc.reduceat``, so a million one-minute
bars resample in tens of milliseconds.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np
import pandas as pd

from bifrost.core.calendars import get_calendar
from bifrost.core.errors import DataQualityError, InvalidInput
from bifrost.marketdata.types import BAR_COLUMNS, Timeframe, empty_bars

__all__ = ["resample_bars"]


@lru_cache(maxsize=16)
def _session_arrays(calendar: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    # (open_ns, close_ns, label_ns) per session, all int64 UTC nanoseconds. The label
    # is the session date at midnight UTC, the daily-bar convention. Cached because
    # the schedule of a calendar does not change within a process.
    cal = get_calendar(calendar)
    open_ns = cal.opens.to_numpy(dtype="datetime64[ns]").view("int64").copy()
    close_ns = cal.closes.to_numpy(dtype="datetime64[ns]").view("int64").copy()
    label_ns = cal.sessions.to_numpy(dtype="datetime64[ns]").view("int64").copy()
    for array in (open_ns, close_ns, label_ns):
        array.flags.writeable = False
    return open_ns, close_ns, label_ns


def _validated_arrays(bars: pd.DataFrame) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    if not isinstance(bars, pd.DataFrame):
        raise InvalidInput(f"bars must be a pandas DataFrame, was {type(bars).__name__}")
    missing = [c for c in BAR_COLUMNS if c not in bars.columns]
    if missing:
        raise InvalidInput(f"bars must have columns {list(BAR_COLUMNS)}, missing {missing}")
    index = bars.index
    if not isinstance(index, pd.DatetimeIndex) or index.tz is None:
        raise InvalidInput("bars must have a timezone-aware DatetimeIndex (UTC) named 'ts'")
    ts_ns = index.tz_convert("UTC").as_unit("ns").asi8
    if ts_ns.size > 1:
        steps = np.diff(ts_ns)
        if (steps <= 0).any():
            position = int(np.flatnonzero(steps <= 0)[0]) + 1
            raise InvalidInput(
                "bar timestamps must be strictly increasing, "
                f"row {position} at {index[position].isoformat()} is not after the previous row"
            )
    columns = {c: bars[c].to_numpy(dtype="float64") for c in BAR_COLUMNS}
    bad = {c: int(np.isnan(v).sum()) for c, v in columns.items()}
    bad = {c: n for c, n in bad.items() if n}
    if bad:
        raise DataQualityError(
            f"bars must not contain NaN, found NaN counts per column {bad}",
            violations=[f"{c}: {n} NaN" for c, n in bad.items()],
        )
    return ts_ns, columns


def resample_bars(
    bars: pd.DataFrame,
    *,
    source: Timeframe,
    target: Timeframe,
    calendar: str = "XNYS",
) -> pd.DataFrame:
    """Aggregate bars to a coarser timeframe, bucketed within exchange sessions.

    Parameters
    ----------
    bars
        A bar frame (UTC ``DatetimeIndex`` named ``ts``, strictly increasing, float64
        ``open, high, low, close, volume``) at timeframe ``source``. Intraday bars are
        labelled by the instant they open.
    source
        Timeframe of ``bars``; must be intraday and finer than ``target``.
    target
        Timeframe to produce: ``5m``, ``15m``, ``1h`` or ``1d``.
    calendar
        ``exchange_calendars`` name whose session opens and closes define the buckets.

    Returns
    -------
    pandas.DataFrame
        A bar frame at ``target``. An intraday bucket is labelled by its start,
        ``session_open + k * target``; the last bucket of a session is cut at the
        close (15:30-16:00 for ``1h`` on XNYS, 12:30-13:00 on a 13:00 half day). A
        daily bar is labelled by its session date at midnight UTC. Only buckets that
        received at least one bar are emitted, so holidays produce no bars.

    Raises
    ------
    InvalidInput
        If ``target`` is not coarser than ``source``, ``source`` is daily, or the
        frame is malformed (missing columns, naive or non-increasing index).
    DataQualityError
        If any value is NaN.

    Notes
    -----
    A source bar belongs to the session ``s`` with ``open_s <= ts < close_s`` (``ts``
    being the bar's open instant) and to bucket ``k = (ts - open_s) // target``.
    **Bars outside every session -- pre-market, after-hours, weekends, holidays --
    are dropped.** Within a bucket: open is the first open, high the maximum high,
    low the minimum low, close the last close and volume the sum of volumes.
    Session breaks (lunch breaks on some Asian exchanges) are not treated
    specially: buckets keep counting from the open across a break. A source bar is
    assigned by its open instant only; its alignment to the ``source`` grid is not
    checked.
    """
    source = Timeframe.parse(source)
    target = Timeframe.parse(target)
    if not source.is_intraday or not source < target:
        raise InvalidInput(
            f"resampling must go from a finer to a coarser timeframe, "
            f"source {source.value} -> target {target.value} is not allowed",
            details={"source": source.value, "target": target.value},
        )
    ts_ns, columns = _validated_arrays(bars)
    if ts_ns.size == 0:
        return empty_bars()

    open_ns, close_ns, label_ns = _session_arrays(calendar)
    session = np.searchsorted(open_ns, ts_ns, side="right") - 1
    in_session = session >= 0
    in_session &= ts_ns < close_ns[np.maximum(session, 0)]
    if not in_session.all():
        ts_ns = ts_ns[in_session]
        session = session[in_session]
        columns = {c: v[in_session] for c, v in columns.items()}
    if ts_ns.size == 0:
        return empty_bars()

    if target is Timeframe.D1:
        bucket_ns = label_ns[session]
    else:
        session_open = open_ns[session]
        step = np.int64(target.nanos)
        bucket_ns = session_open + ((ts_ns - session_open) // step) * step

    # Timestamps are increasing and buckets never overlap, so bucket labels are
    # non-decreasing and each bucket is one contiguous run of rows.
    starts = np.flatnonzero(np.diff(bucket_ns)) + 1
    starts = np.concatenate((np.zeros(1, dtype=np.intp), starts))
    ends = np.concatenate((starts[1:], np.array([ts_ns.size], dtype=np.intp)))

    index = pd.DatetimeIndex(bucket_ns[starts].view("datetime64[ns]"), name="ts").tz_localize("UTC")
    return pd.DataFrame(
        {
            "open": columns["open"][starts],
            "high": np.maximum.reduceat(columns["high"], starts),
            "low": np.minimum.reduceat(columns["low"], starts),
            "close": columns["close"][ends - 1],
            "volume": np.add.reduceat(columns["volume"], starts),
        },
        index=index,
    )
