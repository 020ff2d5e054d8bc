"""Units: the parts of a conversation whose highest red-line score the conversation keeps.

**The property.** The red-line score of a conversation is at least the score of its most
harmful unit, whatever comes before or after it: benign turns, padding, markup, thousands
of messages, a buried paragraph in a long document, any role (system, user, assistant,
tool result), a tool definition or a tool call. :class:`redline.screening.stack.SafetyStack`
takes, per red line, the maximum of the whole-conversation judgement and of every unit's
score, so the property holds by construction as long as inserting benign material can
change neither the set of units that hold the harmful text nor their scores. This module
makes that so:

*Parts.* Every string the service gives the stack is read: each message of every role (its
text, its ``name``, each tool call's name and arguments) and each tool definition (name,
description, parameter schema). Tool-call arguments, parameter schemas and message texts
that are JSON are read as their keys and string values: each long string value
(:data:`JSON_LONG_STRING` characters or more) is a text of its own, keys and short values
together form one more, so a sentence hidden in a JSON value is the same text as the
sentence on its own.

*Atoms.* Each text is cut into lines; a run of at least five lines of the same shape
(pasted records, see :func:`redline.screening.conversation.record_lines`) is one atom (cut
at line boundaries into pieces of at most :data:`ATOM_MAX_CHARS`); a line longer than
:data:`ATOM_MAX_CHARS` is cut into sentences (a sentence longer than that at whitespace).
Blank lines, and lines that are only whitespace, separate atoms and are not atoms.

*Units.* (1) every distinct atom: identical atoms are scored once, so 1,000 "ok" messages are
one unit; (2) every part with more than one atom, up to :data:`PART_MAX_CHARS`; (3) windows
of at most :data:`RUN_WINDOW_CHARS` over *factor runs*: maximal runs of atoms of one part
that match at least one legal-test factor (:mod:`redline.screening.factors`), where factor
atoms may be separated by at most :data:`RUN_GAP` atoms that match none; a run starts and
ends on a factor atom, so factor-free text next to a run never joins it. At most
:data:`MAX_UNITS` units are scored; when there are more, units with more red-line factor
matches go first, then earlier ones. A conversation with more than :data:`MAX_ATOMS`
distinct atoms is not screened at all (:class:`~redline.errors.ClassifierError`: the route's
``on_error`` decides, fail closed).

*Context.* A unit is judged in the conversation's context, but the context reaches it only
as legal-test factors: for each exculpatory factor (minimisation/aggregate-only, foreign
target, lawful authority, human control, advisory), whether it matches anywhere outside the
unit (:meth:`Segmented.rest_presence`); and, for the tier-2 encoder, the factor-matching
sentences outside the unit, most matches first, within 60 tokens
(:meth:`Segmented.context_excerpt`). (Red-line factors elsewhere are not a unit feature:
measured, they made neutral turns such as "please handle the next ticket" look like
escalations whenever a lawful request nearby mentioned a decision domain; the
whole-conversation judgement reads that context.)
So the facts that make a request lawful (the operator approves each shot, aggregate counts
only, a named warrant, foreign targets, advisory output) count wherever they are written,
and text that matches no factor (padding, everyday prose, "ok", markup) changes neither a
unit's text, nor its features, nor its tier-2 input: inserting it anywhere (as messages of
any role, as lines or paragraphs before or after the harmful text inside the same message,
as tool results or definitions) leaves every unit that does not contain it unchanged, and
the maximum can only stay or rise. Position, role and conversation length are not features
of a unit: the same text scores the same as a user turn, a tool result or the model's reply.

What the property does not cover: benign text inserted *inside* the harmful text's own line
or sentence changes that atom (a line over :data:`ATOM_MAX_CHARS` is read sentence by
sentence, and factor runs rejoin neighbouring factor-matching sentences); text that matches
a factor can change the context (that is the point of letting lawful facts count; a claim
of authority is weighed by the trained head, not obeyed); the whole-conversation judgement
can be diluted (it is one term of the maximum; the units are the guarantee). Two budgets
could in principle be crowded: :data:`MAX_UNITS` (only when a conversation has nearly
:data:`MAX_ATOMS` distinct atoms; units with more red-line factor matches go first), and
tier 2 (:data:`TIER2_UNITS` units escalated per conversation, highest tier-1 score first; a
unit left out keeps its tier-1 score), which other units would have to outrank at tier 1
(everyday paragraphs score below 0.3 there; measured in docs/benchmarks.md).

Bounds and cost: at most :data:`MAX_ATOMS` distinct atoms (more is an error: fail closed),
:data:`MAX_UNITS` units, :data:`TIER2_UNITS` tier-2 calls for units. Cost is linear in the
input: every distinct atom is normalised, tokenised and matched against the factors once
(results are cached by text, so a conversation re-screened while a reply streams, or a chat
history re-sent with each turn, costs little), and a unit's features are composed from its
atoms' statistics. Measured cold on 2 shared cores: ~2-3 ms per KB of distinct prose, so
~600 KB of distinct text reaches the screener's 2-second timeout (the route's
``on_error`` then decides, as for any screening failure).
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt

from redline.domain import Message, ToolSpec
from redline.errors import ClassifierError
from redline.screening.conversation import normalize, record_lines, split_records
from redline.screening.embedder import StaticEmbedder
from redline.screening.factors import FACTORS, factor_hits
from redline.screening.features import (
    FeatureVector,
    counts_of,
    hashed_features,
    non_ascii_count,
    unit_length,
)
from redline.screening.language import is_foreign
from redline.screening.lru import LRU

__all__ = [
    "ATOM_MAX_CHARS",
    "EXCULPATORY",
    "MAX_ATOMS",
    "MAX_UNITS",
    "AtomStats",
    "Part",
    "Segmented",
    "Unit",
    "UnitFeaturizer",
    "parts_of",
    "segment",
    "unit_dense_size",
    "word_count",
]

ATOM_MAX_CHARS = 2_000
PART_MAX_CHARS = 8_000
RUN_WINDOW_CHARS = 4_000
RUN_GAP = 1
MAX_UNITS = 4_096
MAX_ATOMS = 4_096
TIER2_UNITS = 8
JSON_LONG_STRING = 40
_MAX_JSON_CHARS = 262_144
_CONTEXT_CHARS = 240  # ~60 tokens, the budget the whole judgement gives tier 2's context
_CONTEXT_ATOMS = 64
_SENTENCE_CHARS = 600
_MAX_COUNT = 20
_CACHE_ATOM_CHARS = 8_192

N_FACTORS = len(FACTORS)
_RED = np.asarray([f.red_line != "allow" for f in FACTORS], dtype=bool)
#: The exculpatory factors (minimisation, foreign target, lawful authority, human control,
#: advisory): the only context a unit sees.
EXCULPATORY = np.flatnonzero(~_RED)
_SENTENCE_END = re.compile(r"(?<=[.!?;\u3002\uff01\uff1f\u061f\u0964])\s+")
_WORD_GAP = re.compile(r"\s+")

IntArray = npt.NDArray[np.int64]
FloatArray = npt.NDArray[np.float32]


# -- parts and atoms (pure text) -----------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Part:
    """One message or tool definition: where its atoms came from."""

    label: str  # "message 3 (tool)", "tool definition 1": evidence, never text
    texts: tuple[str, ...]  # raw texts, each cut into atoms separately


def _name(name: str) -> str:
    return name.replace("_", " ").strip()


def _json_texts(raw: str) -> list[str] | None:
    """Keys and short values as one text, each long string value as its own; None if
    ``raw`` is not a JSON object or array."""
    stripped = raw.strip()
    if not stripped or stripped[0] not in "{[" or len(stripped) > _MAX_JSON_CHARS:
        return None
    try:
        value = json.loads(stripped)
    except (ValueError, RecursionError):
        return None
    compact: list[str] = []
    long: list[str] = []
    stack: list[object] = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, dict):
            for key, inner in reversed(list(item.items())):
                stack.append(inner)
                stack.append(("key", key))
        elif isinstance(item, list):
            stack.extend(reversed(item))
        elif isinstance(item, tuple):
            compact.append(_name(str(item[1])))
        elif isinstance(item, str):
            (long if len(item) >= JSON_LONG_STRING else compact).append(item)
        elif item is not None and not isinstance(item, bool):
            compact.append(str(item))
    head = " ".join(c for c in compact if c)
    return [head, *long] if head else long


def parts_of(messages: Sequence[Message], tools: Sequence[ToolSpec]) -> list[Part]:
    """Every message (text, name, tool calls) and every tool definition, in order."""
    parts: list[Part] = []
    for i, message in enumerate(messages, start=1):
        texts: list[str] = []
        body = _json_texts(message.text)
        texts.extend(body if body is not None else [message.text])
        if message.name:
            texts.append(_name(message.name))
        for call in message.tool_calls:
            texts.append(f"call {_name(call.name)}")
            arguments = _json_texts(call.arguments)
            texts.extend(arguments if arguments is not None else [call.arguments])
        parts.append(Part(label=f"message {i} ({message.role})", texts=tuple(texts)))
    for j, tool in enumerate(tools, start=1):
        texts = [f"tool {_name(tool.name)}", tool.description]
        schema = _json_texts(tool.parameters_json)
        texts.extend(schema if schema is not None else [tool.parameters_json])
        parts.append(Part(label=f"tool definition {j}", texts=tuple(texts)))
    return parts


def _hard_cut(text: str, limit: int) -> list[str]:
    """Cut at whitespace into pieces of at most ``limit`` characters (mid-word if none)."""
    out: list[str] = []
    start = 0
    while len(text) - start > limit:
        window = text[start : start + limit]
        cut = max(window.rfind(" "), window.rfind("\n"), window.rfind("\t"))
        cut = cut if cut > limit // 4 else limit
        out.append(text[start : start + cut])
        start += cut
    out.append(text[start:])
    return out


def _line_atoms(line: str) -> list[str]:
    if len(line) <= ATOM_MAX_CHARS:
        return [line]
    out: list[str] = []
    for sentence in _SENTENCE_END.split(line):
        out.extend(_hard_cut(sentence, ATOM_MAX_CHARS))
    return out


def atoms_of(text: str) -> list[str]:
    """The atoms of one text, in order (stripped, never empty)."""
    if not text or text.isspace():
        return []
    lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    flags = record_lines(lines)
    out: list[str] = []
    i = 0
    while i < len(lines):
        if flags[i]:
            j = i
            while j < len(lines) and flags[j]:
                j += 1
            block = "\n".join(lines[i:j])
            out.extend(_hard_cut_lines(block))
            i = j
            continue
        out.extend(_line_atoms(lines[i]))
        i += 1
    return [a.strip() for a in out if a and not a.isspace()]


def _hard_cut_lines(block: str) -> list[str]:
    """A block of records, cut at line boundaries into pieces of at most ATOM_MAX_CHARS."""
    if len(block) <= ATOM_MAX_CHARS:
        return [block]
    out: list[str] = []
    current: list[str] = []
    size = 0
    for line in block.split("\n"):
        if current and size + len(line) + 1 > ATOM_MAX_CHARS:
            out.append("\n".join(current))
            current, size = [], 0
        if len(line) > ATOM_MAX_CHARS:
            out.extend(_hard_cut(line, ATOM_MAX_CHARS))
            continue
        current.append(line)
        size += len(line) + 1
    if current:
        out.append("\n".join(current))
    return out


# -- atom statistics ------------------------------------------------------------------------


def word_count(text: str) -> int:
    """Whitespace-separated words; for non-ASCII text without spaces (Chinese, Japanese),
    one word per two characters."""
    words = len(text.split())
    return words if words > 1 or text.isascii() else len(text) // 2


@dataclass(frozen=True, slots=True)
class AtomStats:
    """What the classifiers need of one atom; computed once per distinct text."""

    text: str  # canonical text plus decoded/de-leeted views, one per line
    instruction: str  # the same with record runs collapsed to their header line
    counts: IntArray  # factor match counts on ``instruction``, FACTORS order
    ids: IntArray  # WordPiece ids of ``instruction``
    emb_sum: FloatArray  # sum of the static table rows of the content ids
    ml_sum: FloatArray | None  # the same over the multilingual table, for a foreign atom
    n_tokens: int
    n_records: int
    signals: frozenset[str]
    views: tuple[str, ...]  # de-leeted and decoded texts (not the canonical one)
    n_non_ascii: int  # among the first 4,096 characters
    chars: int
    plain_chars: int  # length of the normalised text alone (without the decoded views)
    plain_non_ascii: float  # share of non-ASCII characters in its first 4,096
    n_words: int  # words of the text it was cut as (:func:`word_count`)
    single: FeatureVector | None = None  # the atom's features as a unit of its own (memo)

    has_factor: bool = field(init=False)  # any factor matches (derived from ``counts``)
    red_hits: int = field(init=False)  # red-line factor matches (derived from ``counts``)

    def __post_init__(self) -> None:
        # Derived once: unit selection and windowing ask for them for every unit of every
        # conversation the atom is in, and ``counts`` never changes.
        object.__setattr__(self, "has_factor", bool(self.counts.any()))
        object.__setattr__(self, "red_hits", int(self.counts[_RED].sum()))


def unit_dense_size(dims: int, multilingual_dims: int = 0) -> int:
    """Dense width of a unit's feature vector (the multilingual block comes last)."""
    return dims + N_FACTORS + len(EXCULPATORY) + 5 + multilingual_dims


class UnitFeaturizer:
    """Atom statistics (cached by text) and unit feature vectors."""

    def __init__(
        self,
        embedder: StaticEmbedder,
        multilingual: StaticEmbedder | None = None,
        *,
        cache_size: int = 8_192,
    ) -> None:
        self.embedder = embedder
        self.multilingual = multilingual
        self.dense_size = unit_dense_size(embedder.dims, multilingual.dims if multilingual else 0)
        #: Width of the multilingual block (the last dense columns; 0 without the table).
        self.block_size = multilingual.dims if multilingual else 0
        self._cache: LRU[str, AtomStats] = LRU(cache_size)

    def atom_stats(self, texts: Sequence[str]) -> list[AtomStats]:
        """Statistics of each text, in order."""
        out: list[AtomStats | None] = []
        missing: dict[str, list[int]] = {}
        for i, text in enumerate(texts):
            found = self._cache.get(text) if len(text) <= _CACHE_ATOM_CHARS else None
            out.append(found)
            if found is None:
                missing.setdefault(text, []).append(i)
        if missing:
            made = self._compute(list(missing))
            for (text, places), stats in zip(missing.items(), made, strict=True):
                if len(text) <= _CACHE_ATOM_CHARS:
                    self._cache.put(text, stats)
                for i in places:
                    out[i] = stats
        return [s for s in out if s is not None]

    def _compute(self, texts: list[str]) -> list[AtomStats]:
        prepared: list[tuple[str, str, int, frozenset[str], tuple[str, ...], str]] = []
        for text in texts:
            normalized = normalize(text)
            instruction, n_records = split_records(normalized.text)
            views = normalized.views()
            full = "\n".join(views)
            instruction = "\n".join([instruction, *views[1:]])
            prepared.append(
                (full, instruction, n_records, normalized.signals, views[1:], normalized.text)
            )
        ids_list = self.embedder.token_ids([p[1] for p in prepared])
        ml_sums = self._multilingual_sums([p[1] for p in prepared])
        out: list[AtomStats] = []
        for text, (full, instruction, n_records, signals, views, plain), ids, ml_sum in zip(
            texts, prepared, ids_list, ml_sums, strict=True
        ):
            content = ids[ids >= self.embedder.special] if ids.size else ids
            emb_sum = self.embedder.rows_sum(content)
            head = full[:4096]
            plain_head = plain[:4096]
            out.append(
                AtomStats(
                    text=full,
                    instruction=instruction,
                    counts=np.asarray(counts_of(instruction), dtype=np.int64),
                    ids=ids,
                    emb_sum=emb_sum,
                    ml_sum=ml_sum,
                    n_tokens=int(content.size),
                    n_records=n_records,
                    signals=signals,
                    views=views,
                    n_non_ascii=non_ascii_count(head),
                    chars=len(full),
                    plain_chars=len(plain),
                    plain_non_ascii=non_ascii_count(plain_head) / max(1, len(plain_head)),
                    n_words=word_count(text),
                )
            )
        return out

    def _multilingual_sums(self, texts: list[str]) -> list[FloatArray | None]:
        """Sum of the multilingual table rows of each text's content tokens, for the texts
        the language gate calls foreign (:func:`redline.screening.language.is_foreign`);
        None for the others (and for every text when there is no multilingual table)."""
        ml = self.multilingual
        out: list[FloatArray | None] = [None] * len(texts)
        if ml is None:
            return out
        foreign = [i for i, text in enumerate(texts) if is_foreign(text)]
        for i, ids in zip(foreign, ml.token_ids([texts[i] for i in foreign]), strict=True):
            content = ids[ids >= ml.special] if ids.size else ids
            out[i] = ml.rows_sum(content)
        return out

    def features(self, atoms: Sequence[AtomStats], rest: FloatArray) -> FeatureVector:
        """Feature vector of a unit made of ``atoms``, with the exculpatory-factor presence
        ``rest`` of everything outside it.

        Dense layout: the static embedding of the unit's instruction text; log match counts
        of every factor in the unit; ``rest``; records (log count, any), log length,
        share of non-ASCII characters, obfuscation signals; then, with the multilingual
        table, the multilingual embedding of the unit's foreign atoms (zeros when none is
        foreign). Sparse: hashed WordPiece unigrams and bigrams of the unit. Nothing about
        position, role or the number of messages."""
        if len(atoms) == 1:
            single = atoms[0].single
            if single is None:
                single = self._compose(atoms, np.zeros(len(EXCULPATORY), dtype=np.float32))
                object.__setattr__(atoms[0], "single", single)
            dense = single.dense.copy()
            cut = self.embedder.dims + N_FACTORS
            dense[cut : cut + len(EXCULPATORY)] = rest
            return FeatureVector(
                dense=dense, sparse_index=single.sparse_index, sparse_value=single.sparse_value
            )
        return self._compose(atoms, rest)

    def _compose(self, atoms: Sequence[AtomStats], rest: FloatArray) -> FeatureVector:
        n_tokens = sum(a.n_tokens for a in atoms)
        emb: FloatArray = np.zeros(self.embedder.dims, dtype=np.float32)
        if n_tokens:
            emb = unit_length(np.sum([a.emb_sum for a in atoms], axis=0, dtype=np.float32))
        counts = np.sum([a.counts for a in atoms], axis=0)
        n_records = sum(a.n_records for a in atoms)
        chars = sum(a.chars for a in atoms)
        head_chars = sum(min(a.chars, 4096) for a in atoms)
        structure = np.asarray(
            [
                np.log1p(n_records),
                float(n_records > 0),
                np.log1p(chars) / 10.0,
                sum(a.n_non_ascii for a in atoms) / max(1, head_chars),
                float(max(len(a.signals) for a in atoms)),
            ],
            dtype=np.float32,
        )
        blocks = [
            emb,
            np.log1p(np.minimum(counts, _MAX_COUNT)).astype(np.float32),
            rest.astype(np.float32),
            structure,
        ]
        if self.multilingual is not None:
            # The multilingual block: the foreign atoms' rows only (zeros when every atom
            # of the unit is English, which then reads exactly the English-only features).
            sums = [a.ml_sum for a in atoms if a.ml_sum is not None]
            ml: FloatArray = (
                np.sum(sums, axis=0, dtype=np.float32)
                if sums
                else np.zeros(self.multilingual.dims, dtype=np.float32)
            )
            blocks.append(unit_length(ml))
        dense = np.concatenate(blocks).astype(np.float32)
        ids = atoms[0].ids if len(atoms) == 1 else np.concatenate([a.ids for a in atoms])
        index, values = hashed_features(ids)
        return FeatureVector(dense=dense, sparse_index=index, sparse_value=values)


# -- segmentation of one conversation -------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Unit:
    """A scored unit: atom positions (part, index in part) and what to call it."""

    part: int
    start: int  # first atom index within the part
    stop: int  # one past the last
    label: str


@dataclass(slots=True)
class Segmented:
    """A conversation cut into parts, atoms and units, with atom statistics."""

    parts: list[Part]
    part_atoms: list[list[int]]  # per part, distinct-atom ids in order
    atoms: list[AtomStats]  # distinct atoms
    units: list[Unit]
    total_counts: IntArray
    keys: list[str] = field(default_factory=list)  # per distinct atom, the text it was cut as
    #: Per raw atom with decoded views (base64, leetspeak ...), the atoms of those views:
    #: the same text, so never context for it.
    decoded: dict[int, tuple[int, ...]] = field(default_factory=dict)
    _sentences: list[tuple[int, int, int, str]] | None = None  # (hits, order, atom, sentence)

    def unit_atoms(self, unit: Unit) -> list[AtomStats]:
        return [self.atoms[a] for a in self.part_atoms[unit.part][unit.start : unit.stop]]

    def unit_atom_ids(self, unit: Unit) -> list[int]:
        return self.part_atoms[unit.part][unit.start : unit.stop]

    def unit_key(self, unit: Unit) -> tuple[str, ...]:
        """The texts of a unit's atoms: with :meth:`rest_presence`, all its features
        depend on (so a unit scored once is not scored again, in any conversation)."""
        return tuple(self.keys[a] for a in self.unit_atom_ids(unit))

    def rest_presence(self, unit: Unit) -> FloatArray:
        """1.0 for each exculpatory factor (:data:`EXCULPATORY`) that matches somewhere
        outside ``unit``."""
        ids = self.unit_atom_ids(unit)
        own = (
            self.atoms[ids[0]].counts  # most units are one atom: no sum to build
            if len(ids) == 1
            else np.sum([self.atoms[a].counts for a in ids], axis=0)
        )
        presence: FloatArray = (self.total_counts[EXCULPATORY] - own[EXCULPATORY] > 0).astype(
            np.float32
        )
        return presence

    def unit_text(self, unit: Unit) -> str:
        return "\n".join(a.instruction for a in self.unit_atoms(unit))

    def context_excerpt(self, unit: Unit) -> str:
        """Factor-matching sentences outside ``unit`` (most matches first, then earliest),
        in their original order, within ~60 tokens. Factor-free text never enters it."""
        if self._sentences is None:
            self._sentences = self._factor_sentences()
        own = set(self.unit_atom_ids(unit))
        for a in list(own):
            own.update(self.decoded.get(a, ()))
        chosen: list[tuple[int, str]] = []
        used = 0
        for _, order, atom, sentence in self._sentences:
            if atom in own or used + len(sentence) > _CONTEXT_CHARS:
                continue
            chosen.append((order, sentence))
            used += len(sentence) + 1
        return " ".join(s for _, s in sorted(chosen))

    def _factor_sentences(self) -> list[tuple[int, int, int, str]]:
        seen: set[int] = set()
        ordered: list[int] = []
        for ids in self.part_atoms:
            for a in ids:
                if a not in seen and self.atoms[a].has_factor:
                    seen.add(a)
                    ordered.append(a)
        found: list[tuple[int, int, int, str]] = []
        order = 0
        for a in ordered[:_CONTEXT_ATOMS]:
            text = self.atoms[a].instruction
            for sentence in _SENTENCE_END.split(text):
                clipped = sentence.strip()[:_SENTENCE_CHARS]
                if not clipped:
                    continue
                hits = factor_hits(clipped)
                if hits:
                    found.append((-hits, order, a, clipped))
                order += 1
        found.sort()
        return found


def segment(
    featurizer: UnitFeaturizer, messages: Sequence[Message], tools: Sequence[ToolSpec]
) -> Segmented:
    """Parts, atoms (with statistics) and the units to score.

    Raises:
        ClassifierError: more than :data:`MAX_ATOMS` distinct atoms.
    """
    parts = parts_of(messages, tools)
    index: dict[str, int] = {}
    texts: list[str] = []

    def atom_id(atom: str) -> int:
        found = index.get(atom)
        if found is None:
            if len(texts) >= MAX_ATOMS:
                raise ClassifierError(
                    f"more than {MAX_ATOMS} distinct segments: too large to screen"
                )
            found = index[atom] = len(texts)
            texts.append(atom)
        return found

    raw: list[list[int]] = [
        [atom_id(atom) for text in part.texts for atom in atoms_of(text)] for part in parts
    ]
    atoms = featurizer.atom_stats(texts)
    # What a raw atom decodes to (base64, hex, leetspeak ...) follows it as atoms of its own,
    # so that an encoded instruction is not diluted by the encoding's own tokens.
    n_raw = len(texts)
    part_atoms: list[list[int]] = []
    decoded: dict[int, tuple[int, ...]] = {}
    for ids in raw:
        expanded: list[int] = []
        for a in ids:
            expanded.append(a)
            if a < n_raw and atoms[a].views:
                found = decoded.get(a)
                if found is None:
                    found = decoded[a] = tuple(
                        atom_id(v) for view in atoms[a].views for v in atoms_of(view)
                    )
                expanded.extend(found)
        part_atoms.append(expanded)
    if len(texts) > n_raw:
        atoms += featurizer.atom_stats(texts[n_raw:])
    total = np.zeros(N_FACTORS, dtype=np.int64)
    for ids in raw:
        for a in ids:
            total += atoms[a].counts
    units = _units(parts, part_atoms, atoms)
    return Segmented(
        parts=parts,
        part_atoms=part_atoms,
        atoms=atoms,
        units=units,
        total_counts=total,
        keys=texts,
        decoded=decoded,
    )


def _units(parts: list[Part], part_atoms: list[list[int]], atoms: list[AtomStats]) -> list[Unit]:
    seen: set[tuple[int, ...]] = set()
    candidates: list[tuple[int, int, Unit]] = []  # (-red hits, order, unit)

    def add(p: int, start: int, stop: int, label: str) -> None:
        key = tuple(part_atoms[p][start:stop])
        if key in seen:
            return
        seen.add(key)
        hits = sum(atoms[a].red_hits for a in key)
        candidates.append((-hits, len(candidates), Unit(p, start, stop, label)))

    for p, ids in enumerate(part_atoms):
        label = parts[p].label
        n = len(ids)
        for i in range(n):
            add(p, i, i + 1, f"{label}, segment {i + 1} of {n}" if n > 1 else label)
    for p, ids in enumerate(part_atoms):
        label = parts[p].label
        n = len(ids)
        if n > 1 and sum(atoms[a].chars for a in ids) <= PART_MAX_CHARS:
            add(p, 0, n, label)
        for start, stop in _run_windows(ids, atoms):
            add(p, start, stop, f"{label}, segments {start + 1}-{stop} of {n}")
    if len(candidates) > MAX_UNITS:
        candidates.sort()
        candidates = sorted(candidates[:MAX_UNITS], key=lambda c: c[1])
    return [c[2] for c in candidates]


def _run_windows(ids: list[int], atoms: list[AtomStats]) -> list[tuple[int, int]]:
    """Windows over factor runs of one part (see the module docstring)."""
    windows: list[tuple[int, int]] = []
    n = len(ids)
    i = 0
    while i < n:
        if not atoms[ids[i]].has_factor:
            i += 1
            continue
        start = last = i
        j = i + 1
        while j < n and j - last - 1 <= RUN_GAP:
            if atoms[ids[j]].has_factor:
                last = j
            j += 1
        stop = last + 1
        if stop - start > 1:
            w = start
            while w < stop:
                size = 0
                e = w
                while e < stop and (e == w or size + atoms[ids[e]].chars <= RUN_WINDOW_CHARS):
                    size += atoms[ids[e]].chars
                    e += 1
                if e - w > 1:
                    windows.append((w, e))
                w = e
        i = stop
    return windows
