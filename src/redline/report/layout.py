"""The report as a neutral document: sections of text, charts and tables.

Both renderers (:mod:`redline.report.html`, :mod:`redline.report.pdf`) draw this one model,
so the HTML and the PDF always show the same figures in the same order. Section order and
wording are fixed here; docs/OVERSIGHT.md describes each section.
"""

from __future__ import annotations

import statistics
from dataclasses import dataclass

from redline.report.figures import (
    ACTIONS,
    SUPPRESS_BELOW,
    Event,
    Figures,
    GroupRow,
    suppressed,
)

__all__ = ["Chart", "Report", "Section", "Series", "Table", "build_report"]

ACTION_COLOURS = {"allow": "#4c8c4a", "review": "#d9a400", "block": "#b22d2d"}
LINE_COLOURS = ("#3a5a98", "#b22d2d", "#7a4c9c", "#2f8f8f", "#a0522d", "#666666")


@dataclass(frozen=True, slots=True, kw_only=True)
class Series:
    """One stacked component of a bar chart."""

    name: str
    colour: str
    values: tuple[int, ...]


@dataclass(frozen=True, slots=True, kw_only=True)
class Chart:
    """A stacked bar chart: one bar per label."""

    title: str
    labels: tuple[str, ...]
    series: tuple[Series, ...]


@dataclass(frozen=True, slots=True, kw_only=True)
class Table:
    """A table of text cells."""

    header: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...]


@dataclass(frozen=True, slots=True, kw_only=True)
class Section:
    """One numbered section."""

    title: str
    text: str
    charts: tuple[Chart, ...] = ()
    tables: tuple[Table, ...] = ()


@dataclass(frozen=True, slots=True, kw_only=True)
class Report:
    """The whole report."""

    title: str
    checkpoint: tuple[tuple[str, str], ...]
    sections: tuple[Section, ...]


def build_report(figures: Figures, *, origin: str, size: int, root_hex: str, period: str) -> Report:
    """The report for ``figures`` computed from the checkpoint ``(origin, size, root)``."""
    checkpoint = (
        ("Log origin", origin),
        ("Checkpoint tree size", str(size)),
        ("Checkpoint root hash (SHA-256, hex)", root_hex),
        ("Period", period),
        ("Audit events in period", str(figures.records)),
        (
            "Small-cell suppression",
            f"breakdown counts 1-{SUPPRESS_BELOW - 1} shown as <{SUPPRESS_BELOW}; a rate only "
            "where neither its group nor its count is a small cell",
        ),
    )
    sections = (
        _decisions(figures),
        _rates(figures),
        _reviews(figures),
        _overrides(figures),
        _halts(figures),
        _policies(figures),
        _authorities(figures),
        _fail_closed(figures),
    )
    return Report(title="Redline oversight report", checkpoint=checkpoint, sections=sections)


def _decisions(f: Figures) -> Section:
    actions = Chart(
        title="Request decisions per day, by action",
        labels=f.days,
        series=tuple(
            Series(
                name=a,
                colour=ACTION_COLOURS[a],
                values=tuple(f.actions_by_day[d].get(a, 0) for d in f.days),
            )
            for a in ACTIONS
        ),
    )
    lines = Chart(
        title="Refused or held requests per day, by red line",
        labels=f.days,
        series=tuple(
            Series(
                name=line,
                colour=LINE_COLOURS[i % len(LINE_COLOURS)],
                values=tuple(f.lines_by_day[d].get(line, 0) for d in f.days),
            )
            for i, line in enumerate(f.red_lines)
        ),
    )
    totals = Table(
        header=("decision", "requests", "responses"),
        rows=tuple((a, str(f.totals.get(a, 0)), str(f.output_totals.get(a, 0))) for a in ACTIONS),
    )
    return Section(
        title="Decisions",
        text="Every request and response decision in the period, by action (allow, review, "
        "block) and by the red line (policy category) that drove a review or a block.",
        charts=(actions, lines),
        tables=(totals,),
    )


def _rate(part: int, total: int) -> str:
    """A percentage, or ``-`` where it would reveal a suppressed count (the group or the part
    is a small cell)."""
    if total < SUPPRESS_BELOW or 0 < part < SUPPRESS_BELOW:
        return "-"
    return f"{100 * part / total:.1f}%"


def _group_table(name: str, rows: tuple[GroupRow, ...]) -> Table:
    return Table(
        header=(name, "requests", "held for review", "blocked", "review rate", "block rate"),
        rows=tuple(
            (
                r.name,
                suppressed(r.total),
                suppressed(r.review),
                suppressed(r.block),
                _rate(r.review, r.total),
                _rate(r.block, r.total),
            )
            for r in rows
        )
        or (("none", "", "", "", "", ""),),
    )


def _rates(f: Figures) -> Section:
    return Section(
        title="Refusal and review rates by tenant and route",
        text="Share of request decisions that were held for review or blocked, per tenant "
        "and per route (the model name requested).",
        tables=(_group_table("tenant", f.tenants), _group_table("route", f.routes)),
    )


def _reviews(f: Figures) -> Section:
    outcomes = Table(
        header=("outcome", "items"),
        rows=tuple(
            (k, str(f.review_outcomes.get(k, 0)))
            for k in ("approved", "denied", "expired", "pending")
        ),
    )
    times = f.review_seconds
    if len(times) >= SUPPRESS_BELOW:
        q = statistics.quantiles(times, n=10, method="inclusive")
        rows: tuple[tuple[str, ...], ...] = (
            ("decided items", str(len(times))),
            ("median time to decision", _duration(statistics.median(times))),
            ("90th percentile", _duration(q[-1])),
            ("longest", _duration(times[-1])),
        )
    else:
        rows = (("decided items", suppressed(len(times))),)
    return Section(
        title="Review outcomes and times",
        text="Held and contested requests: how reviews ended, and how long from submission "
        "to decision (approval, denial or expiry).",
        tables=(outcomes, Table(header=("measure", "value"), rows=rows)),
    )


def _duration(seconds: float) -> str:
    s = round(seconds)
    return f"{s // 3600}h {s % 3600 // 60:02d}m {s % 60:02d}s"


def _overrides(f: Figures) -> Section:
    rows = tuple(
        (
            o.review_id,
            o.decided,
            ", ".join(o.categories) or "-",
            ", ".join(o.approvers),
            ", ".join(d[:16] for d in o.rationale_sha256),
        )
        for o in f.overrides
    )
    return Section(
        title="Two-person overrides",
        text="Blocked requests released by two distinct reviewers. Rationales are shown as the "
        "first 16 hex digits of their SHA-256; the text stays in the audit log.",
        tables=(
            Table(
                header=("review", "decided", "red lines", "approvers", "rationale sha256"),
                rows=rows or (("none", "", "", "", ""),),
            ),
        ),
    )


def _event_rows(events: tuple[Event, ...]) -> tuple[tuple[str, ...], ...]:
    rows = tuple((e.timestamp, e.kind, "; ".join(f"{k}={v}" for k, v in e.fields)) for e in events)
    return rows or (("none", "", ""),)


def _halts(f: Figures) -> Section:
    return Section(
        title="Halts and resumes",
        text="Every use of the kill switch in the period, as recorded.",
        tables=(Table(header=("time", "event", "details"), rows=_event_rows(f.halts)),),
    )


def _policies(f: Figures) -> Section:
    in_force = Table(
        header=("effective policy sha256", "request decisions"),
        rows=tuple((sha or "-", str(n)) for sha, n in sorted(f.policies_in_force.items())),
    )
    return Section(
        title="Policy changes",
        text="Policy reloads with the effective policy, floor and overlay digests and the floor's "
        "signer (built-in, or the provider key that verified it), and the policies under which "
        "requests were decided.",
        tables=(
            Table(header=("time", "outcome", "details"), rows=_event_rows(f.policy_changes)),
            in_force,
        ),
    )


def _authorities(f: Figures) -> Section:
    purposes = Table(
        header=("declared purpose", "requests"),
        rows=tuple((p, suppressed(n)) for p, n in sorted(f.purposes.items())) or (("none", ""),),
    )
    cited = Table(
        header=("authority type", "citations", "refused"),
        rows=tuple((k, suppressed(c), suppressed(r)) for k, (c, r) in f.authorities.items())
        or (("none", "", ""),),
    )
    register = Table(header=("time", "register", "details"), rows=_event_rows(f.register_events))
    return Section(
        title="Purposes and authorities",
        text="Purposes of use declared with requests, legal authorities cited (by type) and how "
        "many citations the register did not confirm, and each version of the authority register "
        "the gateway loaded.",
        tables=(purposes, cited, register),
    )


def _fail_closed(f: Figures) -> Section:
    rows = tuple((k, str(n)) for k, n in sorted(f.fail_closed.items()))
    rows += (("access denied (label above clearance or route)", str(f.access_denied)),)
    return Section(
        title="Fail-closed events",
        text="Times the gateway refused because a safeguard could not do its job, and access "
        "denials.",
        tables=(Table(header=("event", "count"), rows=rows),),
    )
