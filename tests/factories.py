"""Builders of realistic test data (consistent OHLC on real exchange sessions)."""

import numpy as np
import pandas as pd

from bifrost.marketdata.types import make_bars


def xnys_daily_bars(start: str, end: str, *, seed: int = 0, price: float = 100.0) -> pd.DataFrame:
    """Consistent daily bars on every XNYS session in [start, end]."""
    from bifrost.core.calendars import get_calendar

    sessions = get_calendar("XNYS").sessions_in_range(start, end)
    rng = np.random.default_rng(seed)
    close = price * np.exp(np.cumsum(rng.normal(0, 0.01, len(sessions))))
    open_ = close * (1 + rng.normal(0, 0.002, len(sessions)))
    high = np.maximum(open_, close) * 1.005
    low = np.minimum(open_, close) * 0.995
    volume = rng.integers(1_000, 10_000, len(sessions)).astype(float)
    return make_bars(sessions.tz_localize("UTC"), open_, high, low, close, volume)


def xnys_minute_bars(session: str, *, seed: int = 0) -> pd.DataFrame:
    from bifrost.core.calendars import get_calendar

    cal = get_calendar("XNYS")
    minutes = pd.date_range(cal.session_open(session), cal.session_close(session), freq="1min", inclusive="left")
    rng = np.random.default_rng(seed)
    close = 50 * np.exp(np.cumsum(rng.normal(0, 0.0005, len(minutes))))
    open_ = np.r_[close[0], close[:-1]]
    return make_bars(minutes, open_, np.maximum(open_, close) + 0.01, np.minimum(open_, close) - 0.01, close,
                     rng.integers(100, 1000, len(minutes)).astype(float))


