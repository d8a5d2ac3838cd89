"""Day-trade counting (FINRA examples, Regulatory Notice 21-13), PDT status, intraday margin."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from bifrost.compliance.daytrading import (
    DayTradingRegime,
    count_day_trades,
    day_trading_buying_power,
    intraday_margin,
    pdt_status,
    regime_for,
    restriction_end,
)
from bifrost.core.errors import InvalidInput
from tests.compliance.helpers import trade

D = Decimal

# FINRA's day-trade examples (Regulatory Notice 21-13, as republished by brokers): executions in time order.
EXAMPLES = {
    "A": [("buy", 250), ("buy", 250), ("sell", 500)],
    "B": [("buy", 100), ("sell", 100), ("buy", 100), ("sell", 100)],
    "C": [("buy", 500), ("sell", 100), ("sell", 100), ("sell", 300)],
    "D": [("buy", 250), ("buy", 300), ("buy", 100), ("sell", 150), ("sell", 175)],
    "E": [("buy", 199), ("buy", 142), ("sell", 1), ("buy", 45), ("sell", 100), ("sell", 200)],
}
DIRECTION_CHANGE = {"A": 1, "B": 2, "C": 1, "D": 1, "E": 2}
# Opening-transaction method: each opening execution liquidated (FIFO) the same day counts.
OPENING = {"A": 2, "B": 2, "C": 1, "D": 2, "E": 2}


def _day(rows, day="2024-03-05", symbol="ABC", start=0):
    return [trade(f"{symbol}{day}-{n}", day, side, qty, 10, symbol=symbol, clock=f"{10 + (start + n) // 60:02d}:"
                  f"{(start + n) % 60:02d}") for n, (side, qty) in enumerate(rows)]


@pytest.mark.parametrize("name", sorted(EXAMPLES))
def test_finra_examples_direction_change(name):
    trades = _day(EXAMPLES[name])
    assert sum(d.count for d in count_day_trades(trades, method="direction_change")) == DIRECTION_CHANGE[name]


@pytest.mark.parametrize("name", sorted(EXAMPLES))
def test_finra_examples_opening_transactions(name):
    trades = _day(EXAMPLES[name])
    assert sum(d.count for d in count_day_trades(trades, method="opening")) == OPENING[name]


def test_example_f_two_symbols_two_day_trades():
    trades = _day([("buy", 200), ("sell", 100)], symbol="ABC") + _day([("buy", 100), ("sell", 100)], symbol="XYZ",
                                                                        start=10)
    for method in ("opening", "direction_change"):
        assert sum(d.count for d in count_day_trades(trades, method=method)) == 2


def test_overnight_position_sold_before_purchase_is_not_a_day_trade():
    trades = [trade("b0", "2024-03-04", "buy", 10, 10), trade("s1", "2024-03-05", "sell", 10, 10, clock="10:00"),
              trade("b1", "2024-03-05", "buy", 5, 10, clock="11:00"),
              trade("s2", "2024-03-05", "sell", 5, 10, clock="12:00")]
    for method in ("opening", "direction_change"):
        assert sum(d.count for d in count_day_trades(trades, method=method)) == 1


def test_short_then_cover_same_day_is_a_day_trade():
    trades = [trade("ss", "2024-03-05", "sell_short", 10, 10, clock="10:00"),
              trade("bc", "2024-03-05", "buy_to_cover", 10, 9, clock="11:00")]
    assert count_day_trades(trades, method="direction_change")[0].count == 1


def _round_trips(days):
    out = []
    for n, day in enumerate(days):
        out += [trade(f"b{n}", day, "buy", 1, 10, clock="10:00"), trade(f"s{n}", day, "sell", 1, 10, clock="11:00")]
    return out


def test_four_day_trades_in_five_business_days_over_holiday_makes_pattern():
    # 2024-03-28 (Thu), 04-01 (Mon), 04-02, 04-03: Good Friday 03-29 is no session, so the window
    # 03-27..04-03 is five business days from the XNYS calendar.
    trades = _round_trips(["2024-03-28", "2024-04-01", "2024-04-02", "2024-04-03"])
    status = pdt_status(trades, date(2024, 4, 3), equity=D(10_000))
    assert status.window == (date(2024, 3, 27), date(2024, 3, 28), date(2024, 4, 1), date(2024, 4, 2),
                             date(2024, 4, 3))
    assert status.day_trades == 4 and status.pattern_day_trader and status.restricted
    assert status.designated_on == date(2024, 4, 3)


def test_three_day_trades_is_not_pattern_and_counts_left():
    status = pdt_status(_round_trips(["2024-04-01", "2024-04-02", "2024-04-03"]), date(2024, 4, 3))
    assert not status.pattern_day_trader and status.day_trades_left == 0


def test_six_percent_test_blocks_pattern_for_heavy_traders():
    # 4 day trades (8 trades) + 60 other buys in the window: 4 / 68 = 5.9% -> not a pattern day trader.
    trades = _round_trips(["2024-04-01", "2024-04-02", "2024-04-03", "2024-04-04"])
    trades += [trade(f"x{n}", "2024-04-02", "buy", 1, 10, symbol="Y", clock="13:00") for n in range(60)]
    status = pdt_status(trades, date(2024, 4, 4))
    assert status.day_trades == 4 and status.total_trades == 68 and not status.pattern_day_trader


def test_buying_power_and_90_day_restriction():
    assert day_trading_buying_power(equity=D(40_000), maintenance_requirement=D(10_000)) == D(120_000)
    due, end = restriction_end(date(2024, 3, 28))
    assert due == date(2024, 4, 5)  # five sessions after 03-28 skipping Good Friday
    assert end == date(2024, 7, 4)


def test_regime_by_date_and_adoption():
    assert regime_for(date(2026, 6, 3), adopted_on=date(2026, 6, 4)) is DayTradingRegime.LEGACY_PDT
    assert regime_for(date(2026, 7, 1), adopted_on=date(2026, 6, 4)) is DayTradingRegime.INTRADAY_MARGIN
    assert regime_for(date(2026, 7, 1)) is DayTradingRegime.LEGACY_PDT
    assert regime_for(date(2027, 10, 20)) is DayTradingRegime.INTRADAY_MARGIN
    with pytest.raises(InvalidInput, match="adopted_on must be on or after 2026-06-04"):
        regime_for(date(2026, 7, 1), adopted_on=date(2026, 1, 1))


def test_intraday_margin_requirement_and_deficit():
    state = intraday_margin(cash=D(-30_000), positions={"A": D(400), "B": D(-100)}, prices={"A": D(100),
                                                                                             "B": D(50)})
    # long 40,000 @25% = 10,000; short 5,000 @30% = 1,500; equity = -30,000 + 40,000 - 5,000 = 5,000
    assert state.requirement == D("11500.00") and state.equity == D(5000) and state.deficit == D("6500.00")
