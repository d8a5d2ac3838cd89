"""Algorithm selection and the demo market: the choice beats a market order and a naive TWAP."""

import pytest

from bifrost.core.errors import InvalidInput
from bifrost.execquality.impact import ImpactModel
from bifrost.execquality.selection import OrderProfile, recommend
from bifrost.execquality.simulation import SimulatedMarket, compare_strategies, u_shaped_curve


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


def test_selected_algorithm_beats_market_order_and_naive_twap_over_many_seeds():
    # 5 % of ADV in the seeded demo market (U-shaped volume, square-root temporary impact).
    result = compare_strategies(market=SimulatedMarket(), quantity=50_000, urgency="low", seeds=1000)
    mean, low, _ = result.improvement_vs_market_bps
    assert low > 0 and mean > 50
    mean, low, _ = result.improvement_vs_twap_bps
    assert low > 0
    assert result.mean_shortfall_bps["selected"] < result.mean_shortfall_bps["twap"]
