"""A requests transport that answers Alpaca Trading API requests from recorded responses.

Mount it on the broker's ``requests.Session`` for ``https://`` (and ``http://``). It
never opens a connection. Alpaca's recordings mostly have no request URL (docs
examples, SDK payloads, quoted error bodies; see ``recorded/SOURCES.md``), so
nothing is matched automatically: each test says which recording answers which
``METHOD /path``:

- ``serve(method, path, file)``: a recording from ``MANIFEST.json``, with the HTTP
  status and content type the manifest gives it (403 for the buying-power body,
  207 for the multi-status bodies). ``when`` restricts it to requests whose query
  has the given values.
- ``serve_body(method, path, body, status=...)``: a body the test built (a
  recording wrapped in a list, or with fields changed). Tests say what they
  derived and from which file.
- ``script(method, path, steps)``: the next requests to the path get these
  answers, in order, before any served one: an ``int`` (that status with its
  reason phrase as a plain-text body; no recording of Alpaca's 429/5xx bodies
  exists), a ``Reply`` (status and JSON body), or an exception raised from the
  transport, as a timeout would be.

Anything else raises ``UnmappedRequest`` and is listed in ``unmapped``.
"""

from __future__ import annotations

import json
from collections import deque
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from http import HTTPStatus
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, unquote, urlsplit

from requests import PreparedRequest, Response
from requests.adapters import HTTPAdapter

from tests.network import SleepRecorder, UnmappedRequest, recorded_manifest, replay_response

__all__ = ["AlpacaReplayAdapter", "ReplayCall", "Reply", "SleepRecorder", "UnmappedRequest"]

_JSON = "application/json"


@dataclass(frozen=True, slots=True)
class Reply:
    """A scripted answer: a status and a JSON body (``None``: empty body)."""

    status: int
    body: Any = None


@dataclass(frozen=True, slots=True)
class ReplayCall:
    """One request the replay answered (or refused)."""

    method: str
    host: str
    path: str
    params: dict[str, str]
    json: Any
    headers: dict[str, str]
    timeout: Any
    answer: str  # recording file, "body-<status>", "script-<status>", exception name, "UNMAPPED"


@dataclass(frozen=True, slots=True)
class _Served:
    status: int
    body: bytes
    content_type: str
    answer: str
    when: dict[str, str] = field(default_factory=dict)

    def fits(self, params: Mapping[str, str]) -> bool:
        return all(params.get(k) == v for k, v in self.when.items())


class AlpacaReplayAdapter(HTTPAdapter):
    """Answer Alpaca requests from recordings and scripts; refuse everything else.

    Parameters
    ----------
    data_dir
        The shared data folder holding ``recorded/MANIFEST.json``.
    """

    def __init__(self, data_dir: Path) -> None:
        super().__init__()
        self._root, entries = recorded_manifest(data_dir, "alpaca/")
        self.manifest: dict[str, dict[str, Any]] = {entry["file"]: entry for entry in entries}
        self._served: dict[tuple[str, str], list[_Served]] = {}
        self._scripts: dict[tuple[str, str], deque[int | Reply | BaseException]] = {}
        self.calls: list[ReplayCall] = []
        self.unmapped: list[str] = []

    # ------------------------------------------------------------------ test controls

    def serve(self, method: str, path: str, file: str, *, when: Mapping[str, str] | None = None) -> None:
        """Answer ``METHOD path`` with recording ``file`` (status and type from the manifest)."""
        if file not in self.manifest:
            raise KeyError(f"no Alpaca recording {file!r} in the manifest")
        entry = self.manifest[file]
        body = (self._root / file).read_bytes()
        self._add(method, path, _Served(int(entry["status"]), body, entry["content_type"], file,
                                        {k: str(v) for k, v in (when or {}).items()}))

    def serve_body(self, method: str, path: str, body: Any, *, status: int = 200,
                   when: Mapping[str, str] | None = None) -> None:
        """Answer ``METHOD path`` with ``body`` as JSON (``None``: an empty body, as for 204)."""
        raw = b"" if body is None else json.dumps(body).encode()
        self._add(method, path, _Served(status, raw, _JSON, f"body-{status}",
                                        {k: str(v) for k, v in (when or {}).items()}))

    def script(self, method: str, path: str, steps: Sequence[int | Reply | BaseException]) -> None:
        """Answer the next requests to ``METHOD path`` with ``steps``, then fall back to served ones."""
        self._scripts.setdefault((method.upper(), path), deque()).extend(steps)

    def calls_to(self, method: str, path: str) -> list[ReplayCall]:
        """Requests made to ``METHOD path``, in order."""
        return [c for c in self.calls if c.method == method.upper() and c.path == path]

    def _add(self, method: str, path: str, served: _Served) -> None:
        # Most specific ``when`` first, then installation order.
        entries = self._served.setdefault((method.upper(), path), [])
        entries.append(served)
        entries.sort(key=lambda s: -len(s.when))

    # ------------------------------------------------------------------ transport

    def send(  # type: ignore[override]
        self,
        request: PreparedRequest,
        stream: bool = False,
        timeout: Any = None,
        verify: Any = True,
        cert: Any = None,
        proxies: Any = None,
    ) -> Response:
        method = (request.method or "GET").upper()
        parts = urlsplit(request.url or "")
        path = unquote(parts.path)
        params = dict(parse_qsl(parts.query, keep_blank_values=True))
        raw_body = request.body
        body = json.loads(raw_body) if isinstance(raw_body, str | bytes) and raw_body else None
        headers = {k: str(v) for k, v in request.headers.items() if k.lower().startswith("apca-")}

        def log(answer: str) -> None:
            self.calls.append(ReplayCall(method=method, host=parts.hostname or "", path=path, params=params,
                                         json=body, headers=headers, timeout=timeout, answer=answer))

        steps = self._scripts.get((method, path))
        if steps:
            step = steps.popleft()
            if isinstance(step, BaseException):
                log(type(step).__name__)
                raise step
            if isinstance(step, Reply):
                log(f"script-{step.status}")
                raw = b"" if step.body is None else json.dumps(step.body).encode()
                return self._response(request, step.status, raw, _JSON)
            log(f"script-{step}")
            return self._response(request, step, HTTPStatus(step).phrase.encode(), "text/plain; charset=utf-8")

        for served in self._served.get((method, path), []):
            if served.fits(params):
                log(served.answer)
                return self._response(request, served.status, served.body, served.content_type)

        log("UNMAPPED")
        description = f"{method} {request.url}"
        self.unmapped.append(description)
        raise UnmappedRequest(f"replay has no answer for {description}")

    def _response(self, request: PreparedRequest, status: int, body: bytes, content_type: str) -> Response:
        return replay_response(self, request, status, body, content_type)
