"""Access control: §3.2 examples, denial kinds, route ceilings (§3.4), dominance laws."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from redline.access import (
    IMPACT_LEVELS,
    AccessResult,
    Clearance,
    Missing,
    RouteCeiling,
    check_access,
    clearance_label,
    dominates,
    expand_compartments,
    route_ceiling,
)
from redline.domain import Principal
from redline.errors import AccessDenied, ConfigError
from redline.markings import Label, join, parse_marking

USER_A = Principal(
    id="a",
    tenant="t",
    clearance="TS",
    read_ins=frozenset({"SI", "TK"}),
    nationality="USA",
    need_to_know=frozenset({"OPS-A"}),
)
USER_C = Principal(id="c", tenant="t", clearance="S", nationality="GBR")
TS_SCI = route_ceiling("TS/SCI", sci_systems=["SI", "TK", "HCS"], sap_programs=["SAR-BP"])


def check(principal: Principal, marking: str, ceiling: RouteCeiling = TS_SCI) -> AccessResult:
    return check_access(principal, parse_marking(marking), ceiling)


# DOMAIN.md §3.2, users A and C.
@pytest.mark.parametrize(
    ("principal", "marking", "missing"),
    [
        (USER_A, "TOP SECRET//SI/TK//NOFORN", ()),
        (USER_A, "TOP SECRET//HCS/SI//ORCON/NOFORN", (Missing.COMPARTMENT,)),
        (USER_A, "TOP SECRET//SI-G ABCD//ORCON/NOFORN", (Missing.COMPARTMENT,)),
        (USER_A, "SECRET//SAR-BP//NOFORN", (Missing.COMPARTMENT,)),
        (USER_C, "SECRET//REL TO USA, GBR", ()),
        (USER_C, "SECRET//NOFORN", (Missing.RELEASABILITY,)),
        (USER_C, "SECRET//REL TO USA, FVEY", ()),
        (USER_C, "SECRET//REL TO USA, CAN", (Missing.RELEASABILITY,)),
        (USER_C, "SECRET//RELIDO", (Missing.RELEASABILITY,)),
        (USER_C, "SECRET", (Missing.RELEASABILITY,)),  # no FD&R: fail closed (R8)
        (USER_C, "UNCLASSIFIED", ()),
        (USER_C, "CUI//NOFORN", (Missing.RELEASABILITY,)),
        (USER_C, "TOP SECRET//REL TO USA, GBR", (Missing.LEVEL,)),
        (
            USER_C,
            "TOP SECRET//SI//NOFORN",
            (Missing.LEVEL, Missing.COMPARTMENT, Missing.RELEASABILITY),
        ),
    ],
)
def test_domain_examples(principal: Principal, marking: str, missing: tuple[Missing, ...]) -> None:
    result = check(principal, marking)
    assert result.missing == missing
    assert result.allowed is (not missing)


def test_denial_message_never_names_compartments() -> None:
    result = check(USER_A, "TOP SECRET//HCS-P/SI-G ABCD//ORCON/NOFORN")
    assert result.message == "access denied: missing compartment"
    for secret in ("HCS", "ABCD", "SI-G"):
        assert secret not in result.message
    with pytest.raises(AccessDenied) as info:
        result.raise_if_denied()
    assert str(info.value) == "access denied: missing compartment"


def test_allowed_result_does_not_raise() -> None:
    result = check(USER_A, "TOP SECRET//SI//NOFORN")
    result.raise_if_denied()
    assert result.message == "access allowed"


def test_read_in_to_sub_compartment_implies_parents_not_siblings() -> None:
    reader = Principal(id="r", tenant="t", clearance="TS", read_ins=frozenset({"SI-G ABCD"}))
    assert check(reader, "(TS//SI//NF)").allowed
    assert check(reader, "(TS//SI-G//OC/NF)").allowed
    assert check(reader, "(TS//SI-G ABCD//OC/NF)").allowed
    assert check(reader, "(TS//SI-G EFGH//OC/NF)").missing == (Missing.COMPARTMENT,)
    assert expand_compartments({"SI-G ABCD"}) == {"SI", "SI-G", "SI-G ABCD"}
    assert expand_compartments({"SI-ECRU-G"}) == {"SI", "SI-ECRU", "SI-G"}


@pytest.mark.parametrize(
    ("ceiling", "marking", "admitted"),
    [
        ("IL2", "UNCLASSIFIED", True),
        ("IL2", "CUI", False),
        ("IL4", "CUI//SP-PRVCY", True),
        ("IL5", "CUI", True),
        ("IL5", "CONFIDENTIAL//NOFORN", False),
        ("IL6", "SECRET//NOFORN", True),
        ("IL6", "(S//NF)", True),
        ("IL6", "TOP SECRET//NOFORN", False),
        ("IL6", "SECRET//SI//NOFORN", False),  # IL6 => refuse SCI
        ("IL6", "SECRET//SAR-BP//NOFORN", False),
        ("TS/SCI", "TOP SECRET//SI/TK//NOFORN", True),
        ("TS/SCI", "TOP SECRET//HCS-P//NOFORN", True),
        ("TS/SCI", "TOP SECRET//KDK//NOFORN", False),
        ("TS/SCI", "TOP SECRET//SAR-BP//NOFORN", True),
        ("TS/SCI", "TOP SECRET//SAR-TB//NOFORN", False),
    ],
)
def test_route_ceilings(ceiling: str, marking: str, admitted: bool) -> None:
    route = TS_SCI if ceiling == "TS/SCI" else route_ceiling(ceiling)
    assert route.admits(parse_marking(marking)) is admitted
    cleared = Principal(
        id="x",
        tenant="t",
        clearance="TS",
        read_ins=frozenset({"SI", "TK", "HCS-P", "KDK", "SAR-BP", "SAR-TB"}),
    )
    result = check(cleared, marking, route)
    assert result.missing == (() if admitted else (Missing.ROUTE_CEILING,))


def test_route_ceiling_names() -> None:
    assert route_ceiling("il6") == IMPACT_LEVELS["IL6"]
    assert route_ceiling("ts-sci", sci_systems=["si"]).sci_systems == {"SI"}
    assert route_ceiling("IL6", sap_programs=["SAR-BP"]).sap == {"SAR-BP"}
    for bad in ("IL3", "IL1", "SECRET", ""):
        with pytest.raises(ConfigError):
            route_ceiling(bad)
    with pytest.raises(ConfigError, match="SCI"):
        route_ceiling("IL6", sci_systems=["SI"])
    with pytest.raises(ConfigError, match="special access"):
        route_ceiling("IL4", sap_programs=["SAR-BP"])


def test_clearance_label() -> None:
    label = clearance_label(
        Principal(
            id="p",
            tenant="t",
            clearance="ts/sci",
            read_ins=frozenset({"si-g abcd", "SAR-BP"}),
            nationality="gbr",
        )
    )
    assert label == Clearance(
        rank=3,
        sci=frozenset({"SI", "SI-G", "SI-G ABCD"}),
        sap=frozenset({"SAR-BP"}),
        releasable_to=frozenset({"GBR"}),
    )
    with pytest.raises(ConfigError, match="unknown clearance"):
        clearance_label(Principal(id="p", tenant="t", clearance="COSMIC"))


def test_dominates_between_labels_and_clearances() -> None:
    a = clearance_label(USER_A)
    assert dominates(a, parse_marking("TOP SECRET//SI/TK//NOFORN"))
    assert not dominates(a, parse_marking("TOP SECRET//SI-G//ORCON/NOFORN"))
    noforn = parse_marking("SECRET//NOFORN")
    rel = parse_marking("SECRET//REL TO USA, GBR")
    assert dominates(noforn, rel)  # less releasable is higher
    assert not dominates(rel, noforn)
    assert dominates(rel, parse_marking("(U)"))


_MARKS = [
    "(U)",
    "(CUI)",
    "(C//NF)",
    "(S//REL TO USA, GBR)",
    "(S//REL TO USA, FVEY)",
    "(S//RELIDO)",
    "(TS//SI//NF)",
    "(TS//SI-G ABCD//OC/NF)",
    "(TS//TK//REL TO USA, ACGU)",
    "(S//SAR-BP//NF)",
]
bl_labels = st.lists(st.sampled_from(_MARKS), min_size=1, max_size=3).map(
    lambda ms: join(*(parse_marking(m) for m in ms))
)


@settings(max_examples=150, deadline=None)
@given(bl_labels, bl_labels, bl_labels)
def test_bell_lapadula_dominance_is_a_preorder_refined_by_the_lattice(
    a: Label, b: Label, c: Label
) -> None:
    assert dominates(a, a)
    if dominates(a, b) and dominates(b, c):
        assert dominates(a, c)
    # The lattice order implies Bell-LaPadula dominance, and a join dominates its parts.
    if a.dominates(b):
        assert dominates(a, b)
    assert dominates(a.join(b), a)
    assert dominates(a.join(b), b)
