"""Fee models: broker commission, regulatory fees and exchange fees, all in ``Decimal``.

A fee model prices one execution (or, as the paper exchange uses it, the part of an
order filled so far; see :class:`~bifrost.execution.simulator.PaperExchange`) and
returns a :class:`FeeBreakdown`. Models compose with :class:`CompositeFeeModel`, so
a typical US retail setup is ``CompositeFeeModel(PerShareFeeModel(), RegulatoryFees())``.

Rounding: commissions and exchange fees are rounded to the currency's minor unit with
banker's rounding (as ``core.money.quantize_money``); regulatory fees are rounded *up* to
the cent (as ``core.money.round_up_to_cent``), as brokers pass them through.
"""

from __future__ import annotations

from abc import abstractmethod
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import ROUND_HALF_EVEN, ROUND_UP, Decimal
from typing import Protocol, runtime_checkable
from zoneinfo import ZoneInfo

from bifrost.core.errors import InvalidInput
from bifrost.core.money import minor_unit, to_decimal
from bifrost.orders.types import Liquidity, Side

__all__ = [
    "FINRA_TAF_SCHEDULE",
    "SEC_SECTION_31_SCHEDULE",
    "BasisPointsFeeModel",
    "CompositeFeeModel",
    "DatedRate",
    "FeeBreakdown",
    "FeeModel",
    "FillRecorder",
    "MakerTakerFeeModel",
    "PerShareFeeModel",
    "RegulatoryFees",
    "TieredFeeModel",
    "ZeroFeeModel",
]

_ZERO = Decimal("0")
_ONE_MILLION = Decimal("1000000")
_TEN_THOUSAND = Decimal("10000")
_HUNDRED = Decimal("100")
_NEW_YORK = ZoneInfo("America/New_York")


@dataclass(frozen=True, slots=True)
class FeeBreakdown:
    """What one execution costs, split by who charges it.

    ``commission`` is the broker's charge (never negative); ``regulatory`` holds the SEC
    Section 31 fee and FINRA TAF; ``exchange`` holds venue fees, negative for a rebate.
    """

    commission: Decimal = _ZERO
    regulatory: Decimal = _ZERO
    exchange: Decimal = _ZERO

    def __post_init__(self) -> None:
        if not (type(self.commission) is Decimal and type(self.regulatory) is Decimal
                and type(self.exchange) is Decimal):
            for name in ("commission", "regulatory", "exchange"):
                object.__setattr__(self, name, to_decimal(getattr(self, name), field=name))
        if self.commission < 0:
            raise InvalidInput(f"commission must not be negative, was {self.commission}")
        if self.regulatory < 0:
            raise InvalidInput(f"regulatory fees must not be negative, was {self.regulatory}")

    @property
    def fees(self) -> Decimal:
        """Regulatory plus exchange fees: what ``Fill.fees`` carries (rebates reduce it)."""
        return self.regulatory + self.exchange

    @property
    def total(self) -> Decimal:
        return self.commission + self.regulatory + self.exchange

    def __add__(self, other: FeeBreakdown) -> FeeBreakdown:
        if not isinstance(other, FeeBreakdown):
            return NotImplemented
        return FeeBreakdown(self.commission + other.commission, self.regulatory + other.regulatory,
                            self.exchange + other.exchange)


ZERO_FEES = FeeBreakdown()


@runtime_checkable
class FeeModel(Protocol):
    """Prices an execution of ``quantity`` shares at ``price``.

    ``notional`` defaults to ``quantity * price``; callers that aggregate several fills at
    different prices pass the exact sum so rounding never depends on an average price.
    ``ts`` is the instant of the execution; date-dependent models (regulatory rates) need it.
    """

    @abstractmethod
    def fees(self, *, side: Side, quantity: Decimal, price: Decimal, liquidity: Liquidity,
             ts: datetime | None = None, notional: Decimal | None = None) -> FeeBreakdown: ...


@runtime_checkable
class FillRecorder(Protocol):
    """Optional hook of stateful models (monthly volume tiers): told of every finished order."""

    @abstractmethod
    def record_fill(self, *, quantity: Decimal, ts: datetime) -> None: ...


def _decimal(value: str | int | Decimal, field: str) -> Decimal:
    result = to_decimal(value, field=field)
    if result < 0:
        raise InvalidInput(f"{field} must not be negative, was {result}")
    return result


def _optional_decimal(value: str | int | Decimal | None, field: str) -> Decimal | None:
    return None if value is None else _decimal(value, field)


def _notional(quantity: Decimal, price: Decimal, notional: Decimal | None) -> Decimal:
    return quantity * price if notional is None else notional


def _trade_date(ts: datetime) -> date:
    # The fee schedules are dated in US Eastern trade dates; a 20:00 ET trade is 00:00 UTC next day.
    # From 05:00 UTC on, the UTC and Eastern dates agree (ET is UTC-4 or UTC-5): skip the tz lookup.
    if ts.tzinfo is UTC and ts.hour >= 5:
        return ts.date()
    return ts.astimezone(_NEW_YORK).date()


def _round_half_even(amount: Decimal, quantum: Decimal) -> Decimal:
    # Same as core.money.quantize_money, with the currency's quantum looked up once per model.
    return amount.quantize(quantum, rounding=ROUND_HALF_EVEN)


def _round_up(amount: Decimal, quantum: Decimal) -> Decimal:
    # Same as core.money.round_up_to_cent (regulatory fees round up), with the quantum looked up once.
    return amount.quantize(quantum, rounding=ROUND_UP)


class ZeroFeeModel:
    """No fees at all: the limiting case, and commission-free brokers before regulatory fees."""

    __slots__ = ()

    def fees(self, *, side: Side, quantity: Decimal, price: Decimal, liquidity: Liquidity,
             ts: datetime | None = None, notional: Decimal | None = None) -> FeeBreakdown:
        return ZERO_FEES

    def __repr__(self) -> str:
        return "ZeroFeeModel()"


class PerShareFeeModel:
    """Charge a commission per share, bounded by a minimum and a maximum per order.

    Parameters
    ----------
    rate_per_share
        Commission per share, in currency units.
    min_per_order
        Floor of the commission of an order.
    max_pct_of_notional
        Cap of the commission as a percentage of the order's notional (``1`` = 1 %);
        ``None`` for no cap. The cap is applied after the floor, so on a tiny order the
        cap wins (1 share at $5 pays $0.05, not $1).
    currency
        Currency whose minor unit the result is rounded to.

    Notes
    -----
    ``commission = min(max(rate_per_share * quantity, min_per_order), max_pct/100 * notional)``,
    rounded to the cent (half-even). The defaults are Interactive Brokers' "IBKR Pro Fixed"
    US stock schedule: USD 0.005 per share, minimum USD 1.00, maximum 1 % of trade value.

    References
    ----------
    Interactive Brokers, "Commissions: Stocks, ETFs and Warrants - Fixed pricing, United States".
    """

    __slots__ = ("rate_per_share", "min_per_order", "max_pct_of_notional", "currency", "_quantum")

    def __init__(self, *, rate_per_share: str | Decimal = "0.005", min_per_order: str | Decimal = "1.00",
                 max_pct_of_notional: str | Decimal | None = "1", currency: str = "USD") -> None:
        self.rate_per_share = _decimal(rate_per_share, "rate_per_share")
        self.min_per_order = _decimal(min_per_order, "min_per_order")
        self.max_pct_of_notional = _optional_decimal(max_pct_of_notional, "max_pct_of_notional")
        self.currency = currency
        self._quantum = minor_unit(currency)

    def fees(self, *, side: Side, quantity: Decimal, price: Decimal, liquidity: Liquidity,
             ts: datetime | None = None, notional: Decimal | None = None) -> FeeBreakdown:
        commission = self.rate_per_share * quantity
        if commission < self.min_per_order:
            commission = self.min_per_order
        if self.max_pct_of_notional is not None:
            cap = self.max_pct_of_notional * _notional(quantity, price, notional) / _HUNDRED
            if commission > cap:
                commission = cap
        return FeeBreakdown(_round_half_even(commission, self._quantum))

    def __repr__(self) -> str:
        return (f"PerShareFeeModel(rate_per_share={self.rate_per_share}, min_per_order={self.min_per_order}, "
                f"max_pct_of_notional={self.max_pct_of_notional})")


class BasisPointsFeeModel:
    """Charge a commission in basis points of notional, with an optional minimum per order.

    Notes
    -----
    ``commission = max(fee_bps / 10_000 * notional, min_per_order)``, rounded to the cent.
    """

    __slots__ = ("fee_bps", "min_per_order", "currency", "_quantum")

    def __init__(self, *, fee_bps: str | Decimal, min_per_order: str | Decimal = "0", currency: str = "USD") -> None:
        self.fee_bps = _decimal(fee_bps, "fee_bps")
        self.min_per_order = _decimal(min_per_order, "min_per_order")
        self.currency = currency
        self._quantum = minor_unit(currency)

    def fees(self, *, side: Side, quantity: Decimal, price: Decimal, liquidity: Liquidity,
             ts: datetime | None = None, notional: Decimal | None = None) -> FeeBreakdown:
        commission = self.fee_bps * _notional(quantity, price, notional) / _TEN_THOUSAND
        if commission < self.min_per_order:
            commission = self.min_per_order
        return FeeBreakdown(_round_half_even(commission, self._quantum))

    def __repr__(self) -> str:
        return f"BasisPointsFeeModel(fee_bps={self.fee_bps}, min_per_order={self.min_per_order})"


class TieredFeeModel:
    """Charge a per-share commission whose rate depends on volume tiers.

    Parameters
    ----------
    tiers
        ``(up_to_shares, rate_per_share)`` pairs in increasing order; the last bound may be
        ``None`` (no upper bound). A bound is inclusive.
    basis
        ``"order_shares"``: graduated within one order - the first ``up_to`` shares pay the
        first rate, the next band the second, and so on.
        ``"monthly_volume"``: the whole order pays the rate of the tier that the month-to-date
        volume (US Eastern calendar month, shares of *earlier* orders) falls in, as IBKR's
        tiered schedule does. The model keeps that volume itself; the paper exchange reports
        each finished order through :meth:`record_fill`. Volume resets when the month changes.
    min_per_order, max_pct_of_notional
        As in :class:`PerShareFeeModel`.

    Notes
    -----
    IBKR Pro Tiered (US stocks): up to 300,000 shares/month USD 0.0035, 300,001-3,000,000
    USD 0.0020, 3,000,001-20,000,000 USD 0.0015, 20,000,001-100,000,000 USD 0.0010, above
    USD 0.0005; minimum USD 0.35 per order, maximum 1 % of trade value.

    References
    ----------
    Interactive Brokers, "Commissions: Stocks, ETFs and Warrants - Tiered pricing, United States".
    """

    __slots__ = ("tiers", "basis", "min_per_order", "max_pct_of_notional", "currency", "_quantum", "_month",
                 "_month_volume")

    def __init__(self, *, tiers: Sequence[tuple[str | int | Decimal | None, str | Decimal]],
                 basis: str = "monthly_volume", min_per_order: str | Decimal = "0",
                 max_pct_of_notional: str | Decimal | None = None, currency: str = "USD") -> None:
        if basis not in ("monthly_volume", "order_shares"):
            raise InvalidInput(f"basis must be 'monthly_volume' or 'order_shares', was {basis!r}")
        if not tiers:
            raise InvalidInput("tiers must not be empty")
        parsed: list[tuple[Decimal | None, Decimal]] = []
        previous = _ZERO
        for index, (bound, rate) in enumerate(tiers):
            upper = _optional_decimal(bound, "tier bound")
            if upper is None and index != len(tiers) - 1:
                raise InvalidInput(f"only the last tier may be unbounded, tier {index} was")
            if upper is not None and upper <= previous:
                raise InvalidInput(f"tier bounds must increase, tier {index} bound {upper} <= {previous}")
            parsed.append((upper, _decimal(rate, "tier rate")))
            previous = upper if upper is not None else previous
        self.tiers: tuple[tuple[Decimal | None, Decimal], ...] = tuple(parsed)
        self.basis = basis
        self.min_per_order = _decimal(min_per_order, "min_per_order")
        self.max_pct_of_notional = _optional_decimal(max_pct_of_notional, "max_pct_of_notional")
        self.currency = currency
        self._quantum = minor_unit(currency)
        self._month: tuple[int, int] | None = None
        self._month_volume = _ZERO

    @property
    def month_volume(self) -> Decimal:
        """Shares recorded so far in the current month."""
        return self._month_volume

    def set_month_volume(self, volume: str | int | Decimal, *, ts: datetime) -> None:
        """Seed the month-to-date volume (e.g. from the broker's statement) for the month of ``ts``."""
        self._month = (_trade_date(ts).year, _trade_date(ts).month)
        self._month_volume = _decimal(volume, "volume")

    def record_fill(self, *, quantity: Decimal, ts: datetime) -> None:
        """Add the shares of a finished order to the month-to-date volume."""
        day = _trade_date(ts)
        key = (day.year, day.month)
        if key != self._month:
            self._month, self._month_volume = key, _ZERO
        self._month_volume += quantity

    def _rate_for_volume(self, volume: Decimal) -> Decimal:
        for upper, rate in self.tiers:
            if upper is None or volume < upper:
                return rate
        return self.tiers[-1][1]

    def _graduated(self, quantity: Decimal) -> Decimal:
        total, lower = _ZERO, _ZERO
        for upper, rate in self.tiers:
            band = quantity - lower if upper is None else min(quantity, upper) - lower
            if band <= 0:
                break
            total += band * rate
            if upper is None:
                break
            lower = upper
        if self.tiers[-1][0] is not None and quantity > self.tiers[-1][0]:
            total += (quantity - self.tiers[-1][0]) * self.tiers[-1][1]  # beyond the last bound: last rate
        return total

    def fees(self, *, side: Side, quantity: Decimal, price: Decimal, liquidity: Liquidity,
             ts: datetime | None = None, notional: Decimal | None = None) -> FeeBreakdown:
        if self.basis == "order_shares":
            commission = self._graduated(quantity)
        else:
            volume = self._month_volume
            if ts is not None and self._month is not None:
                day = _trade_date(ts)
                if (day.year, day.month) != self._month:
                    volume = _ZERO
            commission = self._rate_for_volume(volume) * quantity
        if commission < self.min_per_order:
            commission = self.min_per_order
        if self.max_pct_of_notional is not None:
            cap = self.max_pct_of_notional * _notional(quantity, price, notional) / _HUNDRED
            if commission > cap:
                commission = cap
        return FeeBreakdown(_round_half_even(commission, self._quantum))

    def __repr__(self) -> str:
        return f"TieredFeeModel(basis={self.basis!r}, tiers={self.tiers})"


class MakerTakerFeeModel:
    """Exchange access fees and liquidity rebates, per share, by liquidity flag.

    Parameters
    ----------
    taker_fee_per_share
        Charged when the order removed liquidity (Reg NMS Rule 610(c) caps it at USD 0.0030
        per share for quotes of USD 1.00 or more).
    maker_rebate_per_share
        Paid when the order added liquidity; reported as a negative exchange fee.
    auction_fee_per_share
        Charged for opening/closing auction executions.

    Notes
    -----
    ``exchange = rate * quantity`` (negative for a rebate), rounded to the cent (half-even).
    """

    __slots__ = ("taker_fee_per_share", "maker_rebate_per_share", "auction_fee_per_share", "currency", "_quantum")

    def __init__(self, *, taker_fee_per_share: str | Decimal = "0.0030",
                 maker_rebate_per_share: str | Decimal = "0.0020",
                 auction_fee_per_share: str | Decimal = "0", currency: str = "USD") -> None:
        self.taker_fee_per_share = _decimal(taker_fee_per_share, "taker_fee_per_share")
        self.maker_rebate_per_share = _decimal(maker_rebate_per_share, "maker_rebate_per_share")
        self.auction_fee_per_share = _decimal(auction_fee_per_share, "auction_fee_per_share")
        self.currency = currency
        self._quantum = minor_unit(currency)

    def fees(self, *, side: Side, quantity: Decimal, price: Decimal, liquidity: Liquidity,
             ts: datetime | None = None, notional: Decimal | None = None) -> FeeBreakdown:
        if liquidity is Liquidity.MAKER:
            amount = -self.maker_rebate_per_share * quantity
        elif liquidity is Liquidity.AUCTION:
            amount = self.auction_fee_per_share * quantity
        else:
            amount = self.taker_fee_per_share * quantity
        return FeeBreakdown(exchange=_round_half_even(amount, self._quantum))

    def __repr__(self) -> str:
        return (f"MakerTakerFeeModel(taker_fee_per_share={self.taker_fee_per_share}, "
                f"maker_rebate_per_share={self.maker_rebate_per_share})")


@dataclass(frozen=True, slots=True, kw_only=True)
class DatedRate:
    """A fee rate in force from ``effective`` (inclusive, US Eastern trade date) until the next entry."""

    effective: date
    rate: Decimal
    max_per_trade: Decimal | None = None
    source: str = ""

    def __post_init__(self) -> None:
        object.__setattr__(self, "rate", _decimal(self.rate, "rate"))
        object.__setattr__(self, "max_per_trade", _optional_decimal(self.max_per_trade, "max_per_trade"))


def _per_million(amount: str) -> Decimal:
    return Decimal(amount) / _ONE_MILLION


_SEC_ORDER = "SEC, Order Making Fiscal Year {} Annual Adjustments to Transaction Fee Rates"

# SEC Section 31 fee, as a fraction of the dollar amount of covered *sales*. Each fiscal year's
# rate takes effect 60 days after the SEC's regular appropriation is enacted.
SEC_SECTION_31_SCHEDULE: tuple[DatedRate, ...] = (
    DatedRate(effective=date(2020, 2, 18), rate=_per_million("22.10"),
              source=_SEC_ORDER.format(2020) + ": $22.10 per million from Feb. 18, 2020"),
    DatedRate(effective=date(2021, 2, 25), rate=_per_million("5.10"),
              source=_SEC_ORDER.format(2021) + ": $5.10 per million from Feb. 25, 2021"),
    DatedRate(effective=date(2022, 5, 14), rate=_per_million("22.90"),
              source=_SEC_ORDER.format(2022) + ": $22.90 per million from May 14, 2022"),
    DatedRate(effective=date(2023, 2, 27), rate=_per_million("8.00"),
              source=_SEC_ORDER.format(2023) + ": $8.00 per million from Feb. 27, 2023"),
    DatedRate(effective=date(2024, 5, 22), rate=_per_million("27.80"),
              source=_SEC_ORDER.format(2024) + ", Release No. 34-99973 (Apr. 17, 2024), 89 FR 29402: "
                     "$27.80 per million from May 22, 2024"),
    DatedRate(effective=date(2025, 5, 14), rate=_per_million("0"),
              source=_SEC_ORDER.format(2025) + ", Release No. 34-102779 (Apr. 8, 2025), 90 FR 15492: "
                     "$0.00 per million from May 14, 2025"),
    DatedRate(effective=date(2026, 4, 4), rate=_per_million("20.60"),
              source=_SEC_ORDER.format(2026) + ", Release No. 34-104909 (Feb. 27, 2026), 91 FR 10643: "
                     "$20.60 per million from Apr. 4, 2026"),
)

# FINRA Trading Activity Fee on sales of covered equity securities, per share, capped per trade
# (FINRA By-Laws, Schedule A, Section 1(b)). 2022-2024 are the phases of FINRA's 2020 fee filing
# (SR-FINRA-2020-032, 85 FR 66592, Oct. 20, 2020); 2026 is the first TAF phase of SR-FINRA-2024-019
# (89 FR 93709, Nov. 27, 2024).
FINRA_TAF_SCHEDULE: tuple[DatedRate, ...] = (
    DatedRate(effective=date(2022, 1, 1), rate=Decimal("0.000130"), max_per_trade=Decimal("6.49"),
              source="FINRA TAF 2022 phase (SR-FINRA-2020-032): $0.000130 per share, max $6.49"),
    DatedRate(effective=date(2023, 1, 1), rate=Decimal("0.000145"), max_per_trade=Decimal("7.27"),
              source="FINRA TAF 2023 phase (SR-FINRA-2020-032): $0.000145 per share, max $7.27"),
    DatedRate(effective=date(2024, 1, 1), rate=Decimal("0.000166"), max_per_trade=Decimal("8.30"),
              source="FINRA TAF 2024 phase (SR-FINRA-2020-032): $0.000166 per share, max $8.30"),
    DatedRate(effective=date(2026, 1, 1), rate=Decimal("0.000195"), max_per_trade=Decimal("9.79"),
              source="FINRA TAF 2026 phase (SR-FINRA-2024-019): $0.000195 per share, max $9.79"),
)


def _check_schedule(schedule: Iterable[DatedRate], name: str) -> tuple[DatedRate, ...]:
    entries = tuple(schedule)
    if not entries:
        raise InvalidInput(f"{name} must have at least one entry")
    for earlier, later in zip(entries, entries[1:], strict=False):
        if later.effective <= earlier.effective:
            raise InvalidInput(f"{name} effective dates must increase, {later.effective} <= {earlier.effective}")
    return entries


def _rate_on(schedule: tuple[DatedRate, ...], day: date) -> DatedRate | None:
    found = None
    for entry in schedule:
        if entry.effective <= day:
            found = entry
        else:
            break
    return found


class RegulatoryFees:
    """Add the SEC Section 31 fee and the FINRA Trading Activity Fee to sells.

    Parameters
    ----------
    sec_schedule
        Dated SEC Section 31 rates (fraction of sale proceeds). Defaults to
        :data:`SEC_SECTION_31_SCHEDULE`.
    taf_schedule
        Dated FINRA TAF rates (per share sold) with their per-trade maximum. Defaults to
        :data:`FINRA_TAF_SCHEDULE`.
    as_of
        Trade date to use when ``fees`` is called without ``ts``; without either the call
        raises, because the rates change during the year.
    currency
        Currency of the result.

    Notes
    -----
    Buys pay nothing. For a sell of ``q`` shares with proceeds ``N``:

    ``sec = ceil_cent(N * sec_rate)`` and ``taf = ceil_cent(min(q * taf_rate, taf_max))``.

    Example at $27.80 per million and $0.000166 per share: selling 1,000 shares at $50 gives
    ``sec = ceil_cent(50,000 * 0.0000278) = ceil_cent(1.39) = $1.39`` and
    ``taf = ceil_cent(0.166) = $0.17``. Brokers pass these fees through; some aggregate them
    per day before rounding, which this per-trade model does not do.

    The default schedules run from 2020 (SEC) and 2022 (TAF). The fiscal 2026 SEC rate and the
    2026 TAF phase were taken from secondary sources quoting the orders; check them against
    the SEC's fee rate advisories and FINRA's Trading Activity Fee page, and add later entries
    as they are announced.

    Raises
    ------
    InvalidInput
        From :meth:`fees`, for a sell without ``ts`` or ``as_of``, or dated before a schedule starts.

    References
    ----------
    Securities Exchange Act of 1934 s.31, 15 U.S.C. 78ee; the SEC's annual "Order Making Fiscal
    Year ... Annual Adjustments to Transaction Fee Rates" (see each schedule entry's ``source``).
    FINRA By-Laws, Schedule A, Section 1 (Trading Activity Fee).
    """

    __slots__ = ("sec_schedule", "taf_schedule", "as_of", "currency", "_quantum", "_rates_cache")

    def __init__(self, *, sec_schedule: Iterable[DatedRate] = SEC_SECTION_31_SCHEDULE,
                 taf_schedule: Iterable[DatedRate] = FINRA_TAF_SCHEDULE, as_of: date | None = None,
                 currency: str = "USD") -> None:
        self.sec_schedule = _check_schedule(sec_schedule, "sec_schedule")
        self.taf_schedule = _check_schedule(taf_schedule, "taf_schedule")
        self.as_of = as_of
        self.currency = currency
        self._quantum = minor_unit(currency)
        self._rates_cache: dict[date, tuple[DatedRate | None, DatedRate | None]] = {}

    @classmethod
    def fixed(cls, *, sec_rate_per_million: str | Decimal = "27.80", taf_per_share: str | Decimal = "0.000166",
              taf_max_per_trade: str | Decimal = "8.30", currency: str = "USD") -> RegulatoryFees:
        """A model with one constant rate of each fee (the brief's defaults: fiscal 2025's first rates)."""
        sec = DatedRate(effective=date.min, rate=to_decimal(sec_rate_per_million) / _ONE_MILLION, source="fixed")
        taf = DatedRate(effective=date.min, rate=to_decimal(taf_per_share),
                        max_per_trade=to_decimal(taf_max_per_trade), source="fixed")
        return cls(sec_schedule=(sec,), taf_schedule=(taf,), as_of=date.min, currency=currency)

    def rates_on(self, day: date) -> tuple[DatedRate | None, DatedRate | None]:
        """The SEC and TAF entries in force on trade date ``day``."""
        rates = self._rates_cache.get(day)
        if rates is None:
            if len(self._rates_cache) > 4096:
                self._rates_cache.clear()
            rates = self._rates_cache[day] = (_rate_on(self.sec_schedule, day), _rate_on(self.taf_schedule, day))
        return rates

    def fees(self, *, side: Side, quantity: Decimal, price: Decimal, liquidity: Liquidity,
             ts: datetime | None = None, notional: Decimal | None = None) -> FeeBreakdown:
        if side is not Side.SELL:
            return ZERO_FEES
        if ts is not None:
            day = _trade_date(ts)
        elif self.as_of is not None:
            day = self.as_of
        else:
            raise InvalidInput("ts is required to pick the regulatory fee rates in force (or set as_of)")
        sec_entry, taf_entry = self.rates_on(day)
        if sec_entry is None or taf_entry is None:
            first = self.sec_schedule[0].effective if sec_entry is None else self.taf_schedule[0].effective
            name = "sec_schedule" if sec_entry is None else "taf_schedule"
            raise InvalidInput(f"no regulatory fee rate known for trade date {day}: {name} starts on {first}; "
                               f"extend the schedule or use RegulatoryFees.fixed(...)")
        total = _ZERO
        if sec_entry.rate:
            total += _round_up(_notional(quantity, price, notional) * sec_entry.rate, self._quantum)
        if taf_entry.rate:
            taf = quantity * taf_entry.rate
            if taf_entry.max_per_trade is not None and taf > taf_entry.max_per_trade:
                taf = taf_entry.max_per_trade
            total += _round_up(taf, self._quantum)
        return FeeBreakdown(regulatory=total)

    def __repr__(self) -> str:
        return f"RegulatoryFees(sec_entries={len(self.sec_schedule)}, taf_entries={len(self.taf_schedule)})"


class CompositeFeeModel:
    """Sum the breakdowns of several models (e.g. commission + regulatory + exchange).

    ``record_fill`` is forwarded to every part that has it.
    """

    __slots__ = ("models", "_recorders")

    def __init__(self, *models: FeeModel) -> None:
        if not models:
            raise InvalidInput("CompositeFeeModel needs at least one model")
        self.models: tuple[FeeModel, ...] = models
        self._recorders = tuple(m for m in models if callable(getattr(m, "record_fill", None)))

    def fees(self, *, side: Side, quantity: Decimal, price: Decimal, liquidity: Liquidity,
             ts: datetime | None = None, notional: Decimal | None = None) -> FeeBreakdown:
        commission = regulatory = exchange = _ZERO
        for model in self.models:
            part = model.fees(side=side, quantity=quantity, price=price, liquidity=liquidity, ts=ts,
                              notional=notional)
            commission += part.commission
            regulatory += part.regulatory
            exchange += part.exchange
        return FeeBreakdown(commission, regulatory, exchange)

    def record_fill(self, *, quantity: Decimal, ts: datetime) -> None:
        for model in self._recorders:
            model.record_fill(quantity=quantity, ts=ts)  # type: ignore[attr-defined]

    def __repr__(self) -> str:
        return f"CompositeFeeModel{self.models!r}"
