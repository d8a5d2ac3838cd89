"""Technical indicators in two forms that agree bit for bit.

* Vectorised functions (:mod:`~bifrost.indicators.vectorised`) take whole float64
  arrays (or pandas Series) and return ``ndarray`` outputs with NaN during warm-up
  exactly where TA-Lib puts NaN.
* Streaming classes (:mod:`~bifrost.indicators.streaming`) take one bar per
  ``update`` in O(1) for live trading.
* A registry (:mod:`~bifrost.indicators.registry`) maps names to both forms, takes
  user indicators and checks that the two forms of an indicator agree.

Both forms match TA-Lib 0.8 after warm-up to within rounding (at most 1.4e-10 on
prices up to $700, tested to 1e-9), skip leading NaN as TA-Lib does, and reject a NaN
after the first complete bar (see :mod:`~bifrost.indicators.vectorised`).
"""

from bifrost.indicators.errors import DuplicateIndicator, UnknownIndicator
from bifrost.indicators.registry import (
    ConsistencyReport,
    IndicatorRegistry,
    IndicatorSpec,
    check_consistency,
    get_indicator,
    list_indicators,
    register_indicator,
    unregister_indicator,
)
from bifrost.indicators.streaming import (
    MACD,
    AverageDirectionalIndex,
    AverageTrueRange,
    BollingerBands,
    DonchianChannels,
    ExponentialMovingAverage,
    KeltnerChannels,
    OnBalanceVolume,
    RelativeStrengthIndex,
    RollingZScore,
    SimpleMovingAverage,
    Stochastic,
    VolumeWeightedAveragePrice,
    WeightedMovingAverage,
)
from bifrost.indicators.vectorised import (
    ADXResult,
    Bands,
    MACDResult,
    StochasticResult,
    adx,
    atr,
    bollinger_bands,
    donchian_channels,
    ema,
    keltner_channels,
    macd,
    obv,
    rolling_zscore,
    rsi,
    sma,
    stochastic,
    vwap,
    wma,
)

__all__ = [
    # vectorised
    "ADXResult", "Bands", "MACDResult", "StochasticResult", "adx", "atr", "bollinger_bands",
    "donchian_channels", "ema", "keltner_channels", "macd", "obv", "rolling_zscore", "rsi", "sma",
    "stochastic", "vwap", "wma",
    # streaming
    "MACD", "AverageDirectionalIndex", "AverageTrueRange", "BollingerBands", "DonchianChannels",
    "ExponentialMovingAverage", "KeltnerChannels", "OnBalanceVolume", "RelativeStrengthIndex",
    "RollingZScore", "SimpleMovingAverage", "Stochastic", "VolumeWeightedAveragePrice",
    "WeightedMovingAverage",
    # registry
    "ConsistencyReport", "DuplicateIndicator", "IndicatorRegistry", "IndicatorSpec", "UnknownIndicator",
    "check_consistency", "get_indicator", "list_indicators", "register_indicator", "unregister_indicator",
]
