"""Bar storage: bulk writes and fast reads, one implementation per database.

PostgreSQL (native path): ``marketdata_bar`` is partitioned by LIST (timeframe), and
each timeframe partition by RANGE (ts): monthly for intraday bars, yearly for daily
bars. The natural key ``(instrument_id, timeframe, ts)`` is the primary key and the
only index. Partitions are created on demand under an advisory lock. Bulk loads go
through binary ``COPY``: straight into the table when the range is new, otherwise
into a temporary staging table followed by ``INSERT ... ON CONFLICT DO UPDATE``
(idempotent upsert). Reads use binary ``COPY ... TO STDOUT`` parsed with NumPy.

PostgreSQL with TimescaleDB (``BIFROST_BAR_STORAGE=timescale``, or ``auto`` when the
extension is available): the table is a hypertable with monthly chunks, compressed
after 90 days and segmented by instrument and timeframe. Writes and reads use the
same COPY paths.

SQLite: ``executemany`` upserts inside one transaction; reads with one query.
"""

from __future__ import annotations

import io
import os
import struct
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime

import numpy as np
import pandas as pd
from django.db import connection as default_connection
from django.db import transaction

from bifrost.marketdata.types import BAR_COLUMNS, Timeframe, empty_bars
from bifrost_web.marketdata import blocks

TABLE = "marketdata_bar"
_PG_EPOCH_US = 946_684_800_000_000  # 2000-01-01T00:00:00Z in microseconds since the Unix epoch
_COPY_HEADER = b"PGCOPY\n\xff\r\n\x00" + struct.pack(">ii", 0, 0)
_COPY_TRAILER = struct.pack(">h", -1)


@dataclass(frozen=True, slots=True)
class WriteResult:
    rows: int
    method: str  # "copy", "copy+upsert" or "executemany"


def storage_mode(connection=default_connection) -> str:
    """Return ``sqlite``, ``native`` (partitioned PostgreSQL) or ``timescale``."""
    if connection.vendor != "postgresql":
        return "sqlite" if connection.vendor == "sqlite" else connection.vendor
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT c.relkind FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
            "WHERE c.relname = %s AND n.nspname = current_schema()",
            [TABLE],
        )
        row = cursor.fetchone()
        if row and row[0] == "p":
            return "native"
        cursor.execute("SELECT 1 FROM pg_extension WHERE extname = 'timescaledb'")
        if cursor.fetchone():
            return "timescale"
    return "plain"


def timescale_available(connection=default_connection) -> bool:
    if connection.vendor != "postgresql":
        return False
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1 FROM pg_available_extensions WHERE name = 'timescaledb'")
        return cursor.fetchone() is not None


# ---------------------------------------------------------------------------------------------
# Schema (called from migration 0002 on PostgreSQL)
# ---------------------------------------------------------------------------------------------

_BAR_COLUMNS_DDL = """
    id bigint NOT NULL,
    instrument_id bigint NOT NULL,
    timeframe varchar(3) NOT NULL,
    ts timestamptz NOT NULL,
    open double precision NOT NULL,
    high double precision NOT NULL,
    low double precision NOT NULL,
    close double precision NOT NULL,
    volume double precision NOT NULL
"""

_TF_CODES = {"1m": 0, "5m": 1, "15m": 2, "1h": 3, "1d": 4}
_MINUTES_1900 = 36_816_480  # minutes from 1900-01-01 to 1970-01-01


def bar_ids(instrument_id: int, tf: Timeframe, ts_ns: np.ndarray) -> np.ndarray:
    """Deterministic bar ids that encode the natural key (instrument, timeframe, minute).

    ``id = instrument_id << 35 | timeframe_code << 32 | minutes since 1900-01-01``. Computing
    ids on the client keeps bulk loads free of a sequence, makes re-ingest idempotent, and
    lets the admin find a bar by id through the primary key (see ``decode_bar_id``).
    """
    minutes = ts_ns // 60_000_000_000 + _MINUTES_1900
    return (np.int64(instrument_id) << np.int64(35)) | (np.int64(_TF_CODES[tf.value]) << np.int64(32)) | minutes


def decode_bar_id(bar_id: int) -> tuple[int, Timeframe, datetime]:
    instrument_id = bar_id >> 35
    code = (bar_id >> 32) & 0b111
    minutes = (bar_id & 0xFFFFFFFF) - _MINUTES_1900
    tf = next(Timeframe(k) for k, v in _TF_CODES.items() if v == code)
    return instrument_id, tf, datetime.fromtimestamp(minutes * 60, tz=UTC)


def create_partitioned_bar_table(schema_editor) -> None:
    """Replace the plain table Django created with the partitioned (or hypertable) layout."""
    mode = os.environ.get("BIFROST_BAR_STORAGE", "auto").lower()
    conn = schema_editor.connection
    use_timescale = mode == "timescale" or (mode == "auto" and timescale_available(conn))
    execute = schema_editor.execute
    execute(f"DROP TABLE {TABLE}")
    if use_timescale:
        execute("CREATE EXTENSION IF NOT EXISTS timescaledb")
        execute(
            f"CREATE TABLE {TABLE} ({_BAR_COLUMNS_DDL}, "
            f"CONSTRAINT bar_unique_instrument_tf_ts PRIMARY KEY (instrument_id, timeframe, ts))"
        )
        execute(f"SELECT create_hypertable('{TABLE}', 'ts', chunk_time_interval => INTERVAL '1 month')")
        execute(
            f"ALTER TABLE {TABLE} SET (timescaledb.compress, "
            "timescaledb.compress_segmentby = 'instrument_id, timeframe', "
            "timescaledb.compress_orderby = 'ts')"
        )
        execute(f"SELECT add_compression_policy('{TABLE}', INTERVAL '90 days')")
        # Continuous aggregates over 1-minute bars. XNYS sessions (13:30/14:30-20:00/21:00 UTC)
        # sit inside one UTC day, and hour buckets with an origin on the half hour stay aligned
        # with the 9:30 ET open in both DST states, so these match the session-aware resampler
        # for XNYS instruments; other calendars are resampled in Python.
        for name, width, origin in (("marketdata_bar_1h_cagg", "1 hour", "2000-01-03 14:30:00+00"),
                                    ("marketdata_bar_1d_cagg", "1 day", "2000-01-03 00:00:00+00")):
            execute(
                f"CREATE MATERIALIZED VIEW {name} WITH (timescaledb.continuous) AS "
                f"SELECT instrument_id, time_bucket(INTERVAL '{width}', ts, TIMESTAMPTZ '{origin}') AS bucket, "
                "first(open, ts) AS open, max(high) AS high, min(low) AS low, last(close, ts) AS close, "
                f"sum(volume) AS volume FROM {TABLE} WHERE timeframe = '1m' GROUP BY instrument_id, bucket "
                "WITH NO DATA"
            )
            execute(
                f"SELECT add_continuous_aggregate_policy('{name}', start_offset => INTERVAL '30 days', "
                "end_offset => INTERVAL '1 hour', schedule_interval => INTERVAL '1 hour')"
            )
        return
    # Native: LIST by timeframe, then RANGE by ts. The key (instrument_id, ts) is declared on
    # each timeframe partition, where it is unique because the partition holds one timeframe;
    # a single narrow index keeps COPY fast. No foreign key: a per-row FK trigger costs more
    # than the load itself; the service layer creates the instrument first and deletes bars
    # with it.
    execute(f"CREATE TABLE {TABLE} ({_BAR_COLUMNS_DDL}) PARTITION BY LIST (timeframe)")
    for tf in Timeframe:
        execute(
            f"CREATE TABLE {_tf_table(tf)} PARTITION OF {TABLE} "
            f"(timeframe DEFAULT '{tf.value}', PRIMARY KEY (instrument_id, ts)) "
            f"FOR VALUES IN ('{tf.value}') PARTITION BY RANGE (ts)"
        )


def drop_partitioned_bar_table(schema_editor) -> None:
    for name in ("marketdata_bar_1h_cagg", "marketdata_bar_1d_cagg"):
        schema_editor.execute(f"DROP MATERIALIZED VIEW IF EXISTS {name} CASCADE")
    schema_editor.execute(f"DROP TABLE IF EXISTS {TABLE} CASCADE")


def _tf_table(tf: Timeframe) -> str:
    return f"{TABLE}_{tf.value}"


def _partition_bounds(tf: Timeframe, ts_min: pd.Timestamp, ts_max: pd.Timestamp) -> list[tuple[str, str, str]]:
    """(name, from, to) of every range partition needed to hold [ts_min, ts_max]."""
    out = []
    if tf is Timeframe.D1:
        for year in range(ts_min.year, ts_max.year + 1):
            out.append((f"{_tf_table(tf)}_y{year}", f"{year}-01-01", f"{year + 1}-01-01"))
        return out
    year, month = ts_min.year, ts_min.month
    while (year, month) <= (ts_max.year, ts_max.month):
        nyear, nmonth = (year + 1, 1) if month == 12 else (year, month + 1)
        out.append((f"{_tf_table(tf)}_y{year}m{month:02d}", f"{year}-{month:02d}-01",
                    f"{nyear}-{nmonth:02d}-01"))
        year, month = nyear, nmonth
    return out


_known_partitions: dict[str, set[str]] = {}


def ensure_partitions(cursor, database_key: str, tf: Timeframe, ts_min: pd.Timestamp, ts_max: pd.Timestamp) -> int:
    """Create missing range partitions for ``tf`` covering ``[ts_min, ts_max]``; return how many."""
    known = _known_partitions.setdefault(database_key, set())
    needed = [b for b in _partition_bounds(tf, ts_min, ts_max) if b[0] not in known]
    if not needed:
        return 0
    # Serialise partition creation across processes; released at transaction end.
    cursor.execute("SELECT pg_advisory_xact_lock(hashtext('bifrost.bar_partitions'))")
    cursor.execute(
        "SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid "
        "JOIN pg_class p ON p.oid = i.inhparent WHERE p.relname = %s",
        [_tf_table(tf)],
    )
    existing = {row[0] for row in cursor.fetchall()}
    created = 0
    for name, lower, upper in needed:
        if name not in existing:
            cursor.execute(
                f"CREATE TABLE {name} PARTITION OF {_tf_table(tf)} "
                f"FOR VALUES FROM ('{lower} 00:00:00+00') TO ('{upper} 00:00:00+00')"
            )
            created += 1
    # Only remember partitions once they are committed (the caller's transaction).
    names = {name for name, _, _ in needed}
    transaction.on_commit(lambda: known.update(names))
    return created


def forget_partition_cache() -> None:
    _known_partitions.clear()


# ---------------------------------------------------------------------------------------------
# Writing
# ---------------------------------------------------------------------------------------------

def _ts_ns(bars: pd.DataFrame) -> np.ndarray:
    index = bars.index
    if not isinstance(index, pd.DatetimeIndex) or index.tz is None:
        raise ValueError("bar frame index must be a timezone-aware DatetimeIndex")
    return index.tz_convert("UTC").as_unit("ns").asi8


def _binary_copy_payload(instrument_id: int, tf: Timeframe, bars: pd.DataFrame, *, with_timeframe: bool) -> bytearray:
    """Binary COPY rows for (id, instrument_id, [timeframe,] ts, open, high, low, close, volume).

    Every field has a fixed width, so the payload is one buffer viewed as a NumPy structured
    array: a template row carries the constant field counts and lengths, and the variable
    columns are written into it in bulk (scalar writes into big-endian fields are slow).
    """
    tf_bytes = tf.value.encode()
    fields: list[tuple[str, str]] = [("ncols", ">i2"), ("l_id", ">i4"), ("id", ">i8"), ("l_inst", ">i4"), ("inst", ">i8")]
    if with_timeframe:
        fields += [("l_tf", ">i4"), ("tf", f"S{len(tf_bytes)}")]
    fields += [("l_ts", ">i4"), ("ts", ">i8")]
    for column in BAR_COLUMNS:
        fields += [(f"l_{column}", ">i4"), (column, ">f8")]
    dtype = np.dtype(fields)
    template = np.zeros(1, dtype=dtype)
    template["ncols"] = 9 if with_timeframe else 8
    for name, _ in fields:
        if name.startswith("l_"):
            template[name] = 8
    template["inst"] = instrument_id
    if with_timeframe:
        template["l_tf"] = len(tf_bytes)
        template["tf"] = tf_bytes

    n = len(bars)
    header = len(_COPY_HEADER)
    buffer = bytearray(header + n * dtype.itemsize + len(_COPY_TRAILER))
    buffer[:header] = _COPY_HEADER
    buffer[-len(_COPY_TRAILER):] = _COPY_TRAILER
    raw = np.frombuffer(buffer, dtype=np.uint8, count=n * dtype.itemsize, offset=header).reshape(n, dtype.itemsize)
    raw[:] = template.view(np.uint8)
    rows = np.frombuffer(buffer, dtype=dtype, count=n, offset=header)
    ts_ns = _ts_ns(bars)
    rows["id"] = bar_ids(instrument_id, tf, ts_ns)
    rows["ts"] = ts_ns // 1000 - _PG_EPOCH_US
    for column in BAR_COLUMNS:
        rows[column] = bars[column].to_numpy(dtype="float64", copy=False)
    return buffer


_VALUE_COLUMNS = "ts, open, high, low, close, volume"


def write_bars(instrument_id: int, tf: Timeframe, bars: pd.DataFrame, *, connection=default_connection) -> WriteResult:
    """Upsert ``bars`` for one instrument and timeframe. Call inside ``transaction.atomic``."""
    if bars.empty:
        return WriteResult(0, "none")
    if connection.vendor == "postgresql":
        return _write_postgres(instrument_id, tf, bars, connection)
    return _write_sqlite(instrument_id, tf, bars, connection)


def _write_postgres(instrument_id: int, tf: Timeframe, bars: pd.DataFrame, connection) -> WriteResult:
    ts_min, ts_max = bars.index.min(), bars.index.max()
    native = storage_mode(connection) == "native"
    # Native layout: write to the timeframe partition (its default fills ``timeframe``).
    target = _tf_table(tf) if native else TABLE
    columns = f"id, instrument_id, {_VALUE_COLUMNS}" if native else f"id, instrument_id, timeframe, {_VALUE_COLUMNS}"
    conflict = "(instrument_id, ts)" if native else "(instrument_id, timeframe, ts)"
    payload = _binary_copy_payload(instrument_id, tf, bars, with_timeframe=not native)
    with connection.cursor() as cursor:
        if native:
            settings_dict = connection.settings_dict
            key = f"{settings_dict['HOST']}:{settings_dict['PORT']}/{settings_dict['NAME']}"
            ensure_partitions(cursor, key, tf, ts_min, ts_max)
        cursor.execute(
            f"SELECT 1 FROM {target} WHERE instrument_id = %s AND timeframe = %s AND ts BETWEEN %s AND %s LIMIT 1",
            [instrument_id, tf.value, ts_min.to_pydatetime(), ts_max.to_pydatetime()],
        )
        overlap = cursor.fetchone() is not None
        raw = cursor.cursor  # the psycopg cursor under Django's wrapper
        with_blocks = blocks.uses_blocks(tf, "native" if native else "other")
        if not overlap:
            with raw.copy(f"COPY {target} ({columns}) FROM STDIN (FORMAT BINARY)") as copy:
                copy.write(payload)
            if with_blocks:
                blocks.after_copy(cursor, target, instrument_id, tf, bars, _ts_ns(bars))
            return WriteResult(len(bars), "copy")
        staging = "bifrost_bar_staging_tf" if native else "bifrost_bar_staging"
        tf_column = "" if native else "timeframe varchar(3), "
        cursor.execute(
            f"CREATE TEMP TABLE IF NOT EXISTS {staging} (id bigint, instrument_id bigint, {tf_column}"
            "ts timestamptz, open double precision, high double precision, low double precision, "
            "close double precision, volume double precision) ON COMMIT DELETE ROWS"
        )
        with raw.copy(f"COPY {staging} ({columns}) FROM STDIN (FORMAT BINARY)") as copy:
            copy.write(payload)
        cursor.execute(
            f"INSERT INTO {target} ({columns}) SELECT {columns} FROM {staging} "
            f"ON CONFLICT {conflict} DO UPDATE SET open = EXCLUDED.open, "
            "high = EXCLUDED.high, low = EXCLUDED.low, close = EXCLUDED.close, volume = EXCLUDED.volume"
        )
        cursor.execute(f"TRUNCATE {staging}")
        if with_blocks:
            blocks.after_upsert(cursor, target, instrument_id, tf, _ts_ns(bars))
    return WriteResult(len(bars), "copy+upsert")


def _sqlite_ts_strings(ns: np.ndarray) -> np.ndarray:
    # Django stores aware datetimes in SQLite as naive UTC text, "YYYY-MM-DD HH:MM:SS[.ffffff]".
    values = ns.astype("datetime64[ns]")
    whole = (ns % 1_000_000_000) == 0
    if whole.all():
        text = np.datetime_as_string(values, unit="s")
    else:
        text = np.where(whole, np.datetime_as_string(values, unit="s"), np.datetime_as_string(values, unit="us"))
    return np.char.replace(text.astype(str), "T", " ")


def _write_sqlite(instrument_id: int, tf: Timeframe, bars: pd.DataFrame, connection) -> WriteResult:
    ts_ns = _ts_ns(bars)
    ts_text = _sqlite_ts_strings(ts_ns).tolist()
    ids = bar_ids(instrument_id, tf, ts_ns).tolist()
    columns = [bars[c].to_numpy(dtype="float64").tolist() for c in BAR_COLUMNS]
    rows = zip(ids, [instrument_id] * len(ts_text), [tf.value] * len(ts_text), ts_text, *columns, strict=True)
    with connection.cursor() as cursor:
        cursor.executemany(
            f"INSERT INTO {TABLE} (id, instrument_id, timeframe, {_VALUE_COLUMNS}) "
            "VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s) "
            "ON CONFLICT (instrument_id, timeframe, ts) DO UPDATE SET open = excluded.open, "
            "high = excluded.high, low = excluded.low, close = excluded.close, volume = excluded.volume",
            list(rows),
        )
    return WriteResult(len(ts_text), "executemany")


# ---------------------------------------------------------------------------------------------
# Reading
# ---------------------------------------------------------------------------------------------

_READ_DTYPE = np.dtype([
    ("ncols", ">i2"),
    ("l_ts", ">i4"), ("ts", ">i8"),
    ("l_o", ">i4"), ("open", ">f8"),
    ("l_h", ">i4"), ("high", ">f8"),
    ("l_l", ">i4"), ("low", ">f8"),
    ("l_c", ">i4"), ("close", ">f8"),
    ("l_v", ">i4"), ("volume", ">f8"),
])


def _range_clause(start: datetime | None, end: datetime | None, params: list) -> str:
    clause = ""
    if start is not None:
        clause += " AND ts >= %s"
        params.append(start)
    if end is not None:
        clause += " AND ts < %s"
        params.append(end)
    return clause


def read_bars(instrument_id: int, tf: Timeframe, *, start: datetime | None = None, end: datetime | None = None,
              connection=default_connection) -> pd.DataFrame:
    """Bars of one instrument and timeframe in ``[start, end)``, ordered by ``ts``."""
    params: list = [instrument_id, tf.value]
    where = "instrument_id = %s AND timeframe = %s" + _range_clause(start, end, params)
    if connection.vendor != "postgresql":
        return _read_sqlite(where, params, connection)
    mode = storage_mode(connection)
    if blocks.uses_blocks(tf, mode):
        with transaction.atomic(using=connection.alias), connection.cursor() as cursor:
            records = blocks.read_blocks(cursor, instrument_id, tf, start, end)
        return _frame(records["ts"], {c: records[c] for c in BAR_COLUMNS})
    table = _tf_table(tf) if mode == "native" else TABLE
    return _read_postgres(table, where, params, connection)


def _parse_row_copy(data) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    """Parse a binary COPY of (ts, open, high, low, close, volume) into ns timestamps and columns."""
    header = 11 + 4 + 4 + struct.unpack_from(">i", data, 15)[0]
    count = max((len(data) - header - 2) // _READ_DTYPE.itemsize, 0)
    rows = np.frombuffer(data, dtype=_READ_DTYPE, count=count, offset=header)
    ts_ns = (rows["ts"].astype(np.int64) + _PG_EPOCH_US) * 1000
    return ts_ns, {c: rows[c].astype(np.float64) for c in BAR_COLUMNS}


def _frame(ts_ns: np.ndarray, columns: dict[str, np.ndarray]) -> pd.DataFrame:
    if len(ts_ns) == 0:
        return empty_bars()
    index = pd.DatetimeIndex(np.asarray(ts_ns, dtype=np.int64).view("datetime64[ns]"), name="ts").tz_localize("UTC")
    return pd.DataFrame({c: np.ascontiguousarray(columns[c], dtype=np.float64) for c in BAR_COLUMNS}, index=index)


def _read_postgres(table: str, where: str, params: list, connection) -> pd.DataFrame:
    sql = f"COPY (SELECT {_VALUE_COLUMNS} FROM {table} WHERE {where} ORDER BY ts) TO STDOUT (FORMAT BINARY)"
    buffer = io.BytesIO()
    with transaction.atomic(using=connection.alias), connection.cursor() as cursor:
        # Bars sit on SSD-class storage and in ts order, so index scans in an ordered Append beat
        # bitmap scans plus a sort (which spills to disk at the default work_mem); the default
        # random_page_cost of 4 makes the planner pick the latter.
        cursor.execute("SET LOCAL random_page_cost = 1.1")
        raw = cursor.cursor
        with raw.copy(sql, params) as copy:
            for chunk in copy:
                buffer.write(chunk)
    ts_ns, columns = _parse_row_copy(buffer.getbuffer())
    return _frame(ts_ns, columns)


def _read_sqlite(where: str, params: list, connection) -> pd.DataFrame:
    # Compare as Django stores the values: naive UTC text.
    params = [p.astimezone(UTC).replace(tzinfo=None).isoformat(sep=" ") if isinstance(p, datetime) else p for p in params]
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {_VALUE_COLUMNS} FROM {TABLE} WHERE {where} ORDER BY ts", params)
        rows = cursor.fetchall()
    if not rows:
        return empty_bars()
    frame = pd.DataFrame.from_records(rows, columns=["ts", *BAR_COLUMNS])
    index = pd.DatetimeIndex(pd.to_datetime(frame.pop("ts"), format="ISO8601"), name="ts").tz_localize("UTC")
    frame.index = index
    return frame.astype("float64")


def delete_bars(instrument_id: int, tf: Timeframe | None = None, *, connection=default_connection) -> int:
    params: list = [instrument_id]
    where = "instrument_id = %s"
    if tf is not None:
        where += " AND timeframe = %s"
        params.append(tf.value)
    with connection.cursor() as cursor:
        cursor.execute(f"DELETE FROM {TABLE} WHERE {where}", params)
        removed = cursor.rowcount
        if connection.vendor == "postgresql" and storage_mode(connection) == "native":
            blocks.delete_blocks(cursor, instrument_id, tf)
        return removed


def bar_counts(instrument_ids: Iterable[int] | None = None, *, connection=default_connection) -> list[tuple[int, str, int, datetime, datetime]]:
    """(instrument_id, timeframe, count, first ts, last ts) for every stored series."""
    params: list = []
    where = ""
    ids = list(instrument_ids) if instrument_ids is not None else None
    if ids is not None:
        if not ids:
            return []
        where = f"WHERE instrument_id IN ({', '.join(['%s'] * len(ids))})"
        params = ids
    if connection.vendor == "postgresql" and storage_mode(connection) == "native":
        # Intraday series are summarised from their blocks (one row per day), daily series from
        # their rows: no full scan of the minute tables.
        sql = (f"SELECT instrument_id, timeframe, SUM(n)::bigint, MIN(first_ts), MAX(last_ts) "
               f"FROM {blocks.BLOCK_TABLE} {where} GROUP BY instrument_id, timeframe "
               f"UNION ALL SELECT instrument_id, '1d', COUNT(*), MIN(ts), MAX(ts) FROM {_tf_table(Timeframe.D1)} "
               f"{where} GROUP BY instrument_id ORDER BY 1, 2")
        params = params + params
    else:
        sql = (f"SELECT instrument_id, timeframe, COUNT(*), MIN(ts), MAX(ts) FROM {TABLE} {where} "
               "GROUP BY instrument_id, timeframe ORDER BY instrument_id, timeframe")
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        out = []
        for inst, tf, count, first, last in cursor.fetchall():
            if isinstance(first, str):
                first = datetime.fromisoformat(first).replace(tzinfo=UTC)
                last = datetime.fromisoformat(last).replace(tzinfo=UTC)
            out.append((inst, tf, count, first, last))
        return out
