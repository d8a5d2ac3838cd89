"""Day-trading rules: the legacy pattern-day-trader rule and the 2026 intraday margin standard.

Legacy rule (FINRA Rule 4210(f)(8)(B), in force until a firm adopts the amendment)
---------------------------------------------------------------------------------
* A day trade is the purchase and sale (or short sale and purchase) of the same security
  on the same day in a margin account. A long position held overnight sold before any new
  purchase that day, or a short held overnight covered before any new sale, is not one.
* Two counting methods (Regulatory Notice 21-13):

  - ``OPENING``: each transaction that opens or increases a position (buy, sell short) and
    is liquidated later the same day, in part or whole, is one day trade. Closing
    quantity is matched against the day's opening transactions first-in first-out.
  - ``DIRECTION_CHANGE``: each change of direction from a run of opening transactions to a
    run of closing ones is one day trade, however many executions each run holds. FINRA's
    examples A-F: B B S = 1; B S B S = 2; B S S S = 1; B B B S S = 1; B B S B S S = 2; one
    round trip in each of two symbols = 2.

* A pattern day trader executes 4 or more day trades within 5 business days (exchange
  sessions, from an ``exchange_calendars`` calendar), provided they are more than 6% of the
  account's trades in those 5 days. Once designated, the account stays designated.
* A pattern day trader needs $25,000 minimum equity on any day it day trades; below it no
  day trading is allowed until restored.
* Day-trading buying power is 4 × the maintenance margin excess at the previous close. A
  day-trading call not met within 5 business days restricts the account to cash-available
  trading for 90 calendar days.

Intraday margin standard (SR-FINRA-2025-017, SEC Release 34-105226, 91 FR 20731)
-------------------------------------------------------------------------------
Effective 2026-06-04; firms may phase it in until 2027-10-20. It removes the day-trade
count, the pattern-day-trader designation and the $25,000 minimum and instead requires
customers to keep equity at least equal to the margin requirement on their positions at
any point of the day. A member monitors the intraday margin requirement in real time and
blocks transactions that would create or increase an intraday margin deficit. Here the
intraday requirement is the maintenance requirement of Rule 4210(c) on current positions
at current prices (25% of long market value, 30% of short market value by default,
configurable per symbol), and the deficit is ``max(0, requirement - equity)``.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from enum import StrEnum

import pandas as pd

from bifrost.compliance.trades import TaxTrade, TradeAction
from bifrost.core.calendars import get_calendar
from bifrost.core.errors import InvalidInput

__all__ = ["CountingMethod", "DayTrade", "DayTradingRegime", "IntradayMarginState", "PDT_MIN_EQUITY",
           "PdtStatus", "count_day_trades", "day_trading_buying_power", "intraday_margin", "pdt_status",
           "proposed_day_trade", "regime_for", "restriction_end", "INTRADAY_EFFECTIVE", "INTRADAY_PHASE_IN_END"]

PDT_MIN_EQUITY = Decimal(25_000)
INTRADAY_EFFECTIVE = date(2026, 6, 4)
INTRADAY_PHASE_IN_END = date(2027, 10, 20)
_ZERO = Decimal(0)
_OPENING = (TradeAction.BUY, TradeAction.SELL_SHORT)


class CountingMethod(StrEnum):
    OPENING = "opening"
    DIRECTION_CHANGE = "direction_change"


class DayTradingRegime(StrEnum):
    LEGACY_PDT = "legacy_pdt"
    INTRADAY_MARGIN = "intraday_margin"


def regime_for(day: date, *, adopted_on: date | None = None) -> DayTradingRegime:
    """Return which rule applies on ``day`` for a broker that adopted the amendment on ``adopted_on``.

    Before 2026-06-04 the legacy rule applies; from 2027-10-20 the intraday standard; in
    between, the intraday standard from the firm's adoption date (``None``: not yet adopted).
    """
    if day < INTRADAY_EFFECTIVE:
        return DayTradingRegime.LEGACY_PDT
    if day >= INTRADAY_PHASE_IN_END:
        return DayTradingRegime.INTRADAY_MARGIN
    if adopted_on is not None and adopted_on <= day:
        if adopted_on < INTRADAY_EFFECTIVE:
            raise InvalidInput(f"adopted_on must be on or after {INTRADAY_EFFECTIVE}, was {adopted_on}")
        return DayTradingRegime.INTRADAY_MARGIN
    return DayTradingRegime.LEGACY_PDT


@dataclass(frozen=True, slots=True, kw_only=True)
class DayTrade:
    """Day trades in one symbol on one trade date."""

    day: date
    symbol: str
    count: int
    trade_ids: tuple[str, ...]


def _closes(action: TradeAction, opening: TradeAction) -> bool:
    return (opening is TradeAction.BUY and action is TradeAction.SELL) or \
        (opening is TradeAction.SELL_SHORT and action is TradeAction.BUY_TO_COVER)


def _count_symbol_day(trades: Sequence[TaxTrade], method: CountingMethod) -> tuple[int, list[str]]:
    if method is CountingMethod.DIRECTION_CHANGE:
        count = 0
        ids: list[str] = []
        open_run: set[TradeAction] = set()  # opening actions in the current (or last) opening run
        last_buy: bool | None = None
        for trade in trades:
            buy = trade.action.is_buy
            if trade.action in _OPENING:
                if last_buy is not buy:
                    open_run = set()
                open_run.add(trade.action)
            elif last_buy is not buy and any(_closes(trade.action, o) for o in open_run):
                count += 1
                ids.append(trade.trade_id)
                open_run = set()
            last_buy = buy
        return count, ids
    # OPENING: FIFO-match closing quantity against the day's opening transactions.
    queues: dict[TradeAction, list[list]] = {TradeAction.BUY: [], TradeAction.SELL_SHORT: []}
    counted: list[str] = []
    for trade in trades:
        if trade.action in _OPENING:
            queues[trade.action].append([trade.trade_id, trade.quantity, False])
            continue
        queue = queues[TradeAction.BUY if trade.action is TradeAction.SELL else TradeAction.SELL_SHORT]
        remaining = trade.quantity
        for item in queue:
            if remaining <= 0:
                break
            if item[1] <= 0:
                continue
            take = min(item[1], remaining)
            item[1] -= take
            remaining -= take
            if not item[2]:
                item[2] = True
                counted.append(item[0])
    return len(counted), counted


def count_day_trades(trades: Iterable[TaxTrade], *, method: CountingMethod | str = CountingMethod.OPENING,
                     account: str | None = None) -> list[DayTrade]:
    """Return the day trades of a margin account by trade date and symbol.

    Trades are taken in time order; ``account`` filters a mixed history.
    """
    method = CountingMethod(method)
    by_key: dict[tuple[date, str], list[TaxTrade]] = defaultdict(list)
    for trade in sorted(trades, key=lambda t: t.ts):
        if account is None or trade.account == account:
            by_key[trade.trade_date, trade.symbol].append(trade)
    out = []
    for (day, symbol), items in sorted(by_key.items()):
        count, ids = _count_symbol_day(items, method)
        if count:
            out.append(DayTrade(day=day, symbol=symbol, count=count, trade_ids=tuple(ids)))
    return out


def _sessions_ending(day: date, count: int, calendar: str) -> list[date]:
    cal = get_calendar(calendar)
    stamp = pd.Timestamp(day)
    if not cal.is_session(stamp):
        stamp = cal.date_to_session(stamp, direction="previous")
    index = cal.sessions.get_loc(stamp)
    return [s.date() for s in cal.sessions[max(0, index - count + 1): index + 1]]


@dataclass(frozen=True, slots=True, kw_only=True)
class PdtStatus:
    """Pattern-day-trader state of an account on ``as_of``."""

    as_of: date
    window: tuple[date, ...]
    day_trades: int
    total_trades: int
    day_trade_pct: Decimal
    pattern_day_trader: bool
    designated_on: date | None
    equity: Decimal | None
    below_minimum_equity: bool
    day_trades_left: int | None

    @property
    def restricted(self) -> bool:
        """A designated pattern day trader below $25,000 may not day trade."""
        return self.pattern_day_trader and self.below_minimum_equity


def _is_pattern(day_trades: int, total: int) -> bool:
    return day_trades >= 4 and total > 0 and Decimal(day_trades) * 100 > Decimal(6) * total


def pdt_status(trades: Iterable[TaxTrade], as_of: date, *, method: CountingMethod | str = CountingMethod.OPENING,
               equity: Decimal | None = None, calendar: str = "XNYS", account: str | None = None,
               min_equity: Decimal = PDT_MIN_EQUITY) -> PdtStatus:
    """Evaluate the legacy rule on ``as_of`` over the last 5 business days, and the designation history.

    ``day_trades_left`` is how many more day trades within the window stay under the
    pattern threshold (``None`` once designated).
    """
    history = [t for t in trades if account is None or t.account == account]
    day_trades = count_day_trades(history, method=method)
    per_day: dict[date, int] = defaultdict(int)
    for item in day_trades:
        per_day[item.day] += item.count
    trades_per_day: dict[date, int] = defaultdict(int)
    for trade in history:
        trades_per_day[trade.trade_date] += 1
    designated_on = None
    for day in sorted(per_day):
        if day > as_of:
            break
        window = _sessions_ending(day, 5, calendar)
        count = sum(per_day.get(d, 0) for d in window)
        total = sum(trades_per_day.get(d, 0) for d in window)
        if _is_pattern(count, total):
            designated_on = day
            break
    window = _sessions_ending(as_of, 5, calendar)
    count = sum(per_day.get(d, 0) for d in window)
    total = sum(trades_per_day.get(d, 0) for d in window)
    pct = (Decimal(count) * 100 / total).quantize(Decimal("0.01")) if total else _ZERO
    below = equity is not None and equity < min_equity
    return PdtStatus(as_of=as_of, window=tuple(window), day_trades=count, total_trades=total, day_trade_pct=pct,
                     pattern_day_trader=designated_on is not None, designated_on=designated_on, equity=equity,
                     below_minimum_equity=below, day_trades_left=None if designated_on else max(0, 3 - count))


def proposed_day_trade(trades: Iterable[TaxTrade], proposed: TaxTrade, *,
                       method: CountingMethod | str = CountingMethod.OPENING) -> int:
    """Return how many day trades ``proposed`` would add on its trade date (0 if none)."""
    day = proposed.trade_date
    same = [t for t in trades if t.trade_date == day and t.symbol == proposed.symbol and t.account ==
            proposed.account]
    before, _ = _count_symbol_day(sorted(same, key=lambda t: t.ts), CountingMethod(method))
    after, _ = _count_symbol_day(sorted([*same, proposed], key=lambda t: t.ts), CountingMethod(method))
    return after - before


def day_trading_buying_power(*, equity: Decimal, maintenance_requirement: Decimal,
                             multiplier: Decimal = Decimal(4)) -> Decimal:
    """Return 4 × maintenance margin excess (equity − maintenance requirement) at the previous close, floored at 0."""
    return max(_ZERO, (equity - maintenance_requirement) * multiplier)


def restriction_end(call_day: date, *, calendar: str = "XNYS", business_days_to_meet: int = 5,
                    restriction_days: int = 90) -> tuple[date, date]:
    """Return (due date of an unmet day-trading call, last day of the 90-day cash-available restriction)."""
    cal = get_calendar(calendar)
    stamp = cal.date_to_session(pd.Timestamp(call_day), direction="next")
    due = cal.session_offset(stamp, business_days_to_meet).date()
    return due, due + timedelta(days=restriction_days)


@dataclass(frozen=True, slots=True, kw_only=True)
class IntradayMarginState:
    equity: Decimal
    requirement: Decimal
    deficit: Decimal
    long_value: Decimal
    short_value: Decimal


def intraday_margin(*, cash: Decimal, positions: Mapping[str, Decimal], prices: Mapping[str, Decimal],
                    long_rate: Decimal = Decimal("0.25"), short_rate: Decimal = Decimal("0.30"),
                    rates: Mapping[str, Decimal] | None = None) -> IntradayMarginState:
    """Return equity, the intraday margin requirement and the deficit for positions at current prices.

    Raises
    ------
    InvalidInput
        If a position has no price.
    """
    long_value = short_value = requirement = _ZERO
    for symbol, quantity in positions.items():
        if not quantity:
            continue
        price = prices.get(symbol)
        if price is None:
            raise InvalidInput(f"no current price for {symbol}, needed for the intraday margin requirement")
        value = abs(quantity) * price
        rate = (rates or {}).get(symbol)
        if quantity > 0:
            long_value += value
            requirement += value * (rate if rate is not None else long_rate)
        else:
            short_value += value
            requirement += value * (rate if rate is not None else short_rate)
    equity = cash + long_value - short_value
    return IntradayMarginState(equity=equity, requirement=requirement, deficit=max(_ZERO, requirement - equity),
                               long_value=long_value, short_value=short_value)
