"""Market-data use cases. Each runs in one transaction: a failure writes nothing
(except the ``IngestRun`` row that records the failure, written after the rollback).
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal

import numpy as np
import pandas as pd
from django.db import transaction
from django.utils import timezone

from bifrost.core.errors import BifrostError, InvalidInput, NoDataInRange, UnknownSymbol
from bifrost.core.time import check_range
from bifrost.marketdata.providers import MarketDataProvider
from bifrost.marketdata.types import (
    FUNDAMENTAL_FIELDS,
    GOVERNANCE_FIELDS,
    CompanySnapshot,
    CorporateAction,
    InstrumentInfo,
    Timeframe,
    normalize_symbol,
)
from bifrost.marketdata.validation import GapPolicy, QualityReport, check_bars
from bifrost_web import caching
from bifrost_web.marketdata import models, storage

logger = logging.getLogger("bifrost.marketdata")

_MINUTE_NS = 60_000_000_000


@dataclass(frozen=True, slots=True)
class IngestResult:
    symbol: str
    timeframe: Timeframe
    rows: int
    method: str
    actions: int
    first_ts: datetime | None
    last_ts: datetime | None
    warnings: tuple[str, ...] = ()
    run_id: int | None = None


@dataclass(slots=True)
class BatchResult:
    succeeded: list[IngestResult] = field(default_factory=list)
    failed: list[tuple[str, str]] = field(default_factory=list)  # (symbol, message)


def instrument_upsert(*, info: InstrumentInfo, source: str = "") -> models.Instrument:
    """Create or update the instrument described by ``info`` (blank fields never erase data)."""
    instrument, created = models.Instrument.objects.get_or_create(
        symbol=info.symbol,
        defaults={
            "name": info.name, "exchange": info.exchange, "currency": info.currency.upper(),
            "asset_class": info.asset_class.value, "sector": info.sector, "industry": info.industry,
            "country": info.country, "shares_outstanding": info.shares_outstanding,
            "calendar": info.calendar, "source": source,
        },
    )
    if created:
        return instrument
    changed = []
    for attr in ("name", "exchange", "sector", "industry", "country", "calendar"):
        value = getattr(info, attr)
        if value and getattr(instrument, attr) != value:
            setattr(instrument, attr, value)
            changed.append(attr)
    if info.shares_outstanding is not None and instrument.shares_outstanding != info.shares_outstanding:
        instrument.shares_outstanding = info.shares_outstanding
        changed.append("shares_outstanding")
    if instrument.asset_class != info.asset_class.value and info.asset_class.value != "equity":
        instrument.asset_class = info.asset_class.value
        changed.append("asset_class")
    if changed:
        instrument.save(update_fields=[*changed, "updated_at"])
    return instrument


def _instrument_for(symbol: str, info: InstrumentInfo | None, source: str) -> models.Instrument:
    if info is not None:
        return instrument_upsert(info=info, source=source)
    instrument = models.Instrument.objects.filter(symbol=symbol).first()
    if instrument is None:
        instrument = instrument_upsert(info=InstrumentInfo(symbol=symbol), source=source)
    return instrument


def _check_alignment(symbol: str, timeframe: Timeframe, bars: pd.DataFrame) -> None:
    # Bar ids encode the minute (storage.bar_ids), so intraday bars must sit on whole minutes
    # and daily bars on their session date at midnight UTC.
    unit = _MINUTE_NS if timeframe.is_intraday else 1440 * _MINUTE_NS
    bad = np.flatnonzero(bars.index.asi8 % unit != 0)
    if bad.size:
        rule = "a whole minute" if timeframe.is_intraday else "midnight UTC of the session date"
        raise InvalidInput(
            f"{symbol} {bars.index[bad[0]].isoformat()}: {timeframe.value} bar timestamps must fall on "
            f"{rule} ({bad.size} bars do not)",
            details={"symbol": symbol, "timeframe": timeframe.value, "count": int(bad.size)},
        )


def _record_run(source: str, symbol: str, timeframe: str, status: str, rows: int, message: str,
                details: dict) -> models.IngestRun:
    return models.IngestRun.objects.create(
        source=source, symbol=symbol, timeframe=timeframe, status=status, rows=rows,
        message=message[:4000], details=details, finished_at=timezone.now(),
    )


def bars_ingest(
    *,
    symbol: str,
    timeframe: Timeframe | str,
    bars: pd.DataFrame,
    source: str,
    instrument_info: InstrumentInfo | None = None,
    actions: Sequence[CorporateAction] = (),
    gap_policy: GapPolicy | str | None = None,
    calendar: str | None = None,
) -> IngestResult:
    """Validate and store bars (and corporate actions) for one symbol, idempotently.

    Raises
    ------
    DataQualityError
        If any bar breaks a validation rule; nothing is stored.
    InvalidInput
        For a malformed symbol, timeframe or frame.
    """
    symbol = normalize_symbol(symbol)
    timeframe = Timeframe.parse(timeframe)
    try:
        with caching.deferred_bumps():  # the bars, the instrument and its actions: one market data change
            return _ingest_one(symbol=symbol, timeframe=timeframe, bars=bars, source=source,
                               instrument_info=instrument_info, actions=actions, gap_policy=gap_policy,
                               calendar=calendar)
    except BifrostError as exc:
        _record_failure(source, symbol, timeframe.value, exc)
        raise


def _record_failure(source: str, symbol: str, timeframe: str, exc: BifrostError) -> None:
    details = {k: v for k, v in exc.details.items() if k != "violations"}
    details.update({"code": exc.code, "violations": exc.details.get("violations", [])[:20]})
    _record_run(source, symbol, timeframe, models.IngestRun.Status.FAILED, 0, exc.message, details)


def _ingest_one(*, symbol: str, timeframe: Timeframe, bars: pd.DataFrame, source: str,
                instrument_info: InstrumentInfo | None, actions: Sequence[CorporateAction],
                gap_policy: GapPolicy | str | None, calendar: str | None,
                report: QualityReport | None = None) -> IngestResult:
    if instrument_info is not None and instrument_info.symbol != symbol:
        raise InvalidInput(f"instrument info is for {instrument_info.symbol}, not {symbol}")
    if report is None:  # bars_ingest_many validates everything before writing anything
        existing = models.Instrument.objects.filter(symbol=symbol).values_list("calendar", flat=True).first()
        cal = calendar or (instrument_info.calendar if instrument_info else None) or existing or "XNYS"
        report = check_bars(symbol, bars, timeframe=timeframe, calendar=cal, gap_policy=gap_policy)
        _check_alignment(symbol, timeframe, bars)
    with transaction.atomic():
        instrument = _instrument_for(symbol, instrument_info, source)
        written = storage.write_bars(instrument.id, timeframe, bars)
        action_count = corporate_actions_upsert(instrument=instrument, actions=actions, source=source)
        run = _record_run(
            source, symbol, timeframe.value, models.IngestRun.Status.SUCCEEDED, written.rows,
            f"stored {written.rows} bars via {written.method}",
            {"method": written.method, "actions": action_count, "warnings": len(report.warnings)},
        )
    return IngestResult(
        symbol=symbol, timeframe=timeframe, rows=written.rows, method=written.method, actions=action_count,
        first_ts=report.first_ts, last_ts=report.last_ts, warnings=tuple(str(w) for w in report.warnings[:20]),
        run_id=run.id,
    )


def bars_ingest_many(
    *,
    series: Sequence[tuple[str, Timeframe | str, pd.DataFrame, InstrumentInfo | None]],
    source: str,
    gap_policy: GapPolicy | str | None = None,
    workers: int = 2,
    progress: Callable[[int, int], None] | None = None,
) -> list[IngestResult]:
    """Validate every series first, then store them on ``workers`` database connections at once.

    Each symbol is its own transaction (a failure stores nothing for that symbol and is
    raised after the others finish); nothing at all is written when any series fails
    validation. On PostgreSQL the COPYs of different symbols run on separate server
    processes, which is how a bulk load uses more than one core.
    """
    with caching.deferred_bumps():  # readers of market data (risk) rebuild once, after the last series
        return _ingest_many(series=series, source=source, gap_policy=gap_policy, workers=workers, progress=progress)


def _ingest_many(*, series, source: str, gap_policy, workers: int, progress) -> list[IngestResult]:
    import contextvars
    from concurrent.futures import ThreadPoolExecutor

    from django.db import connections

    prepared = []
    for symbol, timeframe, bars, info in series:
        symbol = normalize_symbol(symbol)
        timeframe = Timeframe.parse(timeframe)
        cal = (info.calendar if info else None) or "XNYS"
        report = check_bars(symbol, bars, timeframe=timeframe, calendar=cal, gap_policy=gap_policy)
        _check_alignment(symbol, timeframe, bars)
        prepared.append((symbol, timeframe, bars, info, report))
    # Instruments first, serially: unique symbols must not race.
    with transaction.atomic():
        for symbol, _, _, info, _ in prepared:
            _instrument_for(symbol, info, source)

    def store(item) -> IngestResult:
        symbol, timeframe, bars, info, report = item
        try:
            return _ingest_one(symbol=symbol, timeframe=timeframe, bars=bars, source=source, instrument_info=info,
                               actions=(), gap_policy=gap_policy, calendar=None, report=report)
        except BifrostError as exc:
            _record_failure(source, symbol, timeframe.value, exc)
            raise

    conn = transaction.get_connection()
    results: list[IngestResult] = []
    if workers <= 1 or len(prepared) < 2 or conn.in_atomic_block or conn.vendor != "postgresql":
        for i, item in enumerate(prepared):
            results.append(store(item))
            if progress:
                progress(i + 1, len(prepared))
        return results

    def store_in_thread(item) -> IngestResult:
        try:
            return store(item)
        finally:
            connections.close_all()  # this thread's connection

    contexts = [contextvars.copy_context() for _ in prepared]  # the deferred bumps reach the threads
    with ThreadPoolExecutor(max_workers=workers) as pool:
        for i, result in enumerate(pool.map(lambda ctx, item: ctx.run(store_in_thread, item), contexts, prepared)):
            results.append(result)
            if progress:
                progress(i + 1, len(prepared))
    return results


def corporate_actions_upsert(*, instrument: models.Instrument, actions: Iterable[CorporateAction], source: str) -> int:
    count = 0
    for action in actions:
        if action.symbol != instrument.symbol:
            raise InvalidInput(f"corporate action for {action.symbol} given with {instrument.symbol}")
        models.CorporateAction.objects.update_or_create(
            instrument=instrument, ex_date=action.ex_date, kind=action.kind.value,
            defaults={"value": action.value, "currency": action.currency, "source": source},
        )
        count += 1
    return count


def company_snapshot_record(*, snapshot: CompanySnapshot) -> models.CompanySnapshot:
    """Store a dated fundamentals/governance snapshot (idempotent per symbol, date and source)."""
    with transaction.atomic():
        info = snapshot.instrument or InstrumentInfo(symbol=snapshot.symbol)
        instrument = instrument_upsert(info=info, source=snapshot.source)
        values = {name: snapshot.fundamentals.get(name) for name in FUNDAMENTAL_FIELDS}
        values.update({name: snapshot.governance.get(name) for name in GOVERNANCE_FIELDS})
        row, _ = models.CompanySnapshot.objects.update_or_create(
            instrument=instrument, as_of=snapshot.as_of, source=snapshot.source,
            defaults={**values, "raw": _json_safe(snapshot.raw)},
        )
    return row


def _json_safe(value):
    if isinstance(value, dict):
        return {str(k): _json_safe(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_json_safe(v) for v in value]
    if isinstance(value, float) and not np.isfinite(value):
        return None
    if isinstance(value, (Decimal, date, datetime)):
        return str(value)
    if isinstance(value, (np.integer, np.floating)):
        return value.item()
    return value


def provider_refresh(
    *,
    provider: MarketDataProvider,
    symbol: str,
    timeframe: Timeframe | str,
    start: datetime,
    end: datetime,
    with_snapshot: bool = False,
) -> IngestResult:
    """Download ``[start, end)`` from ``provider`` and ingest it (validated, idempotent)."""
    timeframe = Timeframe.parse(timeframe)
    symbol = normalize_symbol(symbol)
    start, end = check_range(start, end)
    history = provider.history(symbol, timeframe=timeframe, start=start, end=end)
    if history.bars.empty:
        raise NoDataInRange(
            f"{provider.name} returned no {timeframe.value} bars for {symbol} in [{start.isoformat()}, {end.isoformat()})")
    with caching.deferred_bumps():
        result = bars_ingest(
            symbol=symbol, timeframe=timeframe, bars=history.bars, source=provider.name,
            instrument_info=history.instrument, actions=history.actions,
            gap_policy=GapPolicy.WARN,  # a provider's own gaps are reported, not fatal
        )
        if with_snapshot:
            company_snapshot_record(snapshot=provider.company_snapshot(symbol))
    return result


def file_import(
    *,
    path: str,
    symbol: str | None = None,
    timeframe: Timeframe | str | None = None,
    tz: str | None = None,
    gap_policy: GapPolicy | str | None = None,
    calendar: str | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> list[IngestResult]:
    """Import a CSV or Parquet file (schema in docs/data-import.md). All or nothing per file."""
    from bifrost.adapters.files import read_bars_file

    source = f"file:{os.path.basename(path)}"[:32]
    try:
        frames = read_bars_file(path, symbol=symbol, timeframe=Timeframe.parse(timeframe) if timeframe else None,
                                tz=tz)
        results = []
        # All or nothing: one bad symbol in the file rolls back the others.
        with caching.deferred_bumps(), transaction.atomic():
            for i, item in enumerate(frames):
                results.append(_ingest_one(symbol=item.symbol, timeframe=item.timeframe, bars=item.bars,
                                           source=source, instrument_info=None, actions=(),
                                           gap_policy=gap_policy, calendar=calendar))
                if progress:
                    progress(i + 1, len(frames))
    except BifrostError as exc:
        failed_symbol = (exc.details.get("symbol") if isinstance(exc.details, dict) else None) or symbol or ""
        _record_failure(source, str(failed_symbol), str(timeframe or ""), exc)
        raise
    return results


def demo_load(*, progress: Callable[[int, int], None] | None = None) -> list[IngestResult]:
    """Load the real daily index history bundled with the ``arch`` package (idempotent)."""
    from bifrost.marketdata.demo import load_demo_history

    series = load_demo_history()
    results = []
    with caching.deferred_bumps():
        for i, item in enumerate(series):
            results.append(bars_ingest(symbol=item.instrument.symbol, timeframe=Timeframe.D1, bars=item.bars,
                                       source="demo:arch", instrument_info=item.instrument))
            if progress:
                progress(i + 1, len(series))
    return results


def synthetic_generate(
    *,
    symbols: int,
    start: date,
    end: date,
    timeframe: Timeframe | str = Timeframe.D1,
    seed: int = 7,
    sectors: int = 5,
    prefix: str = "SYN",
    progress: Callable[[int, int], None] | None = None,
) -> list[IngestResult]:
    """Generate and store a seeded synthetic market (see ``bifrost.marketdata.synthetic``)."""
    from bifrost.marketdata.synthetic import generate_market

    if symbols <= 0:
        raise InvalidInput(f"symbols must be positive, was {symbols}")
    timeframe = Timeframe.parse(timeframe)
    names = [f"{prefix}{i:03d}" for i in range(symbols)]
    market = generate_market(symbols=names, start=start, end=end, timeframe=timeframe, seed=seed, sectors=sectors)
    by_symbol = {info.symbol: info for info in market.instruments}
    return bars_ingest_many(series=[(name, timeframe, market.bars[name], by_symbol.get(name)) for name in names],
                            source="synthetic", progress=progress)


def instrument_delete(*, symbol: str) -> int:
    symbol = normalize_symbol(symbol)
    instrument = models.Instrument.objects.filter(symbol=symbol).first()
    if instrument is None:
        raise UnknownSymbol(f"unknown symbol {symbol}: nothing to delete")
    with transaction.atomic():
        removed = storage.delete_bars(instrument.id)
        instrument.delete()
    return removed
