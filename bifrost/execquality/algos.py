"""Execution algorithms: parent orders that work child orders through the trading core.

An :class:`AlgoRunner` owns one :class:`ParentOrder` and one :class:`ExecutionAlgo`. After
each bar (or quote) of its symbol has been given to the engine, the runner is told of it
(:meth:`AlgoRunner.on_bar` / :meth:`AlgoRunner.on_quote`); it then compares what the
schedule wants done by the *next* decision point with what is filled and working, and
submits child :class:`~bifrost.orders.OrderRequest` objects to the
:class:`~bifrost.trading.TradingEngine` (``parent_id`` = the parent's id, ``tag`` = the
algorithm name). The same runner works in a backtest, on the paper exchange and live: only
the engine's clock and venue differ. :func:`run_on_bars` drives runners over a bar frame.

Every algorithm honours:

* ``limit_price``: children are limit orders at the parent's limit (never worse);
* ``start`` / ``end``: nothing is sent before ``start``; at ``end`` working children are
  cancelled and the parent ends ``EXPIRED`` if shares remain;
* ``max_participation``: a child never exceeds that fraction of the last bar's volume, less
  what is already working;
* the kill switch (the portfolio's or the global one): working children are cancelled and
  the parent is ``CANCELLED`` (``on_kill_switch="cancel"``) or ``PAUSED`` until the switch is
  released (``"pause"``); a parent still paused at its ``end`` expires;
* ``lot_size``: children are whole lots, except the last, which takes the odd lot so the
  parent quantity is filled exactly.

TWAP and VWAP also work passively (``passive=True``): each slice rests at the near touch,
re-pegged when the touch moves, and at each bar only what the schedule wanted done by then
and is not gets crossed; in the last step everything left is crossed.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import ROUND_FLOOR, Decimal
from enum import StrEnum

import numpy as np
import pandas as pd

from bifrost.core.errors import InvalidInput, OrderRejected, StateConflict
from bifrost.core.money import decimal_from_float, round_to_tick, to_decimal
from bifrost.core.time import ensure_utc
from bifrost.execquality.almgren_chriss import AlmgrenChrissParams, optimal_trajectory
from bifrost.execquality.volume_curve import VolumeCurve
from bifrost.orders.types import OrderRequest, OrderType, Side, TimeInForce

__all__ = [
    "AlgoRunner",
    "AlgoState",
    "ExecutionAlgo",
    "IcebergAlgo",
    "ImplementationShortfallAlgo",
    "ParentOrder",
    "PegAlgo",
    "POVAlgo",
    "TWAPAlgo",
    "VWAPAlgo",
    "make_algo",
    "run_on_bars",
]

_ZERO = Decimal(0)


class AlgoState(StrEnum):
    PENDING = "pending"
    WORKING = "working"
    PAUSED = "paused"
    COMPLETED = "completed"
    EXPIRED = "expired"
    CANCELLED = "cancelled"

    @property
    def is_terminal(self) -> bool:
        return self in (AlgoState.COMPLETED, AlgoState.EXPIRED, AlgoState.CANCELLED)


@dataclass(frozen=True, slots=True, kw_only=True)
class ParentOrder:
    """What the trader asks an algorithm to do.

    Raises
    ------
    InvalidInput
        If the quantity is not positive, ``end <= start``, the participation is not in
        (0, 1], or ``on_kill_switch`` is not "cancel" or "pause".
    """

    parent_id: str
    symbol: str
    side: Side
    quantity: Decimal
    start: datetime
    end: datetime
    limit_price: Decimal | None = None
    max_participation: float | None = None
    on_kill_switch: str = "cancel"
    lot_size: Decimal = Decimal(1)

    def __post_init__(self) -> None:
        if not self.parent_id or len(self.parent_id) > 48:
            raise InvalidInput(f"parent_id must be 1-48 characters, was {self.parent_id!r}")
        object.__setattr__(self, "symbol", self.symbol.upper())
        object.__setattr__(self, "side", Side(self.side))
        quantity = to_decimal(self.quantity, field="quantity")
        if quantity <= 0:
            raise InvalidInput(f"quantity must be positive, was {quantity}")
        object.__setattr__(self, "quantity", quantity)
        object.__setattr__(self, "start", ensure_utc(self.start, field="start"))
        object.__setattr__(self, "end", ensure_utc(self.end, field="end"))
        if self.end <= self.start:
            raise InvalidInput(f"end must be after start, were {self.start.isoformat()} and {self.end.isoformat()}")
        if self.limit_price is not None:
            limit = to_decimal(self.limit_price, field="limit_price")
            if limit <= 0:
                raise InvalidInput(f"limit_price must be positive, was {limit}")
            object.__setattr__(self, "limit_price", limit)
        if self.max_participation is not None and not 0 < float(self.max_participation) <= 1:
            raise InvalidInput(f"max_participation must be in (0, 1], was {self.max_participation}")
        if self.on_kill_switch not in ("cancel", "pause"):
            raise InvalidInput(f"on_kill_switch must be 'cancel' or 'pause', was {self.on_kill_switch!r}")
        lot = to_decimal(self.lot_size, field="lot_size")
        if lot <= 0:
            raise InvalidInput(f"lot_size must be positive, was {lot}")
        object.__setattr__(self, "lot_size", lot)

    @property
    def sign(self) -> int:
        return self.side.sign


@dataclass(slots=True)
class MarketState:
    """What the runner has seen of its symbol's market."""

    last_price: Decimal | None = None
    bid: Decimal | None = None
    ask: Decimal | None = None
    last_bar_volume: float = 0.0
    volume_since_start: float = 0.0
    bar_length: timedelta = timedelta(minutes=1)


class ExecutionAlgo(ABC):
    """A schedule: how many shares should be done by an instant."""

    name: str = "algo"

    @abstractmethod
    def target_quantity(self, parent: ParentOrder, market: MarketState, at: datetime) -> Decimal:
        """Cumulative shares the schedule wants filled by ``at`` (between 0 and the parent's quantity)."""

    def child_limit(self, parent: ParentOrder, market: MarketState) -> Decimal | None:
        """Limit price of new children; ``None`` for market orders."""
        return parent.limit_price

    def max_working(self, parent: ParentOrder) -> Decimal | None:
        """Most shares that may be working at once (``None``: no limit beyond the schedule)."""
        return None

    def describe(self) -> dict[str, object]:
        return {"algo": self.name}


def _elapsed_fraction(parent: ParentOrder, at: datetime) -> float:
    total = (parent.end - parent.start).total_seconds()
    return min(max((at - parent.start).total_seconds() / total, 0.0), 1.0)


def _shares(fraction: float, quantity: Decimal) -> Decimal:
    return min(quantity, decimal_from_float(fraction, places=9) * quantity)


def _near_touch(parent: ParentOrder, market: MarketState, half_spread: Decimal) -> tuple[Decimal, Decimal] | None:
    # (mid, near touch): the NBBO when known, else the last close -/+ half_spread
    if market.bid is not None and market.ask is not None:
        return (market.bid + market.ask) / 2, market.bid if parent.side is Side.BUY else market.ask
    if market.last_price is not None:
        mid = market.last_price
        return mid, mid - half_spread if parent.side is Side.BUY else mid + half_spread
    return None


class _Styled:
    # the "passive" working style shared by the schedule algorithms: rest each slice at the near
    # touch, re-peg it every step and cross only what has fallen behind the schedule
    passive: bool
    half_spread: Decimal

    def _style(self, passive: bool, half_spread: Decimal | str) -> None:
        self.passive = bool(passive)
        self.half_spread = to_decimal(half_spread, field="half_spread")
        if self.half_spread < 0:
            raise InvalidInput(f"half_spread must not be negative, was {self.half_spread}")

    def resting_limit(self, parent: ParentOrder, market: MarketState) -> Decimal | None:
        """Price of a resting slice: the near touch, never beyond the parent's limit."""
        touch = _near_touch(parent, market, self.half_spread)
        if touch is None:
            return None
        price = touch[1].quantize(Decimal("0.0001"))
        if parent.limit_price is not None:
            price = min(price, parent.limit_price) if parent.side is Side.BUY else max(price, parent.limit_price)
        return price


class TWAPAlgo(_Styled, ExecutionAlgo):
    """Equal shares per unit of time: ``target(t) = Q * (t - start) / (end - start)``.

    With ``passive=True`` each slice rests at the near touch (bid for a buy; without quotes
    the last close ``-/+ half_spread``) and only what is behind the schedule is crossed.
    """

    name = "twap"

    def __init__(self, *, passive: bool = False, half_spread: Decimal | str = "0.01") -> None:
        self._style(passive, half_spread)

    def target_quantity(self, parent: ParentOrder, market: MarketState, at: datetime) -> Decimal:
        return _shares(_elapsed_fraction(parent, at), parent.quantity)

    def describe(self) -> dict[str, object]:
        return {"algo": self.name, "style": "passive" if self.passive else "aggressive"}


class VWAPAlgo(_Styled, ExecutionAlgo):
    """Shares in proportion to the expected intraday volume: ``target(t) = Q * C(start, t) / C(start, end)``.

    ``curve`` comes from the symbol's own history (:meth:`VolumeCurve.from_bars`). With
    ``passive=True`` each slice rests at the near touch and only what is behind the schedule
    is crossed (see :class:`TWAPAlgo`); :func:`~bifrost.execquality.selection.recommend`
    chooses this style when TCA of past resting fills says it pays.
    """

    name = "vwap"

    def __init__(self, curve: VolumeCurve, *, passive: bool = False, half_spread: Decimal | str = "0.01") -> None:
        self.curve = curve
        self._style(passive, half_spread)

    def target_quantity(self, parent: ParentOrder, market: MarketState, at: datetime) -> Decimal:
        return _shares(self.curve.fraction_between(parent.start, parent.end, at), parent.quantity)

    def describe(self) -> dict[str, object]:
        return {"algo": self.name, "curve_buckets": len(self.curve.fractions), "curve_sessions": self.curve.sessions,
                "style": "passive" if self.passive else "aggressive"}


class POVAlgo(ExecutionAlgo):
    """Participation of volume: ``target = rate * market volume since start`` (capped at ``Q``).

    The volume is what the bars reported, so the algorithm trails the market by one bar.
    """

    name = "pov"

    def __init__(self, rate: float) -> None:
        if not 0 < rate <= 1:
            raise InvalidInput(f"participation rate must be in (0, 1], was {rate}")
        self.rate = float(rate)

    def target_quantity(self, parent: ParentOrder, market: MarketState, at: datetime) -> Decimal:
        # volume seen so far plus the last bar's volume as the forecast of the next bar
        wanted = decimal_from_float(self.rate * (market.volume_since_start + market.last_bar_volume), places=6)
        return min(parent.quantity, wanted)

    def describe(self) -> dict[str, object]:
        return {"algo": self.name, "rate": self.rate}


class ImplementationShortfallAlgo(ExecutionAlgo):
    """Follow the Almgren-Chriss optimal trajectory between ``start`` and ``end``.

    ``params`` gives the model (its ``shares`` and horizon are rescaled to the parent); the
    holdings between grid points are interpolated linearly.
    """

    name = "is"

    def __init__(self, params: AlmgrenChrissParams) -> None:
        self.params = params
        self.schedule = optimal_trajectory(params)

    def target_quantity(self, parent: ParentOrder, market: MarketState, at: datetime) -> Decimal:
        f = _elapsed_fraction(parent, at)
        grid = self.schedule.times_days / self.params.horizon_days
        done = 1.0 - self.schedule.holdings / self.params.shares
        return _shares(float(np.interp(f, grid, done)), parent.quantity)

    def describe(self) -> dict[str, object]:
        return {"algo": self.name, "kappa": self.schedule.kappa, "risk_aversion": self.params.risk_aversion,
                "expected_cost": self.schedule.expected_cost, "variance": self.schedule.variance}


class IcebergAlgo(ExecutionAlgo):
    """Show ``display_quantity`` at the parent's limit; send the next slice when one fills.

    The parent needs a ``limit_price``.
    """

    name = "iceberg"

    def __init__(self, display_quantity: Decimal | str | int) -> None:
        display = to_decimal(display_quantity, field="display_quantity")
        if display <= 0:
            raise InvalidInput(f"display_quantity must be positive, was {display}")
        self.display_quantity = display

    def target_quantity(self, parent: ParentOrder, market: MarketState, at: datetime) -> Decimal:
        if parent.limit_price is None:
            raise InvalidInput("an iceberg parent order needs a limit_price")
        return parent.quantity

    def max_working(self, parent: ParentOrder) -> Decimal | None:
        return self.display_quantity

    def describe(self) -> dict[str, object]:
        return {"algo": self.name, "display_quantity": str(self.display_quantity)}


class PegAlgo(ExecutionAlgo):
    """A limit order pegged to the mid or to the near touch (bid for buys, ask for sells).

    Without quotes the last bar's close stands for the mid and ``close -/+ half_spread`` for
    the near touch. The peg never crosses the parent's limit. When the peg price moves, the
    working child is cancelled and replaced at the new price.
    """

    name = "peg"

    def __init__(self, reference: str = "mid", *, half_spread: Decimal | str = "0.01",
                 max_slice: Decimal | str | None = None) -> None:
        if reference not in ("mid", "near"):
            raise InvalidInput(f"peg reference must be 'mid' or 'near', was {reference!r}")
        self.reference = reference
        self.half_spread = to_decimal(half_spread, field="half_spread")
        self.max_slice = None if max_slice is None else to_decimal(max_slice, field="max_slice")

    def target_quantity(self, parent: ParentOrder, market: MarketState, at: datetime) -> Decimal:
        return parent.quantity

    def max_working(self, parent: ParentOrder) -> Decimal | None:
        return self.max_slice

    def child_limit(self, parent: ParentOrder, market: MarketState) -> Decimal | None:
        touch = _near_touch(parent, market, self.half_spread)
        if touch is None:
            return None
        mid, near = touch
        # on the Rule 612 grid (a mid is often a half cent), rounded away from the market
        price = round_to_tick(mid if self.reference == "mid" else near, passive_for_buy=parent.side is Side.BUY)
        if parent.limit_price is not None:
            price = min(price, parent.limit_price) if parent.side is Side.BUY else max(price, parent.limit_price)
        return price

    def describe(self) -> dict[str, object]:
        return {"algo": self.name, "reference": self.reference}


def make_algo(name: str, **params: object) -> ExecutionAlgo:
    """Build an algorithm by name: twap, vwap (curve=), pov (rate=), is (params=), iceberg (display_quantity=), peg.

    ``style="passive"`` works a twap or vwap passively (see :class:`TWAPAlgo`).

    Raises
    ------
    InvalidInput
        For an unknown name or missing parameters.
    """
    try:
        passive = params.get("style", "aggressive") == "passive"
        if name == "twap":
            return TWAPAlgo(passive=passive, half_spread=params.get("half_spread", "0.01"))  # type: ignore[arg-type]
        if name == "vwap":
            curve = params.get("curve") or VolumeCurve.flat()
            return VWAPAlgo(curve, passive=passive,  # type: ignore[arg-type]
                            half_spread=params.get("half_spread", "0.01"))  # type: ignore[arg-type]
        if name == "pov":
            return POVAlgo(float(params.get("rate", 0.1)))  # type: ignore[arg-type]
        if name == "is":
            return ImplementationShortfallAlgo(params["params"])  # type: ignore[arg-type]
        if name == "iceberg":
            return IcebergAlgo(params["display_quantity"])  # type: ignore[arg-type]
        if name == "peg":
            return PegAlgo(str(params.get("reference", "mid")), half_spread=params.get("half_spread", "0.01"),  # type: ignore[arg-type]
                           max_slice=params.get("max_slice"))  # type: ignore[arg-type]
    except KeyError as exc:
        raise InvalidInput(f"algorithm {name!r} needs parameter {exc.args[0]!r}") from None
    raise InvalidInput(f"unknown algorithm {name!r}; expected twap, vwap, pov, is, iceberg or peg")


class AlgoRunner:
    """Work one parent order through a :class:`~bifrost.trading.TradingEngine`.

    Parameters
    ----------
    engine
        The trading core (its clock gives "now").
    parent
        The parent order.
    algo
        The schedule.
    """

    def __init__(self, *, engine, parent: ParentOrder, algo: ExecutionAlgo) -> None:
        self.engine = engine
        self.parent = parent
        self.algo = algo
        self.state = AlgoState.PENDING
        self.market = MarketState()
        self.children: list[str] = []
        self.rejections: list[str] = []
        self.events: list[tuple[datetime, str]] = []
        self._sequence = 0
        self._resting: set[str] = set()

    # ----------------------------------------------------------------- queries

    @property
    def filled_quantity(self) -> Decimal:
        return sum((self.engine.order(c).filled_quantity for c in self.children), _ZERO)

    @property
    def working_quantity(self) -> Decimal:
        return sum((self.engine.order(c).working_quantity for c in self.children), _ZERO)

    @property
    def filled_notional(self) -> Decimal:
        return sum((self.engine.order(c).filled_notional for c in self.children), _ZERO)

    @property
    def average_price(self) -> Decimal | None:
        filled = self.filled_quantity
        return None if filled == 0 else self.filled_notional / filled

    def _kill_switch_on(self) -> bool:
        return bool(self.engine.kill_switch or self.engine.global_kill_switch())

    # ----------------------------------------------------------------- commands

    def cancel(self, reason: str = "cancelled") -> None:
        """Cancel the parent: working children are cancelled, nothing more is sent.

        Raises
        ------
        StateConflict
            If the parent already ended (completed, expired or cancelled).
        """
        if self.state.is_terminal:
            raise StateConflict(f"parent order {self.parent.parent_id} is {self.state.value}; nothing to cancel")
        self._cancel_children()
        self._set(AlgoState.CANCELLED, reason)

    def _set(self, state: AlgoState, reason: str) -> None:
        if state is not self.state:
            self.state = state
            self.events.append((self.engine.clock.now(), f"{state.value}: {reason}"))

    def _cancel_children(self) -> None:
        for child in self.children:
            order = self.engine.order(child)
            if not order.is_terminal:
                try:
                    self.engine.cancel(child)
                except StateConflict:
                    pass

    def on_quote(self, symbol: str, ts: datetime, bid: Decimal | float, ask: Decimal | float) -> list[OrderRequest]:
        """Record the NBBO of the parent's symbol and act on it (pegs re-price)."""
        if symbol.upper() != self.parent.symbol:
            return []
        self.market.bid = to_decimal(str(bid), field="bid")
        self.market.ask = to_decimal(str(ask), field="ask")
        return self._step(ensure_utc(ts, field="ts"), bar=False)

    def on_bar(self, symbol: str, ts_open: datetime, open_: float, high: float, low: float, close: float,
               volume: float, *, bar_end: datetime) -> list[OrderRequest]:
        """Record a bar the engine has already matched, then send the children the schedule needs.

        Returns the child requests sent.
        """
        if symbol.upper() != self.parent.symbol:
            return []
        ts_open = ensure_utc(ts_open, field="ts_open")
        bar_end = ensure_utc(bar_end, field="bar_end")
        self.market.last_price = decimal_from_float(float(close))
        if ts_open >= self.parent.start:
            self.market.volume_since_start += float(volume)
        self.market.last_bar_volume = float(volume)
        self.market.bar_length = bar_end - ts_open
        return self._step(bar_end)

    def _step(self, now: datetime, *, bar: bool = True) -> list[OrderRequest]:
        if self.state.is_terminal:
            return []
        if self.filled_quantity >= self.parent.quantity:
            # done before the switch fired: the parent completed, it was not cancelled
            self._set(AlgoState.COMPLETED, "filled")
            return []
        if self._kill_switch_on():
            self._cancel_children()
            if self.parent.on_kill_switch == "cancel":
                self._set(AlgoState.CANCELLED, "kill switch")
            elif now >= self.parent.end:
                # a pause cannot outlive the order: past its end it expires like a working one
                self._set(AlgoState.EXPIRED, f"end reached while paused with "
                                             f"{self.parent.quantity - self.filled_quantity} unfilled")
            else:
                self._set(AlgoState.PAUSED, "kill switch")
            return []
        if self.state is AlgoState.PAUSED:
            self._set(AlgoState.WORKING if now >= self.parent.start else AlgoState.PENDING, "kill switch released")
        filled = self.filled_quantity
        if now >= self.parent.end:
            self._cancel_children()
            self._set(AlgoState.EXPIRED, f"end reached with {self.parent.quantity - self.filled_quantity} unfilled")
            return []
        if now < self.parent.start:
            return []
        self._set(AlgoState.WORKING, "started")
        if isinstance(self.algo, _Styled) and self.algo.passive:
            return self._step_passive(now, filled, bar=bar)
        limit = self.algo.child_limit(self.parent, self.market)
        if isinstance(self.algo, PegAlgo):
            if limit is None:
                return []
            self._reprice(limit)
        horizon = min(now + self.market.bar_length, self.parent.end)
        target = self.algo.target_quantity(self.parent, self.market, horizon)
        working = self.working_quantity
        need = self._allowed(target - filled - working, filled, working)
        request = self._submit(need, limit)
        return [] if request is None else [request]

    def _step_passive(self, now: datetime, filled: Decimal, *, bar: bool) -> list[OrderRequest]:
        # Rest the slice due by the next step at the near touch; at a bar, cross (at the parent's
        # limit, or at market) whatever the schedule wanted done by now and is not. In the last
        # step everything left is due. Quotes between bars only re-peg the resting slice.
        assert isinstance(self.algo, _Styled)
        touch = self.algo.resting_limit(self.parent, self.market)
        if not bar:
            if touch is None:
                return []
            moved = self._cancel_resting(keep=touch)
            request = self._submit(self._allowed(moved, filled, self.working_quantity), touch, resting=True)
            return [] if request is None else [request]
        horizon = min(now + self.market.bar_length, self.parent.end)
        due = self.parent.quantity if horizon >= self.parent.end else \
            self.algo.target_quantity(self.parent, self.market, now)
        sent: list[OrderRequest] = []
        if due - filled > 0:
            self._cancel_resting()
            working = self.working_quantity
            request = self._submit(self._allowed(due - filled - working, filled, working), self.parent.limit_price)
            if request is not None:
                sent.append(request)
        elif touch is not None:
            self._cancel_resting(keep=touch)
        if touch is None:
            return sent
        working = self.working_quantity
        target = self.algo.target_quantity(self.parent, self.market, horizon)
        request = self._submit(self._allowed(target - filled - working, filled, working), touch, resting=True)
        if request is not None:
            sent.append(request)
        return sent

    def _allowed(self, need: Decimal, filled: Decimal, working: Decimal) -> Decimal:
        # the most a new child may be: display cap, participation cap, what is left, whole lots
        cap = self.algo.max_working(self.parent)
        if cap is not None:
            need = min(need, cap - working)
        if self.parent.max_participation is not None:
            allowed = decimal_from_float(self.parent.max_participation * self.market.last_bar_volume, places=6)
            need = min(need, allowed - working)
        left = self.parent.quantity - filled - working
        if need >= left:
            # the last child takes the odd lot too, so the parent quantity can be filled exactly
            return left
        lot = self.parent.lot_size
        return (need / lot).to_integral_value(rounding=ROUND_FLOOR) * lot

    def _submit(self, quantity: Decimal, limit: Decimal | None, *, resting: bool = False) -> OrderRequest | None:
        if quantity <= 0:
            return None
        self._sequence += 1
        request = OrderRequest(
            client_order_id=f"{self.parent.parent_id}-{self._sequence}", symbol=self.parent.symbol,
            side=self.parent.side, quantity=quantity,
            order_type=OrderType.MARKET if limit is None else OrderType.LIMIT,
            limit_price=limit, time_in_force=TimeInForce.DAY, parent_id=self.parent.parent_id, tag=self.algo.name)
        try:
            self.engine.submit(request)
        except OrderRejected as exc:
            self.children.append(request.client_order_id)
            self.rejections.append(str(exc))
            return None
        self.children.append(request.client_order_id)
        if resting:
            self._resting.add(request.client_order_id)
        return request

    def _cancel_resting(self, *, keep: Decimal | None = None) -> Decimal:
        # cancel resting children (all, or those not at ``keep``); returns the shares taken off the book
        moved = _ZERO
        for child in sorted(self._resting):
            order = self.engine.order(child)
            if order.is_terminal:
                self._resting.discard(child)
            elif keep is None or order.request.limit_price != keep:
                working = order.working_quantity
                try:
                    self.engine.cancel(child)
                except StateConflict:
                    continue
                moved += working
                self._resting.discard(child)
        return moved

    def _reprice(self, limit: Decimal) -> None:
        for child in self.children:
            order = self.engine.order(child)
            if not order.is_terminal and order.request.limit_price != limit:
                try:
                    self.engine.cancel(child)
                except StateConflict:
                    pass

    def summary(self) -> dict[str, object]:
        """State, quantities and average price, for reports and the API."""
        average = self.average_price
        return {"parent_id": self.parent.parent_id, "state": self.state.value, "algo": self.algo.describe(),
                "quantity": str(self.parent.quantity), "filled": str(self.filled_quantity),
                "children": len(self.children), "average_price": None if average is None else str(average),
                "rejections": list(self.rejections)}


def run_on_bars(engine, runners: list[AlgoRunner], bars: pd.DataFrame) -> None:
    """Replay bars through the engine and the runners, in time order.

    For each bar: advance the engine's simulated clock to the bar's end, let the engine match
    working orders against it (:meth:`TradingEngine.on_bar`), then tell every runner of the
    bar so it can send its next children (which trade from the next bar on).

    ``bars`` has ``ts`` (bar open), ``symbol``, ``open``, ``high``, ``low``, ``close``,
    ``volume`` and optionally ``bar_end``.
    """
    from bifrost.execquality.frames import normalize_bars

    frame = normalize_bars(bars).sort_values(["ts", "symbol"], kind="stable")
    for row in frame.itertuples(index=False):
        ts_open = row.ts.to_pydatetime()
        bar_end = row.bar_end.to_pydatetime()
        if bar_end > engine.clock.now():
            engine.clock.advance_to(bar_end)
        engine.update_prices({row.symbol: decimal_from_float(float(row.close))})
        engine.on_bar(row.symbol, ts_open, row.open, row.high, row.low, row.close, row.volume, bar_end=bar_end)
        for runner in runners:
            runner.on_bar(row.symbol, ts_open, row.open, row.high, row.low, row.close, row.volume, bar_end=bar_end)
