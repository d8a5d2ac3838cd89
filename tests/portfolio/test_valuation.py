"""Tests of mark-to-market valuation, snapshots and positions derived from the journal.

Worked example (margin account): deposit 50,000; buy 100 AAPL @ 150 (cost 15,000);
short 50 TSLA @ 200 (proceeds 10,000). Cash = 50,000 - 15,000 + 10,000 = 45,000.
Marked at AAPL 160 and TSLA 180: long 16,000, short -9,000, gross 25,000, net 7,000,
NAV 45,000 + 7,000 = 52,000. Unrealised: AAPL 16,000 - 15,000 = 1,000; TSLA
-9,000 - (-10,000) = 1,000. Check: contributions 50,000 + unrealised 2,000 = NAV.
Exact Decimals; tolerance zero.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from bifrost.core.errors import DataQualityError
from bifrost.portfolio import (
    Ledger,
    LedgerConfig,
    Snapshot,
    Withdrawal,
    mark_to_market,
    time_weighted_return,
)
from bifrost.portfolio.positions import balances_from_journal, quantities_from_journal
from tests.portfolio.helpers import at, make_deposit, make_fill


def _long_short_ledger() -> Ledger:
    ledger = Ledger(LedgerConfig(margin=True))
    ledger.post(make_deposit("50000"))
    ledger.post(make_fill("b-1", "buy", 100, "150", symbol="AAPL"))
    ledger.post(make_fill("s-1", "sell", 50, "200", symbol="TSLA"))
    return ledger


def test_mark_to_market_long_and_short_gives_nav_exposures_and_unrealised_pnl():
    ledger = _long_short_ledger()

    valuation = mark_to_market(ledger, {"AAPL": 160.0, "TSLA": Decimal("180")})

    assert valuation.cash == Decimal("45000")
    assert (valuation.long_market_value, valuation.short_market_value) == (Decimal("16000.00"),
                                                                           Decimal("-9000.00"))
    assert (valuation.gross_exposure, valuation.net_exposure) == (Decimal("25000.00"), Decimal("7000.00"))
    assert valuation.nav == Decimal("52000.00")
    assert valuation.unrealised_pnl() == {"AAPL": Decimal("1000.00"), "TSLA": Decimal("1000.00")}


def test_mark_to_market_float_price_is_converted_once_to_six_places():
    ledger = _long_short_ledger()

    valuation = mark_to_market(ledger, {"aapl": 160.1, "TSLA": 180.0})

    aapl = valuation.positions[0]
    assert (aapl.symbol, aapl.price, aapl.market_value) == ("AAPL", Decimal("160.100000"), Decimal("16010.00"))


def test_mark_to_market_missing_price_raises_data_quality_error():
    ledger = _long_short_ledger()

    with pytest.raises(DataQualityError) as info:
        mark_to_market(ledger, {"AAPL": 160.0})
    assert str(info.value) == "no price for open position TSLA; every open position needs a price"
    assert info.value.violations == ["TSLA"]


def test_mark_to_market_nan_price_raises_data_quality_error():
    ledger = _long_short_ledger()

    with pytest.raises(DataQualityError, match="price of TSLA must be finite, was nan"):
        mark_to_market(ledger, {"AAPL": 160.0, "TSLA": float("nan")})


def test_snapshot_from_valuation_carries_the_day_figures():
    ledger = _long_short_ledger()
    valuation = mark_to_market(ledger, {"AAPL": 160.0, "TSLA": 180.0})

    snapshot = valuation.snapshot(date(2024, 3, 15))

    assert snapshot == Snapshot(date(2024, 3, 15), Decimal("52000.00"), Decimal("45000"), Decimal("25000.00"),
                                Decimal("7000.00"), Decimal("16000.00"), Decimal("-9000.00"))
    point = snapshot.nav_point(Decimal("50000"))
    assert (point.date, point.nav, point.flow) == (date(2024, 3, 15), 52000.0, 50000.0)


def test_daily_snapshots_with_withdrawal_chain_link_to_ledger_return():
    # Day 1: deposit 20,000, buy 100 @ 100, close 100 -> NAV 20,000 (flow 20,000).
    # Day 2: close 110 -> NAV 10,000 + 11,000 = 21,000: +5%.
    # Day 3: withdraw 1,000, close 99 -> NAV 9,000 + 9,900 = 18,900:
    # (18,900 + 1,000) / 21,000 - 1 = -5.238%. TWR = 1.05 x 19,900 / 21,000 - 1 = 0.995 - 1 = -0.5%.
    ledger = Ledger()
    ledger.post(make_deposit("20000", ts_event=at(2024, 3, 13)))
    ledger.post(make_fill("b-1", "buy", 100, "100", ts_event=at(2024, 3, 13)))
    closes = {date(2024, 3, 13): 100.0, date(2024, 3, 14): 110.0, date(2024, 3, 15): 99.0}
    points = []
    for day, close in closes.items():
        if day == date(2024, 3, 15):
            ledger.post(Withdrawal(entry_id="w-1", ts_event=at(2024, 3, 15), amount=Decimal("1000")))
        snapshot = mark_to_market(ledger, {"AAPL": close}).snapshot(day)
        points.append(snapshot.nav_point(ledger.external_flows().get(day, Decimal(0))))

    twr = time_weighted_return(points)

    assert [(point.nav, point.flow) for point in points] == [(20000.0, 20000.0), (21000.0, 0.0),
                                                             (18900.0, -1000.0)]
    assert twr == pytest.approx(-0.005, abs=1e-12)


def test_positions_from_journal_equal_running_positions():
    ledger = _long_short_ledger()
    ledger.post(make_fill("b-2", "buy", 20, "190", symbol="TSLA"))

    balances = balances_from_journal(ledger.entries())
    quantities = quantities_from_journal(ledger.entries())

    assert quantities == {"AAPL": Decimal("100"), "TSLA": Decimal("-30")}
    assert balances == ledger.balances()
    tsla = ledger.positions()["TSLA"]
    assert (tsla.quantity, tsla.cost, tsla.average_cost) == (Decimal("-30"), Decimal("-6000"),
                                                             Decimal("200.000000"))
