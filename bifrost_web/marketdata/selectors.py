"""Read-only market-data queries."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

import pandas as pd
from django.db.models import Q, QuerySet

from bifrost.core.errors import InvalidInput, NoDataInRange, UnknownSymbol
from bifrost.marketdata.adjust import adjust_bars
from bifrost.marketdata.resample import resample_bars
from bifrost.marketdata.types import ActionKind, CorporateAction, Timeframe, normalize_symbol
from bifrost.marketdata.validation import QualityReport, validate_bars
from bifrost_web.marketdata import models, storage


def instrument_get(*, symbol: str) -> models.Instrument:
    symbol = normalize_symbol(symbol)
    instrument = models.Instrument.objects.filter(symbol=symbol).first()
    if instrument is None:
        raise UnknownSymbol(f"unknown symbol {symbol}: ingest it first (bifrost data ingest)")
    return instrument


def instrument_search(*, query: str = "", limit: int = 50) -> QuerySet[models.Instrument]:
    qs = models.Instrument.objects.all()
    query = query.strip()
    if query:
        qs = qs.filter(Q(symbol__istartswith=query) | Q(name__icontains=query))
    return qs.order_by("symbol")[:limit]


def corporate_actions(*, instrument: models.Instrument) -> list[CorporateAction]:
    return [
        CorporateAction(symbol=instrument.symbol, ex_date=a.ex_date, kind=ActionKind(a.kind), value=a.value,
                        currency=a.currency)
        for a in instrument.actions.order_by("ex_date")
    ]


def stored_timeframes(*, instrument: models.Instrument) -> list[Timeframe]:
    return [Timeframe(tf) for _, tf, *_ in storage.bar_counts([instrument.id])]


def bars_read(
    *,
    symbol: str,
    timeframe: Timeframe | str,
    start: datetime | None = None,
    end: datetime | None = None,
    adjust: str = "none",
) -> pd.DataFrame:
    """Bars of ``symbol`` at ``timeframe`` in ``[start, end)``.

    When the timeframe is not stored but a finer one is, bars are resampled
    session-aware from the finest stored timeframe. ``adjust`` is ``none``,
    ``splits`` or ``all`` (splits and dividends).

    Raises
    ------
    UnknownSymbol
        If the symbol is not stored.
    NoDataInRange
        If nothing is stored for the symbol at or below this timeframe.
    """
    timeframe = Timeframe.parse(timeframe)
    _check_adjust(adjust)
    if start is not None and end is not None and start >= end:
        raise InvalidInput(f"date range is inverted or empty: start {start.isoformat()} must be before end {end.isoformat()}")
    instrument = instrument_get(symbol=symbol)
    bars = _read_series(instrument, stored_timeframes(instrument=instrument), timeframe, start, end)
    if adjust != "none" and not bars.empty:
        bars = adjust_bars(bars, corporate_actions(instrument=instrument), splits=True, dividends=adjust == "all")
    return bars


def bars_read_many(*, symbols: list[str], timeframe: Timeframe | str, adjust: str = "none") -> dict[str, pd.DataFrame]:
    """:func:`bars_read` (all stored dates) for many symbols: the instruments, what each has stored
    and the corporate actions in one query each, then one read per series.

    Symbols that are not stored, or have nothing at or below ``timeframe``, are left out.
    """
    timeframe = Timeframe.parse(timeframe)
    _check_adjust(adjust)
    instruments = list(models.Instrument.objects.filter(symbol__in={normalize_symbol(s) for s in symbols}))
    stored: dict[int, list[Timeframe]] = {}
    for instrument_id, tf, *_ in storage.bar_counts([i.id for i in instruments]):
        stored.setdefault(instrument_id, []).append(Timeframe(tf))
    actions: dict[int, list[CorporateAction]] = {}
    if adjust != "none":
        by_id = {i.id: i.symbol for i in instruments}
        for a in models.CorporateAction.objects.filter(instrument_id__in=list(by_id)).order_by("ex_date"):
            actions.setdefault(a.instrument_id, []).append(CorporateAction(
                symbol=by_id[a.instrument_id], ex_date=a.ex_date, kind=ActionKind(a.kind), value=a.value,
                currency=a.currency))
    out = {}
    for instrument in instruments:
        try:
            bars = _read_series(instrument, stored.get(instrument.id, []), timeframe, None, None)
        except NoDataInRange:
            continue
        if adjust != "none" and not bars.empty:
            bars = adjust_bars(bars, actions.get(instrument.id, []), splits=True, dividends=adjust == "all")
        out[instrument.symbol] = bars
    return out


def _check_adjust(adjust: str) -> None:
    if adjust not in {"none", "splits", "all"}:
        raise InvalidInput(f"adjust must be one of none, splits, all; was {adjust!r}")


def _read_series(instrument: models.Instrument, stored: list[Timeframe], timeframe: Timeframe,
                 start: datetime | None, end: datetime | None) -> pd.DataFrame:
    """The instrument's bars at ``timeframe``: stored, or resampled from the finest stored finer timeframe."""
    available = sorted(stored, key=lambda t: t.minutes)
    if timeframe in available:
        source_tf = timeframe
    else:
        finer = [t for t in available if t.minutes < timeframe.minutes]
        if not finer:
            have = ", ".join(t.value for t in available) or "nothing"
            raise NoDataInRange(f"{instrument.symbol} has no {timeframe.value} bars or finer (stored: {have})")
        source_tf = finer[-1]
    bars = storage.read_bars(instrument.id, source_tf, start=start, end=end)
    if source_tf is not timeframe and not bars.empty:
        bars = resample_bars(bars, source=source_tf, target=timeframe, calendar=instrument.calendar)
    return bars


@dataclass(frozen=True, slots=True)
class SeriesSummary:
    symbol: str
    timeframe: str
    bars: int
    first_ts: datetime
    last_ts: datetime


def series_summaries(*, symbols: list[str] | None = None) -> list[SeriesSummary]:
    instruments = models.Instrument.objects.all()
    if symbols:
        instruments = instruments.filter(symbol__in=[normalize_symbol(s) for s in symbols])
    by_id = {i.id: i.symbol for i in instruments}
    rows = storage.bar_counts(list(by_id))
    return [SeriesSummary(by_id[i], tf, n, first, last) for i, tf, n, first, last in rows]


def bars_quality(*, symbol: str, timeframe: Timeframe | str, gap_policy: str | None = None) -> QualityReport:
    """Re-validate the stored bars of one series against today's calendar and rules."""
    timeframe = Timeframe.parse(timeframe)
    instrument = instrument_get(symbol=symbol)
    bars = storage.read_bars(instrument.id, timeframe)
    if bars.empty:
        raise NoDataInRange(f"{instrument.symbol} has no stored {timeframe.value} bars")
    return validate_bars(instrument.symbol, bars, timeframe=timeframe, calendar=instrument.calendar,
                         gap_policy=gap_policy)


def snapshots_for(*, symbol: str, since: date | None = None) -> QuerySet[models.CompanySnapshot]:
    instrument = instrument_get(symbol=symbol)
    qs = instrument.snapshots.order_by("-as_of", "source")
    if since is not None:
        qs = qs.filter(as_of__gte=since)
    return qs
