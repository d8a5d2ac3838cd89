"""Risk limits applied to a strategy's targets in a backtest (``run(..., target_adjuster=...)``).

Expected order sizes are worked out here by hand from the bars: whole shares toward zero of
(capped weight x equity / last close), equity being the starting cash before any fill.
"""

from __future__ import annotations

import math

import pytest

from bifrost.backtest import run
from bifrost.backtest.strategy import Strategy
from bifrost.core.errors import InvalidInput
from bifrost.risk import Limit, LimitSet, LimitTargetAdjuster
from tests.factories import xnys_daily_bars

CASH = 100_000.0


class _TargetOnce(Strategy):
    """On the first bar: ``order_target_percent`` of each target, or one ``rebalance`` to them all."""

    targets: dict[str, float] = {}
    use_rebalance = False

    def on_bar(self, ctx, bar) -> None:
        if getattr(self, "_done", False):
            return
        self._done = True
        if self.use_rebalance:
            ctx.rebalance(self.targets)
        else:
            for symbol, weight in self.targets.items():
                ctx.order_target_percent(symbol, weight)


def _strategy(targets: dict[str, float], *, rebalance: bool) -> _TargetOnce:
    strategy = _TargetOnce()
    strategy.targets = targets
    strategy.use_rebalance = rebalance
    return strategy


@pytest.fixture(scope="module")
def bars():
    return {symbol: xnys_daily_bars("2024-01-02", "2024-02-29", seed=seed, price=price)
            for symbol, seed, price in (("AAA", 1, 100.0), ("BBB", 2, 50.0), ("CCC", 3, 80.0))}


def _ordered(record) -> dict[str, float]:
    return dict(zip(record.orders["symbol"], record.orders["quantity"], strict=True))


def _shares(weight: float, close: float) -> float:
    return float(math.floor(weight * CASH / close))


@pytest.mark.parametrize("rebalance", [False, True])
def test_target_adjuster_weight_cap_sizes_40pct_target_to_25pct(bars, rebalance):
    adjuster = LimitTargetAdjuster(limit_set=LimitSet((Limit(kind="position_weight", soft=0.2, hard=0.25),)))
    record = run(_strategy({"AAA": 0.4}, rebalance=rebalance), {"AAA": bars["AAA"]}, cash=CASH,
                 target_adjuster=adjuster)
    first_close = float(bars["AAA"]["close"].iloc[0])
    assert _ordered(record) == {"AAA": _shares(0.25, first_close)}
    assert _shares(0.25, first_close) < _shares(0.4, first_close)  # the cap did bind
    (entry,) = record.target_adjustments
    assert entry["targets"] == {"AAA": 0.4} and entry["adjusted"] == {"AAA": pytest.approx(0.25)}
    assert entry["adjustments"] == ["AAA: position weight cap, 40.00% -> 25.00%"]


def test_target_adjuster_without_limits_hit_leaves_targets(bars):
    adjuster = LimitTargetAdjuster(limit_set=LimitSet((Limit(kind="position_weight", hard=0.5),)))
    record = run(_strategy({"AAA": 0.4}, rebalance=False), {"AAA": bars["AAA"]}, cash=CASH, target_adjuster=adjuster)
    assert _ordered(record) == {"AAA": _shares(0.4, float(bars["AAA"]["close"].iloc[0]))}
    assert record.target_adjustments == ()


def test_target_adjuster_sector_cap_scales_sector_names_pro_rata(bars):
    sectors = {"AAA": "Technology", "BBB": "Technology", "CCC": "Energy"}
    adjuster = LimitTargetAdjuster(limit_set=LimitSet((Limit(kind="sector_weight", hard=0.3),)), sectors=sectors)
    targets = {"AAA": 0.3, "BBB": 0.15, "CCC": 0.25}  # the cap is per sector: Energy is within it
    record = run(_strategy(targets, rebalance=True), bars, cash=CASH, target_adjuster=adjuster)
    closes = {s: float(b["close"].iloc[0]) for s, b in bars.items()}
    # Technology asks for 45 %, capped at 30 %: both names x 30/45, keeping their 2:1 ratio
    expected = {"AAA": _shares(0.2, closes["AAA"]), "BBB": _shares(0.1, closes["BBB"]),
                "CCC": _shares(0.25, closes["CCC"])}
    assert _ordered(record) == expected
    (entry,) = record.target_adjustments
    assert entry["adjusted"] == {"AAA": pytest.approx(0.2), "BBB": pytest.approx(0.1), "CCC": 0.25}
    assert entry["adjustments"] == ["sector Technology: 45.00% scaled to 30.00%"]


def test_order_target_percent_counts_held_sector_names(bars):
    """A single-name target is adjusted as part of the book it would make: held names count."""

    class Twice(Strategy):
        ordered_bbb_at = None

        def on_bar(self, ctx, bar) -> None:
            if not getattr(self, "_aaa", False):
                self._aaa = ctx.order_target_percent("AAA", 0.2) is not None
            elif ctx.position("AAA") and self.ordered_bbb_at is None:
                ctx.order_target_percent("BBB", 0.2)
                self.ordered_bbb_at = ctx.now

    sectors = {"AAA": "Technology", "BBB": "Technology", "CCC": "Energy"}
    adjuster = LimitTargetAdjuster(limit_set=LimitSet((Limit(kind="sector_weight", hard=0.3),)), sectors=sectors)
    strategy = Twice()
    record = run(strategy, bars, cash=CASH, target_adjuster=adjuster)
    (entry,) = record.target_adjustments  # the first order is within the cap
    aaa_fill = record.fills[record.fills["symbol"] == "AAA"].iloc[0]
    shares_a = float(aaa_fill["quantity"])
    day = strategy.ordered_bbb_at.normalize()
    close_a, close_b = float(bars["AAA"]["close"].loc[day]), float(bars["BBB"]["close"].loc[day])
    equity = CASH - shares_a * float(aaa_fill["price"]) - float(aaa_fill["commission"]) + shares_a * close_a
    held = shares_a * close_a / equity
    # AAA is held: BBB's 20 % is cut so that AAA + BBB come to 30 %, pro rata
    bbb_weight = 0.2 * 0.3 / (held + 0.2)
    assert shares_a == _shares(0.2, float(bars["AAA"]["close"].iloc[0]))
    # tolerance 1e-6: the broker books cash in cents, this sum does not
    assert entry["targets"] == {"BBB": 0.2} and entry["adjusted"] == {"BBB": pytest.approx(bbb_weight, rel=1e-6)}
    assert _ordered(record)["BBB"] == math.floor(bbb_weight * equity / close_b)
    assert entry["adjustments"] == [f"sector Technology: {held + 0.2:.2%} scaled to 30.00%"]


def test_run_refuses_an_adjuster_that_is_not_callable(bars):
    with pytest.raises(InvalidInput, match="target_adjuster must be callable"):
        run(_strategy({"AAA": 0.4}, rebalance=False), {"AAA": bars["AAA"]}, target_adjuster=0.25)
