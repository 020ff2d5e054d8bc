"""Lattice laws (DOMAIN.md §2.4 "Lattice view"): join is associative, commutative and
idempotent with UNCLASSIFIED as identity; dominance is a partial order consistent with it.

Two generators: real labels parsed from generated valid portion marks, and arbitrary
``Label`` values (the laws must hold for every value, not only for parseable ones).
"""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from redline.markings import UNCLASSIFIED, CountrySet, Label, Level, join, parse_marking

_COUNTRIES = ["AUS", "CAN", "GBR", "NZL", "DEU", "FRA"]
_TETRAS = ["FVEY", "ACGU", "TEYE"]


@st.composite
def portions(draw: st.DrawFn) -> str:
    """A valid portion mark: level, optional SCI/SAP/FGI, dissem with an FD&R choice, non-IC."""
    level = draw(st.sampled_from(["U", "C", "S", "TS"]))
    rank = ["U", "C", "S", "TS"].index(level)
    if level == "U" and draw(st.booleans()):
        return draw(st.sampled_from(["(U)", "(CUI)", "(CUI//NF)", "(U//FOUO)", "(U//SBU-NF)"]))
    parts = [level]
    sci: list[str] = []
    needs_nf = needs_oc = False
    if rank >= 1 and draw(st.booleans()):
        pool = ["SI", "HCS"] + (["TK", "KDK", "RSV-ABC"] if rank >= 2 else [])
        pool += ["SI-G", "SI-G ABCD", "SI-G EFGH"] if rank == 3 else []
        sci = draw(st.lists(st.sampled_from(pool), min_size=1, max_size=3, unique=True))
        needs_nf = any(s in {"HCS", "KDK"} for s in sci)
        needs_oc = any(s.startswith("SI-G") for s in sci)
        parts.append("/".join(sci))
    if rank >= 1 and draw(st.integers(0, 3)) == 0:
        parts.append(draw(st.sampled_from(["SAR-BP", "SAR-TB", "SAR-BP/SAR-TB"])))
    fgi = rank >= 1 and draw(st.integers(0, 3)) == 0
    if fgi:
        parts.append(draw(st.sampled_from(["FGI", "FGI GBR", "FGI DEU GBR"])))
    dissem = []
    if rank >= 1 and (needs_oc or draw(st.booleans())):
        dissem.append("OC")
    if draw(st.booleans()):
        dissem.append("PR")
    fdr = "NF" if needs_nf else draw(st.sampled_from(["NF", "REL", "RELIDO", "REL+RELIDO", ""]))
    if fgi and "RELIDO" in fdr:
        fdr = "REL"
    if fdr == "NF":
        dissem.append("NF")
    if "REL" in fdr.split("+")[0] and fdr != "RELIDO":
        listed = draw(st.lists(st.sampled_from(_COUNTRIES + _TETRAS), min_size=1, unique=True))
        dissem.append("REL TO " + ", ".join(["USA", *listed]))
    if "RELIDO" in fdr:
        dissem.append("RELIDO")
    if dissem:
        parts.append("/".join(dissem))
    if draw(st.integers(0, 4)) == 0:
        parts.append("ND" if fdr == "NF" else "DS")
    return "(" + "//".join(parts) + ")"


parsed = portions().map(parse_marking)


def _country_sets() -> st.SearchStrategy[CountrySet | None]:
    return st.none() | st.builds(
        CountrySet,
        countries=st.frozensets(st.sampled_from(["USA", *_COUNTRIES])),
        tetragraphs=st.frozensets(st.sampled_from(_TETRAS)),
    )


def _tokens(*pool: str) -> st.SearchStrategy[frozenset[str]]:
    return st.frozensets(st.sampled_from(pool), max_size=3)


arbitrary = st.builds(
    Label,
    level=st.sampled_from(Level),
    cui=st.booleans(),
    cui_categories=_tokens("PRVCY", "SP-LEI"),
    cui_ldcs=_tokens("FED ONLY", "NOCON"),
    sci=_tokens("SI", "SI-G", "SI-G ABCD", "TK", "HCS"),
    sap=_tokens("SAR-BP", "SAR-TB"),
    sap_waived=_tokens("SAR-BP"),
    fgi=_tokens("GBR", "DEU"),
    fgi_protected=st.booleans(),
    dissem=_tokens("ORCON", "PROPIN", "FOUO"),
    noforn=st.booleans(),
    rel=_country_sets(),
    rel_complete=st.booleans(),
    relido=st.booleans(),
    relido_complete=st.booleans(),
    display=_country_sets(),
    display_complete=st.booleans(),
    nonic=_tokens("NODIS", "EXDIS", "LIMDIS", "SBU NOFORN"),
    defects=_tokens("missing-fdr"),
)

labels = parsed | arbitrary


@settings(max_examples=300, deadline=None)
@given(labels, labels, labels)
def test_join_is_associative(a: Label, b: Label, c: Label) -> None:
    assert a.join(b.join(c)) == a.join(b).join(c)


@settings(max_examples=300, deadline=None)
@given(labels, labels)
def test_join_is_commutative(a: Label, b: Label) -> None:
    assert a.join(b) == b.join(a)


@settings(max_examples=200, deadline=None)
@given(labels)
def test_join_is_idempotent_with_unclassified_as_identity(a: Label) -> None:
    assert a.join(a) == a
    assert a.join(UNCLASSIFIED) == a
    assert join(a) == a


@settings(max_examples=200, deadline=None)
@given(labels)
def test_dominance_is_reflexive(a: Label) -> None:
    assert a.dominates(a)


@settings(max_examples=300, deadline=None)
@given(labels, labels)
def test_dominance_is_antisymmetric_and_join_is_an_upper_bound(a: Label, b: Label) -> None:
    if a.dominates(b) and b.dominates(a):
        assert a == b
    upper = a.join(b)
    assert upper.dominates(a)
    assert upper.dominates(b)


@settings(max_examples=300, deadline=None)
@given(labels, labels, labels)
def test_dominance_is_transitive(a: Label, b: Label, c: Label) -> None:
    # Build chains so the premise holds often: c <= b <= a.
    b = b.join(c)
    a = a.join(b)
    assert a.dominates(b)
    assert b.dominates(c)
    assert a.dominates(c)


@settings(max_examples=300, deadline=None)
@given(st.lists(portions(), min_size=1, max_size=6))
def test_rolled_up_banner_is_a_valid_marking_and_a_fixpoint(marks: list[str]) -> None:
    # R12: the roll-up renders to a banner that passes every §2.3 rule, both as a banner
    # and as a portion mark.
    label = join(*(parse_marking(m) for m in marks))
    banner = label.banner()
    assert parse_marking(banner).banner() == banner
    assert parse_marking(label.portion()).banner() == banner


@settings(max_examples=200, deadline=None)
@given(st.lists(portions(), min_size=1, max_size=6))
def test_roll_up_never_lowers_level_or_widens_releasability(marks: list[str]) -> None:
    labels_ = [parse_marking(m) for m in marks]
    rolled = join(*labels_)
    for label in labels_:
        assert rolled.level >= label.level
        assert rolled.sci >= label.sci
        if label.releasable_to is not None:
            assert rolled.releasable_to is not None
            assert rolled.releasable_to <= label.releasable_to
