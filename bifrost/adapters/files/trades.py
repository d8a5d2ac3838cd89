"""Import and export broker trade histories in one documented CSV format.

The trading core (``bifrost portfolio import-trades``) and the compliance service
(tax lots, wash sales) read last year's trades from any broker through this
format; a broker export is mapped to it once, outside Bifrost. The full
description with examples is ``docs/trade-import.md``.

File format
-----------
UTF-8 CSV (``.csv``) or gzip CSV (``.csv.gz``) with a header row; a byte-order
mark is allowed. Header names are matched case-insensitively after trimming
spaces, and columns may come in any order. Blank lines are skipped (they still
count as lines). Other columns are ignored.

=========== ============================= ===================================================
column      required                      meaning
=========== ============================= ===================================================
trade_id    yes                           id of the row, unique in the file (1-128 characters);
                                          the fill or ledger entry id, and the lot id of a lot
                                          the trade opens
account     yes                           broker account or portfolio name
date, time  yes (exactly one of the two)  ISO 8601 date or date-time; see "Times"
type        no                            ``trade`` (default, also an empty cell), ``deposit``,
                                          ``withdrawal``, ``dividend``, ``fee``, ``interest``,
                                          ``split``
symbol      trade, dividend, split rows   ticker, upper-cased and checked
side        trade rows                    ``buy``, ``sell``, ``sell short``, ``buy to cover``
                                          (any case; spaces or underscores: ``sell_short``)
quantity    trade rows; dividend optional shares: positive for trades (at most 6 places);
                                          for a dividend the signed position on the ex-date
price       trade and dividend rows       cash per share: trade price, or dividend per share;
                                          positive, at most 6 places
fees        no (default 0)                commission plus fees of the trade, >= 0, at most
                                          the currency's minor unit (2 places for USD)
lot_id      no                            sell and buy-to-cover rows only: the trade_id of the
                                          lot to relieve (specific identification)
currency    no (default USD)              3-letter ISO code
amount      deposit, withdrawal, fee,     cash total: positive for deposits and withdrawals;
            interest rows                 non-zero for fees (negative: a rebate) and interest
                                          (negative: interest paid)
ratio       split rows                    new shares per old share: ``4:1``, ``3:2``, ``1:10``
                                          or a decimal (``4``, ``1.5``, ``0.1``)
memo        no                            free text, kept on deposit, withdrawal, fee and
                                          interest events and ignored elsewhere
=========== ============================= ===================================================

A column a row's type does not use must be empty on that row (a dividend row
with an ``amount``, a deposit row with a ``price``): a value there means the
export was mapped wrongly, and ignoring it could silently lose money. Only
``currency`` (ignored on split rows) and ``memo`` are exempt. Columns a type
needs are required only when the file holds a row of that type; a file without
a ``type`` column holds trades only.

Numbers are plain decimals (``100``, ``184.25``, ``-12.50``, ``.5``), read
exactly as ``Decimal``. Thousands separators, currency signs, exponents and
``NaN`` are rejected.

Times
-----
* **date only** (``2024-03-08``): the trade date, at the 16:00 close in
  America/New_York (``2024-03-08`` is 21:00 UTC, ``2024-03-11`` is 20:00 UTC
  after the change to daylight saving). ``tz=`` does not apply to dates.
* **date-time with a UTC offset** (``2024-03-08T10:15:00-05:00``,
  ``2024-03-08 15:15Z``, ``+0000``): converted to UTC.
* **naive date-time** (``2024-03-08 10:15:00``): only with ``tz=`` naming the IANA
  zone it is written in; a wall time that a daylight-saving change skips or
  repeats is rejected.

The time-zone rule of :mod:`bifrost.adapters.files.bars` applies to date-times:
a file is written in one time zone, so it may not mix naive date-times with
date-times that carry an offset; with ``tz=`` every offset must be that zone's
offset at that instant; without ``tz=`` the offsets must be those of one IANA
zone (``-05:00`` in January and ``-04:00`` in July is New York). Unlike bar
files, date-only values may be mixed with date-times: a date names a trade date,
not an instant, so it cannot contradict an offset.

The trade date of every row is the calendar date of its instant in
America/New_York, as the ledger computes it
(:func:`bifrost.portfolio.lots.trade_date`).

Example
-------
::

    type,trade_id,account,date,symbol,side,quantity,price,fees,lot_id,currency,amount,ratio,memo
    deposit,D-1,MARGIN-1,2024-01-02,,,,,,,USD,50000.00,,ACH from checking
    trade,T-1001,MARGIN-1,2024-01-03T10:15:00-05:00,AAPL,Buy,100,184.25,1.00,,USD,,,
    trade,T-1002,MARGIN-1,2024-01-03T10:16:30-05:00,AAPL,buy,50,184.10,0.50,,USD,,,
    trade,T-1003,MARGIN-1,2024-03-08,AAPL,Sell,40,170.73,0.65,T-1002,USD,,,
    trade,T-1004,MARGIN-1,2024-03-11,TSLA,sell short,10,177.77,1.00,,USD,,,
    trade,T-1005,MARGIN-1,2024-03-12,TSLA,Buy To Cover,10,177.54,1.00,T-1004,USD,,,
    dividend,DV-1,MARGIN-1,2024-05-16,AAPL,,,0.25,,,USD,,,
    split,S-1,MARGIN-1,2024-06-10,AAPL,,,,,,,,4:1,

Result
------
:func:`read_trade_history` returns a :class:`TradeHistory`: the trades
(:class:`ImportedTrade`) and cash events (:class:`ImportedCashEvent`, wrapping
the :mod:`bifrost.portfolio.events` value), each sorted by ``(ts, line)`` so
that rows at the same instant keep file order. :func:`to_fill`,
:func:`lot_selection` and :func:`to_ledger_events` turn them into what
:meth:`bifrost.portfolio.ledger.Ledger.post` takes; :func:`write_trade_history`
and :func:`trades_to_json` write them out.

Errors
------
File-level problems (no such file, empty file, header only, missing or
duplicate column, a bad ``tz=``) raise
:class:`~bifrost.core.errors.InvalidInput`. Problems in rows raise
:class:`~bifrost.core.errors.DataQualityError` (an ``InvalidInput``) after the
whole file is checked: the message names the file and lists up to 20 problems,
each with its line (the header is line 1; a quoted value spanning lines counts
from the line it starts on), column and value; ``violations`` holds every
:class:`TradeFileProblem`. A bad file imports nothing.
"""

from __future__ import annotations

import csv
import gzip
import io
import json
import re
import zlib
import zoneinfo
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from enum import StrEnum
from pathlib import Path
from typing import Any

import numpy as np

# One time-zone rule for every file reader: reuse the bar reader's zone search and tz= check.
from bifrost.adapters.files.bars import _find_zone, _parse_zone
from bifrost.core.errors import DataQualityError, InvalidInput
from bifrost.core.money import MINOR_UNITS, PRICE_PLACES, QUANTITY_PLACES, to_decimal
from bifrost.core.time import ensure_utc
from bifrost.marketdata.types import normalize_symbol
from bifrost.orders.types import Fill, Side
from bifrost.portfolio.events import (
    Deposit,
    Dividend,
    Fee,
    Interest,
    LedgerEvent,
    Split,
    Withdrawal,
)
from bifrost.portfolio.lots import NEW_YORK, LotSelection, trade_date

__all__ = [
    "ImportedCashEvent",
    "ImportedTrade",
    "RowType",
    "TradeAction",
    "TradeFileProblem",
    "TradeHistory",
    "lot_selection",
    "read_trade_history",
    "to_fill",
    "to_ledger_events",
    "trades_to_json",
    "write_trade_history",
]

MAX_LISTED_PROBLEMS = 20
CLOSE_TIME = time(16, 0)  # a date-only row is a trade date at the New York close
_ZERO = Decimal(0)
_ID_LIMIT = 128  # ledger entry ids are 1-128 characters
_NUMBER_RE = re.compile(r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)")
_RATIO_RE = re.compile(r"(\d+(?:\.\d+)?)\s*:\s*(\d+(?:\.\d+)?)")
_TIME_RE = re.compile(
    r"(?P<date>\d{4}-\d{2}-\d{2})"
    r"(?:[T ](?P<hour>\d{2}):(?P<minute>\d{2})(?::(?P<second>\d{2})(?:\.(?P<fraction>\d{1,6}))?)?"
    r"(?P<offset>Z|[+-]\d{2}:?\d{2})?)?"
)
_TIME_HINT = "expected ISO 8601 such as 2024-03-01 or 2024-03-01T10:15:00-05:00"
# The zone search works in datetime64[ns], which spans 1677-09-21..2262-04-11.
_FIRST_YEAR, _LAST_YEAR = 1678, 2261
_NS_PER_MICROSECOND = 1000
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


# ----------------------------------------------------------------------------- vocabulary

class TradeAction(StrEnum):
    """What a trade row did: the order side plus whether it opens or covers a short."""

    BUY = "buy"
    SELL = "sell"
    SELL_SHORT = "sell_short"
    BUY_TO_COVER = "buy_to_cover"

    @property
    def side(self) -> Side:
        return Side.BUY if self in (TradeAction.BUY, TradeAction.BUY_TO_COVER) else Side.SELL

    @property
    def opens_short(self) -> bool:
        return self is TradeAction.SELL_SHORT

    @property
    def covers_short(self) -> bool:
        return self is TradeAction.BUY_TO_COVER

    @property
    def closes(self) -> bool:
        """Whether the trade relieves lots (and so may name one in ``lot_id``)."""
        return self in (TradeAction.SELL, TradeAction.BUY_TO_COVER)

    @classmethod
    def parse(cls, word: str | TradeAction) -> TradeAction:
        """Read a side word: ``buy``, ``sell``, ``sell short``, ``buy to cover``, in any case,
        with spaces or underscores.

        Raises
        ------
        InvalidInput
            If the word is none of those, listing the allowed words.
        """
        if isinstance(word, TradeAction):
            return word
        key = " ".join(str(word).replace("_", " ").split()).lower()
        action = _SIDE_WORDS.get(key)
        if action is None:
            raise InvalidInput(f"side must be one of {ALLOWED_SIDES}, was {word!r}")
        return action


_SIDE_WORDS = {"buy": TradeAction.BUY, "sell": TradeAction.SELL, "sell short": TradeAction.SELL_SHORT,
               "buy to cover": TradeAction.BUY_TO_COVER}
ALLOWED_SIDES = "buy, sell, sell short, buy to cover (any case; spaces or underscores, as in sell_short)"


class RowType(StrEnum):
    """The kinds of row a trade-history file holds (its ``type`` column)."""

    TRADE = "trade"
    DEPOSIT = "deposit"
    WITHDRAWAL = "withdrawal"
    DIVIDEND = "dividend"
    FEE = "fee"
    INTEREST = "interest"
    SPLIT = "split"


_EVENT_TYPES: dict[type, RowType] = {Deposit: RowType.DEPOSIT, Withdrawal: RowType.WITHDRAWAL,
                                     Dividend: RowType.DIVIDEND, Fee: RowType.FEE, Interest: RowType.INTEREST,
                                     Split: RowType.SPLIT}


# ----------------------------------------------------------------------------- rules
# Shared by the value types and the reader, so a file and a constructed value obey the same rules.
# Each returns the broken rule ("must be positive") or None.

def _places(value: Decimal) -> int:
    exponent = value.normalize().as_tuple().exponent
    return -exponent if isinstance(exponent, int) and exponent < 0 else 0


def _positive_rule(value: Decimal, places: int) -> str | None:
    if value <= 0:
        return "must be positive"
    if _places(value) > places:
        return f"must have at most {places} decimal places"
    return None


def _non_zero_rule(value: Decimal, places: int) -> str | None:
    if not value:
        return "must not be zero"
    if _places(value) > places:
        return f"must have at most {places} decimal places"
    return None


def _fees_rule(value: Decimal, currency: str) -> str | None:
    if value < 0:
        return "must not be negative"
    allowed = MINOR_UNITS.get(currency, 2)
    if _places(value) > allowed:
        return f"must have at most {allowed} decimal places for {currency}"
    return None


def _id_rule(value: str) -> str | None:
    if not value:
        return "is required"
    if len(value) > _ID_LIMIT:
        return f"must be at most {_ID_LIMIT} characters"
    return None


def _currency_rule(value: str) -> str | None:
    if len(value) != 3 or not value.isalpha() or not value.isascii():
        return "must be a 3-letter ISO code such as USD"
    return None


# ----------------------------------------------------------------------------- value types

@dataclass(frozen=True, slots=True, kw_only=True)
class ImportedTrade:
    """One trade of a broker history.

    Attributes
    ----------
    trade_id
        Unique id in the file; becomes the fill id, so posting is idempotent and
        the lot a buy (or short sale) opens has this id.
    account
        Broker account or portfolio name.
    ts
        Aware UTC instant; a date-only row is 16:00 America/New_York that day.
    symbol, action, quantity, price
        What was traded; ``quantity`` and ``price`` are positive.
    fees
        Commission plus fees, ``>= 0``, in ``currency``.
    lot_id
        For a sell or buy to cover, the lot (opening ``trade_id``) to relieve.
    line
        Line of the row in the file (0 when built in code); not compared.
    """

    trade_id: str
    account: str
    ts: datetime
    symbol: str
    action: TradeAction
    quantity: Decimal
    price: Decimal
    fees: Decimal = _ZERO
    lot_id: str | None = None
    currency: str = "USD"
    line: int = field(default=0, compare=False)

    def __post_init__(self) -> None:
        for name in ("trade_id", "account"):
            value = getattr(self, name)
            if not isinstance(value, str) or (rule := _id_rule(value.strip())) is not None:
                raise InvalidInput(f"{name} {rule or 'must be a string'}, was {value!r}")
            object.__setattr__(self, name, value.strip())
        object.__setattr__(self, "ts", ensure_utc(self.ts, field="ts"))
        object.__setattr__(self, "symbol", normalize_symbol(self.symbol))
        object.__setattr__(self, "action", TradeAction.parse(self.action))
        if not isinstance(self.currency, str) or _currency_rule(self.currency) is not None:
            raise InvalidInput(f"currency must be a 3-letter ISO code such as USD, was {self.currency!r}")
        object.__setattr__(self, "currency", self.currency.upper())
        for name, places in (("quantity", QUANTITY_PLACES), ("price", PRICE_PLACES)):
            value = to_decimal(getattr(self, name), field=name)
            if (rule := _positive_rule(value, places)) is not None:
                raise InvalidInput(f"{name} {rule}, was {value}")
            object.__setattr__(self, name, value)
        fees = to_decimal(self.fees, field="fees")
        if (rule := _fees_rule(fees, self.currency)) is not None:
            raise InvalidInput(f"fees {rule}, was {fees}")
        object.__setattr__(self, "fees", fees)
        if self.lot_id is not None:
            if not isinstance(self.lot_id, str) or not self.lot_id.strip():
                raise InvalidInput(f"lot_id must be a non-empty string or None, was {self.lot_id!r}")
            if not self.action.closes:
                raise InvalidInput(f"lot_id applies only to sell and buy to cover trades, not "
                                   f"{self.action.value} (trade {self.trade_id})")
            object.__setattr__(self, "lot_id", self.lot_id.strip())

    @property
    def side(self) -> Side:
        return self.action.side

    @property
    def opens_short(self) -> bool:
        return self.action.opens_short

    @property
    def covers_short(self) -> bool:
        return self.action.covers_short

    @property
    def trade_date(self) -> date:
        """US trade date: the calendar date of ``ts`` in America/New_York."""
        return trade_date(self.ts)

    @property
    def notional(self) -> Decimal:
        return self.quantity * self.price


@dataclass(frozen=True, slots=True, kw_only=True)
class ImportedCashEvent:
    """A non-trade row of a broker history: the ledger event plus the account it belongs to."""

    account: str
    event: LedgerEvent
    line: int = field(default=0, compare=False)

    def __post_init__(self) -> None:
        if not isinstance(self.account, str) or (rule := _id_rule(self.account.strip())) is not None:
            raise InvalidInput(f"account {rule or 'must be a string'}, was {self.account!r}")
        object.__setattr__(self, "account", self.account.strip())
        if type(self.event) not in _EVENT_TYPES:
            raise InvalidInput(f"event must be a Deposit, Withdrawal, Dividend, Fee, Interest or Split, "
                               f"was {type(self.event).__name__}")

    @property
    def kind(self) -> RowType:
        return _EVENT_TYPES[type(self.event)]

    @property
    def entry_id(self) -> str:
        return self.event.entry_id

    @property
    def ts(self) -> datetime:
        return self.event.ts_event

    @property
    def trade_date(self) -> date:
        return trade_date(self.event.ts_event)


@dataclass(frozen=True, slots=True)
class TradeFileProblem:
    """One problem found in a trade-history file."""

    path: str
    line: int
    column: str | None  # None for problems of a whole row (wrong number of fields)
    value: str
    message: str  # names the rule and the value

    @property
    def where(self) -> str:
        return f"line {self.line}" + (f", column {self.column}" if self.column is not None else "")

    def __str__(self) -> str:
        return f"{self.path} {self.where}: {self.message}"


@dataclass(frozen=True, slots=True)
class TradeHistory:
    """Trades and cash events read from one file, each list sorted by ``(ts, line)``."""

    trades: list[ImportedTrade]
    cash_events: list[ImportedCashEvent] = field(default_factory=list)
    source: str = ""

    @property
    def accounts(self) -> list[str]:
        """Accounts in order of first appearance in time."""
        return list(dict.fromkeys(item.account for item in self.timeline()))

    def for_account(self, account: str) -> TradeHistory:
        """Return the trades and cash events of one account."""
        return TradeHistory([t for t in self.trades if t.account == account],
                            [e for e in self.cash_events if e.account == account], self.source)

    def timeline(self) -> list[ImportedTrade | ImportedCashEvent]:
        """Trades and cash events merged in ``(ts, line)`` order: the order to post them to a ledger."""
        items: list[ImportedTrade | ImportedCashEvent] = [*self.trades, *self.cash_events]
        return sorted(items, key=lambda item: (item.ts, item.line))


# ----------------------------------------------------------------------------- conversions

def to_fill(trade: ImportedTrade, *, venue: str = "import") -> Fill:
    """Return the ledger fill of an imported trade.

    ``fill_id`` and ``client_order_id`` are the ``trade_id``; the row's fees are
    the fill's ``commission`` (the file gives one total).
    """
    return Fill(fill_id=trade.trade_id, client_order_id=trade.trade_id, symbol=trade.symbol, side=trade.side,
                quantity=trade.quantity, price=trade.price, ts_event=trade.ts, commission=trade.fees,
                venue=venue, currency=trade.currency)


def lot_selection(trade: ImportedTrade) -> tuple[LotSelection, ...]:
    """Return the specific-identification instruction of a trade: its whole quantity from
    ``lot_id``, or nothing when the trade names no lot (the ledger's lot method applies)."""
    if trade.lot_id is None:
        return ()
    return (LotSelection(trade.lot_id, trade.quantity),)


def to_ledger_events(items: TradeHistory | Iterable[ImportedCashEvent], *,
                     account: str | None = None) -> list[LedgerEvent]:
    """Return the ledger events of imported cash rows, optionally of one account only.

    Parameters
    ----------
    items
        A :class:`TradeHistory` (its cash events) or cash events.
    account
        Keep only this account's events.

    Returns
    -------
    list of LedgerEvent
        :class:`~bifrost.portfolio.events.Deposit`, ``Withdrawal``, ``Dividend``,
        ``Fee``, ``Interest`` and ``Split`` values, in the given order.
    """
    events = items.cash_events if isinstance(items, TradeHistory) else items
    return [item.event for item in events if account is None or item.account == account]


# ----------------------------------------------------------------------------- reading

@dataclass(frozen=True, slots=True)
class _When:
    text: str
    kind: str  # "date", "naive" or "offset"
    wall: datetime  # naive wall time (date-only: midnight)
    offset_minutes: int = 0


@dataclass(slots=True)
class _Row:
    line: int
    kind: RowType
    cells: dict[str, str]  # canonical column -> trimmed cell
    when: _When | None = None
    ts: datetime | None = None
    values: dict[str, Any] = field(default_factory=dict)


_BASE_COLUMNS = ("trade_id", "account", "time")
_NEEDS: dict[RowType, tuple[str, ...]] = {
    RowType.TRADE: ("symbol", "side", "quantity", "price"),
    RowType.DEPOSIT: ("amount",),
    RowType.WITHDRAWAL: ("amount",),
    RowType.FEE: ("amount",),
    RowType.INTEREST: ("amount",),
    RowType.DIVIDEND: ("symbol", "price"),
    RowType.SPLIT: ("symbol", "ratio"),
}
_USES: dict[RowType, frozenset[str]] = {
    RowType.TRADE: frozenset({"symbol", "side", "quantity", "price", "fees", "lot_id"}),
    RowType.DEPOSIT: frozenset({"amount"}),
    RowType.WITHDRAWAL: frozenset({"amount"}),
    RowType.FEE: frozenset({"amount"}),
    RowType.INTEREST: frozenset({"amount"}),
    RowType.DIVIDEND: frozenset({"symbol", "price", "quantity"}),
    RowType.SPLIT: frozenset({"symbol", "ratio"}),
}
_CHECKED = ("symbol", "side", "quantity", "price", "fees", "lot_id", "amount", "ratio")
_KNOWN = ("type", "trade_id", "account", "symbol", "side", "quantity", "price", "fees", "lot_id",
          "currency", "amount", "ratio", "memo")
_HINTS = {
    (RowType.DIVIDEND, "amount"): "; a dividend row gives the cash per share in price",
    (RowType.SPLIT, "quantity"): "; a split row gives new shares per old share in ratio",
    (RowType.SPLIT, "price"): "; a split row gives new shares per old share in ratio",
}


class _Reader:
    """State of one read: the header, the rows and the problems found so far."""

    def __init__(self, path: Path, zone: str | None) -> None:
        self.path = path
        self.zone = zone
        self.problems: list[TradeFileProblem] = []
        self.header_line = 1
        self.names: list[str] = []
        self.index: dict[str, int] = {}  # canonical column -> position
        self.shown: dict[str, str] = {}  # canonical column -> header as written

    # -- problems

    def problem(self, row: _Row | int, column: str | None, value: str, message: str) -> None:
        line = row if isinstance(row, int) else row.line
        shown = None if column is None else self.shown.get(column, column)
        self.problems.append(TradeFileProblem(str(self.path), line, shown, value, message))

    def rule(self, row: _Row | int, column: str, text: str, rule: str, hint: str = "") -> None:
        self.problem(row, column, text, f"{self.shown.get(column, column)} {rule}, was {text!r}{hint}")

    # -- header

    def read_header(self, header: list[str], line: int) -> None:
        self.header_line = line
        self.names = [name.strip() for name in header]
        path = self.path
        seen: dict[str, str] = {}
        for position, name in enumerate(self.names):
            key = name.lower()
            if not key:
                continue
            if key in seen:
                raise InvalidInput(
                    f"{path} line {line}: columns {seen[key]!r} and {name!r} are the same column "
                    "(headers are case-insensitive)",
                    details={"path": str(path), "line": line, "column": name})
            seen[key] = name
            canonical = "time" if key in ("date", "time") else key
            if canonical == "time" and "time" in self.index:
                raise InvalidInput(
                    f"{path} line {line}: columns {self.shown['time']!r} and {name!r} both give the "
                    "trade time; keep one", details={"path": str(path), "line": line, "column": name})
            if canonical == "time" or canonical in _KNOWN:
                self.index[canonical] = position
                self.shown[canonical] = name
        required = list(_BASE_COLUMNS)
        if "type" not in self.index:  # a file without a type column holds trades only
            required += _NEEDS[RowType.TRADE]
        missing = [c for c in required if c not in self.index]
        if missing:
            labels = ["date (or time)" if c == "time" else c for c in missing]
            raise InvalidInput(
                f"{path} line {line}: missing required column{'s' if len(missing) > 1 else ''} "
                f"{', '.join(labels)}; found columns: {', '.join(self.names)}",
                details={"path": str(path), "line": line, "missing": missing, "found": self.names})

    # -- rows

    def read_row(self, cells: list[str], line: int, missing_columns: dict[str, tuple[RowType, int]]
                 ) -> _Row | None:
        if len(cells) != len(self.names):
            self.problems.append(TradeFileProblem(
                str(self.path), line, None, ",".join(cells),
                f"row has {len(cells)} fields but the header has {len(self.names)}"))
            return None
        values = {c: cells[i].strip() for c, i in self.index.items()}
        type_text = values.get("type", "")
        try:
            kind = RowType(type_text.lower()) if type_text else RowType.TRADE
        except ValueError:
            allowed = ", ".join(t.value for t in RowType)
            self.rule(line, "type", type_text, f"must be one of {allowed} (empty means trade)")
            return None
        for column in _NEEDS[kind]:
            if column not in self.index:
                missing_columns.setdefault(column, (kind, line))
        row = _Row(line, kind, values)
        for column in _CHECKED:
            text = values.get(column, "")
            if text and column not in _USES[kind]:
                self.rule(row, column, text, f"does not apply to {kind.value} rows and must be empty",
                          _HINTS.get((kind, column), ""))
        for column in ("trade_id", "account"):
            if (rule := _id_rule(values[column])) is not None:
                self.rule(row, column, values[column], rule)
        currency = values.get("currency", "") or "USD"
        if kind is not RowType.SPLIT and (rule := _currency_rule(currency)) is not None:
            self.rule(row, "currency", currency, rule)
        row.values["currency"] = currency.upper()
        row.when = self.parse_time(row)
        self.parse_fields(row)
        return row

    def parse_time(self, row: _Row) -> _When | None:
        text = row.cells["time"]
        match = _TIME_RE.fullmatch(text)
        if not match:
            what = "is required" if not text else "is not an ISO 8601 date or date-time"
            self.rule(row, "time", text, what, f"; {_TIME_HINT}")
            return None
        parts = match.groupdict()
        try:
            day = date.fromisoformat(parts["date"])
            clock = (time() if parts["hour"] is None else
                     time(int(parts["hour"]), int(parts["minute"]), int(parts["second"] or 0),
                          int((parts["fraction"] or "0").ljust(6, "0"))))
        except ValueError:
            self.rule(row, "time", text, "is not a real date or time of day", f"; {_TIME_HINT}")
            return None
        if not _FIRST_YEAR <= day.year <= _LAST_YEAR:
            self.rule(row, "time", text, f"must be in the years {_FIRST_YEAR}-{_LAST_YEAR}")
            return None
        wall = datetime.combine(day, clock)
        if parts["hour"] is None:
            return _When(text, "date", wall)
        offset = parts["offset"]
        if offset is None:
            return _When(text, "naive", wall)
        if offset == "Z":
            return _When(text, "offset", wall, 0)
        digits = offset[1:].replace(":", "")
        hours, minutes = int(digits[:2]), int(digits[2:])
        if hours > 23 or minutes > 59:
            self.rule(row, "time", text, "has a UTC offset that is not a real offset",
                      f"; {_TIME_HINT}")
            return None
        total = hours * 60 + minutes
        return _When(text, "offset", wall, -total if offset.startswith("-") else total)

    def number(self, row: _Row, column: str, rule: Callable[[Decimal], str | None], *,
               required: bool) -> Decimal | None:
        """Parse a plain decimal and check ``rule``; None when empty or broken (a problem is noted)."""
        text = row.cells.get(column, "")
        if not text:
            if required:
                self.rule(row, column, text, f"is required for {row.kind.value} rows")
            return None
        if not _NUMBER_RE.fullmatch(text):
            self.rule(row, column, text, "must be a plain decimal number such as 100 or 184.25 "
                                         "(no thousands separators, currency signs or exponents)")
            return None
        value = Decimal(text)
        if (broken := rule(value)) is not None:
            self.rule(row, column, text, broken)
            return None
        return value

    def symbol(self, row: _Row) -> str | None:
        text = row.cells.get("symbol", "")
        if not text:
            self.rule(row, "symbol", text, f"is required for {row.kind.value} rows")
            return None
        try:
            return normalize_symbol(text)
        except InvalidInput:
            self.rule(row, "symbol", text, "must be 1-32 characters of A-Z, 0-9 and . - = ^ _ /")
            return None

    def parse_fields(self, row: _Row) -> None:
        kind, out = row.kind, row.values
        currency = out["currency"]
        minor = MINOR_UNITS.get(currency, 2)

        def positive(places: int) -> Callable[[Decimal], str | None]:
            return lambda value: _positive_rule(value, places)

        def non_zero(places: int) -> Callable[[Decimal], str | None]:
            return lambda value: _non_zero_rule(value, places)

        if kind is RowType.TRADE:
            out["symbol"] = self.symbol(row)
            side = row.cells.get("side", "")
            try:
                out["action"] = TradeAction.parse(side)
            except InvalidInput:
                self.rule(row, "side", side, f"must be one of {ALLOWED_SIDES}")
                out["action"] = None
            out["quantity"] = self.number(row, "quantity", positive(QUANTITY_PLACES), required=True)
            out["price"] = self.number(row, "price", positive(PRICE_PLACES), required=True)
            fees = self.number(row, "fees", lambda value: _fees_rule(value, currency), required=False)
            out["fees"] = _ZERO if not row.cells.get("fees") else fees
            lot_id = row.cells.get("lot_id", "")
            out["lot_id"] = lot_id or None
            action = out["action"]
            if lot_id and action is not None and not action.closes:
                self.rule(row, "lot_id", lot_id, "applies only to sell and buy to cover rows (it names the "
                                                 f"lot to relieve), not to {action.value.replace('_', ' ')}")
            elif len(lot_id) > _ID_LIMIT:
                self.rule(row, "lot_id", lot_id, f"must be at most {_ID_LIMIT} characters")
        elif kind in (RowType.DEPOSIT, RowType.WITHDRAWAL):
            out["amount"] = self.number(row, "amount", positive(minor), required=True)
        elif kind in (RowType.FEE, RowType.INTEREST):
            out["amount"] = self.number(row, "amount", non_zero(minor), required=True)
        elif kind is RowType.DIVIDEND:
            out["symbol"] = self.symbol(row)
            out["price"] = self.number(row, "price", positive(PRICE_PLACES), required=True)
            out["quantity"] = self.number(row, "quantity", non_zero(QUANTITY_PLACES), required=False)
        else:
            out["symbol"] = self.symbol(row)
            out["ratio"] = self.ratio(row)

    def ratio(self, row: _Row) -> Decimal | None:
        text = row.cells.get("ratio", "")
        if not text:
            self.rule(row, "ratio", text, "is required for split rows (new shares per old share, "
                                          "such as 4:1 or 1:10)")
            return None
        match = _RATIO_RE.fullmatch(text)
        if match:
            new, old = Decimal(match.group(1)), Decimal(match.group(2))
            if not new or not old:
                self.rule(row, "ratio", text, "must be positive on both sides")
                return None
            value = new / old
            if value * old != new or _places(value) > QUANTITY_PLACES:
                self.rule(row, "ratio", text, f"must give new shares per old share exactly to "
                                              f"{QUANTITY_PLACES} decimal places")
                return None
        elif _NUMBER_RE.fullmatch(text):
            value = Decimal(text)
        else:
            self.rule(row, "ratio", text, "must be new:old shares (4:1, 1:10) or a decimal (4, 0.1)")
            return None
        if value == 1:
            self.rule(row, "ratio", text, "must not be 1 (a split changes the share count)")
            return None
        if (broken := _positive_rule(value, QUANTITY_PLACES)) is not None:
            self.rule(row, "ratio", text, broken)
            return None
        return value

    # -- whole-file checks

    def resolve_times(self, rows: list[_Row]) -> None:
        """Apply the time-zone rule and set ``row.ts`` on every row whose time parsed."""
        timed = [(row, row.when) for row in rows if row.when is not None]
        naive = [(row, when) for row, when in timed if when.kind == "naive"]
        offset = [(row, when) for row, when in timed if when.kind == "offset"]
        for row, when in timed:
            if when.kind == "date":
                row.ts = datetime.combine(when.wall.date(), CLOSE_TIME, NEW_YORK).astimezone(UTC)
        if naive and offset:
            (row, when), (other, other_when) = naive[0], offset[0]
            self.rule(row, "time", when.text,
                      f"has no UTC offset, but line {other.line} ({other_when.text!r}) has one",
                      "; a file is written in one time zone: give every date-time an offset, or none "
                      "and pass tz=")
        elif naive:
            self._localize(naive)
        elif offset:
            self._check_offsets(offset)

    def _localize(self, naive: list[tuple[_Row, _When]]) -> None:
        if self.zone is None:
            for row, when in naive:
                self.rule(row, "time", when.text, "has no UTC offset and tz= was not given",
                          "; pass tz= naming the zone the file is written in (tz='America/New_York') "
                          "or write offsets such as 2024-03-01T10:15:00-05:00")
            return
        zone = zoneinfo.ZoneInfo(self.zone)
        for row, when in naive:
            early, late = when.wall.replace(tzinfo=zone, fold=0), when.wall.replace(tzinfo=zone, fold=1)
            if early.utcoffset() != late.utcoffset():
                self.rule(row, "time", when.text,
                          f"is a local time that a daylight-saving change in {self.zone} skips or repeats")
            else:
                row.ts = early.astimezone(UTC)

    def _check_offsets(self, offset: list[tuple[_Row, _When]]) -> None:
        instants = [(when.wall - timedelta(minutes=when.offset_minutes)).replace(tzinfo=UTC)
                    for _, when in offset]
        if self.zone is not None:
            zone = zoneinfo.ZoneInfo(self.zone)
            for (row, when), instant in zip(offset, instants, strict=True):
                zone_offset = instant.astimezone(zone).utcoffset()
                expected = int(zone_offset.total_seconds()) // 60 if zone_offset is not None else 0
                if expected != when.offset_minutes:
                    self.rule(row, "time", when.text,
                              f"has UTC offset {_format_offset(when.offset_minutes)}, but {self.zone} is "
                              f"{_format_offset(expected)} at that instant")
                else:
                    row.ts = instant
            return
        for (row, _), instant in zip(offset, instants, strict=True):
            row.ts = instant
        offsets = np.array([when.offset_minutes for _, when in offset], dtype=np.int64)
        if np.unique(offsets).size <= 1:
            return
        instants_ns = np.array([(t - _EPOCH) // timedelta(microseconds=1) * _NS_PER_MICROSECOND
                                for t in instants], dtype=np.int64)
        if _find_zone(instants_ns, offsets) is not None:
            return
        firsts: dict[int, tuple[_Row, _When]] = {}
        for row, when in offset:
            firsts.setdefault(when.offset_minutes, (row, when))
        listed = ", ".join(f"{_format_offset(minutes)} (first at line {row.line}: {when.text!r})"
                           for minutes, (row, when) in list(firsts.items())[:6])
        row, when = offset[0]
        self.problem(row, "time", when.text,
                     f"the times mix UTC offsets {listed}, which no single time zone has at those "
                     "instants; a file is written in one time zone. Write every time in one offset "
                     "(UTC is simplest) or pass tz= if the file is in one zone")

    def check_ids(self, rows: list[_Row]) -> None:
        first_line: dict[str, int] = {}
        for row in rows:
            trade_id = row.cells["trade_id"]
            if not trade_id:
                continue
            if trade_id in first_line:
                self.problem(row, "trade_id", trade_id,
                             f"duplicate trade_id {trade_id!r}, first at line {first_line[trade_id]}; "
                             "a trade_id is unique in the file")
            else:
                first_line[trade_id] = row.line
        by_id = {row.cells["trade_id"]: row for row in rows if row.cells["trade_id"]}
        for row in rows:
            lot_id = row.values.get("lot_id")
            action = row.values.get("action")
            if row.kind is not RowType.TRADE or not lot_id or action is None or not action.closes:
                continue
            opener = by_id.get(lot_id)
            if opener is None:
                continue  # a lot opened before this file (last year's purchase)
            wanted = TradeAction.BUY if action is TradeAction.SELL else TradeAction.SELL_SHORT
            reason = ""
            if opener.kind is not RowType.TRADE or opener.values.get("action") is not wanted:
                what = opener.kind.value if opener.kind is not RowType.TRADE else \
                    str(opener.values.get("action") or "trade").replace("_", " ")
                reason = f"is a {what} row, and a {action.value.replace('_', ' ')} relieves a lot opened by " \
                         f"{wanted.value.replace('_', ' ')}"
            elif opener.cells["account"] != row.cells["account"] or \
                    opener.values.get("symbol") != row.values.get("symbol"):
                reason = (f"is {opener.values.get('symbol')} in account {opener.cells['account']!r}, "
                          f"not {row.values.get('symbol')} in {row.cells['account']!r}")
            elif opener.ts is not None and row.ts is not None and (opener.ts, opener.line) > (row.ts, row.line):
                reason = "comes after this trade"
            if reason:
                self.problem(row, "lot_id", lot_id,
                             f"lot_id {lot_id!r} names the trade at line {opener.line}, which {reason}")

    def build(self, rows: list[_Row]) -> tuple[list[ImportedTrade], list[ImportedCashEvent]]:
        trades: list[ImportedTrade] = []
        events: list[ImportedCashEvent] = []
        for row in rows:
            v, cells = row.values, row.cells
            entry_id, account, ts = cells["trade_id"], cells["account"], row.ts
            if ts is None:  # unreachable: a row without an instant always has a problem
                raise AssertionError(f"line {row.line} has no instant but no problem")
            try:
                if row.kind is RowType.TRADE:
                    trades.append(ImportedTrade(
                        trade_id=entry_id, account=account, ts=ts, symbol=v["symbol"], action=v["action"],
                        quantity=v["quantity"], price=v["price"], fees=v["fees"], lot_id=v["lot_id"],
                        currency=v["currency"], line=row.line))
                    continue
                event: LedgerEvent
                memo = cells.get("memo", "")
                if row.kind is RowType.DEPOSIT:
                    event = Deposit(entry_id=entry_id, ts_event=ts, amount=v["amount"], currency=v["currency"],
                                    memo=memo)
                elif row.kind is RowType.WITHDRAWAL:
                    event = Withdrawal(entry_id=entry_id, ts_event=ts, amount=v["amount"],
                                       currency=v["currency"], memo=memo)
                elif row.kind is RowType.FEE:
                    event = Fee(entry_id=entry_id, ts_event=ts, amount=v["amount"], currency=v["currency"],
                                memo=memo)
                elif row.kind is RowType.INTEREST:
                    event = Interest(entry_id=entry_id, ts_event=ts, amount=v["amount"],
                                     currency=v["currency"], memo=memo)
                elif row.kind is RowType.DIVIDEND:
                    event = Dividend(entry_id=entry_id, ts_event=ts, symbol=v["symbol"],
                                     amount_per_share=v["price"], currency=v["currency"],
                                     quantity=v["quantity"])
                else:
                    event = Split(entry_id=entry_id, ts_event=ts, symbol=v["symbol"], ratio=v["ratio"])
                events.append(ImportedCashEvent(account=account, event=event, line=row.line))
            except InvalidInput as exc:  # a rule the row checks above missed; still name the line
                self.problems.append(TradeFileProblem(str(self.path), row.line, None, "", str(exc)))
        trades.sort(key=lambda t: (t.ts, t.line))
        events.sort(key=lambda e: (e.ts, e.line))
        return trades, events

    def raise_problems(self) -> None:
        if not self.problems:
            return
        problems = sorted(self.problems, key=lambda p: p.line)
        count = len(problems)
        shown = problems[:MAX_LISTED_PROBLEMS]
        lines = "".join(f"\n  {p.where}: {p.message}" for p in shown)
        more = f"\n  ... and {count - len(shown)} more" if count > len(shown) else ""
        raise DataQualityError(
            f"{self.path}: {count} problem{'s' if count > 1 else ''} in the trade file; nothing was "
            f"imported:{lines}{more}",
            violations=problems,
            details={"path": str(self.path), "problems": [
                {"line": p.line, "column": p.column, "value": p.value, "message": p.message}
                for p in shown]},
        )


def read_trade_history(path: str | Path, *, tz: str | None = None) -> TradeHistory:
    """Read a broker trade-history CSV (or gzip CSV) in the documented format.

    Parameters
    ----------
    path
        File ending in ``.csv`` or ``.csv.gz``.
    tz
        IANA zone that naive date-times are written in, such as
        ``America/New_York``; offsets in the file must agree with it. Dates
        (``2024-03-01``) are always 16:00 America/New_York.

    Returns
    -------
    TradeHistory
        Trades and cash events, each sorted by ``(ts, line)``.

    Raises
    ------
    InvalidInput
        If the file is missing, not UTF-8, empty or header-only, or a required
        column is missing or given twice; the message names the file, the line
        and the columns.
    DataQualityError
        If any row breaks a rule (bad side word, non-positive quantity or price,
        negative fees, unparseable number or time, naive time without ``tz=``,
        duplicate ``trade_id``, ...). Every row is checked first; the message
        lists up to 20 problems with line, column and value, and
        ``violations`` holds them all. Nothing is returned for a bad file.
    """
    source = Path(path)
    zone = _parse_zone(tz)
    text = _read_text(source)
    reader = _Reader(source, zone)
    rows: list[_Row] = []
    missing_columns: dict[str, tuple[RowType, int]] = {}
    header_seen = False
    for line, cells in _records(source, text):
        if not header_seen:
            reader.read_header(cells, line)
            header_seen = True
            continue
        row = reader.read_row(cells, line, missing_columns)
        if row is not None:
            rows.append(row)
    if not header_seen:
        raise InvalidInput(f"{source}: file is empty", details={"path": str(source)})
    if not rows and not reader.problems:
        raise InvalidInput(f"{source}: file has a header but no data rows", details={"path": str(source)})
    if missing_columns:
        listed = ", ".join(f"{column} (needed by {kind.value} rows, first at line {line})"
                           for column, (kind, line) in missing_columns.items())
        raise InvalidInput(
            f"{source} line {reader.header_line}: missing column{'s' if len(missing_columns) > 1 else ''} "
            f"{listed}; found columns: {', '.join(reader.names)}",
            details={"path": str(source), "line": reader.header_line, "missing": list(missing_columns),
                     "found": reader.names})
    reader.resolve_times(rows)
    reader.check_ids(rows)
    reader.raise_problems()
    trades, events = reader.build(rows)
    reader.raise_problems()
    return TradeHistory(trades, events, str(source))


def _file_kind(path: Path) -> str:
    name = path.name.lower()
    if name.endswith(".csv.gz"):
        return "csv.gz"
    if name.endswith(".csv"):
        return "csv"
    raise InvalidInput(f"{path}: file name must end in .csv or .csv.gz", details={"path": str(path)})


def _read_text(path: Path) -> str:
    kind = _file_kind(path)
    if not path.is_file():
        raise InvalidInput(f"{path}: no such file", details={"path": str(path)})
    data = path.read_bytes()
    if kind == "csv.gz":
        try:
            data = gzip.decompress(data)
        except (OSError, EOFError, zlib.error) as exc:
            raise InvalidInput(f"{path}: not a readable gzip file ({exc})", details={"path": str(path)}) from exc
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[:exc.start].count(b"\n") + 1
        raise InvalidInput(f"{path} line {line}: not UTF-8 text ({exc.reason} at byte {exc.start})",
                           details={"path": str(path), "line": line}) from exc


def _records(path: Path, text: str) -> Iterator[tuple[int, list[str]]]:
    """Yield ``(first line, cells)`` of each non-blank CSV record."""
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    last_line = 0
    while True:
        try:
            cells = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            raise InvalidInput(f"{path} line {last_line + 1}: malformed CSV ({exc})",
                               details={"path": str(path), "line": last_line + 1}) from exc
        start, last_line = last_line + 1, reader.line_num
        if any(cell.strip() for cell in cells):
            yield start, cells


def _format_offset(minutes: int) -> str:
    sign = "-" if minutes < 0 else "+"
    return f"{sign}{abs(minutes) // 60:02d}:{abs(minutes) % 60:02d}"


# ----------------------------------------------------------------------------- writing

_TRADE_COLUMNS = ("trade_id", "account", "time", "symbol", "side", "quantity", "price", "fees", "lot_id",
                  "currency")
_ALL_COLUMNS = ("type", *_TRADE_COLUMNS, "amount", "ratio", "memo")


def _plain(value: Decimal | None) -> str:
    return "" if value is None else format(value, "f")


def _items(items: TradeHistory | Iterable[ImportedTrade | ImportedCashEvent]
           ) -> list[ImportedTrade | ImportedCashEvent]:
    listed = items.timeline() if isinstance(items, TradeHistory) else list(items)
    for item in listed:
        if not isinstance(item, ImportedTrade | ImportedCashEvent):
            raise InvalidInput(f"expected ImportedTrade or ImportedCashEvent, was {type(item).__name__}")
    return listed


def _row_of(item: ImportedTrade | ImportedCashEvent) -> dict[str, str]:
    if isinstance(item, ImportedTrade):
        return {"type": RowType.TRADE.value, "trade_id": item.trade_id, "account": item.account,
                "time": item.ts.isoformat(), "symbol": item.symbol, "side": item.action.value,
                "quantity": _plain(item.quantity), "price": _plain(item.price), "fees": _plain(item.fees),
                "lot_id": item.lot_id or "", "currency": item.currency}
    event = item.event
    row = {"type": item.kind.value, "trade_id": item.entry_id, "account": item.account,
           "time": item.ts.isoformat()}
    if isinstance(event, Dividend):
        row.update(symbol=event.symbol, price=_plain(event.amount_per_share), quantity=_plain(event.quantity),
                   currency=event.currency)
    elif isinstance(event, Split):
        row.update(symbol=event.symbol, ratio=_plain(event.ratio))
    else:
        row.update(amount=_plain(event.amount), currency=event.currency, memo=event.memo)
    return row


def write_trade_history(path: str | Path,
                        trades: TradeHistory | Iterable[ImportedTrade | ImportedCashEvent]) -> Path:
    """Write trades (and cash events) in the format :func:`read_trade_history` reads.

    Times are written as UTC instants (``2024-03-08T21:00:00+00:00``), sides as
    ``buy``, ``sell``, ``sell_short``, ``buy_to_cover`` and numbers as plain
    decimals, so reading the file back returns equal values (line numbers
    aside). A ``type``, ``amount``, ``ratio`` and ``memo`` column is written
    only when there are cash events. A :class:`TradeHistory` is written in
    :meth:`TradeHistory.timeline` order, other input in the order given.

    Returns
    -------
    Path
        The file written.

    Raises
    ------
    InvalidInput
        If there is nothing to write, two items share an id, an item is of
        another type, or the file name does not end in ``.csv`` or ``.csv.gz``.
        Nothing is written then.
    """
    target = Path(path)
    kind = _file_kind(target)
    items = _items(trades)
    if not items:
        raise InvalidInput(f"{target}: nothing to write; no trades or cash events", details={"path": str(target)})
    seen: set[str] = set()
    for item in items:
        item_id = item.trade_id if isinstance(item, ImportedTrade) else item.entry_id
        if item_id in seen:
            raise InvalidInput(f"{target}: trade_id {item_id!r} appears twice; ids are unique in a file",
                               details={"path": str(target), "trade_id": item_id})
        seen.add(item_id)
    has_cash = any(isinstance(item, ImportedCashEvent) for item in items)
    columns = _ALL_COLUMNS if has_cash else _TRADE_COLUMNS
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(columns)
    for item in items:
        row = _row_of(item)
        writer.writerow([row.get(column, "") for column in columns])
    data = buffer.getvalue().encode("utf-8")
    target.write_bytes(gzip.compress(data, compresslevel=6) if kind == "csv.gz" else data)
    return target


def _trade_json(trade: ImportedTrade) -> dict[str, Any]:
    return {"trade_id": trade.trade_id, "account": trade.account, "ts": trade.ts.isoformat(),
            "trade_date": trade.trade_date.isoformat(), "symbol": trade.symbol, "action": trade.action.value,
            "side": trade.side.value, "quantity": _plain(trade.quantity), "price": _plain(trade.price),
            "fees": _plain(trade.fees), "lot_id": trade.lot_id, "currency": trade.currency, "line": trade.line}


def _cash_json(item: ImportedCashEvent) -> dict[str, Any]:
    event = item.event
    out: dict[str, Any] = {"entry_id": item.entry_id, "type": item.kind.value, "account": item.account,
                           "ts": item.ts.isoformat(), "trade_date": item.trade_date.isoformat(),
                           "symbol": None, "amount": None, "amount_per_share": None, "quantity": None,
                           "ratio": None, "currency": None, "memo": None, "line": item.line}
    if isinstance(event, Dividend):
        out.update(symbol=event.symbol, amount_per_share=_plain(event.amount_per_share),
                   quantity=None if event.quantity is None else _plain(event.quantity), currency=event.currency)
    elif isinstance(event, Split):
        out.update(symbol=event.symbol, ratio=_plain(event.ratio))
    else:
        out.update(amount=_plain(event.amount), currency=event.currency, memo=event.memo)
    return out


def trades_to_json(trades: TradeHistory | Iterable[ImportedTrade | ImportedCashEvent], *,
                   indent: int | None = 2) -> str:
    """Return trades and cash events as JSON text (the CLI's ``--json``).

    The document is ``{"trades": [...], "cash_events": [...]}``. Decimals are
    strings in plain notation (``"184.25"``), instants ISO 8601 UTC
    (``"2024-03-08T21:00:00+00:00"``), trade dates ISO dates; every key is
    present on every item, ``null`` where it does not apply.
    """
    items = _items(trades)
    payload = {
        "trades": [_trade_json(item) for item in items if isinstance(item, ImportedTrade)],
        "cash_events": [_cash_json(item) for item in items if isinstance(item, ImportedCashEvent)],
    }
    return json.dumps(payload, indent=indent, ensure_ascii=False)

