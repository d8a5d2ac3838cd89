"""Position sizing: how many shares to ask for.

Every sizer returns a ``Decimal`` quantity ``>= 0`` that is a whole multiple of ``lot_size``
(1 by default, so whole shares; pass ``Decimal("0.001")`` for fractional shares). Quantities
are floored, never rounded up, so a size never spends more than the budget. The floor is exact:
each sizer forms its budget as one exact numerator and denominator and divides them with
integer division, so no 28-digit rounding can push a quotient like 2.999...9 up to 3.

Inputs are ``Decimal``, ``int`` or ``str``; floats are refused. An ATR computed in float64
analytics crosses over through :func:`bifrost.core.money.decimal_from_float`.
"""

from __future__ import annotations

from decimal import Decimal, localcontext

from bifrost.core.errors import InvalidInput
from bifrost.core.money import QUANTITY_PLACES, to_decimal

__all__ = ["fixed_notional_shares", "fixed_shares", "percent_of_equity_shares", "round_to_lot",
           "volatility_shares"]

Number = Decimal | int | str
_ONE = Decimal(1)
_HUNDRED = Decimal(100)


def _lot(lot_size: Number) -> Decimal:
    lot = to_decimal(lot_size, field="lot_size")
    if lot <= 0:
        raise InvalidInput(f"lot_size must be positive, was {lot}")
    if lot != lot.quantize(Decimal(1).scaleb(-QUANTITY_PLACES)):
        raise InvalidInput(f"lot_size must have at most {QUANTITY_PLACES} decimal places, was {lot}")
    return lot


def _positive(value: Number, field: str) -> Decimal:
    result = to_decimal(value, field=field)
    if result <= 0:
        raise InvalidInput(f"{field} must be positive, was {result}")
    return result


def _non_negative(value: Number, field: str) -> Decimal:
    result = to_decimal(value, field=field)
    if result < 0:
        raise InvalidInput(f"{field} must not be negative, was {result}")
    return result


def _floor_lots(numerator: tuple[Decimal, ...], denominator: tuple[Decimal, ...], lot: Decimal) -> Decimal:
    # prod(numerator) / (prod(denominator) * lot), floored to whole lots, then back to shares.
    # Products are exact at 60 digits and // is exact integer division (inputs are >= 0).
    with localcontext(prec=60):
        top = _ONE
        for factor in numerator:
            top *= factor
        bottom = lot
        for factor in denominator:
            bottom *= factor
        return (top // bottom) * lot


def round_to_lot(quantity: Number, *, lot_size: Number = _ONE) -> Decimal:
    """Floor a non-negative quantity to a whole multiple of ``lot_size``.

    Raises
    ------
    InvalidInput
        If ``quantity`` is negative or ``lot_size`` is not positive.
    """
    return _floor_lots((_non_negative(quantity, "quantity"),), (), _lot(lot_size))


def fixed_shares(shares: Number, *, lot_size: Number = _ONE) -> Decimal:
    """Return a fixed share count, checked against the lot size.

    Raises
    ------
    InvalidInput
        If ``shares`` is negative or not a whole multiple of ``lot_size`` (a fixed size that
        cannot be traded is a configuration error, not something to round away).
    """
    quantity = _non_negative(shares, "shares")
    lot = _lot(lot_size)
    if quantity % lot != 0:
        raise InvalidInput(f"shares must be a whole multiple of lot_size {lot}, was {quantity}")
    return quantity


def fixed_notional_shares(notional: Number, price: Number, *, lot_size: Number = _ONE) -> Decimal:
    """Shares worth at most ``notional`` at ``price``.

    Parameters
    ----------
    notional
        Amount to invest, in the price's currency (>= 0).
    price
        Price per share (> 0).
    lot_size
        Trading increment: 1 for whole shares, e.g. ``Decimal("0.001")`` for fractional.

    Returns
    -------
    Decimal
        :math:`\\lfloor notional / (price \\cdot lot) \\rfloor \\cdot lot`.

    Raises
    ------
    InvalidInput
        If ``notional`` is negative, ``price`` is not positive or ``lot_size`` is invalid.

    Examples
    --------
    >>> fixed_notional_shares(Decimal("10000"), Decimal("187.44"))
    Decimal('53')
    """
    return _floor_lots((_non_negative(notional, "notional"),), (_positive(price, "price"),), _lot(lot_size))


def percent_of_equity_shares(equity: Number, equity_pct: Number, price: Number, *,
                             lot_size: Number = _ONE) -> Decimal:
    """Shares worth at most ``equity_pct`` percent of ``equity`` at ``price``.

    Parameters
    ----------
    equity
        Account equity (>= 0).
    equity_pct
        Percent of equity to commit, 0 to 100. More than 100 is leverage, which is a risk
        decision rather than a sizing one, and is refused.
    price
        Price per share (> 0).
    lot_size
        Trading increment (1 for whole shares).

    Returns
    -------
    Decimal
        :math:`\\lfloor equity \\cdot pct / (100 \\cdot price \\cdot lot) \\rfloor \\cdot lot`.

    Raises
    ------
    InvalidInput
        If ``equity`` is negative, ``equity_pct`` is outside [0, 100], ``price`` is not positive
        or ``lot_size`` is invalid.
    """
    equity_value = _non_negative(equity, "equity")
    pct = _non_negative(equity_pct, "equity_pct")
    if pct > _HUNDRED:
        raise InvalidInput(f"equity_pct must be between 0 and 100, was {pct}")
    return _floor_lots((equity_value, pct), (_HUNDRED, _positive(price, "price")), _lot(lot_size))


def volatility_shares(equity: Number, atr: Number, *, risk_fraction: Number, atr_multiple: Number,
                      lot_size: Number = _ONE) -> Decimal:
    """Shares such that a move of ``atr_multiple`` ATRs costs ``risk_fraction`` of equity.

    Parameters
    ----------
    equity
        Account equity (>= 0).
    atr
        Average true range per share, in price units (> 0).
    risk_fraction
        Fraction of equity to risk, between 0 and 1 (0.01 is 1%).
    atr_multiple
        Stop distance in ATRs (> 0), e.g. 2.
    lot_size
        Trading increment (1 for whole shares).

    Returns
    -------
    Decimal
        Shares, floored to whole lots.

    Raises
    ------
    InvalidInput
        If ``equity`` is negative, ``atr`` or ``atr_multiple`` is not positive, ``risk_fraction``
        is outside [0, 1], or ``lot_size`` is invalid.

    Notes
    -----
    .. math:: shares = \\left\\lfloor \\frac{f \\cdot E}{k \\cdot ATR \\cdot lot} \\right\\rfloor \\cdot lot

    with risk fraction :math:`f`, equity :math:`E` and ATR multiple :math:`k`: the unit-of-risk
    sizing of the Turtle rules (Faith, *Way of the Turtle*, 2007), where one unit risks a
    fixed fraction of equity over a move of ``k`` ATRs (their "N").

    Examples
    --------
    Risk 1% of 100,000 over a 2-ATR stop with ATR 2.50: 1,000 / 5.00 = 200 shares.

    >>> volatility_shares(Decimal("100000"), Decimal("2.50"), risk_fraction=Decimal("0.01"),
    ...                   atr_multiple=Decimal("2"))
    Decimal('200')
    """
    equity_value = _non_negative(equity, "equity")
    fraction = _non_negative(risk_fraction, "risk_fraction")
    if fraction > _ONE:
        raise InvalidInput(f"risk_fraction must be between 0 and 1, was {fraction}")
    atr_value = _positive(atr, "atr")
    multiple = _positive(atr_multiple, "atr_multiple")
    return _floor_lots((fraction, equity_value), (multiple, atr_value), _lot(lot_size))
