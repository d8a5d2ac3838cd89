"""Column blocks: a read-optimised copy of intraday bars on native PostgreSQL.

Reading a symbol-year of one-minute bars row by row costs one protocol message per
bar; most of the time goes into per-row work on both ends. So next to the row table
(the source of truth, which the ORM, the admin and ad-hoc SQL use) each
(instrument, timeframe, UTC day) of intraday bars is also kept as one block: a bytea
of little-endian records ``(ts_ns int64, open, high, low, close, volume float64)``.
A year of one-minute bars is ~250 blocks instead of ~98,000 rows.

Blocks are written in the same transaction as the rows they mirror, so they are
never stale: a new range is blocked from the frame in memory (only its first and
last day are re-read, since they may hold earlier bars); an upsert rebuilds the days
it touched from the row table. Daily bars are not blocked (a year is 252 rows).
TimescaleDB databases use compression instead and do not have this table.
"""

from __future__ import annotations

import io
import struct
from datetime import UTC, date, datetime, timedelta

import numpy as np
import pandas as pd

from bifrost.marketdata.types import BAR_COLUMNS, Timeframe

BLOCK_TABLE = "marketdata_barblock"
RECORD = np.dtype([("ts", "<i8"), ("open", "<f8"), ("high", "<f8"), ("low", "<f8"), ("close", "<f8"),
                   ("volume", "<f8")])
_DAY_NS = 86_400 * 1_000_000_000
_PG_EPOCH_DAYS = 10_957  # 2000-01-01 in days since 1970-01-01
_PG_EPOCH_US = 946_684_800_000_000
_COPY_HEADER = b"PGCOPY\n\xff\r\n\x00" + struct.pack(">ii", 0, 0)
_COPY_TRAILER = struct.pack(">h", -1)


def create_block_table(schema_editor) -> None:
    schema_editor.execute(
        f"CREATE TABLE {BLOCK_TABLE} ("
        "instrument_id bigint NOT NULL, timeframe varchar(3) NOT NULL, day date NOT NULL, "
        "n integer NOT NULL, first_ts timestamptz NOT NULL, last_ts timestamptz NOT NULL, data bytea NOT NULL, "
        "PRIMARY KEY (instrument_id, timeframe, day))"
    )
    # Float data barely compresses; store it out of line without pglz so reads do no decompression.
    schema_editor.execute(f"ALTER TABLE {BLOCK_TABLE} ALTER COLUMN data SET STORAGE EXTERNAL")


def uses_blocks(tf: Timeframe, mode: str) -> bool:
    return mode == "native" and tf.is_intraday


def _records_from_frame(bars: pd.DataFrame, ts_ns: np.ndarray) -> np.ndarray:
    records = np.empty(len(bars), dtype=RECORD)
    records["ts"] = ts_ns
    for column in BAR_COLUMNS:
        records[column] = bars[column].to_numpy(dtype="float64", copy=False)
    return records


def _split_by_day(records: np.ndarray) -> list[tuple[int, np.ndarray]]:
    """(day number since 1970-01-01 UTC, records of that day) for ordered records."""
    if records.size == 0:
        return []
    days = records["ts"] // _DAY_NS
    cuts = np.flatnonzero(np.diff(days)) + 1
    starts = np.r_[0, cuts]
    ends = np.r_[cuts, records.size]
    return [(int(days[s]), records[s:e]) for s, e in zip(starts, ends, strict=True)]


def _copy_payload(instrument_id: int, tf: Timeframe, blocks: list[tuple[int, np.ndarray]]) -> bytes:
    out = io.BytesIO()
    out.write(_COPY_HEADER)
    tf_bytes = tf.value.encode()
    for day, records in blocks:
        data = records.tobytes()
        first_us = int(records["ts"][0]) // 1000 - _PG_EPOCH_US
        last_us = int(records["ts"][-1]) // 1000 - _PG_EPOCH_US
        out.write(struct.pack(">hiq", 7, 8, instrument_id))
        out.write(struct.pack(">i", len(tf_bytes)) + tf_bytes)
        out.write(struct.pack(">ii", 4, day - _PG_EPOCH_DAYS))
        out.write(struct.pack(">ii", 4, records.size))
        out.write(struct.pack(">iqiq", 8, first_us, 8, last_us))
        out.write(struct.pack(">i", len(data)))
        out.write(data)
    out.write(_COPY_TRAILER)
    return out.getvalue()


def _replace_blocks(cursor, instrument_id: int, tf: Timeframe, blocks: list[tuple[int, np.ndarray]],
                    days: list[int]) -> None:
    if days:
        cursor.execute(
            f"DELETE FROM {BLOCK_TABLE} WHERE instrument_id = %s AND timeframe = %s AND day = ANY(%s)",
            [instrument_id, tf.value, [_to_date(d) for d in days]],
        )
    if blocks:
        with cursor.cursor.copy(
            f"COPY {BLOCK_TABLE} (instrument_id, timeframe, day, n, first_ts, last_ts, data) FROM STDIN (FORMAT BINARY)"
        ) as copy:
            copy.write(_copy_payload(instrument_id, tf, blocks))


def _to_date(day_number: int) -> date:
    return date(1970, 1, 1) + timedelta(days=day_number)


def _rows_between(cursor, row_table: str, instrument_id: int, lo_day: int, hi_day: int) -> np.ndarray:
    """Records of the row table for UTC days ``lo_day..hi_day`` inclusive."""
    from bifrost_web.marketdata.storage import _parse_row_copy  # shared binary row parser

    lo = datetime(1970, 1, 1, tzinfo=UTC) + timedelta(days=lo_day)
    hi = datetime(1970, 1, 1, tzinfo=UTC) + timedelta(days=hi_day + 1)
    buffer = io.BytesIO()
    with cursor.cursor.copy(
        f"COPY (SELECT ts, open, high, low, close, volume FROM {row_table} WHERE instrument_id = %s "
        "AND ts >= %s AND ts < %s ORDER BY ts) TO STDOUT (FORMAT BINARY)", [instrument_id, lo, hi]
    ) as copy:
        for chunk in copy:
            buffer.write(chunk)
    ts_ns, columns = _parse_row_copy(buffer.getbuffer())
    records = np.empty(ts_ns.size, dtype=RECORD)
    records["ts"] = ts_ns
    for column in BAR_COLUMNS:
        records[column] = columns[column]
    return records


def after_copy(cursor, row_table: str, instrument_id: int, tf: Timeframe, bars: pd.DataFrame,
               ts_ns: np.ndarray) -> None:
    """Block a range that was new to the row table. Its first and last day may also hold
    earlier bars outside the range, so those two days are re-read from the rows."""
    by_day = _split_by_day(_records_from_frame(bars, ts_ns))
    if not by_day:
        return
    edge_days = sorted({by_day[0][0], by_day[-1][0]})
    blocks = [(d, r) for d, r in by_day[1:-1]]
    for day in edge_days:
        records = _rows_between(cursor, row_table, instrument_id, day, day)
        if records.size:
            blocks.append((day, records))
    blocks.sort(key=lambda item: item[0])
    _replace_blocks(cursor, instrument_id, tf, blocks, [d for d, _ in by_day])


def after_upsert(cursor, row_table: str, instrument_id: int, tf: Timeframe, ts_ns: np.ndarray) -> None:
    """Rebuild every day an upsert touched from the row table."""
    days = np.unique(ts_ns // _DAY_NS)
    if days.size == 0:
        return
    records = _rows_between(cursor, row_table, instrument_id, int(days[0]), int(days[-1]))
    touched = set(days.tolist())
    blocks = [(d, r) for d, r in _split_by_day(records) if d in touched]
    _replace_blocks(cursor, instrument_id, tf, blocks, sorted(touched))


def read_blocks(cursor, instrument_id: int, tf: Timeframe, start: datetime | None,
                end: datetime | None) -> np.ndarray:
    """Records in ``[start, end)`` from the blocks, ordered by ts."""
    params: list = [instrument_id, tf.value]
    where = "instrument_id = %s AND timeframe = %s"
    if start is not None:
        where += " AND last_ts >= %s"
        params.append(start)
    if end is not None:
        where += " AND first_ts < %s"
        params.append(end)
    buffer = io.BytesIO()
    with cursor.cursor.copy(
        f"COPY (SELECT data FROM {BLOCK_TABLE} WHERE {where} ORDER BY day) TO STDOUT (FORMAT BINARY)", params
    ) as copy:
        for chunk in copy:
            buffer.write(chunk)
    data = buffer.getbuffer()
    offset = 11 + 4 + 4 + struct.unpack_from(">i", data, 15)[0]
    pieces = []
    while True:
        (ncols,) = struct.unpack_from(">h", data, offset)
        if ncols == -1:
            break
        (length,) = struct.unpack_from(">i", data, offset + 2)
        pieces.append(np.frombuffer(data, dtype=RECORD, count=length // RECORD.itemsize, offset=offset + 6))
        offset += 6 + length
    if not pieces:
        return np.empty(0, dtype=RECORD)
    records = np.concatenate(pieces)
    lo = 0 if start is None else int(np.searchsorted(records["ts"], pd.Timestamp(start).value, side="left"))
    hi = records.size if end is None else int(np.searchsorted(records["ts"], pd.Timestamp(end).value, side="left"))
    return records[lo:hi]


def delete_blocks(cursor, instrument_id: int, tf: Timeframe | None = None) -> None:
    params: list = [instrument_id]
    where = "instrument_id = %s"
    if tf is not None:
        where += " AND timeframe = %s"
        params.append(tf.value)
    cursor.execute(f"DELETE FROM {BLOCK_TABLE} WHERE {where}", params)


def backfill(cursor, row_table_for) -> int:
    """Block every stored intraday series (used by the migration that adds blocks)."""
    cursor.execute("SELECT DISTINCT instrument_id, timeframe FROM marketdata_bar WHERE timeframe <> '1d'")
    count = 0
    for instrument_id, timeframe in cursor.fetchall():
        tf = Timeframe(timeframe)
        cursor.execute(f"SELECT min(ts), max(ts) FROM {row_table_for(tf)} WHERE instrument_id = %s", [instrument_id])
        lo, hi = cursor.fetchone()
        lo_day = int(pd.Timestamp(lo).value // _DAY_NS)
        hi_day = int(pd.Timestamp(hi).value // _DAY_NS)
        records = _rows_between(cursor, row_table_for(tf), instrument_id, lo_day, hi_day)
        blocks = _split_by_day(records)
        _replace_blocks(cursor, instrument_id, tf, blocks, [])
        count += len(blocks)
    return count
