"""A double-entry ledger for one trading account: cash, positions at cost, P&L, fees and income.

Every change is a balanced :class:`JournalEntry`: its lines are ``(account,
amount)`` pairs that sum to zero in each currency. Amounts are signed, debit
positive: assets (cash, positions) and expenses normally carry positive
balances, contributions, realised P&L and income negative ones (credits).

Fills post the gross trade value to the position account; commission and fees
go to expense accounts in the same entry, so realised P&L in the ledger is gross
of costs (as in most trading books). Tax lots (:mod:`bifrost.portfolio.lots`)
carry the tax view, with fees in the basis and netted from proceeds.

Posting is idempotent by ``entry_id`` (a fill's ``fill_id``): the same content
posted again returns the original entry; different content under a used id is a
:class:`~bifrost.core.errors.StateConflict`. A refused posting changes nothing.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime
from decimal import ROUND_HALF_EVEN, Decimal
from enum import StrEnum
from typing import Any

from bifrost.core.errors import InvalidInput, NotFoundError, StateConflict
from bifrost.core.money import MINOR_UNITS, minor_unit, to_decimal
from bifrost.core.time import ensure_utc
from bifrost.marketdata.types import normalize_symbol
from bifrost.orders.types import Fill, Side
from bifrost.portfolio.errors import (
    InsufficientFunds,
    InvalidLotSelection,
    LeverageExceeded,
    ReconciliationError,
    ShortSaleRefused,
)
from bifrost.portfolio.events import (
    Deposit,
    Dividend,
    Fee,
    Interest,
    LedgerEvent,
    Split,
    Withdrawal,
)
from bifrost.portfolio.lots import (
    LotBook,
    LotMethod,
    LotSelection,
    RealisedGain,
    TaxLot,
    _hifo_key,
    realise,
    trade_date,
)
from bifrost.portfolio.positions import Position, balances_from_journal, quantities_from_journal

__all__ = ["Account", "AccountKind", "EntryKind", "JournalEntry", "Ledger", "LedgerConfig"]

_ZERO = Decimal(0)


class AccountKind(StrEnum):
    """The accounts of the ledger; all but ``POSITION`` exist once per currency."""

    CASH = "cash"  # asset
    POSITION = "position"  # asset (negative for a short): gross cost of the open lots of one symbol
    CONTRIBUTIONS = "contributions"  # equity: deposits less withdrawals
    REALISED_PNL = "realised_pnl"  # equity: gross realised gains (credit) and losses
    COMMISSIONS = "commissions"  # expense
    FEES = "fees"  # expense: regulatory, exchange and account fees (rebates negative)
    DIVIDEND_INCOME = "dividend_income"  # income
    DIVIDEND_EXPENSE = "dividend_expense"  # expense: payments in lieu on short positions
    INTEREST_INCOME = "interest_income"  # income
    INTEREST_EXPENSE = "interest_expense"  # expense: margin interest
    ADJUSTMENTS = "adjustments"  # equity: the other side of manual corrections


@dataclass(frozen=True, slots=True)
class Account:
    """One ledger account: a kind, a currency and, for positions only, a symbol."""

    kind: AccountKind
    currency: str = "USD"
    symbol: str = ""

    def __post_init__(self) -> None:
        object.__setattr__(self, "kind", AccountKind(self.kind))
        if not isinstance(self.currency, str) or len(self.currency) != 3 or not self.currency.isalpha():
            raise InvalidInput(f"account currency must be a 3-letter ISO code, was {self.currency!r}")
        object.__setattr__(self, "currency", self.currency.upper())
        if self.kind is AccountKind.POSITION:
            object.__setattr__(self, "symbol", normalize_symbol(self.symbol))
        elif self.symbol:
            raise InvalidInput(f"only position accounts name a symbol, {self.kind.value} named {self.symbol!r}")

    @classmethod
    def cash(cls, currency: str = "USD") -> Account:
        """Return the cash account of ``currency``."""
        return _account(AccountKind.CASH, currency.upper())

    @classmethod
    def position(cls, symbol: str, currency: str = "USD") -> Account:
        """Return the position account of ``symbol`` in ``currency``."""
        return _account(AccountKind.POSITION, currency.upper(), normalize_symbol(symbol))

    def __str__(self) -> str:
        if self.symbol:
            return f"{self.kind.value}:{self.symbol}:{self.currency}"
        return f"{self.kind.value}:{self.currency}"


_ACCOUNTS: dict[tuple[AccountKind, str, str], Account] = {}


def _account(kind: AccountKind, currency: str, symbol: str = "") -> Account:
    # Interned accounts: the hot path builds no new Account objects.
    key = (kind, currency, symbol)
    account = _ACCOUNTS.get(key)
    if account is None:
        account = _ACCOUNTS[key] = Account(kind, currency, symbol)
    return account


_QUANTA: dict[str, Decimal] = {}


def _quantum(currency: str) -> Decimal:
    quantum = _QUANTA.get(currency)
    if quantum is None:
        quantum = _QUANTA[currency] = minor_unit(currency)
    return quantum


class EntryKind(StrEnum):
    """What a journal entry records."""

    DEPOSIT = "deposit"
    WITHDRAWAL = "withdrawal"
    FILL = "fill"  # buy, sell, short sale or cover, with its commission and fees
    FEE = "fee"  # a fee charged outside a fill
    DIVIDEND = "dividend"
    INTEREST = "interest"
    SPLIT = "split"
    ADJUSTMENT = "adjustment"


Line = tuple[Account, Decimal]


def _imbalances(lines: Iterable[Line]) -> dict[str, Decimal]:
    totals: dict[str, Decimal] = {}
    for account, amount in lines:
        totals[account.currency] = totals.get(account.currency, _ZERO) + amount
    return {currency: total for currency, total in totals.items() if total}


@dataclass(frozen=True, slots=True, kw_only=True)
class JournalEntry:
    """A balanced set of ledger lines, posted at once.

    Attributes
    ----------
    lines
        ``(account, amount)`` pairs, debit positive; they sum to zero per currency.
    quantities
        ``(symbol, signed quantity change)`` of positions (fills and splits).
    source
        The fill or event the entry was built from (``None`` for a manual entry);
        posting the same source again is a no-op, and reconciliation replays it.
    lot_selection
        The specific-identification instruction a fill was posted with.

    Raises
    ------
    InvalidInput
        If the id is empty, the instant naive, a line malformed, or the lines do
        not sum to zero in every currency.
    """

    entry_id: str
    ts_event: datetime
    kind: EntryKind
    lines: tuple[Line, ...]
    quantities: tuple[tuple[str, Decimal], ...] = ()
    memo: str = ""
    source: Fill | LedgerEvent | None = None
    lot_selection: tuple[LotSelection, ...] = ()

    def __post_init__(self) -> None:
        if not isinstance(self.entry_id, str) or not self.entry_id:
            raise InvalidInput(f"entry_id must be a non-empty string, was {self.entry_id!r}")
        ts_event = self.ts_event
        if type(ts_event) is not datetime or ts_event.tzinfo is not UTC:
            object.__setattr__(self, "ts_event", ensure_utc(ts_event, field="ts_event"))
        if type(self.kind) is not EntryKind:
            object.__setattr__(self, "kind", EntryKind(self.kind))
        lines = self.lines
        if type(lines) is not tuple:
            lines = tuple((line[0], line[1]) for line in lines)
            object.__setattr__(self, "lines", lines)
        if type(self.quantities) is not tuple:
            object.__setattr__(self, "quantities", tuple(tuple(item) for item in self.quantities))
        if type(self.lot_selection) is not tuple:
            object.__setattr__(self, "lot_selection", tuple(self.lot_selection))
        if not lines and not self.quantities:
            raise InvalidInput(f"journal entry {self.entry_id} has no lines")
        currency = None
        total = _ZERO
        single = True
        for line in lines:
            if len(line) != 2:
                raise InvalidInput(f"journal entry {self.entry_id} line must be (account, amount), was {line!r}")
            account, amount = line
            if type(account) is not Account:
                raise InvalidInput(f"journal entry {self.entry_id} line account must be an Account, was {account!r}")
            if type(amount) is not Decimal or not amount.is_finite():
                raise InvalidInput(
                    f"journal entry {self.entry_id} amount for {account} must be a finite Decimal, was {amount!r}")
            if currency is None:
                currency = account.currency
            elif account.currency != currency:
                single = False
            total += amount
        if single and not total:
            return
        unbalanced = _imbalances(lines)
        if unbalanced:
            sums = ", ".join(f"{amount} {currency}" for currency, amount in sorted(unbalanced.items()))
            raise InvalidInput(
                f"journal entry {self.entry_id} does not balance: lines sum to {sums}; "
                f"lines must sum to zero in each currency",
                details={"entry_id": self.entry_id, "imbalance": {c: str(a) for c, a in unbalanced.items()}})


@dataclass(frozen=True, slots=True, kw_only=True)
class LedgerConfig:
    """How a ledger treats trades and withdrawals.

    Attributes
    ----------
    lot_method
        Default lot relief method; a fill's ``lot_selection`` overrides it.
    margin
        ``False`` for a cash account, ``True`` for a margin account.
    enforce_limits
        Refuse what the account type does not permit: in a cash account, buys and
        withdrawals that overdraw cash and any short sale; in a margin account,
        trades that raise gross exposure and withdrawals that would leave
        ``gross exposure / equity`` above ``leverage_limit``. Turn off to record
        what a broker has already done.
    leverage_limit
        Largest allowed ``gross exposure / equity`` of a margin account (2 is
        Regulation T initial margin).
    """

    lot_method: LotMethod = LotMethod.FIFO
    margin: bool = False
    enforce_limits: bool = True
    leverage_limit: Decimal = Decimal(2)

    def __post_init__(self) -> None:
        object.__setattr__(self, "lot_method", LotMethod(self.lot_method))
        limit = to_decimal(self.leverage_limit, field="leverage_limit")
        if limit <= 0:
            raise InvalidInput(f"leverage_limit must be positive, was {limit}")
        object.__setattr__(self, "leverage_limit", limit)


def _places(value: Decimal) -> int:
    exponent = value.normalize().as_tuple().exponent
    return -exponent if isinstance(exponent, int) and exponent < 0 else 0


def _format_money(amount: Decimal, currency: str) -> str:
    return f"{amount:,.{MINOR_UNITS.get(currency, 2)}f} {currency}"


def _format_quantity(quantity: Decimal) -> str:
    return f"{quantity.normalize():,f}"


def _format_price(price: Decimal) -> str:
    return f"{price:,.{max(2, _places(price))}f}"


class Ledger:
    """A double-entry ledger with tax lots, running balances and positions.

    Parameters
    ----------
    config
        Account type, lot method and limits; defaults to a FIFO cash account that
        refuses overdrafts and short sales.

    Notes
    -----
    Running balances, position quantities and lots are updated on each posting;
    :meth:`reconcile` recomputes them from the journal and compares. Margin
    checks value each holding at its last mark (the last fill price, a fill's
    ``mark``, or :meth:`update_marks`) and treat each currency on its own.
    """

    __slots__ = ("_config", "_entries", "_balances", "_quantities", "_currencies", "_lots", "_gains",
                 "_gains_by_entry", "_marks", "_market_values", "_gross", "_net")

    def __init__(self, config: LedgerConfig | None = None) -> None:
        self._config = config if config is not None else LedgerConfig()
        self._entries: dict[str, JournalEntry] = {}
        self._balances: dict[Account, Decimal] = {}
        self._quantities: dict[str, Decimal] = {}
        self._currencies: dict[str, str] = {}
        self._lots = LotBook(self._config.lot_method)
        self._gains: list[RealisedGain] = []
        self._gains_by_entry: dict[str, tuple[RealisedGain, ...]] = {}
        self._marks: dict[str, Decimal] = {}
        self._market_values: dict[str, Decimal] = {}  # margin accounts only: quantity × mark
        self._gross: dict[str, Decimal] = {}  # margin accounts only, per currency
        self._net: dict[str, Decimal] = {}

    @property
    def config(self) -> LedgerConfig:
        return self._config

    def set_enforce_limits(self, enforce: bool) -> None:
        """Turn account-type limits on or off for later postings.

        Replaying a stored journal, or importing what a broker already executed, posts
        with limits off: those entries were accepted when they happened.
        """
        self._config = dataclasses.replace(self._config, enforce_limits=enforce)

    # ---------------------------------------------------------------- posting

    def post(self, item: Fill | LedgerEvent | JournalEntry, *, lot_selection: Sequence[LotSelection] = (),
             lot_method: LotMethod | str | None = None, lot_ids: Sequence[str] = (),
             mark: Decimal | None = None) -> JournalEntry:
        """Post a fill, an event or a manual entry, and return its journal entry.

        Parameters
        ----------
        item
            A :class:`~bifrost.orders.types.Fill`; a :class:`Deposit`,
            :class:`Withdrawal`, :class:`Fee`, :class:`Interest`,
            :class:`Dividend` or :class:`Split`; or a manual
            :class:`JournalEntry` (an adjustment) that touches no position account.
        lot_selection
            Fills only: the lots (and quantities) a closing fill relieves, which
            overrides the configured lot method.
        lot_method, lot_ids
            Fills only: the order's per-sale override of the configured lot method
            (:class:`~bifrost.orders.types.OrderRequest`). ``lot_ids`` relieves those
            lots first, in the order given, each as far as it is still open (an id
            already closed, say by an earlier fill of the same order, is passed over);
            what they do not cover is relieved by ``lot_method``, or else the configured
            method (FIFO if that is specific identification: Treas. Reg. §1.1012-1(c)).
            The override is resolved into the lot selection the entry records, so a
            replay of the journal relieves the same lots. Ignored when ``lot_selection``
            is given, and for a fill that closes nothing.
        mark
            Fills only: the price at which the margin check values the position
            after the fill; defaults to the fill price.

        Returns
        -------
        JournalEntry
            The posted entry, or the original one if the same item was posted before.

        Raises
        ------
        StateConflict
            If ``entry_id`` is already used by different content, or a dividend or
            split names a symbol with no position.
        InsufficientFunds
            If a cash account would be overdrawn by a buy or a withdrawal.
        LeverageExceeded
            If a margin account would pass its leverage limit.
        ShortSaleRefused
            If a cash account would sell short.
        InvalidLotSelection
            If a lot selection is missing, unknown or does not cover the quantity.
        InvalidInput
            If a manual entry touches a position account or does not balance.
        """
        if type(item) is Fill:
            override = None
            if (lot_method is not None or lot_ids) and not lot_selection:
                override = (LotMethod(lot_method) if lot_method is not None else None, tuple(lot_ids))
            return self._post_fill(item, tuple(lot_selection), mark, override)
        if lot_ids or lot_method is not None:
            raise InvalidInput(f"lot_method and lot_ids apply only to fills, not to {type(item).__name__}")
        if lot_selection or mark is not None:
            raise InvalidInput(f"lot_selection and mark apply only to fills, not to {type(item).__name__}")
        handler = _HANDLERS.get(type(item))
        if handler is None:
            raise InvalidInput(f"cannot post a {type(item).__name__}; post a Fill, a ledger event or a JournalEntry")
        return handler(self, item)

    def _existing(self, entry_id: str, source: object, selection: tuple[LotSelection, ...] = ()
                  ) -> JournalEntry | None:
        existing = self._entries.get(entry_id)
        if existing is None:
            return None
        if existing.source is not None and existing.source == source and existing.lot_selection == selection:
            return existing
        raise StateConflict(
            f"entry_id {entry_id!r} is already posted with different content; an id may be posted only once",
            details={"entry_id": entry_id})

    def _commit(self, entry: JournalEntry) -> None:
        self._entries[entry.entry_id] = entry
        balances = self._balances
        for account, amount in entry.lines:
            balance = balances.get(account, _ZERO) + amount
            if balance:
                balances[account] = balance
            else:
                balances.pop(account, None)
        quantities = self._quantities
        for symbol, change in entry.quantities:
            quantity = quantities.get(symbol, _ZERO) + change
            if quantity:
                quantities[symbol] = quantity
            else:
                quantities.pop(symbol, None)
                self._currencies.pop(symbol, None)

    def _resolve_override(self, symbol: str, quantity: Decimal, buy: bool, method: LotMethod | None,
                          lot_ids: tuple[str, ...]) -> tuple[LotSelection, ...]:
        # The lots an order's override relieves, as the explicit selection the entry records.
        lots = [lot for lot in self._lots.lots(symbol) if lot.short is buy]
        by_id = {lot.lot_id: lot for lot in lots}
        chosen: list[LotSelection] = []
        used: set[str] = set()
        remaining = quantity
        for lot_id in lot_ids:
            lot = by_id.get(lot_id)
            if lot is None or not remaining:
                continue
            take = min(lot.quantity, remaining)
            chosen.append(LotSelection(lot_id=lot_id, quantity=take))
            used.add(lot_id)
            remaining -= take
        if remaining:
            if method is None or method is LotMethod.SPECIFIC:
                method = self._config.lot_method
            if method is LotMethod.LIFO:
                ordered = lots[::-1]
            elif method is LotMethod.HIFO:
                ordered = sorted(lots, key=_hifo_key)
            else:  # FIFO, and specific identification without named lots left
                ordered = lots
            for lot in ordered:
                if not remaining:
                    break
                if lot.lot_id in used:
                    continue
                take = min(lot.quantity, remaining)
                chosen.append(LotSelection(lot_id=lot.lot_id, quantity=take))
                remaining -= take
        return tuple(chosen)

    def _post_fill(self, fill: Fill, selection: tuple[LotSelection, ...], mark: Decimal | None,
                   override: tuple[LotMethod | None, tuple[str, ...]] | None = None) -> JournalEntry:
        entry_id = fill.fill_id
        if entry_id in self._entries:
            if override is not None:  # the override was resolved into the stored selection
                selection = self._entries[entry_id].lot_selection
            return self._existing(entry_id, fill, selection)  # type: ignore[return-value]
        symbol = fill.symbol
        currency = fill.currency
        held_currency = self._currencies.get(symbol)
        if held_currency is not None and held_currency != currency:
            raise InvalidInput(f"fill {entry_id} is in {currency} but the position in {symbol} is in {held_currency}")
        config = self._config
        quantum = _quantum(currency)
        quantity = fill.quantity
        price = fill.price
        buy = fill.side is Side.BUY
        notional = (quantity * price).quantize(quantum, rounding=ROUND_HALF_EVEN)
        commission = fill.commission.quantize(quantum, rounding=ROUND_HALF_EVEN) if fill.commission else _ZERO
        fees = fill.fees.quantize(quantum, rounding=ROUND_HALF_EVEN) if fill.fees else _ZERO
        fee_total = commission + fees
        held = self._quantities.get(symbol, _ZERO)
        closing = held < 0 if buy else held > 0
        close_quantity = (quantity if quantity <= abs(held) else abs(held)) if closing else _ZERO
        open_quantity = quantity - close_quantity
        if not buy and open_quantity and config.enforce_limits and not config.margin:
            raise ShortSaleRefused(
                f"selling {_format_quantity(quantity)} {symbol} exceeds the long position of "
                f"{_format_quantity(held if held > 0 else _ZERO)}; a cash account may not sell short",
                details={"symbol": symbol, "quantity": str(quantity), "position": str(held)})
        ts_event = fill.ts_event
        day = trade_date(ts_event)
        if close_quantity:
            if open_quantity:
                close_value = (close_quantity * price).quantize(quantum, rounding=ROUND_HALF_EVEN)
                close_fees = (fee_total * close_quantity / quantity).quantize(quantum, rounding=ROUND_HALF_EVEN)
            else:
                close_value, close_fees = notional, fee_total
            if override is not None:
                selection = self._resolve_override(symbol, close_quantity, buy, *override)
            reliefs, end = self._lots.plan_relief(symbol, close_quantity, method=config.lot_method,
                                                  selection=selection, quantum=quantum)
            gains, relieved = realise(reliefs, closing_value=close_value, closing_fees=close_fees,
                                      closing_id=entry_id, disposed=day, quantum=quantum)
            open_value = notional - close_value
            open_fees = fee_total - close_fees
            realised = relieved - close_value if buy else close_value - relieved
        else:
            if selection:
                raise InvalidLotSelection(
                    f"a lot selection was given, but {fill.side.value} {_format_quantity(quantity)} {symbol} "
                    f"closes no lots")
            reliefs, end, gains, relieved = [], "left", (), _ZERO
            open_value, open_fees, realised = notional, fee_total, _ZERO
        cash_account = _account(AccountKind.CASH, currency)
        if buy:
            cash_change = -(notional + fee_total)
            position_change = open_value + relieved
            quantity_change = quantity
        else:
            cash_change = notional - fee_total
            position_change = -(open_value + relieved)
            quantity_change = -quantity
        quantity_after = held + quantity_change
        mark_price = price if mark is None else _check_mark(mark)
        if config.enforce_limits:
            cash_before = self._balances.get(cash_account, _ZERO)
            cash_after = cash_before + cash_change
            if config.margin:
                if abs(quantity_after) > abs(held):
                    self._check_fill_leverage(fill, quantity_after, mark_price, cash_after)
            elif buy and cash_after < 0:
                raise InsufficientFunds(
                    f"buying {_format_quantity(quantity)} {symbol} at {_format_price(price)} needs "
                    f"{_format_money(-cash_change, currency)}, cash is "
                    f"{_format_money(cash_before, currency)}",
                    details={"symbol": symbol, "needed": str(-cash_change),
                             "cash": str(cash_before), "currency": currency})
        lines: list[Line] = []
        if cash_change:
            lines.append((cash_account, cash_change))
        if commission:
            lines.append((_account(AccountKind.COMMISSIONS, currency), commission))
        if fees:
            lines.append((_account(AccountKind.FEES, currency), fees))
        if position_change:
            lines.append((_account(AccountKind.POSITION, currency, symbol), position_change))
        if realised:
            lines.append((_account(AccountKind.REALISED_PNL, currency), -realised))
        entry = JournalEntry(entry_id=entry_id, ts_event=ts_event, kind=EntryKind.FILL, lines=tuple(lines),
                             quantities=((symbol, quantity_change),), source=fill, lot_selection=selection)
        new_lot = None
        if open_quantity:
            new_lot = TaxLot(lot_id=entry_id, symbol=symbol, quantity=open_quantity, cost=open_value,
                             fees=open_fees, acquired=day, ts_event=ts_event, short=not buy, currency=currency)
        # Nothing below raises: the posting is applied whole.
        self._lots.commit(symbol, reliefs, end, new_lot)
        self._commit(entry)
        if quantity_after:
            self._currencies[symbol] = currency
        if gains:
            self._gains.extend(gains)
            self._gains_by_entry[entry_id] = gains
        self._marks[symbol] = mark_price
        if config.margin:
            self._set_market_value(symbol, currency, quantity_after * mark_price)
        return entry

    def _check_fill_leverage(self, fill: Fill, quantity_after: Decimal, mark: Decimal, cash_after: Decimal) -> None:
        currency = fill.currency
        old_value = self._market_values.get(fill.symbol, _ZERO)
        new_value = quantity_after * mark
        gross = self._gross.get(currency, _ZERO) - abs(old_value) + abs(new_value)
        net = self._net.get(currency, _ZERO) - old_value + new_value
        verb = "buying" if fill.side is Side.BUY else "selling"
        what = f"{verb} {_format_quantity(fill.quantity)} {fill.symbol} at {_format_price(fill.price)}"
        self._check_leverage(what, currency, gross, cash_after + net)

    def _check_leverage(self, what: str, currency: str, gross: Decimal, equity: Decimal) -> None:
        limit = self._config.leverage_limit
        quantum = _quantum(currency)
        gross_text = _format_money(gross.quantize(quantum), currency)
        equity_text = _format_money(equity.quantize(quantum), currency)
        details = {"gross_exposure": str(gross), "equity": str(equity), "leverage_limit": str(limit),
                   "currency": currency}
        if equity <= 0:
            if gross or equity < 0:
                raise LeverageExceeded(f"{what} leaves equity at {equity_text} with gross exposure of "
                                       f"{gross_text}; a margin account needs positive equity", details=details)
            return
        if gross > limit * equity:
            raise LeverageExceeded(
                f"{what} takes gross exposure to {gross_text}, {gross / equity:.2f}x equity of {equity_text}; "
                f"the limit is {limit.normalize()}x", details=details)

    def _set_market_value(self, symbol: str, currency: str, value: Decimal) -> None:
        old = self._market_values.get(symbol, _ZERO)
        self._gross[currency] = self._gross.get(currency, _ZERO) - abs(old) + abs(value)
        self._net[currency] = self._net.get(currency, _ZERO) - old + value
        if value:
            self._market_values[symbol] = value
        else:
            self._market_values.pop(symbol, None)

    def _post_deposit(self, event: Deposit) -> JournalEntry:
        existing = self._existing(event.entry_id, event)
        if existing is not None:
            return existing
        lines = ((_account(AccountKind.CASH, event.currency), event.amount),
                 (_account(AccountKind.CONTRIBUTIONS, event.currency), -event.amount))
        return self._post_simple(event, EntryKind.DEPOSIT, lines, event.memo)

    def _post_withdrawal(self, event: Withdrawal) -> JournalEntry:
        existing = self._existing(event.entry_id, event)
        if existing is not None:
            return existing
        currency = event.currency
        cash_account = _account(AccountKind.CASH, currency)
        cash = self._balances.get(cash_account, _ZERO)
        config = self._config
        what = f"withdrawing {_format_money(event.amount, currency)}"
        if config.enforce_limits:
            if config.margin:
                self._check_leverage(what, currency, self._gross.get(currency, _ZERO),
                                     cash - event.amount + self._net.get(currency, _ZERO))
            elif cash < event.amount:
                raise InsufficientFunds(
                    f"{what} exceeds cash of {_format_money(cash, currency)}",
                    details={"needed": str(event.amount), "cash": str(cash), "currency": currency})
        lines = ((_account(AccountKind.CONTRIBUTIONS, currency), event.amount), (cash_account, -event.amount))
        return self._post_simple(event, EntryKind.WITHDRAWAL, lines, event.memo)

    def _post_fee(self, event: Fee) -> JournalEntry:
        existing = self._existing(event.entry_id, event)
        if existing is not None:
            return existing
        lines = ((_account(AccountKind.FEES, event.currency), event.amount),
                 (_account(AccountKind.CASH, event.currency), -event.amount))
        return self._post_simple(event, EntryKind.FEE, lines, event.memo)

    def _post_interest(self, event: Interest) -> JournalEntry:
        existing = self._existing(event.entry_id, event)
        if existing is not None:
            return existing
        cash_account = _account(AccountKind.CASH, event.currency)
        amount = event.amount
        if amount > 0:
            lines = ((cash_account, amount), (_account(AccountKind.INTEREST_INCOME, event.currency), -amount))
        else:
            lines = ((_account(AccountKind.INTEREST_EXPENSE, event.currency), -amount), (cash_account, amount))
        return self._post_simple(event, EntryKind.INTEREST, lines, event.memo)

    def _post_dividend(self, event: Dividend) -> JournalEntry:
        existing = self._existing(event.entry_id, event)
        if existing is not None:
            return existing
        symbol, currency = event.symbol, event.currency
        quantity = event.quantity if event.quantity is not None else self._quantities.get(symbol, _ZERO)
        if not quantity:
            raise StateConflict(f"no position in {symbol} to receive or pay the dividend {event.entry_id}",
                                details={"symbol": symbol})
        amount = (event.amount_per_share * abs(quantity)).quantize(_quantum(currency), rounding=ROUND_HALF_EVEN)
        if not amount:
            raise InvalidInput(f"dividend {event.entry_id} on {_format_quantity(quantity)} {symbol} "
                               f"rounds to zero {currency}")
        cash_account = _account(AccountKind.CASH, currency)
        if quantity > 0:
            lines = ((cash_account, amount), (_account(AccountKind.DIVIDEND_INCOME, currency), -amount))
            memo = f"dividend {event.amount_per_share} x {_format_quantity(quantity)} {symbol}"
        else:
            lines = ((_account(AccountKind.DIVIDEND_EXPENSE, currency), amount), (cash_account, -amount))
            memo = f"payment in lieu {event.amount_per_share} x {_format_quantity(-quantity)} {symbol} short"
        return self._post_simple(event, EntryKind.DIVIDEND, lines, memo)

    def _post_split(self, event: Split) -> JournalEntry:
        existing = self._existing(event.entry_id, event)
        if existing is not None:
            return existing
        symbol = event.symbol
        held = self._quantities.get(symbol, _ZERO)
        if not held:
            raise StateConflict(f"no position in {symbol} to split ({event.entry_id})", details={"symbol": symbol})
        lots = self._lots.plan_split(symbol, event.ratio)
        quantity_after = _ZERO
        for lot in lots:
            quantity_after += lot.signed_quantity
        entry = JournalEntry(entry_id=event.entry_id, ts_event=event.ts_event, kind=EntryKind.SPLIT, lines=(),
                             quantities=((symbol, quantity_after - held),),
                             memo=f"split {event.ratio.normalize()} for 1 of {symbol}", source=event)
        self._lots.replace(symbol, lots)
        self._commit(entry)
        mark = self._marks.get(symbol)
        if mark is not None:
            self._marks[symbol] = mark = mark / event.ratio
            if self._config.margin:
                self._set_market_value(symbol, self._currencies[symbol], quantity_after * mark)
        return entry

    def _post_simple(self, event: LedgerEvent, kind: EntryKind, lines: tuple[Line, ...], memo: str
                     ) -> JournalEntry:
        entry = JournalEntry(entry_id=event.entry_id, ts_event=event.ts_event, kind=kind, lines=lines, memo=memo,
                             source=event)
        self._commit(entry)
        return entry

    def _post_entry(self, entry: JournalEntry) -> JournalEntry:
        existing = self._entries.get(entry.entry_id)
        if existing is not None:
            if existing == entry:
                return existing
            raise StateConflict(
                f"entry_id {entry.entry_id!r} is already posted with different content; an id may be posted "
                f"only once", details={"entry_id": entry.entry_id})
        if entry.kind in (EntryKind.FILL, EntryKind.SPLIT) or entry.quantities or entry.source is not None:
            raise InvalidInput(f"manual entry {entry.entry_id} may not be a fill or split or change quantities; "
                               f"post the Fill or Split itself")
        for account, _amount in entry.lines:
            if account.kind is AccountKind.POSITION:
                raise InvalidInput(f"manual entry {entry.entry_id} touches position account {account}; "
                                   f"positions change only through fills and splits, so lots stay in step")
        self._commit(entry)
        return entry

    # ---------------------------------------------------------------- marks

    def update_marks(self, prices: Mapping[str, Decimal]) -> None:
        """Record last prices used by margin checks (Decimal; see :func:`mark_to_market` for floats)."""
        for symbol, price in prices.items():
            symbol = normalize_symbol(symbol)
            mark = _check_mark(price)
            self._marks[symbol] = mark
            if self._config.margin and symbol in self._quantities:
                self._set_market_value(symbol, self._currencies[symbol], self._quantities[symbol] * mark)

    # ---------------------------------------------------------------- reading

    def __len__(self) -> int:
        return len(self._entries)

    def __contains__(self, entry_id: object) -> bool:
        return entry_id in self._entries

    def entries(self) -> tuple[JournalEntry, ...]:
        """Return the journal in posting order."""
        return tuple(self._entries.values())

    def entry(self, entry_id: str) -> JournalEntry:
        """Return the entry posted under ``entry_id``.

        Raises
        ------
        NotFoundError
            If no entry has that id.
        """
        try:
            return self._entries[entry_id]
        except KeyError:
            raise NotFoundError(f"no journal entry with entry_id {entry_id!r}") from None

    def balance(self, account: Account) -> Decimal:
        """Return the running balance of ``account`` (debit positive)."""
        return self._balances.get(account, _ZERO)

    def balances(self) -> dict[Account, Decimal]:
        """Return every non-zero running balance."""
        return dict(self._balances)

    def cash(self, currency: str = "USD") -> Decimal:
        """Return the cash balance in ``currency`` (negative when a margin account borrows)."""
        return self._balances.get(_account(AccountKind.CASH, currency.upper()), _ZERO)

    def currencies(self) -> list[str]:
        """Return the currencies with a non-zero balance in any account, sorted."""
        return sorted({account.currency for account in self._balances})

    def position(self, symbol: str) -> Position:
        """Return the position in ``symbol``; a flat position if there is none."""
        symbol = normalize_symbol(symbol)
        currency = self._currencies.get(symbol, "USD")
        basis = _ZERO
        for lot in self._lots.lots(symbol):
            basis += lot.basis
        return Position(symbol=symbol, quantity=self._quantities.get(symbol, _ZERO),
                        cost=self._balances.get(_account(AccountKind.POSITION, currency, symbol), _ZERO),
                        basis=basis, currency=currency)

    def positions(self) -> dict[str, Position]:
        """Return the open positions by symbol, sorted by symbol."""
        return {symbol: self.position(symbol) for symbol in sorted(self._quantities)}

    def open_lots(self, symbol: str) -> tuple[TaxLot, ...]:
        """Return the open tax lots of ``symbol`` in acquisition order."""
        return self._lots.lots(normalize_symbol(symbol))

    def realised_gains(self, entry_id: str | None = None) -> tuple[RealisedGain, ...]:
        """Return the realised gain records of one closing fill, or of all fills in posting order."""
        if entry_id is None:
            return tuple(self._gains)
        return self._gains_by_entry.get(entry_id, ())

    def external_flows(self, currency: str = "USD") -> dict[date, Decimal]:
        """Return net contributions (deposits less withdrawals) per trade date, for return calculations."""
        contributions = _account(AccountKind.CONTRIBUTIONS, currency.upper())
        flows: dict[date, Decimal] = {}
        for entry in self._entries.values():
            for account, amount in entry.lines:
                if account == contributions:
                    day = trade_date(entry.ts_event)
                    flows[day] = flows.get(day, _ZERO) - amount
        return dict(sorted(flows.items()))

    # ---------------------------------------------------------------- checks

    def reconcile(self) -> None:
        """Recompute balances, positions and lots from the journal and compare with the running state.

        Checks that every entry balances, that running balances and position
        quantities equal sums over the journal, that the open lots of each symbol
        sum to its position (quantity and cost), and that replaying every posted
        fill and event into a fresh ledger gives the same entries, lots and gains.

        Raises
        ------
        ReconciliationError
            Naming the first account or symbol that disagrees; ``details["problems"]``
            lists all of them.
        """
        problems: list[str] = []
        entries = list(self._entries.values())
        for entry in entries:
            unbalanced = _imbalances(entry.lines)
            if unbalanced:
                problems.append(f"entry {entry.entry_id} does not balance: {unbalanced}")
        journal = balances_from_journal(entries)
        for account in sorted(set(journal) | set(self._balances), key=str):
            running, recomputed = self._balances.get(account, _ZERO), journal.get(account, _ZERO)
            if running != recomputed:
                problems.append(f"{account} is {running} in running balances but {recomputed} from the journal")
        quantities = quantities_from_journal(entries)
        for symbol in sorted(set(quantities) | set(self._quantities)):
            running, recomputed = self._quantities.get(symbol, _ZERO), quantities.get(symbol, _ZERO)
            if running != recomputed:
                problems.append(f"position {symbol} quantity is {running} in running balances "
                                f"but {recomputed} from the journal")
        cost_by_symbol = {account.symbol: amount for account, amount in self._balances.items()
                          if account.kind is AccountKind.POSITION}
        for symbol in sorted(set(self._lots.symbols()) | set(self._quantities) | set(cost_by_symbol)):
            lot_quantity, lot_cost = self._lots.totals(symbol)
            if lot_quantity != self._quantities.get(symbol, _ZERO):
                problems.append(f"lots of {symbol} sum to {lot_quantity} shares but the position is "
                                f"{self._quantities.get(symbol, _ZERO)}")
            if lot_cost != cost_by_symbol.get(symbol, _ZERO):
                problems.append(f"lots of {symbol} cost {lot_cost} but the position account holds "
                                f"{cost_by_symbol.get(symbol, _ZERO)}")
        problems.extend(self._replay_problems(entries))
        if problems:
            more = f" (and {len(problems) - 1} more)" if len(problems) > 1 else ""
            raise ReconciliationError(f"reconciliation failed: {problems[0]}{more}", details={"problems": problems})

    def _replay_problems(self, entries: list[JournalEntry]) -> list[str]:
        fresh = Ledger(replace(self._config, enforce_limits=False))
        for entry in entries:
            item = entry.source if entry.source is not None else entry
            try:
                replayed = fresh.post(item, lot_selection=entry.lot_selection)
            except (InvalidInput, StateConflict) as exc:
                return [f"replaying entry {entry.entry_id} fails: {exc}"]
            if replayed != entry:
                return [f"replaying entry {entry.entry_id} gives different lines: {replayed.lines} "
                        f"instead of {entry.lines}"]
        problems = []
        for symbol in sorted(set(fresh._lots.symbols()) | set(self._lots.symbols())):
            if fresh._lots.lots(symbol) != self._lots.lots(symbol):
                problems.append(f"open lots of {symbol} differ from a replay of the journal")
        if fresh._gains != self._gains:
            problems.append("realised gains differ from a replay of the journal")
        return problems


def _check_mark(mark: Decimal) -> Decimal:
    mark = to_decimal(mark, field="mark")
    if mark <= 0:
        raise InvalidInput(f"mark must be positive, was {mark}")
    return mark


_HANDLERS: dict[type, Callable[[Ledger, Any], JournalEntry]] = {
    Deposit: Ledger._post_deposit,
    Withdrawal: Ledger._post_withdrawal,
    Fee: Ledger._post_fee,
    Interest: Ledger._post_interest,
    Dividend: Ledger._post_dividend,
    Split: Ledger._post_split,
    JournalEntry: Ledger._post_entry,
}
