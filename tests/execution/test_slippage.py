"""Slippage models: hand-worked prices (exact Decimal unless a tolerance is stated)."""

import math
from decimal import Decimal

import pytest

from bifrost.core.errors import InvalidInput, UnknownSymbol
from bifrost.execution import (
    FixedBpsSlippage,
    NoSlippage,
    SpreadSlippage,
    SquareRootImpactSlippage,
)
from bifrost.orders.types import Side

D = Decimal


def _price(model, side, reference, quantity=100, symbol="AAPL"):
    return model.execution_price(symbol=symbol, side=side, reference_price=D(reference), quantity=D(quantity))


def test_fixed_bps_slippage_buy_pays_more_sell_receives_less():
    # 10 bps of 100 = 0.10.
    model = FixedBpsSlippage(slippage_bps=10)

    assert _price(model, Side.BUY, "100") == D("100.10")
    assert _price(model, Side.SELL, "100") == D("99.90")


def test_fixed_bps_slippage_rounds_against_the_taker_to_the_tick():
    # 1 bp of 100.00 = 0.01 -> buy 100.01, sell 99.99; 1 bp of 50.05 = 0.005005 -> buy 50.06, sell 50.04.
    model = FixedBpsSlippage(slippage_bps=1, tick_size="0.01")

    assert _price(model, Side.BUY, "50.05") == D("50.06")
    assert _price(model, Side.SELL, "50.05") == D("50.04")


def test_no_slippage_sub_tick_price_rounds_against_the_taker():
    model = NoSlippage(tick_size="0.01")

    assert _price(model, Side.BUY, "100.003") == D("100.01")
    assert _price(model, Side.SELL, "100.003") == D("100.00")


def test_fixed_bps_slippage_negative_raises_naming_field():
    with pytest.raises(InvalidInput, match="slippage_bps must be a finite non-negative number"):
        FixedBpsSlippage(slippage_bps=-1)


def test_spread_slippage_pays_half_the_spread():
    # Full spread 10 bps -> half 5 bps of 50 = 0.025.
    model = SpreadSlippage(spread_bps=10)

    assert _price(model, Side.BUY, "50") == D("50.025")
    assert _price(model, Side.SELL, "50") == D("49.975")


def test_spread_slippage_observed_quote_replaces_the_estimate():
    # Quote 99.99 / 100.01: spread 0.02 over mid 100 = 2 bps -> half 1 bp of 100 = 0.01.
    model = SpreadSlippage(spread_bps=50)

    model.observe_quote("AAPL", D("99.99"), D("100.01"))

    assert _price(model, Side.BUY, "100") == D("100.01")
    assert _price(model, Side.BUY, "100", symbol="MSFT") == D("100.25")  # default 50 bps -> 25 bps


def test_spread_slippage_unknown_symbol_without_default_raises():
    model = SpreadSlippage(spreads_bps={"MSFT": 4})

    with pytest.raises(UnknownSymbol, match="no spread known for symbol 'AAPL'"):
        _price(model, Side.BUY, "100")


def test_square_root_impact_worked_example_buy_100_21():
    # P = 100, spread 2 bps, sigma 2 %, Y = 1, Q = 10,000, ADV = 1,000,000:
    # cost = 0.0002 / 2 + 0.02 x 1 x sqrt(0.01) = 0.0001 + 0.002 = 0.0021 -> buy 100.21, sell 99.79.
    model = SquareRootImpactSlippage(volatility_daily=0.02, adv_shares=1_000_000, spread_bps=2)

    assert model.cost_fraction(symbol="AAPL", quantity=10_000) == pytest.approx(0.0021, abs=1e-15)
    assert _price(model, Side.BUY, "100", 10_000) == D("100.21")
    assert _price(model, Side.SELL, "100", 10_000) == D("99.79")


def test_square_root_impact_four_times_the_size_doubles_the_impact():
    # Limiting/scaling case of the square-root law, no spread: sqrt(4Q/ADV) = 2 sqrt(Q/ADV).
    model = SquareRootImpactSlippage(volatility_daily=0.015, adv_shares=2_000_000, impact_coefficient=0.8)

    small = model.cost_fraction(symbol="AAPL", quantity=5_000)
    large = model.cost_fraction(symbol="AAPL", quantity=20_000)

    assert large == pytest.approx(2 * small, rel=1e-12)
    assert small == pytest.approx(0.015 * 0.8 * math.sqrt(5_000 / 2_000_000), rel=1e-12)


def test_square_root_impact_zero_quantity_costs_half_the_spread():
    model = SquareRootImpactSlippage(volatility_daily=0.02, adv_shares=1_000_000, spread_bps=10)

    assert _price(model, Side.BUY, "100", 0) == D("100.05")


def test_square_root_impact_per_symbol_parameters_override_defaults():
    model = SquareRootImpactSlippage(volatilities_daily={"TSLA": 0.04}, advs_shares={"TSLA": 100_000_000})

    # cost = 0.04 x sqrt(1,000,000 / 100,000,000) = 0.04 x 0.1 = 0.004 -> 250 x 1.004 = 251.
    assert _price(model, Side.BUY, "250", 1_000_000, symbol="TSLA") == D("251")
    with pytest.raises(UnknownSymbol, match="no daily volatility or ADV known for symbol 'AAPL'"):
        _price(model, Side.BUY, "100")
