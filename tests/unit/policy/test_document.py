"""Documents: the TOML of ``show`` is a valid policy file; the hash is canonical."""

from __future__ import annotations

import hashlib
import json
import tomllib

from redline.policy import Policy, load_policy, to_document, to_toml
from redline.policy.document import canonical_bytes
from tests.unit.policy.conftest import asset


def test_toml_round_trips(floor_bytes: bytes) -> None:
    policy = load_policy(floor_bytes, asset("valid/overlay_tighten.toml"))
    text = to_toml(policy)
    assert text.startswith("# Effective Redline policy")
    assert f"# sha256 = {policy.sha256}" in text
    again = load_policy(text.encode(), floor_source="effective.toml")
    assert to_document(again) == to_document(policy)
    assert again.sha256 != policy.sha256  # everything is floor now: the annotation differs


def test_floor_toml_round_trips_to_the_same_hash(floor: Policy) -> None:
    text = to_toml(floor)
    assert "# overlay_sha256 = (none)" in text
    assert load_policy(text.encode()).sha256 == floor.sha256


def test_document_matches_toml(floor: Policy) -> None:
    assert tomllib.loads(to_toml(floor)) == to_document(floor)


def test_sha256_is_over_canonical_annotated_json(floor: Policy) -> None:
    assert floor.sha256 == hashlib.sha256(canonical_bytes(floor)).hexdigest()
    doc = json.loads(canonical_bytes(floor))
    assert doc["categories"][0]["floor"] is True
    assert "floor" not in to_document(floor)["categories"][0]  # type: ignore[index,operator]


def test_strings_are_escaped(floor: Policy) -> None:
    from dataclasses import replace

    clause = replace(floor.clauses[0], text='quote " backslash \\ newline \n del \x7f tab \t')
    policy = replace(floor, clauses=(clause, *floor.clauses[1:]))
    assert tomllib.loads(to_toml(policy))["clauses"][0]["text"] == clause.text


def test_empty_arrays_of_tables_are_omitted(floor: Policy) -> None:
    from dataclasses import replace

    policy = replace(floor, tests=(), review_rules=())
    data = tomllib.loads(to_toml(policy))
    assert "tests" not in data
    assert "review_rules" not in data


def test_test_without_categories_omits_the_key(floor: Policy) -> None:
    from dataclasses import replace

    policy = replace(floor, tests=(replace(floor.tests[0], categories=None),))
    assert "categories" not in tomllib.loads(to_toml(policy))["tests"][0]
