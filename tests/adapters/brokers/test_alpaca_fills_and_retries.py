"""AlpacaBroker fills (FILL activities) and the retry policy of idempotent reads.

The FILL activity is a live capture (ccxt static test, LTC/USD sell, 2022-12-28).
It names Alpaca's order id only; the order lookup that gives our client_order_id
is answered with a body DERIVED from the docs order example (fields set to that
fill's order). 429 and 503 answers are scripted: no recording of them exists.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pytest
import requests

from bifrost.adapters.brokers import AlpacaBroker
from bifrost.core.errors import (
    ConfigurationError,
    InvalidInput,
    NotFoundError,
    ProviderError,
    RateLimited,
    TransientProviderError,
)
from bifrost.orders.types import Liquidity, Side

from .replay import AlpacaReplayAdapter, SleepRecorder

Load = Callable[[str], Any]
OrderBody = Callable[..., dict[str, Any]]

FILLS = "/v2/account/activities/FILL"
FILL_ORDER_ID = "82eebcf7-6e66-4b7e-93f8-be0df0e4f12e"
SINCE = datetime(2022, 12, 28, tzinfo=UTC)


@pytest.fixture
def ltc_order(order_body: OrderBody) -> dict[str, Any]:
    # DERIVED: the docs example turned into the order behind the recorded fill.
    return order_body(id=FILL_ORDER_ID, client_order_id="bifrost-ltc-1", symbol="LTC/USD", asset_class="crypto",
                      side="sell", qty="0.07", notional=None, filled_qty="0.07", filled_avg_price="67.31",
                      status="filled", time_in_force="gtc")


def test_fills_live_fill_activity_maps_to_fill(
    broker: AlpacaBroker, replay: AlpacaReplayAdapter, recorded: Load, ltc_order: dict[str, Any]
) -> None:
    replay.serve("GET", FILLS, "alpaca/account_activities_FILL_live.json")
    replay.serve_body("GET", f"/v2/orders/{FILL_ORDER_ID}", ltc_order)
    (raw,) = recorded("alpaca/account_activities_FILL_live.json")

    (fill,) = broker.fills(SINCE)

    assert fill.fill_id == raw["id"]
    assert fill.client_order_id == "bifrost-ltc-1"
    assert fill.symbol == raw["symbol"] == "LTC/USD"
    assert fill.side is Side.SELL
    assert fill.quantity == Decimal(raw["qty"]) == Decimal("0.07")
    assert fill.price == Decimal(raw["price"]) == Decimal("67.31")
    assert fill.ts_event == datetime(2022, 12, 28, 12, 19, 29, 579352, tzinfo=UTC)  # raw["transaction_time"]
    assert (fill.commission, fill.fees, fill.liquidity) == (0, 0, Liquidity.TAKER)  # Alpaca reports none
    assert (fill.venue, fill.currency) == ("alpaca", "USD")
    (call,) = replay.calls_to("GET", FILLS)
    assert call.params == {"after": "2022-12-28T00:00:00+00:00", "direction": "asc", "page_size": "100"}


def test_fills_second_call_uses_remembered_client_order_id(
    broker: AlpacaBroker, replay: AlpacaReplayAdapter, ltc_order: dict[str, Any]
) -> None:
    replay.serve("GET", FILLS, "alpaca/account_activities_FILL_live.json")
    replay.serve_body("GET", f"/v2/orders/{FILL_ORDER_ID}", ltc_order)

    first = broker.fills(SINCE)
    second = broker.fills(SINCE)

    assert first == second
    assert len(replay.calls_to("GET", f"/v2/orders/{FILL_ORDER_ID}")) == 1


def test_fills_order_seen_before_needs_no_lookup(
    broker: AlpacaBroker, replay: AlpacaReplayAdapter, ltc_order: dict[str, Any]
) -> None:
    replay.serve_body("GET", "/v2/orders", [ltc_order], when={"status": "all"})
    replay.serve("GET", FILLS, "alpaca/account_activities_FILL_live.json")
    broker.list_orders("all")

    (fill,) = broker.fills(SINCE)

    assert fill.client_order_id == "bifrost-ltc-1"
    assert replay.calls_to("GET", f"/v2/orders/{FILL_ORDER_ID}") == []


def test_fills_full_page_fetches_next_page_with_page_token(
    broker: AlpacaBroker, replay: AlpacaReplayAdapter, recorded: Load, ltc_order: dict[str, Any]
) -> None:
    # DERIVED: a full first page of 100 copies of the live activity with distinct ids
    # and earlier times; the live file is the second page.
    (live,) = recorded("alpaca/account_activities_FILL_live.json")
    page = [dict(live, id=f"20221228071929{i:03d}::page-one-{i}", transaction_time=f"2022-12-28T11:{i // 60:02d}:{i % 60:02d}Z")
            for i in range(100)]
    replay.serve_body("GET", FILLS, page)
    replay.serve("GET", FILLS, "alpaca/account_activities_FILL_live.json", when={"page_token": page[-1]["id"]})
    replay.serve_body("GET", f"/v2/orders/{FILL_ORDER_ID}", ltc_order)

    fills = broker.fills(SINCE)

    assert len(fills) == 101
    assert fills[-1].fill_id == live["id"]
    assert [f.ts_event for f in fills] == sorted(f.ts_event for f in fills)


def test_fills_naive_since_raises_invalid_input_without_request(
    broker: AlpacaBroker, replay: AlpacaReplayAdapter
) -> None:
    with pytest.raises(InvalidInput) as caught:
        broker.fills(datetime(2022, 12, 28))

    assert str(caught.value) == "since must be timezone-aware, was naive 2022-12-28T00:00:00"
    assert replay.calls == []


def test_fills_order_lookup_404_raises_not_found(
    broker: AlpacaBroker, replay: AlpacaReplayAdapter, recorded: Load
) -> None:
    not_found = recorded("alpaca/cancel_all_orders_207_multistatus.json")[1]["body"]
    replay.serve("GET", FILLS, "alpaca/account_activities_FILL_live.json")
    replay.serve_body("GET", f"/v2/orders/{FILL_ORDER_ID}", not_found, status=404)

    with pytest.raises(NotFoundError) as caught:
        broker.fills(SINCE)

    assert str(caught.value) == (
        f"Alpaca has no order {FILL_ORDER_ID} (named by a fill): order not found (HTTP 404, code 40410000)")


# ---------------------------------------------------------------- retries of idempotent reads


def test_account_429_then_503_then_success_backs_off_exponentially(
    broker: AlpacaBroker, replay: AlpacaReplayAdapter, sleeps: SleepRecorder, recorded: Load
) -> None:
    replay.script("GET", "/v2/account", [429, 503])
    replay.serve("GET", "/v2/account", "alpaca/account_live_2024-12-10.json")

    account = broker.account()

    assert account.cash == Decimal(recorded("alpaca/account_live_2024-12-10.json")["cash"])
    assert [c.answer for c in replay.calls] == ["script-429", "script-503", "alpaca/account_live_2024-12-10.json"]
    assert sleeps.delays == [0.5, 1.0]


def test_positions_429_every_time_raises_rate_limited_after_retries(
    broker: AlpacaBroker, replay: AlpacaReplayAdapter, sleeps: SleepRecorder
) -> None:
    replay.script("GET", "/v2/positions", [429, 429, 429, 429])

    with pytest.raises(RateLimited) as caught:
        broker.positions()

    assert str(caught.value) == "Alpaca rate-limited the request for the positions: Too Many Requests (HTTP 429)"
    assert caught.value.retryable
    assert caught.value.details["attempts"] == 4
    assert len(replay.calls) == 4  # alpaca-py's own 429 retry is off: ours only
    assert sleeps.delays == [0.5, 1.0, 2.0]


def test_get_order_timeout_then_success_retries(
    broker: AlpacaBroker, replay: AlpacaReplayAdapter, sleeps: SleepRecorder
) -> None:
    replay.script("GET", "/v2/orders:by_client_order_id", [requests.exceptions.ConnectTimeout("connect timed out")])
    replay.serve("GET", "/v2/orders:by_client_order_id", "alpaca/order_docs_example.json")

    order = broker.get_order("eb9e2aaa-f71a-4f51-b5b4-52a6c565dad4")

    assert order.broker_order_id == "61e69015-8549-4bfd-b9c3-01e75843f47d"
    assert sleeps.delays == [0.5]


def test_fills_502_then_success_retries(
    broker: AlpacaBroker, replay: AlpacaReplayAdapter, sleeps: SleepRecorder, ltc_order: dict[str, Any]
) -> None:
    replay.script("GET", FILLS, [502])
    replay.serve("GET", FILLS, "alpaca/account_activities_FILL_live.json")
    replay.serve_body("GET", f"/v2/orders/{FILL_ORDER_ID}", ltc_order)

    assert len(broker.fills(SINCE)) == 1
    assert sleeps.delays == [0.5]


def test_account_404_is_not_retried(
    broker: AlpacaBroker, replay: AlpacaReplayAdapter, sleeps: SleepRecorder
) -> None:
    replay.script("GET", "/v2/account", [404])

    with pytest.raises(NotFoundError):
        broker.account()

    assert len(replay.calls) == 1
    assert sleeps.delays == []


def test_account_non_json_200_raises_provider_error(
    broker: AlpacaBroker, replay: AlpacaReplayAdapter
) -> None:
    replay.script("GET", "/v2/account", [200])  # plain-text "OK": a proxy page, not Alpaca

    with pytest.raises(ProviderError) as caught:
        broker.account()

    assert not isinstance(caught.value, TransientProviderError)
    assert str(caught.value).startswith("The request to Alpaca for the account failed (JSONDecodeError:")


# ---------------------------------------------------------------- construction


def test_broker_missing_secret_raises_configuration_error() -> None:
    with pytest.raises(ConfigurationError) as caught:
        AlpacaBroker(api_key="PK", secret_key="")

    assert str(caught.value) == (
        "Alpaca credentials are incomplete: A corresponding secret_key must be supplied with the api_key")


def test_broker_negative_retries_raises_invalid_input() -> None:
    with pytest.raises(InvalidInput) as caught:
        AlpacaBroker(api_key="PK", secret_key="s", max_retries=-1)

    assert str(caught.value) == "max_retries must be a non-negative integer, was -1"


def test_broker_submit_non_order_raises_invalid_input(broker: AlpacaBroker, replay: AlpacaReplayAdapter) -> None:
    with pytest.raises(InvalidInput) as caught:
        broker.submit({"symbol": "AAPL"})  # type: ignore[arg-type]

    assert str(caught.value) == "order must be an OrderRequest, was dict"
    assert replay.calls == []
