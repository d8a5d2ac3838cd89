"""Compliance pre-trade checks (``bifrost.orders.pretrade`` protocol).

* :class:`WashSaleCheck`: a proposed sale at a loss with replacement shares bought in the
  last 30 days, or a purchase within 30 days after a loss sale, would create a wash sale;
  warns (or rejects with ``block=True``) with the disallowed amount. The amount is what
  :func:`compute_tax_lots` gives with the order appended at its limit price (or the last
  price), relieving the lots the order's lot override names, so the preview and the tax
  report agree. Short sales too (§1091(e)): a cover at a loss with another short sale in the
  window, or a short sale within 30 days after a cover at a loss.
* :class:`DayTradeCheck`: the legacy pattern-day-trader rule in margin accounts: warns
  "this sale would be your 4th day trade in 5 business days", rejects day trades of a
  designated pattern day trader below $25,000 equity.
* :class:`IntradayMarginCheck`: the 2026 intraday margin standard: rejects orders that
  would create or increase an intraday margin deficit.
* :class:`GoodFaithCheck`: cash accounts: warns on a sale that would be a good-faith
  violation and rejects free riding.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from decimal import Decimal

from bifrost.compliance.daytrading import (
    PDT_MIN_EQUITY,
    CountingMethod,
    _is_pattern,
    intraday_margin,
    pdt_status,
    proposed_day_trade,
)
from bifrost.compliance.tax import TaxResult, compute_tax_lots
from bifrost.compliance.trades import (
    AccountProfile,
    IdenticalGroups,
    TaxLotMethod,
    TaxTrade,
    TradeAction,
)
from bifrost.orders.pretrade import AccountType, CheckResult, PreTradeContext
from bifrost.orders.types import OrderRequest, Side

__all__ = ["DayTradeCheck", "GoodFaithCheck", "IntradayMarginCheck", "WashSaleCheck", "ordinal"]

_ZERO = Decimal(0)


def ordinal(n: int) -> str:
    """1st, 2nd, 3rd, 4th, 11th, 21st..."""
    suffix = "th" if 10 <= n % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")
    return f"{n}{suffix}"


def _price(order: OrderRequest, context: PreTradeContext) -> Decimal | None:
    return order.limit_price or context.last_prices.get(order.symbol)


def _held(trades: Sequence[TaxTrade], account: str, symbol: str) -> Decimal:
    held = _ZERO
    for t in trades:
        if t.account == account and t.symbol == symbol:
            held += t.quantity if t.action.is_buy else -t.quantity
    return held


class WashSaleCheck:
    """Warn or block orders that would create a wash sale, with the disallowed amount.

    Parameters
    ----------
    trades
        The household's executed trades (every account).
    account
        The account the orders are for.
    accounts
        Account profiles (IRA flags, lot methods).
    identical
        Substantially-identical groups.
    block
        Reject instead of warning.
    min_amount
        Say nothing below this disallowed amount.
    lot_method
        Per-sale override of the account's lot method for the proposed sale (a what-if); an
        order's own override (``OrderRequest.lot_method`` / ``lot_ids``) takes precedence.
    """

    rule = "wash_sale"

    def __init__(self, *, trades: Sequence[TaxTrade], account: str,
                 accounts: Mapping[str, AccountProfile] | None = None, identical: IdenticalGroups | None = None,
                 block: bool = False, min_amount: Decimal = Decimal("0.01"),
                 lot_method: TaxLotMethod | str | None = None) -> None:
        self.lot_method = TaxLotMethod(lot_method) if lot_method is not None else None
        self.trades = list(trades)
        self.account = account
        self.accounts = dict(accounts or {})
        self.identical = identical or IdenticalGroups()
        self.block = block
        self.min_amount = min_amount
        self._baseline: TaxResult | None = None

    def _run(self, trades: Sequence[TaxTrade]) -> TaxResult:
        return compute_tax_lots(trades, accounts=self.accounts, identical=self.identical)

    def preview(self, order: OrderRequest, context: PreTradeContext) -> tuple[Decimal, list[str], str]:
        """Return (disallowed amount, related trade ids, what the order is) for ``order``.

        What the order is follows from the account's position: a ``sale`` or a ``cover`` (a
        purchase closing a short) realises a loss that may wash (related: its replacements);
        a ``purchase`` or a ``short sale`` may replace a recent loss (related: the losses).
        """
        price = _price(order, context)
        ira = self.accounts.get(self.account, AccountProfile()).tax_advantaged
        held = _held(self.trades, self.account, order.symbol)
        closing = held > 0 if order.side is Side.SELL else held < 0
        if price is None or (ira and closing):  # closing trades in an IRA realise no deductible loss
            return _ZERO, [], ""
        if order.side is Side.SELL:
            action, what = (TradeAction.SELL, "sale") if closing else (TradeAction.SELL_SHORT, "short sale")
        else:
            action, what = (TradeAction.BUY_TO_COVER, "cover") if closing else (TradeAction.BUY, "purchase")
        quantity = min(order.quantity, abs(held)) if closing else order.quantity
        lot_method, lot_ids = self.lot_method, ()
        if closing and (order.lot_method is not None or order.lot_ids):
            # The order's own lot override: the ledger relieves its fills by it, so the preview does too.
            lot_method = TaxLotMethod(order.lot_method.value) if order.lot_method is not None else None
            lot_ids = order.lot_ids
        proposed = TaxTrade(trade_id=f"proposed:{order.client_order_id}", account=self.account, ts=context.now,
                            symbol=order.symbol, action=action, quantity=quantity, price=price,
                            lot_method=lot_method if closing else None, lot_ids=lot_ids)
        if self._baseline is None:
            self._baseline = self._run(self.trades)
        after = self._run([*self.trades, proposed])
        if closing:
            amount = sum((d.wash_disallowed for d in after.disposals if d.closing_id == proposed.trade_id), _ZERO)
            replacements = sorted({w.replacement_trade_id for w in after.wash_sales
                                   if w.loss_trade_id == proposed.trade_id})
            return amount, replacements, what
        before = sum((d.wash_disallowed for d in self._baseline.disposals), _ZERO)
        amount = sum((d.wash_disallowed for d in after.disposals), _ZERO) - before
        losses = sorted({w.loss_trade_id for w in after.wash_sales if w.replacement_trade_id == proposed.trade_id})
        return amount, losses, what

    def check(self, order: OrderRequest, context: PreTradeContext) -> CheckResult:
        amount, related, what = self.preview(order, context)
        if amount < self.min_amount or amount <= 0:
            return CheckResult.accept()
        if what == "sale":
            message = (f"this sale of {order.quantity} {order.symbol} would be a wash sale and disallow "
                       f"${amount:,.2f} of loss (replacement shares bought within 30 days: {', '.join(related)})")
        elif what == "cover":
            message = (f"this purchase to cover {order.quantity} {order.symbol} short would be a wash sale and "
                       f"disallow ${amount:,.2f} of loss (short sales or sales within 30 days: {', '.join(related)})")
        elif what == "short sale":
            message = (f"this short sale of {order.quantity} {order.symbol} would be a wash sale and disallow "
                       f"${amount:,.2f} of loss on covers within the last 30 days ({', '.join(related)})")
        else:
            message = (f"this purchase of {order.quantity} {order.symbol} would be a wash sale and disallow "
                       f"${amount:,.2f} of loss realised within the last 30 days (sales {', '.join(related)})")
            if self.accounts.get(self.account, AccountProfile()).tax_advantaged:
                message += "; bought in a tax-advantaged account, the loss is lost for good (Rev. Rul. 2008-5)"
        numbers = {"disallowed": amount, "symbol": order.symbol, "related": ",".join(related)}
        if self.block:
            return CheckResult.reject(self.rule, message, **numbers)
        return CheckResult.warn(self.rule, message, **numbers)


class DayTradeCheck:
    """Legacy pattern-day-trader rule for margin accounts (FINRA Rule 4210(f)(8)(B)).

    Parameters
    ----------
    trades
        The account's executed trades.
    account
        The account name in ``trades``.
    equity
        Account equity now (``None``: unknown, the minimum-equity test is skipped).
    method
        Day-trade counting method (Regulatory Notice 21-13).
    block
        Reject a day trade that would make the account a pattern day trader below $25,000
        (otherwise warn).
    """

    rule = "pattern_day_trader"

    def __init__(self, *, trades: Sequence[TaxTrade], account: str, equity: Decimal | None = None,
                 method: CountingMethod | str = CountingMethod.OPENING, calendar: str = "XNYS",
                 block: bool = False, min_equity: Decimal = PDT_MIN_EQUITY) -> None:
        self.trades = list(trades)
        self.account = account
        self.equity = equity
        self.method = CountingMethod(method)
        self.calendar = calendar
        self.block = block
        self.min_equity = min_equity

    def check(self, order: OrderRequest, context: PreTradeContext) -> CheckResult:
        if context.account_type is not AccountType.MARGIN:
            return CheckResult.accept()
        held = _held(self.trades, self.account, order.symbol)
        if order.side is Side.SELL:
            action = TradeAction.SELL if held > 0 else TradeAction.SELL_SHORT
        else:
            action = TradeAction.BUY_TO_COVER if held < 0 else TradeAction.BUY
        proposed = TaxTrade(trade_id=f"proposed:{order.client_order_id}", account=self.account, ts=context.now,
                            symbol=order.symbol, action=action, quantity=order.quantity,
                            price=_price(order, context) or Decimal(1))
        added = proposed_day_trade(self.trades, proposed, method=self.method)
        if not added:
            return CheckResult.accept()
        status = pdt_status(self.trades, proposed.trade_date, method=self.method, equity=self.equity,
                            calendar=self.calendar, account=self.account, min_equity=self.min_equity)
        what = "sale" if order.side is Side.SELL else "purchase"
        numbers = {"day_trades": status.day_trades + added, "equity": self.equity if self.equity is not None else "",
                   "min_equity": self.min_equity}
        if status.pattern_day_trader:
            if status.below_minimum_equity:
                return CheckResult.reject(
                    self.rule, f"this {what} would be a day trade, but the account is a pattern day trader with "
                               f"equity ${self.equity:,.2f} below the ${self.min_equity:,.0f} minimum", **numbers)
            return CheckResult.accept()
        count = status.day_trades + added
        if not _is_pattern(count, status.total_trades + 1):
            return CheckResult.accept()
        message = (f"this {what} would be your {ordinal(count)} day trade in 5 business days and make the account a "
                   f"pattern day trader (4 or more day trades, over 6% of its {status.total_trades + 1} trades)")
        below = self.equity is not None and self.equity < self.min_equity
        if below:
            message += f"; equity ${self.equity:,.2f} is below the ${self.min_equity:,.0f} minimum"
        if self.block and below:
            return CheckResult.reject(self.rule, message, **numbers)
        return CheckResult.warn(self.rule, message, **numbers)


class IntradayMarginCheck:
    """Reject orders that would create or increase an intraday margin deficit (91 FR 20731).

    Parameters
    ----------
    prices
        Current prices of every position (the order's symbol may come from the context).
    long_rate, short_rate, rates
        Intraday requirement as a fraction of market value.
    """

    rule = "intraday_margin"

    def __init__(self, *, prices: Mapping[str, Decimal] | None = None, long_rate: Decimal = Decimal("0.25"),
                 short_rate: Decimal = Decimal("0.30"), rates: Mapping[str, Decimal] | None = None) -> None:
        self.prices = dict(prices or {})
        self.long_rate = long_rate
        self.short_rate = short_rate
        self.rates = dict(rates or {})

    def check(self, order: OrderRequest, context: PreTradeContext) -> CheckResult:
        if context.account_type is not AccountType.MARGIN:
            return CheckResult.accept()
        prices = {**self.prices, **context.last_prices}
        price = _price(order, context)
        if price is None:
            return CheckResult.reject(self.rule, f"no price for {order.symbol}: cannot check the intraday margin "
                                                 f"requirement", symbol=order.symbol)
        prices.setdefault(order.symbol, price)
        positions = {s: q for s, q in context.positions.items() if q}
        missing = [s for s in positions if s not in prices]
        if missing:
            return CheckResult.warn(self.rule, f"no current price for {', '.join(sorted(missing))}: the intraday "
                                               f"margin requirement could not be checked", missing=",".join(missing))
        before = intraday_margin(cash=context.cash, positions=positions, prices=prices, long_rate=self.long_rate,
                                 short_rate=self.short_rate, rates=self.rates)
        signed = order.quantity if order.side is Side.BUY else -order.quantity
        after_positions = dict(positions)
        after_positions[order.symbol] = after_positions.get(order.symbol, _ZERO) + signed
        after = intraday_margin(cash=context.cash - signed * price, positions=after_positions, prices=prices,
                                long_rate=self.long_rate, short_rate=self.short_rate, rates=self.rates)
        if after.deficit > 0 and after.deficit > before.deficit:
            verb = "create" if before.deficit == 0 else "increase"
            return CheckResult.reject(
                self.rule, f"this order would {verb} an intraday margin deficit: requirement "
                           f"${after.requirement:,.2f} against equity ${after.equity:,.2f} "
                           f"(deficit ${before.deficit:,.2f} -> ${after.deficit:,.2f})",
                requirement=after.requirement, equity=after.equity, deficit_before=before.deficit,
                deficit_after=after.deficit)
        return CheckResult.accept()


class GoodFaithCheck:
    """Cash accounts: warn (or reject) a sale that would be a good-faith or free-riding violation.

    Parameters
    ----------
    trades
        The account's executed trades.
    deposits
        (date, amount) cash flows of the account (withdrawals negative).
    settled_cash
        Settled cash before the first trade and deposit.
    block
        Reject instead of warning.
    """

    rule = "cash_account_settlement"

    def __init__(self, *, trades: Sequence[TaxTrade], deposits: Sequence[tuple] = (), settled_cash: Decimal = _ZERO,
                 block: bool = False, calendar: str = "XNYS") -> None:
        self.trades = list(trades)
        self.deposits = list(deposits)
        self.settled_cash = settled_cash
        self.block = block
        self.calendar = calendar

    def check(self, order: OrderRequest, context: PreTradeContext) -> CheckResult:
        from bifrost.compliance.cashaccount import cash_account_violations

        if context.account_type is not AccountType.CASH or order.side is not Side.SELL:
            return CheckResult.accept()
        account = self.trades[0].account if self.trades else "account"
        held = sum((t.quantity if t.action.is_buy else -t.quantity for t in self.trades if t.symbol == order.symbol),
                   _ZERO)
        quantity = min(order.quantity, held)
        if quantity <= 0:
            return CheckResult.accept()
        proposed = TaxTrade(trade_id=f"proposed:{order.client_order_id}", account=account, ts=context.now,
                            symbol=order.symbol, action=TradeAction.SELL, quantity=quantity,
                            price=_price(order, context) or Decimal(1))
        found = [v for v in cash_account_violations([*self.trades, proposed], settled_cash=self.settled_cash,
                                                    deposits=self.deposits, calendar=self.calendar)
                 if v.trade_id == proposed.trade_id]
        if not found:
            return CheckResult.accept()
        message = "this sale would be a " + "; ".join(v.message for v in found)
        numbers = {"kind": found[0].kind, "restricted_until": found[0].restricted_until or ""}
        if self.block or any(v.kind == "free_riding" for v in found):
            return CheckResult.reject(self.rule, message, **numbers)
        return CheckResult.warn(self.rule, message, **numbers)
