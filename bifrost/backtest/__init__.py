"""Backtesting: strategies, the event-driven engine, the vectorised fast path and results.

``run(strategy, data, ...)`` backtests a :class:`Strategy` (or a registered strategy name,
see :data:`STRATEGIES`) and returns a :class:`BacktestRecord`.
"""

from bifrost.backtest import examples as _examples  # noqa: F401  (registers the example strategies)
from bifrost.backtest.context import Context, Indicator, LookAheadError
from bifrost.backtest.events import EventEngine, run
from bifrost.backtest.examples import (
    BollingerReversion,
    MacdTrend,
    MomentumRotation,
    MultiTimeframeTrendPullback,
    RsiAtrReversal,
    SmaCrossover,
)
from bifrost.backtest.live import LiveRunner, LiveSession
from bifrost.backtest.optimize import (
    BacktestObjective,
    Choice,
    FloatRange,
    IntRange,
    LogUniform,
    SweepResult,
    optimize,
    parameter_space,
)
from bifrost.backtest.results import FILL_COLUMNS, ORDER_COLUMNS, BacktestRecord, round_trips
from bifrost.backtest.strategy import STRATEGIES, Strategy, register_strategy, strategy_class
from bifrost.backtest.walkforward import WalkForwardResult, walk_forward

__all__ = [
    "BacktestObjective",
    "Choice",
    "FloatRange",
    "IntRange",
    "LogUniform",
    "SweepResult",
    "WalkForwardResult",
    "optimize",
    "parameter_space",
    "walk_forward",
    "FILL_COLUMNS",
    "ORDER_COLUMNS",
    "STRATEGIES",
    "BacktestRecord",
    "BollingerReversion",
    "Context",
    "EventEngine",
    "Indicator",
    "LiveRunner",
    "LiveSession",
    "LookAheadError",
    "MacdTrend",
    "MomentumRotation",
    "MultiTimeframeTrendPullback",
    "RsiAtrReversal",
    "SmaCrossover",
    "Strategy",
    "register_strategy",
    "round_trips",
    "run",
    "strategy_class",
]
