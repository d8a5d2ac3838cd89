"""Stress tests: embedded scenario numbers recomputed from the Ken French data, and shocks on hand examples."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from bifrost.core.errors import InvalidInput
from bifrost.risk import (
    HISTORICAL_SCENARIOS,
    correlation_shock,
    index_shock,
    reverse_stress_covariance,
    reverse_stress_index,
    run_scenario,
    sector_shock,
    volatility_shock,
)


@pytest.fixture(scope="module")
def french_daily(shared_data):
    frame = pd.read_csv(shared_data / "factors" / "F-F_Research_Data_Factors_daily.CSV", skiprows=4)
    frame = frame.rename(columns={frame.columns[0]: "date"})
    frame = frame[frame["date"].astype(str).str.strip().str.fullmatch(r"\d{8}")]
    frame.index = pd.to_datetime(frame.pop("date").astype(str).str.strip(), format="%Y%m%d")
    frame = frame.astype(float) / 100
    frame["market"] = frame["Mkt-RF"] + frame["RF"]
    return frame.rename(columns={"SMB": "smb", "HML": "hml"})


@pytest.mark.parametrize("name", [n for n in HISTORICAL_SCENARIOS if n != "rates_2022"])
def test_scenario_moves_match_french_data(name, french_daily):
    scenario = HISTORICAL_SCENARIOS[name]
    window = french_daily.loc[scenario.start.isoformat():scenario.end.isoformat()]
    for factor, move in scenario.factor_moves.items():
        assert move == pytest.approx(float(np.prod(1 + window[factor]) - 1), abs=6e-5), factor


def test_run_scenario_propagates_through_betas():
    values = {"A": 100_000.0, "B": -50_000.0, "C": 20_000.0}
    result = run_scenario(values, "covid_2020", nav=100_000, betas={"A": 1.2, "B": 0.5})
    market = HISTORICAL_SCENARIOS["covid_2020"].factor_moves["market"]
    expected = 100_000 * 1.2 * market - 50_000 * 0.5 * market + 20_000 * 1.0 * market
    assert result.pnl == pytest.approx(expected)
    assert result.pnl_pct == pytest.approx(expected / 100_000)
    assert result.by_position["B"] > 0  # the short gains in a crash
    with pytest.raises(InvalidInput, match="unknown scenario"):
        run_scenario(values, "crash_1929")


def test_hypothetical_index_and_sector_shocks():
    values = {"A": 10_000.0, "B": 5_000.0}
    assert index_shock(values, -0.2, betas={"A": 1.5}).pnl == pytest.approx(-3_000 - 1_000)
    shocked = sector_shock(values, {"A": "Technology", "B": "Energy"}, {"Technology": -0.3})
    assert shocked.pnl == pytest.approx(-3_000) and shocked.by_position["B"] == 0


def test_volatility_and_correlation_shocks():
    sd = np.array([0.01, 0.02])
    cov = np.outer(sd, sd) * np.array([[1, 0.2], [0.2, 1]])
    w = np.array([0.5, 0.5])
    z = stats.norm.ppf(0.99)
    vol = volatility_shock(w, cov, 2.0)
    assert vol["var_after"] == pytest.approx(2 * vol["var_before"])
    corr = correlation_shock(w, cov)
    assert corr["var_after"] == pytest.approx(z * (0.5 * 0.01 + 0.5 * 0.02))  # no diversification left
    assert corr["var_before"] < corr["var_after"]


def test_reverse_stress_tests_hit_the_threshold_exactly():
    values = {"A": 60_000.0, "B": 40_000.0}
    move = reverse_stress_index(values, 10_000, betas={"A": 1.5, "B": 0.5})
    assert move == pytest.approx(-10_000 / (60_000 * 1.5 + 40_000 * 0.5))
    assert index_shock(values, move, betas={"A": 1.5, "B": 0.5}).pnl == pytest.approx(-10_000)
    cov = np.array([[0.0004, 0.0001], [0.0001, 0.0009]])
    w = np.array([60_000.0, 40_000.0])
    result = reverse_stress_covariance(w, cov, 5_000)
    assert w @ result["scenario"] == pytest.approx(-5_000)
    assert result["sigmas"] == pytest.approx(5_000 / math.sqrt(w @ cov @ w))
    # any other scenario with the same loss is further away in Mahalanobis distance
    other = result["scenario"] + np.array([0.001, -0.0015])
    inv = np.linalg.inv(cov)
    assert w @ other == pytest.approx(-5_000)
    assert other @ inv @ other > result["scenario"] @ inv @ result["scenario"]
    assert reverse_stress_index({"A": 1.0, "B": -1.0}, 100) is None  # beta-neutral: no index move loses
