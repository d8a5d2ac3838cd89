"""Limits and pre-trade checks: every kind at, just below and just above its level, the message
format, risk-reducing orders, the PreTradeChain integration and target-level use."""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats

from bifrost.core.errors import InvalidInput
from bifrost.orders.pretrade import Decision, PreTradeChain, PreTradeContext
from bifrost.orders.types import OrderRequest
from bifrost.risk import (
    Limit,
    LimitKind,
    LimitSet,
    RiskBook,
    RiskLimitCheck,
    apply_limits_to_targets,
)

NOW = datetime(2024, 3, 1, 15, 0, tzinfo=UTC)
SYMBOLS = ("AAPL", "MSFT", "XOM")
SD = np.array([0.02, 0.015, 0.018])
CORR = np.array([[1.0, 0.6, 0.2], [0.6, 1.0, 0.3], [0.2, 0.3, 1.0]])
COV = np.outer(SD, SD) * CORR


def _book(**overrides) -> RiskBook:
    params = dict(
        nav=1_000_000, quantities={"AAPL": 1000, "MSFT": 500, "XOM": 1000},
        prices={"AAPL": 100.0, "MSFT": 200.0, "XOM": 50.0},
        sectors={"AAPL": "Technology", "MSFT": "Technology", "XOM": "Energy"},
        industries={"AAPL": "Consumer Electronics", "MSFT": "Software", "XOM": "Oil & Gas"},
        adv={"AAPL": 10_000, "MSFT": 8_000, "XOM": 20_000}, covariance=COV, covariance_symbols=SYMBOLS,
        day_start_nav=1_020_000, high_water_mark=1_100_000, trailing_high_water_mark=1_050_000,
        recent_orders=[NOW - timedelta(seconds=s) for s in (5, 10, 30, 59, 61, 3600)])
    params.update(overrides)
    return RiskBook(**params)


def _var_after(factor: float) -> float:
    v = np.array([120_000.0, 100_000.0, 50_000.0])  # after buying 200 AAPL at 100
    return factor * math.sqrt(v @ COV @ v) / 1_000_000


def _correlation_aapl_with_rest() -> float:
    rest = np.array([0.0, 100_000.0, 50_000.0])
    cross = COV[0] @ rest
    return cross / math.sqrt(COV[0, 0] * (rest @ COV @ rest))


Z99 = stats.norm.ppf(0.99)
# the value each limit measures after BUY 200 AAPL at 100, worked out by hand
EXPECTED = {
    LimitKind.POSITION_WEIGHT: 0.12,
    LimitKind.POSITION_NOTIONAL: 120_000.0,
    LimitKind.POSITION_SHARES: 1200.0,
    LimitKind.ADV_PARTICIPATION: 0.02,
    LimitKind.SECTOR_WEIGHT: 0.22,
    LimitKind.INDUSTRY_WEIGHT: 0.12,
    LimitKind.GROSS_EXPOSURE: 270_000.0,
    LimitKind.NET_EXPOSURE: 270_000.0,
    LimitKind.LEVERAGE: 0.27,
    LimitKind.VAR: _var_after(Z99),
    LimitKind.CVAR: _var_after(stats.norm.pdf(Z99) / 0.01),
    LimitKind.CORRELATION: _correlation_aapl_with_rest(),
    LimitKind.DAILY_LOSS: 20_000 / 1_020_000,
    LimitKind.TRAILING_DRAWDOWN: 1 - 1_000_000 / 1_050_000,
    LimitKind.MAX_DRAWDOWN: 1 - 1_000_000 / 1_100_000,
    LimitKind.ORDER_RATE: 5.0,  # four in the last 60 s, plus this one
}


def _evaluate(limit: Limit, book: RiskBook | None = None, quantity: float = 200):
    return LimitSet((limit,), scope="portfolio 7").evaluate(book or _book(), symbol="AAPL", quantity=quantity,
                                                            price=100.0, now=NOW)


@pytest.mark.parametrize("kind", list(EXPECTED), ids=[k.value for k in EXPECTED])
def test_hard_level_at_below_and_above_the_boundary(kind):
    value = EXPECTED[kind]
    at = _evaluate(Limit(kind=kind, hard=value))
    cap_just_above_value = _evaluate(Limit(kind=kind, hard=value * (1 + 1e-9)))
    cap_just_below_value = _evaluate(Limit(kind=kind, hard=value * (1 - 1e-9)))
    assert at.decision is Decision.ACCEPT, at.messages
    assert cap_just_above_value.decision is Decision.ACCEPT
    assert cap_just_below_value.decision is Decision.REJECT
    finding = cap_just_below_value.findings[0]
    assert finding.rule == kind.value and finding.numbers["value"] == pytest.approx(value, rel=1e-9)


@pytest.mark.parametrize("kind", list(EXPECTED), ids=[k.value for k in EXPECTED])
def test_soft_level_warns_and_hard_level_above_does_not_block(kind):
    value = EXPECTED[kind]
    result = _evaluate(Limit(kind=kind, soft=value * (1 - 1e-9), hard=value * 2 if kind is not LimitKind.CORRELATION
                             else 1.0))
    assert result.decision is Decision.WARN and result.findings[0].severity is Decision.WARN


def test_issue_message_format_for_sector_cap():
    limits = LimitSet((Limit(kind="sector_weight", soft=0.25, hard=0.30),), scope="portfolio 7")
    result = limits.evaluate(_book(), symbol="AAPL", quantity=1120, price=100.0, now=NOW)  # Tech 312k of 1m
    assert result.decision is Decision.REJECT
    assert result.messages == ["portfolio 7: sector Technology would be 31.2% of NAV, hard cap 30%"]
    assert result.findings[0].numbers["sector"] == "Technology"


def test_every_breached_rule_is_reported():
    limits = LimitSet((Limit(kind="position_weight", hard=0.1), Limit(kind="sector_weight", soft=0.2),
                       Limit(kind="adv_participation", hard=0.01), Limit(kind="leverage", hard=2)))
    result = limits.evaluate(_book(), symbol="AAPL", quantity=200, price=100.0, now=NOW)
    assert result.decision is Decision.REJECT
    assert [(f.rule, f.severity.value) for f in result.findings] == [
        ("position_weight", "reject"), ("sector_weight", "warn"), ("adv_participation", "reject")]


def test_risk_reducing_order_passes_a_breached_position_limit():
    limits = LimitSet((Limit(kind="position_weight", hard=0.05), Limit(kind="sector_weight", hard=0.1),
                       Limit(kind="var", hard=0.001)))
    sell = limits.evaluate(_book(), symbol="AAPL", quantity=-100, price=100.0, now=NOW)
    buy = limits.evaluate(_book(), symbol="AAPL", quantity=1, price=100.0, now=NOW)
    assert sell.decision is Decision.ACCEPT
    assert {f.rule for f in buy.findings} == {"position_weight", "sector_weight", "var"}


def test_restricted_list_blocks_and_watch_list_warns():
    limit = Limit(kind="restricted_symbols", params={"symbols": ["aapl"], "warn_symbols": ["XOM"]})
    assert _evaluate(limit).messages == ["portfolio 7: AAPL is on the restricted list"]
    xom = LimitSet((limit,)).evaluate(_book(), symbol="XOM", quantity=1, price=50.0, now=NOW)
    assert xom.decision is Decision.WARN


def test_missing_inputs_warn_instead_of_passing_silently():
    book = _book(covariance=None, covariance_symbols=(), adv={}, sectors={})
    limits = LimitSet((Limit(kind="var", hard=0.5), Limit(kind="adv_participation", hard=0.5),
                       Limit(kind="sector_weight", hard=0.5)))
    result = limits.evaluate(book, symbol="AAPL", quantity=10, price=100.0, now=NOW)
    assert result.decision is Decision.WARN
    assert all("not evaluated" in m for m in result.messages) and len(result.findings) == 3


def test_one_group_limit_applies_to_that_group_only():
    limit = Limit(kind="sector_weight", hard=0.01, params={"sector": "Energy"})
    assert _evaluate(limit).decision is Decision.ACCEPT  # AAPL is Technology
    energy = LimitSet((limit,)).evaluate(_book(), symbol="XOM", quantity=10, price=50.0, now=NOW)
    assert energy.decision is Decision.REJECT


@pytest.mark.parametrize(("kwargs", "fragment"), [
    ({"kind": "position_weight"}, "needs a soft or a hard level"),
    ({"kind": "position_weight", "soft": 0.3, "hard": 0.2}, "must not exceed the hard level"),
    ({"kind": "gamma", "hard": 1}, "unknown limit kind 'gamma'"),
    ({"kind": "leverage", "hard": -1}, "finite non-negative"),
    ({"kind": "correlation", "hard": 1.5}, "at most 1"),
    ({"kind": "restricted_symbols"}, "needs params symbols"),
])
def test_bad_limits_are_refused(kwargs, fragment):
    with pytest.raises(InvalidInput, match=fragment):
        Limit(**kwargs)


def test_risk_limit_check_runs_in_the_pretrade_chain():
    chain = PreTradeChain([RiskLimitCheck(LimitSet((Limit(kind="position_weight", soft=0.1, hard=0.15),),
                                                   scope="household Smith"), _book())])
    context = PreTradeContext(portfolio_id="7", now=NOW, last_prices={"AAPL": 100})
    warn = chain.check(OrderRequest(client_order_id="a", symbol="AAPL", side="buy", quantity="200"), context)
    reject = chain.check(OrderRequest(client_order_id="b", symbol="AAPL", side="buy", quantity="600"), context)
    short_sale = chain.check(OrderRequest(client_order_id="c", symbol="AAPL", side="sell", quantity="2500"),
                             context)
    assert warn.decision is Decision.WARN and warn.messages == [
        "household Smith: AAPL would be 12% of NAV, soft limit 10%"]
    assert reject.decision is Decision.REJECT
    # 1,000 long to 1,500 short: |15%| is at the hard cap (passes) and above the soft level (warns)
    assert short_sale.decision is Decision.WARN and short_sale.findings[0].numbers["value"] == pytest.approx(0.15)


def test_targets_are_capped_and_scaled():
    limits = LimitSet((Limit(kind="position_weight", hard=0.3), Limit(kind="sector_weight", hard=0.5),
                       Limit(kind="leverage", hard=0.9), Limit(kind="restricted_symbols", params={"symbols": ["XOM"]})))
    targets = {"AAPL": 0.4, "MSFT": 0.35, "XOM": 0.1, "JPM": 0.15}
    sectors = {"AAPL": "Technology", "MSFT": "Technology", "XOM": "Energy", "JPM": "Financials"}
    result = apply_limits_to_targets(targets, limits, nav=1e6, sectors=sectors)
    # AAPL and MSFT capped at 0.3 each, Tech 0.6 scaled to 0.5 (0.25 each); XOM 0; gross 0.65 < 0.9
    assert result.weights == pytest.approx({"AAPL": 0.25, "MSFT": 0.25, "XOM": 0.0, "JPM": 0.15})
    assert any("restricted" in note for note in result.adjustments)


def test_targets_scaled_to_var_budget():
    limits = LimitSet((Limit(kind="var", hard=0.01),))
    targets = {"AAPL": 0.5, "MSFT": 0.5}
    result = apply_limits_to_targets(targets, limits, nav=1e6, covariance=COV[:2, :2],
                                     covariance_symbols=("AAPL", "MSFT"))
    w = np.array([result.weights["AAPL"], result.weights["MSFT"]])
    assert Z99 * math.sqrt(w @ COV[:2, :2] @ w) == pytest.approx(0.01, rel=1e-12)


@settings(max_examples=60, deadline=None)
@given(st.dictionaries(st.sampled_from(["A", "B", "C", "D", "E"]), st.floats(-1.0, 1.0), min_size=1))
def test_adjusted_targets_always_meet_the_caps(targets):
    limits = LimitSet((Limit(kind="position_weight", hard=0.2), Limit(kind="sector_weight", hard=0.35),
                       Limit(kind="leverage", hard=1.0), Limit(kind="net_exposure", hard=400_000)))
    sectors = {"A": "X", "B": "X", "C": "Y", "D": "Y", "E": "Z"}
    weights = apply_limits_to_targets(targets, limits, nav=1e6, sectors=sectors).weights
    assert all(abs(w) <= 0.2 + 1e-12 for w in weights.values())
    for sector in "XYZ":
        assert sum(abs(w) for s, w in weights.items() if sectors[s] == sector) <= 0.35 + 1e-12
    assert sum(abs(w) for w in weights.values()) <= 1.0 + 1e-12
    assert abs(sum(weights.values())) <= 0.4 + 1e-12


def test_limit_usage_reports_largest_user_and_status():
    from bifrost.risk import limit_usage

    limits = LimitSet((Limit(kind="position_weight", soft=0.05, hard=0.2), Limit(kind="sector_weight", hard=0.2),
                       Limit(kind="max_drawdown", soft=0.05, hard=0.1), Limit(kind="order_rate", hard=10),
                       Limit(kind="restricted_symbols", params={"symbols": ["XOM"]})))
    rows = {row["kind"]: row for row in limit_usage(limits, _book())}
    assert rows["position_weight"]["subject"] in ("AAPL", "MSFT") and rows["position_weight"]["status"] == "soft"
    assert rows["position_weight"]["usage"] == pytest.approx(0.1 / 0.2)
    assert rows["sector_weight"]["subject"] == "Technology" and rows["sector_weight"]["status"] == "ok"
    assert rows["sector_weight"]["usage"] == pytest.approx(1.0)  # exactly at the cap
    assert rows["max_drawdown"]["value"] == pytest.approx(1 - 1 / 1.1) and rows["max_drawdown"]["status"] == "soft"
    assert rows["order_rate"]["status"] == "n/a"
    assert rows["restricted_symbols"]["status"] == "hard" and rows["restricted_symbols"]["subject"] == "XOM"
