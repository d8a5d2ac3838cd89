"""AlpacaBroker.account and positions against recorded responses.

Expected values are read from the recorded JSON in each test (not retyped), so a
mapping that drops, rounds or renames a field fails. Sources: the live account
(ccxt static test, 2024-12-10, cash account) and Alpaca's docs examples (margin
account, AAPL position); see recorded/SOURCES.md.
"""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from typing import Any

import pytest

from bifrost.adapters.brokers import AccountType, AlpacaBroker
from bifrost.core.errors import ProviderError

from .conftest import API_KEY, HOST, SECRET_KEY
from .replay import AlpacaReplayAdapter

Load = Callable[[str], Any]


def test_account_live_cash_account_maps_recorded_values(
    broker: AlpacaBroker, replay: AlpacaReplayAdapter, recorded: Load
) -> None:
    replay.serve("GET", "/v2/account", "alpaca/account_live_2024-12-10.json")
    raw = recorded("alpaca/account_live_2024-12-10.json")

    account = broker.account()

    assert account.account_id == raw["id"] == "43a01bee-67e3-4eb1-b2f1-65d1dc26ade5"
    assert account.account_number == raw["account_number"]
    assert account.status == raw["status"] == "ACTIVE"
    assert account.currency == raw["currency"]
    assert account.cash == Decimal(raw["cash"]) == Decimal("5.92")
    assert account.equity == Decimal(raw["equity"]) == Decimal("48.61")
    assert account.buying_power == Decimal(raw["buying_power"])
    assert account.daytrade_count == int(raw["daytrade_count"]) == 0  # recorded as the string "0"
    assert account.pattern_day_trader is raw["pattern_day_trader"] is False
    assert account.multiplier == Decimal(raw["multiplier"]) == 1
    assert account.account_type is AccountType.CASH  # the note: "cash account, multiplier 1"
    assert account.trading_blocked is False


def test_account_docs_example_maps_margin_account_with_negative_cash(
    broker: AlpacaBroker, replay: AlpacaReplayAdapter, recorded: Load
) -> None:
    replay.serve("GET", "/v2/account", "alpaca/account_docs_example.json")
    raw = recorded("alpaca/account_docs_example.json")

    account = broker.account()

    assert account.account_type is AccountType.MARGIN
    assert account.multiplier == Decimal(raw["multiplier"]) == 4
    assert account.cash == Decimal(raw["cash"]) == Decimal("-23140.2")
    assert account.equity == Decimal(raw["equity"])
    assert account.buying_power == Decimal(raw["buying_power"]) == Decimal("262113.632")  # not rounded
    assert account.account_id == raw["id"]


def test_account_sdk_payload_with_integer_daytrade_count_maps_count(
    broker: AlpacaBroker, replay: AlpacaReplayAdapter, recorded: Load
) -> None:
    # alpaca-py's own test payload sends daytrade_count as a JSON number, the docs as a string.
    replay.serve("GET", "/v2/account", "alpaca/account_alpaca-py_test.json")
    raw = recorded("alpaca/account_alpaca-py_test.json")

    account = broker.account()

    assert raw["daytrade_count"] == 0 and isinstance(raw["daytrade_count"], int)
    assert account.daytrade_count == 0
    assert account.cash == Decimal(raw["cash"])


def test_account_request_signs_with_keys_and_sets_timeout(
    broker: AlpacaBroker, replay: AlpacaReplayAdapter
) -> None:
    replay.serve("GET", "/v2/account", "alpaca/account_live_2024-12-10.json")

    broker.account()

    (call,) = replay.calls_to("GET", "/v2/account")
    assert call.host == HOST  # paper endpoint
    assert call.headers == {"APCA-API-KEY-ID": API_KEY, "APCA-API-SECRET-KEY": SECRET_KEY}
    assert call.timeout == 7.0  # alpaca-py sends none; the adapter's session adds it


def test_positions_docs_example_strips_trailing_space_from_symbol(
    broker: AlpacaBroker, replay: AlpacaReplayAdapter, recorded: Load
) -> None:
    # The docs example is one position object (GET /v2/positions/{symbol}); wrapped in a
    # list it stands for GET /v2/positions (SOURCES.md: no recorded positions list).
    raw = recorded("alpaca/position_docs_example.json")
    replay.serve_body("GET", "/v2/positions", [raw])

    (position,) = broker.positions()

    assert raw["symbol"] == "AAPL "
    assert position.symbol == "AAPL"
    assert position.quantity == Decimal(raw["qty"]) == 5
    assert position.avg_entry_price == Decimal(raw["avg_entry_price"])
    assert position.market_value == Decimal(raw["market_value"]) == Decimal("600.0")
    assert position.cost_basis == Decimal(raw["cost_basis"]) == Decimal("500.0")
    assert position.is_short is False


def test_positions_short_side_maps_negative_quantity(
    broker: AlpacaBroker, replay: AlpacaReplayAdapter, recorded: Load
) -> None:
    # DERIVED from the docs example: a short as Alpaca reports it (side "short",
    # negative qty and market value).
    raw = dict(recorded("alpaca/position_docs_example.json"), side="short", qty="-5", market_value="-600.0")
    replay.serve_body("GET", "/v2/positions", [raw])

    (position,) = broker.positions()

    assert position.quantity == Decimal("-5")
    assert position.market_value == Decimal("-600.0")
    assert position.is_short is True


def test_positions_empty_list_returns_no_positions(broker: AlpacaBroker, replay: AlpacaReplayAdapter) -> None:
    replay.serve_body("GET", "/v2/positions", [])

    assert broker.positions() == []
    assert len(replay.calls_to("GET", "/v2/positions")) == 1


@pytest.mark.parametrize("field", ["cash", "multiplier"])
def test_account_missing_field_raises_provider_error_naming_it(
    broker: AlpacaBroker, replay: AlpacaReplayAdapter, recorded: Load, field: str
) -> None:
    raw = recorded("alpaca/account_live_2024-12-10.json")
    del raw[field]
    replay.serve_body("GET", "/v2/account", raw)

    with pytest.raises(ProviderError) as caught:
        broker.account()

    assert str(caught.value) == f"Alpaca sent an account the adapter cannot read (KeyError: '{field}')"
