"""Unmodified Backtrader strategies on Bifrost bars, imported as Bifrost backtests.

The strategies below are written the way a Backtrader user writes them (``bt.indicators``,
``self.buy``/``self.sell``/``self.close``, stop orders, ``notify_order``); the bridge must
not need any change to them. Reference values come from Backtrader itself in the same
test (``cerebro.broker.getvalue()``, ``TradeAnalyzer``, the strategy's own
``notify_order`` log, a plain ``bt.feeds.PandasData`` run without the bridge) or from
the bars directly. Tolerance: 1e-6 USD (float arithmetic only; Backtrader does not round).
"""

from __future__ import annotations

import datetime
from pathlib import Path

import backtrader as bt
import exchange_calendars as xcals
import numpy as np
import pandas as pd
import pytest

from bifrost.backtest.backtrader_bridge import (
    backtrader_feed,
    backtrader_record,
    build_cerebro,
    run_backtrader,
)
from bifrost.core.errors import InvalidInput
from bifrost.marketdata.types import make_bars
from tests.factories import xnys_daily_bars

MONEY_TOLERANCE = 1e-6


class SmaCross(bt.Strategy):
    """A typical user strategy: long on SMA cross up, flat on cross down."""

    params = (("fast", 10), ("slow", 30), ("size", 100))

    def __init__(self):
        fast = bt.indicators.SimpleMovingAverage(self.data.close, period=self.p.fast)
        slow = bt.indicators.SimpleMovingAverage(self.data.close, period=self.p.slow)
        self.crossover = bt.indicators.CrossOver(fast, slow)
        self.log = []  # (status name, executed size, executed price, executed commission)

    def notify_order(self, order):
        if order.status in (order.Completed, order.Canceled, order.Margin, order.Rejected):
            self.log.append((order.getstatusname(), order.executed.size, order.executed.price,
                             order.executed.comm))

    def next(self):
        if not self.position:
            if self.crossover > 0:
                self.buy(size=self.p.size)
        elif self.crossover < 0:
            self.close()


class BreakoutWithStop(bt.Strategy):
    """Stop-entry above the 20-bar high valid for 5 days, then a protective stop below the entry."""

    params = (("lookback", 20), ("stop_pct", 0.03), ("size", 50))

    def __init__(self):
        self.highest = bt.indicators.Highest(self.data.high(-1), period=self.p.lookback)
        self.entry = None
        self.protective = None
        self.events = []  # (ref, status name, exectype, created price, executed price)

    def notify_order(self, order):
        self.events.append((order.ref, order.getstatusname(), order.exectype, order.created.price,
                            order.executed.price))
        if order.status in (order.Submitted, order.Accepted):
            return
        if order.status == order.Completed and order.isbuy():
            self.protective = self.sell(size=order.executed.size, exectype=bt.Order.Stop,
                                  price=order.executed.price * (1 - self.p.stop_pct))
        if order is self.entry or (self.entry is not None and order.ref == self.entry.ref):
            if not order.alive():
                self.entry = None

    def next(self):
        if self.position or self.entry is not None:
            return
        self.entry = self.buy(size=self.p.size, exectype=bt.Order.Stop, price=self.highest[0],
                              valid=datetime.timedelta(days=5))


class AllIn(bt.Strategy):
    """Buys far more than the cash allows, which Backtrader's broker rejects as Margin."""

    def __init__(self):
        self.statuses = []

    def notify_order(self, order):
        if not order.alive():
            self.statuses.append(order.getstatusname())

    def next(self):
        if len(self) == 3:
            self.buy(size=10_000_000)


@pytest.fixture(scope="module")
def goog(shared_data: Path) -> pd.DataFrame:
    """GOOG daily bars, unadjusted (Quandl WIKI via bokeh-sampledata, public domain)."""
    raw = pd.read_csv(shared_data / "equities" / "quandl_wiki_5stocks_2000_2013.csv", parse_dates=["Date"])
    rows = raw[raw["Ticker"] == "GOOG"].sort_values("Date")
    return make_bars(rows["Date"].dt.tz_localize("UTC"), rows["Open"], rows["High"], rows["Low"], rows["Close"],
                     rows["Volume"])


def _executions(record) -> np.ndarray:
    """(signed size, price, commission) per recorded fill."""
    fills = record.fills
    signed = np.where(fills["side"] == "buy", 1.0, -1.0) * fills["quantity"].to_numpy()
    return np.column_stack([signed, fills["price"].to_numpy(), fills["commission"].to_numpy()])


def _equity_from_fills(record, bars: pd.DataFrame, cash: float) -> np.ndarray:
    """Independent mark-to-market: cash after fills plus shares times the close, per bar."""
    fills = record.fills
    sign = np.where(fills["side"] == "buy", 1.0, -1.0)
    flows = -(sign * fills["quantity"] * fills["price"]) - fills["commission"]
    shares = sign * fills["quantity"]
    out = []
    for start, close in zip(bars.index, bars["close"], strict=True):
        done = fills["ts"].dt.normalize() <= start  # a fill belongs to its bar's session
        out.append(cash + flows[done].sum() + shares[done].sum() * close)
    return np.asarray(out)


def test_sma_cross_record_matches_backtrader_broker_and_trade_analyzer(goog):
    cerebro = build_cerebro(SmaCross, {"GOOG": goog}, cash=100_000, commission=0.001)
    cerebro.addanalyzer(bt.analyzers.TradeAnalyzer, _name="trades")
    strategy = cerebro.run()[0]
    record = backtrader_record(strategy)
    trades = strategy.analyzers.trades.get_analysis()

    assert record.engine == "backtrader" and record.symbols == ("GOOG",)
    assert record.final_equity == pytest.approx(cerebro.broker.getvalue(), abs=MONEY_TOLERANCE)
    closed = record.trades()
    assert len(closed) == trades.total.closed > 20
    assert closed["pnl"].sum() == pytest.approx(trades.pnl.net.total, abs=MONEY_TOLERANCE)
    assert (trades.total.open == 1) == (record.positions["GOOG"].iloc[-1] != 0)
    # Every execution of the strategy's own notify_order log is in the record, in order.
    completed = [(size, price, comm) for status, size, price, comm in strategy.log if status == "Completed"]
    np.testing.assert_allclose(_executions(record), np.asarray(completed), atol=MONEY_TOLERANCE)
    # Market orders fill at the open of the bar after the signal; the fill is stamped at that session's open.
    opens = goog["open"]
    for fill in record.fills.itertuples():
        assert fill.price == opens.loc[fill.ts.normalize()]
        assert fill.commission == pytest.approx(0.001 * fill.quantity * fill.price, abs=MONEY_TOLERANCE)
    np.testing.assert_allclose(record.equity.to_numpy(), _equity_from_fills(record, goog, 100_000),
                               atol=MONEY_TOLERANCE)
    assert set(record.orders["status"]) == {"filled"}


def test_run_backtrader_matches_a_plain_backtrader_run_without_the_bridge(goog):
    record = run_backtrader(SmaCross, {"GOOG": goog}, params={"fast": 5, "slow": 20, "size": 30},
                            cash=50_000, commission_bps=5)

    plain = bt.Cerebro(stdstats=False)  # how a user runs it on a DataFrame, outside Bifrost
    frame = goog.copy()
    frame.index = frame.index.tz_localize(None)
    plain.adddata(bt.feeds.PandasData(dataname=frame))
    plain.broker.setcash(50_000)
    plain.broker.setcommission(commission=0.0005)
    plain.addstrategy(SmaCross, fast=5, slow=20, size=30)
    reference = plain.run()[0]

    assert record.final_equity == pytest.approx(plain.broker.getvalue(), abs=MONEY_TOLERANCE)
    executed = [(size, price, comm) for status, size, price, comm in reference.log if status == "Completed"]
    assert len(executed) == len(record.fills) > 20
    np.testing.assert_allclose(_executions(record), np.asarray(executed), atol=MONEY_TOLERANCE)
    assert dict(record.params) == {"fast": 5, "slow": 20, "size": 30}


def test_stop_orders_fill_where_the_bars_say_and_expiries_are_recorded(goog):
    bars = goog.loc["2006-01-01":"2009-12-31"]
    cerebro = build_cerebro(BreakoutWithStop, {"GOOG": bars}, cash=100_000, commission=0.001)
    strategy = cerebro.run()[0]
    record = backtrader_record(strategy)

    assert record.final_equity == pytest.approx(cerebro.broker.getvalue(), abs=MONEY_TOLERANCE)
    orders = record.orders.set_index("order_id")
    stops = orders[orders["order_type"] == "stop"]
    assert len(stops) == len(orders) > 10
    # Final states agree with the strategy's own notifications (last one per order ref).
    last = {}
    for ref, status, *_ in strategy.events:
        last[ref] = status
    names = {"Completed": "filled", "Expired": "expired", "Canceled": "cancelled", "Accepted": "accepted"}
    expected = {f"bt-{ref}": names[s] for ref, s in last.items()}
    assert orders["status"].to_dict() == expected
    assert "expired" in expected.values() and "filled" in expected.values()
    # A stop fills at its stop price, or at the open when the bar gaps through it.
    fills = record.fills.set_index("order_id")
    checked = 0
    for order_id, fill in fills.iterrows():
        bar = bars.loc[fill["ts"].normalize()]
        stop = orders.loc[order_id, "stop_price"]
        if fill["side"] == "buy":
            expected_price = bar["open"] if bar["open"] >= stop else stop
            assert bar["high"] >= stop
        else:
            expected_price = bar["open"] if bar["open"] <= stop else stop
            assert bar["low"] <= stop
        assert fill["price"] == pytest.approx(expected_price, abs=1e-9)
        checked += 1
    assert checked == len(record.fills) > 10


def test_margin_rejection_is_recorded_with_its_reason(daily_bars):
    cerebro = build_cerebro(AllIn, {"ACME": daily_bars}, cash=10_000)
    strategy = cerebro.run()[0]
    record = backtrader_record(strategy)

    assert strategy.statuses == ["Margin"]
    assert record.orders["status"].tolist() == ["rejected"]
    assert record.orders["reason"].iloc[0].startswith("margin")
    assert record.fills.empty
    assert (record.equity == 10_000).all()


def test_daily_feed_is_stamped_at_the_session_close_including_early_closes():
    bars = xnys_daily_bars("2024-11-25", "2024-12-06")
    record = run_backtrader(SmaCross, {"ACME": bars}, params={"fast": 2, "slow": 3})

    calendar = xcals.get_calendar("XNYS")
    expected = [calendar.session_close(day.date()) for day in bars.index.tz_localize(None)]
    assert list(record.equity.index) == expected
    # The day after Thanksgiving closes at 13:00 ET = 18:00 UTC; a normal winter day at 21:00 UTC.
    assert record.equity.index[3] == pd.Timestamp("2024-11-29 18:00", tz="UTC")
    assert record.equity.index[0] == pd.Timestamp("2024-11-25 21:00", tz="UTC")


class SeesTimes(bt.Strategy):
    def __init__(self):
        self.times = []

    def next(self):
        self.times.append(self.data.datetime.datetime(0))


def test_intraday_feed_stamps_bar_ends_and_strategy_sees_exchange_time(minute_bars):
    cerebro = build_cerebro(SeesTimes, {"ACME": minute_bars}, timeframe="1m")
    strategy = cerebro.run()[0]
    record = backtrader_record(strategy, timeframe="1m")

    assert len(record.equity) == len(minute_bars) == 210  # 09:30-13:00 ET early close
    assert list(record.equity.index) == list(minute_bars.index + pd.Timedelta(minutes=1))
    assert strategy.times[0] == pd.Timestamp("2024-11-29 09:31").to_pydatetime()  # ET, bar 09:30-09:31
    assert strategy.times[-1] == pd.Timestamp("2024-11-29 13:00").to_pydatetime()
    assert record.timeframe == "1m"


def test_feed_resamples_minutes_to_the_daily_session_in_backtrader(minute_bars):
    class Resampled(bt.Strategy):
        def __init__(self):
            self.daily = []

        def stop(self):
            self.daily.append((self.datas[1].open[0], self.datas[1].high[0], self.datas[1].low[0],
                               self.datas[1].close[0]))

    cerebro = bt.Cerebro(stdstats=False)
    feed = backtrader_feed(minute_bars, symbol="ACME", timeframe="1m")
    cerebro.adddata(feed)
    cerebro.resampledata(feed, timeframe=bt.TimeFrame.Days, compression=1)
    cerebro.addstrategy(Resampled)
    strategy = cerebro.run()[0]
    assert strategy.daily == [pytest.approx((minute_bars["open"].iloc[0], minute_bars["high"].max(),
                                             minute_bars["low"].min(), minute_bars["close"].iloc[-1]))]


def test_bad_inputs_are_rejected_with_a_message_naming_the_problem(daily_bars):
    with pytest.raises(InvalidInput, match="backtrader.Strategy subclass"):
        run_backtrader(object, {"ACME": daily_bars})
    with pytest.raises(InvalidInput, match=r"unknown parameters \['fats'\]"):
        run_backtrader(SmaCross, {"ACME": daily_bars}, params={"fats": 3})
    with pytest.raises(InvalidInput, match="commission"):
        run_backtrader(SmaCross, {"ACME": daily_bars}, commission=-0.01)
    naive = daily_bars.copy()
    naive.index = naive.index.tz_localize(None)
    with pytest.raises(InvalidInput, match="timezone-aware"):
        run_backtrader(SmaCross, {"ACME": naive})
    weekend = daily_bars.copy()
    weekend.index = weekend.index.where(weekend.index != weekend.index[3], pd.Timestamp("2024-01-06", tz="UTC"))
    with pytest.raises(InvalidInput, match="2024-01-06.*not a XNYS session"):
        run_backtrader(SmaCross, {"ACME": weekend})
    with pytest.raises(InvalidInput, match=r"lack columns \['volume'\]"):
        run_backtrader(SmaCross, {"ACME": daily_bars.drop(columns="volume")})


def test_record_feeds_bifrost_returns_and_trades(goog):
    record = run_backtrader(SmaCross, {"GOOG": goog}, commission=0.001)
    returns = record.returns()
    wealth = 100_000 * float(np.prod(1 + returns.to_numpy()))
    assert wealth == pytest.approx(record.final_equity, rel=1e-12)
    assert record.fees_paid() == pytest.approx(float((0.001 * record.fills["quantity"] * record.fills["price"]).sum()))
    assert record.prices["GOOG"].iloc[-1] == goog["close"].iloc[-1]
