"""A fast path through a DRF view for its most common request: a token, a JSON body, a JSON answer.

DRF's request handling (the ``Request`` wrapper, content negotiation among three renderers and
three parsers, the serializer's per-instance copy of its fields, the response's renderer
chain) costs about 0.6 ms a request on this machine when the process was idle between
requests, which is the usual case for a what-if check: a third of its served latency.
:class:`FastJsonPost` answers a POST that carries ``Authorization: Token ...``, a body of
``Content-Type: application/json`` and accepts JSON, with the view's own token authentication
and a strict validator the view provides; everything else - another authentication, the
browsable API, a body the validator does not accept outright, any error - goes through DRF
exactly as before, so every error answer still comes from DRF and the project's exception
handler. The fast path is for handlers without side effects (a failed fast attempt is
repeated by DRF); the answer is rendered by DRF's own ``JSONRenderer`` with DRF's ``Allow``
and ``Vary`` headers, so both paths answer byte for byte the same (a test holds them to it).
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping
from decimal import Decimal
from typing import Any

from django.http import HttpResponse
from rest_framework.authentication import TokenAuthentication
from rest_framework.permissions import IsAuthenticated
from rest_framework.renderers import JSONRenderer

_DECIMAL = re.compile(r"[0-9]{1,18}(?:\.[0-9]{1,6})?")
_ACCEPTS_JSON = ("", "*/*", "application/json")
_renderer = JSONRenderer()


def strict_decimal(value: Any, places: int = 6) -> Decimal | None:
    """``value`` as DRF's ``DecimalField(max_digits=24, decimal_places=places)`` returns it, or ``None``
    when it is anything but a plain non-negative number with at most 18 integer and ``places``
    decimal digits (DRF then judges it)."""
    if isinstance(value, bool) or not isinstance(value, str | int):
        return None
    text = str(value)
    if not _DECIMAL.fullmatch(text):
        return None
    return Decimal(text).quantize(Decimal(1).scaleb(-places))


def strict_text(value: Any, max_length: int) -> str | None:
    """``value`` if it is a string DRF's ``CharField`` would keep unchanged (non-blank, no surrounding
    whitespace, at most ``max_length``), else ``None``."""
    if not isinstance(value, str) or not value or len(value) > max_length or value != value.strip():
        return None
    return value


class FastJsonPost:
    """Mixin for an ``APIView`` whose POST handler has no side effects.

    The view defines ``fast_validate(data) -> dict | None`` (the handler's keyword arguments,
    or ``None`` to leave the request to DRF) and ``fast_post(user, **kwargs) -> payload``.
    """

    fast_path = True
    fast_validate: Callable[[Mapping[str, Any]], dict | None]
    fast_post: Callable[..., Any]

    def dispatch(self, request, *args, **kwargs):
        if self.fast_path and request.method == "POST":
            response = self._fast(request, kwargs)
            if response is not None:
                return response
        return super().dispatch(request, *args, **kwargs)

    def _fast(self, request, url_kwargs: dict) -> HttpResponse | None:
        meta = request.META
        if (meta.get("CONTENT_TYPE") != "application/json" or meta.get("HTTP_ACCEPT", "") not in _ACCEPTS_JSON
                or not meta.get("HTTP_AUTHORIZATION", "").startswith("Token ")
                or list(self.permission_classes) != [IsAuthenticated] or self.throttle_classes):
            return None
        try:
            user = None
            for authenticator in self.get_authenticators():
                if isinstance(authenticator, TokenAuthentication):
                    found = authenticator.authenticate(request)
                    if found is not None:
                        user = found[0]
                        break
            if user is None or not user.is_authenticated:
                return None
            data = json.loads(request.body)
            if not isinstance(data, dict):
                return None
            arguments = self.fast_validate(data)
            if arguments is None:
                return None
            payload = self.fast_post(user, **url_kwargs, **arguments)
        except Exception:  # noqa: BLE001 - DRF repeats the request and answers the error its own way
            return None
        response = HttpResponse(_renderer.render(payload), content_type="application/json")
        response["Allow"] = ", ".join(self.allowed_methods)
        response["Vary"] = "Accept"
        return response
