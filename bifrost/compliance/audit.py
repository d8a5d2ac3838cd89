"""A tamper-evident, hash-chained audit log (pure functions; storage lives in the web app).

Each entry's hash is SHA-256 over the previous entry's hash and a canonical JSON of the
entry (sequence, time, actor, action, object, before, after): sorted keys, no spaces,
Decimals and datetimes as strings. Changing any stored field, removing an entry or
reordering entries breaks the chain from that entry on; :func:`verify_chain` names the
first entry that no longer matches.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any

__all__ = ["GENESIS_HASH", "ChainBreak", "entry_hash", "verify_chain"]

GENESIS_HASH = "0" * 64


def _default(value: Any) -> str:
    if isinstance(value, (Decimal, datetime, date)):
        return value.isoformat() if not isinstance(value, Decimal) else str(value)
    raise TypeError(f"audit entries hold JSON values, Decimals and datetimes, not {type(value).__name__}")


def entry_hash(previous_hash: str, fields: Mapping[str, Any]) -> str:
    """Return the hex SHA-256 chaining ``fields`` to ``previous_hash``."""
    body = json.dumps(dict(fields), sort_keys=True, separators=(",", ":"), default=_default)
    return hashlib.sha256(f"{previous_hash}\n{body}".encode()).hexdigest()


@dataclass(frozen=True, slots=True)
class ChainBreak:
    """The first entry whose stored hash or link does not match."""

    sequence: int
    reason: str


def verify_chain(entries: Iterable[tuple[int, str, str, Mapping[str, Any]]]) -> tuple[int, ChainBreak | None]:
    """Check ``(sequence, previous_hash, stored_hash, fields)`` entries in sequence order.

    Returns
    -------
    (checked, break)
        How many entries were checked and the first break (``None`` if the chain is intact).
    """
    expected_previous = GENESIS_HASH
    expected_sequence = None
    checked = 0
    for sequence, previous_hash, stored_hash, fields in entries:
        if expected_sequence is not None and sequence != expected_sequence:
            return checked, ChainBreak(sequence, f"sequence jumps from {expected_sequence - 1} to {sequence}: "
                                                 f"entries are missing")
        if previous_hash != expected_previous:
            return checked, ChainBreak(sequence, "previous_hash does not match the hash of the entry before it")
        if entry_hash(previous_hash, fields) != stored_hash:
            return checked, ChainBreak(sequence, "stored hash does not match the entry's contents: "
                                                 "the entry was altered")
        expected_previous = stored_hash
        expected_sequence = sequence + 1
        checked += 1
    return checked, None
