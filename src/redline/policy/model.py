"""The effective policy as frozen values: clauses, categories, review rules, monitors, routes.

A :class:`Policy` is what :func:`redline.policy.layers.merge` builds from the provider floor
and the operator overlay (ARCHITECTURE.md "policy", STYLE.md §7.5). Nothing here does I/O.

Invariants (established by ``layers.merge``, relied on by ``decide``):

* every id is unique within its kind; every reference (a category's clauses, a review rule's
  category, a test's categories) resolves;
* ``0 <= review_threshold <= block_threshold <= 1`` for every category;
* there is exactly one default route (``model = "*"``) and every route fails closed
  (``on_error`` is ``block`` or ``review``, never ``allow``);
* ``sha256`` is the SHA-256 of the canonical (RFC 8785) JSON of the effective policy
  (:func:`redline.policy.document.canonical_bytes`); ``floor_sha256`` and ``overlay_sha256``
  are the SHA-256 of the exact layer file bytes (the floor's is what its signature covers).

Authorities are versioned ids pinned to dated text (DOMAIN.md §1.3 implementation note):
``NAME@YYYY``, ``NAME@YYYY-MM`` or ``NAME@YYYY-MM-DD``, e.g. ``DoDD-3000.09@2023-01-25``.
"""

from __future__ import annotations

import fnmatch
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from types import MappingProxyType

from redline.domain import Action, Message

__all__ = [
    "AUTHORITY_PATTERN",
    "DEFAULT_ROUTE",
    "WILDCARD",
    "AuthorityRule",
    "AuthoritySettings",
    "BulkRecords",
    "Category",
    "Clause",
    "ClosedLoop",
    "ForbiddenPurpose",
    "JudgeSettings",
    "MonitorSettings",
    "PersonVolume",
    "Policy",
    "PolicyTest",
    "ReviewRule",
    "RouteSettings",
    "RuleKind",
    "Thresholds",
]

#: ``NAME@DATE``: a name of letters, digits, dots and dashes; a date of year[-month[-day]].
AUTHORITY_PATTERN = re.compile(r"[A-Za-z0-9][A-Za-z0-9.\-]*@\d{4}(?:-\d{2}(?:-\d{2})?)?")
#: A review rule for every category.
WILDCARD = "*"
#: The model pattern of the default route.
DEFAULT_ROUTE = "*"

#: Severity order of actions; fail-closed combination takes the maximum.
SEVERITY: Mapping[Action, int] = MappingProxyType(
    {Action.ALLOW: 0, Action.REVIEW: 1, Action.BLOCK: 2}
)


class RuleKind(StrEnum):
    """What a review rule's approvals release (wire-stable)."""

    REVIEW = "review"
    """Approving a request that the policy held for review."""
    OVERRIDE = "override"
    """Releasing a request that the policy blocked."""


@dataclass(frozen=True, slots=True, kw_only=True)
class Clause:
    """A contract clause (DOMAIN.md §1.3) with the versioned authorities it rests on."""

    id: str
    text: str
    authorities: tuple[str, ...]
    floor: bool = False


@dataclass(frozen=True, slots=True, kw_only=True)
class Category:
    """A screening category: what it means, the clauses it enforces, and its thresholds.

    A score ``>= block_threshold`` blocks; ``>= review_threshold`` holds for review.
    ``floor`` marks the provider's categories, which no overlay may loosen.
    """

    id: str
    title: str
    definition: str
    clauses: tuple[str, ...]
    review_threshold: float
    block_threshold: float
    examples_positive: tuple[str, ...] = ()
    examples_negative: tuple[str, ...] = ()
    floor: bool = False


@dataclass(frozen=True, slots=True, kw_only=True)
class ReviewRule:
    """How many approvers release a held (``review``) or blocked (``override``) request.

    ``category`` is a category id or ``"*"`` (every category without a rule of its own).
    An approval older than ``expires_after_s`` lapses and the request stays refused.
    """

    category: str
    kind: RuleKind = RuleKind.REVIEW
    approvals_required: int
    distinct: bool = True
    expires_after_s: int


@dataclass(frozen=True, slots=True, kw_only=True)
class PersonVolume:
    """Distinct persons queried by one principal within ``window_s`` seconds (RL1)."""

    window_s: int
    review_at: int
    block_at: int


@dataclass(frozen=True, slots=True, kw_only=True)
class ClosedLoop:
    """Machine-speed loops from model output to an effector tool (RL2).

    ``effector_tools`` are :mod:`fnmatch` patterns matched against lower-cased tool names.
    Two effector calls closer than ``min_interval_s``, or more than ``max_unattended_calls``
    effector calls without a human turn in between, trip the monitor.
    """

    effector_tools: tuple[str, ...]
    min_interval_s: float
    max_unattended_calls: int

    def is_effector(self, tool_name: str) -> bool:
        """Whether ``tool_name`` matches one of the effector patterns."""
        name = tool_name.lower()
        return any(fnmatch.fnmatchcase(name, pattern) for pattern in self.effector_tools)


@dataclass(frozen=True, slots=True, kw_only=True)
class BulkRecords:
    """A request that carries at least ``min_records`` person records is bulk (RL1/RL3)."""

    min_records: int


@dataclass(frozen=True, slots=True, kw_only=True)
class MonitorSettings:
    """Thresholds of the cross-request monitors (ARCHITECTURE.md "monitors")."""

    person_volume: PersonVolume
    closed_loop: ClosedLoop
    bulk_records: BulkRecords


@dataclass(frozen=True, slots=True, kw_only=True)
class RouteSettings:
    """Per-route settings; ``model`` is an exact model name or an :mod:`fnmatch` pattern.

    ``ceiling`` is the highest classification label the route is accredited for (a marking
    string such as ``"S"``); ``None`` means the policy does not declare one and the access
    layer must treat the route as accredited for nothing above its own default.
    ``on_error`` is what a classifier failure yields: ``block`` or ``review`` (fail closed).
    """

    model: str
    ceiling: str | None = None
    on_error: Action = Action.BLOCK
    output_screening: bool = True


@dataclass(frozen=True, slots=True, kw_only=True)
class JudgeSettings:
    """The optional policy-conditioned LLM judge for borderline scores (off by default).

    Scores in ``[min_score, max_score)`` may be sent to ``model``. The judge's verdicts are
    added to the classifier's, and ``decide`` takes the maximum per category, so a judge can
    only escalate a decision, never relax one.
    """

    enabled: bool = False
    model: str = ""
    min_score: float = 0.3
    max_score: float = 0.8
    timeout_s: float = 5.0


@dataclass(frozen=True, slots=True, kw_only=True)
class ForbiddenPurpose:
    """A purpose of use that is never allowed; a request declaring it is blocked, citing
    ``clauses`` (e.g. domestic law enforcement outside the Posse Comitatus exceptions, C7)."""

    purpose: str
    clauses: tuple[str, ...]


@dataclass(frozen=True, slots=True, kw_only=True)
class AuthorityRule:
    """What a request touching U.S.-person data needs under a category (and routes).

    The rule applies to a request on a route matching one of ``models`` (fnmatch patterns)
    when the request targets a U.S. person (monitors' person extraction), or, when
    ``min_score`` is set, when ``category`` scores at least ``min_score``. It then needs a
    cited authority of one of ``allowed_types`` that the register confirms; without one the
    decision is ``missing`` (``block`` or ``review``) under ``category``. With ``verify``,
    a request that does cite a confirmed authority is held for review so that a cleared
    reviewer verifies it before it passes.
    """

    id: str
    category: str
    models: tuple[str, ...] = ("*",)
    allowed_types: tuple[str, ...]
    missing: Action = Action.BLOCK
    verify: bool = False
    min_score: float | None = None

    def applies_to(self, model: str) -> bool:
        """Whether the rule covers requests to ``model``."""
        return any(fnmatch.fnmatchcase(model, pattern) for pattern in self.models)


@dataclass(frozen=True, slots=True, kw_only=True)
class AuthoritySettings:
    """Purposes of use and authority rules (``[authority]`` in a policy file).

    ``purposes`` are the codes a request may declare; a code that is neither listed nor
    forbidden is blocked (the policy does not know what it means). ``forbidden`` purposes
    are blocked whatever else the request says.
    """

    purposes: tuple[str, ...] = ()
    forbidden: tuple[ForbiddenPurpose, ...] = ()
    rules: tuple[AuthorityRule, ...] = ()

    def forbidden_purpose(self, purpose: str) -> ForbiddenPurpose | None:
        """The forbidden-purpose entry for ``purpose``, if it is forbidden."""
        return next((f for f in self.forbidden if f.purpose == purpose), None)


@dataclass(frozen=True, slots=True, kw_only=True)
class PolicyTest:
    """A policy's own test case: a conversation and the decision it must get.

    ``categories`` (when given) must equal, as a set, the categories of the decision.
    ``purpose``, ``authorities`` (``TYPE:ID`` strings), ``us_person`` and ``model`` state the
    request's oversight facts; every cited authority counts as confirmed by the register
    unless listed in ``invalid_authorities`` (a policy test exercises the policy, not a
    register).
    """

    name: str
    messages: tuple[Message, ...]
    expect: Action
    categories: tuple[str, ...] | None = None
    purpose: str = ""
    authorities: tuple[str, ...] = ()
    invalid_authorities: tuple[str, ...] = ()
    us_person: bool = False
    model: str = ""


@dataclass(frozen=True, slots=True, kw_only=True)
class Thresholds:
    """One row of the precomputed decision table."""

    review: float
    block: float
    clauses: tuple[str, ...]


@dataclass(frozen=True, slots=True, kw_only=True)
class Policy:
    """The effective policy: the provider floor joined with the operator overlay.

    Build it with :func:`redline.policy.load_policy` (or ``layers.merge``), never by hand in
    production code: the constructor does not re-validate. Lookup tables used by ``decide``
    are precomputed in ``__post_init__``.
    """

    schema_version: int
    clauses: tuple[Clause, ...]
    categories: tuple[Category, ...]
    review_rules: tuple[ReviewRule, ...]
    monitors: MonitorSettings
    routes: tuple[RouteSettings, ...]
    judge: JudgeSettings = JudgeSettings()
    authority: AuthoritySettings = AuthoritySettings()
    tests: tuple[PolicyTest, ...] = ()
    sha256: str = ""
    floor_sha256: str = ""
    overlay_sha256: str = ""
    thresholds: Mapping[str, Thresholds] = field(init=False, repr=False, compare=False, hash=False)
    _clauses_by_id: Mapping[str, Clause] = field(init=False, repr=False, compare=False)
    _categories_by_id: Mapping[str, Category] = field(init=False, repr=False, compare=False)
    _rules: Mapping[tuple[RuleKind, str], ReviewRule] = field(init=False, repr=False, compare=False)
    _exact_routes: Mapping[str, RouteSettings] = field(init=False, repr=False, compare=False)
    _glob_routes: tuple[RouteSettings, ...] = field(init=False, repr=False, compare=False)
    _default_route: RouteSettings = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        table = {
            c.id: Thresholds(review=c.review_threshold, block=c.block_threshold, clauses=c.clauses)
            for c in self.categories
        }
        object.__setattr__(self, "thresholds", MappingProxyType(table))
        object.__setattr__(self, "_clauses_by_id", {c.id: c for c in self.clauses})
        object.__setattr__(self, "_categories_by_id", {c.id: c for c in self.categories})
        object.__setattr__(self, "_rules", {(r.kind, r.category): r for r in self.review_rules})
        exact = {r.model: r for r in self.routes if not _is_glob(r.model)}
        globs = sorted((r for r in self.routes if _is_glob(r.model)), key=lambda r: -len(r.model))
        object.__setattr__(self, "_exact_routes", exact)
        object.__setattr__(self, "_glob_routes", tuple(globs))
        default = next((r for r in self.routes if r.model == DEFAULT_ROUTE), None)
        # A merged policy always has a "*" route; a hand-built one without it fails closed.
        object.__setattr__(self, "_default_route", default or RouteSettings(model=DEFAULT_ROUTE))

    def category(self, category_id: str) -> Category:
        """The category with this id.

        Raises:
            KeyError: the policy has no such category.
        """
        return self._categories_by_id[category_id]

    def clause(self, clause_id: str) -> Clause:
        """The clause with this id.

        Raises:
            KeyError: the policy has no such clause.
        """
        return self._clauses_by_id[clause_id]

    def clauses_for(self, category_ids: Iterable[str]) -> tuple[Clause, ...]:
        """The union of the clauses cited by these categories, in policy order.

        Raises:
            KeyError: one of the ids is not a category of this policy.
        """
        wanted = {cid for cat in category_ids for cid in self._categories_by_id[cat].clauses}
        return tuple(c for c in self.clauses if c.id in wanted)

    @property
    def default_route(self) -> RouteSettings:
        """The route of ``model = "*"``."""
        return self._default_route

    def route_for(self, model: str) -> RouteSettings:
        """The route of a model: an exact match, else the longest matching pattern.

        The default route (``"*"``) matches every model, so there is always an answer.
        """
        route = self._exact_routes.get(model)
        if route is not None:
            return route
        for candidate in self._glob_routes:
            if fnmatch.fnmatchcase(model, candidate.model):
                return candidate
        return self._default_route

    def review_rule(self, category: str, kind: RuleKind = RuleKind.REVIEW) -> ReviewRule | None:
        """The rule releasing ``kind`` for ``category``: its own rule, else the ``"*"`` rule."""
        rule = self._rules.get((kind, category))
        if rule is None:
            rule = self._rules.get((kind, WILDCARD))
        return rule


def _is_glob(pattern: str) -> bool:
    return any(ch in pattern for ch in "*?[")
