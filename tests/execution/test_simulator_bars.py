"""PaperExchange against bars. Sessions are real XNYS days: 2024-11-27 (open 14:30 UTC,
close 21:00 UTC), 2024-11-29 (the day after Thanksgiving, close 13:00 ET = 18:00 UTC) and
2025-03-03. Prices are worked by hand in comments; comparisons are exact."""

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from bifrost.core.errors import DataQualityError
from bifrost.execution import (
    CompositeFeeModel,
    FillConvention,
    FixedBpsSlippage,
    OrderNotWorking,
    PaperExchange,
    PerShareFeeModel,
    RegulatoryFees,
)
from bifrost.orders.types import EventKind, Liquidity, OrderRequest, OrderType, Side, TimeInForce

D = Decimal
K = EventKind
WED = (2024, 11, 27)
HALF_DAY = (2024, 11, 29)


def at(day, hour, minute, second=0, microsecond=0):
    return datetime(*day, hour, minute, second, microsecond, tzinfo=UTC)


def bar(exchange, start, open_, high, low, close, volume=10_000, *, minutes=1, symbol="AAPL"):
    return exchange.on_bar(symbol, start, open_, high, low, close, volume, bar_end=start + timedelta(minutes=minutes))


def request(order_id, side=Side.BUY, quantity=100, **fields):
    return OrderRequest(client_order_id=order_id, symbol="AAPL", side=side, quantity=D(quantity), **fields)


def kinds(events):
    return [event.kind for event in events]


def fills(events):
    return [event.fill for event in events if event.fill is not None]


# ------------------------------------------------------------------ market orders and latency

def test_market_order_submitted_during_bar_fills_at_next_bar_open():
    # Arrange: submitted at 15:00:30, inside the 15:00 bar.
    exchange = PaperExchange()
    exchange.submit(request("m1"), at(WED, 15, 0, 30))

    # Act
    during = bar(exchange, at(WED, 15, 0), 100.0, 101.0, 99.5, 100.5)
    after = bar(exchange, at(WED, 15, 1), 100.7, 100.9, 100.2, 100.4)

    # Assert: nothing in the bar it was submitted in; the 15:01 open, at 15:01.
    assert during == []
    assert kinds(after) == [K.FILLED]
    fill = after[0].fill
    assert (fill.fill_id, fill.price, fill.quantity, fill.ts_event) == ("m1-1", D("100.7"), D(100), at(WED, 15, 1))
    assert fill.liquidity is Liquidity.TAKER and fill.commission == 0 and fill.fees == 0


def test_market_order_submitted_at_bar_end_fills_at_the_bar_opening_then():
    # A strategy that saw the 15:00 bar close submits at 15:01, the next bar's open instant.
    exchange = PaperExchange()
    exchange.submit(request("m1"), at(WED, 15, 1))

    events = bar(exchange, at(WED, 15, 1), 100.7, 100.9, 100.2, 100.4)

    assert fills(events)[0].price == D("100.7")


def test_market_order_with_latency_skips_bar_opening_before_arrival():
    # Submitted 15:00:59.5 with 1 s latency -> arrives 15:01:00.5, after the 15:01 open.
    exchange = PaperExchange(latency_ns=1_000_000_000)
    exchange.submit(request("m1"), at(WED, 15, 0, 59, 500_000))

    missed = bar(exchange, at(WED, 15, 1), 100.7, 100.9, 100.2, 100.4)
    hit = bar(exchange, at(WED, 15, 2), 100.3, 100.6, 100.1, 100.5)

    assert missed == []
    assert fills(hit)[0].price == D("100.3")
    assert fills(hit)[0].ts_event == at(WED, 15, 2)


def test_market_sell_with_slippage_and_fees_fills_below_open_with_fees():
    # Sell 1,000 at the 2025-03-03 15:01 open of 50.00 with 2 bps slippage: 50 x 0.9998 = 49.99.
    # Commission 1,000 x 0.005 = 5.00; SEC ceil_cent(49,990 x 0.0000278 = 1.389722) = 1.39; TAF 0.17.
    exchange = PaperExchange(CompositeFeeModel(PerShareFeeModel(), RegulatoryFees()),
                             FixedBpsSlippage(slippage_bps=2))
    day = (2025, 3, 3)
    exchange.submit(request("s1", Side.SELL, 1000), at(day, 15, 0, 30))

    events = bar(exchange, at(day, 15, 1), 50.0, 50.1, 49.9, 50.05)

    fill = fills(events)[0]
    assert (fill.price, fill.commission, fill.fees) == (D("49.99"), D("5.00"), D("1.56"))


# ------------------------------------------------------------------ limit orders

def test_limit_buy_low_trades_through_limit_fills_at_limit_as_maker():
    exchange = PaperExchange(slippage_model=FixedBpsSlippage(slippage_bps=5))
    exchange.submit(request("l1", order_type=OrderType.LIMIT, limit_price=D("99.50")), at(WED, 15, 0))

    events = bar(exchange, at(WED, 15, 0), 100.0, 100.2, 99.4, 99.8)

    # low 99.40 < 99.50 < open 100.00 -> at the limit, no slippage for a resting fill, at bar end.
    fill = fills(events)[0]
    assert (fill.price, fill.liquidity, fill.ts_event) == (D("99.50"), Liquidity.MAKER, at(WED, 15, 1))


def test_limit_buy_gap_below_limit_fills_at_open_as_taker():
    exchange = PaperExchange()
    exchange.submit(request("l1", order_type=OrderType.LIMIT, limit_price=D("99.50")), at(WED, 15, 0))

    events = bar(exchange, at(WED, 15, 0), 99.0, 99.3, 98.8, 99.1)

    # open 99.00 <= 99.50 -> min(open, limit) = 99.00 at the open.
    fill = fills(events)[0]
    assert (fill.price, fill.liquidity, fill.ts_event) == (D("99.00"), Liquidity.TAKER, at(WED, 15, 0))


def test_limit_buy_gap_fill_with_slippage_never_worse_than_limit():
    # open 99.45 + 10 bps = 99.54945 would breach the 99.50 limit -> capped at 99.50.
    exchange = PaperExchange(slippage_model=FixedBpsSlippage(slippage_bps=10))
    exchange.submit(request("l1", order_type=OrderType.LIMIT, limit_price=D("99.50")), at(WED, 15, 0))

    events = bar(exchange, at(WED, 15, 0), 99.45, 99.6, 99.2, 99.3)

    assert fills(events)[0].price == D("99.50")


def test_limit_buy_touched_exactly_does_not_fill_by_default():
    exchange = PaperExchange()
    exchange.submit(request("l1", order_type=OrderType.LIMIT, limit_price=D("99.50")), at(WED, 15, 0))

    events = bar(exchange, at(WED, 15, 0), 100.0, 100.2, 99.5, 99.8)  # low == limit

    assert events == []
    assert exchange.order_state("l1").remaining_quantity == D(100)


def test_limit_buy_touched_exactly_fills_when_touch_fills_configured():
    exchange = PaperExchange(fill_convention=FillConvention(touch_fills=True))
    exchange.submit(request("l1", order_type=OrderType.LIMIT, limit_price=D("99.50")), at(WED, 15, 0))

    events = bar(exchange, at(WED, 15, 0), 100.0, 100.2, 99.5, 99.8)

    assert fills(events)[0].price == D("99.50")


def test_limit_sell_high_trades_through_fills_at_limit():
    exchange = PaperExchange()
    exchange.submit(request("l1", Side.SELL, order_type=OrderType.LIMIT, limit_price=D("101")), at(WED, 15, 0))

    events = bar(exchange, at(WED, 15, 0), 100.0, 101.2, 99.9, 100.8)

    assert fills(events)[0].price == D("101")


# ------------------------------------------------------------------ stops

def test_stop_buy_gap_above_stop_triggers_and_fills_at_open():
    exchange = PaperExchange()
    exchange.submit(request("st", order_type=OrderType.STOP, stop_price=D("101")), at(WED, 15, 0))

    events = bar(exchange, at(WED, 15, 0), 102.0, 103.0, 101.5, 102.5)

    # Gap: max(open 102, stop 101) = 102 at the open.
    assert kinds(events) == [K.TRIGGERED, K.FILLED]
    assert events[0].details["gapped"] is True
    assert (fills(events)[0].price, fills(events)[0].ts_event) == (D("102.0"), at(WED, 15, 0))


def test_stop_sell_intrabar_fills_at_stop_less_slippage():
    exchange = PaperExchange(slippage_model=FixedBpsSlippage(slippage_bps=10))
    exchange.submit(request("st", Side.SELL, order_type=OrderType.STOP, stop_price=D("99")), at(WED, 15, 0))

    events = bar(exchange, at(WED, 15, 0), 100.0, 100.2, 98.5, 98.8)

    # min(open 100, stop 99) = 99, less 10 bps: 99 x 0.999 = 98.901, known at bar end.
    assert (fills(events)[0].price, fills(events)[0].ts_event) == (D("98.901"), at(WED, 15, 1))


def test_stop_buy_not_reached_stays_working_untriggered():
    exchange = PaperExchange()
    exchange.submit(request("st", order_type=OrderType.STOP, stop_price=D("101")), at(WED, 15, 0))

    events = bar(exchange, at(WED, 15, 0), 100.0, 100.99, 99.5, 100.5)

    assert events == [] and exchange.order_state("st").triggered is False


def test_stop_limit_buy_intrabar_trigger_limit_below_stop_waits_for_later_bar():
    # Stop 101, limit 100.50. Bar 1 low 99 is below the limit, but under the adverse-path
    # assumption it came before the trigger; after the trigger prices were in [101, 101.5].
    exchange = PaperExchange()
    exchange.submit(request("sl", order_type=OrderType.STOP_LIMIT, stop_price=D("101"), limit_price=D("100.50")),
                    at(WED, 15, 0))

    first = bar(exchange, at(WED, 15, 0), 100.0, 101.5, 99.0, 101.2)
    second = bar(exchange, at(WED, 15, 1), 100.8, 101.0, 100.3, 100.6)

    assert kinds(first) == [K.TRIGGERED]
    # Bar 2 as a plain limit: low 100.30 < 100.50 < open 100.80 -> at the limit, maker.
    assert kinds(second) == [K.FILLED]
    assert (fills(second)[0].price, fills(second)[0].liquidity) == (D("100.50"), Liquidity.MAKER)


def test_stop_limit_buy_intrabar_trigger_limit_above_stop_fills_at_stop():
    exchange = PaperExchange()
    exchange.submit(request("sl", order_type=OrderType.STOP_LIMIT, stop_price=D("101"), limit_price=D("101.50")),
                    at(WED, 15, 0))

    events = bar(exchange, at(WED, 15, 0), 100.0, 102.0, 99.8, 101.8)

    # Post-trigger range starts at the stop 101 <= limit 101.50: marketable at 101.
    assert kinds(events) == [K.TRIGGERED, K.FILLED]
    assert (fills(events)[0].price, fills(events)[0].liquidity) == (D("101"), Liquidity.TAKER)


def test_stop_limit_buy_gap_trigger_treats_whole_bar_as_limit():
    # Opens 102 above both stop 101 and limit 101.50; the bar later trades down to 101.20.
    exchange = PaperExchange()
    exchange.submit(request("sl", order_type=OrderType.STOP_LIMIT, stop_price=D("101"), limit_price=D("101.50")),
                    at(WED, 15, 0))

    events = bar(exchange, at(WED, 15, 0), 102.0, 102.5, 101.2, 101.4)

    assert kinds(events) == [K.TRIGGERED, K.FILLED]
    assert (fills(events)[0].price, fills(events)[0].liquidity) == (D("101.50"), Liquidity.MAKER)


# ------------------------------------------------------------------ trailing stops

def test_trailing_stop_sell_path_over_bars_uses_previous_stop_no_look_ahead():
    # Trail 2.00 below the highest price seen; no price known at submission -> starts at bar 1's open.
    exchange = PaperExchange()
    exchange.submit(request("tr", Side.SELL, order_type=OrderType.TRAILING_STOP, trail_amount=D("2")),
                    at(WED, 15, 0))

    # Bar 1: reference open 100 -> stop 98; low 99.5 > 98: no trigger; then high 101 -> stop 99.
    b1 = bar(exchange, at(WED, 15, 0), 100.0, 101.0, 99.5, 100.5)
    stop_after_b1 = exchange.order_state("tr").stop_price
    # Bar 2: low 99.2 > previous stop 99: no trigger (a look-ahead rule would first ratchet to
    # 103 - 2 = 101 and trigger at 101); then high 103 -> stop 101.
    b2 = bar(exchange, at(WED, 15, 1), 100.5, 103.0, 99.2, 102.8)
    stop_after_b2 = exchange.order_state("tr").stop_price
    # Bar 3: low 100.5 <= 101 -> triggers; min(open 102.5, stop 101) = 101.
    b3 = bar(exchange, at(WED, 15, 2), 102.5, 102.8, 100.5, 100.9)

    assert (b1, b2) == ([], [])
    assert (stop_after_b1, stop_after_b2) == (D("99"), D("101"))
    assert kinds(b3) == [K.TRIGGERED, K.FILLED]
    assert fills(b3)[0].price == D("101")


def test_trailing_stop_buy_percent_follows_lows_and_triggers():
    # Buy trail 5 % above the lowest price; last close 100 is known at submission -> stop 105.
    exchange = PaperExchange()
    bar(exchange, at(WED, 14, 59), 100.2, 100.4, 99.9, 100.0)
    exchange.submit(request("tr", order_type=OrderType.TRAILING_STOP, trail_percent=D("5")), at(WED, 15, 0))
    initial_stop = exchange.order_state("tr").stop_price

    # Bar 1: high 104 < 105: no trigger; low 96 -> stop 96 x 1.05 = 100.80.
    b1 = bar(exchange, at(WED, 15, 0), 99.0, 104.0, 96.0, 97.0)
    stop_after_b1 = exchange.order_state("tr").stop_price
    # Bar 2: high 101 >= 100.80 -> max(open 99, stop 100.80) = 100.80.
    b2 = bar(exchange, at(WED, 15, 1), 99.0, 101.0, 98.5, 100.9)

    assert (initial_stop, b1, stop_after_b1) == (D("105"), [], D("100.80"))
    assert fills(b2)[0].price == D("100.80")


# ------------------------------------------------------------------ time in force

def test_day_order_expires_at_half_day_close_1300_et():
    # 2024-11-29 closes at 13:00 ET = 18:00 UTC.
    exchange = PaperExchange()
    exchange.submit(request("d1", order_type=OrderType.LIMIT, limit_price=D("90")), at(HALF_DAY, 17, 0))
    expires_at = exchange.order_state("d1").expires_at

    before = bar(exchange, at(HALF_DAY, 17, 58), 100.0, 100.1, 99.9, 100.0)
    last = bar(exchange, at(HALF_DAY, 17, 59), 100.0, 100.1, 99.9, 100.0)

    assert expires_at == at(HALF_DAY, 18, 0)
    assert before == []
    assert kinds(last) == [K.EXPIRED] and last[0].ts_event == at(HALF_DAY, 18, 0)
    with pytest.raises(OrderNotWorking, match="no working order with client_order_id 'd1'"):
        exchange.order_state("d1")


def test_day_order_full_day_still_working_at_1800_utc():
    exchange = PaperExchange()
    exchange.submit(request("d1", order_type=OrderType.LIMIT, limit_price=D("90")), at(WED, 17, 0))

    events = bar(exchange, at(WED, 17, 59), 100.0, 100.1, 99.9, 100.0)

    assert events == [] and exchange.order_state("d1").expires_at == at(WED, 21, 0)


def test_day_order_expire_call_without_bars_expires_at_close():
    exchange = PaperExchange()
    exchange.submit(request("d1", order_type=OrderType.LIMIT, limit_price=D("90")), at(HALF_DAY, 17, 0))

    early = exchange.expire(at(HALF_DAY, 17, 59))
    events = exchange.expire(at(HALF_DAY, 18, 0))

    assert early == []
    assert kinds(events) == [K.EXPIRED] and events[0].ts_event == at(HALF_DAY, 18, 0)


def test_day_order_submitted_after_half_day_close_works_next_session_daily_bar():
    # Submitted 2024-11-29 19:00 UTC, after the 18:00 close -> session 2024-12-02 (Monday).
    exchange = PaperExchange()
    exchange.submit(request("d1"), at(HALF_DAY, 19, 0))
    daily_label = datetime(2024, 12, 2, tzinfo=UTC)

    events = exchange.on_bar("AAPL", daily_label, 101.0, 102.0, 100.0, 101.5, 1e6,
                             bar_end=datetime(2024, 12, 2, 21, tzinfo=UTC))

    assert fills(events)[0].price == D("101.0")


def test_ioc_market_under_participation_cap_fills_part_then_cancels_rest():
    # Cap 10 % of 2,000 = 200 of 500.
    exchange = PaperExchange(participation_cap=0.1)
    exchange.submit(request("ioc", quantity=500, time_in_force=TimeInForce.IOC), at(WED, 15, 0))

    events = bar(exchange, at(WED, 15, 0), 100.0, 100.5, 99.5, 100.2, 2000)

    assert kinds(events) == [K.PARTIALLY_FILLED, K.CANCELLED]
    assert fills(events)[0].quantity == D(200)
    assert events[1].reason == "immediate or cancel: unfilled quantity cancelled"
    assert events[1].details["filled_quantity"] == "200"


def test_ioc_limit_not_reachable_on_first_bar_cancels_without_fill():
    exchange = PaperExchange()
    exchange.submit(request("ioc", order_type=OrderType.LIMIT, limit_price=D("99"),
                            time_in_force=TimeInForce.IOC), at(WED, 15, 0))

    first = bar(exchange, at(WED, 15, 0), 100.0, 100.5, 99.5, 100.2)
    second = bar(exchange, at(WED, 15, 1), 99.0, 99.1, 98.0, 98.5)

    assert kinds(first) == [K.CANCELLED] and second == []


def test_fok_under_participation_cap_is_killed_without_fill():
    # Needs 500 but the cap allows 10 % of 2,000 = 200.
    exchange = PaperExchange(participation_cap=0.1)
    exchange.submit(request("fok", quantity=500, time_in_force=TimeInForce.FOK), at(WED, 15, 0))

    events = bar(exchange, at(WED, 15, 0), 100.0, 100.5, 99.5, 100.2, 2000)

    assert kinds(events) == [K.CANCELLED]
    assert events[0].reason == "fill or kill: only 200 of 500 available"


def test_fok_with_enough_volume_fills_completely():
    exchange = PaperExchange(participation_cap=0.1)
    exchange.submit(request("fok", quantity=500, time_in_force=TimeInForce.FOK), at(WED, 15, 0))

    events = bar(exchange, at(WED, 15, 0), 100.0, 100.5, 99.5, 100.2, 5000)

    assert kinds(events) == [K.FILLED] and fills(events)[0].quantity == D(500)


def test_opg_market_fills_at_session_opening_bar_as_auction():
    exchange = PaperExchange()
    exchange.submit(request("opg", time_in_force=TimeInForce.OPG), at(WED, 14, 0))

    premarket = bar(exchange, at(WED, 14, 29), 99.0, 99.2, 98.9, 99.1)
    opening = bar(exchange, at(WED, 14, 30), 100.0, 100.5, 99.5, 100.2)

    assert premarket == []
    fill = fills(opening)[0]
    assert (fill.price, fill.liquidity, fill.ts_event) == (D("100.0"), Liquidity.AUCTION, at(WED, 14, 30))


def test_opg_submitted_mid_session_waits_for_next_session_open():
    exchange = PaperExchange()
    exchange.submit(request("opg", time_in_force=TimeInForce.OPG), at(WED, 15, 0))

    same_day = bar(exchange, at(WED, 15, 1), 100.0, 100.5, 99.5, 100.2)
    next_open = bar(exchange, at(HALF_DAY, 14, 30), 101.0, 101.5, 100.5, 101.2)

    assert same_day == [] and fills(next_open)[0].price == D("101.0")


def test_opg_limit_not_met_at_open_expires():
    exchange = PaperExchange()
    exchange.submit(request("opg", order_type=OrderType.LIMIT, limit_price=D("99"), time_in_force=TimeInForce.OPG),
                    at(WED, 14, 0))

    events = bar(exchange, at(WED, 14, 30), 100.0, 100.5, 98.0, 100.2)  # trades 98 later, too late

    assert kinds(events) == [K.EXPIRED] and events[0].reason == "not filled in the opening auction"


def test_cls_market_fills_at_half_day_last_bar_close():
    exchange = PaperExchange()
    exchange.submit(request("cls", Side.SELL, time_in_force=TimeInForce.CLS), at(HALF_DAY, 15, 0))

    earlier = bar(exchange, at(HALF_DAY, 17, 58), 100.0, 100.2, 99.9, 100.1)
    closing = bar(exchange, at(HALF_DAY, 17, 59), 100.1, 100.4, 100.0, 100.3)

    assert earlier == []
    fill = fills(closing)[0]
    assert (fill.price, fill.liquidity, fill.ts_event) == (D("100.3"), Liquidity.AUCTION, at(HALF_DAY, 18, 0))


def test_opg_and_cls_on_daily_bar_use_open_and_close():
    # A daily bar is labelled at midnight UTC, so orders must be in before that label: the evening before.
    evening_before = datetime(2024, 11, 26, 22, 0, tzinfo=UTC)
    exchange = PaperExchange()
    exchange.submit(request("opg", time_in_force=TimeInForce.OPG), evening_before)
    exchange.submit(request("cls", Side.SELL, time_in_force=TimeInForce.CLS), evening_before)

    events = exchange.on_bar("AAPL", datetime(2024, 11, 27, tzinfo=UTC), 100.0, 103.0, 99.0, 102.0, 1e6,
                             bar_end=at(WED, 21, 0))

    assert [(f.client_order_id, f.price) for f in fills(events)] == [("opg", D("100.0")), ("cls", D("102.0"))]


def test_stop_order_with_opg_is_rejected_naming_rule():
    exchange = PaperExchange()

    events = exchange.submit(request("bad", order_type=OrderType.STOP, stop_price=D("101"),
                                     time_in_force=TimeInForce.OPG), at(WED, 14, 0))

    assert kinds(events) == [K.REJECTED]
    assert events[0].reason == "time_in_force opg takes market or limit orders, not stop"
    assert exchange.working_orders() == ()


# ------------------------------------------------------------------ participation cap

def test_participation_cap_partial_fills_carry_over_across_bars_with_order_level_fees():
    # Cap 10 %: 200 of 2,000, then 150 of 1,500, then the last 150 (cap 300).
    # Per-share fees accrue per order: 200 -> max(1.00, 1.00) = 1.00; 350 -> 1.75 (+0.75);
    # 500 -> 2.50 (+0.75); total 2.50 = fees of one 500-share order.
    exchange = PaperExchange(PerShareFeeModel(), participation_cap=0.1)
    exchange.submit(request("big", quantity=500, time_in_force=TimeInForce.GTC), at(WED, 15, 0))

    events = (bar(exchange, at(WED, 15, 0), 100.0, 100.5, 99.5, 100.2, 2000)
              + bar(exchange, at(WED, 15, 1), 100.2, 100.6, 100.0, 100.4, 1500)
              + bar(exchange, at(WED, 15, 2), 100.4, 100.9, 100.3, 100.8, 3000))

    assert kinds(events) == [K.PARTIALLY_FILLED, K.PARTIALLY_FILLED, K.FILLED]
    assert [(f.fill_id, f.quantity, f.price, f.commission) for f in fills(events)] == [
        ("big-1", D(200), D("100.0"), D("1.00")),
        ("big-2", D(150), D("100.2"), D("0.75")),
        ("big-3", D(150), D("100.4"), D("0.75")),
    ]


def test_participation_cap_is_shared_by_orders_in_time_priority():
    exchange = PaperExchange(participation_cap=0.1)
    exchange.submit(request("first", quantity=150), at(WED, 15, 0))
    exchange.submit(request("second", quantity=150), at(WED, 15, 0))

    events = bar(exchange, at(WED, 15, 0), 100.0, 100.5, 99.5, 100.2, 2000)

    # 200 shares of capacity: 150 to the first order, the other 50 to the second.
    assert [(f.client_order_id, f.quantity) for f in fills(events)] == [("first", D(150)), ("second", D(50))]


def test_zero_volume_bar_fills_nothing_by_default():
    exchange = PaperExchange()
    exchange.submit(request("m1"), at(WED, 15, 0))

    events = bar(exchange, at(WED, 15, 0), 100.0, 100.0, 100.0, 100.0, 0)

    assert events == [] and exchange.order_state("m1").filled_quantity == 0


# ------------------------------------------------------------------ order management

def test_cancel_working_order_emits_cancelled_and_a_second_cancel_raises():
    exchange = PaperExchange()
    exchange.submit(request("c1", order_type=OrderType.LIMIT, limit_price=D("99")), at(WED, 15, 0))

    events = exchange.cancel("c1", at(WED, 15, 0, 10))
    later = bar(exchange, at(WED, 15, 1), 98.0, 98.5, 97.5, 98.0)

    assert kinds(events) == [K.CANCELLED] and later == []
    with pytest.raises(OrderNotWorking, match="no working order with client_order_id 'c1'"):
        exchange.cancel("c1", at(WED, 15, 2))


def test_replace_moves_limit_and_fills_under_new_id():
    exchange = PaperExchange()
    exchange.submit(request("r1", order_type=OrderType.LIMIT, limit_price=D("99")), at(WED, 15, 0))

    replaced = exchange.replace("r1", at(WED, 15, 0, 30), new_client_order_id="r2", limit_price=D("99.80"))
    events = bar(exchange, at(WED, 15, 1), 100.0, 100.1, 99.6, 99.9)

    assert kinds(replaced) == [K.REPLACED, K.ACCEPTED]
    assert replaced[0].details == {"replaced_by": "r2"}
    assert [(f.fill_id, f.price) for f in fills(events)] == [("r2-1", D("99.80"))]


def test_replace_to_quantity_not_above_filled_is_rejected():
    exchange = PaperExchange(participation_cap=0.1)
    exchange.submit(request("r1", quantity=500, time_in_force=TimeInForce.GTC), at(WED, 15, 0))
    bar(exchange, at(WED, 15, 0), 100.0, 100.5, 99.5, 100.2, 2000)  # 200 filled

    events = exchange.replace("r1", at(WED, 15, 1), new_client_order_id="r2", quantity=D(200))

    assert kinds(events) == [K.REJECTED]
    assert events[0].reason == "quantity must exceed the filled quantity 200, was 200"
    assert exchange.order_state("r1").remaining_quantity == D(300)


def test_submit_duplicate_client_order_id_is_rejected():
    exchange = PaperExchange()
    exchange.submit(request("dup"), at(WED, 15, 0))

    events = exchange.submit(request("dup"), at(WED, 15, 0, 1))

    assert kinds(events) == [K.REJECTED]
    assert events[0].reason == "duplicate client_order_id 'dup': ids must be unique"
    assert len(exchange.working_orders("AAPL")) == 1


def test_on_bar_inconsistent_bar_raises_data_quality_error():
    exchange = PaperExchange()

    with pytest.raises(DataQualityError, match="inconsistent bar for AAPL"):
        bar(exchange, at(WED, 15, 0), 100.0, 99.0, 101.0, 100.0)


def test_replay_of_same_inputs_gives_identical_events_and_fill_ids():
    def run():
        exchange = PaperExchange(PerShareFeeModel(), FixedBpsSlippage(slippage_bps=3), participation_cap=0.2)
        exchange.submit(request("a", quantity=700, time_in_force=TimeInForce.GTC), at(WED, 15, 0))
        exchange.submit(request("b", Side.SELL, order_type=OrderType.LIMIT, limit_price=D("100.6")), at(WED, 15, 0))
        events = []
        for minute, (o, h, lo, c, v) in enumerate([(100, 100.5, 99.5, 100.2, 1000), (100.2, 100.7, 100, 100.6, 2000),
                                                   (100.6, 100.8, 100.1, 100.3, 3000)]):
            events += bar(exchange, at(WED, 15, minute), o, h, lo, c, v)
        return events

    first, second = run(), run()

    # Cap 20 %: bar 1 gives "a" 200; bar 2 gives "a" all 400 (time priority), so "b" (high 100.7
    # above its 100.6 limit) gets none; bar 3 gives "a" its last 100 and "b" fills at the 100.6 open.
    assert first == second
    assert [f.fill_id for f in fills(first)] == ["a-1", "a-2", "a-3", "b-1"]
