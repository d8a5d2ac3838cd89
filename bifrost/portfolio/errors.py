"""Errors of the portfolio ledger, each a subclass of the matching core error."""

from __future__ import annotations

from bifrost.core.errors import InvalidInput, StateConflict

__all__ = ["InsufficientFunds", "InvalidLotSelection", "LeverageExceeded", "ReconciliationError",
           "ShortSaleRefused"]


class InsufficientFunds(StateConflict):
    """A buy or withdrawal that needs more cash than a cash account holds."""

    code = "insufficient_funds"


class LeverageExceeded(InsufficientFunds):
    """A trade or withdrawal that would take a margin account past its leverage limit."""

    code = "leverage_exceeded"


class ShortSaleRefused(StateConflict):
    """A sell beyond the long position in an account that may not sell short."""

    code = "short_sale_refused"


class InvalidLotSelection(InvalidInput):
    """A specific-identification lot selection that names unknown lots or the wrong quantity."""

    code = "invalid_lot_selection"


class ReconciliationError(StateConflict):
    """Running balances, positions or lots disagree with a recomputation from the journal."""

    code = "reconciliation_failed"
