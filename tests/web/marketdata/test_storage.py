"""Bar storage on the configured database (SQLite in the default pass, PostgreSQL in the services pass)."""

from datetime import UTC, datetime

import numpy as np
import pandas as pd
import pytest
from django.db import connection, transaction

from bifrost.marketdata.types import Timeframe
from bifrost_web.marketdata import models, storage
from tests.factories import xnys_minute_bars

pytestmark = pytest.mark.django_db


def _instrument(symbol="TST"):
    return models.Instrument.objects.create(symbol=symbol)


def test_write_read_round_trip_returns_identical_bars(daily_bars):
    inst = _instrument()
    with transaction.atomic():
        result = storage.write_bars(inst.id, Timeframe.D1, daily_bars)
    read = storage.read_bars(inst.id, Timeframe.D1)
    assert result.rows == len(daily_bars) == 61
    pd.testing.assert_frame_equal(read, daily_bars, check_freq=False)


def test_read_range_is_half_open(minute_bars):
    inst = _instrument()
    with transaction.atomic():
        storage.write_bars(inst.id, Timeframe.M1, minute_bars)
    start = datetime(2024, 11, 29, 15, 0, tzinfo=UTC)
    end = datetime(2024, 11, 29, 16, 0, tzinfo=UTC)
    read = storage.read_bars(inst.id, Timeframe.M1, start=start, end=end)
    assert len(read) == 60
    assert read.index[0] == pd.Timestamp(start) and read.index[-1] == pd.Timestamp("2024-11-29 15:59", tz="UTC")


def test_write_twice_upserts_without_duplicates(daily_bars):
    inst = _instrument()
    changed = daily_bars.copy()
    changed.loc[changed.index[5], "close"] = 123.25
    with transaction.atomic():
        first = storage.write_bars(inst.id, Timeframe.D1, daily_bars)
    with transaction.atomic():
        second = storage.write_bars(inst.id, Timeframe.D1, changed.iloc[:10])
    read = storage.read_bars(inst.id, Timeframe.D1)
    assert len(read) == len(daily_bars)
    assert read["close"].iloc[5] == 123.25
    assert read["close"].iloc[11] == daily_bars["close"].iloc[11]
    if connection.vendor == "postgresql":
        assert (first.method, second.method) == ("copy", "copy+upsert")


def test_timeframes_are_stored_separately(daily_bars, minute_bars):
    inst = _instrument()
    with transaction.atomic():
        storage.write_bars(inst.id, Timeframe.D1, daily_bars)
        storage.write_bars(inst.id, Timeframe.M1, minute_bars)
    counts = {tf: n for _, tf, n, _, _ in storage.bar_counts([inst.id])}
    assert counts == {"1d": 61, "1m": 210}  # 9:30-13:00 ET on the early-close day


def test_bar_ids_decode_to_natural_key():
    ts = pd.DatetimeIndex(["1999-01-04", "2024-11-29 18:59"], tz="UTC")
    ids = storage.bar_ids(4242, Timeframe.M15, ts.asi8)
    decoded = [storage.decode_bar_id(int(i)) for i in ids]
    assert decoded == [(4242, Timeframe.M15, ts[0].to_pydatetime()), (4242, Timeframe.M15, ts[1].to_pydatetime())]
    assert len(set(storage.bar_ids(1, Timeframe.D1, ts.asi8)) | set(storage.bar_ids(1, Timeframe.M1, ts.asi8))) == 4


def test_orm_sees_bars_written_in_bulk(daily_bars):
    inst = _instrument()
    with transaction.atomic():
        storage.write_bars(inst.id, Timeframe.D1, daily_bars)
    bar = models.Bar.objects.get(instrument=inst, timeframe="1d", ts=datetime(2024, 1, 2, tzinfo=UTC))
    assert bar.close == pytest.approx(daily_bars["close"].iloc[0], abs=0)
    assert storage.decode_bar_id(bar.id) == (inst.id, Timeframe.D1, datetime(2024, 1, 2, tzinfo=UTC))


def test_failed_transaction_leaves_no_bars(daily_bars):
    inst = _instrument()
    with pytest.raises(RuntimeError), transaction.atomic():
        storage.write_bars(inst.id, Timeframe.D1, daily_bars)
        raise RuntimeError("boom after the write")
    assert storage.read_bars(inst.id, Timeframe.D1).empty


@pytest.mark.postgres
def test_postgres_layout_is_partitioned_by_timeframe_then_month():
    inst = _instrument()
    bars = pd.concat([xnys_minute_bars("2024-01-31"), xnys_minute_bars("2024-02-01")])
    with transaction.atomic():
        storage.write_bars(inst.id, Timeframe.M1, bars)
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT c.relname, pg_get_expr(c.relpartbound, c.oid) FROM pg_inherits i "
            "JOIN pg_class c ON c.oid = i.inhrelid JOIN pg_class p ON p.oid = i.inhparent "
            "WHERE p.relname = 'marketdata_bar_1m' ORDER BY 1"
        )
        partitions = dict(cursor.fetchall())
        cursor.execute("SELECT partstrat FROM pg_partitioned_table pt JOIN pg_class c ON c.oid = pt.partrelid "
                       "WHERE c.relname IN ('marketdata_bar', 'marketdata_bar_1m') ORDER BY c.relname")
        strategies = [row[0] for row in cursor.fetchall()]
        cursor.execute("SELECT count(*) FROM marketdata_bar_1m_y2024m02")
        february = cursor.fetchone()[0]
    assert strategies == ["l", "r"]  # LIST by timeframe, then RANGE by ts
    assert "marketdata_bar_1m_y2024m01" in partitions and "marketdata_bar_1m_y2024m02" in partitions
    assert "2024-02-01" in partitions["marketdata_bar_1m_y2024m02"]
    assert february == 390
    assert storage.storage_mode() == "native"


@pytest.mark.postgres
def test_postgres_binary_copy_preserves_float_bits():
    inst = _instrument()
    rng = np.random.default_rng(3)
    bars = xnys_minute_bars("2024-03-01")
    bars["close"] = rng.random(len(bars)) * 1e4 + 1e-9  # full-precision doubles
    bars["high"] = np.maximum(bars["high"], bars["close"])
    bars["low"] = np.minimum(bars["low"], bars["close"])
    with transaction.atomic():
        storage.write_bars(inst.id, Timeframe.M1, bars)
    read = storage.read_bars(inst.id, Timeframe.M1)
    assert np.array_equal(read["close"].to_numpy(), bars["close"].to_numpy())
    assert np.array_equal(read.index.asi8, bars.index.asi8)


def _rows_read(inst_id, tf, start=None, end=None):
    """Read through the row table, bypassing blocks (reference for block reads)."""
    params = [inst_id, tf.value]
    where = "instrument_id = %s AND timeframe = %s" + storage._range_clause(start, end, params)
    return storage._read_postgres(storage._tf_table(tf), where, params, connection)


def _block_days(inst_id):
    with connection.cursor() as cursor:
        cursor.execute("SELECT day::text, n FROM marketdata_barblock WHERE instrument_id = %s ORDER BY day", [inst_id])
        return cursor.fetchall()


@pytest.mark.postgres
def test_blocks_merge_a_day_written_in_two_parts():
    inst = _instrument()
    day = xnys_minute_bars("2024-03-01")
    with transaction.atomic():
        storage.write_bars(inst.id, Timeframe.M1, day.iloc[:150])
    with transaction.atomic():
        result = storage.write_bars(inst.id, Timeframe.M1, day.iloc[150:])
    assert result.method == "copy"  # no overlap: the new range took the fast path
    assert _block_days(inst.id) == [("2024-03-01", 390)]
    pd.testing.assert_frame_equal(storage.read_bars(inst.id, Timeframe.M1), day, check_freq=False)


@pytest.mark.postgres
def test_blocks_follow_upserts_and_partial_ranges():
    inst = _instrument()
    bars = pd.concat([xnys_minute_bars(d, seed=i) for i, d in enumerate(["2024-03-04", "2024-03-05", "2024-03-06"])])
    with transaction.atomic():
        storage.write_bars(inst.id, Timeframe.M1, bars)
    changed = bars.iloc[430:450].copy()  # 2024-03-05 15:10-15:29 UTC
    changed["close"] = changed["close"] + 1.0
    changed["high"] = np.maximum(changed["high"], changed["close"])
    with transaction.atomic():
        assert storage.write_bars(inst.id, Timeframe.M1, changed).method == "copy+upsert"
    start = datetime(2024, 3, 5, 15, 0, tzinfo=UTC)
    end = datetime(2024, 3, 6, 15, 0, tzinfo=UTC)
    from_blocks = storage.read_bars(inst.id, Timeframe.M1, start=start, end=end)
    from_rows = _rows_read(inst.id, Timeframe.M1, start, end)
    pd.testing.assert_frame_equal(from_blocks, from_rows)
    assert from_blocks.index[0] == pd.Timestamp(start) and from_blocks.index[-1] < pd.Timestamp(end)
    assert from_blocks.loc[changed.index[5], "close"] == changed["close"].iloc[5]
    assert [n for _, n in _block_days(inst.id)] == [390, 390, 390]


@pytest.mark.postgres
def test_blocks_removed_with_bars_and_with_instrument():
    inst = _instrument()
    with transaction.atomic():
        storage.write_bars(inst.id, Timeframe.M1, xnys_minute_bars("2024-03-01"))
        storage.write_bars(inst.id, Timeframe.M5, xnys_minute_bars("2024-03-01").iloc[::5])
    storage.delete_bars(inst.id, Timeframe.M1)
    assert storage.read_bars(inst.id, Timeframe.M1).empty and len(_block_days(inst.id)) == 1
    inst.delete()
    assert _block_days(inst.id) == []
