"""The vocabulary of a gateway decision: frozen values, no I/O.

OpenAI wire JSON is parsed into these types in one module (``redline/wire.py``). The
original JSON body is kept (``ChatRequest.body``) because Redline forwards the fields it
does not interpret to the upstream as sent; every string in those fields that can reach the
model is also extracted into ``ChatRequest.fields`` so that it is screened and scanned for
markings like the messages are.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Protocol, TypeAlias

__all__ = [
    "Action",
    "AuditSink",
    "AuthorityRef",
    "ChatRequest",
    "Decision",
    "Declared",
    "Endpoint",
    "JSONObject",
    "JSONValue",
    "Message",
    "OversightFacts",
    "Principal",
    "TextField",
    "ToolCall",
    "ToolSpec",
    "Verdict",
]

JSONValue: TypeAlias = "bool | int | float | str | list[JSONValue] | dict[str, JSONValue] | None"
JSONObject: TypeAlias = "dict[str, JSONValue]"


class Action(StrEnum):
    """What the policy decides for a request or response (wire-stable)."""

    ALLOW = "allow"
    REVIEW = "review"
    BLOCK = "block"


class Endpoint(StrEnum):
    """The OpenAI-compatible operation a request calls."""

    CHAT = "chat.completions"
    COMPLETIONS = "completions"
    EMBEDDINGS = "embeddings"


@dataclass(frozen=True, slots=True, kw_only=True)
class ToolCall:
    """A function call made by the assistant in a previous turn (or in a response)."""

    name: str
    arguments: str


@dataclass(frozen=True, slots=True, kw_only=True)
class Message:
    """One conversation turn, reduced to what the safety stack reads.

    ``text`` joins the turn's text parts; non-text parts (images, audio) are counted in
    ``non_text_parts`` so that policy can decide about them instead of silently dropping them.
    """

    role: str
    text: str
    name: str | None = None
    tool_calls: tuple[ToolCall, ...] = ()
    non_text_parts: int = 0


@dataclass(frozen=True, slots=True, kw_only=True)
class ToolSpec:
    """A function tool offered to the model: name, description and JSON-schema parameters."""

    name: str
    description: str = ""
    parameters_json: str = "{}"


@dataclass(frozen=True, slots=True, kw_only=True)
class TextField:
    """Text from a request field other than a message that can reach the model.

    ``where`` names the field (``suffix``, ``response_format``, ``metadata.note``, a vendor
    extra); ``text`` is every string in it (keys included), joined.
    """

    where: str
    text: str


@dataclass(frozen=True, slots=True, kw_only=True)
class ChatRequest:
    """A parsed request for any generation endpoint.

    For ``/v1/completions`` and ``/v1/embeddings`` the prompt/input becomes user messages.
    ``fields`` holds the text of every other field that can reach the model, so that the
    canonical view (:meth:`screen_messages`, :meth:`texts`) covers every string sent.
    """

    endpoint: Endpoint
    model: str
    messages: tuple[Message, ...]
    stream: bool = False
    tools: tuple[ToolSpec, ...] = ()
    fields: tuple[TextField, ...] = ()
    body: JSONObject = field(default_factory=dict)

    def screen_messages(self) -> tuple[Message, ...]:
        """The messages the safety stack judges: the conversation, then each extra text
        field as a user turn (it is an instruction the model reads like one)."""
        if not self.fields:
            return self.messages
        extra = tuple(Message(role="user", text=f.text, name=f.where) for f in self.fields)
        return (*self.messages, *extra)

    def texts(self) -> list[str]:
        """Every string of the request that can reach the model, for marking extraction:
        message texts (in order), names, tool calls, tool definitions and extra fields."""
        # Message texts stay adjacent so that a mark split over two turns is still found.
        out = [m.text for m in self.messages]
        for m in self.messages:
            if m.name:
                out.append(m.name)
            out.extend(f"{c.name}\n{c.arguments}" for c in m.tool_calls)
        out.extend(f"{t.name}\n{t.description}\n{t.parameters_json}" for t in self.tools)
        out.extend(f.text for f in self.fields)
        return out


@dataclass(frozen=True, slots=True, kw_only=True)
class Principal:
    """Who is calling: resolved from an API key or a client certificate."""

    id: str
    tenant: str
    roles: frozenset[str] = frozenset()
    clearance: str = "U"
    nationality: str = "USA"
    read_ins: frozenset[str] = frozenset()
    need_to_know: frozenset[str] = frozenset()


@dataclass(frozen=True, slots=True, kw_only=True)
class Verdict:
    """What one detector or classifier concluded about one category."""

    category: str
    score: float
    source: str
    evidence: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True, kw_only=True)
class Decision:
    """The policy's single answer for a request or response.

    ``categories`` and ``clauses`` name what drove a non-allow action; ``scores`` carries every
    category score for the record; ``policy_sha256`` identifies the effective policy in force.
    ``notes`` are the purpose and authority findings behind the action (what a rule requires,
    never content), shown to the requester with the refusal.
    """

    action: Action
    categories: tuple[str, ...] = ()
    clauses: tuple[str, ...] = ()
    scores: Mapping[str, float] = field(default_factory=dict)
    evidence: tuple[str, ...] = ()
    policy_sha256: str = ""
    reason: str = ""
    notes: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True, kw_only=True, order=True)
class AuthorityRef:
    """A cited legal authority, ``TYPE:ID`` (e.g. ``fisa-order:2026-FISC-0042``), as given."""

    type: str
    id: str

    def __str__(self) -> str:
        return f"{self.type}:{self.id}"


@dataclass(frozen=True, slots=True, kw_only=True)
class Declared:
    """What a request says about itself: purpose of use, cited authorities, case id.

    Read from the ``x-redline-purpose`` / ``x-redline-authority`` / ``x-redline-case``
    headers and the same keys of the OpenAI ``metadata`` object (``redline/wire.py``).
    Recorded in the audit log exactly as given; never content.
    """

    purpose: str = ""
    authorities: tuple[AuthorityRef, ...] = ()
    case: str = ""


@dataclass(frozen=True, slots=True, kw_only=True)
class OversightFacts:
    """The authority facts ``policy.decide`` combines with the verdicts.

    ``declared`` is what the request said; ``model`` the model it asked for (authority
    rules match it against their ``models``); ``us_person`` whether it targets a U.S. person
    (a person-centric request naming a U.S. or presumed-U.S. person, from the monitors'
    person extraction); ``valid_types`` the types of the cited authorities that the register
    confirmed (known, in force, not revoked, covering every U.S.-person identifier named);
    ``problems`` what is wrong with the others (each reference as given plus the reason).
    """

    declared: Declared = Declared()
    model: str = ""
    us_person: bool = False
    valid_types: frozenset[str] = frozenset()
    problems: tuple[str, ...] = ()


class AuditSink(Protocol):
    """Where decisions and administrative actions are recorded (the audit log).

    The one port every recording component (orchestrator, kill switch, policy runtime,
    review service) depends on. ``record`` returns only once the event is durable; it raises
    :class:`redline.errors.AuditStoreError` when it cannot be, and callers then refuse
    (fail closed) instead of acting unrecorded.
    """

    async def record(
        self, event_type: str, payload: Mapping[str, JSONValue], *, request_id: str | None = None
    ) -> None:
        """Durably append one event."""
        ...
