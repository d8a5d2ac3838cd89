"""Money: ``Decimal`` amounts with a currency, built from str/int/Decimal, never float.

Cash, fees, lots and booked P&L are Decimal and quantized to the currency's minor
unit. Analytics (returns, risk) use float64; cross between the two only through
``to_float`` / ``decimal_from_float`` so the boundary is visible.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_CEILING, ROUND_FLOOR, ROUND_HALF_EVEN, ROUND_UP, Decimal, InvalidOperation

from bifrost.core.errors import InvalidInput

# ISO 4217 minor units for the currencies we expect; others default to 2.
MINOR_UNITS: dict[str, int] = {"USD": 2, "EUR": 2, "GBP": 2, "CAD": 2, "CHF": 2, "AUD": 2, "JPY": 0, "HKD": 2,
                               "SEK": 2, "NOK": 2, "DKK": 2, "GBX": 2}
PRICE_PLACES = 6  # prices and per-share amounts keep 6 decimal places (sub-penny venues, dividends)
QUANTITY_PLACES = 6  # fractional shares to a millionth


def to_decimal(value: str | int | Decimal, *, field: str = "amount") -> Decimal:
    """Parse an exact decimal; refuse floats, NaN and infinities."""
    if isinstance(value, bool) or isinstance(value, float):
        raise InvalidInput(f"{field} must be given as str, int or Decimal (not {type(value).__name__}): {value!r}")
    try:
        result = value if isinstance(value, Decimal) else Decimal(str(value).strip())
    except (InvalidOperation, ValueError) as exc:
        raise InvalidInput(f"{field} is not a number: {value!r}") from exc
    if not result.is_finite():
        raise InvalidInput(f"{field} must be finite, was {value!r}")
    return result


def decimal_from_float(value: float, *, places: int = PRICE_PLACES, field: str = "price") -> Decimal:
    """Convert an analytics float (a bar price) to a Decimal rounded to ``places``."""
    if value != value or value in (float("inf"), float("-inf")):
        raise InvalidInput(f"{field} must be finite, was {value!r}")
    return Decimal(repr(float(value))).quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_EVEN)


def to_float(value: Decimal) -> float:
    """The one way from the ledger's Decimal to analytics float64."""
    return float(value)


def minor_unit(currency: str) -> Decimal:
    return Decimal(1).scaleb(-MINOR_UNITS.get(currency.upper(), 2))


def quantize_money(amount: Decimal, currency: str = "USD", *, rounding: str = ROUND_HALF_EVEN) -> Decimal:
    """Round ``amount`` to the currency's minor unit (banker's rounding unless told otherwise)."""
    return amount.quantize(minor_unit(currency), rounding=rounding)


def round_up_to_cent(amount: Decimal, currency: str = "USD") -> Decimal:
    """Regulatory fees (SEC Section 31, FINRA TAF) are rounded up to the next cent."""
    return quantize_money(amount, currency, rounding=ROUND_UP)


def quantize_price(price: Decimal, places: int = PRICE_PLACES) -> Decimal:
    return price.quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_EVEN)


def nms_tick(price: Decimal) -> Decimal:
    """The minimum price increment for an order in a US NMS stock at ``price``.

    SEC Rule 612 (Regulation NMS, 17 CFR 242.612): orders priced at $1.00 or more may not be
    in increments smaller than $0.01; below $1.00 the increment is $0.0001.
    """
    return Decimal("0.01") if price >= 1 else Decimal("0.0001")


def round_to_tick(price: Decimal, *, passive_for_buy: bool) -> Decimal:
    """``price`` on the Rule 612 grid, rounded away from the market: down for a buy, up for a sell
    (``passive_for_buy=False``), so that rounding never makes a limit more aggressive."""
    return price.quantize(nms_tick(price), rounding=ROUND_FLOOR if passive_for_buy else ROUND_CEILING)


def quantize_quantity(quantity: Decimal) -> Decimal:
    return quantity.quantize(Decimal(1).scaleb(-QUANTITY_PLACES), rounding=ROUND_HALF_EVEN)


@dataclass(frozen=True, slots=True)
class Money:
    """An exact amount in one currency. Arithmetic across currencies is refused."""

    amount: Decimal
    currency: str = "USD"

    def __post_init__(self) -> None:
        object.__setattr__(self, "amount", to_decimal(self.amount))
        if len(self.currency) != 3 or not self.currency.isalpha():
            raise InvalidInput(f"currency must be a 3-letter ISO code, was {self.currency!r}")
        object.__setattr__(self, "currency", self.currency.upper())

    @classmethod
    def of(cls, amount: str | int | Decimal, currency: str = "USD") -> Money:
        return cls(quantize_money(to_decimal(amount), currency), currency)

    def _same(self, other: Money) -> None:
        if not isinstance(other, Money):
            raise TypeError(f"cannot combine Money with {type(other).__name__}")
        if other.currency != self.currency:
            raise InvalidInput(f"currency mismatch: {self.currency} and {other.currency}")

    def __add__(self, other: Money) -> Money:
        self._same(other)
        return Money(self.amount + other.amount, self.currency)

    def __sub__(self, other: Money) -> Money:
        self._same(other)
        return Money(self.amount - other.amount, self.currency)

    def __neg__(self) -> Money:
        return Money(-self.amount, self.currency)

    def __mul__(self, factor: int | Decimal) -> Money:
        if isinstance(factor, float):
            raise TypeError("multiply Money by int or Decimal, not float")
        return Money(self.amount * factor, self.currency)

    def quantized(self) -> Money:
        return Money(quantize_money(self.amount, self.currency), self.currency)

    def __str__(self) -> str:
        return f"{self.amount} {self.currency}"
