"""Alpaca Trading API broker adapter, built on alpaca-py's ``TradingClient``.

alpaca-py builds the requests (``MarketOrderRequest`` and friends), knows the
endpoints and signs each call. This module turns our ``OrderRequest`` into those
requests, Alpaca's JSON back into domain types, and Alpaca's errors into the
``BifrostError`` hierarchy, and it owns retrying (see ``AlpacaBroker`` Notes).

The client runs with ``raw_data=True``: responses stay the JSON Alpaca sent, so
quantities, prices and balances (strings on the wire) become ``Decimal`` without
passing through alpaca-py's float fields.
"""

from __future__ import annotations

import json
import logging
import math
import re
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from functools import partial
from typing import Any, TypeVar

import requests
from alpaca.common.enums import Sort
from alpaca.common.exceptions import APIError
from alpaca.trading.client import TradingClient
from alpaca.trading.enums import OrderSide as AlpacaSide
from alpaca.trading.enums import QueryOrderStatus
from alpaca.trading.enums import TimeInForce as AlpacaTimeInForce
from alpaca.trading.requests import (
    GetOrdersRequest,
    LimitOrderRequest,
    MarketOrderRequest,
    ReplaceOrderRequest,
    StopLimitOrderRequest,
    StopOrderRequest,
    TrailingStopOrderRequest,
)
from alpaca.trading.requests import OrderRequest as AlpacaOrderRequest

from bifrost.adapters.brokers.base import (
    AccountType,
    BrokerAccount,
    BrokerOrder,
    BrokerPosition,
    CancelResult,
    ClosePositionResult,
    OrderListStatus,
)
from bifrost.adapters.brokers.errors import BrokerAuthenticationFailed, OrderRejected
from bifrost.core.errors import (
    BifrostError,
    ConfigurationError,
    InvalidInput,
    NotFoundError,
    PermissionDenied,
    ProviderError,
    RateLimited,
    TransientProviderError,
)
from bifrost.core.money import to_decimal, to_float
from bifrost.core.time import ensure_utc
from bifrost.orders.types import Fill, OrderRequest, OrderStatus, OrderType, Side, TimeInForce

__all__ = ["ALPACA_ORDER_STATUSES", "AlpacaBroker", "order_status_from_alpaca"]

_log = logging.getLogger(__name__)
_T = TypeVar("_T")

_ORDERS_PAGE_SIZE = 500  # Alpaca's maximum ``limit`` for GET /v2/orders
_ACTIVITIES_PAGE_SIZE = 100  # Alpaca's maximum ``page_size`` for account activities

# Alpaca order status -> ours. ``None``: the order is still working at Alpaca and
# maps to PARTIALLY_FILLED if anything has filled, else ACCEPTED (see
# ``order_status_from_alpaca``). Alpaca's word is kept in ``BrokerOrder.broker_status``.
ALPACA_ORDER_STATUSES: Mapping[str, OrderStatus | None] = {
    # received, not yet acknowledged for execution
    "pending_new": OrderStatus.NEW,
    "pending_review": OrderStatus.NEW,
    # acknowledged and working (or queued for the next session / a parent fill)
    "new": OrderStatus.ACCEPTED,
    "accepted": OrderStatus.ACCEPTED,
    "accepted_for_bidding": OrderStatus.ACCEPTED,
    "held": OrderStatus.ACCEPTED,
    "partially_filled": OrderStatus.PARTIALLY_FILLED,
    "filled": OrderStatus.FILLED,
    "canceled": OrderStatus.CANCELLED,
    "expired": OrderStatus.EXPIRED,
    "rejected": OrderStatus.REJECTED,
    "replaced": OrderStatus.REPLACED,
    # transitional or paused, still live at Alpaca: by filled quantity
    "pending_cancel": None,
    "pending_replace": None,
    "done_for_day": None,
    "stopped": None,
    "suspended": None,
    "calculated": None,  # FILLED when the whole quantity filled (see the function)
}

# Alpaca request field -> our OrderRequest field, to name refused fields in our terms.
_OUR_FIELD = {"qty": "quantity", "trail_price": "trail_amount", "type": "order_type"}
_ALPACA_FIELDS = ("client_order_id", "limit_price", "stop_price", "trail_price", "trail_percent",
                  "time_in_force", "extended_hours", "notional", "order_id", "symbol", "side", "type",
                  "qty")
_FIELD_RE = re.compile(r"\b(" + "|".join(_ALPACA_FIELDS) + r")\b")


def order_status_from_alpaca(
    status: str, *, quantity: Decimal | None, filled_quantity: Decimal
) -> OrderStatus:
    """Map an Alpaca order status to ours.

    Parameters
    ----------
    status
        Alpaca's ``status`` field.
    quantity, filled_quantity
        The order's ``qty`` (``None`` for a notional order) and ``filled_qty``.

    Returns
    -------
    OrderStatus
        ``pending_new``, ``pending_review`` -> NEW; ``new``, ``accepted``,
        ``accepted_for_bidding``, ``held`` -> ACCEPTED; ``partially_filled``,
        ``filled``, ``canceled``, ``expired``, ``rejected``, ``replaced`` -> the
        same state; ``pending_cancel``, ``pending_replace``, ``done_for_day``,
        ``stopped``, ``suspended`` -> PARTIALLY_FILLED if ``filled_quantity > 0``
        else ACCEPTED (the order is still live at Alpaca until it confirms);
        ``calculated`` -> FILLED if the whole quantity filled, else as the
        previous group.

    Raises
    ------
    ProviderError
        For a status Alpaca has not documented (refused rather than guessed).
    """
    word = status.strip().lower()
    if word not in ALPACA_ORDER_STATUSES:
        raise ProviderError(f"Alpaca order status {status!r} is unknown to the adapter",
                            details={"provider": "alpaca", "broker_status": status})
    mapped = ALPACA_ORDER_STATUSES[word]
    if mapped is not None:
        return mapped
    if word == "calculated" and quantity is not None and filled_quantity >= quantity:
        return OrderStatus.FILLED
    return OrderStatus.PARTIALLY_FILLED if filled_quantity > 0 else OrderStatus.ACCEPTED


class _TimeoutSession(requests.Session):
    # alpaca-py sends without a timeout; a hung connection must not hang the caller.
    def __init__(self, timeout_seconds: float) -> None:
        super().__init__()
        self.timeout_seconds = timeout_seconds

    def request(self, method: Any, url: Any, *args: Any, **kwargs: Any) -> requests.Response:  # type: ignore[override]
        if kwargs.get("timeout") is None:
            kwargs["timeout"] = self.timeout_seconds
        return super().request(method, url, *args, **kwargs)


@dataclass(frozen=True, slots=True)
class _Call:
    # One adapter operation, to name it in error messages and map errors by context.
    operation: str
    subject: str
    values: Mapping[str, str] = field(default_factory=dict)  # our value per Alpaca field
    order_operation: bool = False  # a 403 is an OrderRejected, not a PermissionDenied
    details: Mapping[str, Any] = field(default_factory=dict)
    missing: str = ""  # what a 404 says does not exist; the subject if empty


class AlpacaBroker:
    """A ``BrokerAdapter`` for the Alpaca Trading API (paper or live).

    Parameters
    ----------
    api_key, secret_key
        Alpaca API credentials (paper keys for ``paper=True``).
    paper
        Trade on the paper endpoint (default) or the live one.
    url_override
        Another base URL (a proxy); ``None`` for Alpaca's.
    timeout_seconds
        Network timeout of each HTTP request.
    max_retries
        How many times a retryable failure is retried before it is raised; 0
        disables retries.
    backoff_seconds
        Delay before the first retry; each further retry waits twice as long.
    sleep
        Called with the delay in seconds before each retry (injectable for tests).

    Raises
    ------
    InvalidInput
        If a number is out of range.
    ConfigurationError
        If the credentials are missing or alpaca-py no longer has the internals
        this adapter configures (see Notes).

    Notes
    -----
    **Retries.** Rate limits (HTTP 429) are retried for every call: Alpaca refuses
    the request before acting on it. Other transient failures (timeouts,
    connection errors, HTTP 408 and 5xx) are retried only where repeating is
    safe: reads (``get_order``, ``list_orders``, ``positions``, ``account``,
    ``fills``) and cancels (``cancel``, ``cancel_all``). ``replace`` and
    ``close_all_positions`` are not retried after such a failure, because each
    attempt may create an order; the error's ``details["outcome_unknown"]`` is
    then true and the caller should look before acting again. Each retry waits
    ``backoff_seconds * 2**n`` (n = 0, 1, ...) through ``sleep``. alpaca-py's own
    429/504 retry (which sleeps with ``time.sleep``) is turned off.

    **Submitting safely.** Alpaca dedupes orders on ``client_order_id``. After a
    submit fails in a way that leaves its outcome unknown (a timeout, a dropped
    connection, a 5xx), the next attempt first looks the order up by
    ``client_order_id`` and returns it if Alpaca has it; only a 404 leads to a
    resubmit. Should that resubmit meet "client_order_id must be unique" (the
    lookup raced the first attempt), the order is looked up again and returned.
    A 4xx answer to a submit is final and never retried.

    **Cancel** looks the order up first: an order already cancelled returns at
    once; one that is filled, rejected, expired or replaced raises
    ``OrderRejected``. If a retried cancel meets 404/422 because the first
    attempt did cancel, the order is looked up and a cancelled (or
    ``pending_cancel``) order counts as success. Alpaca cancels asynchronously;
    the order reaches ``canceled`` later.

    **Errors.** 401 -> ``BrokerAuthenticationFailed`` (a ``PermissionDenied``);
    403 -> ``OrderRejected`` on order operations (buying power, quantity,
    shorting) and ``PermissionDenied`` elsewhere; 404 -> ``NotFoundError``;
    400/422 -> ``InvalidInput`` naming the refused field when Alpaca's message
    does (``details["field"]`` in our terms, e.g. ``quantity`` for ``qty``),
    except a 422 to a cancel, which is ``OrderRejected`` (not cancelable); 429 ->
    ``RateLimited``; 408/5xx/transport failures -> ``TransientProviderError``.
    Every error's details hold Alpaca's 8-digit ``broker_code`` and
    ``broker_message``.

    **Venue.** Alpaca routes orders itself; the ``venue`` hint of :meth:`submit`
    is accepted and ignored (logged at debug level).

    **Fills** come from the ``FILL`` account activities. An activity names
    Alpaca's order id, not ours, so the adapter remembers the pair for every
    order it has seen and fetches an unknown order once
    (``GET /v2/orders/{id}``). Alpaca reports neither commission (it charges none)
    nor regulatory fees on a fill (they are separate ``FEE`` activities), nor
    liquidity: fills carry commission and fees 0 and the default liquidity
    ``TAKER``.

    **Orders** are simple orders only: an ``OrderRequest`` with ``parent_id`` or
    ``oco_group`` is refused rather than sent without its group. alpaca-py's
    request models hold quantities and prices as floats, so a value that does not
    survive the float round trip (more than about 15 significant digits) is
    refused. ``replace`` takes whole-share quantities only (alpaca-py's
    ``ReplaceOrderRequest.qty`` is an integer).

    The adapter sets three private attributes of alpaca-py's ``RESTClient``
    (checked at construction, alpaca-py 0.44): ``_session`` (a session with a
    timeout), ``_retry`` (0) and ``_use_raw_data``. :attr:`session` is that
    session; tests mount a replaying transport on it.
    """

    name: str = "alpaca"

    def __init__(
        self,
        *,
        api_key: str,
        secret_key: str,
        paper: bool = True,
        url_override: str | None = None,
        timeout_seconds: float = 10.0,
        max_retries: int = 3,
        backoff_seconds: float = 0.5,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        if isinstance(max_retries, bool) or not isinstance(max_retries, int) or max_retries < 0:
            raise InvalidInput(f"max_retries must be a non-negative integer, was {max_retries!r}")
        if not math.isfinite(backoff_seconds) or backoff_seconds < 0:
            raise InvalidInput(f"backoff_seconds must be finite and non-negative, was {backoff_seconds!r}")
        if not math.isfinite(timeout_seconds) or timeout_seconds <= 0:
            raise InvalidInput(f"timeout_seconds must be finite and positive, was {timeout_seconds!r}")
        if not callable(sleep):
            raise InvalidInput(f"sleep must be callable, was {type(sleep).__name__}")
        try:
            client = TradingClient(api_key=api_key, secret_key=secret_key, paper=paper, raw_data=True,
                                   url_override=url_override)
        except ValueError as exc:
            raise ConfigurationError(f"Alpaca credentials are incomplete: {exc}") from exc
        missing = [a for a in ("_session", "_retry", "_use_raw_data") if not hasattr(client, a)]
        if missing:
            raise ConfigurationError(
                f"alpaca-py's TradingClient no longer has {missing}; the Alpaca adapter needs updating"
            )
        client._retry = 0
        client._use_raw_data = True
        client._session = _TimeoutSession(float(timeout_seconds))
        self._client = client
        self._max_retries = max_retries
        self._backoff_seconds = float(backoff_seconds)
        self._sleep = sleep
        self._client_order_ids: dict[str, str] = {}  # Alpaca order id -> our client_order_id

    @property
    def session(self) -> requests.Session:
        """The ``requests.Session`` every call goes through."""
        session: requests.Session = self._client._session
        return session

    # ------------------------------------------------------------------ orders

    def submit(self, order: OrderRequest, *, venue: str | None = None) -> BrokerOrder:
        """Send ``order`` to Alpaca; return the order as Alpaca acknowledged it.

        Parameters
        ----------
        order
            The order; its ``client_order_id`` is passed through to Alpaca.
        venue
            Routing hint; Alpaca routes itself, so it is ignored.

        Returns
        -------
        BrokerOrder
            Usually ``NEW`` (``pending_new``) or ``ACCEPTED``.

        Raises
        ------
        InvalidInput
            If the order cannot be expressed for Alpaca, or Alpaca refused a field
            (HTTP 422; ``details["field"]`` names it).
        OrderRejected
            If Alpaca refused it for the account's state (HTTP 403: buying power,
            quantity available, shorting).
        BrokerAuthenticationFailed
            On HTTP 401.
        RateLimited, TransientProviderError
            If retries ran out (class Notes: submitting safely).
        """
        if not isinstance(order, OrderRequest):
            raise InvalidInput(f"order must be an OrderRequest, was {type(order).__name__}")
        if venue is not None:
            _log.debug("alpaca routes orders itself; ignoring venue hint %r for %s", venue,
                       order.client_order_id)
        request = _alpaca_order_request(order)
        call = _Call("submit", _describe(order), values=_our_values(order), order_operation=True,
                     details={"client_order_id": order.client_order_id, "symbol": order.symbol})
        retries = 0
        outcome_unknown = False
        while True:
            try:
                if outcome_unknown:
                    existing = self._find_order(order.client_order_id)
                    if existing is not None:
                        return existing
                return self._order(self._once(call, partial(self._client.submit_order, request)))
            except InvalidInput as exc:
                if outcome_unknown and exc.details.get("broker_field") == "client_order_id":
                    existing = self._find_order(order.client_order_id)
                    if existing is not None:
                        return existing
                raise
            except TransientProviderError as exc:
                if not isinstance(exc, RateLimited):
                    outcome_unknown = True
                exc.details["attempts"] = retries + 1
                exc.details["outcome_unknown"] = outcome_unknown
                if retries >= self._max_retries:
                    raise
                self._pause(retries)
                retries += 1

    def cancel(self, client_order_id: str) -> None:
        """Ask Alpaca to cancel the order with our ``client_order_id``.

        Raises
        ------
        NotFoundError
            If Alpaca has no such order.
        OrderRejected
            If the order is already filled, rejected, expired or replaced, or
            Alpaca says it is not cancelable.
        RateLimited, TransientProviderError
            If retries ran out.
        """
        order = self.get_order(client_order_id)
        if order.status is OrderStatus.CANCELLED:
            return
        if order.status.is_terminal:
            raise OrderRejected(
                f"Alpaca cannot cancel order {client_order_id!r}: it is already {order.status.value}",
                details={"provider": "alpaca", "client_order_id": client_order_id,
                         "status": order.status.value},
            )
        call = _Call("cancel", f"the cancel of order {client_order_id!r}", order_operation=True,
                     details={"client_order_id": client_order_id,
                              "broker_order_id": order.broker_order_id},
                     missing=f"order {client_order_id!r} (Alpaca id {order.broker_order_id})")
        send = partial(self._client.cancel_order_by_id, order.broker_order_id)
        retries = 0
        while True:
            try:
                self._once(call, send)
                return
            except (NotFoundError, OrderRejected):
                if retries > 0:  # an earlier attempt may have done it
                    current = self.get_order(client_order_id)
                    if current.status is OrderStatus.CANCELLED or current.broker_status == "pending_cancel":
                        return
                raise
            except TransientProviderError as exc:
                exc.details["attempts"] = retries + 1
                if retries >= self._max_retries:
                    raise
                self._pause(retries)
                retries += 1

    def replace(
        self,
        client_order_id: str,
        *,
        quantity: Decimal | None = None,
        limit_price: Decimal | None = None,
        stop_price: Decimal | None = None,
        new_client_order_id: str | None = None,
    ) -> BrokerOrder:
        """Replace an open order's quantity and/or prices (Alpaca ``PATCH /v2/orders/{id}``).

        Parameters
        ----------
        client_order_id
            The order to replace.
        quantity
            New total quantity, whole shares.
        limit_price, stop_price
            New prices.
        new_client_order_id
            Our id for the replacement order; ``None`` lets Alpaca generate one
            (read it from the returned order).

        Returns
        -------
        BrokerOrder
            The replacement order (the original becomes ``REPLACED``).

        Raises
        ------
        InvalidInput
            If nothing is to change, a value is not positive, ``quantity`` is
            fractional, or Alpaca refused a field.
        OrderRejected
            If the order is no longer open, or Alpaca refused for the account's state.
        NotFoundError
            If Alpaca has no such order.
        """
        changes = {"quantity": quantity, "limit_price": limit_price, "stop_price": stop_price}
        given = {k: to_decimal(v, field=k) for k, v in changes.items() if v is not None}
        if not given:
            raise InvalidInput("replace needs at least one of quantity, limit_price or stop_price")
        for name, value in given.items():
            if value <= 0:
                raise InvalidInput(f"{name} must be positive, was {value}")
        if "quantity" in given and given["quantity"] != given["quantity"].to_integral_value():
            raise InvalidInput(f"quantity must be whole shares to replace an Alpaca order, was {given['quantity']}")
        if new_client_order_id is not None:
            _check_client_order_id(new_client_order_id)
        limit = _wire_float(given["limit_price"], "limit_price") if "limit_price" in given else None
        stop = _wire_float(given["stop_price"], "stop_price") if "stop_price" in given else None
        try:
            request = ReplaceOrderRequest(
                qty=int(given["quantity"]) if "quantity" in given else None,
                limit_price=limit,
                stop_price=stop,
                client_order_id=new_client_order_id,
            )
        except ValueError as exc:
            raise InvalidInput(f"alpaca-py refused the replacement of order {client_order_id!r}: {exc}") from exc
        current = self.get_order(client_order_id)
        if current.status.is_terminal:
            raise OrderRejected(
                f"Alpaca cannot replace order {client_order_id!r}: it is already {current.status.value}",
                details={"provider": "alpaca", "client_order_id": client_order_id,
                         "status": current.status.value},
            )
        values = {("qty" if k == "quantity" else k): str(v) for k, v in given.items()}
        call = _Call("replace", f"the replacement of order {client_order_id!r}", values=values,
                     order_operation=True,
                     details={"client_order_id": client_order_id, "broker_order_id": current.broker_order_id},
                     missing=f"order {client_order_id!r} (Alpaca id {current.broker_order_id})")
        raw = self._retrying(call, partial(self._client.replace_order_by_id, current.broker_order_id, request),
                             transient_safe=False)
        return self._order(raw)

    def get_order(self, client_order_id: str) -> BrokerOrder:
        """The order with our ``client_order_id``.

        Raises
        ------
        NotFoundError
            If Alpaca has no such order (HTTP 404).
        InvalidInput
            If Alpaca refused the id (HTTP 422).
        """
        _check_client_order_id(client_order_id)
        call = _Call("get_order", f"order with client_order_id {client_order_id!r}",
                     values={"client_order_id": client_order_id},
                     details={"client_order_id": client_order_id})
        raw = self._retrying(call, partial(self._client.get_order_by_client_id, client_order_id))
        return self._order(raw)

    def list_orders(self, status: OrderListStatus = "open") -> list[BrokerOrder]:
        """Open orders, or (``"all"``) open and closed orders, newest first.

        Pages through Alpaca's 500-order limit by submission time.
        """
        if status not in ("open", "all"):
            raise InvalidInput(f"status must be 'open' or 'all', was {status!r}")
        call = _Call("list_orders", f"the list of {status} orders", details={"status": status})
        orders: dict[str, BrokerOrder] = {}
        until: datetime | None = None
        while True:
            request = GetOrdersRequest(status=QueryOrderStatus(status), limit=_ORDERS_PAGE_SIZE,
                                       direction=Sort.DESC, until=until)
            page = _as_list(self._retrying(call, partial(self._client.get_orders, request)), call)
            fresh = [self._order(raw) for raw in page if str(raw.get("id")) not in orders]
            orders.update((o.broker_order_id, o) for o in fresh)
            stamps = [o.submitted_at for o in fresh if o.submitted_at is not None]
            if len(page) < _ORDERS_PAGE_SIZE or not fresh or not stamps:
                return list(orders.values())
            until = min(stamps)

    def cancel_all(self) -> list[CancelResult]:
        """Cancel every open order; one result per order (Alpaca answers HTTP 207)."""
        call = _Call("cancel_all", "the cancel of all open orders", order_operation=True)
        items = _as_list(self._retrying(call, self._client.cancel_orders), call)
        results = []
        for item in items:
            body = _body(item)
            results.append(CancelResult(
                broker_order_id=str(item["id"]),
                http_status=int(item["status"]),
                error_code=_code(body.get("code")),
                error_message=str(body.get("message") or ""),
            ))
        return results

    # ------------------------------------------------------------------ positions and account

    def positions(self) -> list[BrokerPosition]:
        """Every open position (symbols stripped of stray whitespace)."""
        call = _Call("positions", "the positions")
        return [_position(raw) for raw in _as_list(self._retrying(call, self._client.get_all_positions), call)]

    def close_all_positions(self, *, cancel_orders: bool = True) -> list[ClosePositionResult]:
        """Liquidate every position (and first cancel open orders); one result per position.

        Not retried after a timeout or 5xx (each attempt sends orders; class Notes).
        """
        call = _Call("close_all_positions", "the close of all positions", order_operation=True)
        items = _as_list(self._retrying(call, partial(self._client.close_all_positions, cancel_orders),
                                        transient_safe=False), call)
        results = []
        for item in items:
            status = int(item["status"])
            body = _body(item)
            ok = 200 <= status < 300
            results.append(ClosePositionResult(
                symbol=str(item["symbol"]).strip(),
                http_status=status,
                order=self._order(body) if ok and body.get("id") else None,
                error_code=None if ok else _code(body.get("code")),
                error_message="" if ok else str(body.get("message") or ""),
                details={} if ok else {k: v for k, v in body.items() if k not in ("code", "message")},
            ))
        return results

    def account(self) -> BrokerAccount:
        """Balances and flags of the account."""
        call = _Call("account", "the account")
        raw = self._retrying(call, self._client.get_account)
        if not isinstance(raw, Mapping):
            raise ProviderError(f"Alpaca answered {call.subject} with {type(raw).__name__}, not an object")
        return _account(raw)

    # ------------------------------------------------------------------ fills

    def fills(self, since: datetime) -> list[Fill]:
        """Executions after ``since``, oldest first, from Alpaca's ``FILL`` activities.

        Raises
        ------
        InvalidInput
            If ``since`` is naive.
        NotFoundError
            If a fill names an order Alpaca cannot find.
        """
        since = ensure_utc(since, field="since")
        call = _Call("fills", f"fills since {since.isoformat()}", details={"since": since.isoformat()})
        params: dict[str, Any] = {"after": since.isoformat(), "direction": "asc",
                                  "page_size": _ACTIVITIES_PAGE_SIZE}
        activities: list[Mapping[str, Any]] = []
        while True:
            page = _as_list(self._retrying(call, partial(self._client.get, "/account/activities/FILL",
                                                         dict(params))), call)
            activities.extend(page)
            if len(page) < _ACTIVITIES_PAGE_SIZE:
                break
            params["page_token"] = str(page[-1]["id"])
        fills = [self._fill(a) for a in activities]
        return sorted((f for f in fills if f.ts_event > since), key=lambda f: f.ts_event)

    # ------------------------------------------------------------------ internals

    def _fill(self, raw: Mapping[str, Any]) -> Fill:
        order_id = raw.get("order_id")
        if not order_id:
            raise ProviderError("Alpaca sent a FILL activity without an order_id",
                                details={"provider": "alpaca", "activity_id": raw.get("id")})
        client_order_id = self._client_order_id_for(str(order_id))
        try:
            return Fill(
                fill_id=str(raw["id"]),
                client_order_id=client_order_id,
                symbol=str(raw["symbol"]).strip(),
                side=_fill_side(str(raw["side"])),
                quantity=_decimal(raw["qty"], "qty"),
                price=_decimal(raw["price"], "price"),
                ts_event=_instant(raw["transaction_time"], "transaction_time"),
                venue="alpaca",
                currency="USD",
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise ProviderError(f"Alpaca sent a FILL activity the adapter cannot read ({type(exc).__name__}: {exc})",
                                details={"provider": "alpaca", "activity_id": raw.get("id")}) from exc

    def _client_order_id_for(self, order_id: str) -> str:
        known = self._client_order_ids.get(order_id)
        if known is not None:
            return known
        call = _Call("get_order", f"order {order_id} (named by a fill)", values={"order_id": order_id},
                     details={"broker_order_id": order_id})
        return self._order(self._retrying(call, partial(self._client.get_order_by_id, order_id))).client_order_id

    def _find_order(self, client_order_id: str) -> BrokerOrder | None:
        call = _Call("get_order", f"order with client_order_id {client_order_id!r}",
                     details={"client_order_id": client_order_id})
        try:
            return self._order(self._once(call, partial(self._client.get_order_by_client_id, client_order_id)))
        except NotFoundError:
            return None

    def _order(self, raw: Any) -> BrokerOrder:
        order = _broker_order(raw)
        self._client_order_ids[order.broker_order_id] = order.client_order_id
        return order

    def _once(self, call: _Call, send: Callable[[], _T]) -> _T:
        try:
            return send()
        except APIError as exc:
            raise _api_failure(exc, call) from exc
        except (requests.RequestException, OSError) as exc:
            raise _transport_failure(exc, call) from exc
        except ValueError as exc:  # alpaca-py's own checks (e.g. an order id that is not a UUID)
            raise InvalidInput(f"alpaca-py refused {call.subject}: {exc}",
                               details={"provider": "alpaca", "operation": call.operation,
                                        **call.details}) from exc

    def _retrying(self, call: _Call, send: Callable[[], _T], *, transient_safe: bool = True) -> _T:
        retries = 0
        while True:
            try:
                return self._once(call, send)
            except TransientProviderError as exc:
                exc.details["attempts"] = retries + 1
                if not transient_safe and not isinstance(exc, RateLimited):
                    exc.details["outcome_unknown"] = True
                    raise
                if retries >= self._max_retries:
                    raise
                self._pause(retries)
                retries += 1

    def _pause(self, retries: int) -> None:
        self._sleep(self._backoff_seconds * 2**retries)


# ---------------------------------------------------------------------- requests


def _check_client_order_id(client_order_id: Any) -> None:
    if not isinstance(client_order_id, str) or not client_order_id or len(client_order_id) > 128:
        raise InvalidInput(f"client_order_id must be 1-128 characters, was {client_order_id!r}")


def _wire_float(value: Decimal, field_name: str) -> float:
    # alpaca-py's request models are floats: refuse a value the float would change.
    number = to_float(value)
    if Decimal(repr(number)) != value:
        raise InvalidInput(
            f"{field_name} {value} cannot be sent exactly through alpaca-py (float round trip gives {number!r})"
        )
    return number


def _alpaca_order_request(order: OrderRequest) -> AlpacaOrderRequest:
    if order.parent_id or order.oco_group:
        raise InvalidInput(
            f"the Alpaca adapter sends simple orders only; order {order.client_order_id!r} has "
            f"parent_id={order.parent_id!r}, oco_group={order.oco_group!r}"
        )
    common: dict[str, Any] = {
        "symbol": order.symbol,
        "qty": _wire_float(order.quantity, "quantity"),
        "side": AlpacaSide(order.side.value),
        "time_in_force": AlpacaTimeInForce(order.time_in_force.value),
        "client_order_id": order.client_order_id,
    }

    def price(name: str) -> float:
        value = getattr(order, name)
        assert value is not None  # OrderRequest validated it for this order type
        return _wire_float(value, name)

    try:
        match order.order_type:
            case OrderType.MARKET:
                return MarketOrderRequest(**common)
            case OrderType.LIMIT:
                return LimitOrderRequest(**common, limit_price=price("limit_price"))
            case OrderType.STOP:
                return StopOrderRequest(**common, stop_price=price("stop_price"))
            case OrderType.STOP_LIMIT:
                return StopLimitOrderRequest(**common, stop_price=price("stop_price"),
                                             limit_price=price("limit_price"))
            case OrderType.TRAILING_STOP:
                if order.trail_amount is not None:
                    return TrailingStopOrderRequest(**common, trail_price=price("trail_amount"))
                return TrailingStopOrderRequest(**common, trail_percent=price("trail_percent"))
    except InvalidInput:
        raise
    except ValueError as exc:  # pydantic's ValidationError
        raise InvalidInput(f"alpaca-py refused order {order.client_order_id!r}: {exc}") from exc
    raise InvalidInput(f"order_type {order.order_type!r} has no Alpaca equivalent")


def _describe(order: OrderRequest) -> str:
    # "order 'c-1' (buy 100 AAPL limit 290.12 day)"
    parts = [order.side.value, str(order.quantity), order.symbol]
    match order.order_type:
        case OrderType.MARKET:
            parts.append("market")
        case OrderType.LIMIT:
            parts.append(f"limit {order.limit_price}")
        case OrderType.STOP:
            parts.append(f"stop {order.stop_price}")
        case OrderType.STOP_LIMIT:
            parts.append(f"stop {order.stop_price} limit {order.limit_price}")
        case OrderType.TRAILING_STOP:
            trail = order.trail_amount if order.trail_amount is not None else f"{order.trail_percent}%"
            parts.append(f"trailing stop {trail}")
    parts.append(order.time_in_force.value)
    return f"order {order.client_order_id!r} ({' '.join(parts)})"


def _our_values(order: OrderRequest) -> dict[str, str]:
    values = {"client_order_id": order.client_order_id, "symbol": order.symbol, "side": order.side.value,
              "qty": str(order.quantity), "type": order.order_type.value,
              "time_in_force": order.time_in_force.value}
    for alpaca_name, ours in (("limit_price", order.limit_price), ("stop_price", order.stop_price),
                              ("trail_price", order.trail_amount), ("trail_percent", order.trail_percent)):
        if ours is not None:
            values[alpaca_name] = str(ours)
    return values


# ---------------------------------------------------------------------- failures


def _code(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.strip().isdigit():
        return int(value.strip())
    return None


def _api_failure(exc: APIError, call: _Call) -> BifrostError:
    response = exc.response
    status = int(exc.status_code or 0)
    text = response.text if response is not None else str(exc)
    try:
        body = json.loads(text)
    except ValueError:
        body = None
    if isinstance(body, Mapping):
        code = _code(body.get("code"))
        message = str(body.get("message") or "").strip()
        extra = {k: v for k, v in body.items() if k not in ("code", "message")}
    else:
        code, message, extra = None, " ".join(text.split())[:200], {}
    if not message and response is not None:
        message = response.reason or ""
    reason = f"{message} (HTTP {status}" + (f", code {code}" if code is not None else "") + ")"
    details: dict[str, Any] = {"provider": "alpaca", "operation": call.operation, "status": status,
                               "broker_code": code, "broker_message": message, **call.details}
    if extra:
        details["broker_fields"] = extra
    subject = call.subject
    if status == 401:
        return BrokerAuthenticationFailed("Alpaca rejected the API key (401 unauthorized)", details=details)
    if status == 403:
        if call.order_operation:
            return OrderRejected(f"Alpaca rejected {subject}: {reason}", broker_code=code,
                                 broker_message=message, details=details)
        return PermissionDenied(f"Alpaca refused access to {subject}: {reason}", details=details)
    if status == 404:
        return NotFoundError(f"Alpaca has no {call.missing or subject}: {reason}", details=details)
    if status == 422 and call.operation == "cancel":
        return OrderRejected(f"Alpaca cannot carry out {subject}: {reason}", broker_code=code,
                             broker_message=message, details=details)
    if status in (400, 422):
        match = _FIELD_RE.search(message)
        if match is None:
            return InvalidInput(f"Alpaca refused {subject}: {reason}", details=details)
        broker_field = match.group(1)
        ours = _OUR_FIELD.get(broker_field, broker_field)
        details.update(field=ours, broker_field=broker_field)
        value = call.values.get(broker_field)
        named = f"{ours}={value}" if value is not None else ours
        return InvalidInput(f"Alpaca refused {named} for {subject}: {reason}", details=details)
    if status == 429:
        return RateLimited(f"Alpaca rate-limited the request for {subject}: {reason}", details=details)
    if status == 408 or status >= 500:
        return TransientProviderError(f"Alpaca failed to serve the request for {subject}: {reason}",
                                      details=details)
    return ProviderError(f"Alpaca refused the request for {subject}: {reason}", details=details)


def _transport_failure(exc: BaseException, call: _Call) -> ProviderError:
    transient = (requests.Timeout, requests.ConnectionError, requests.exceptions.ChunkedEncodingError,
                 TimeoutError, ConnectionError)
    details = {"provider": "alpaca", "operation": call.operation, "error": type(exc).__name__, **call.details}
    reason = f"{type(exc).__name__}: {exc}"
    if isinstance(exc, transient):
        return TransientProviderError(f"The request to Alpaca for {call.subject} failed in transit ({reason})",
                                      details=details)
    return ProviderError(f"The request to Alpaca for {call.subject} failed ({reason})", details=details)


# ---------------------------------------------------------------------- responses


def _as_list(raw: Any, call: _Call) -> list[Mapping[str, Any]]:
    if raw is None:
        return []
    if not isinstance(raw, list) or not all(isinstance(item, Mapping) for item in raw):
        raise ProviderError(f"Alpaca answered {call.subject} with {type(raw).__name__}, not a list of objects",
                            details={"provider": "alpaca", "operation": call.operation})
    return raw


def _body(item: Mapping[str, Any]) -> Mapping[str, Any]:
    # One item of a 207 multi-status answer: its "body" object, or none.
    body = item.get("body")
    return body if isinstance(body, Mapping) else {}


def _decimal(value: Any, field_name: str) -> Decimal:
    if isinstance(value, float):  # a JSON number: keep the digits Alpaca sent
        value = repr(value)
    return to_decimal(value, field=field_name)


def _decimal_or_none(value: Any, field_name: str) -> Decimal | None:
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    return _decimal(value, field_name)


def _instant(value: Any, field_name: str) -> datetime:
    # Alpaca sends RFC 3339 with up to nanoseconds; Python keeps microseconds.
    try:
        parsed = datetime.fromisoformat(str(value).strip())
    except ValueError as exc:
        raise InvalidInput(f"{field_name} is not an RFC 3339 timestamp: {value!r}") from exc
    return ensure_utc(parsed, field=field_name)


def _instant_or_none(value: Any, field_name: str) -> datetime | None:
    return None if value in (None, "") else _instant(value, field_name)


def _fill_side(side: str) -> Side:
    word = side.strip().lower()
    if word == "buy":
        return Side.BUY
    if word in ("sell", "sell_short"):
        return Side.SELL
    raise InvalidInput(f"fill side must be buy, sell or sell_short, was {side!r}")


def _broker_order(raw: Any) -> BrokerOrder:
    if not isinstance(raw, Mapping):
        raise ProviderError(f"Alpaca sent an order that is not an object: {type(raw).__name__}",
                            details={"provider": "alpaca"})
    try:
        quantity = _decimal_or_none(raw.get("qty"), "qty")
        filled = _decimal_or_none(raw.get("filled_qty"), "filled_qty") or Decimal(0)
        broker_status = str(raw["status"])
        return BrokerOrder(
            client_order_id=str(raw["client_order_id"]),
            broker_order_id=str(raw["id"]),
            symbol=str(raw["symbol"]).strip(),
            side=Side(str(raw["side"])),
            quantity=quantity,
            filled_quantity=filled,
            avg_fill_price=_decimal_or_none(raw.get("filled_avg_price"), "filled_avg_price"),
            status=order_status_from_alpaca(broker_status, quantity=quantity, filled_quantity=filled),
            order_type=OrderType(str(raw.get("type") or raw["order_type"])),
            time_in_force=TimeInForce(str(raw["time_in_force"])),
            limit_price=_decimal_or_none(raw.get("limit_price"), "limit_price"),
            stop_price=_decimal_or_none(raw.get("stop_price"), "stop_price"),
            trail_price=_decimal_or_none(raw.get("trail_price"), "trail_price"),
            trail_percent=_decimal_or_none(raw.get("trail_percent"), "trail_percent"),
            notional=_decimal_or_none(raw.get("notional"), "notional"),
            submitted_at=_instant_or_none(raw.get("submitted_at"), "submitted_at"),
            updated_at=_instant_or_none(raw.get("updated_at"), "updated_at"),
            broker_status=broker_status,
        )
    except (KeyError, TypeError, ValueError) as exc:
        raise ProviderError(f"Alpaca sent an order the adapter cannot read ({type(exc).__name__}: {exc})",
                            details={"provider": "alpaca", "broker_order_id": raw.get("id")}) from exc


def _position(raw: Mapping[str, Any]) -> BrokerPosition:
    try:
        quantity = _decimal(raw["qty"], "qty")
        if str(raw.get("side", "")).lower() == "short" and quantity > 0:
            quantity = -quantity  # signed, whichever way Alpaca sent it
        return BrokerPosition(
            symbol=str(raw["symbol"]).strip(),  # the docs example has "AAPL "
            quantity=quantity,
            avg_entry_price=_decimal(raw["avg_entry_price"], "avg_entry_price"),
            market_value=_decimal_or_none(raw.get("market_value"), "market_value"),
            cost_basis=_decimal(raw["cost_basis"], "cost_basis"),
        )
    except (KeyError, TypeError, ValueError) as exc:
        raise ProviderError(f"Alpaca sent a position the adapter cannot read ({type(exc).__name__}: {exc})",
                            details={"provider": "alpaca", "symbol": raw.get("symbol")}) from exc


def _account(raw: Mapping[str, Any]) -> BrokerAccount:
    try:
        multiplier = _decimal(raw["multiplier"], "multiplier")
        blocked = any(raw.get(k) is True for k in ("trading_blocked", "account_blocked",
                                                  "trade_suspended_by_user"))
        return BrokerAccount(
            account_id=str(raw["id"]),
            account_number=str(raw.get("account_number") or ""),
            status=str(raw["status"]),
            currency=str(raw.get("currency") or "USD"),
            cash=_decimal(raw["cash"], "cash"),
            equity=_decimal(raw["equity"], "equity"),
            buying_power=_decimal(raw["buying_power"], "buying_power"),
            daytrade_count=int(str(raw.get("daytrade_count", 0))),
            pattern_day_trader=raw.get("pattern_day_trader") is True,
            multiplier=multiplier,
            account_type=AccountType.CASH if multiplier == 1 else AccountType.MARGIN,
            trading_blocked=blocked,
        )
    except (KeyError, TypeError, ValueError) as exc:
        raise ProviderError(f"Alpaca sent an account the adapter cannot read ({type(exc).__name__}: {exc})",
                            details={"provider": "alpaca"}) from exc
