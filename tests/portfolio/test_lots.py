"""Tests of tax lots: relief methods, fee allocation, holding periods, splits and shorts.

The worked example used for every relief method: buy 100 @ 10 (lot b-1), 100 @ 12
(b-2), 100 @ 11 (b-3) on successive days, no fees, then sell 150 @ 13.

* FIFO relieves b-1 100 (gain 100 x (13 - 10) = 300) and b-2 50 (50 x 1 = 50): 350.
* LIFO relieves b-3 100 (100 x 2 = 200) and b-2 50 (50 x 1 = 50): 250.
* HIFO relieves b-2 100 (per-share basis 12: 100 x 1 = 100) and b-3 50 (50 x 2 = 100): 200.
* Specific b-1 50 + b-3 100: 50 x 3 + 100 x 2 = 350, leaving b-1 50 and b-2 100.

Values are exact Decimals; tolerance is zero.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from bifrost.portfolio import (
    InvalidLotSelection,
    Ledger,
    LedgerConfig,
    LotMethod,
    LotSelection,
    Split,
    is_long_term,
    trade_date,
)
from bifrost.portfolio.lots import LotBook, TaxLot
from tests.portfolio.helpers import at, make_deposit, make_fill


def _three_lots(method: LotMethod) -> Ledger:
    ledger = Ledger(LedgerConfig(lot_method=method))
    ledger.post(make_deposit("10000"))
    ledger.post(make_fill("b-1", "buy", 100, "10", ts_event=at(2024, 3, 11)))
    ledger.post(make_fill("b-2", "buy", 100, "12", ts_event=at(2024, 3, 12)))
    ledger.post(make_fill("b-3", "buy", 100, "11", ts_event=at(2024, 3, 13)))
    return ledger


def _sell_150(ledger: Ledger, **kwargs) -> None:
    ledger.post(make_fill("s-1", "sell", 150, "13", ts_event=at(2024, 3, 14)), **kwargs)


def _relieved(ledger: Ledger) -> list[tuple[str, Decimal, Decimal]]:
    return [(gain.lot_id, gain.quantity, gain.gain) for gain in ledger.realised_gains("s-1")]


def _remaining(ledger: Ledger) -> list[tuple[str, Decimal]]:
    return [(lot.lot_id, lot.quantity) for lot in ledger.open_lots("AAPL")]


def test_lots_fifo_sell_relieves_oldest_lots_first_gain_350():
    ledger = _three_lots(LotMethod.FIFO)

    _sell_150(ledger)

    assert _relieved(ledger) == [("b-1", Decimal("100"), Decimal("300")), ("b-2", Decimal("50"), Decimal("50"))]
    assert sum(gain.gain for gain in ledger.realised_gains()) == Decimal("350")
    assert _remaining(ledger) == [("b-2", Decimal("50")), ("b-3", Decimal("100"))]


def test_lots_lifo_sell_relieves_newest_lots_first_gain_250():
    ledger = _three_lots(LotMethod.LIFO)

    _sell_150(ledger)

    assert _relieved(ledger) == [("b-3", Decimal("100"), Decimal("200")), ("b-2", Decimal("50"), Decimal("50"))]
    assert sum(gain.gain for gain in ledger.realised_gains()) == Decimal("250")
    assert _remaining(ledger) == [("b-1", Decimal("100")), ("b-2", Decimal("50"))]


def test_lots_hifo_sell_relieves_highest_basis_first_gain_200():
    ledger = _three_lots(LotMethod.HIFO)

    _sell_150(ledger)

    assert _relieved(ledger) == [("b-2", Decimal("100"), Decimal("100")), ("b-3", Decimal("50"), Decimal("100"))]
    assert sum(gain.gain for gain in ledger.realised_gains()) == Decimal("200")
    assert _remaining(ledger) == [("b-1", Decimal("100")), ("b-3", Decimal("50"))]


def test_lots_specific_selection_relieves_named_lots_gain_350():
    ledger = _three_lots(LotMethod.SPECIFIC)
    selection = (LotSelection("b-1", Decimal("50")), LotSelection("b-3", Decimal("100")))

    _sell_150(ledger, lot_selection=selection)

    assert _relieved(ledger) == [("b-1", Decimal("50"), Decimal("150")), ("b-3", Decimal("100"), Decimal("200"))]
    assert _remaining(ledger) == [("b-1", Decimal("50")), ("b-2", Decimal("100"))]
    assert ledger.entry("s-1").lot_selection == selection
    ledger.reconcile()


def test_lots_specific_selection_overrides_default_fifo():
    ledger = _three_lots(LotMethod.FIFO)

    _sell_150(ledger, lot_selection=(LotSelection("b-3", Decimal("100")), LotSelection("b-2", Decimal("50"))))

    assert _remaining(ledger) == [("b-1", Decimal("100")), ("b-2", Decimal("50"))]


def test_lots_specific_selection_short_of_quantity_raises_and_posts_nothing():
    # Arrange
    ledger = _three_lots(LotMethod.SPECIFIC)

    # Act / Assert
    with pytest.raises(InvalidLotSelection) as info:
        _sell_150(ledger, lot_selection=(LotSelection("b-1", Decimal("100")),))
    assert str(info.value) == ("lot selection covers 100 AAPL but the trade closes 150; "
                               "selected quantities must sum to the closing quantity")
    assert "s-1" not in ledger
    assert ledger.position("AAPL").quantity == Decimal("300")
    assert _remaining(ledger) == [("b-1", Decimal("100")), ("b-2", Decimal("100")), ("b-3", Decimal("100"))]


def test_lots_specific_selection_unknown_lot_raises_invalid_lot_selection():
    ledger = _three_lots(LotMethod.SPECIFIC)

    with pytest.raises(InvalidLotSelection, match="names lot 'b-9', which is not an open lot of AAPL; "
                                                  "open lots are b-1, b-2, b-3"):
        _sell_150(ledger, lot_selection=(LotSelection("b-9", Decimal("150")),))


def test_lots_specific_selection_more_than_lot_holds_raises_invalid_lot_selection():
    ledger = _three_lots(LotMethod.SPECIFIC)

    with pytest.raises(InvalidLotSelection, match="takes 150 of lot 'b-1', which holds 100"):
        _sell_150(ledger, lot_selection=(LotSelection("b-1", Decimal("150")),))


def test_lots_specific_method_without_selection_raises_invalid_lot_selection():
    ledger = _three_lots(LotMethod.SPECIFIC)

    with pytest.raises(InvalidLotSelection, match="specific identification needs a lot selection to close 150 AAPL"):
        _sell_150(ledger)
    assert len(ledger.open_lots("AAPL")) == 3


def test_lots_buy_opens_lot_with_fill_id_trade_date_and_fees():
    # Arrange: 01:30 UTC on 15 March 2024 is 21:30 EDT on 14 March, the trade date.
    ledger = Ledger()
    ledger.post(make_deposit("10000"))

    # Act
    ledger.post(make_fill("fill-77", "buy", 100, "10", commission="1.00", fees="0.05",
                          ts_event=at(2024, 3, 15, hour=1, minute=30)))

    # Assert
    (lot,) = ledger.open_lots("AAPL")
    assert (lot.lot_id, lot.acquired, lot.quantity) == ("fill-77", date(2024, 3, 14), Decimal("100"))
    assert (lot.cost, lot.fees, lot.basis_adjustment, lot.basis) == (Decimal("1000"), Decimal("1.05"),
                                                                     Decimal("0"), Decimal("1001.05"))


def test_lots_partial_sell_allocates_buy_and_sell_fees_pro_rata():
    # Arrange: 100 @ 10 with 1.00 commission: basis 1,001.00.
    ledger = Ledger()
    ledger.post(make_deposit("10000"))
    ledger.post(make_fill("b-1", "buy", 100, "10", commission="1.00"))

    # Act: sell 40 @ 12 with 1.00 commission.
    ledger.post(make_fill("s-1", "sell", 40, "12", commission="1.00"))

    # Assert: proceeds 480 - 1 = 479.00; basis 400 + 0.40 = 400.40; gain 78.60.
    (gain,) = ledger.realised_gains("s-1")
    assert (gain.quantity, gain.proceeds, gain.basis, gain.gain) == (Decimal("40"), Decimal("479.00"),
                                                                     Decimal("400.40"), Decimal("78.60"))
    (lot,) = ledger.open_lots("AAPL")
    assert (lot.quantity, lot.cost, lot.fees) == (Decimal("60"), Decimal("600"), Decimal("0.60"))


def test_lots_repeated_partial_relief_rounds_fees_without_drift():
    # Arrange: 3 shares with 1.00 commission. Selling 1 takes 1.00 x 1/3 = 0.333 -> 0.33 (remaining 0.67);
    # the next share takes 0.67 x 1/2 = 0.335 -> 0.34 (half-even); the last takes what is left, 0.33.
    ledger = Ledger()
    ledger.post(make_deposit("100"))
    ledger.post(make_fill("b-1", "buy", 3, "10", commission="1.00"))

    # Act
    for index in range(3):
        ledger.post(make_fill(f"s-{index}", "sell", 1, "10"))

    # Assert
    relieved_fees = [gain.basis - Decimal("10") for gain in ledger.realised_gains()]
    assert relieved_fees == [Decimal("0.33"), Decimal("0.34"), Decimal("0.33")]
    assert sum(relieved_fees) == Decimal("1.00")
    assert ledger.open_lots("AAPL") == ()


def test_lots_selling_exactly_one_year_later_is_short_term():
    # Arrange: 2023-03-15 to 2024-03-15 is 366 days (2024 is a leap year) but not *more* than a year.
    ledger = Ledger()
    ledger.post(make_deposit("10000"))
    ledger.post(make_fill("b-1", "buy", 10, "10", ts_event=at(2023, 3, 15)))

    # Act
    ledger.post(make_fill("s-1", "sell", 5, "12", ts_event=at(2024, 3, 15)))
    ledger.post(make_fill("s-2", "sell", 5, "12", ts_event=at(2024, 3, 18)))

    # Assert
    (first,) = ledger.realised_gains("s-1")
    (second,) = ledger.realised_gains("s-2")
    assert (first.holding_days, first.long_term) == (366, False)
    assert (second.holding_days, second.long_term) == (369, True)


def test_is_long_term_counts_calendar_months_from_the_day_after_acquisition():
    # Publication 550: bought 5 Feb 2023, sold 5 Feb 2024 is not more than a year; 6 Feb is
    assert is_long_term(date(2023, 2, 5), date(2024, 2, 5)) is False
    assert is_long_term(date(2023, 2, 5), date(2024, 2, 6)) is True
    # Rev. Rul. 66-7: the period starts 1 Mar 2023, so 29 Feb 2024 ends exactly one year
    assert is_long_term(date(2023, 2, 28), date(2024, 2, 29)) is False
    assert is_long_term(date(2023, 2, 28), date(2024, 3, 1)) is True
    # bought on the leap day: the period starts 1 Mar 2024, long term from 1 Mar 2025
    assert is_long_term(date(2024, 2, 29), date(2025, 2, 28)) is False
    assert is_long_term(date(2024, 2, 29), date(2025, 3, 1)) is True
    # bought 28 Feb 2024 (a leap year): the period starts on the leap day; its anniversary is 1 Mar 2025
    assert is_long_term(date(2024, 2, 28), date(2025, 2, 28)) is False
    assert is_long_term(date(2024, 2, 28), date(2025, 3, 1)) is True


def test_trade_date_late_evening_utc_is_previous_new_york_day():
    assert trade_date(at(2024, 1, 10, hour=4, minute=59)) == date(2024, 1, 9)  # 23:59 EST
    assert trade_date(at(2024, 1, 10, hour=5, minute=0)) == date(2024, 1, 10)  # 00:00 EST


def test_lots_split_four_for_one_multiplies_quantity_and_keeps_basis():
    # Arrange: 100 @ 400 (commission 1) and 50 @ 420.
    ledger = Ledger()
    ledger.post(make_deposit("100000"))
    ledger.post(make_fill("b-1", "buy", 100, "400", commission="1", ts_event=at(2024, 3, 11)))
    ledger.post(make_fill("b-2", "buy", 50, "420", ts_event=at(2024, 3, 12)))

    # Act
    ledger.post(Split(entry_id="split-1", ts_event=at(2024, 3, 13), symbol="AAPL", ratio=Decimal("4")))

    # Assert: 400 and 200 shares; basis 40,001 and 21,000, per share 100.0025 and 105.
    lots = ledger.open_lots("AAPL")
    assert [(lot.lot_id, lot.quantity, lot.basis) for lot in lots] == [
        ("b-1", Decimal("400"), Decimal("40001")), ("b-2", Decimal("200"), Decimal("21000"))]
    assert [lot.basis_per_share for lot in lots] == [Decimal("100.0025"), Decimal("105")]
    assert [lot.acquired for lot in lots] == [date(2024, 3, 11), date(2024, 3, 12)]
    assert ledger.position("AAPL").quantity == Decimal("600")


def test_lots_reverse_split_gives_fractional_shares_and_keeps_basis():
    # Arrange: 105 shares, 1-for-10 reverse split -> 10.5 shares.
    ledger = Ledger()
    ledger.post(make_deposit("10000"))
    ledger.post(make_fill("b-1", "buy", 105, "2", commission="1"))

    # Act
    ledger.post(Split(entry_id="split-1", ts_event=at(2024, 3, 18), symbol="AAPL", ratio=Decimal("0.1")))

    # Assert
    (lot,) = ledger.open_lots("AAPL")
    assert (lot.quantity, lot.basis) == (Decimal("10.5"), Decimal("211"))
    assert ledger.position("AAPL").quantity == Decimal("10.5")
    ledger.reconcile()


def _two_shorts(method: LotMethod) -> Ledger:
    # Short 100 @ 60 (lot s-1), then 100 @ 50 (lot s-2); cover 150 @ 55.
    ledger = Ledger(LedgerConfig(margin=True, lot_method=method))
    ledger.post(make_deposit("10000"))
    ledger.post(make_fill("s-1", "sell", 100, "60", ts_event=at(2024, 3, 11)))
    ledger.post(make_fill("s-2", "sell", 100, "50", ts_event=at(2024, 3, 12)))
    ledger.post(make_fill("c-1", "buy", 150, "55", ts_event=at(2024, 3, 13)))
    return ledger


def test_lots_fifo_cover_relieves_oldest_short_first():
    # FIFO: s-1 100: proceeds 6,000 - cover 5,500 = 500; s-2 50: 2,500 - 2,750 = -250. Total 250.
    ledger = _two_shorts(LotMethod.FIFO)

    gains = ledger.realised_gains("c-1")

    assert [(g.lot_id, g.quantity, g.proceeds, g.basis, g.gain) for g in gains] == [
        ("s-1", Decimal("100"), Decimal("6000"), Decimal("5500"), Decimal("500")),
        ("s-2", Decimal("50"), Decimal("2500"), Decimal("2750"), Decimal("-250"))]
    assert all(g.short and not g.long_term for g in gains)
    assert [(lot.lot_id, lot.quantity, lot.short) for lot in ledger.open_lots("AAPL")] == [
        ("s-2", Decimal("50"), True)]


def test_lots_hifo_cover_relieves_lowest_proceeds_short_first():
    # HIFO on shorts: s-2 (50/share) 100: 5,000 - 5,500 = -500; s-1 50: 3,000 - 2,750 = 250. Total -250.
    ledger = _two_shorts(LotMethod.HIFO)

    gains = ledger.realised_gains("c-1")

    assert sum(g.gain for g in gains) == Decimal("-250")
    assert [(lot.lot_id, lot.quantity) for lot in ledger.open_lots("AAPL")] == [("s-1", Decimal("50"))]


def test_lots_late_reported_fill_is_relieved_in_acquisition_order():
    # Arrange: the 10:00 fill arrives after the 11:00 one; FIFO must relieve it first.
    ledger = Ledger()
    ledger.post(make_deposit("10000"))
    ledger.post(make_fill("late", "buy", 10, "12", ts_event=at(2024, 3, 15, hour=15)))
    ledger.post(make_fill("early", "buy", 10, "10", ts_event=at(2024, 3, 15, hour=14)))

    # Act
    ledger.post(make_fill("s-1", "sell", 10, "11", ts_event=at(2024, 3, 15, hour=16)))

    # Assert
    assert [gain.lot_id for gain in ledger.realised_gains("s-1")] == ["early"]
    assert [lot.lot_id for lot in ledger.open_lots("AAPL")] == ["late"]


def test_lots_hifo_partial_relief_keeps_remainder_in_basis_order():
    # Arrange: b-1 100 @ 10, b-2 100 @ 12, b-3 100 @ 11 under HIFO.
    ledger = _three_lots(LotMethod.HIFO)

    # Act: sell 50 (from b-2, 50 x (13 - 12) = 50), then 100: b-2's remaining 50 (50 x 1 = 50)
    # and 50 of b-3 (50 x (13 - 11) = 100).
    ledger.post(make_fill("s-1", "sell", 50, "13", ts_event=at(2024, 3, 14)))
    ledger.post(make_fill("s-2", "sell", 100, "13", ts_event=at(2024, 3, 15)))

    # Assert
    assert [(g.lot_id, g.quantity, g.gain) for g in ledger.realised_gains("s-1")] == [
        ("b-2", Decimal("50"), Decimal("50"))]
    assert [(g.lot_id, g.quantity, g.gain) for g in ledger.realised_gains("s-2")] == [
        ("b-2", Decimal("50"), Decimal("50")), ("b-3", Decimal("50"), Decimal("100"))]
    assert _remaining(ledger) == [("b-1", Decimal("100")), ("b-3", Decimal("50"))]


def test_lots_hifo_equal_basis_relieves_older_lot_first():
    # Arrange: two lots at the same price; the one posted second was acquired first.
    ledger = Ledger(LedgerConfig(lot_method=LotMethod.HIFO))
    ledger.post(make_deposit("10000"))
    ledger.post(make_fill("newer", "buy", 10, "10", ts_event=at(2024, 3, 12)))
    ledger.post(make_fill("older", "buy", 10, "10", ts_event=at(2024, 3, 11)))

    # Act
    ledger.post(make_fill("s-1", "sell", 10, "11", ts_event=at(2024, 3, 13)))

    # Assert
    assert [gain.lot_id for gain in ledger.realised_gains("s-1")] == ["older"]
    assert [lot.lot_id for lot in ledger.open_lots("AAPL")] == ["newer"]


def test_lots_hifo_after_split_orders_by_new_per_share_basis():
    # Arrange: b-1 100 @ 10, b-2 100 @ 12; a 2:1 split gives 200 @ 5 and 200 @ 6.
    ledger = Ledger(LedgerConfig(lot_method=LotMethod.HIFO))
    ledger.post(make_deposit("10000"))
    ledger.post(make_fill("b-1", "buy", 100, "10", ts_event=at(2024, 3, 11)))
    ledger.post(make_fill("b-2", "buy", 100, "12", ts_event=at(2024, 3, 12)))
    ledger.post(Split(entry_id="sp-1", ts_event=at(2024, 3, 13), symbol="AAPL", ratio=Decimal("2")))

    # Act: sell 250 @ 7: b-2 200 x (7 - 6) = 200, then b-1 50 x (7 - 5) = 100.
    ledger.post(make_fill("s-1", "sell", 250, "7", ts_event=at(2024, 3, 14)))

    # Assert
    assert [(g.lot_id, g.quantity, g.gain) for g in ledger.realised_gains("s-1")] == [
        ("b-2", Decimal("200"), Decimal("200")), ("b-1", Decimal("50"), Decimal("100"))]


def test_lot_book_hifo_request_on_fifo_book_sorts_on_the_fly():
    # Arrange: a book kept for FIFO, asked once for HIFO.
    book = LotBook(LotMethod.FIFO)
    for lot_id, price, day in (("a", "10", 11), ("b", "12", 12), ("c", "11", 13)):
        book.commit("AAPL", (), "left", TaxLot(lot_id=lot_id, symbol="AAPL", quantity=Decimal(100),
                                               cost=Decimal(price) * 100, fees=Decimal(0),
                                               acquired=date(2024, 3, day), ts_event=at(2024, 3, day)))

    # Act
    reliefs, end = book.plan_relief("AAPL", Decimal(150), method=LotMethod.HIFO, selection=(),
                                    quantum=Decimal("0.01"))

    # Assert
    assert [(r.lot.lot_id, r.quantity) for r in reliefs] == [("b", Decimal(100)), ("c", Decimal(50))]
    assert end == "any"
    assert [lot.quantity for lot in book.lots("AAPL")] == [Decimal(100)] * 3  # planning changed nothing
