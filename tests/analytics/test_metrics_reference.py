"""Metrics checked against empyrical-reloaded and quantstats on real prices.

Data: an equal-weight, daily-rebalanced portfolio of ten stocks (PyPortfolioOpt's
sample prices, 1993-02-01 to 2018-04-11, 6 345 days) against SPY; and a 50/200-day
moving-average crossover on SPY for trade statistics (see ``conftest.py``).

References and tolerances
-------------------------
* empyrical-reloaded 0.7.1 and quantstats 0.0.86 (test dependencies; the tests skip
  when they are missing). Only pure statistics functions are called: nothing that
  downloads benchmark data.
* Where the formulas coincide the tolerance is 1e-10 relative (observed ~1e-15).
* Where conventions differ, the test converts one to the other and says how:
  information ratio (both libraries leave it per period; ours is x sqrt(252)),
  quantstats' alpha (per-period alpha x 252, not compounded), quantstats' monthly
  table (0 for months without data), drawdown episodes (quantstats counts first
  to last day under water; we count peak to recovery), exposure (quantstats: non-
  zero returns, rounded up to a whole percent), win rate and profit factor
  (quantstats works on a return series; we feed it the trades' P&L).
"""

from __future__ import annotations

import math

import empyrical  # noqa: E402  (test dependency; a missing one fails the run)
import numpy as np
import pandas as pd
import pytest
import quantstats.stats as qs_stats  # noqa: E402

from bifrost.analytics import (
    drawdown_episodes,
    performance_report,
    probabilistic_sharpe_ratio,
    rolling_sharpe_ratio,
    underwater_series,
)

REL = 1e-10
RF_ANNUAL = 0.04
RF_DAILY = (1.0 + RF_ANNUAL) ** (1.0 / 252) - 1.0  # quantstats de-annualises rf this way


@pytest.fixture(scope="module")
def report(portfolio_returns, benchmark_returns):
    return performance_report(portfolio_returns, benchmark=benchmark_returns)


@pytest.fixture(scope="module")
def report_rf(portfolio_returns, benchmark_returns):
    return performance_report(portfolio_returns, benchmark=benchmark_returns, risk_free=RF_DAILY)


# --------------------------------------------------------------------------- empyrical


def test_total_return_real_portfolio_matches_empyrical_and_quantstats(report, portfolio_returns):
    assert report.total_return == pytest.approx(empyrical.cum_returns_final(portfolio_returns), rel=REL)
    assert report.total_return == pytest.approx(qs_stats.comp(portfolio_returns), rel=REL)


def test_cagr_real_portfolio_matches_empyrical_annual_return_and_quantstats_cagr(report, portfolio_returns):
    # Both count time in periods (T / 252 years), as we do. quantstats before the 0.0.6x series
    # used calendar days / 365 instead, which differs by the ratio of the two year lengths.
    assert report.cagr == pytest.approx(empyrical.annual_return(portfolio_returns), rel=REL)
    assert report.cagr == pytest.approx(qs_stats.cagr(portfolio_returns, periods=252), rel=REL)


def test_volatility_real_portfolio_matches_empyrical_and_quantstats(report, portfolio_returns):
    assert report.annualised_volatility == pytest.approx(empyrical.annual_volatility(portfolio_returns), rel=REL)
    assert report.annualised_volatility == pytest.approx(qs_stats.volatility(portfolio_returns), rel=REL)


def test_sharpe_real_portfolio_matches_empyrical_and_quantstats(report, portfolio_returns):
    assert report.sharpe_ratio == pytest.approx(empyrical.sharpe_ratio(portfolio_returns), rel=REL)
    assert report.sharpe_ratio == pytest.approx(qs_stats.sharpe(portfolio_returns), rel=REL)


def test_sharpe_with_risk_free_matches_empyrical_daily_and_quantstats_annual_rate(report_rf, portfolio_returns):
    # empyrical takes the per-period rate (as we do); quantstats an annual one it de-annualises.
    assert report_rf.sharpe_ratio == pytest.approx(
        empyrical.sharpe_ratio(portfolio_returns, risk_free=RF_DAILY), rel=REL)
    assert report_rf.sharpe_ratio == pytest.approx(
        qs_stats.sharpe(portfolio_returns, rf=RF_ANNUAL, periods=252), rel=REL)


def test_sortino_real_portfolio_matches_empyrical_and_quantstats(report, report_rf, portfolio_returns):
    # Same convention in all three: target 0 on excess returns, RMS of the negative ones over all days.
    assert report.sortino_ratio == pytest.approx(empyrical.sortino_ratio(portfolio_returns), rel=REL)
    assert report.downside_deviation == pytest.approx(empyrical.downside_risk(portfolio_returns), rel=REL)
    assert report.sortino_ratio == pytest.approx(qs_stats.sortino(portfolio_returns), rel=REL)
    assert report_rf.sortino_ratio == pytest.approx(
        empyrical.sortino_ratio(portfolio_returns, required_return=RF_DAILY), rel=REL)
    assert report_rf.sortino_ratio == pytest.approx(
        qs_stats.sortino(portfolio_returns, rf=RF_ANNUAL, periods=252), rel=REL)


def test_downside_deviation_real_portfolio_is_rms_not_std_of_negative_days(report, portfolio_returns):
    # Independent numpy: root mean square of min(r, 0) over all days. The standard deviation of the
    # negative days alone (a common alternative) is about 7 % different here.
    values = portfolio_returns.to_numpy()
    rms = math.sqrt(np.mean(np.minimum(values, 0.0) ** 2)) * math.sqrt(252)
    semideviation = np.std(values[values < 0], ddof=1) * math.sqrt(252)

    assert report.downside_deviation == pytest.approx(rms, rel=REL)
    assert report.downside_deviation != pytest.approx(semideviation, rel=0.05)


def test_max_drawdown_and_calmar_real_portfolio_match_empyrical_and_quantstats(report, portfolio_returns):
    assert report.max_drawdown == pytest.approx(empyrical.max_drawdown(portfolio_returns), rel=REL)
    assert report.max_drawdown == pytest.approx(qs_stats.max_drawdown(portfolio_returns), rel=REL)
    assert report.calmar_ratio == pytest.approx(empyrical.calmar_ratio(portfolio_returns), rel=REL)
    assert report.calmar_ratio == pytest.approx(qs_stats.calmar(portfolio_returns), rel=REL)


def test_underwater_real_portfolio_matches_empyrical_and_quantstats(portfolio_returns):
    under = underwater_series(portfolio_returns)

    np.testing.assert_allclose(under.to_numpy(), empyrical.stats.drawdown_series(portfolio_returns).to_numpy(),
                               rtol=REL, atol=1e-14)
    np.testing.assert_allclose(under.to_numpy(), qs_stats.to_drawdown_series(portfolio_returns).to_numpy(),
                               rtol=REL, atol=1e-14)


def test_alpha_beta_real_portfolio_match_empyrical(report, report_rf, portfolio_returns, benchmark_returns):
    alpha, beta = empyrical.alpha_beta(portfolio_returns, benchmark_returns)
    alpha_rf, beta_rf = empyrical.alpha_beta(portfolio_returns, benchmark_returns, risk_free=RF_DAILY)

    assert report.alpha == pytest.approx(alpha, rel=REL)
    assert report.beta == pytest.approx(beta, rel=REL)
    assert report_rf.alpha == pytest.approx(alpha_rf, rel=REL)
    assert report_rf.beta == pytest.approx(beta_rf, rel=REL)


def test_alpha_beta_real_portfolio_match_quantstats_greeks_after_convention_change(report, portfolio_returns,
                                                                                  benchmark_returns):
    # quantstats annualises alpha as alpha_per_day x 252; we compound, (1 + alpha_per_day)^252 - 1.
    greeks = qs_stats.greeks(portfolio_returns, benchmark_returns, periods=252)
    our_alpha_per_day = (1.0 + report.alpha) ** (1.0 / 252) - 1.0

    assert report.beta == pytest.approx(greeks["beta"], rel=REL)
    assert our_alpha_per_day * 252 == pytest.approx(greeks["alpha"], rel=1e-9)


def test_information_ratio_and_tracking_error_match_libraries_times_sqrt_252(report, portfolio_returns,
                                                                             benchmark_returns):
    # empyrical excess_sharpe and quantstats information_ratio are per period.
    active = portfolio_returns - benchmark_returns

    assert report.information_ratio == pytest.approx(
        empyrical.excess_sharpe(portfolio_returns, benchmark_returns) * math.sqrt(252), rel=REL)
    assert report.information_ratio == pytest.approx(
        qs_stats.information_ratio(portfolio_returns, benchmark_returns) * math.sqrt(252), rel=REL)
    assert report.tracking_error == pytest.approx(active.std(ddof=1) * math.sqrt(252), rel=REL)


def test_monthly_returns_real_portfolio_match_empyrical_and_quantstats(report, portfolio_returns):
    table = report.monthly_returns
    by_month = empyrical.aggregate_returns(portfolio_returns, "monthly")
    quantstats_table = qs_stats.monthly_returns(portfolio_returns, eoy=False)

    ours = table.stack()  # drops months without data
    assert len(ours) == len(by_month) == 303  # Feb 1993 .. Apr 2018
    np.testing.assert_allclose(ours.to_numpy(), by_month.to_numpy(), rtol=REL, atol=1e-15)
    # quantstats writes 0 where there is no data (Jan 1993, May-Dec 2018); we leave NaN.
    np.testing.assert_allclose(table.fillna(0.0).to_numpy(), quantstats_table.to_numpy(), rtol=REL, atol=1e-15)
    assert math.isnan(table.loc[1993, 1]) and math.isnan(table.loc[2018, 12])


def test_rolling_sharpe_real_portfolio_matches_quantstats(portfolio_returns):
    ours = rolling_sharpe_ratio(portfolio_returns, window=126)
    theirs = qs_stats.rolling_sharpe(portfolio_returns, rolling_period=126)

    np.testing.assert_allclose(ours.to_numpy()[125:], theirs.to_numpy()[125:], rtol=1e-9)
    assert ours.iloc[:125].isna().all()


def test_drawdown_episodes_real_portfolio_match_quantstats_drawdown_details(portfolio_returns):
    # quantstats lists each episode by its first and last day under water; ours by the peak
    # before and the recovery after. Same episodes, same depths, dates one period apart.
    episodes = drawdown_episodes(portfolio_returns)
    details = qs_stats.drawdown_details(qs_stats.to_drawdown_series(portfolio_returns))
    dates = portfolio_returns.index

    assert len(episodes) == len(details) == 302
    np.testing.assert_allclose([e.depth * 100 for e in episodes], details["max drawdown"].to_numpy(), rtol=REL)
    assert [str(dates[e.peak_position + 1].date()) for e in episodes] == list(details["start"])
    last_under = [dates[e.recovery_position - 1 if e.recovery_position is not None else -1] for e in episodes]
    assert [str(d.date()) for d in last_under] == list(details["end"])


def test_max_drawdown_episode_real_portfolio_is_2007_to_2010(report):
    # The financial crisis: peak 12 Oct 2007, trough 6 Mar 2009, back at the peak 14 Apr 2010.
    episode = report.max_drawdown_episode

    assert (str(episode.peak.date()), str(episode.trough.date()), str(episode.recovery.date())) == (
        "2007-10-12", "2009-03-06", "2010-04-14")
    assert (episode.duration_periods, episode.duration_days, episode.ongoing) == (629, 915, False)
    assert episode.depth == pytest.approx(-0.5781207969365414, rel=REL)


def test_max_drawdown_amd_since_2000_is_ongoing(stock_prices):
    # AMD peaked in 2000 and had not recovered by April 2018.
    returns = stock_prices["AMD"].loc["2000-01-01":].pct_change().iloc[1:]

    report = performance_report(returns)

    assert report.max_drawdown_episode.ongoing
    assert report.max_drawdown_episode.recovery is None
    assert report.max_drawdown_episode.peak.year == 2000
    assert report.max_drawdown == pytest.approx(empyrical.max_drawdown(returns), rel=REL)
    assert report.max_drawdown_episode.duration_periods == len(returns) - 1 - report.max_drawdown_episode.peak_position


# --------------------------------------------------------------------------- trades and exposure


def test_trade_statistics_crossover_match_quantstats_on_trade_pnl(crossover_backtest):
    trades = crossover_backtest["trades"]
    pnl = trades["pnl"].dropna().reset_index(drop=True)

    report = performance_report(crossover_backtest["returns"], trades=trades)

    assert report.n_trades == 10
    assert report.win_rate == pytest.approx(qs_stats.win_rate(pnl, prepare_returns=False), rel=REL)
    assert report.profit_factor == pytest.approx(qs_stats.profit_factor(pnl, prepare_returns=False), rel=REL)
    assert report.expectancy == pytest.approx(float(np.mean(pnl)), rel=REL)
    assert report.fees_paid == pytest.approx(21.0, rel=REL)  # 21 fills at 1.00


def test_exposure_crossover_matches_quantstats_after_rounding(crossover_backtest):
    # quantstats counts non-zero returns and rounds up to a whole percent; we count periods with a position.
    returns = crossover_backtest["returns"]

    report = performance_report(returns, exposure=crossover_backtest["position"])

    assert report.exposure == pytest.approx(float((crossover_backtest["position"] != 0).mean()), rel=REL)
    assert math.ceil(report.exposure * 100) / 100 == pytest.approx(qs_stats.exposure(returns), abs=1e-12)


# --------------------------------------------------------------------------- probabilistic Sharpe ratio


def test_probabilistic_sharpe_ratio_real_portfolio_matches_quantstats(portfolio_returns):
    # quantstats uses pandas' bias-corrected skewness and excess kurtosis; we pass the same moments.
    sharpe = portfolio_returns.mean() / portfolio_returns.std(ddof=1)

    psr = probabilistic_sharpe_ratio(sharpe_ratio=sharpe, n_observations=len(portfolio_returns),
                                     skewness=portfolio_returns.skew(), kurtosis=portfolio_returns.kurt() + 3.0)

    assert psr == pytest.approx(qs_stats.probabilistic_sharpe_ratio(portfolio_returns), rel=REL)


def test_sharpe_of_short_window_matches_empyrical_on_each_stock(stock_returns):
    # A second sample: each stock's 2017 daily returns.
    year = stock_returns.loc["2017"]
    for symbol in year:
        report = performance_report(year[symbol])
        assert report.sharpe_ratio == pytest.approx(empyrical.sharpe_ratio(year[symbol]), rel=REL), symbol
        assert report.sortino_ratio == pytest.approx(empyrical.sortino_ratio(year[symbol]), rel=REL), symbol
        assert report.max_drawdown == pytest.approx(empyrical.max_drawdown(year[symbol]), rel=REL), symbol
        assert isinstance(pd.Timestamp(report.start), pd.Timestamp)
