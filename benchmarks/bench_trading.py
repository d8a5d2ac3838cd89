"""Order submit → paper fill → ledger posted, in process (issue 3 target: p99 ≤ 200 µs).

Each iteration submits a market order through the full pre-trade chain, feeds the
next one-minute bar to the paper exchange (which fills it at the open with
per-share commission and SEC/TAF fees on sells), applies the events to the order
and posts the fill to the double-entry ledger with lot relief. Buys and sells
alternate so the book stays small. Prints p50, p99, max and throughput.

    python benchmarks/bench_trading.py [iterations]
"""

from __future__ import annotations

import gc
import statistics
import sys
import time
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bifrost.core.time import SimulatedClock  # noqa: E402
from bifrost.execution import CompositeFeeModel, PaperExchange, PerShareFeeModel, RegulatoryFees  # noqa: E402
from bifrost.orders import OrderRequest  # noqa: E402
from bifrost.portfolio import Deposit, Ledger, LedgerConfig  # noqa: E402
from bifrost.trading import MarketView, TradingEngine  # noqa: E402


def main(iterations: int = 20_000, *, freeze_gc: bool = False) -> None:
    start = datetime(2024, 6, 3, 13, 30, tzinfo=UTC)
    clock = SimulatedClock(start)
    ledger = Ledger(LedgerConfig())
    ledger.post(Deposit(entry_id="seed", ts_event=start, amount=Decimal("1000000000")))
    venue = PaperExchange(CompositeFeeModel(PerShareFeeModel(), RegulatoryFees()))
    engine = TradingEngine(portfolio_id="bench", ledger=ledger, venue=venue, clock=clock,
                           market=MarketView(last_prices={"ACME": Decimal("50")}, known_symbols={"ACME"}))
    minute = timedelta(minutes=1)
    timings = []
    if freeze_gc:
        # A long-running trading process freezes its start-up objects and raises the young
        # generation threshold so the collector does not stop a fill to scan them.
        gc.collect()
        gc.freeze()
        gc.set_threshold(50_000, 50, 100)
    ts = start
    for i in range(iterations):
        side = "buy" if i % 2 == 0 else "sell"
        request = OrderRequest(client_order_id=f"o{i}", symbol="ACME", side=side, quantity="100",
                               time_in_force="gtc")
        price = 50.0 + (i % 7) * 0.01
        t0 = time.perf_counter_ns()
        engine.submit(request)
        clock.advance_to(ts + minute)
        entries = engine.on_bar("ACME", ts, price, price + 0.05, price - 0.05, price, 1_000_000, bar_end=ts + minute)
        timings.append(time.perf_counter_ns() - t0)
        assert len(entries) == 1
        ts += minute
    ledger.reconcile()
    timings_us = sorted(t / 1000 for t in timings)
    p50 = statistics.median(timings_us)
    p99 = timings_us[int(0.99 * (len(timings_us) - 1))]
    total_s = sum(timings) / 1e9
    gc.set_threshold(700, 10, 10)
    gc.unfreeze()
    label = "gc frozen, young threshold 50,000" if freeze_gc else "default gc"
    print(f"submit → paper fill → ledger, {iterations:,} orders (pre-trade chain, per-share + SEC/TAF fees; {label})")
    print(f"p50 {p50:7.1f} µs   p99 {p99:7.1f} µs   max {timings_us[-1]:8.1f} µs")
    print(f"throughput {iterations / total_s:,.0f} orders/s")
    print(f"target p99 <= 200 µs: {'met' if p99 <= 200 else 'MISSED'}")


if __name__ == "__main__":
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 20_000
    main(n)
    main(n, freeze_gc=True)
