"""Compiled core of :func:`bifrost.compliance.compute_tax_lots` for long-only FIFO/LIFO histories.

The replay of :class:`bifrost.compliance.tax._Engine` (lot relief, wash-sale matching,
replacement lots, tacking), run by Numba on integer arrays: amounts in minor units,
quantities in units of ``10**-k`` share, days as ordinals. It covers histories of buys and
sells relieved first-in or last-in first-out, without splits, short sales or named lots;
``compute_tax_lots`` sends every other history to the Python engine. The rules, the order
of matching and the rounding (half to even on the exact quotient) are the Python engine's,
line for line; ``tests/compliance/test_tax_properties.py`` checks the two agree.

Each lot is a row of the ``lot_*`` arrays, linked into its book (account and symbol) in
acquisition order; each purchase is a row of the ``acq_*`` arrays, ordered by group
(substantially identical symbols) and then by trade, with a skip list over purchases that
can no longer replace. Results come back as rows of the ``disp_*``, ``wash_*`` and
``unwashed_*`` arrays, which ``tax.py`` turns into Decimal records.
"""

from __future__ import annotations

import numba
import numpy as np

WINDOW_DAYS = 30
OK, SHORT_OF_SHARES, OUT_OF_ROOM = 0, 1, 2


@numba.njit(cache=True)
def _div(numerator, denominator):
    # numerator / denominator rounded half to even (denominator > 0), floor-based like Python's divmod.
    quotient = numerator // denominator
    remainder = numerator - quotient * denominator
    twice = remainder + remainder
    if twice > denominator or (twice == denominator and quotient % 2 != 0):
        quotient += 1
    return quotient


@numba.njit(cache=True)
def _live_from(nxt, index, stop):
    root = index
    while root < stop and nxt[root] != root:
        root = nxt[root]
    while index < stop and nxt[index] != index:  # path compression
        following = nxt[index]
        nxt[index] = root
        index = following
    return root


@numba.njit(cache=True)
def replay(action, book_of, group_of, day, units, mult, amount, lifo, taxadv, acq_pos, group_start, group_end,
           acq_trade, acq_day, n_books, wash_sales, capacity,
           disp_trade, disp_lot_trade, disp_lot_w, disp_units, disp_acquired, disp_holding, disp_amount,
           disp_basis, disp_disallowed,
           wash_trade, wash_lot_trade, wash_lot_w, wash_acq, wash_loss, wash_shares, wash_part, wash_added,
           wash_tacked,
           unw_trade, unw_group, unw_day, unw_need, unw_loss, unw_shares,
           open_trade, open_w, open_units, open_basis, open_adj, open_acquired, open_holding, open_book, counts):
    """Replay the trades; fill the output arrays and ``counts`` (disposals, washes, unwashed, open lots, lost).

    Returns OK, SHORT_OF_SHARES (a sale of more than the book holds; ``counts[5]`` names the
    trade and ``counts[6]`` the units held) or OUT_OF_ROOM (``capacity`` rows were not
    enough; call again with more).
    """
    n = action.shape[0]
    n_acq = acq_trade.shape[0]
    # lots
    lot_trade = np.empty(capacity, np.int64)
    lot_w = np.zeros(capacity, np.int64)
    lot_acq = np.empty(capacity, np.int64)
    lot_units = np.empty(capacity, np.int64)
    lot_mult = np.empty(capacity, np.int64)
    lot_basis = np.empty(capacity, np.int64)
    lot_adj = np.zeros(capacity, np.int64)
    lot_acquired = np.empty(capacity, np.int64)
    lot_holding = np.empty(capacity, np.int64)
    lot_order = np.empty(capacity, np.int64)
    lot_seq = np.empty(capacity, np.int64)
    lot_flagged = np.zeros(capacity, np.bool_)
    lot_prev = np.empty(capacity, np.int64)
    lot_next = np.empty(capacity, np.int64)
    lot_book = np.empty(capacity, np.int64)
    head = np.full(n_books, -1, np.int64)
    tail = np.full(n_books, -1, np.int64)
    held = np.zeros(n_books, np.int64)
    # purchases, in group order
    free = np.empty(n_acq, np.int64)
    for p in range(n_acq):
        free[p] = units[acq_trade[p]] * mult[acq_trade[p]]
    nxt = np.arange(n_acq)
    processed = np.zeros(n_acq, np.bool_)
    splits = np.zeros(n_acq, np.int64)
    free_lot = np.full(n_acq, -1, np.int64)
    stamp = np.full(n_acq, -1, np.int64)  # the closing trade that last relieved this purchase
    pend_head = np.full(n_acq, -1, np.int64)
    pend_tail = np.full(n_acq, -1, np.int64)
    pend_next = np.empty(capacity, np.int64)
    pend_shares = np.empty(capacity, np.int64)
    pend_adj = np.empty(capacity, np.int64)
    pend_tacked = np.empty(capacity, np.int64)
    # one closing trade's reliefs
    rel_lot = np.empty(capacity, np.int64)
    rel_take = np.empty(capacity, np.int64)
    rel_basis = np.empty(capacity, np.int64)
    rel_amount = np.empty(capacity, np.int64)
    rel_washed = np.empty(capacity, np.int64)
    losses = np.empty(capacity, np.int64)
    match_acq = np.empty(capacity, np.int64)
    match_take = np.empty(capacity, np.int64)
    n_lots = 0
    n_pend = 0
    n_disp = 0
    n_wash = 0
    n_unw = 0
    seq = 0
    lost = 0
    for i in range(n):
        b = book_of[i]
        if action[i] == 0:  # buy
            p = acq_pos[i]
            processed[p] = True
            quantity = units[i]
            basis_total = amount[i]
            remaining_basis = basis_total
            m = mult[i]
            w = 0
            k = pend_head[p]
            while k != -1:
                w += 1
                part_units = pend_shares[k] // m
                if part_units == quantity:
                    part = remaining_basis
                else:
                    part = _div(basis_total * part_units, units[i])
                remaining_basis -= part
                quantity -= part_units
                seq += 1
                if n_lots >= capacity:
                    return OUT_OF_ROOM
                lot = n_lots
                n_lots += 1
                lot_trade[lot] = i
                lot_w[lot] = w
                lot_acq[lot] = p
                lot_units[lot] = part_units
                lot_mult[lot] = m
                lot_basis[lot] = part + pend_adj[k]
                lot_adj[lot] = pend_adj[k]
                lot_acquired[lot] = day[i]
                lot_holding[lot] = day[i] - pend_tacked[k]
                lot_order[lot] = i
                lot_seq[lot] = seq
                lot_flagged[lot] = True
                lot_book[lot] = b
                lot_next[lot] = -1
                lot_prev[lot] = tail[b]
                if tail[b] == -1:
                    head[b] = lot
                else:
                    lot_next[tail[b]] = lot
                tail[b] = lot
                k = pend_next[k]
            splits[p] = w  # later replacement lots of this purchase number on from here
            pend_head[p] = -1
            held[b] += units[i]
            if quantity > 0:
                seq += 1
                if n_lots >= capacity:
                    return OUT_OF_ROOM
                lot = n_lots
                n_lots += 1
                lot_trade[lot] = i
                lot_w[lot] = 0
                lot_acq[lot] = p
                lot_units[lot] = quantity
                lot_mult[lot] = m
                lot_basis[lot] = remaining_basis
                lot_adj[lot] = 0
                lot_acquired[lot] = day[i]
                lot_holding[lot] = day[i]
                lot_order[lot] = i
                lot_seq[lot] = seq
                lot_flagged[lot] = False
                lot_book[lot] = b
                lot_next[lot] = -1
                lot_prev[lot] = tail[b]
                if tail[b] == -1:
                    head[b] = lot
                else:
                    lot_next[tail[b]] = lot
                tail[b] = lot
                free_lot[p] = lot
            else:
                nxt[p] = p + 1
            continue
        # sell
        quantity = units[i]
        if held[b] < quantity or head[b] == -1:
            counts[5] = i
            counts[6] = held[b]
            return SHORT_OF_SHARES
        held[b] -= quantity
        net = amount[i]
        remaining = quantity
        proceeds_left = net
        n_rel = 0
        lot = tail[b] if lifo[i] else head[b]
        while remaining:
            following = lot_prev[lot] if lifo[i] else lot_next[lot]
            have = lot_units[lot]
            take = have if have <= remaining else remaining
            remaining -= take
            if remaining:
                value = _div(net * take, quantity)
            else:
                value = proceeds_left
            proceeds_left -= value
            p = lot_acq[lot]
            if take == have:
                basis = lot_basis[lot]
                before, after = lot_prev[lot], lot_next[lot]
                if before == -1:
                    head[b] = after
                else:
                    lot_next[before] = after
                if after == -1:
                    tail[b] = before
                else:
                    lot_prev[after] = before
                if free_lot[p] == lot:
                    free_lot[p] = -1
            else:
                basis = _div(lot_basis[lot] * take, have)
                if lot_adj[lot] != 0:
                    lot_adj[lot] -= _div(lot_adj[lot] * take, have)
                lot_basis[lot] -= basis
                lot_units[lot] = have - take
            stamp[p] = i
            if not lot_flagged[lot]:
                free[p] -= take * lot_mult[lot]
                if free[p] <= 0:
                    nxt[p] = p + 1
            if n_rel >= capacity:
                return OUT_OF_ROOM
            rel_lot[n_rel] = lot
            rel_take[n_rel] = take
            rel_basis[n_rel] = basis
            rel_amount[n_rel] = value
            rel_washed[n_rel] = 0
            n_rel += 1
            lot = following
        if wash_sales and not taxadv[i]:
            n_loss = 0
            for r in range(n_rel):
                if rel_amount[r] < rel_basis[r]:
                    # insertion sort by (opening trade, seq), stable like the Python engine's sort
                    at = n_loss
                    key_order, key_seq = lot_order[rel_lot[r]], lot_seq[rel_lot[r]]
                    while at > 0:
                        other = rel_lot[losses[at - 1]]
                        if lot_order[other] > key_order or (lot_order[other] == key_order
                                                            and lot_seq[other] > key_seq):
                            losses[at] = losses[at - 1]
                            at -= 1
                        else:
                            break
                    losses[at] = r
                    n_loss += 1
            g = group_of[i]
            start, stop_group = group_start[g], group_end[g]
            for s in range(n_loss):
                r = losses[s]
                lot = rel_lot[r]
                shares = rel_take[r] * lot_mult[lot]
                loss = rel_basis[r] - rel_amount[r]
                need = shares
                n_match = 0
                if stop_group > start:
                    low = start + np.searchsorted(acq_day[start:stop_group], day[i] - WINDOW_DAYS)
                    high = start + np.searchsorted(acq_day[start:stop_group], day[i] + WINDOW_DAYS, side="right")
                    p = _live_from(nxt, low, stop_group)
                    while p < high:
                        if free[p] > 0 and stamp[p] != i:
                            take = free[p] if free[p] <= need else need
                            if n_match >= capacity:
                                return OUT_OF_ROOM
                            match_acq[n_match] = p
                            match_take[n_match] = take
                            n_match += 1
                            need -= take
                            if need == 0:
                                break
                        p = _live_from(nxt, p + 1, stop_group)
                if need > 0:
                    if n_unw >= unw_trade.shape[0]:
                        return OUT_OF_ROOM
                    unw_trade[n_unw] = i
                    unw_group[n_unw] = g
                    unw_day[n_unw] = day[i]
                    unw_need[n_unw] = need
                    unw_loss[n_unw] = loss
                    unw_shares[n_unw] = shares
                    n_unw += 1
                if n_match == 0:
                    continue
                total = 0
                if need:
                    full = _div(loss * (shares - need), shares)
                else:
                    full = loss
                held_days = day[i] - lot_holding[lot]
                for t in range(n_match):
                    p = match_acq[t]
                    take = match_take[t]
                    if t == n_match - 1:
                        part = full - total
                    else:
                        part = _div(loss * take, shares)
                    total += part
                    added = not taxadv[acq_trade[p]]
                    adjustment = part if added else 0
                    if not added:
                        lost += part
                    free[p] -= take
                    if free[p] <= 0:
                        nxt[p] = p + 1
                    tacked = held_days if added else 0
                    if processed[p]:
                        # designate: ``take`` shares of the purchase's unused lot become a replacement lot
                        source = free_lot[p]
                        part_units = take // lot_mult[source]
                        splits[p] += 1
                        holding = lot_acquired[source] - tacked
                        if part_units == lot_units[source]:
                            lot_flagged[source] = True
                            lot_basis[source] += adjustment
                            lot_adj[source] += adjustment
                            lot_holding[source] = holding
                            lot_w[source] = splits[p]
                            free_lot[p] = -1
                        else:
                            part_basis = _div(lot_basis[source] * part_units, lot_units[source])
                            lot_basis[source] -= part_basis
                            lot_units[source] -= part_units
                            seq += 1
                            if n_lots >= capacity:
                                return OUT_OF_ROOM
                            new = n_lots
                            n_lots += 1
                            lot_trade[new] = lot_trade[source]
                            lot_w[new] = splits[p]
                            lot_acq[new] = p
                            lot_units[new] = part_units
                            lot_mult[new] = lot_mult[source]
                            lot_basis[new] = part_basis + adjustment
                            lot_adj[new] = adjustment
                            lot_acquired[new] = lot_acquired[source]
                            lot_holding[new] = holding
                            lot_order[new] = lot_order[source]
                            lot_seq[new] = lot_seq[source]
                            lot_flagged[new] = True
                            owner = lot_book[source]
                            lot_book[new] = owner
                            before = lot_prev[source]
                            lot_prev[new] = before
                            lot_next[new] = source
                            lot_prev[source] = new
                            if before == -1:
                                head[owner] = new
                            else:
                                lot_next[before] = new
                    else:
                        if n_pend >= capacity:
                            return OUT_OF_ROOM
                        k = n_pend
                        n_pend += 1
                        pend_shares[k] = take
                        pend_adj[k] = adjustment
                        pend_tacked[k] = tacked
                        pend_next[k] = -1
                        if pend_head[p] == -1:
                            pend_head[p] = k
                        else:
                            pend_next[pend_tail[p]] = k
                        pend_tail[p] = k
                    if n_wash >= wash_trade.shape[0]:
                        return OUT_OF_ROOM
                    wash_trade[n_wash] = i
                    wash_lot_trade[n_wash] = lot_trade[lot]
                    wash_lot_w[n_wash] = lot_w[lot]
                    wash_acq[n_wash] = acq_trade[p]
                    wash_loss[n_wash] = loss
                    wash_shares[n_wash] = take
                    wash_part[n_wash] = part
                    wash_added[n_wash] = added
                    wash_tacked[n_wash] = tacked
                    n_wash += 1
                rel_washed[r] = total
        for r in range(n_rel):
            if n_disp >= disp_trade.shape[0]:
                return OUT_OF_ROOM
            lot = rel_lot[r]
            disp_trade[n_disp] = i
            disp_lot_trade[n_disp] = lot_trade[lot]
            disp_lot_w[n_disp] = lot_w[lot]
            disp_units[n_disp] = rel_take[r]
            disp_acquired[n_disp] = lot_acquired[lot]
            disp_holding[n_disp] = lot_holding[lot]
            disp_amount[n_disp] = rel_amount[r]
            disp_basis[n_disp] = rel_basis[r]
            disp_disallowed[n_disp] = rel_washed[r]
            n_disp += 1
    n_open = 0
    for b in range(n_books):
        lot = head[b]
        while lot != -1:
            if n_open >= open_trade.shape[0]:
                return OUT_OF_ROOM
            open_trade[n_open] = lot_trade[lot]
            open_w[n_open] = lot_w[lot]
            open_units[n_open] = lot_units[lot]
            open_basis[n_open] = lot_basis[lot]
            open_adj[n_open] = lot_adj[lot]
            open_acquired[n_open] = lot_acquired[lot]
            open_holding[n_open] = lot_holding[lot]
            open_book[n_open] = b
            n_open += 1
            lot = lot_next[lot]
    counts[0] = n_disp
    counts[1] = n_wash
    counts[2] = n_unw
    counts[3] = n_open
    counts[4] = lost
    return OK
