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
* Splits between the two trades: share counts are compared on the sale date's basis. A
  replacement bought after a later split counts ``shares / ratio`` (200 shares bought after
  a 2-for-1 split replace 100 sold); one bought before a split that comes before the sale
  has been scaled by it already. The adjustment is spread over the replacement's own shares.
* Short sales (IRC §1091(e), Treas. Reg. §1.1091-1(g), Pub. 550 "Short sales"): a loss on
  covering a short sale is disallowed to the extent that, within 30 days before or after
  the cover, substantially identical stock was sold, or another short sale of it was
  entered into (in any household account), matched in trade order, each share once; an
  earlier short sale counts only while still open, and the short sales this cover closes are
  not replacements. The disallowed loss is taken from the replacement short's proceeds (so
  its later gain is smaller); for a replacing sale it joins the basis of the shares that sale
  disposed of (its disposals are amended, or adjusted when it happens). Short positions take
  no tacked holding period (their gains are short term). Short sales are taken as closed by
  a purchase on the cover date, not by delivering shares already held.
* Not modelled: contracts to sell, and constructive sales (§1259).

Speed
-----
Long-only histories relieved FIFO or LIFO (the common case: a year of a broker's trades)
run on a compiled core (:mod:`bifrost.compliance._washcore`) over integer arrays; the rest
(short sales, splits, HIFO, tax-optimal, named lots) on the Python engine below. Both work
in integers: amounts in minor units, quantities in units of ``10**-k`` share, days as
ordinals, with Decimal only where trades come in and where records are booked; both round
half to even on the exact quotient, and they give identical records.
"""

from __future__ import annotations

import gc
from bisect import bisect_left, bisect_right
from collections import deque
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import ROUND_HALF_EVEN, Decimal
from fractions import Fraction
from functools import lru_cache
from operator import attrgetter
from typing import NamedTuple

import numpy as np

from bifrost.compliance import _washcore
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
    """A loss (or part of one) disallowed because of one replacement.

    ``shares`` are the shares sold (or covered) whose loss this replacement washes, counted
    on the sale date; ``replacement_shares`` are the replacement's own shares that carry it
    (more than ``shares`` after a 2-for-1 split between the two). ``short_sale`` marks a
    loss on covering a short sale, replaced by another short sale or by a sale (§1091(e)).
    """

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
    replacement_shares: Decimal | None = None
    short_sale: bool = False


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
#
# The replay runs on integers: amounts in minor units (cents), quantities in units of
# 10**-k of a share, days as proleptic ordinals. Decimal appears only where trades come in
# (each trade's gross amount, rounded once as before) and where results are booked
# (Disposal, WashSale and OpenLot amounts). Pro-rata splits round half to even on the exact
# quotient; the Decimal version rounded a 28-digit quotient, which gives the same cent for
# any amount below 10**20 cents.

def _div(numerator: int, denominator: int) -> int:
    # numerator / denominator rounded half to even (denominator > 0).
    quotient, remainder = divmod(numerator, denominator)
    twice = remainder + remainder
    if twice > denominator or (twice == denominator and quotient & 1):
        quotient += 1
    return quotient


def _div_fraction(numerator: int | Fraction, denominator: int | Fraction) -> int:
    # Like _div for exact rationals (share counts made fractional by a split ratio).
    if type(numerator) is int and type(denominator) is int:
        return _div(numerator, denominator)
    quotient = Fraction(numerator) / Fraction(denominator)
    return _div(quotient.numerator, quotient.denominator)


def _places(value: Decimal) -> int:
    exponent = value.as_tuple().exponent
    if not isinstance(exponent, int) or exponent >= 0:
        return 0
    exponent = value.normalize().as_tuple().exponent
    return -exponent if isinstance(exponent, int) and exponent < 0 else 0


class _Lot:
    __slots__ = ("lot_id", "acq", "account", "symbol", "units", "mult", "multiplier", "basis", "adjustment",
                 "acquired", "holding", "order", "seq", "short", "flagged")

    def __init__(self, lot_id, acq, account, symbol, units, mult, multiplier, basis, adjustment, acquired, holding,
                 order, seq, short, flagged):
        self.lot_id = lot_id
        self.acq = acq
        self.account = account
        self.symbol = symbol
        self.units = units  # quantity in 10**-k units
        self.mult = mult  # share units per quantity unit (the multiplier, scaled)
        self.multiplier = multiplier
        self.basis = basis  # minor units; a short lot's net proceeds
        self.adjustment = adjustment
        self.acquired = acquired  # day ordinals
        self.holding = holding
        self.order = order  # index of the opening trade in the replay (orders like its instant)
        self.seq = seq
        self.short = short
        self.flagged = flagged  # a wash-sale replacement lot: its shares replace nothing further


class _Acq:
    # One trade that may serve as replacement: a purchase (for losses on sales), or a short
    # sale or a sale (for losses on covering a short, §1091(e)). ``free`` counts its shares
    # not yet used as replacement (in its own share units) and, for an open position, still held.
    __slots__ = ("trade", "order", "day", "free", "pending", "free_lot", "processed", "tax_advantaged", "splits",
                 "group", "index", "kind", "records")

    def __init__(self, trade: TaxTrade, order: int, day: int, shares: int, tax_advantaged: bool,
                 kind: TradeAction = TradeAction.BUY) -> None:
        self.trade = trade
        self.order = order
        self.day = day
        self.free = shares
        self.pending: list[tuple[int, int, int]] = []  # (shares, adjustment, tacked days) before the trade
        self.free_lot: _Lot | None = None
        self.processed = False
        self.tax_advantaged = tax_advantaged
        self.splits = 0
        self.group: _Group | None = None
        self.index = 0
        self.kind = kind
        self.records: list[int] = []  # a sale's disposals (indices), which carry its adjustments


class _Group:
    # Acquisitions of one substantially-identical group in time order, with a skip list
    # over acquisitions that can no longer serve as replacement (union-find "next live").
    __slots__ = ("acqs", "days", "next")

    def __init__(self) -> None:
        self.acqs: list[_Acq] = []
        self.days: list[int] = []
        self.next: list[int] = []

    def live_from(self, index: int) -> int:
        nxt = self.next
        size = len(nxt)
        root = index
        while root < size and nxt[root] != root:
            root = nxt[root]
        while index < size and nxt[index] != index:  # path compression
            nxt[index], index = root, nxt[index]
        return root

    def retire(self, index: int) -> None:
        self.next[index] = index + 1


_ORDINAL_CACHE: dict[int, int] = {}


def _day(trade: TaxTrade) -> int:
    # Ordinal of the New York trade date, memoised per UTC hour (DST switches fall on whole hours).
    bucket = int(trade.ts.timestamp() // 3600)
    found = _ORDINAL_CACHE.get(bucket)
    if found is None:
        if len(_ORDINAL_CACHE) > 500_000:
            _ORDINAL_CACHE.clear()
        found = _ORDINAL_CACHE[bucket] = trade.trade_date.toordinal()
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
        exponent = quantum.as_tuple().exponent
        self.money_places = -exponent if isinstance(exponent, int) and exponent < 0 else 0
        self.unit = 1  # quantity units per share: 10**k, set by scale()
        self.unit_decimal = Decimal(1)
        self.mult_scale = 1  # 10**m for fractional multipliers
        self.mults: dict[Decimal, int] = {}
        self.books: dict[tuple[str, str, bool], deque[_Lot]] = {}
        self.held: dict[tuple[str, str, bool], int] = {}
        self.groups: dict[str, _Group] = {}
        self.short_groups: dict[str, _Group] = {}
        self.split_list: list[SplitAction] = []
        self.trade_ts: list = []
        self.acq_at: list[_Acq | None] = []
        self.disposals: list[Disposal] = []
        self.washes: list[WashSale] = []
        self.lost = 0
        self.seq = 0
        self.unwashed: list[tuple[str, str, int, int, int, int]] = []
        self.keys: dict[str, str] = {}
        self.dates: dict[int, date] = {}
        self.long_from: dict[int, int] = {}

    def profile(self, account: str) -> AccountProfile:
        found = self.accounts.get(account)
        if found is None:
            found = self.accounts[account] = _DEFAULT_PROFILE
        return found

    # -- conversions at the boundary -------------------------------------------------------
    def scale(self, trades: Sequence[TaxTrade], splits: Sequence[SplitAction]) -> None:
        # Choose 10**k so every quantity, split result and share count of a partly used
        # option contract is a whole number of units.
        places = max((_places(q) for q in {t.quantity for t in trades}), default=0)
        places += sum(_places(s.ratio) for s in splits)
        multipliers = {t.multiplier for t in trades}
        self.mult_scale = 10 ** max((_places(m) for m in multipliers), default=0)
        extra = 0
        for multiplier in multipliers:
            scaled = int(multiplier * self.mult_scale)
            self.mults[multiplier] = scaled
            needed = next((e for e in range(19) if 10 ** e % scaled == 0), None)
            if needed is None:
                raise InvalidInput(f"multiplier {multiplier} must divide a power of ten (1, 10, 100, 0.5...), "
                                   f"so that part of a contract is an exact quantity")
            extra = max(extra, needed)
        self.unit = 10 ** (places + extra)
        self.split_list = list(splits)
        self.unit_decimal = Decimal(self.unit)

    def units(self, quantity: Decimal) -> int:
        return int(quantity) if self.unit == 1 else int(quantity * self.unit)

    def amount(self, trade: TaxTrade) -> int:
        # The trade's value in minor units: quantity x price x multiplier, plus fees for a
        # purchase (buy, buy to cover), less fees for a sale (sell, sell short).
        gross = trade.quantity * trade.price
        if trade.multiplier != 1:
            gross *= trade.multiplier
        gross = gross + trade.fees if trade.action.is_buy else gross - trade.fees
        return int(gross.scaleb(self.money_places).to_integral_value(ROUND_HALF_EVEN))

    def money(self, minor: int) -> Decimal:
        return Decimal(minor) * self.quantum

    def quantity(self, units: int) -> Decimal:
        return Decimal(units) if self.unit == 1 else Decimal(units) / self.unit_decimal

    def shares_decimal(self, share_units: int | Fraction) -> Decimal:
        scale = self.unit * self.mult_scale
        if type(share_units) is not int:  # a fraction of a share made by a split ratio
            return Decimal(share_units.numerator) / Decimal(share_units.denominator * scale)
        return Decimal(share_units) if scale == 1 else Decimal(share_units) / Decimal(scale)

    def date(self, ordinal: int) -> date:
        found = self.dates.get(ordinal)
        if found is None:
            found = self.dates[ordinal] = date.fromordinal(ordinal)
        return found

    def long_term_ordinal(self, holding: int) -> int:
        found = self.long_from.get(holding)
        if found is None:
            found = self.long_from[holding] = long_term_from(self.date(holding)).toordinal()
        return found

    # -- setup -----------------------------------------------------------------------------
    def index_acquisitions(self, trades: Sequence[TaxTrade], days: Sequence[int] | None = None) -> None:
        # Purchases go to ``groups`` (replacements for losses on sales); short sales and
        # sales go to ``short_groups`` (replacements for losses on covering a short).
        if days is None:
            days = [_day(trade) for trade in trades]
        buy, cover = TradeAction.BUY, TradeAction.BUY_TO_COVER
        covers = self.wash_sales and any(trade.action is cover for trade in trades)
        acq_at: list[_Acq | None] = [None] * len(trades)
        keys, mults, units = self.keys, self.mults, self.units
        for n, (trade, day) in enumerate(zip(trades, days, strict=True)):
            action = trade.action
            if action is buy:
                groups = self.groups
            elif covers and action is not cover:
                groups = self.short_groups
            else:
                continue
            symbol = trade.underlying or trade.symbol
            key = keys.get(symbol)
            if key is None:
                key = keys[symbol] = self.identical.key(symbol)
            group = groups.get(key)
            if group is None:
                group = groups[key] = _Group()
            acq = _Acq(trade, n, day, units(trade.quantity) * mults[trade.multiplier],
                       self.profile(trade.account).tax_advantaged, action)
            acq.group, acq.index = group, len(group.acqs)
            acq_at[n] = acq
            group.next.append(acq.index)
            group.acqs.append(acq)
            group.days.append(day)
        self.acq_at = acq_at

    # -- events ----------------------------------------------------------------------------
    def buy(self, order: int, trade: TaxTrade, units: int, basis_total: int) -> None:
        self._open(order, trade, self.acq_at[order].day, units, basis_total, short=False)

    def sell_short(self, order: int, trade: TaxTrade, day: int, units: int, proceeds: int) -> None:
        self._open(order, trade, day, units, proceeds, short=True)

    def _open(self, order: int, trade: TaxTrade, day: int, units: int, basis_total: int, *, short: bool) -> None:
        # Open a long lot (basis: cost) or a short lot (basis: net proceeds). Shares already
        # named as replacement by earlier losses become flagged lots carrying the adjustment:
        # added to a long lot's cost, taken from a short lot's proceeds.
        acq = self.acq_at[order]
        account, symbol = trade.account, trade.symbol
        key = (account, symbol, short)
        book = self.books.get(key)
        if book is None:
            book = self.books[key] = deque()
        mult = self.mults[trade.multiplier]
        quantity = units
        remaining_basis = basis_total
        if acq is not None:
            acq.processed = True
            if acq.pending:
                for n, (shares, adjustment, tacked) in enumerate(acq.pending, start=1):
                    lot_units = shares // mult
                    part = remaining_basis if lot_units == quantity else _div(basis_total * lot_units, units)
                    remaining_basis -= part
                    quantity -= lot_units
                    self.seq += 1
                    book.append(_Lot(f"{trade.trade_id}/w{n}", acq, account, symbol, lot_units, mult,
                                     trade.multiplier, part - adjustment if short else part + adjustment, adjustment,
                                     day, day - tacked, order, self.seq, short, True))
                acq.splits = len(acq.pending)
                acq.pending = []
        self.held[key] = self.held.get(key, 0) + units
        if quantity > 0:
            self.seq += 1
            lot = _Lot(trade.trade_id, acq, account, symbol, quantity, mult, trade.multiplier, remaining_basis, 0,
                       day, day, order, self.seq, short, False)
            book.append(lot)
            if acq is not None:
                acq.free_lot = lot
        elif acq is not None:
            acq.group.retire(acq.index)

    def split(self, action: SplitAction) -> None:
        places = _places(action.ratio)
        numerator, denominator = int(action.ratio.scaleb(places)), 10 ** places
        for key, book in self.books.items():
            account, symbol, _short = key
            if symbol != action.symbol or (action.account is not None and account != action.account):
                continue
            self.held[key] = self.held.get(key, 0) * numerator // denominator
            for lot in book:
                lot.units = lot.units * numerator // denominator
                if lot.acq is not None and not lot.flagged:
                    lot.acq.free = lot.acq.free * numerator // denominator

    def close(self, order: int, trade: TaxTrade, day: int, quantity: int, net: int) -> None:
        short = trade.action is TradeAction.BUY_TO_COVER
        key = (trade.account, trade.symbol, short)
        book = self.books.get(key)
        held = self.held.get(key, 0)
        if held < quantity or not book:
            what = "short" if short else "long"
            raise StateConflict(
                f"trade {trade.trade_id} closes {trade.quantity} {trade.symbol} in account {trade.account} but only "
                f"{self.quantity(held)} are held {what}; supply the opening lots of earlier years as trades")
        self.held[key] = held - quantity
        profile = self.accounts.get(trade.account) or self.profile(trade.account)
        method = trade.lot_method or profile.lot_method
        if trade.lot_ids:  # named lots, then the sale's method if not specific, else the account's
            fallback = profile.lot_method if method is TaxLotMethod.SPECIFIC else method
            ordered = self._named_first(book, trade, fallback, short, net, quantity, day)
        else:
            if trade.lot_id is not None:
                method = TaxLotMethod.SPECIFIC
            ordered = None if method is TaxLotMethod.FIFO else self._order(book, trade, method, short, net, quantity,
                                                                             day)
        remaining = quantity
        proceeds_left = net
        reliefs: list[tuple[_Lot, int, int, int]] = []  # lot, units, basis, amount
        relieved_acqs: set[int] = set()
        position = 0
        while remaining:
            if ordered is None:
                lot = book[0]
            else:
                lot = ordered[position]
                position += 1
            lot_units = lot.units
            take = lot_units if lot_units <= remaining else remaining
            remaining -= take
            amount = proceeds_left if not remaining else _div(net * take, quantity)
            proceeds_left -= amount
            acq = lot.acq
            if take == lot_units:
                basis = lot.basis
                if book[0] is lot:
                    book.popleft()
                else:
                    del book[book.index(lot)]
                if acq is not None and acq.free_lot is lot:
                    acq.free_lot = None
            else:
                basis = _div(lot.basis * take, lot_units)
                if lot.adjustment:
                    lot.adjustment -= _div(lot.adjustment * take, lot_units)
                lot.basis -= basis
                lot.units = lot_units - take
            if acq is not None:
                relieved_acqs.add(id(acq))
                if not lot.flagged:
                    acq.free -= take * lot.mult
                    if acq.free <= 0:
                        acq.group.retire(acq.index)
            reliefs.append((lot, take, basis, amount))
        tax_advantaged = profile.tax_advantaged
        washed = [0] * len(reliefs)
        if self.wash_sales and not tax_advantaged:
            # A loss: proceeds below basis on a sale; cost to cover above the proceeds on a short.
            losses = [n for n, relief in enumerate(reliefs) if (relief[3] > relief[2] if short else relief[3] < relief[2])]
            if len(losses) > 1:
                losses.sort(key=lambda n: (reliefs[n][0].order, reliefs[n][0].seq))
            for n in losses:
                lot, take, basis, amount = reliefs[n]
                washed[n] = self._wash(trade, order, day, lot, take * lot.mult, abs(basis - amount), relieved_acqs,
                                       short=short)
        disposals = self.disposals
        first = len(disposals)
        append = disposals.append
        trade_id, account, symbol = trade.trade_id, trade.account, trade.symbol
        money, to_quantity, to_date = self.money, self.quantity, self.date
        disposed = to_date(day)
        for (lot, take, basis, amount), disallowed in zip(reliefs, washed, strict=True):
            if short:  # the lot's basis is the short sale's net proceeds; amount is the cost to cover
                append(Disposal(trade_id, lot.lot_id, account, symbol, to_quantity(take), True, to_date(lot.acquired),
                                to_date(lot.holding), disposed, money(basis), money(amount),
                                money(disallowed) if disallowed else _ZERO, money(basis - amount + disallowed), False,
                                tax_advantaged))
            else:
                append(Disposal(trade_id, lot.lot_id, account, symbol, to_quantity(take), False,
                                to_date(lot.acquired), to_date(lot.holding), disposed, money(amount), money(basis),
                                money(disallowed) if disallowed else _ZERO, money(amount - basis + disallowed),
                                day >= self.long_term_ordinal(lot.holding), tax_advantaged))
        sale = self.acq_at[order] if self.acq_at else None
        if sale is not None:  # a sale that may replace a short's loss: its disposals carry the adjustments
            sale.processed = True
            sale.records = list(range(first, len(disposals)))
            for _shares, adjustment, _tacked in sale.pending:
                self._amend_sale(sale, adjustment)
            sale.pending = []

    def _named_first(self, book, trade: TaxTrade, method: TaxLotMethod, short: bool, net: int, quantity: int,
                     day: int) -> list[_Lot]:
        # ``trade.lot_ids`` in the order given (each with its replacement lots ``<id>/w<n>``),
        # then every other lot in the order of ``method`` (FIFO when that is specific), as the
        # ledger relieves an order's lot override.
        chosen: list[_Lot] = []
        seen: set[int] = set()
        for name in trade.lot_ids:
            for lot in book:
                if id(lot) not in seen and (lot.lot_id == name or (lot.acq is not None
                                                                   and lot.acq.trade.trade_id == name)):
                    chosen.append(lot)
                    seen.add(id(lot))
        if method is TaxLotMethod.SPECIFIC or method is TaxLotMethod.FIFO:
            rest = list(book)
        else:
            rest = self._order(book, trade, method, short, net, quantity, day)
        return chosen + [lot for lot in rest if id(lot) not in seen]

    def _order(self, book, trade: TaxTrade, method: TaxLotMethod, short: bool, net: int, quantity: int,
               day: int) -> list[_Lot]:
        lots = list(book)
        if method is TaxLotMethod.LIFO:
            return lots[::-1]
        if method is TaxLotMethod.SPECIFIC:
            if trade.lot_id is None:
                raise InvalidInput(f"trade {trade.trade_id} uses specific identification but names no lot_id; "
                                   f"open lots are {', '.join(lot.lot_id for lot in lots)}")
            chosen = [lot for lot in lots if lot.lot_id == trade.lot_id
                      or (lot.acq is not None and lot.acq.trade.trade_id == trade.lot_id)]
            held = sum(lot.units for lot in chosen)
            if held < quantity:
                raise InvalidInput(f"trade {trade.trade_id} names lot {trade.lot_id!r}, which holds "
                                   f"{self.quantity(held)} open, not {trade.quantity}")
            return chosen
        if method is TaxLotMethod.HIFO:
            if short:  # lowest net proceeds per share first
                return sorted(lots, key=lambda lot: (Fraction(lot.basis, lot.units), lot.order, lot.seq))
            return sorted(lots, key=lambda lot: (-Fraction(lot.basis, lot.units), lot.order, lot.seq))
        price = Fraction(net, quantity)  # tax-optimal

        def rank(lot: _Lot) -> tuple:
            per = Fraction(lot.basis, lot.units)
            gain = (per - price) if short else (price - per)
            long_term = (not short) and day >= self.long_term_ordinal(lot.holding)
            if gain < 0:
                return (1 if long_term else 0, gain, lot.order, lot.seq)
            return (2 if long_term else 3, gain, lot.order, lot.seq)
        return sorted(lots, key=rank)

    def _candidates(self, group: _Group, day: int) -> Iterable[_Acq]:
        # Acquisitions within 30 days of ``day`` that may still replace, in acquisition order:
        # a binary search for the window and a skip list over used-up acquisitions.
        days = group.days
        stop = bisect_right(days, day + WASH_WINDOW_DAYS)
        acqs = group.acqs
        index = group.live_from(bisect_left(days, day - WASH_WINDOW_DAYS))
        while index < stop:
            yield acqs[index]
            index = group.live_from(index + 1)

    def _ratio(self, acq: _Acq, order: int) -> Fraction:
        # New shares per share of splits of the replacement's symbol after the loss (trade
        # ``order``) and up to the replacement: they make its share count comparable with the
        # shares sold. Splits before the loss have already scaled open replacements.
        ratio = Fraction(1)
        if acq.processed or not self.split_list:
            return ratio
        trade, sale_ts = acq.trade, self.trade_ts[order]
        for split in self.split_list:
            if (sale_ts < split.ts <= trade.ts and split.symbol == trade.symbol
                    and (split.account is None or split.account == trade.account)):
                ratio *= Fraction(split.ratio)
        return ratio

    def _wash(self, trade: TaxTrade, order: int, day: int, lot: _Lot, shares: int, loss: int, exclude: set[int],
              *, short: bool = False) -> int:
        # Disallow ``loss`` on ``shares`` sold (or covered, ``short``) to the extent of
        # replacement shares in the window; return the amount disallowed.
        symbol = trade.underlying or trade.symbol
        key = self.keys.get(symbol)
        if key is None:
            key = self.keys[symbol] = self.identical.key(symbol)
        group = (self.short_groups if short else self.groups).get(key)
        matches: list[tuple[_Acq, int | Fraction, int]] = []  # replacement, shares sold, its own shares
        need: int | Fraction = shares
        if group is not None:
            for acq in self._candidates(group, day):
                if acq.free > 0 and id(acq) not in exclude:
                    ratio = self._ratio(acq, order) if self.split_list else 1
                    if ratio == 1:
                        take = acq.free if acq.free <= need else need
                        matches.append((acq, take, take))
                    else:
                        available = Fraction(acq.free) / ratio
                        if available <= need:
                            matches.append((acq, available, acq.free))
                            take = available
                        else:
                            matches.append((acq, need, _div_fraction(need * ratio, 1)))
                            take = need
                    need -= take
                    if not need:
                        break
        if need > 0 and not short:
            self.unwashed.append((key, trade.trade_id, day, need, loss, shares))
        if not matches:
            return 0
        total = 0
        full = _div_fraction(loss * (shares - need), shares) if need else loss
        held_days = 0 if short else day - lot.holding
        money, to_date = self.money, self.date
        last = len(matches) - 1
        for n, (acq, take, own) in enumerate(matches):
            part = full - total if n == last else _div_fraction(loss * take, shares)
            total += part
            added = not acq.tax_advantaged
            adjustment = part if added else 0
            if not added:
                self.lost += part
            acq.free -= own
            if acq.free <= 0:
                acq.group.retire(acq.index)
            tacked = held_days if added else 0
            if not acq.processed:
                acq.pending.append((own, adjustment, tacked))
            elif acq.kind is TradeAction.SELL:
                self._amend_sale(acq, adjustment)
            else:
                self._designate(acq, own, adjustment, tacked)
            replacement = acq.trade
            self.washes.append(WashSale(trade.trade_id, lot.lot_id, trade.account, trade.symbol, to_date(day),
                                        money(loss), self.shares_decimal(take), money(part), replacement.trade_id,
                                        replacement.account, to_date(acq.day), added, tacked,
                                        self.shares_decimal(own), short))
        return total

    def _designate(self, acq: _Acq, shares: int, adjustment: int, held_days: int) -> None:
        # Split the replacement's unused open lot: ``shares`` of it become a flagged
        # replacement lot carrying the adjustment (added to a long lot's cost, taken from a
        # short lot's proceeds) and the tacked holding period.
        lot = acq.free_lot
        assert lot is not None  # free > 0 for a processed acquisition means it has an unused lot
        signed = -adjustment if lot.short else adjustment
        units = shares // lot.mult
        acq.splits += 1
        holding = lot.acquired - held_days
        if units == lot.units:
            lot.flagged = True
            lot.basis += signed
            lot.adjustment += adjustment
            lot.holding = holding
            lot.lot_id = f"{acq.trade.trade_id}/w{acq.splits}"
            acq.free_lot = None
            return
        basis = _div(lot.basis * units, lot.units)
        lot.basis -= basis
        lot.units -= units
        self.seq += 1
        new = _Lot(f"{acq.trade.trade_id}/w{acq.splits}", acq, lot.account, lot.symbol, units, lot.mult,
                   lot.multiplier, basis + signed, adjustment, lot.acquired, holding, lot.order, lot.seq, lot.short,
                   True)
        book = self.books[(lot.account, lot.symbol, lot.short)]
        book.insert(book.index(lot), new)

    def _amend_sale(self, sale: _Acq, adjustment: int) -> None:
        # A sale replaced a short's loss: the loss joins the basis of the shares that sale
        # disposed of, spread over its disposals by quantity (the last takes the rounding).
        if not adjustment or not sale.records:
            return
        disposals = self.disposals
        quantities = [disposals[k].quantity for k in sale.records]
        whole = sum(quantities, _ZERO)
        spent = 0
        for n, k in enumerate(sale.records):
            if n == len(sale.records) - 1:
                part = adjustment - spent
            else:
                part = _div_fraction(adjustment * Fraction(quantities[n]), Fraction(whole))
            spent += part
            amount = self.money(part)
            disposal = disposals[k]
            disposals[k] = disposal._replace(basis=disposal.basis + amount, gain=disposal.gain - amount)

    def result(self) -> TaxResult:
        lots = []
        money, to_quantity, to_date = self.money, self.quantity, self.date
        for book in self.books.values():
            for lot in book:
                acq_id = lot.acq.trade.trade_id if lot.acq is not None else lot.lot_id
                lots.append(OpenLot(lot.lot_id, acq_id, lot.account, lot.symbol, to_quantity(lot.units),
                                    lot.multiplier, money(lot.basis), money(lot.adjustment) if lot.adjustment else _ZERO,
                                    to_date(lot.acquired), to_date(lot.holding), lot.short,
                                    self.profile(lot.account).tax_advantaged))
        lots.sort(key=lambda lot: (lot.account, lot.symbol, lot.acquired, lot.lot_id))
        unwashed = []
        for key, trade_id, day, need, loss, shares in self.unwashed:
            share_count = self.shares_decimal(shares)
            unwashed.append((key, trade_id, to_date(day), self.shares_decimal(need), money(loss) / share_count))
        return TaxResult(tuple(self.disposals), tuple(self.washes), tuple(lots),
                         money(self.lost) if self.lost else _ZERO, tuple(unwashed))



_DEFAULT_PROFILE = AccountProfile()


def compute_tax_lots(trades: Iterable[TaxTrade], *, splits: Iterable[SplitAction] = (),
                     accounts: Mapping[str, AccountProfile] | None = None,
                     identical: IdenticalGroups | Iterable[Iterable[str]] | None = None,
                     default_method: TaxLotMethod | str = TaxLotMethod.FIFO, wash_sales: bool = True,
                     currency: str = "USD", _compiled: bool = True) -> TaxResult:
    """Replay trades into tax lots, realised gains by term and wash sales.

    Parameters
    ----------
    trades
        Every trade of the household's accounts, any order (sorted here by time, then
        given order). Sales must be covered by earlier purchases in the same account.
        Long-only FIFO/LIFO histories without splits or named lots run on the compiled
        core, the rest on the Python engine; the results are the same.
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
    _compiled
        Private: ``False`` runs the Python engine even where the compiled core could (the
        tests compare the two).

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
        return _replay(engine, plain, sorted(splits, key=lambda s: s.ts), compiled=_compiled)
    finally:
        if collecting:
            gc.enable()


def _fast_replay(engine: _Engine, plain: list[TaxTrade], days: list[int]) -> TaxResult | None:
    # Run the compiled core on a long-only FIFO/LIFO history without splits or named lots;
    # None when the history needs the Python engine (or could overflow 64-bit integers).
    n = len(plain)
    if n == 0:
        return None
    buy, sell = TradeAction.BUY, TradeAction.SELL
    fifo, lifo = TaxLotMethod.FIFO, TaxLotMethod.LIFO
    mults, keys, unit, places = engine.mults, engine.keys, engine.unit, engine.money_places
    books: dict[tuple[str, str], int] = {}
    groups: dict[str, int] = {}
    accounts: dict[str, tuple[TaxLotMethod, bool]] = {}
    tax_advantaged: dict[str, bool] = {}
    # Plain lists, turned into arrays at the end: setting numpy elements one by one costs more.
    action: list[int] = []
    book_of: list[int] = []
    group_of: list[int] = []
    units: list[int] = []
    mult: list[int] = []
    amount: list[int] = []
    lifo_flags: list[bool] = []
    ira: list[bool] = []
    total = 0
    largest = 0
    half_even = ROUND_HALF_EVEN
    for trade in plain:
        kind = trade.action
        account = trade.account
        found = accounts.get(account)
        if found is None:
            profile = engine.profile(account)
            found = accounts[account] = (profile.lot_method, profile.tax_advantaged)
            tax_advantaged[account] = profile.tax_advantaged
        method, in_ira = found
        gross = trade.quantity * trade.price
        multiplier = trade.multiplier
        if multiplier != 1:
            gross *= multiplier
        if kind is buy:
            action.append(0)
            gross += trade.fees
        elif kind is sell:
            if trade.lot_id is not None or trade.lot_ids:
                return None
            if trade.lot_method is not None:
                method = trade.lot_method
            action.append(1)
            gross -= trade.fees
        else:
            return None
        if method is not fifo and method is not lifo:
            return None
        lifo_flags.append(method is lifo)
        ira.append(in_ira)
        symbol = trade.symbol
        book = books.get((account, symbol))
        if book is None:
            book = books[(account, symbol)] = len(books)
        book_of.append(book)
        symbol = trade.underlying or symbol
        key = keys.get(symbol)
        if key is None:
            key = keys[symbol] = engine.identical.key(symbol)
        group = groups.get(key)
        if group is None:
            group = groups[key] = len(groups)
        group_of.append(group)
        quantity = int(trade.quantity) if unit == 1 else int(trade.quantity * unit)
        scaled = mults[multiplier]
        # The trade's value in minor units, rounded once as the Python engine's ``amount`` does.
        value = int(gross.scaleb(places).to_integral_value(half_even))
        units.append(quantity)
        mult.append(scaled)
        amount.append(value)
        total += value if value >= 0 else -value
        if quantity * scaled > largest:
            largest = quantity * scaled
    if total * largest >= 1 << 62:  # every product of the core is below this
        return None
    action = np.array(action, dtype=np.int8)
    book_of = np.array(book_of, dtype=np.int64)
    group_of = np.array(group_of, dtype=np.int64)
    units = np.array(units, dtype=np.int64)
    mult = np.array(mult, dtype=np.int64)
    amount = np.array(amount, dtype=np.int64)
    lifo_flags = np.array(lifo_flags, dtype=np.bool_)
    ira = np.array(ira, dtype=np.bool_)
    day = np.array(days, dtype=np.int64)
    buys = np.flatnonzero(action == 0)
    order = np.argsort(group_of[buys], kind="stable")
    acq_trade = buys[order]
    acq_group = group_of[acq_trade]
    acq_pos = np.full(n, -1, np.int64)
    acq_pos[acq_trade] = np.arange(len(acq_trade))
    group_ids = np.arange(len(groups))
    group_start = np.searchsorted(acq_group, group_ids, side="left").astype(np.int64)
    group_end = np.searchsorted(acq_group, group_ids, side="right").astype(np.int64)
    acq_day = day[acq_trade]
    capacity = 2 * n + 64
    while True:
        out = _CoreOutput(capacity)
        status = _washcore.replay(action, book_of, group_of, day, units, mult, amount, lifo_flags, ira, acq_pos,
                                  group_start, group_end, acq_trade, acq_day, len(books), engine.wash_sales,
                                  capacity, *out.arrays())
        if status != _washcore.OUT_OF_ROOM:
            break
        capacity *= 2
    if status == _washcore.SHORT_OF_SHARES:
        trade = plain[int(out.counts[5])]
        raise StateConflict(
            f"trade {trade.trade_id} closes {trade.quantity} {trade.symbol} in account {trade.account} but only "
            f"{engine.quantity(int(out.counts[6]))} are held long; supply the opening lots of earlier years as trades")
    return out.result(engine, plain, day, books, groups, tax_advantaged)


class _CoreOutput:
    # The compiled core's output arrays and their conversion to Decimal records.
    _DISPOSAL = ("trade", "lot_trade", "lot_w", "units", "acquired", "holding", "amount", "basis", "disallowed")
    _WASH = ("trade", "lot_trade", "lot_w", "acq", "loss", "shares", "part", "added", "tacked")
    _UNWASHED = ("trade", "group", "day", "need", "loss", "shares")
    _OPEN = ("trade", "w", "units", "basis", "adj", "acquired", "holding", "book")

    def __init__(self, capacity: int) -> None:
        self.disposal = {name: np.empty(capacity, np.int64) for name in self._DISPOSAL}
        self.wash = {name: np.empty(capacity, np.int64) for name in self._WASH}
        self.wash["added"] = np.empty(capacity, np.bool_)
        self.unwashed = {name: np.empty(capacity, np.int64) for name in self._UNWASHED}
        self.open = {name: np.empty(capacity, np.int64) for name in self._OPEN}
        self.counts = np.zeros(7, np.int64)

    def arrays(self) -> list[np.ndarray]:
        return [*(self.disposal[name] for name in self._DISPOSAL), *(self.wash[name] for name in self._WASH),
                *(self.unwashed[name] for name in self._UNWASHED), *(self.open[name] for name in self._OPEN),
                self.counts]

    def result(self, engine: _Engine, plain: list[TaxTrade], day: np.ndarray, books: dict[tuple[str, str], int],
               groups: dict[str, int], tax_advantaged: dict[str, bool]) -> TaxResult:
        # Tight loops: this is where most of the run goes once the core has done its part.
        n_disp, n_wash, n_unw, n_open, lost = (int(x) for x in self.counts[:5])
        quantum, to_quantity, shares_decimal = engine.quantum, engine.quantity, engine.shares_decimal
        ids = [trade.trade_id for trade in plain]
        disposal, wash = self.disposal, self.wash
        ordinals = np.unique(np.concatenate([day, disposal["acquired"][:n_disp], disposal["holding"][:n_disp],
                                             self.open["acquired"][:n_open], self.open["holding"][:n_open]]))
        dates = {o: date.fromordinal(o) for o in ordinals.tolist()}
        holding = disposal["holding"][:n_disp]
        unique_holding, where = np.unique(holding, return_inverse=True)
        long_from = np.array([engine.long_term_ordinal(o) for o in unique_holding.tolist()], dtype=np.int64)
        long_term = (day[disposal["trade"][:n_disp]] >= long_from[where.reshape(-1)]).tolist() if n_disp else []
        days = day.tolist()

        def column(columns: dict[str, np.ndarray], name: str, count: int) -> list:
            return columns[name][:count].tolist()

        # ``_make`` builds a named tuple in C (``tuple.__new__``), a third of the cost of calling the class.
        make_disposal, make_wash = Disposal._make, WashSale._make
        accounts = [trade.account for trade in plain]
        symbols = [trade.symbol for trade in plain]
        one_unit = engine.unit == 1
        disposals = [make_disposal((
            ids[i], ids[lot_trade] if not w else f"{ids[lot_trade]}/w{w}", accounts[i], symbols[i],
            Decimal(units) if one_unit else to_quantity(units), False, dates[acquired], dates[held_from],
            dates[days[i]], Decimal(amount) * quantum, Decimal(basis) * quantum,
            Decimal(disallowed) * quantum if disallowed else _ZERO, Decimal(amount - basis + disallowed) * quantum,
            lt, tax_advantaged[accounts[i]]))
            for i, lot_trade, w, units, acquired, held_from, amount, basis, disallowed, lt in zip(
                *(column(disposal, name, n_disp) for name in self._DISPOSAL), long_term, strict=True)]
        washes = [make_wash((
            ids[i], ids[lot_trade] if not w else f"{ids[lot_trade]}/w{w}", accounts[i], symbols[i], dates[days[i]],
            Decimal(loss) * quantum, shares_decimal(shares), Decimal(part) * quantum, ids[acq], accounts[acq],
            dates[days[acq]], added, tacked, shares_decimal(shares), False))
            for i, lot_trade, w, acq, loss, shares, part, added, tacked in zip(
                *(column(wash, name, n_wash) for name in self._WASH), strict=True)]
        key_of = {group: key for key, group in groups.items()}
        unwashed = [(key_of[group], ids[i], dates[unwashed_day], shares_decimal(need),
                     Decimal(loss) * quantum / shares_decimal(shares))
                    for i, group, unwashed_day, need, loss, shares in zip(
                        *(column(self.unwashed, name, n_unw) for name in self._UNWASHED), strict=True)]
        book_of = {number: key for key, number in books.items()}
        lots = []
        for trade_index, w, units, basis, adjustment, acquired, held_from, book in zip(
                *(column(self.open, name, n_open) for name in self._OPEN), strict=True):
            account, symbol = book_of[book]
            lots.append(OpenLot(ids[trade_index] if not w else f"{ids[trade_index]}/w{w}", ids[trade_index],
                                account, symbol, to_quantity(units), plain[trade_index].multiplier,
                                Decimal(basis) * quantum, Decimal(adjustment) * quantum if adjustment else _ZERO,
                                dates[acquired], dates[held_from], False, tax_advantaged[account]))
        lots.sort(key=lambda lot: (lot.account, lot.symbol, lot.acquired, lot.lot_id))
        return TaxResult(tuple(disposals), tuple(washes), tuple(lots), Decimal(lost) * quantum if lost else _ZERO,
                         tuple(unwashed))


def _replay(engine: _Engine, plain: list[TaxTrade], split_list: list[SplitAction], *,
            compiled: bool = True) -> TaxResult:
    # ``compiled=False`` runs the Python engine on any history (the tests compare the two).
    engine.scale(plain, split_list)
    days = [_day(trade) for trade in plain]
    if compiled and not split_list:
        fast = _fast_replay(engine, plain, days)
        if fast is not None:
            return fast
    engine.index_acquisitions(plain, days)
    engine.trade_ts = [trade.ts for trade in plain]
    units, amount = engine.units, engine.amount
    position = 0
    pending_splits = len(split_list)
    buy, sell_short = TradeAction.BUY, TradeAction.SELL_SHORT
    for order, (trade, day) in enumerate(zip(plain, days, strict=True)):
        while position < pending_splits and split_list[position].ts <= trade.ts:
            engine.split(split_list[position])
            position += 1
        action = trade.action
        if action is buy:
            engine.buy(order, trade, units(trade.quantity), amount(trade))
        elif action is sell_short:
            engine.sell_short(order, trade, day, units(trade.quantity), amount(trade))
        else:
            engine.close(order, trade, day, units(trade.quantity), amount(trade))
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

