"""Execution: fee and slippage models and the paper exchange shared by backtests and paper trading."""

from bifrost.execution.fees import (
    FINRA_TAF_SCHEDULE,
    SEC_SECTION_31_SCHEDULE,
    BasisPointsFeeModel,
    CompositeFeeModel,
    DatedRate,
    FeeBreakdown,
    FeeModel,
    FillRecorder,
    MakerTakerFeeModel,
    PerShareFeeModel,
    RegulatoryFees,
    TieredFeeModel,
    ZeroFeeModel,
)
from bifrost.execution.simulator import (
    FillConvention,
    OrderNotWorking,
    PaperExchange,
    WorkingOrderView,
)
from bifrost.execution.slippage import (
    FixedBpsSlippage,
    NoSlippage,
    SlippageModel,
    SpreadSlippage,
    SquareRootImpactSlippage,
)

__all__ = [
    "FINRA_TAF_SCHEDULE",
    "SEC_SECTION_31_SCHEDULE",
    "BasisPointsFeeModel",
    "CompositeFeeModel",
    "DatedRate",
    "FeeBreakdown",
    "FeeModel",
    "FillConvention",
    "FillRecorder",
    "FixedBpsSlippage",
    "MakerTakerFeeModel",
    "NoSlippage",
    "OrderNotWorking",
    "PaperExchange",
    "PerShareFeeModel",
    "RegulatoryFees",
    "SlippageModel",
    "SpreadSlippage",
    "SquareRootImpactSlippage",
    "TieredFeeModel",
    "WorkingOrderView",
    "ZeroFeeModel",
]
