"""Form 8949-style rows and a Schedule D summary, as CSV and PDF.

Rows follow the columns of IRS Form 8949: (a) description, (b) date acquired, (c) date
sold, (d) proceeds, (e) cost or other basis, (f) code, (g) amount of adjustment, (h) gain
or (loss) = (d) - (e) + (g). A wash-sale loss disallowed is code ``W`` with a positive
adjustment. Box A/B/C (short term) and D/E/F (long term) follow the 1099-B reporting of
the account: basis reported to the IRS (A/D, the default), not reported (B/E) or no
1099-B (C/F). Date acquired is the date the holding period counts from, so a wash-sale
replacement shows the tacked date. Sales in tax-advantaged accounts are not reported.

The Schedule D summary puts box A on line 1b, B on 2, C on 3 (net short term line 7) and
D on 8b, E on 9, F on 10 (net long term line 15); line 16 is the total.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from enum import StrEnum

from bifrost.compliance.tax import Disposal
from bifrost.core.errors import InvalidInput

__all__ = ["BasisReporting", "Form8949Row", "ScheduleDLine", "form8949_csv", "form8949_pdf", "form8949_rows",
           "schedule_d", "schedule_d_csv", "table_csv", "table_pdf"]

_ZERO = Decimal(0)


class BasisReporting(StrEnum):
    """How the broker reported the sales: picks the Form 8949 box."""

    REPORTED = "reported"          # 1099-B with basis reported to the IRS: box A / D
    NOT_REPORTED = "not_reported"  # 1099-B without basis: box B / E
    NO_1099B = "no_1099b"          # no 1099-B: box C / F


_BOXES = {BasisReporting.REPORTED: ("A", "D"), BasisReporting.NOT_REPORTED: ("B", "E"),
          BasisReporting.NO_1099B: ("C", "F")}


@dataclass(frozen=True, slots=True, kw_only=True)
class Form8949Row:
    box: str
    long_term: bool
    description: str
    acquired: date
    sold: date
    proceeds: Decimal
    basis: Decimal
    code: str
    adjustment: Decimal
    gain: Decimal
    account: str
    closing_id: str
    lot_id: str


def _quantity(value: Decimal) -> str:
    text = format(value.normalize(), "f")
    return text


def form8949_rows(disposals: Iterable[Disposal], *, year: int | None = None,
                  reporting: BasisReporting | str = BasisReporting.REPORTED) -> list[Form8949Row]:
    """Return Form 8949 rows for the taxable disposals (of ``year``, if given), by box then date sold."""
    boxes = _BOXES[BasisReporting(reporting)]
    rows = []
    for d in disposals:
        if d.tax_advantaged or (year is not None and d.disposed.year != year):
            continue
        description = f"{_quantity(d.quantity)} sh. {d.symbol}" + (" (short sale)" if d.short else "")
        rows.append(Form8949Row(
            box=boxes[1] if d.long_term else boxes[0], long_term=d.long_term, description=description,
            acquired=d.holding_acquired, sold=d.disposed, proceeds=d.proceeds, basis=d.basis, code=d.code,
            adjustment=d.wash_disallowed, gain=d.gain, account=d.account, closing_id=d.closing_id, lot_id=d.lot_id))
    rows.sort(key=lambda r: (r.box, r.sold, r.acquired, r.closing_id, r.lot_id))
    return rows


_HEADER = ["box", "term", "description", "date_acquired", "date_sold", "proceeds", "cost_basis", "code",
           "adjustment", "gain_or_loss", "account", "trade_id", "lot_id"]


def form8949_csv(rows: Iterable[Form8949Row]) -> str:
    """Render rows as CSV text (ISO dates, plain decimals)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(_HEADER)
    for r in rows:
        writer.writerow([r.box, "long" if r.long_term else "short", r.description, r.acquired.isoformat(),
                         r.sold.isoformat(), r.proceeds, r.basis, r.code, r.adjustment if r.adjustment else "",
                         r.gain, r.account, r.closing_id, r.lot_id])
    return buffer.getvalue()


@dataclass(frozen=True, slots=True, kw_only=True)
class ScheduleDLine:
    line: str
    label: str
    proceeds: Decimal
    basis: Decimal
    adjustment: Decimal
    gain: Decimal


_LINES = [("1b", "A", "Short-term, box A"), ("2", "B", "Short-term, box B"), ("3", "C", "Short-term, box C"),
          ("8b", "D", "Long-term, box D"), ("9", "E", "Long-term, box E"), ("10", "F", "Long-term, box F")]


def schedule_d(rows: Iterable[Form8949Row]) -> list[ScheduleDLine]:
    """Sum 8949 rows into Schedule D lines 1b, 2, 3, 7 (net short), 8b, 9, 10, 15 (net long) and 16."""
    sums: dict[str, list[Decimal]] = {box: [_ZERO, _ZERO, _ZERO, _ZERO] for _, box, _ in _LINES}
    for r in rows:
        total = sums[r.box]
        total[0] += r.proceeds
        total[1] += r.basis
        total[2] += r.adjustment
        total[3] += r.gain
    out: list[ScheduleDLine] = []
    for kind, lines, net_line in (("Short-term", _LINES[:3], "7"), ("Long-term", _LINES[3:], "15")):
        net = [_ZERO] * 4
        for line, box, label in lines:
            values = sums[box]
            out.append(ScheduleDLine(line=line, label=label, proceeds=values[0], basis=values[1],
                                     adjustment=values[2], gain=values[3]))
            net = [a + b for a, b in zip(net, values, strict=True)]
        out.append(ScheduleDLine(line=net_line, label=f"Net {kind.lower()} gain or (loss)", proceeds=net[0],
                                 basis=net[1], adjustment=net[2], gain=net[3]))
    short, long = out[3], out[7]
    out.append(ScheduleDLine(line="16", label="Total (lines 7 and 15)", proceeds=short.proceeds + long.proceeds,
                             basis=short.basis + long.basis, adjustment=short.adjustment + long.adjustment,
                             gain=short.gain + long.gain))
    return out


def schedule_d_csv(lines: Iterable[ScheduleDLine]) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(["line", "label", "proceeds", "cost_basis", "adjustment", "gain_or_loss"])
    for line in lines:
        writer.writerow([line.line, line.label, line.proceeds, line.basis, line.adjustment, line.gain])
    return buffer.getvalue()


def form8949_pdf(rows: list[Form8949Row], *, title: str = "Form 8949 - Sales and Other Dispositions of "
                 "Capital Assets (statement)", taxpayer: str = "", year: int | None = None) -> bytes:
    """Render the 8949 rows, grouped by box, and the Schedule D summary as a PDF (reportlab).

    Raises
    ------
    InvalidInput
        If ``rows`` is not a list of :class:`Form8949Row`.
    """
    from reportlab.lib import colors
    from reportlab.lib.pagesizes import landscape, letter
    from reportlab.lib.styles import getSampleStyleSheet
    from reportlab.lib.units import inch
    from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

    if not all(isinstance(r, Form8949Row) for r in rows):
        raise InvalidInput("form8949_pdf needs Form8949Row items (from form8949_rows)")
    styles = getSampleStyleSheet()
    buffer = io.BytesIO()
    doc = SimpleDocTemplate(buffer, pagesize=landscape(letter), leftMargin=0.4 * inch, rightMargin=0.4 * inch,
                            topMargin=0.5 * inch, bottomMargin=0.5 * inch, title=title,
                            invariant=True)  # reproducible bytes: no creation time, fixed ids
    story = [Paragraph(title, styles["Title"])]
    subtitle = " - ".join(part for part in (taxpayer, f"tax year {year}" if year else "") if part)
    if subtitle:
        story.append(Paragraph(subtitle, styles["Normal"]))
    grid = TableStyle([("GRID", (0, 0), (-1, -1), 0.25, colors.grey), ("FONTSIZE", (0, 0), (-1, -1), 7),
                       ("BACKGROUND", (0, 0), (-1, 0), colors.lightgrey), ("ALIGN", (3, 1), (-1, -1), "RIGHT")])
    for box in "ABCDEF":
        selected = [r for r in rows if r.box == box]
        if not selected:
            continue
        part = "Part II - Long-term" if box in "DEF" else "Part I - Short-term"
        story += [Spacer(1, 8), Paragraph(f"{part}, box {box}", styles["Heading3"])]
        data = [["(a) Description", "(b) Acquired", "(c) Sold", "(d) Proceeds", "(e) Cost basis", "(f) Code",
                 "(g) Adjustment", "(h) Gain or (loss)"]]
        for r in selected:
            data.append([r.description, r.acquired.isoformat(), r.sold.isoformat(), f"{r.proceeds:,.2f}",
                         f"{r.basis:,.2f}", r.code, f"{r.adjustment:,.2f}" if r.adjustment else "",
                         f"{r.gain:,.2f}"])
        totals = [sum((r.proceeds for r in selected), _ZERO), sum((r.basis for r in selected), _ZERO),
                  sum((r.adjustment for r in selected), _ZERO), sum((r.gain for r in selected), _ZERO)]
        data.append(["Totals", "", "", f"{totals[0]:,.2f}", f"{totals[1]:,.2f}", "", f"{totals[2]:,.2f}",
                     f"{totals[3]:,.2f}"])
        table = Table(data, repeatRows=1)
        table.setStyle(grid)
        story.append(table)
    story += [Spacer(1, 12), Paragraph("Schedule D summary", styles["Heading2"])]
    data = [["Line", "", "(d) Proceeds", "(e) Cost", "(g) Adjustments", "(h) Gain or (loss)"]]
    for line in schedule_d(rows):
        data.append([line.line, line.label, f"{line.proceeds:,.2f}", f"{line.basis:,.2f}",
                     f"{line.adjustment:,.2f}", f"{line.gain:,.2f}"])
    table = Table(data, repeatRows=1)
    table.setStyle(TableStyle([("GRID", (0, 0), (-1, -1), 0.25, colors.grey), ("FONTSIZE", (0, 0), (-1, -1), 8),
                               ("BACKGROUND", (0, 0), (-1, 0), colors.lightgrey),
                               ("ALIGN", (2, 1), (-1, -1), "RIGHT")]))
    story.append(table)
    doc.build(story)
    return buffer.getvalue()


def table_csv(header: list[str], rows: Iterable[Iterable[object]]) -> str:
    """Render a header and rows as CSV text (Decimals and dates as written)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(header)
    for row in rows:
        writer.writerow([value.isoformat() if isinstance(value, date) else value for value in row])
    return buffer.getvalue()


def table_pdf(title: str, header: list[str], rows: list[list[object]], *, subtitle: str = "") -> bytes:
    """Render a titled table as a PDF (reportlab), for the regulatory reports."""
    from reportlab.lib import colors
    from reportlab.lib.pagesizes import landscape, letter
    from reportlab.lib.styles import getSampleStyleSheet
    from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

    styles = getSampleStyleSheet()
    buffer = io.BytesIO()
    doc = SimpleDocTemplate(buffer, pagesize=landscape(letter), title=title, invariant=True)
    story = [Paragraph(title, styles["Title"])]
    if subtitle:
        story.append(Paragraph(subtitle, styles["Normal"]))
    data = [header] + [[value.isoformat() if isinstance(value, date) else str(value) for value in row]
                       for row in rows]
    table = Table(data, repeatRows=1)
    table.setStyle(TableStyle([("GRID", (0, 0), (-1, -1), 0.25, colors.grey), ("FONTSIZE", (0, 0), (-1, -1), 8),
                               ("BACKGROUND", (0, 0), (-1, 0), colors.lightgrey)]))
    story += [Spacer(1, 8), table]
    doc.build(story)
    return buffer.getvalue()
