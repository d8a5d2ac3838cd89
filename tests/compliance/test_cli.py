"""`bifrost compliance` on a broker trade-history CSV (docs/trade-import.md) and on the audit trail."""

from __future__ import annotations

import csv
import io
import json

import pytest
from typer.testing import CliRunner

from bifrost_cli.main import app

runner = CliRunner()

FILE = """trade_id,account,date,symbol,side,quantity,price,fees
B1,TAX,2024-01-02,XYZ,buy,100,10,0
S1,TAX,2024-03-01,XYZ,sell,100,7.50,0
B2,TAX,2024-03-20,XYZ,buy,100,8,0
Q1,TAX,2024-01-02,QQQ,buy,10,400,0
Q2,TAX,2024-02-01,QQQ,sell,10,380,0
I1,IRA,2024-02-15,QQQ,buy,10,385,0
D1,TAX,2024-04-01T10:00:00-04:00,DT,buy,1,10,0
D2,TAX,2024-04-01T11:00:00-04:00,DT,sell,1,11,0
D3,TAX,2024-04-02T10:00:00-04:00,DT,buy,1,10,0
D4,TAX,2024-04-02T11:00:00-04:00,DT,sell,1,11,0
D5,TAX,2024-04-03T10:00:00-04:00,DT,buy,1,10,0
D6,TAX,2024-04-03T11:00:00-04:00,DT,sell,1,11,0
D7,TAX,2024-04-04T10:00:00-04:00,DT,buy,1,10,0
"""


@pytest.fixture
def history(tmp_path):
    path = tmp_path / "2024.csv"
    path.write_text(FILE)
    return path


def _json(args):
    result = runner.invoke(app, ["compliance", *args, "--json"])
    assert result.exit_code == 0, result.output
    return json.loads(result.output)


def test_lots_and_wash_sales_on_file(history):
    lots = _json(["lots", "--file", str(history), "--ira", "IRA", "--account", "TAX"])
    washes = _json(["wash-sales", "--file", str(history), "--ira", "IRA"])
    assert {lot["lot_id"]: lot["basis"] for lot in lots["open_lots"] if lot["symbol"] == "XYZ"} == {"B2/w1": "1050.00"}
    assert lots["realised"]["TAX"]["wash_disallowed"] == "450.00"  # 250 (Pub. 550 ex. 1) + 200 into the IRA
    assert washes["permanently_disallowed"] == "200.00"


def test_form8949_csv_and_pdf_on_file(history, tmp_path):
    result = runner.invoke(app, ["compliance", "form8949", "--file", str(history), "--ira", "IRA", "--year", "2024"])
    rows = list(csv.DictReader(io.StringIO(result.output)))
    xyz = next(r for r in rows if r["description"] == "100 sh. XYZ")
    assert result.exit_code == 0 and xyz["code"] == "W" and xyz["adjustment"] == "250.00"
    pdf = tmp_path / "8949.pdf"
    assert runner.invoke(app, ["compliance", "form8949", "--file", str(history), "--format", "pdf", "-o",
                               str(pdf)]).exit_code == 0
    assert pdf.read_bytes().startswith(b"%PDF")
    bad = runner.invoke(app, ["compliance", "form8949", "--file", str(history), "--format", "pdf"])
    assert bad.exit_code == 2 and "--format pdf needs --output" in bad.output


def test_pdt_and_check_on_file(history):
    status = _json(["pdt", "--file", str(history), "--account", "TAX", "--as-of", "2024-04-04"])
    assert status["TAX"]["day_trades"] == 3 and status["TAX"]["pattern_day_trader"] is False
    check = _json(["check", "--file", str(history), "--account", "TAX", "--symbol", "DT", "--side", "sell",
                   "--quantity", "1", "--price", "11", "--at", "2024-04-04T12:00:00-04:00", "--equity", "5000"])
    assert check["decision"] == "warn"
    assert "this sale would be your 4th day trade in 5 business days" in check["findings"][0]["message"]
    wash = _json(["check", "--file", str(history), "--account", "TAX", "--symbol", "QQQ", "--side", "buy",
                  "--quantity", "5", "--price", "390", "--at", "2024-02-20T12:00:00-05:00"])
    # Q2's 200 loss is already fully washed by the IRA purchase: a taxable rebuy adds nothing.
    assert wash["decision"] == "accept"


def test_missing_source_is_a_clear_error(history):
    result = runner.invoke(app, ["compliance", "lots"])
    assert result.exit_code == 2 and "give exactly one of --file" in result.output
    wrong = runner.invoke(app, ["compliance", "lots", "--file", str(history), "--ira", "ROTH"])
    assert wrong.exit_code == 2 and "--ira names accounts not in" in wrong.output


@pytest.mark.django_db
def test_audit_verify_cli_names_broken_entry():
    from django.db import connection

    from bifrost_web.compliance import services

    for n in range(3):
        services.audit_record(actor="system:test", action="test.event", object_id=str(n))
    assert _json(["audit-verify"])["intact"] is True
    with connection.cursor() as cursor:
        cursor.execute("UPDATE compliance_auditentry SET object_id = 'x' WHERE sequence = 2")
    result = runner.invoke(app, ["compliance", "audit-verify"])
    assert result.exit_code == 1 and "broken at entry #2" in result.output


def test_margin_what_if_and_positions_on_file(tmp_path):
    state = _json(["margin", "--cash", "-30000", "--position", "A=400", "--position", "B=-100", "--price", "A=100",
                   "--price", "B=50"])
    # long 40,000 x 25% + short 5,000 x 30% = 11,500 against equity 5,000.
    assert state["requirement"] == "11500.00" and state["deficit"] == "6500.00"
    path = tmp_path / "big.csv"
    path.write_text("trade_id,account,date,symbol,side,quantity,price\n"
                    "L1,A,2024-03-04,BIG,buy,1500000,10\nL2,A,2024-03-04,BIG,sell,500000,10\n")
    body = _json(["positions", "--file", str(path)])
    assert body["large_trader"] == [{"period": "day", "start": "2024-03-04", "shares": "2000000",
                                     "notional": "20000000", "by": "shares and notional"}]


@pytest.mark.django_db
def test_report_command_stores_versions(tmp_path):
    from django.contrib.auth import get_user_model

    from bifrost_web.compliance.models import ReportRun

    get_user_model().objects.create_user("carol", password="pw-carol-123456")
    out = tmp_path / "lt.csv"
    first = _json(["report", "--kind", "large_trader", "--period", "2024", "--user", "carol", "-o", str(out)])
    second = _json(["report", "--kind", "large_trader", "--period", "2024", "--user", "carol"])
    assert (first["version"], second["version"]) == (1, 2) and ReportRun.objects.count() == 2
    assert out.read_text().startswith("period,start,shares,notional,by")
