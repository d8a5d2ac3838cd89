"""A portfolio's risk limits adjust a strategy's targets in the persisted strategy runner
(``strategy_session``, behind ``bifrost portfolio run-strategy``) before its orders are made.

Expected order sizes are worked out here from the stored bars: whole shares toward zero of
(capped weight x equity / close of the bar the strategy acted on); equity is the deposit.
"""

from __future__ import annotations

import math
from datetime import UTC, datetime

import pytest

from bifrost.backtest.live import LiveRunner
from bifrost.backtest.strategy import Strategy
from bifrost.core.calendars import get_calendar
from bifrost.core.time import SimulatedClock
from bifrost_web.risk import services
from bifrost_web.trading import models as trading_models
from bifrost_web.trading import services as trading_services
from bifrost_web.trading.strategy_runner import strategy_session
from tests.risk.webdata import ingest_instruments

pytestmark = pytest.mark.django_db

DEPOSIT = 100_000.0


@pytest.fixture(autouse=True)
def _fresh_risk_caches():
    """Database ids are reused after each test's rollback: drop the risk layer's process caches."""
    yield
    from bifrost_web.risk import market

    market.clear_cache()


class _RebalanceOnce(Strategy):
    """Rebalances to fixed targets once the first live bars of all its symbols are in (the
    runner delivers them one symbol at a time, in the order of ``symbols``)."""

    targets: dict[str, float] = {}

    def on_bar(self, ctx, bar) -> None:
        if bar.symbol == max(self.targets) and not getattr(self, "_done", False):
            self._done = True
            ctx.rebalance(self.targets)


@pytest.fixture
def bars():
    return ingest_instruments(("AAA", "BBB", "CCC"))


@pytest.fixture
def portfolio(alice):
    portfolio = trading_services.portfolio_create(owner=alice, name="algo")
    trading_services.cash_flow_record(user=alice, portfolio_id=portfolio.pk, kind="deposit", amount=str(int(DEPOSIT)),
                                      ts_event=datetime(2024, 1, 2, 14, 0, tzinfo=UTC), entry_id="seed")
    return portfolio


def _run_one_bar(alice, portfolio, targets: dict[str, float], **session_kwargs):
    """Warm up to the close of 2024-03-27, then feed the 2024-03-28 bars: the strategy trades on them."""
    calendar = get_calendar("XNYS")
    clock = SimulatedClock(calendar.session_close("2024-03-27").to_pydatetime())
    strategy = _RebalanceOnce()
    strategy.targets = targets
    session, source = strategy_session(user=alice, portfolio_id=portfolio.pk, strategy=strategy,
                                       symbols=sorted(targets), history_bars=30, clock=clock, **session_kwargs)
    runner = LiveRunner(session, source)
    session.start()
    clock.advance_to(calendar.session_close("2024-03-28").to_pydatetime())
    runner.step()
    orders = {o.symbol: float(o.quantity) for o in trading_models.Order.objects.filter(portfolio=portfolio)}
    return session, orders


def test_runner_caps_40pct_target_at_portfolio_25pct_weight_limit(alice, portfolio, bars):
    services.limit_upsert(user=alice, portfolio_id=portfolio.pk, kind="position_weight", soft="0.2", hard="0.25")
    session, orders = _run_one_bar(alice, portfolio, {"AAA": 0.4})
    close = float(bars["AAA"]["close"].iloc[-1])  # the 2024-03-28 close
    assert orders == {"AAA": math.floor(0.25 * DEPOSIT / close)}
    assert math.floor(0.25 * DEPOSIT / close) < math.floor(0.4 * DEPOSIT / close)
    (entry,) = session.context.target_adjustments
    assert entry["adjustments"] == ["AAA: position weight cap, 40.00% -> 25.00%"]
    assert any(line.endswith("risk adjusted targets: AAA: position weight cap, 40.00% -> 25.00%")
               for line in session.context.logs)


def test_runner_scales_sector_names_pro_rata_under_sector_cap(alice, portfolio, bars):
    services.limit_upsert(user=alice, portfolio_id=portfolio.pk, kind="sector_weight", hard="0.3",
                          params={"sector": "Technology"})
    session, orders = _run_one_bar(alice, portfolio, {"AAA": 0.3, "BBB": 0.15, "CCC": 0.4})
    close = {s: float(b["close"].iloc[-1]) for s, b in bars.items()}
    # Technology (AAA, BBB) asks for 45 %, capped at 30 %: both x 30/45; Energy (CCC) is not capped
    assert orders == {"AAA": math.floor(0.2 * DEPOSIT / close["AAA"]),
                      "BBB": math.floor(0.1 * DEPOSIT / close["BBB"]),
                      "CCC": math.floor(0.4 * DEPOSIT / close["CCC"])}
    assert session.context.target_adjustments[0]["adjustments"] == ["sector Technology: 45.00% scaled to 30.00%"]


def test_runner_without_limit_set_keeps_targets(alice, portfolio, bars):
    close = float(bars["AAA"]["close"].iloc[-1])
    session, orders = _run_one_bar(alice, portfolio, {"AAA": 0.4})
    assert orders == {"AAA": math.floor(0.4 * DEPOSIT / close)} and session.context.target_adjuster is None


def test_runner_with_adjust_targets_off_leaves_target_to_the_pretrade_check(alice, portfolio, bars):
    services.limit_upsert(user=alice, portfolio_id=portfolio.pk, kind="position_weight", hard="0.25")
    session, orders = _run_one_bar(alice, portfolio, {"AAA": 0.4}, adjust_targets=False)
    # not adjusted: the 40 % order goes out and the pre-trade check rejects it (stored with the order)
    rejected = trading_models.Order.objects.get(portfolio=portfolio)
    assert orders == {"AAA": math.floor(0.4 * DEPOSIT / float(bars["AAA"]["close"].iloc[-1]))}
    assert rejected.status == "rejected" and rejected.reject_reason == "portfolio algo: AAA would be 40% of NAV, hard cap 25%"
    assert session.context.target_adjustments == []
