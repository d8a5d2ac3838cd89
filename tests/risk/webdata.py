"""Builders shared by the risk web tests (tests/web/test_risk_*.py): instruments with bars, funded
portfolios with filled positions, API clients."""

from __future__ import annotations

from datetime import UTC, date, datetime

from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from bifrost.core.time import SimulatedClock
from bifrost.marketdata.types import InstrumentInfo
from bifrost.orders import OrderRequest
from tests.factories import xnys_daily_bars

INSTRUMENTS = {
    "AAA": ("Technology", "Software", 0, 100.0),
    "BBB": ("Technology", "Semiconductors", 1, 50.0),
    "CCC": ("Energy", "Oil & Gas", 2, 80.0),
    "DDD": ("Financials", "Banks", 3, 40.0),
}
ORDER_TIME = datetime(2024, 3, 1, 15, 0, tzinfo=UTC)  # 10:00 New York, market open


def ingest_instruments(symbols=tuple(INSTRUMENTS)) -> dict[str, object]:
    from bifrost_web.marketdata import services as md_services
    from bifrost_web.risk import market

    market.clear_cache()
    bars = {}
    for symbol in symbols:
        sector, industry, seed, price = INSTRUMENTS[symbol]
        frame = xnys_daily_bars("2023-01-03", "2024-03-28", seed=seed, price=price)
        md_services.bars_ingest(symbol=symbol, timeframe="1d", bars=frame, source="test",
                                instrument_info=InstrumentInfo(symbol=symbol, sector=sector, industry=industry,
                                                               country="United States"))
        bars[symbol] = frame
    return bars


def client_for(user) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {Token.objects.get_or_create(user=user)[0].key}")
    return client


def funded_portfolio(owner, name: str, *, cash: str = "100000", buys: dict[str, str] | None = None,
                     household: str | None = None):
    """A cash portfolio with a deposit and paper buys filled on the next session's bars."""
    from bifrost_web.trading import services

    portfolio = services.portfolio_create(owner=owner, name=name, household=household)
    services.cash_flow_record(user=owner, portfolio_id=portfolio.pk, kind="deposit", amount=cash,
                              ts_event=datetime(2024, 1, 2, 14, 0, tzinfo=UTC), entry_id=f"dep-{name}")
    for i, (symbol, quantity) in enumerate((buys or {}).items()):
        services.order_submit(user=owner, portfolio_id=portfolio.pk,
                              request=OrderRequest(client_order_id=f"{name}-b{i}", symbol=symbol, side="buy",
                                                   quantity=quantity, time_in_force="gtc"),
                              clock=SimulatedClock(datetime(2024, 1, 2, 15, 0, tzinfo=UTC)))
    if buys:
        services.paper_process(portfolio_id=portfolio.pk, until=datetime(2024, 1, 10, tzinfo=UTC))
    portfolio.refresh_from_db()
    return portfolio


def last_close(bars, symbol: str) -> float:
    return float(bars[symbol]["close"].iloc[-1])


def session(day: str) -> date:
    return date.fromisoformat(day)
