"""Stacked bar charts as hand-written SVG: deterministic text, no timestamps, no ids.

The same chart always gives the same bytes: coordinates are rounded to one decimal, the
order of bars and series is the chart's, and nothing depends on the clock or the platform.
"""

from __future__ import annotations

from html import escape

from redline.report.layout import Chart

__all__ = ["chart_svg", "nice_max"]

WIDTH, HEIGHT = 720, 260
LEFT, RIGHT, TOP, BOTTOM = 48, 150, 28, 56


def nice_max(value: int) -> int:
    """The axis maximum: the smallest 1, 2 or 5 times a power of ten >= ``value`` (>= 1)."""
    step = 1
    while True:
        for m in (1, 2, 5):
            if m * step >= value:
                return m * step
        step *= 10


def chart_svg(chart: Chart) -> str:
    """The chart as an SVG element (UTF-8 text)."""
    n = max(1, len(chart.labels))
    totals = [sum(s.values[i] for s in chart.series) for i in range(len(chart.labels))]
    top = nice_max(max(totals, default=0))
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    slot = plot_w / n
    bar = max(1.0, slot * 0.7)
    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{HEIGHT}" '
        f'viewBox="0 0 {WIDTH} {HEIGHT}" role="img" aria-label="{escape(chart.title)}">',
        f'<text x="{LEFT}" y="16" font-size="13" font-family="sans-serif" '
        f'font-weight="bold">{escape(chart.title)}</text>',
    ]
    for k in range(5):
        value = top * k / 4
        y = TOP + plot_h - plot_h * k / 4
        out.append(
            f'<line x1="{LEFT}" y1="{y:.1f}" x2="{LEFT + plot_w}" y2="{y:.1f}" '
            'stroke="#dddddd" stroke-width="1"/>'
        )
        out.append(
            f'<text x="{LEFT - 6}" y="{y + 4:.1f}" font-size="10" font-family="sans-serif" '
            f'text-anchor="end">{value:g}</text>'
        )
    for i, label in enumerate(chart.labels):
        x = LEFT + slot * i + (slot - bar) / 2
        y = TOP + plot_h
        for s in chart.series:
            h = plot_h * s.values[i] / top
            if h <= 0:
                continue
            y -= h
            out.append(
                f'<rect x="{x:.1f}" y="{y:.1f}" width="{bar:.1f}" height="{h:.1f}" '
                f'fill="{s.colour}"><title>{escape(s.name)} {escape(label)}: '
                f"{s.values[i]}</title></rect>"
            )
        if n <= 16 or i % max(1, n // 16) == 0:
            out.append(
                f'<text x="{x + bar / 2:.1f}" y="{TOP + plot_h + 14}" font-size="9" '
                f'font-family="sans-serif" text-anchor="middle">{escape(label[5:] or label)}</text>'
            )
    for j, s in enumerate(chart.series):
        y = TOP + 14 * j
        out.append(
            f'<rect x="{WIDTH - RIGHT + 12}" y="{y}" width="10" height="10" fill="{s.colour}"/>'
        )
        out.append(
            f'<text x="{WIDTH - RIGHT + 26}" y="{y + 9}" font-size="10" '
            f'font-family="sans-serif">{escape(s.name)}</text>'
        )
    if not chart.labels:
        out.append(
            f'<text x="{LEFT + 10}" y="{TOP + plot_h / 2:.1f}" font-size="12" '
            'font-family="sans-serif">no decisions in the period</text>'
        )
    out.append("</svg>")
    return "\n".join(out)
