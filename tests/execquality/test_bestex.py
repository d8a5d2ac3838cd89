"""Best execution against the NBBO (Rule 605 statistics), with an independent recomputation."""

from datetime import UTC, datetime

import numpy as np
import pandas as pd
import pytest

from bifrost.execquality.bestex import best_execution, rule605_summary, rule606_summary
from bifrost.execquality.tca import prepare

T0 = datetime(2024, 3, 4, 14, 30, tzinfo=UTC)
S = pd.Timedelta(seconds=1)


def _case():
    quotes = pd.DataFrame({"ts": [T0, T0 + 300 * S, T0 + 302 * S], "symbol": "X",
                           "bid": [10.00, 10.04, 10.06], "ask": [10.04, 10.08, 10.10]})
    fills = pd.DataFrame({
        "ts": [T0 + S, T0 + S, T0 + 2 * S, T0 + 2 * S],
        "symbol": "X", "side": ["buy", "buy", "sell", "buy"], "quantity": [100, 300, 200, 50],
        "price": [10.03, 10.04, 10.01, 10.05], "order_id": ["a", "b", "c", "d"], "fill_id": ["1", "2", "3", "4"],
        "broker": ["B1", "B1", "B2", "B2"], "venue": ["V", "V", "W", "W"]})
    return fills, quotes


def test_categories_price_improvement_and_spreads_per_rule_605_definitions():
    fills, quotes = _case()
    result = best_execution(prepare(fills, quotes=quotes), realized_horizon_s=300).set_index("fill_id")
    assert list(result["category"]) == ["improved", "at_quote", "improved", "outside_quote"]
    assert result.loc["1", "price_improvement"] == pytest.approx(0.01)
    assert result.loc["3", "price_improvement"] == pytest.approx(0.01)
    assert result.loc["4", "outside_amount"] == pytest.approx(0.01)
    assert bool(result.loc["4", "flag_outside_quote"]) and not bool(result.loc["1", "flag_outside_quote"])
    # effective spread: 2 x signed distance from the midpoint at receipt (10.02)
    assert result.loc["1", "effective_spread"] == pytest.approx(2 * (10.03 - 10.02))
    assert result.loc["3", "effective_spread"] == pytest.approx(2 * (10.02 - 10.01))
    # realized spread: midpoint 300 s after execution; fill 1 at T0+1s -> T0+301s -> mid 10.06
    assert result.loc["1", "realized_spread"] == pytest.approx(2 * (10.03 - 10.06))
    # fill 3 at T0+2s -> T0+302s -> mid 10.08; a sell: 2 x (mid - price)
    assert result.loc["3", "realized_spread"] == pytest.approx(2 * (10.08 - 10.01))
    assert result.loc["1", "effective_over_quoted"] == pytest.approx(0.02 / 0.04)


def test_rule_605_summary_is_share_weighted_per_broker_and_venue():
    fills, quotes = _case()
    per_fill = best_execution(prepare(fills, quotes=quotes))
    summary = rule605_summary(per_fill).set_index("broker")
    b1 = summary.loc["B1"]
    assert b1["shares"] == 400 and b1["shares_improved"] == 100 and b1["shares_at_quote"] == 300
    assert b1["pct_improved"] == pytest.approx(25.0)
    assert b1["avg_effective_spread"] == pytest.approx((100 * 0.02 + 300 * 0.04) / 400)
    b2 = summary.loc["B2"]
    assert b2["shares_outside_quote"] == 50 and b2["flagged_fills"] == 1
    assert b2["avg_outside_amount"] == pytest.approx(0.01)
    overall = rule605_summary(per_fill, by=())
    assert overall["shares"].iloc[0] == 650


def test_bar_stands_in_for_the_quote_when_there_are_no_quotes():
    bars = pd.DataFrame({"ts": [T0], "symbol": "X", "open": [10.0], "high": [10.2], "low": [9.9], "close": [10.1],
                         "volume": [1000]})
    fills = pd.DataFrame({"ts": [T0 + 10 * S, T0 + 20 * S], "symbol": "X", "side": ["buy", "buy"],
                          "quantity": [10, 10], "price": [10.1, 10.3], "order_id": ["a", "b"]})
    result = best_execution(prepare(fills, bars=bars))
    assert list(result["quote_source"]) == ["bar", "bar"]
    assert list(result["category"]) == ["improved", "outside_quote"]
    assert result["outside_amount"].iloc[1] == pytest.approx(0.1)


def test_lobster_amzn_executions_against_pre_trade_book_match_independent_merge_asof(lobster):
    quotes, trades = lobster["quotes"], lobster["trades"]
    visible = trades[trades["type"] == 4].head(3000).reset_index(drop=True)
    one_ns = pd.Timedelta(1, "ns")
    fills = pd.DataFrame({"ts": visible["ts"], "symbol": "AMZN", "side": visible["side"], "quantity": visible["size"],
                          "price": visible["price"], "order_id": [f"o{i}" for i in range(len(visible))]})
    orders = fills[["order_id", "symbol", "side", "quantity"]].assign(ts_submitted=visible["ts"] - one_ns)
    per_fill = best_execution(prepare(fills, orders, quotes=quotes))
    # independent: book strictly before the execution message
    book = quotes.sort_values("ts", kind="stable")
    merged = pd.merge_asof(visible.reset_index().sort_values("ts", kind="stable"), book[["ts", "bid", "ask"]], on="ts",
                           allow_exact_matches=False).sort_values("index")
    far = np.where(merged["side"] == "buy", merged["ask"], merged["bid"])
    at_quote = np.isclose(merged["price"], far)
    assert (per_fill["category"] == "at_quote").to_numpy().sum() == at_quote.sum()
    assert at_quote.mean() > 0.9  # visible executions happen at the touch
    mid = (merged["bid"] + merged["ask"]) / 2
    sign = np.where(merged["side"] == "buy", 1.0, -1.0)
    effective = 2 * sign * (merged["price"] - mid)
    expected = np.average(effective, weights=merged["size"])
    summary = rule605_summary(per_fill, by=())
    assert summary["avg_effective_spread"].iloc[0] == pytest.approx(expected, rel=1e-9)


def test_rule_606_routing_table_classifies_orders_at_receipt():
    quotes = pd.DataFrame({"ts": [T0], "symbol": "X", "bid": [10.00], "ask": [10.04]})
    orders = pd.DataFrame({"order_id": ["m", "ml", "nl", "s"], "ts_submitted": [T0] * 4, "symbol": "X",
                           "side": ["buy", "buy", "sell", "buy"], "quantity": [100, 100, 100, 100],
                           "order_type": ["market", "limit", "limit", "stop"],
                           "limit_price": [None, 10.05, 10.02, None]})
    fills = pd.DataFrame({"ts": [T0 + S] * 4, "symbol": "X", "side": ["buy", "buy", "sell", "buy"],
                          "quantity": [100, 100, 100, 100], "price": [10.04, 10.04, 10.02, 10.05],
                          "order_id": ["m", "ml", "nl", "s"], "venue": ["A", "A", "B", "B"],
                          "fees": [0.30, 0.30, -0.20, 0.30]})
    inputs = prepare(fills, orders, quotes=quotes)
    table = rule606_summary(best_execution(inputs), inputs.orders).set_index("venue")
    assert table.loc["A", "orders"] == 2 and table.loc["A", "pct_of_orders"] == pytest.approx(50.0)
    assert table.loc["A", "pct_market"] == pytest.approx(50.0)
    assert table.loc["A", "pct_marketable_limit"] == pytest.approx(50.0)
    # a sell limit at 10.02 above the bid 10.00 was not marketable; the stop is "other"
    assert table.loc["B", "pct_non_marketable_limit"] == pytest.approx(50.0)
    assert table.loc["B", "pct_other"] == pytest.approx(50.0)
    assert table.loc["B", "net_fees"] == pytest.approx(0.10)
