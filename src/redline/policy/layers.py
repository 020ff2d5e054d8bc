"""Join the provider floor with the operator overlay; the overlay may only tighten.

The floor ships with Redline (``floor.toml``) and carries the three red lines and the
clauses of DOMAIN.md §1.3. An operator overlay may **add** clauses, categories, review rules,
routes and tests, and may **tighten** what the floor says. Anything that removes, disables
or loosens floor content is rejected with an error naming the id and the key.

Direction of "tighter", field by field (a floor value may always be restated unchanged):

==================================  ==========================================================
field                               an overlay may
==================================  ==========================================================
clause ``text``, ``authorities``    not change a floor clause at all (pinned, dated text)
category ``title``/``definition``   not change them (the classifier is trained on them)
category ``clauses``                add clauses; every floor clause must stay listed
category ``*_threshold``            lower them (a lower score blocks or holds); never raise
category ``examples_*``             add examples (they are appended)
category ``enabled``                never set ``false`` on a floor category
rule ``approvals_required``         raise it (more approvers)
rule ``distinct``                   not turn it off
rule ``expires_after_s``            lower it (an approval lapses sooner; lapsed = refused)
rule for one category               not be looser than the floor's ``"*"`` rule it shadows
monitors ``window_s``               raise it (a longer window counts more persons)
monitors ``review_at``/``block_at`` lower them
monitors ``effector_tools``         add patterns; every floor pattern must stay listed
monitors ``min_interval_s``         raise it (more loops count as machine speed)
monitors ``max_unattended_calls``   lower it
monitors ``min_records``            lower it
route ``on_error``                  ``block`` >= ``review``; never below the floor route's
route ``output_screening``          never ``false`` (the floor screens every output)
route ``ceiling``                   set it where the floor has none; never change a floor one
judge (if the floor enables it)     keep it on, same model and timeout, widen the band only
authority ``purposes``              add codes (a code the policy does not know is blocked)
authority ``forbidden_purposes``    add purposes or clauses; every floor entry stays (union)
authority rule ``category``         not change it; ``models`` not change them
authority rule ``allowed_types``    remove types (fewer authorities qualify); never add
authority rule ``missing``          ``block`` >= ``review``; never below the floor rule's
authority rule ``verify``           turn it on; never off
authority rule ``min_score``        set or lower it (more requests trigger the rule)
==================================  ==========================================================

A purpose that one layer allows and another forbids is forbidden (forbidden wins).

A new (overlay) route inherits unset fields from the effective default route ``"*"``; the
overlay's ``on_error`` for it may not be looser than the floor's default route. Operator
categories (bring-your-own-policy) need a title, a definition, clauses, both thresholds and
at least one positive and one negative example. ``enabled = false`` drops an operator
category from the effective policy (references to it then dangle and are errors).
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import replace
from typing import TypeVar

from redline.domain import Action
from redline.errors import PolicyValidationError
from redline.policy.ceiling import parse_ceiling
from redline.policy.document import canonical_bytes
from redline.policy.model import (
    DEFAULT_ROUTE,
    SEVERITY,
    WILDCARD,
    AuthorityRule,
    AuthoritySettings,
    BulkRecords,
    Category,
    Clause,
    ClosedLoop,
    ForbiddenPurpose,
    JudgeSettings,
    MonitorSettings,
    PersonVolume,
    Policy,
    PolicyTest,
    ReviewRule,
    RouteSettings,
    RuleKind,
)
from redline.policy.parse import (
    SCHEMA_VERSION,
    AuthorityEntry,
    AuthorityRuleEntry,
    CategoryEntry,
    ClauseEntry,
    JudgeEntry,
    Layer,
    MonitorsEntry,
    Problem,
    ProblemKind,
    ReviewRuleEntry,
    RouteEntry,
    problems_error,
)

__all__ = ["build", "merge"]

_T = TypeVar("_T")


def merge(floor: Layer, overlay: Layer | None = None) -> Policy:
    """The effective policy of a floor and an optional overlay.

    Raises:
        PolicyValidationError: a dangling reference, a missing key, or an overlay that
            removes, disables or loosens floor content.
    """
    policy, problems = build(floor, overlay)
    if policy is None:
        raise problems_error(problems)
    return policy


def build(floor: Layer, overlay: Layer | None = None) -> tuple[Policy | None, list[Problem]]:
    """Like :func:`merge`, but return every problem instead of raising the first."""
    m = _Merger()
    m.apply(floor, is_floor=True)
    if overlay is not None:
        m.apply(overlay, is_floor=False)
    policy = m.finish(floor, overlay)
    return (policy if not m.problems else None), m.problems


class _Merger:
    def __init__(self) -> None:
        self.problems: list[Problem] = []
        self.clauses: dict[str, Clause] = {}
        self.categories: dict[str, Category] = {}
        self.rules: dict[tuple[RuleKind, str], ReviewRule] = {}
        self.routes: dict[str, RouteSettings] = {}
        self.tests: dict[str, PolicyTest] = {}
        self.monitors: MonitorSettings | None = None
        self.judge = JudgeSettings()
        self.floor_rules: dict[tuple[RuleKind, str], ReviewRule] = {}
        self.floor_routes: dict[str, RouteSettings] = {}
        self.purposes: dict[str, None] = {}
        self.forbidden: dict[str, ForbiddenPurpose] = {}
        self.authority_rules: dict[str, AuthorityRule] = {}
        self.paths: dict[str, tuple[str, str]] = {}  # id -> (source, path) of its entry
        self.source = ""

    def bad(self, path: str, message: str) -> None:
        self.problems.append(
            Problem(kind=ProblemKind.VALIDATION, source=self.source, key_path=path, message=message)
        )

    def apply(self, layer: Layer, *, is_floor: bool) -> None:
        self.source = layer.source
        for clause in layer.clauses:
            self.clause(clause, is_floor=is_floor)
        for category in layer.categories:
            self.category(category, is_floor=is_floor)
        for rule in layer.review_rules:
            self.rule(rule, is_floor=is_floor)
        self.monitor(layer.monitors, is_floor=is_floor)
        for route in sorted(layer.routes, key=lambda r: r.model != DEFAULT_ROUTE):
            self.route(route, is_floor=is_floor)
        self.judge_settings(layer.judge, is_floor=is_floor)
        self.authority(layer.authority)
        for entry in layer.tests:
            if entry.test.name in self.tests:
                self.bad(
                    f"{entry.path}.name",
                    f"duplicate test name {entry.test.name!r} (already in the floor)",
                )
            self.tests[entry.test.name] = entry.test
            self.paths[f"test:{entry.test.name}"] = (layer.source, entry.path)
        if is_floor:
            self.floor_rules = dict(self.rules)
            self.floor_routes = dict(self.routes)

    # -- clauses and categories -----------------------------------------------------------

    def clause(self, e: ClauseEntry, *, is_floor: bool) -> None:
        old = self.clauses.get(e.id)
        if old is not None:
            if e.text is not None and e.text != old.text:
                self.bad(f"{e.path}.text", f"cannot redefine the text of floor clause {e.id}")
            if e.authorities is not None and e.authorities != old.authorities:
                self.bad(
                    f"{e.path}.authorities", f"cannot change the authorities of floor clause {e.id}"
                )
            return
        text = self.need(e.text, f"{e.path}.text")
        authorities = self.need(e.authorities, f"{e.path}.authorities")
        if authorities == ():
            self.bad(f"{e.path}.authorities", "a clause needs at least one authority")
        self.clauses[e.id] = Clause(
            id=e.id, text=text or "", authorities=authorities or (), floor=is_floor
        )
        self.paths[f"clause:{e.id}"] = (self.source, e.path)

    def category(self, e: CategoryEntry, *, is_floor: bool) -> None:
        old = self.categories.get(e.id)
        if old is not None:
            self.tighten_category(old, e)
            return
        c = Category(
            id=e.id,
            title=self.need(e.title, f"{e.path}.title") or "",
            definition=self.need(e.definition, f"{e.path}.definition") or "",
            clauses=self.need(e.clauses, f"{e.path}.clauses") or (),
            review_threshold=_or(self.need(e.review_threshold, f"{e.path}.review_threshold"), 0),
            block_threshold=_or(self.need(e.block_threshold, f"{e.path}.block_threshold"), 0),
            examples_positive=e.examples_positive or (),
            examples_negative=e.examples_negative or (),
            floor=is_floor,
        )
        if e.clauses == ():
            self.bad(f"{e.path}.clauses", "a category must cite at least one clause")
        if not c.examples_positive:
            self.bad(f"{e.path}.examples_positive", "at least one positive example is required")
        if not c.examples_negative:
            self.bad(f"{e.path}.examples_negative", "at least one negative example is required")
        if e.enabled is False:
            if is_floor:
                self.bad(f"{e.path}.enabled", "a floor category cannot be disabled")
            return
        self.categories[e.id] = c
        self.paths[f"category:{e.id}"] = (self.source, e.path)

    def tighten_category(self, old: Category, e: CategoryEntry) -> None:
        p, cid = e.path, old.id
        if e.enabled is False:
            self.bad(f"{p}.enabled", f"cannot disable floor category {cid}")
        if e.title is not None and e.title != old.title:
            self.bad(f"{p}.title", f"cannot redefine the title of floor category {cid}")
        if e.definition is not None and e.definition != old.definition:
            self.bad(f"{p}.definition", f"cannot redefine the definition of floor category {cid}")
        clauses = old.clauses
        if e.clauses is not None:
            dropped = [c for c in old.clauses if c not in e.clauses]
            if dropped:
                self.bad(
                    f"{p}.clauses",
                    f"cannot drop clause(s) {', '.join(dropped)} from floor category {cid}",
                )
            clauses = old.clauses + tuple(c for c in e.clauses if c not in old.clauses)
        review = self.lower(
            e.review_threshold,
            old.review_threshold,
            f"{p}.review_threshold",
            f"floor category {cid}",
        )
        block = self.lower(
            e.block_threshold, old.block_threshold, f"{p}.block_threshold", f"floor category {cid}"
        )
        if review > block:
            self.bad(
                f"{p}.review_threshold",
                f"must not exceed block_threshold ({block}) of "
                f"category {cid}; lower review_threshold too",
            )
        self.categories[cid] = replace(
            old,
            clauses=clauses,
            review_threshold=review,
            block_threshold=block,
            examples_positive=_extend(old.examples_positive, e.examples_positive),
            examples_negative=_extend(old.examples_negative, e.examples_negative),
        )

    # -- review rules ---------------------------------------------------------------------

    def rule(self, e: ReviewRuleEntry, *, is_floor: bool) -> None:
        key = (e.kind, e.category)
        base = self.floor_rules.get(key) or self.floor_rules.get((e.kind, WILDCARD))
        what = f"floor {e.kind} rule for {base.category!r}" if base else ""
        expires: float
        if base is None:
            approvals = _or(self.need(e.approvals_required, f"{e.path}.approvals_required"), 1)
            expires = _or(self.need(e.expires_after_s, f"{e.path}.expires_after_s"), 1)
            distinct = e.distinct if e.distinct is not None else True
        else:
            approvals = _or(e.approvals_required, base.approvals_required)
            if approvals < base.approvals_required:
                self.bad(
                    f"{e.path}.approvals_required",
                    f"cannot require fewer approvers "
                    f"({approvals}) than the {what} ({base.approvals_required})",
                )
            expires = self.lower(
                e.expires_after_s, base.expires_after_s, f"{e.path}.expires_after_s", what
            )
            distinct = e.distinct if e.distinct is not None else base.distinct
            if base.distinct and not distinct:
                self.bad(
                    f"{e.path}.distinct",
                    f"cannot allow the same approver twice; the {what} requires distinct approvers",
                )
        self.rules[key] = ReviewRule(
            category=e.category,
            kind=e.kind,
            approvals_required=int(approvals),
            distinct=distinct,
            expires_after_s=int(expires),
        )
        self.paths[f"rule:{e.kind}:{e.category}"] = (self.source, e.path)

    # -- monitors, routes, judge ----------------------------------------------------------

    def monitor(self, e: MonitorsEntry, *, is_floor: bool) -> None:
        base = self.monitors
        if base is None:
            pvp, clp = "monitors.person_volume", "monitors.closed_loop"
            self.monitors = MonitorSettings(
                person_volume=PersonVolume(
                    window_s=_or(self.need(e.window_s, f"{pvp}.window_s"), 1),
                    review_at=_or(self.need(e.review_at, f"{pvp}.review_at"), 1),
                    block_at=_or(self.need(e.block_at, f"{pvp}.block_at"), 1),
                ),
                closed_loop=ClosedLoop(
                    effector_tools=self.need(e.effector_tools, f"{clp}.effector_tools") or (),
                    min_interval_s=_or(self.need(e.min_interval_s, f"{clp}.min_interval_s"), 0),
                    max_unattended_calls=_or(
                        self.need(e.max_unattended_calls, f"{clp}.max_unattended_calls"), 0
                    ),
                ),
                bulk_records=BulkRecords(
                    min_records=_or(
                        self.need(e.min_records, "monitors.bulk_records.min_records"), 1
                    )
                ),
            )
            return
        pv, cl, what = base.person_volume, base.closed_loop, "the floor monitor"
        pvp, clp = "monitors.person_volume", "monitors.closed_loop"
        review_at = self.lower(e.review_at, pv.review_at, f"{pvp}.review_at", what)
        block_at = self.lower(e.block_at, pv.block_at, f"{pvp}.block_at", what)
        if review_at > block_at:
            self.bad(f"{pvp}.review_at", f"must not exceed block_at ({block_at})")
        tools = cl.effector_tools
        if e.effector_tools is not None:
            dropped = [t for t in cl.effector_tools if t not in e.effector_tools]
            if dropped:
                self.bad(
                    f"{clp}.effector_tools",
                    f"cannot drop floor effector pattern(s) {', '.join(dropped)}",
                )
            tools = _extend(tools, e.effector_tools)
        self.monitors = MonitorSettings(
            person_volume=PersonVolume(
                window_s=int(self.higher(e.window_s, pv.window_s, f"{pvp}.window_s", what)),
                review_at=int(review_at),
                block_at=int(block_at),
            ),
            closed_loop=ClosedLoop(
                effector_tools=tools,
                min_interval_s=self.higher(
                    e.min_interval_s, cl.min_interval_s, f"{clp}.min_interval_s", what
                ),
                max_unattended_calls=int(
                    self.lower(
                        e.max_unattended_calls,
                        cl.max_unattended_calls,
                        f"{clp}.max_unattended_calls",
                        what,
                    )
                ),
            ),
            bulk_records=BulkRecords(
                min_records=int(
                    self.lower(
                        e.min_records,
                        base.bulk_records.min_records,
                        "monitors.bulk_records.min_records",
                        what,
                    )
                )
            ),
        )

    def route(self, e: RouteEntry, *, is_floor: bool) -> None:
        floor_default = self.floor_routes.get(DEFAULT_ROUTE)
        base = self.floor_routes.get(e.model) or self.routes.get(DEFAULT_ROUTE)
        ceiling = e.ceiling if e.ceiling is not None else (base.ceiling if base else None)
        if e.ceiling is not None:
            try:
                parse_ceiling(e.ceiling)
            except PolicyValidationError as exc:
                self.bad(f"{e.path}.ceiling", str(exc))
        route = RouteSettings(
            model=e.model,
            ceiling=ceiling,
            on_error=e.on_error or (base.on_error if base else Action.BLOCK),
            output_screening=e.output_screening if e.output_screening is not None else True,
        )
        if not is_floor:
            floor_route = self.floor_routes.get(e.model) or floor_default
            if floor_route is not None:
                self.check_route(e, route, floor_route)
        self.routes[e.model] = route

    def check_route(self, e: RouteEntry, route: RouteSettings, floor: RouteSettings) -> None:
        what = f"floor route {floor.model!r}"
        if SEVERITY[route.on_error] < SEVERITY[floor.on_error]:
            self.bad(
                f"{e.path}.on_error",
                f"cannot weaken on_error to {route.on_error!s}; the "
                f"{what} fails closed with {floor.on_error!s}",
            )
        if floor.output_screening and not route.output_screening:
            self.bad(f"{e.path}.output_screening", f"cannot turn off output screening ({what})")
        if floor.model == e.model and floor.ceiling is not None and route.ceiling != floor.ceiling:
            self.bad(f"{e.path}.ceiling", f"cannot change the ceiling of the {what}")

    def judge_settings(self, e: JudgeEntry, *, is_floor: bool) -> None:
        old = self.judge
        new = JudgeSettings(
            enabled=e.enabled if e.enabled is not None else old.enabled,
            model=e.model if e.model is not None else old.model,
            min_score=_or(e.min_score, old.min_score),
            max_score=_or(e.max_score, old.max_score),
            timeout_s=_or(e.timeout_s, old.timeout_s),
        )
        if not is_floor and old.enabled:
            if not new.enabled:
                self.bad("judge.enabled", "cannot turn off the judge the floor enables")
            if new.model != old.model or new.timeout_s != old.timeout_s:
                self.bad("judge", "cannot change the model or timeout of the floor's judge")
            if new.min_score > old.min_score or new.max_score < old.max_score:
                self.bad("judge", "may only widen the floor judge's score band")
        if new.enabled and not new.model:
            self.bad("judge.model", "required when the judge is enabled")
        if new.min_score > new.max_score:
            self.bad("judge.min_score", "must not exceed max_score")
        self.judge = new

    # -- authority ----------------------------------------------------------------------

    def authority(self, e: AuthorityEntry) -> None:
        self.purposes.update(dict.fromkeys(e.purposes))
        for path, entry in e.forbidden:
            old = self.forbidden.get(entry.purpose)
            clauses = _extend(old.clauses, entry.clauses) if old else entry.clauses
            self.forbidden[entry.purpose] = ForbiddenPurpose(purpose=entry.purpose, clauses=clauses)
            self.paths.setdefault(f"forbidden:{entry.purpose}", (self.source, path))
        for rule in e.rules:
            self.authority_rule(rule)

    def authority_rule(self, e: AuthorityRuleEntry) -> None:
        old = self.authority_rules.get(e.id)
        p = e.path
        if old is None:
            category = self.need(e.category, f"{p}.category") or ""
            types = self.need(e.allowed_types, f"{p}.allowed_types") or ()
            if e.allowed_types == ():
                self.bad(f"{p}.allowed_types", "list at least one authority type")
            self.authority_rules[e.id] = AuthorityRule(
                id=e.id,
                category=category,
                models=e.models or ("*",),
                allowed_types=types,
                missing=e.missing or Action.BLOCK,
                verify=bool(e.verify),
                min_score=e.min_score,
            )
            self.paths[f"authority_rule:{e.id}"] = (self.source, p)
            return
        what = f"floor authority rule {old.id}"
        if e.category is not None and e.category != old.category:
            self.bad(f"{p}.category", f"cannot change the category of the {what}")
        if e.models is not None and e.models != old.models:
            self.bad(f"{p}.models", f"cannot change the models of the {what}")
        types = old.allowed_types
        if e.allowed_types is not None:
            added = [t for t in e.allowed_types if t not in old.allowed_types]
            if added:
                self.bad(
                    f"{p}.allowed_types",
                    f"cannot add authority type(s) {', '.join(added)} to the {what}",
                )
            types = tuple(t for t in old.allowed_types if t in e.allowed_types)
            if not types:
                self.bad(f"{p}.allowed_types", "list at least one authority type")
        missing = e.missing or old.missing
        if SEVERITY[missing] < SEVERITY[old.missing]:
            self.bad(
                f"{p}.missing",
                f"cannot weaken missing to {missing!s}; the {what} says {old.missing!s}",
            )
        if e.verify is False and old.verify:
            self.bad(f"{p}.verify", f"cannot turn off verification required by the {what}")
        min_score = old.min_score
        if e.min_score is not None:
            if old.min_score is not None and e.min_score > old.min_score:
                self.bad(
                    f"{p}.min_score",
                    f"cannot raise min_score above {old.min_score} "
                    f"set by the {what} (may only be lowered)",
                )
            min_score = e.min_score
        self.authority_rules[e.id] = replace(
            old,
            allowed_types=types,
            missing=missing if SEVERITY[missing] >= SEVERITY[old.missing] else old.missing,
            verify=old.verify or bool(e.verify),
            min_score=min_score,
        )

    def authority_settings(self) -> AuthoritySettings:
        return AuthoritySettings(
            purposes=tuple(p for p in self.purposes if p not in self.forbidden),
            forbidden=tuple(self.forbidden.values()),
            rules=tuple(self.authority_rules.values()),
        )

    # -- the end --------------------------------------------------------------------------

    def finish(self, floor: Layer, overlay: Layer | None) -> Policy | None:
        self.check_references()
        if DEFAULT_ROUTE not in self.routes:
            self.source = floor.source
            self.bad("routes", 'a default route (model = "*") is required in the floor')
        if self.problems or self.monitors is None:
            return None
        policy = Policy(
            schema_version=SCHEMA_VERSION,
            clauses=tuple(self.clauses.values()),
            categories=tuple(self.categories.values()),
            review_rules=tuple(self.rules.values()),
            monitors=self.monitors,
            routes=tuple(self.routes.values()),
            judge=self.judge,
            authority=self.authority_settings(),
            tests=tuple(self.tests.values()),
            floor_sha256=floor.sha256,
            overlay_sha256=overlay.sha256 if overlay is not None else "",
        )
        return replace(policy, sha256=hashlib.sha256(canonical_bytes(policy)).hexdigest())

    def check_references(self) -> None:
        for c in self.categories.values():
            for i, ref in enumerate(c.clauses):
                if ref not in self.clauses:
                    self.at(f"category:{c.id}", f".clauses[{i}]", f"unknown clause {ref!r}")
        for kind, cat in self.rules:
            if cat != WILDCARD and cat not in self.categories:
                self.at(f"rule:{kind}:{cat}", ".category", f"unknown category {cat!r}")
        self.check_authority_references()
        for t in self.tests.values():
            for i, ref in enumerate(t.categories or ()):
                if ref not in self.categories:
                    self.at(f"test:{t.name}", f".categories[{i}]", f"unknown category {ref!r}")

    def check_authority_references(self) -> None:
        for f in self.forbidden.values():
            for i, ref in enumerate(f.clauses):
                if ref not in self.clauses:
                    self.at(f"forbidden:{f.purpose}", f".clauses[{i}]", f"unknown clause {ref!r}")
        for r in self.authority_rules.values():
            if r.category and r.category not in self.categories:
                self.at(f"authority_rule:{r.id}", ".category", f"unknown category {r.category!r}")

    def at(self, key: str, suffix: str, message: str) -> None:
        source, path = self.paths[key]
        self.problems.append(
            Problem(
                kind=ProblemKind.VALIDATION, source=source, key_path=path + suffix, message=message
            )
        )

    # -- helpers --------------------------------------------------------------------------

    def need(self, value: _T | None, path: str) -> _T | None:
        if value is None:
            self.bad(path, "required")
        return value

    def lower(self, new: float | None, old: float, path: str, what: str) -> float:
        if new is None:
            return old
        if new > old:
            self.bad(path, f"cannot raise {new} above {old} set by {what} (may only be lowered)")
        return new

    def higher(self, new: float | None, old: float, path: str, what: str) -> float:
        if new is None:
            return old
        if new < old:
            self.bad(path, f"cannot lower {new} below {old} set by {what} (may only be raised)")
        return new


def _or(value: _T | None, default: _T) -> _T:
    return default if value is None else value


def _extend(old: tuple[str, ...], new: Sequence[str] | None) -> tuple[str, ...]:
    if new is None:
        return old
    return old + tuple(x for x in new if x not in old)
