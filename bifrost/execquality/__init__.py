"""Execution quality: transaction cost analysis, market impact, execution algorithms and smart routing.

The public API works on plain pandas frames of fills, orders, quotes and bars (see
:mod:`bifrost.execquality.frames`), so it runs on paper-broker, live-broker and backtest
fills alike, without a database::

    from bifrost.execquality import prepare, slippage_per_order, implementation_shortfall, tca_report

    inputs = prepare(fills, orders, quotes=quotes, bars=bars)
    per_order = slippage_per_order(inputs)          # slippage vs arrival, VWAP, TWAP, open, close...
    shortfall = implementation_shortfall(inputs)     # Perold decomposition in $ and bps
    report = tca_report(inputs)                      # everything, with HTML/PDF rendering

Every cost is positive when it costs us (see :mod:`bifrost.execquality.tca`).
"""

from bifrost.execquality.algos import (
    AlgoRunner,
    AlgoState,
    ExecutionAlgo,
    IcebergAlgo,
    ImplementationShortfallAlgo,
    ParentOrder,
    PegAlgo,
    POVAlgo,
    TWAPAlgo,
    VWAPAlgo,
    make_algo,
    run_on_bars,
)
from bifrost.execquality.almgren_chriss import (
    AlmgrenChrissParams,
    Schedule,
    efficient_frontier,
    optimal_trajectory,
)
from bifrost.execquality.bestex import best_execution, rule605_summary, rule606_summary
from bifrost.execquality.fillquality import fill_quality, markout_curve, markouts
from bifrost.execquality.frames import (
    fills_from_records,
    normalize_bars,
    normalize_fills,
    normalize_orders,
    normalize_quotes,
)
from bifrost.execquality.impact import (
    ImpactCalibration,
    ImpactModel,
    calibrate_impact,
    daily_statistics,
    impact_observations,
    square_root_impact,
)
from bifrost.execquality.report import TCAReport, tca_report
from bifrost.execquality.routing import (
    RoutePlan,
    VenueProfile,
    VenueQuote,
    demo_venues,
    route_order,
    simulate_route,
)
from bifrost.execquality.selection import OrderProfile, Recommendation, recommend
from bifrost.execquality.simulation import SimulatedMarket, compare_strategies
from bifrost.execquality.tca import (
    BENCHMARKS,
    TCAInputs,
    explicit_costs,
    implementation_shortfall,
    prepare,
    slippage_per_fill,
    slippage_per_order,
)
from bifrost.execquality.volume_curve import VolumeCurve

__all__ = [
    "BENCHMARKS",
    "AlgoRunner",
    "AlgoState",
    "AlmgrenChrissParams",
    "ExecutionAlgo",
    "IcebergAlgo",
    "ImpactCalibration",
    "ImpactModel",
    "ImplementationShortfallAlgo",
    "OrderProfile",
    "POVAlgo",
    "ParentOrder",
    "PegAlgo",
    "Recommendation",
    "RoutePlan",
    "Schedule",
    "SimulatedMarket",
    "TCAInputs",
    "TCAReport",
    "TWAPAlgo",
    "VWAPAlgo",
    "VenueProfile",
    "VenueQuote",
    "VolumeCurve",
    "best_execution",
    "calibrate_impact",
    "compare_strategies",
    "daily_statistics",
    "demo_venues",
    "efficient_frontier",
    "explicit_costs",
    "fill_quality",
    "fills_from_records",
    "impact_observations",
    "implementation_shortfall",
    "make_algo",
    "markout_curve",
    "markouts",
    "normalize_bars",
    "normalize_fills",
    "normalize_orders",
    "normalize_quotes",
    "optimal_trajectory",
    "prepare",
    "recommend",
    "route_order",
    "rule605_summary",
    "rule606_summary",
    "run_on_bars",
    "simulate_route",
    "slippage_per_fill",
    "slippage_per_order",
    "square_root_impact",
    "tca_report",
]
