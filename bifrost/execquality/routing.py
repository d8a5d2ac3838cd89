"""Smart order routing across venues with their own fees, displayed liquidity, latency and fill odds.

Each venue has a fee schedule (maker-taker: takers pay, makers earn a rebate; inverted: takers
earn a rebate, makers pay), a displayed quote, a latency and a probability that an order
sent to its displayed size fills. The router takes the displayed liquidity in order of
**expected all-in cost per share**::

    buy:  c_v = ask_v + taker_fee_v + latency_ms_v * latency_cost_per_ms + (1 - p_v) * miss_penalty
    sell: c_v = -bid_v + taker_fee_v + latency_ms_v * latency_cost_per_ms + (1 - p_v) * miss_penalty

(``taker_fee`` negative for a taker rebate), each venue up to its displayed size, never
through the limit. Minimising ``sum c_v q_v`` subject to ``0 <= q_v <= size_v`` and
``sum q_v = Q`` is a linear programme whose optimum is exactly this greedy fill (the
constraint matrix is a single row plus bounds). What no displayed quote covers is posted
as a resting limit order at the venue with the best maker rebate (when a limit is given),
or left unrouted.

Children carry a venue hint in ``OrderRequest.tag`` (``"venue=NAME"``) for a broker adapter
that can direct orders.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal

import numpy as np

from bifrost.core.errors import InvalidInput
from bifrost.core.money import decimal_from_float
from bifrost.orders.types import OrderRequest, OrderType, Side, TimeInForce

__all__ = ["RouteLeg", "RoutePlan", "VenueProfile", "VenueQuote", "demo_venues", "route_order", "simulate_route"]


def _finite(value: float, name: str, *, minimum: float | None = None, maximum: float | None = None) -> float:
    value = float(value)
    if not math.isfinite(value) or (minimum is not None and value < minimum) or (maximum is not None and value > maximum):
        bounds = f" in [{minimum}, {maximum}]" if maximum is not None else (f" >= {minimum}" if minimum is not None else "")
        raise InvalidInput(f"{name} must be a finite number{bounds}, was {value!r}")
    return value


@dataclass(frozen=True, slots=True, kw_only=True)
class VenueProfile:
    """A venue's fee schedule and behaviour (per share, in currency units).

    ``taker_fee_per_share`` is negative on an inverted venue (takers are paid);
    ``maker_rebate_per_share`` is negative there (makers pay).
    """

    name: str
    taker_fee_per_share: float = 0.0030
    maker_rebate_per_share: float = 0.0020
    latency_ms: float = 1.0
    fill_probability: float = 1.0

    def __post_init__(self) -> None:
        if not self.name:
            raise InvalidInput("venue name must not be empty")
        _finite(self.taker_fee_per_share, "taker_fee_per_share", minimum=-0.01, maximum=0.0030)
        _finite(self.maker_rebate_per_share, "maker_rebate_per_share", minimum=-0.01, maximum=0.01)
        _finite(self.latency_ms, "latency_ms", minimum=0.0)
        _finite(self.fill_probability, "fill_probability", minimum=0.0, maximum=1.0)

    @property
    def schedule(self) -> str:
        return "inverted" if self.taker_fee_per_share < 0 else "maker-taker"


@dataclass(frozen=True, slots=True, kw_only=True)
class VenueQuote:
    """A venue's displayed top of book."""

    venue: str
    bid: float
    bid_size: float
    ask: float
    ask_size: float

    def __post_init__(self) -> None:
        _finite(self.bid, "bid", minimum=0.0)
        _finite(self.ask, "ask", minimum=0.0)
        _finite(self.bid_size, "bid_size", minimum=0.0)
        _finite(self.ask_size, "ask_size", minimum=0.0)
        if self.bid > 0 and self.ask > 0 and self.bid > self.ask:
            raise InvalidInput(f"venue {self.venue} quote is crossed: bid {self.bid} > ask {self.ask}")


@dataclass(frozen=True, slots=True)
class RouteLeg:
    venue: str
    quantity: float
    price: float
    action: str  # "take" or "post"
    fee_per_share: float
    expected_cost_per_share: float
    fill_probability: float

    @property
    def expected_fee(self) -> float:
        return self.fee_per_share * self.quantity * self.fill_probability


@dataclass(frozen=True, slots=True)
class RoutePlan:
    """Where each share goes, with the expected all-in price."""

    side: Side
    quantity: float
    legs: tuple[RouteLeg, ...]
    unrouted: float

    @property
    def routed(self) -> float:
        return sum(leg.quantity for leg in self.legs)

    @property
    def expected_fill(self) -> float:
        return sum(leg.quantity * leg.fill_probability for leg in self.legs if leg.action == "take")

    @property
    def expected_all_in_price(self) -> float:
        """Share-weighted price plus fees (minus rebates) of the taking legs; NaN without any."""
        take = [leg for leg in self.legs if leg.action == "take"]
        shares = sum(leg.quantity for leg in take)
        if shares == 0:
            return float("nan")
        return sum(leg.quantity * (leg.price + self.side.sign * leg.fee_per_share) for leg in take) / shares

    def child_requests(self, *, parent_id: str, symbol: str) -> list[OrderRequest]:
        """IOC limit children for taking legs, DAY limits for posting legs, each with a venue hint."""
        requests = []
        for i, leg in enumerate(self.legs, start=1):
            if leg.quantity <= 0:
                continue
            requests.append(OrderRequest(
                client_order_id=f"{parent_id}-r{i}", symbol=symbol, side=self.side,
                quantity=Decimal(str(leg.quantity)), order_type=OrderType.LIMIT,
                limit_price=decimal_from_float(leg.price),
                time_in_force=TimeInForce.IOC if leg.action == "take" else TimeInForce.DAY,
                parent_id=parent_id, tag=f"venue={leg.venue}"))
        return requests

    def to_dict(self) -> dict[str, object]:
        return {"side": self.side.value, "quantity": self.quantity, "unrouted": self.unrouted,
                "expected_fill": self.expected_fill, "expected_all_in_price": self.expected_all_in_price,
                "legs": [{"venue": leg.venue, "quantity": leg.quantity, "price": leg.price, "action": leg.action,
                          "fee_per_share": leg.fee_per_share, "expected_cost_per_share": leg.expected_cost_per_share,
                          "fill_probability": leg.fill_probability} for leg in self.legs]}


def route_order(*, side: Side | str, quantity: float, venues: Sequence[VenueProfile], quotes: Sequence[VenueQuote],
                limit_price: float | None = None, latency_cost_per_ms: float = 0.0,
                miss_penalty_per_share: float = 0.01, post_remainder: bool = True) -> RoutePlan:
    """Split an order across venues to minimise the expected all-in cost (see the module docstring).

    Parameters
    ----------
    side, quantity
        The order.
    venues, quotes
        Venue profiles and their current displayed quotes (matched by name).
    limit_price
        Never take liquidity beyond it; the remainder may be posted at it.
    latency_cost_per_ms
        Expected adverse price move per share per millisecond of latency.
    miss_penalty_per_share
        Expected extra cost of re-routing a share that did not fill.
    post_remainder
        Post what displayed liquidity cannot cover at the limit, on the venue paying the best
        maker rebate.

    Raises
    ------
    InvalidInput
        For a non-positive quantity, an unknown venue in ``quotes``, or duplicate venues.
    """
    side = Side(side)
    quantity = _finite(quantity, "quantity", minimum=0.0)
    if quantity <= 0:
        raise InvalidInput(f"quantity must be positive, was {quantity}")
    profiles = {v.name: v for v in venues}
    if len(profiles) != len(venues):
        raise InvalidInput("venue names must be unique")
    candidates = []
    for quote in quotes:
        profile = profiles.get(quote.venue)
        if profile is None:
            raise InvalidInput(f"quote for unknown venue {quote.venue!r}; venues are {', '.join(profiles)}")
        price, size = (quote.ask, quote.ask_size) if side is Side.BUY else (quote.bid, quote.bid_size)
        if size <= 0 or price <= 0:
            continue
        if limit_price is not None and (price > limit_price if side is Side.BUY else price < limit_price):
            continue
        cost = (side.sign * price + profile.taker_fee_per_share + profile.latency_ms * latency_cost_per_ms
                + (1.0 - profile.fill_probability) * miss_penalty_per_share)
        candidates.append((cost, profile.latency_ms, quote.venue, price, size, profile))
    candidates.sort(key=lambda c: (c[0], c[1], c[2]))
    legs: list[RouteLeg] = []
    remaining = quantity
    for cost, _, name, price, size, profile in candidates:
        if remaining <= 0:
            break
        take = min(size, remaining)
        legs.append(RouteLeg(name, take, price, "take", profile.taker_fee_per_share, cost, profile.fill_probability))
        remaining -= take
    if remaining > 0 and post_remainder and limit_price is not None and profiles:
        best = max(profiles.values(), key=lambda v: (v.maker_rebate_per_share, v.fill_probability, -v.latency_ms))
        legs.append(RouteLeg(best.name, remaining, float(limit_price), "post", -best.maker_rebate_per_share,
                             side.sign * float(limit_price) - best.maker_rebate_per_share, best.fill_probability))
        remaining = 0.0
    return RoutePlan(side, quantity, tuple(legs), remaining)


def simulate_route(plan: RoutePlan, *, seed: int | np.random.Generator = 0) -> dict[str, float]:
    """Send a plan's taking legs to the simulated venues: each fills whole with its probability.

    Returns
    -------
    dict
        ``filled``, ``unfilled``, ``average_price`` and ``fees`` (positive = paid) of the taking legs.
    """
    rng = seed if isinstance(seed, np.random.Generator) else np.random.default_rng(seed)
    filled = notional = fees = 0.0
    take = [leg for leg in plan.legs if leg.action == "take"]
    for leg in take:
        if rng.random() < leg.fill_probability:
            filled += leg.quantity
            notional += leg.quantity * leg.price
            fees += leg.quantity * leg.fee_per_share
    wanted = sum(leg.quantity for leg in take)
    return {"filled": filled, "unfilled": wanted - filled,
            "average_price": notional / filled if filled else float("nan"), "fees": fees}


def demo_venues() -> list[VenueProfile]:
    """Four illustrative US venues: two maker-taker, one inverted, one slow dark-ish venue.

    Fee levels are of the order the public schedules show (taker fees at the Reg NMS Rule
    610(c) cap of USD 0.0030, inverted venues paying takers about USD 0.0005-0.0020).
    """
    return [
        VenueProfile(name="MTX-A", taker_fee_per_share=0.0030, maker_rebate_per_share=0.0029, latency_ms=0.5,
                     fill_probability=0.97),
        VenueProfile(name="MTX-B", taker_fee_per_share=0.0028, maker_rebate_per_share=0.0020, latency_ms=0.8,
                     fill_probability=0.95),
        VenueProfile(name="INV-C", taker_fee_per_share=-0.0015, maker_rebate_per_share=-0.0018, latency_ms=1.0,
                     fill_probability=0.90),
        VenueProfile(name="MID-D", taker_fee_per_share=0.0010, maker_rebate_per_share=0.0, latency_ms=5.0,
                     fill_probability=0.50),
    ]
