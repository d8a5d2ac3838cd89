"""Performance metrics on small hand-worked series, and input validation.

Every expected value is worked out in the test from the formula in the docstring of
``performance_report``; they are checked to 1e-12 (float64 rounding of a handful of
operations). Reference-library comparisons on real prices are in
``test_metrics_reference.py``.
"""

from __future__ import annotations

import math
from decimal import Decimal

import numpy as np
import pandas as pd
import pytest

from bifrost.analytics import (
    cumulative_wealth,
    drawdown_episodes,
    monthly_returns_table,
    performance_report,
    rolling_sharpe_ratio,
    underwater_series,
)
from bifrost.core.errors import InvalidInput
from bifrost.core.money import Money

EXACT = 1e-12


def _series(values, start="2024-01-02"):
    return pd.Series(values, index=pd.bdate_range(start, periods=len(values)), dtype=float)


# --------------------------------------------------------------------------- returns and ratios


def test_performance_report_total_return_and_cagr_compound_over_periods():
    # Wealth 1.1 x 0.95 x 1.02 x 1.03; four periods at two a year = two years.
    returns = np.array([0.10, -0.05, 0.02, 0.03])
    wealth = 1.10 * 0.95 * 1.02 * 1.03

    report = performance_report(returns, periods_per_year=2)

    assert report.total_return == pytest.approx(wealth - 1.0, abs=EXACT)
    assert report.cagr == pytest.approx(math.sqrt(wealth) - 1.0, abs=EXACT)


def test_performance_report_sharpe_uses_per_period_risk_free_and_sqrt_annualisation():
    # Excess returns 0.01, 0.03, -0.01, 0.01 (rf 0.01 a period): mean 0.01,
    # sample std sqrt((0 + 0.0004 + 0.0004 + 0) / 3); annualised by sqrt(12).
    returns = np.array([0.02, 0.04, 0.00, 0.02])

    report = performance_report(returns, risk_free=0.01, periods_per_year=12)

    assert report.sharpe_ratio == pytest.approx(0.01 / math.sqrt(0.0008 / 3) * math.sqrt(12), abs=EXACT)
    assert report.annualised_volatility == pytest.approx(math.sqrt(0.0008 / 3) * math.sqrt(12), abs=EXACT)


def test_performance_report_sortino_downside_is_rms_of_negative_excess_over_all_periods():
    # Negative returns -0.01 and -0.02 over all 4 periods: DD = sqrt((1e-4 + 4e-4) / 4) = sqrt(1.25e-4);
    # mean 0.005; Sortino (P = 1) = 0.005 / sqrt(1.25e-4) = sqrt(0.2). The standard deviation of the
    # negative returns alone (0.00707) would give 0.707 instead.
    returns = np.array([0.02, -0.01, 0.03, -0.02])

    report = performance_report(returns, periods_per_year=1)

    assert report.downside_deviation == pytest.approx(math.sqrt(1.25e-4), abs=EXACT)
    assert report.sortino_ratio == pytest.approx(math.sqrt(0.2), abs=EXACT)


def test_performance_report_constant_returns_give_infinite_sharpe_and_nan_calmar():
    report = performance_report(np.full(10, 0.001))

    assert report.sharpe_ratio == math.inf
    assert report.sortino_ratio == math.inf
    assert report.max_drawdown == 0.0
    assert math.isnan(report.calmar_ratio)
    assert report.max_drawdown_episode is None


def test_performance_report_zero_returns_give_nan_ratios():
    report = performance_report(np.zeros(5))

    assert math.isnan(report.sharpe_ratio)
    assert math.isnan(report.sortino_ratio)
    assert report.annualised_volatility == 0.0


# --------------------------------------------------------------------------- drawdowns


def test_drawdown_episodes_recovered_and_ongoing_have_peak_trough_recovery_and_durations():
    # Wealth 1.1, 0.88, 0.924, 1.1088, 0.99792 on Tue 2 Jan .. Mon 8 Jan 2024 (business days).
    # Episode 1: peak 1.1 (pos 0, 2 Jan), trough 0.88 = -20 % (pos 1), recovery 1.1088 (pos 3, 5 Jan):
    # 3 periods, 3 calendar days. Episode 2: peak pos 3 (5 Jan), -10 % at pos 4 (8 Jan), not recovered.
    returns = _series([0.10, -0.20, 0.05, 0.20, -0.10])

    first, second = drawdown_episodes(returns)

    assert first.depth == pytest.approx(-0.20, abs=EXACT)
    assert (first.peak_position, first.trough_position, first.recovery_position) == (0, 1, 3)
    assert (first.duration_periods, first.duration_days, first.ongoing) == (3, 3, False)
    assert (first.peak, first.recovery) == (pd.Timestamp("2024-01-02"), pd.Timestamp("2024-01-05"))
    assert second.depth == pytest.approx(0.99792 / 1.1088 - 1.0, abs=EXACT)
    assert (second.peak_position, second.trough_position, second.recovery_position) == (3, 4, None)
    assert (second.duration_periods, second.duration_days, second.ongoing) == (1, 3, True)
    assert second.recovery is None


def test_performance_report_max_drawdown_episode_is_deepest_and_longest_is_longest():
    # -20 % lasting 3 periods, then -10 % lasting 1 (ongoing).
    report = performance_report(_series([0.10, -0.20, 0.05, 0.20, -0.10]))

    assert report.max_drawdown == pytest.approx(-0.20, abs=EXACT)
    assert report.max_drawdown_episode.trough_position == 1
    assert report.longest_drawdown_episode.duration_periods == 3
    assert report.calmar_ratio == pytest.approx(report.cagr / 0.20, abs=EXACT)


def test_drawdown_episodes_first_period_loss_peaks_at_starting_capital():
    # Wealth 0.9 then 1.08: the peak is the starting capital 1.0, before the first date.
    returns = _series([-0.10, 0.20])

    (episode,) = drawdown_episodes(returns)

    assert episode.depth == pytest.approx(-0.10, abs=EXACT)
    assert (episode.peak_position, episode.peak, episode.recovery_position) == (-1, None, 1)
    assert episode.duration_periods == 2
    assert episode.duration_days == 1  # counted from the first date, 2 Jan, to 3 Jan


def test_underwater_series_matches_running_peak_formula():
    returns = _series([0.10, -0.20, 0.05, 0.20, -0.10])
    wealth = np.array([1.1, 0.88, 0.924, 1.1088, 0.99792])
    peak = np.array([1.1, 1.1, 1.1, 1.1088, 1.1088])

    under = underwater_series(returns)

    np.testing.assert_allclose(under.to_numpy(), wealth / peak - 1.0, atol=EXACT)
    assert under.index.equals(returns.index)


def test_cumulative_wealth_array_input_returns_array():
    wealth = cumulative_wealth([0.5, -0.5])

    np.testing.assert_allclose(wealth, [1.5, 0.75], atol=EXACT)


# --------------------------------------------------------------------------- calendar tables


def test_monthly_returns_table_compounds_within_month_and_leaves_missing_months_nan():
    returns = pd.Series([0.01, 0.02, -0.03], index=pd.to_datetime(["2024-01-30", "2024-01-31", "2024-02-01"]))

    table = monthly_returns_table(returns)

    assert list(table.index) == [2024]
    assert list(table.columns) == list(range(1, 13))
    assert table.loc[2024, 1] == pytest.approx(1.01 * 1.02 - 1.0, abs=EXACT)
    assert table.loc[2024, 2] == pytest.approx(-0.03, abs=EXACT)
    assert table.loc[2024, 3:].isna().all()


def test_monthly_returns_table_without_dates_raises_invalid_input():
    with pytest.raises(InvalidInput, match="DatetimeIndex"):
        monthly_returns_table(np.array([0.01, 0.02]))


def test_rolling_sharpe_ratio_window_three_matches_hand_values():
    # Window [0.01, 0.03, -0.01]: mean 0.01, std 0.02; [0.03, -0.01, 0.02]: mean 0.013333, std 0.020817.
    returns = _series([0.01, 0.03, -0.01, 0.02])

    rolling = rolling_sharpe_ratio(returns, window=3, periods_per_year=4)

    assert rolling.iloc[:2].isna().all()
    assert rolling.iloc[2] == pytest.approx(0.01 / 0.02 * 2.0, abs=EXACT)
    assert rolling.iloc[3] == pytest.approx(np.mean([0.03, -0.01, 0.02]) / np.std([0.03, -0.01, 0.02], ddof=1) * 2.0,
                                            abs=EXACT)


def test_rolling_sharpe_ratio_window_of_one_raises_invalid_input():
    with pytest.raises(InvalidInput, match="window must be an integer of at least 2, was 1"):
        rolling_sharpe_ratio(_series([0.01, 0.02, 0.03]), window=1)


# --------------------------------------------------------------------------- trades, exposure, turnover


def _trades():
    # Five closed trades (+100, -50, 0, +30, -20) and one opening fill with no realised P&L.
    return [
        {"pnl": None, "fee": Decimal("1.50"), "notional": 1000.0},
        {"pnl": 100.0, "fee": Decimal("1.50"), "notional": -1100.0},
        {"pnl": -50.0, "fee": Decimal("0.75"), "notional": 500.0},
        {"pnl": 0.0, "fee": Decimal("0.25"), "notional": 400.0},
        {"pnl": 30.0, "fee": Decimal("0"), "notional": 0.0},
        {"pnl": -20.0, "fee": Decimal("1.00"), "notional": 0.0},
    ]


def test_performance_report_trades_win_rate_profit_factor_expectancy_fees():
    # Win rate: 2 winners of 4 decided trades (the break-even trade is neither) = 0.5.
    # Profit factor 130 / 70; expectancy (100 - 50 + 0 + 30 - 20) / 5 = 12; fees 5.00.
    report = performance_report(np.zeros(4), trades=_trades())

    assert report.n_trades == 5
    assert report.win_rate == pytest.approx(0.5, abs=EXACT)
    assert report.profit_factor == pytest.approx(130.0 / 70.0, abs=EXACT)
    assert report.expectancy == pytest.approx(12.0, abs=EXACT)
    assert report.fees_paid == pytest.approx(5.0, abs=EXACT)
    assert report.turnover is None  # no starting equity given


def test_performance_report_turnover_is_two_sided_notional_over_mean_equity_annualised():
    # Flat equity of 1000 for 4 periods at 4 a year (one year); |notional| sums to 3000: 3.0 a year.
    report = performance_report(np.zeros(4), trades=_trades(), periods_per_year=4, starting_equity=1000.0)

    assert report.turnover == pytest.approx(3000.0 / 1000.0, abs=EXACT)


def test_performance_report_turnover_from_quantity_and_price_over_half_year():
    # Wealth 1.0, 1.1, 1.1, 0.99 x 1000 -> mean equity 1047.5; notional 10 x 50 + 10 x 55 = 1050;
    # 4 periods at 8 a year is half a year, so x 2.
    trades = pd.DataFrame({"quantity": [10.0, -10.0], "price": [50.0, 55.0], "pnl": [np.nan, 50.0]})

    report = performance_report(np.array([0.0, 0.1, 0.0, -0.1]), trades=trades, periods_per_year=8,
                                starting_equity=1000.0)

    assert report.turnover == pytest.approx(1050.0 / 1047.5 * 2.0, abs=EXACT)
    assert report.win_rate == 1.0
    assert report.profit_factor == math.inf


def test_performance_report_fees_in_money_are_summed_in_one_currency():
    trades = [{"pnl": 10.0, "fee": Money.of("1.25", "USD")}, {"pnl": -5.0, "fee": Money.of("0.75", "USD")}]

    report = performance_report(np.zeros(3), trades=trades)

    assert report.fees_paid == pytest.approx(2.0, abs=EXACT)


def test_performance_report_fees_in_two_currencies_raise_invalid_input():
    trades = [{"pnl": 10.0, "fee": Money.of("1", "USD")}, {"pnl": -5.0, "fee": Money.of("1", "EUR")}]

    with pytest.raises(InvalidInput, match="trades.fee mixes currencies: USD and EUR"):
        performance_report(np.zeros(3), trades=trades)


def test_performance_report_exposure_is_fraction_of_periods_with_a_position():
    exposure = pd.Series([0.0, 1.5, 0.0, -2.0], index=pd.bdate_range("2024-01-02", periods=4))

    report = performance_report(_series([0.0, 0.01, 0.0, -0.02]), exposure=exposure)

    assert report.exposure == pytest.approx(0.5, abs=EXACT)


def test_performance_report_exposure_from_positions_by_symbol_counts_any_position():
    positions = pd.DataFrame({"AAA": [0, 10, 0, 0], "BBB": [0, 0, -5, 0]},
                             index=pd.bdate_range("2024-01-02", periods=4))

    report = performance_report(_series([0.0, 0.01, 0.0, -0.02]), exposure=positions)

    assert report.exposure == pytest.approx(0.5, abs=EXACT)


# --------------------------------------------------------------------------- benchmark


def test_performance_report_exact_linear_benchmark_gives_its_alpha_and_beta():
    # r - rf = 0.0002 + 1.5 (b - rf) exactly: beta 1.5, alpha 0.0002 a period, (1.0002)^252 - 1 a year.
    rf = 0.0001
    bench = np.array([0.01, -0.02, 0.005, 0.03, -0.01, 0.0])
    returns = rf + 0.0002 + 1.5 * (bench - rf)

    report = performance_report(returns, benchmark=bench, risk_free=rf)

    assert report.beta == pytest.approx(1.5, abs=EXACT)
    assert report.alpha == pytest.approx(1.0002 ** 252 - 1.0, abs=1e-10)


def test_performance_report_information_ratio_and_tracking_error_annualise_active_returns():
    returns = np.array([0.02, -0.01, 0.03, 0.00])
    bench = np.array([0.01, 0.00, 0.01, 0.01])
    active = returns - bench  # 0.01, -0.01, 0.02, -0.01

    report = performance_report(returns, benchmark=bench, periods_per_year=4)

    assert report.tracking_error == pytest.approx(np.std(active, ddof=1) * 2.0, abs=EXACT)
    assert report.information_ratio == pytest.approx(active.mean() / np.std(active, ddof=1) * 2.0, abs=EXACT)
    assert report.benchmark_total_return == pytest.approx(1.01 * 1.0 * 1.01 * 1.01 - 1.0, abs=EXACT)


def test_performance_report_benchmark_series_is_aligned_by_date():
    returns = _series([0.01, 0.02, 0.03])
    # The same values by date, stored newest first.
    bench = pd.Series([0.03, 0.02, 0.01], index=returns.index[::-1])

    report = performance_report(returns, benchmark=bench)

    assert report.tracking_error == pytest.approx(0.0, abs=EXACT)


def test_performance_report_benchmark_missing_dates_raise_invalid_input():
    returns = _series([0.01, 0.02, 0.03])

    with pytest.raises(InvalidInput, match="benchmark has no value on 1 of the 3 returns dates; first missing 2024-01-04"):
        performance_report(returns, benchmark=returns.iloc[:2])


# --------------------------------------------------------------------------- report shape


def test_performance_report_to_dict_gives_plain_values_with_iso_dates():
    report = performance_report(_series([0.10, -0.20, 0.05, 0.20, -0.10]))

    data = report.to_dict(include_series=True)

    assert data["max_drawdown_episode"]["peak"] == "2024-01-02T00:00:00"
    assert data["max_drawdown_episode"]["recovery_position"] == 3
    assert data["monthly_returns"][2024][1] == pytest.approx(report.total_return, abs=EXACT)
    assert data["monthly_returns"][2024][2] is None
    assert data["underwater"]["2024-01-03T00:00:00"] == pytest.approx(-0.2, abs=EXACT)
    assert data["start"] == "2024-01-02T00:00:00" and data["n_periods"] == 5
    assert data["alpha"] is None and data["win_rate"] is None


def test_performance_report_array_input_has_no_calendar_fields():
    report = performance_report(np.array([0.10, -0.20, 0.05]))

    assert report.start is None and report.monthly_returns is None
    assert report.max_drawdown_episode.duration_days is None
    assert report.max_drawdown_episode.ongoing is True


def test_performance_report_is_frozen():
    report = performance_report(np.array([0.01, 0.02]))

    with pytest.raises(AttributeError):
        report.sharpe_ratio = 1.0


# --------------------------------------------------------------------------- validation


@pytest.mark.parametrize(
    ("returns", "message"),
    [
        (np.array([0.01, np.nan, 0.02]), r"returns must be finite, was nan at 1 \(1 non-finite values\)"),
        (np.array([0.01, -1.5]), "returns must be >= -1 \\(a loss of at most 100 %\\), was -1.5 at 1"),
        (np.array([0.01]), "returns needs at least 2 periods, had 1"),
        (np.zeros((3, 2)), r"returns must be one-dimensional, had shape \(3, 2\)"),
        (["a", "b"], "returns must be numeric"),
    ],
)
def test_performance_report_bad_returns_raise_invalid_input(returns, message):
    with pytest.raises(InvalidInput, match=message):
        performance_report(returns)


def test_performance_report_nan_in_series_names_the_date():
    returns = _series([0.01, np.nan, 0.02])

    with pytest.raises(InvalidInput, match="returns must be finite, was nan at 2024-01-03"):
        performance_report(returns)


def test_performance_report_unsorted_dates_raise_invalid_input():
    returns = _series([0.01, 0.02, 0.03])[::-1]

    with pytest.raises(InvalidInput, match="returns index must be in increasing date order"):
        performance_report(returns)


def test_performance_report_repeated_dates_raise_invalid_input():
    returns = pd.Series([0.01, 0.02], index=pd.to_datetime(["2024-01-02", "2024-01-02"]))

    with pytest.raises(InvalidInput, match="returns index must not repeat dates; 2024-01-02"):
        performance_report(returns)


@pytest.mark.parametrize("periods_per_year", [0, -252, math.nan])
def test_performance_report_non_positive_periods_per_year_raise_invalid_input(periods_per_year):
    with pytest.raises(InvalidInput, match="periods_per_year must be a positive number"):
        performance_report(np.array([0.01, 0.02]), periods_per_year=periods_per_year)


def test_performance_report_exposure_of_wrong_length_raises_invalid_input():
    with pytest.raises(InvalidInput, match="exposure must have one finite value per return period: had 2, returns have 3"):
        performance_report(np.array([0.01, 0.02, 0.03]), exposure=[1.0, 0.0])


def test_performance_report_non_numeric_pnl_raises_invalid_input():
    with pytest.raises(InvalidInput, match="trades.pnl must be a number, Decimal or Money, was 'ten'"):
        performance_report(np.array([0.01, 0.02]), trades=[{"pnl": "ten"}])


def test_performance_report_non_positive_starting_equity_raises_invalid_input():
    with pytest.raises(InvalidInput, match="starting_equity must be a positive amount, was 0"):
        performance_report(np.array([0.01, 0.02]), trades=[{"pnl": 1.0}], starting_equity=0)


def test_performance_report_risk_free_as_string_raises_invalid_input():
    with pytest.raises(InvalidInput, match="risk_free must be a number"):
        performance_report(np.array([0.01, 0.02]), risk_free="0.01")
