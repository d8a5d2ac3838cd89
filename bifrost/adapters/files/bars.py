"""Import and export bar files (CSV, gzip CSV, Parquet) with one documented schema.

File schema
-----------
Formats, chosen by file name: ``.csv``, ``.csv.gz`` (gzip CSV, UTF-8, optional BOM)
and ``.parquet``. Header names are matched case-insensitively after trimming
spaces. One row is one bar.

========== ======== ==============================================================
column     required meaning
========== ======== ==============================================================
symbol     no [1]_  ticker (alias ``ticker``); upper-cased and validated
ts         yes      bar label (aliases ``date``, ``datetime``, ``timestamp``)
open       yes      first trade price
high       yes      highest trade price
low        yes      lowest trade price
close      yes      last trade price (unadjusted; ``Adj Close`` is ignored)
volume     yes      shares traded
========== ======== ==============================================================

.. [1] Required unless ``symbol=`` is given. When both are present, only the rows
   of that symbol are read, so one ticker can be loaded from a multi-ticker file.

Other columns (``Adj Close``, ``Sector``, ...) are ignored, so a Yahoo Finance
download (``Date,Open,High,Low,Close,Adj Close,Volume``) imports as it is.

Numbers are decimal or scientific text (``112.63``, ``+1.5``, ``1e-3``, ``inf``);
thousands separators, underscores and hexadecimal are rejected. An empty cell, ``NaN``,
``NA``, ``N/A``, ``null`` or ``None`` is a missing value: it is read as NaN and
left to validation (rule ``non_finite_value``), which rejects it.

Timestamps are ISO 8601 and every value in a file has the same form:

* **date only** (``2020-01-02``): daily bars; the label is that date at
  00:00 UTC. ``tz=`` does not apply (a session date is not an instant).
* **date-time with a UTC offset** (``2020-01-02T14:30:00-05:00``,
  ``2020-01-02 14:30Z``, ``+0000``): converted to UTC.
* **naive date-time** (``2020-01-02 09:30:00``): accepted only when ``tz=``
  names the IANA zone it is written in; localized there, then converted to UTC.
  A wall time that a daylight-saving change skips or repeats is rejected.

Time-zone rule. A file is written in one time zone. Offsets are converted to
UTC, and a file is rejected (naming the offsets and their first lines) when

* it mixes date-only values with date-times, or naive date-times with
  date-times that carry an offset;
* ``tz=`` is given and an offset differs from that zone's offset at that
  instant (``-05:00`` in July for ``America/New_York``);
* ``tz=`` is not given and the offsets are not those of a single IANA zone at
  those instants. ``-05:00`` in January with ``-04:00`` in July is New York
  across daylight saving and is accepted; ``+00:00`` on some rows and
  ``-05:00`` on others in the same week is rejected.

This keeps every well-formed export readable (UTC files, exchange-local files
across DST) and rejects the usual corruption: files concatenated from sources
in different zones. Parquet timestamp columns that carry a zone are converted to
UTC; naive Parquet timestamps need ``tz=``; a Parquet ``date32`` column holds
daily bars.

Daily labels. For daily bars written as date-times, the label is the calendar
date as written (in the value's own offset or ``tz=``) at 00:00 UTC, so
``2020-01-02T00:00:00-05:00`` labels the 2020-01-02 session.

Timeframe. If ``timeframe=`` is not given, date-only values mean ``1d``; for
date-times it is inferred from the smallest spacing between two bars of one
symbol: exactly 1, 5, 15 or 60 minutes, or 23 to 25 hours for daily. Anything
else (weekly data, a single bar) is an error asking for ``timeframe=``.

The reader never sorts, deduplicates or drops rows: the frames keep file order so
that validation (:func:`bifrost.marketdata.validation.validate_bars`) sees the
file as written. :func:`read_and_validate` reads and validates in one call.

Errors raise :class:`~bifrost.core.errors.InvalidInput` naming the file, the line
(CSV: the header is line 1 and blank lines count; if a quoted value spans lines, the
data record number instead, "record 7"), or the row (Parquet, from 1), the column
and the value; a row with too many or too few fields is a malformed CSV. Validation
failures raise :class:`~bifrost.core.errors.DataQualityError`.

Parsing runs on Apache Arrow (``pyarrow.csv``, ``pyarrow.compute``); numbers are
converted with correct rounding, so a value written by :func:`write_bars_file`
reads back bit for bit.
"""

from __future__ import annotations

import csv
import gzip
import io
import zlib
import zoneinfo
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pa_csv
import pyarrow.parquet as pq

from bifrost.core.errors import DataQualityError, InvalidInput
from bifrost.marketdata.types import BAR_COLUMNS, Timeframe, make_bars, normalize_symbol
from bifrost.marketdata.validation import GapPolicy, QualityReport, validate_bars

_TS_ALIASES = ("ts", "date", "datetime", "timestamp")
_SYMBOL_ALIASES = ("symbol", "ticker")
_MISSING_TEXT = ("", "nan", "na", "n/a", "null", "none")
_NS_PER_SECOND = 1_000_000_000
_NS_PER_MINUTE = 60 * _NS_PER_SECOND
_NS_PER_HOUR = 60 * _NS_PER_MINUTE
_SPACING_TO_TIMEFRAME = {tf.nanos: tf for tf in Timeframe if tf.is_intraday}
# One pattern for every accepted form; optional groups come back as "" when absent.
_TIMESTAMP_RE = (
    r"^(?P<year>\d{4})-(?P<month>\d{2})-(?P<day>\d{2})"
    r"(?:[T ](?P<hour>\d{2}):(?P<minute>\d{2})(?::(?P<second>\d{2})(?:\.(?P<fraction>\d{1,9}))?)?"
    r"(?P<offset>Z|[+-]\d{2}:?\d{2})?)?$"
)
_ISO_HINT = "expected ISO 8601 such as 2020-01-02 or 2020-01-02T14:30:00-05:00"
# datetime64[ns] spans 1677-09-21..2262-04-11; whole years inside that range.
_FIRST_YEAR, _LAST_YEAR = 1678, 2261
_MAX_LISTED = 3
_BOM = b"\xef\xbb\xbf"


@dataclass(frozen=True, slots=True, kw_only=True)
class FileBars:
    """The bars of one symbol read from (or to be written to) a file."""

    symbol: str
    timeframe: Timeframe
    bars: pd.DataFrame
    source: str = ""

    def __post_init__(self) -> None:
        object.__setattr__(self, "symbol", normalize_symbol(self.symbol))
        object.__setattr__(self, "timeframe", Timeframe.parse(self.timeframe))


# ----------------------------------------------------------------------------- reading

def read_bars_file(
    path: str | Path,
    *,
    symbol: str | None = None,
    timeframe: Timeframe | str | None = None,
    tz: str | None = None,
) -> list[FileBars]:
    """Read a CSV, gzip CSV or Parquet bar file into one bar frame per symbol.

    Parameters
    ----------
    path
        File ending in ``.csv``, ``.csv.gz`` or ``.parquet``.
    symbol
        Symbol of a file without a ``symbol`` column, or the one symbol to keep
        from a file that has one.
    timeframe
        Bar size; inferred from the timestamps when omitted (see module docs).
    tz
        IANA zone that naive timestamps are written in, such as
        ``America/New_York``; offsets in the file must agree with it.

    Returns
    -------
    list of FileBars
        One per symbol in order of first appearance, rows in file order.

    Raises
    ------
    InvalidInput
        If the file is missing, empty or has only a header, lacks a required
        column, or holds an unparseable number or timestamp, naive timestamps
        without ``tz=``, or timestamps that break the time-zone rule. The
        message names the file, line, column and value.
    """
    source = Path(path)
    zone = _parse_zone(tz)
    wanted_timeframe = Timeframe.parse(timeframe) if timeframe is not None else None
    wanted_symbol = normalize_symbol(symbol) if symbol is not None else None
    table = _load_table(source)
    columns = _resolve_columns(table.names, source)

    symbol_codes, symbol_names = _read_symbols(table, columns["symbol"], wanted_symbol, source)
    if wanted_symbol is not None and columns["symbol"] is not None:
        if wanted_symbol not in symbol_names:
            found = ", ".join(sorted(symbol_names)[:5])
            raise InvalidInput(
                f"{source}: symbol {wanted_symbol} not found; the file holds {found}"
                f"{' ...' if len(symbol_names) > 5 else ''}",
                details={"path": str(source), "symbol": wanted_symbol},
            )
        keep = symbol_codes == symbol_names.index(wanted_symbol)
        table = table.subset(keep)
        symbol_codes = np.zeros(table.num_rows, dtype=np.int64)
        symbol_names = [wanted_symbol]

    required = {name: str(columns[name]) for name in ("ts", *BAR_COLUMNS)}  # resolved above
    stamps = _parse_timestamps(table, required["ts"], zone, source)
    numbers = {name: _parse_numbers(table, required[name], source) for name in BAR_COLUMNS}
    resolved = _resolve_timeframe(wanted_timeframe, stamps, symbol_codes, source)
    labels = stamps.day_labels_ns if resolved is Timeframe.D1 else stamps.instants_ns

    # Group rows by symbol, keeping file order inside each group.
    order = np.argsort(symbol_codes, kind="stable")
    bounds = np.searchsorted(symbol_codes[order], np.arange(len(symbol_names) + 1))
    first_seen = sorted(
        range(len(symbol_names)),
        key=lambda code: order[bounds[code]] if bounds[code] < bounds[code + 1] else table.num_rows,
    )
    out: list[FileBars] = []
    for code in first_seen:
        rows = order[bounds[code]:bounds[code + 1]]
        if rows.size == 0:
            continue
        bars = make_bars(labels[rows], *(numbers[column][rows] for column in BAR_COLUMNS))
        out.append(FileBars(symbol=symbol_names[code], timeframe=resolved, bars=bars, source=str(source)))
    return out


def read_and_validate(
    path: str | Path,
    *,
    symbol: str | None = None,
    timeframe: Timeframe | str | None = None,
    tz: str | None = None,
    calendar: str = "XNYS",
    gap_policy: GapPolicy | str | None = None,
) -> list[tuple[FileBars, QualityReport]]:
    """Read a bar file and validate every symbol in it; raise if any fails.

    Parameters are those of :func:`read_bars_file` and
    :func:`~bifrost.marketdata.validation.validate_bars`.

    Returns
    -------
    list of (FileBars, QualityReport)
        One pair per symbol; reports may carry warnings.

    Raises
    ------
    InvalidInput
        If the file cannot be read (see :func:`read_bars_file`).
    DataQualityError
        If any symbol fails validation; ``violations`` holds the violations of
        every failing symbol.
    """
    frames = read_bars_file(path, symbol=symbol, timeframe=timeframe, tz=tz)
    pairs = [
        (item, validate_bars(item.symbol, item.bars, timeframe=item.timeframe, calendar=calendar,
                             gap_policy=gap_policy))
        for item in frames
    ]
    failed = [report for _, report in pairs if not report.ok]
    if failed:
        if len(failed) == 1:
            message = f"{path}: {failed[0].error_message()}"
        else:
            names = ", ".join(r.symbol for r in failed[:10])
            message = (f"{path}: {len(failed)} of {len(pairs)} symbols failed validation ({names}"
                       f"{' ...' if len(failed) > 10 else ''}); first: {failed[0].error_message()}")
        raise DataQualityError(
            message,
            violations=[v for report in failed for v in report.violations],
            details={"path": str(path), "symbols": [r.symbol for r in failed]},
        )
    return pairs


# ----------------------------------------------------------------------------- writing

def write_bars_file(path: str | Path, frames: FileBars | Iterable[FileBars]) -> Path:
    """Write bar frames to CSV, gzip CSV or Parquet in the schema :func:`read_bars_file` reads.

    Daily bars are written as dates (``2020-01-02``; Parquet ``date32``),
    intraday bars as UTC instants (``2020-01-02T14:30:00+00:00``; Parquet
    ``timestamp[ns, UTC]``). Floats are written in their shortest round-trip
    form, so reading the file back returns identical values.

    Returns
    -------
    Path
        The file written.

    Raises
    ------
    InvalidInput
        If there is nothing to write, the frames mix timeframes or lack bar
        columns or an aware index, or the file name has no supported extension.
    """
    target = Path(path)
    kind = _file_kind(target)
    items = [frames] if isinstance(frames, FileBars) else list(frames)
    if not items or all(len(item.bars) == 0 for item in items):
        raise InvalidInput(f"{target}: nothing to write; every frame is empty")
    timeframes = {item.timeframe for item in items}
    if len(timeframes) > 1:
        listed = ", ".join(sorted(tf.value for tf in timeframes))
        raise InvalidInput(f"{target}: one file holds one timeframe; the frames mix {listed}")
    daily = items[0].timeframe is Timeframe.D1

    symbols: list[np.ndarray] = []
    labels: list[np.ndarray] = []
    values: dict[str, list[np.ndarray]] = {c: [] for c in BAR_COLUMNS}
    for item in items:
        missing = [c for c in BAR_COLUMNS if c not in item.bars.columns]
        if missing:
            raise InvalidInput(f"bars of {item.symbol} lack columns {', '.join(missing)}")
        index = item.bars.index
        if not isinstance(index, pd.DatetimeIndex) or index.tz is None:
            raise InvalidInput(f"bars of {item.symbol} must have an aware UTC DatetimeIndex")
        symbols.append(np.full(len(index), item.symbol, dtype=object))
        labels.append(index.tz_convert("UTC").as_unit("ns").asi8)
        for column in BAR_COLUMNS:
            values[column].append(item.bars[column].to_numpy(dtype="float64"))
    label_ns = np.concatenate(labels)
    if daily and np.any(label_ns % (86_400 * _NS_PER_SECOND)):
        raise InvalidInput(f"{target}: daily bars must be labelled at 00:00 UTC (the session date)")
    if daily:
        ts = pa.array(label_ns // (86_400 * _NS_PER_SECOND), type=pa.int32()).cast(pa.date32())
    else:
        ts = pa.array(label_ns, type=pa.timestamp("ns", tz="UTC"))
    table = pa.table({
        "symbol": pa.array(np.concatenate(symbols), type=pa.string()),
        "ts": ts if kind == "parquet" else _timestamp_text(ts, label_ns, daily),
        **{c: pa.array(np.concatenate(values[c]), type=pa.float64()) for c in BAR_COLUMNS},
    })
    if kind == "parquet":
        pq.write_table(table, target)
    else:
        options = pa_csv.WriteOptions(quoting_style="none", quoting_header="none")
        if kind == "csv.gz":
            # Arrow's gzip stream compresses at the slowest level; level 6 is zlib's usual trade-off.
            buffer = io.BytesIO()
            pa_csv.write_csv(table, buffer, write_options=options)
            with gzip.open(target, "wb", compresslevel=6) as handle:
                handle.write(buffer.getbuffer())
        else:
            pa_csv.write_csv(table, str(target), write_options=options)
    return target


def _timestamp_text(ts: pa.Array, label_ns: np.ndarray, daily: bool) -> pa.Array:
    if daily:
        return pc.strftime(ts, format="%Y-%m-%d")
    if not np.any(label_ns % _NS_PER_SECOND):
        ts = ts.cast(pa.timestamp("s", tz="UTC"))  # no fraction when every label is whole seconds
    text = pc.strftime(ts, format="%Y-%m-%dT%H:%M:%S")
    return pc.binary_join_element_wise(text, pa.scalar("+00:00"), "")


# ----------------------------------------------------------------------------- table loading

@dataclass(frozen=True, slots=True)
class _Table:
    names: list[str]
    columns: dict[str, pa.Array]
    rows: np.ndarray  # line (CSV) or row (Parquet) number of each record, from 1
    unit: str  # "line", "record" or "row"

    @property
    def num_rows(self) -> int:
        return int(self.rows.size)

    def where(self, pos: int) -> str:
        return f"{self.unit} {int(self.rows[pos])}"

    def subset(self, mask: np.ndarray) -> _Table:
        keep = pa.array(mask, type=pa.bool_())
        return _Table(self.names, {n: pc.filter(a, keep) for n, a in self.columns.items()},
                      self.rows[mask], self.unit)


def _file_kind(path: Path) -> str:
    name = path.name.lower()
    if name.endswith(".csv.gz"):
        return "csv.gz"
    if name.endswith(".csv"):
        return "csv"
    if name.endswith(".parquet"):
        return "parquet"
    raise InvalidInput(f"{path}: file name must end in .csv, .csv.gz or .parquet")


def _load_table(path: Path) -> _Table:
    kind = _file_kind(path)
    if not path.is_file():
        raise InvalidInput(f"{path}: no such file", details={"path": str(path)})
    if kind == "parquet":
        return _load_parquet(path)
    data = path.read_bytes()
    if kind == "csv.gz":
        try:
            data = gzip.decompress(data)
        except (OSError, EOFError, zlib.error) as exc:
            raise InvalidInput(f"{path}: not a readable gzip file ({exc})", details={"path": str(path)}) from exc
    return _load_csv(path, data)


def _load_parquet(path: Path) -> _Table:
    try:
        arrow = pq.read_table(path)
    except (pa.ArrowException, OSError) as exc:
        raise InvalidInput(f"{path}: not a readable Parquet file ({exc})", details={"path": str(path)}) from exc
    if arrow.num_columns == 0:
        raise InvalidInput(f"{path}: file is empty (no columns)", details={"path": str(path)})
    if arrow.num_rows == 0:
        raise InvalidInput(f"{path}: file has a header but no data rows", details={"path": str(path)})
    names = [str(n) for n in arrow.column_names]
    columns = {n: arrow.column(i).combine_chunks() for i, n in enumerate(names)}
    return _Table(names, columns, np.arange(1, arrow.num_rows + 1), "row")


def _load_csv(path: Path, data: bytes) -> _Table:
    if data.startswith(_BOM):
        data = data[len(_BOM):]
    header_line = next((line for line in io.BytesIO(data) if line.strip()), None)
    if header_line is None:
        raise InvalidInput(f"{path}: file is empty", details={"path": str(path)})
    try:
        names = next(csv.reader([header_line.decode("utf-8")]))
    except UnicodeDecodeError as exc:
        raise InvalidInput(f"{path}: the header is not UTF-8 text ({exc})", details={"path": str(path)}) from exc
    _resolve_columns(names, path)  # reject duplicate headers before Arrow merges them
    try:
        arrow = pa_csv.read_csv(
            io.BytesIO(data),
            convert_options=pa_csv.ConvertOptions(
                column_types={n: pa.string() for n in names}, strings_can_be_null=False,
            ),
        )
    except pa.ArrowInvalid as exc:
        raise InvalidInput(f"{path}: malformed CSV ({_csv_error_text(str(exc), data)})",
                           details={"path": str(path)}) from exc
    columns = {n: arrow.column(i).combine_chunks() for i, n in enumerate(names)}
    rows, unit = _csv_line_numbers(data, arrow.num_rows)
    table = _Table(names, columns, rows, unit)
    if table.num_rows:
        blank = np.ones(table.num_rows, dtype=bool)
        for column in columns.values():
            blank &= pc.equal(pc.utf8_trim_whitespace(column), "").to_numpy(zero_copy_only=False)
        if blank.any():
            table = table.subset(~blank)
    if table.num_rows == 0:
        raise InvalidInput(f"{path}: file has a header but no data rows", details={"path": str(path)})
    return table


def _csv_error_text(message: str, data: bytes) -> str:
    # Arrow names the offending record but not its line; find the line when the record is unique.
    marker = ": "
    text = message.replace("CSV parse error: ", "")
    record = text.rsplit(marker, 1)[-1].encode("utf-8", "replace") if marker in text else b""
    if record:
        lines = data.splitlines()
        hits = [i for i, line in enumerate(lines) if line.rstrip(b"\r") == record]
        if len(hits) == 1:
            return f"line {hits[0] + 1}: {text}"
    return text


def _csv_line_numbers(data: bytes, num_rows: int) -> tuple[np.ndarray, str]:
    """Line number of each record: Arrow skips empty lines, so count only non-empty ones."""
    raw = np.frombuffer(data, dtype=np.uint8)
    newlines = np.flatnonzero(raw == 10)
    starts = np.concatenate(([0], newlines + 1))
    ends = np.concatenate((newlines, [raw.size]))
    lengths = ends - starts
    carriage_only = (lengths == 1) & (raw[np.minimum(starts, raw.size - 1)] == 13)
    non_empty = np.flatnonzero((lengths > 0) & ~carriage_only) + 1
    data_lines = non_empty[1:]
    if data_lines.size == num_rows:
        return data_lines, "line"
    # Quoted values with line breaks: lines and records differ, so count records instead.
    return np.arange(1, num_rows + 1), "record"


def _resolve_columns(names: Sequence[str], path: Path) -> dict[str, str | None]:
    by_key: dict[str, str] = {}
    for column in names:
        key = str(column).strip().lower()
        if key in by_key:
            raise InvalidInput(f"{path}: columns {by_key[key]!r} and {column!r} are the same column "
                               "(headers are case-insensitive)", details={"path": str(path)})
        by_key[key] = column
    resolved: dict[str, str | None] = {}
    for canonical, aliases in (("ts", _TS_ALIASES), ("symbol", _SYMBOL_ALIASES)):
        present = [by_key[a] for a in aliases if a in by_key]
        if len(present) > 1:
            raise InvalidInput(
                f"{path}: columns {', '.join(map(repr, present))} all name the {canonical} column; "
                "keep one", details={"path": str(path)},
            )
        resolved[canonical] = present[0] if present else None
    for name in BAR_COLUMNS:
        resolved[name] = by_key.get(name)
    missing = [n for n in ("ts", *BAR_COLUMNS) if resolved[n] is None]
    if missing:
        labels = [f"{n} (or {', '.join(_TS_ALIASES[1:])})" if n == "ts" else n for n in missing]
        raise InvalidInput(
            f"{path}: missing required column{'s' if len(missing) > 1 else ''} {', '.join(labels)}; "
            f"found columns: {', '.join(names)}",
            details={"path": str(path), "missing": missing},
        )
    return resolved


def _bad_values(path: Path, table: _Table, column: str, positions: Sequence[int] | np.ndarray,
                values: Sequence[Any], problem: str, hint: str = "") -> InvalidInput:
    """Build "<path> line 7: <problem> 'abc' in column close (also ...); <hint>"."""
    first = int(positions[0])
    message = f"{path} {table.where(first)}: {problem} {values[0]!r} in column {column}"
    if len(positions) > 1:
        others = ", ".join(f"{table.where(int(p))} {v!r}" for p, v in
                           zip(positions[1:_MAX_LISTED], values[1:_MAX_LISTED], strict=False))
        more = len(positions) - _MAX_LISTED
        message += f" (also {others}{f' and {more} more' if more > 0 else ''})"
    if hint:
        message += f"; {hint}"
    return InvalidInput(message, details={
        "path": str(path), table.unit: int(table.rows[first]), "column": str(column),
        "value": str(values[0]), "count": len(positions),
    })


def _texts(array: pa.Array, positions: Sequence[int] | np.ndarray) -> list[str]:
    return [str(array[int(p)].as_py()) for p in positions[:_MAX_LISTED]]


def _as_text(array: pa.Array) -> pa.Array | None:
    if pa.types.is_dictionary(array.type):
        array = array.dictionary_decode()
    if pa.types.is_string(array.type) or pa.types.is_large_string(array.type):
        return array.cast(pa.string())
    return None


def _read_symbols(table: _Table, column: str | None, symbol: str | None,
                  path: Path) -> tuple[np.ndarray, list[str]]:
    if column is None:
        if symbol is None:
            raise InvalidInput(
                f"{path}: missing required column symbol (or ticker); pass symbol= for a "
                "single-symbol file", details={"path": str(path), "missing": ["symbol"]},
            )
        return np.zeros(table.num_rows, dtype=np.int64), [symbol]
    text = _as_text(table.columns[column])
    if text is None:
        text = table.columns[column].cast(pa.string())
    encoded = pc.dictionary_encode(pc.utf8_trim_whitespace(text))
    codes = encoded.indices.to_numpy(zero_copy_only=False)
    names: list[str] = []
    for code, value in enumerate(encoded.dictionary.to_pylist()):
        try:
            names.append(normalize_symbol(value))
        except InvalidInput as exc:
            rows = np.flatnonzero(codes == code)
            raise _bad_values(path, table, column, rows, [value] * len(rows), "invalid symbol",
                              str(exc)) from None
    nulls = np.flatnonzero(pd.isna(codes)) if codes.dtype.kind == "f" else np.array([], dtype=np.int64)
    if nulls.size:
        raise _bad_values(path, table, column, nulls, ["None"] * nulls.size, "missing symbol")
    # Upper-casing can merge spellings ("aapl", "AAPL"): map to one code per symbol.
    distinct = list(dict.fromkeys(names))
    remap = np.array([distinct.index(n) for n in names], dtype=np.int64)
    return remap[codes.astype(np.int64)], distinct


def _parse_numbers(table: _Table, column: str, path: Path) -> np.ndarray:
    array = table.columns[column]
    if pa.types.is_boolean(array.type):
        raise InvalidInput(f"{path}: column {column} must hold numbers, was boolean")
    if pa.types.is_integer(array.type) or pa.types.is_floating(array.type) or pa.types.is_decimal(array.type):
        return np.asarray(pc.cast(array, pa.float64()).to_numpy(zero_copy_only=False), dtype="float64")
    text = _as_text(array)
    if text is None:
        raise InvalidInput(f"{path}: column {column} must hold numbers, was {array.type}")
    trimmed = pc.utf8_trim_whitespace(text)
    missing = pc.or_kleene(pc.is_null(trimmed),
                           pc.is_in(pc.utf8_lower(trimmed), value_set=pa.array(_MISSING_TEXT)))
    cleaned = pc.if_else(missing, pa.scalar("nan"), trimmed)
    if not pc.any(pc.match_substring(cleaned, "_")).as_py():
        try:
            return np.asarray(pc.cast(cleaned, pa.float64()).to_numpy(zero_copy_only=False), dtype="float64")
        except pa.ArrowInvalid:
            pass
    # Error path: find every value Python's float() also rejects, to name the lines.
    values = cleaned.to_pylist()
    parsed = np.empty(len(values), dtype="float64")
    bad: list[int] = []
    for pos, value in enumerate(values):
        try:
            if "_" in value:
                raise ValueError(value)
            parsed[pos] = float(value)
        except ValueError:
            bad.append(pos)
    if not bad:
        return parsed
    raise _bad_values(path, table, column, bad, _texts(text, bad), "unparseable number")


# ----------------------------------------------------------------------------- timestamps

@dataclass(frozen=True, slots=True)
class _Stamps:
    instants_ns: np.ndarray  # UTC instant of each row
    day_labels_ns: np.ndarray  # date as written, at 00:00 UTC
    date_only: bool


def _parse_zone(tz: str | None) -> str | None:
    if tz is None:
        return None
    try:
        zoneinfo.ZoneInfo(tz)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError, TypeError):
        raise InvalidInput(f"tz must be an IANA time zone such as America/New_York, was {tz!r}") from None
    return tz


def _parse_timestamps(table: _Table, column: str, zone: str | None, path: Path) -> _Stamps:
    array = table.columns[column]
    kind = array.type
    if pa.types.is_timestamp(kind) or pa.types.is_date(kind):
        nulls = np.flatnonzero(array.is_null().to_numpy(zero_copy_only=False))
        if nulls.size:
            raise _bad_values(path, table, column, nulls, ["null"] * nulls.size, "missing timestamp")
    if pa.types.is_date(kind):
        days = array.cast(pa.date32()).cast(pa.int32()).to_numpy(zero_copy_only=False).astype(np.int64)
        days_ns = days * 86_400 * _NS_PER_SECOND
        return _Stamps(days_ns, days_ns.copy(), True)
    if pa.types.is_timestamp(kind):
        try:
            values_ns = array.cast(pa.timestamp("ns", tz=kind.tz)).cast(pa.int64()).to_numpy(zero_copy_only=False)
        except pa.ArrowInvalid as exc:
            raise InvalidInput(f"{path}: column {column} holds timestamps outside 1677..2262 ({exc})",
                               details={"path": str(path), "column": column}) from exc
        if kind.tz is not None:
            written = (pd.DatetimeIndex(values_ns.astype("datetime64[ns]"), tz="UTC")
                       .tz_convert(kind.tz).tz_localize(None).normalize().as_unit("ns").asi8)
            return _Stamps(values_ns.astype(np.int64), written.copy(), False)
        if zone is None:
            raise _bad_values(path, table, column, [0], _texts(array, [0]), "naive timestamp",
                              "the Parquet column has no time zone and tz= was not given; pass tz= "
                              "naming the zone the file is written in")
        codes = np.arange(values_ns.size)
        return _localize(table, column, values_ns.astype(np.int64), codes, array, zone, path)
    text = _as_text(array)
    if text is None:
        raise InvalidInput(f"{path}: column {column} must hold ISO 8601 text, dates or timestamps, "
                           f"was {kind}", details={"path": str(path), "column": column})
    return _from_text(table, column, text, zone, path)


def _from_text(table: _Table, column: str, text: pa.Array, zone: str | None, path: Path) -> _Stamps:
    encoded = pc.dictionary_encode(pc.utf8_trim_whitespace(text), null_encoding="encode")
    codes = encoded.indices.to_numpy(zero_copy_only=False).astype(np.int64)
    distinct = encoded.dictionary
    parts = pc.extract_regex(pc.fill_null(distinct, ""), _TIMESTAMP_RE)
    matched = parts.is_valid().to_numpy(zero_copy_only=False)

    def rows_of(mask: np.ndarray) -> np.ndarray:
        # Rows whose distinct value is selected by ``mask``.
        return np.flatnonzero(mask[codes])

    if not matched.all():
        rows = rows_of(~matched)
        raise _bad_values(path, table, column, rows, _texts(text, rows), "unparseable timestamp", _ISO_HINT)

    field = {name: parts.field(name) for name in
             ("year", "month", "day", "hour", "minute", "second", "fraction", "offset")}
    is_datetime = pc.not_equal(field["hour"], "").to_numpy(zero_copy_only=False)
    has_offset = pc.not_equal(field["offset"], "").to_numpy(zero_copy_only=False)
    if is_datetime.any() and not is_datetime.all():
        d, t = rows_of(~is_datetime)[0], rows_of(is_datetime)[0]
        raise InvalidInput(
            f"{path}: column {column} mixes date-only values ({_texts(text, [d])[0]!r} at "
            f"{table.where(d)}) with date-times ({_texts(text, [t])[0]!r} at {table.where(t)}); "
            "use one form per file", details={"path": str(path), "column": column},
        )
    if has_offset.any() and not has_offset.all():
        n, o = rows_of(~has_offset)[0], rows_of(has_offset)[0]
        raise InvalidInput(
            f"{path}: column {column} mixes naive timestamps ({_texts(text, [n])[0]!r} at "
            f"{table.where(n)}) with timestamps that carry a UTC offset ({_texts(text, [o])[0]!r} at "
            f"{table.where(o)}); a file is written in one time zone",
            details={"path": str(path), "column": column},
        )

    def integer(name: str, default: str = "0") -> np.ndarray:
        values = pc.if_else(pc.equal(field[name], ""), pa.scalar(default), field[name])
        return np.asarray(pc.cast(values, pa.int64()).to_numpy(zero_copy_only=False), dtype=np.int64)

    year, month, day = integer("year"), integer("month"), integer("day")
    hour, minute, second = integer("hour"), integer("minute"), integer("second")
    fraction_ns = _fraction_ns(field["fraction"])
    real = (year >= _FIRST_YEAR) & (year <= _LAST_YEAR) & (month >= 1) & (month <= 12)
    month_index = (np.clip(year, _FIRST_YEAR, _LAST_YEAR) - 1970) * 12 + np.clip(month, 1, 12) - 1
    month_start = month_index.astype("datetime64[M]").astype("datetime64[D]")
    month_days = ((month_index + 1).astype("datetime64[M]").astype("datetime64[D]") - month_start).astype(np.int64)
    real &= (day >= 1) & (day <= month_days) & (hour <= 23) & (minute <= 59) & (second <= 59)
    if not real.all():
        rows = rows_of(~real)
        raise _bad_values(path, table, column, rows, _texts(text, rows), "unparseable timestamp",
                          f"not a real date or time of day (years {_FIRST_YEAR}-{_LAST_YEAR})")
    day_ns = (month_start.astype(np.int64) + day - 1) * 86_400 * _NS_PER_SECOND
    wall_ns = day_ns + ((hour * 60 + minute) * 60 + second) * _NS_PER_SECOND + fraction_ns

    if not is_datetime.any():
        return _Stamps(day_ns[codes], day_ns[codes], True)
    if not has_offset.any():
        if zone is None:
            raise _bad_values(path, table, column, [0], _texts(text, [0]), "naive timestamp",
                              "it has no UTC offset and tz= was not given; pass tz= naming the zone "
                              "the file is written in (e.g. tz='America/New_York') or write offsets "
                              "such as 2020-01-02T14:30:00-05:00")
        return _localize(table, column, wall_ns, codes, text, zone, path, day_ns=day_ns)

    offsets_min = _offset_minutes(field["offset"])
    instants_ns = wall_ns - offsets_min * _NS_PER_MINUTE
    _check_zone_rule(table, column, text, codes, instants_ns, offsets_min, zone, path)
    return _Stamps(instants_ns[codes], day_ns[codes], False)


def _fraction_ns(fraction: pa.Array) -> np.ndarray:
    """Nanoseconds of a fractional-second text field ("" -> 0, "5" -> 500000000)."""
    padded = pc.utf8_rpad(fraction, width=9, padding="0")
    return np.asarray(pc.cast(padded, pa.int64()).to_numpy(zero_copy_only=False), dtype=np.int64)


def _offset_minutes(offsets: pa.Array) -> np.ndarray:
    encoded = pc.dictionary_encode(offsets)
    minutes = []
    for text in encoded.dictionary.to_pylist():
        if text == "Z":
            minutes.append(0)
            continue
        digits = text[1:].replace(":", "")
        value = int(digits[:2]) * 60 + int(digits[2:])
        minutes.append(-value if text.startswith("-") else value)
    table = np.asarray(minutes, dtype=np.int64)
    return table[encoded.indices.to_numpy(zero_copy_only=False).astype(np.int64)]


def _localize(table: _Table, column: str, wall_ns: np.ndarray, codes: np.ndarray, shown: pa.Array,
              zone: str, path: Path, *, day_ns: np.ndarray | None = None) -> _Stamps:
    """Treat ``wall_ns`` (per distinct value) as wall time in ``zone``; ``codes`` maps rows to them."""
    wall = pd.DatetimeIndex(wall_ns.astype("datetime64[ns]"))
    local = wall.tz_localize(zone, ambiguous="NaT", nonexistent="NaT")
    if local.hasnans:
        rows = np.flatnonzero(np.asarray(local.isna())[codes])
        raise _bad_values(path, table, column, rows, _texts(shown, rows),
                          "non-existent or ambiguous local time",
                          f"a daylight-saving change in {zone} skips or repeats it")
    instants = local.tz_convert("UTC").as_unit("ns").asi8
    days = wall.normalize().as_unit("ns").asi8 if day_ns is None else day_ns
    return _Stamps(instants[codes].copy(), days[codes].copy(), False)


def _format_offset(minutes: int) -> str:
    sign = "-" if minutes < 0 else "+"
    return f"{sign}{abs(minutes) // 60:02d}:{abs(minutes) % 60:02d}"


def _zone_offsets_min(zone: str, instants_ns: np.ndarray) -> np.ndarray:
    utc = pd.DatetimeIndex(instants_ns.astype("datetime64[ns]"), tz="UTC")
    local = utc.tz_convert(zone).tz_localize(None).as_unit("ns").asi8
    return ((local - instants_ns) // _NS_PER_MINUTE).astype(np.int64)


@lru_cache(maxsize=1)
def _all_zones() -> tuple[str, ...]:
    # Common market zones first so the usual files stop the search early.
    preferred = ("UTC", "America/New_York", "America/Chicago", "Europe/London", "Europe/Berlin",
                 "Asia/Tokyo", "Asia/Hong_Kong", "Australia/Sydney")
    rest = sorted(zoneinfo.available_timezones() - set(preferred))
    return preferred + tuple(rest)


def _find_zone(instants_ns: np.ndarray, offsets_min: np.ndarray) -> str | None:
    """Return an IANA zone whose offset equals ``offsets_min`` at every instant, if any."""
    order = np.argsort(instants_ns, kind="stable")
    ordered_t, ordered_o = instants_ns[order], offsets_min[order]
    # Probe the ends and both sides of every change of offset; a full check confirms.
    change = np.flatnonzero(ordered_o[1:] != ordered_o[:-1])
    probe = np.unique(np.concatenate(([0, ordered_t.size - 1], change, change + 1)))
    epoch = datetime(1970, 1, 1, tzinfo=UTC)
    moments = [epoch + timedelta(microseconds=int(t) // 1000) for t in ordered_t[probe]]
    expected = ordered_o[probe].tolist()
    for name in _all_zones():
        try:
            zone = zoneinfo.ZoneInfo(name)
        except (zoneinfo.ZoneInfoNotFoundError, ValueError):
            continue
        probes_match = all(
            int(moment.astimezone(zone).utcoffset().total_seconds()) // 60 == want  # type: ignore[union-attr]
            for moment, want in zip(moments, expected, strict=True)
        )
        if probes_match and np.array_equal(_zone_offsets_min(name, ordered_t), ordered_o):
            return name
    return None


def _check_zone_rule(table: _Table, column: str, text: pa.Array, codes: np.ndarray,
                     instants_ns: np.ndarray, offsets_min: np.ndarray, zone: str | None,
                     path: Path) -> None:
    if zone is not None:
        expected = _zone_offsets_min(zone, instants_ns)
        wrong = expected != offsets_min
        if wrong.any():
            rows = np.flatnonzero(wrong[codes])
            first = int(codes[rows[0]])
            raise _bad_values(
                path, table, column, rows, _texts(text, rows), "timestamp with the wrong UTC offset",
                f"{zone} is {_format_offset(int(expected[first]))} at that instant, not "
                f"{_format_offset(int(offsets_min[first]))}",
            )
        return
    distinct_offsets = np.unique(offsets_min)
    if distinct_offsets.size <= 1 or _find_zone(instants_ns, offsets_min) is not None:
        return
    first_rows = sorted(
        (int(np.flatnonzero((offsets_min == offset)[codes])[0]), offset)
        for offset in distinct_offsets.tolist()
    )
    listed = [f"{_format_offset(offset)} (first at {table.where(row)}: {_texts(text, [row])[0]!r})"
              for row, offset in first_rows[:6]]
    raise InvalidInput(
        f"{path}: column {column} mixes UTC offsets {', '.join(listed)}, which no single time zone "
        "has at those instants; a file is written in one time zone. Write every timestamp in one "
        "offset (UTC is simplest) or pass tz= if the file is in one zone",
        details={"path": str(path), "column": column,
                 "offsets": [_format_offset(o) for o in distinct_offsets.tolist()]},
    )


def _resolve_timeframe(wanted: Timeframe | None, stamps: _Stamps, symbol_codes: np.ndarray,
                       path: Path) -> Timeframe:
    if stamps.date_only:
        if wanted is not None and wanted.is_intraday:
            raise InvalidInput(
                f"{path}: the timestamps are dates, which means daily bars, but timeframe="
                f"{wanted.value} was given", details={"path": str(path)},
            )
        return Timeframe.D1
    if wanted is not None:
        return wanted
    order = np.lexsort((stamps.instants_ns, symbol_codes))
    ts, sym = stamps.instants_ns[order], symbol_codes[order]
    gaps = np.diff(ts)[(sym[1:] == sym[:-1])]
    gaps = gaps[gaps > 0]
    allowed = ", ".join(tf.value for tf in Timeframe)
    if gaps.size == 0:
        raise InvalidInput(
            f"{path}: cannot infer the timeframe from one timestamp per symbol; pass timeframe= "
            f"(one of {allowed})", details={"path": str(path)},
        )
    smallest = int(gaps.min())
    if smallest in _SPACING_TO_TIMEFRAME:
        return _SPACING_TO_TIMEFRAME[smallest]
    if 23 * _NS_PER_HOUR <= smallest <= 25 * _NS_PER_HOUR:
        return Timeframe.D1
    raise InvalidInput(
        f"{path}: cannot infer the timeframe: the smallest spacing between two bars of one symbol "
        f"is {pd.Timedelta(smallest, unit='ns')}, which is not 1m, 5m, 15m, 1h or a day; pass "
        f"timeframe= (one of {allowed})", details={"path": str(path)},
    )
