"""The trading core that backtest, paper and live trading share."""

from bifrost.trading.engine import EngineListener, MarketView, SubmitResult, TradingEngine, Venue
from bifrost.trading.runner import BarEvent, BarSource, Runner, Strategy, StrategyContext

__all__ = ["BarEvent", "BarSource", "EngineListener", "MarketView", "Runner", "Strategy", "StrategyContext",
           "SubmitResult", "TradingEngine", "Venue"]
