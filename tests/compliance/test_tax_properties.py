"""Hypothesis invariants of lot relief and wash sales."""

from __future__ import annotations

from collections import defaultdict
from datetime import date, timedelta
from decimal import Decimal

from hypothesis import given, settings
from hypothesis import strategies as st

from bifrost.compliance import AccountProfile, SplitAction, TaxLotMethod, TaxTrade, compute_tax_lots
from tests.compliance.helpers import at, trade

_START = date(2024, 1, 2)


@st.composite
def histories(draw):
    """Random buys and sells of one symbol over a few months in two accounts; everything sold at the end."""
    steps = draw(st.lists(st.tuples(st.integers(0, 4), st.integers(1, 40), st.integers(500, 1500),
                                    st.integers(0, 300), st.booleans()), min_size=1, max_size=25))
    held = {"A": 0, "B": 0}
    trades = []
    day = _START
    for n, (gap, quantity, cents, fee_cents, second) in enumerate(steps):
        day += timedelta(days=gap)
        account = "B" if second else "A"
        price = Decimal(cents) / 100
        fees = Decimal(fee_cents) / 100
        sell = held[account] > 0 and draw(st.booleans())
        if sell:
            quantity = min(quantity, held[account])
            held[account] -= quantity
            trades.append(trade(f"T{n}", day.isoformat(), "sell", quantity, price, fees=fees, account=account,
                                clock="12:00"))
        else:
            held[account] += quantity
            trades.append(trade(f"T{n}", day.isoformat(), "buy", quantity, price, fees=fees, account=account,
                                clock="12:00"))
    day += timedelta(days=draw(st.integers(0, 40)))
    price = Decimal(draw(st.integers(500, 1500))) / 100
    for account, quantity in held.items():
        if quantity:
            trades.append(trade(f"END-{account}", day.isoformat(), "sell", quantity, price, account=account,
                                clock="15:00"))
    return trades


def _economic(trades) -> Decimal:
    total = Decimal(0)
    for t in trades:
        value = t.quantity * t.price
        total += (value - t.fees) if t.action.value == "sell" else -(value + t.fees)
    return total


@settings(max_examples=60, deadline=None)
@given(histories(), st.sampled_from(list(TaxLotMethod.__members__.values())), st.booleans())
def test_total_gain_less_lost_losses_equals_cash_pnl_for_any_method(trades, method, ira):
    if method is TaxLotMethod.SPECIFIC:
        method = TaxLotMethod.HIFO
    accounts = {"A": AccountProfile(lot_method=method), "B": AccountProfile(lot_method=method, tax_advantaged=ira)}
    result = compute_tax_lots(trades, accounts=accounts)
    gains = sum((d.gain for d in result.disposals), Decimal(0))
    # Every share is sold by the end, so deferred losses have all come back; those lost to an IRA
    # purchase never do, so they are missing from the gains (which are higher by that much).
    assert gains - result.permanently_disallowed == _economic(trades)
    assert result.open_lots == ()


@settings(max_examples=60, deadline=None)
@given(histories(), st.sampled_from([TaxLotMethod.FIFO, TaxLotMethod.LIFO, TaxLotMethod.TAX_OPTIMAL]))
def test_disallowed_never_exceeds_loss_and_each_share_used_once(trades, method):
    result = compute_tax_lots(trades, accounts={"A": AccountProfile(lot_method=method),
                                                "B": AccountProfile(lot_method=method)})
    for d in result.disposals:
        assert d.wash_disallowed >= 0
        assert d.wash_disallowed <= max(-d.raw_gain, Decimal(0))
    used = defaultdict(Decimal)
    for wash in result.wash_sales:
        used[wash.replacement_trade_id] += wash.replacement_shares
    bought = {t.trade_id: t.quantity for t in trades}
    for trade_id, shares in used.items():
        assert shares <= bought[trade_id]


@settings(max_examples=60, deadline=None)
@given(histories(), st.sampled_from([TaxLotMethod.FIFO, TaxLotMethod.LIFO]), st.booleans())
def test_compiled_core_gives_the_python_engines_result(trades, method, ira):
    # The compiled core runs long-only FIFO/LIFO histories; the Python engine runs everything. Same rules,
    # so every record must match exactly.
    accounts = {"A": AccountProfile(lot_method=method), "B": AccountProfile(lot_method=method, tax_advantaged=ira)}
    trades = trades[:-1] if len(trades) > 1 else trades  # keep some lots open
    compiled = compute_tax_lots(trades, accounts=accounts)
    python = compute_tax_lots(trades, accounts=accounts, _compiled=False)
    assert compiled == python


@st.composite
def short_histories(draw):
    """Short sales and covers in account A, buys and sells in B, of one symbol; everything closed at the end."""
    steps = draw(st.lists(st.tuples(st.integers(0, 6), st.integers(1, 40), st.integers(500, 1500),
                                    st.integers(0, 300), st.booleans(), st.booleans()), min_size=1, max_size=25))
    short, long = 0, 0
    trades = []
    day = _START
    for n, (gap, quantity, cents, fee_cents, in_long, close) in enumerate(steps):
        day += timedelta(days=gap)
        price, fees = Decimal(cents) / 100, Decimal(fee_cents) / 100
        if in_long:
            if close and long:
                quantity = min(quantity, long)
                long -= quantity
                action = "sell"
            else:
                long += quantity
                action = "buy"
            account = "B"
        else:
            if close and short:
                quantity = min(quantity, short)
                short -= quantity
                action = "buy_to_cover"
            else:
                short += quantity
                action = "sell_short"
            account = "A"
        trades.append(trade(f"T{n}", day.isoformat(), action, quantity, price, fees=fees, account=account,
                            clock="12:00"))
    day += timedelta(days=draw(st.integers(0, 40)))
    price = Decimal(draw(st.integers(500, 1500))) / 100
    if short:
        trades.append(trade("END-A", day.isoformat(), "buy_to_cover", short, price, clock="15:00"))
    if long:
        trades.append(trade("END-B", day.isoformat(), "sell", long, price, account="B", clock="15:00"))
    return trades


def _cash(trades) -> Decimal:
    total = Decimal(0)
    for t in trades:
        value = t.quantity * t.price
        total += -(value + t.fees) if t.action.is_buy else value - t.fees
    return total


@settings(max_examples=80, deadline=None)
@given(short_histories())
def test_short_sale_washes_defer_and_never_lose_a_loss(trades):
    # §1091(e) washes move a cover's loss to a later short or to a sale's basis: once everything is closed the
    # gains add up to the cash result, each disallowed amount is at most its loss, and nothing stays open.
    result = compute_tax_lots(trades)
    assert sum((d.gain for d in result.disposals), Decimal(0)) == _cash(trades)
    for d in result.disposals:
        assert 0 <= d.wash_disallowed <= max(-d.raw_gain, Decimal(0))
    assert result.open_lots == () and result.permanently_disallowed == 0


@settings(max_examples=60, deadline=None)
@given(histories(), st.sampled_from(["2", "1.5", "3"]), st.integers(0, 60), st.booleans())
def test_splits_between_trades_defer_and_never_lose_a_loss(trades, ratio, offset, ira):
    # A forward split somewhere in the history; whatever it leaves open is sold at the end (at $10, so half
    # shares give whole cents). Washes across the
    # split move each disallowed loss to a replacement, so the gains (less losses lost to the IRA) still add up
    # to the cash result, and no disallowance exceeds its loss.
    accounts = {"A": AccountProfile(), "B": AccountProfile(tax_advantaged=ira)}
    split = SplitAction(symbol="X", ts=at((_START + timedelta(days=offset)).isoformat(), "13:00"),
                        ratio=Decimal(ratio))
    last = max(t.ts for t in trades)
    leftover = compute_tax_lots(trades, splits=[split], accounts=accounts).open_lots
    for account in ("A", "B"):
        quantity = sum((lot.quantity for lot in leftover if lot.account == account), Decimal(0))
        if quantity:
            trades.append(TaxTrade(trade_id=f"LAST-{account}", account=account, ts=last + timedelta(days=1),
                                   symbol="X", action="sell", quantity=quantity, price=Decimal("10")))
    result = compute_tax_lots(trades, splits=[split], accounts=accounts)
    assert result.open_lots == ()
    gains = sum((d.gain for d in result.disposals), Decimal(0))
    assert gains - result.permanently_disallowed == _economic(trades)
    for d in result.disposals:
        assert 0 <= d.wash_disallowed <= max(-d.raw_gain, Decimal(0))
