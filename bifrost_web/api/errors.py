"""One handler maps every error to a consistent body: ``{"message", "code", "details"}``.

400/422 for invalid input, 404 for unknown resources, 409 for state conflicts,
403 for permissions, 401 for missing or wrong credentials. Unknown errors stay
500 and are logged.
"""

from __future__ import annotations

import logging

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404
from rest_framework import exceptions as drf
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from bifrost.core.errors import (
    BifrostError,
    ConfigurationError,
    DataQualityError,
    InvalidInput,
    NotFoundError,
    OrderRejected,
    PermissionDenied,
    ProviderError,
    RateLimited,
    StateConflict,
    TransientProviderError,
)

logger = logging.getLogger("bifrost.api")

_STATUS_BY_TYPE: list[tuple[type[BifrostError], int]] = [
    (DataQualityError, 422),
    (OrderRejected, 422),
    (InvalidInput, 400),
    (NotFoundError, 404),
    (StateConflict, 409),
    (PermissionDenied, 403),
    (RateLimited, 503),
    (TransientProviderError, 503),
    (ProviderError, 502),
    (ConfigurationError, 503),
]


def status_for(error: BifrostError) -> int:
    for error_type, status in _STATUS_BY_TYPE:
        if isinstance(error, error_type):
            return status
    return 500


def error_body(message: str, code: str, details: object | None = None) -> dict:
    return {"message": message, "code": code, "details": details if details is not None else {}}


def _flatten_drf_detail(detail: object) -> str:
    if isinstance(detail, dict):
        parts = []
        for key, value in detail.items():
            parts.append(f"{key}: {_flatten_drf_detail(value)}")
        return "; ".join(parts)
    if isinstance(detail, list):
        return "; ".join(_flatten_drf_detail(item) for item in detail)
    return str(detail)


def exception_handler(exc: Exception, context: dict) -> Response | None:
    if isinstance(exc, BifrostError):
        return Response(error_body(exc.message, exc.code, exc.details), status=status_for(exc))
    if isinstance(exc, DjangoValidationError):
        return Response(error_body("; ".join(exc.messages), "invalid_input"), status=400)
    if isinstance(exc, Http404):
        return Response(error_body(str(exc) or "not found", "not_found"), status=404)
    if isinstance(exc, DjangoPermissionDenied):
        return Response(error_body("permission denied", "permission_denied"), status=403)
    response = drf_exception_handler(exc, context)
    if response is None:
        logger.exception("unhandled API error", exc_info=exc)
        return Response(error_body("internal server error", "server_error"), status=500)
    if isinstance(exc, drf.ValidationError):
        response.data = error_body(_flatten_drf_detail(exc.detail), "invalid_input", exc.detail)
    else:
        code = exc.get_codes() if isinstance(exc, drf.APIException) else "error"
        if not isinstance(code, str):
            code = "error"
        response.data = error_body(_flatten_drf_detail(getattr(exc, "detail", str(exc))), code)
    return response
