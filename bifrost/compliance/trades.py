"""Plain trade records the compliance engines run on, from any source.

The compliance engines take sequences of :class:`TaxTrade` (and :class:`SplitAction`)
rather than a ledger, so they run the same over the trading core's fills, a broker's
imported history (``docs/trade-import.md``) or a DataFrame.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum
from typing import Any

from bifrost.core.errors import InvalidInput
from bifrost.core.money import to_decimal
from bifrost.core.time import ensure_utc
from bifrost.portfolio.lots import trade_date

__all__ = ["AccountProfile", "IdenticalGroups", "SplitAction", "TaxLotMethod", "TaxTrade", "TradeAction",
           "trades_from_frame", "trades_from_history"]

_ZERO = Decimal(0)


class TradeAction(StrEnum):
    """What a trade did: buy, sell, sell short or buy to cover (the import format's sides)."""

    BUY = "buy"
    SELL = "sell"
    SELL_SHORT = "sell_short"
    BUY_TO_COVER = "buy_to_cover"

    @property
    def is_buy(self) -> bool:
        return self in (TradeAction.BUY, TradeAction.BUY_TO_COVER)


class TaxLotMethod(StrEnum):
    """Which open lots a sale relieves first.

    ``TAX_OPTIMAL`` relieves, at the sale's net price per share: short-term losses first,
    then long-term losses, then long-term gains, then short-term gains. Within a loss
    class the largest loss per share goes first; within a gain class the smallest gain
    per share (a zero gain counts as a gain). Ties go to the earlier acquisition, then
    the lower lot id.
    """

    FIFO = "fifo"
    LIFO = "lifo"
    HIFO = "hifo"
    SPECIFIC = "specific"
    TAX_OPTIMAL = "tax_optimal"


@dataclass(frozen=True, slots=True, kw_only=True)
class TaxTrade:
    """One executed trade.

    Parameters
    ----------
    trade_id
        Unique id; the id of the lot a buy or short sale opens.
    account
        Account (portfolio) name; several accounts of one household may be mixed.
    ts
        Execution instant (aware; stored UTC). The trade date is its New York date.
    symbol
        Instrument traded. For options, set ``underlying`` and ``multiplier`` (100).
    action
        buy, sell, sell_short or buy_to_cover.
    quantity, price
        Positive units and price per unit.
    fees
        Commission and fees, ``>= 0``: added to the basis of a buy, taken from proceeds of a sale.
    lot_id
        For a sale: relieve this lot (specific identification); it must cover the sale.
    lot_ids
        For a sale: relieve these lots first, in this order, each as far as it is still open;
        the rest goes by ``lot_method`` or else the account's method (FIFO when that is
        specific identification). This is how the ledger relieves an order's lot override
        (``OrderRequest.lot_ids``).
    lot_method
        Per-sale override of the account's lot method.
    multiplier
        Shares per unit (100 for a standard option contract).
    underlying
        The stock an option is on; wash-sale matching uses it.
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
    lot_ids: tuple[str, ...] = ()
    lot_method: TaxLotMethod | None = None
    multiplier: Decimal = Decimal(1)
    underlying: str | None = None
    currency: str = "USD"

    def __post_init__(self) -> None:
        if not self.trade_id:
            raise InvalidInput("trade_id must not be empty")
        if not self.account:
            raise InvalidInput(f"account of trade {self.trade_id} must not be empty")
        if not self.symbol:
            raise InvalidInput(f"symbol of trade {self.trade_id} must not be empty")
        object.__setattr__(self, "ts", ensure_utc(self.ts, field="ts"))
        try:
            object.__setattr__(self, "action", TradeAction(str(self.action).lower().replace(" ", "_")))
        except ValueError:
            raise InvalidInput(f"action of trade {self.trade_id} must be one of buy, sell, sell_short, "
                               f"buy_to_cover, was {self.action!r}") from None
        for name in ("quantity", "price", "multiplier"):
            value = to_decimal(getattr(self, name), field=name)
            if value <= 0:
                raise InvalidInput(f"{name} of trade {self.trade_id} must be positive, was {value}")
            object.__setattr__(self, name, value)
        fees = to_decimal(self.fees, field="fees")
        if fees < 0:
            raise InvalidInput(f"fees of trade {self.trade_id} must not be negative, was {fees}")
        object.__setattr__(self, "fees", fees)
        if self.lot_method is not None:
            object.__setattr__(self, "lot_method", TaxLotMethod(self.lot_method))
        if self.lot_ids:
            object.__setattr__(self, "lot_ids", tuple(self.lot_ids))
            if self.lot_id is not None:
                raise InvalidInput(f"trade {self.trade_id} names lot_id and lot_ids; give one of them")

    @property
    def trade_date(self) -> date:
        return trade_date(self.ts)

    @property
    def shares(self) -> Decimal:
        """Share equivalents: quantity × multiplier."""
        return self.quantity * self.multiplier

    @property
    def wash_symbol(self) -> str:
        """The symbol wash-sale matching groups by (the underlying of an option)."""
        return self.underlying or self.symbol


@dataclass(frozen=True, slots=True, kw_only=True)
class SplitAction:
    """A split of ``ratio`` new shares per old share on ``ts``; ``account=None`` applies to every account."""

    symbol: str
    ts: datetime
    ratio: Decimal
    account: str | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "ts", ensure_utc(self.ts, field="ts"))
        ratio = to_decimal(self.ratio, field="ratio")
        if ratio <= 0 or ratio == 1:
            raise InvalidInput(f"split ratio of {self.symbol} must be positive and not 1, was {ratio}")
        object.__setattr__(self, "ratio", ratio)


@dataclass(frozen=True, slots=True, kw_only=True)
class AccountProfile:
    """Tax facts of one account: tax-advantaged (an IRA) or not, and its default lot method."""

    tax_advantaged: bool = False
    lot_method: TaxLotMethod = TaxLotMethod.FIFO

    def __post_init__(self) -> None:
        object.__setattr__(self, "lot_method", TaxLotMethod(self.lot_method))


@dataclass(frozen=True, slots=True)
class IdenticalGroups:
    """Which symbols are "substantially identical" for the wash-sale rule.

    Each group is a set of symbols treated as one security (for example an ETF and its
    share classes). A symbol in no group is identical only to itself. Options are
    matched through their ``underlying``.
    """

    groups: tuple[frozenset[str], ...] = ()
    _key: Mapping[str, str] = field(default_factory=dict, repr=False, compare=False)

    def __post_init__(self) -> None:
        keys: dict[str, str] = {}
        groups = tuple(frozenset(s.upper() for s in group) for group in self.groups)
        for group in groups:
            if len(group) < 2:
                raise InvalidInput(f"a substantially-identical group needs at least two symbols, was {sorted(group)}")
            canonical = min(group)
            for symbol in group:
                if symbol in keys:
                    raise InvalidInput(f"symbol {symbol} is in two substantially-identical groups")
                keys[symbol] = canonical
        object.__setattr__(self, "groups", groups)
        object.__setattr__(self, "_key", keys)

    @classmethod
    def of(cls, groups: Iterable[Iterable[str]] = ()) -> IdenticalGroups:
        return cls(tuple(frozenset(g) for g in groups))

    def key(self, symbol: str) -> str:
        """The group's name (its alphabetically first symbol), or the symbol itself."""
        upper = symbol.upper()
        return self._key.get(upper, upper)


def trades_from_history(items: Iterable[Any], *, include_splits: bool = True
                        ) -> tuple[list[TaxTrade], list[SplitAction]]:
    """Convert an imported broker history (``read_trade_history``) into trades and splits.

    Accepts a ``TradeHistory`` or an iterable of ``ImportedTrade``/``ImportedCashEvent``;
    objects are read by attribute, so this module does not depend on the adapter.
    """
    trades: list[TaxTrade] = []
    splits: list[SplitAction] = []
    source = items.timeline() if hasattr(items, "timeline") else items
    for item in source:
        if hasattr(item, "trade_id") and hasattr(item, "action"):
            trades.append(TaxTrade(trade_id=item.trade_id, account=item.account, ts=item.ts, symbol=item.symbol,
                                   action=TradeAction(str(item.action.value)), quantity=item.quantity,
                                   price=item.price, fees=item.fees, lot_id=item.lot_id, currency=item.currency))
        elif include_splits and getattr(item, "kind", None) == "split":
            event = item.event
            splits.append(SplitAction(symbol=event.symbol, ts=event.ts_event, ratio=event.ratio,
                                      account=item.account))
    return trades, splits


def trades_from_frame(frame: Any) -> list[TaxTrade]:
    """Convert a pandas DataFrame with the import format's columns into trades.

    Required columns: ``trade_id, account, time (or ts or date), symbol, side (or action),
    quantity, price``; optional ``fees, lot_id, multiplier, underlying``. Numbers may be
    strings or Decimals; floats are refused (money is exact).
    """
    columns = {c.lower(): c for c in frame.columns}
    time_column = next((columns[c] for c in ("ts", "time", "date") if c in columns), None)
    side_column = columns.get("action") or columns.get("side")
    missing = [c for c in ("trade_id", "account", "symbol", "quantity", "price") if c not in columns]
    if time_column is None:
        missing.append("ts|time|date")
    if side_column is None:
        missing.append("side|action")
    if missing:
        raise InvalidInput(f"trade frame is missing columns {', '.join(missing)}; found {', '.join(frame.columns)}")
    import pandas as pd

    trades = []
    for row in frame.to_dict("records"):
        ts = pd.Timestamp(row[time_column])
        if ts.tzinfo is None:
            ts = ts.tz_localize("America/New_York")
            if len(str(row[time_column])) <= 10:
                ts = ts + pd.Timedelta(hours=16)
        optional: dict[str, Any] = {}
        for name in ("fees", "lot_id", "multiplier", "underlying"):
            if name in columns and row[columns[name]] not in (None, "") and not pd.isna(row[columns[name]]):
                optional[name] = row[columns[name]]
        trades.append(TaxTrade(trade_id=str(row[columns["trade_id"]]), account=str(row[columns["account"]]),
                               ts=ts.to_pydatetime(), symbol=str(row[columns["symbol"]]).upper(),
                               action=str(row[side_column]), quantity=row[columns["quantity"]],
                               price=row[columns["price"]], **optional))
    return trades
