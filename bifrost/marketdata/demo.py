"""Real demo history: S&P 500 and NASDAQ Composite daily bars bundled with ``arch``.

The ``arch`` package (Kevin Sheppard, https://github.com/bashtage/arch) ships two
Yahoo Finance downloads used in its examples: ``arch/data/sp500/sp500.csv.gz``
(^GSPC) and ``arch/data/nasdaq/nasdaq.csv.gz`` (^IXIC), each
``Date,Open,High,Low,Close,Adj Close,Volume`` for 1999-01-04..2018-12-31 (5,031
sessions). ``arch`` is distributed under the University of Illinois/NCSA Open
Source License (``License-Expression: NCSA`` in its metadata), a permissive
BSD-style licence: the data may be redistributed and used with the copyright
notice kept. The underlying prices come from Yahoo Finance.

The files are read straight from the installed package rather than through
``arch.data.<name>.load()``: that loader imports all of ``arch`` (seconds) and
coerces unparseable numbers to NaN silently, while this reader parses dates with
an explicit ``%m/%d/%Y`` format and fails on any bad number. Bars carry ``Close``;
``Adj Close`` is not used (in arch 8.0 it equals ``Close`` on every row, as an
index has no dividends or splits; the notes say so when it does not).

Rows are aligned to the XNYS calendar honestly: a row whose date is not an XNYS
session, or whose OHLCV is not finite, is dropped and listed in
``DemoSeries.notes`` and ``DemoSeries.dropped``; sessions with no row are listed
in ``DemoSeries.missing_sessions``. In arch 8.0 both files hold exactly the 5,031
XNYS sessions of the range, so nothing is dropped or missing.
"""

from __future__ import annotations

import importlib.metadata
import importlib.util
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import numpy as np
import pandas as pd

from bifrost.core.calendars import get_calendar
from bifrost.core.errors import ConfigurationError
from bifrost.marketdata.types import AssetClass, InstrumentInfo, Timeframe, make_bars

DEMO_CALENDAR = "XNYS"
_MAX_LISTED_DATES = 10


@dataclass(frozen=True, slots=True, kw_only=True)
class DemoSeries:
    """One bundled index history, ready for the platform.

    ``bars`` is a daily bar frame labelled by session date at midnight UTC;
    ``dropped`` lists source dates removed while aligning to the calendar and
    ``missing_sessions`` the calendar sessions the source lacks; ``notes`` says
    where the data came from and what was changed, in words.
    """

    symbol: str
    timeframe: Timeframe
    bars: pd.DataFrame
    instrument: InstrumentInfo
    source: str
    notes: tuple[str, ...]
    dropped: tuple[date, ...] = ()
    missing_sessions: tuple[date, ...] = ()


@dataclass(frozen=True, slots=True)
class _DemoSpec:
    folder: str
    filename: str
    instrument: InstrumentInfo


_SPECS: tuple[_DemoSpec, ...] = (
    _DemoSpec("sp500", "sp500.csv.gz", InstrumentInfo(
        symbol="^GSPC", name="S&P 500 Index", exchange="SNP", currency="USD",
        asset_class=AssetClass.INDEX, country="United States", calendar=DEMO_CALENDAR,
    )),
    _DemoSpec("nasdaq", "nasdaq.csv.gz", InstrumentInfo(
        symbol="^IXIC", name="NASDAQ Composite Index", exchange="NIM", currency="USD",
        asset_class=AssetClass.INDEX, country="United States", calendar=DEMO_CALENDAR,
    )),
)


def load_demo_history() -> list[DemoSeries]:
    """Return the bundled daily histories of ^GSPC and ^IXIC as bar frames.

    Returns
    -------
    list of DemoSeries
        ``^GSPC`` then ``^IXIC``, daily bars 1999-01-04..2018-12-31 on XNYS.

    Raises
    ------
    ConfigurationError
        If the ``arch`` package or its data files are not installed, or a file
        does not parse.

    References
    ----------
    Sheppard, K. et al., ``arch``, https://github.com/bashtage/arch (NCSA licence);
    data from Yahoo Finance.
    """
    root = _arch_root()
    version = importlib.metadata.version("arch")
    return [_load_one(spec, root, version) for spec in _SPECS]


def _arch_root() -> Path:
    # find_spec on the top-level name locates the package without importing it.
    spec = importlib.util.find_spec("arch")
    if spec is None or not spec.submodule_search_locations:
        raise ConfigurationError("the arch package is not installed; it ships the demo history")
    return Path(next(iter(spec.submodule_search_locations)))


def _load_one(spec: _DemoSpec, root: Path, version: str) -> DemoSeries:
    path = root / "data" / spec.folder / spec.filename
    raw = _read_source(path)
    bars, dropped, missing, reasons = _align_to_sessions(raw, DEMO_CALENDAR)
    first, last = bars.index[0].date(), bars.index[-1].date()
    notes = [
        f"source: arch {version}, file arch/data/{spec.folder}/{spec.filename} (Yahoo Finance "
        f"{spec.instrument.symbol} daily OHLCV; arch is NCSA-licensed)",
        f"{len(raw)} source rows, {len(bars)} bars {first}..{last} on {DEMO_CALENDAR}",
        _adjusted_note(raw),
    ]
    if dropped:
        notes.append(f"dropped {len(dropped)} rows: " + "; ".join(reasons[:_MAX_LISTED_DATES])
                     + (" ..." if len(reasons) > _MAX_LISTED_DATES else ""))
    else:
        notes.append(f"every source row is an {DEMO_CALENDAR} session with finite values; none dropped")
    if missing:
        listed = ", ".join(str(d) for d in missing[:_MAX_LISTED_DATES])
        notes.append(f"{len(missing)} {DEMO_CALENDAR} sessions have no source row: {listed}"
                     + (" ..." if len(missing) > _MAX_LISTED_DATES else ""))
    else:
        notes.append(f"no {DEMO_CALENDAR} session between {first} and {last} is missing")
    return DemoSeries(
        symbol=spec.instrument.symbol,
        timeframe=Timeframe.D1,
        bars=bars,
        instrument=spec.instrument,
        source=str(path),
        notes=tuple(notes),
        dropped=tuple(dropped),
        missing_sessions=tuple(missing),
    )


def _read_source(path: Path) -> pd.DataFrame:
    try:
        frame = pd.read_csv(path, dtype={"Date": str}, float_precision="round_trip")
        days = pd.to_datetime(frame["Date"], format="%m/%d/%Y")
        numbers = {
            column: pd.to_numeric(frame[column], errors="raise").astype("float64")
            for column in ("Open", "High", "Low", "Close", "Volume", "Adj Close")
        }
    except (OSError, KeyError, ValueError) as exc:
        raise ConfigurationError(f"demo data file {path} is missing or does not parse: {exc}") from exc
    out = pd.DataFrame(
        {name.lower().replace(" ", "_"): values.to_numpy() for name, values in numbers.items()},
        index=pd.DatetimeIndex(days.to_numpy()).tz_localize("UTC").rename("ts"),
    )
    return out


def _adjusted_note(raw: pd.DataFrame) -> str:
    differs = int((raw["adj_close"] != raw["close"]).sum())
    if differs == 0:
        return "Adj Close is not used: it equals Close on every row"
    return f"Adj Close is not used; it differs from Close on {differs} rows, and bars carry Close"


def _align_to_sessions(
    raw: pd.DataFrame, calendar: str
) -> tuple[pd.DataFrame, list[date], list[date], list[str]]:
    """Keep rows on sessions with finite values; return bars, dropped dates, missing sessions, reasons."""
    sessions = pd.DatetimeIndex(get_calendar(calendar).sessions).tz_localize("UTC")
    labels = raw.index.normalize()
    on_session = labels.isin(sessions)
    finite = np.isfinite(raw[["open", "high", "low", "close", "volume"]].to_numpy(dtype="float64")).all(axis=1)
    keep = on_session & finite
    reasons = []
    dropped = []
    for label, is_session in zip(labels[~keep], on_session[~keep], strict=True):
        day = label.date()
        dropped.append(day)
        reasons.append(f"{day} is not an {calendar} session" if not is_session
                       else f"{day} has a non-finite value")
    kept = raw.loc[keep]
    bars = make_bars(labels[keep], kept["open"], kept["high"], kept["low"], kept["close"], kept["volume"])
    if len(bars):
        span = sessions[(sessions >= bars.index[0]) & (sessions <= bars.index[-1])]
        missing = [ts.date() for ts in span.difference(bars.index)]
    else:
        missing = []
    return bars, dropped, missing, reasons
