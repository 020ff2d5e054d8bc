"""Check cited authorities against the register: the facts ``policy.decide`` combines.

A cited reference is *confirmed* when the register has it, it is in force at the request
time (after ``not_before``, before ``expires``, not revoked) and, taken together with the
other confirmed references of the request, its scope covers every U.S.-person identifier
the request names (each identifier's digest is among the digests of the cited authorities'
selectors). Anything else is a *problem*, named with the reference as given and the reason;
problems never carry request content.

This module decides nothing: it produces :class:`~redline.domain.OversightFacts`, and
``decide()`` turns them into allow / review / block with every other verdict.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from redline.authority.register import Register
from redline.domain import Declared, OversightFacts

__all__ = ["check_authorities"]


def check_authorities(
    declared: Declared,
    register: Register | None,
    *,
    model: str,
    now: datetime,
    us_person: bool,
    persons: frozenset[str],
    cover: Callable[[str], frozenset[str]],
) -> OversightFacts:
    """The oversight facts of one request.

    Args:
        declared: the request's declared purpose, authorities and case.
        register: the register in force; ``None`` when none is configured (then every cited
            authority is unknown).
        model: the model the request asked for.
        now: the request time (UTC).
        us_person: whether the request targets a U.S. person.
        persons: digests of the U.S.-person identifiers the request names.
        cover: the digests of the identifiers in one register selector.
    """
    valid = []
    problems: list[str] = []
    for ref in declared.authorities:
        entry = register.get(ref) if register is not None else None
        if entry is None:
            problems.append(f"{ref}: unknown (not in the authority register)")
            continue
        status = entry.status_at(now)
        if status != "in force":
            problems.append(f"{ref}: {status}")
            continue
        valid.append(entry)
    if valid and persons:
        covered = frozenset().union(*(cover(s) for a in valid for s in a.selectors))
        outside = len(persons - covered)
        if outside:
            cited = ", ".join(str(a.ref) for a in valid)
            problems.append(
                f"{cited}: out of scope ({outside} U.S.-person identifier(s) in the request "
                "are not among the selectors of the cited authorities)"
            )
            valid = []
    return OversightFacts(
        declared=declared,
        model=model,
        us_person=us_person,
        valid_types=frozenset(a.type for a in valid),
        problems=tuple(problems),
    )
