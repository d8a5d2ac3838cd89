"""Tax lots, realised and unrealised gains by term, and wash sales (IRC §1091).

:func:`compute_tax_lots` replays a household's trades (every account, taxable and
tax-advantaged) in time order and returns every disposal (one per lot relieved), every
wash sale, the open lots and the losses lost for good to an IRA repurchase.

Holding period
--------------
The holding period starts the day after acquisition, and the same date of each later
month starts a new month (Rev. Rul. 66-7). Long term means more than one year, so a lot
is long term when disposed of on or after the first anniversary of the day after
acquisition; when that day is 29 February and the anniversary year has none, the
anniversary is 1 March. Bought 2023-02-28 (period starts 2023-03-01): sold 2024-02-29 is
short term, 2024-03-01 long term. Bought 2024-02-29 (starts 2024-03-01): long term from
2025-03-01 (the same rule as ``bifrost.portfolio.lots.is_long_term``, which the ledger's
realised gains use). Short sales are reported short term.

Wash sales
----------
Rules applied (IRC §1091, Treas. Reg. §1.1091-1, IRS Publication 550):

* A loss on a sale of stock in a taxable account is disallowed to the extent that
  substantially identical stock (same symbol, or the same :class:`IdenticalGroups` group,
  or an option on it at ``multiplier`` shares per contract) was acquired within 30
  calendar days before or after the sale date, in any account of the household.
* Replacement shares are matched in acquisition order, each share at most once; a loss
  larger than the replacement is disallowed in proportion (partial replacement). Several
  loss lots of one sale are matched in their own acquisition order.
* Shares acquired before the sale count only while still held and not already used as
  replacement; the rest of the very lot being sold is not replacement stock (Rev. Rul.
  56-602). Shares acquired after the sale count whenever bought within the window.
* The disallowed loss is added to the basis of the replacement shares and their holding
  period includes that of the shares sold (tacking): the replacement's holding period is
  taken to start ``days held of the sold shares`` earlier. When the replacement is in a
  tax-advantaged account (an IRA), the loss is disallowed and added to no basis
  (Rev. Rul. 2008-5).
* Gains never wash. Chains follow naturally: a replacement lot sold at a loss carries its
  adjusted basis into the next wash sale.
* Not modelled: short-sale wash rules (§1091(e)), splits between a sale and a later
  replacement purchase, and contracts to sell.
"""

from __future__ import annotations

import gc
from bisect import bisect_left, bisect_right
from collections import deque
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import ROUND_HALF_EVEN, Decimal
from functools import lru_cache
from operator import attrgetter
from typing import NamedTuple

from bifrost.compliance.trades import (
    AccountProfile,
    IdenticalGroups,
    SplitAction,
    TaxLotMethod,
    TaxTrade,
    TradeAction,
)
from bifrost.core.errors import InvalidInput, StateConflict
from bifrost.core.money import minor_unit

__all__ = ["Disposal", "HarvestCandidate", "OpenLot", "TaxResult", "UnrealisedLot", "WashSale",
           "compute_tax_lots", "harvest_candidates", "holding_long_term", "holding_period_start",
           "long_term_from", "unrealised", "WASH_WINDOW_DAYS"]

WASH_WINDOW_DAYS = 30
_ZERO = Decimal(0)


def holding_period_start(acquired: date) -> date:
    """Return the first day of the holding period: the day after acquisition (Pub. 550)."""
    return acquired + timedelta(days=1)


@lru_cache(maxsize=65536)
def long_term_from(acquired: date) -> date:
    """Return the first disposal date on which a lot acquired on ``acquired`` is long term.

    Notes
    -----
    The holding period starts the day after acquisition and runs by calendar months
    (Rev. Rul. 66-7); more than one year is reached on the first anniversary of that start.
    An anniversary of 29 February in a common year falls on 1 March.
    """
    start = holding_period_start(acquired)
    try:
        return start.replace(year=start.year + 1)
    except ValueError:  # started 29 February
        return date(start.year + 1, 3, 1)


def holding_long_term(acquired: date, disposed: date) -> bool:
    """Return whether a lot acquired on ``acquired`` and disposed of on ``disposed`` was held over a year."""
    return disposed >= long_term_from(acquired)


# ------------------------------------------------------------------------------------------
# Results
# ------------------------------------------------------------------------------------------

class Disposal(NamedTuple):
    """Realised gain or loss of one lot (or part of it) relieved by one closing trade.

    ``basis`` includes fees and wash-sale adjustments carried from earlier sales;
    ``proceeds`` are net of the sale's fees. ``wash_disallowed`` is the part of a loss
    disallowed by this sale's own wash sale (positive, Form 8949 code W), so
    ``gain = proceeds - basis + wash_disallowed``. (An immutable named tuple rather than a
    dataclass: a year of trades creates hundreds of thousands, and tuples build 10x faster.)
    """

    closing_id: str
    lot_id: str
    account: str
    symbol: str
    quantity: Decimal
    short: bool
    acquired: date
    holding_acquired: date
    disposed: date
    proceeds: Decimal
    basis: Decimal
    wash_disallowed: Decimal
    gain: Decimal
    long_term: bool
    tax_advantaged: bool

    @property
    def raw_gain(self) -> Decimal:
        """``proceeds - basis`` before this sale's wash-sale disallowance."""
        return self.proceeds - self.basis

    @property
    def code(self) -> str:
        return "W" if self.wash_disallowed else ""


class WashSale(NamedTuple):
    """A loss (or part of one) disallowed because of one replacement acquisition."""

    loss_trade_id: str
    loss_lot_id: str
    account: str
    symbol: str
    sale_date: date
    loss: Decimal
    shares: Decimal
    disallowed: Decimal
    replacement_trade_id: str
    replacement_account: str
    replacement_date: date
    added_to_basis: bool
    tacked_days: int


class OpenLot(NamedTuple):
    """An open lot after the replay (a wash-sale replacement is its own lot, id ``<trade>/w<n>``)."""

    lot_id: str
    acquisition_id: str
    account: str
    symbol: str
    quantity: Decimal
    multiplier: Decimal
    basis: Decimal
    wash_adjustment: Decimal
    acquired: date
    holding_acquired: date
    short: bool
    tax_advantaged: bool

    @property
    def shares(self) -> Decimal:
        return self.quantity * self.multiplier


@dataclass(frozen=True, slots=True)
class TaxResult:
    """Everything :func:`compute_tax_lots` found."""

    disposals: tuple[Disposal, ...]
    wash_sales: tuple[WashSale, ...]
    open_lots: tuple[OpenLot, ...]
    permanently_disallowed: Decimal
    _unwashed: tuple[tuple[str, str, date, Decimal, Decimal], ...] = field(default=(), repr=False)

    def realised(self, *, year: int | None = None, account: str | None = None,
                 include_tax_advantaged: bool = False) -> dict[str, Decimal]:
        """Sum realised gain by term: ``short_term``, ``long_term``, ``total``, ``wash_disallowed``."""
        short = long = washed = _ZERO
        for d in self.disposals:
            if (year is not None and d.disposed.year != year) or (account is not None and d.account != account):
                continue
            if d.tax_advantaged and not include_tax_advantaged:
                continue
            if d.long_term:
                long += d.gain
            else:
                short += d.gain
            washed += d.wash_disallowed
        return {"short_term": short, "long_term": long, "total": short + long, "wash_disallowed": washed}

    def unwashed_losses(self, key: str, since: date) -> list[tuple[str, date, Decimal, Decimal]]:
        """Loss sales in group ``key`` on or after ``since`` with shares no replacement has washed yet.

        Returns ``(trade_id, sale_date, shares, loss_per_share)`` items.
        """
        return [(tid, day, shares, per_share) for k, tid, day, shares, per_share in self._unwashed
                if k == key and day >= since]


# ------------------------------------------------------------------------------------------
# Engine internals
# ------------------------------------------------------------------------------------------

class _Lot:
    __slots__ = ("lot_id", "acq", "account", "symbol", "quantity", "multiplier", "basis", "adjustment",
                 "acquired", "holding", "ts", "seq", "short", "flagged")

    def __init__(self, lot_id, acq, account, symbol, quantity, multiplier, basis, adjustment, acquired, holding,
                 ts, seq, short, flagged):
        self.lot_id = lot_id
        self.acq = acq
        self.account = account
        self.symbol = symbol
        self.quantity = quantity
        self.multiplier = multiplier
        self.basis = basis
        self.adjustment = adjustment
        self.acquired = acquired
        self.holding = holding
        self.ts = ts
        self.seq = seq
        self.short = short
        self.flagged = flagged


class _Acq:
    # One long-opening purchase: how many of its shares may still serve as replacement.
    __slots__ = ("trade", "day", "free", "pending", "free_lot", "processed", "tax_advantaged", "splits", "group",
                 "index")

    def __init__(self, trade: TaxTrade, day: date, tax_advantaged: bool) -> None:
        self.trade = trade
        self.day = day
        self.free = trade.shares
        self.pending: list[tuple[Decimal, Decimal, int]] = []
        self.free_lot: _Lot | None = None
        self.processed = False
        self.tax_advantaged = tax_advantaged
        self.splits = 0
        self.group: _Group | None = None
        self.index = 0


class _Group:
    # Acquisitions of one substantially-identical group in time order, with a skip list
    # over acquisitions that can no longer serve as replacement (union-find "next live").
    __slots__ = ("acqs", "days", "next")

    def __init__(self) -> None:
        self.acqs: list[_Acq] = []
        self.days: list[date] = []
        self.next: list[int] = []

    def live_from(self, index: int) -> int:
        nxt = self.next
        root = index
        while root < len(nxt) and nxt[root] != root:
            root = nxt[root]
        while index < len(nxt) and nxt[index] != index:  # path compression
            nxt[index], index = root, nxt[index]
        return root

    def retire(self, index: int) -> None:
        self.next[index] = index + 1


_DATE_CACHE: dict[int, date] = {}


def _day(trade: TaxTrade) -> date:
    # New York trade date, memoised per UTC hour (DST switches fall on whole hours).
    stamp = trade.ts.timestamp()
    bucket = int(stamp // 3600)
    found = _DATE_CACHE.get(bucket)
    if found is None:
        if len(_DATE_CACHE) > 500_000:
            _DATE_CACHE.clear()
        found = _DATE_CACHE[bucket] = trade.trade_date
    return found


def _q(amount: Decimal, quantum: Decimal) -> Decimal:
    return amount.quantize(quantum, rounding=ROUND_HALF_EVEN)


class _Engine:
    def __init__(self, *, accounts: Mapping[str, AccountProfile], identical: IdenticalGroups,
                 default_method: TaxLotMethod, wash_sales: bool, quantum: Decimal) -> None:
        self.accounts = accounts
        self.identical = identical
        self.default_method = default_method
        self.wash_sales = wash_sales
        self.quantum = quantum
        self.books: dict[tuple[str, str, bool], deque[_Lot]] = {}
        self.held: dict[tuple[str, str, bool], Decimal] = {}
        self.groups: dict[str, _Group] = {}
        self.acq_of: dict[str, tuple[_Group, int]] = {}
        self.disposals: list[Disposal] = []
        self.washes: list[WashSale] = []
        self.lost = _ZERO
        self.seq = 0
        self.unwashed: list[tuple[str, str, date, Decimal, Decimal]] = []
        self.keys: dict[str, str] = {}

    def profile(self, account: str) -> AccountProfile:
        found = self.accounts.get(account)
        if found is None:
            found = self.accounts[account] = _DEFAULT_PROFILE
        return found

    # -- setup -----------------------------------------------------------------------------
    def index_acquisitions(self, trades: Sequence[TaxTrade], days: Sequence[date] | None = None) -> None:
        if days is None:
            days = [_day(trade) for trade in trades]
        buy = TradeAction.BUY
        for trade, day in zip(trades, days, strict=True):
            if trade.action is not buy:
                continue
            key = self.identical.key(trade.wash_symbol)
            group = self.groups.get(key)
            if group is None:
                group = self.groups[key] = _Group()
            acq = _Acq(trade, day, self.profile(trade.account).tax_advantaged)
            acq.group, acq.index = group, len(group.acqs)
            self.acq_of[trade.trade_id] = (group, acq.index)
            group.next.append(acq.index)
            group.acqs.append(acq)
            group.days.append(day)

    # -- events ----------------------------------------------------------------------------
    def buy(self, trade: TaxTrade) -> None:
        group, index = self.acq_of[trade.trade_id]
        acq = group.acqs[index]
        acq.processed = True
        key = (trade.account, trade.symbol, False)
        book = self.books.get(key)
        if book is None:
            book = self.books[key] = deque()
        quantity = trade.quantity
        basis_total = (quantity * trade.price * trade.multiplier + trade.fees).quantize(self.quantum, ROUND_HALF_EVEN)
        day = acq.day
        remaining_basis = basis_total
        for n, (shares, adjustment, tacked) in enumerate(acq.pending, start=1):
            units = shares / trade.multiplier
            part = remaining_basis if units == quantity else _q(basis_total * units / trade.quantity, self.quantum)
            remaining_basis -= part
            quantity -= units
            book.append(self._new_lot(f"{trade.trade_id}/w{n}", acq, trade, units, part + adjustment, adjustment,
                                      day - timedelta(days=tacked), True))
        acq.pending = []
        self.held[key] = self.held.get(key, _ZERO) + trade.quantity
        if quantity > 0:
            self.seq += 1
            lot = _Lot(trade.trade_id, acq, trade.account, trade.symbol, quantity, trade.multiplier, remaining_basis,
                       _ZERO, day, day, trade.ts, self.seq, False, False)
            book.append(lot)
            acq.free_lot = lot
        else:
            group.retire(index)

    def _new_lot(self, lot_id, acq, trade, quantity, basis, adjustment, holding, flagged) -> _Lot:
        self.seq += 1
        return _Lot(lot_id, acq, trade.account, trade.symbol, quantity, trade.multiplier, basis, adjustment,
                    acq.day, holding, trade.ts, self.seq, False, flagged)

    def sell_short(self, trade: TaxTrade, day: date) -> None:
        self.seq += 1
        proceeds = _q(trade.quantity * trade.price * trade.multiplier - trade.fees, self.quantum)
        lot = _Lot(trade.trade_id, None, trade.account, trade.symbol, trade.quantity, trade.multiplier, proceeds,
                   _ZERO, day, day, trade.ts, self.seq, True, False)
        key = (trade.account, trade.symbol, True)
        self.books.setdefault(key, deque()).append(lot)
        self.held[key] = self.held.get(key, _ZERO) + trade.quantity

    def split(self, action: SplitAction) -> None:
        for key, book in self.books.items():
            account, symbol, _short = key
            if symbol != action.symbol or (action.account is not None and account != action.account):
                continue
            self.held[key] = self.held.get(key, _ZERO) * action.ratio
            for lot in book:
                lot.quantity *= action.ratio
                if lot.acq is not None and not lot.flagged:
                    lot.acq.free *= action.ratio

    def close(self, trade: TaxTrade, day: date) -> None:
        short = trade.action is TradeAction.BUY_TO_COVER
        quantity = trade.quantity
        key = (trade.account, trade.symbol, short)
        book = self.books.get(key)
        held = self.held.get(key, _ZERO)
        if held < quantity or not book:
            what = "short" if short else "long"
            raise StateConflict(
                f"trade {trade.trade_id} closes {quantity} {trade.symbol} in account {trade.account} but only "
                f"{held} are held {what}; supply the opening lots of earlier years as trades")
        self.held[key] = held - quantity
        profile = self.accounts.get(trade.account) or self.profile(trade.account)
        method = trade.lot_method or profile.lot_method
        if trade.lot_id is not None:
            method = TaxLotMethod.SPECIFIC
        quantum = self.quantum
        net = (quantity * trade.price * trade.multiplier + (trade.fees if short else -trade.fees)).quantize(
            quantum, ROUND_HALF_EVEN)
        ordered = None if method is TaxLotMethod.FIFO else self._order(book, trade, method, short, net, day)
        remaining = quantity
        proceeds_left = net
        reliefs: list[tuple[_Lot, Decimal, Decimal, Decimal]] = []  # lot, quantity, basis, amount
        relieved_acqs: set[int] = set()
        position = 0
        while remaining:
            if ordered is None:
                lot = book[0]
            else:
                lot = ordered[position]
                position += 1
            lot_quantity = lot.quantity
            take = lot_quantity if lot_quantity <= remaining else remaining
            remaining -= take
            amount = proceeds_left if not remaining else (net * take / quantity).quantize(quantum, ROUND_HALF_EVEN)
            proceeds_left -= amount
            acq = lot.acq
            if take == lot_quantity:
                basis = lot.basis
                if book[0] is lot:
                    book.popleft()
                else:
                    del book[book.index(lot)]
                if acq is not None and acq.free_lot is lot:
                    acq.free_lot = None
            else:
                basis = (lot.basis * take / lot_quantity).quantize(quantum, ROUND_HALF_EVEN)
                if lot.adjustment:
                    lot.adjustment -= (lot.adjustment * take / lot_quantity).quantize(quantum, ROUND_HALF_EVEN)
                lot.basis -= basis
                lot.quantity = lot_quantity - take
            if acq is not None:
                relieved_acqs.add(id(acq))
                if not lot.flagged:
                    acq.free -= take * lot.multiplier
                    if acq.free <= 0:
                        acq.group.retire(acq.index)
            reliefs.append((lot, take, basis, amount))
        tax_advantaged = profile.tax_advantaged
        washed = [_ZERO] * len(reliefs)
        if self.wash_sales and not short and not tax_advantaged:
            losses = [n for n, relief in enumerate(reliefs) if relief[3] < relief[2]]
            if len(losses) > 1:
                losses.sort(key=lambda n: (reliefs[n][0].ts, reliefs[n][0].seq))
            for n in losses:
                lot, take, basis, amount = reliefs[n]
                washed[n] = self._wash(trade, day, lot, take * lot.multiplier, basis - amount, relieved_acqs)
        append = self.disposals.append
        trade_id, account, symbol = trade.trade_id, trade.account, trade.symbol
        for (lot, take, basis, amount), disallowed in zip(reliefs, washed, strict=True):
            if short:  # the lot's basis is the short sale's net proceeds; amount is the cost to cover
                append(Disposal(trade_id, lot.lot_id, account, symbol, take, True, lot.acquired, lot.holding, day,
                                basis, amount, _ZERO, basis - amount, False, tax_advantaged))
            else:
                append(Disposal(trade_id, lot.lot_id, account, symbol, take, False, lot.acquired, lot.holding, day,
                                amount, basis, disallowed, amount - basis + disallowed,
                                day >= long_term_from(lot.holding), tax_advantaged))

    def _order(self, book, trade: TaxTrade, method: TaxLotMethod, short: bool, net: Decimal,
               day: date) -> list[_Lot]:
        lots = list(book)
        if method is TaxLotMethod.LIFO:
            return lots[::-1]
        if method is TaxLotMethod.SPECIFIC:
            if trade.lot_id is None:
                raise InvalidInput(f"trade {trade.trade_id} uses specific identification but names no lot_id; "
                                   f"open lots are {', '.join(lot.lot_id for lot in lots)}")
            chosen = [lot for lot in lots if lot.lot_id == trade.lot_id
                      or (lot.acq is not None and lot.acq.trade.trade_id == trade.lot_id)]
            if sum((lot.quantity for lot in chosen), _ZERO) < trade.quantity:
                raise InvalidInput(f"trade {trade.trade_id} names lot {trade.lot_id!r}, which holds "
                                   f"{sum((lot.quantity for lot in chosen), _ZERO)} open, not {trade.quantity}")
            return chosen
        if method is TaxLotMethod.HIFO:
            if short:  # lowest net proceeds per share first
                return sorted(lots, key=lambda lot: (lot.basis / lot.quantity, lot.ts, lot.seq))
            return sorted(lots, key=lambda lot: (-(lot.basis / lot.quantity), lot.ts, lot.seq))
        price = net / trade.quantity  # tax-optimal

        def rank(lot: _Lot) -> tuple:
            per = lot.basis / lot.quantity
            gain = (per - price) if short else (price - per)
            long_term = (not short) and holding_long_term(lot.holding, day)
            if gain < 0:
                return (1 if long_term else 0, gain, lot.ts, lot.seq)
            return (2 if long_term else 3, gain, lot.ts, lot.seq)
        return sorted(lots, key=rank)

    def _candidates(self, group: _Group, day: date) -> Iterable[_Acq]:
        # Acquisitions within 30 days of ``day`` that may still replace, in acquisition order:
        # a binary search for the window and a skip list over used-up acquisitions.
        start = bisect_left(group.days, day - timedelta(days=WASH_WINDOW_DAYS))
        stop = bisect_right(group.days, day + timedelta(days=WASH_WINDOW_DAYS))
        acqs = group.acqs
        index = group.live_from(start)
        while index < stop:
            yield acqs[index]
            index = group.live_from(index + 1)

    def _wash(self, trade: TaxTrade, day: date, lot: _Lot, shares: Decimal, loss: Decimal,
              exclude: set[int]) -> Decimal:
        symbol = trade.underlying or trade.symbol
        key = self.keys.get(symbol)
        if key is None:
            key = self.keys[symbol] = self.identical.key(symbol)
        group = self.groups.get(key)
        matches: list[tuple[_Acq, Decimal]] = []
        need = shares
        if group is not None:
            for acq in self._candidates(group, day):
                if id(acq) not in exclude and acq.free > 0:
                    take = acq.free if acq.free <= need else need
                    matches.append((acq, take))
                    need -= take
                    if not need:
                        break
        if need > 0:
            self.unwashed.append((key, trade.trade_id, day, need, loss / shares))
        if not matches:
            return _ZERO
        total = _ZERO
        matched = shares - need
        full = _q(loss * matched / shares, self.quantum) if need else loss
        held_days = (day - lot.holding).days
        for n, (acq, take) in enumerate(matches):
            part = full - total if n == len(matches) - 1 else _q(loss * take / shares, self.quantum)
            total += part
            added = not acq.tax_advantaged
            adjustment = part if added else _ZERO
            if not added:
                self.lost += part
            acq.free -= take
            if acq.free <= 0:
                acq.group.retire(acq.index)
            tacked = held_days if added else 0
            if acq.processed:
                self._designate(acq, take, adjustment, tacked)
            else:
                acq.pending.append((take, adjustment, tacked))
            self.washes.append(WashSale(trade.trade_id, lot.lot_id, trade.account, trade.symbol, day, loss, take,
                                        part, acq.trade.trade_id, acq.trade.account, acq.day, added, tacked))
        return total

    def _designate(self, acq: _Acq, shares: Decimal, adjustment: Decimal, held_days: int) -> None:
        # Split the acquisition's unused open lot: ``shares`` of it become a flagged
        # replacement lot carrying the adjustment and the tacked holding period.
        lot = acq.free_lot
        assert lot is not None  # free > 0 for a processed acquisition means it has an unused lot
        units = shares / lot.multiplier
        book = self.books[(lot.account, lot.symbol, False)]
        acq.splits += 1
        holding = lot.acquired - timedelta(days=held_days)
        if units == lot.quantity:
            lot.flagged = True
            lot.basis += adjustment
            lot.adjustment += adjustment
            lot.holding = holding
            lot.lot_id = f"{acq.trade.trade_id}/w{acq.splits}"
            acq.free_lot = None
            return
        basis = _q(lot.basis * units / lot.quantity, self.quantum)
        lot.basis -= basis
        lot.quantity -= units
        self.seq += 1
        new = _Lot(f"{acq.trade.trade_id}/w{acq.splits}", acq, lot.account, lot.symbol, units, lot.multiplier,
                   basis + adjustment, adjustment, lot.acquired, holding, lot.ts, lot.seq, False, True)
        book.insert(book.index(lot), new)

    def result(self) -> TaxResult:
        lots = []
        for book in self.books.values():
            for lot in book:
                acq_id = lot.acq.trade.trade_id if lot.acq is not None else lot.lot_id
                lots.append(OpenLot(lot.lot_id, acq_id, lot.account, lot.symbol, lot.quantity, lot.multiplier,
                                    lot.basis, lot.adjustment, lot.acquired, lot.holding, lot.short,
                                    self.profile(lot.account).tax_advantaged))
        lots.sort(key=lambda lot: (lot.account, lot.symbol, lot.acquired, lot.lot_id))
        return TaxResult(tuple(self.disposals), tuple(self.washes), tuple(lots), self.lost, tuple(self.unwashed))


_DEFAULT_PROFILE = AccountProfile()


def compute_tax_lots(trades: Iterable[TaxTrade], *, splits: Iterable[SplitAction] = (),
                     accounts: Mapping[str, AccountProfile] | None = None,
                     identical: IdenticalGroups | Iterable[Iterable[str]] | None = None,
                     default_method: TaxLotMethod | str = TaxLotMethod.FIFO, wash_sales: bool = True,
                     currency: str = "USD") -> TaxResult:
    """Replay trades into tax lots, realised gains by term and wash sales.

    Parameters
    ----------
    trades
        Every trade of the household's accounts, any order (sorted here by time, then
        given order). Sales must be covered by earlier purchases in the same account.
    splits
        Stock splits; a split multiplies open quantities and keeps total basis.
    accounts
        Per-account :class:`AccountProfile` (IRA or not, lot method); unknown accounts are
        taxable FIFO (or ``default_method``).
    identical
        Substantially-identical symbol groups.
    default_method
        Lot method of accounts without a profile.
    wash_sales
        Apply the wash-sale rule (off gives plain lot relief).

    Returns
    -------
    TaxResult

    Raises
    ------
    InvalidInput
        Duplicate trade ids, or a specific-identification sale naming a lot that cannot cover it.
    StateConflict
        A sale of more than the account holds.

    References
    ----------
    IRC §1091; Treas. Reg. §1.1091-1; IRS Publication 550, "Wash Sales" and "Holding Period".
    """
    plain = list(trades)
    if any(later.ts < earlier.ts for earlier, later in zip(plain, plain[1:], strict=False)):
        plain.sort(key=attrgetter("ts"))  # stable: trades at one instant keep the given order
    ids = [trade.trade_id for trade in plain]
    if len(set(ids)) != len(ids):
        seen: set[str] = set()
        duplicate = next(i for i in ids if i in seen or seen.add(i))
        raise InvalidInput(f"duplicate trade_id {duplicate!r}; trade ids must be unique")
    groups = identical if isinstance(identical, IdenticalGroups) else IdenticalGroups.of(identical or ())
    default = TaxLotMethod(default_method)
    profiles = dict(accounts or {})
    if default is not TaxLotMethod.FIFO:
        for trade in plain:
            profiles.setdefault(trade.account, AccountProfile(lot_method=default))
    engine = _Engine(accounts=profiles, identical=groups, default_method=default, wash_sales=wash_sales,
                     quantum=minor_unit(currency))
    # The replay allocates hundreds of thousands of small objects and frees few: the cyclic
    # garbage collector would rescan them over and over (a third of the run time), so it is
    # paused for the replay and restored after.
    collecting = gc.isenabled()
    gc.disable()
    try:
        return _replay(engine, plain, sorted(splits, key=lambda s: s.ts))
    finally:
        if collecting:
            gc.enable()


def _replay(engine: _Engine, plain: list[TaxTrade], split_list: list[SplitAction]) -> TaxResult:
    days = [_day(trade) for trade in plain]
    engine.index_acquisitions(plain, days)
    position = 0
    buy, sell_short = TradeAction.BUY, TradeAction.SELL_SHORT
    for trade, day in zip(plain, days, strict=True):
        while position < len(split_list) and split_list[position].ts <= trade.ts:
            engine.split(split_list[position])
            position += 1
        action = trade.action
        if action is buy:
            engine.buy(trade)
        elif action is sell_short:
            engine.sell_short(trade, day)
        else:
            engine.close(trade, day)
    for split in split_list[position:]:
        engine.split(split)
    return engine.result()


# ------------------------------------------------------------------------------------------
# Unrealised and harvesting
# ------------------------------------------------------------------------------------------

@dataclass(frozen=True, slots=True, kw_only=True)
class UnrealisedLot:
    lot: OpenLot
    price: Decimal
    market_value: Decimal
    gain: Decimal
    long_term: bool


def unrealised(result: TaxResult | Iterable[OpenLot], prices: Mapping[str, Decimal], as_of: date,
               *, currency: str = "USD") -> list[UnrealisedLot]:
    """Value each open lot (of a result, or given) at ``prices`` on ``as_of``; term is what a sale that day would be.

    Raises
    ------
    InvalidInput
        If a symbol with open lots has no price.
    """
    quantum = minor_unit(currency)
    out = []
    lots = result.open_lots if isinstance(result, TaxResult) else tuple(result)
    for lot in lots:
        price = prices.get(lot.symbol)
        if price is None:
            raise InvalidInput(f"no price for {lot.symbol}, which has open lot {lot.lot_id}")
        value = _q(lot.quantity * lot.multiplier * Decimal(price), quantum)
        gain = lot.basis - value if lot.short else value - lot.basis
        out.append(UnrealisedLot(lot=lot, price=Decimal(price), market_value=value, gain=gain,
                                 long_term=(not lot.short) and holding_long_term(lot.holding_acquired, as_of)))
    return out


@dataclass(frozen=True, slots=True, kw_only=True)
class HarvestCandidate:
    """An open lot whose sale would realise a loss without a wash sale."""

    lot: OpenLot
    loss: Decimal
    long_term: bool
    rebuy_after: date


def harvest_candidates(result: TaxResult, prices: Mapping[str, Decimal], as_of: date, *,
                       identical: IdenticalGroups | None = None, min_loss: Decimal = _ZERO
                       ) -> list[HarvestCandidate]:
    """Return lots in taxable accounts with an unrealised loss that a sale on ``as_of`` would not wash.

    A sale would wash when substantially identical shares other than the lot itself were
    acquired in the 30 days up to ``as_of`` and are still held in any household account
    (open lots, including replacement lots). Largest loss first. ``rebuy_after`` is the
    first day a repurchase would not wash the harvested loss. Lots without a price are skipped
    (but still count as recent purchases).
    """
    groups = identical or IdenticalGroups()
    recent: dict[str, set[str]] = {}
    cutoff = as_of - timedelta(days=WASH_WINDOW_DAYS)
    for lot in result.open_lots:
        if not lot.short and lot.acquired >= cutoff:
            recent.setdefault(groups.key(lot.symbol), set()).add(lot.acquisition_id)
    out = []
    priced = [lot for lot in result.open_lots if lot.symbol in prices]
    for item in unrealised(priced, prices, as_of):
        lot = item.lot
        if lot.short or lot.tax_advantaged or item.gain >= 0 or -item.gain < min_loss:
            continue
        others = recent.get(groups.key(lot.symbol), set()) - {lot.acquisition_id}
        if others:
            continue
        out.append(HarvestCandidate(lot=lot, loss=-item.gain, long_term=item.long_term,
                                    rebuy_after=as_of + timedelta(days=WASH_WINDOW_DAYS + 1)))
    out.sort(key=lambda c: (-c.loss, c.lot.lot_id))
    return out

