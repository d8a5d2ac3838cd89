"""Benchmark: wash-sale detection and lot relief over 100,000 trades (target <= 1 s).

Runs ``bifrost.compliance.compute_tax_lots`` (FIFO relief, wash sales across a taxable
account and an IRA) on a synthetic history - a long-only FIFO history, so it runs on the
compiled core (``bifrost/compliance/_washcore.py``) - and, in the same run, a
straightforward quadratic implementation of the same rules: the Python engine with every
loss sale scanning every purchase for replacement shares, instead of a binary search on the
window and a skip list over used-up purchases. The quadratic one is timed on a prefix,
since it grows with n²; both are timed on that prefix for the ratio, and they must agree on
the disallowed total and on every disposal, wash sale and open lot.

    .venv/bin/python benchmarks/bench_compliance.py [--trades 100000] [--peer-trades 10000]
"""

from __future__ import annotations

import argparse
import time
from collections import defaultdict
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import numpy as np

from bifrost.compliance import (
    AccountProfile,
    IdenticalGroups,
    TaxLotMethod,
    TaxResult,
    TaxTrade,
    compute_tax_lots,
)
from bifrost.compliance.tax import _Engine


def synthetic_trades(n: int, *, symbols: int = 2000, seed: int = 7) -> list[TaxTrade]:
    """Buys and sells of ``symbols`` stocks over about 2 years; sells never exceed holdings."""
    rng = np.random.default_rng(seed)
    start = datetime(2023, 1, 3, 15, tzinfo=UTC)
    held: dict[tuple[str, str], int] = defaultdict(int)
    prices = rng.uniform(20, 200, symbols)
    trades = []
    seconds = np.sort(rng.integers(0, 730 * 86400, n))
    for i in range(n):
        s = int(rng.integers(symbols))
        symbol = f"S{s:03d}"
        account = "IRA" if rng.random() < 0.1 else "TAX"
        prices[s] *= float(np.exp(rng.normal(0, 0.02)))
        price = Decimal(f"{prices[s]:.2f}")
        quantity = int(rng.integers(1, 100))
        if held[account, symbol] > 0 and rng.random() < 0.5:
            quantity = min(quantity, held[account, symbol])
            action = "sell"
            held[account, symbol] -= quantity
        else:
            action = "buy"
            held[account, symbol] += quantity
        trades.append(TaxTrade(trade_id=f"T{i}", account=account, ts=start + timedelta(seconds=int(seconds[i])),
                               symbol=symbol, action=action, quantity=Decimal(quantity), price=price,
                               fees=Decimal("0.35")))
    return trades


class _QuadraticEngine(_Engine):
    """The same rules with the straightforward search: every loss scans every purchase."""

    def index_acquisitions(self, trades):
        super().index_acquisitions(trades)
        self.everything = [acq for group in self.groups.values() for acq in group.acqs]
        self.everything.sort(key=lambda acq: (acq.trade.ts, acq.trade.trade_id))

    def _candidates(self, group, day):
        for acq in self.everything:  # O(purchases) per loss: quadratic overall
            if acq.trade.wash_symbol == group.acqs[0].trade.wash_symbol and abs(acq.day - day) <= 30:
                yield acq


def quadratic_tax_lots(trades: list[TaxTrade], accounts) -> TaxResult:
    engine = _QuadraticEngine(accounts=accounts, identical=IdenticalGroups(), default_method=TaxLotMethod.FIFO,
                              wash_sales=True, quantum=Decimal("0.01"))
    ordered = sorted(trades, key=lambda t: t.ts)
    engine.scale(ordered, [])
    engine.index_acquisitions(ordered)
    for order, trade in enumerate(ordered):
        quantity, amount = engine.units(trade.quantity), engine.amount(trade)
        if trade.action.value == "buy":
            engine.buy(order, trade, quantity, amount)
        else:
            engine.close(order, trade, trade.trade_date.toordinal(), quantity, amount)
    return engine.result()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--trades", type=int, default=100_000)
    parser.add_argument("--peer-trades", type=int, default=10_000)
    parser.add_argument("--symbols", type=int, default=2000,
                        help="symbols traded (2000: ~50 trades per symbol over two years; 200 is a much denser "
                             "history with several lots per sale and more wash sales)")
    args = parser.parse_args()
    accounts = {"TAX": AccountProfile(), "IRA": AccountProfile(tax_advantaged=True)}
    trades = synthetic_trades(args.trades, symbols=args.symbols)
    compute_tax_lots(trades[:100], accounts=accounts)  # compile (or load the cached build of) the core
    times = []
    for _ in range(3):
        began = time.perf_counter()
        result = compute_tax_lots(trades, accounts=accounts)
        times.append(time.perf_counter() - began)
    print(f"compute_tax_lots: {len(trades):,} trades, {len(result.disposals):,} disposals, "
          f"{len(result.wash_sales):,} wash-sale matches in {min(times):.3f} s best, "
          f"{sorted(times)[1]:.3f} s median of 3 (target <= 1 s)")
    prefix = trades[: args.peer_trades]
    began = time.perf_counter()
    ours = compute_tax_lots(prefix, accounts=accounts)
    ours_s = time.perf_counter() - began
    began = time.perf_counter()
    theirs_result = quadratic_tax_lots(prefix, accounts)
    theirs = sum((d.wash_disallowed for d in theirs_result.disposals), Decimal(0))
    quadratic_s = time.perf_counter() - began
    ours_total = sum((d.wash_disallowed for d in ours.disposals), Decimal(0))
    same = (ours_total == theirs and ours.disposals == theirs_result.disposals
            and ours.wash_sales == theirs_result.wash_sales and ours.open_lots == theirs_result.open_lots)
    print(f"on {len(prefix):,} trades: bifrost {ours_s:.3f} s, quadratic {quadratic_s:.3f} s, "
          f"ratio {quadratic_s / ours_s:.1f}x; disallowed {ours_total} vs {theirs} "
          f"({'agree, every record' if same else 'DIFFER'})")


if __name__ == "__main__":
    main()
