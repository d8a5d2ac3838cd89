"""Errors of the indicator registry, each a subclass of the matching core error."""

from __future__ import annotations

from bifrost.core.errors import NotFoundError, StateConflict

__all__ = ["DuplicateIndicator", "UnknownIndicator"]


class UnknownIndicator(NotFoundError):
    """A name that no registered indicator has."""

    code = "unknown_indicator"


class DuplicateIndicator(StateConflict, ValueError):
    """A registration under a name that another indicator already holds."""

    code = "duplicate_indicator"
