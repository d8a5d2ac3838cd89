"""Rule 612 price grid (17 CFR 242.612): pennies at or above $1.00, hundredths of a cent below."""

from decimal import Decimal

import pytest

from bifrost.core.money import nms_tick, round_to_tick


@pytest.mark.parametrize(("price", "buy", "sell"), [
    ("49.995", "49.99", "50.00"),  # a half-cent mid
    ("50.00", "50.00", "50.00"),  # already on the grid
    ("1.00005", "1.00", "1.01"),  # at or above $1: pennies
    ("0.51235", "0.5123", "0.5124"),  # below $1: $0.0001
    ("0.99995", "0.9999", "1.0000"),
])
def test_round_to_tick_never_makes_a_limit_more_aggressive(price, buy, sell):
    assert round_to_tick(Decimal(price), passive_for_buy=True) == Decimal(buy)
    assert round_to_tick(Decimal(price), passive_for_buy=False) == Decimal(sell)


def test_nms_tick_switches_at_one_dollar():
    assert (nms_tick(Decimal("0.9999")), nms_tick(Decimal("1")), nms_tick(Decimal("250"))) == (
        Decimal("0.0001"), Decimal("0.01"), Decimal("0.01"))
