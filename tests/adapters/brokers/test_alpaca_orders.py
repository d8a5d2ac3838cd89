"""AlpacaBroker orders: request mapping, order mapping, status mapping, cancel, replace, bulk calls.

The only order bodies available are Alpaca's docs example (a notional market buy,
status accepted) and the order inside the close-all 207 body (crypto, pending_new);
there is no live orders list (SOURCES.md, Gaps). Where a test needs another order
state or type, it changes fields of the docs example (``order_body`` fixture) and
says so.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pytest
import requests

from bifrost.adapters.brokers import (
    ALPACA_ORDER_STATUSES,
    AlpacaBroker,
    BrokerAuthenticationFailed,
    OrderRejected,
    order_status_from_alpaca,
)
from bifrost.core.errors import (
    InvalidInput,
    NotFoundError,
    PermissionDenied,
    ProviderError,
    TransientProviderError,
)
from bifrost.orders.types import OrderRequest, OrderStatus, OrderType, Side, TimeInForce

from .replay import AlpacaReplayAdapter, Reply, SleepRecorder

Load = Callable[[str], Any]
OrderBody = Callable[..., dict[str, Any]]

DOCS_ORDER_ID = "61e69015-8549-4bfd-b9c3-01e75843f47d"
DOCS_CLIENT_ID = "eb9e2aaa-f71a-4f51-b5b4-52a6c565dad4"
BY_CLIENT_ID = "/v2/orders:by_client_order_id"


def _limit_order(**changes: Any) -> OrderRequest:
    fields: dict[str, Any] = dict(client_order_id="c-1", symbol="AAPL", side=Side.BUY, quantity=Decimal("100"),
                                  order_type=OrderType.LIMIT, limit_price=Decimal("290.12"))
    fields.update(changes)
    return OrderRequest(**fields)


# ---------------------------------------------------------------- order mapping


def test_list_orders_docs_example_wrapped_in_list_maps_every_field(
    broker: AlpacaBroker, replay: AlpacaReplayAdapter, recorded: Load
) -> None:
    raw = recorded("alpaca/order_docs_example.json")
    replay.serve_body("GET", "/v2/orders", [raw])  # SOURCES.md: wrap the docs example in a list

    (order,) = broker.list_orders()

    assert order.client_order_id == raw["client_order_id"] == DOCS_CLIENT_ID
    assert order.broker_order_id == raw["id"] == DOCS_ORDER_ID
    assert order.symbol == raw["symbol"] == "AAPL"
    assert order.side is Side.BUY
    assert raw["qty"] is None and order.quantity is None  # a notional order
    assert order.notional == Decimal(raw["notional"]) == 500
    assert order.filled_quantity == Decimal(raw["filled_qty"]) == 0
    assert order.avg_fill_price is None
    assert order.status is OrderStatus.ACCEPTED
    assert order.broker_status == raw["status"] == "accepted"
    assert order.order_type is OrderType.MARKET
    assert order.time_in_force is TimeInForce.DAY
    assert order.limit_price is None and order.stop_price is None
    assert order.submitted_at == datetime(2021, 3, 16, 18, 38, 1, 937734, tzinfo=UTC)  # raw["submitted_at"]
    assert order.updated_at == datetime(2021, 3, 16, 18, 38, 1, 942282, tzinfo=UTC)
    assert order.remaining_quantity is None


def test_list_orders_default_asks_for_open_orders_newest_first(
    broker: AlpacaBroker, replay: AlpacaReplayAdapter
) -> None:
    replay.serve_body("GET", "/v2/orders", [])

    assert broker.list_orders() == []

    (call,) = replay.calls_to("GET", "/v2/orders")
    assert call.params == {"status": "open", "limit": "500", "direction": "desc"}


def test_list_orders_all_sends_status_all(
    broker: AlpacaBroker, replay: AlpacaReplayAdapter, recorded: Load
) -> None:
    replay.serve_body("GET", "/v2/orders", [recorded("alpaca/order_docs_example.json")], when={"status": "all"})

    orders = broker.list_orders("all")

    assert [o.broker_order_id for o in orders] == [DOCS_ORDER_ID]


def test_list_orders_full_page_fetches_next_page_until_oldest(
    broker: AlpacaBroker, replay: AlpacaReplayAdapter, order_body: OrderBody
) -> None:
    # DERIVED: 500 copies of the docs example with distinct ids and submission
    # times one second apart (the page limit), then one older order.
    page = [order_body(id=f"00000000-0000-0000-0000-{i:012d}", client_order_id=f"c-{i}",
                       submitted_at=f"2021-03-16T18:{i // 60 % 60:02d}:{i % 60:02d}Z")
            for i in range(500)]
    page.sort(key=lambda o: o["submitted_at"], reverse=True)
    replay.serve_body("GET", "/v2/orders", page)
    replay.serve_body("GET", "/v2/orders", [order_body()], when={"until": "2021-03-16T18:00:00+00:00"})

    orders = broker.list_orders("all")

    assert len(orders) == 501
    assert orders[-1].broker_order_id == DOCS_ORDER_ID
    assert [c.params.get("until") for c in replay.calls_to("GET", "/v2/orders")] == [
        None, "2021-03-16T18:00:00+00:00"]


def test_list_orders_unknown_status_raises_invalid_input_without_request(
    broker: AlpacaBroker, replay: AlpacaReplayAdapter
) -> None:
    with pytest.raises(InvalidInput) as caught:
        broker.list_orders("closed")  # type: ignore[arg-type]

    assert str(caught.value) == "status must be 'open' or 'all', was 'closed'"
    assert replay.calls == []


def test_get_order_by_client_order_id_maps_recorded_order(
    broker: AlpacaBroker, replay: AlpacaReplayAdapter
) -> None:
    replay.serve("GET", BY_CLIENT_ID, "alpaca/order_docs_example.json", when={"client_order_id": DOCS_CLIENT_ID})

    order = broker.get_order(DOCS_CLIENT_ID)

    assert order.broker_order_id == DOCS_ORDER_ID
    assert order.notional == Decimal("500")


def test_get_order_unknown_client_order_id_404_raises_not_found(
    broker: AlpacaBroker, replay: AlpacaReplayAdapter, recorded: Load, sleeps: SleepRecorder
) -> None:
    # The 404 envelope is the one recorded inside the cancel-all 207 body.
    not_found = recorded("alpaca/cancel_all_orders_207_multistatus.json")[1]["body"]
    replay.serve_body("GET", BY_CLIENT_ID, not_found, status=404)

    with pytest.raises(NotFoundError) as caught:
        broker.get_order("nope-1")

    assert str(caught.value) == (
        "Alpaca has no order with client_order_id 'nope-1': order not found (HTTP 404, code 40410000)")
    assert caught.value.details["broker_code"] == 40410000
    assert sleeps.delays == []
    assert len(replay.calls_to("GET", BY_CLIENT_ID)) == 1


def test_get_order_malformed_id_422_raises_invalid_input_naming_order_id(
    broker: AlpacaBroker, replay: AlpacaReplayAdapter, sleeps: SleepRecorder
) -> None:
    # Recorded for GET /v2/orders/{order_id} with a non-UUID id; served here for the
    # by-client-id lookup, the same envelope reaching the same mapping.
    replay.serve("GET", BY_CLIENT_ID, "alpaca/errors/422_order_id_is_missing.json")

    with pytest.raises(InvalidInput) as caught:
        broker.get_order("bad id")

    assert str(caught.value) == (
        "Alpaca refused order_id for order with client_order_id 'bad id': "
        "order_id is missing (HTTP 422, code 40010001)")
    assert caught.value.details["field"] == "order_id"
    assert sleeps.delays == []


@pytest.mark.parametrize(
    ("alpaca_status", "filled", "expected"),
    [
        ("pending_new", "0", OrderStatus.NEW),
        ("pending_review", "0", OrderStatus.NEW),
        ("new", "0", OrderStatus.ACCEPTED),
        ("accepted", "0", OrderStatus.ACCEPTED),
        ("accepted_for_bidding", "0", OrderStatus.ACCEPTED),
        ("held", "0", OrderStatus.ACCEPTED),
        ("partially_filled", "40", OrderStatus.PARTIALLY_FILLED),
        ("filled", "100", OrderStatus.FILLED),
        ("canceled", "0", OrderStatus.CANCELLED),
        ("expired", "0", OrderStatus.EXPIRED),
        ("rejected", "0", OrderStatus.REJECTED),
        ("replaced", "0", OrderStatus.REPLACED),
        ("pending_cancel", "0", OrderStatus.ACCEPTED),
        ("pending_cancel", "40", OrderStatus.PARTIALLY_FILLED),
        ("pending_replace", "40", OrderStatus.PARTIALLY_FILLED),
        ("done_for_day", "40", OrderStatus.PARTIALLY_FILLED),
        ("stopped", "0", OrderStatus.ACCEPTED),
        ("suspended", "0", OrderStatus.ACCEPTED),
        ("calculated", "100", OrderStatus.FILLED),
        ("calculated", "40", OrderStatus.PARTIALLY_FILLED),
    ],
)
def test_order_status_from_alpaca_each_status_maps_as_documented(
    alpaca_status: str, filled: str, expected: OrderStatus
) -> None:
    assert order_status_from_alpaca(alpaca_status, quantity=Decimal(100), filled_quantity=Decimal(filled)) \
        is expected


def test_order_status_table_covers_every_alpaca_py_status() -> None:
    from alpaca.trading.enums import OrderStatus as AlpacaOrderStatus

    assert {s.value for s in AlpacaOrderStatus} == set(ALPACA_ORDER_STATUSES)


def test_order_status_from_alpaca_unknown_status_raises_provider_error() -> None:
    with pytest.raises(ProviderError) as caught:
        order_status_from_alpaca("teleported", quantity=Decimal(1), filled_quantity=Decimal(0))

    assert str(caught.value) == "Alpaca order status 'teleported' is unknown to the adapter"


def test_get_order_filled_order_maps_fill_price_and_status(
    broker: AlpacaBroker, replay: AlpacaReplayAdapter, order_body: OrderBody
) -> None:
    # DERIVED: the docs example, filled 100 shares at 121.5.
    replay.serve_body("GET", BY_CLIENT_ID, order_body(qty="100", notional=None, filled_qty="100",
                                                      filled_avg_price="121.5", status="filled"))

    order = broker.get_order(DOCS_CLIENT_ID)

    assert order.status is OrderStatus.FILLED
    assert order.filled_quantity == 100
    assert order.avg_fill_price == Decimal("121.5")
    assert order.remaining_quantity == 0


# ---------------------------------------------------------------- submit: request mapping


@pytest.mark.parametrize(
    ("changes", "expected_fields"),
    [
        ({"order_type": OrderType.MARKET, "limit_price": None}, {"type": "market"}),
        ({}, {"type": "limit", "limit_price": 290.12}),
        ({"order_type": OrderType.STOP, "limit_price": None, "stop_price": Decimal("280")},
         {"type": "stop", "stop_price": 280.0}),
        ({"order_type": OrderType.STOP_LIMIT, "stop_price": Decimal("291"), "limit_price": Decimal("291.5")},
         {"type": "stop_limit", "stop_price": 291.0, "limit_price": 291.5}),
        ({"order_type": OrderType.TRAILING_STOP, "limit_price": None, "trail_amount": Decimal("1.25")},
         {"type": "trailing_stop", "trail_price": 1.25}),
        ({"order_type": OrderType.TRAILING_STOP, "limit_price": None, "trail_percent": Decimal("2.5")},
         {"type": "trailing_stop", "trail_percent": 2.5}),
    ],
    ids=["market", "limit", "stop", "stop_limit", "trailing_price", "trailing_percent"],
)
def test_submit_each_order_type_sends_alpaca_request_fields(
    broker: AlpacaBroker, replay: AlpacaReplayAdapter, order_body: OrderBody,
    changes: dict[str, Any], expected_fields: dict[str, Any],
) -> None:
    replay.serve_body("POST", "/v2/orders", order_body(client_order_id="c-1", qty="100", notional=None))

    broker.submit(_limit_order(**changes))

    (call,) = replay.calls_to("POST", "/v2/orders")
    assert call.json == {"symbol": "AAPL", "qty": 100.0, "side": "buy", "time_in_force": "day",
                         "client_order_id": "c-1", **expected_fields}


@pytest.mark.parametrize("tif", list(TimeInForce))
def test_submit_each_time_in_force_passes_through(
    broker: AlpacaBroker, replay: AlpacaReplayAdapter, order_body: OrderBody, tif: TimeInForce
) -> None:
    replay.serve_body("POST", "/v2/orders", order_body(client_order_id="c-1", time_in_force=tif.value))

    order = broker.submit(_limit_order(time_in_force=tif))

    assert replay.calls_to("POST", "/v2/orders")[0].json["time_in_force"] == tif.value
    assert order.time_in_force is tif


def test_submit_accepted_returns_mapped_order_and_ignores_venue_hint(
    broker: AlpacaBroker, replay: AlpacaReplayAdapter, order_body: OrderBody
) -> None:
    # DERIVED: the docs example as the answer to our limit order.
    replay.serve_body("POST", "/v2/orders", order_body(client_order_id="c-1", qty="100", notional=None,
                                                       type="limit", order_type="limit", limit_price="290.12"))

    order = broker.submit(_limit_order(), venue="XNAS")

    assert (order.client_order_id, order.broker_order_id, order.status) == ("c-1", DOCS_ORDER_ID,
                                                                            OrderStatus.ACCEPTED)
    assert order.limit_price == Decimal("290.12")
    assert "venue" not in replay.calls_to("POST", "/v2/orders")[0].json


def test_submit_bracket_member_raises_invalid_input_without_request(
    broker: AlpacaBroker, replay: AlpacaReplayAdapter
) -> None:
    with pytest.raises(InvalidInput) as caught:
        broker.submit(_limit_order(parent_id="parent-1"))

    assert str(caught.value) == (
        "the Alpaca adapter sends simple orders only; order 'c-1' has parent_id='parent-1', oco_group=None")
    assert replay.calls == []


def test_submit_price_beyond_float_precision_raises_invalid_input_without_request(
    broker: AlpacaBroker, replay: AlpacaReplayAdapter
) -> None:
    with pytest.raises(InvalidInput) as caught:
        broker.submit(_limit_order(limit_price=Decimal("290.12000000000000001")))

    assert str(caught.value).startswith("limit_price 290.12000000000000001 cannot be sent exactly through alpaca-py")
    assert replay.calls == []


# ---------------------------------------------------------------- submit: errors and retries


def test_submit_insufficient_buying_power_403_raises_order_rejected_without_retry(
    broker: AlpacaBroker, replay: AlpacaReplayAdapter, recorded: Load, sleeps: SleepRecorder
) -> None:
    replay.serve("POST", "/v2/orders", "alpaca/errors/403_insufficient_buying_power.json")
    raw = recorded("alpaca/errors/403_insufficient_buying_power.json")

    with pytest.raises(OrderRejected) as caught:
        broker.submit(_limit_order())

    assert str(caught.value) == (
        "Alpaca rejected order 'c-1' (buy 100 AAPL limit 290.12 day): "
        "insufficient buying power (HTTP 403, code 40310000)")
    assert caught.value.broker_code == raw["code"] == 40310000
    assert caught.value.broker_message == raw["message"]
    assert caught.value.details["broker_fields"] == {"buying_power": raw["buying_power"],
                                                     "cost_basis": raw["cost_basis"]}
    assert caught.value.code == "order_rejected" and not caught.value.retryable
    assert len(replay.calls) == 1  # no retry, no lookup
    assert sleeps.delays == []


def test_submit_sub_penny_limit_422_raises_invalid_input_naming_limit_price(
    broker: AlpacaBroker, replay: AlpacaReplayAdapter, sleeps: SleepRecorder
) -> None:
    replay.serve("POST", "/v2/orders", "alpaca/errors/422_invalid_limit_price_sub_penny.json")

    with pytest.raises(InvalidInput) as caught:
        broker.submit(_limit_order(limit_price=Decimal("290.123")))

    assert str(caught.value) == (
        "Alpaca refused limit_price=290.123 for order 'c-1' (buy 100 AAPL limit 290.123 day): "
        "invalid limit_price 290.123. sub-penny increment does not fulfill minimum pricing criteria "
        "(HTTP 422, code 42210000)")
    assert caught.value.details["field"] == "limit_price"
    assert caught.value.details["broker_code"] == 42210000
    assert len(replay.calls) == 1
    assert sleeps.delays == []


def test_submit_unauthorized_401_raises_broker_authentication_failed(
    broker: AlpacaBroker, replay: AlpacaReplayAdapter, sleeps: SleepRecorder
) -> None:
    replay.serve("POST", "/v2/orders", "alpaca/errors/401_unauthorized.json")

    with pytest.raises(BrokerAuthenticationFailed) as caught:
        broker.submit(_limit_order())

    assert isinstance(caught.value, PermissionDenied)
    assert str(caught.value) == "Alpaca rejected the API key (401 unauthorized)"
    assert caught.value.details["broker_code"] is None  # the 401 body has no code
    assert len(replay.calls) == 1
    assert sleeps.delays == []


def test_submit_429_then_accepted_retries_without_lookup(
    broker: AlpacaBroker, replay: AlpacaReplayAdapter, order_body: OrderBody, sleeps: SleepRecorder
) -> None:
    replay.script("POST", "/v2/orders", [429])
    replay.serve_body("POST", "/v2/orders", order_body(client_order_id="c-1"))

    order = broker.submit(_limit_order())

    assert order.client_order_id == "c-1"
    assert [c.answer for c in replay.calls] == ["script-429", "body-200"]  # no lookup: 429 is not processed
    assert sleeps.delays == [0.5]


def test_submit_timeout_then_order_found_returns_it_without_resubmitting(
    broker: AlpacaBroker, replay: AlpacaReplayAdapter, order_body: OrderBody, sleeps: SleepRecorder
) -> None:
    replay.script("POST", "/v2/orders", [requests.exceptions.ReadTimeout("read timed out")])
    replay.serve_body("GET", BY_CLIENT_ID, order_body(client_order_id="c-1"), when={"client_order_id": "c-1"})

    order = broker.submit(_limit_order())

    assert order.broker_order_id == DOCS_ORDER_ID
    assert [(c.method, c.answer) for c in replay.calls] == [("POST", "ReadTimeout"), ("GET", "body-200")]
    assert sleeps.delays == [0.5]


def test_submit_503_then_lookup_404_resubmits_once(
    broker: AlpacaBroker, replay: AlpacaReplayAdapter, order_body: OrderBody, recorded: Load,
    sleeps: SleepRecorder,
) -> None:
    not_found = recorded("alpaca/cancel_all_orders_207_multistatus.json")[1]["body"]
    replay.script("POST", "/v2/orders", [503])
    replay.serve_body("GET", BY_CLIENT_ID, not_found, status=404)
    replay.serve_body("POST", "/v2/orders", order_body(client_order_id="c-1"))

    order = broker.submit(_limit_order())

    assert order.client_order_id == "c-1"
    assert [(c.method, c.answer) for c in replay.calls] == [
        ("POST", "script-503"), ("GET", "body-404"), ("POST", "body-200")]
    assert sleeps.delays == [0.5]


def test_submit_resubmit_meets_duplicate_client_order_id_returns_existing_order(
    broker: AlpacaBroker, replay: AlpacaReplayAdapter, order_body: OrderBody, recorded: Load
) -> None:
    # The 422 duplicate-id body is not recorded; its wording is assumed
    # ("client_order_id must be unique", code 40010001 as for malformed requests).
    not_found = recorded("alpaca/cancel_all_orders_207_multistatus.json")[1]["body"]
    replay.script("POST", "/v2/orders", [
        requests.exceptions.ConnectionError("connection reset"),
        Reply(422, {"code": 40010001, "message": "client_order_id must be unique"}),
    ])
    replay.script("GET", BY_CLIENT_ID, [Reply(404, not_found), Reply(200, order_body(client_order_id="c-1"))])

    order = broker.submit(_limit_order())

    assert order.client_order_id == "c-1"
    assert [(c.method, c.answer) for c in replay.calls] == [
        ("POST", "ConnectionError"), ("GET", "script-404"), ("POST", "script-422"), ("GET", "script-200")]


def test_submit_duplicate_client_order_id_first_attempt_raises_invalid_input(
    broker: AlpacaBroker, replay: AlpacaReplayAdapter
) -> None:
    # Without an earlier uncertain attempt the duplicate is the caller's mistake.
    replay.script("POST", "/v2/orders", [Reply(422, {"code": 40010001, "message": "client_order_id must be unique"})])

    with pytest.raises(InvalidInput) as caught:
        broker.submit(_limit_order())

    assert caught.value.details["field"] == "client_order_id"
    assert str(caught.value).startswith("Alpaca refused client_order_id=c-1 for order 'c-1'")
    assert len(replay.calls) == 1


def test_submit_503_every_time_raises_transient_with_outcome_unknown(
    broker: AlpacaBroker, replay: AlpacaReplayAdapter, recorded: Load, sleeps: SleepRecorder
) -> None:
    not_found = recorded("alpaca/cancel_all_orders_207_multistatus.json")[1]["body"]
    replay.script("POST", "/v2/orders", [503, 503, 503, 503])
    replay.serve_body("GET", BY_CLIENT_ID, not_found, status=404)

    with pytest.raises(TransientProviderError) as caught:
        broker.submit(_limit_order())

    assert str(caught.value) == (
        "Alpaca failed to serve the request for order 'c-1' (buy 100 AAPL limit 290.12 day): "
        "Service Unavailable (HTTP 503)")
    assert caught.value.details["attempts"] == 4
    assert caught.value.details["outcome_unknown"] is True
    assert len(replay.calls_to("POST", "/v2/orders")) == 4
    assert len(replay.calls_to("GET", BY_CLIENT_ID)) == 3  # a lookup before each resubmit
    assert sleeps.delays == [0.5, 1.0, 2.0]


# ---------------------------------------------------------------- cancel


def test_cancel_open_order_deletes_by_broker_order_id(
    broker: AlpacaBroker, replay: AlpacaReplayAdapter
) -> None:
    replay.serve("GET", BY_CLIENT_ID, "alpaca/order_docs_example.json")
    replay.serve_body("DELETE", f"/v2/orders/{DOCS_ORDER_ID}", None, status=204)

    broker.cancel(DOCS_CLIENT_ID)

    assert [(c.method, c.path) for c in replay.calls] == [
        ("GET", BY_CLIENT_ID), ("DELETE", f"/v2/orders/{DOCS_ORDER_ID}")]


def test_cancel_already_cancelled_order_sends_no_delete(
    broker: AlpacaBroker, replay: AlpacaReplayAdapter, order_body: OrderBody
) -> None:
    replay.serve_body("GET", BY_CLIENT_ID, order_body(status="canceled"))

    broker.cancel(DOCS_CLIENT_ID)

    assert [c.method for c in replay.calls] == ["GET"]


def test_cancel_filled_order_raises_order_rejected_without_delete(
    broker: AlpacaBroker, replay: AlpacaReplayAdapter, order_body: OrderBody
) -> None:
    replay.serve_body("GET", BY_CLIENT_ID, order_body(qty="5", notional=None, filled_qty="5", status="filled"))

    with pytest.raises(OrderRejected) as caught:
        broker.cancel(DOCS_CLIENT_ID)

    assert str(caught.value) == f"Alpaca cannot cancel order '{DOCS_CLIENT_ID}': it is already filled"
    assert caught.value.broker_code is None
    assert [c.method for c in replay.calls] == ["GET"]


def test_cancel_503_then_204_retries_with_backoff(
    broker: AlpacaBroker, replay: AlpacaReplayAdapter, sleeps: SleepRecorder
) -> None:
    replay.serve("GET", BY_CLIENT_ID, "alpaca/order_docs_example.json")
    replay.script("DELETE", f"/v2/orders/{DOCS_ORDER_ID}", [503])
    replay.serve_body("DELETE", f"/v2/orders/{DOCS_ORDER_ID}", None, status=204)

    broker.cancel(DOCS_CLIENT_ID)

    assert [c.answer for c in replay.calls_to("DELETE", f"/v2/orders/{DOCS_ORDER_ID}")] == [
        "script-503", "body-204"]
    assert sleeps.delays == [0.5]


def test_cancel_timeout_then_404_with_order_cancelled_counts_as_success(
    broker: AlpacaBroker, replay: AlpacaReplayAdapter, order_body: OrderBody, recorded: Load
) -> None:
    not_found = recorded("alpaca/cancel_all_orders_207_multistatus.json")[1]["body"]
    replay.script("GET", BY_CLIENT_ID, [Reply(200, order_body()), Reply(200, order_body(status="canceled"))])
    replay.script("DELETE", f"/v2/orders/{DOCS_ORDER_ID}", [
        requests.exceptions.ReadTimeout("read timed out"), Reply(404, not_found)])

    broker.cancel(DOCS_CLIENT_ID)

    assert [(c.method, c.answer) for c in replay.calls] == [
        ("GET", "script-200"), ("DELETE", "ReadTimeout"), ("DELETE", "script-404"), ("GET", "script-200")]


def test_cancel_not_cancelable_422_raises_order_rejected(
    broker: AlpacaBroker, replay: AlpacaReplayAdapter
) -> None:
    # Alpaca documents 422 for "order is no longer cancelable"; body wording assumed.
    replay.serve("GET", BY_CLIENT_ID, "alpaca/order_docs_example.json")
    replay.script("DELETE", f"/v2/orders/{DOCS_ORDER_ID}", [
        Reply(422, {"code": 42210000, "message": "order is not cancelable"})])

    with pytest.raises(OrderRejected) as caught:
        broker.cancel(DOCS_CLIENT_ID)

    assert str(caught.value) == (
        f"Alpaca cannot carry out the cancel of order '{DOCS_CLIENT_ID}': "
        "order is not cancelable (HTTP 422, code 42210000)")
    assert caught.value.broker_code == 42210000


# ---------------------------------------------------------------- replace


def test_replace_limit_price_patches_broker_order_and_returns_replacement(
    broker: AlpacaBroker, replay: AlpacaReplayAdapter, order_body: OrderBody
) -> None:
    # DERIVED: the docs example as an open limit order, and its replacement.
    replay.serve_body("GET", BY_CLIENT_ID, order_body(qty="100", notional=None, type="limit",
                                                      order_type="limit", limit_price="100"))
    replacement = order_body(id="7b7e2b1c-2a41-4f0e-9d3c-0a4c7a3b9c11", client_order_id="c-1-r1", qty="100",
                             notional=None, type="limit", order_type="limit", limit_price="101.5",
                             replaces=DOCS_ORDER_ID)
    replay.serve_body("PATCH", f"/v2/orders/{DOCS_ORDER_ID}", replacement)

    order = broker.replace(DOCS_CLIENT_ID, limit_price=Decimal("101.5"), new_client_order_id="c-1-r1")

    (call,) = replay.calls_to("PATCH", f"/v2/orders/{DOCS_ORDER_ID}")
    assert call.json == {"limit_price": 101.5, "client_order_id": "c-1-r1"}
    assert (order.client_order_id, order.limit_price) == ("c-1-r1", Decimal("101.5"))


def test_replace_fractional_quantity_raises_invalid_input_without_request(
    broker: AlpacaBroker, replay: AlpacaReplayAdapter
) -> None:
    with pytest.raises(InvalidInput) as caught:
        broker.replace("c-1", quantity=Decimal("2.5"))

    assert str(caught.value) == "quantity must be whole shares to replace an Alpaca order, was 2.5"
    assert replay.calls == []


def test_replace_503_is_not_retried_and_reports_outcome_unknown(
    broker: AlpacaBroker, replay: AlpacaReplayAdapter, sleeps: SleepRecorder
) -> None:
    replay.serve("GET", BY_CLIENT_ID, "alpaca/order_docs_example.json")
    replay.script("PATCH", f"/v2/orders/{DOCS_ORDER_ID}", [503])

    with pytest.raises(TransientProviderError) as caught:
        broker.replace(DOCS_CLIENT_ID, quantity=Decimal(3))

    assert caught.value.details["outcome_unknown"] is True
    assert len(replay.calls_to("PATCH", f"/v2/orders/{DOCS_ORDER_ID}")) == 1
    assert sleeps.delays == []


# ---------------------------------------------------------------- 207 multi-status


def test_cancel_all_207_multistatus_maps_per_order_results(
    broker: AlpacaBroker, replay: AlpacaReplayAdapter, recorded: Load
) -> None:
    replay.serve("DELETE", "/v2/orders", "alpaca/cancel_all_orders_207_multistatus.json")
    raw = recorded("alpaca/cancel_all_orders_207_multistatus.json")

    results = broker.cancel_all()

    assert [(r.broker_order_id, r.http_status, r.ok) for r in results] == [
        (raw[0]["id"], 200, True), (raw[1]["id"], 404, False)]
    assert results[0].error_code is None
    assert (results[1].error_code, results[1].error_message) == (raw[1]["body"]["code"], "order not found")


def test_close_all_positions_207_maps_closing_order_and_refusals(
    broker: AlpacaBroker, replay: AlpacaReplayAdapter, recorded: Load
) -> None:
    replay.serve("DELETE", "/v2/positions", "alpaca/close_all_positions_207_multistatus.json")
    raw = recorded("alpaca/close_all_positions_207_multistatus.json")

    results = broker.close_all_positions()

    assert replay.calls_to("DELETE", "/v2/positions")[0].params == {"cancel_orders": "True"}
    assert [(r.symbol, r.http_status, r.ok) for r in results] == [
        ("BTCUSD", 200, True), ("SQQQ", 403, False), ("NYC", 403, False)]
    order = results[0].order
    assert order is not None
    assert order.broker_order_id == raw[0]["body"]["id"]
    assert order.symbol == raw[0]["body"]["symbol"] == "BTC/USD"
    assert order.quantity == Decimal(raw[0]["body"]["qty"]) == Decimal("0.0283")
    assert order.side is Side.SELL
    assert order.status is OrderStatus.NEW and order.broker_status == "pending_new"
    # "2022-07-27T08:12:33.667750101Z": nanoseconds truncated to microseconds
    assert order.submitted_at == datetime(2022, 7, 27, 8, 12, 33, 667750, tzinfo=UTC)
    assert results[1].error_code == raw[1]["body"]["code"] == 40310000
    assert results[1].error_message == raw[1]["body"]["message"]
    assert results[1].details == {"available": "0", "existing_qty": "1000", "held_for_orders": "1000",
                                  "symbol": "SQQQ"}
    assert results[2].error_message == "account is not allowed to short"
    assert results[2].order is None


def test_close_all_positions_timeout_is_not_retried(
    broker: AlpacaBroker, replay: AlpacaReplayAdapter, sleeps: SleepRecorder
) -> None:
    replay.script("DELETE", "/v2/positions", [requests.exceptions.ReadTimeout("read timed out")])

    with pytest.raises(TransientProviderError) as caught:
        broker.close_all_positions()

    assert str(caught.value) == (
        "The request to Alpaca for the close of all positions failed in transit (ReadTimeout: read timed out)")
    assert caught.value.details["outcome_unknown"] is True
    assert len(replay.calls) == 1
    assert sleeps.delays == []


def test_cancel_unknown_at_delete_404_raises_not_found_naming_both_ids(
    broker: AlpacaBroker, replay: AlpacaReplayAdapter, recorded: Load, sleeps: SleepRecorder
) -> None:
    not_found = recorded("alpaca/cancel_all_orders_207_multistatus.json")[1]["body"]
    replay.serve("GET", BY_CLIENT_ID, "alpaca/order_docs_example.json")
    replay.serve_body("DELETE", f"/v2/orders/{DOCS_ORDER_ID}", not_found, status=404)

    with pytest.raises(NotFoundError) as caught:
        broker.cancel(DOCS_CLIENT_ID)

    assert str(caught.value) == (
        f"Alpaca has no order '{DOCS_CLIENT_ID}' (Alpaca id {DOCS_ORDER_ID}): "
        "order not found (HTTP 404, code 40410000)")
    assert len(replay.calls) == 2  # lookup and one DELETE: a first-attempt 404 is final
    assert sleeps.delays == []


def test_account_403_raises_permission_denied(
    broker: AlpacaBroker, replay: AlpacaReplayAdapter, recorded: Load
) -> None:
    # The 403 envelope of the close-all recording, answered to a read.
    forbidden = recorded("alpaca/close_all_positions_207_multistatus.json")[2]["body"]
    replay.serve_body("GET", "/v2/account", forbidden, status=403)

    with pytest.raises(PermissionDenied) as caught:
        broker.account()

    assert not isinstance(caught.value, OrderRejected)
    assert str(caught.value) == (
        "Alpaca refused access to the account: account is not allowed to short (HTTP 403, code 40310000)")
