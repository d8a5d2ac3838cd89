"""Back-adjustment of bar frames for splits and cash dividends (CRSP / Yahoo "Adj Close")."""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal

import numpy as np
import pandas as pd

from bifrost.core.calendars import get_calendar
from bifrost.core.errors import DataQualityError, InvalidInput
from bifrost.marketdata.types import BAR_COLUMNS, PRICE_COLUMNS, ActionKind, CorporateAction

__all__ = ["adjust_bars"]

_NS_PER_DAY = 86_400_000_000_000


def _decimal_to_float(value: Decimal) -> float:
    # The one place where a corporate-action Decimal becomes an analytics float.
    return float(value)


def _session_days(index: pd.DatetimeIndex, calendar: str) -> np.ndarray:
    # Session date of each bar as datetime64[D]. Daily bars are labelled at midnight
    # UTC, so their UTC date is the session; an intraday bar's session is its local
    # date in the exchange's time zone.
    utc = index.tz_convert("UTC").as_unit("ns")
    if (utc.asi8 % _NS_PER_DAY == 0).all():
        return utc.asi8.view("datetime64[ns]").astype("datetime64[D]")
    local = utc.tz_convert(get_calendar(calendar).tz).tz_localize(None)
    return local.to_numpy(dtype="datetime64[ns]").astype("datetime64[D]")


def adjust_bars(
    bars: pd.DataFrame,
    actions: Sequence[CorporateAction],
    *,
    splits: bool = True,
    dividends: bool = False,
    calendar: str = "XNYS",
) -> pd.DataFrame:
    """Back-adjust bars for splits and cash dividends, as Yahoo's "Adj Close" does.

    Parameters
    ----------
    bars
        Unadjusted bar frame of one symbol (UTC ``DatetimeIndex``, strictly
        increasing, float64 ``open, high, low, close, volume``). Daily or intraday.
    actions
        Corporate actions of that symbol, in any order. Actions of kinds other than
        ``SPLIT`` and ``DIVIDEND`` (capital gains) are ignored.
    splits
        Apply split actions (prices divided, volume multiplied by the ratio).
    dividends
        Apply cash-dividend actions (prices multiplied by the dividend factor;
        volume unchanged).
    calendar
        Exchange calendar whose time zone gives the session date of intraday bars.

    Returns
    -------
    pandas.DataFrame
        A copy of ``bars`` with adjusted ``open, high, low, close`` and ``volume``;
        bars on or after the last ex-date are unchanged. Other columns are kept.

    Raises
    ------
    InvalidInput
        If the frame is malformed, the actions name more than one symbol, or a
        dividend is not smaller than the close it is measured against.
    DataQualityError
        If a close needed for a dividend factor is NaN or not positive.

    Notes
    -----
    Each action with ex-date ``e`` gives a multiplier ``m`` applied to every bar
    whose session date is before ``e``; multipliers of several actions compound
    (multiply), so bar ``t`` gets ``F_t = prod(m_a for e_a > date_t)``:

    * split of ``r`` new shares per old share: ``m = 1 / r`` on prices and ``r``
      on volume (a 2:1 split halves earlier prices and doubles earlier volume);
    * cash dividend ``D`` per share: ``m = 1 - D / C_prev`` on prices, where
      ``C_prev`` is the unadjusted close of the last bar before ``e`` (the close of
      the session before the ex-date when ``bars`` have no gap there).

    Volume is not adjusted for dividends. An action whose ex-date is on or before
    the first bar has no earlier bars and changes nothing. The split ratio and
    dividend amount are converted from ``Decimal`` to float64 once.

    References
    ----------
    .. [1] Yahoo Finance Help, "What is the adjusted close?" (SLN28256): split
       multipliers from the split ratio, dividend multiplier
       ``1 - dividend / close on the day before the ex-date``, "adhering to CRSP
       standards", with the worked MSFT February 2003 example.
    .. [2] CRSP, "Data Descriptions Guide, CRSP US Stock & Index Databases",
       cumulative factor to adjust prices (CFACPR) and shares (CFACSHR).
    """
    if not isinstance(bars, pd.DataFrame):
        raise InvalidInput(f"bars must be a pandas DataFrame, was {type(bars).__name__}")
    missing = [c for c in BAR_COLUMNS if c not in bars.columns]
    if missing:
        raise InvalidInput(f"bars must have columns {list(BAR_COLUMNS)}, missing {missing}")
    if not isinstance(bars.index, pd.DatetimeIndex) or bars.index.tz is None:
        raise InvalidInput("bars must have a timezone-aware DatetimeIndex (UTC) named 'ts'")
    if not bars.index.is_monotonic_increasing or not bars.index.is_unique:
        raise InvalidInput("bar timestamps must be strictly increasing")
    symbols = sorted({a.symbol for a in actions})
    if len(symbols) > 1:
        raise InvalidInput(f"actions must all be for one symbol, got {symbols}")

    wanted = set()
    if splits:
        wanted.add(ActionKind.SPLIT)
    if dividends:
        wanted.add(ActionKind.DIVIDEND)
    chosen = sorted((a for a in actions if a.kind in wanted), key=lambda a: a.ex_date)
    adjusted = bars.copy()
    n = len(bars)
    if n == 0 or not chosen:
        return adjusted

    days = _session_days(bars.index, calendar)
    raw_close = bars["close"].to_numpy(dtype="float64")
    # step_price[j] multiplies bars 0..j; a reverse cumulative product turns the
    # per-action steps into F_t for every bar in O(n + actions).
    step_price = np.ones(n)
    step_volume = np.ones(n)
    for action in chosen:
        before = int(np.searchsorted(days, np.datetime64(action.ex_date, "D"), side="left"))
        if before == 0:
            continue
        value = _decimal_to_float(action.value)
        if action.kind is ActionKind.SPLIT:
            step_price[before - 1] /= value
            step_volume[before - 1] *= value
        else:
            reference = raw_close[before - 1]
            if not np.isfinite(reference) or reference <= 0:
                raise DataQualityError(
                    f"close before ex-date {action.ex_date} must be positive to adjust a dividend, "
                    f"was {reference} at {bars.index[before - 1].isoformat()}"
                )
            if value >= reference:
                raise InvalidInput(
                    f"dividend must be smaller than the close before its ex-date: "
                    f"dividend {action.value} on {action.ex_date}, close {reference}"
                )
            step_price[before - 1] *= 1.0 - value / reference
    price_factor = np.cumprod(step_price[::-1])[::-1]
    volume_factor = np.cumprod(step_volume[::-1])[::-1]
    for column in PRICE_COLUMNS:
        adjusted[column] = bars[column].to_numpy(dtype="float64") * price_factor
    adjusted["volume"] = bars["volume"].to_numpy(dtype="float64") * volume_factor
    return adjusted
