"""TOML bytes -> :class:`Layer`: strict, bounded, and every problem names file and key path.

One policy file is one *layer* (the provider floor or the operator overlay). A layer is
partial: an overlay entry that reuses a floor id only states what it tightens, so the
entries here keep ``None`` for absent keys and ``layers.merge`` decides what is required.

Rules (STYLE.md §7.5):

* the size bound is checked before any parsing (:data:`DEFAULT_MAX_BYTES`, 1 MiB);
* ``schema_version = 1`` is required; any other version is rejected (python-tuf's
  ``spec_version`` check);
* an unknown key, a wrong type, a malformed id or authority, a duplicate id within the file,
  and a number out of range are problems; parsing goes on after a problem so that
  ``redline policy lint`` can report them all at once.

Key paths are dotted with 0-based array indices: ``categories[2].block_threshold``.
"""

from __future__ import annotations

import hashlib
import math
import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path

from redline.domain import Action, Message
from redline.errors import PolicyError, PolicyParseError, PolicyValidationError
from redline.policy.model import (
    AUTHORITY_PATTERN,
    WILDCARD,
    ForbiddenPurpose,
    PolicyTest,
    RuleKind,
)

__all__ = [
    "DEFAULT_MAX_BYTES",
    "SCHEMA_VERSION",
    "AuthorityEntry",
    "AuthorityRuleEntry",
    "CategoryEntry",
    "ClauseEntry",
    "JudgeEntry",
    "Layer",
    "MonitorsEntry",
    "Problem",
    "ProblemKind",
    "ReviewRuleEntry",
    "RouteEntry",
    "TestEntry",
    "parse_layer",
    "problems_error",
    "read_policy_file",
]

DEFAULT_MAX_BYTES = 1 << 20
SCHEMA_VERSION = 1

_CLAUSE_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.\-]{0,63}")
_CATEGORY_ID = re.compile(r"[a-z][a-z0-9_]{0,63}")
_ROLES = frozenset({"system", "developer", "user", "assistant", "tool"})
#: Purpose codes and authority types (same shapes as the request metadata, ``wire.py``).
PURPOSE_CODE = re.compile(r"[a-z][a-z0-9-]{0,63}")
AUTHORITY_TYPE = re.compile(r"[a-z][a-z0-9-]{0,31}")
_RULE_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.\-]{0,63}")

_TOP = frozenset(
    {"schema_version", "clauses", "categories", "review_rules", "monitors", "routes", "judge"}
    | {"tests", "authority"}
)
_AUTHORITY_KEYS = frozenset({"purposes", "forbidden_purposes", "rules"})
_FORBIDDEN_KEYS = frozenset({"purpose", "clauses"})
_AUTHORITY_RULE_KEYS = frozenset(
    {"id", "category", "models", "allowed_types", "missing", "verify", "min_score"}
)
_CLAUSE_KEYS = frozenset({"id", "text", "authorities"})
_CATEGORY_KEYS = frozenset(
    {"id", "title", "definition", "clauses", "review_threshold", "block_threshold"}
    | {"examples_positive", "examples_negative", "enabled"}
)
_RULE_KEYS = frozenset({"category", "kind", "approvals_required", "distinct", "expires_after_s"})
_MONITOR_KEYS = frozenset({"person_volume", "closed_loop", "bulk_records"})
_PERSON_KEYS = frozenset({"window_s", "review_at", "block_at"})
_LOOP_KEYS = frozenset({"effector_tools", "min_interval_s", "max_unattended_calls"})
_BULK_KEYS = frozenset({"min_records"})
_ROUTE_KEYS = frozenset({"model", "ceiling", "on_error", "output_screening"})
_JUDGE_KEYS = frozenset({"enabled", "model", "min_score", "max_score", "timeout_s"})
_TEST_KEYS = frozenset(
    {"name", "messages", "expect", "categories"}
    | {"purpose", "authorities", "invalid_authorities", "us_person", "model"}
)
_MESSAGE_KEYS = frozenset({"role", "content"})


class ProblemKind(StrEnum):
    """Whether a problem is about form (parse) or meaning (validation)."""

    PARSE = "parse"
    VALIDATION = "validation"


@dataclass(frozen=True, slots=True, kw_only=True)
class Problem:
    """One thing wrong with a policy file, printed as ``FILE: key.path: message``."""

    kind: ProblemKind
    source: str
    key_path: str
    message: str

    def __str__(self) -> str:
        if self.key_path:
            return f"{self.source}: {self.key_path}: {self.message}"
        return f"{self.source}: {self.message}"

    def to_error(self) -> PolicyError:
        """The exception for this problem (:class:`PolicyParseError` or validation)."""
        if self.kind is ProblemKind.PARSE:
            return PolicyParseError(self.message, source=self.source, key_path=self.key_path)
        return PolicyValidationError(str(self))


def problems_error(problems: list[Problem]) -> PolicyError:
    """One exception for a non-empty list of problems: the first, plus a count of the rest."""
    first = problems[0]
    if len(problems) > 1:
        more = f" (and {len(problems) - 1} more problem(s); run `redline policy lint`)"
        first = Problem(
            kind=first.kind,
            source=first.source,
            key_path=first.key_path,
            message=first.message + more,
        )
    return first.to_error()


@dataclass(frozen=True, slots=True, kw_only=True)
class ClauseEntry:
    """A ``[[clauses]]`` entry as written; ``None`` marks an absent key."""

    path: str
    id: str
    text: str | None = None
    authorities: tuple[str, ...] | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class CategoryEntry:
    """A ``[[categories]]`` entry as written; ``None`` marks an absent key."""

    path: str
    id: str
    title: str | None = None
    definition: str | None = None
    clauses: tuple[str, ...] | None = None
    review_threshold: float | None = None
    block_threshold: float | None = None
    examples_positive: tuple[str, ...] | None = None
    examples_negative: tuple[str, ...] | None = None
    enabled: bool | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class ReviewRuleEntry:
    """A ``[[review_rules]]`` entry as written."""

    path: str
    category: str
    kind: RuleKind
    approvals_required: int | None = None
    distinct: bool | None = None
    expires_after_s: int | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class MonitorsEntry:
    """The ``[monitors]`` table as written; every leaf may be absent."""

    window_s: int | None = None
    review_at: int | None = None
    block_at: int | None = None
    effector_tools: tuple[str, ...] | None = None
    min_interval_s: float | None = None
    max_unattended_calls: int | None = None
    min_records: int | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class RouteEntry:
    """A ``[[routes]]`` entry as written."""

    path: str
    model: str
    ceiling: str | None = None
    on_error: Action | None = None
    output_screening: bool | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class JudgeEntry:
    """The ``[judge]`` table as written."""

    enabled: bool | None = None
    model: str | None = None
    min_score: float | None = None
    max_score: float | None = None
    timeout_s: float | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class AuthorityRuleEntry:
    """An ``[[authority.rules]]`` entry as written; ``None`` marks an absent key."""

    path: str
    id: str
    category: str | None = None
    models: tuple[str, ...] | None = None
    allowed_types: tuple[str, ...] | None = None
    missing: Action | None = None
    verify: bool | None = None
    min_score: float | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class AuthorityEntry:
    """The ``[authority]`` table as written."""

    purposes: tuple[str, ...] = ()
    forbidden: tuple[tuple[str, ForbiddenPurpose], ...] = ()  # (key path, entry)
    rules: tuple[AuthorityRuleEntry, ...] = ()


@dataclass(frozen=True, slots=True, kw_only=True)
class TestEntry:
    """A ``[[tests]]`` entry: a complete :class:`PolicyTest` plus where it was written."""

    path: str
    test: PolicyTest


@dataclass(frozen=True, slots=True, kw_only=True)
class Layer:
    """One parsed policy file."""

    source: str
    sha256: str
    clauses: tuple[ClauseEntry, ...] = ()
    categories: tuple[CategoryEntry, ...] = ()
    review_rules: tuple[ReviewRuleEntry, ...] = ()
    monitors: MonitorsEntry = MonitorsEntry()
    routes: tuple[RouteEntry, ...] = ()
    judge: JudgeEntry = JudgeEntry()
    authority: AuthorityEntry = AuthorityEntry()
    tests: tuple[TestEntry, ...] = ()


def read_policy_file(path: Path, *, max_bytes: int = DEFAULT_MAX_BYTES) -> bytes:
    """Read a policy file, refusing one larger than ``max_bytes`` without reading it all.

    Raises:
        PolicyParseError: the file is too large.
        OSError: the file cannot be read.
    """
    with path.open("rb") as handle:
        data = handle.read(max_bytes + 1)
    if len(data) > max_bytes:
        raise PolicyParseError(f"file exceeds {max_bytes} bytes", source=str(path))
    return data


def parse_layer(
    data: bytes, *, source: str, max_bytes: int = DEFAULT_MAX_BYTES
) -> tuple[Layer | None, list[Problem]]:
    """Parse one policy file.

    Returns:
        The layer (``None`` if the file is not TOML at all) and every problem found.
    """
    reader = _Reader(source)
    if len(data) > max_bytes:
        reader.parse("", f"file is {len(data)} bytes; the limit is {max_bytes}")
        return None, reader.problems
    try:
        doc = tomllib.loads(data.decode("utf-8"))
    except UnicodeDecodeError as exc:
        reader.parse("", f"not UTF-8 ({exc.reason} at byte {exc.start})")
        return None, reader.problems
    except tomllib.TOMLDecodeError as exc:
        reader.parse("", f"not valid TOML: {exc}")
        return None, reader.problems
    layer = reader.layer(doc, hashlib.sha256(data).hexdigest())
    return layer, reader.problems


class _Reader:
    """Typed accessors that record a :class:`Problem` instead of raising."""

    def __init__(self, source: str) -> None:
        self.source = source
        self.problems: list[Problem] = []

    def parse(self, path: str, message: str) -> None:
        self.problems.append(
            Problem(kind=ProblemKind.PARSE, source=self.source, key_path=path, message=message)
        )

    def invalid(self, path: str, message: str) -> None:
        self.problems.append(
            Problem(kind=ProblemKind.VALIDATION, source=self.source, key_path=path, message=message)
        )

    # -- the document ---------------------------------------------------------------------

    def layer(self, doc: Mapping[str, object], sha256: str) -> Layer:
        self.keys(doc, "", _TOP)
        version = doc.get("schema_version")
        if version is None:
            self.parse("schema_version", "required (schema_version = 1)")
        elif type(version) is not int:
            self.parse("schema_version", "must be an integer")
        elif version != SCHEMA_VERSION:
            self.parse(
                "schema_version",
                f"unsupported version {version}; this Redline "
                f"reads schema_version = {SCHEMA_VERSION}",
            )
        clauses = tuple(self.clause(t, p) for p, t in self.tables(doc, "clauses"))
        categories = tuple(self.category(t, p) for p, t in self.tables(doc, "categories"))
        rules = tuple(self.rule(t, p) for p, t in self.tables(doc, "review_rules"))
        routes = tuple(self.route(t, p) for p, t in self.tables(doc, "routes"))
        tests = tuple(self.test(t, p) for p, t in self.tables(doc, "tests"))
        self.unique([c.id for c in clauses], "clauses", "id")
        self.unique([c.id for c in categories], "categories", "id")
        self.unique([f"{r.kind}:{r.category}" for r in rules], "review_rules", "kind+category")
        self.unique([r.model for r in routes], "routes", "model")
        self.unique([t.test.name for t in tests], "tests", "name")
        return Layer(
            source=self.source,
            sha256=sha256,
            clauses=clauses,
            categories=categories,
            review_rules=rules,
            monitors=self.monitors(doc),
            routes=routes,
            judge=self.judge(doc),
            authority=self.authority(doc),
            tests=tests,
        )

    def clause(self, t: Mapping[str, object], path: str) -> ClauseEntry:
        self.keys(t, path, _CLAUSE_KEYS)
        authorities = self.strings(t, "authorities", path)
        for i, authority in enumerate(authorities or ()):
            if not AUTHORITY_PATTERN.fullmatch(authority):
                self.invalid(
                    f"{path}.authorities[{i}]",
                    f"{authority!r} is not a versioned "
                    "authority id NAME@DATE (e.g. DoDD-3000.09@2023-01-25)",
                )
        return ClauseEntry(
            path=path,
            id=self.ident(t, path, "id", _CLAUSE_ID),
            text=self.text(t, "text", path),
            authorities=authorities,
        )

    def category(self, t: Mapping[str, object], path: str) -> CategoryEntry:
        self.keys(t, path, _CATEGORY_KEYS)
        review = self.unit(t, "review_threshold", path)
        block = self.unit(t, "block_threshold", path)
        if review is not None and block is not None and review > block:
            self.invalid(f"{path}.review_threshold", "must not exceed block_threshold")
        return CategoryEntry(
            path=path,
            id=self.ident(t, path, "id", _CATEGORY_ID),
            title=self.text(t, "title", path),
            definition=self.text(t, "definition", path),
            clauses=self.strings(t, "clauses", path),
            review_threshold=review,
            block_threshold=block,
            examples_positive=self.strings(t, "examples_positive", path),
            examples_negative=self.strings(t, "examples_negative", path),
            enabled=self.flag(t, "enabled", path),
        )

    def rule(self, t: Mapping[str, object], path: str) -> ReviewRuleEntry:
        self.keys(t, path, _RULE_KEYS)
        category = self.text(t, "category", path)
        if category is None:
            self.parse(f"{path}.category", 'required (a category id or "*")')
            category = WILDCARD
        kind_text = self.text(t, "kind", path) or RuleKind.REVIEW.value
        kind = RuleKind.REVIEW
        if kind_text not in {k.value for k in RuleKind}:
            self.parse(f"{path}.kind", 'must be "review" or "override"')
        else:
            kind = RuleKind(kind_text)
        approvals = self.integer(t, "approvals_required", path, minimum=1)
        expires = self.integer(t, "expires_after_s", path, minimum=1)
        return ReviewRuleEntry(
            path=path,
            category=category,
            kind=kind,
            approvals_required=approvals,
            distinct=self.flag(t, "distinct", path),
            expires_after_s=expires,
        )

    def monitors(self, doc: Mapping[str, object]) -> MonitorsEntry:
        top = self.table(doc, "monitors", "")
        self.keys(top, "monitors", _MONITOR_KEYS)
        pv = self.table(top, "person_volume", "monitors")
        cl = self.table(top, "closed_loop", "monitors")
        br = self.table(top, "bulk_records", "monitors")
        pvp, clp, brp = "monitors.person_volume", "monitors.closed_loop", "monitors.bulk_records"
        self.keys(pv, pvp, _PERSON_KEYS)
        self.keys(cl, clp, _LOOP_KEYS)
        self.keys(br, brp, _BULK_KEYS)
        review_at = self.integer(pv, "review_at", pvp, minimum=1)
        block_at = self.integer(pv, "block_at", pvp, minimum=1)
        if review_at is not None and block_at is not None and review_at > block_at:
            self.invalid(f"{pvp}.review_at", "must not exceed block_at")
        return MonitorsEntry(
            window_s=self.integer(pv, "window_s", pvp, minimum=1),
            review_at=review_at,
            block_at=block_at,
            effector_tools=self.strings(cl, "effector_tools", clp),
            min_interval_s=self.number(cl, "min_interval_s", clp, minimum=0.0),
            max_unattended_calls=self.integer(cl, "max_unattended_calls", clp, minimum=0),
            min_records=self.integer(br, "min_records", brp, minimum=1),
        )

    def route(self, t: Mapping[str, object], path: str) -> RouteEntry:
        self.keys(t, path, _ROUTE_KEYS)
        model = self.text(t, "model", path)
        if model is None:
            self.parse(f"{path}.model", 'required (a model name or pattern; "*" for all)')
        on_error_text = self.text(t, "on_error", path)
        on_error: Action | None = None
        if on_error_text == Action.ALLOW.value:
            self.invalid(
                f"{path}.on_error",
                'fail-open is not allowed: a classifier error must end in "block" or "review"',
            )
        elif on_error_text is not None and on_error_text != "":
            if on_error_text not in {Action.BLOCK.value, Action.REVIEW.value}:
                self.parse(f"{path}.on_error", 'must be "block" or "review"')
            else:
                on_error = Action(on_error_text)
        return RouteEntry(
            path=path,
            model=model or "",
            ceiling=self.text(t, "ceiling", path),
            on_error=on_error,
            output_screening=self.flag(t, "output_screening", path),
        )

    def judge(self, doc: Mapping[str, object]) -> JudgeEntry:
        t = self.table(doc, "judge", "")
        self.keys(t, "judge", _JUDGE_KEYS)
        low = self.unit(t, "min_score", "judge")
        high = self.unit(t, "max_score", "judge")
        if low is not None and high is not None and low > high:
            self.invalid("judge.min_score", "must not exceed max_score")
        timeout = self.number(t, "timeout_s", "judge", minimum=0.001)
        return JudgeEntry(
            enabled=self.flag(t, "enabled", "judge"),
            model=self.text(t, "model", "judge"),
            min_score=low,
            max_score=high,
            timeout_s=timeout,
        )

    def authority(self, doc: Mapping[str, object]) -> AuthorityEntry:
        top = self.table(doc, "authority", "")
        self.keys(top, "authority", _AUTHORITY_KEYS)
        purposes = self.strings(top, "purposes", "authority") or ()
        for i, code in enumerate(purposes):
            self.shape(code, f"authority.purposes[{i}]", PURPOSE_CODE)
        forbidden = []
        for path, t in self.tables(top, "forbidden_purposes", "authority"):
            self.keys(t, path, _FORBIDDEN_KEYS)
            purpose = self.text(t, "purpose", path) or ""
            self.shape(purpose, f"{path}.purpose", PURPOSE_CODE)
            if purpose in purposes:
                self.invalid(f"{path}.purpose", f"{purpose!r} is also listed in purposes")
            clauses = self.strings(t, "clauses", path)
            if not clauses:
                self.invalid(f"{path}.clauses", "a forbidden purpose must cite at least one clause")
            forbidden.append((path, ForbiddenPurpose(purpose=purpose, clauses=clauses or ())))
        rules = tuple(self.authority_rule(t, p) for p, t in self.tables(top, "rules", "authority"))
        self.unique([f.purpose for _, f in forbidden], "authority.forbidden_purposes", "purpose")
        self.unique([r.id for r in rules], "authority.rules", "id")
        return AuthorityEntry(purposes=purposes, forbidden=tuple(forbidden), rules=rules)

    def authority_rule(self, t: Mapping[str, object], path: str) -> AuthorityRuleEntry:
        self.keys(t, path, _AUTHORITY_RULE_KEYS)
        types = self.strings(t, "allowed_types", path)
        for i, kind in enumerate(types or ()):
            self.shape(kind, f"{path}.allowed_types[{i}]", AUTHORITY_TYPE)
        models = self.strings(t, "models", path)
        if models == ():
            self.invalid(f"{path}.models", 'list at least one model pattern ("*" for all)')
        missing_text = self.text(t, "missing", path)
        missing: Action | None = None
        if missing_text is not None:
            if missing_text not in {Action.BLOCK.value, Action.REVIEW.value}:
                self.parse(f"{path}.missing", 'must be "block" or "review"')
            else:
                missing = Action(missing_text)
        return AuthorityRuleEntry(
            path=path,
            id=self.ident(t, path, "id", _RULE_ID),
            category=self.text(t, "category", path),
            models=models,
            allowed_types=types,
            missing=missing,
            verify=self.flag(t, "verify", path),
            min_score=self.unit(t, "min_score", path),
        )

    def shape(self, value: str, path: str, shape: re.Pattern[str]) -> None:
        if not shape.fullmatch(value):
            self.parse(path, f"{value!r} is malformed ({shape.pattern})")

    def test(self, t: Mapping[str, object], path: str) -> TestEntry:
        self.keys(t, path, _TEST_KEYS)
        name = self.text(t, "name", path)
        if not name:
            self.parse(f"{path}.name", "required (a non-empty string)")
        expect = Action.BLOCK
        expect_text = self.text(t, "expect", path)
        if expect_text not in {a.value for a in Action}:
            self.parse(f"{path}.expect", 'required: "allow", "review" or "block"')
        else:
            expect = Action(expect_text)
        messages = []
        for mpath, m in self.tables(t, "messages", path):
            self.keys(m, mpath, _MESSAGE_KEYS)
            role = self.text(m, "role", mpath)
            if role not in _ROLES:
                self.parse(f"{mpath}.role", f"must be one of {', '.join(sorted(_ROLES))}")
            content = self.text(m, "content", mpath)
            if content is None:
                self.parse(f"{mpath}.content", "required")
            messages.append(Message(role=role or "user", text=content or ""))
        if not messages:
            self.invalid(f"{path}.messages", "a test needs at least one message")
        test = PolicyTest(
            name=name or "",
            messages=tuple(messages),
            expect=expect,
            categories=self.strings(t, "categories", path),
            purpose=self.text(t, "purpose", path) or "",
            authorities=self.strings(t, "authorities", path) or (),
            invalid_authorities=self.strings(t, "invalid_authorities", path) or (),
            us_person=bool(self.flag(t, "us_person", path)),
            model=self.text(t, "model", path) or "",
        )
        return TestEntry(path=path, test=test)

    # -- typed accessors ------------------------------------------------------------------

    def keys(self, t: Mapping[str, object], path: str, allowed: frozenset[str]) -> None:
        for key in t:
            if key not in allowed:
                where = f"{path}.{key}" if path else key
                self.parse(where, f"unknown key (expected one of: {', '.join(sorted(allowed))})")

    def tables(
        self, t: Mapping[str, object], key: str, parent: str = ""
    ) -> list[tuple[str, Mapping[str, object]]]:
        path = f"{parent}.{key}" if parent else key
        value = t.get(key, [])
        if not isinstance(value, list):
            self.parse(path, f"must be an array of tables ([[{key}]])")
            return []
        out: list[tuple[str, Mapping[str, object]]] = []
        for i, item in enumerate(value):
            if isinstance(item, dict):
                out.append((f"{path}[{i}]", item))
            else:
                self.parse(f"{path}[{i}]", "must be a table")
        return out

    def table(self, t: Mapping[str, object], key: str, parent: str) -> Mapping[str, object]:
        value = t.get(key, {})
        if isinstance(value, dict):
            return value
        self.parse(f"{parent}.{key}" if parent else key, "must be a table")
        return {}

    def text(self, t: Mapping[str, object], key: str, path: str) -> str | None:
        value = t.get(key)
        if value is None or isinstance(value, str):
            return value
        self.parse(f"{path}.{key}", "must be a string")
        return None

    def ident(self, t: Mapping[str, object], path: str, key: str, shape: re.Pattern[str]) -> str:
        if key not in t:
            self.parse(f"{path}.{key}", "required")
            return ""
        value = self.text(t, key, path)
        if value is None:
            return ""
        if not shape.fullmatch(value):
            self.parse(f"{path}.{key}", f"{value!r} is not a valid id ({shape.pattern})")
        return value

    def strings(self, t: Mapping[str, object], key: str, path: str) -> tuple[str, ...] | None:
        value = t.get(key)
        if value is None:
            return None
        if isinstance(value, list) and all(isinstance(v, str) for v in value):
            return tuple(str(v) for v in value)
        self.parse(f"{path}.{key}", "must be an array of strings")
        return None

    def flag(self, t: Mapping[str, object], key: str, path: str) -> bool | None:
        value = t.get(key)
        if value is None or isinstance(value, bool):
            return value
        self.parse(f"{path}.{key}", "must be true or false")
        return None

    def integer(self, t: Mapping[str, object], key: str, path: str, *, minimum: int) -> int | None:
        value = t.get(key)
        if value is None:
            return None
        if type(value) is not int:
            self.parse(f"{path}.{key}", "must be an integer")
            return None
        if value < minimum:
            self.invalid(f"{path}.{key}", f"must be >= {minimum}")
        return value

    def number(
        self, t: Mapping[str, object], key: str, path: str, *, minimum: float
    ) -> float | None:
        value = t.get(key)
        if value is None:
            return None
        if type(value) not in (int, float):
            self.parse(f"{path}.{key}", "must be a number")
            return None
        number = float(value)  # type: ignore[arg-type]  # int or float, checked above
        if not math.isfinite(number) or number < minimum:
            self.invalid(f"{path}.{key}", f"must be a finite number >= {minimum}")
        return number

    def unit(self, t: Mapping[str, object], key: str, path: str) -> float | None:
        value = t.get(key)
        if value is None:
            return None
        if type(value) not in (int, float):
            self.parse(f"{path}.{key}", "must be a number")
            return None
        number = float(value)  # type: ignore[arg-type]  # int or float, checked above
        if not 0.0 <= number <= 1.0:  # also rejects nan
            self.invalid(f"{path}.{key}", "must be in [0, 1]")
        return number

    def unique(self, ids: list[str], array: str, what: str) -> None:
        seen: set[str] = set()
        for i, ident in enumerate(ids):
            if ident in seen:
                self.invalid(f"{array}[{i}]", f"duplicate {what} {ident!r}")
            seen.add(ident)
