"""Impact study of issue 6: the selected algorithm against a market order and naive TWAPs.

A 5 %-of-ADV buy is worked in the seeded demo market (:class:`SimulatedMarket`: U-shaped
volume, square-root temporary and linear permanent impact, a quoted spread, resting orders
filled from the other side's flow with adverse selection) by

* the recommended algorithm (:func:`recommend`, which learns the passive fill rate and
  adverse selection from TCA of past sessions, :func:`passive_statistics`),
* a market order, a one-hour TWAP and a full-day TWAP, each crossing the spread,
* an aggressive VWAP, to show what working passively adds to following the volume curve.

Every strategy trades the same market paths (seeds); improvements are paired differences
of implementation shortfall against the arrival mid, with a Student-t 95 % interval. The
sensitivity table repeats the comparison with a deeper queue ahead of resting orders and
with a tighter link between order flow and price moves (more adverse selection).

    python benchmarks/bench_impact_study.py [seeds]
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bifrost.execquality import SimulatedMarket, compare_strategies  # noqa: E402
from bifrost.execquality.simulation import passive_statistics  # noqa: E402

QUANTITY = 50_000  # 5 % of the demo market's ADV of 1,000,000 shares


def _interval(values: tuple[float, float, float]) -> str:
    mean, low, high = values
    return f"{mean:7.2f} bps (95% CI {low:.2f} to {high:.2f})"


def main(seeds: int) -> None:
    start = time.perf_counter()
    market = SimulatedMarket()
    result = compare_strategies(market=market, quantity=QUANTITY, urgency="low", seeds=seeds)
    fill_rate, adverse = passive_statistics(market=market, quantity=QUANTITY)
    print(f"{QUANTITY:,} shares = {QUANTITY / market.adv:.0%} of ADV, spread {market.spread_bps} bps, daily "
          f"volatility {market.sigma_daily:.0%}; {seeds:,} paired seeds")
    print(f"past-session TCA: passive fill rate {fill_rate:.1%}, adverse selection {adverse:.2f} bps")
    print(f"selected: {result.selected.upper()}")
    for name, value in result.mean_shortfall_bps.items():
        print(f"  mean shortfall {name:>10}: {value:8.2f} bps")
    print(f"  saves vs market order : {_interval(result.improvement_vs_market_bps)}")
    print(f"  saves vs full-day TWAP: {_interval(result.improvement_vs_full_twap_bps)}")
    print(f"  saves vs 1-hour TWAP  : {_interval(result.improvement_vs_twap_bps)}")
    print("sensitivity (1,000 seeds): queue ahead, flow/price correlation -> selected, saving vs full-day TWAP")
    for queue, correlation in ((250.0, 0.8), (1000.0, 0.8), (500.0, 0.6), (500.0, 0.95)):
        other = SimulatedMarket(queue_ahead_shares=queue, flow_price_correlation=correlation)
        row = compare_strategies(market=other, quantity=QUANTITY, urgency="low", seeds=1000)
        print(f"  {queue:6.0f} shares, {correlation:.2f}: {row.selected:<15} {_interval(row.improvement_vs_full_twap_bps)}")
    print(f"({time.perf_counter() - start:.1f} s)")


if __name__ == "__main__":
    import argparse

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("seeds", nargs="?", type=int, default=5000, help="paired seeds (market paths)")
    main(parser.parse_args().seeds)
