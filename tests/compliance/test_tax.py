"""Tax lots and wash sales against IRS Publication 550 and Treas. Reg. §1.1091-1/-2 examples."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from bifrost.compliance import (
    AccountProfile,
    IdenticalGroups,
    SplitAction,
    TaxLotMethod,
    compute_tax_lots,
    harvest_candidates,
    holding_long_term,
    long_term_from,
    unrealised,
)
from bifrost.core.errors import InvalidInput, StateConflict
from tests.compliance.helpers import at, trade

D = Decimal


# -- holding period -----------------------------------------------------------------------

@pytest.mark.parametrize(("acquired", "disposed", "expected"), [
    # Pub. 550 "Holding Period": bought 2023-02-05 (example dates shifted to the text's pattern):
    # sold on the anniversary is not more than 1 year; the day after is.
    ("2023-02-05", "2024-02-05", False),
    ("2023-02-05", "2024-02-06", True),
    # Leap day acquisitions: the period starts 1 March, long term from 1 March next year.
    ("2024-02-29", "2025-02-28", False),
    ("2024-02-29", "2025-03-01", True),
    # Acquired 28 Feb before a leap day: the period starts 1 March 2023 (Rev. Rul. 66-7).
    ("2023-02-28", "2024-02-29", False),
    ("2023-02-28", "2024-03-01", True),
    # Acquired 28 Feb 2024: the period starts 29 Feb; no 29 Feb 2025, so 1 March.
    ("2024-02-28", "2025-02-28", False),
    ("2024-02-28", "2025-03-01", True),
    # Month ends.
    ("2023-01-31", "2024-01-31", False),
    ("2023-01-31", "2024-02-01", True),
    ("2023-12-31", "2024-12-31", False),
    ("2023-12-31", "2025-01-01", True),
])
def test_holding_long_term_edge_dates_match_pub550_rule(acquired, disposed, expected):
    assert holding_long_term(date.fromisoformat(acquired), date.fromisoformat(disposed)) is expected


def test_long_term_from_leap_day_is_first_of_march():
    assert long_term_from(date(2024, 2, 29)) == date(2025, 3, 1)


# -- lot relief -----------------------------------------------------------------------------

def _three_lots(method, **sale_extra):
    trades = [
        trade("B1", "2023-01-10", "buy", 10, 100),  # long term at the sale, gain 20/sh
        trade("B2", "2023-06-01", "buy", 10, 150),  # long term, loss 30/sh
        trade("B3", "2024-05-01", "buy", 10, 130),  # short term, loss 10/sh
        trade("B4", "2024-06-01", "buy", 10, 110),  # short term, gain 10/sh
        trade("S1", "2024-07-01", "sell", 10, 120, **sale_extra),
    ]
    return compute_tax_lots(trades, accounts={"A": AccountProfile(lot_method=method)}, wash_sales=False)


@pytest.mark.parametrize(("method", "lot"), [
    (TaxLotMethod.FIFO, "B1"), (TaxLotMethod.LIFO, "B4"), (TaxLotMethod.HIFO, "B2"),
    (TaxLotMethod.TAX_OPTIMAL, "B3"),  # short-term loss first
])
def test_lot_method_picks_expected_lot(method, lot):
    result = _three_lots(method)
    assert [d.lot_id for d in result.disposals] == [lot]


def test_tax_optimal_order_st_loss_lt_loss_lt_gain_st_gain():
    trades = [trade("B1", "2023-01-10", "buy", 10, 100), trade("B2", "2023-06-01", "buy", 10, 150),
              trade("B3", "2024-05-01", "buy", 10, 130), trade("B4", "2024-06-01", "buy", 10, 110),
              trade("S1", "2024-07-01", "sell", 40, 120)]
    result = compute_tax_lots(trades, accounts={"A": AccountProfile(lot_method="tax_optimal")})
    assert [d.lot_id for d in result.disposals] == ["B3", "B2", "B1", "B4"]
    assert [d.long_term for d in result.disposals] == [False, True, True, False]


def test_per_sale_override_and_specific_lot():
    by_override = _three_lots(TaxLotMethod.FIFO, lot_method=TaxLotMethod.LIFO)
    by_lot = _three_lots(TaxLotMethod.FIFO, lot_id="B3")
    assert by_override.disposals[0].lot_id == "B4"
    assert by_lot.disposals[0].lot_id == "B3"


def test_commissions_go_into_basis_and_proceeds():
    # docs/trade-import.md example: T-1003 sells 40 of lot T-1002 (50 @ 184.10, fee 0.50) at 170.73, fee 0.65.
    trades = [trade("T-1001", "2024-01-03", "buy", 100, "184.25", fees="1.00", clock="10:15"),
              trade("T-1002", "2024-01-03", "buy", 50, "184.10", fees="0.50", clock="10:16"),
              trade("T-1003", "2024-03-08", "sell", 40, "170.73", fees="0.65", lot_id="T-1002")]
    result = compute_tax_lots(trades, wash_sales=False)
    (disposal,) = result.disposals
    assert disposal.proceeds == D("6828.55") and disposal.basis == D("7364.40")
    assert disposal.gain == D("-535.85") and not disposal.long_term


def test_split_keeps_total_basis():
    trades = [trade("B1", "2024-01-03", "buy", 110, 100, fees="1.00")]
    result = compute_tax_lots(trades, splits=[SplitAction(symbol="X", ts=at("2024-07-01"), ratio=D(4))])
    (lot,) = result.open_lots
    assert lot.quantity == D(440) and lot.basis == D("11001.00")


def test_selling_more_than_held_names_the_trade():
    with pytest.raises(StateConflict, match="trade S1 closes 5 X in account A but only 0"):
        compute_tax_lots([trade("S1", "2024-01-03", "sell", 5, 10)])


def test_duplicate_trade_id_is_invalid():
    with pytest.raises(InvalidInput, match="duplicate trade_id 'B1'"):
        compute_tax_lots([trade("B1", "2024-01-03", "buy", 5, 10), trade("B1", "2024-01-04", "buy", 5, 10)])


def test_short_sale_gain_is_short_term():
    trades = [trade("SS", "2024-03-11", "sell_short", 10, "177.77", fees="1.00"),
              trade("BC", "2024-03-12", "buy_to_cover", 10, "177.54", fees="1.00", lot_id="SS")]
    (d,) = compute_tax_lots(trades).disposals
    # docs/trade-import.md: T-1005 covers T-1004 for a gain of 0.30.
    assert d.gain == D("0.30") and d.short and not d.long_term


# -- wash sales -----------------------------------------------------------------------------

def test_pub550_example_1_full_replacement():
    # Pub. 550 / VITA: buy 100 X for $1,000, sell for $750, buy 100 within 30 days for $800:
    # the $250 loss is disallowed and the new basis is $1,050.
    trades = [trade("B1", "2024-01-02", "buy", 100, 10), trade("S1", "2024-03-01", "sell", 100, "7.50"),
              trade("B2", "2024-03-20", "buy", 100, 8)]
    result = compute_tax_lots(trades)
    (disposal,) = result.disposals
    (lot,) = result.open_lots
    assert disposal.wash_disallowed == D(250) and disposal.gain == 0 and disposal.code == "W"
    assert lot.basis == D(1050)


def test_reg_1091_2_examples_basis_follows_price_difference():
    # Treas. Reg. §1.1091-2(a) Examples 1 and 2: old basis $100, sold $80, new share bought at $90 -> $110;
    # at $70 -> $90. The old share was held since 1935: the new share's holding period tacks, so long term.
    for price, basis in (("90", "110"), ("70", "90")):
        trades = [trade("B1", "1935-06-03", "buy", 1, 100), trade("S1", "1955-01-14", "sell", 1, 80),
                  trade("B2", "1955-02-01", "buy", 1, price)]
        result = compute_tax_lots(trades)
        (lot,) = result.open_lots
        assert lot.basis == D(basis)
        assert holding_long_term(lot.holding_acquired, date(1955, 3, 1))


def test_partial_replacement_from_several_lots_in_acquisition_order():
    # Treas. Reg. §1.1091-1(c)/(d): when fewer shares are acquired than sold, the loss on that many shares is
    # disallowed, replacement shares matched in the order acquired. 100 M bought for $5,000 and sold for $4,000
    # (loss $10/share); 50 bought for $2,750 and 25 for $1,125 within the 30 days before. Computed here:
    # 75 x $10 = $750 disallowed, 25 x $10 = $250 allowed; the 50 shares get $500 (basis $3,250), the 25
    # shares $250 (basis $1,375) under §1091(d).
    trades = [trade("B1", "1954-09-21", "buy", 100, 50), trade("B2", "1954-12-21", "buy", 50, 55),
              trade("B3", "1954-12-27", "buy", 25, 45), trade("S1", "1955-01-03", "sell", 100, 40, lot_id="B1")]
    result = compute_tax_lots(trades)
    (disposal,) = result.disposals
    assert disposal.wash_disallowed == D(750) and disposal.gain == D(-250)
    bases = {lot.acquisition_id: lot.basis for lot in result.open_lots}
    assert bases == {"B2": D(3250), "B3": D(1375)}
    assert [w.replacement_trade_id for w in result.wash_sales] == ["B2", "B3"]


def test_textbook_commissions_partial_replacement_lot():
    # Textbook problem ("Alana ... Courtney common stock", West Federal Taxation style): 300 shares cost
    # $6,000; sold for $4,800 less $300 commission; 500 bought 18 days later for
    # $5,300 + $400 commission: loss $1,500 disallowed; 300 replacement shares basis $4,920, other 200 $2,280.
    trades = [trade("B1", "2024-01-02", "buy", 300, 20), trade("S1", "2024-02-01", "sell", 300, 16, fees=300),
              trade("B2", "2024-02-19", "buy", 500, "10.60", fees=400)]
    result = compute_tax_lots(trades)
    assert result.disposals[0].wash_disallowed == D(1500)
    assert sorted((lot.quantity, lot.basis) for lot in result.open_lots) == [(D(200), D(2280)), (D(300), D(4920))]


def test_gain_never_washes():
    trades = [trade("B1", "2024-01-02", "buy", 10, 10), trade("S1", "2024-01-10", "sell", 10, 12),
              trade("B2", "2024-01-15", "buy", 10, 11)]
    result = compute_tax_lots(trades)
    assert result.wash_sales == () and result.disposals[0].gain == D(20)


def test_window_is_30_calendar_days_each_side():
    def run(rebuy):
        return compute_tax_lots([trade("B1", "2024-01-02", "buy", 10, 10), trade("S1", "2024-03-01", "sell", 10, 8),
                                 trade("B2", rebuy, "buy", 10, 8)])
    assert run("2024-03-31").disposals[0].wash_disallowed == D(20)  # day 30
    assert run("2024-04-01").disposals[0].wash_disallowed == 0      # day 31


def test_rest_of_same_lot_is_not_replacement():
    # Rev. Rul. 56-602: selling part of one purchase leaves no replacement shares.
    result = compute_tax_lots([trade("B1", "2024-01-02", "buy", 100, 10), trade("S1", "2024-01-10", "sell", 50, 8)])
    assert result.wash_sales == () and result.disposals[0].gain == D(-100)


def test_chain_of_wash_sales_carries_adjustment():
    trades = [trade("B1", "2024-01-02", "buy", 10, 10), trade("S1", "2024-02-01", "sell", 10, 8),   # -20
              trade("B2", "2024-02-05", "buy", 10, 8), trade("S2", "2024-02-20", "sell", 10, 7),    # -10 - 20
              trade("B3", "2024-03-01", "buy", 10, 7), trade("S3", "2024-06-03", "sell", 10, 9)]
    result = compute_tax_lots(trades)
    s2 = next(d for d in result.disposals if d.closing_id == "S2")
    s3 = next(d for d in result.disposals if d.closing_id == "S3")
    assert s2.basis == D(100) and s2.wash_disallowed == D(30)
    assert s3.basis == D(100) and s3.gain == D(-10)
    # Total over the chain equals the plain economic result: bought at 10, finally sold at 9.
    assert sum(d.gain for d in result.disposals) == D(-10)


def test_holding_period_tacks_onto_replacement():
    # Held 300 days, sold at a loss, replaced 5 days later: replacement is long term 66 days earlier.
    trades = [trade("B1", "2023-03-01", "buy", 10, 10), trade("S1", "2023-12-26", "sell", 10, 8),
              trade("B2", "2023-12-31", "buy", 10, 8), trade("S2", "2024-04-01", "sell", 10, 9)]
    result = compute_tax_lots(trades)
    s2 = next(d for d in result.disposals if d.closing_id == "S2")
    held_first = (date(2023, 12, 26) - date(2023, 3, 1)).days
    assert s2.holding_acquired == date(2023, 12, 31).fromordinal(date(2023, 12, 31).toordinal() - held_first)
    assert s2.long_term  # 300 + 92 days > 1 year


def test_ira_repurchase_disallows_without_basis():
    trades = [trade("B1", "2024-01-02", "buy", 10, 10), trade("S1", "2024-02-01", "sell", 10, 8),
              trade("I1", "2024-02-10", "buy", 10, 8, account="IRA")]
    result = compute_tax_lots(trades, accounts={"IRA": AccountProfile(tax_advantaged=True)})
    assert result.disposals[0].wash_disallowed == D(20)
    ira_lot = next(lot for lot in result.open_lots if lot.account == "IRA")
    assert ira_lot.basis == D(80) and result.permanently_disallowed == D(20)
    assert result.wash_sales[0].added_to_basis is False


def test_spouse_taxable_account_gets_basis():
    trades = [trade("B1", "2024-01-02", "buy", 10, 10), trade("S1", "2024-02-01", "sell", 10, 8),
              trade("J1", "2024-02-10", "buy", 10, 8, account="JOINT")]
    result = compute_tax_lots(trades)
    assert next(lot for lot in result.open_lots if lot.account == "JOINT").basis == D(100)


def test_substantially_identical_group_and_options_count_100():
    groups = IdenticalGroups.of([["SPY", "IVV"]])
    trades = [trade("B1", "2024-01-02", "buy", 300, 10, symbol="SPY"),
              trade("S1", "2024-02-01", "sell", 300, 8, symbol="SPY"),       # loss 600
              trade("B2", "2024-02-05", "buy", 100, 8, symbol="IVV"),        # 100 shares
              trade("C1", "2024-02-06", "buy", 1, 2, symbol="SPY240621C00010000", underlying="SPY",
                    multiplier=D(100))]                                       # 1 call = 100 shares
    result = compute_tax_lots(trades, identical=groups)
    assert result.disposals[0].wash_disallowed == D(400)
    option = next(lot for lot in result.open_lots if lot.symbol.startswith("SPY2"))
    assert option.basis == D(400)  # 200 premium + 200 disallowed


def test_each_replacement_share_used_once():
    # B2 is bought more than 30 days before either sale, so only R1 can replace: it washes S1 only.
    trades = [trade("B1", "2023-12-01", "buy", 10, 10), trade("B2", "2023-12-02", "buy", 10, 10),
              trade("S1", "2024-02-01", "sell", 10, 8, lot_id="B1"),
              trade("S2", "2024-02-02", "sell", 10, 8, lot_id="B2"),
              trade("R1", "2024-02-10", "buy", 10, 8)]
    result = compute_tax_lots(trades)
    assert [d.wash_disallowed for d in result.disposals] == [D(20), D(0)]
    assert sum(w.shares for w in result.wash_sales) == D(10)


def test_unrealised_by_term_and_harvest_skips_recent_purchase():
    trades = [trade("B1", "2022-01-03", "buy", 10, 100), trade("B2", "2024-05-01", "buy", 10, 50, symbol="Y"),
              trade("B3", "2024-06-20", "buy", 5, 45, symbol="Y"), trade("B4", "2024-01-02", "buy", 10, 30,
                                                                          symbol="Z")]
    result = compute_tax_lots(trades)
    prices = {"X": D(90), "Y": D(40), "Z": D(25)}
    rows = {u.lot.lot_id: (u.gain, u.long_term) for u in unrealised(result, prices, date(2024, 7, 1))}
    assert rows == {"B1": (D(-100), True), "B2": (D(-100), False), "B3": (D(-25), False), "B4": (D(-50), False)}
    candidates = harvest_candidates(result, prices, date(2024, 7, 1))
    # Y has a purchase in the last 30 days (B3): selling B2 would wash; B3 itself alone would not? B2 is also
    # held, but was bought more than 30 days ago, so B3's sale is clean.
    assert [c.lot.lot_id for c in candidates] == ["B1", "B4", "B3"]


def test_earlier_purchase_still_held_is_replacement_then_chains():
    # B2 (29 days before S1) replaces S1's loss; selling B2 later at a loss washes again into R1.
    trades = [trade("B1", "2024-01-02", "buy", 10, 10), trade("B2", "2024-01-03", "buy", 10, 10),
              trade("S1", "2024-02-01", "sell", 10, 8, lot_id="B1"),
              trade("S2", "2024-02-02", "sell", 10, 8, lot_id="B2"),
              trade("R1", "2024-02-10", "buy", 10, 8)]
    result = compute_tax_lots(trades)
    assert [d.wash_disallowed for d in result.disposals] == [D(20), D(40)]
    assert result.open_lots[0].basis == D(120)


# -- splits between a loss sale and its replacement ------------------------------------------
# Pub. 550 ("Stock splits"): a split spreads the old basis over the new shares; §1091(a) disallows the loss
# to the extent of the shares replaced, so the replacement is counted in shares of the sale date.
# Expected values are worked by hand below (independent computation, exact to the cent).

def test_split_between_loss_sale_and_buyback_washes_all_original_shares():
    # 100 X cost $1,000 sold for $800 (loss $200); 2-for-1 split; 200 new shares bought for $820 = 100 old shares:
    # the whole $200 is disallowed and spread over the 200 new shares: basis $820 + $200 = $1,020.
    trades = [trade("B1", "2024-01-02", "buy", 100, 10), trade("S1", "2024-03-01", "sell", 100, 8),
              trade("R1", "2024-03-15", "buy", 200, "4.10")]
    result = compute_tax_lots(trades, splits=[SplitAction(symbol="X", ts=at("2024-03-08"), ratio=D(2))])
    (disposal,) = result.disposals
    (wash,) = result.wash_sales
    (lot,) = result.open_lots
    assert disposal.wash_disallowed == D(200) and disposal.gain == 0
    assert (wash.shares, wash.replacement_shares) == (D(100), D(200))
    assert (lot.quantity, lot.basis, lot.wash_adjustment) == (D(200), D(1020), D(200))
    # Tacking: B1 was held 59 days (2 January to 1 March), so R1's holding period starts 59 days before 15 March.
    assert lot.holding_acquired == date(2024, 1, 16)


def test_split_between_loss_sale_and_partial_buyback_washes_half():
    # Same sale; only 100 new shares (= 50 old) bought for $410: $200 x 50/100 = $100 disallowed, $100 allowed;
    # the 100 new shares carry it: $410 + $100 = $510.
    trades = [trade("B1", "2024-01-02", "buy", 100, 10), trade("S1", "2024-03-01", "sell", 100, 8),
              trade("R1", "2024-03-15", "buy", 100, "4.10")]
    result = compute_tax_lots(trades, splits=[SplitAction(symbol="X", ts=at("2024-03-08"), ratio=D(2))])
    (disposal,) = result.disposals
    (lot,) = result.open_lots
    assert disposal.wash_disallowed == D(100) and disposal.gain == D(-100)
    assert result.wash_sales[0].shares == D(50)
    assert (lot.quantity, lot.basis) == (D(100), D(510))


def test_split_between_replacement_purchase_and_loss_sale_counts_new_shares():
    # 100 X at $10 (B1) and, 30 days before the sale, 50 X at $9 (R1); 2-for-1 split; B1's 200 shares sold for
    # $800 (loss $200). R1 is now 100 shares, replacing 100 of the 200 sold: $100 disallowed, R1 basis $450 + $100.
    trades = [trade("B1", "2024-01-02", "buy", 100, 10), trade("R1", "2024-01-31", "buy", 50, 9),
              trade("S1", "2024-03-01", "sell", 200, 4, lot_id="B1")]
    result = compute_tax_lots(trades, splits=[SplitAction(symbol="X", ts=at("2024-02-15"), ratio=D(2))])
    (disposal,) = result.disposals
    (lot,) = result.open_lots
    assert disposal.wash_disallowed == D(100) and disposal.gain == D(-100)
    assert (lot.quantity, lot.basis) == (D(100), D(550))


def test_split_after_both_trades_does_not_change_the_match():
    # The split comes after the buy-back: 100 old shares replace 100 old shares, as with no split.
    trades = [trade("B1", "2024-01-02", "buy", 100, 10), trade("S1", "2024-03-01", "sell", 100, 8),
              trade("R1", "2024-03-15", "buy", 100, 8)]
    result = compute_tax_lots(trades, splits=[SplitAction(symbol="X", ts=at("2024-04-01"), ratio=D(2))])
    (lot,) = result.open_lots
    assert result.disposals[0].wash_disallowed == D(200)
    assert (lot.quantity, lot.basis) == (D(200), D(1000))


# -- wash sales on short sales (IRC §1091(e), Treas. Reg. §1.1091-1(g), Pub. 550 "Short sales") --------------
# A loss on closing a short sale is disallowed if, within 30 days before or after the closing, substantially
# identical stock is sold or another short sale of it is entered into. Expected values worked by hand.

def test_short_cover_loss_washed_by_later_short_sale_moves_to_new_short():
    # Short 100 at $50 ($5,000), covered at $55 ($5,500): loss $500. Shorted again 10 days later at $54 ($5,400):
    # the loss is disallowed and taken from the new short's proceeds ($4,900). Covered after the window at $50:
    # $4,900 - $5,000 = -$100, the economic result of both trades (-$500 + $400).
    trades = [trade("SS1", "2024-03-01", "sell_short", 100, 50), trade("BC1", "2024-03-11", "buy_to_cover", 100, 55),
              trade("SS2", "2024-03-21", "sell_short", 100, 54), trade("BC2", "2024-06-03", "buy_to_cover", 100, 50)]
    result = compute_tax_lots(trades)
    first, second = result.disposals
    assert first.wash_disallowed == D(500) and first.gain == 0 and first.code == "W"
    assert second.lot_id == "SS2/w1" and second.proceeds == D(4900) and second.gain == D(-100)
    (wash,) = result.wash_sales
    assert wash.short_sale and wash.replacement_trade_id == "SS2" and wash.tacked_days == 0


def test_short_cover_loss_washed_by_earlier_open_short_sale():
    # SS0 (100 at $52) is still open when SS1 is covered at a $500 loss 19 days later: SS0 replaces it.
    trades = [trade("SS0", "2024-02-20", "sell_short", 100, 52), trade("SS1", "2024-03-01", "sell_short", 100, 50),
              trade("BC1", "2024-03-10", "buy_to_cover", 100, 55, lot_id="SS1")]
    result = compute_tax_lots(trades)
    (open_short,) = result.open_lots
    assert result.disposals[0].wash_disallowed == D(500)
    assert open_short.short and (open_short.basis, open_short.wash_adjustment) == (D(4700), D(500))


def test_short_cover_loss_partly_replaced():
    # Only 40 shares shorted again: 40% of the $500 loss ($200) is disallowed; the 40-share short's proceeds
    # $2,160 become $1,960.
    trades = [trade("SS1", "2024-03-01", "sell_short", 100, 50), trade("BC1", "2024-03-11", "buy_to_cover", 100, 55),
              trade("SS2", "2024-03-21", "sell_short", 40, 54)]
    result = compute_tax_lots(trades)
    (lot,) = result.open_lots
    assert result.disposals[0].wash_disallowed == D(200) and result.disposals[0].gain == D(-300)
    assert lot.basis == D(1960)


@pytest.mark.parametrize("sale_day", ["2024-02-28", "2024-03-15"])
def test_short_cover_loss_washed_by_sale_of_identical_stock(sale_day):
    # Long 100 X at $40 in account L; short 100 at $50 in A covered at $55 (loss $500). L sells its 100 at $56
    # within 30 days (before or after the cover): the loss is disallowed and joins the basis of the shares L sold,
    # $4,000 + $500, so L's gain is $5,600 - $4,500 = $1,100.
    trades = [trade("B1", "2024-01-02", "buy", 100, 40, account="L"),
              trade("SS1", "2024-02-20", "sell_short", 100, 50),
              trade("L1", sale_day, "sell", 100, 56, account="L"),
              trade("BC1", "2024-03-11", "buy_to_cover", 100, 55)]
    result = compute_tax_lots(trades)
    cover = next(d for d in result.disposals if d.closing_id == "BC1")
    sale = next(d for d in result.disposals if d.closing_id == "L1")
    assert cover.wash_disallowed == D(500) and cover.gain == 0
    assert (sale.basis, sale.gain) == (D(4500), D(1100))
    assert sum(d.gain for d in result.disposals) == D(1100)  # = -$500 + $1,600: nothing lost


def test_short_cover_at_a_gain_never_washes():
    trades = [trade("SS1", "2024-03-01", "sell_short", 100, 50), trade("BC1", "2024-03-11", "buy_to_cover", 100, 45),
              trade("SS2", "2024-03-21", "sell_short", 100, 46)]
    result = compute_tax_lots(trades)
    assert result.wash_sales == () and result.disposals[0].gain == D(500)


def test_short_cover_loss_outside_window_is_allowed():
    trades = [trade("SS1", "2024-03-01", "sell_short", 100, 50), trade("BC1", "2024-03-11", "buy_to_cover", 100, 55),
              trade("SS2", "2024-04-11", "sell_short", 100, 54)]  # 31 days after the cover
    result = compute_tax_lots(trades)
    assert result.disposals[0].gain == D(-500) and result.wash_sales == ()


def test_lot_ids_relieve_named_lots_in_order_then_the_accounts_method():
    # The ledger's reading of an order's lot override: B3 then B1 whole, the last 5 by the account's LIFO (B4).
    result = compute_tax_lots([
        trade("B1", "2023-01-10", "buy", 10, 100), trade("B2", "2023-06-01", "buy", 10, 150),
        trade("B3", "2024-05-01", "buy", 10, 130), trade("B4", "2024-06-01", "buy", 10, 110),
        trade("S1", "2024-07-01", "sell", 25, 120, lot_ids=("B3", "B1"))],
        accounts={"A": AccountProfile(lot_method="lifo")}, wash_sales=False)
    assert [(d.lot_id, d.quantity, d.gain) for d in result.disposals] == [
        ("B3", D(10), D(-100)), ("B1", D(10), D(200)), ("B4", D(5), D(50))]


def test_lot_id_and_lot_ids_together_are_invalid():
    with pytest.raises(InvalidInput, match="trade S1 names lot_id and lot_ids; give one of them"):
        trade("S1", "2024-07-01", "sell", 5, 120, lot_id="B1", lot_ids=("B2",))
