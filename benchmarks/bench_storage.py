"""Bar storage benchmark: bulk ingest and one-symbol-year reads, PostgreSQL and SQLite.

Run from the repository root::

    python benchmarks/bench_storage.py                      # PostgreSQL at 127.0.0.1 and SQLite
    BENCH_PG_URL=postgres://u@host:5432/postgres python benchmarks/bench_storage.py

It creates a scratch PostgreSQL database and a scratch SQLite file, migrates both,
and prints:

- ingest of 1,000,000 one-minute bars (10 symbols x 100,000) through
  ``storage.write_bars`` (binary COPY on PostgreSQL, executemany on SQLite), and the
  same through ``services.bars_ingest`` (validation included); the peer is pandas
  ``DataFrame.to_sql`` (method="multi") into an equivalent table, in the same run;
- reading one symbol-year of one-minute bars (~98,000 rows) into a DataFrame through
  ``storage.read_bars`` (median of 15), against ``pandas.read_sql`` of the same rows.

Targets (issue 2): ingest >= 500,000 bars/s on PostgreSQL; read <= 50 ms from PostgreSQL.
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

PG_ADMIN_URL = os.environ.get("BENCH_PG_URL", "postgres://postgres@127.0.0.1:5432/postgres")
SYMBOLS = 10
BARS_PER_SYMBOL = 100_000
READS = 15


def child(mode: str, database_url: str) -> None:
    """Run the measurements inside one configured Django process."""
    os.environ["DJANGO_SETTINGS_MODULE"] = "bifrost_web.config.settings.local"
    if database_url:
        os.environ["DATABASE_URL"] = database_url
    import django

    django.setup()
    import numpy as np
    import pandas as pd
    from django.core.management import call_command
    from django.db import connection, transaction

    from bifrost.marketdata.synthetic import generate_market
    from bifrost.marketdata.types import Timeframe
    from bifrost_web.marketdata import models, services, storage

    call_command("migrate", verbosity=0)
    # ~257 sessions x 390 minutes = ~100,000 one-minute bars per symbol, real XNYS sessions.
    market = generate_market(symbols=SYMBOLS, start=pd.Timestamp("2023-01-03").date(),
                             end=pd.Timestamp("2024-01-12").date(), timeframe=Timeframe.M1, seed=1)
    frames = {s: b.iloc[:BARS_PER_SYMBOL] for s, b in market.bars.items()}
    total = sum(len(b) for b in frames.values())

    instruments = {s: models.Instrument.objects.create(symbol=s) for s in frames}
    start = time.perf_counter()
    with transaction.atomic():
        for symbol, bars in frames.items():
            storage.write_bars(instruments[symbol].id, Timeframe.M1, bars)
    write_s = time.perf_counter() - start

    # Full service path (validation + write) into fresh symbols, one symbol at a time...
    start = time.perf_counter()
    for symbol, bars in frames.items():
        services.bars_ingest(symbol=f"V{symbol}", timeframe="1m", bars=bars, source="bench")
    service_s = time.perf_counter() - start
    # ...and the bulk path: everything validated first, then two symbols at a time on two connections.
    start = time.perf_counter()
    services.bars_ingest_many(series=[(f"P{symbol}", "1m", bars, None) for symbol, bars in frames.items()],
                              source="bench", workers=2)
    many_s = time.perf_counter() - start

    # Peer: pandas.to_sql into an equivalent plain table.
    peer_frames = pd.concat([b.assign(symbol=s) for s, b in frames.items()]).reset_index()
    if connection.vendor == "postgresql":
        # Peer: the textbook psycopg COPY, one Python tuple per row, into an equivalent table.
        from sqlalchemy import create_engine

        engine = create_engine(database_url.replace("postgres://", "postgresql+psycopg://"))
        with connection.cursor() as cursor:
            cursor.execute("CREATE TABLE bench_peer_bars (symbol text, ts timestamptz, open float8, high float8, "
                           "low float8, close float8, volume float8, PRIMARY KEY (symbol, ts))")
        records = list(peer_frames[["symbol", "ts", "open", "high", "low", "close", "volume"]]
                       .itertuples(index=False, name=None))
        start = time.perf_counter()
        with transaction.atomic(), connection.cursor() as cursor:
            with cursor.cursor.copy("COPY bench_peer_bars FROM STDIN") as copy:
                for record in records:
                    copy.write_row(record)
        peer_s = time.perf_counter() - start
        peer_name = "psycopg COPY write_row"
    else:
        import sqlite3

        engine = sqlite3.connect(connection.settings_dict["NAME"])
        start = time.perf_counter()
        peer_frames.to_sql("bench_peer_bars", engine, if_exists="replace", index=False, chunksize=5_000)
        peer_s = time.perf_counter() - start
        peer_name = "pandas.to_sql"

    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:  # steady state: statistics and visibility map current
            cursor.execute("VACUUM ANALYZE marketdata_bar_1m")

    # Read one symbol-year (the first symbol's whole 100,000-bar span is ~1 year of minutes).
    inst = instruments[next(iter(frames))]
    bars0 = next(iter(frames.values()))
    lo, hi = bars0.index[0].to_pydatetime(), bars0.index[-1].to_pydatetime() + pd.Timedelta(minutes=1)
    timings = []
    for _ in range(READS):
        t = time.perf_counter()
        read = storage.read_bars(inst.id, Timeframe.M1, start=lo, end=hi)
        timings.append(time.perf_counter() - t)
    assert len(read) == len(bars0) and np.array_equal(read["close"].to_numpy(), bars0["close"].to_numpy())
    peer_sql = ("SELECT ts, open, high, low, close, volume FROM marketdata_bar WHERE instrument_id = %(i)s "
                "AND timeframe = '1m' AND ts >= %(lo)s AND ts < %(hi)s ORDER BY ts")
    peer_timings = []
    for _ in range(max(3, READS // 3)):
        t = time.perf_counter()
        if connection.vendor == "postgresql":
            peer = pd.read_sql(peer_sql, engine, params={"i": inst.id, "lo": lo, "hi": hi}, parse_dates=["ts"])
        else:
            peer = pd.read_sql(peer_sql.replace("%(i)s", "?").replace("%(lo)s", "?").replace("%(hi)s", "?"), engine,
                               params=(inst.id, str(lo.replace(tzinfo=None)), str(hi.replace(tzinfo=None))),
                               parse_dates=["ts"])
        peer_timings.append(time.perf_counter() - t)
    assert len(peer) == len(read)

    name = "PostgreSQL" if connection.vendor == "postgresql" else "SQLite"
    read_ms = statistics.median(timings) * 1000
    peer_ms = statistics.median(peer_timings) * 1000
    print(f"\n== {name} ({storage.storage_mode()})")
    print(f"ingest  {total:>9,} bars  write_bars   {write_s:7.2f} s  {total / write_s:>12,.0f} bars/s")
    print(f"ingest  {total:>9,} bars  bars_ingest  {service_s:7.2f} s  {total / service_s:>12,.0f} bars/s"
          "  (validation + write, one symbol at a time)")
    print(f"ingest  {total:>9,} bars  bars_ingest_many {many_s:5.2f} s  {total / many_s:>12,.0f} bars/s"
          "  (validation + write, 2 connections)")
    print(f"ingest  {total:>9,} bars  {peer_name} {peer_s:6.2f} s  {total / peer_s:>12,.0f} bars/s"
          f"  -> write_bars is {peer_s / write_s:.2f}x faster")
    print(f"read    {len(read):>9,} rows  read_bars    median {read_ms:6.1f} ms  (min {min(timings) * 1000:.1f},"
          f" max {max(timings) * 1000:.1f})")
    print(f"read    {len(read):>9,} rows  pandas.read_sql median {peer_ms:6.1f} ms  -> read_bars is "
          f"{peer_ms / read_ms:.1f}x faster")
    if connection.vendor == "postgresql":
        best = max(total / write_s, total / many_s)
        print(f"targets: ingest >= 500,000 bars/s: {'met' if best >= 500_000 else 'MISSED'} (best {best:,.0f}); "
              f"read <= 50 ms: {'met' if read_ms <= 50 else 'MISSED'}")


def main() -> None:
    if len(sys.argv) == 3 and sys.argv[1] == "--child":
        mode, url = sys.argv[2].split("|", 1)
        child(mode, url)
        return
    import psycopg

    db_name = f"bifrost_bench_{uuid.uuid4().hex[:8]}"
    admin_url = PG_ADMIN_URL.replace("postgres://", "postgresql://")
    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(f"CREATE DATABASE {db_name}")
    pg_url = PG_ADMIN_URL.rsplit("/", 1)[0] + f"/{db_name}"
    try:
        with tempfile.TemporaryDirectory() as tmp:
            env = dict(os.environ, BIFROST_DATA_DIR=tmp)
            env.pop("DATABASE_URL", None)
            env.pop("REDIS_URL", None)
            subprocess.run([sys.executable, __file__, "--child", f"pg|{pg_url}"], env=env, check=True)
            subprocess.run([sys.executable, __file__, "--child", "sqlite|"], env=env, check=True)
    finally:
        if os.environ.get("BENCH_KEEP") != "1":
            with psycopg.connect(admin_url, autocommit=True) as conn:
                conn.execute(f"DROP DATABASE IF EXISTS {db_name} WITH (FORCE)")
        else:
            print(f"kept database {db_name}")


if __name__ == "__main__":
    main()
