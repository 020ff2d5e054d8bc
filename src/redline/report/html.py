"""The report as one self-contained HTML file (inline SVG charts, no scripts, no fetches)."""

from __future__ import annotations

from html import escape

from redline.report.layout import Report, Table
from redline.report.svg import chart_svg

__all__ = ["render_html"]

_STYLE = """
body { font-family: sans-serif; max-width: 960px; margin: 2em auto; color: #222; }
h1 { font-size: 1.6em; } h2 { font-size: 1.2em; margin-top: 2em; border-bottom: 1px solid #ccc; }
table { border-collapse: collapse; margin: 0.8em 0; font-size: 0.9em; }
th, td { border: 1px solid #ccc; padding: 3px 8px; text-align: left; vertical-align: top; }
th { background: #f0f0f0; } td { word-break: break-all; }
.checkpoint td:first-child { font-weight: bold; word-break: normal; }
"""


def render_html(report: Report) -> bytes:
    """The HTML bytes of ``report`` (UTF-8; a pure function of the report)."""
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        f"<title>{escape(report.title)}</title><style>{_STYLE}</style></head><body>",
        f"<h1>{escape(report.title)}</h1>",
        "<p>Computed from a verified audit export alone. Anyone holding the same export "
        "reproduces this file byte for byte with <code>redline report</code>.</p>",
        '<table class="checkpoint">',
    ]
    parts += [f"<tr><td>{escape(k)}</td><td>{escape(v)}</td></tr>" for k, v in report.checkpoint]
    parts.append("</table>")
    for i, section in enumerate(report.sections, 1):
        parts.append(f"<h2>{i}. {escape(section.title)}</h2>")
        parts.append(f"<p>{escape(section.text)}</p>")
        parts += [f"<figure>{chart_svg(c)}</figure>" for c in section.charts]
        parts += [_table(t) for t in section.tables]
    parts.append("</body></html>")
    return ("\n".join(parts) + "\n").encode("utf-8")


def _table(table: Table) -> str:
    head = "".join(f"<th>{escape(h)}</th>" for h in table.header)
    body = "".join(
        "<tr>" + "".join(f"<td>{escape(c)}</td>" for c in row) + "</tr>" for row in table.rows
    )
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"
