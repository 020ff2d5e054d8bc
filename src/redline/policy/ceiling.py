"""A policy route's ``ceiling``: the highest label the policy lets a route carry.

Written either as an accreditation (``IL2``, ``IL4``, ``IL5``, ``IL6``, ``TS/SCI``) or as a
marking (``"S"``, ``"TS//SI"``, ``"U"``). The route's effective ceiling is the *meet* of the
accreditation the gateway's configuration gives it and the policy's ceiling: a policy can
only lower what a route may carry. A ceiling that is neither is a policy error (lint).
"""

from __future__ import annotations

from redline.access import RouteCeiling, route_ceiling
from redline.errors import ConfigError, MarkingError, PolicyValidationError
from redline.markings import parse_marking

__all__ = ["effective_ceiling", "parse_ceiling"]


def parse_ceiling(text: str) -> RouteCeiling:
    """The ceiling a policy route declares.

    Raises:
        PolicyValidationError: neither an accreditation nor a marking.
    """
    try:
        return route_ceiling(text)
    except ConfigError:
        pass
    try:
        label = parse_marking(text)
    except MarkingError as exc:
        raise PolicyValidationError(
            f"ceiling {text!r} is neither an accreditation (IL2, IL4, IL5, IL6, TS/SCI) "
            f"nor a marking: {exc}"
        ) from None
    systems = frozenset(t.split("-", 1)[0].split(" ", 1)[0] for t in label.sci)
    return RouteCeiling(
        name=text,
        max_rank=label.rank,
        cui=label.cui or label.rank > 0,
        sci_systems=systems,
        sap=frozenset(label.sap),
    )


def effective_ceiling(configured: RouteCeiling, declared: str | None) -> RouteCeiling:
    """The meet of a route's configured accreditation and its policy ceiling."""
    if declared is None:
        return configured
    policy = parse_ceiling(declared)
    return RouteCeiling(
        name=f"{configured.name} within policy {policy.name}",
        max_rank=min(configured.max_rank, policy.max_rank),
        cui=configured.cui and policy.cui,
        sci_systems=configured.sci_systems & policy.sci_systems,
        sap=configured.sap & policy.sap,
    )
