"""Positions and balances derived from the journal.

The ledger keeps running balances for speed; the functions here recompute them
from journal entries alone, which is what :meth:`Ledger.reconcile` compares
against.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from decimal import ROUND_HALF_EVEN, Decimal
from typing import TYPE_CHECKING

from bifrost.core.money import PRICE_PLACES

if TYPE_CHECKING:
    from bifrost.portfolio.ledger import Account, JournalEntry

__all__ = ["Position", "balances_from_journal", "quantities_from_journal"]

_ZERO = Decimal(0)
_PRICE_QUANTUM = Decimal(1).scaleb(-PRICE_PLACES)


@dataclass(frozen=True, slots=True, kw_only=True)
class Position:
    """A holding in one symbol as the ledger sees it.

    Attributes
    ----------
    quantity
        Signed: negative for a short position.
    cost
        Balance of the position account: the gross trade value of the open lots
        (commission and fees are expensed, not capitalised), negative for a short.
    basis
        Tax basis of the open lots (cost plus allocated fees and adjustments); for a
        short position, the net proceeds of the open short lots.
    """

    symbol: str
    quantity: Decimal
    cost: Decimal
    basis: Decimal
    currency: str = "USD"

    @property
    def average_cost(self) -> Decimal:
        """Gross cost per share (positive for long and short), to 6 places; zero when flat."""
        if not self.quantity:
            return _ZERO
        return (self.cost / self.quantity).quantize(_PRICE_QUANTUM, rounding=ROUND_HALF_EVEN)

    @property
    def is_flat(self) -> bool:
        return not self.quantity


def balances_from_journal(entries: Iterable[JournalEntry]) -> dict[Account, Decimal]:
    """Sum the lines of ``entries`` per account; accounts that net to zero are left out."""
    totals: dict[Account, Decimal] = {}
    for entry in entries:
        for account, amount in entry.lines:
            totals[account] = totals.get(account, _ZERO) + amount
    return {account: amount for account, amount in totals.items() if amount}


def quantities_from_journal(entries: Iterable[JournalEntry]) -> dict[str, Decimal]:
    """Sum the position quantity changes of ``entries`` per symbol; flat symbols are left out."""
    totals: dict[str, Decimal] = {}
    for entry in entries:
        for symbol, quantity in entry.quantities:
            totals[symbol] = totals.get(symbol, _ZERO) + quantity
    return {symbol: quantity for symbol, quantity in totals.items() if quantity}
