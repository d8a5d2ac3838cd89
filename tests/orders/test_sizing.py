"""Tests of position sizing.

Worked examples are hand arithmetic and exact (no tolerance):
10,000 / 187.44 = 53.35 -> 53 shares; 1,000 / 187.44 = 5.33504... -> 5.335 in lots of 0.001;
2% of 250,000 = 5,000, / 412.50 = 12.12 -> 12; 1% of 100,000 = 1,000 risked over
2 x ATR 2.50 = 5.00 per share -> 200 shares; 0.5% of 50,000 = 250 over 3 x 1.37 = 4.11 -> 60.8 -> 60.
The volatility formula is the Turtle unit (Faith, *Way of the Turtle*, 2007) for one share per point.
"""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bifrost.core.errors import InvalidInput
from bifrost.orders import (
    fixed_notional_shares,
    fixed_shares,
    percent_of_equity_shares,
    round_to_lot,
    volatility_shares,
)


def test_fixed_shares_whole_lot_returns_it():
    assert fixed_shares(300) == Decimal(300)


def test_fixed_shares_not_a_lot_multiple_raises():
    with pytest.raises(InvalidInput) as excinfo:
        fixed_shares("150", lot_size=100)

    assert str(excinfo.value) == "shares must be a whole multiple of lot_size 100, was 150"


def test_fixed_notional_shares_floors_to_whole_shares():
    assert fixed_notional_shares(Decimal("10000"), Decimal("187.44")) == Decimal(53)


def test_fixed_notional_shares_fractional_lot_floors_to_lot():
    quantity = fixed_notional_shares(Decimal("1000"), Decimal("187.44"), lot_size=Decimal("0.001"))

    assert quantity == Decimal("5.335")
    assert str(quantity) == "5.335"


def test_fixed_notional_shares_exact_multiple_is_not_floored_below():
    assert fixed_notional_shares(Decimal("1000"), Decimal("12.5")) == Decimal(80)


def test_fixed_notional_shares_just_below_a_whole_share_floors_exactly():
    # 2.99...9 with 31 nines would round to 3 at 28 digits; the floor must stay at 2.
    notional = Decimal("2." + "9" * 31)

    assert fixed_notional_shares(notional, Decimal(1)) == Decimal(2)


def test_percent_of_equity_shares_worked_example():
    assert percent_of_equity_shares(Decimal("250000"), Decimal("2"), Decimal("412.50")) == Decimal(12)


def test_percent_of_equity_shares_over_100_pct_raises():
    with pytest.raises(InvalidInput) as excinfo:
        percent_of_equity_shares(Decimal("250000"), Decimal("150"), Decimal("412.50"))

    assert str(excinfo.value) == "equity_pct must be between 0 and 100, was 150"


@pytest.mark.parametrize(("equity", "atr", "fraction", "multiple", "expected"), [
    ("100000", "2.50", "0.01", "2", Decimal(200)),
    ("50000", "1.37", "0.005", "3", Decimal(60)),
])
def test_volatility_shares_worked_examples(equity, atr, fraction, multiple, expected):
    assert volatility_shares(Decimal(equity), Decimal(atr), risk_fraction=Decimal(fraction),
                             atr_multiple=Decimal(multiple)) == expected


def test_volatility_shares_zero_equity_returns_zero():
    assert volatility_shares(Decimal(0), Decimal("2.50"), risk_fraction=Decimal("0.01"),
                             atr_multiple=Decimal(2)) == Decimal(0)


@pytest.mark.parametrize(("call", "message"), [
    (lambda: volatility_shares(Decimal(-1), Decimal("2.5"), risk_fraction=Decimal("0.01"), atr_multiple=2),
     "equity must not be negative, was -1"),
    (lambda: volatility_shares(Decimal(100000), Decimal(0), risk_fraction=Decimal("0.01"), atr_multiple=2),
     "atr must be positive, was 0"),
    (lambda: volatility_shares(Decimal(100000), Decimal("2.5"), risk_fraction=Decimal("1.5"), atr_multiple=2),
     "risk_fraction must be between 0 and 1, was 1.5"),
    (lambda: volatility_shares(Decimal(100000), Decimal("2.5"), risk_fraction=Decimal("0.01"), atr_multiple=0),
     "atr_multiple must be positive, was 0"),
    (lambda: fixed_notional_shares(Decimal(10000), Decimal(0)), "price must be positive, was 0"),
    (lambda: fixed_notional_shares(Decimal(-5), Decimal(10)), "notional must not be negative, was -5"),
    (lambda: percent_of_equity_shares(Decimal(1000), Decimal(5), Decimal("-3")), "price must be positive, was -3"),
    (lambda: fixed_notional_shares(Decimal(1000), Decimal(10), lot_size=0), "lot_size must be positive, was 0"),
    (lambda: fixed_notional_shares(Decimal(1000), Decimal(10), lot_size=Decimal("0.0000001")),
     "lot_size must have at most 6 decimal places, was 1E-7"),
    (lambda: fixed_notional_shares(10000.0, Decimal(10)),  # type: ignore[arg-type]
     "notional must be given as str, int or Decimal (not float): 10000.0"),
])
def test_sizers_bad_inputs_raise_clear_errors(call, message):
    with pytest.raises(InvalidInput) as excinfo:
        call()

    assert str(excinfo.value) == message


def test_round_to_lot_floors_to_hundreds():
    assert round_to_lot(Decimal("1299"), lot_size=100) == Decimal(1200)


@given(notional_cents=st.integers(min_value=0, max_value=10**12),
       price_ticks=st.integers(min_value=1, max_value=10**9),
       lot=st.sampled_from([Decimal(1), Decimal("0.001"), Decimal(100)]))
def test_fixed_notional_shares_any_inputs_is_largest_affordable_lot_multiple(notional_cents, price_ticks, lot):
    notional = Decimal(notional_cents).scaleb(-2)
    price = Decimal(price_ticks).scaleb(-4)

    quantity = fixed_notional_shares(notional, price, lot_size=lot)

    assert quantity >= 0
    assert quantity % lot == 0
    assert quantity * price <= notional
    assert (quantity + lot) * price > notional
