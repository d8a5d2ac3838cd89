"""Backtesting on the trading core (same orders, fills, fees and ledger as paper and live)."""

from bifrost.backtest.engine import BacktestResult, run_backtest
from bifrost.backtest.strategies import SmaCrossover

__all__ = ["BacktestResult", "SmaCrossover", "run_backtest"]
