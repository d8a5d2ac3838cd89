"""Cash events validate on construction: sign rules per kind, currency minor units, entry ids."""

from datetime import UTC, datetime
from decimal import Decimal

import pytest

from bifrost.core.errors import InvalidInput
from bifrost.portfolio import Deposit, Fee, Interest, Withdrawal

T = datetime(2024, 3, 1, 15, tzinfo=UTC)


@pytest.mark.parametrize(("kind", "amount", "message"), [
    (Deposit, "0", "deposit amount must be positive, was 0"),
    (Deposit, "-5", "deposit amount must be positive, was -5"),
    (Withdrawal, "-1.50", "withdrawal amount must be positive, was -1.50"),
    (Fee, "0.00", "fee amount must not be zero"),
    (Interest, "0", "interest amount must not be zero"),
    (Deposit, "1.001", "amount must have at most 2 decimal places for USD, was 1.001"),
])
def test_cash_event_bad_amount_is_refused_with_its_rule(kind, amount, message):
    with pytest.raises(InvalidInput, match=message.replace(".", r"\.")):
        kind(entry_id="e1", ts_event=T, amount=amount)


def test_fee_rebate_and_interest_paid_may_be_negative():
    assert Fee(entry_id="f", ts_event=T, amount="-2.5").amount == Decimal("-2.5")
    assert Interest(entry_id="i", ts_event=T, amount="-0.01").amount == Decimal("-0.01")


def test_cash_events_of_different_kinds_never_compare_equal():
    deposit = Deposit(entry_id="x", ts_event=T, amount="10", currency="usd")
    withdrawal = Withdrawal(entry_id="x", ts_event=T, amount="10")
    assert deposit.currency == "USD" and deposit != withdrawal
    assert deposit == Deposit(entry_id="x", ts_event=T, amount=Decimal("10.00"))


def test_cash_event_naive_time_and_empty_entry_id_are_refused():
    with pytest.raises(InvalidInput, match="entry_id must be 1-128 characters"):
        Deposit(entry_id="", ts_event=T, amount="1")
    with pytest.raises(InvalidInput, match="ts_event"):
        Deposit(entry_id="d", ts_event=datetime(2024, 3, 1), amount="1")
