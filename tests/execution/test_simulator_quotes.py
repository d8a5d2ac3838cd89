"""PaperExchange against level-1 quotes and trade prints, including a replay of real LOBSTER
AMZN quotes (2012-06-21) checked against an independent pandas computation."""

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pandas as pd
import pytest

from bifrost.execution import FillConvention, PaperExchange
from bifrost.orders.types import EventKind, Liquidity, OrderRequest, OrderType, Side, TimeInForce

D = Decimal
K = EventKind
T0 = datetime(2024, 11, 27, 15, 0, tzinfo=UTC)


def later(seconds):
    return T0 + timedelta(seconds=seconds)


def request(order_id, side=Side.BUY, quantity=100, symbol="AAPL", **fields):
    return OrderRequest(client_order_id=order_id, symbol=symbol, side=side, quantity=D(quantity), **fields)


def quote(exchange, seconds, bid, bid_size, ask, ask_size, symbol="AAPL"):
    return exchange.on_quote(symbol, later(seconds), D(bid), bid_size, D(ask), ask_size)


def fills(events):
    return [event.fill for event in events if event.fill is not None]


def test_quote_market_buy_takes_ask_sizes_with_partial_fills():
    exchange = PaperExchange()
    exchange.submit(request("m1", quantity=500), T0)

    first = quote(exchange, 1, "100.00", 500, "100.05", 300)
    second = quote(exchange, 2, "100.00", 500, "100.06", 400)

    # 300 at 100.05, then the last 200 at 100.06: VWAP (30,015 + 20,012) / 500 = 100.054.
    assert [e.kind for e in first + second] == [K.PARTIALLY_FILLED, K.FILLED]
    taken = fills(first + second)
    assert [(f.quantity, f.price, f.liquidity) for f in taken] == [
        (D(300), D("100.05"), Liquidity.TAKER), (D(200), D("100.06"), Liquidity.TAKER)]
    assert sum(f.notional for f in taken) / 500 == D("100.054")


def test_quote_market_sell_hits_bid():
    exchange = PaperExchange()
    exchange.submit(request("s1", Side.SELL), T0)

    events = quote(exchange, 1, "99.98", 1000, "100.02", 100)

    assert [(f.quantity, f.price) for f in fills(events)] == [(D(100), D("99.98"))]


def test_quote_unchanged_ask_level_deducts_shares_already_taken():
    # Ask 100.05 x 300, then the same level shows 350: only 50 are new shares.
    exchange = PaperExchange()
    exchange.submit(request("m1", quantity=500), T0)

    quote(exchange, 1, "100.00", 500, "100.05", 300)
    events = quote(exchange, 2, "100.00", 500, "100.05", 350)

    assert [f.quantity for f in fills(events)] == [D(50)]


def test_quote_refresh_liquidity_convention_takes_each_quote_afresh():
    exchange = PaperExchange(fill_convention=FillConvention(quotes_refresh_liquidity=True))
    exchange.submit(request("m1", quantity=500), T0)

    quote(exchange, 1, "100.00", 500, "100.05", 300)
    events = quote(exchange, 2, "100.00", 500, "100.05", 350)

    assert [f.quantity for f in fills(events)] == [D(200)]


def test_quote_resting_limit_buy_fills_as_maker_at_limit_when_ask_reaches_it():
    exchange = PaperExchange()
    exchange.submit(request("l1", order_type=OrderType.LIMIT, limit_price=D("100.00")), T0)

    resting = quote(exchange, 1, "99.95", 500, "100.05", 300)
    crossed = quote(exchange, 2, "99.90", 500, "99.98", 200)

    assert resting == []
    assert [(f.price, f.liquidity) for f in fills(crossed)] == [(D("100.00"), Liquidity.MAKER)]


def test_quote_marketable_limit_takes_ask_then_rests_remainder_as_maker():
    exchange = PaperExchange()
    exchange.submit(request("l1", quantity=300, order_type=OrderType.LIMIT, limit_price=D("100.05")), T0)

    taken = quote(exchange, 1, "100.00", 500, "100.04", 100)
    away = quote(exchange, 2, "100.00", 500, "100.07", 100)
    back = quote(exchange, 3, "100.00", 500, "100.05", 500)

    assert [(f.quantity, f.price, f.liquidity) for f in fills(taken)] == [(D(100), D("100.04"), Liquidity.TAKER)]
    assert away == []
    assert [(f.quantity, f.price, f.liquidity) for f in fills(back)] == [(D(200), D("100.05"), Liquidity.MAKER)]


def test_quote_ioc_takes_displayed_size_and_cancels_rest():
    exchange = PaperExchange()
    exchange.submit(request("ioc", quantity=500, time_in_force=TimeInForce.IOC), T0)

    events = quote(exchange, 1, "100.00", 500, "100.05", 300)

    assert [e.kind for e in events] == [K.PARTIALLY_FILLED, K.CANCELLED]
    assert fills(events)[0].quantity == D(300)


def test_quote_fok_without_enough_displayed_size_is_killed():
    exchange = PaperExchange()
    exchange.submit(request("fok", quantity=500, time_in_force=TimeInForce.FOK), T0)

    events = quote(exchange, 1, "100.00", 500, "100.05", 300)

    assert [e.kind for e in events] == [K.CANCELLED]
    assert events[0].reason == "fill or kill: only 300 of 500 available"


def test_quote_before_order_arrives_under_latency_is_ignored():
    exchange = PaperExchange(latency_ns=5_000_000)  # 5 ms
    exchange.submit(request("m1"), T0)

    early = exchange.on_quote("AAPL", T0 + timedelta(milliseconds=4), D("100"), 500, D("100.05"), 300)
    on_time = exchange.on_quote("AAPL", T0 + timedelta(milliseconds=5), D("100"), 500, D("100.06"), 300)

    assert early == [] and fills(on_time)[0].price == D("100.06")


def test_quote_stop_buy_triggers_on_ask_and_takes_it():
    exchange = PaperExchange()
    exchange.submit(request("st", order_type=OrderType.STOP, stop_price=D("100.10")), T0)

    below = quote(exchange, 1, "100.00", 500, "100.08", 300)
    above = quote(exchange, 2, "100.09", 500, "100.12", 300)

    assert below == []
    assert [e.kind for e in above] == [K.TRIGGERED, K.FILLED] and fills(above)[0].price == D("100.12")


def test_trade_print_through_resting_limit_fills_as_maker_but_touch_does_not():
    exchange = PaperExchange()
    exchange.submit(request("l1", order_type=OrderType.LIMIT, limit_price=D("100.00")), T0)
    exchange.on_quote("AAPL", later(1), D("99.95"), 500, D("100.05"), 300)  # not marketable: now resting

    touch = exchange.on_trade("AAPL", later(2), D("100.00"), 400)
    through = exchange.on_trade("AAPL", later(3), D("99.99"), 60)

    assert touch == []
    assert [(f.quantity, f.price, f.liquidity) for f in fills(through)] == [(D(60), D("100.00"), Liquidity.MAKER)]


def _lobster_quotes(shared_data):
    folder = shared_data / "lobster"
    book = pd.read_csv(folder / "AMZN_2012-06-21_34200000_57600000_orderbook_1.csv")
    messages = pd.read_csv(folder / "AMZN_2012-06-21_34200000_57600000_message_1.csv")
    midnight = pd.Timestamp("2012-06-21", tz="America/New_York")
    book["ts"] = (midnight + pd.to_timedelta(messages["Time"], unit="s")).dt.tz_convert("UTC")
    return book


def test_lobster_amzn_marketable_buy_1000_sweeps_recorded_ask_sizes(shared_data):
    # Arrange: real level-1 AMZN book (prices x 10,000); a 1,000-share market buy arrives at row 1,000
    # (09:35:07.14955 ET) and meets every later quote until it is filled.
    book = _lobster_quotes(shared_data)
    start, quantity = 1000, 1000
    exchange = PaperExchange()
    submitted_at = book["ts"].iloc[start].to_pydatetime()
    exchange.submit(OrderRequest(client_order_id="amzn-buy", symbol="AMZN", side=Side.BUY,
                                 quantity=D(quantity)), submitted_at)

    # Act
    events = []
    for row in book.iloc[start:start + 2000].itertuples(index=False):
        events += exchange.on_quote("AMZN", row.ts.to_pydatetime(), D(int(row.BestBid)) / 10000,
                                    int(row.BestBidVolume), D(int(row.BestAsk)) / 10000, int(row.BestAskVolume))
        if events and events[-1].kind is K.FILLED:
            break
    taken = fills(events)

    # Expected, independently with pandas: within a run of quotes at one ask price, the new shares
    # on offer are the increases of the running maximum of the ask size (sizes we already took
    # stay taken); a new price starts a new run. Take them in order until 1,000 shares.
    tail = book.iloc[start:start + 2000]
    run = (tail["BestAsk"] != tail["BestAsk"].shift()).cumsum()
    peak = tail["BestAskVolume"].groupby(run).cummax()
    offered = peak - peak.groupby(run).shift(fill_value=0)
    before = offered.cumsum().shift(fill_value=0)
    take = offered.clip(upper=(quantity - before).clip(lower=0))
    expected = tail.assign(take=take)[take > 0]
    expected_vwap = float((expected["take"] * expected["BestAsk"] / 10_000).sum() / quantity)

    # Assert: one fill per quote that offered new shares, at its ask, for the shares it offered.
    assert [(int(f.quantity), int(f.price * 10_000)) for f in taken] == list(
        zip(expected["take"].astype(int), expected["BestAsk"].astype(int), strict=True))
    assert sum(f.quantity for f in taken) == quantity
    assert [f.fill_id for f in taken[:2]] == ["amzn-buy-1", "amzn-buy-2"]
    vwap = sum(f.notional for f in taken) / quantity
    assert float(vwap) == pytest.approx(expected_vwap, rel=1e-12)
    assert events[-1].kind is K.FILLED
