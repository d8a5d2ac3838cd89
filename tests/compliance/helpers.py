"""Small builders for compliance tests: trades on a trade date at 16:00 New York."""

from __future__ import annotations

from datetime import date, datetime, time
from decimal import Decimal
from zoneinfo import ZoneInfo

from bifrost.compliance import TaxTrade

NY = ZoneInfo("America/New_York")
_counter = {"n": 0}


def at(day: str, clock: str = "16:00") -> datetime:
    d = date.fromisoformat(day)
    return datetime.combine(d, time.fromisoformat(clock), tzinfo=NY)


def trade(trade_id: str, day: str, action: str, quantity, price, *, fees="0", account: str = "A",
          symbol: str = "X", clock: str = "16:00", **extra) -> TaxTrade:
    return TaxTrade(trade_id=trade_id, account=account, ts=at(day, clock), symbol=symbol, action=action,
                    quantity=Decimal(str(quantity)), price=Decimal(str(price)), fees=Decimal(str(fees)), **extra)
