"""``bifrost risk``: every command has --help; limits, check, var, stress, report, backtest-var, alerts."""

from __future__ import annotations

import json

import pytest
from django.contrib.auth import get_user_model
from typer.main import get_command
from typer.testing import CliRunner

from bifrost_cli.main import app
from bifrost_web.risk import models
from tests.risk.webdata import funded_portfolio, ingest_instruments

runner = CliRunner()


def _json(result):
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def _text(result) -> str:
    return " ".join(result.output.split())


def test_every_risk_command_has_help():
    group = get_command(app).commands["risk"]
    assert set(group.commands) >= {"var", "limits", "check", "stress", "report", "backtest-var", "alerts", "revalue"}
    for name in group.commands:
        result = runner.invoke(app, ["risk", name, "--help"])
        assert result.exit_code == 0 and "Usage" in result.output, name
    for name in ("list", "set", "delete"):
        assert runner.invoke(app, ["risk", "limits", name, "--help"]).exit_code == 0


@pytest.mark.django_db
def test_risk_cli_end_to_end(tmp_path):
    demo = get_user_model().objects.create_user("demo", password="pw-demo-123456")
    ingest_instruments()
    funded_portfolio(demo, "main", buys={"AAA": "300", "BBB": "400", "CCC": "200"})
    assert runner.invoke(app, ["risk", "limits", "set", "position_weight", "--portfolio", "main", "--soft", "0.1",
                               "--hard", "0.3"]).exit_code == 0
    bad = runner.invoke(app, ["risk", "limits", "set", "position_weight", "--portfolio", "main", "--soft", "0.5",
                              "--hard", "0.3"])
    assert bad.exit_code == 2 and "must not exceed the hard level" in _text(bad)
    listed = _json(runner.invoke(app, ["risk", "limits", "list", "main", "--json"]))
    assert [(r["kind"], r["soft"], r["hard"]) for r in listed] == [("position_weight", "0.1", "0.3")]

    check = _json(runner.invoke(app, ["risk", "check", "main", "DDD", "buy", "2000", "--json"]))
    assert check["decision"] == "reject" and check["findings"][0]["rule"] == "position_weight"
    small = runner.invoke(app, ["risk", "check", "main", "DDD", "buy", "1"])
    assert "ACCEPT" in small.output

    var = _json(runner.invoke(app, ["risk", "var", "main", "--confidence", "0.95", "--json"]))
    assert {r["method"] for r in var["var"]} >= {"historical", "parametric", "filtered_historical"}
    stress = _json(runner.invoke(app, ["risk", "stress", "main", "--scenario", "lehman_2008", "--index-shock",
                                       "-0.2", "--reverse-loss", "0.1", "--json"]))
    assert stress["historical"][0]["name"] == "lehman_2008" and stress["index"][0]["pnl"] < 0
    pdf = tmp_path / "risk.pdf"
    report = runner.invoke(app, ["risk", "report", "main", "--pdf", str(pdf)])
    assert report.exit_code == 0 and pdf.read_bytes()[:5] == b"%PDF-"
    backtest = _json(runner.invoke(app, ["risk", "backtest-var", "main", "--window", "100", "--json"]))
    assert backtest["observations"] + 100 == 310  # 311 closes give 310 returns; the first 100 estimate
    assert runner.invoke(app, ["risk", "revalue", "main"]).exit_code == 0
    alerts = _json(runner.invoke(app, ["risk", "alerts", "main", "--json"]))
    assert alerts and alerts[0]["rule"] == "position_weight"
    assert runner.invoke(app, ["risk", "alerts", "--ack", str(alerts[0]["id"])]).exit_code == 0
    assert models.RiskAlert.objects.get().acknowledged
