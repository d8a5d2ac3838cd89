"""The trading core that backtest, paper and live trading share."""

from bifrost.trading.engine import EngineListener, MarketView, SubmitResult, TradingEngine, Venue

__all__ = ["EngineListener", "MarketView", "SubmitResult", "TradingEngine", "Venue"]
