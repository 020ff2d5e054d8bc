"""The vocabulary of a gateway decision: frozen values, no I/O.

OpenAI wire JSON is parsed into these types at the edge (``gateway/openai_wire.py``). The
original JSON body is kept (``ChatRequest.body``) because Redline forwards every field it
does not understand untouched: tools, response_format, seed, vendor extras.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import TypeAlias

__all__ = [
    "Action",
    "ChatRequest",
    "Decision",
    "Endpoint",
    "JSONObject",
    "JSONValue",
    "Message",
    "Principal",
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
class ChatRequest:
    """A parsed request for any generation endpoint.

    For ``/v1/completions`` and ``/v1/embeddings`` the prompt/input becomes user messages.
    """

    endpoint: Endpoint
    model: str
    messages: tuple[Message, ...]
    stream: bool = False
    tools: tuple[ToolSpec, ...] = ()
    body: JSONObject = field(default_factory=dict)


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
    """

    action: Action
    categories: tuple[str, ...] = ()
    clauses: tuple[str, ...] = ()
    scores: Mapping[str, float] = field(default_factory=dict)
    evidence: tuple[str, ...] = ()
    policy_sha256: str = ""
    reason: str = ""
