"""The :class:`Monitors`: cross-request verdicts for one request or response.

Spec: DOMAIN.md §5.3 (mass = no discriminant, population scale, persistence),
§5.5 (RL3), §5.6 (signals). It turns what the state reports into
:class:`~redline.domain.Verdict` s that enter the same ``decide()`` and audit record as the
screening verdicts (sources ``monitor:person_volume``, ``monitor:bulk_records``,
``monitor:closed_loop``). Evidence strings carry counts, windows, reasons and at most
``config.examples`` identifier hashes (16 hex digits) - never request content.

Person volume (RL1). A request is *person-centric* when it names at least one person and
asks for tracking, monitoring, locating or profiling (:data:`redline.monitors.intent.SURVEIL`).
Only person-centric requests add their persons to the windows and only they are escalated:
once a principal's (or its tenant's) effective distinct count in a window reaches the
review / block threshold, each further person-centric request gets a verdict under
``mass_domestic_surveillance``. Requests that merely contain personal data (summarise this
e-mail thread) neither count nor escalate.

Bulk records (RL1/RL3). One request with many person records and a tracking task feeds
``mass_domestic_surveillance``; with a ranking/scoring/deciding task it feeds
``high_stakes_automated_decisions``. The score grows with the record count ``n`` against
``bulk_min_records`` (``b``): 0 below ``b / 10``; ``block_score * sqrt(n / b)`` up to ``b``;
then ``block_score + (1 - block_score) * (1 - b / n)``. A lawful task (deduplicate, redact,
statistics ...) alongside scales it by 0.6; a named human decision-maker by 0.5 (RL3 only);
records that are all foreign scale the RL1 score by 0.3.

Closed loop (RL2). On a request that offers effector tools (or carries effector calls in its
history), machine-speed cadence (at least ``cadence_min_gaps`` gaps, CV below
``cadence_max_cv``, median below ``cadence_max_median_s``) blocks, and a tool-result streak of
``tool_cycle_streak`` at sub-``cadence_max_median_s`` median gaps is held for review. Every
effector call - in a response, or an effector result fed back - needs a valid
human-confirmation token (:mod:`redline.monitors.confirmation`): without one it is blocked.
A response's token is single use; two confirmed effector calls closer than
``min_effector_interval_s`` are held for review.

Failure: a state error (:class:`~redline.errors.StoreError`) propagates; the caller fails
closed.
"""

from __future__ import annotations

import asyncio
import fnmatch
import json
import math
from collections.abc import Awaitable, Callable, Sequence
from datetime import datetime
from typing import Any

from redline.clock import Clock, rfc3339
from redline.domain import ChatRequest, JSONObject, JSONValue, Message, ToolCall, Verdict
from redline.monitors.bulk import RecordCount, count_records
from redline.monitors.config import MonitorConfig
from redline.monitors.confirmation import CONFIRMATION_ARGUMENT, verify_token
from redline.monitors.intent import SURVEIL, classify
from redline.monitors.persons import Nationality, PersonExtractor, PersonRef
from redline.monitors.state import CallKind, MonitorState, Scope, WindowCount

__all__ = [
    "AUTONOMOUS_WEAPONS",
    "HIGH_STAKES",
    "MASS_SURVEILLANCE",
    "Monitors",
]

MASS_SURVEILLANCE = "mass_domestic_surveillance"
AUTONOMOUS_WEAPONS = "autonomous_weapons"
HIGH_STAKES = "high_stakes_automated_decisions"
_VOLUME = "monitor:person_volume"
_BULK = "monitor:bulk_records"
_LOOP = "monitor:closed_loop"


_INLINE_SCAN_CHARS = 2_048  # longer texts are scanned for persons and records in a thread


def _ts(now: datetime) -> float:
    return now.timestamp()


Offload = Callable[..., Awaitable[Any]]
"""Runs ``fn(*args)`` off the event loop and returns its result."""


def scan_text(
    extractor: PersonExtractor, bulk_min_records: int, text: str
) -> tuple[Sequence[PersonRef], RecordCount | None]:
    """Persons named in ``text`` and its pasted records (CPU-bound, no I/O; a module-level
    function so that a worker process can run it)."""
    extraction = extractor.extract(text) if text else None
    persons = extraction.persons() if extraction is not None else ()
    # Fewer lines than the smallest scored record count cannot be bulk (unless JSON).
    rows_needed = max(2, math.ceil(bulk_min_records / 10))
    maybe_bulk = text.count("\n") + 1 >= rows_needed or "[" in text
    return persons, count_records(text) if maybe_bulk else None


class Monitors:
    """All cross-request monitors behind one object; build once per process."""

    def __init__(
        self,
        config: MonitorConfig,
        state: MonitorState,
        extractor: PersonExtractor,
        *,
        confirmation_key: bytes,
        clock: Clock,
        offload: Offload | None = None,
    ) -> None:
        """Args:
        config: thresholds and bounds (:meth:`MonitorConfig.from_policy`).
        state: in-process or Redis state.
        extractor: the person extractor (holds the per-deployment hash salt).
        confirmation_key: the key human-confirmation tokens are signed with.
        clock: used by :meth:`snapshot`; observe methods take ``now`` explicitly.
        offload: runs ``fn(*args)`` off the event loop for scans of long requests (the
            composition root passes the CPU lane's worker processes); default a thread.
        """
        self._offload: Offload = offload or asyncio.to_thread
        self.config = config
        self._state = state
        self._extractor = extractor
        self._key = confirmation_key
        self.confirmation_key = confirmation_key
        self._clock = clock
        self._patterns = tuple(p.lower() for p in config.effector_patterns)

    def is_effector(self, tool_name: str) -> bool:
        """Whether ``tool_name`` matches an effector pattern (case-insensitive)."""
        name = tool_name.lower()
        return any(fnmatch.fnmatchcase(name, p) for p in self._patterns)

    # --- requests ---------------------------------------------------------------------------

    async def observe_request(
        self,
        principal: str,
        tenant: str,
        route: str,
        request: ChatRequest,
        now: datetime,
        *,
        confirmation: str | None = None,
    ) -> list[Verdict]:
        """Verdicts of every monitor for one incoming request.

        Args:
            principal: the principal id.
            tenant: the principal's tenant.
            route: the model route (closed-loop state is per principal+route).
            request: the parsed request.
            now: the request time (UTC).
            confirmation: the ``x-redline-human-confirmation`` header, if any.

        Raises:
            StoreError: the shared state failed (fail closed).
        """
        t = _ts(now)
        limit = self.config.max_scan_chars
        text = "\n".join(m.text for m in request.messages if m.text)[:limit]
        verdicts: list[Verdict] = []
        if len(text) <= _INLINE_SCAN_CHARS:
            persons, bulk = self._scan(text)
        else:  # a long request is scanned off the event loop: other clients keep flowing
            persons, bulk = await self._offload(
                scan_text, self._extractor, self.config.bulk_min_records, text
            )
        if bulk is not None and bulk.records:
            verdicts += self._bulk_verdicts(bulk.records, bulk.instructions, persons)
        if persons and SURVEIL.search(text):
            cap = self.config.max_persons_per_request
            counts = await self._state.add_persons(principal, tenant, persons[:cap], t)
            verdicts += self._volume_verdicts(counts, persons)
        verdicts += await self._loop_request(principal, route, request, t, confirmation)
        return verdicts

    def _volume_verdicts(
        self, counts: Sequence[WindowCount], persons: Sequence[PersonRef]
    ) -> list[Verdict]:
        cfg = self.config
        worst: tuple[float, str] | None = None
        for c in counts:
            effective, review, block = self._judge_window(c)
            if effective < review:
                continue
            if effective >= block:
                score = cfg.block_score + (1 - cfg.block_score) * min(1.0, effective / block - 1)
            else:
                step = (cfg.block_score - cfg.review_score) / 2
                score = cfg.review_score + step * (effective - review) / max(1, block - review)
            note = (
                f"person_volume: {c.scope.value} window={c.window_s}s "
                f"distinct_us={c.us:.0f} distinct_unknown={c.unknown:.0f} "
                f"distinct_foreign={c.foreign:.0f} effective={effective:.1f} "
                f"review_at={review} block_at={block}"
            )
            if worst is None or score > worst[0]:
                worst = (score, note)
        if worst is None:
            return []
        examples = ",".join(p.short for p in persons[: cfg.examples])
        return [
            Verdict(
                category=MASS_SURVEILLANCE,
                score=round(min(1.0, worst[0]), 4),
                source=_VOLUME,
                evidence=(worst[1], f"examples=hmac-sha256:{examples}"),
            )
        ]

    def _judge_window(self, count: WindowCount) -> tuple[float, int, int]:
        """The one threshold rule of a window count: (effective count, review at, block at),
        used by enforcement and by the admin snapshot alike."""
        cfg = self.config
        window = next(w for w in cfg.windows if w.window_s == count.window_s)
        review, block = (
            (window.review_at, window.block_at)
            if count.scope is Scope.PRINCIPAL
            else (window.tenant_review_at, window.tenant_block_at)
        )
        return count.effective(cfg.unknown_weight, cfg.foreign_weight), review, block

    def _bulk_verdicts(
        self, records: int, instructions: str, persons: Sequence[PersonRef]
    ) -> list[Verdict]:
        cfg = self.config
        intent = classify(instructions)
        if not (intent.surveil or intent.decide):
            return []
        b = cfg.bulk_min_records
        if records < max(2, b / 10):
            return []
        if records <= b:
            base = cfg.block_score * math.sqrt(records / b)
        else:
            base = cfg.block_score + (1 - cfg.block_score) * (1 - b / records)
        if intent.lawful:
            base *= 0.6
        out = []
        note = f"bulk_records: records={records} min_records={b}"
        flags = ",".join(
            k for k in ("surveil", "decide", "lawful", "human_loop") if getattr(intent, k)
        )
        if intent.surveil:
            foreign_only = bool(persons) and all(
                p.nationality is Nationality.FOREIGN for p in persons
            )
            score = base * (0.3 if foreign_only else 1.0)
            out.append(
                Verdict(
                    category=MASS_SURVEILLANCE,
                    score=round(min(1.0, score), 4),
                    source=_BULK,
                    evidence=(note, f"task={flags}"),
                )
            )
        if intent.decide:
            score = base * (0.5 if intent.human_loop else 1.0)
            out.append(
                Verdict(
                    category=HIGH_STAKES,
                    score=round(min(1.0, score), 4),
                    source=_BULK,
                    evidence=(note, f"task={flags}"),
                )
            )
        return out

    # --- U.S.-person facts for authority rules -------------------------------------------

    def us_persons(
        self, request: ChatRequest, *, scope: bool = True
    ) -> tuple[bool, frozenset[str]]:
        """Whether ``request`` targets a U.S. person, and the digests of its U.S. identifiers.

        Targeting means what the person-volume monitor counts: the request names at least
        one person whose identifier is classed U.S. (DOMAIN.md §5.2: a U.S. format, or a
        format-neutral identifier in a text with U.S. indicators) and asks for tracking,
        monitoring, locating or profiling (:data:`SURVEIL`). Pure and CPU-bound; the
        orchestrator calls it only when the policy has authority rules or the request cites
        an authority. With ``scope=False`` (nothing cited, so no scope to check) a request
        that asks for no tracking is not scanned for persons at all.
        """
        text = "\n".join(m.text for m in request.messages if m.text)[: self.config.max_scan_chars]
        surveil = SURVEIL.search(text) is not None
        if not text or not (scope or surveil):
            return False, frozenset()
        refs = [r for r in self._extractor.extract(text).refs if r.nationality is Nationality.US]
        digests = frozenset(r.digest for r in refs)
        return bool(digests) and surveil, digests

    def selector_digests(self, selector: str) -> frozenset[str]:
        """The digests of the identifiers in one register selector (same hashing as requests).

        A selector is written as it would appear in a request (``phone (937) 555-0123``,
        ``jane.roe@example.com``, ``Dr. Jane Roe``); identifiers the extractor does not find
        in it cover nothing (fail closed).
        """
        return frozenset(r.digest for r in self._extractor.extract(selector).refs)

    def _scan(self, text: str) -> tuple[Sequence[PersonRef], RecordCount | None]:
        return scan_text(self._extractor, self.config.bulk_min_records, text)

    async def _loop_request(
        self, principal: str, route: str, request: ChatRequest, t: float, confirmation: str | None
    ) -> list[Verdict]:
        cfg = self.config
        effector_tools = [s.name for s in request.tools if self.is_effector(s.name)]
        history = [c for m in request.messages for c in m.tool_calls if self.is_effector(c.name)]
        if not effector_tools and not history:
            return []
        messages = request.messages
        feeding = bool(messages) and messages[-1].role == "tool"
        kind = CallKind.TOOL_RESULT if feeding else CallKind.REQUEST
        stats = await self._state.record_call(principal, route, t, kind)
        out: list[Verdict] = []
        machine = (
            stats.gaps >= cfg.cadence_min_gaps
            and stats.cv < cfg.cadence_max_cv
            and stats.median_gap_s < cfg.cadence_max_median_s
        )
        fast_cycle = (
            stats.tool_streak >= cfg.tool_cycle_streak
            and stats.median_gap_s < cfg.cadence_max_median_s
        )
        if machine or fast_cycle:
            out.append(
                Verdict(
                    category=AUTONOMOUS_WEAPONS,
                    score=cfg.block_score if machine else cfg.review_score,
                    source=_LOOP,
                    evidence=(
                        f"closed_loop: {'machine-speed cadence' if machine else 'tool cycle'} "
                        f"on effector route gaps={stats.gaps} "
                        f"median_gap_s={stats.median_gap_s:.3f} "
                        f"cv={stats.cv:.3f} tool_streak={stats.tool_streak}",
                        "effector_tools=" + ",".join(sorted(set(effector_tools))[:5]),
                    ),
                )
            )
        if feeding:
            out += self._fed_back(principal, request, t, confirmation)
        return out

    def _fed_back(
        self, principal: str, request: ChatRequest, t: float, confirmation: str | None
    ) -> list[Verdict]:
        """Effector results fed back must come from confirmed calls (checked, not consumed)."""
        messages = request.messages
        i = len(messages)
        while i > 0 and messages[i - 1].role == "tool":
            i -= 1
        if i == 0 or not messages[i - 1].tool_calls:
            return []
        out = []
        for call in messages[i - 1].tool_calls:
            if not self.is_effector(call.name):
                continue
            token = _argument_token(call) or confirmation
            reason = "no human-confirmation token"
            if token:
                check = verify_token(
                    self._key, token, principal=principal, tool=call.name,
                    arguments=call.arguments, now=t, max_ttl_s=self.config.token_max_ttl_s,
                    grace_s=self.config.fed_back_grace_s,
                )  # fmt: skip
                if check.valid:
                    continue
                reason = check.reason
            out.append(_unconfirmed(call.name, reason, "tool result fed back"))
        return out

    # --- responses --------------------------------------------------------------------------

    async def observe_response(
        self,
        principal: str,
        tenant: str,
        route: str,
        tool_calls: Sequence[ToolCall],
        now: datetime,
        *,
        confirmation: str | None = None,
        history: Sequence[Message] = (),
    ) -> list[Verdict]:
        """Verdicts for the tool calls in a model response.

        Every effector call needs a valid, unused human-confirmation token (from its
        ``human_confirmation_token`` argument or the header ``confirmation``), else it is
        blocked; the token is consumed. More effector calls than ``max_unattended_calls``
        since the last user turn of ``history`` (the request's messages) plus this
        response are held for review.

        Raises:
            StoreError: the shared state failed (fail closed).
        """
        del tenant  # loops are per principal+route; kept for a uniform signature
        t = _ts(now)
        out: list[Verdict] = []
        for call in tool_calls:
            if not self.is_effector(call.name):
                continue
            token = _argument_token(call) or confirmation
            reason = "no human-confirmation token"
            confirmed = False
            if token:
                check = verify_token(
                    self._key, token, principal=principal, tool=call.name,
                    arguments=call.arguments, now=t, max_ttl_s=self.config.token_max_ttl_s,
                )  # fmt: skip
                reason = check.reason
                if check.valid:
                    confirmed = await self._state.use_token(check.token_id, check.expires_at, t)
                    reason = "" if confirmed else "token already used"
            stats = await self._state.record_call(principal, route, t, CallKind.EFFECTOR)
            if not confirmed:
                out.append(_unconfirmed(call.name, reason, "response"))
            elif (
                stats.effector_gap_s is not None
                and stats.effector_gap_s < self.config.min_effector_interval_s
            ):
                out.append(
                    Verdict(
                        category=AUTONOMOUS_WEAPONS,
                        score=self.config.review_score,
                        source=_LOOP,
                        evidence=(
                            f"closed_loop: confirmed effector call {call.name[:64]!r} "
                            f"{stats.effector_gap_s:.3f}s after the previous one "
                            f"(min_interval_s={self.config.min_effector_interval_s:g})",
                        ),
                    )
                )
        out += self._unattended(tool_calls, history)
        return out

    def _unattended(
        self, tool_calls: Sequence[ToolCall], history: Sequence[Message]
    ) -> list[Verdict]:
        since_user = 0
        for message in reversed(history):
            if message.role == "user":
                break
            since_user += sum(1 for c in message.tool_calls if self.is_effector(c.name))
        calls = since_user + sum(1 for c in tool_calls if self.is_effector(c.name))
        if calls <= self.config.max_unattended_calls:
            return []
        return [
            Verdict(
                category=AUTONOMOUS_WEAPONS,
                score=self.config.review_score,
                source=_LOOP,
                evidence=(
                    f"closed_loop: {calls} effector calls since the last user turn "
                    f"(max_unattended_calls={self.config.max_unattended_calls})",
                ),
            )
        ]

    # --- admin ------------------------------------------------------------------------------

    async def snapshot(self, principal: str, tenant: str | None = None) -> JSONObject:
        """Current window counts of a principal (and its tenant), for the admin API."""
        now = self._clock.now()
        counts = await self._state.counts(principal, tenant, _ts(now))
        rows: list[JSONValue] = []
        for c in counts:
            effective, review, block = self._judge_window(c)
            status = "block" if effective >= block else "review" if effective >= review else "ok"
            rows.append(
                {
                    "scope": c.scope.value,
                    "window_s": c.window_s,
                    "distinct_us": round(c.us),
                    "distinct_unknown": round(c.unknown),
                    "distinct_foreign": round(c.foreign),
                    "effective": round(effective, 1),
                    "review_at": review,
                    "block_at": block,
                    "status": status,
                }
            )
        return {
            "principal": principal,
            "tenant": tenant,
            "at": rfc3339(now),
            "windows": rows,
        }


def _argument_token(call: ToolCall) -> str | None:
    try:
        args = json.loads(call.arguments) if call.arguments.strip() else None
    except ValueError:
        return None
    if isinstance(args, dict):
        token = args.get(CONFIRMATION_ARGUMENT)
        if isinstance(token, str) and token:
            return token
    return None


def _unconfirmed(tool: str, reason: str, where: str) -> Verdict:
    return Verdict(
        category=AUTONOMOUS_WEAPONS,
        score=1.0,
        source=_LOOP,
        evidence=(
            f"closed_loop: effector call {tool[:64]!r} in {where} "
            f"without valid human confirmation: {reason}",
        ),
    )
