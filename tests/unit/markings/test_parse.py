"""The parser: public example lines, the normalisation rule, rejections, and a fuzz test."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from redline.errors import GatewayError, MarkingError
from redline.markings import MAX_MARKING_CHARS, Label, Level, normalise, parse_marking

# Public examples of valid lines (DOMAIN.md §2.2) -> the banner they render to.
PUBLIC_EXAMPLES = [
    ("TOP SECRET//SI/TK//RELIDO", "TOP SECRET//SI/TK//RELIDO"),
    ("SECRET//FGI", "SECRET//FGI//NOFORN"),  # no FD&R: R8, read as NOFORN
    ("TOP SECRET//SPECIAL ACCESS REQUIRED-BUTTERED POPCORN", "TOP SECRET//SAR-BP//NOFORN"),
    ("(S//REL TO USA, GBR/DISPLAY ONLY AFG)", "SECRET//REL TO USA, GBR/DISPLAY ONLY AFG"),
    ("(TS//SAR-TB//WAIVED)", "TOP SECRET//SAR-TB//WAIVED//NOFORN"),
    ("(TS//SI-G//OC/NF)", "TOP SECRET//SI-G//ORCON/NOFORN"),
    ("(S//REL TO USA, GBR)", "SECRET//REL TO USA, GBR"),
    ("(//GBR S//REL TO USA, GBR)", "SECRET//FGI GBR//REL TO USA, GBR"),
    ("CUI//SP-PRVCY/LEI//NOFORN/FED ONLY", "CUI//SP-PRVCY/LEI//NOFORN/FED ONLY"),
    ("UNCLASSIFIED//FOUO", "UNCLASSIFIED//FOUO"),
    ("(TS//HCS-P//OC/NF)", "TOP SECRET//HCS-P//ORCON/NOFORN"),
    ("(TS//RSV-XYZ//NF)", "TOP SECRET//RSV-XYZ//NOFORN"),
    ("(S//IMC/NF)", "SECRET//IMCON/NOFORN"),
    ("(S//RS/NF/DSEN/FISA)", "SECRET//RSEN/NOFORN/DSEN/FISA"),
    ("(C//NF//LIMDIS/SSI)", "CONFIDENTIAL//NOFORN//LIMDIS/SSI"),
]


@pytest.mark.parametrize(("text", "banner"), PUBLIC_EXAMPLES)
def test_public_examples(text: str, banner: str) -> None:
    assert parse_marking(text).banner() == banner


@pytest.mark.parametrize(
    "variant",
    [
        "SECRET//REL TO USA, GBR",
        "secret//rel to usa, gbr",
        "Secret // Rel To USA,GBR",
        "  SECRET//REL TO USA ,  GBR  ",
        "S//REL TO USA, GBR",
        "(S//REL TO USA, GBR)",
        "( s // rel to usa, gbr )",
        "SECRET//REL TO USA,\nGBR",
        "SECRET//\r\n REL TO\tUSA, GBR",
        "SECRET / / REL TO GBR, USA",  # list order inside REL TO is free; the renderer fixes it
    ],
)
def test_normalisation_variants_parse_to_the_same_label(variant: str) -> None:
    assert parse_marking(variant) == parse_marking("SECRET//REL TO USA, GBR")


def test_normalise_rule() -> None:
    assert normalise(" ts // si - g  abcd /tk //oc/ nf ") == "TS//SI-G ABCD/TK//OC/NF"
    assert normalise("(s//rel to usa,gbr,\n aus)") == "(S//REL TO USA, GBR, AUS)"


# (marking, offending token, rule) - every illegal combination of DOMAIN.md §2.3.
REJECTED = [
    ("S//NF/REL TO USA, GBR", "NOFORN", "ISM-ID-00033"),
    ("(C//NF/RELIDO)", "NOFORN", "ISM-ID-00169"),
    ("(S//NF/DISPLAY ONLY AFG)", "NOFORN", "ISM-ID-00169"),
    ("SECRET//BOGUS", "BOGUS", "unknown tokens are rejected (ISM-ID-00125)"),
    ("(S//REL TO)", "REL TO", "ISM-ID-00031"),
    ("(S//REL TO USA)", "REL TO USA", "ISM-ID-00319"),
    ("(S//REL TO GBR, AUS)", "REL TO GBR, AUS", "ISM-ID-00214"),
    ("(S//REL TO USA, XXX)", "XXX", "CVEnumISMRelTo"),
    ("(S//REL TO USA, GBR, GBR)", "REL TO USA, GBR, GBR", "each country once"),
    ("(S//DISPLAY ONLY)", "DISPLAY ONLY", "ISM-ID-00213"),
    ("(C//RS/NF)", "RS", "ISM-ID-00164"),
    ("(S//FOUO)", "FOUO", "ISM-ID-00030"),
    ("(U//OC)", "OC", "ISM-ID-00028"),
    ("(C//IMC/NF)", "IMC", "ISM-ID-00107"),
    ("(S//SI-G//OC/NF)", "SI-G", "ISM-ID-00044"),
    ("(TS//SI-G//NF)", "SI-G", "ISM-ID-00045"),
    ("(U//SI)", "SI", "ISM-ID-00043"),
    ("(C//TK//NF)", "TK", "ISM-ID-00047"),
    ("(TS//HCS//OC)", "HCS", "ISM-ID-00049"),
    ("(TS//KDK//REL TO USA, GBR)", "KDK", "ISM-ID-00123"),
    ("(S//RSV//NF)", "RSV", "RSV needs S and a compartment"),
    ("(TS//SI-ZZZ//NF)", "SI-ZZZ", "SCI register"),
    ("(S//ND)", "NODIS", "ISM-ID-00313"),
    ("(S//XD)", "EXDIS", "ISM-ID-00314"),
    ("(S//NF//ND/XD)", "EXDIS", "ISM-ID-00038"),
    ("(//GBR S//RELIDO)", "RELIDO", "ISM-ID-00233"),
    ("(S//FGI DEU//RELIDO)", "RELIDO", "ISM-ID-00233"),
    ("(U//SAR-BP)", "SAR", "ISM SAP rules"),
    ("(S//WAIVED//NF)", "WAIVED", "SAR-<ID>//WAIVED (§2.2)"),
    ("(S//NF//SI)", "SI", "category order LEVEL//SCI//SAP//FGI//DISSEM//NON-IC (DOMAIN.md §2.2)"),
    ("(S//NF/SI)", "NF/SI", "one category per //-segment (§2.2)"),
    ("(S//NF/NOFORN)", "NOFORN", "each token at most once"),
    ("(S//NF/NF)", "NF", "each token at most once"),
    ("(S////NF)", "//", "DOMAIN.md §2.2 grammar"),
    ("(S//NF/)", "NF/", "DOMAIN.md §2.2 grammar"),
    ("TS/SCI", "TS/SCI", "classification first (§2.2)"),
    ("RESTRICTED", "RESTRICTED", "classification first (§2.2)"),
    ("(//GBR R)", "R", "classification first (§2.2)"),
    ("(//XYZ S)", "XYZ", "non-US portion //OWNER LEVEL (§2.2)"),
    ("(//USA S)", "USA", "non-US portion //OWNER LEVEL (§2.2)"),
    ("()", "()", "classification first (DOMAIN.md §2.2)"),
    ("((S))", "((S))", "portion mark is ( MARKING )"),
    ("(S//NF", "(S//NF", "portion mark is ( MARKING )"),
    ("S//NF; DROP", ";", "marking character set"),
    ("S//NF\u00a0", "\u00a0", "markings are ASCII"),
    ("\u017f//NF", "\u017f", "markings are ASCII"),  # long s upper-cases to S: not accepted
    (
        "(S//FED ONLY)",
        "FED ONLY",
        "unknown tokens are rejected (ISM-ID-00125)",
    ),  # a CUI control outside CUI
    ("(S//FGI USA//NF)", "USA", "FGI <trigraphs> (ISM-ID-00064)"),
    ("(S//FGI GBR/FGI DEU//NF)", "FGI GBR", "FGI <countries> (§2.2)"),
    ("(TS//SI-G ABCD EF-GH//OC/NF)", "SI-GH", "SCI register"),
    ("(TS//SAR-A.B//NF)", ".", "marking character set"),
]


@pytest.mark.parametrize(("text", "token", "rule"), REJECTED)
def test_rejections_name_token_and_rule(text: str, token: str, rule: str) -> None:
    with pytest.raises(MarkingError) as info:
        parse_marking(text)
    assert info.value.token == token
    assert info.value.rule == rule
    assert repr(token) in str(info.value)
    assert isinstance(info.value, GatewayError)


def test_overlong_marking_is_rejected() -> None:
    with pytest.raises(MarkingError, match="too long"):
        parse_marking("S//NF" + " " * MAX_MARKING_CHARS)


def test_sci_tokens_carry_implied_parents() -> None:
    label = parse_marking("(TS//SI-ECRU-G ABCD//OC/NF)")
    assert label.sci == {"SI", "SI-ECRU", "SI-G", "SI-G ABCD"}
    assert label.banner() == "TOP SECRET//SI-ECRU-G ABCD//ORCON/NOFORN"


def test_foreign_portion_records_the_owner_as_fgi() -> None:
    label = parse_marking("(//GBR TS//REL TO USA, GBR)")
    assert label == Label(
        level=Level.TS,
        fgi=frozenset({"GBR"}),
        rel=label.rel,
        rel_complete=True,
        relido_complete=False,
        display_complete=False,
    )
    assert label.rel is not None
    assert label.rel.countries == {"USA", "GBR"}


# Marking-shaped fragments make the fuzzer reach deep into the grammar, not only the
# character-set check.
_FRAGMENTS = st.sampled_from(
    [
        "(",
        ")",
        "//",
        "/",
        "-",
        ", ",
        " ",
        "\n",
        "S",
        "TS",
        "U",
        "C",
        "CUI",
        "SECRET",
        "NF",
        "NOFORN",
        "REL TO",
        "USA",
        "GBR",
        "FVEY",
        "SI",
        "SI-G",
        "ABCD",
        "TK",
        "HCS",
        "SAR-BP",
        "FGI",
        "OC",
        "RELIDO",
        "DISPLAY ONLY",
        "ND",
        "XD",
        "SP-PRVCY",
        "WAIVED",
        "é",
        "\x00",
    ]
)


@settings(max_examples=400, deadline=None)
@given(st.one_of(st.text(max_size=80), st.lists(_FRAGMENTS, max_size=14).map("".join)))
def test_parser_raises_only_marking_error(text: str) -> None:
    try:
        label = parse_marking(text)
    except MarkingError as exc:
        rule = exc.rule
        assert rule, "every MarkingError names its rule"
        return
    # Whatever parses renders to a banner that parses to the same banner (R12).
    banner = label.banner()
    assert parse_marking(banner).banner() == banner
