"""The trading loop: closed bars only, strategy orders through the engine, kill switch respected."""

from datetime import UTC, datetime, timedelta
from decimal import Decimal

from bifrost.core.time import SimulatedClock
from bifrost.execution import PaperExchange
from bifrost.orders import OrderRequest
from bifrost.portfolio import Deposit, Ledger
from bifrost.trading import BarEvent, MarketView, Runner, TradingEngine

START = datetime(2024, 3, 4, 14, 30, tzinfo=UTC)
MINUTE = timedelta(minutes=1)


class ListSource:
    def __init__(self, bars):
        self.bars = list(bars)

    def poll(self):
        out, self.bars = self.bars, []
        return out


class BuyEveryThirdBar:
    """Buys 10 shares on every third bar it sees; records what it saw."""

    def __init__(self):
        self.seen = []

    def on_bar(self, bar, context):
        self.seen.append((bar.start, context.now))
        if len(self.seen) % 3 == 0:
            context.submit(OrderRequest(client_order_id=f"s{len(self.seen)}", symbol=bar.symbol, side="buy",
                                        quantity="10"))


def _bars(n, price=50.0):
    return [BarEvent(symbol="ACME", start=START + i * MINUTE, end=START + (i + 1) * MINUTE, open=price + i * 0.1,
                     high=price + i * 0.1 + 0.05, low=price + i * 0.1 - 0.05, close=price + i * 0.1, volume=10_000)
            for i in range(n)]


def _engine(clock):
    ledger = Ledger()
    ledger.post(Deposit(entry_id="d", ts_event=START, amount=Decimal("100000")))
    return TradingEngine(portfolio_id="live", ledger=ledger, venue=PaperExchange(), clock=clock,
                         market=MarketView(last_prices={"ACME": Decimal("50")}, known_symbols={"ACME"}))


def test_runner_hands_over_only_closed_bars_and_fills_next_open():
    clock = SimulatedClock(START + 3 * MINUTE)  # bars 0-2 have closed, 3-5 have not
    engine = _engine(clock)
    strategy = BuyEveryThirdBar()
    runner = Runner(engine=engine, source=ListSource(_bars(6)), strategy=strategy, clock=clock)

    assert runner.step() == 3
    assert all(start + MINUTE <= now for start, now in strategy.seen)  # nothing seen before it closed
    clock.advance_to(START + 6 * MINUTE)
    assert runner.step() == 3

    # s3 was sent after bar 2 closed and filled at bar 3's open (50.3); s6 waits for bar 6.
    assert engine.order("s3").status.value == "filled"
    assert engine.order("s3").average_fill_price == Decimal("50.3")
    assert engine.order("s6").status.value == "accepted"
    assert engine.ledger.position("ACME").quantity == Decimal("10")


def test_kill_switch_blocks_strategy_orders_while_the_loop_runs():
    clock = SimulatedClock(START + 6 * MINUTE)
    engine = _engine(clock)
    engine.set_kill_switch(True, "risk limit")
    strategy = BuyEveryThirdBar()
    runner = Runner(engine=engine, source=ListSource(_bars(6)), strategy=strategy, clock=clock)

    processed = runner.run(max_steps=2, sleep=lambda s: None)

    assert processed == 6
    assert len(runner.context.rejections) == 2 and all("kill switch" in r for r in runner.context.rejections)
    assert engine.ledger.position("ACME").quantity == 0
