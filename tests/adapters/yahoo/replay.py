"""A requests transport that answers Yahoo Finance requests from recorded responses.

Mount it on a ``requests.Session`` for both ``https://`` and ``http://``. It never
opens a connection: every request is answered from
``<shared data>/recorded/MANIFEST.json`` (status, content type and body of a real
recording), from the small set of auth routes yfinance needs, or from a script
installed by the test. Anything else raises ``UnmappedRequest`` and is listed in
``unmapped`` so the test fails loudly.

Matching (query1 and query2 are the same API, so the host is compared as one):

- ``/v8/finance/chart/{symbol}``: ``interval``, ``period1``, ``period2`` and
  ``range`` must be equal, and ``includePrePost`` too for intraday intervals (it
  changes nothing for daily bars). ``events`` is ignored: the recordings asked for
  different event sets than yfinance does (see each file's ``url``).
- ``/v10/finance/quoteSummary/{symbol}``: the requested ``modules`` must be a subset
  of the recorded ones; an exact match wins, then the smallest superset.
- ``/v7/finance/quote``: the same set of ``symbols``.
- any other path: every recorded query parameter must be present and equal.

A test may also ``serve`` a recording for a path, for every request to it or, with
``when``, only for requests whose query has the given values (say, the provider's
``interval=3mo`` split-history request); such overrides are tried first, and a
request no override fits goes through the matching above and is refused if nothing
matches.

``crumb`` is never compared. Auth routes: ``/v1/test/getcrumb`` returns a plain-text
token; ``fc.yahoo.com`` and ``guce.yahoo.com/consent`` return a bare 404 page (no
cookie, no consent form), so yfinance goes on with its basic cookie strategy.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from http import HTTPStatus
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, unquote, urlsplit

from requests import PreparedRequest, Response
from requests.adapters import HTTPAdapter

from tests.network import SleepRecorder, UnmappedRequest, recorded_manifest, replay_response

__all__ = [
    "CRUMB",
    "FakeNow",
    "ReplayCall",
    "SleepRecorder",
    "UnmappedRequest",
    "YahooReplayAdapter",
]

CRUMB = "replay-crumb"

_API_HOSTS = {"query1.finance.yahoo.com", "query2.finance.yahoo.com"}
_API = "query.finance.yahoo.com"
_CHART_PREFIX = "/v8/finance/chart/"
_QUOTE_SUMMARY_PREFIX = "/v10/finance/quoteSummary/"
_QUOTE_PATH = "/v7/finance/quote"
_CHART_KEYS = ("interval", "period1", "period2", "range")
# Not empty: yfinance parses the consent page with BeautifulSoup, which warns on b"".
_NOT_FOUND_PAGE = b"<html><body>Not Found</body></html>"


class FakeNow:
    """A ``now`` for providers under test: returns ``at``, which the test sets.

    It starts unset (unless given), and asking an unset clock fails the test: a
    test whose ``history`` call gets as far as the split-history decision must say
    what "now" is, since that decides whether a second chart request is made.
    """

    def __init__(self, at: datetime | None = None) -> None:
        self.at = at
        self.calls = 0

    def __call__(self) -> datetime:
        self.calls += 1
        if self.at is None:
            raise AssertionError("the provider asked for 'now' but the test did not set clock.at")
        return self.at


@dataclass(frozen=True, slots=True)
class ReplayCall:
    """One request the replay answered (or refused)."""

    method: str
    host: str
    path: str
    params: dict[str, str]
    answer: (
        str  # recording file, "crumb", "auth-404", "script-<status>", exception name, "UNMAPPED"
    )


@dataclass(frozen=True, slots=True)
class _Recording:
    file: str
    host: str
    path: str
    params: dict[str, str]
    status: int
    content_type: str


@dataclass(frozen=True, slots=True)
class _Override:
    recording: _Recording
    when: dict[str, str]  # empty: any query

    def fits(self, params: Mapping[str, str]) -> bool:
        return all(params.get(k) == v for k, v in self.when.items())


def _split_url(url: str) -> tuple[str, str, dict[str, str]]:
    parts = urlsplit(url)
    host = (parts.hostname or "").lower()
    if host in _API_HOSTS:
        host = _API
    params = dict(parse_qsl(parts.query, keep_blank_values=True))
    params.pop("crumb", None)
    return host, unquote(parts.path), params


def _is_intraday(interval: str | None) -> bool:
    interval = (interval or "").lower()
    return (interval.endswith("m") and not interval.endswith("mo")) or interval.endswith("h")


def _modules(params: Mapping[str, str]) -> frozenset[str]:
    return frozenset(m for m in params.get("modules", "").split(",") if m)


def _symbols(params: Mapping[str, str]) -> frozenset[str]:
    return frozenset(s for s in params.get("symbols", "").split(",") if s)


class YahooReplayAdapter(HTTPAdapter):
    """Answer Yahoo requests from recordings; refuse everything else.

    Parameters
    ----------
    data_dir
        The shared data folder holding ``recorded/MANIFEST.json``.
    """

    def __init__(self, data_dir: Path) -> None:
        super().__init__()
        self._root, entries = recorded_manifest(data_dir, "yahoo/")
        self.recordings: list[_Recording] = []
        for entry in entries:
            # A few URLs carry a note after the query, e.g. " (reconstructed)".
            host, path, params = _split_url(entry["url"].split(" ", 1)[0])
            self.recordings.append(
                _Recording(
                    file=entry["file"],
                    host=host,
                    path=path,
                    params=params,
                    status=int(entry["status"]),
                    content_type=entry["content_type"],
                )
            )
        self._by_file = {r.file: r for r in self.recordings}
        self._scripts: dict[str, deque[int | BaseException]] = {}
        self._overrides: dict[str, list[_Override]] = {}
        self.calls: list[ReplayCall] = []
        self.unmapped: list[str] = []

    # ------------------------------------------------------------------ test controls

    def script(self, path: str, steps: Sequence[int | BaseException]) -> None:
        """Answer the next requests to ``path`` with ``steps``, then fall back to recordings.

        An ``int`` step answers with that HTTP status and its reason phrase as a
        plain-text body; an exception step is raised from the transport, as a
        timeout or reset would be.
        """
        self._scripts.setdefault(path, deque()).extend(steps)

    def serve(self, path: str, file: str, *, when: Mapping[str, str] | None = None) -> None:
        """Answer requests to ``path`` with recording ``file``, whatever the rest of their query.

        Without ``when``, every request to ``path``; with it, only those whose query
        has each of its values (e.g. ``{"interval": "3mo"}``), and other requests are
        matched as usual. When several overrides fit, the one with the most ``when``
        values wins, then the one installed first. For tests that reuse a recording
        made with other parameters (say so in the test).
        """
        if file not in self._by_file:
            raise KeyError(f"no recording {file!r} in the manifest")
        override = _Override(self._by_file[file], {k: str(v) for k, v in (when or {}).items()})
        self._overrides.setdefault(path, []).append(override)

    def calls_to(self, path: str) -> list[ReplayCall]:
        """Requests made to ``path`` (any API host), in order."""
        return [c for c in self.calls if c.path == path]

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
        host, path, params = _split_url(request.url or "")

        def log(answer: str) -> None:
            self.calls.append(
                ReplayCall(method=method, host=host, path=path, params=params, answer=answer)
            )

        if host == "fc.yahoo.com" or (host == "guce.yahoo.com" and path == "/consent"):
            log("auth-404")
            return self._response(request, 404, _NOT_FOUND_PAGE, "text/html;charset=utf-8")
        if host == _API and path == "/v1/test/getcrumb":
            log("crumb")
            return self._response(request, 200, CRUMB.encode(), "text/plain;charset=utf-8")

        steps = self._scripts.get(path)
        if steps:
            step = steps.popleft()
            if isinstance(step, BaseException):
                log(type(step).__name__)
                raise step
            log(f"script-{step}")
            phrase = HTTPStatus(step).phrase
            return self._response(request, step, phrase.encode(), "text/plain;charset=utf-8")

        recording = self._override(path, params) if host == _API else None
        if recording is None and method == "GET":
            recording = self._match(host, path, params)
        if recording is None:
            log("UNMAPPED")
            description = f"{method} {request.url}"
            self.unmapped.append(description)
            known = sorted(r.file for r in self.recordings if r.path == path)
            raise UnmappedRequest(
                f"replay has no recording for {description}; recordings for this path: {known or 'none'}"
            )
        log(recording.file)
        body = (self._root / recording.file).read_bytes()
        return self._response(request, recording.status, body, recording.content_type)

    # ------------------------------------------------------------------ helpers

    def _override(self, path: str, params: Mapping[str, str]) -> _Recording | None:
        fitting = [o for o in self._overrides.get(path, []) if o.fits(params)]
        if not fitting:
            return None
        return max(fitting, key=lambda o: len(o.when)).recording  # max keeps the first of ties

    def _match(self, host: str, path: str, params: Mapping[str, str]) -> _Recording | None:
        candidates = [r for r in self.recordings if r.host == host and r.path == path]
        if path.startswith(_CHART_PREFIX):

            def chart_matches(r: _Recording) -> bool:
                if any(params.get(k) != r.params.get(k) for k in _CHART_KEYS):
                    return False
                if _is_intraday(params.get("interval")):
                    wanted = params.get("includePrePost", "false").lower()
                    return wanted == r.params.get("includePrePost", "false").lower()
                return True

            matches = [r for r in candidates if chart_matches(r)]
        elif path.startswith(_QUOTE_SUMMARY_PREFIX):
            wanted = _modules(params)
            matches = sorted(
                (r for r in candidates if wanted and wanted <= _modules(r.params)),
                key=lambda r: len(_modules(r.params)),
            )
        elif path == _QUOTE_PATH:
            matches = [r for r in candidates if _symbols(r.params) == _symbols(params)]
        else:
            matches = [
                r for r in candidates if all(params.get(k) == v for k, v in r.params.items())
            ]
        return matches[0] if matches else None

    def _response(self, request: PreparedRequest, status: int, body: bytes, content_type: str) -> Response:
        return replay_response(self, request, status, body, content_type)
