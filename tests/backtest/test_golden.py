"""Golden run: Bifrost, Backtrader and backtesting.py agree on the SMA(10)/SMA(30) crossover.

Data: GOOG daily OHLCV, unadjusted, 2004-08-19 .. 2013-03-01 (2,148 sessions), from
``shared/data/equities/quandl_wiki_5stocks_2000_2013.csv`` (Quandl WIKI via bokeh-sampledata,
public domain; see shared/data/SOURCES.md).

Rule, identical in the three engines: long only; when SMA(10) of the close crosses above
SMA(30) and no position is held, buy 100 shares; when it crosses below while long, sell
them. A signal on a bar's close fills at the next bar's open; commission 0.1% of the traded
value on every fill; 100,000 USD starting cash; an order sent on the last bar never fills,
and an open position at the end is marked at the last close (not a closed trade).

Tolerances: trade count, entry and exit dates and fill prices must match exactly. Final
equity within half a cent per fill: Bifrost books each commission rounded to the cent
(banker's rounding, as a broker statement does) while Backtrader and backtesting.py keep
the unrounded float, so each fill may differ by at most 0.005 USD.
"""

from __future__ import annotations

from pathlib import Path

import backtrader as bt
import pandas as pd
import pytest
from backtesting import Backtest
from backtesting import Strategy as BacktestingStrategy
from backtesting.lib import crossover

from bifrost.marketdata.types import make_bars

CASH = 100_000.0
COMMISSION = 0.001
QUANTITY = 100
HALF_CENT = 0.005


@pytest.fixture(scope="module")
def goog(shared_data: Path) -> pd.DataFrame:
    raw = pd.read_csv(shared_data / "equities" / "quandl_wiki_5stocks_2000_2013.csv", parse_dates=["Date"])
    rows = raw[raw["Ticker"] == "GOOG"].sort_values("Date")
    return make_bars(rows["Date"].dt.tz_localize("UTC"), rows["Open"], rows["High"], rows["Low"], rows["Close"],
                     rows["Volume"])


def _pairs(sides: list[str], dates: list, prices: list[float]) -> list[tuple]:
    """(entry date, exit date, entry price, exit price) from alternating buy/sell fills."""
    assert sides[0::2] == ["buy"] * len(sides[0::2]) and sides[1::2] == ["sell"] * len(sides[1::2])
    return [(dates[i], dates[i + 1], prices[i], prices[i + 1]) for i in range(0, len(sides) - 1, 2)]


def _bifrost(goog: pd.DataFrame) -> tuple[list[tuple], float, int]:
    """Closed trades, final equity and number of fills from the Bifrost engine."""
    from bifrost.backtest import run

    record = run("sma_crossover", {"GOOG": goog}, params={"fast": 10, "slow": 30, "quantity": QUANTITY},
                 commission_bps=10, cash=CASH)
    fills = record.fills.sort_values("ts", kind="stable")
    sides, prices = fills["side"].tolist(), fills["price"].astype(float).tolist()
    dates = [ts.date() for ts in fills["ts"]]
    assert (fills["quantity"].astype(float) == QUANTITY).all()
    return _pairs(sides, dates, prices), record.final_equity, len(fills)


class BacktraderSmaCross(bt.Strategy):
    """The rule as a Backtrader user writes it."""

    params = (("fast", 10), ("slow", 30), ("size", QUANTITY))

    def __init__(self):
        self.crossover = bt.indicators.CrossOver(bt.indicators.SMA(self.data.close, period=self.p.fast),
                                                 bt.indicators.SMA(self.data.close, period=self.p.slow))
        self.closed = []  # (open date, close date) of each closed trade
        self.executions = []  # (side, date, price) of each completed order

    def notify_order(self, order):
        if order.status == order.Completed:
            self.executions.append(("buy" if order.isbuy() else "sell", bt.num2date(order.executed.dt).date(),
                                    order.executed.price))

    def notify_trade(self, trade):
        if trade.isclosed:
            self.closed.append((trade.open_datetime().date(), trade.close_datetime().date()))

    def next(self):
        if not self.position and self.crossover > 0:
            self.buy(size=self.p.size)
        elif self.position and self.crossover < 0:
            self.close()


def _backtrader(goog: pd.DataFrame) -> tuple[list[tuple], float, int, int, float]:
    """Closed trades, final broker value, TradeAnalyzer's closed count, number of fills, open entry price."""
    frame = goog.copy()
    frame.index = frame.index.tz_localize(None)  # session dates
    cerebro = bt.Cerebro(stdstats=False)
    cerebro.adddata(bt.feeds.PandasData(dataname=frame))
    cerebro.broker.setcash(CASH)
    cerebro.broker.setcommission(commission=COMMISSION)
    cerebro.addstrategy(BacktraderSmaCross)
    cerebro.addanalyzer(bt.analyzers.TradeAnalyzer, _name="trades")
    strategy = cerebro.run()[0]
    analysis = strategy.analyzers.trades.get_analysis()
    sides, dates, prices = (list(column) for column in zip(*strategy.executions, strict=True))
    trades = _pairs(sides, dates, prices)
    assert [t[:2] for t in trades] == strategy.closed  # Backtrader's own trade records say the same
    assert analysis.total.open == 1 and sides[-1] == "buy"
    return trades, cerebro.broker.getvalue(), analysis.total.closed, len(strategy.executions), prices[-1]


def _sma(values, period):
    return pd.Series(values).rolling(period).mean()


class BacktestingSmaCross(BacktestingStrategy):
    """The rule as a backtesting.py user writes it."""

    fast = 10
    slow = 30

    def init(self):
        self.sma_fast = self.I(_sma, self.data.Close, self.fast)
        self.sma_slow = self.I(_sma, self.data.Close, self.slow)

    def next(self):
        if not self.position and crossover(self.sma_fast, self.sma_slow):
            self.buy(size=QUANTITY)
        elif self.position and crossover(self.sma_slow, self.sma_fast):
            self.position.close()


def _backtesting(goog: pd.DataFrame) -> tuple[list[tuple], float, int]:
    """Closed trades, final equity and ``# Trades`` (open trades are not counted)."""
    frame = goog.rename(columns=str.capitalize)
    frame.index = frame.index.tz_localize(None)
    engine = Backtest(frame, BacktestingSmaCross, cash=CASH, commission=COMMISSION, trade_on_close=False,
                      finalize_trades=False)
    with pytest.warns(UserWarning, match="Some trades remain open"):
        stats = engine.run()
    closed = stats["_trades"]
    trades = [(row.EntryTime.date(), row.ExitTime.date(), float(row.EntryPrice), float(row.ExitPrice))
              for row in closed.itertuples()]
    return trades, float(stats["Equity Final [$]"]), int(stats["# Trades"])


@pytest.fixture(scope="module")
def runs(goog):
    return {"bifrost": _bifrost(goog), "backtrader": _backtrader(goog), "backtesting": _backtesting(goog)}


def test_golden_sma_crossover_trade_counts_match_exactly(runs):
    bifrost_trades, _, bifrost_fills = runs["bifrost"]
    backtrader_trades, _, analyzer_closed, backtrader_fills, _ = runs["backtrader"]
    backtesting_trades, _, backtesting_count = runs["backtesting"]

    assert len(bifrost_trades) == len(backtrader_trades) == analyzer_closed == len(backtesting_trades) \
        == backtesting_count
    assert bifrost_fills == backtrader_fills  # including the entry still open at the end
    # Expected statistics of this golden run (the peers' values with Backtrader 1.9.78 and backtesting.py 0.6.6).
    assert len(bifrost_trades) == 32 and bifrost_fills == 65


def test_golden_sma_crossover_entry_and_exit_dates_and_prices_match(runs):
    bifrost_trades = runs["bifrost"][0]
    assert bifrost_trades == runs["backtrader"][0]
    assert bifrost_trades == runs["backtesting"][0]
    assert bifrost_trades[0][:2] == (pd.Timestamp("2004-12-21").date(), pd.Timestamp("2005-01-31").date())


def test_golden_sma_crossover_final_equity_within_half_a_cent_per_fill(runs, goog):
    bifrost_trades, bifrost_equity, fills = runs["bifrost"]
    backtrader_equity = runs["backtrader"][1]
    backtesting_equity = runs["backtesting"][1]
    tolerance = HALF_CENT * fills

    assert backtrader_equity == pytest.approx(backtesting_equity, abs=1e-6)  # both unrounded floats
    assert bifrost_equity == pytest.approx(backtrader_equity, abs=tolerance)
    assert bifrost_equity == pytest.approx(backtesting_equity, abs=tolerance)
    # Arithmetic from the bars alone: every fill is at its session's open; cash + closed P&L - commissions,
    # plus the entry still open (the 65th fill) marked at the last close.
    opens = goog["open"].set_axis(goog.index.date)
    cash = CASH
    for entry, exit_, entry_price, exit_price in bifrost_trades:
        assert (entry_price, exit_price) == (opens[entry], opens[exit_])
        cash += QUANTITY * (exit_price * (1 - COMMISSION) - entry_price * (1 + COMMISSION))
    open_entry = runs["backtrader"][4]
    cash -= QUANTITY * open_entry * (1 + COMMISSION)
    expected = cash + QUANTITY * goog["close"].iloc[-1]
    assert backtrader_equity == pytest.approx(expected, abs=1e-6)
    assert bifrost_equity == pytest.approx(expected, abs=tolerance)
    assert expected == pytest.approx(174_289.814, abs=1e-3)  # the golden figure
