"""Order submission through the REST API against PostgreSQL (issue 3 target: p99 ≤ 10 ms at 100 orders/s).

Creates a scratch PostgreSQL database, migrates it, loads a symbol with daily bars, a
user with a token and a funded cash portfolio, starts the ASGI application under uvicorn
(``--workers`` processes) on a free loopback port, and sends GTC limit orders at a fixed
rate from a client thread pool for a fixed time. Every order goes through the full path:
authentication, validation, the pre-trade chain (cash, symbol, market hours, price band,
kill switches, risk limits, compliance lists and wash-sale screen), the paper venue's
acceptance, and persistence with its events and audit entry before acknowledgement.

It runs twice, once per ``BIFROST_ORDER_COMMIT`` mode: ``durable`` (each order's commit
waits for the disk) and ``fast`` (asynchronous commit). Beside them it measures the floor
the disk sets: a bare one-row INSERT + COMMIT on the same server, one at a time. Prints
p50, p99, max latency and the achieved rate. Traffic goes to 127.0.0.1 only and the run
stops by itself.

    python benchmarks/bench_api_orders.py [--rate 100] [--seconds 20] [--workers 2] [--modes durable,fast]
                                          [--redis redis://127.0.0.1:6379/0]
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(Path(__file__).resolve().parent))

from _rawhttp import close_all, post_json  # noqa: E402

PG_ADMIN_URL = os.environ.get("BENCH_PG_URL", "postgres://postgres@127.0.0.1:5432/postgres")


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


SETUP = r"""
import django, sys
django.setup()
from django.core.management import call_command
call_command("migrate", verbosity=0)
from django.contrib.auth import get_user_model
from rest_framework.authtoken.models import Token
from bifrost.core.calendars import get_calendar
from bifrost.marketdata.types import make_bars
import numpy as np
from bifrost_web.marketdata import services as md
from bifrost_web.trading import services as tr
sessions = get_calendar("XNYS").sessions_in_range("2024-01-02", "2024-12-31")
close = np.linspace(100, 120, len(sessions))
md.bars_ingest(symbol="ACME", timeframe="1d", source="bench",
               bars=make_bars(sessions.tz_localize("UTC"), close, close * 1.01, close * 0.99, close, np.full(len(sessions), 1e6)))
user = get_user_model().objects.create_user("bench", password="bench-password-1")
portfolio = tr.portfolio_create(owner=user, name="bench")
tr.cash_flow_record(user=user, portfolio_id=portfolio.pk, kind="deposit", amount="100000000")
print(Token.objects.create(user=user).key, portfolio.pk)
"""


def _commit_floor(url: str, n: int = 500) -> tuple[float, float]:
    """p50 and p99 of a bare one-row INSERT + COMMIT (synchronous), in milliseconds."""
    import psycopg

    table = f"bench_floor_{uuid.uuid4().hex[:8]}"  # a logged table: a temporary one skips the log
    with psycopg.connect(url.replace("postgres://", "postgresql://")) as conn:
        conn.execute(f"CREATE TABLE {table} (id serial PRIMARY KEY, v text)")
        conn.commit()
        try:
            times = []
            for _ in range(n):
                t0 = time.perf_counter()
                conn.execute(f"INSERT INTO {table} (v) VALUES ('x')")
                conn.commit()
                times.append((time.perf_counter() - t0) * 1000)
        finally:
            conn.rollback()
            conn.execute(f"DROP TABLE {table}")
            conn.commit()
    times.sort()
    return statistics.median(times), times[int(0.99 * (n - 1))]


async def _order(port: int, path: str, token: str, i: int, pool: asyncio.Queue) -> tuple[int, float]:
    """Send one GTC limit buy: (HTTP status, latency in ms from first byte sent to last byte received)."""
    return await post_json(port, path, token, {"client_order_id": f"b{i}", "symbol": "ACME", "side": "buy",
                                               "quantity": "1", "order_type": "limit", "limit_price": "90.00",
                                               "time_in_force": "gtc"}, pool)


async def _load(port: int, path: str, token: str, rate: float, seconds: float):
    """Warm up, then offer ``rate`` orders a second for ``seconds``, each at its scheduled time.

    Each order is its own task on its own connection (a new one when none is free), so the
    server can never hold back a send: latency runs from the request's first byte to the
    answer's last, and the client's own lateness against the schedule (timer wake-ups) is
    reported separately rather than charged to the server. One event loop, raw HTTP/1.1 on
    keep-alive connections: the client adds microseconds, not the milliseconds of a threaded
    HTTP library.
    """
    pool: asyncio.Queue = asyncio.Queue()
    loop = asyncio.get_running_loop()
    # warm up: several connections at once, so that every server worker process serves requests
    # (its first ones import and compile code paths)
    warm = await asyncio.gather(*(_order(port, path, token, -1 - i, pool) for i in range(16)))
    warm += await asyncio.gather(*(_order(port, path, token, -100 - i, pool) for i in range(200)))
    late: list[float] = []

    async def timed(i: int, due: float) -> tuple[float, int]:
        late.append((loop.time() - due) * 1000)
        status, latency = await _order(port, path, token, i, pool)
        return latency, status

    total = int(rate * seconds)
    gc.collect()
    gc.disable()  # the client's own collector pauses would show up as server latency
    start = loop.time() + 0.05
    tasks = []
    for i in range(total):
        due = start + i / rate
        delay = due - loop.time()
        if delay > 0:
            await asyncio.sleep(delay)
        tasks.append(asyncio.ensure_future(timed(i, due)))
    results = await asyncio.gather(*tasks)
    elapsed = loop.time() - start
    gc.enable()
    close_all(pool)
    late.sort()
    return {status for status, _ in warm}, results, elapsed, late[int(0.99 * (len(late) - 1))]


def _run(url: str, mode: str, args) -> dict:
    import psycopg

    admin = PG_ADMIN_URL.replace("postgres://", "postgresql://")
    db = f"bifrost_bench_api_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f"CREATE DATABASE {db}")
    url = PG_ADMIN_URL.rsplit("/", 1)[0] + f"/{db}"
    server = None
    try:
        with tempfile.TemporaryDirectory() as tmp:
            env = {k: v for k, v in os.environ.items() if k not in ("REDIS_URL", "CELERY_BROKER_URL")}
            env.update(DATABASE_URL=url, BIFROST_DATA_DIR=tmp, DJANGO_SETTINGS_MODULE="bifrost_web.config.settings.local",
                       BIFROST_LOG_LEVEL="WARNING", BIFROST_PROVIDER="none", BIFROST_ORDER_COMMIT=mode)
            if args.redis:  # the production cache and channel layer, under a prefix of this run's own
                env.update(REDIS_URL=args.redis, BIFROST_CACHE_PREFIX=db, BIFROST_CELERY_QUEUE=db)
            out = subprocess.run([sys.executable, "-c", SETUP], env=env, cwd=ROOT, capture_output=True, text=True,
                                 check=True).stdout.split()
            token, portfolio_id = out[-2], out[-1]
            port = _free_port()
            server = subprocess.Popen(
                [sys.executable, "-m", "uvicorn", "bifrost_web.config.asgi:application", "--host", "127.0.0.1",
                 "--port", str(port), "--workers", str(args.workers), "--log-level", "warning", "--no-access-log"],
                env=env, cwd=ROOT)
            base = f"http://127.0.0.1:{port}"
            deadline = time.monotonic() + 60
            while time.monotonic() < deadline:
                try:
                    requests.get(f"{base}/accounts/login/", timeout=1)
                    break
                except requests.ConnectionError:
                    time.sleep(0.2)
            path = f"/api/v1/portfolios/{portfolio_id}/orders/"
            warm, results, elapsed, late_p99 = asyncio.run(_load(port, path, token, args.rate, args.seconds))
            if warm != {201}:
                raise SystemExit(f"warm-up orders answered {sorted(warm)}; see the server log above")
            total = len(results)
    finally:
        if server is not None:
            server.terminate()
            server.wait(timeout=20)
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f"DROP DATABASE IF EXISTS {db} WITH (FORCE)")
    latencies = sorted(ms for ms, _ in results)
    return {"mode": mode, "orders": total, "rate": total / elapsed, "statuses": sorted({c for _, c in results}),
            "p50": statistics.median(latencies), "p99": latencies[int(0.99 * (len(latencies) - 1))],
            "max": latencies[-1], "late_p99": late_p99}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rate", type=float, default=100.0, help="orders per second")
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--workers", type=int, default=2, help="uvicorn worker processes")
    parser.add_argument("--modes", default="durable,fast", help="BIFROST_ORDER_COMMIT modes to run")
    parser.add_argument("--redis", default="", help="Redis URL for the cache (production set-up); none: in-process")
    args = parser.parse_args()

    floor_p50, floor_p99 = _commit_floor(PG_ADMIN_URL)
    print(f"disk floor on this PostgreSQL: bare INSERT + COMMIT p50 {floor_p50:.2f} ms, p99 {floor_p99:.2f} ms")
    print(f"REST order submit, PostgreSQL, {'Redis cache' if args.redis else 'in-process cache'}, {args.workers} "
          f"uvicorn workers, {args.rate:.0f} orders/s offered for {args.seconds:.0f} s")
    for mode in args.modes.split(","):
        r = _run(PG_ADMIN_URL, mode, args)
        met = r["p99"] <= 10 and r["statuses"] == [201]
        print(f"  {mode:8s} achieved {r['rate']:.1f}/s (statuses {r['statuses']}); p50 {r['p50']:.2f} ms, "
              f"p99 {r['p99']:.2f} ms, max {r['max']:.2f} ms; target p99 <= 10 ms: {'met' if met else 'MISSED'} "
              f"(client sends late against the schedule: p99 {r['late_p99']:.2f} ms)")


if __name__ == "__main__":
    main()
