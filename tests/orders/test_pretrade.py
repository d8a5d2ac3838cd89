"""Tests of pre-trade checks and the chain that combines them.

Times: 2024-03-08 15:00 UTC is 10:00 New York time on a Friday (XNYS open, closing at
21:00 UTC); 2024-03-09 is a Saturday. NYSE's market-on-close entry cutoff is 15:50 New York
time, ten minutes before the close. Amounts are hand arithmetic: 100 x 190.50 = 19,050.00.
"""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from bifrost.core.errors import InvalidInput
from bifrost.orders import (
    AccountType,
    CheckResult,
    Decision,
    Finding,
    InsufficientCashCheck,
    LimitPriceBandCheck,
    MarketHoursCheck,
    OrderRejected,
    OrderRequest,
    OrderType,
    PositiveQuantityCheck,
    PreTradeChain,
    PreTradeCheck,
    PreTradeContext,
    Side,
    TimeInForce,
)

OPEN_NOW = datetime(2024, 3, 8, 15, 0, tzinfo=UTC)
SESSION_CLOSE = datetime(2024, 3, 8, 21, 0, tzinfo=UTC)
SATURDAY = datetime(2024, 3, 9, 15, 0, tzinfo=UTC)
MONDAY_OPEN = datetime(2024, 3, 11, 13, 30, tzinfo=UTC)  # 09:30 New York, daylight time from 2024-03-10


BASE_CONTEXT = PreTradeContext(
    portfolio_id="P1", now=OPEN_NOW, account_type=AccountType.CASH, cash=Decimal("50000"),
    positions={"AAPL": Decimal(10)}, last_prices={"AAPL": Decimal("190.00"), "MSFT": Decimal("410.00")},
    known_symbols=frozenset({"AAPL", "MSFT"}), market_open=True, session_close=SESSION_CLOSE)


def _context(**overrides) -> PreTradeContext:
    return dataclasses.replace(BASE_CONTEXT, **overrides)


def _order(*, symbol: str = "AAPL", side: Side = Side.BUY, quantity: str = "100",
           order_type: OrderType = OrderType.LIMIT, limit_price: str | None = "190.50",
           stop_price: str | None = None, tif: TimeInForce = TimeInForce.DAY) -> OrderRequest:
    return OrderRequest(client_order_id="C-1", symbol=symbol, side=side, quantity=Decimal(quantity),
                        order_type=order_type, time_in_force=tif,
                        limit_price=Decimal(limit_price) if limit_price else None,
                        stop_price=Decimal(stop_price) if stop_price else None)


def _rules(result: CheckResult) -> list[tuple[str, str]]:
    return [(f.rule, f.severity.value) for f in result.findings]


# -- the basic chain -------------------------------------------------------------------------


def test_chain_basic_valid_order_accepts_without_findings():
    result = PreTradeChain.basic().check(_order(), _context())

    assert (result.decision, result.findings, result.accepted) == (Decision.ACCEPT, (), True)


def test_chain_kill_switch_rejects_naming_the_portfolio():
    result = PreTradeChain.basic().check(_order(), _context(kill_switch_active=True))

    assert result.decision is Decision.REJECT
    assert result.messages == ["kill switch is active for portfolio P1"]


def test_chain_global_kill_switch_rejects():
    result = PreTradeChain.basic().check(_order(), _context(global_kill_switch_active=True))

    assert result.messages == ["kill switch is active for all portfolios"]


def test_chain_unknown_symbol_rejects():
    result = PreTradeChain.basic().check(_order(symbol="ZZZZ", limit_price="5.00"),
                                         _context(last_prices={"ZZZZ": Decimal("5.00")}))

    assert _rules(result) == [("unknown_symbol", "reject")]
    assert result.messages == ["unknown symbol ZZZZ"]


def test_chain_unknown_symbol_lookup_object_is_consulted():
    class Registry:
        def __contains__(self, symbol: object) -> bool:
            return symbol == "AAPL"

    result = PreTradeChain.basic().check(_order(), _context(known_symbols=Registry()))

    assert result.decision is Decision.ACCEPT


def test_chain_reject_and_warn_together_reject_with_all_findings_in_order():
    context = _context(market_open=False, now=SATURDAY, kill_switch_active=True)
    order = _order(limit_price="200.00")  # 5.26% above 190.00 and 20,000 > 15,000 cash

    result = PreTradeChain.basic().check(order, dataclasses.replace(context, cash=Decimal("15000")))

    assert result.decision is Decision.REJECT
    assert _rules(result) == [("kill_switch", "reject"), ("market_hours", "reject"), ("limit_price_band", "warn"),
                              ("insufficient_cash", "reject")]


def test_chain_only_warnings_warn():
    result = PreTradeChain.basic().check(_order(limit_price="200.00"), _context())

    assert (result.decision, result.accepted) == (Decision.WARN, True)
    assert _rules(result) == [("limit_price_band", "warn")]


def test_chain_check_that_raises_fails_closed():
    class Broken:
        def check(self, order, context):
            raise ZeroDivisionError("division by zero")

    chain = PreTradeChain([Broken()])

    result = chain.check(_order(), _context())

    assert result.decision is Decision.REJECT
    assert result.messages == ["check Broken failed: ZeroDivisionError: division by zero"]
    assert result.findings[0].rule == "check_failed"


def test_chain_registered_custom_check_runs_after_builtins():
    class MaxOrderNotional:
        def __init__(self, *, limit: Decimal) -> None:
            self.limit = limit

        def check(self, order: OrderRequest, context: PreTradeContext) -> CheckResult:
            notional = order.quantity * (order.limit_price or context.last_prices[order.symbol])
            if notional <= self.limit:
                return CheckResult.accept()
            return CheckResult.reject("max_order_notional", f"notional {notional} exceeds {self.limit}",
                                      notional=notional, limit=self.limit)

    check = MaxOrderNotional(limit=Decimal("10000"))
    chain = PreTradeChain.basic()
    chain.register(check)

    result = chain.check(_order(), _context())

    assert isinstance(check, PreTradeCheck)
    assert chain.checks[-1] is check
    assert result.messages == ["notional 19050.00 exceeds 10000"]
    assert result.findings[0].numbers == {"notional": Decimal("19050.00"), "limit": Decimal("10000")}


def test_chain_register_object_without_check_raises():
    with pytest.raises(InvalidInput) as excinfo:
        PreTradeChain().register(object())

    assert str(excinfo.value) == "a pre-trade check needs a check(order, context) method, object has none"


def test_chain_nests_as_a_check():
    inner = PreTradeChain([MarketHoursCheck()])

    result = PreTradeChain([inner]).check(_order(), _context(market_open=False, now=SATURDAY))

    assert result.messages == ["market is closed for DAY orders at 2024-03-09T15:00:00+00:00"]


def test_check_result_raise_if_rejected_raises_order_rejected_with_findings():
    result = PreTradeChain.basic().check(_order(), _context(kill_switch_active=True))

    with pytest.raises(OrderRejected) as excinfo:
        result.raise_if_rejected(_order())

    assert str(excinfo.value) == "order C-1 rejected: kill switch is active for portfolio P1"
    assert excinfo.value.code == "order_rejected"
    assert excinfo.value.details["findings"] == [{"rule": "kill_switch", "severity": "reject",
                                                  "message": "kill switch is active for portfolio P1",
                                                  "numbers": {"portfolio_id": "P1"}}]


def test_check_result_milder_than_its_findings_raises():
    finding = Finding(rule="x", severity=Decision.REJECT, message="no")

    with pytest.raises(InvalidInput) as excinfo:
        CheckResult(Decision.WARN, (finding,))

    assert str(excinfo.value) == "decision warn is milder than its findings (x=reject)"


def test_context_naive_now_raises():
    with pytest.raises(InvalidInput) as excinfo:
        _context(now=datetime(2024, 3, 8, 15, 0))

    assert str(excinfo.value) == "now must be timezone-aware, was naive 2024-03-08T15:00:00"


# -- market hours ----------------------------------------------------------------------------


@pytest.mark.parametrize("tif", [TimeInForce.DAY, TimeInForce.IOC, TimeInForce.FOK])
def test_market_hours_closed_market_rejects_session_orders(tif):
    result = MarketHoursCheck().check(_order(tif=tif), _context(market_open=False, now=SATURDAY))

    assert result.decision is Decision.REJECT
    assert result.messages == [f"market is closed for {tif.value.upper()} orders at 2024-03-09T15:00:00+00:00"]
    assert result.findings[0].numbers == {"now": "2024-03-09T15:00:00+00:00", "time_in_force": tif.value}


def test_market_hours_closed_market_accepts_gtc():
    result = MarketHoursCheck().check(_order(tif=TimeInForce.GTC), _context(market_open=False, now=SATURDAY))

    assert result.decision is Decision.ACCEPT


def test_market_hours_opg_before_the_open_accepts():
    context = _context(market_open=False, now=SATURDAY, next_open=MONDAY_OPEN)

    result = MarketHoursCheck(opening_auction_cutoff=timedelta(minutes=2)).check(_order(tif=TimeInForce.OPG),
                                                                                 context)

    assert result.decision is Decision.ACCEPT


def test_market_hours_opg_inside_cutoff_rejects():
    context = _context(market_open=False, now=MONDAY_OPEN - timedelta(minutes=1), next_open=MONDAY_OPEN)

    result = MarketHoursCheck(opening_auction_cutoff=timedelta(minutes=2)).check(_order(tif=TimeInForce.OPG),
                                                                                 context)

    assert result.messages == ["OPG orders close at 2024-03-11T13:28:00+00:00, 0:02:00 before the open; now is "
                               "2024-03-11T13:29:00+00:00"]


def test_market_hours_opg_during_session_rejects():
    result = MarketHoursCheck().check(_order(tif=TimeInForce.OPG), _context())

    assert result.messages == ["the opening auction has passed: market is open at 2024-03-08T15:00:00+00:00; OPG "
                               "orders are taken only before the open"]


def test_market_hours_cls_during_session_accepts():
    result = MarketHoursCheck().check(_order(tif=TimeInForce.CLS), _context())

    assert result.decision is Decision.ACCEPT


def test_market_hours_cls_after_cutoff_rejects():
    context = _context(now=datetime(2024, 3, 8, 20, 55, tzinfo=UTC))

    result = MarketHoursCheck().check(_order(tif=TimeInForce.CLS), context)

    assert result.messages == ["CLS orders close at 2024-03-08T20:50:00+00:00, 0:10:00 before the close; now is "
                               "2024-03-08T20:55:00+00:00"]


def test_market_hours_cls_with_market_closed_rejects():
    result = MarketHoursCheck().check(_order(tif=TimeInForce.CLS), _context(market_open=False, now=SATURDAY))

    assert result.messages == ["market is closed for CLS orders at 2024-03-09T15:00:00+00:00; send them during "
                               "the session"]


# -- limit price band ------------------------------------------------------------------------


def test_limit_band_buy_more_than_5_pct_above_last_warns():
    result = LimitPriceBandCheck().check(_order(limit_price="200.00"), _context())

    assert result.decision is Decision.WARN
    assert result.messages == ["buy limit 200.00 for AAPL is 5.26% above the last price 190.00 (warn beyond 5%)"]
    assert result.findings[0].numbers["through_pct"] == Decimal("5.26")


def test_limit_band_buy_within_band_accepts():
    result = LimitPriceBandCheck().check(_order(limit_price="199.50"), _context())  # exactly 5% above

    assert result.decision is Decision.ACCEPT


def test_limit_band_sell_far_below_last_warns():
    result = LimitPriceBandCheck().check(_order(side=Side.SELL, limit_price="171.00"), _context())

    assert result.messages == ["sell limit 171.00 for AAPL is 10.00% below the last price 190.00 (warn beyond 5%)"]


def test_limit_band_beyond_reject_pct_rejects():
    check = LimitPriceBandCheck(warn_pct=Decimal(5), reject_pct=Decimal(10))

    result = check.check(_order(limit_price="228.00"), _context())

    assert result.decision is Decision.REJECT
    assert result.messages == ["buy limit 228.00 for AAPL is 20.00% above the last price 190.00 (reject beyond "
                               "10%)"]


def test_limit_band_without_last_price_says_nothing():
    result = LimitPriceBandCheck().check(_order(symbol="MSFT", limit_price="900"), _context(last_prices={}))

    assert result.decision is Decision.ACCEPT


# -- insufficient cash -----------------------------------------------------------------------


def test_cash_check_buy_above_cash_rejects_naming_the_numbers():
    result = InsufficientCashCheck().check(_order(), _context(cash=Decimal("10000.00")))

    assert result.decision is Decision.REJECT
    assert result.messages == ["insufficient cash in cash account P1: buying 100 AAPL at an estimated 190.50 needs "
                               "19050.00, cash available is 10000.00 (short by 9050.00)"]
    assert result.findings[0].numbers == {"quantity": Decimal(100), "estimated_price": Decimal("190.50"),
                                          "estimated_cost": Decimal("19050.00"), "cash": Decimal("10000.00"),
                                          "shortfall": Decimal("9050.00")}


def test_cash_check_exactly_enough_cash_accepts():
    result = InsufficientCashCheck().check(_order(), _context(cash=Decimal("19050.00")))

    assert result.decision is Decision.ACCEPT


def test_cash_check_margin_account_is_not_checked():
    result = InsufficientCashCheck().check(_order(), _context(account_type=AccountType.MARGIN, cash=Decimal(0)))

    assert result.decision is Decision.ACCEPT


def test_cash_check_sell_is_not_checked():
    result = InsufficientCashCheck().check(_order(side=Side.SELL), _context(cash=Decimal(0)))

    assert result.decision is Decision.ACCEPT


def test_cash_check_market_order_uses_last_price_plus_buffer():
    check = InsufficientCashCheck(market_buffer_bps=Decimal(50))  # 190.00 x 1.005 = 190.95
    order = _order(order_type=OrderType.MARKET, limit_price=None)

    result = check.check(order, _context(cash=Decimal("19000")))

    assert result.findings[0].numbers["estimated_price"] == Decimal("190.95")
    assert result.findings[0].numbers["estimated_cost"] == Decimal("19095.00")


def test_cash_check_market_order_without_price_rejects():
    order = _order(symbol="MSFT", order_type=OrderType.MARKET, limit_price=None)

    result = InsufficientCashCheck().check(order, _context(last_prices={}))

    assert result.messages == ["cannot estimate the cost of buying 100 MSFT in cash account P1: no last price and "
                               "no limit price"]


# -- positive quantity -----------------------------------------------------------------------


def test_positive_quantity_check_catches_request_built_around_validation():
    order = _order()
    object.__setattr__(order, "quantity", Decimal(-5))

    result = PositiveQuantityCheck().check(order, _context())

    assert result.messages == ["quantity must be positive, was -5"]
