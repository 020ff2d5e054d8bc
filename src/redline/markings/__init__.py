"""Classification markings: parse, roll up and render (DOMAIN.md §2). Pure: no I/O but
reading the shipped token register.

Entry points: :func:`parse_marking` (one banner line or portion mark), :func:`join` (the
high-water mark of labels, R1-R12), :func:`extract_label` (every mark in the texts of a
request or an answer, read as a person reads them, rolled up), :func:`find_marks` (the
marks of one text), :func:`canonicalise` (the view marks are found in),
:meth:`Label.banner` / :meth:`Label.portion` (rendering). Token lists come from
``data/tokens-v1.toml`` (:class:`Register`); bad markings raise
:class:`redline.errors.MarkingError` naming the token and the rule.
"""

from __future__ import annotations

from redline.markings.canon import canonicalise
from redline.markings.extract import MAX_PORTION_CHARS, FoundMark, extract_label, find_marks
from redline.markings.label import UNCLASSIFIED, CountrySet, Label, Level, join
from redline.markings.parse import MAX_MARKING_CHARS, MISSING_FDR, normalise, parse_marking
from redline.markings.register import FORMAT_VERSION, Register, default_register

__all__ = [
    "FORMAT_VERSION",
    "MAX_MARKING_CHARS",
    "MAX_PORTION_CHARS",
    "MISSING_FDR",
    "UNCLASSIFIED",
    "CountrySet",
    "FoundMark",
    "Label",
    "Level",
    "Register",
    "canonicalise",
    "default_register",
    "extract_label",
    "find_marks",
    "join",
    "normalise",
    "parse_marking",
]
