"""Slippage models: the price a taker actually gets, given a reference price, side and size.

Slippage always hurts the taker: a buy executes at or above the reference price and a
sell at or below it. Results are rounded *against* the taker to ``tick_size`` (default:
the platform's 6 price places), so rounding never flatters a backtest.

The cost fractions are analytics (float64); the one crossing back to ``Decimal`` is
:func:`_apply_fraction`, through :func:`~bifrost.core.money.decimal_from_float`.
"""

from __future__ import annotations

import math
from abc import abstractmethod
from collections.abc import Mapping
from decimal import ROUND_CEILING, ROUND_FLOOR, Decimal
from typing import Protocol, runtime_checkable

from bifrost.core.errors import InvalidInput, UnknownSymbol
from bifrost.core.money import PRICE_PLACES, decimal_from_float, to_decimal
from bifrost.marketdata.types import normalize_symbol
from bifrost.orders.types import Side

__all__ = [
    "FixedBpsSlippage",
    "NoSlippage",
    "SlippageModel",
    "SpreadSlippage",
    "SquareRootImpactSlippage",
]

_DEFAULT_TICK = Decimal(1).scaleb(-PRICE_PLACES)


@runtime_checkable
class SlippageModel(Protocol):
    """Turns a reference price into the execution price of a taker of ``quantity`` shares."""

    @abstractmethod
    def execution_price(self, *, symbol: str, side: Side, reference_price: Decimal,
                        quantity: Decimal) -> Decimal: ...


def _tick(tick_size: str | Decimal | None) -> Decimal:
    if tick_size is None:
        return _DEFAULT_TICK
    tick = to_decimal(tick_size, field="tick_size")
    if tick <= 0:
        raise InvalidInput(f"tick_size must be positive, was {tick}")
    return tick


def _finite_non_negative(value: float, field: str) -> float:
    value = float(value)
    if not math.isfinite(value) or value < 0:
        raise InvalidInput(f"{field} must be a finite non-negative number, was {value!r}")
    return value


def _round_against(price: Decimal, side: Side, tick: Decimal) -> Decimal:
    rounding = ROUND_CEILING if side is Side.BUY else ROUND_FLOOR
    if tick is _DEFAULT_TICK:
        rounded = price.quantize(tick, rounding=rounding)
    else:
        rounded = (price / tick).to_integral_value(rounding=rounding) * tick
    return rounded if rounded > 0 else tick


def _apply_fraction(reference_price: Decimal, fraction: float, side: Side, tick: Decimal) -> Decimal:
    """``reference * (1 + fraction)`` for a buy, ``reference * (1 - fraction)`` for a sell."""
    if fraction == 0.0:
        return _round_against(reference_price, side, tick)
    # Keep 10 places in the Decimal adjustment so the final rounding to ``tick`` decides.
    adjustment = decimal_from_float(float(reference_price) * fraction, places=10, field="slippage")
    price = reference_price + adjustment if side is Side.BUY else reference_price - adjustment
    return _round_against(price, side, tick)


class NoSlippage:
    """Execute at the reference price (rounded to the tick against the taker)."""

    __slots__ = ("tick",)

    def __init__(self, *, tick_size: str | Decimal | None = None) -> None:
        self.tick = _tick(tick_size)

    def execution_price(self, *, symbol: str, side: Side, reference_price: Decimal,
                        quantity: Decimal) -> Decimal:
        return _round_against(reference_price, side, self.tick)

    def __repr__(self) -> str:
        return "NoSlippage()"


class FixedBpsSlippage:
    """Move the price a fixed number of basis points against the taker.

    Notes
    -----
    ``buy = P * (1 + bps/10_000)``, ``sell = P * (1 - bps/10_000)``, rounded against the taker.
    """

    __slots__ = ("slippage_bps", "tick", "_up", "_down")

    def __init__(self, *, slippage_bps: float | str | Decimal, tick_size: str | Decimal | None = None) -> None:
        # A fixed fraction is exact in Decimal, so this model never goes through float.
        bps = Decimal(repr(slippage_bps)) if isinstance(slippage_bps, float) else to_decimal(
            slippage_bps, field="slippage_bps")
        if not bps.is_finite() or bps < 0:
            raise InvalidInput(f"slippage_bps must be a finite non-negative number, was {slippage_bps!r}")
        self.slippage_bps = bps
        self.tick = _tick(tick_size)
        self._up = 1 + bps / 10_000
        self._down = 1 - bps / 10_000

    def execution_price(self, *, symbol: str, side: Side, reference_price: Decimal,
                        quantity: Decimal) -> Decimal:
        factor = self._up if side is Side.BUY else self._down
        return _round_against(reference_price * factor, side, self.tick)

    def __repr__(self) -> str:
        return f"FixedBpsSlippage(slippage_bps={self.slippage_bps})"


def _per_symbol(values: Mapping[str, float] | None, field: str) -> dict[str, float]:
    return {normalize_symbol(k): _finite_non_negative(v, field) for k, v in (values or {}).items()}


class SpreadSlippage:
    """Pay half the bid-ask spread: the cost of crossing from the mid to the far touch.

    Parameters
    ----------
    spread_bps
        Default full spread, in basis points of price, for symbols without their own.
    spreads_bps
        Per-symbol full spreads in basis points (a quoted average, or an estimate such as
        Roll's or Corwin-Schultz's from bars).
    use_quotes
        When true (default), :meth:`observe_quote` - which the paper exchange calls on every
        quote - replaces the symbol's spread with the latest quoted one.
    tick_size
        Rounding increment of the result (against the taker).

    Notes
    -----
    ``buy = P * (1 + s/2)``, ``sell = P * (1 - s/2)`` with ``s`` the full relative spread.

    Raises
    ------
    UnknownSymbol
        From :meth:`execution_price`, when a symbol has no spread and no default is set.
    """

    __slots__ = ("spread_bps", "tick", "use_quotes", "_spreads")

    def __init__(self, *, spread_bps: float | None = None, spreads_bps: Mapping[str, float] | None = None,
                 use_quotes: bool = True, tick_size: str | Decimal | None = None) -> None:
        self.spread_bps = None if spread_bps is None else _finite_non_negative(spread_bps, "spread_bps")
        self._spreads = _per_symbol(spreads_bps, "spreads_bps")
        self.use_quotes = use_quotes
        self.tick = _tick(tick_size)

    def set_spread(self, symbol: str, spread_bps: float) -> None:
        """Set the full spread of ``symbol`` in basis points."""
        self._spreads[normalize_symbol(symbol)] = _finite_non_negative(spread_bps, "spread_bps")

    def observe_quote(self, symbol: str, bid: Decimal, ask: Decimal) -> None:
        """Record the quoted spread (relative to the mid) when quotes are in use and the book is not crossed."""
        if not self.use_quotes or bid <= 0 or ask < bid:
            return
        mid = (float(bid) + float(ask)) / 2.0
        self._spreads[symbol] = (float(ask) - float(bid)) / mid * 10_000.0

    def spread_bps_for(self, symbol: str) -> float:
        spread = self._spreads.get(symbol, self.spread_bps)
        if spread is None:
            raise UnknownSymbol(f"no spread known for symbol {symbol!r} and no default spread_bps set")
        return spread

    def execution_price(self, *, symbol: str, side: Side, reference_price: Decimal,
                        quantity: Decimal) -> Decimal:
        half = self.spread_bps_for(symbol) / 20_000.0
        return _apply_fraction(reference_price, half, side, self.tick)

    def __repr__(self) -> str:
        return f"SpreadSlippage(spread_bps={self.spread_bps}, symbols={len(self._spreads)})"


class SquareRootImpactSlippage:
    """Half the spread plus square-root market impact (the "square-root law").

    Parameters
    ----------
    volatility_daily
        Default daily return volatility (0.02 = 2 %), and ``volatilities_daily`` per symbol.
    adv_shares
        Default average daily volume in shares, and ``advs_shares`` per symbol.
    spread_bps
        Default full bid-ask spread in basis points, and ``spreads_bps`` per symbol.
    impact_coefficient
        The dimensionless ``Y`` of the law, of order one (empirical fits give roughly 0.5-1).
    tick_size
        Rounding increment of the result (against the taker).

    Notes
    -----
    The cost of a taker of ``Q`` shares, as a fraction of the reference price ``P``:

    ``cost = spread / 2 + sigma_daily * Y * sqrt(Q / ADV)``

    and the execution price is ``P * (1 + cost)`` for a buy and ``P * (1 - cost)`` for a sell.
    Example: ``P = 100``, spread 2 bps, ``sigma = 2 %``, ``Y = 1``, ``Q = 10,000``,
    ``ADV = 1,000,000`` gives ``cost = 0.0001 + 0.02 * 0.1 = 0.0021`` and a buy at 100.21.
    The impact is the average cost of an order executed over roughly a day; charging it on a
    single fill is a deliberate, conservative simplification.

    References
    ----------
    Almgren, R., Thum, C., Hauptmann, E. and Li, H. (2005), "Direct Estimation of Equity Market
    Impact", Risk 18(7), 58-62 (fitted exponent close to 1/2 for the temporary impact).
    Kissell, R. (2013), *The Science of Algorithmic Trading and Portfolio Management*, Academic
    Press, ch. 5 (the I-Star model). Grinold, R. and Kahn, R. (2000), *Active Portfolio
    Management*, 2nd ed., ch. 16. Bouchaud, J.-P., Bonart, J., Donier, J. and Gould, M. (2018),
    *Trades, Quotes and Prices*, Cambridge University Press, ch. 12 ("the square-root law").

    Raises
    ------
    UnknownSymbol
        From :meth:`execution_price`, when a symbol has no ADV or volatility and no default is set.
    """

    __slots__ = ("volatility_daily", "adv_shares", "spread_bps", "impact_coefficient", "tick",
                 "_volatilities", "_advs", "_spreads")

    def __init__(self, *, volatility_daily: float | None = None, adv_shares: float | None = None,
                 spread_bps: float = 0.0, impact_coefficient: float = 1.0,
                 volatilities_daily: Mapping[str, float] | None = None,
                 advs_shares: Mapping[str, float] | None = None,
                 spreads_bps: Mapping[str, float] | None = None,
                 tick_size: str | Decimal | None = None) -> None:
        self.volatility_daily = None if volatility_daily is None else _finite_non_negative(
            volatility_daily, "volatility_daily")
        self.adv_shares = None if adv_shares is None else _finite_non_negative(adv_shares, "adv_shares")
        if self.adv_shares == 0:
            raise InvalidInput("adv_shares must be positive, was 0")
        self.spread_bps = _finite_non_negative(spread_bps, "spread_bps")
        self.impact_coefficient = _finite_non_negative(impact_coefficient, "impact_coefficient")
        self._volatilities = _per_symbol(volatilities_daily, "volatilities_daily")
        self._advs = _per_symbol(advs_shares, "advs_shares")
        if any(v == 0 for v in self._advs.values()):
            raise InvalidInput("advs_shares must be positive")
        self._spreads = _per_symbol(spreads_bps, "spreads_bps")
        self.tick = _tick(tick_size)

    def cost_fraction(self, *, symbol: str, quantity: float) -> float:
        """The cost of a taker of ``quantity`` shares as a fraction of price (formula in the class Notes)."""
        sigma = self._volatilities.get(symbol, self.volatility_daily)
        adv = self._advs.get(symbol, self.adv_shares)
        if sigma is None or adv is None:
            raise UnknownSymbol(f"no daily volatility or ADV known for symbol {symbol!r} and no default set")
        spread = self._spreads.get(symbol, self.spread_bps) / 10_000.0
        return spread / 2.0 + sigma * self.impact_coefficient * math.sqrt(float(quantity) / adv)

    def execution_price(self, *, symbol: str, side: Side, reference_price: Decimal,
                        quantity: Decimal) -> Decimal:
        fraction = self.cost_fraction(symbol=symbol, quantity=float(quantity))
        return _apply_fraction(reference_price, fraction, side, self.tick)

    def __repr__(self) -> str:
        return (f"SquareRootImpactSlippage(volatility_daily={self.volatility_daily}, adv_shares={self.adv_shares}, "
                f"spread_bps={self.spread_bps}, impact_coefficient={self.impact_coefficient})")
