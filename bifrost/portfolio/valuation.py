"""Mark a ledger to market: NAV, exposures and unrealised P&L from last prices.

Prices may come as analytics floats (bar closes); each is converted once with
:func:`~bifrost.core.money.decimal_from_float`, and every amount after that is
``Decimal`` rounded to the currency's minor unit.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import ROUND_HALF_EVEN, Decimal

from bifrost.core.errors import DataQualityError, InvalidInput
from bifrost.core.money import decimal_from_float, minor_unit, to_decimal, to_float
from bifrost.marketdata.types import normalize_symbol
from bifrost.portfolio.ledger import Ledger
from bifrost.portfolio.returns import NavPoint

__all__ = ["PositionValuation", "Snapshot", "Valuation", "mark_to_market"]

_ZERO = Decimal(0)


@dataclass(frozen=True, slots=True, kw_only=True)
class PositionValuation:
    """One position at its last price. ``market_value`` and ``cost`` are negative for a short."""

    symbol: str
    quantity: Decimal
    price: Decimal
    market_value: Decimal
    cost: Decimal
    unrealised_pnl: Decimal
    currency: str


@dataclass(frozen=True, slots=True)
class Snapshot:
    """End-of-day figures of a portfolio, in one currency.

    ``long`` is the market value of long positions (positive), ``short`` that of
    short positions (negative or zero), ``gross = long - short``,
    ``net = long + short`` and ``nav = cash + net``.
    """

    date: dt.date
    nav: Decimal
    cash: Decimal
    gross: Decimal
    net: Decimal
    long: Decimal
    short: Decimal

    def nav_point(self, flow: Decimal = _ZERO) -> NavPoint:
        """Return this day's NAV and external ``flow`` as a float :class:`NavPoint` for return analytics."""
        return NavPoint(self.date, to_float(self.nav), to_float(to_decimal(flow, field="flow")))


@dataclass(frozen=True, slots=True, kw_only=True)
class Valuation:
    """A ledger marked to market in one currency."""

    currency: str
    cash: Decimal
    long_market_value: Decimal
    short_market_value: Decimal
    positions: tuple[PositionValuation, ...]

    @property
    def net_exposure(self) -> Decimal:
        return self.long_market_value + self.short_market_value

    @property
    def gross_exposure(self) -> Decimal:
        return self.long_market_value - self.short_market_value

    @property
    def nav(self) -> Decimal:
        """Net asset value: cash plus the market value of long and short positions."""
        return self.cash + self.long_market_value + self.short_market_value

    def unrealised_pnl(self) -> dict[str, Decimal]:
        """Return unrealised P&L (market value less gross cost) by symbol."""
        return {position.symbol: position.unrealised_pnl for position in self.positions}

    def snapshot(self, day: dt.date) -> Snapshot:
        """Return the figures of this valuation as the snapshot of ``day``."""
        return Snapshot(day, self.nav, self.cash, self.gross_exposure, self.net_exposure,
                        self.long_market_value, self.short_market_value)


def _price(symbol: str, value: float | Decimal | str | int) -> Decimal:
    if isinstance(value, float):
        price = decimal_from_float(value, field=f"price of {symbol}")
    else:
        price = to_decimal(value, field=f"price of {symbol}")
    if price <= 0:
        raise DataQualityError(f"price of {symbol} must be positive, was {price}")
    return price


def mark_to_market(ledger: Ledger, prices: Mapping[str, float | Decimal | str | int], *,
                   currency: str = "USD") -> Valuation:
    """Value the positions of ``ledger`` held in ``currency`` at ``prices``.

    Parameters
    ----------
    ledger
        The ledger to value.
    prices
        Last price per symbol. Floats are converted once to 6-place Decimals;
        symbols without an open position are ignored.
    currency
        Only positions and cash in this currency are valued (no FX conversion).

    Returns
    -------
    Valuation
        Cash, long and short market value, exposures, NAV and per-position
        unrealised P&L (market value less gross cost).

    Raises
    ------
    DataQualityError
        If an open position has no price, or a price is not positive or not finite.
    """
    currency = currency.upper()
    quantum = minor_unit(currency)
    normalized: dict[str, float | Decimal | str | int] = {}
    for symbol, value in prices.items():
        normalized[normalize_symbol(symbol)] = value
    long_value = short_value = _ZERO
    valued: list[PositionValuation] = []
    missing: list[str] = []
    for symbol, position in ledger.positions().items():
        if position.currency != currency:
            continue
        if symbol not in normalized:
            missing.append(symbol)
            continue
        try:
            price = _price(symbol, normalized[symbol])
        except InvalidInput as exc:
            raise DataQualityError(str(exc), violations=[str(exc)]) from exc
        market_value = (position.quantity * price).quantize(quantum, rounding=ROUND_HALF_EVEN)
        if market_value > 0:
            long_value += market_value
        else:
            short_value += market_value
        valued.append(PositionValuation(symbol=symbol, quantity=position.quantity, price=price,
                                        market_value=market_value, cost=position.cost,
                                        unrealised_pnl=market_value - position.cost, currency=currency))
    if missing:
        raise DataQualityError(f"no price for open position {missing[0]}; every open position needs a price",
                               violations=missing)
    return Valuation(currency=currency, cash=ledger.cash(currency), long_market_value=long_value,
                     short_market_value=short_value, positions=tuple(valued))
