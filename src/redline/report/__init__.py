"""Oversight reports from a verified audit export alone (``redline report``).

* :mod:`redline.report.export` - verify an export and read its records;
* :mod:`redline.report.figures` - aggregate the records (pure; small-cell suppression);
* :mod:`redline.report.layout` - the report as sections of text, charts and tables;
* :mod:`redline.report.svg`, :mod:`redline.report.html`, :mod:`redline.report.pdf` - render.

Invariant: the output bytes are a pure function of the export's records and the period;
nothing else (clock, host, environment) reaches them.
"""

from __future__ import annotations

from redline.report.export import VerifiedExport, read_verified_export
from redline.report.figures import SUPPRESS_BELOW, Figures, compute_figures
from redline.report.html import render_html
from redline.report.layout import Report, build_report
from redline.report.pdf import render_pdf

__all__ = [
    "SUPPRESS_BELOW",
    "Figures",
    "Report",
    "VerifiedExport",
    "build_report",
    "compute_figures",
    "read_verified_export",
    "render_html",
    "render_pdf",
]
