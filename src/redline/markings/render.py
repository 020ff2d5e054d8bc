"""Rendering a :class:`~redline.markings.label.Label` as a banner line or portion mark.

Spec: DOMAIN.md §2.2 (category order ``CLASSIFICATION//SCI//SAP//FGI//DISSEM//NON-IC``,
values within a category joined by ``/``) and §2.4 R6-R12.

Invariants (tested as a fixpoint: ``parse(render(L))`` renders to the same text):

* SCI control systems sorted; compartments sorted and joined by ``-``; sub-compartments
  space-separated after their compartment; implied parents are not repeated (R2).
* Dissemination controls in register order (CVEnumISMDissem); NOFORN excludes REL TO,
  RELIDO and DISPLAY ONLY (R6); FOUO never appears in a classified or CUI banner (R11).
* REL TO lists: ``USA`` first, then trigraphs alphabetically, then tetragraphs
  alphabetically; trigraphs covered by a listed tetragraph are not repeated (ISM-ID-00214).
* Non-IC controls in register order; NODIS drops EXDIS (R10).
* An unclassified label with CUI renders as a CUI banner, ``CUI[//CATS][//LDCS]``, with
  Specified (``SP-``) categories first (R11); a classified label never shows CUI.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from redline.markings.register import Register, default_register

if TYPE_CHECKING:
    from redline.markings.label import CountrySet, Label

__all__ = ["country_list", "render", "render_sci"]

_SEP = "//"


def render(label: Label, *, portion: bool, register: Register | None = None) -> str:
    """Render ``label``: banner words when ``portion`` is false, abbreviations otherwise.

    Portion marks are returned without their parentheses.
    """
    reg = register or default_register()
    is_cui_banner = label.cui and not label.classified
    if is_cui_banner:
        head = "CUI"
    elif portion:
        head = reg.level_portion[label.rank]
    else:
        head = reg.level_banner[label.rank]
    parts = [head]
    if is_cui_banner and label.cui_categories:
        specified = sorted(c for c in label.cui_categories if c.startswith("SP-"))
        basic = sorted(c for c in label.cui_categories if not c.startswith("SP-"))
        parts.append("/".join(specified + basic))
    if label.sci:
        parts.append(render_sci(label.sci))
    if label.sap:
        parts.append("/".join(sorted(label.sap)))
        if label.sap <= label.sap_waived:
            parts.append("WAIVED")
    if label.fgi or label.fgi_protected:
        parts.append(
            "FGI" if label.fgi_protected else "FGI " + " ".join(_sorted_countries(label.fgi))
        )
    dissem = _dissem(label, reg, portion=portion, cui_banner=is_cui_banner)
    if dissem:
        parts.append("/".join(dissem))
    nonic = _nonic(label, reg, portion=portion)
    if nonic:
        parts.append("/".join(nonic))
    return _SEP.join(parts)


def render_sci(tokens: frozenset[str]) -> str:
    """``{"SI", "SI-G", "SI-G ABCD", "TK"}`` renders as ``SI-G ABCD/TK`` (R2)."""
    systems: dict[str, dict[str, set[str]]] = {}
    for token in tokens:
        system, _, rest = token.partition("-")
        comps = systems.setdefault(system, {})
        if rest:
            comp, _, sub = rest.partition(" ")
            subs = comps.setdefault(comp, set())
            if sub:
                subs.add(sub)
    out = []
    for system in sorted(systems):
        text = system
        for comp, subs in sorted(systems[system].items()):
            text += "-" + " ".join([comp, *sorted(subs)])
        out.append(text)
    return "/".join(out)


def country_list(
    countries: CountrySet, *, usa_first: bool, register: Register | None = None
) -> str:
    """A REL TO (``usa_first``) or DISPLAY ONLY list in register order (ISM-ID-00214).

    ``USA`` first when ``usa_first``, then trigraphs alphabetically, then tetragraphs;
    trigraphs covered by a listed tetragraph are not repeated.
    """
    reg = register or default_register()
    covered: set[str] = set()
    for tetra in countries.tetragraphs:
        covered |= reg.tetragraphs.get(tetra, frozenset())
    head = ["USA"] if usa_first and "USA" in countries.countries else []
    rest = sorted(c for c in countries.countries if c not in covered and c not in head)
    return ", ".join(head + rest + sorted(countries.tetragraphs))


def _sorted_countries(countries: frozenset[str]) -> list[str]:
    return sorted(countries, key=lambda c: (len(c), c))


def _dissem(label: Label, reg: Register, *, portion: bool, cui_banner: bool) -> list[str]:
    out = []
    noforn = label.is_noforn
    for spec in reg.dissem_order:
        word = spec.portion if portion else spec.banner
        if spec.kind == "additive":
            if spec.banner not in label.dissem:
                continue
            if spec.banner == "FOUO" and (label.classified or cui_banner):
                continue  # R11: FOUO is never emitted in a classified or CUI banner
            out.append(word)
        elif spec.kind == "noforn" and noforn:
            out.append(word)
        elif spec.kind == "rel" and label.shows_rel and label.rel is not None:
            out.append(f"{word} {country_list(label.rel, usa_first=True, register=reg)}")
        elif spec.kind == "relido" and label.shows_relido:
            out.append(word)
        elif spec.kind == "display" and label.shows_display and label.display is not None:
            out.append(f"{word} {country_list(label.display, usa_first=False, register=reg)}")
    if label.cui_ldcs:
        out.extend(ldc for ldc in reg.cui_ldcs if ldc in label.cui_ldcs)
    return out


def _nonic(label: Label, reg: Register, *, portion: bool) -> list[str]:
    present = set(label.nonic)
    if "NODIS" in present:
        present.discard("EXDIS")  # R10
    return [
        spec.portion if portion else spec.banner
        for spec in reg.nonic_order
        if spec.banner in present
    ]
