"""A strategy running on a stored paper portfolio persists its orders and fills, and trades
exactly as the backtest of the same bars does."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import ROUND_HALF_EVEN, Decimal

import pandas as pd
import pytest
from django.contrib.auth import get_user_model

from bifrost.backtest import run, strategy_class
from bifrost.backtest.live import LiveRunner
from bifrost.core.calendars import get_calendar
from bifrost.core.errors import InvalidInput, NotFoundError
from bifrost.core.time import SimulatedClock
from bifrost.marketdata.synthetic import generate_bars
from bifrost_web.marketdata import services as md_services
from bifrost_web.trading import models, services
from bifrost_web.trading.strategy_runner import strategy_session

pytestmark = pytest.mark.django_db


@pytest.fixture
def setup():
    user = get_user_model().objects.create_user("quant", password="pw-quant-123456")
    bars = generate_bars(symbol="ACME", start=date(2022, 1, 3), end=date(2022, 9, 30), timeframe="1d", seed=13)
    md_services.bars_ingest(symbol="ACME", timeframe="1d", bars=bars, source="test")
    portfolio = services.portfolio_create(owner=user, name="algo")
    services.cash_flow_record(user=user, portfolio_id=portfolio.pk, kind="deposit", amount="100000",
                              ts_event=datetime(2022, 1, 1, tzinfo=UTC), entry_id="seed")
    return user, portfolio, bars


def test_strategy_on_a_stored_portfolio_trades_like_its_backtest(setup):
    user, portfolio, bars = setup
    calendar = get_calendar("XNYS")
    closes = [calendar.session_close(ts.tz_localize(None)) for ts in bars.index]
    warmup = 20
    clock = SimulatedClock(closes[warmup - 1].to_pydatetime())
    session, source = strategy_session(user=user, portfolio_id=portfolio.pk,
                                       strategy=strategy_class("sma_crossover")(fast=5, slow=20),
                                       symbols=["ACME"], history_bars=warmup, clock=clock)
    runner = LiveRunner(session, source)
    session.start()
    for close in closes[warmup:]:
        clock.advance_to(close.to_pydatetime())
        runner.step()
    stored = list(models.Fill.objects.filter(portfolio=portfolio).order_by("ts_event", "id"))
    backtest = run("sma_crossover", {"ACME": bars}, params={"fast": 5, "slow": 20})
    assert len(stored) == len(backtest.fills) > 4
    for row, (ts, side, price) in zip(stored, backtest.fills[["ts", "side", "price"]].itertuples(index=False),
                                      strict=True):
        assert (row.ts_event, row.side, float(row.price)) == (ts.to_pydatetime(), side, price)
    # every order was persisted with its events, and the ledger agrees with the fills
    orders = models.Order.objects.filter(portfolio=portfolio)
    assert orders.count() == len(backtest.orders)
    assert all(o.events.filter(kind="submitted").exists() for o in orders)
    portfolio.refresh_from_db()
    held = float(pd.to_numeric(pd.Series(portfolio.position_quantities)).sum()) if portfolio.position_quantities else 0
    assert held == pytest.approx(sum(100 if s == "buy" else -100 for s in backtest.fills["side"]))
    cash = Decimal(100_000)
    for side, price, quantity in backtest.fills[["side", "price", "quantity"]].itertuples(index=False):
        notional = (Decimal(repr(price)) * Decimal(repr(quantity))).quantize(Decimal("0.01"), ROUND_HALF_EVEN)
        cash += -notional if side == "buy" else notional
    assert services.ledger_for(portfolio).cash() == cash


def test_strategy_session_refuses_bad_requests(setup):
    user, portfolio, bars = setup
    clock = SimulatedClock(datetime(2022, 6, 1, 21, tzinfo=UTC))
    other = get_user_model().objects.create_user("mallory", password="pw-mallory-123456")
    with pytest.raises(NotFoundError):
        strategy_session(user=other, portfolio_id=portfolio.pk, strategy=strategy_class("sma_crossover")(),
                         symbols=["ACME"], clock=clock)
    with pytest.raises(InvalidInput, match="at least one symbol"):
        strategy_session(user=user, portfolio_id=portfolio.pk, strategy=strategy_class("sma_crossover")(),
                         symbols=[], clock=clock)
    early = SimulatedClock(datetime(2021, 1, 1, tzinfo=UTC))
    with pytest.raises(InvalidInput, match="no closed 1d bars of ACME"):
        strategy_session(user=user, portfolio_id=portfolio.pk, strategy=strategy_class("sma_crossover")(),
                         symbols=["ACME"], clock=early)
