"""Execution algorithms driving the real TradingEngine and PaperExchange on bars."""

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import numpy as np
import pandas as pd
import pytest

from bifrost.core.errors import InvalidInput, StateConflict
from bifrost.execquality.algos import (
    AlgoRunner,
    AlgoState,
    IcebergAlgo,
    ImplementationShortfallAlgo,
    ParentOrder,
    PegAlgo,
    POVAlgo,
    TWAPAlgo,
    VWAPAlgo,
    make_algo,
    run_on_bars,
)
from bifrost.execquality.almgren_chriss import AlmgrenChrissParams
from bifrost.execquality.tca import prepare, slippage_per_order
from bifrost.execquality.volume_curve import VolumeCurve
from bifrost.orders import OrderStatus, OrderType
from tests.execquality.conftest import make_engine, minute_bars

T0 = datetime(2024, 3, 4, 14, 30, tzinfo=UTC)  # 09:30 New York


def _parent(quantity="1000", minutes=10, **kwargs):
    return ParentOrder(parent_id="P1", symbol="ACME", side=kwargs.pop("side", "buy"), quantity=Decimal(quantity),
                       start=T0, end=T0 + timedelta(minutes=minutes), **kwargs)


def _children(engine, runner):
    return [engine.order(c) for c in runner.children]


def _fills_per_bar(engine, runner):
    per_bar: dict[datetime, Decimal] = {}
    for order in _children(engine, runner):
        for fill in order.fills:
            per_bar[fill.ts_event] = per_bar.get(fill.ts_event, Decimal(0)) + fill.quantity
    return per_bar


def test_twap_sends_equal_children_through_the_engine_and_completes():
    engine = make_engine(T0)
    runner = AlgoRunner(engine=engine, parent=_parent(), algo=TWAPAlgo())
    bars = minute_bars("ACME", T0 - timedelta(minutes=1), np.full(12, 50.0), np.full(12, 100_000))
    run_on_bars(engine, [runner], bars)
    assert runner.state is AlgoState.COMPLETED
    assert runner.filled_quantity == Decimal(1000)
    children = _children(engine, runner)
    assert [o.request.quantity for o in children] == [Decimal(100)] * 10
    assert all(o.request.parent_id == "P1" and o.request.tag == "twap" for o in children)
    assert engine.ledger.position("ACME").quantity == Decimal(1000)
    # the first child goes out at 09:30 (end of the 09:29 bar) and fills at the next bar's open: one fill per
    # bar from 09:30 to 09:39
    assert sorted(_fills_per_bar(engine, runner)) == [T0 + timedelta(minutes=m) for m in range(10)]


def test_vwap_children_follow_the_volume_curve():
    fractions = np.array([4, 2, 1, 1, 2], dtype=float)  # per minute
    curve = VolumeCurve(1, np.concatenate([fractions, np.ones(385)]), 1)
    engine = make_engine(T0)
    runner = AlgoRunner(engine=engine, parent=_parent(quantity="1000", minutes=5), algo=VWAPAlgo(curve))
    bars = minute_bars("ACME", T0 - timedelta(minutes=1), np.full(7, 50.0), np.full(7, 100_000))
    run_on_bars(engine, [runner], bars)
    sizes = [o.request.quantity for o in _children(engine, runner)]
    expected = [Decimal(int(1000 * f / fractions.sum())) for f in fractions]
    assert sizes == expected
    assert runner.state is AlgoState.COMPLETED


def test_pov_child_never_exceeds_the_rate_of_the_last_bar_volume():
    volumes = np.array([1_000, 2_000, 500, 4_000, 3_000, 1_000, 2_000, 1_000, 1_000, 1_000, 1_000, 1_000])
    engine = make_engine(T0)
    runner = AlgoRunner(engine=engine, parent=_parent(quantity="10000", minutes=11),
                        algo=POVAlgo(0.1))
    bars = minute_bars("ACME", T0, np.full(12, 50.0), volumes)
    run_on_bars(engine, [runner], bars)
    filled = runner.filled_quantity
    # target after each bar = 10 % of (volume so far + last bar's volume as the next bar's forecast)
    assert filled <= Decimal(str(0.1 * (volumes[:11].sum() + volumes[10])))
    assert filled >= Decimal(str(0.1 * volumes[:10].sum()))
    for order in _children(engine, runner):
        assert order.request.quantity <= Decimal(str(0.1 * 2 * volumes.max()))


def test_implementation_shortfall_children_follow_the_almgren_chriss_trades():
    params = AlmgrenChrissParams(shares=1000, horizon_days=1, periods=10, sigma=1.0, eta=1e-3, gamma=0.0,
                                 risk_aversion=5e-3)
    algo = ImplementationShortfallAlgo(params)
    engine = make_engine(T0)
    runner = AlgoRunner(engine=engine, parent=_parent(quantity="1000", minutes=10), algo=algo)
    bars = minute_bars("ACME", T0 - timedelta(minutes=1), np.full(12, 50.0), np.full(12, 100_000))
    run_on_bars(engine, [runner], bars)
    k, T = algo.schedule.kappa, 1.0
    t = np.linspace(0, 1, 11)
    holdings = 1000 * np.sinh(k * (T - t)) / np.sinh(k * T)
    cumulative_target = np.floor(1000 - holdings[1:])
    cumulative_sent = np.cumsum([float(o.request.quantity) for o in _children(engine, runner)])
    np.testing.assert_allclose(cumulative_sent, cumulative_target[:len(cumulative_sent)], atol=1.0)
    assert cumulative_sent[0] > 100  # front-loaded: more than the TWAP slice first
    assert runner.state is AlgoState.COMPLETED


def test_limit_price_is_never_crossed():
    engine = make_engine(T0)
    runner = AlgoRunner(engine=engine, parent=_parent(limit_price=Decimal("49.50")), algo=TWAPAlgo())
    bars = minute_bars("ACME", T0 - timedelta(minutes=1), np.full(12, 50.0), np.full(12, 100_000), spread=0.1)
    run_on_bars(engine, [runner], bars)
    children = _children(engine, runner)
    assert children and all(o.request.order_type is OrderType.LIMIT and o.request.limit_price == Decimal("49.50")
                            for o in children)
    assert runner.filled_quantity == 0
    assert runner.state is AlgoState.EXPIRED
    assert all(o.is_terminal for o in children)


def test_max_participation_caps_each_child():
    engine = make_engine(T0)
    runner = AlgoRunner(engine=engine, parent=_parent(quantity="5000", minutes=5, max_participation=0.05),
                        algo=TWAPAlgo())
    bars = minute_bars("ACME", T0 - timedelta(minutes=1), np.full(7, 50.0), np.full(7, 2_000))
    run_on_bars(engine, [runner], bars)
    assert all(o.request.quantity <= Decimal(100) for o in _children(engine, runner))
    assert runner.filled_quantity == Decimal(500)
    assert runner.state is AlgoState.EXPIRED


def test_kill_switch_cancels_the_parent_and_its_working_children():
    engine = make_engine(T0)
    parent = _parent(limit_price=Decimal("49.00"))  # resting children stay working
    runner = AlgoRunner(engine=engine, parent=parent, algo=TWAPAlgo())
    bars = minute_bars("ACME", T0 - timedelta(minutes=1), np.full(12, 50.0), np.full(12, 100_000))
    run_on_bars(engine, [runner], bars.iloc[:4])
    assert runner.working_quantity > 0
    engine.set_kill_switch(True, "test")
    run_on_bars(engine, [runner], bars.iloc[4:6])
    assert runner.state is AlgoState.CANCELLED
    sent = len(runner.children)
    assert all(o.status is OrderStatus.CANCELLED for o in _children(engine, runner))
    engine.set_kill_switch(False)
    run_on_bars(engine, [runner], bars.iloc[6:])
    assert len(runner.children) == sent  # nothing more after a cancel


def test_kill_switch_pauses_and_resumes_when_asked():
    engine = make_engine(T0)
    runner = AlgoRunner(engine=engine, parent=_parent(on_kill_switch="pause"), algo=TWAPAlgo())
    bars = minute_bars("ACME", T0 - timedelta(minutes=1), np.full(12, 50.0), np.full(12, 100_000))
    run_on_bars(engine, [runner], bars.iloc[:4])
    engine.global_kill_switch = lambda: True
    run_on_bars(engine, [runner], bars.iloc[4:6])
    assert runner.state is AlgoState.PAUSED and runner.working_quantity == 0
    paused_children = len(runner.children)
    engine.global_kill_switch = lambda: False
    run_on_bars(engine, [runner], bars.iloc[6:])
    assert len(runner.children) > paused_children
    assert runner.state is AlgoState.COMPLETED and runner.filled_quantity == Decimal(1000)


def test_iceberg_shows_at_most_the_display_quantity():
    engine = make_engine(T0)
    runner = AlgoRunner(engine=engine, parent=_parent(quantity="1000", limit_price=Decimal("50.05")),
                        algo=IcebergAlgo(200))
    bars = minute_bars("ACME", T0 - timedelta(minutes=1), np.full(12, 50.0), np.full(12, 100_000))
    run_on_bars(engine, [runner], bars)
    assert all(o.request.quantity <= Decimal(200) for o in _children(engine, runner))
    assert len(runner.children) == 5 and runner.filled_quantity == Decimal(1000)


def test_iceberg_without_limit_is_rejected():
    engine = make_engine(T0)
    runner = AlgoRunner(engine=engine, parent=_parent(), algo=IcebergAlgo(100))
    bars = minute_bars("ACME", T0 - timedelta(minutes=1), np.full(3, 50.0), np.full(3, 100_000))
    with pytest.raises(InvalidInput, match="limit_price"):
        run_on_bars(engine, [runner], bars)


def test_peg_to_bid_reprices_when_the_market_moves():
    engine = make_engine(T0)
    runner = AlgoRunner(engine=engine, parent=_parent(quantity="300"), algo=PegAlgo("near", half_spread="0.02"))
    closes = [50.0, 50.0, 50.5, 50.5, 50.5, 50.5]
    bars = minute_bars("ACME", T0 - timedelta(minutes=1), closes, np.full(6, 100_000), spread=0.0)
    bars["low"] = bars[["open", "close"]].min(axis=1)  # never trades down to the bid: rests
    run_on_bars(engine, [runner], bars)
    limits = [o.request.limit_price for o in _children(engine, runner)]
    assert limits[0] == Decimal("49.98") and Decimal("50.48") in limits
    assert sum(1 for o in _children(engine, runner) if not o.is_terminal) <= 1


def test_parent_order_validation():
    with pytest.raises(InvalidInput, match="end must be after start"):
        ParentOrder(parent_id="P", symbol="A", side="buy", quantity=Decimal(1), start=T0, end=T0)
    with pytest.raises(InvalidInput, match="max_participation"):
        _parent(max_participation=1.5)


def test_vwap_on_real_amzn_minute_bars_tracks_the_interval_vwap(lobster):
    bars = lobster["bars"]
    curve = VolumeCurve.from_bars(bars, bucket_minutes=15)
    start = bars["ts"].iloc[30].to_pydatetime()
    end = bars["ts"].iloc[330].to_pydatetime()
    engine = make_engine(start - timedelta(minutes=31), symbols=("AMZN",), prices={"AMZN": Decimal("220")})
    parent = ParentOrder(parent_id="V1", symbol="AMZN", side="buy", quantity=Decimal(3000), start=start, end=end,
                         max_participation=0.25)
    runner = AlgoRunner(engine=engine, parent=parent, algo=VWAPAlgo(curve))
    run_on_bars(engine, [runner], bars)
    assert runner.filled_quantity > Decimal(2500)
    fills = pd.DataFrame([{"ts": f.ts_event, "symbol": "AMZN", "side": "buy", "quantity": float(f.quantity),
                           "price": float(f.price), "order_id": f.client_order_id}
                          for o in _children(engine, runner) for f in o.fills])
    orders = pd.DataFrame([{"order_id": o.client_order_id, "ts_submitted": o.ts_created, "symbol": "AMZN",
                            "side": "buy", "quantity": float(o.request.quantity), "parent_id": "V1"}
                           for o in _children(engine, runner)] +
                          [{"order_id": "V1", "ts_submitted": start, "symbol": "AMZN", "side": "buy",
                            "quantity": 3000.0, "parent_id": "V1"}])
    row = slippage_per_order(prepare(fills, orders, bars=bars)).loc["V1"]
    assert abs(row["slippage_interval_vwap_bps"]) < 15.0


def test_peg_to_mid_follows_quotes_and_fills_when_the_ask_reaches_it():
    engine = make_engine(T0)
    runner = AlgoRunner(engine=engine, parent=_parent(quantity="200"), algo=PegAlgo("mid"))

    def quote(second, bid, ask, size=500):
        ts = T0 + timedelta(seconds=second)
        engine.clock.advance_to(ts)
        engine.process(engine.venue.on_quote("ACME", ts, bid, size, ask, size))
        runner.on_quote("ACME", ts, Decimal(str(bid)), Decimal(str(ask)))

    quote(1, 49.98, 50.02)
    assert [o.request.limit_price for o in _children(engine, runner)] == [Decimal("50.0000")]
    quote(2, 50.00, 50.04)  # the mid moves up: cancel and re-peg at 50.02
    limits = [o.request.limit_price for o in _children(engine, runner)]
    assert limits == [Decimal("50.0000"), Decimal("50.0200")]
    assert engine.order(runner.children[0]).status is OrderStatus.CANCELLED
    quote(3, 49.96, 50.00)  # the ask drops to 50.00 <= our 50.02 on the child's first eligible quote
    assert runner.filled_quantity == Decimal(200)
    fill = engine.order(runner.children[1]).fills[0]
    assert fill.price == Decimal("50.00")  # marketable on arrival: takes the ask, inside our peg


@pytest.mark.parametrize(("side", "expected"), [("buy", Decimal("49.99")), ("sell", Decimal("50.00"))])
def test_peg_to_a_half_cent_mid_rests_on_the_penny_grid_away_from_the_market(side, expected):
    engine = make_engine(T0)
    runner = AlgoRunner(engine=engine, parent=_parent(quantity="100", side=side), algo=PegAlgo("mid"))
    ts = T0 + timedelta(seconds=1)
    engine.clock.advance_to(ts)
    engine.process(engine.venue.on_quote("ACME", ts, 49.99, 500, 50.00, 500))
    runner.on_quote("ACME", ts, Decimal("49.99"), Decimal("50.00"))  # mid 49.995: sub-penny, refused by Rule 612
    assert [o.request.limit_price for o in _children(engine, runner)] == [expected]


def _bars(n, **kwargs):
    bars = minute_bars("ACME", T0 - timedelta(minutes=1), np.full(n, 50.0), np.full(n, 100_000), **kwargs)
    return bars.assign(bar_end=bars["ts"] + pd.Timedelta(minutes=1))  # slices of one bar keep their length


def test_passive_twap_rests_at_the_bid_and_crosses_only_what_falls_behind():
    bars = _bars(12)
    bars.loc[[3, 6], "low"] = 50.0  # these two bars never trade down to the 49.99 bid
    engine = make_engine(T0)
    runner = AlgoRunner(engine=engine, parent=_parent(), algo=TWAPAlgo(passive=True, half_spread="0.01"))
    run_on_bars(engine, [runner], bars)
    children = _children(engine, runner)
    resting = [o for o in children if o.request.order_type is OrderType.LIMIT]
    crossed = [o for o in children if o.request.order_type is OrderType.MARKET]
    assert all(o.request.limit_price == Decimal("49.99") for o in resting)
    # the two slices left unfilled are crossed one bar late, and the last slice is crossed to finish on time
    assert [o.request.quantity for o in crossed] == [Decimal(100)] * 3
    assert sum(1 for o in resting if o.status is OrderStatus.CANCELLED) == 2
    assert runner.state is AlgoState.COMPLETED and runner.filled_quantity == Decimal(1000)
    # 700 shares at the bid, 300 at 50.00: (700 * 49.99 + 300 * 50) / 1000; an aggressive TWAP pays 50.00
    assert runner.average_price == Decimal("49.993")
    assert runner.algo.describe()["style"] == "passive"


def test_passive_vwap_repegs_to_the_new_bid_between_bars():
    curve = VolumeCurve.flat(bucket_minutes=1)
    engine = make_engine(T0)
    runner = AlgoRunner(engine=engine, parent=_parent(quantity="500", minutes=5), algo=VWAPAlgo(curve, passive=True))
    bars = _bars(2)
    bars["low"] = bars[["open", "close"]].min(axis=1)
    run_on_bars(engine, [runner], bars)
    first = _children(engine, runner)[-1]
    assert first.request.limit_price == Decimal("49.99") and first.request.quantity == Decimal(100)
    sent = runner.on_quote("ACME", T0 + timedelta(minutes=1, seconds=10), 50.10, 50.12)
    assert engine.order(first.request.client_order_id).status is OrderStatus.CANCELLED
    assert [(r.limit_price, r.order_type) for r in sent] == [(Decimal("50.1"), OrderType.LIMIT)]
    assert runner.on_quote("ACME", T0 + timedelta(minutes=1, seconds=20), 50.10, 50.12) == []  # same bid: kept


def test_lot_rounding_still_fills_the_parent_quantity_exactly():
    # 250 shares in lots of 100: whole lots while the schedule allows, the odd 50 with the last child
    engine = make_engine(T0)
    runner = AlgoRunner(engine=engine, parent=_parent(quantity="250", minutes=5, lot_size=Decimal(100)),
                        algo=TWAPAlgo())
    run_on_bars(engine, [runner], _bars(8))
    assert [o.request.quantity for o in _children(engine, runner)] == [Decimal(100), Decimal(100), Decimal(50)]
    assert runner.state is AlgoState.COMPLETED and runner.filled_quantity == Decimal(250)


def test_paused_parent_expires_at_its_end():
    engine = make_engine(T0)
    runner = AlgoRunner(engine=engine, parent=_parent(minutes=5, on_kill_switch="pause"), algo=TWAPAlgo())
    bars = _bars(8)
    run_on_bars(engine, [runner], bars.iloc[:3])
    engine.global_kill_switch = lambda: True
    run_on_bars(engine, [runner], bars.iloc[3:])
    assert runner.state is AlgoState.EXPIRED
    # children sent at 09:30, 09:31 and 09:32 filled (the last one on the bar in which the switch fired)
    assert runner.filled_quantity == Decimal(600)
    assert runner.events[-1][1] == "expired: end reached while paused with 400 unfilled"


def test_cancelling_a_finished_parent_is_a_state_conflict():
    engine = make_engine(T0)
    runner = AlgoRunner(engine=engine, parent=_parent(), algo=TWAPAlgo())
    run_on_bars(engine, [runner], _bars(12))
    with pytest.raises(StateConflict, match="parent order P1 is completed; nothing to cancel"):
        runner.cancel()
    assert runner.state is AlgoState.COMPLETED


def test_make_algo_passes_the_peg_slice_and_the_passive_style():
    peg = make_algo("peg", reference="near", max_slice="200")
    assert isinstance(peg, PegAlgo) and peg.max_working(_parent()) == Decimal(200)
    assert make_algo("vwap", style="passive").passive and not make_algo("twap").passive


def test_parent_filled_when_the_kill_switch_fires_is_completed_not_cancelled():
    engine = make_engine(T0)
    runner = AlgoRunner(engine=engine, parent=_parent(minutes=5), algo=TWAPAlgo())
    bars = _bars(8)
    run_on_bars(engine, [runner], bars.iloc[:5])  # children for 09:30-09:34 sent; the last fills on the next bar
    # the global switch fires between the engine's matching of that bar and the runner's look at it
    engine.global_kill_switch = lambda: True
    run_on_bars(engine, [runner], bars.iloc[5:])
    assert runner.filled_quantity == Decimal(1000)
    assert runner.state is AlgoState.COMPLETED


def test_kill_switch_released_before_the_start_leaves_the_parent_pending():
    engine = make_engine(T0)
    parent = ParentOrder(parent_id="P1", symbol="ACME", side="buy", quantity=Decimal(500),
                         start=T0 + timedelta(minutes=3), end=T0 + timedelta(minutes=8), on_kill_switch="pause")
    runner = AlgoRunner(engine=engine, parent=parent, algo=TWAPAlgo())
    bars = _bars(12)
    engine.global_kill_switch = lambda: True
    run_on_bars(engine, [runner], bars.iloc[:2])
    assert runner.state is AlgoState.PAUSED
    engine.global_kill_switch = lambda: False
    run_on_bars(engine, [runner], bars.iloc[2:3])  # 09:31: still before the start
    assert runner.state is AlgoState.PENDING and runner.children == []
    run_on_bars(engine, [runner], bars.iloc[3:])
    assert runner.state is AlgoState.COMPLETED and runner.filled_quantity == Decimal(500)
