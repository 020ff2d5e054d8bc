"""Strict parsing: size bound, schema version, types, unknown keys, key paths."""

from __future__ import annotations

from pathlib import Path

import pytest

from redline.errors import PolicyParseError, PolicyValidationError
from redline.policy import lint, load_policy
from redline.policy.parse import (
    DEFAULT_MAX_BYTES,
    Problem,
    ProblemKind,
    parse_layer,
    read_policy_file,
)


def _paths(data: str) -> list[str]:
    _layer, problems = parse_layer(data.encode(), source="p.toml")
    return [f"{p.key_path}: {p.message}" for p in problems]


def test_a_100_mb_policy_is_refused_before_it_is_read(tmp_path: Path) -> None:
    huge = tmp_path / "huge.toml"
    with huge.open("wb") as handle:
        handle.truncate(100 * 1024 * 1024)  # sparse: no 100 MB written to disk
    with pytest.raises(
        PolicyParseError, match=f"huge.toml: file exceeds {DEFAULT_MAX_BYTES} bytes"
    ):
        read_policy_file(huge)


def test_read_policy_file_reads_a_small_file(tmp_path: Path) -> None:
    path = tmp_path / "p.toml"
    path.write_bytes(b"schema_version = 1\n")
    assert read_policy_file(path) == b"schema_version = 1\n"


def test_size_bound_applies_to_bytes_before_parsing(floor_bytes: bytes) -> None:
    junk = b"\xff" * (DEFAULT_MAX_BYTES + 1)  # not even UTF-8: it must not be decoded
    with pytest.raises(PolicyParseError, match=r"overlay.toml: file is 1048577 bytes; the limit"):
        load_policy(floor_bytes, junk)
    with pytest.raises(PolicyParseError, match=r"floor.toml: file is 11 bytes; the limit is 10"):
        load_policy(b"# 11 bytes\n", max_bytes=10)


def test_not_utf8() -> None:
    assert _paths("x")  # sanity: missing schema_version
    layer, problems = parse_layer(b"\xff\xfe", source="p.toml")
    assert layer is None
    assert str(problems[0]).startswith("p.toml: not UTF-8 (invalid start byte at byte 0)")


def test_schema_version_must_be_an_integer() -> None:
    assert _paths('schema_version = "1"') == ["schema_version: must be an integer"]
    assert _paths("schema_version = true") == ["schema_version: must be an integer"]


def test_unknown_top_level_key() -> None:
    assert _paths("schema_version = 1\nrules = []")[0].startswith("rules: unknown key")


@pytest.mark.parametrize(
    ("toml", "expected"),
    [
        ("clauses = 3", "clauses: must be an array of tables ([[clauses]])"),
        ("clauses = [1]", "clauses[0]: must be a table"),
        ("[[clauses]]\nid = 7", "clauses[0].id: must be a string"),
        ('[[clauses]]\nid = "bad id"', "clauses[0].id: 'bad id' is not a valid id"),
        ("[[clauses]]\ntext = 'x'", "clauses[0].id: required"),
        (
            '[[clauses]]\nid = "C1"\nauthorities = "FISA@1978"',
            "clauses[0].authorities: must be an array of strings",
        ),
        (
            '[[clauses]]\nid = "C1"\nauthorities = [1]',
            "clauses[0].authorities: must be an array of strings",
        ),
        ('[[categories]]\nid = "Weapons"', "categories[0].id: 'Weapons' is not a valid id"),
        (
            '[[categories]]\nid = "a"\nenabled = "no"',
            "categories[0].enabled: must be true or false",
        ),
        (
            '[[categories]]\nid = "a"\nreview_threshold = -0.1',
            "categories[0].review_threshold: must be in [0, 1]",
        ),
        (
            '[[categories]]\nid = "a"\nreview_threshold = nan',
            "categories[0].review_threshold: must be in [0, 1]",
        ),
        (
            '[[categories]]\nid = "a"\nblock_threshold = true',
            "categories[0].block_threshold: must be a number",
        ),
        (
            "[[review_rules]]\napprovals_required = 1",
            'review_rules[0].category: required (a category id or "*")',
        ),
        (
            '[[review_rules]]\ncategory = "*"\nkind = "veto"',
            'review_rules[0].kind: must be "review" or "override"',
        ),
        (
            '[[review_rules]]\ncategory = "*"\napprovals_required = 1.5',
            "review_rules[0].approvals_required: must be an integer",
        ),
        (
            '[[review_rules]]\ncategory = "*"\nexpires_after_s = 0',
            "review_rules[0].expires_after_s: must be >= 1",
        ),
        ("monitors = 1", "monitors: must be a table"),
        ("[monitors]\nperson_volume = 1", "monitors.person_volume: must be a table"),
        ("[monitors.person_volume]\nwindow = 1", "monitors.person_volume.window: unknown key"),
        (
            "[monitors.person_volume]\nreview_at = 5\nblock_at = 2",
            "monitors.person_volume.review_at: must not exceed block_at",
        ),
        (
            '[monitors.closed_loop]\nmin_interval_s = "fast"',
            "monitors.closed_loop.min_interval_s: must be a number",
        ),
        (
            "[monitors.closed_loop]\nmin_interval_s = -1",
            "monitors.closed_loop.min_interval_s: must be a finite number >= 0.0",
        ),
        (
            "[monitors.closed_loop]\nmin_interval_s = inf",
            "monitors.closed_loop.min_interval_s: must be a finite number >= 0.0",
        ),
        (
            "[[routes]]\nceiling = 'S'",
            'routes[0].model: required (a model name or pattern; "*" for all)',
        ),
        (
            '[[routes]]\nmodel = "*"\non_error = "retry"',
            'routes[0].on_error: must be "block" or "review"',
        ),
        (
            '[[routes]]\nmodel = "*"\noutput_screening = 1',
            "routes[0].output_screening: must be true or false",
        ),
        ("[judge]\nmin_score = 0.9\nmax_score = 0.1", "judge.min_score: must not exceed max_score"),
        ("[judge]\ntimeout_s = 0", "judge.timeout_s: must be a finite number >= 0.001"),
        (
            '[[tests]]\nexpect = "allow"\nmessages = [{role = "user", content = "x"}]',
            "tests[0].name: required (a non-empty string)",
        ),
        (
            '[[tests]]\nname = "t"\nexpect = "maybe"\nmessages = [{role = "user", content = "x"}]',
            'tests[0].expect: required: "allow", "review" or "block"',
        ),
        (
            '[[tests]]\nname = "t"\nexpect = "allow"\nmessages = [{role = "robot", content = "x"}]',
            "tests[0].messages[0].role: must be one of",
        ),
        (
            '[[tests]]\nname = "t"\nexpect = "allow"\nmessages = [{role = "user"}]',
            "tests[0].messages[0].content: required",
        ),
        (
            '[[tests]]\nname = "t"\nexpect = "allow"\n'
            'messages = [{role = "user", text = "x", content = "x"}]',
            "tests[0].messages[0].text: unknown key",
        ),
        (
            '[[tests]]\nname = "t"\nexpect = "allow"',
            "tests[0].messages: a test needs at least one message",
        ),
        ('[[routes]]\nmodel = "a"\n[[routes]]\nmodel = "a"', "routes[1]: duplicate model 'a'"),
        (
            '[[review_rules]]\ncategory = "*"\n[[review_rules]]\ncategory = "*"\nkind = "review"',
            "review_rules[1]: duplicate kind+category 'review:*'",
        ),
    ],
)
def test_parse_problem_names_the_key_path(toml: str, expected: str) -> None:
    problems = _paths("schema_version = 1\n" + toml)
    assert len(problems) == 1, problems
    assert problems[0].startswith(expected)


def test_parse_goes_on_after_a_problem() -> None:
    problems = _paths('schema_version = 3\n[[clauses]]\nid = 1\n[[categories]]\nid = "a"\nfoo = 1')
    assert [p.split(":")[0] for p in problems] == [
        "schema_version",
        "clauses[0].id",
        "categories[0].foo",
    ]


def test_problem_kinds_map_to_errors() -> None:
    parse = Problem(kind=ProblemKind.PARSE, source="f", key_path="a.b", message="bad")
    invalid = Problem(kind=ProblemKind.VALIDATION, source="f", key_path="", message="worse")
    assert isinstance(parse.to_error(), PolicyParseError)
    assert str(parse.to_error()) == "f: a.b: bad"
    assert isinstance(invalid.to_error(), PolicyValidationError)
    assert str(invalid.to_error()) == "f: worse"


def test_several_problems_are_counted_in_the_error(floor_bytes: bytes) -> None:
    overlay = b"schema_version = 1\n[[categories]]\nid = 'autonomous_weapons'\nfoo = 1\nbar = 2\n"
    with pytest.raises(PolicyParseError, match=r"categories\[0\]\.foo: unknown key .*\(and 1 more"):
        load_policy(floor_bytes, overlay)
    assert len(lint(floor_bytes, overlay)) == 2


def test_a_broken_overlay_reports_parse_problems_only(floor_bytes: bytes) -> None:
    problems = lint(floor_bytes, b"schema_version = 1\n[[tests]]\nname = 'x'\nexpect = 'allow'")
    assert [p.kind for p in problems] == [ProblemKind.VALIDATION]
    assert lint(floor_bytes, b"not = [toml") != []
