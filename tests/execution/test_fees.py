"""Fee models. Reference values are worked by hand from the published schedules cited in
``bifrost.execution.fees`` (SEC Section 31 orders, FINRA By-Laws Schedule A, IBKR's US stock
commission pages); all comparisons are exact Decimal equality (tolerance zero)."""

from datetime import UTC, date, datetime
from decimal import Decimal

import pytest

from bifrost.core.errors import InvalidInput
from bifrost.execution import (
    BasisPointsFeeModel,
    CompositeFeeModel,
    DatedRate,
    FeeBreakdown,
    MakerTakerFeeModel,
    PerShareFeeModel,
    RegulatoryFees,
    TieredFeeModel,
    ZeroFeeModel,
)
from bifrost.orders.types import Liquidity, Side

D = Decimal
MARCH_2025 = datetime(2025, 3, 3, 15, 0, tzinfo=UTC)  # $27.80/M SEC rate, $0.000166 TAF


def _fees(model, side, quantity, price, *, liquidity=Liquidity.TAKER, ts=MARCH_2025):
    return model.fees(side=side, quantity=D(quantity), price=D(price), liquidity=liquidity, ts=ts)


# ------------------------------------------------------------------ regulatory fees

def test_regulatory_fees_sell_1000_at_50_charges_sec_1_39_and_taf_0_17():
    # Arrange: proceeds 1,000 x $50 = $50,000.
    model = RegulatoryFees()

    # Act
    fees = _fees(model, Side.SELL, 1000, 50)

    # Assert: SEC = ceil_cent(50,000 x 27.80 / 1e6) = ceil_cent(1.39) = 1.39;
    #         TAF = ceil_cent(1,000 x 0.000166) = ceil_cent(0.166) = 0.17.
    assert fees == FeeBreakdown(regulatory=D("1.56"))
    assert fees.fees == D("1.56") and fees.commission == 0


def test_regulatory_fees_buy_any_size_charges_nothing():
    assert _fees(RegulatoryFees(), Side.BUY, 1000, 50).total == 0


def test_regulatory_fees_large_sell_caps_taf_at_8_30():
    # 100,000 shares at $10: TAF 100,000 x 0.000166 = 16.60 -> capped at 8.30;
    # SEC = 1,000,000 x 0.0000278 = 27.80 exactly.
    fees = _fees(RegulatoryFees(), Side.SELL, 100_000, 10)

    assert fees.regulatory == D("27.80") + D("8.30")


def test_regulatory_fees_one_share_rounds_each_fee_up_to_a_cent():
    # 1 share at $10: SEC 0.000278 -> 0.01, TAF 0.000166 -> 0.01.
    assert _fees(RegulatoryFees(), Side.SELL, 1, 10).regulatory == D("0.02")


def test_regulatory_fees_from_2025_05_14_sec_rate_is_zero():
    # FY2025 order: $0.00 per million from May 14, 2025; TAF unchanged at 0.17.
    ts = datetime(2025, 6, 2, 15, 0, tzinfo=UTC)

    assert _fees(RegulatoryFees(), Side.SELL, 1000, 50, ts=ts).regulatory == D("0.17")


def test_regulatory_fees_uses_eastern_trade_date_at_night():
    # 2025-05-14 02:00 UTC is 2025-05-13 22:00 EDT: still the $27.80 rate -> 1.39 + 0.17.
    ts = datetime(2025, 5, 14, 2, 0, tzinfo=UTC)

    assert _fees(RegulatoryFees(), Side.SELL, 1000, 50, ts=ts).regulatory == D("1.56")


def test_regulatory_fees_2026_schedule_uses_new_taf_and_sec_rates():
    # From 2026-01-01 TAF is $0.000195/share: 1,000 x 0.000195 = 0.195 -> 0.20.
    # From 2026-04-04 SEC is $20.60/M: 50,000 x 0.0000206 = 1.03.
    february, april = datetime(2026, 2, 2, 15, tzinfo=UTC), datetime(2026, 4, 6, 15, tzinfo=UTC)

    assert _fees(RegulatoryFees(), Side.SELL, 1000, 50, ts=february).regulatory == D("0.20")
    assert _fees(RegulatoryFees(), Side.SELL, 1000, 50, ts=april).regulatory == D("1.23")


def test_regulatory_fees_custom_schedule_applies_from_its_effective_date():
    sec = (DatedRate(effective=date(2030, 1, 1), rate=D("0.00001")),)
    taf = (DatedRate(effective=date(2030, 1, 1), rate=D("0.0002"), max_per_trade=D("1")),)
    model = RegulatoryFees(sec_schedule=sec, taf_schedule=taf)

    after = _fees(model, Side.SELL, 10_000, 50, ts=datetime(2030, 1, 2, 15, tzinfo=UTC))

    # SEC 500,000 x 0.00001 = 5.00; TAF 10,000 x 0.0002 = 2.00 -> capped at 1.00.
    assert after.regulatory == D("6.00")


def test_regulatory_fees_before_schedule_start_raises_naming_the_date():
    sec = (DatedRate(effective=date(2030, 1, 1), rate=D("0.00001")),)
    model = RegulatoryFees(sec_schedule=sec)

    with pytest.raises(InvalidInput, match="no regulatory fee rate known for trade date 2029-12-31: sec_schedule "
                                           "starts on 2030-01-01"):
        _fees(model, Side.SELL, 1000, 50, ts=datetime(2029, 12, 31, 15, tzinfo=UTC))


def test_regulatory_fees_early_2024_uses_fiscal_2023_sec_rate():
    # $8.00 per million until 2024-05-21: 50,000 x 0.000008 = 0.40; TAF 0.17.
    fees = _fees(RegulatoryFees(), Side.SELL, 1000, 50, ts=datetime(2024, 3, 1, 15, tzinfo=UTC))

    assert fees.regulatory == D("0.57")


def test_regulatory_fees_fixed_uses_brief_defaults_without_ts():
    model = RegulatoryFees.fixed()

    fees = model.fees(side=Side.SELL, quantity=D(1000), price=D(50), liquidity=Liquidity.TAKER)

    assert fees.regulatory == D("1.56")


def test_regulatory_fees_without_ts_or_as_of_raises_naming_ts():
    with pytest.raises(InvalidInput, match="ts is required"):
        RegulatoryFees().fees(side=Side.SELL, quantity=D(1), price=D(1), liquidity=Liquidity.TAKER)


def test_regulatory_fees_unordered_schedule_raises():
    entries = (DatedRate(effective=date(2025, 1, 2), rate=D(0)), DatedRate(effective=date(2025, 1, 1), rate=D(0)))

    with pytest.raises(InvalidInput, match="effective dates must increase"):
        RegulatoryFees(sec_schedule=entries)


def test_regulatory_fees_exact_notional_overrides_quantity_times_price():
    # Two fills of 500 at 50.00 and 50.02 -> notional 50,010; SEC = 1.390278 -> 1.40.
    fees = RegulatoryFees().fees(side=Side.SELL, quantity=D(1000), price=D("50.02"), liquidity=Liquidity.TAKER,
                                 ts=MARCH_2025, notional=D("50010"))

    assert fees.regulatory == D("1.40") + D("0.17")


# ------------------------------------------------------------------ commissions

def test_per_share_fee_small_order_pays_minimum_1_00():
    # 100 x 0.005 = 0.50 < 1.00 minimum.
    assert _fees(PerShareFeeModel(), Side.BUY, 100, 25).commission == D("1.00")


def test_per_share_fee_regular_order_pays_rate_times_shares():
    # 1,000 x 0.005 = 5.00; 1 % of 50,000 = 500 does not bind.
    assert _fees(PerShareFeeModel(), Side.BUY, 1000, 50).commission == D("5.00")


def test_per_share_fee_penny_stock_capped_at_one_percent_of_notional():
    # 1,000 x 0.005 = 5.00 but 1 % of 1,000 x 0.25 = 2.50.
    assert _fees(PerShareFeeModel(), Side.BUY, 1000, "0.25").commission == D("2.50")


def test_per_share_fee_tiny_order_cap_wins_over_minimum():
    # 1 share at $5: minimum 1.00, cap 1 % x 5 = 0.05 -> 0.05.
    assert _fees(PerShareFeeModel(), Side.SELL, 1, 5).commission == D("0.05")


def test_per_share_fee_negative_rate_raises_naming_field():
    with pytest.raises(InvalidInput, match="rate_per_share must not be negative"):
        PerShareFeeModel(rate_per_share="-0.01")


def test_basis_points_fee_ten_bps_of_notional():
    # 10 bps of 50,000 = 50.00; minimum 5 does not bind; tiny order pays the minimum.
    model = BasisPointsFeeModel(fee_bps="10", min_per_order="5")

    assert _fees(model, Side.BUY, 1000, 50).commission == D("50.00")
    assert _fees(model, Side.BUY, 10, 50).commission == D("5.00")


def test_tiered_fee_order_shares_graduated_bands():
    # First 500 shares at 0.01, the rest at 0.005: 500 x 0.01 + 300 x 0.005 = 6.50.
    model = TieredFeeModel(tiers=[(500, "0.01"), (None, "0.005")], basis="order_shares")

    assert _fees(model, Side.BUY, 800, 20).commission == D("6.50")
    assert _fees(model, Side.BUY, 400, 20).commission == D("4.00")


def test_tiered_fee_monthly_volume_moves_to_next_tier_and_resets_next_month():
    # IBKR Pro Tiered: <= 300,000 shares/month 0.0035, then 0.0020.
    model = TieredFeeModel(tiers=[(300_000, "0.0035"), (3_000_000, "0.0020"), (None, "0.0015")],
                           min_per_order="0.35")
    first = _fees(model, Side.BUY, 1000, 50)
    model.record_fill(quantity=D(300_000), ts=MARCH_2025)

    second = _fees(model, Side.BUY, 1000, 50)
    next_month = _fees(model, Side.BUY, 1000, 50, ts=datetime(2025, 4, 1, 15, tzinfo=UTC))

    assert first.commission == D("3.50")  # 1,000 x 0.0035
    assert second.commission == D("2.00")  # 1,000 x 0.0020
    assert next_month.commission == D("3.50")


def test_tiered_fee_bounds_not_increasing_raises():
    with pytest.raises(InvalidInput, match="tier bounds must increase"):
        TieredFeeModel(tiers=[(500, "0.01"), (400, "0.005")])


def test_maker_taker_fee_taker_pays_and_maker_receives_rebate():
    model = MakerTakerFeeModel(taker_fee_per_share="0.0030", maker_rebate_per_share="0.0020")

    taker = _fees(model, Side.BUY, 1000, 50, liquidity=Liquidity.TAKER)
    maker = _fees(model, Side.BUY, 1000, 50, liquidity=Liquidity.MAKER)

    assert taker.exchange == D("3.00") and taker.fees == D("3.00")
    assert maker.exchange == D("-2.00") and maker.total == D("-2.00")


def test_composite_fee_model_sums_commission_regulatory_and_exchange():
    model = CompositeFeeModel(PerShareFeeModel(), RegulatoryFees(), MakerTakerFeeModel())

    fees = _fees(model, Side.SELL, 1000, 50)

    # commission 5.00; regulatory 1.39 + 0.17; taker 1,000 x 0.003 = 3.00.
    assert fees == FeeBreakdown(D("5.00"), D("1.56"), D("3.00"))
    assert fees.total == D("9.56")


def test_zero_fee_model_charges_nothing():
    assert _fees(ZeroFeeModel(), Side.SELL, 1000, 50) == FeeBreakdown()


def test_fee_breakdown_negative_commission_raises_with_value():
    with pytest.raises(InvalidInput, match="commission must not be negative, was -1"):
        FeeBreakdown(commission=D("-1"))
