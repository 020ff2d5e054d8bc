"""The marking register: every token the parser accepts, loaded from a versioned data file.

Purpose: keep CAPCO/ISM token lists out of code (DOMAIN.md §2, "load token lists from
configuration, never hard-code"). The default register ships as
``redline/markings/data/tokens-v1.toml`` and is read with :mod:`importlib.resources`; an
accredited deployment may load its own file with :meth:`Register.from_toml`.

Invariants:

* The file's ``version`` must equal :data:`FORMAT_VERSION`; anything else is a
  :class:`~redline.errors.ConfigError` (python-tuf's ``spec_version`` check).
* Exactly four levels, in the order U, C, S, TS (EO 13526 fixes the levels; the file only
  fixes their spellings).
* Every spelling maps to exactly one token; a spelling listed twice is a ``ConfigError``.
* Every tetragraph has a membership made of known trigraphs (ISM-ID-00318).
"""

from __future__ import annotations

import functools
import importlib.resources
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from typing import cast

from redline.errors import ConfigError

__all__ = ["FORMAT_VERSION", "DissemSpec", "NonIcSpec", "Register", "SciSpec", "default_register"]

FORMAT_VERSION = 1
_DEFAULT_FILE = "tokens-v1.toml"
_LEVEL_ORDER = ("U", "C", "S", "TS")
_DISSEM_KINDS = frozenset({"additive", "noforn", "rel", "relido", "display"})


@dataclass(frozen=True, slots=True, kw_only=True)
class DissemSpec:
    """One IC dissemination control (CVEnumISMDissem)."""

    banner: str
    portion: str
    kind: str
    ranks: frozenset[int] | None
    order: int
    rule: str = ""


@dataclass(frozen=True, slots=True, kw_only=True)
class NonIcSpec:
    """One non-IC dissemination control (CVEnumISMNonIC)."""

    banner: str
    portion: str
    requires: frozenset[str]
    us_only: bool
    order: int
    rule: str = ""


@dataclass(frozen=True, slots=True, kw_only=True)
class SciSpec:
    """One SCI control system, or one compartment rule (``SI-G``)."""

    name: str
    min_rank: int
    compartments: frozenset[str] = frozenset()
    needs_compartment: bool = False
    open_compartments: bool = False
    requires: frozenset[str] = frozenset()
    rule: str = ""
    level_rule: str = ""


# eq=False: a register is compared and hashed by identity, so it can key parse caches.
@dataclass(frozen=True, slots=True, kw_only=True, eq=False)
class Register:
    """A loaded token register (immutable after construction)."""

    version: int
    name: str
    level_names: Mapping[str, int]
    level_banner: tuple[str, ...]
    level_portion: tuple[str, ...]
    sci: Mapping[str, SciSpec]
    compartment_rules: Mapping[str, SciSpec]
    sap_aliases: Mapping[str, str]
    dissem: Mapping[str, DissemSpec]
    dissem_order: tuple[DissemSpec, ...]
    nonic: Mapping[str, NonIcSpec]
    nonic_order: tuple[NonIcSpec, ...]
    cui_categories: frozenset[str]
    cui_ldcs: tuple[str, ...]
    trigraphs: frozenset[str]
    tetragraphs: Mapping[str, frozenset[str]]

    @classmethod
    def from_toml(cls, data: bytes) -> Register:
        """Build a register from the bytes of a ``tokens-v<N>.toml`` file.

        Raises:
            ConfigError: the file is not valid TOML, has another format version, or breaks
                one of the module invariants.
        """
        try:
            raw = tomllib.loads(data.decode("utf-8"))
        except (UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
            raise ConfigError(f"marking register: not valid TOML: {exc}") from exc
        try:
            return _build(raw)
        except (KeyError, TypeError, ValueError) as exc:
            raise ConfigError(f"marking register: malformed: {exc!r}") from exc

    def is_country(self, token: str) -> bool:
        """Whether ``token`` is a known trigraph or tetragraph."""
        return token in self.trigraphs or token in self.tetragraphs


@functools.cache
def default_register() -> Register:
    """The register shipped with Redline (``data/tokens-v1.toml``), loaded once."""
    resource = importlib.resources.files("redline.markings").joinpath("data", _DEFAULT_FILE)
    return Register.from_toml(resource.read_bytes())


def _strs(value: object, what: str) -> list[str]:
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ConfigError(f"marking register: {what} must be a list of strings")
    return cast(list[str], value)


def _add(table: dict[str, object], key: str, value: object) -> None:
    if key in table:
        raise ConfigError(f"marking register: spelling {key!r} is listed twice")
    table[key] = value


def _build(raw: dict[str, object]) -> Register:
    if raw.get("version") != FORMAT_VERSION:
        raise ConfigError(
            f"marking register: version {raw.get('version')!r} is not {FORMAT_VERSION}"
        )
    levels = cast(list[dict[str, object]], raw["levels"])
    if [lv["portion"] for lv in levels] != list(_LEVEL_ORDER):
        raise ConfigError("marking register: levels must be U, C, S, TS in that order")
    level_names: dict[str, object] = {}
    for rank, lv in enumerate(levels):
        for spelling in _strs(lv["names"], "levels.names"):
            _add(level_names, spelling, rank)
    banner_words = tuple(_strs(lv["names"], "levels.names")[0] for lv in levels)
    rank_of = {p: i for i, p in enumerate(_LEVEL_ORDER)}

    sci: dict[str, SciSpec] = {}
    for name, spec in cast(dict[str, dict[str, object]], raw["sci"]).items():
        sci[name] = _sci_spec(name, spec, rank_of)
    rules = {
        name: _sci_spec(name, spec, rank_of)
        for name, spec in cast(
            dict[str, dict[str, object]], raw.get("sci_compartments", {})
        ).items()
    }

    dissem: dict[str, object] = {}
    dissem_order = []
    for order, entry in enumerate(cast(list[dict[str, object]], raw["dissem"])):
        kind = str(entry["kind"])
        if kind not in _DISSEM_KINDS:
            raise ConfigError(f"marking register: unknown dissem kind {kind!r}")
        ranks = entry.get("levels")
        d = DissemSpec(
            banner=str(entry["banner"]),
            portion=str(entry["portion"]),
            kind=kind,
            ranks=None if ranks is None else frozenset(rank_of[x] for x in _strs(ranks, "levels")),
            order=order,
            rule=str(entry.get("rule", "")),
        )
        dissem_order.append(d)
        for spelling in {d.banner, d.portion, *_strs(entry.get("aliases", []), "aliases")}:
            _add(dissem, spelling, d)

    nonic: dict[str, object] = {}
    nonic_order = []
    for order, entry in enumerate(cast(list[dict[str, object]], raw["nonic"])):
        n = NonIcSpec(
            banner=str(entry["banner"]),
            portion=str(entry["portion"]),
            requires=frozenset(_strs(entry.get("requires", []), "requires")),
            us_only=bool(entry.get("us_only", False)),
            order=order,
            rule=str(entry.get("rule", "")),
        )
        nonic_order.append(n)
        for spelling in {n.banner, n.portion}:
            _add(nonic, spelling, n)

    cui = cast(dict[str, object], raw["cui"])
    countries = cast(dict[str, object], raw["countries"])
    trigraphs = frozenset(_strs(countries["trigraphs"], "countries.trigraphs"))
    tetragraphs: dict[str, frozenset[str]] = {}
    for tetra, members in cast(dict[str, object], raw["tetragraphs"]).items():
        member_set = frozenset(_strs(members, f"tetragraphs.{tetra}"))
        if len(tetra) != 4 or not member_set or not member_set <= trigraphs:
            raise ConfigError(f"marking register: tetragraph {tetra!r} has unknown members")
        tetragraphs[tetra] = member_set
    sap = cast(dict[str, object], raw.get("sap", {}))
    return Register(
        version=FORMAT_VERSION,
        name=str(raw.get("register", "")),
        level_names=cast(dict[str, int], level_names),
        level_banner=banner_words,
        level_portion=_LEVEL_ORDER,
        sci=sci,
        compartment_rules=rules,
        sap_aliases=cast(dict[str, str], sap.get("aliases", {})),
        dissem=cast(dict[str, DissemSpec], dissem),
        dissem_order=tuple(dissem_order),
        nonic=cast(dict[str, NonIcSpec], nonic),
        nonic_order=tuple(nonic_order),
        cui_categories=frozenset(_strs(cui["categories"], "cui.categories")),
        cui_ldcs=tuple(_strs(cui["ldcs"], "cui.ldcs")),
        trigraphs=trigraphs,
        tetragraphs=tetragraphs,
    )


def _sci_spec(name: str, spec: dict[str, object], rank_of: Mapping[str, int]) -> SciSpec:
    return SciSpec(
        name=name,
        min_rank=rank_of[str(spec.get("min_level", "C"))],
        compartments=frozenset(_strs(spec.get("compartments", []), f"sci.{name}")),
        needs_compartment=bool(spec.get("needs_compartment", False)),
        open_compartments=bool(spec.get("open_compartments", False)),
        requires=frozenset(_strs(spec.get("requires", []), f"sci.{name}.requires")),
        rule=str(spec.get("rule", "")),
        level_rule=str(spec.get("level_rule", spec.get("rule", ""))),
    )
