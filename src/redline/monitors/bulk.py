"""Person records carried by one request: CSV/TSV, JSON lines, JSON arrays, markdown tables.

Spec: DOMAIN.md §5.3 ("bulk", population scale), §5.5 (decisions about
identified persons).

:func:`count_records` splits a text into *record blocks* and *instruction text*. A record
is a row or object that carries a person: a non-empty value in a person column (name, phone,
e-mail, address, SSN, date of birth, plate, device ID ...; headers in en/es/fr/de/ru/zh), or,
when the block has no recognisable header, a phone, e-mail, SSN or street address found in the
row by a quick pattern. Free-text lines with such an identifier count as records too (a pasted
list). The instruction text - everything that is not a record block - is what the task intent
is read from, so that values in the data ("approved", "tracking number") do not read as the
task.

Bounds: callers pass at most ``max_chars`` characters; rows beyond are not looked at.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass

__all__ = ["PERSON_COLUMNS", "RecordCount", "count_records"]

PERSON_COLUMNS: frozenset[str] = frozenset(
    {
        "full name", "first name", "last name", "given name", "family name", "phone number",
        "cell phone", "e mail", "email address", "mail address", "street address",
        "home address", "social security", "social security number", "date of birth",
        "birth date", "license plate", "licence plate", "plate number", "device id",
        "advertising id", "ad id", "user name", "screen name", "passport number",
        "national id", "person id", "citizen id", "driver license", "date de naissance",
        "nombre", "apellido", "apellidos", "teléfono", "telefono", "correo", "dirección",
        "direccion", "domicilio", "nom", "prénom", "prenom", "téléphone", "adresse",
        "courriel", "vorname", "nachname", "telefon", "telefonnummer", "anschrift",
        "geburtsdatum", "kennzeichen", "имя", "фамилия", "отчество", "телефон", "адрес",
        "почта", "паспорт", "姓名", "名字", "电话", "手机", "地址", "邮箱", "身份证", "身份证号",
        "name", "surname", "firstname", "lastname", "fullname", "phone", "telephone", "tel",
        "mobile", "cell", "msisdn", "email", "street", "addr", "address", "address1", "ssn",
        "dob", "birthdate", "plate", "vin", "deviceid", "idfa", "gaid", "maid", "imei", "mac",
        "handle", "username", "twitter", "instagram", "passport",
    }
)  # fmt: skip

_QUICK_ID = re.compile(
    r"(?<!\d)(?:\+?1[\s.-]?)?\(?[2-9]\d{2}\)?[\s.-]?[2-9]\d{2}[\s.-]?\d{4}(?!\d)|"
    r"[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}|"
    r"(?<!\d)\d{3}-\d{2}-\d{4}(?!\d)|"
    r"\b\d{1,6}\s+(?:[A-Z][A-Za-z.'-]*\s+){1,3}(?i:st|street|ave|avenue|rd|road|blvd|dr|drive|"
    r"ln|lane|ct|court|way|pl|place)\b"
)
_SEPARATOR_ROW = re.compile(r"^\|?\s*:?-{3,}:?\s*(?:\|\s*:?-{3,}:?\s*)*\|?\s*$")
_DELIMITERS = (",", "\t", ";", "|")
_MIN_BLOCK_ROWS = 3


@dataclass(frozen=True, slots=True, kw_only=True)
class RecordCount:
    """Person records found in a text and the text left over for instructions."""

    records: int
    formats: tuple[str, ...]
    instructions: str


def _norm_header(cell: str) -> str:
    return " ".join(re.sub(r"[_\-./]", " ", cell.strip().strip("\"'").lower()).split())


def _person_columns(cells: list[str]) -> list[int]:
    return [i for i, c in enumerate(cells) if _norm_header(c) in PERSON_COLUMNS]


def _split_row(line: str, delimiter: str) -> list[str]:
    if delimiter == "|":
        return [c.strip() for c in line.strip().strip("|").split("|")]
    return [c.strip() for c in line.split(delimiter)]


class _Lines:
    """The lines of a text with what :func:`count_records` asks of them more than once,
    each computed once: whether a line holds a quick identifier (kept as running totals),
    and where a run of rows of one width that starts at a line ends. A run of prose lines
    with commas is measured once, not again from each of its lines, so the count is linear
    in the number of lines."""

    def __init__(self, lines: list[str]) -> None:
        self.lines = lines
        self._quick: list[int] | None = None
        self._ends: dict[tuple[str, int], int] = {}

    def quick(self, start: int, stop: int) -> int:
        """How many of lines[start:stop] hold a quick identifier."""
        if self._quick is None:
            totals = [0]
            for line in self.lines:
                totals.append(totals[-1] + (_QUICK_ID.search(line) is not None))
            self._quick = totals
        return self._quick[stop] - self._quick[start]

    def run_end(self, i: int, delimiter: str, width: int) -> int:
        """One past the last line of the run of non-blank rows of ``width`` cells that
        starts at line ``i`` (which has that width)."""
        found = self._ends.get((delimiter, i))
        if found is not None:
            return found
        lines, n = self.lines, len(self.lines)
        j = i + 1
        while j < n and lines[j].strip() and len(_split_row(lines[j], delimiter)) == width:
            j += 1
        for k in range(i, j):  # every line of the run has this width: its run ends at j too
            self._ends[(delimiter, k)] = j
        return j


def _count_rows(rows: list[str], delimiter: str, lines: _Lines, start: int) -> int:
    """Count person rows of a delimited block (lines[start:start + len(rows)]) whose first
    row may be a header."""
    header = _split_row(rows[0], delimiter)
    columns = _person_columns(header)
    body = rows[1:] if columns else rows
    first = start + (1 if columns else 0)
    if delimiter == "|" and body and _SEPARATOR_ROW.match(body[0]):
        body = body[1:]
        first += 1
    if not columns:
        return lines.quick(first, start + len(rows))
    count = 0
    for row in body:
        cells = _split_row(row, delimiter)
        if any(i < len(cells) and cells[i].strip("\"' ") for i in columns):
            count += 1
    return count


def _json_person(obj: object) -> bool:
    if not isinstance(obj, dict):
        return False
    for key, value in obj.items():
        if isinstance(key, str) and _norm_header(key) in PERSON_COLUMNS and value not in ("", None):
            return True
    return _QUICK_ID.search(json.dumps(obj, ensure_ascii=False)) is not None


def _delimiter_of(line: str) -> str | None:
    if line.lstrip().startswith("|"):
        return "|"
    for d in _DELIMITERS[:3]:
        if line.count(d) >= 1:
            return d
    return None


def _json_array(text: str) -> list[object] | None:
    stripped = text.strip()
    if stripped.startswith("```"):
        stripped = stripped.split("\n", 1)[-1].rsplit("```", 1)[0].strip()
    if not (stripped.startswith("[") and stripped.endswith("]")):
        return None
    try:
        value = json.loads(stripped)
    except ValueError:
        return None
    return value if isinstance(value, list) else None


def count_records(text: str) -> RecordCount:
    """Count person records in ``text`` and return the instruction text around them.

    Args:
        text: the (bounded) request text.

    Returns:
        The record count, the formats seen (``csv``, ``table``, ``jsonl``, ``json``,
        ``lines``) and the instruction text.
    """
    array = _json_array(text)
    if array is not None and len(array) >= _MIN_BLOCK_ROWS:
        return RecordCount(
            records=sum(map(_json_person, array)), formats=("json",), instructions=""
        )
    lines = text.split("\n")
    memo = _Lines(lines)
    instructions: list[str] = []
    formats: dict[str, None] = {}
    records = 0
    i = 0
    n = len(lines)
    while i < n:
        line = lines[i]
        stripped = line.strip()
        if stripped.startswith("{") and stripped.endswith("}"):
            j = i
            while j < n and lines[j].strip().startswith("{") and lines[j].strip().endswith("}"):
                j += 1
            if j - i >= _MIN_BLOCK_ROWS:
                for row in lines[i:j]:
                    try:
                        records += _json_person(json.loads(row))
                    except ValueError:
                        continue
                formats["jsonl"] = None
                i = j
                continue
        delimiter = _delimiter_of(line) if stripped else None
        if delimiter is not None:
            width = len(_split_row(line, delimiter))
            j = memo.run_end(i, delimiter, width)
            found = _count_rows(lines[i:j], delimiter, memo, i) if j - i >= _MIN_BLOCK_ROWS else 0
            if found and width >= 2:
                # A block without person rows is left to the instructions (prose with commas).
                records += found
                formats["table" if delimiter == "|" else "csv"] = None
                i = j
                continue
        if stripped and memo.quick(i, i + 1):
            records += 1
            formats["lines"] = None
        instructions.append(line)
        i += 1
    return RecordCount(
        records=records, formats=tuple(formats), instructions="\n".join(instructions)
    )
