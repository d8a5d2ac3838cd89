"""Bracket orders and one-cancels-other (OCO) groups.

A bracket is an entry order plus two exit children on the opposite side — a take-profit limit
and a stop-loss (stop, stop-limit or trailing stop) — that share an ``oco_group`` and name the
entry as ``parent_id``. :func:`make_bracket` builds and validates the three requests;
:class:`OrderGroupManager` turns order events into the follow-up actions an executor carries out.

Decisions
---------
* **Children track the entry's filled quantity.** Children are not sent until the entry fills.
  The first entry fill activates both children sized to the filled quantity; each later entry
  fill resizes the live children up to what is now held (entry filled minus exits filled), so
  the position is always fully protected and never over-protected.
* **OCO reduces on partial fills and cancels on completion.** When one member fills partially,
  the other live members are reduced to the group's remaining quantity (a cancel would leave
  the rest of the position without a stop). When the group's quantity is fully filled, the
  other members are cancelled. This is the "reduce" flavour of one-cancels-all groups (as
  Interactive Brokers' OCA types 2 and 3), rather than "cancel on any fill".
* **An exit fill ends the entry.** The first fill of a take-profit or stop-loss cancels whatever
  of the entry is still working: the trade is being closed, so it must not keep growing.
* **An entry that ends unfilled** (cancelled, rejected, expired) discards both children; they
  were never sent. An entry that ends after a partial fill leaves the children as sized.
* A child that the venue cancels, rejects or expires on its own produces no action: the other
  child stays, and deciding what to do about an unprotected side is a risk decision.
* Generic OCO groups (:meth:`OrderGroupManager.add_oco`) need members of one quantity, all
  active at once; the group's quantity is that common quantity.
* Resizes are expressed as the new *working* (leaves) quantity. An executor that resizes by
  cancel/replace sends a ``replaced`` event carrying ``details["replaced_by"]`` (as
  :meth:`bifrost.orders.state.Order.replace` does) and the manager follows the new id.
* Fills are idempotent by ``fill_id`` here too.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum

from bifrost.core.errors import InvalidInput, StateConflict
from bifrost.core.money import to_decimal
from bifrost.orders.types import EventKind, OrderEvent, OrderRequest, OrderType, Side, TimeInForce

__all__ = ["Bracket", "GroupAction", "GroupActionKind", "OrderGroupManager", "make_bracket"]

_ZERO = Decimal(0)
_MAX_ID = 64


@dataclass(frozen=True, slots=True, kw_only=True)
class Bracket:
    """An entry request and its two exit children (take profit and stop loss)."""

    entry: OrderRequest
    take_profit: OrderRequest
    stop_loss: OrderRequest
    oco_group: str

    @property
    def children(self) -> tuple[OrderRequest, OrderRequest]:
        return (self.take_profit, self.stop_loss)


def _optional_decimal(value: Decimal | str | int | None, field: str) -> Decimal | None:
    return None if value is None else to_decimal(value, field=field)


def _reference_price(entry: OrderRequest, reference_price: Decimal | None) -> tuple[Decimal | None, str]:
    if entry.order_type in (OrderType.LIMIT, OrderType.STOP_LIMIT):
        return entry.limit_price, "entry limit_price"
    if entry.order_type is OrderType.STOP:
        return entry.stop_price, "entry stop_price"
    if reference_price is not None:
        return reference_price, "reference_price"
    return None, ""


def make_bracket(
    entry: OrderRequest,
    *,
    take_profit_price: Decimal | str | int,
    stop_loss_price: Decimal | str | int | None = None,
    stop_loss_limit_price: Decimal | str | int | None = None,
    stop_loss_trail_amount: Decimal | str | int | None = None,
    stop_loss_trail_percent: Decimal | str | int | None = None,
    reference_price: Decimal | str | int | None = None,
    exit_time_in_force: TimeInForce = TimeInForce.GTC,
    take_profit_id: str | None = None,
    stop_loss_id: str | None = None,
    oco_group: str | None = None,
) -> Bracket:
    """Build a bracket: the entry plus a take-profit limit and a stop-loss on the opposite side.

    Parameters
    ----------
    entry
        The entry request. It must not already belong to a group.
    take_profit_price
        Limit price of the take-profit child.
    stop_loss_price
        Stop price of the stop-loss child (a stop order, or a stop-limit with
        ``stop_loss_limit_price``). Give this or one trailing amount, not both.
    stop_loss_limit_price
        Makes the stop-loss a stop-limit order with this limit price.
    stop_loss_trail_amount, stop_loss_trail_percent
        Make the stop-loss a trailing stop instead (exactly one of the two).
    reference_price
        The expected entry price for a market or trailing-stop entry (the last price), used
        for the sanity checks. Limit and stop entries use their own prices.
    exit_time_in_force
        Time in force of both children (GTC by default: exits outlive the entry's session).
    take_profit_id, stop_loss_id, oco_group
        Ids for the children and the group; default ``<entry id>-tp``, ``-sl`` and ``-oco``.

    Returns
    -------
    Bracket
        The entry (unchanged) and two children of the entry's full quantity; the manager
        sizes them to the filled quantity when it activates them.

    Raises
    ------
    InvalidInput
        If the prices are inconsistent: for a long (buy) entry the take profit must be above
        the stop loss and above the entry price, and the stop loss below the entry price; the
        reverse for a short (sell) entry. Also for an entry already in a group, a missing or
        doubled stop specification, or ids that would exceed 64 characters.
    """
    if entry.parent_id is not None or entry.oco_group is not None:
        raise InvalidInput(f"a bracket entry must not already belong to a group, entry {entry.client_order_id!r} has "
                           f"parent_id={entry.parent_id!r}, oco_group={entry.oco_group!r}")
    take_profit = to_decimal(take_profit_price, field="take_profit_price")
    stop_specs = [name for name, value in (("stop_loss_price", stop_loss_price),
                                           ("stop_loss_trail_amount", stop_loss_trail_amount),
                                           ("stop_loss_trail_percent", stop_loss_trail_percent))
                  if value is not None]
    if len(stop_specs) != 1:
        raise InvalidInput("a bracket needs exactly one of stop_loss_price, stop_loss_trail_amount or "
                           f"stop_loss_trail_percent, was given {', '.join(stop_specs) or 'none'}")
    if stop_loss_limit_price is not None and stop_loss_price is None:
        raise InvalidInput("stop_loss_limit_price needs stop_loss_price (a trailing stop takes no limit here)")
    stop = _optional_decimal(stop_loss_price, "stop_loss_price")
    stop_limit = _optional_decimal(stop_loss_limit_price, "stop_loss_limit_price")
    reference = _optional_decimal(reference_price, "reference_price")
    for name, value in (("take_profit_price", take_profit), ("stop_loss_price", stop),
                        ("stop_loss_limit_price", stop_limit), ("reference_price", reference)):
        if value is not None and value <= 0:
            raise InvalidInput(f"{name} must be positive, was {value}")

    long = entry.side is Side.BUY
    direction = "long (buy)" if long else "short (sell)"
    above, below = ("above", "below") if long else ("below", "above")

    def beyond(a: Decimal, b: Decimal) -> bool:  # a is on the profit side of b
        return a > b if long else a < b

    if stop is not None and not beyond(take_profit, stop):
        raise InvalidInput(f"take_profit_price {take_profit} must be {above} stop_loss_price {stop} for a "
                           f"{direction} entry")
    entry_price, entry_label = _reference_price(entry, reference)
    if entry_price is not None:
        if not beyond(take_profit, entry_price):
            raise InvalidInput(f"take_profit_price {take_profit} must be {above} the {entry_label} {entry_price} "
                               f"for a {direction} entry")
        if stop is not None and not beyond(entry_price, stop):
            raise InvalidInput(f"stop_loss_price {stop} must be {below} the {entry_label} {entry_price} for a "
                               f"{direction} entry")
        if long and stop_loss_trail_amount is not None:
            trail = to_decimal(stop_loss_trail_amount, field="stop_loss_trail_amount")
            if trail >= entry_price:
                raise InvalidInput(f"stop_loss_trail_amount {trail} must be below the {entry_label} {entry_price} "
                                   f"for a long (buy) entry, or the stop would start at or below zero")
    if stop is not None and stop_limit is not None and beyond(stop_limit, stop):
        raise InvalidInput(f"stop_loss_limit_price {stop_limit} must be at or {below} stop_loss_price {stop} for "
                           f"a {direction} entry (the exit {'sells' if long else 'buys'} through the stop)")

    base = entry.client_order_id
    tp_id = take_profit_id or f"{base}-tp"
    sl_id = stop_loss_id or f"{base}-sl"
    group = oco_group or f"{base}-oco"
    for name, text in (("take_profit_id", tp_id), ("stop_loss_id", sl_id), ("oco_group", group)):
        if len(text) > _MAX_ID:
            raise InvalidInput(f"{name} must be at most {_MAX_ID} characters, was {text!r} ({len(text)}); "
                               f"pass explicit ids for long entry ids")
    if len({base, tp_id, sl_id}) != 3:
        raise InvalidInput(f"entry, take-profit and stop-loss ids must differ, were {base!r}, {tp_id!r}, {sl_id!r}")

    exit_side = Side.SELL if long else Side.BUY

    def child(client_order_id: str, order_type: OrderType, *, limit_price: Decimal | None = None,
              stop_price: Decimal | None = None, trail_amount: Decimal | None = None,
              trail_percent: Decimal | None = None) -> OrderRequest:
        return OrderRequest(client_order_id=client_order_id, symbol=entry.symbol, side=exit_side,
                            quantity=entry.quantity, order_type=order_type, time_in_force=exit_time_in_force,
                            limit_price=limit_price, stop_price=stop_price, trail_amount=trail_amount,
                            trail_percent=trail_percent, parent_id=base, oco_group=group, tag=entry.tag)

    tp_request = child(tp_id, OrderType.LIMIT, limit_price=take_profit)
    if stop is None:
        sl_request = child(sl_id, OrderType.TRAILING_STOP,
                           trail_amount=_optional_decimal(stop_loss_trail_amount, "stop_loss_trail_amount"),
                           trail_percent=_optional_decimal(stop_loss_trail_percent, "stop_loss_trail_percent"))
    elif stop_limit is None:
        sl_request = child(sl_id, OrderType.STOP, stop_price=stop)
    else:
        sl_request = child(sl_id, OrderType.STOP_LIMIT, stop_price=stop, limit_price=stop_limit)
    return Bracket(entry=entry, take_profit=tp_request, stop_loss=sl_request, oco_group=group)


class GroupActionKind(StrEnum):
    ACTIVATE = "activate"  # submit ``request`` (a child sized to the filled entry)
    RESIZE = "resize"  # change the working (leaves) quantity of a live order to ``quantity``
    CANCEL = "cancel"  # cancel a live order (a sibling, or the rest of an entry)
    DISCARD = "discard"  # drop a child that was never submitted


@dataclass(frozen=True, slots=True, kw_only=True)
class GroupAction:
    """A follow-up the executor should carry out.

    ``quantity`` is the order quantity to submit for ACTIVATE, the new working (leaves)
    quantity for RESIZE, and zero for CANCEL and DISCARD.
    """

    kind: GroupActionKind
    client_order_id: str
    oco_group: str
    quantity: Decimal = _ZERO
    request: OrderRequest | None = None
    reason: str = ""


@dataclass(slots=True)
class _Member:
    request: OrderRequest
    client_order_id: str
    active: bool = False
    live: bool = True
    working: Decimal = _ZERO


@dataclass(slots=True)
class _Group:
    key: str
    members: dict[str, _Member]
    target: Decimal  # quantity the exits exist to fill: entry filled (bracket) or the common quantity (OCO)
    filled: Decimal = _ZERO  # filled across members
    entry_id: str | None = None
    entry_quantity: Decimal = _ZERO
    entry_live: bool = False
    entry_cancel_sent: bool = False


_ENDS = frozenset({EventKind.CANCELLED, EventKind.REJECTED, EventKind.EXPIRED})


class OrderGroupManager:
    """Follow brackets and OCO groups through their events and say what to do next.

    The manager keeps only group bookkeeping; order state lives in
    :class:`bifrost.orders.state.Order`. Feed it every event of every order (events of orders
    it does not know are ignored) and carry out the actions it returns, in order.
    """

    def __init__(self) -> None:
        self._groups: dict[str, _Group] = {}
        self._group_of: dict[str, _Group] = {}
        self._seen_fills: set[str] = set()

    def add_bracket(self, bracket: Bracket) -> None:
        """Track a bracket whose entry has been (or is about to be) submitted; children wait for its fill."""
        self._check_new(bracket.oco_group, [bracket.entry.client_order_id, bracket.take_profit.client_order_id,
                                            bracket.stop_loss.client_order_id])
        members = {r.client_order_id: _Member(r, r.client_order_id) for r in bracket.children}
        group = _Group(bracket.oco_group, members, _ZERO, entry_id=bracket.entry.client_order_id,
                       entry_quantity=bracket.entry.quantity, entry_live=True)
        self._register(group)

    def add_oco(self, requests: Iterable[OrderRequest]) -> None:
        """Track a one-cancels-other group of live orders sharing one ``oco_group`` and one quantity.

        Raises
        ------
        InvalidInput
            If fewer than two requests, or their ``oco_group``, symbol or quantity differ.
        """
        requests = list(requests)
        if len(requests) < 2:
            raise InvalidInput(f"an OCO group needs at least two orders, was {len(requests)}")
        first = requests[0]
        if first.oco_group is None:
            raise InvalidInput(f"OCO members need an oco_group; {first.client_order_id!r} has none")
        for r in requests[1:]:
            if r.oco_group != first.oco_group:
                raise InvalidInput(f"OCO members must share one oco_group, {first.client_order_id!r} has "
                                   f"{first.oco_group!r} and {r.client_order_id!r} has {r.oco_group!r}")
            if r.symbol != first.symbol:
                raise InvalidInput(f"OCO members must trade one symbol, were {first.symbol} and {r.symbol}")
            if r.quantity != first.quantity:
                raise InvalidInput(f"OCO members must have one quantity, {first.client_order_id!r} has "
                                   f"{first.quantity} and {r.client_order_id!r} has {r.quantity}")
        self._check_new(first.oco_group, [r.client_order_id for r in requests])
        members = {r.client_order_id: _Member(r, r.client_order_id, active=True, working=r.quantity)
                   for r in requests}
        self._register(_Group(first.oco_group, members, first.quantity))

    def _check_new(self, key: str, ids: list[str]) -> None:
        if key in self._groups:
            raise StateConflict(f"oco_group {key!r} is already tracked")
        if len(set(ids)) != len(ids):
            raise InvalidInput(f"group {key!r} repeats a client_order_id: {ids}")
        for order_id in ids:
            if order_id in self._group_of:
                raise StateConflict(f"order {order_id!r} already belongs to group {self._group_of[order_id].key!r}")

    def _register(self, group: _Group) -> None:
        self._groups[group.key] = group
        if group.entry_id is not None:
            self._group_of[group.entry_id] = group
        for order_id in group.members:
            self._group_of[order_id] = group

    def on_event(self, event: OrderEvent) -> list[GroupAction]:
        """Return the follow-up actions for one order event (empty when there is nothing to do).

        Raises
        ------
        InvalidInput
            If a ``replaced`` event names a replacement id already in use.
        """
        order_id = event.client_order_id
        group = self._group_of.get(order_id)
        if group is None:
            return []
        if event.fill is not None:
            if event.fill.fill_id in self._seen_fills:
                return []
            self._seen_fills.add(event.fill.fill_id)
        kind = event.kind
        if kind is EventKind.REPLACED:
            self._follow_replacement(group, order_id, event)
            return []
        if order_id == group.entry_id:
            return self._on_entry(group, event)
        return self._on_member(group, group.members[order_id], event)

    def _follow_replacement(self, group: _Group, order_id: str, event: OrderEvent) -> None:
        new_id = event.details.get("replaced_by") if event.details else None
        if not new_id:
            return
        new_id = str(new_id)
        if new_id in self._group_of:
            raise InvalidInput(f"replacement id {new_id!r} for {order_id!r} already belongs to group "
                               f"{self._group_of[new_id].key!r}")
        del self._group_of[order_id]
        self._group_of[new_id] = group
        if order_id == group.entry_id:
            group.entry_id = new_id
        else:
            member = group.members.pop(order_id)
            member.client_order_id = new_id
            group.members[new_id] = member

    def _on_entry(self, group: _Group, event: OrderEvent) -> list[GroupAction]:
        if event.fill is not None:
            group.target += event.fill.quantity
            if group.target >= group.entry_quantity:
                group.entry_live = False
            return self._sync_children(group, "entry filled")
        if event.kind in _ENDS:
            group.entry_live = False
            if group.target == 0:
                return [GroupAction(kind=GroupActionKind.DISCARD, client_order_id=m.client_order_id,
                                    oco_group=group.key, reason=f"entry {event.kind.value} before any fill")
                        for m in group.members.values() if not m.active]
        return []

    def _sync_children(self, group: _Group, why: str) -> list[GroupAction]:
        remaining = group.target - group.filled
        actions = []
        for m in group.members.values():
            if not m.live or remaining <= 0:
                continue
            if not m.active:
                m.active, m.working = True, remaining
                actions.append(GroupAction(kind=GroupActionKind.ACTIVATE, client_order_id=m.client_order_id,
                                           oco_group=group.key, quantity=remaining,
                                           request=dataclasses.replace(m.request, quantity=remaining),
                                           reason=f"{why}: {group.target}"))
            elif m.working != remaining:
                m.working = remaining
                actions.append(GroupAction(kind=GroupActionKind.RESIZE, client_order_id=m.client_order_id,
                                           oco_group=group.key, quantity=remaining,
                                           reason=f"{why}: {group.target}, exits filled {group.filled}"))
        return actions

    def _on_member(self, group: _Group, member: _Member, event: OrderEvent) -> list[GroupAction]:
        if event.kind in _ENDS:
            member.live = False
            return []
        if event.fill is None:
            return []
        quantity = event.fill.quantity
        member.working -= quantity
        if member.working <= 0:
            member.live = False
        group.filled += quantity
        actions = []
        if group.entry_live and not group.entry_cancel_sent and group.entry_id is not None:
            group.entry_cancel_sent = True
            actions.append(GroupAction(kind=GroupActionKind.CANCEL, client_order_id=group.entry_id,
                                       oco_group=group.key,
                                       reason=f"exit {member.client_order_id} filled; stop adding to the entry"))
        remaining = group.target - group.filled
        for other in group.members.values():
            if other is member or not other.live or not other.active:
                continue
            if remaining <= 0:
                other.live = False
                actions.append(GroupAction(kind=GroupActionKind.CANCEL, client_order_id=other.client_order_id,
                                           oco_group=group.key,
                                           reason=f"{member.client_order_id} filled the group's {group.target}"))
            elif other.working != remaining:
                other.working = remaining
                actions.append(GroupAction(kind=GroupActionKind.RESIZE, client_order_id=other.client_order_id,
                                           oco_group=group.key, quantity=remaining,
                                           reason=f"{member.client_order_id} filled {group.filled} of "
                                                  f"{group.target}"))
        return actions
