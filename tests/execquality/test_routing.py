"""Smart order routing across maker-taker and inverted venues."""

import numpy as np
import pytest
from scipy.optimize import linprog

from bifrost.core.errors import InvalidInput
from bifrost.execquality.routing import (
    VenueProfile,
    VenueQuote,
    demo_venues,
    route_order,
    simulate_route,
)

VENUES = [VenueProfile(name="MT", taker_fee_per_share=0.0030, maker_rebate_per_share=0.0025),
          VenueProfile(name="INV", taker_fee_per_share=-0.0010, maker_rebate_per_share=-0.0015)]


def test_cheaper_venue_with_enough_liquidity_gets_the_whole_order():
    quotes = [VenueQuote(venue="MT", bid=9.99, bid_size=5000, ask=10.00, ask_size=5000),
              VenueQuote(venue="INV", bid=9.99, bid_size=5000, ask=10.00, ask_size=5000)]
    plan = route_order(side="buy", quantity=1000, venues=VENUES, quotes=quotes)
    assert [(leg.venue, leg.quantity) for leg in plan.legs] == [("INV", 1000)]
    assert plan.expected_all_in_price == pytest.approx(10.00 - 0.0010)


def test_order_sweeps_across_venues_when_one_is_not_enough():
    quotes = [VenueQuote(venue="MT", bid=9.99, bid_size=5000, ask=10.00, ask_size=800),
              VenueQuote(venue="INV", bid=9.99, bid_size=5000, ask=10.00, ask_size=300)]
    plan = route_order(side="buy", quantity=1000, venues=VENUES, quotes=quotes)
    assert [(leg.venue, leg.quantity) for leg in plan.legs] == [("INV", 300), ("MT", 700)]
    assert plan.unrouted == 0


def test_a_better_price_beats_a_rebate_and_the_limit_is_respected():
    quotes = [VenueQuote(venue="MT", bid=10.02, bid_size=400, ask=10.03, ask_size=400),
              VenueQuote(venue="INV", bid=10.01, bid_size=400, ask=10.04, ask_size=400)]
    plan = route_order(side="sell", quantity=1000, venues=VENUES, quotes=quotes, limit_price=10.015)
    assert [(leg.venue, leg.action) for leg in plan.legs] == [("MT", "take"), ("MT", "post")]
    # the remainder rests at the limit on the venue that pays makers best (maker-taker here)
    assert plan.legs[1].quantity == 600 and plan.legs[1].price == 10.015


def test_greedy_split_equals_the_linear_programme_optimum():
    rng = np.random.default_rng(1)
    venues = demo_venues()
    for _ in range(20):
        quotes = [VenueQuote(venue=v.name, bid=9.99, bid_size=float(rng.integers(0, 800)),
                             ask=10.00 + 0.01 * int(rng.integers(0, 3)), ask_size=float(rng.integers(0, 800)))
                  for v in venues]
        quantity = float(rng.integers(100, 1500))
        plan = route_order(side="buy", quantity=quantity, venues=venues, quotes=quotes, latency_cost_per_ms=0.0001,
                           post_remainder=False)
        cost = np.array([q.ask + v.taker_fee_per_share + v.latency_ms * 0.0001 + (1 - v.fill_probability) * 0.01
                         for v, q in zip(venues, quotes, strict=True)])
        sizes = [q.ask_size for q in quotes]
        target = min(quantity, sum(sizes))
        lp = linprog(cost, A_eq=[np.ones(len(venues))], b_eq=[target], bounds=list(zip([0] * 4, sizes, strict=True)))
        greedy = sum(leg.quantity * leg.expected_cost_per_share for leg in plan.legs)
        assert greedy == pytest.approx(lp.fun, rel=1e-9)


def test_child_requests_carry_venue_hints():
    quotes = [VenueQuote(venue="MT", bid=9.99, bid_size=500, ask=10.00, ask_size=500),
              VenueQuote(venue="INV", bid=9.99, bid_size=500, ask=10.00, ask_size=200)]
    plan = route_order(side="buy", quantity=600, venues=VENUES, quotes=quotes)
    requests = plan.child_requests(parent_id="P", symbol="ACME")
    assert [r.tag for r in requests] == ["venue=INV", "venue=MT"]
    assert [r.time_in_force.value for r in requests] == ["ioc", "ioc"]


def test_simulated_routing_fills_with_venue_probabilities():
    venue = [VenueProfile(name="A", fill_probability=0.5)]
    quotes = [VenueQuote(venue="A", bid=9.99, bid_size=100, ask=10.0, ask_size=100)]
    plan = route_order(side="buy", quantity=100, venues=venue, quotes=quotes)
    rate = np.mean([simulate_route(plan, seed=s)["filled"] / 100 for s in range(2000)])
    assert rate == pytest.approx(0.5, abs=0.04)


def test_routing_validation():
    with pytest.raises(InvalidInput, match="unknown venue"):
        route_order(side="buy", quantity=1, venues=VENUES, quotes=[VenueQuote(venue="Z", bid=1, bid_size=1, ask=2,
                                                                                ask_size=1)])
    with pytest.raises(InvalidInput, match="crossed"):
        VenueQuote(venue="Z", bid=2, bid_size=1, ask=1, ask_size=1)
    with pytest.raises(InvalidInput, match="taker_fee_per_share"):
        VenueProfile(name="X", taker_fee_per_share=0.01)
