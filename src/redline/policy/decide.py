"""``decide``: THE one combination rule from category scores to allow / review / block.

Every path that screens anything (input, output, mid-stream, ``/v1/moderations``,
``redline screen``) calls this function; there is no second rule (STYLE.md §7.1, the
LlamaFirewall lesson). It is pure and cheap: the per-category thresholds are precomputed in
``Policy.thresholds``; the benchmark (``benchmarks/policy_decide.py``) holds it to <= 50 µs.

The rule:

1. Per category, the score is the **maximum** over all verdicts for it (so an added judge or
   detector can only escalate).
2. ``block`` if any category's score >= its ``block_threshold``; else ``review`` if any
   score >= its ``review_threshold``; else ``allow``.
3. **Authority** (when the request's :class:`~redline.domain.OversightFacts` are given):
   a declared purpose the policy forbids blocks, citing the forbidden entry's clauses; a
   declared purpose the policy does not define blocks; a cited authority the register did not
   confirm blocks; each authority rule that applies (the route matches, and the request
   targets a U.S. person or the rule's category scores at least its ``min_score``) yields its
   ``missing`` action under its category when no confirmed authority of an allowed type is
   cited, or ``review`` when one is and the rule says ``verify``. These findings join the
   score findings: the action is the most severe of all, and the categories are those of
   that action. A confirmed authority never lowers a score: it is what a rule requires, on
   top of screening.
4. **Fail closed**: a classifier failure (``errors``), a verdict for a category the policy
   does not know (a version skew between safety stack and policy: we cannot tell whether its
   score should block), or a score that is not a number in [0, 1] (NaN would compare false
   and silently allow) raises the action to at least the route's ``on_error`` (``block`` by
   default) and is named in ``reason``.

The :class:`~redline.domain.Decision` names the categories that drove a non-allow action (in
policy order), the union of their clauses (in policy order), every valid score, the evidence
of the driving verdicts (of all verdicts for ``allow``), and ``policy.sha256``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from redline.domain import Action, Decision, OversightFacts, Verdict
from redline.policy.model import SEVERITY, Policy, RouteSettings, Thresholds

__all__ = ["decide"]


def decide(
    policy: Policy,
    verdicts: Sequence[Verdict],
    *,
    errors: Sequence[str] = (),
    route: RouteSettings | None = None,
    oversight: OversightFacts | None = None,
) -> Decision:
    """Combine verdicts into one decision under ``policy``.

    Args:
        policy: the effective policy (read once per request from the holder).
        verdicts: every verdict the safety stack produced for this request or response.
        errors: descriptions of classifier failures (no content, just what failed).
        route: the route of the request; its ``on_error`` applies to failures. Defaults to
            the policy's default route.
        oversight: the request's declared purpose and authority facts; ``None`` for
            responses and for screening without a request (``/v1/moderations``).

    Returns:
        The decision; never raises for any input.
    """
    table = policy.thresholds
    failures = list(errors)
    scores = _max_scores(verdicts, table, failures)

    blocked: list[str] = []
    held: list[str] = []
    for category, row in table.items():  # policy order, so no sort is needed
        score = scores.get(category)
        if score is None:
            continue
        if score >= row.block:
            blocked.append(category)
        elif score >= row.review:
            held.append(category)

    notes: dict[Action, list[str]] = {Action.BLOCK: [], Action.REVIEW: []}
    extra_clauses: list[str] = []
    if oversight is not None:
        _authority(policy, oversight, scores, blocked, held, notes, extra_clauses)

    action, drivers = _action(blocked, held, notes)
    reason_parts = [  # authority findings may name a category whose score did not cross
        f"{c} {scores[c]:.2f} >= {_limit(table[c], action):.2f}"
        for c in drivers
        if c in scores and scores[c] >= _limit(table[c], action)
    ]
    reason = "; ".join(dict.fromkeys([*reason_parts, *notes.get(action, ())]))
    if failures:
        fail = (route or policy.default_route).on_error
        if SEVERITY[fail] > SEVERITY[action]:
            action = fail
        reason = "; ".join([*([reason] if reason else []), "fail closed: " + "; ".join(failures)])

    wanted = set(drivers) if drivers else None
    evidence: dict[str, None] = {}
    for v in verdicts:
        if wanted is None or v.category in wanted:
            evidence.update(dict.fromkeys(v.evidence))
    clauses: tuple[str, ...] = ()
    if drivers or extra_clauses:
        cited = {cid for c in drivers for cid in table[c].clauses}
        if action is Action.BLOCK:
            cited.update(extra_clauses)
        clauses = tuple(c.id for c in policy.clauses if c.id in cited)
    return Decision(
        action=action,
        categories=tuple(drivers),
        clauses=clauses,
        scores=scores,
        evidence=tuple(evidence),
        policy_sha256=policy.sha256,
        reason=f"{action.value}: {reason}" if reason else "",
        notes=tuple(dict.fromkeys(notes.get(action, ()))),
    )


def _action(
    blocked: list[str], held: list[str], notes: Mapping[Action, list[str]]
) -> tuple[Action, list[str]]:
    """The most severe finding and the categories that drove it."""
    if blocked or notes[Action.BLOCK]:
        return Action.BLOCK, blocked
    if held or notes[Action.REVIEW]:
        return Action.REVIEW, held
    return Action.ALLOW, []


def _authority(
    policy: Policy,
    facts: OversightFacts,
    scores: Mapping[str, float],
    blocked: list[str],
    held: list[str],
    notes: dict[Action, list[str]],
    clauses: list[str],
) -> None:
    """Add the authority findings (see the module docstring, step 3) in place."""
    settings = policy.authority
    purpose = facts.declared.purpose
    if purpose:
        forbidden = settings.forbidden_purpose(purpose)
        if forbidden is not None:
            notes[Action.BLOCK].append(f"purpose {purpose!r} is never allowed")
            clauses.extend(forbidden.clauses)
        elif purpose not in settings.purposes:
            notes[Action.BLOCK].append(f"purpose {purpose!r} is not defined by the policy")
    if facts.problems:
        notes[Action.BLOCK].append("authority not confirmed: " + "; ".join(facts.problems))
    for rule in settings.rules:
        if not rule.applies_to(facts.model):
            continue
        score = scores.get(rule.category)
        scored = rule.min_score is not None and score is not None and score >= rule.min_score
        if not (facts.us_person or scored):
            continue
        if facts.valid_types.isdisjoint(rule.allowed_types):
            action = rule.missing
            note = (
                f"authority rule {rule.id}: a confirmed authority of type "
                f"{' | '.join(rule.allowed_types)} is required"
            )
        elif rule.verify:
            action = Action.REVIEW
            note = f"authority rule {rule.id}: the cited authority is held for verification"
        else:
            continue
        target = blocked if action is Action.BLOCK else held
        if rule.category not in target:
            target.append(rule.category)
        notes[action].append(note)


def _max_scores(
    verdicts: Sequence[Verdict], table: Mapping[str, Thresholds], failures: list[str]
) -> dict[str, float]:
    scores: dict[str, float] = {}
    for v in verdicts:
        score = v.score
        if not 0.0 <= score <= 1.0:  # also catches NaN
            failures.append(f"{v.source}: invalid score {score!r} for {v.category!r}")
        elif v.category not in table:
            failures.append(f"{v.source}: unknown category {v.category!r}")
        elif score > scores.get(v.category, -1.0):
            scores[v.category] = score
    return scores


def _limit(row: Thresholds, action: Action) -> float:
    return row.block if action is Action.BLOCK else row.review
