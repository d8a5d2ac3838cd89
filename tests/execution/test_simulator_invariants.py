"""Invariants of the paper exchange over random bar paths and orders (Hypothesis)."""

from collections import defaultdict
from datetime import UTC, datetime, timedelta
from decimal import ROUND_FLOOR, Decimal

from hypothesis import given, settings
from hypothesis import strategies as st

from bifrost.execution import PaperExchange, PerShareFeeModel
from bifrost.orders.types import EventKind, Liquidity, OrderRequest, OrderType, Side, TimeInForce

D = Decimal
START = datetime(2024, 11, 27, 15, 0, tzinfo=UTC)  # mid-session on a full XNYS day
TERMINAL = {EventKind.FILLED, EventKind.CANCELLED, EventKind.EXPIRED, EventKind.REJECTED}


@st.composite
def bar_paths(draw):
    count = draw(st.integers(min_value=1, max_value=12))
    bars, price = [], 100.0
    for _ in range(count):
        open_ = round(price + draw(st.floats(min_value=-2, max_value=2)), 2)
        close = round(open_ + draw(st.floats(min_value=-2, max_value=2)), 2)
        high = round(max(open_, close) + draw(st.floats(min_value=0, max_value=1.5)), 2)
        low = round(min(open_, close) - draw(st.floats(min_value=0, max_value=1.5)), 2)
        volume = float(draw(st.integers(min_value=0, max_value=5000)))
        bars.append((open_, high, low, close, volume))
        price = close
    return bars


@st.composite
def orders(draw):
    result = []
    for index in range(draw(st.integers(min_value=1, max_value=4))):
        side = draw(st.sampled_from([Side.BUY, Side.SELL]))
        kind = draw(st.sampled_from([OrderType.MARKET, OrderType.LIMIT, OrderType.STOP, OrderType.STOP_LIMIT,
                                     OrderType.TRAILING_STOP]))
        fields = {}
        level = D(str(round(draw(st.floats(min_value=96, max_value=104)), 2)))
        if kind in (OrderType.LIMIT, OrderType.STOP_LIMIT):
            fields["limit_price"] = level
        if kind in (OrderType.STOP, OrderType.STOP_LIMIT):
            fields["stop_price"] = D(str(round(draw(st.floats(min_value=96, max_value=104)), 2)))
        if kind is OrderType.TRAILING_STOP:
            fields["trail_amount"] = D(str(round(draw(st.floats(min_value=0.1, max_value=3)), 2)))
        tif = TimeInForce.GTC if kind in (OrderType.STOP, OrderType.STOP_LIMIT, OrderType.TRAILING_STOP) else \
            draw(st.sampled_from([TimeInForce.DAY, TimeInForce.GTC, TimeInForce.IOC, TimeInForce.FOK]))
        quantity = draw(st.integers(min_value=1, max_value=1500))
        result.append(OrderRequest(client_order_id=f"o{index}", symbol="AAPL", side=side, quantity=D(quantity),
                                   order_type=kind, time_in_force=tif, **fields))
    return result


@settings(max_examples=150, deadline=None)
@given(path=bar_paths(), requests=orders(), cap=st.sampled_from([None, 0.05, 0.25, 1.0]))
def test_paper_exchange_any_bars_keeps_fill_invariants(path, requests, cap):
    # Arrange
    fee_model = PerShareFeeModel()
    exchange = PaperExchange(fee_model, participation_cap=cap)
    by_id = {r.client_order_id: r for r in requests}
    for r in requests:
        exchange.submit(r, START)

    # Act
    per_bar = []
    for minute, (o, h, lo, c, v) in enumerate(path):
        start = START + timedelta(minutes=minute)
        per_bar.append(((o, h, lo, c, v), exchange.on_bar("AAPL", start, o, h, lo, c, v,
                                                           bar_end=start + timedelta(minutes=1))))

    # Assert
    filled, notional, commission, ids = defaultdict(D), defaultdict(D), defaultdict(D), defaultdict(list)
    finished = set()
    for (_open, h, lo, _close, v), events in per_bar:
        bar_total = D(0)
        for event in events:
            assert event.client_order_id not in finished, "no event after a terminal one"
            if event.kind in TERMINAL:
                finished.add(event.client_order_id)
            fill = event.fill
            if fill is None:
                continue
            r = by_id[fill.client_order_id]
            filled[r.client_order_id] += fill.quantity
            notional[r.client_order_id] += fill.notional
            commission[r.client_order_id] += fill.commission
            ids[r.client_order_id].append(fill.fill_id)
            bar_total += fill.quantity
            # No slippage model: every fill price traded inside its bar, and limits are respected.
            assert D(str(lo)) <= fill.price <= D(str(h))
            if r.limit_price is not None and fill.liquidity is not Liquidity.AUCTION:
                assert fill.price <= r.limit_price if r.side is Side.BUY else fill.price >= r.limit_price
        if cap is not None:
            assert bar_total <= (D(str(v)) * D(str(cap))).to_integral_value(rounding=ROUND_FLOOR)
    for order_id, r in by_id.items():
        assert filled[order_id] <= r.quantity
        assert ids[order_id] == [f"{order_id}-{n}" for n in range(1, len(ids[order_id]) + 1)]
        if filled[order_id] > 0:
            # Order-level accrual: the fills' commissions add up to the fee of the whole filled part.
            whole = fee_model.fees(side=r.side, quantity=filled[order_id], price=D(1), liquidity=Liquidity.TAKER,
                                   notional=notional[order_id])
            assert commission[order_id] == whole.commission
        if r.time_in_force in (TimeInForce.IOC, TimeInForce.FOK):
            assert order_id in finished, "IOC/FOK never outlive their first bar"
        if r.time_in_force is TimeInForce.FOK and order_id in finished:
            assert filled[order_id] in (0, r.quantity)
