"""The safety stack: normalise -> features -> tier 1 -> (tier 2) -> per-category verdicts.

**Undilutable.** The red-line score of a conversation is at least the score of its most
harmful part, whatever comes before or after it (benign turns, padding, markup, many
messages, a buried paragraph, any role, a tool definition or call). Per red line,
:meth:`SafetyStack.judge` returns the maximum of

* the *whole-conversation* judgement: the final turn in the context of everything else
  (:mod:`redline.screening.conversation`), as before; it catches what only the combination
  shows (an escalation whose last turn says "now do it for all of them");
* every *unit*'s score (:mod:`redline.screening.units`): each message of every role, each
  tool definition and tool call, and within long texts each line, sentence window and
  factor run, scored by the *unit head* with the conversation's context represented only
  by exculpatory legal-test factors found elsewhere (and, for tier 2, the factor-matching
  sentences elsewhere). Factor-free text cannot change a unit's score, so inserting it
  anywhere can only keep or raise the maximum: the property holds by construction and is
  tested (``tests/unit/screening/test_units.py``); and
* every unit read as it would be alone (its own first stage and tier 2, with the context
  only able to lower tier 2's reading): a whole message or tool definition as that part
  sent on its own, and a line or sentence of a longer text (from
  :data:`ALONE_MIN_WORDS` words) as that text sent as the only message (its features
  composed from the units' statistics, so nothing is tokenised twice). A request
  refused on its own is refused between benign turns in any role, between paragraphs of
  a long document, before or after markup and as a tool description
  (``tests/unit/screening/test_placement.py``; :meth:`SafetyStack._escalate_units`).

Cascade: tier 1 (static embeddings, legal-test factors, hashed n-grams; well under a
millisecond for a typical request) scores every request. The shipped artifacts (unless
built with ``redline train --english-only``) add a multilingual static table and a second
pair of heads: text the language gate calls foreign
(:mod:`redline.screening.language`) is scored by both the English head and the head that
also reads the multilingual block, each red line keeping the higher score
(:class:`~redline.screening.linear.GatedHead`); English text is scored by the English
heads alone, exactly as without the table. Only when tier 1 gives any red
line a probability of at least :attr:`SafetyStack.escalate_at` does tier 2 (the
fine-tuned encoder, a few milliseconds) run; the two are then averaged. The escalation
point 0.15 was chosen on the validation batch V: the same recall as 0.08 with fewer false
positives and a third fewer escalations of lawful traffic. A unit goes to tier 2 from
:attr:`SafetyStack.unit_escalate_at` (0.3), at most
:data:`~redline.screening.units.TIER2_UNITS` per conversation, highest tier-1 score first:
measured on V and on everyday paragraphs, escalating units from 0.15 let tier 2 lift one
everyday paragraph in ~750 to review (in a 600-paragraph document, a false positive about
every second time) for two more of V's 133 red-line requests caught. Tier-2 results are
cached by their input pair (a conversation re-screened while a reply streams pays once);
tier-1 results by what they are computed from: a unit's by its atoms' texts and the
exculpatory context it sees, the whole judgement's by the conversation's texts, whose
context token ids are its messages' ids put together. So output screening, which reads
the prompt again with the reply, and each step of a streamed reply, score only what is
new; a hit is the cold result (``tests/unit/screening/test_cached_judgement.py``).
Operator categories (bring-your-own-policy) are scored from their examples
(:mod:`redline.screening.operator`) on the whole conversation only.

**API.** :meth:`SafetyStack.judge` ``(messages, tools)`` for input and output screening
alike: output screening passes the conversation plus an assistant message holding the
reply, and the reply is then one unit (or several, if long) judged with the conversation's
factor context exactly as the same text would be as a user turn. :class:`Judgement`
carries ``scores`` (the maximum), ``whole_scores``, ``unit_scores`` (the maximum over units)
and ``units`` (how many were scored). A conversation with more than
:data:`~redline.screening.units.MAX_ATOMS` distinct segments raises
:class:`~redline.errors.ClassifierError` (the caller fails closed).

Evidence names the factor and where it matched (the unit: "message 3 (tool), segment 2 of
5", "tool definition 1"; or final turn / context for the whole judgement), never the text,
so that evidence can go into the audit log.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from redline.domain import ChatRequest, Message, ToolSpec, Verdict
from redline.errors import ClassifierError
from redline.policy import Category, Policy
from redline.screening.artifacts import (
    ARTIFACTS_DIR,
    MULTILINGUAL_HEAD,
    MULTILINGUAL_SPECIAL,
    MULTILINGUAL_TABLE,
    MULTILINGUAL_TOKENIZER,
    MULTILINGUAL_UNIT_HEAD,
    Manifest,
    load_manifest,
)
from redline.screening.conversation import ConversationTexts, conversation_texts
from redline.screening.embedder import StaticEmbedder
from redline.screening.excerpt import salient_excerpt
from redline.screening.factors import FACTORS
from redline.screening.features import FeatureVector, Featurizer
from redline.screening.linear import GatedHead, LinearHead
from redline.screening.lru import LRU
from redline.screening.operator import OperatorCategoryModel
from redline.screening.tier2 import Tier2Model, pair_for
from redline.screening.units import (
    TIER2_UNITS,
    Segmented,
    Unit,
    UnitFeaturizer,
    segment,
)

__all__ = ["Judgement", "SafetyStack"]

logger = logging.getLogger(__name__)

_UNIT_CACHE_CHARS = 16_384  # longer units are scored without being remembered
#: A line or sentence of a longer text is read alone only from this many words: a request
#: needs a verb and its object, and measured on the validation batch V, shorter fragments
#: of pasted configs and code ("auto_engage: true", "os.kill(pid, signal.SIGTERM)",
#: "build_targets:") read alone look like red-line requests to both tiers while the units
#: and the whole-conversation judgement read them in their setting.
ALONE_MIN_WORDS = 5
#: A line's reading alone counts for a red line only where the unit head gives the line at
#: least this for it. Chosen on the validation batch V and on generated everyday
#: documents: every everyday paragraph that reached review through its reading alone (both
#: tiers read some household paragraphs as requests) had a unit score below 0.05 for that
#: red line, and of V's refused requests placed in a longer text one needed more.
LINE_UNIT_FLOOR = 0.05


@dataclass(frozen=True, slots=True, kw_only=True)
class Judgement:
    """Scores for every category the stack knows, plus evidence and what ran."""

    scores: dict[str, float]
    evidence: dict[str, tuple[str, ...]] = field(default_factory=dict)
    tiers: tuple[str, ...] = ()
    whole_scores: dict[str, float] = field(default_factory=dict)
    unit_scores: dict[str, float] = field(default_factory=dict)
    message_scores: dict[str, float] = field(default_factory=dict)
    """The maximum over whole messages, tool definitions and lines of longer texts read
    as they would be alone (see :meth:`SafetyStack._escalate_units`); empty without
    tier 2."""
    units: int = 0
    timings: dict[str, float] = field(default_factory=dict)
    """Seconds spent per tier (``tier1``, ``tier2``, ``units``, ``operator``); tier 2 holds
    every tier-2 call, whole conversation and units alike, and ``units`` the rest of unit
    scoring."""

    def verdicts(self) -> list[Verdict]:
        """One verdict per category."""
        source = "+".join(self.tiers)
        return [
            Verdict(category=c, score=s, source=source, evidence=self.evidence.get(c, ()))
            for c, s in self.scores.items()
        ]


class SafetyStack:
    """Built once per policy (operator categories depend on it); shared by all requests."""

    def __init__(
        self,
        *,
        manifest: Manifest,
        featurizer: Featurizer,
        head: LinearHead,
        unit_head: LinearHead,
        tier2: Tier2Model | None,
        multilingual_heads: tuple[LinearHead, LinearHead] | None = None,
        operator_models: Sequence[OperatorCategoryModel] = (),
        escalate_at: float = 0.15,
        unit_escalate_at: float = 0.3,
    ) -> None:
        if unit_head.classes != head.classes:
            raise ClassifierError("the unit head and the tier-1 head name different classes")
        if (multilingual_heads is None) != (featurizer.multilingual is None):
            raise ClassifierError("the multilingual table and its heads come together")
        self.manifest = manifest
        self.featurizer = featurizer
        self.units = UnitFeaturizer(featurizer.embedder, featurizer.multilingual)
        ml_head, ml_unit_head = multilingual_heads or (None, None)
        self.head = GatedHead(head, ml_head, block=featurizer.block_size)
        self.unit_head = GatedHead(unit_head, ml_unit_head, block=self.units.block_size)
        self.tier2 = tier2
        self.operator_models = tuple(operator_models)
        self.escalate_at = escalate_at
        self.unit_escalate_at = unit_escalate_at
        self.red_lines = tuple(c for c in head.classes if c != "allow")
        # Tier-1 results by what they were computed from (pure functions of their keys, so
        # a hit gives exactly the cold result): output screening re-reads the prompt, a
        # stream re-reads the reply so far, a chat re-sends its history.
        self._whole_cache: LRU[ConversationTexts, tuple[FeatureVector, dict[str, float]]] = LRU(256)
        self._unit_cache: LRU[tuple[tuple[str, ...], bytes], dict[str, float]] = LRU(4_096)

    @classmethod
    def load(
        cls,
        policy: Policy | None = None,
        directory: Path = ARTIFACTS_DIR,
        *,
        categories: Sequence[Category] | None = None,
    ) -> SafetyStack:
        """Load and verify the artifacts; fit the operator categories of ``policy`` (or of
        ``categories``, where no whole policy is at hand: a CPU-lane worker).

        Raises:
            ClassifierError: missing or altered artifacts.
        """
        manifest = load_manifest(directory)
        embedder = StaticEmbedder(
            manifest.path("tokenizer.json"), manifest.path("static_embeddings.npy")
        )
        multilingual = None
        multilingual_heads = None
        if MULTILINGUAL_TABLE in manifest.files:
            multilingual = StaticEmbedder(
                manifest.path(MULTILINGUAL_TOKENIZER),
                manifest.path(MULTILINGUAL_TABLE),
                special=MULTILINGUAL_SPECIAL,
            )
            multilingual_heads = (
                LinearHead.load(manifest.path(MULTILINGUAL_HEAD)),
                LinearHead.load(manifest.path(MULTILINGUAL_UNIT_HEAD)),
            )
        head = LinearHead.load(manifest.path("tier1.npz"))
        unit_head = LinearHead.load(manifest.path("units.npz"))
        tier2 = None
        if "tier2.onnx" in manifest.files:
            tier2 = Tier2Model(
                manifest.path("tier2.onnx"), manifest.path("tokenizer.json"), head.classes
            )
        operators: list[OperatorCategoryModel] = []
        if categories is None:
            categories = policy.categories if policy is not None else ()
        if categories:
            background = np.load(manifest.path("background.npy")).astype(np.float32)
            for category in categories:
                if category.floor or category.id in head.classes:
                    continue
                if not category.examples_positive:
                    raise ClassifierError(
                        f"operator category {category.id!r} has no positive examples to learn from"
                    )
                operators.append(
                    OperatorCategoryModel.fit(
                        category.id,
                        embedder,
                        positives=(category.definition, *category.examples_positive),
                        negatives=category.examples_negative,
                        background=background,
                    )
                )
        return cls(
            manifest=manifest,
            featurizer=Featurizer(embedder, multilingual),
            head=head,
            unit_head=unit_head,
            tier2=tier2,
            multilingual_heads=multilingual_heads,
            operator_models=operators,
        )

    def judge(self, messages: Sequence[Message], tools: Sequence[ToolSpec] = ()) -> Judgement:
        """Score a conversation: per red line, the maximum of the whole-conversation
        judgement and of every unit's score (synchronous; CPU-bound).

        Raises:
            ClassifierError: the conversation has too many distinct segments to screen.
        """
        clock = time.perf_counter
        started = clock()
        texts = conversation_texts(messages, tools)
        features, whole = self._whole_tier1(texts)
        tiers = ["tier1"]
        timings = {"tier1": clock() - started}
        if self.tier2 is not None and max(whole[c] for c in self.red_lines) >= self.escalate_at:
            started = clock()
            second = self.tier2.probabilities(texts)
            whole = {c: 0.5 * whole[c] + 0.5 * second[c] for c in whole}
            tiers.append("tier2")
            timings["tier2"] = clock() - started
        started = clock()
        segmented = segment(self.units, messages, tools)
        unit_scores, message_scores, top, tier2_s = self._score_units(segmented, whole, messages)
        if tier2_s:
            if "tier2" not in tiers:
                tiers.append("tier2")
            timings["tier2"] = timings.get("tier2", 0.0) + tier2_s
        tiers.append("units")
        timings["units"] = clock() - started - tier2_s
        scores = {
            c: max(whole[c], unit_scores[c], message_scores.get(c, 0.0)) for c in self.red_lines
        }
        if self.operator_models:
            started = clock()
            embedding = features.dense[: self.featurizer.embedder.dims]
            for model in self.operator_models:
                scores[model.category] = model.score(embedding)
            tiers.append("operator")
            timings["operator"] = clock() - started
        evidence = _evidence(texts, scores, whole, segmented, top)
        return Judgement(
            scores=scores,
            evidence=evidence,
            tiers=tuple(tiers),
            whole_scores={c: whole[c] for c in self.red_lines},
            unit_scores=unit_scores,
            message_scores=message_scores,
            units=len(segmented.units),
            timings=timings,
        )

    def escalates(self, messages: Sequence[Message], tools: Sequence[ToolSpec] = ()) -> bool:
        """Whether :meth:`judge` will call tier 2 for the whole conversation (its tier-1
        score reaches :attr:`escalate_at`); cheap, and remembered for :meth:`judge`."""
        if self.tier2 is None:
            return False
        whole = self._whole_tier1(conversation_texts(messages, tools))[1]
        return max(whole[c] for c in self.red_lines) >= self.escalate_at

    def _whole_tier1(self, texts: ConversationTexts) -> tuple[FeatureVector, dict[str, float]]:
        """Features and tier-1 probabilities of the whole conversation (remembered: output
        screening and a re-sent chat history meet the same texts again)."""
        found = self._whole_cache.get(texts)
        if found is None:
            features = self.featurizer.features(texts)
            found = (features, self.head.probabilities(features))
            self._whole_cache.put(texts, found)
        return found

    def _unit_tier1(self, segmented: Segmented, unit: Unit) -> dict[str, float]:
        """Tier-1 probabilities of a unit, remembered by its atoms' texts and the
        exculpatory context it sees (everything its features are made of)."""
        rest = segmented.rest_presence(unit)
        texts = segmented.unit_key(unit)
        key = (texts, rest.tobytes())
        remember = sum(map(len, texts)) <= _UNIT_CACHE_CHARS
        found = self._unit_cache.get(key) if remember else None
        if found is None:
            features = self.units.features(segmented.unit_atoms(unit), rest)
            found = self.unit_head.probabilities(features)
            if remember:
                self._unit_cache.put(key, found)
        return found

    def judge_request(self, request: ChatRequest) -> Judgement:
        """Score a parsed gateway request (its canonical view: messages, extra fields, tools)."""
        return self.judge(request.screen_messages(), request.tools)

    def _alone_tier1(
        self,
        segmented: Segmented,
        messages: Sequence[Message],
        unit_probs: Sequence[dict[str, float]],
    ) -> tuple[dict[int, dict[str, float]], dict[int, frozenset[str]]]:
        """Per unit order: the whole-conversation head's tier-1 probabilities of the unit
        read as a conversation of its own. A whole message is read as that message alone,
        a whole tool definition as a user turn of its texts, and a line or sentence of a
        longer text (one atom, at least :data:`ALONE_MIN_WORDS` words) as a user turn of
        its own text, its features composed from the atom's statistics
        (:meth:`Featurizer.single_turn`): a request placed inside a long document or
        before markup is read as it would be on its own, without tokenising it again. A
        line's reading keeps only the red lines its own unit score (``unit_probs``, by unit
        order: the unit head, which reads the line with the exculpatory factors found
        elsewhere), or the unit score of what the line decodes to, gives at least
        :data:`LINE_UNIT_FLOOR` (the others read 0); those kept are returned per line, by
        unit order."""
        out: dict[int, dict[str, float]] = {}
        lines: dict[int, frozenset[str]] = {}
        single = {
            segmented.unit_atom_ids(u)[0]: o
            for o, u in enumerate(segmented.units)
            if u.stop - u.start == 1
        }
        for order, unit in enumerate(segmented.units):
            if unit.start != 0 or unit.stop != len(segmented.part_atoms[unit.part]):
                if (
                    unit.stop - unit.start == 1
                    and segmented.unit_atoms(unit)[0].n_words >= ALONE_MIN_WORDS
                ):
                    read = self._composed_alone(segmented, unit)
                    atom = segmented.unit_atom_ids(unit)[0]
                    # The line's own unit score, or that of what it decodes to (a base64
                    # line means nothing to the unit head until decoded).
                    own = [order] + [
                        single[v] for v in segmented.decoded.get(atom, ()) if v in single
                    ]
                    kept = frozenset(
                        c
                        for c in self.red_lines
                        if max(unit_probs[o][c] for o in own) >= LINE_UNIT_FLOOR
                    )
                    lines[order] = kept
                    out[order] = {
                        c: (v if c == "allow" or c in kept else 0.0) for c, v in read.items()
                    }
                continue
            if unit.part < len(messages):
                alone: tuple[Message, ...] = (messages[unit.part],)
            else:
                alone = (Message(role="user", text="\n".join(segmented.parts[unit.part].texts)),)
            out[order] = self._whole_tier1(conversation_texts(alone))[1]
        return out, lines

    def _composed_alone(self, segmented: Segmented, unit: Unit) -> dict[str, float]:
        """The whole-conversation head's reading of a one-atom unit's text as the only
        message of a conversation (remembered by the atom's text): the same probabilities
        as :meth:`_whole_tier1` of that text sent alone, from the atom's statistics."""
        atom = segmented.unit_atoms(unit)[0]
        key = (segmented.unit_key(unit), b"alone")
        remember = atom.chars <= _UNIT_CACHE_CHARS
        found = self._unit_cache.get(key) if remember else None
        if found is None:
            features = self.featurizer.single_turn(
                ids=atom.ids,
                emb_sum=atom.emb_sum,
                counts=atom.counts,
                n_records=atom.n_records,
                chars=atom.plain_chars,
                non_ascii=atom.plain_non_ascii,
                n_signals=len(atom.signals),
                ml_sum=atom.ml_sum,
            )
            found = self.head.probabilities(features)
            if remember:
                self._unit_cache.put(key, found)
        return found

    @staticmethod
    def _unit_excerpt(segmented: Segmented, unit: Unit, messages: Sequence[Message]) -> str:
        """What tier 2 reads of a unit: a whole message is read as the whole-conversation
        judgement reads a final turn (so a one-message conversation costs one tier-2 call,
        not two); anything else as the salient excerpt of its atoms."""
        whole_part = unit.start == 0 and unit.stop == len(segmented.part_atoms[unit.part])
        if whole_part and unit.part < len(messages):
            return pair_for(conversation_texts((messages[unit.part],)))[0]
        return salient_excerpt(segmented.unit_text(unit), max_tokens=110)

    def _score_units(
        self, segmented: Segmented, floor: dict[str, float], messages: Sequence[Message]
    ) -> tuple[dict[str, float], dict[str, float], dict[str, Unit], float]:
        """Per red line the maximum over units and over whole messages read alone, the unit
        that reached the higher, and the seconds spent in tier 2 (0.0: it did not run)."""
        scored: list[tuple[float, int, Unit, dict[str, float]]] = []
        for order, unit in enumerate(segmented.units):
            probs = self._unit_tier1(segmented, unit)
            scored.append((max(probs[c] for c in self.red_lines), order, unit, probs))
        tier2_s = 0.0
        readings: dict[int, dict[str, float]] = {}
        if self.tier2 is not None:
            final, readings, tier2_s = self._escalate_units(
                self.tier2, segmented, scored, floor, messages
            )
        else:
            final = [probs for *_, probs in scored]
        out = dict.fromkeys(self.red_lines, 0.0)
        alone = dict.fromkeys(self.red_lines, 0.0) if readings else {}
        peak = dict.fromkeys(self.red_lines, 0.0)
        top: dict[str, Unit] = {}
        for (_, order, unit, _), probs in zip(scored, final, strict=True):
            reading = readings.get(order, {})
            for c in self.red_lines:
                out[c] = max(out[c], probs[c])
                read = reading.get(c, 0.0)
                if read > alone.get(c, 0.0):
                    alone[c] = read
                if max(probs[c], read) > peak[c]:
                    peak[c] = max(probs[c], read)
                    top[c] = unit
        return out, alone, top, tier2_s

    def _escalate_units(
        self,
        tier2: Tier2Model,
        segmented: Segmented,
        scored: list[tuple[float, int, Unit, dict[str, float]]],
        floor: dict[str, float],
        messages: Sequence[Message],
    ) -> tuple[list[dict[str, float]], dict[int, dict[str, float]], float]:
        """Each unit's final probabilities after tier 2, the units' readings alone (by
        unit order), and the seconds tier 2 took.

        A unit escalates from :attr:`unit_escalate_at` (its own tier-1 score, then averaged
        with tier 2's reading of it with its context excerpt). Every unit is also read as
        it would be on its own (a whole message or tool definition as that part alone,
        anything else as its text sent as the only message): from :attr:`escalate_at` of the
        whole-conversation head's reading of it alone (:meth:`_alone_tier1`), averaged with
        tier 2's reading of it alone, or, when the conversation holds factor-matching
        sentences elsewhere, the lower of that and tier 2's reading in that context (an
        exculpatory fact elsewhere still counts, and a neutral "handle the next ticket"
        beside an alarming tool result stays neutral). That reading is reported apart
        (:attr:`Judgement.message_scores`), so the units' own scores keep their meaning
        (benign material never lowers them). Benign factor-free material gives it no
        context, so a request refused on its own is refused wherever it is placed
        (``tests/unit/screening/test_placement.py``), and a one-message conversation is
        judged exactly as before.

        ``floor`` holds the scores already reached (the whole-conversation judgement): a
        unit goes to tier 2 only if averaging could lift some red line above both it and
        every unit scored so far (0.5 * first stage + 0.5 > best), so the skipped calls
        cannot change the maximum; at most :data:`TIER2_UNITS` calls' worth of units,
        highest first-stage score first.
        """
        alone, lines = self._alone_tier1(segmented, messages, [probs for *_, probs in scored])
        final = [probs for *_, probs in scored]
        readings: dict[int, dict[str, float]] = {}
        lifted = [_lift(probs, alone.get(order)) for _, order, _, probs in scored]
        # Units escalating on their own tier-1 score first (as without the readings alone),
        # then those escalating by their reading alone; highest first within each.
        candidates = sorted(
            (
                (
                    scored[o][0] < self.unit_escalate_at,
                    -max(lifted[o][c] for c in self.red_lines),
                    o,
                )
                for o in range(len(scored))
                if scored[o][0] >= self.unit_escalate_at
                or (o in alone and max(alone[o][c] for c in self.red_lines) >= self.escalate_at)
            ),
        )
        chosen = {o for *_, o in candidates}
        # Final scores so far: the whole judgement and the units tier 2 will not read.
        best = dict(floor)
        for o, probs in enumerate(final):
            if o not in chosen:
                for c in self.red_lines:
                    best[c] = max(best[c], probs[c])
        calls = 0
        tier2_s = 0.0
        for *_, o in candidates:
            first = lifted[o]
            if calls >= TIER2_UNITS or all(0.5 * first[c] + 0.5 <= best[c] for c in self.red_lines):
                for c in self.red_lines:
                    best[c] = max(best[c], final[o][c])
                continue
            started = time.perf_counter()
            unit = scored[o][2]
            excerpt = self._unit_excerpt(segmented, unit, messages)
            context = segmented.context_excerpt(unit)
            second = tier2.pair_probabilities(excerpt, context)
            calls += 1
            own = final[o]
            if scored[o][0] >= self.unit_escalate_at:  # its own first stage, in context
                final[o] = {c: 0.5 * own[c] + 0.5 * second[c] for c in own}
            if o in alone and max(alone[o][c] for c in self.red_lines) >= self.escalate_at:
                # As it would be judged alone (tier 2 alone, and in its context when it has
                # one); the higher of that and its own stage.
                if context:
                    alone_second = tier2.pair_probabilities(excerpt, "")
                    second = {c: min(v, alone_second[c]) for c, v in second.items()}
                kept = lines.get(o)
                readings[o] = {
                    c: 0.5 * alone[o][c] + 0.5 * second[c] if kept is None or c in kept else 0.0
                    for c in own
                }
                for c in self.red_lines:
                    best[c] = max(best[c], readings[o][c])
            tier2_s += time.perf_counter() - started
            for c in self.red_lines:
                best[c] = max(best[c], final[o][c])
        return final, readings, tier2_s


def _lift(probs: dict[str, float], alone: dict[str, float] | None) -> dict[str, float]:
    """A unit's first-stage probabilities: its own, or, for a whole part, the higher of its
    own and the part's reading alone."""
    if alone is None:
        return probs
    return {c: max(p, alone.get(c, 0.0)) for c, p in probs.items()}


def _evidence(
    texts: ConversationTexts,
    scores: dict[str, float],
    whole: dict[str, float],
    segmented: Segmented,
    top: dict[str, Unit],
) -> dict[str, tuple[str, ...]]:
    """Factor names and where they matched (the unit, or final turn / context), per red
    line; never text, so evidence can go into the audit log."""
    evidence: dict[str, tuple[str, ...]] = {}
    for category, score in scores.items():
        if score < 0.3:
            continue
        unit = top.get(category)
        if unit is not None and whole.get(category, 0.0) < score:
            found = _unit_evidence(category, segmented, unit)
        else:
            found = _whole_evidence(category, texts)
            if unit is not None:
                found.insert(0, f"unit: {unit.label}")
        evidence[category] = tuple(found[:8])
    return evidence


def _unit_evidence(category: str, segmented: Segmented, unit: Unit) -> list[str]:
    atoms = segmented.unit_atoms(unit)
    own = np.sum([a.counts for a in atoms], axis=0)
    rest = segmented.total_counts - own
    found = [f"unit: {unit.label}"]
    for i, factor in enumerate(FACTORS):
        if factor.red_line == category and own[i]:
            found.append(f"{unit.label}: {factor.name} x{int(own[i])}")
    for i, factor in enumerate(FACTORS):
        if factor.red_line == category and not own[i] and rest[i] > 0:
            found.append(f"elsewhere in the conversation: {factor.name}")
    records = sum(a.n_records for a in atoms)
    if records:
        found.append(f"{unit.label}: {records} pasted records")
    return found


def _whole_evidence(category: str, texts: ConversationTexts) -> list[str]:
    found: list[str] = []
    for factor in FACTORS:
        if factor.red_line != category:
            continue
        matches = factor.pattern.findall(texts.final_full[:65536])
        if matches:
            found.append(f"final turn: {factor.name} x{len(matches)}")
        elif factor.pattern.findall(texts.context[:65536]):
            found.append(f"context: {factor.name}")
    if texts.n_records:
        found.append(f"final turn: {texts.n_records} pasted records")
    return found
