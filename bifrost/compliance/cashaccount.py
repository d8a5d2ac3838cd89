"""Cash-account violations from unsettled funds (Regulation T): good faith and free riding.

Settlement is T+1 business day for trades from 2024-05-28 (SEC Rule 15c6-1 as amended),
T+2 before, on the exchange calendar. The replay keeps settled cash and a queue of
unsettled sale proceeds:

* A purchase is paid from settled cash first, then from unsettled proceeds (it is then
  *funded by unsettled funds* until the latest of those proceeds settles); what neither
  covers is *unpaid*.
* **Good-faith violation**: selling a position bought with unsettled funds before those
  funds settle.
* **Free riding**: selling a position that was not paid for (neither settled cash nor
  proceeds covered it) before paying for it; the account is frozen for 90 days.
* Three good-faith violations in 12 months restrict the account to settled cash for 90
  calendar days (the common broker application of Reg T §220.8(c)).

Sales are matched to purchases first-in first-out within each symbol.
"""

from __future__ import annotations

from collections import defaultdict, deque
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

import pandas as pd

from bifrost.compliance.trades import TaxTrade
from bifrost.core.calendars import get_calendar

__all__ = ["T1_FROM", "CashViolation", "cash_account_violations", "settlement_date"]

T1_FROM = date(2024, 5, 28)
_ZERO = Decimal(0)


def settlement_date(trade_day: date, *, calendar: str = "XNYS") -> date:
    """Return the regular-way settlement date: T+1 session from 2024-05-28, T+2 before."""
    cal = get_calendar(calendar)
    session = cal.date_to_session(pd.Timestamp(trade_day), direction="next")
    return cal.session_offset(session, 1 if trade_day >= T1_FROM else 2).date()


@dataclass(frozen=True, slots=True, kw_only=True)
class CashViolation:
    kind: str  # "good_faith" or "free_riding"
    trade_id: str
    day: date
    symbol: str
    amount: Decimal
    message: str
    restricted_until: date | None


def cash_account_violations(trades: Iterable[TaxTrade], *, settled_cash: Decimal,
                            deposits: Iterable[tuple[date, Decimal]] = (), calendar: str = "XNYS"
                            ) -> list[CashViolation]:
    """Replay a cash account's buys and sells and return its violations in time order.

    ``settled_cash`` is the settled balance before the first trade; ``deposits`` are
    (date, amount) credits treated as settled that day.
    """
    events = sorted(trades, key=lambda t: t.ts)
    credits = sorted(deposits)
    settled = settled_cash
    unsettled: deque[list] = deque()  # [settle_date, amount]
    lots: dict[str, deque[list]] = defaultdict(deque)  # symbol -> [quantity, funded_until|None, unpaid, trade_id]
    out: list[CashViolation] = []
    gfv_days: list[date] = []
    credit_index = 0
    for trade in events:
        day = trade.trade_date
        while credit_index < len(credits) and credits[credit_index][0] <= day:
            settled += credits[credit_index][1]
            credit_index += 1
        while unsettled and unsettled[0][0] <= day:
            settled += unsettled.popleft()[1]
        value = trade.quantity * trade.price * trade.multiplier
        if trade.action.is_buy:
            cost = value + trade.fees
            from_settled = min(cost, max(settled, _ZERO))
            settled -= from_settled
            need = cost - from_settled
            funded_until = None
            for item in unsettled:
                if need <= 0:
                    break
                take = min(item[1], need)
                item[1] -= take
                need -= take
                funded_until = item[0]
            while unsettled and unsettled[0][1] <= 0:
                unsettled.popleft()
            lots[trade.symbol].append([trade.quantity, funded_until, need, trade.trade_id])
            continue
        remaining = trade.quantity
        queue = lots[trade.symbol]
        while remaining > 0 and queue:
            lot = queue[0]
            take = min(lot[0], remaining)
            remaining -= take
            share = take / lot[0]
            if lot[2] > 0:
                amount = (lot[2] * share).quantize(Decimal("0.01"))
                out.append(CashViolation(
                    kind="free_riding", trade_id=trade.trade_id, day=day, symbol=trade.symbol, amount=amount,
                    message=f"free riding: sold {take} {trade.symbol} bought in {lot[3]} that was never paid for "
                            f"(${amount:,.2f} unpaid)", restricted_until=day + timedelta(days=90)))
            elif lot[1] is not None and day < lot[1]:
                gfv_days.append(day)
                recent = [d for d in gfv_days if d > day - timedelta(days=365)]
                restricted = day + timedelta(days=90) if len(recent) >= 3 else None
                out.append(CashViolation(
                    kind="good_faith", trade_id=trade.trade_id, day=day, symbol=trade.symbol, amount=take,
                    message=f"good-faith violation: sold {take} {trade.symbol} bought in {lot[3]} with funds that "
                            f"settle on {lot[1]}; {len(recent)} in the last 12 months",
                    restricted_until=restricted))
            lot[0] -= take
            lot[2] -= lot[2] * share if lot[2] > 0 else _ZERO
            if lot[0] <= 0:
                queue.popleft()
        unsettled.append([settlement_date(day, calendar=calendar), value - trade.fees])
    return out
