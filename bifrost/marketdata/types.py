"""Market-data value types and the bar-frame convention.

Bars travel as a pandas DataFrame ("bar frame"): a ``DatetimeIndex`` named ``ts``
in UTC, strictly increasing, and float64 columns ``open, high, low, close, volume``.
An intraday bar is labelled by the instant it opens; a daily bar by its session
date at midnight UTC. Prices are analytics values (float64); money in the ledger
is Decimal and lives elsewhere.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum
from typing import Any

import numpy as np
import pandas as pd

from bifrost.core.errors import InvalidInput

BAR_COLUMNS: tuple[str, ...] = ("open", "high", "low", "close", "volume")
PRICE_COLUMNS: tuple[str, ...] = ("open", "high", "low", "close")

_SYMBOL_RE = re.compile(r"^[A-Z0-9^][A-Z0-9.\-=^_/]{0,31}$")


def normalize_symbol(symbol: str) -> str:
    """Upper-case and validate a ticker symbol (``AAPL``, ``BRK-B``, ``^GSPC``, ``EURUSD=X``).

    Raises
    ------
    InvalidInput
        If the symbol is empty, too long, or has characters a ticker never has.
    """
    if not isinstance(symbol, str):
        raise InvalidInput(f"symbol must be a string, was {type(symbol).__name__}")
    cleaned = symbol.strip().upper()
    if not _SYMBOL_RE.match(cleaned):
        raise InvalidInput(
            f"symbol must be 1-32 characters of A-Z, 0-9 and . - = ^ _ /, was {symbol!r}"
        )
    return cleaned


class Timeframe(StrEnum):
    """Bar sizes the platform stores and resamples between."""

    M1 = "1m"
    M5 = "5m"
    M15 = "15m"
    H1 = "1h"
    D1 = "1d"

    @classmethod
    def parse(cls, value: str | Timeframe) -> Timeframe:
        """Return the timeframe named ``value``; raise ``InvalidInput`` naming the allowed ones."""
        if isinstance(value, Timeframe):
            return value
        try:
            return cls(str(value).strip().lower())
        except ValueError:
            allowed = ", ".join(t.value for t in cls)
            raise InvalidInput(f"timeframe must be one of {allowed}, was {value!r}") from None

    @property
    def minutes(self) -> int:
        """Length in minutes (a daily bar counts as one full session, 390 minutes nominal)."""
        return {"1m": 1, "5m": 5, "15m": 15, "1h": 60, "1d": 390}[self.value]

    @property
    def is_intraday(self) -> bool:
        return self is not Timeframe.D1

    @property
    def nanos(self) -> int:
        """Length of an intraday bar in nanoseconds (``minutes`` for the daily nominal)."""
        return self.minutes * 60 * 1_000_000_000

    def __lt__(self, other: object) -> bool:  # finer < coarser
        if not isinstance(other, Timeframe):
            return NotImplemented
        return self.minutes < other.minutes


class AssetClass(StrEnum):
    EQUITY = "equity"
    ETF = "etf"
    INDEX = "index"
    FUND = "fund"
    FX = "fx"
    CRYPTO = "crypto"
    OTHER = "other"


class ActionKind(StrEnum):
    SPLIT = "split"
    DIVIDEND = "dividend"
    CAPITAL_GAIN = "capital_gain"


@dataclass(frozen=True, slots=True, kw_only=True)
class InstrumentInfo:
    """What we know about a tradable symbol."""

    symbol: str
    name: str = ""
    exchange: str = ""
    currency: str = "USD"
    asset_class: AssetClass = AssetClass.EQUITY
    sector: str = ""
    industry: str = ""
    country: str = ""
    shares_outstanding: int | None = None
    calendar: str = "XNYS"

    def __post_init__(self) -> None:
        object.__setattr__(self, "symbol", normalize_symbol(self.symbol))
        if not re.fullmatch(r"[A-Za-z]{3}", self.currency or ""):
            raise InvalidInput(f"currency must be a 3-letter ISO code, was {self.currency!r}")
        if self.shares_outstanding is not None and self.shares_outstanding < 0:
            raise InvalidInput(
                f"shares_outstanding must be non-negative, was {self.shares_outstanding}"
            )


# Fundamentals and governance fields kept in each dated snapshot. Governance scores are
# the ISS QualityScore deciles Yahoo reports (1 = low risk, 10 = high risk).
FUNDAMENTAL_FIELDS: tuple[str, ...] = (
    "market_cap", "enterprise_value", "trailing_pe", "forward_pe", "peg_ratio", "price_to_book",
    "price_to_sales", "eps_trailing", "eps_forward", "dividend_rate", "dividend_yield",
    "payout_ratio", "beta", "profit_margin", "operating_margin", "return_on_equity",
    "return_on_assets", "revenue", "revenue_growth", "earnings_growth", "gross_margin",
    "total_cash", "total_debt", "debt_to_equity", "current_ratio", "book_value_per_share",
    "shares_outstanding", "float_shares", "fifty_two_week_high", "fifty_two_week_low",
    "average_volume",
)
GOVERNANCE_FIELDS: tuple[str, ...] = (
    "audit_risk", "board_risk", "compensation_risk", "shareholder_rights_risk", "overall_risk",
)


@dataclass(frozen=True, slots=True, kw_only=True)
class CompanySnapshot:
    """Fundamentals and governance risk scores of a company as known on ``as_of``."""

    symbol: str
    as_of: date
    source: str
    fundamentals: dict[str, float | None] = field(default_factory=dict)
    governance: dict[str, int | None] = field(default_factory=dict)
    instrument: InstrumentInfo | None = None
    raw: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        object.__setattr__(self, "symbol", normalize_symbol(self.symbol))
        unknown = set(self.fundamentals) - set(FUNDAMENTAL_FIELDS)
        if unknown:
            raise InvalidInput(f"unknown fundamental fields: {sorted(unknown)}")
        unknown = set(self.governance) - set(GOVERNANCE_FIELDS)
        if unknown:
            raise InvalidInput(f"unknown governance fields: {sorted(unknown)}")


@dataclass(frozen=True, slots=True, kw_only=True)
class CorporateAction:
    """A split (``value`` = new shares per old share, 4 for a 4:1 split) or a cash
    distribution (``value`` = amount per share in ``currency``), effective on ``ex_date``."""

    symbol: str
    ex_date: date
    kind: ActionKind
    value: Decimal
    currency: str = "USD"

    def __post_init__(self) -> None:
        object.__setattr__(self, "symbol", normalize_symbol(self.symbol))
        if not isinstance(self.value, Decimal):
            raise InvalidInput(f"corporate action value must be a Decimal, was {type(self.value).__name__}")
        if not self.value.is_finite() or self.value <= 0:
            raise InvalidInput(f"corporate action value must be positive, was {self.value}")


@dataclass(frozen=True, slots=True, kw_only=True)
class History:
    """What a provider returns for one symbol and range: bars plus the actions inside it."""

    symbol: str
    timeframe: Timeframe
    bars: pd.DataFrame
    actions: tuple[CorporateAction, ...] = ()
    instrument: InstrumentInfo | None = None


def empty_bars() -> pd.DataFrame:
    """An empty, correctly typed bar frame."""
    index = pd.DatetimeIndex([], tz="UTC", name="ts")
    return pd.DataFrame({c: np.array([], dtype="float64") for c in BAR_COLUMNS}, index=index)


def make_bars(ts: Any, open_: Any, high: Any, low: Any, close: Any, volume: Any) -> pd.DataFrame:
    """Build a bar frame from arrays; ``ts`` must be aware (converted to UTC) or int64 ns UTC."""
    index = pd.DatetimeIndex(ts)
    if index.tz is None:
        if np.issubdtype(np.asarray(ts).dtype, np.integer):
            index = index.tz_localize("UTC")
        else:
            raise InvalidInput("bar timestamps must be timezone-aware")
    index = index.tz_convert("UTC")
    index.name = "ts"
    return pd.DataFrame(
        {
            "open": np.asarray(open_, dtype="float64"),
            "high": np.asarray(high, dtype="float64"),
            "low": np.asarray(low, dtype="float64"),
            "close": np.asarray(close, dtype="float64"),
            "volume": np.asarray(volume, dtype="float64"),
        },
        index=index,
    )


def session_label(day: date | datetime | pd.Timestamp) -> pd.Timestamp:
    """Label of a daily bar: the session date at midnight UTC."""
    return pd.Timestamp(pd.Timestamp(day).date()).tz_localize("UTC")
