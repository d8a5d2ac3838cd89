"""Backtest engines on the same strategy and data, in one run (issue 4 targets).

Strategy: long-only SMA(10)/SMA(30) crossover, 100 shares per entry, market orders filled
at the next bar's open, 0.1 % commission, on synthetic one-minute bars (a seeded
regime-switching random walk on XNYS sessions). Every engine gets the same bars; the
trade counts and final equities are printed so the runs can be seen to agree.

* Bifrost event-driven engine (``bifrost.backtest.run``), target >= 1,000,000 bars/s;
* Bifrost fast path (``bifrost.backtest.fast``), target >= 1.5x vectorbt's
  ``Portfolio.from_signals`` on the same entry/exit arrays;
* Backtrader, backtesting.py and vectorbt as peers;
* multi-asset: 500 symbols x 10 years of daily bars, monthly momentum rebalance,
  target <= 3 s end to end.

    python benchmarks/bench_backtest.py [--bars 1000000] [--peer-bars N] [--skip-backtrader]

Backtrader is slow (about 18,000 bars/s); ``--peer-bars`` limits the bars it gets (its
throughput is reported per bar either way). Needs ``pip install -e '.[test,bench]'``.
"""

from __future__ import annotations

import argparse
import sys
import time
import warnings
from datetime import date
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bifrost.backtest import Strategy, run, strategy_class  # noqa: E402
from bifrost.backtest.fast import crossover_signals, simulate_signals, sma_crossover_fast  # noqa: E402
from bifrost.indicators.vectorised import sma  # noqa: E402
from bifrost.marketdata.synthetic import generate_bars, generate_market  # noqa: E402

FAST, SLOW, SHARES, COMMISSION, CASH = 10, 30, 100, 0.001, 10_000_000.0


def timed(fn, repeat: int = 1):
    best, result = float("inf"), None
    for _ in range(repeat):
        start = time.perf_counter()
        result = fn()
        best = min(best, time.perf_counter() - start)
    return best, result


class SmaCrossEveryBar(Strategy):
    """The same rule as the shipped ``sma_crossover``, written with ``on_bar``: the engine
    must call the strategy on every bar (the shipped example uses a signal callback, so the
    engine visits only the bars where the averages cross or an order is working)."""

    params = {"fast": FAST, "slow": SLOW, "quantity": SHARES}

    def on_start(self, ctx):
        self.cross = ctx.crossover(ctx.indicator("sma", period=self.p.fast), ctx.indicator("sma", period=self.p.slow))

    def on_bar(self, ctx, bar):
        cross = self.cross[0]
        if cross > 0:
            if ctx.position(bar.symbol) == 0:
                ctx.buy(bar.symbol, self.p.quantity)
        elif cross < 0:
            held = ctx.position(bar.symbol)
            if held > 0:
                ctx.sell(bar.symbol, held)


def bifrost_event(bars, strategy: Strategy | None = None):
    """The engine run itself (the shipped ``sma_crossover`` unless another strategy is given);
    the trade list is derived from the record outside the timing."""
    strategy = strategy or strategy_class("sma_crossover")(fast=FAST, slow=SLOW, quantity=SHARES)
    return run(strategy, {"ACME": bars}, timeframe="1m", commission_bps=COMMISSION * 1e4, cash=CASH)


def backtrader_run(bars):
    import backtrader as bt

    class SmaCross(bt.Strategy):
        def __init__(self):
            self.cross = bt.ind.CrossOver(bt.ind.SMA(period=FAST), bt.ind.SMA(period=SLOW))

        def next(self):
            if not self.position and self.cross[0] > 0:
                self.buy(size=SHARES)
            elif self.position and self.cross[0] < 0:
                self.close()

    cerebro = bt.Cerebro(stdstats=False)
    frame = bars.copy()
    frame.index = frame.index.tz_convert(None)
    cerebro.adddata(bt.feeds.PandasData(dataname=frame, timeframe=bt.TimeFrame.Minutes))
    cerebro.addstrategy(SmaCross)
    cerebro.broker.setcash(CASH)
    cerebro.broker.setcommission(commission=COMMISSION)
    cerebro.addanalyzer(bt.analyzers.TradeAnalyzer, _name="trades")
    strategy = cerebro.run()[0]
    closed = strategy.analyzers.trades.get_analysis().get("total", {}).get("closed", 0)
    return closed, cerebro.broker.getvalue()


def backtesting_run(bars):
    from backtesting import Backtest, Strategy
    from backtesting.lib import crossover

    def rolling_mean(values, n):
        return pd.Series(values).rolling(n).mean().to_numpy()

    class SmaCross(Strategy):
        def init(self):
            self.fast = self.I(rolling_mean, self.data.Close, FAST)
            self.slow = self.I(rolling_mean, self.data.Close, SLOW)

        def next(self):
            if not self.position and crossover(self.fast, self.slow):
                self.buy(size=SHARES)
            elif self.position and crossover(self.slow, self.fast):
                self.position.close()

    frame = bars.rename(columns=str.capitalize)
    frame.index = frame.index.tz_convert(None)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        stats = Backtest(frame, SmaCross, cash=CASH, commission=COMMISSION).run()
    return int(stats["# Trades"]), float(stats["Equity Final [$]"])


def signals(bars):
    close = bars["close"].to_numpy()
    return crossover_signals(sma(close, FAST), sma(close, SLOW))


def vectorbt_from_signals(bars, entries, exits):
    import vectorbt as vbt

    # a signal on bar i executes at the open of bar i + 1: shift the signals, trade at the open
    shifted_entries = np.concatenate([[False], entries[:-1]])
    shifted_exits = np.concatenate([[False], exits[:-1]])
    portfolio = vbt.Portfolio.from_signals(bars["close"].to_numpy(), shifted_entries, shifted_exits,
                                           price=bars["open"].to_numpy(), size=SHARES, fees=COMMISSION,
                                           init_cash=CASH, freq="1min")
    return portfolio


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--bars", type=int, default=1_000_000)
    parser.add_argument("--peer-bars", type=int, default=None, help="bars for Backtrader (default: all)")
    parser.add_argument("--skip-backtrader", action="store_true")
    parser.add_argument("--symbols", type=int, default=500)
    args = parser.parse_args()

    t0 = time.perf_counter()
    bars = generate_bars(start=date(2012, 1, 1), end=date(2024, 12, 31), timeframe="1m", seed=7).iloc[: args.bars]
    n = len(bars)
    print(f"data: {n:,} one-minute bars generated in {time.perf_counter() - t0:.1f} s")
    rows = []

    seconds, record = timed(lambda: bifrost_event(bars), repeat=3)
    rows.append(("bifrost event-driven (signal callbacks)", n, seconds, len(record.trades()), record.final_equity))
    event_rate = n / seconds
    seconds, record = timed(lambda: bifrost_event(bars, SmaCrossEveryBar()), repeat=3)
    rows.append(("bifrost event-driven (on_bar every bar)", n, seconds, len(record.trades()), record.final_equity))
    every_bar_rate = n / seconds

    entries, exits = signals(bars)
    simulate_signals(bars.iloc[:1000], entries[:1000], exits[:1000], quantity=SHARES, cash=CASH)  # JIT warm-up
    seconds, record = timed(lambda: simulate_signals(bars, entries, exits, quantity=SHARES, cash=CASH,
                                                     commission_bps=COMMISSION * 1e4), repeat=5)
    rows.append(("bifrost fast path (signals->portfolio)", n, seconds, len(record.record().trades()),
                 record.final_equity))
    fast_rate = n / seconds
    seconds, record = timed(lambda: sma_crossover_fast(bars, fast=FAST, slow=SLOW, quantity=SHARES, cash=CASH,
                                                       commission_bps=COMMISSION * 1e4), repeat=3)
    rows.append(("bifrost fast path (with SMAs)", n, seconds, len(record.trades()), record.final_equity))

    vectorbt_rate = None
    try:
        vectorbt_from_signals(bars.iloc[:1000], entries[:1000], exits[:1000])  # JIT warm-up
        seconds, portfolio = timed(lambda: vectorbt_from_signals(bars, entries, exits), repeat=5)
        rows.append(("vectorbt Portfolio.from_signals", n, seconds, int(portfolio.trades.count()),
                     float(portfolio.final_value())))
        vectorbt_rate = n / seconds
    except ImportError:
        print("vectorbt not installed: pip install -e '.[bench]'")

    seconds, (trades, equity) = timed(lambda: backtesting_run(bars))
    rows.append(("backtesting.py", n, seconds, trades, equity))
    backtesting_rate = n / seconds

    backtrader_rate = None
    if not args.skip_backtrader:
        peer = bars.iloc[: args.peer_bars] if args.peer_bars else bars
        seconds, (trades, equity) = timed(lambda: backtrader_run(peer))
        rows.append(("backtrader" + (f" (first {len(peer):,} bars)" if args.peer_bars else ""), len(peer), seconds,
                     trades, equity))
        backtrader_rate = len(peer) / seconds

    print(f"\n{'engine':42s} {'bars':>10s} {'seconds':>9s} {'bars/s':>12s} {'trades':>7s} {'final equity':>16s}")
    for name, count, seconds, trades, equity in rows:
        print(f"{name:42s} {count:10,d} {seconds:9.3f} {count / seconds:12,.0f} {trades:7d} {equity:16,.2f}")

    print("\nratios (same run):")
    for label, rate in (("signal callbacks", event_rate), ("on_bar every bar", every_bar_rate)):
        print(f"  event engine, {label}: {rate:,.0f} bars/s (target >= 1,000,000): "
              f"{rate / backtesting_rate:.1f}x backtesting.py"
              + (f", {rate / backtrader_rate:.0f}x backtrader" if backtrader_rate else ""))
    if vectorbt_rate:
        print(f"  fast path: {fast_rate / vectorbt_rate:.2f}x vectorbt from_signals (target >= 1.5x)")

    # multi-asset: 500 symbols x 10 years, monthly momentum rebalance
    t0 = time.perf_counter()
    market = generate_market(symbols=args.symbols, start=date(2015, 1, 1), end=date(2024, 12, 31), seed=3)
    data = dict(market.bars)
    generated = time.perf_counter() - t0
    bar_count = sum(len(f) for f in data.values())
    seconds, record = timed(lambda: run("momentum_rotation", data, params={"top_n": 20}, cash=10_000_000,
                                        commission_bps=5))
    print(f"\nmulti-asset: {args.symbols} symbols x 10 years = {bar_count:,} daily bars (generated in "
          f"{generated:.1f} s): momentum rotation end to end {seconds:.2f} s (target <= 3 s), "
          f"{len(record.fills):,} fills, {bar_count / seconds:,.0f} bars/s, final equity {record.final_equity:,.2f}")


if __name__ == "__main__":
    main()
