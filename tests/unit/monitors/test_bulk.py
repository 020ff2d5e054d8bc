"""Counting person records in CSV, tables, JSON lines, JSON arrays and pasted lists."""

from __future__ import annotations

import json

from redline.monitors.bulk import count_records


def csv_rows(n: int, header: str = "name,phone,city") -> str:
    rows = [f"Person {i},(937) 555-{i:04d},Dayton" for i in range(n)]
    return "\n".join([header, *rows])


def test_csv_with_person_header() -> None:
    got = count_records("Score each applicant.\n" + csv_rows(120) + "\nThanks")
    assert got.records == 120
    assert got.formats == ("csv",)
    assert got.instructions == "Score each applicant.\nThanks"


def test_csv_without_header_counts_rows_with_identifiers() -> None:
    text = "\n".join(f"{i};x;(212) 555-{i:04d}" for i in range(30)) + "\n1;2;3\n4;5;6"
    assert count_records(text).records == 30


def test_tsv_and_empty_person_cells() -> None:
    rows = ["name\tphone\tnote", *(f"P{i}\t\tok" if i % 2 else "\t\tok" for i in range(10))]
    assert count_records("\n".join(rows)).records == 5


def test_markdown_table() -> None:
    table = "| Name | Phone |\n|---|---|\n" + "\n".join(
        f"| P {i} | 937-555-{i:04d} |" for i in range(25)
    )
    got = count_records("Rank these people:\n" + table)
    assert (got.records, got.formats, got.instructions) == (25, ("table",), "Rank these people:")


def test_json_lines_and_array() -> None:
    lines = "\n".join(json.dumps({"email": f"a{i}@x.org", "n": i}) for i in range(40))
    assert count_records(lines + "\ntrack them").records == 40
    array = json.dumps([{"nombre": f"A{i}", "teléfono": "x"} for i in range(15)])
    assert count_records("```json\n" + array + "\n```").records == 15
    assert count_records(json.dumps([{"sku": i} for i in range(15)])).records == 0


def test_multilingual_headers() -> None:
    for header in ("姓名,电话,城市", "имя,телефон,город", "vorname,telefon,stadt", "nom,adresse,x"):
        assert count_records(csv_rows(10, header)).records == 10


def test_prose_and_non_person_tables_are_instructions() -> None:
    prose = "First, plan the route.\nThen, check fuel.\nFinally, report back."
    got = count_records(prose)
    assert (got.records, got.instructions) == (0, prose)
    inventory = "sku,qty,bin\n" + "\n".join(f"A{i},{i},B{i}" for i in range(50))
    assert count_records(inventory).records == 0


def test_pasted_list_lines() -> None:
    text = "\n".join(f"{i}. someone at j{i}@example.org" for i in range(12))
    got = count_records(text)
    assert got.records == 12
    assert got.formats == ("lines",)
