"""Tests of time- and money-weighted returns.

References
----------
* CFA Institute, CFA Program Curriculum, Level I, Quantitative Methods, "Discounted
  Cash Flow Applications": an investor buys one share at $200 at t=0 and another at
  $225 at t=1, and sells both at $235 at t=2; each share pays a $5 dividend at the end
  of each year. Published: money-weighted return 9.39%, time-weighted return 10.76%
  a year. The curriculum rounds holding-period returns to 4 places before linking,
  so the published figures are checked to 1e-4; the exact closed forms to 1e-12.
* Microsoft Support, "XIRR function" (Excel help), example: -10,000 on 2008-01-01,
  2,750 on 2008-03-01, 4,250 on 2008-10-30, 3,250 on 2009-02-15, 2,750 on
  2009-04-01; XIRR = 0.373362535. Excel iterates to 1e-6 %, so checked to 1e-8.
* Hand-worked examples in the test comments, checked to 1e-12.
"""

from __future__ import annotations

import math
from datetime import date

import numpy as np
import pytest

from bifrost.core.errors import InvalidInput
from bifrost.portfolio import (
    NavPoint,
    annualise,
    modified_dietz,
    money_weighted_return,
    period_returns,
    time_weighted_return,
    xirr,
)

EXACT = 1e-12


def _cfa_series() -> list[NavPoint]:
    # The investor's account: 200 in at t0; at t1 the share is worth 225 and paid 5, the
    # investor adds 220 (225 less the dividend) for a second share: NAV 450 after the flow.
    # At t2 two shares at 235 plus 2 x 5 dividends: NAV 480. 2021 and 2022 have 365 days each.
    return [NavPoint(date(2021, 1, 1), 200.0, 200.0), NavPoint(date(2022, 1, 1), 450.0, 220.0),
            NavPoint(date(2023, 1, 1), 480.0)]


def test_time_weighted_return_cfa_example_matches_published_10_76_pct():
    # Year 1: (450 - 220) / 200 - 1 = 15%; year 2: 480 / 450 - 1 = 6.667%.
    # Annualised: sqrt(1.15 x 1.066667) - 1 = 10.755%.
    points = _cfa_series()

    total = time_weighted_return(points)
    annual = annualise(total, (points[-1].date - points[0].date).days)

    assert total == pytest.approx(1.15 * 480.0 / 450.0 - 1.0, abs=EXACT)
    assert annual == pytest.approx(math.sqrt(1.15 * 480.0 / 450.0) - 1.0, abs=EXACT)
    assert annual == pytest.approx(0.1076, abs=1e-4)


def test_money_weighted_return_cfa_example_matches_published_9_39_pct():
    # -200 - 220 / (1 + r) + 480 / (1 + r)^2 = 0. With x = 1 / (1 + r):
    # 480 x^2 - 220 x - 200 = 0, x = (220 + sqrt(220^2 + 4 x 480 x 200)) / 960, r = 1/x - 1.
    exact = 960.0 / (220.0 + math.sqrt(220.0**2 + 4 * 480.0 * 200.0)) - 1.0

    rate = money_weighted_return(_cfa_series())

    assert rate == pytest.approx(exact, abs=EXACT)
    assert rate == pytest.approx(0.0939, abs=1e-4)


def test_xirr_excel_help_example_matches_published_value():
    flows = [(date(2008, 1, 1), -10000.0), (date(2008, 3, 1), 2750.0), (date(2008, 10, 30), 4250.0),
             (date(2009, 2, 15), 3250.0), (date(2009, 4, 1), 2750.0)]

    rate = xirr(flows)

    assert rate == pytest.approx(0.373362535, abs=1e-8)


def test_xirr_unsorted_flows_give_same_rate():
    flows = [(date(2009, 4, 1), 2750.0), (date(2008, 1, 1), -10000.0), (date(2008, 10, 30), 4250.0),
             (date(2009, 2, 15), 3250.0), (date(2008, 3, 1), 2750.0)]

    assert xirr(flows) == pytest.approx(0.373362535, abs=1e-8)


def test_xirr_over_leap_year_uses_actual_over_365():
    # 2024 has 366 days: 1000 -> 1100 over 366/365 years, r = 1.1^(365/366) - 1.
    rate = xirr([(date(2024, 1, 1), -1000.0), (date(2025, 1, 1), 1100.0)])

    assert rate == pytest.approx(1.1 ** (365 / 366) - 1.0, abs=EXACT)
    assert rate < 0.1


def test_xirr_total_loss_below_minus_90_pct_is_found():
    # 1000 -> 5 over one 365-day year: r = 0.005 - 1 = -99.5%.
    rate = xirr([(date(2021, 1, 1), -1000.0), (date(2022, 1, 1), 5.0)])

    assert rate == pytest.approx(-0.995, abs=EXACT)


def test_xirr_flows_of_one_sign_raise_invalid_input():
    with pytest.raises(InvalidInput, match="at least one negative .* and one positive"):
        xirr([(date(2021, 1, 1), -1000.0), (date(2022, 1, 1), -5.0)])


def test_modified_dietz_flow_on_day_ten_of_thirty_weights_two_thirds():
    # 31 Jan -> 1 Mar 2024 is CD = 30 days. A 100 inflow at the end of 10 Feb (D = 10)
    # has weight (30 - 10) / 30 = 2/3: R = (1150 - 1000 - 100) / (1000 + 66.667) = 0.046875.
    # At the start of the day the weight is 21/30 = 0.7: R = 50 / 1070.
    points = [NavPoint(date(2024, 1, 31), 1000.0), NavPoint(date(2024, 2, 10), 1080.0, 100.0),
              NavPoint(date(2024, 3, 1), 1150.0)]

    end_of_day = modified_dietz(points)
    start_of_day = modified_dietz(points, flows_at="start")

    assert end_of_day == pytest.approx(0.046875, abs=EXACT)
    assert start_of_day == pytest.approx(50.0 / 1070.0, abs=EXACT)


def test_modified_dietz_cfa_example_weights_mid_period_flow_one_half():
    # CD = 730, the 220 flow at D = 365 weighs 0.5: (480 - 200 - 220) / (200 + 110) = 60 / 310.
    assert modified_dietz(_cfa_series()) == pytest.approx(60.0 / 310.0, abs=EXACT)


def test_period_returns_flow_timing_changes_the_day_of_the_flow():
    # Day 1: 100 -> 110 (+10%). Day 2: NAV 168 after a 50 inflow:
    #   end of day:   (168 - 50) / 110 - 1 = 0.072727...
    #   start of day: 168 / (110 + 50) - 1 = 0.05.
    # Day 3: 168 -> 151.2 (-10%).
    points = [NavPoint(date(2024, 1, 2), 100.0), NavPoint(date(2024, 1, 3), 110.0),
              NavPoint(date(2024, 1, 4), 168.0, 50.0), NavPoint(date(2024, 1, 5), 151.2)]

    end = period_returns(points)
    start = period_returns(points, flows_at="start")

    np.testing.assert_allclose(end, [0.1, 118.0 / 110.0 - 1.0, -0.1], atol=EXACT)
    np.testing.assert_allclose(start, [0.1, 0.05, -0.1], atol=EXACT)
    assert time_weighted_return(points, flows_at="start") == pytest.approx(1.1 * 1.05 * 0.9 - 1.0, abs=EXACT)


def test_time_weighted_return_ignores_size_of_flows():
    # Same daily returns (+10%, -10%) with and without a large inflow: same TWR, -1%.
    small = [NavPoint(date(2024, 1, 2), 100.0), NavPoint(date(2024, 1, 3), 110.0),
             NavPoint(date(2024, 1, 4), 99.0)]
    large = [NavPoint(date(2024, 1, 2), 100.0), NavPoint(date(2024, 1, 3), 1110.0, 1000.0),
             NavPoint(date(2024, 1, 4), 999.0)]

    assert time_weighted_return(small) == pytest.approx(-0.01, abs=EXACT)
    assert time_weighted_return(large) == pytest.approx(-0.01, abs=EXACT)


def test_time_weighted_return_zero_starting_capital_raises_invalid_input():
    points = [NavPoint(date(2024, 1, 2), 0.0), NavPoint(date(2024, 1, 3), 100.0, 100.0)]

    with pytest.raises(InvalidInput, match="the sub-period ending 2024-01-03 starts with no capital"):
        time_weighted_return(points)


def test_time_weighted_return_unordered_dates_raise_invalid_input():
    points = [NavPoint(date(2024, 1, 3), 100.0), NavPoint(date(2024, 1, 2), 100.0)]

    with pytest.raises(InvalidInput, match="strictly increasing date order: 2024-01-02 follows 2024-01-03"):
        time_weighted_return(points)


def test_nav_point_nan_raises_invalid_input():
    with pytest.raises(InvalidInput, match="NavPoint nav must be finite, was nan"):
        NavPoint(date(2024, 1, 2), float("nan"))


def test_annualise_two_year_return_gives_geometric_annual_rate():
    # 10.25% over two years is 1.1025^(1/2) - 1 = 5% a year.
    assert annualise(0.05, 365) == pytest.approx(0.05, abs=EXACT)
    assert annualise(0.1025, 730) == pytest.approx(0.05, abs=EXACT)
