"""``bifrost execution``: schedule, tca, report, recommend, venues, route, impact, simulate."""

import json

import pandas as pd
import pytest
from django.contrib.auth import get_user_model
from typer.testing import CliRunner

from bifrost_cli.main import app

pytestmark = pytest.mark.django_db
runner = CliRunner()
COMMANDS = ["tca", "report", "schedule", "recommend", "venues", "route", "impact", "simulate"]


@pytest.fixture
def demo():
    return get_user_model().objects.create_user("demo", password="pw-demo-123456")


@pytest.mark.parametrize("command", COMMANDS)
def test_every_command_has_help(command):
    result = runner.invoke(app, ["execution", command, "--help"])
    assert result.exit_code == 0 and "Usage" in result.output


def test_schedule_json_reproduces_the_paper_example():
    result = runner.invoke(app, ["execution", "schedule", "--json", "--frontier", "3"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert data["kappa"] == pytest.approx(0.6, abs=0.02) and len(data["frontier"]) == 3


@pytest.fixture
def csv_files(tmp_path):
    t0 = pd.Timestamp("2024-03-04 14:30Z")
    fills = pd.DataFrame({"ts": [t0 + pd.Timedelta(seconds=5), t0 + pd.Timedelta(seconds=65)], "symbol": "X",
                          "side": ["buy", "sell"], "quantity": [100, 200], "price": [10.02, 9.97],
                          "commission": [1.0, 1.0], "fees": [0.0, 0.05], "order_id": ["a", "b"],
                          "fill_id": ["f1", "f2"]})
    quotes = pd.DataFrame({"ts": [t0, t0 + pd.Timedelta(minutes=1)], "symbol": "X", "bid": [9.99, 9.98],
                           "ask": [10.01, 10.00]})
    fills.to_csv(tmp_path / "fills.csv", index=False)
    quotes.to_csv(tmp_path / "quotes.csv", index=False)
    return tmp_path


def test_tca_on_csv_files_reports_arrival_slippage(csv_files):
    result = runner.invoke(app, ["execution", "tca", "--fills", str(csv_files / "fills.csv"), "--quotes",
                                 str(csv_files / "quotes.csv"), "--json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    # buy 100 at 10.02 vs mid 10.00 (+20 bps); sell 200 at 9.97 vs mid 9.99 (+20.02 bps): notional-weighted
    buy = (10.02 - 10.00) / 10.00 * 1e4
    sell = (9.99 - 9.97) / 9.99 * 1e4
    expected = (buy * 1002 + sell * 1994) / (1002 + 1994)
    assert data["summary"]["arrival_bps"] == pytest.approx(expected)
    assert data["rule605"][0]["shares_outside_quote"] == 300


def test_report_writes_pdf_and_html(csv_files):
    pdf = csv_files / "tca.pdf"
    html = csv_files / "tca.html"
    args = ["--fills", str(csv_files / "fills.csv"), "--quotes", str(csv_files / "quotes.csv")]
    assert runner.invoke(app, ["execution", "report", str(pdf), *args]).exit_code == 0
    assert runner.invoke(app, ["execution", "report", str(html), *args]).exit_code == 0
    assert pdf.read_bytes().startswith(b"%PDF-") and "Markouts" in html.read_text()


def test_tca_needs_an_input():
    result = runner.invoke(app, ["execution", "tca"])
    assert result.exit_code == 2 and "--portfolio or --fills" in result.output


def test_recommend_and_route(demo):
    result = runner.invoke(app, ["execution", "recommend", "ACME", "buy", "50000", "--adv", "1e6", "--sigma", "0.02",
                                 "--price", "50", "--json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.output)["best"]["algo"]
    passive = runner.invoke(app, ["execution", "recommend", "ACME", "buy", "50000", "--adv", "1e6", "--sigma", "0.02",
                                  "--price", "50", "--urgency", "low", "--spread-bps", "4", "--passive-fill-rate",
                                  "0.765", "--adverse-selection-bps", "1.58", "--json"])
    assert passive.exit_code == 0, passive.output
    assert json.loads(passive.output)["best"]["params"].get("style") == "passive"
    routed = runner.invoke(app, ["execution", "route", "buy", "500", "--quote", "INV-C:9.99:1000:10.00:1000",
                                 "--quote", "MTX-A:9.99:1000:10.00:1000", "--json"])
    assert routed.exit_code == 0, routed.output
    assert [leg["venue"] for leg in json.loads(routed.output)["legs"]] == ["INV-C"]
    bad = runner.invoke(app, ["execution", "route", "buy", "5", "--quote", "nonsense"])
    assert bad.exit_code == 2 and "VENUE:BID" in bad.output


def test_venues_lists_demo_venues(demo):
    result = runner.invoke(app, ["execution", "venues", "--json"])
    assert result.exit_code == 0
    assert {v["schedule"] for v in json.loads(result.output)} == {"maker-taker", "inverted"}


def test_impact_on_a_portfolio_without_fills_is_a_clear_error(demo):
    from bifrost_web.trading import services

    services.portfolio_create(owner=demo, name="main")
    result = runner.invoke(app, ["execution", "impact", "main"])
    assert result.exit_code == 2 and "no fills" in result.output


def test_simulate_prints_savings_with_confidence_intervals():
    result = runner.invoke(app, ["execution", "simulate", "--seeds", "50", "--json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    low = data["improvement_vs_market_bps"][1]
    assert low > 0
