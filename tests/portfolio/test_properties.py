"""Property tests of the ledger: invariants after any sequence of postings.

After any sequence of deposits, withdrawals, buys, sells (long and short, crossing
zero), commissions and fees, standalone fees, dividends, interest, splits and
repeated postings, in a cash account or a margin account and under any lot method:

* every journal entry balances in each currency;
* refused postings (insufficient funds, short sales, leverage) change nothing;
* reposting an already posted item returns the original and changes nothing;
* open lots sum to positions, in quantity and cost;
* running balances equal a recomputation from the journal (and ``reconcile`` passes);
* position quantities equal an independent model of the fills and splits;
* cash == deposits - withdrawals - buys + sells - fees + income, exactly, per currency.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from decimal import ROUND_HALF_EVEN, Decimal
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from bifrost.core.errors import InvalidInput, StateConflict
from bifrost.orders import Fill, Side
from bifrost.portfolio import (
    Deposit,
    Dividend,
    Fee,
    Interest,
    Ledger,
    LedgerConfig,
    LotMethod,
    Split,
    Withdrawal,
)
from bifrost.portfolio.positions import balances_from_journal
from tests.portfolio.helpers import T0

SYMBOL_CURRENCY = {"AAPL": "USD", "MSFT": "USD", "SAP": "EUR"}
CENT = Decimal("0.01")
ZERO = Decimal(0)

cents = st.integers(min_value=1, max_value=2_000_000).map(lambda n: Decimal(n) / 100)
currencies = st.sampled_from(["USD", "EUR"])
symbols = st.sampled_from(sorted(SYMBOL_CURRENCY))

trades = st.tuples(
    st.sampled_from(["buy", "sell"]),
    symbols,
    st.integers(min_value=1, max_value=30_000).map(lambda n: Decimal(n) / 100),  # quantity, 0.01 share steps
    st.integers(min_value=100, max_value=50_000).map(lambda n: Decimal(n) / 100),  # price, whole cents
    st.integers(min_value=0, max_value=1_000).map(lambda n: Decimal(n) / 100),  # commission
    st.integers(min_value=-50, max_value=200).map(lambda n: Decimal(n) / 100),  # fees (rebates negative)
)

operations = st.one_of(
    st.tuples(st.just("deposit"), currencies, cents),
    st.tuples(st.just("withdraw"), currencies, cents),
    st.tuples(st.just("trade"), trades),  # trades listed three times: one_of picks branches evenly
    st.tuples(st.just("trade"), trades),
    st.tuples(st.just("trade"), trades),
    st.tuples(st.just("close"), symbols, st.integers(min_value=100, max_value=50_000)),
    st.tuples(st.just("fee"), currencies, st.integers(min_value=-500, max_value=5_000).filter(bool)),
    st.tuples(st.just("interest"), currencies, st.integers(min_value=-5_000, max_value=5_000).filter(bool)),
    st.tuples(st.just("dividend"), symbols, st.integers(min_value=1, max_value=20_000)),
    st.tuples(st.just("split"), symbols, st.sampled_from([2, 3, 4])),
    st.tuples(st.just("repost"), st.integers(min_value=0, max_value=1_000)),
)

configs = st.builds(
    LedgerConfig,
    lot_method=st.sampled_from([LotMethod.FIFO, LotMethod.LIFO, LotMethod.HIFO]),
    margin=st.booleans(),
    enforce_limits=st.booleans(),
    leverage_limit=st.sampled_from([Decimal("1.5"), Decimal("2"), Decimal("4")]),
)


class _Model:
    """What cash and positions must be, from the inputs alone."""

    def __init__(self) -> None:
        self.terms = {c: dict.fromkeys(("deposits", "withdrawals", "buys", "sells", "fees", "income"), ZERO)
                      for c in ("USD", "EUR")}
        self.quantity = dict.fromkeys(SYMBOL_CURRENCY, ZERO)

    def cash(self, currency: str) -> Decimal:
        t = self.terms[currency]
        return t["deposits"] - t["withdrawals"] - t["buys"] + t["sells"] - t["fees"] + t["income"]


def _state(ledger: Ledger) -> tuple:
    return (len(ledger), ledger.balances(), {s: ledger.open_lots(s) for s in SYMBOL_CURRENCY},
            {s: ledger.position(s).quantity for s in SYMBOL_CURRENCY}, ledger.realised_gains())


def _money(amount: Decimal) -> Decimal:
    return amount.quantize(CENT, rounding=ROUND_HALF_EVEN)


def _build(op: tuple, index: int, model: _Model) -> tuple[Any, Callable[[], None] | None]:
    """Return the item to post and a function that books it in the model once accepted."""
    item: Any
    ts_event = T0 + timedelta(hours=index)
    entry_id = f"op-{index}"
    kind = op[0]
    if kind in ("deposit", "withdraw"):
        _, currency, amount = op
        cls, term = (Deposit, "deposits") if kind == "deposit" else (Withdrawal, "withdrawals")
        item = cls(entry_id=entry_id, ts_event=ts_event, amount=amount, currency=currency)
        return item, lambda: model.terms[currency].__setitem__(term, model.terms[currency][term] + amount)
    if kind in ("trade", "close"):
        if kind == "trade":
            side, symbol, quantity, price, commission, fees = op[1]
        else:
            _, symbol, price_cents = op
            held = model.quantity[symbol]
            if not held:
                return None, None
            side, quantity, price = ("sell" if held > 0 else "buy"), abs(held), Decimal(price_cents) / 100
            commission, fees = Decimal("1.00"), ZERO
        currency = SYMBOL_CURRENCY[symbol]
        item = Fill(fill_id=entry_id, client_order_id=f"o-{index}", symbol=symbol, side=Side(side), quantity=quantity,
                    price=price, ts_event=ts_event, commission=commission, fees=fees, currency=currency)

        def book() -> None:
            terms = model.terms[currency]
            notional = _money(quantity * price)
            terms["buys" if side == "buy" else "sells"] += notional
            terms["fees"] += commission + fees
            model.quantity[symbol] += quantity if side == "buy" else -quantity
        return item, book
    if kind in ("fee", "interest"):
        _, currency, amount_cents = op
        amount = Decimal(amount_cents) / 100
        if kind == "fee":
            item = Fee(entry_id=entry_id, ts_event=ts_event, amount=amount, currency=currency)
            return item, lambda: model.terms[currency].__setitem__("fees", model.terms[currency]["fees"] + amount)
        item = Interest(entry_id=entry_id, ts_event=ts_event, amount=amount, currency=currency)
        return item, lambda: model.terms[currency].__setitem__("income", model.terms[currency]["income"] + amount)
    if kind == "dividend":
        _, symbol, per_share_units = op
        per_share = Decimal(per_share_units) / 10_000
        currency = SYMBOL_CURRENCY[symbol]
        item = Dividend(entry_id=entry_id, ts_event=ts_event, symbol=symbol, amount_per_share=per_share,
                        currency=currency)

        def book_dividend() -> None:
            held = model.quantity[symbol]
            amount = _money(per_share * abs(held))
            model.terms[currency]["income"] += amount if held > 0 else -amount
        return item, book_dividend
    if kind == "split":
        _, symbol, ratio = op
        item = Split(entry_id=entry_id, ts_event=ts_event, symbol=symbol, ratio=Decimal(ratio))
        return item, lambda: model.quantity.__setitem__(symbol, model.quantity[symbol] * ratio)
    raise AssertionError(kind)


@settings(max_examples=300, deadline=None)
@given(config=configs, opening=st.tuples(cents, cents), ops=st.lists(operations, min_size=10, max_size=60))
def test_ledger_any_postings_keep_every_invariant(config, opening, ops):
    # Arrange: open with a deposit in each currency, so that most trades are not refused.
    ledger = Ledger(config)
    model = _Model()
    posted = []
    ops = [("deposit", "USD", opening[0] * 10), ("deposit", "EUR", opening[1] * 10), *ops]

    # Act: post every operation, checking refusals and reposts as we go.
    for index, op in enumerate(ops):
        if op[0] == "repost":
            if posted:
                item, entry = posted[op[1] % len(posted)]
                before = _state(ledger)
                assert ledger.post(item, lot_selection=entry.lot_selection) is entry
                assert _state(ledger) == before
            continue
        item, book = _build(op, index, model)
        if item is None:
            continue
        before = _state(ledger)
        try:
            entry = ledger.post(item)
        except StateConflict as refused:  # funds, short sales, leverage, or no position to split / pay on
            assert _state(ledger) == before, f"refused {item} changed the ledger: {refused}"
            if isinstance(item, (Dividend, Split)):
                assert model.quantity[item.symbol] == 0
            continue
        except InvalidInput:  # only a dividend too small to pay a cent
            assert isinstance(item, Dividend)
            assert _money(item.amount_per_share * abs(model.quantity[item.symbol])) == 0
            assert _state(ledger) == before
            continue
        book()
        posted.append((item, entry))

    # Assert: every entry balances in every currency.
    for entry in ledger.entries():
        totals: dict[str, Decimal] = {}
        for account, amount in entry.lines:
            totals[account.currency] = totals.get(account.currency, ZERO) + amount
        assert all(total == 0 for total in totals.values()), entry

    # Running balances equal a from-scratch recomputation; all balances net to zero per currency.
    assert ledger.balances() == balances_from_journal(ledger.entries())
    for currency in ("USD", "EUR"):
        assert sum((a for acc, a in ledger.balances().items() if acc.currency == currency), ZERO) == 0
    ledger.reconcile()

    # Positions match the model, and lots sum to positions.
    for symbol in SYMBOL_CURRENCY:
        position = ledger.position(symbol)
        assert position.quantity == model.quantity[symbol]
        lots = ledger.open_lots(symbol)
        assert sum((lot.signed_quantity for lot in lots), ZERO) == position.quantity
        assert sum((lot.signed_cost for lot in lots), ZERO) == position.cost
        assert len({lot.short for lot in lots}) <= 1  # never long and short lots at once

    # Cash identity, exact.
    for currency in ("USD", "EUR"):
        assert ledger.cash(currency) == model.cash(currency)

    # A cash account that enforces its limits never sells short.
    if config.enforce_limits and not config.margin:
        assert all(q >= 0 for q in model.quantity.values())
