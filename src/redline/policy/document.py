"""The effective policy as a document: canonical JSON (for its SHA-256) and TOML (for humans).

:func:`to_document` lays the policy out exactly like a policy file (same keys, same order),
so the TOML that ``redline policy show`` prints is itself a valid, complete policy file.
With ``annotate=True`` it also marks floor content (``floor = true``); that form is the one
hashed, so two effective policies that differ only in which layer a rule came from get
different hashes.

Invariant: ``Policy.sha256 == sha256(canonical_bytes(policy))`` where ``canonical_bytes`` is
the RFC 8785 (JCS) serialisation of the annotated document without the hash fields.
"""

from __future__ import annotations

import json
from typing import cast

import rfc8785

from redline.domain import JSONObject, JSONValue
from redline.policy.model import AuthoritySettings, Policy, PolicyTest

__all__ = ["canonical_bytes", "to_document", "to_toml"]


def to_document(policy: Policy, *, annotate: bool = False) -> JSONObject:
    """The policy as JSON-compatible data in policy-file layout.

    Args:
        policy: the policy.
        annotate: add ``floor = true`` to clauses and categories that come from the floor.
    """
    mon = policy.monitors
    doc: JSONObject = {
        "schema_version": policy.schema_version,
        "clauses": [
            _marked(
                {"id": c.id, "text": c.text, "authorities": list(c.authorities)},
                floor=c.floor and annotate,
            )
            for c in policy.clauses
        ],
        "categories": [
            _marked(
                {
                    "id": c.id,
                    "title": c.title,
                    "definition": c.definition,
                    "clauses": list(c.clauses),
                    "review_threshold": c.review_threshold,
                    "block_threshold": c.block_threshold,
                    "examples_positive": list(c.examples_positive),
                    "examples_negative": list(c.examples_negative),
                },
                floor=c.floor and annotate,
            )
            for c in policy.categories
        ],
        "review_rules": [
            {
                "category": r.category,
                "kind": r.kind.value,
                "approvals_required": r.approvals_required,
                "distinct": r.distinct,
                "expires_after_s": r.expires_after_s,
            }
            for r in policy.review_rules
        ],
        "monitors": {
            "person_volume": {
                "window_s": mon.person_volume.window_s,
                "review_at": mon.person_volume.review_at,
                "block_at": mon.person_volume.block_at,
            },
            "closed_loop": {
                "effector_tools": list(mon.closed_loop.effector_tools),
                "min_interval_s": mon.closed_loop.min_interval_s,
                "max_unattended_calls": mon.closed_loop.max_unattended_calls,
            },
            "bulk_records": {"min_records": mon.bulk_records.min_records},
        },
        "routes": [
            _route(r.model, r.ceiling, r.on_error.value, r.output_screening) for r in policy.routes
        ],
        "judge": {
            "enabled": policy.judge.enabled,
            "model": policy.judge.model,
            "min_score": policy.judge.min_score,
            "max_score": policy.judge.max_score,
            "timeout_s": policy.judge.timeout_s,
        },
        "tests": [_test(t) for t in policy.tests],
    }
    authority = _authority(policy.authority)
    if authority:  # absent when empty, so policies without it keep their hash
        doc["authority"] = authority
    return doc


def _authority(a: AuthoritySettings) -> JSONObject:
    out: JSONObject = {}
    if a.purposes:
        out["purposes"] = list(a.purposes)
    if a.forbidden:
        out["forbidden_purposes"] = [
            {"purpose": f.purpose, "clauses": list(f.clauses)} for f in a.forbidden
        ]
    rules: list[JSONValue] = []
    for r in a.rules:
        rule: JSONObject = {
            "id": r.id,
            "category": r.category,
            "models": list(r.models),
            "allowed_types": list(r.allowed_types),
            "missing": r.missing.value,
            "verify": r.verify,
        }
        if r.min_score is not None:
            rule["min_score"] = r.min_score
        rules.append(rule)
    if rules:
        out["rules"] = rules
    return out


def canonical_bytes(policy: Policy) -> bytes:
    """RFC 8785 bytes of the annotated document: the input of ``Policy.sha256``."""
    return bytes(rfc8785.dumps(to_document(policy, annotate=True)))


def to_toml(policy: Policy) -> str:
    """The effective policy as a TOML policy file, headed by its hashes as comments."""
    lines = [
        "# Effective Redline policy (provider floor + operator overlay).",
        f"# sha256 = {policy.sha256}",
        f"# floor_sha256 = {policy.floor_sha256}",
        f"# overlay_sha256 = {policy.overlay_sha256 or '(none)'}",
        "",
    ]
    _emit_table(to_document(policy), "", lines)
    return "\n".join(lines).rstrip("\n") + "\n"


def _marked(item: JSONObject, *, floor: bool) -> JSONObject:
    if floor:
        item["floor"] = True
    return item


def _route(model: str, ceiling: str | None, on_error: str, output_screening: bool) -> JSONObject:
    route: JSONObject = {"model": model}
    if ceiling is not None:
        route["ceiling"] = ceiling
    route["on_error"] = on_error
    route["output_screening"] = output_screening
    return route


def _test(t: PolicyTest) -> JSONObject:
    messages: list[JSONValue] = [{"role": m.role, "content": m.text} for m in t.messages]
    test: JSONObject = {"name": t.name, "messages": messages, "expect": t.expect.value}
    if t.categories is not None:
        test["categories"] = list(t.categories)
    if t.purpose:
        test["purpose"] = t.purpose
    if t.authorities:
        test["authorities"] = list(t.authorities)
    if t.invalid_authorities:
        test["invalid_authorities"] = list(t.invalid_authorities)
    if t.us_person:
        test["us_person"] = True
    if t.model:
        test["model"] = t.model
    return test


def _is_table_array(value: JSONValue) -> bool:
    return isinstance(value, list) and bool(value) and all(isinstance(v, dict) for v in value)


def _emit_table(table: JSONObject, prefix: str, lines: list[str]) -> None:
    nested: list[tuple[str, JSONValue]] = []
    for key, value in table.items():
        if isinstance(value, dict) or _is_table_array(value):
            nested.append((key, value))
        elif not (value == [] and not prefix and key in _TABLE_ARRAYS):
            lines.append(f"{key} = {_scalar(value)}")
    for key, value in nested:
        name = f"{prefix}.{key}" if prefix else key
        if isinstance(value, dict):
            lines.extend(["", f"[{name}]"])
            _emit_table(value, name, lines)
            continue
        for item in cast(list[JSONObject], value):  # _is_table_array checked it
            lines.extend(["", f"[[{name}]]"])
            _emit_table(item, name, lines)


#: Arrays of tables that may be empty; an empty one is omitted (TOML has no ``[[x]]`` of 0).
_TABLE_ARRAYS = frozenset({"clauses", "categories", "review_rules", "routes", "tests"})


def _scalar(value: JSONValue) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False).replace("\x7f", "\\u007f")
    if isinstance(value, list):
        return "[" + ", ".join(_scalar(v) for v in value) + "]"
    return repr(value)
