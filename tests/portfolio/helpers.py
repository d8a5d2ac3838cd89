"""Builders for portfolio tests: fills and events with sensible defaults."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

from bifrost.orders import Fill, Side
from bifrost.portfolio import Deposit

# 15:00 UTC is 10:00 or 11:00 in New York: the trade date equals the UTC date.
T0 = datetime(2024, 3, 15, 15, 0, tzinfo=UTC)


def at(year: int, month: int, day: int, hour: int = 15, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=UTC)


def make_fill(fill_id: str, side: str, quantity: str | int, price: str, *, symbol: str = "AAPL",
              commission: str = "0", fees: str = "0", ts_event: datetime = T0, currency: str = "USD") -> Fill:
    return Fill(fill_id=fill_id, client_order_id=f"order-{fill_id}", symbol=symbol, side=Side(side),
                quantity=Decimal(str(quantity)), price=Decimal(price), ts_event=ts_event,
                commission=Decimal(commission), fees=Decimal(fees), currency=currency)


def make_deposit(amount: str, *, entry_id: str = "deposit-1", ts_event: datetime = T0,
                 currency: str = "USD") -> Deposit:
    return Deposit(entry_id=entry_id, ts_event=ts_event, amount=Decimal(amount), currency=currency)
