"""The one error hierarchy of Bifrost.

Every error carries a human message naming field, value and rule, a stable
``code`` for API clients, and optional ``details``. Each also inherits the
matching built-in so callers may catch ``ValueError`` or ``LookupError``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar


class BifrostError(Exception):
    """Base of every Bifrost error."""

    code: ClassVar[str] = "error"
    retryable: ClassVar[bool] = False

    def __init__(self, message: str, *, details: Mapping[str, Any] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.details: dict[str, Any] = dict(details or {})

    def __str__(self) -> str:
        return self.message


class InvalidInput(BifrostError, ValueError):
    """Input that breaks a rule: a negative quantity, an inverted range, a malformed file."""

    code = "invalid_input"


class DataQualityError(InvalidInput):
    """Market data that failed validation; ``violations`` lists every problem found."""

    code = "data_quality"

    def __init__(self, message: str, *, violations: list[Any] | None = None,
                 details: Mapping[str, Any] | None = None) -> None:
        self.violations = list(violations or [])
        merged = dict(details or {})
        merged.setdefault("violations", [str(v) for v in self.violations[:50]])
        merged.setdefault("violation_count", len(self.violations))
        super().__init__(message, details=merged)


class NotFoundError(BifrostError, LookupError):
    """A resource that does not exist."""

    code = "not_found"


class UnknownSymbol(NotFoundError):
    """A symbol that no provider or store knows."""

    code = "unknown_symbol"


class NoDataInRange(NotFoundError):
    """A known symbol with no data in the requested range."""

    code = "no_data_in_range"


class StateConflict(BifrostError):
    """An operation that conflicts with the current state of a resource."""

    code = "conflict"


class OrderRejected(InvalidInput):
    """An order refused by a pre-trade check or a broker; the order is stored as rejected."""

    code = "order_rejected"


class PermissionDenied(BifrostError, PermissionError):
    """The actor may not perform this operation."""

    code = "permission_denied"


class ProviderError(BifrostError, RuntimeError):
    """A data or broker provider failed in a way that retrying will not fix."""

    code = "provider_error"


class TransientProviderError(ProviderError):
    """A provider failure that may pass: timeouts, 5xx, connection resets."""

    code = "provider_unavailable"
    retryable = True


class RateLimited(TransientProviderError):
    """The provider asked us to slow down (HTTP 429)."""

    code = "rate_limited"


class ConfigurationError(BifrostError, RuntimeError):
    """The platform is misconfigured (missing setting, unreachable service)."""

    code = "configuration_error"
