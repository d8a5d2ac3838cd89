"""The interface every market-data provider implements."""

from __future__ import annotations

from abc import abstractmethod
from datetime import datetime
from typing import Protocol, runtime_checkable

from bifrost.marketdata.types import CompanySnapshot, History, InstrumentInfo, Timeframe


@runtime_checkable
class MarketDataProvider(Protocol):
    """A source of bars, corporate actions, instrument data and company snapshots.

    Implementations raise ``UnknownSymbol`` for a symbol the source does not know,
    ``NoDataInRange`` for a known symbol with nothing in range, ``RateLimited`` /
    ``TransientProviderError`` for failures worth retrying, and ``ProviderError``
    otherwise.
    """

    name: str

    @abstractmethod
    def history(self, symbol: str, *, timeframe: Timeframe, start: datetime, end: datetime) -> History:
        """Bars in ``[start, end)`` and the corporate actions with ex-dates in that range."""
        ...

    @abstractmethod
    def instrument(self, symbol: str) -> InstrumentInfo:
        """Static description of ``symbol``."""
        ...

    @abstractmethod
    def company_snapshot(self, symbol: str) -> CompanySnapshot:
        """Today's fundamentals and governance scores of ``symbol``."""
        ...
