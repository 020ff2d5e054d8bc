"""The report as PDF, drawn with reportlab in its invariant mode.

``invariant=1`` fixes the creation date and the document id, so the same report gives the
same bytes on every run (reportlab is pure Python here; the standard Helvetica fonts are
not embedded, so no font file on the machine changes the output). Charts are drawn from the
same :class:`~redline.report.layout.Chart` values as the HTML's SVG.
"""

from __future__ import annotations

import io
from xml.sax.saxutils import escape

from reportlab.graphics.shapes import Drawing, Line, Rect, String
from reportlab.lib import colors
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle, getSampleStyleSheet
from reportlab.lib.units import cm
from reportlab.platypus import Flowable, Paragraph, SimpleDocTemplate, Spacer, TableStyle
from reportlab.platypus import Table as PdfTable

from redline.report.layout import Chart, Report, Table
from redline.report.svg import nice_max

__all__ = ["render_pdf"]

_W, _H = 480.0, 190.0
_HEAD = colors.HexColor("#eeeeee")
_LEFT, _RIGHT, _TOP, _BOTTOM = 34.0, 110.0, 22.0, 30.0


def render_pdf(report: Report) -> bytes:
    """The PDF bytes of ``report`` (a pure function of the report)."""
    styles = getSampleStyleSheet()
    cell = ParagraphStyle("cell", parent=styles["BodyText"], fontSize=7.5, leading=9)
    head = ParagraphStyle("head", parent=cell, fontName="Helvetica-Bold")
    story: list[Flowable] = [
        Paragraph(escape(report.title), styles["Title"]),
        Paragraph(
            "Computed from a verified audit export alone; the same export reproduces this "
            "document byte for byte with <font face='Courier'>redline report</font>.",
            styles["BodyText"],
        ),
        Spacer(1, 6),
        _table(Table(header=("", ""), rows=report.checkpoint), cell, head, header=False),
    ]
    for i, section in enumerate(report.sections, 1):
        story.append(Paragraph(f"{i}. {escape(section.title)}", styles["Heading2"]))
        story.append(Paragraph(escape(section.text), styles["BodyText"]))
        for chart in section.charts:
            story += [Spacer(1, 4), _drawing(chart)]
        for table in section.tables:
            story += [Spacer(1, 6), _table(table, cell, head)]
    out = io.BytesIO()
    doc = SimpleDocTemplate(
        out,
        pagesize=A4,
        invariant=1,
        title=report.title,
        author="Redline",
        creator="redline report",
        leftMargin=2 * cm,
        rightMargin=2 * cm,
        topMargin=1.8 * cm,
        bottomMargin=1.8 * cm,
    )
    doc.build(story)
    return out.getvalue()


def _table(
    table: Table, cell: ParagraphStyle, head: ParagraphStyle, *, header: bool = True
) -> PdfTable:
    rows = [[Paragraph(escape(c), cell) for c in row] for row in table.rows]
    if header:
        rows.insert(0, [Paragraph(escape(h), head) for h in table.header])
    width = 17 * cm
    columns = len(table.header)
    widths = [width / columns] * columns
    if not header and columns == 2:
        widths = [5 * cm, 12 * cm]
    pdf = PdfTable(rows, colWidths=widths, repeatRows=1 if header else 0)
    pdf.setStyle(
        TableStyle(
            [
                ("GRID", (0, 0), (-1, -1), 0.4, colors.HexColor("#bbbbbb")),
                ("VALIGN", (0, 0), (-1, -1), "TOP"),
                ("BACKGROUND", (0, 0), (-1, 0 if header else -1), _HEAD if header else None),
            ]
        )
    )
    return pdf


def _box(x: float, y: float, w: float, h: float, colour: str) -> Rect:
    rect = Rect(x, y, w, h)
    rect.fillColor = colors.HexColor(colour)
    rect.strokeWidth = 0
    return rect


def _drawing(chart: Chart) -> Drawing:
    d = Drawing(_W, _H)
    n = max(1, len(chart.labels))
    totals = [sum(s.values[i] for s in chart.series) for i in range(len(chart.labels))]
    top = nice_max(max(totals, default=0))
    plot_w, plot_h = _W - _LEFT - _RIGHT, _H - _TOP - _BOTTOM
    slot = plot_w / n
    bar = max(1.0, slot * 0.7)
    d.add(String(_LEFT, _H - 12, chart.title, fontName="Helvetica-Bold", fontSize=9))
    for k in range(5):
        y = _BOTTOM + plot_h * k / 4
        d.add(Line(_LEFT, y, _LEFT + plot_w, y, strokeColor=colors.HexColor("#dddddd")))
        d.add(String(_LEFT - 4, y - 3, f"{top * k / 4:g}", fontSize=7, textAnchor="end"))
    for i, label in enumerate(chart.labels):
        x = _LEFT + slot * i + (slot - bar) / 2
        y = _BOTTOM
        for s in chart.series:
            h = plot_h * s.values[i] / top
            if h > 0:
                d.add(_box(x, y, bar, h, s.colour))
                y += h
        if n <= 16 or i % max(1, n // 16) == 0:
            d.add(
                String(
                    x + bar / 2, _BOTTOM - 10, label[5:] or label, fontSize=6, textAnchor="middle"
                )
            )
    for j, s in enumerate(chart.series):
        y = _H - _TOP - 10 - 11 * j
        d.add(_box(_W - _RIGHT + 8, y, 7, 7, s.colour))
        d.add(String(_W - _RIGHT + 18, y + 1, s.name, fontSize=7))
    if not chart.labels:
        d.add(String(_LEFT + 10, _BOTTOM + plot_h / 2, "no decisions in the period", fontSize=9))
    return d
