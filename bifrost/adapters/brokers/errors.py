"""Errors a broker adapter raises beyond the core hierarchy.

Everything else a broker can answer maps onto ``bifrost.core.errors``:
``InvalidInput`` (a field the broker refused), ``NotFoundError`` (no such order),
``RateLimited`` / ``TransientProviderError`` (retryable) and ``ProviderError``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from bifrost.core.errors import OrderRejected as CoreOrderRejected
from bifrost.core.errors import PermissionDenied

__all__ = ["BrokerAuthenticationFailed", "OrderRejected"]


class OrderRejected(CoreOrderRejected):
    """The broker refused an order operation because of the account's or order's state.

    Insufficient buying power, not enough shares to sell, shorting not allowed, an
    order that is no longer cancelable. Not retryable: the same request meets the
    same state.

    Parameters
    ----------
    message
        Human message naming the order and the broker's reason.
    broker_code
        The broker's own error code (Alpaca: 8 digits, e.g. ``40310000``), or
        ``None`` when the refusal was decided locally from the order's state.
    broker_message
        The broker's message as sent.
    details
        Extra fields (the broker's body fields such as ``buying_power``).
    """

    code = "order_rejected"

    def __init__(
        self,
        message: str,
        *,
        broker_code: int | None = None,
        broker_message: str = "",
        details: Mapping[str, Any] | None = None,
    ) -> None:
        merged = dict(details or {})
        merged.setdefault("broker_code", broker_code)
        merged.setdefault("broker_message", broker_message)
        super().__init__(message, details=merged)
        self.broker_code = broker_code
        self.broker_message = broker_message


class BrokerAuthenticationFailed(PermissionDenied):
    """The broker rejected our credentials (HTTP 401): wrong, revoked or paper/live mixed up."""

    code = "broker_authentication_failed"
