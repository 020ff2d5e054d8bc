"""Policy as code: the provider floor, the operator overlay, signing, ``decide``, reload.

Public API (scripted against by the gateway and by operators):

* :func:`load_policy` / :func:`load_builtin_floor` -> :class:`Policy` (strict TOML, size
  bound, floor signature check, overlay may only tighten: :mod:`redline.policy.layers`);
* :func:`decide` - the one combination rule from verdicts to a decision;
* :class:`PolicyHolder` - atomic hot reload;
* :func:`sign` / :func:`verify` / :func:`generate_keypair` - Ed25519 over exact floor bytes;
* :func:`run_policy_tests` - a policy's own test cases against an injected screen function.

Spec: DOMAIN.md §1.3 (clauses) and §5 (red-line definitions), STYLE.md §7.5.
"""

from __future__ import annotations

from redline.policy.cases import PolicyTestResult, run_policy_tests
from redline.policy.ceiling import effective_ceiling, parse_ceiling
from redline.policy.decide import decide
from redline.policy.document import to_document, to_toml
from redline.policy.holder import PolicyHolder, ReloadResult
from redline.policy.load import lint, load_builtin_floor, load_policy
from redline.policy.model import (
    Category,
    Clause,
    JudgeSettings,
    MonitorSettings,
    Policy,
    PolicyTest,
    ReviewRule,
    RouteSettings,
    RuleKind,
)
from redline.policy.parse import Problem
from redline.policy.signing import generate_keypair, sign, verify

__all__ = [
    "Category",
    "Clause",
    "JudgeSettings",
    "MonitorSettings",
    "Policy",
    "PolicyHolder",
    "PolicyTest",
    "PolicyTestResult",
    "Problem",
    "ReloadResult",
    "ReviewRule",
    "RouteSettings",
    "RuleKind",
    "decide",
    "effective_ceiling",
    "generate_keypair",
    "lint",
    "load_builtin_floor",
    "load_policy",
    "parse_ceiling",
    "run_policy_tests",
    "sign",
    "to_document",
    "to_toml",
    "verify",
]
