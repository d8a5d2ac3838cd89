"""Example strategies, written once for backtest, paper and live (see docs/strategies.md).

Each is registered by name for the CLI, the API and parameter sweeps:

========================  ==============================================================
``sma_crossover``         long-only SMA fast/slow crossover, fixed shares
``bollinger_reversion``   buy a close below the lower band, sell at the middle band
``macd_trend``            long while MACD is above its signal line, percent-of-equity size
``rsi_atr_reversal``      buy oversold RSI with an ATR stop loss and take profit (bracket)
``mtf_trend_pullback``    daily SMA trend filter, hourly RSI pullback entries
``momentum_rotation``     monthly rebalance into the top-N symbols by 12-1 month momentum
========================  ==============================================================
"""

from __future__ import annotations

import math
from decimal import Decimal

from bifrost.backtest.strategy import Strategy, register_strategy
from bifrost.core.errors import InvalidInput
from bifrost.orders.sizing import percent_of_equity_shares, volatility_shares

__all__ = ["BollingerReversion", "MacdTrend", "MomentumRotation", "MultiTimeframeTrendPullback", "RsiAtrReversal",
           "SmaCrossover"]


def _d(value: float, places: int = 6) -> Decimal:
    """A float from the run (equity, a price, an ATR) as the Decimal the sizing helpers take."""
    return Decimal(repr(round(float(value), places)))


def _positive(owner: str, **values: float) -> None:
    for name, value in values.items():
        if not value > 0:
            raise InvalidInput(f"{owner} parameter {name} must be positive, was {value}")


@register_strategy("sma_crossover")
class SmaCrossover(Strategy):
    """Buy ``quantity`` shares when SMA(fast) crosses above SMA(slow); sell all when it crosses below.

    A cross is the fast average moving from at-or-below the slow one on the previous bar
    to strictly above it on this bar (and the mirror for the exit), as Backtrader's
    ``CrossOver`` and backtesting.py's ``crossover`` define it.
    """

    params = {"fast": 10, "slow": 30, "quantity": 100}

    def validate(self) -> None:
        _positive("sma_crossover", fast=self.p.fast, slow=self.p.slow, quantity=self.p.quantity)
        if self.p.fast >= self.p.slow:
            raise InvalidInput(f"sma_crossover: fast period must be below slow period, were {self.p.fast} and "
                               f"{self.p.slow}")

    def on_start(self, ctx) -> None:
        self.symbol = ctx.symbols[0]
        fast = ctx.indicator("sma", period=self.p.fast)
        slow = ctx.indicator("sma", period=self.p.slow)
        # signal events: the engine calls on_cross only on bars where the averages cross
        ctx.on_signal(ctx.crossover(fast, slow), self.on_cross)

    def on_cross(self, ctx, bar, direction: float) -> None:
        held = ctx.position(self.symbol)
        if direction > 0 and held == 0:
            ctx.buy(self.symbol, self.p.quantity)
        elif direction < 0 and held > 0:
            ctx.sell(self.symbol, held)


@register_strategy("bollinger_reversion")
class BollingerReversion(Strategy):
    """Mean reversion on Bollinger Bands: buy when the close falls below the lower band,
    sell when it reaches the middle band. Size: ``equity_pct`` percent of equity."""

    params = {"period": 20, "multiplier": 2.0, "equity_pct": 95.0}

    def validate(self) -> None:
        _positive("bollinger_reversion", period=self.p.period, multiplier=self.p.multiplier,
                  equity_pct=self.p.equity_pct)

    def on_start(self, ctx) -> None:
        self.lower = ctx.indicator("bbands", period=self.p.period, multiplier=self.p.multiplier, output="lower")
        self.middle = ctx.indicator("bbands", period=self.p.period, multiplier=self.p.multiplier, output="middle")

    def on_bar(self, ctx, bar) -> None:
        held = ctx.position(bar.symbol)
        close = bar.close
        if held == 0 and close < self.lower[0] and not ctx.open_orders(bar.symbol):
            shares = int(percent_of_equity_shares(_d(ctx.equity, 2), _d(self.p.equity_pct), _d(close)))
            if shares:
                ctx.buy(bar.symbol, shares)
        elif held > 0 and close >= self.middle[0]:
            ctx.sell(bar.symbol, held)


@register_strategy("macd_trend")
class MacdTrend(Strategy):
    """Trend following on MACD: long while the MACD line is above its signal line."""

    params = {"fast": 12, "slow": 26, "signal": 9, "equity_pct": 95.0}

    def validate(self) -> None:
        _positive("macd_trend", fast=self.p.fast, slow=self.p.slow, signal=self.p.signal,
                  equity_pct=self.p.equity_pct)
        if self.p.fast >= self.p.slow:
            raise InvalidInput("macd_trend: fast period must be below slow period")

    def on_start(self, ctx) -> None:
        kwargs = {"fast_period": self.p.fast, "slow_period": self.p.slow, "signal_period": self.p.signal}
        self.hist = ctx.indicator("macd", output="histogram", **kwargs)

    def on_bar(self, ctx, bar) -> None:
        h0, h1 = self.hist[0], self.hist[-1]
        held = ctx.position(bar.symbol)
        if h1 <= 0 < h0 and held == 0:
            shares = int(percent_of_equity_shares(_d(ctx.equity, 2), _d(self.p.equity_pct), _d(bar.close)))
            if shares:
                ctx.buy(bar.symbol, shares)
        elif h1 >= 0 > h0 and held > 0:
            ctx.sell(bar.symbol, held)


@register_strategy("rsi_atr_reversal")
class RsiAtrReversal(Strategy):
    """Buy when RSI closes below ``oversold``, with a bracket: stop loss ``stop_atr`` ATRs
    below the close and take profit ``target_atr`` ATRs above. Size risks ``risk_pct``
    percent of equity over the stop distance (volatility sizing)."""

    params = {"rsi_period": 14, "oversold": 30.0, "atr_period": 14, "stop_atr": 2.0, "target_atr": 3.0,
              "risk_pct": 1.0}

    def validate(self) -> None:
        _positive("rsi_atr_reversal", rsi_period=self.p.rsi_period, atr_period=self.p.atr_period,
                  stop_atr=self.p.stop_atr, target_atr=self.p.target_atr, risk_pct=self.p.risk_pct)
        if not 0 < self.p.oversold < 100:
            raise InvalidInput("rsi_atr_reversal: oversold must be between 0 and 100")

    def on_start(self, ctx) -> None:
        self.rsi = ctx.indicator("rsi", period=self.p.rsi_period)
        self.atr = ctx.indicator("atr", period=self.p.atr_period)

    def on_bar(self, ctx, bar) -> None:
        if ctx.position(bar.symbol) != 0 or ctx.open_orders(bar.symbol):
            return
        rsi, atr = self.rsi[0], self.atr[0]
        if not (rsi < self.p.oversold and atr > 0):
            return
        shares = int(volatility_shares(_d(ctx.equity, 2), _d(atr), risk_fraction=_d(self.p.risk_pct / 100),
                                       atr_multiple=_d(self.p.stop_atr)))
        shares = min(shares, int(ctx.cash * 0.95 // bar.close))
        if shares > 0:
            close = bar.close
            ctx.bracket(bar.symbol, shares, stop_loss=round(close - self.p.stop_atr * atr, 2),
                        take_profit=round(close + self.p.target_atr * atr, 2))


@register_strategy("mtf_trend_pullback")
class MultiTimeframeTrendPullback(Strategy):
    """Multi-timeframe: trade intraday bars only in the direction of the daily trend.

    The daily trend is up while the last *closed* daily bar is above its SMA(``trend_period``);
    an intraday RSI(``rsi_period``) below ``entry_rsi`` is a pullback to buy; the position is
    sold when the intraday RSI rises above ``exit_rsi`` or the daily trend turns down.
    """

    params = {"trend_period": 20, "rsi_period": 14, "entry_rsi": 35.0, "exit_rsi": 60.0, "equity_pct": 95.0}

    def validate(self) -> None:
        _positive("mtf_trend_pullback", trend_period=self.p.trend_period, rsi_period=self.p.rsi_period,
                  equity_pct=self.p.equity_pct)

    def on_start(self, ctx) -> None:
        self.symbol = ctx.symbols[0]
        self.daily = ctx.subscribe(self.symbol, "1d")
        self.trend = ctx.indicator("sma", symbol=self.symbol, timeframe="1d", period=self.p.trend_period)
        self.rsi = ctx.indicator("rsi", symbol=self.symbol, period=self.p.rsi_period)

    def uptrend(self) -> bool:
        daily = self.daily
        if daily.i < 0:
            return False
        trend = self.trend[0]
        return trend == trend and daily.close[daily.i] > trend

    def on_bar(self, ctx, bar) -> None:
        if bar.timeframe.value == "1d":
            return
        held = ctx.position(self.symbol)
        rsi = self.rsi[0]
        if held == 0:
            if self.uptrend() and rsi < self.p.entry_rsi and not ctx.open_orders(self.symbol):
                shares = int(percent_of_equity_shares(_d(ctx.equity, 2), _d(self.p.equity_pct), _d(bar.close)))
                if shares:
                    ctx.buy(self.symbol, shares)
        elif rsi > self.p.exit_rsi or not self.uptrend():
            ctx.sell(self.symbol, held)


@register_strategy("momentum_rotation")
class MomentumRotation(Strategy):
    """Cross-sectional momentum with a monthly rebalance.

    At each month end, rank symbols by their return from ``lookback`` bars ago to ``skip``
    bars ago (12-1 month momentum by default, skipping the last month's reversal), and
    hold the top ``top_n`` with positive momentum in equal weights; the rest is cash.
    """

    params = {"lookback": 252, "skip": 21, "top_n": 10, "cash_buffer": 0.01}

    def validate(self) -> None:
        _positive("momentum_rotation", lookback=self.p.lookback, top_n=self.p.top_n)
        if not 0 <= self.p.skip < self.p.lookback:
            raise InvalidInput("momentum_rotation: skip must be at least 0 and below lookback")

    def on_start(self, ctx) -> None:
        self.series = [ctx.data(symbol) for symbol in ctx.symbols]
        ctx.schedule("rebalance", "month_end")

    def on_timer(self, ctx, name: str) -> None:
        lookback, skip = self.p.lookback, self.p.skip
        scores = []
        for series in self.series:
            i = series.i
            if i - lookback < 0:
                continue
            past, recent = series.close[i - lookback], series.close[i - skip]
            score = recent / past - 1.0
            if math.isfinite(score) and score > 0:
                scores.append((score, series.symbol))
        scores.sort(key=lambda item: (-item[0], item[1]))
        chosen = [symbol for _, symbol in scores[: self.p.top_n]]
        weight = 1.0 / self.p.top_n
        ctx.rebalance({symbol: weight for symbol in chosen}, cash_buffer=self.p.cash_buffer)

