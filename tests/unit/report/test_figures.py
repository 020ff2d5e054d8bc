"""The report is a pure function of the records, and small cells never show."""

from __future__ import annotations

import re

from hypothesis import given
from hypothesis import strategies as st

from redline.audit import AuditRecord, EventType
from redline.report import build_report, compute_figures, render_html, render_pdf
from redline.report.figures import SUPPRESS_BELOW, suppressed
from redline.report.layout import _rate

TENANTS = ["acme", "globex", "initech"]


def _decision(day: int, second: int, tenant: str, action: str, purpose: str) -> AuditRecord:
    return AuditRecord(
        event_type=EventType.REQUEST_DECISION,
        timestamp=f"2026-03-{day:02d}T10:00:{second:02d}.000Z",
        payload={
            "action": action,
            "categories": ["mass_domestic_surveillance"] if action != "allow" else [],
            "tenant": tenant,
            "model": "m",
            "purpose": purpose,
            "authorities": [],
            "policy_sha256": "ab" * 32,
            "reason": "",
        },
    )


RECORDS = st.lists(
    st.builds(
        _decision,
        st.integers(1, 3),
        st.integers(0, 59),
        st.sampled_from(TENANTS),
        st.sampled_from(["allow", "review", "block"]),
        st.sampled_from(["", "logistics", "training"]),
    ),
    max_size=40,
).map(lambda rs: sorted(rs, key=lambda r: r.timestamp))


def _html(records: list[AuditRecord]) -> bytes:
    figures = compute_figures(records)
    report = build_report(figures, origin="o", size=len(records), root_hex="00", period="p")
    return render_html(report)


@given(RECORDS)
def test_the_html_is_a_pure_function_of_the_records(records: list[AuditRecord]) -> None:
    assert _html(records) == _html(list(records))


@given(RECORDS)
def test_no_breakdown_cell_shows_a_small_count(records: list[AuditRecord]) -> None:
    html = _html(records).decode()
    for tenant in TENANTS:
        row = re.search(rf"<tr><td>{tenant}</td>(.*?)</tr>", html)
        if row is None:
            continue
        cells = re.findall(r"<td>(.*?)</td>", row.group(1))
        for cell in cells[:3]:
            assert cell in {"0", "&lt;5"} or int(cell) >= SUPPRESS_BELOW


def test_rates_hide_what_suppression_hides() -> None:
    assert (suppressed(0), suppressed(4), suppressed(5)) == ("0", "<5", "5")
    assert (_rate(2, 8), _rate(5, 4), _rate(0, 8), _rate(5, 10)) == ("-", "-", "0.0%", "50.0%")


def test_the_pdf_of_the_same_figures_is_byte_identical() -> None:
    records = [_decision(1, s, "acme", "allow", "") for s in range(6)]
    report = build_report(compute_figures(records), origin="o", size=6, root_hex="00", period="p")
    assert render_pdf(report) == render_pdf(report)
    assert render_pdf(report).startswith(b"%PDF")


def test_the_period_bounds_select_records() -> None:
    from datetime import UTC, datetime

    records = [_decision(d, 0, "acme", "allow", "") for d in (1, 2, 3)]
    figures = compute_figures(
        records,
        start=datetime(2026, 3, 2, tzinfo=UTC),
        end=datetime(2026, 3, 3, tzinfo=UTC),
    )
    assert figures.days == ("2026-03-02",)
