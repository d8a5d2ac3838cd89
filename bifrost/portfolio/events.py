"""What the ledger can be told besides fills: cash movements, income, fees and splits.

Each event is a frozen value with an ``entry_id`` that makes posting it
idempotent, and a ``ts_event`` (aware, UTC). Money amounts are exact ``Decimal``
with no more places than the currency's minor unit.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import ClassVar

from bifrost.core.errors import InvalidInput
from bifrost.core.money import MINOR_UNITS, PRICE_PLACES, QUANTITY_PLACES, to_decimal
from bifrost.core.time import ensure_utc
from bifrost.marketdata.types import normalize_symbol

__all__ = ["Deposit", "Dividend", "Fee", "Interest", "LedgerEvent", "Split", "Withdrawal"]


def _check_common(event: object, entry_id: str, ts_event: datetime) -> None:
    if not isinstance(entry_id, str) or not entry_id or len(entry_id) > 128:
        raise InvalidInput(f"entry_id must be 1-128 characters, was {entry_id!r}")
    object.__setattr__(event, "ts_event", ensure_utc(ts_event, field="ts_event"))


def _check_currency(currency: str) -> str:
    if not isinstance(currency, str) or len(currency) != 3 or not currency.isalpha():
        raise InvalidInput(f"currency must be a 3-letter ISO code, was {currency!r}")
    return currency.upper()


def _places(value: Decimal) -> int:
    exponent = value.as_tuple().exponent
    return -exponent if isinstance(exponent, int) and exponent < 0 else 0


def _money(value: Decimal | str | int, currency: str, *, field: str) -> Decimal:
    amount = to_decimal(value, field=field)
    allowed = MINOR_UNITS.get(currency, 2)
    if _places(amount.normalize()) > allowed:
        raise InvalidInput(f"{field} must have at most {allowed} decimal places for {currency}, was {amount}")
    return amount


@dataclass(frozen=True, slots=True, kw_only=True)
class _CashEvent:
    """A cash movement of ``amount`` in ``currency``; subclasses say what sign is allowed."""

    entry_id: str
    ts_event: datetime
    amount: Decimal
    currency: str = "USD"
    memo: str = ""

    _label: ClassVar[str] = "cash event"
    _positive_only: ClassVar[bool] = False  # otherwise any non-zero amount (a rebate, interest paid)

    def __post_init__(self) -> None:
        _check_common(self, self.entry_id, self.ts_event)
        object.__setattr__(self, "currency", _check_currency(self.currency))
        amount = _money(self.amount, self.currency, field="amount")
        if self._positive_only and amount <= 0:
            raise InvalidInput(f"{self._label} amount must be positive, was {amount}")
        if not amount:
            raise InvalidInput(f"{self._label} amount must not be zero")
        object.__setattr__(self, "amount", amount)


@dataclass(frozen=True, slots=True, kw_only=True)
class Deposit(_CashEvent):
    """Cash paid into the account (a contribution); ``amount`` is positive."""

    _label: ClassVar[str] = "deposit"
    _positive_only: ClassVar[bool] = True


@dataclass(frozen=True, slots=True, kw_only=True)
class Withdrawal(_CashEvent):
    """Cash taken out of the account; ``amount`` is positive."""

    _label: ClassVar[str] = "withdrawal"
    _positive_only: ClassVar[bool] = True


@dataclass(frozen=True, slots=True, kw_only=True)
class Fee(_CashEvent):
    """A fee charged outside a fill (platform, data, ADR custody). Negative ``amount`` is a rebate."""

    _label: ClassVar[str] = "fee"


@dataclass(frozen=True, slots=True, kw_only=True)
class Interest(_CashEvent):
    """Interest on cash: positive ``amount`` is received (income), negative is paid (margin interest)."""

    _label: ClassVar[str] = "interest"


@dataclass(frozen=True, slots=True, kw_only=True)
class Dividend:
    """A cash dividend of ``amount_per_share`` on the position in ``symbol``.

    The entitled quantity is the position when the dividend is posted, unless
    ``quantity`` (signed: negative for a short position) gives the position held
    on the ex-date. A long position receives the dividend; a short position pays
    it (a payment in lieu). The amount is rounded to the currency's minor unit.
    """

    entry_id: str
    ts_event: datetime
    symbol: str
    amount_per_share: Decimal
    currency: str = "USD"
    quantity: Decimal | None = None

    def __post_init__(self) -> None:
        _check_common(self, self.entry_id, self.ts_event)
        object.__setattr__(self, "symbol", normalize_symbol(self.symbol))
        object.__setattr__(self, "currency", _check_currency(self.currency))
        per_share = to_decimal(self.amount_per_share, field="amount_per_share")
        if per_share <= 0 or _places(per_share.normalize()) > PRICE_PLACES:
            raise InvalidInput(
                f"amount_per_share must be positive with at most {PRICE_PLACES} decimal places, was {per_share}")
        object.__setattr__(self, "amount_per_share", per_share)
        if self.quantity is not None:
            quantity = to_decimal(self.quantity, field="quantity")
            if not quantity:
                raise InvalidInput("dividend quantity must not be zero when given")
            object.__setattr__(self, "quantity", quantity)


@dataclass(frozen=True, slots=True, kw_only=True)
class Split:
    """A stock split of ``ratio`` new shares per old share (4 for 4:1, 0.1 for a 1:10 reverse split)."""

    entry_id: str
    ts_event: datetime
    symbol: str
    ratio: Decimal

    def __post_init__(self) -> None:
        _check_common(self, self.entry_id, self.ts_event)
        object.__setattr__(self, "symbol", normalize_symbol(self.symbol))
        ratio = to_decimal(self.ratio, field="ratio")
        if ratio <= 0 or ratio == 1 or _places(ratio.normalize()) > QUANTITY_PLACES:
            raise InvalidInput(
                f"split ratio must be positive, not 1, with at most {QUANTITY_PLACES} decimal places, was {ratio}")
        object.__setattr__(self, "ratio", ratio)


LedgerEvent = Deposit | Withdrawal | Fee | Interest | Dividend | Split
