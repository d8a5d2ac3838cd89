"""Tax lots: opened by each acquisition, relieved by FIFO, LIFO, HIFO or specific identification.

A lot remembers the gross trade value of its open quantity (``cost``), the
commission and fees allocated to it when it opened (``fees``) and a
``basis_adjustment`` reserved for wash-sale and similar corrections. Long lots
come from buys; short lots come from short sales and are covered by buys. At any
moment the open lots of one symbol are all long or all short, because a fill that
crosses zero closes every lot before it opens one on the other side.

Amounts are ``Decimal`` quantized to the currency's minor unit. When a lot is
relieved in part, its cost, fees and adjustment are split pro rata and rounded;
the remainder keeps whatever rounding left, so totals never drift.
"""

from __future__ import annotations

from bisect import bisect_left, insort
from collections import deque
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import ROUND_HALF_EVEN, Decimal
from enum import StrEnum
from itertools import repeat
from operator import is_
from zoneinfo import ZoneInfo

from bifrost.core.errors import InvalidInput, StateConflict
from bifrost.core.money import quantize_quantity, to_decimal
from bifrost.portfolio.errors import InvalidLotSelection

__all__ = ["NEW_YORK", "LotBook", "LotMethod", "LotSelection", "RealisedGain", "TaxLot", "is_long_term",
           "one_year_after", "trade_date"]

NEW_YORK = ZoneInfo("America/New_York")
_ZERO = Decimal(0)


def trade_date(ts_event: datetime) -> date:
    """Return the US trade date of an instant: its calendar date in America/New_York."""
    return ts_event.astimezone(NEW_YORK).date()


def one_year_after(day: date) -> date:
    """Return the same calendar day one year later; 29 February maps to 1 March."""
    try:
        return day.replace(year=day.year + 1)
    except ValueError:  # 29 February into a common year
        return date(day.year + 1, 3, 1)


def long_term_from(acquired: date) -> date:
    """Return the first disposal date on which a lot acquired on ``acquired`` is long term.

    Notes
    -----
    Long term means held more than one year (IRS Publication 550). The holding period
    starts the day after acquisition and is counted in calendar months from that day
    (Rev. Rul. 66-7), so it exceeds a year on the first anniversary of its start: bought
    5 February 2023, long term from 6 February 2024 (Publication 550's example); bought
    28 February 2023 (start 1 March), sold 29 February 2024 is still short term. An
    anniversary of 29 February in a common year is 1 March.
    """
    return one_year_after(acquired + timedelta(days=1))


def is_long_term(acquired: date, disposed: date) -> bool:
    """Return whether a lot acquired on ``acquired`` and disposed of on ``disposed`` was held over a year."""
    return disposed >= long_term_from(acquired)


class LotMethod(StrEnum):
    """Which open lots a closing trade relieves first."""

    FIFO = "fifo"  # earliest acquired first
    LIFO = "lifo"  # latest acquired first
    HIFO = "hifo"  # highest per-share basis first (for short lots: lowest per-share proceeds first)
    SPECIFIC = "specific"  # the closing trade names lots and quantities


@dataclass(frozen=True, slots=True)
class LotSelection:
    """One line of a specific-identification instruction: relieve ``quantity`` of lot ``lot_id``."""

    lot_id: str
    quantity: Decimal

    def __post_init__(self) -> None:
        if not self.lot_id:
            raise InvalidInput("lot_id of a lot selection must not be empty")
        quantity = to_decimal(self.quantity, field="quantity")
        if quantity <= 0:
            raise InvalidInput(f"lot selection quantity must be positive, was {quantity}")
        object.__setattr__(self, "quantity", quantity)


@dataclass(frozen=True, slots=True, kw_only=True)
class TaxLot:
    """An open tax lot: what remains of one acquisition (or one short sale).

    Attributes
    ----------
    lot_id
        Deterministic id: the id of the fill that opened the lot.
    quantity
        Open quantity, always positive; ``short`` gives the direction.
    cost
        Gross trade value of the open quantity (quantity × fill price), positive.
        For a short lot this is the gross proceeds of the short sale.
    fees
        Commission and fees of the opening fill allocated to the open quantity.
    acquired
        Trade date (America/New_York) of the opening fill.
    basis_adjustment
        Added to the basis of a long lot, subtracted from the proceeds of a short
        lot (wash-sale and similar adjustments).
    """

    lot_id: str
    symbol: str
    quantity: Decimal
    cost: Decimal
    fees: Decimal
    acquired: date
    ts_event: datetime
    short: bool = False
    basis_adjustment: Decimal = _ZERO
    currency: str = "USD"

    def __post_init__(self) -> None:
        if self.quantity <= 0:
            raise InvalidInput(f"lot {self.lot_id} quantity must be positive, was {self.quantity}")

    @property
    def signed_quantity(self) -> Decimal:
        """Quantity with the sign of the position: negative for a short lot."""
        return -self.quantity if self.short else self.quantity

    @property
    def signed_cost(self) -> Decimal:
        """Cost with the sign it has in the position account: negative for a short lot."""
        return -self.cost if self.short else self.cost

    @property
    def basis(self) -> Decimal:
        """Tax basis of a long lot (cost + fees + adjustment); net proceeds of a short lot
        (cost - fees - adjustment)."""
        if self.short:
            return self.cost - self.fees - self.basis_adjustment
        return self.cost + self.fees + self.basis_adjustment

    @property
    def basis_per_share(self) -> Decimal:
        """``basis / quantity``, unrounded."""
        return self.basis / self.quantity


@dataclass(frozen=True, slots=True, kw_only=True)
class RealisedGain:
    """A realised gain or loss from relieving (part of) one lot.

    For a long lot ``proceeds`` is the sale value net of the sell fees allocated
    to it and ``basis`` its cost basis. For a short lot ``proceeds`` is the net
    proceeds of the short sale and ``basis`` the cost of covering, fees included.
    ``gain = proceeds - basis``. Gains on short lots are reported short term.
    """

    lot_id: str
    symbol: str
    closing_id: str
    short: bool
    quantity: Decimal
    proceeds: Decimal
    basis: Decimal
    gain: Decimal
    acquired: date
    disposed: date
    holding_days: int
    long_term: bool
    currency: str


@dataclass(slots=True)
class _Relief:
    # One lot touched by a closing trade: how much of it, and what is left.
    lot: TaxLot
    quantity: Decimal
    cost: Decimal
    fees: Decimal
    adjustment: Decimal
    remainder: TaxLot | None


def _part(amount: Decimal, numerator: Decimal, denominator: Decimal, quantum: Decimal) -> Decimal:
    if not amount:
        return _ZERO
    return (amount * numerator / denominator).quantize(quantum, rounding=ROUND_HALF_EVEN)


def _relieve(lot: TaxLot, quantity: Decimal, quantum: Decimal) -> _Relief:
    if quantity == lot.quantity:
        return _Relief(lot, quantity, lot.cost, lot.fees, lot.basis_adjustment, None)
    cost = _part(lot.cost, quantity, lot.quantity, quantum)
    fees = _part(lot.fees, quantity, lot.quantity, quantum)
    adjustment = _part(lot.basis_adjustment, quantity, lot.quantity, quantum)
    remainder = TaxLot(lot_id=lot.lot_id, symbol=lot.symbol, quantity=lot.quantity - quantity,
                       cost=lot.cost - cost, fees=lot.fees - fees, acquired=lot.acquired,
                       ts_event=lot.ts_event, short=lot.short,
                       basis_adjustment=lot.basis_adjustment - adjustment, currency=lot.currency)
    return _Relief(lot, quantity, cost, fees, adjustment, remainder)


_HifoKey = tuple[Decimal, datetime, str]


def _hifo_key(lot: TaxLot) -> _HifoKey:
    # Sorts first the lot HIFO relieves first: highest basis per share of a long lot,
    # lowest net proceeds per share of a short lot; then the earlier acquisition.
    per_share = lot.basis_per_share
    return (per_share if lot.short else -per_share, lot.ts_event, lot.lot_id)


class LotBook:
    """Open lots per symbol, kept in acquisition order in one deque per symbol.

    The book plans a relief without changing anything (``plan_relief``) and
    applies it only when told (``commit``), so a refused trade leaves no trace.
    Lots are also indexed by id (for specific identification) and, under HIFO,
    kept in a list sorted by per-share basis, so choosing lots costs O(lots taken)
    rather than a scan or sort of every open lot.

    Parameters
    ----------
    method
        The ledger's default relief method; HIFO keeps the per-share index.
    """

    __slots__ = ("_lots", "_by_id", "_by_basis_order", "_hifo")

    def __init__(self, method: LotMethod = LotMethod.FIFO) -> None:
        self._lots: dict[str, deque[TaxLot]] = {}
        self._by_id: dict[str, dict[str, TaxLot]] = {}  # per symbol, lot_id -> lot
        self._by_basis_order: dict[str, list[_HifoKey]] = {}  # HIFO only: sorted, first relieved first
        self._hifo = method is LotMethod.HIFO

    def lots(self, symbol: str) -> tuple[TaxLot, ...]:
        """Return the open lots of ``symbol`` in acquisition order."""
        return tuple(self._lots.get(symbol, ()))

    def symbols(self) -> list[str]:
        """Return the symbols that have open lots, sorted."""
        return sorted(self._lots)

    def totals(self, symbol: str) -> tuple[Decimal, Decimal]:
        """Return the signed quantity and signed cost of the open lots of ``symbol``."""
        quantity = cost = _ZERO
        for lot in self._lots.get(symbol, ()):
            quantity += lot.signed_quantity
            cost += lot.signed_cost
        return quantity, cost

    def plan_relief(self, symbol: str, quantity: Decimal, *, method: LotMethod,
                    selection: Sequence[LotSelection], quantum: Decimal) -> tuple[list[_Relief], str]:
        """Choose the lots a closing trade of ``quantity`` relieves; change nothing.

        Returns the reliefs in the order taken and which end of the deque they
        come from (``"left"``, ``"right"`` or ``"any"``), for :meth:`commit`.

        Raises
        ------
        InvalidLotSelection
            If specific identification has no selection, or the selection names an
            unknown lot, a lot twice, more than a lot holds, or a total other than
            ``quantity``.
        """
        open_lots = self._lots.get(symbol)
        if not open_lots:
            raise StateConflict(f"no open lots in {symbol} to relieve {quantity}")
        if selection:
            return self._plan_selection(symbol, quantity, selection, quantum), "any"
        if method is LotMethod.SPECIFIC:
            raise InvalidLotSelection(
                f"specific identification needs a lot selection to close {quantity} {symbol}; "
                f"open lots are {', '.join(lot.lot_id for lot in open_lots)}")
        ordered: Iterable[TaxLot]
        if method is LotMethod.FIFO:
            ordered, end = open_lots, "left"
        elif method is LotMethod.LIFO:
            ordered, end = reversed(open_lots), "right"
        else:
            ordered, end = self._by_basis(symbol), "any"
        reliefs: list[_Relief] = []
        remaining = quantity
        for lot in ordered:
            take = lot.quantity if lot.quantity <= remaining else remaining
            reliefs.append(_relieve(lot, take, quantum))
            remaining -= take
            if not remaining:
                return reliefs, end
        raise StateConflict(f"open lots of {symbol} hold {quantity - remaining}, cannot relieve {quantity}")

    def _by_basis(self, symbol: str) -> Iterator[TaxLot]:
        # HIFO order: highest basis per share first for long lots, lowest net proceeds
        # per share first for short lots; ties go to the earlier acquisition.
        by_id = self._by_id[symbol]
        if self._hifo:
            order = self._by_basis_order[symbol]
        else:  # HIFO as a one-off override of another default method
            order = sorted(_hifo_key(lot) for lot in self._lots[symbol])
        for key in order:
            yield by_id[key[2]]

    def _plan_selection(self, symbol: str, quantity: Decimal, selection: Sequence[LotSelection],
                        quantum: Decimal) -> list[_Relief]:
        by_id = self._by_id[symbol]
        reliefs: list[_Relief] = []
        seen: set[str] = set()
        total = _ZERO
        for item in selection:
            lot = by_id.get(item.lot_id)
            if lot is None:
                raise InvalidLotSelection(
                    f"lot selection names lot {item.lot_id!r}, which is not an open lot of {symbol}; "
                    f"open lots are {', '.join(by_id)}")
            if item.lot_id in seen:
                raise InvalidLotSelection(f"lot selection names lot {item.lot_id!r} more than once")
            if item.quantity > lot.quantity:
                raise InvalidLotSelection(
                    f"lot selection takes {item.quantity} of lot {item.lot_id!r}, which holds {lot.quantity}")
            seen.add(item.lot_id)
            total += item.quantity
            reliefs.append(_relieve(lot, item.quantity, quantum))
        if total != quantity:
            raise InvalidLotSelection(
                f"lot selection covers {total} {symbol} but the trade closes {quantity}; "
                f"selected quantities must sum to the closing quantity")
        return reliefs

    def commit(self, symbol: str, reliefs: Sequence[_Relief], end: str, new_lot: TaxLot | None) -> None:
        """Apply a plan from :meth:`plan_relief` and open ``new_lot``, if any."""
        if reliefs:
            open_lots = self._lots[symbol]
            by_id = self._by_id[symbol]
            order = self._by_basis_order.get(symbol) if self._hifo else None
            for relief in reliefs:
                lot, remainder = relief.lot, relief.remainder
                if end == "left" or (end == "any" and open_lots[0] is lot):
                    index = 0
                elif end == "right" or open_lots[-1] is lot:
                    index = -1
                else:
                    index = list(map(is_, open_lots, repeat(lot))).index(True)  # by identity, in C
                if remainder is None:
                    del open_lots[index]
                    del by_id[lot.lot_id]
                else:
                    open_lots[index] = remainder
                    by_id[lot.lot_id] = remainder
                if order is not None:
                    # Rounding of the relieved part moves the remainder's per-share basis
                    # a little, so it is re-keyed rather than kept in place.
                    key = _hifo_key(lot)
                    del order[bisect_left(order, key)]
                    if remainder is not None:
                        insort(order, _hifo_key(remainder))
            if not open_lots:
                self._drop(symbol)
        if new_lot is not None:
            self._open(new_lot)

    def _open(self, lot: TaxLot) -> None:
        symbol = lot.symbol
        open_lots = self._lots.get(symbol)
        if open_lots is None:
            self._lots[symbol] = deque((lot,))
        elif open_lots[-1].ts_event <= lot.ts_event:
            open_lots.append(lot)
        else:  # a fill reported late: keep acquisition order so FIFO stays FIFO
            index = len(open_lots)
            while index > 0 and open_lots[index - 1].ts_event > lot.ts_event:
                index -= 1
            open_lots.insert(index, lot)
        self._by_id.setdefault(symbol, {})[lot.lot_id] = lot
        if self._hifo:
            insort(self._by_basis_order.setdefault(symbol, []), _hifo_key(lot))

    def _reindex(self, symbol: str) -> None:
        open_lots = self._lots[symbol]
        self._by_id[symbol] = {lot.lot_id: lot for lot in open_lots}
        if self._hifo:
            self._by_basis_order[symbol] = sorted(_hifo_key(lot) for lot in open_lots)

    def _drop(self, symbol: str) -> None:
        self._lots.pop(symbol, None)
        self._by_id.pop(symbol, None)
        self._by_basis_order.pop(symbol, None)

    def plan_split(self, symbol: str, ratio: Decimal) -> tuple[TaxLot, ...]:
        """Return the open lots of ``symbol`` after a ``ratio``-for-1 split; change nothing.

        Quantity is multiplied by ``ratio`` (rounded to a millionth of a share);
        cost, fees and adjustment are unchanged, so the per-share basis is divided
        by ``ratio`` and the total basis is kept.
        """
        return tuple(
            TaxLot(lot_id=lot.lot_id, symbol=lot.symbol, quantity=quantize_quantity(lot.quantity * ratio),
                   cost=lot.cost, fees=lot.fees, acquired=lot.acquired, ts_event=lot.ts_event,
                   short=lot.short, basis_adjustment=lot.basis_adjustment, currency=lot.currency)
            for lot in self._lots.get(symbol, ())
        )

    def replace(self, symbol: str, lots: Sequence[TaxLot]) -> None:
        """Replace the open lots of ``symbol`` (after :meth:`plan_split`)."""
        if lots:
            self._lots[symbol] = deque(lots)
            self._reindex(symbol)
        else:
            self._drop(symbol)


def realise(reliefs: Sequence[_Relief], *, closing_value: Decimal, closing_fees: Decimal, closing_id: str,
            disposed: date, quantum: Decimal) -> tuple[tuple[RealisedGain, ...], Decimal]:
    """Turn reliefs into realised gain records and return them with the relieved cost.

    ``closing_value`` (gross trade value of the closing quantity) and
    ``closing_fees`` are allocated to the reliefs pro rata by quantity; the last
    relief takes the remainder so the parts sum exactly.
    """
    total_quantity = _ZERO
    for relief in reliefs:
        total_quantity += relief.quantity
    value_left, fees_left = closing_value, closing_fees
    relieved_cost = _ZERO
    gains: list[RealisedGain] = []
    last = len(reliefs) - 1
    for index, relief in enumerate(reliefs):
        if index == last:
            value, fees = value_left, fees_left
        else:
            value = _part(closing_value, relief.quantity, total_quantity, quantum)
            fees = _part(closing_fees, relief.quantity, total_quantity, quantum)
            value_left -= value
            fees_left -= fees
        lot = relief.lot
        relieved_cost += relief.cost
        if lot.short:
            proceeds = relief.cost - relief.fees - relief.adjustment
            basis = value + fees
            long_term = False  # a short sale's gain is short term (IRC section 1233); compliance to refine
        else:
            proceeds = value - fees
            basis = relief.cost + relief.fees + relief.adjustment
            long_term = disposed > one_year_after(lot.acquired)
        gains.append(RealisedGain(
            lot_id=lot.lot_id, symbol=lot.symbol, closing_id=closing_id, short=lot.short,
            quantity=relief.quantity, proceeds=proceeds, basis=basis, gain=proceeds - basis,
            acquired=lot.acquired, disposed=disposed, holding_days=(disposed - lot.acquired).days,
            long_term=long_term, currency=lot.currency))
    return tuple(gains), relieved_cost
