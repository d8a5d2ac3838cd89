"""Position reporting thresholds, restricted list, and cash-account violations."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from bifrost.compliance.cashaccount import cash_account_violations, settlement_date
from bifrost.compliance.positions import (
    RestrictedListCheck,
    beneficial_ownership,
    holdings_13f,
    large_trader_activity,
)
from bifrost.core.errors import InvalidInput
from bifrost.orders.pretrade import Decision, PreTradeContext
from bifrost.orders.types import OrderRequest
from tests.compliance.helpers import at, trade

D = Decimal


def test_beneficial_ownership_levels_more_than_five_percent():
    findings = beneficial_ownership({"A": D(460_000), "B": D(500_000), "C": D(510_000), "E": D(10)},
                                    {"A": D(10_000_000), "B": D(10_000_000), "C": D(10_000_000)})
    assert [(f.symbol, f.percent, f.level) for f in findings] == [
        ("A", D("4.6000"), "alert"), ("B", D("5.0000"), "alert"),  # exactly 5% is not "more than 5%"
        ("C", D("5.1000"), "13d"), ("E", None, "unknown")]
    with pytest.raises(InvalidInput, match="alert_pct must be above 0 and at most filing_pct 5"):
        beneficial_ownership({}, {}, alert_pct=D(6))


def test_13f_table_whole_dollars_and_threshold():
    rows, total, required = holdings_13f({"A": D(1_000_000), "B": D(300_000), "S": D(-5)},
                                         {"A": D("99.995"), "B": D("0.5")})
    assert [(r.symbol, r.value_usd) for r in rows] == [("A", D(99_995_000)), ("B", D(150_000))]
    assert total == D(100_145_000) and required
    assert holdings_13f({"A": D(1)}, {"A": D(10)})[2] is False


def test_large_trader_day_and_month_levels():
    trades = [trade("d1", "2024-03-04", "buy", 1_000_000, 5), trade("d2", "2024-03-04", "sell", 1_000_000, 5,
                                                                          clock="16:01"),
              trade("m1", "2024-04-02", "buy", 100_000, 500)]  # $50M in one day
    breaches = [(b.period, b.start, b.by) for b in large_trader_activity(trades)]
    assert breaches == [("day", date(2024, 3, 4), "shares"), ("day", date(2024, 4, 2), "notional")]


def test_restricted_and_watch_list():
    check = RestrictedListCheck(restricted={"ACME": "insider: board seat"}, watch=["WIDG"])
    context = PreTradeContext(portfolio_id="1", now=at("2024-03-04"))
    order = OrderRequest(client_order_id="x", symbol="ACME", side="buy", quantity=D(1))
    rejected = check.check(order, context)
    assert rejected.decision is Decision.REJECT and "restricted list: insider: board seat" in rejected.messages[0]
    watched = check.check(OrderRequest(client_order_id="y", symbol="WIDG", side="buy", quantity=D(1)), context)
    assert watched.decision is Decision.WARN


def test_settlement_t_plus_one_from_may_2024():
    assert settlement_date(date(2024, 5, 24)) == date(2024, 5, 29)  # Fri, T+2 over Memorial Day
    assert settlement_date(date(2024, 5, 28)) == date(2024, 5, 29)  # first T+1 trade date
    assert settlement_date(date(2024, 7, 3)) == date(2024, 7, 5)    # T+1 over Independence Day


def test_good_faith_violation_selling_before_funds_settle():
    # Sell ABC Monday (proceeds settle Tuesday), buy XYZ with them Monday, sell XYZ Monday: violation.
    # Selling XYZ on Tuesday instead, when the proceeds have settled, is fine.
    base = [trade("b0", "2024-01-02", "buy", 100, 10), trade("s0", "2024-06-03", "sell", 100, 10, clock="10:00"),
            trade("b1", "2024-06-03", "buy", 50, 20, clock="11:00", symbol="XYZ")]
    same_day = cash_account_violations([*base, trade("s1", "2024-06-03", "sell", 50, 21, clock="15:00",
                                                     symbol="XYZ")], settled_cash=D(1000))
    next_day = cash_account_violations([*base, trade("s1", "2024-06-04", "sell", 50, 21, symbol="XYZ")],
                                       settled_cash=D(1000))
    assert [(v.kind, v.trade_id) for v in same_day] == [("good_faith", "s1")]
    assert next_day == []


def test_free_riding_unpaid_purchase_sold():
    violations = cash_account_violations([trade("b1", "2024-06-03", "buy", 100, 10),
                                          trade("s1", "2024-06-05", "sell", 100, 11)], settled_cash=D(0))
    assert violations[0].kind == "free_riding" and violations[0].amount == D(1000)
    assert violations[0].restricted_until == date(2024, 9, 3)


def test_three_good_faith_violations_restrict_for_90_days():
    trades = [trade("b0", "2024-01-02", "buy", 300, 10)]
    for n, day in enumerate(["2024-06-03", "2024-06-10", "2024-06-17"]):
        trades += [trade(f"s{n}", day, "sell", 100, 10, clock="10:00"),
                   trade(f"b{n + 1}", day, "buy", 10, 100, clock="11:00", symbol=f"Y{n}"),
                   trade(f"x{n}", day, "sell", 10, 1, clock="12:00", symbol=f"Y{n}")]  # proceeds ~nil
    violations = cash_account_violations(trades, settled_cash=D(3000))
    assert [v.restricted_until for v in violations] == [None, None, date(2024, 9, 15)]
