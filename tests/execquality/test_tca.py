"""TCA: benchmarks, sign conventions, Perold shortfall and explicit costs."""

from datetime import UTC, datetime
from decimal import Decimal

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bifrost.core.errors import InvalidInput
from bifrost.execquality.frames import fills_from_records
from bifrost.execquality.tca import (
    explicit_costs,
    implementation_shortfall,
    prepare,
    slippage_per_fill,
    slippage_per_order,
)
from bifrost.orders import OrderRequest
from tests.execquality.conftest import make_engine, minute_bars

T0 = datetime(2024, 3, 4, 14, 30, tzinfo=UTC)


def _fills(rows):
    return pd.DataFrame(rows, columns=["ts", "symbol", "side", "quantity", "price", "commission", "fees", "order_id",
                                       "fill_id"])


def test_perold_shortfall_cfa_textbook_example_gives_87_bps():
    # CFA Institute, "Trade Strategy and Execution" (Impulse Robotics): decision at Monday's close 10.00,
    # Tuesday's limit at 9.98 unfilled, Wednesday 700 bought at 10.07 (released when the price was 10.05),
    # 14 of commissions and fees, Wednesday close 10.08, 300 shares cancelled.
    # Published: delay 0.35 %, realised (trading) 0.14 %, opportunity 0.24 %, explicit 0.14 %, total 0.87 %.
    fills = _fills([[pd.Timestamp("2024-03-06 15:00Z"), "IR", "buy", 700, 10.07, 14.0, 0.0, "o1", "f1"]])
    orders = pd.DataFrame({"order_id": ["o1"], "ts_submitted": [pd.Timestamp("2024-03-06 14:30Z")],
                           "ts_decision": [pd.Timestamp("2024-03-04 21:00Z")], "symbol": ["IR"], "side": ["buy"],
                           "quantity": [1000], "decision_price": [10.00], "arrival_price": [10.05],
                           "end_price": [10.08]})
    result = implementation_shortfall(prepare(fills, orders)).loc["o1"]
    assert result["delay"] == pytest.approx(35.0)
    assert result["impact"] == pytest.approx(14.0)
    assert result["timing"] == pytest.approx(0.0)
    assert result["opportunity"] == pytest.approx(24.0)
    assert result["fees"] == pytest.approx(14.0)
    assert result["total"] == pytest.approx(87.0)
    assert result["total_bps"] == pytest.approx(87.0)
    assert result["delay_bps"] == pytest.approx(35.0)


def test_perold_components_sum_to_paper_minus_real_portfolio_with_quotes():
    quotes = pd.DataFrame({"ts": [T0, T0 + pd.Timedelta(minutes=1), T0 + pd.Timedelta(minutes=2)], "symbol": "X",
                           "bid": [99.98, 100.18, 100.38], "ask": [100.02, 100.22, 100.42]})
    fills = _fills([[T0 + pd.Timedelta(seconds=70), "X", "buy", 300, 100.25, 1.0, 0.5, "o1", "f1"],
                    [T0 + pd.Timedelta(seconds=130), "X", "buy", 200, 100.45, 1.0, 0.5, "o1", "f2"]])
    orders = pd.DataFrame({"order_id": ["o1"], "ts_submitted": [T0], "symbol": ["X"], "side": ["buy"],
                           "quantity": [1000], "decision_price": [99.90], "end_price": [100.60]})
    row = implementation_shortfall(prepare(fills, orders, quotes=quotes)).loc["o1"]
    # independent: arrival mid 100.00; mids at fills 100.20 and 100.40
    assert row["delay"] == pytest.approx(500 * (100.00 - 99.90))
    assert row["impact"] == pytest.approx(300 * 0.05 + 200 * 0.05)
    assert row["timing"] == pytest.approx(300 * 0.20 + 200 * 0.40)
    assert row["opportunity"] == pytest.approx(500 * (100.60 - 99.90))
    paper_gain = 1000 * (100.60 - 99.90)
    real_gain = 500 * 100.60 - (300 * 100.25 + 200 * 100.45) - 3.0
    assert row["total"] == pytest.approx(paper_gain - real_gain)
    assert row["total_bps"] == pytest.approx((paper_gain - real_gain) / (1000 * 99.90) * 1e4)


def test_slippage_sign_positive_is_cost_for_both_sides():
    quotes = pd.DataFrame({"ts": [T0], "symbol": "X", "bid": [99.99], "ask": [100.01]})
    fills = _fills([[T0, "X", "buy", 100, 100.10, 0, 0, "b", "f1"],
                    [T0, "X", "sell", 100, 99.90, 0, 0, "s", "f2"],
                    [T0, "X", "sell", 100, 100.10, 0, 0, "g", "f3"]])
    result = slippage_per_fill(prepare(fills, quotes=quotes)).set_index("fill_id")
    assert result.loc["f1", "slippage_arrival_bps"] == pytest.approx(10.0)
    assert result.loc["f2", "slippage_arrival_bps"] == pytest.approx(10.0)
    assert result.loc["f3", "slippage_arrival_bps"] == pytest.approx(-10.0)


def test_interval_vwap_twap_and_session_benchmarks_match_independent_pandas():
    bars = minute_bars("X", T0, np.linspace(50, 51, 30), np.arange(1, 31) * 100)
    day_before = pd.DataFrame({"ts": [T0 - pd.Timedelta(days=1) + pd.Timedelta(minutes=389)], "symbol": "X",
                               "open": [49.0], "high": [49.5], "low": [48.9], "close": [49.2], "volume": [10]})
    bars = pd.concat([day_before, bars], ignore_index=True)
    submitted = T0 + pd.Timedelta(minutes=5)
    fills = _fills([[T0 + pd.Timedelta(minutes=9, seconds=30), "X", "buy", 100, 50.40, 0, 0, "o1", "f1"],
                    [T0 + pd.Timedelta(minutes=15), "X", "buy", 300, 50.60, 0, 0, "o1", "f2"]])
    orders = pd.DataFrame({"order_id": ["o1"], "ts_submitted": [submitted], "symbol": ["X"], "side": ["buy"],
                           "quantity": [400]})
    per_order = slippage_per_order(prepare(fills, orders, bars=bars)).loc["o1"]
    window = bars[(bars["ts"] >= submitted) & (bars["ts"] <= T0 + pd.Timedelta(minutes=15))]
    typical = (window["high"] + window["low"] + window["close"]) / 3
    vwap = (typical * window["volume"]).sum() / window["volume"].sum()
    assert per_order["interval_vwap"] == pytest.approx(vwap)
    assert per_order["interval_twap"] == pytest.approx(typical.mean())
    assert per_order["avg_price"] == pytest.approx((100 * 50.40 + 300 * 50.60) / 400)
    assert per_order["open"] == pytest.approx(50.0)
    assert per_order["close"] == pytest.approx(51.0)
    assert per_order["prev_close"] == pytest.approx(49.2)
    expected = (per_order["avg_price"] - vwap) / vwap * 1e4
    assert per_order["slippage_interval_vwap_bps"] == pytest.approx(expected)
    # arrival from bars: close of the last bar ended by the submission (minute 4 ends at 5)
    assert per_order["arrival"] == pytest.approx(bars["close"].iloc[5])


def test_child_fills_aggregate_to_parent_order():
    orders = pd.DataFrame({"order_id": ["P", "P-1", "P-2"], "ts_submitted": [T0, T0, T0 + pd.Timedelta(minutes=1)],
                           "symbol": "X", "side": "sell", "quantity": [1000, 400, 400],
                           "parent_id": [None, "P", "P"]})
    fills = _fills([[T0 + pd.Timedelta(seconds=10), "X", "sell", 400, 20.0, 1, 0, "P-1", "a"],
                    [T0 + pd.Timedelta(seconds=70), "X", "sell", 300, 19.9, 1, 0, "P-2", "b"]])
    quotes = pd.DataFrame({"ts": [T0], "symbol": "X", "bid": [20.04], "ask": [20.06]})
    result = slippage_per_order(prepare(fills, orders, quotes=quotes))
    assert list(result.index) == ["P"]
    row = result.loc["P"]
    assert row["quantity"] == 1000 and row["filled"] == 700 and row["fill_rate"] == pytest.approx(0.7)
    avg = (400 * 20.0 + 300 * 19.9) / 700
    assert row["slippage_arrival_bps"] == pytest.approx(-(avg - 20.05) / 20.05 * 1e4)
    assert row["explicit_bps"] == pytest.approx(2.0 / (avg * 700) * 1e4)


def test_backtest_record_frames_with_decimals_are_accepted():
    # the columns of bifrost.backtest.results.BacktestRecord.fills / .orders
    fills = pd.DataFrame({"ts": [T0], "symbol": ["acme"], "side": ["buy"], "quantity": [Decimal("10")],
                          "price": [Decimal("50.25")], "commission": [Decimal("1.00")], "fees": [Decimal("0")],
                          "order_id": ["o1"], "fill_id": ["o1-1"]})
    orders = pd.DataFrame({"order_id": ["o1"], "ts_submitted": [T0 - pd.Timedelta(minutes=1)], "symbol": ["ACME"],
                           "side": ["buy"], "order_type": ["market"], "quantity": [Decimal("10")],
                           "limit_price": [None], "stop_price": [None], "status": ["filled"], "reason": [""]})
    bars = minute_bars("ACME", T0 - pd.Timedelta(minutes=3), [50.0, 50.1, 50.2, 50.3], [100] * 4)
    row = slippage_per_order(prepare(fills, orders, bars=bars)).loc["o1"]
    assert row["avg_price"] == pytest.approx(50.25)
    assert row["slippage_arrival_bps"] == pytest.approx((50.25 - 50.1) / 50.1 * 1e4)


@pytest.mark.parametrize(("mutate", "message"), [
    (lambda f: f.drop(columns=["price"]), "missing column"),
    (lambda f: f.assign(side="hold"), "must be 'buy' or 'sell'"),
    (lambda f: f.assign(quantity=-5), "quantity must be positive"),
    (lambda f: f.assign(ts=pd.Timestamp("2024-03-04 14:30")), "timezone-aware"),
])
def test_bad_fills_raise_invalid_input_naming_the_problem(mutate, message):
    fills = _fills([[T0, "X", "buy", 100, 10.0, 0, 0, "o1", "f1"]])
    with pytest.raises(InvalidInput, match=message):
        prepare(mutate(fills))


def test_fill_for_unknown_order_is_rejected():
    fills = _fills([[T0, "X", "buy", 100, 10.0, 0, 0, "nope", "f1"]])
    orders = pd.DataFrame({"order_id": ["o1"], "ts_submitted": [T0], "symbol": ["X"], "side": ["buy"],
                           "quantity": [100]})
    with pytest.raises(InvalidInput, match="not in orders"):
        prepare(fills, orders)


@pytest.mark.parametrize(("column", "value", "message"), [
    ("symbol", "y", "fill f1 has symbol 'Y' but its order has 'X'"),
    ("side", "SELL", "fill f1 has side 'sell' but its order has 'buy'"),
])
def test_fill_disagreeing_with_its_order_is_rejected(column, value, message):
    # symbols and sides are compared as normalised codes: case does not matter, the value does
    fills = _fills([[T0, "x", "Buy", 100, 10.0, 0, 0, "o1", "f1"]]).assign(**{column: value})
    orders = pd.DataFrame({"order_id": ["o1"], "ts_submitted": [T0], "symbol": ["X"], "side": ["buy"],
                           "quantity": [100]})
    with pytest.raises(InvalidInput, match=message):
        prepare(fills, orders)


def test_quotes_in_any_order_and_case_give_the_same_tca():
    # two symbols' quotes interleaved, shuffled and in mixed case must be grouped and sorted before lookups
    ts = pd.date_range(T0, periods=40, freq="15s", tz=UTC)
    quotes = pd.concat([pd.DataFrame({"ts": ts, "symbol": name, "bid": base + np.arange(40) * 0.01,
                                      "ask": base + 0.02 + np.arange(40) * 0.01}) for name, base in
                        (("AAA", 10.0), ("BBB", 20.0))], ignore_index=True)
    fills = _fills([[ts[5] + pd.Timedelta(seconds=1), "AAA", "buy", 100, 10.10, 0, 0, "o1", "f1"],
                    [ts[20] + pd.Timedelta(seconds=1), "BBB", "sell", 50, 20.15, 0, 0, "o2", "f2"]])
    messy = quotes.sample(frac=1.0, random_state=3).reset_index(drop=True)
    messy["symbol"] = np.where(np.arange(len(messy)) % 3 == 0, messy["symbol"].str.lower(), messy["symbol"])
    tidy = slippage_per_fill(prepare(fills, quotes=quotes))
    shuffled = slippage_per_fill(prepare(fills, quotes=messy))
    pd.testing.assert_frame_equal(tidy, shuffled)
    # arrival = the first fill of each order; mid in force then: AAA 10.06, BBB 20.21
    assert list(tidy["arrival"]) == pytest.approx([10.06, 20.21])


def test_explicit_costs_split_sec_fee_taf_and_exchange_fee():
    # bifrost.execution.fees.RegulatoryFees docstring example: 1,000 sold at $50 at $27.80 per million and
    # $0.000166 per share gives SEC 1.39 and TAF 0.17 (SEC Release 34-99973; FINRA SR-FINRA-2020-032).
    ts = pd.Timestamp("2024-06-03 15:00Z")
    fills = _fills([[ts, "X", "sell", 1000, 50.0, 5.0, 1.39 + 0.17 + 3.00, "o1", "f1"],
                    [ts, "X", "buy", 1000, 50.0, 5.0, -2.00, "o2", "f2"]])
    result = explicit_costs(fills).set_index("fill_id")
    assert result.loc["f1", "sec_fee"] == pytest.approx(1.39)
    assert result.loc["f1", "finra_taf"] == pytest.approx(0.17)
    assert result.loc["f1", "exchange_fee"] == pytest.approx(3.00)
    assert result.loc["f2", "sec_fee"] == 0.0 and result.loc["f2", "exchange_fee"] == pytest.approx(-2.00)
    assert result.loc["f1", "explicit_total"] == pytest.approx(9.56)


def test_paper_broker_fills_feed_tca_through_fills_from_records():
    engine = make_engine(T0)
    engine.submit(OrderRequest(client_order_id="b1", symbol="ACME", side="buy", quantity="100"))
    bars = minute_bars("ACME", T0, [50.10, 50.30], [10_000, 10_000])
    engine.clock.advance_to(T0 + pd.Timedelta(minutes=1))
    engine.on_bar("ACME", T0, 50.10, 50.12, 50.08, 50.10, 10_000, bar_end=T0 + pd.Timedelta(minutes=1))
    fills = fills_from_records(engine.order("b1").fills)
    assert list(fills["order_id"]) == ["b1"] and fills["price"].iloc[0] == pytest.approx(50.10)
    per_fill = slippage_per_fill(prepare(fills, bars=bars))
    assert per_fill["slippage_close_bps"].iloc[0] == pytest.approx((50.10 - 50.30) / 50.30 * 1e4)


@settings(max_examples=60, deadline=None)
@given(data=st.data())
def test_perold_total_equals_paper_minus_real_portfolio_for_any_fills(data):
    side = data.draw(st.sampled_from(["buy", "sell"]))
    quantity = data.draw(st.integers(100, 10_000))
    n = data.draw(st.integers(1, 6))
    sizes = data.draw(st.lists(st.integers(1, max(quantity // n, 1)), min_size=n, max_size=n))
    prices = data.draw(st.lists(st.floats(90, 110), min_size=n, max_size=n))
    fees = data.draw(st.lists(st.floats(0, 5), min_size=n, max_size=n))
    decision, end = data.draw(st.floats(90, 110)), data.draw(st.floats(90, 110))
    mids = data.draw(st.lists(st.floats(90, 110), min_size=n + 1, max_size=n + 1))
    quotes = pd.DataFrame({"ts": [T0 + pd.Timedelta(minutes=i) for i in range(n + 1)], "symbol": "X",
                           "bid": [m - 0.01 for m in mids], "ask": [m + 0.01 for m in mids]})
    fills = _fills([[T0 + pd.Timedelta(minutes=i + 1, seconds=1), "X", side, sizes[i], prices[i], fees[i], 0.0,
                     "o1", f"f{i}"] for i in range(n)])
    orders = pd.DataFrame({"order_id": ["o1"], "ts_submitted": [T0], "symbol": ["X"], "side": [side],
                           "quantity": [quantity], "decision_price": [decision], "end_price": [end]})
    row = implementation_shortfall(prepare(fills, orders, quotes=quotes)).loc["o1"]
    s = 1 if side == "buy" else -1
    filled = sum(sizes)
    # paper portfolio: all Q at the decision price, valued at the end; real: what was filled, valued at the end
    paper = s * quantity * (end - decision)
    real = s * (filled * end) - s * sum(q * p for q, p in zip(sizes, prices, strict=True)) - sum(fees)
    assert row["total"] == pytest.approx(paper - real, rel=1e-9, abs=1e-6)
    parts = row[["delay", "impact", "timing", "opportunity", "fees"]].sum()
    assert parts == pytest.approx(row["total"], rel=1e-12, abs=1e-9)
