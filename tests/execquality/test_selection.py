"""Algorithm selection and the demo market: the choice beats a market order and a naive TWAP."""

import numpy as np
import pytest

from bifrost.core.errors import InvalidInput
from bifrost.execquality.impact import ImpactModel
from bifrost.execquality.selection import OrderProfile, recommend
from bifrost.execquality.simulation import (
    SimulatedMarket,
    compare_strategies,
    passive_statistics,
    schedule_for,
    u_shaped_curve,
)


def _profile(**kwargs):
    base = {"symbol": "X", "side": "buy", "quantity": 50_000, "price": 50.0, "adv": 1e6, "sigma_daily": 0.02,
            "spread_bps": 4.0, "urgency": "medium"}
    return OrderProfile(**{**base, **kwargs})


def test_candidates_carry_costs_risks_and_an_explanation():
    result = recommend(_profile())
    algos = {c.algo for c in result.candidates}
    assert {"market", "twap", "vwap", "pov", "is"} <= algos
    market = next(c for c in result.candidates if c.algo == "market")
    twap = next(c for c in result.candidates if c.algo == "twap")
    assert market.expected_cost_bps > twap.expected_cost_bps and market.risk_bps < twap.risk_bps
    assert result.best.algo.upper() in result.explanation and "5.00% of ADV" in result.explanation
    assert result.best.score == min(c.score for c in result.candidates if c.feasible)


def test_vwap_costs_less_than_twap_on_a_u_shaped_curve():
    result = recommend(_profile(urgency="low"), curve=u_shaped_curve())
    cost = {c.algo: c.expected_cost_bps for c in result.candidates if c.algo in ("twap", "vwap")}
    assert cost["vwap"] < cost["twap"]


def test_recalibrated_impact_changes_the_recommendation():
    profile = _profile(quantity=5_000, urgency="high", minutes_to_close=120)
    cheap = recommend(profile, ImpactModel(temporary=0.01, permanent=0.01, source="cal-1"))
    dear = recommend(profile, ImpactModel(temporary=1.5, permanent=1.0, source="cal-2"))
    assert cheap.best.algo != dear.best.algo or cheap.best.params != dear.best.params
    assert dear.best.expected_cost_bps > cheap.best.expected_cost_bps
    assert "cal-2" in dear.explanation


def test_pov_that_cannot_finish_before_the_close_is_infeasible():
    result = recommend(_profile(quantity=200_000, minutes_to_close=60))
    pov = [c for c in result.candidates if c.algo == "pov"]
    assert all(not c.feasible for c in pov) and result.best.feasible


def test_profile_validation():
    with pytest.raises(InvalidInput, match="urgency"):
        _profile(urgency="yesterday")
    with pytest.raises(InvalidInput, match="adv must be a positive number"):
        _profile(adv=0)


def test_selected_algorithm_beats_market_order_and_both_twaps_over_many_seeds():
    # 5 % of ADV in the seeded demo market (U-shaped volume, square-root temporary impact, resting orders
    # adversely selected). 1,000 paired seeds (5,000 in benchmarks/bench_impact_study.py): the 95 % interval
    # of every saving must exclude zero. The one-hour TWAP is the noisiest comparison: it carries far less
    # timing risk than a full-day schedule, so the paired differences spread by ~100 bps.
    result = compare_strategies(market=SimulatedMarket(), quantity=50_000, urgency="low", seeds=1000)
    assert result.selected == "vwap (passive)"
    mean, low, _ = result.improvement_vs_market_bps
    assert low > 50
    for mean, low, _ in (result.improvement_vs_twap_bps, result.improvement_vs_full_twap_bps):
        assert low > 0 and mean > 1.0
    # working passively is what beats the full-day TWAP: the aggressive VWAP alone saves ~0.3 bps
    assert result.mean_shortfall_bps["selected"] < result.mean_shortfall_bps["vwap"] - 0.5


def test_passive_candidate_wins_only_when_tca_says_resting_pays():
    # saving = fill rate * (spread - 2 * adverse selection): 0.75 * (4 - 2 * 1.5) = 0.75 bps
    pays = recommend(_profile(urgency="low", passive_fill_rate=0.75, adverse_selection_bps=1.5),
                     curve=u_shaped_curve())
    assert pays.best.algo == "vwap" and pays.best.params["style"] == "passive"
    aggressive = next(c for c in pays.candidates if c.algo == "vwap" and "style" not in c.params)
    assert pays.best.expected_cost_bps == pytest.approx(aggressive.expected_cost_bps - 0.75, abs=1e-12)
    assert "VWAP (passive)" in pays.explanation
    loses = recommend(_profile(urgency="low", passive_fill_rate=0.5, adverse_selection_bps=2.5),
                      curve=u_shaped_curve())
    assert loses.best.params.get("style") != "passive"


def test_predicted_passive_saving_has_the_sign_of_the_simulated_one():
    # a queue of 1,000 shares ahead fills few resting shares, mostly when the price falls: resting loses
    for queue, pays in ((500.0, True), (1000.0, False)):
        market = SimulatedMarket(queue_ahead_shares=queue)
        fill_rate, adverse = passive_statistics(market=market, quantity=50_000)
        predicted = fill_rate * (market.spread_bps - 2 * adverse)
        target = 50_000 * np.concatenate(([0.0], np.cumsum(schedule_for("vwap", quantity=1.0, market=market))))
        passive = market.execute_passive(target, seeds=range(200))["shortfall_bps"]
        aggressive = np.array([market.execute(np.diff(target), seed=s)["shortfall_bps"] for s in range(200)])
        simulated = float((aggressive - passive).mean())
        assert (predicted > 0) is pays and (simulated > 0) is pays
        chosen = compare_strategies(market=market, quantity=50_000, urgency="low", seeds=2).selected
        assert (chosen == "vwap (passive)") is pays


def test_passive_execution_without_fills_crosses_each_slice_one_minute_late():
    # limiting case: nothing ever reaches a resting order, so every slice is crossed at the next minute
    market = SimulatedMarket(queue_ahead_shares=1e12)
    per_minute = schedule_for("twap", quantity=39_000, market=market)
    target = np.concatenate(([0.0], np.cumsum(per_minute)))
    late = np.concatenate(([0.0], per_minute[:-1]))
    late[-1] += per_minute[-1]
    result = market.execute_passive(target, seeds=range(5))
    expected = [market.execute(late, seed=s)["shortfall_bps"] for s in range(5)]
    np.testing.assert_allclose(result["shortfall_bps"], expected, rtol=1e-12)
    assert (result["passive_fraction"] == 0).all() and (result["filled"] == 39_000).all()


def test_resting_fills_are_adversely_selected_only_when_flow_moves_the_price():
    target = np.concatenate(([0.0], np.cumsum(schedule_for("twap", quantity=39_000, market=SimulatedMarket()))))
    linked = SimulatedMarket(flow_price_correlation=0.8).execute_passive(target, seeds=range(200))
    unlinked = SimulatedMarket(flow_price_correlation=0.0).execute_passive(target, seeds=range(200))
    assert np.allclose(linked["filled"], 39_000) and np.allclose(unlinked["filled"], 39_000)
    assert 0 < linked["passive_fraction"].mean() < 1
    # independent flow: the mid move after a fill averages zero (minute sd ~10 bps / 2, 200 x 390 minutes)
    assert abs(unlinked["adverse_selection_bps"].mean()) < 0.2
    assert linked["adverse_selection_bps"].mean() > 1.0
    assert linked["shortfall_bps"].mean() > unlinked["shortfall_bps"].mean()


def test_passive_execution_rejects_a_bad_target():
    with pytest.raises(InvalidInput, match="391 non-decreasing"):
        SimulatedMarket().execute_passive(np.linspace(100, 0, 391), seeds=range(2))
    with pytest.raises(InvalidInput, match="catch_up_minutes must be at least 1, was 0"):
        SimulatedMarket().execute_passive(np.linspace(0, 100, 391), seeds=range(2), catch_up_minutes=0)
