"""Compliance pre-trade checks through the bifrost.orders.pretrade protocol."""

from __future__ import annotations

from decimal import Decimal

from bifrost.compliance import AccountProfile
from bifrost.compliance.pretrade import (
    DayTradeCheck,
    GoodFaithCheck,
    IntradayMarginCheck,
    WashSaleCheck,
    ordinal,
)
from bifrost.orders.pretrade import AccountType, Decision, PreTradeChain, PreTradeContext
from bifrost.orders.types import OrderRequest
from tests.compliance.helpers import at, trade

D = Decimal


def _context(day, clock="12:00", **kw):
    return PreTradeContext(portfolio_id="1", now=at(day, clock), **kw)


def _sell(quantity, price, cid="o1", side="sell"):
    return OrderRequest(client_order_id=cid, symbol="X", side=side, quantity=D(quantity), order_type="limit",
                        limit_price=D(price))


def test_sale_with_recent_purchase_warns_with_amount():
    trades = [trade("B1", "2024-01-02", "buy", 100, 20), trade("B2", "2024-02-20", "buy", 100, 15)]
    check = WashSaleCheck(trades=trades, account="A")
    result = check.check(_sell(100, "12.40"), _context("2024-03-01"))
    # FIFO sells B1 at a loss of 100 x (20 - 12.40) = 760; B2 (bought 10 days earlier) replaces all of it.
    assert result.decision is Decision.WARN
    assert result.findings[0].numbers["disallowed"] == D("760.00")
    assert "disallow $760.00" in result.messages[0] and "B2" in result.messages[0]


def test_purchase_after_loss_sale_blocks_when_configured():
    trades = [trade("B1", "2024-01-02", "buy", 100, 20), trade("S1", "2024-02-20", "sell", 100, 8)]
    check = WashSaleCheck(trades=trades, account="A", block=True)
    result = check.check(_sell(50, 9, side="buy"), _context("2024-03-01"))
    assert result.decision is Decision.REJECT and result.findings[0].numbers["disallowed"] == D("600.00")


def test_gain_sale_and_ira_account_say_nothing():
    trades = [trade("B1", "2024-01-02", "buy", 100, 10), trade("B2", "2024-02-20", "buy", 100, 11)]
    assert WashSaleCheck(trades=trades, account="A").check(_sell(100, 12), _context("2024-03-01")).decision \
        is Decision.ACCEPT
    ira = WashSaleCheck(trades=[t for t in trades], account="A", accounts={"A": AccountProfile(tax_advantaged=True)})
    assert ira.check(_sell(100, 5), _context("2024-03-01")).decision is Decision.ACCEPT


def test_fourth_day_trade_warning_message():
    trades = []
    for n, day in enumerate(["2024-04-01", "2024-04-02", "2024-04-03"]):
        trades += [trade(f"b{n}", day, "buy", 1, 10, clock="10:00"), trade(f"s{n}", day, "sell", 1, 10,
                                                                             clock="11:00")]
    trades.append(trade("b3", "2024-04-04", "buy", 1, 10, clock="10:00"))
    check = DayTradeCheck(trades=trades, account="A", equity=D(10_000))
    result = check.check(_sell(1, 10), _context("2024-04-04", account_type=AccountType.MARGIN))
    assert result.decision is Decision.WARN
    assert "this sale would be your 4th day trade in 5 business days" in result.messages[0]
    blocking = DayTradeCheck(trades=trades, account="A", equity=D(10_000), block=True)
    assert blocking.check(_sell(1, 10), _context("2024-04-04", account_type=AccountType.MARGIN)).decision \
        is Decision.REJECT
    rich = DayTradeCheck(trades=trades, account="A", equity=D(30_000), block=True)
    assert rich.check(_sell(1, 10), _context("2024-04-04", account_type=AccountType.MARGIN)).decision \
        is Decision.WARN


def test_designated_pdt_below_minimum_is_rejected_and_cash_account_ignored():
    trades = []
    for n, day in enumerate(["2024-04-01", "2024-04-02", "2024-04-03", "2024-04-04"]):
        trades += [trade(f"b{n}", day, "buy", 1, 10, clock="10:00"), trade(f"s{n}", day, "sell", 1, 10,
                                                                             clock="11:00")]
    trades.append(trade("b9", "2024-04-05", "buy", 1, 10, clock="10:00"))
    check = DayTradeCheck(trades=trades, account="A", equity=D(20_000))
    assert check.check(_sell(1, 10), _context("2024-04-05", account_type=AccountType.MARGIN)).decision \
        is Decision.REJECT
    assert check.check(_sell(1, 10), _context("2024-04-05", account_type=AccountType.CASH)).decision \
        is Decision.ACCEPT


def test_intraday_margin_blocks_order_creating_deficit_allows_reducing():
    context = _context("2026-07-01", account_type=AccountType.MARGIN, cash=D(10_000), positions={"X": D(100)},
                       last_prices={"X": D(100)})
    check = IntradayMarginCheck()
    # Buying 400 more at 100: long 50,000 @25% = 12,500 > equity 20,000? no -> fine; 700 more: 80,000 -> 20,000 ok;
    # 800 more: long 90,000 requires 22,500 > 20,000 -> deficit 2,500.
    assert check.check(_sell(700, 100, side="buy"), context).decision is Decision.ACCEPT
    rejected = check.check(_sell(800, 100, side="buy"), context)
    assert rejected.decision is Decision.REJECT and rejected.findings[0].numbers["deficit_after"] == D("2500.00")
    chain = PreTradeChain([check])
    assert chain.check(_sell(50, 100), context).decision is Decision.ACCEPT


def test_ordinal():
    assert [ordinal(n) for n in (1, 2, 3, 4, 11, 12, 13, 21, 22, 101)] == \
        ["1st", "2nd", "3rd", "4th", "11th", "12th", "13th", "21st", "22nd", "101st"]


def test_ira_purchase_after_taxable_loss_warns_loss_lost_for_good():
    trades = [trade("B1", "2024-01-02", "buy", 100, 20), trade("S1", "2024-02-20", "sell", 100, 8)]
    check = WashSaleCheck(trades=trades, account="IRA", accounts={"IRA": AccountProfile(tax_advantaged=True)})
    result = check.check(_sell(100, 9, side="buy"), _context("2024-03-01"))
    assert result.decision is Decision.WARN and result.findings[0].numbers["disallowed"] == D("1200.00")
    assert "lost for good" in result.messages[0]


def test_good_faith_check_warns_before_funds_settle_and_rejects_free_riding():
    trades = [trade("b0", "2024-01-02", "buy", 100, 10), trade("s0", "2024-06-03", "sell", 100, 10, clock="10:00"),
              trade("b1", "2024-06-03", "buy", 50, 20, clock="11:00", symbol="X2")]
    check = GoodFaithCheck(trades=trades, settled_cash=D(1000))
    sell = OrderRequest(client_order_id="g", symbol="X2", side="sell", quantity=D(50), order_type="limit",
                        limit_price=D(21))
    same_day = check.check(sell, _context("2024-06-03", "15:00", account_type=AccountType.CASH))
    next_day = check.check(sell, _context("2024-06-04", "15:00", account_type=AccountType.CASH))
    assert same_day.decision is Decision.WARN and "good-faith violation" in same_day.messages[0]
    assert next_day.decision is Decision.ACCEPT
    unpaid = GoodFaithCheck(trades=[trade("b9", "2024-06-03", "buy", 100, 10, symbol="X2")], settled_cash=D(0))
    assert unpaid.check(sell, _context("2024-06-05", account_type=AccountType.CASH)).decision is Decision.REJECT


def test_per_sale_lot_method_override_changes_the_wash_preview():
    # FIFO sells B1 (old, gain at 15): no wash; HIFO sells B2 (highest basis, loss 5/sh) and B3, bought
    # 5 days before and still held, replaces it.
    trades = [trade("B1", "2023-01-03", "buy", 10, 10), trade("B2", "2024-02-01", "buy", 10, 20),
              trade("B3", "2024-02-25", "buy", 10, 14)]
    fifo = WashSaleCheck(trades=trades, account="A").check(_sell(10, 15), _context("2024-03-01"))
    hifo = WashSaleCheck(trades=trades, account="A", lot_method="hifo").check(_sell(10, 15), _context("2024-03-01"))
    assert fifo.decision is Decision.ACCEPT
    assert hifo.decision is Decision.WARN and hifo.findings[0].numbers["disallowed"] == D("50.00")


def _sell_with(quantity, price, **override):
    return OrderRequest(client_order_id="o1", symbol="X", side="sell", quantity=D(quantity), order_type="limit",
                        limit_price=D(price), **override)


def test_wash_sale_preview_follows_the_orders_lot_override():
    # B1 10 @ 100 (long ago), B2 10 @ 80 (10 days ago). Selling 10 at 90: FIFO relieves B1 at a $100 loss, which
    # B2 replaces (all $100 disallowed); LIFO, or naming B2, sells B2 at a $100 gain: no wash sale.
    trades = [trade("B1", "2023-06-01", "buy", 10, 100), trade("B2", "2024-02-20", "buy", 10, 80)]
    check = WashSaleCheck(trades=trades, account="A")
    context = _context("2024-03-01")
    fifo = check.check(_sell_with(10, 90), context)
    assert fifo.decision is Decision.WARN and fifo.findings[0].numbers["disallowed"] == D("100.00")
    assert check.check(_sell_with(10, 90, lot_method="lifo"), context).decision is Decision.ACCEPT
    assert check.check(_sell_with(10, 90, lot_ids=("B2",)), context).decision is Decision.ACCEPT
    named = check.check(_sell_with(10, 90, lot_ids=("B1",)), context)
    assert named.findings[0].numbers["disallowed"] == D("100.00")


def test_wash_sale_preview_named_lot_short_of_the_order_takes_the_rest_by_method():
    # Naming B2 (10) for a sale of 15 relieves B2 (a gain), then 5 of B1 by the account's FIFO: a loss of
    # 5 x $10 = $50. B2 is part of the sale, so B3 (5 bought 5 days ago) is the replacement: $50 disallowed.
    trades = [trade("B1", "2023-06-01", "buy", 10, 100), trade("B2", "2024-02-20", "buy", 10, 80),
              trade("B3", "2024-02-25", "buy", 5, 85)]
    check = WashSaleCheck(trades=trades, account="A")
    result = check.check(_sell_with(15, 90, lot_ids=("B2",)), _context("2024-03-01"))
    assert result.findings[0].numbers["disallowed"] == D("50.00")


def test_short_sale_after_cover_at_a_loss_warns_with_amount():
    # Short 100 at $50, covered at $55 ten days ago: a $500 loss. Shorting 100 again at $54 would replace it
    # (§1091(e)): all $500 disallowed.
    trades = [trade("SS1", "2024-02-20", "sell_short", 100, 50), trade("BC1", "2024-02-20", "buy_to_cover", 100, 55,
                                                                        clock="16:30")]
    check = WashSaleCheck(trades=trades, account="A")
    result = check.check(_sell(100, 54), _context("2024-03-01"))
    assert result.findings[0].numbers["disallowed"] == D("500.00")
    assert result.messages[0].startswith("this short sale of 100 X would be a wash sale and disallow $500.00")


def test_cover_at_a_loss_with_another_open_short_warns():
    # SS0 (100 at $52) and SS1 (100 at $50) are open; covering 100 at $55 relieves SS0 first (FIFO) at a $300 loss,
    # which SS1, shorted 5 days ago and still open, replaces.
    trades = [trade("SS0", "2024-02-20", "sell_short", 100, 52), trade("SS1", "2024-02-25", "sell_short", 100, 50)]
    check = WashSaleCheck(trades=trades, account="A")
    result = check.check(_sell(100, 55, side="buy"), _context("2024-03-01"))
    assert result.findings[0].numbers["disallowed"] == D("300.00")
    assert "to cover 100 X short" in result.messages[0] and "SS1" in result.messages[0]
