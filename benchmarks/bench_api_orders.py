"""Order submission through the REST API against PostgreSQL (issue 3 target: p99 ≤ 10 ms at 100 orders/s).

Creates a scratch PostgreSQL database, migrates it, loads a symbol with daily bars, a
user with a token and a funded cash portfolio, starts ``bifrost serve`` (uvicorn,
``--workers`` processes) on a free loopback port, and sends GTC limit orders at a
fixed rate from a client thread pool for a fixed time. Every order goes through
the full path: authentication, validation, persistence before acknowledgement,
the pre-trade chain (cash, symbol, market hours, price band, kill switches) and
the paper venue's acceptance. Prints p50, p99, max latency and the achieved rate.
Traffic goes to 127.0.0.1 only and the run stops by itself.

    python benchmarks/bench_api_orders.py [--rate 100] [--seconds 20] [--workers 2]
"""

from __future__ import annotations

import argparse
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parents[1]
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


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rate", type=float, default=100.0, help="orders per second")
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--workers", type=int, default=2, help="uvicorn worker processes")
    args = parser.parse_args()

    import psycopg

    db = f"bifrost_bench_api_{uuid.uuid4().hex[:8]}"
    admin = PG_ADMIN_URL.replace("postgres://", "postgresql://")
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f"CREATE DATABASE {db}")
    url = PG_ADMIN_URL.rsplit("/", 1)[0] + f"/{db}"
    server = None
    try:
        with tempfile.TemporaryDirectory() as tmp:
            env = {k: v for k, v in os.environ.items() if k not in ("REDIS_URL", "CELERY_BROKER_URL")}
            env.update(DATABASE_URL=url, BIFROST_DATA_DIR=tmp, DJANGO_SETTINGS_MODULE="bifrost_web.config.settings.local",
                       BIFROST_LOG_LEVEL="WARNING", BIFROST_PROVIDER="none")
            out = subprocess.run([sys.executable, "-c", SETUP], env=env, cwd=ROOT, capture_output=True, text=True,
                                 check=True).stdout.split()
            token, portfolio_id = out[-2], out[-1]
            port = _free_port()
            server = subprocess.Popen(
                [sys.executable, "-m", "uvicorn", "bifrost_web.config.asgi:application", "--host", "127.0.0.1",
                 "--port", str(port), "--workers", str(args.workers), "--log-level", "warning", "--no-access-log"],
                env=env, cwd=ROOT)
            base = f"http://127.0.0.1:{port}"
            deadline = time.monotonic() + 30
            while time.monotonic() < deadline:
                try:
                    requests.get(f"{base}/accounts/login/", timeout=1)
                    break
                except requests.ConnectionError:
                    time.sleep(0.2)
            endpoint = f"{base}/api/v1/portfolios/{portfolio_id}/orders/"
            local = threading.local()

            def send(i: int) -> tuple[float, int]:
                session = getattr(local, "session", None)
                if session is None:
                    session = local.session = requests.Session()
                    session.headers["Authorization"] = f"Token {token}"
                body = {"client_order_id": f"b{i}", "symbol": "ACME", "side": "buy", "quantity": "1",
                        "order_type": "limit", "limit_price": "90.00", "time_in_force": "gtc"}
                t0 = time.perf_counter()
                response = session.post(endpoint, json=body, timeout=10)
                return (time.perf_counter() - t0) * 1000, response.status_code

            for i in range(20):  # warm up connections and code paths
                send(-1 - i)
            total = int(args.rate * args.seconds)
            results = []
            start = time.perf_counter()
            with ThreadPoolExecutor(max_workers=16) as pool:
                futures = []
                for i in range(total):
                    due = start + i / args.rate
                    delay = due - time.perf_counter()
                    if delay > 0:
                        time.sleep(delay)
                    futures.append(pool.submit(send, i))
                results = [f.result() for f in futures]
            elapsed = time.perf_counter() - start
            latencies = sorted(ms for ms, _ in results)
            statuses = {code for _, code in results}
            p99 = latencies[int(0.99 * (len(latencies) - 1))]
            print(f"REST order submit, PostgreSQL, {args.workers} uvicorn workers, {total} orders at {args.rate:.0f}/s "
                  f"target (statuses {sorted(statuses)})")
            print(f"achieved {total / elapsed:.1f} orders/s; latency p50 {statistics.median(latencies):.2f} ms, "
                  f"p99 {p99:.2f} ms, max {latencies[-1]:.2f} ms")
            print(f"target p99 <= 10 ms at 100 orders/s: {'met' if p99 <= 10 and statuses == {201} else 'MISSED'}")
    finally:
        if server is not None:
            server.terminate()
            server.wait(timeout=20)
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f"DROP DATABASE IF EXISTS {db} WITH (FORCE)")


if __name__ == "__main__":
    main()
