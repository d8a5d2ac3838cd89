"""Broker value types: construction validates and fails fast."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

import pytest

from bifrost.adapters.brokers import (
    AccountType,
    BrokerAccount,
    BrokerOrder,
    BrokerPosition,
    CancelResult,
)
from bifrost.core.errors import InvalidInput
from bifrost.orders.types import OrderStatus


def _order(**changes: Any) -> BrokerOrder:
    fields: dict[str, Any] = dict(client_order_id="c-1", broker_order_id="b-1", symbol=" aapl ", side="buy",
                                  quantity="10", filled_quantity="4", avg_fill_price="101.25",
                                  status="partially_filled", order_type="limit", time_in_force="day",
                                  limit_price="101.5")
    fields.update(changes)
    return BrokerOrder(**fields)


def _account(**changes: Any) -> BrokerAccount:
    fields: dict[str, Any] = dict(account_id="a-1", account_number="123", status="ACTIVE", currency="usd",
                                  cash="10", equity="10", buying_power="20", daytrade_count=0,
                                  pattern_day_trader=False, multiplier="2", account_type="margin")
    fields.update(changes)
    return BrokerAccount(**fields)


def test_broker_order_strings_parse_to_domain_types() -> None:
    order = _order()

    assert order.symbol == "AAPL"
    assert (order.quantity, order.filled_quantity, order.limit_price) == (Decimal(10), Decimal(4), Decimal("101.5"))
    assert order.status is OrderStatus.PARTIALLY_FILLED
    assert order.remaining_quantity == Decimal(6)


def test_broker_order_filled_above_quantity_raises_invalid_input() -> None:
    with pytest.raises(InvalidInput) as caught:
        _order(filled_quantity="11")

    assert str(caught.value) == "filled_quantity must not exceed quantity, was 11 of 10 (order 'c-1')"


def test_broker_order_without_quantity_or_notional_raises_invalid_input() -> None:
    with pytest.raises(InvalidInput) as caught:
        _order(quantity=None, filled_quantity="0")

    assert str(caught.value) == "order 'c-1' needs a quantity or a notional amount"


def test_broker_order_naive_timestamp_raises_invalid_input() -> None:
    with pytest.raises(InvalidInput) as caught:
        _order(submitted_at=datetime(2024, 1, 2, 14, 30))

    assert str(caught.value) == "submitted_at must be timezone-aware, was naive 2024-01-02T14:30:00"


def test_broker_order_float_price_raises_invalid_input() -> None:
    with pytest.raises(InvalidInput) as caught:
        _order(limit_price=101.5)

    assert str(caught.value) == "limit_price must be given as str, int or Decimal (not float): 101.5"


def test_broker_account_type_contradicting_multiplier_raises_invalid_input() -> None:
    with pytest.raises(InvalidInput) as caught:
        _account(multiplier="1", account_type=AccountType.MARGIN)

    assert str(caught.value) == "account_type margin contradicts multiplier 1"


def test_broker_account_currency_is_upper_cased() -> None:
    assert _account().currency == "USD"


def test_broker_position_negative_quantity_is_short() -> None:
    position = BrokerPosition(symbol="TSLA", quantity=Decimal("-5"), avg_entry_price=Decimal("200"),
                              market_value=None, cost_basis=Decimal("-1000"))

    assert position.is_short and position.quantity == Decimal(-5)


def test_cancel_result_non_2xx_is_not_ok() -> None:
    assert [CancelResult(broker_order_id="b", http_status=s).ok for s in (200, 204, 404, 500)] == [
        True, True, False, False]
