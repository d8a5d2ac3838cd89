"""Tests of the double-entry ledger: entries, fills, cash events, limits and idempotency.

Amounts are debit positive: cash and positions carry positive balances, credits
(contributions, realised gains, income) negative ones. All values here are exact
Decimals worked out by hand in the comments; tolerance is zero.
"""

from __future__ import annotations

from decimal import Decimal

import pytest

from bifrost.core.errors import InvalidInput, NotFoundError, StateConflict
from bifrost.portfolio import (
    Account,
    AccountKind,
    Dividend,
    EntryKind,
    Fee,
    InsufficientFunds,
    Interest,
    InvalidLotSelection,
    JournalEntry,
    Ledger,
    LedgerConfig,
    LeverageExceeded,
    LotSelection,
    ReconciliationError,
    ShortSaleRefused,
    Split,
    Withdrawal,
)
from tests.portfolio.helpers import T0, at, make_deposit, make_fill

USD = "USD"


def _acct(kind: AccountKind, currency: str = USD) -> Account:
    return Account(kind, currency)


def _margin_ledger(limit: str = "2") -> Ledger:
    return Ledger(LedgerConfig(margin=True, leverage_limit=Decimal(limit)))


# ---------------------------------------------------------------- journal entries


def test_journal_entry_unbalanced_lines_raises_invalid_input():
    # Arrange: 100.00 debited to cash but only 90.00 credited: off by 10.00.
    lines = ((Account.cash(), Decimal("100.00")), (_acct(AccountKind.ADJUSTMENTS), Decimal("-90.00")))

    # Act / Assert
    with pytest.raises(InvalidInput) as info:
        JournalEntry(entry_id="adj-1", ts_event=T0, kind=EntryKind.ADJUSTMENT, lines=lines)
    assert str(info.value) == ("journal entry adj-1 does not balance: lines sum to 10.00 USD; "
                               "lines must sum to zero in each currency")
    assert info.value.details["imbalance"] == {"USD": "10.00"}


def test_journal_entry_balanced_across_currencies_only_raises_invalid_input():
    # Arrange: +100 USD and -100 EUR sum to zero only if currencies are ignored.
    lines = ((Account.cash("USD"), Decimal("100")), (_acct(AccountKind.ADJUSTMENTS, "EUR"), Decimal("-100")))

    # Act / Assert
    with pytest.raises(InvalidInput, match=r"lines sum to -100 EUR, 100 USD"):
        JournalEntry(entry_id="fx-1", ts_event=T0, kind=EntryKind.ADJUSTMENT, lines=lines)


def test_journal_entry_float_amount_raises_invalid_input():
    with pytest.raises(InvalidInput, match="must be a finite Decimal, was 1.5"):
        JournalEntry(entry_id="bad", ts_event=T0, kind=EntryKind.ADJUSTMENT,
                     lines=((Account.cash(), 1.5), (_acct(AccountKind.ADJUSTMENTS), Decimal("-1.5"))))


def test_post_adjustment_balanced_entry_updates_both_accounts():
    # Arrange
    ledger = Ledger()
    entry = JournalEntry(entry_id="adj-1", ts_event=T0, kind=EntryKind.ADJUSTMENT, memo="broker correction",
                         lines=((Account.cash(), Decimal("0.01")), (_acct(AccountKind.ADJUSTMENTS), Decimal("-0.01"))))

    # Act
    posted = ledger.post(entry)

    # Assert
    assert posted is entry
    assert ledger.cash() == Decimal("0.01")
    assert ledger.balance(_acct(AccountKind.ADJUSTMENTS)) == Decimal("-0.01")


def test_post_adjustment_touching_position_account_raises_and_posts_nothing():
    # Arrange
    ledger = Ledger()
    entry = JournalEntry(entry_id="adj-2", ts_event=T0, kind=EntryKind.ADJUSTMENT,
                         lines=((Account.position("AAPL"), Decimal("5")), (Account.cash(), Decimal("-5"))))

    # Act / Assert
    with pytest.raises(InvalidInput, match="touches position account position:AAPL:USD"):
        ledger.post(entry)
    assert len(ledger) == 0
    assert ledger.balances() == {}


# ---------------------------------------------------------------- deposits and withdrawals


def test_deposit_debits_cash_and_credits_contributions():
    ledger = Ledger()

    entry = ledger.post(make_deposit("10000.00"))

    assert entry.kind is EntryKind.DEPOSIT
    assert ledger.cash() == Decimal("10000.00")
    assert ledger.balance(_acct(AccountKind.CONTRIBUTIONS)) == Decimal("-10000.00")


def test_withdrawal_beyond_cash_raises_insufficient_funds_and_posts_nothing():
    # Arrange
    ledger = Ledger()
    ledger.post(make_deposit("5000"))
    withdrawal = Withdrawal(entry_id="w-1", ts_event=T0, amount=Decimal("6000"))

    # Act / Assert
    with pytest.raises(InsufficientFunds) as info:
        ledger.post(withdrawal)
    assert str(info.value) == "withdrawing 6,000.00 USD exceeds cash of 5,000.00 USD"
    assert info.value.code == "insufficient_funds"
    assert len(ledger) == 1
    assert ledger.cash() == Decimal("5000")


def test_withdrawal_within_cash_reduces_cash_and_contributions():
    ledger = Ledger()
    ledger.post(make_deposit("5000"))

    ledger.post(Withdrawal(entry_id="w-1", ts_event=T0, amount=Decimal("1234.56")))

    assert ledger.cash() == Decimal("3765.44")
    assert ledger.balance(_acct(AccountKind.CONTRIBUTIONS)) == Decimal("-3765.44")


def test_deposit_with_sub_cent_amount_raises_invalid_input():
    with pytest.raises(InvalidInput, match="at most 2 decimal places for USD, was 10.005"):
        make_deposit("10.005")


# ---------------------------------------------------------------- fills


def test_post_fill_buy_books_gross_cost_and_expenses_commission_and_fees():
    # Arrange: 3 x 10.005 = 30.015, rounded half-even to 30.02.
    ledger = Ledger()
    ledger.post(make_deposit("1000"))
    fill = make_fill("f-1", "buy", 3, "10.005", commission="1.00", fees="0.02")

    # Act
    entry = ledger.post(fill)

    # Assert: cash -(30.02 + 1.00 + 0.02) = -31.04
    assert dict(entry.lines) == {
        Account.cash(): Decimal("-31.04"),
        _acct(AccountKind.COMMISSIONS): Decimal("1.00"),
        _acct(AccountKind.FEES): Decimal("0.02"),
        Account.position("AAPL"): Decimal("30.02"),
    }
    assert entry.quantities == (("AAPL", Decimal("3")),)
    assert ledger.cash() == Decimal("968.96")
    position = ledger.position("AAPL")
    assert (position.quantity, position.cost, position.basis) == (Decimal("3"), Decimal("30.02"), Decimal("31.04"))
    assert position.average_cost == Decimal("10.006667")


def test_post_fill_sell_realises_gross_pnl_and_expenses_commission():
    # Arrange: buy 100 @ 10 (cost 1,000.00), then sell 100 @ 12 (value 1,200.00), 1.00 commission each.
    ledger = Ledger()
    ledger.post(make_deposit("5000"))
    ledger.post(make_fill("b-1", "buy", 100, "10", commission="1.00"))

    # Act
    entry = ledger.post(make_fill("s-1", "sell", 100, "12", commission="1.00"))

    # Assert: cash +1,199.00; position credited 1,000.00; realised gain 200.00 (a credit).
    assert dict(entry.lines) == {
        Account.cash(): Decimal("1199.00"),
        _acct(AccountKind.COMMISSIONS): Decimal("1.00"),
        Account.position("AAPL"): Decimal("-1000.00"),
        _acct(AccountKind.REALISED_PNL): Decimal("-200.00"),
    }
    assert ledger.cash() == Decimal("5198.00")  # 5,000 - 1,001 + 1,199
    assert ledger.balance(_acct(AccountKind.COMMISSIONS)) == Decimal("2.00")
    assert ledger.positions() == {}
    # The tax view nets both commissions: 1,199.00 - 1,001.00 = 198.00.
    (gain,) = ledger.realised_gains("s-1")
    assert (gain.proceeds, gain.basis, gain.gain) == (Decimal("1199.00"), Decimal("1001.00"), Decimal("198.00"))


def test_post_fill_same_fill_twice_returns_original_and_posts_once():
    # Arrange
    ledger = Ledger()
    ledger.post(make_deposit("5000"))
    fill = make_fill("f-1", "buy", 10, "100", commission="1")
    first = ledger.post(fill)

    # Act
    again = ledger.post(fill)
    equal_copy = ledger.post(make_fill("f-1", "buy", 10, "100", commission="1"))

    # Assert
    assert again is first and equal_copy is first
    assert len(ledger) == 2
    assert ledger.cash() == Decimal("3999")
    assert len(ledger.open_lots("AAPL")) == 1


def test_post_fill_different_fill_with_used_id_raises_state_conflict_and_posts_nothing():
    # Arrange
    ledger = Ledger()
    ledger.post(make_deposit("5000"))
    ledger.post(make_fill("f-1", "buy", 10, "100"))

    # Act / Assert
    with pytest.raises(StateConflict) as info:
        ledger.post(make_fill("f-1", "buy", 11, "100"))
    assert str(info.value) == ("entry_id 'f-1' is already posted with different content; "
                               "an id may be posted only once")
    assert ledger.position("AAPL").quantity == Decimal("10")
    assert ledger.cash() == Decimal("4000")


def test_post_event_with_id_of_a_fill_raises_state_conflict():
    ledger = Ledger()
    ledger.post(make_deposit("5000", entry_id="x-1"))

    with pytest.raises(StateConflict, match="'x-1' is already posted"):
        ledger.post(Fee(entry_id="x-1", ts_event=T0, amount=Decimal("1")))


def test_post_fill_buy_beyond_cash_raises_insufficient_funds_and_posts_nothing():
    # Arrange: 100 x 190.00 + 1.00 commission = 19,001.00 needed, 5,000.00 held.
    ledger = Ledger()
    ledger.post(make_deposit("5000"))
    fill = make_fill("f-1", "buy", 100, "190.00", commission="1.00")

    # Act / Assert
    with pytest.raises(InsufficientFunds) as info:
        ledger.post(fill)
    assert str(info.value) == "buying 100 AAPL at 190.00 needs 19,001.00 USD, cash is 5,000.00 USD"
    assert info.value.details == {"symbol": "AAPL", "needed": "19001.00", "cash": "5000", "currency": "USD"}
    assert len(ledger) == 1
    assert "f-1" not in ledger
    assert ledger.cash() == Decimal("5000")
    assert ledger.open_lots("AAPL") == ()
    ledger.reconcile()


def test_post_fill_buy_beyond_cash_without_enforcement_allows_negative_cash():
    ledger = Ledger(LedgerConfig(enforce_limits=False))

    ledger.post(make_fill("f-1", "buy", 100, "190"))

    assert ledger.cash() == Decimal("-19000")


def test_post_fill_short_sale_in_cash_account_raises_short_sale_refused():
    # Arrange
    ledger = Ledger()
    ledger.post(make_deposit("5000"))
    ledger.post(make_fill("b-1", "buy", 100, "10"))

    # Act / Assert
    with pytest.raises(ShortSaleRefused) as info:
        ledger.post(make_fill("s-1", "sell", 150, "12"))
    assert str(info.value) == "selling 150 AAPL exceeds the long position of 100; a cash account may not sell short"
    assert ledger.position("AAPL").quantity == Decimal("100")
    assert len(ledger) == 2


def test_post_fill_in_other_currency_than_position_raises_invalid_input():
    ledger = Ledger(LedgerConfig(enforce_limits=False))
    ledger.post(make_fill("b-1", "buy", 1, "10"))

    with pytest.raises(InvalidInput, match="fill b-2 is in EUR but the position in AAPL is in USD"):
        ledger.post(make_fill("b-2", "buy", 1, "10", currency="EUR"))


def test_post_fill_short_sale_and_cover_realises_gain_on_short_lot():
    # Arrange: margin account; short 100 @ 50 (proceeds 5,000), cover 100 @ 40 (cost 4,000).
    ledger = _margin_ledger()
    ledger.post(make_deposit("10000"))
    short = ledger.post(make_fill("s-1", "sell", 100, "50"))

    # Act
    cover = ledger.post(make_fill("c-1", "buy", 100, "40", ts_event=at(2024, 3, 18)))

    # Assert
    assert dict(short.lines) == {Account.cash(): Decimal("5000"), Account.position("AAPL"): Decimal("-5000")}
    assert dict(cover.lines) == {Account.cash(): Decimal("-4000"), Account.position("AAPL"): Decimal("5000"),
                                 _acct(AccountKind.REALISED_PNL): Decimal("-1000")}
    assert ledger.cash() == Decimal("11000")
    (gain,) = ledger.realised_gains("c-1")
    assert (gain.short, gain.proceeds, gain.basis, gain.gain) == (True, Decimal("5000"), Decimal("4000"),
                                                                   Decimal("1000"))
    assert (gain.holding_days, gain.long_term) == (3, False)


def test_post_fill_sell_crossing_zero_closes_long_and_opens_short_with_fees_pro_rata():
    # Arrange: long 100 @ 10. Sell 150 @ 12 with 1.50 commission: 100 close (value 1,200.00,
    # commission 1.50 x 100/150 = 1.00) and 50 open short (value 600.00, commission 0.50).
    ledger = _margin_ledger()
    ledger.post(make_deposit("5000"))
    ledger.post(make_fill("b-1", "buy", 100, "10"))

    # Act
    entry = ledger.post(make_fill("s-1", "sell", 150, "12", commission="1.50"))

    # Assert: cash +1,800.00 - 1.50; position -(1,000 relieved + 600 opened); gain 200 gross.
    assert dict(entry.lines) == {
        Account.cash(): Decimal("1798.50"),
        _acct(AccountKind.COMMISSIONS): Decimal("1.50"),
        Account.position("AAPL"): Decimal("-1600"),
        _acct(AccountKind.REALISED_PNL): Decimal("-200"),
    }
    position = ledger.position("AAPL")
    assert (position.quantity, position.cost) == (Decimal("-50"), Decimal("-600"))
    (lot,) = ledger.open_lots("AAPL")
    assert (lot.lot_id, lot.short, lot.quantity, lot.cost, lot.fees) == ("s-1", True, Decimal("50"),
                                                                         Decimal("600"), Decimal("0.50"))
    (gain,) = ledger.realised_gains("s-1")
    assert (gain.proceeds, gain.basis, gain.gain) == (Decimal("1199.00"), Decimal("1000"), Decimal("199.00"))
    ledger.reconcile()


# ---------------------------------------------------------------- margin


def test_margin_buy_within_leverage_limit_allows_negative_cash():
    # Arrange: equity 10,000; buying 15,000 of stock gives gross/equity = 1.5 <= 2.
    ledger = _margin_ledger()
    ledger.post(make_deposit("10000"))

    # Act
    ledger.post(make_fill("b-1", "buy", 150, "100", symbol="XYZ"))

    # Assert
    assert ledger.cash() == Decimal("-5000")
    assert ledger.position("XYZ").quantity == Decimal("150")


def test_margin_buy_beyond_leverage_limit_raises_leverage_exceeded_and_posts_nothing():
    # Arrange: after 150 @ 100, another 60 @ 100 means gross 21,000 on equity 10,000 = 2.10x.
    ledger = _margin_ledger()
    ledger.post(make_deposit("10000"))
    ledger.post(make_fill("b-1", "buy", 150, "100", symbol="XYZ"))

    # Act / Assert
    with pytest.raises(LeverageExceeded) as info:
        ledger.post(make_fill("b-2", "buy", 60, "100", symbol="XYZ"))
    assert str(info.value) == ("buying 60 XYZ at 100.00 takes gross exposure to 21,000.00 USD, 2.10x equity "
                               "of 10,000.00 USD; the limit is 2x")
    assert isinstance(info.value, InsufficientFunds)
    assert ledger.cash() == Decimal("-5000")
    assert ledger.position("XYZ").quantity == Decimal("150")


def test_margin_check_values_position_at_given_mark():
    # Arrange: long 150 XYZ, cash -5,000. Buying 50 @ 100 leaves cash -10,000 and 200 shares.
    # At mark 100: gross 20,000, equity -10,000 + 20,000 = 10,000 -> 2.00x, allowed.
    # At mark 90: gross 18,000, equity -10,000 + 18,000 = 8,000 -> 2.25x, refused.
    refused, allowed = _margin_ledger(), _margin_ledger()
    for ledger in (refused, allowed):
        ledger.post(make_deposit("10000"))
        ledger.post(make_fill("b-1", "buy", 150, "100", symbol="XYZ"))
    fill = make_fill("b-2", "buy", 50, "100", symbol="XYZ")

    # Act
    allowed.post(fill, mark=Decimal("100"))
    with pytest.raises(LeverageExceeded) as info:
        refused.post(fill, mark=Decimal("90"))

    # Assert
    assert allowed.position("XYZ").quantity == Decimal("200")
    assert "takes gross exposure to 18,000.00 USD, 2.25x equity of 8,000.00 USD" in str(info.value)
    assert refused.position("XYZ").quantity == Decimal("150")


def test_margin_risk_reducing_sell_over_limit_is_allowed_but_adding_is_refused():
    # Arrange: 200 @ 100 on 10,000 equity (2x), then the price falls to 60:
    # gross 12,000, equity -10,000 + 12,000 = 2,000 -> 6x, far over the limit.
    ledger = _margin_ledger()
    ledger.post(make_deposit("10000"))
    ledger.post(make_fill("b-1", "buy", 200, "100", symbol="XYZ"))
    ledger.update_marks({"XYZ": Decimal("60")})

    # Act
    ledger.post(make_fill("s-1", "sell", 50, "60", symbol="XYZ"))

    # Assert
    assert ledger.position("XYZ").quantity == Decimal("150")
    with pytest.raises(LeverageExceeded, match="buying 1 XYZ at 60.00 takes gross exposure"):
        ledger.post(make_fill("b-2", "buy", 1, "60", symbol="XYZ"))


def test_margin_withdrawal_leaving_leverage_over_limit_raises_leverage_exceeded():
    # Arrange: 15,000 of stock on 10,000 equity; withdrawing 3,000 leaves 15,000 / 7,000 = 2.14x.
    ledger = _margin_ledger()
    ledger.post(make_deposit("10000"))
    ledger.post(make_fill("b-1", "buy", 150, "100", symbol="XYZ"))

    # Act / Assert
    with pytest.raises(LeverageExceeded) as info:
        ledger.post(Withdrawal(entry_id="w-1", ts_event=T0, amount=Decimal("3000")))
    assert str(info.value) == ("withdrawing 3,000.00 USD takes gross exposure to 15,000.00 USD, 2.14x equity "
                               "of 7,000.00 USD; the limit is 2x")
    assert ledger.cash() == Decimal("-5000")


# ---------------------------------------------------------------- income, fees, splits


def test_dividend_on_long_position_credits_dividend_income():
    # Arrange: 100 shares x 0.24 = 24.00.
    ledger = Ledger()
    ledger.post(make_deposit("5000"))
    ledger.post(make_fill("b-1", "buy", 100, "10"))

    # Act
    entry = ledger.post(Dividend(entry_id="div-1", ts_event=T0, symbol="AAPL", amount_per_share=Decimal("0.24")))

    # Assert
    assert dict(entry.lines) == {Account.cash(): Decimal("24.00"),
                                 _acct(AccountKind.DIVIDEND_INCOME): Decimal("-24.00")}
    assert ledger.cash() == Decimal("4024.00")


def test_dividend_on_short_position_pays_in_lieu_from_cash():
    # Arrange: short 100 shares, 0.24 per share: the account pays 24.00.
    ledger = _margin_ledger()
    ledger.post(make_deposit("5000"))
    ledger.post(make_fill("s-1", "sell", 100, "10"))

    # Act
    entry = ledger.post(Dividend(entry_id="div-1", ts_event=T0, symbol="AAPL", amount_per_share=Decimal("0.24")))

    # Assert
    assert dict(entry.lines) == {Account.cash(): Decimal("-24.00"),
                                 _acct(AccountKind.DIVIDEND_EXPENSE): Decimal("24.00")}
    assert ledger.cash() == Decimal("5976.00")  # 5,000 + 1,000 short proceeds - 24


def test_dividend_with_no_position_raises_state_conflict():
    ledger = Ledger()

    with pytest.raises(StateConflict, match="no position in MSFT to receive or pay the dividend div-1"):
        ledger.post(Dividend(entry_id="div-1", ts_event=T0, symbol="MSFT", amount_per_share=Decimal("0.75")))
    assert len(ledger) == 0


def test_dividend_with_ex_date_quantity_uses_that_quantity():
    # Arrange: position sold before payment; 100 shares were held on the ex-date: 100 x 0.333333 = 33.33.
    ledger = Ledger()
    ledger.post(make_deposit("5000"))

    entry = ledger.post(Dividend(entry_id="div-1", ts_event=T0, symbol="AAPL",
                                 amount_per_share=Decimal("0.333333"), quantity=Decimal("100")))

    assert dict(entry.lines)[Account.cash()] == Decimal("33.33")


def test_interest_received_and_paid_use_income_and_expense_accounts():
    ledger = Ledger()
    ledger.post(make_deposit("1000"))

    ledger.post(Interest(entry_id="int-1", ts_event=T0, amount=Decimal("12.34")))
    ledger.post(Interest(entry_id="int-2", ts_event=T0, amount=Decimal("-5.00")))

    assert ledger.cash() == Decimal("1007.34")
    assert ledger.balance(_acct(AccountKind.INTEREST_INCOME)) == Decimal("-12.34")
    assert ledger.balance(_acct(AccountKind.INTEREST_EXPENSE)) == Decimal("5.00")


def test_fee_outside_fill_debits_fees_expense():
    ledger = Ledger()
    ledger.post(make_deposit("1000"))

    ledger.post(Fee(entry_id="fee-1", ts_event=T0, amount=Decimal("9.99"), memo="market data"))

    assert ledger.cash() == Decimal("990.01")
    assert ledger.balance(_acct(AccountKind.FEES)) == Decimal("9.99")


def test_split_four_for_one_keeps_total_cost_and_quarters_average_cost():
    # Arrange: 100 @ 400.00 with 1.00 commission: cost 40,000.00, basis 40,001.00.
    ledger = Ledger()
    ledger.post(make_deposit("50000"))
    ledger.post(make_fill("b-1", "buy", 100, "400", commission="1"))

    # Act
    entry = ledger.post(Split(entry_id="split-1", ts_event=at(2024, 3, 18), symbol="AAPL", ratio=Decimal("4")))

    # Assert: 400 shares, cost unchanged, 100.00 per share.
    assert entry.lines == () and entry.quantities == (("AAPL", Decimal("300")),)
    position = ledger.position("AAPL")
    assert (position.quantity, position.cost, position.basis) == (Decimal("400"), Decimal("40000"),
                                                                  Decimal("40001"))
    assert position.average_cost == Decimal("100.000000")
    ledger.reconcile()


def test_split_with_no_position_raises_state_conflict():
    with pytest.raises(StateConflict, match="no position in AAPL to split"):
        Ledger().post(Split(entry_id="split-1", ts_event=T0, symbol="AAPL", ratio=Decimal("2")))


# ---------------------------------------------------------------- reading and reconciling


def test_entry_unknown_id_raises_not_found():
    with pytest.raises(NotFoundError, match="no journal entry with entry_id 'nope'"):
        Ledger().entry("nope")


def test_external_flows_sum_deposits_less_withdrawals_per_trade_date():
    # Arrange: 01:00 UTC on 16 March is still 15 March in New York.
    ledger = Ledger()
    ledger.post(make_deposit("1000", entry_id="d-1", ts_event=at(2024, 3, 15)))
    ledger.post(make_deposit("500", entry_id="d-2", ts_event=at(2024, 3, 16, hour=1)))
    ledger.post(Withdrawal(entry_id="w-1", ts_event=at(2024, 3, 18), amount=Decimal("200")))

    flows = ledger.external_flows()

    assert [(str(day), amount) for day, amount in flows.items()] == [("2024-03-15", Decimal("1500")),
                                                                      ("2024-03-18", Decimal("-200"))]


def test_reconcile_consistent_ledger_passes():
    ledger = _margin_ledger()
    ledger.post(make_deposit("10000"))
    ledger.post(make_fill("b-1", "buy", 100, "10", commission="1"))
    ledger.post(make_fill("s-1", "sell", 250, "11", commission="1"))
    ledger.post(Split(entry_id="sp-1", ts_event=T0, symbol="AAPL", ratio=Decimal("2")))

    ledger.reconcile()  # Assert: does not raise

    assert ledger.position("AAPL").quantity == Decimal("-300")


def test_reconcile_tampered_cash_balance_raises_naming_the_account():
    # Arrange: corrupt the running cash balance behind the ledger's back.
    ledger = Ledger()
    ledger.post(make_deposit("1000"))
    ledger._balances[Account.cash()] += Decimal("1")

    # Act / Assert
    with pytest.raises(ReconciliationError) as info:
        ledger.reconcile()
    assert str(info.value).startswith(
        "reconciliation failed: cash:USD is 1001 in running balances but 1000 from the journal")


def test_reconcile_lost_lot_raises_naming_the_symbol():
    # Arrange: drop a lot behind the ledger's back.
    ledger = Ledger()
    ledger.post(make_deposit("1000"))
    ledger.post(make_fill("b-1", "buy", 10, "10"))
    ledger.post(make_fill("b-2", "buy", 5, "10"))
    ledger._lots._lots["AAPL"].pop()

    # Act / Assert
    with pytest.raises(ReconciliationError) as info:
        ledger.reconcile()
    assert str(info.value).startswith("reconciliation failed: lots of AAPL sum to 10 shares but the position is 15")
    assert isinstance(info.value, StateConflict)


def test_post_lot_selection_with_deposit_raises_invalid_input():
    with pytest.raises(InvalidInput, match="lot_selection and mark apply only to fills, not to Deposit"):
        Ledger().post(make_deposit("10"), lot_selection=(LotSelection("b-1", Decimal("1")),))


def test_post_lot_selection_on_opening_fill_raises_invalid_lot_selection():
    ledger = Ledger()
    ledger.post(make_deposit("1000"))

    with pytest.raises(InvalidLotSelection, match="a lot selection was given, but buy 1 AAPL closes no lots"):
        ledger.post(make_fill("b-1", "buy", 1, "10"), lot_selection=(LotSelection("x", Decimal("1")),))
    assert len(ledger) == 1


def test_post_unsupported_object_raises_invalid_input():
    with pytest.raises(InvalidInput, match="cannot post a dict"):
        Ledger().post({"amount": 1})  # type: ignore[arg-type]


def test_account_symbol_on_cash_account_raises_invalid_input():
    with pytest.raises(InvalidInput, match="only position accounts name a symbol, cash named 'AAPL'"):
        Account(AccountKind.CASH, "USD", "AAPL")


# -- per-order lot override (OrderRequest.lot_method / lot_ids) ------------------------------------

def _three_lots() -> Ledger:
    # b-1 10 @ 100, b-2 10 @ 110, b-3 10 @ 120 on three days; the ledger's own method is FIFO.
    ledger = Ledger(LedgerConfig(lot_method="fifo"))
    ledger.post(make_deposit("10000"))
    for n, price in enumerate(("100", "110", "120"), start=1):
        ledger.post(make_fill(f"b-{n}", "buy", 10, price, ts_event=at(2024, 3, 10 + n)))
    return ledger


def test_post_fill_lot_method_override_relieves_lifo_and_replays():
    ledger = _three_lots()
    entry = ledger.post(make_fill("s-1", "sell", 10, "130", ts_event=at(2024, 3, 20)), lot_method="lifo")
    (gain,) = ledger.realised_gains("s-1")
    # LIFO takes b-3: 10 x (130 - 120) = 100 (FIFO would take b-1 for 300).
    assert (gain.lot_id, gain.gain) == ("b-3", Decimal("100.00"))
    assert entry.lot_selection == (LotSelection("b-3", Decimal("10")),)
    ledger.reconcile()  # the replay relieves the recorded selection, not the FIFO default


def test_post_fill_lot_ids_relieve_named_lots_then_configured_method():
    ledger = _three_lots()
    ledger.post(make_fill("s-1", "sell", 15, "130", ts_event=at(2024, 3, 20)), lot_ids=("b-3",))
    gains = {g.lot_id: (g.quantity, g.gain) for g in ledger.realised_gains("s-1")}
    # b-3 whole: 10 x 10 = 100; the other 5 by FIFO from b-1: 5 x 30 = 150.
    assert gains == {"b-3": (Decimal("10"), Decimal("100.00")), "b-1": (Decimal("5"), Decimal("150.00"))}


def test_post_fills_of_one_order_pass_over_named_lots_already_closed():
    ledger = _three_lots()
    ledger.post(make_fill("s-1", "sell", 10, "130", ts_event=at(2024, 3, 20)), lot_ids=("b-3", "b-2"))
    ledger.post(make_fill("s-2", "sell", 10, "125", ts_event=at(2024, 3, 20, 16)), lot_ids=("b-3", "b-2"))
    assert [g.lot_id for g in ledger.realised_gains("s-2")] == ["b-2"]
    assert ledger.realised_gains("s-2")[0].gain == Decimal("150.00")  # 10 x (125 - 110)
    assert [lot.lot_id for lot in ledger.open_lots("AAPL")] == ["b-1"]


def test_post_fill_override_again_returns_the_same_entry():
    ledger = _three_lots()
    fill = make_fill("s-1", "sell", 10, "130", ts_event=at(2024, 3, 20))
    first = ledger.post(fill, lot_method="hifo")
    assert ledger.post(fill, lot_method="hifo") is first
    assert first.lot_selection == (LotSelection("b-3", Decimal("10")),)  # highest cost per share


def test_post_lot_method_with_deposit_raises_invalid_input():
    ledger = Ledger()
    with pytest.raises(InvalidInput, match="lot_method and lot_ids apply only to fills, not to Deposit"):
        ledger.post(make_deposit("10"), lot_method="lifo")
    assert ledger.cash() == 0
