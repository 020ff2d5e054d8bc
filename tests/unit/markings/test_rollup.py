"""The worked roll-up examples of DOMAIN.md §2.5, and rendering details (R2, R7, R11, R12)."""

from __future__ import annotations

import pytest

from redline.markings import MISSING_FDR, UNCLASSIFIED, Level, join, parse_marking

# (example number, portions, banner) exactly as DOMAIN.md §2.5.
WORKED_EXAMPLES = [
    (1, ["(U)", "(C//NF)", "(S//NF)"], "SECRET//NOFORN"),
    (2, ["(TS//SI//NF)", "(S//TK//NF)"], "TOP SECRET//SI/TK//NOFORN"),
    (
        3,
        ["(S//REL TO USA, GBR, AUS)", "(S//REL TO USA, AUS, CAN, GBR, NZL)"],
        "SECRET//REL TO USA, AUS, GBR",
    ),
    (4, ["(S//REL TO USA, FVEY)", "(C//REL TO USA, GBR)"], "SECRET//REL TO USA, GBR"),
    (5, ["(S//REL TO USA, AUS)", "(S//REL TO USA, CAN)"], "SECRET//NOFORN"),
    (6, ["(S//REL TO USA, GBR)", "(C//NF)"], "SECRET//NOFORN"),
    (7, ["(TS//SI-G ABCD//OC/NF)", "(S//NF)"], "TOP SECRET//SI-G ABCD//ORCON/NOFORN"),
    (8, ["(TS//SI//REL TO USA, FVEY)", "(S//HCS//OC/NF)"], "TOP SECRET//HCS/SI//ORCON/NOFORN"),
    (9, ["(U)", "(CUI)"], "CUI"),
    (10, ["(S//NF)", "(CUI)"], "SECRET//NOFORN"),
    (11, ["(S//REL TO USA, GBR)", "(U)"], "SECRET//REL TO USA, GBR"),
    (12, ["(S//REL TO USA, GBR/RELIDO)", "(S//RELIDO)"], "SECRET//RELIDO"),
    (13, ["(TS//SAR-BP//NF)", "(S//NF)"], "TOP SECRET//SAR-BP//NOFORN"),
    (14, ["(S//REL TO USA, GBR)", "(S)"], "SECRET//NOFORN"),
    (
        15,
        ["(C//PR/REL TO USA, CAN)", "(S//OC/REL TO USA, CAN, GBR)"],
        "SECRET//ORCON/PROPIN/REL TO USA, CAN",
    ),
    (
        16,
        ["(//GBR S//REL TO USA, GBR)", "(S//REL TO USA, GBR)"],
        "SECRET//FGI GBR//REL TO USA, GBR",
    ),
    (
        17,
        ["(TS//SI/TK//REL TO USA, AUS, CAN, GBR, NZL)", "(TS//TK//REL TO USA, ACGU)"],
        "TOP SECRET//SI/TK//REL TO USA, AUS, CAN, GBR",
    ),
]


@pytest.mark.parametrize(
    ("number", "portions", "banner"), WORKED_EXAMPLES, ids=[f"ex{n}" for n, _, _ in WORKED_EXAMPLES]
)
def test_worked_example(number: int, portions: list[str], banner: str) -> None:
    labels = [parse_marking(p) for p in portions]
    assert join(*labels).banner() == banner
    # Order does not matter, and the banner is itself a valid marking with the same banner.
    assert join(*reversed(labels)).banner() == banner
    assert parse_marking(banner).banner() == banner


def test_example_14_flags_the_missing_fdr_defect() -> None:
    label = join(parse_marking("(S//REL TO USA, GBR)"), parse_marking("(S)"))
    assert label.defects == {MISSING_FDR}
    assert label.releasable_to == frozenset({"USA"})


def test_example_12_relido_is_not_releasable_to_foreigners() -> None:
    label = join(parse_marking("(S//REL TO USA, GBR/RELIDO)"), parse_marking("(S//RELIDO)"))
    assert label.releasable_to == frozenset({"USA"})
    assert not label.defects


def test_join_of_nothing_is_unclassified() -> None:
    assert join() == UNCLASSIFIED
    assert UNCLASSIFIED.banner() == "UNCLASSIFIED"
    assert UNCLASSIFIED.portion() == "(U)"
    assert UNCLASSIFIED.releasable_to is None


@pytest.mark.parametrize(
    ("portions", "banner", "portion"),
    [
        (["(S//REL TO USA, FVEY)"], "SECRET//REL TO USA, FVEY", "(S//REL TO USA, FVEY)"),
        (["(S//REL TO USA, GBR, FVEY)"], "SECRET//REL TO USA, FVEY", "(S//REL TO USA, FVEY)"),
        (
            ["(TS//SI-G ABCD//OC/NF)", "(TS//SI-G EFGH/TK//OC/NF)"],
            "TOP SECRET//SI-G ABCD EFGH/TK//ORCON/NOFORN",
            "(TS//SI-G ABCD EFGH/TK//OC/NF)",
        ),
        (["(TS//SI//NF)", "(TS//SI-G//OC/NF)"], "TOP SECRET//SI-G//ORCON/NOFORN", None),
        (["(U//FOUO)", "(S//NF)"], "SECRET//NOFORN", "(S//NF)"),
        (["(U//FOUO)"], "UNCLASSIFIED//FOUO", "(U//FOUO)"),
        (["(U//FOUO)", "(CUI)"], "CUI", "(CUI)"),
        (["(CUI//SP-PRVCY//NF)", "(CUI//LEI)"], "CUI//SP-PRVCY/LEI//NOFORN", None),
        (["(CUI//FED ONLY)"], "CUI//FED ONLY", None),
        (["(S//NF//ND)", "(S//NF//XD)"], "SECRET//NOFORN//NODIS", "(S//NF//ND)"),
        (["(U//SBU NOFORN)"], "UNCLASSIFIED//SBU NOFORN", "(U//SBU-NF)"),
        (["(U//SBU NOFORN)", "(S//REL TO USA, GBR)"], "SECRET//NOFORN//SBU NOFORN", None),
        (["(//FGI S//NF)", "(//GBR C//NF)"], "SECRET//FGI//NOFORN", "(S//FGI//NF)"),
        (["(//DEU S//NF)", "(//GBR C//NF)"], "SECRET//FGI DEU GBR//NOFORN", None),
        (["(S//REL TO USA, GBR)", "(S//REL TO USA, AUS/RELIDO)"], "SECRET//NOFORN", None),
        (["(U//REL TO USA, GBR)", "(U)"], "UNCLASSIFIED//REL TO USA, GBR", None),
        (
            ["(S//REL TO USA, GBR/DISPLAY ONLY AFG, IRQ)", "(S//REL TO USA, GBR/DISPLAYONLY IRQ)"],
            "SECRET//REL TO USA, GBR/DISPLAY ONLY IRQ",
            None,
        ),
        (["(TS//SAR-TB//WAIVED//NF)"], "TOP SECRET//SAR-TB//WAIVED//NOFORN", None),
        (
            ["(TS//SAR-TB//WAIVED//NF)", "(S//SAR-XY//NF)"],
            "TOP SECRET//SAR-TB/SAR-XY//NOFORN",
            None,
        ),
    ],
)
def test_rendering(portions: list[str], banner: str, portion: str | None) -> None:
    label = join(*(parse_marking(p) for p in portions))
    assert label.banner() == banner
    if portion is not None:
        assert label.portion() == portion
    assert parse_marking(label.banner()).banner() == banner


def test_intersection_to_usa_stays_noforn_when_a_later_portion_has_relido_only() -> None:
    # R7 extended fail-closed: once REL TO lists have intersected to USA alone, no later
    # portion can make the roll-up releasable again.
    label = join(
        parse_marking("(S//REL TO USA, AUS/RELIDO)"),
        parse_marking("(S//REL TO USA, CAN/RELIDO)"),
        parse_marking("(S//RELIDO)"),
    )
    assert label.banner() == "SECRET//NOFORN"


@pytest.mark.parametrize(
    ("marking", "releasable"),
    [
        ("(U)", None),
        ("(CUI)", None),
        ("(CUI//NOCON)", {"USA"}),
        ("(U//SBU-NF)", {"USA"}),
        ("(S//NF)", {"USA"}),
        ("(S//RELIDO)", {"USA"}),
        ("(S)", {"USA"}),
        ("(S//REL TO USA, TEYE)", {"USA", "AUS", "GBR"}),
        ("(S//REL TO USA, GBR/DISPLAY ONLY AFG)", {"USA", "GBR"}),
        ("(S//DISPLAY ONLY AFG)", {"USA"}),
    ],
)
def test_releasable_to(marking: str, releasable: set[str] | None) -> None:
    got = parse_marking(marking).releasable_to
    assert got == (None if releasable is None else frozenset(releasable))


def test_unclassified_relido_portion_constrains_rel_to() -> None:
    # Found by hypothesis: an unclassified RELIDO-only portion must not let another
    # portion's REL TO list widen releasability.
    label = join(parse_marking("(U//REL TO USA, AUS)"), parse_marking("(U//RELIDO)"))
    assert label.banner() == "UNCLASSIFIED//RELIDO"
    assert label.releasable_to == frozenset({"USA"})


def test_nato_membership_comes_from_the_register() -> None:
    got = parse_marking("(U//REL TO USA, NATO)").releasable_to
    assert got is not None
    assert {"USA", "GBR", "SWE", "TUR"} <= got
    assert "AUS" not in got


def test_level_and_json_view() -> None:
    label = parse_marking("TOP SECRET//SI/TK//REL TO USA, FVEY")
    assert label.level is Level.TS
    assert label.rank == 3
    assert label.sci_systems == {"SI", "TK"}
    doc = label.to_json()
    assert doc["banner"] == "TOP SECRET//SI/TK//REL TO USA, FVEY"
    assert doc["level"] == "TS"
    assert doc["rel"] == {
        "countries": ["AUS", "CAN", "GBR", "NZL", "USA"],
        "tetragraphs": ["FVEY"],
    }
    assert doc["releasable_to"] == ["AUS", "CAN", "GBR", "NZL", "USA"]
