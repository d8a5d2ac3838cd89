"""Form 8949 rows, Schedule D totals, CSV and PDF."""

from __future__ import annotations

import base64
import csv
import io
import re
import zlib
from datetime import date
from decimal import Decimal

from bifrost.compliance import AccountProfile, compute_tax_lots
from bifrost.compliance.reports import (
    form8949_csv,
    form8949_pdf,
    form8949_rows,
    schedule_d,
    schedule_d_csv,
)
from tests.compliance.helpers import trade

D = Decimal


def _result():
    trades = [
        trade("B1", "2023-01-03", "buy", 10, 100, fees="1.00"),          # long-term gain lot
        trade("B2", "2024-01-02", "buy", 100, 10),                        # Pub. 550 example 1
        trade("S1", "2024-03-01", "sell", 100, "7.50", lot_id="B2"),      # loss 250, washed
        trade("B3", "2024-03-20", "buy", 100, 8),
        trade("S2", "2024-06-03", "sell", 10, 150, fees="1.00", lot_id="B1"),  # LT gain 1499 - 1001 = 498
        trade("I1", "2024-05-01", "buy", 5, 10, account="IRA"),
        trade("I2", "2024-05-02", "sell", 5, 9, account="IRA"),
    ]
    return compute_tax_lots(trades, accounts={"IRA": AccountProfile(tax_advantaged=True)})


def test_8949_rows_boxes_code_w_and_ira_excluded():
    rows = form8949_rows(_result().disposals, year=2024)
    assert [(r.box, r.description, r.code, r.adjustment, r.gain) for r in rows] == [
        ("A", "100 sh. X", "W", D(250), D(0)),
        ("D", "10 sh. X", "", D(0), D("498.00")),
    ]
    assert rows[0].acquired == date(2024, 1, 2) and rows[0].sold == date(2024, 3, 1)
    assert form8949_rows(_result().disposals, year=2024, reporting="no_1099b")[0].box == "C"


def test_schedule_d_lines_sum_rows():
    lines = {line.line: line for line in schedule_d(form8949_rows(_result().disposals, year=2024))}
    assert lines["1b"].proceeds == D(750) and lines["1b"].basis == D(1000) and lines["1b"].adjustment == D(250)
    assert lines["7"].gain == D(0) and lines["15"].gain == D("498.00") and lines["16"].gain == D("498.00")
    assert lines["16"].proceeds == D(750) + D(1499)


def test_8949_csv_round_trips_values():
    rows = form8949_rows(_result().disposals, year=2024)
    parsed = list(csv.DictReader(io.StringIO(form8949_csv(rows))))
    assert parsed[0]["code"] == "W" and parsed[0]["adjustment"] == "250.00" and parsed[0]["date_acquired"] == \
        "2024-01-02"
    assert parsed[1]["gain_or_loss"] == "498.00" and parsed[1]["term"] == "long"
    summary = list(csv.DictReader(io.StringIO(schedule_d_csv(schedule_d(rows)))))
    assert summary[-1]["line"] == "16" and summary[-1]["gain_or_loss"] == "498.00"


def _pdf_text(pdf: bytes) -> str:
    chunks = []
    for match in re.finditer(rb"stream\r?\n(.*?)endstream", pdf, re.S):
        data = match.group(1)
        data = data.strip()
        if data.endswith(b"~>"):  # reportlab: ASCII85 then Flate
            data = zlib.decompress(base64.a85decode(data[:-2]))
        chunks.append(data.decode("latin-1"))
    return "".join(chunks)


def test_8949_pdf_contains_rows_and_summary():
    rows = form8949_rows(_result().disposals, year=2024)
    pdf = form8949_pdf(rows, taxpayer="Test", year=2024)
    text = _pdf_text(pdf)
    assert pdf.startswith(b"%PDF")
    assert "250.00" in text and "498.00" in text and "1,499.00" in text and "box A" in text and "Schedule D summary" in text
