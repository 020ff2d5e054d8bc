"""count_records measures each run of rows once (linear in the lines) and counts exactly
what measuring it again from every line counted: property test against that reference."""

from __future__ import annotations

import json

from hypothesis import given, settings
from hypothesis import strategies as st

from redline.monitors import bulk
from redline.monitors.bulk import RecordCount, count_records


def _reference(text: str) -> RecordCount:
    """count_records as first written (each run re-measured from each of its lines)."""

    def count_rows(rows: list[str], delimiter: str) -> int:
        header = bulk._split_row(rows[0], delimiter)
        columns = bulk._person_columns(header)
        body = rows[1:] if columns else rows
        if delimiter == "|" and body and bulk._SEPARATOR_ROW.match(body[0]):
            body = body[1:]
        if not columns:
            return sum(1 for row in body if bulk._QUICK_ID.search(row))
        count = 0
        for row in body:
            cells = bulk._split_row(row, delimiter)
            if any(i < len(cells) and cells[i].strip("\"' ") for i in columns):
                count += 1
        return count

    array = bulk._json_array(text)
    if array is not None and len(array) >= bulk._MIN_BLOCK_ROWS:
        return RecordCount(
            records=sum(map(bulk._json_person, array)), formats=("json",), instructions=""
        )
    lines = text.split("\n")
    instructions: list[str] = []
    formats: dict[str, None] = {}
    records = 0
    i, n = 0, len(lines)
    while i < n:
        line = lines[i]
        stripped = line.strip()
        if stripped.startswith("{") and stripped.endswith("}"):
            j = i
            while j < n and lines[j].strip().startswith("{") and lines[j].strip().endswith("}"):
                j += 1
            if j - i >= bulk._MIN_BLOCK_ROWS:
                for row in lines[i:j]:
                    try:
                        records += bulk._json_person(json.loads(row))
                    except ValueError:
                        continue
                formats["jsonl"] = None
                i = j
                continue
        delimiter = bulk._delimiter_of(line) if stripped else None
        if delimiter is not None:
            width = len(bulk._split_row(line, delimiter))
            j = i + 1
            while j < n and lines[j].strip() and len(bulk._split_row(lines[j], delimiter)) == width:
                j += 1
            found = count_rows(lines[i:j], delimiter) if j - i >= bulk._MIN_BLOCK_ROWS else 0
            if found and width >= 2:
                records += found
                formats["table" if delimiter == "|" else "csv"] = None
                i = j
                continue
        if stripped and bulk._QUICK_ID.search(line):
            records += 1
            formats["lines"] = None
        instructions.append(line)
        i += 1
    return RecordCount(
        records=records, formats=tuple(formats), instructions="\n".join(instructions)
    )


LINES = (
    "The review covers fuel, spare parts, and transport for the depots.",
    "Deliveries were on time, mostly; two were late, because of weather.",
    "name,phone,city",
    "Jane Roe,555-867-5309,Portland",
    "John Doe,,Seattle",
    "a,b,c",
    "1,2,3",
    "| name | email |",
    "|---|---|",
    "| Ann | ann@example.com |",
    "| x | y |",
    "id\tdevice id",
    "7\tabc-123",
    '{"name": "Ann", "phone": "555-123-4567"}',
    '{"x": 1}',
    "call 212-555-0147 tomorrow",
    "12 Main Street, Springfield",
    "SSN 123-45-6789",
    "",
    "   ",
    "ok",
)


@settings(max_examples=400, deadline=None)
@given(st.lists(st.one_of(st.sampled_from(LINES), st.text(max_size=20)), max_size=40))
def test_linear_count_matches_the_reference(lines: list[str]) -> None:
    text = "\n".join(lines)
    assert count_records(text) == _reference(text)
