"""Turn a conversation into the texts the safety stack judges.

The final turn is judged in the context of everything before it: the system prompt,
earlier turns, offered tools (names, descriptions, parameter schemas), tool calls and
message names. (This is the *whole-conversation* judgement; :mod:`redline.screening.units`
splits the same conversation into units so that no part can be diluted by the rest.)
Long pasted data is split into *records* (CSV/TSV rows, JSON lines, table rows) and the
*instruction* around them, so that 400 rows of data cannot dilute the one sentence that
says what to do with them; the record count is a feature of its own. Records are runs of at
least five consecutive lines of the same shape (:func:`record_lines`), so ordinary prose
with commas is never taken for data.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from redline.domain import ChatRequest, Message, ToolSpec
from redline.screening.excerpt import salient_excerpt
from redline.screening.factors import FACTORS
from redline.screening.lru import LRU
from redline.screening.normalize import NormalizedText
from redline.screening.normalize import normalize as _normalize

__all__ = [
    "ConversationTexts",
    "conversation_texts",
    "messages_from_json",
    "normalize",
    "record_lines",
    "split_records",
    "tools_from_json",
]

_MAX_TOOL_SCHEMA_CHARS = 16_384
#: The whole-conversation judgement reads at most this much of the final turn and of the
#: context; longer texts are read in full by the units (:mod:`redline.screening.units`).
WHOLE_MAX_CHARS = 8_000
_MIN_RECORDS = 5
_MIN_DELIMITERS = {",": 2, "\t": 1, "|": 2, ";": 2}


@dataclass(frozen=True, slots=True, kw_only=True)
class ConversationTexts:
    """What the classifier reads."""

    final: str  # the final turn's instruction (records removed), with decoded views appended
    final_full: str  # the whole final turn, normalised
    context: str  # system prompt, earlier turns, tools and tool calls
    tools: str  # tool names/descriptions/schemas only
    n_records: int
    n_turns: int
    n_tools: int
    signals: frozenset[str]
    #: When ``context`` was not shortened: texts whose token ids, one after the other, are
    #: the token ids of ``context`` (each message's role label, then its text; then the
    #: tools), so that a message's text is tokenised once whatever it is joined to.
    context_pieces: tuple[str, ...] = ()


_NORMALIZED: LRU[str, NormalizedText] = LRU(4_096)
_NORMALIZED_LONG: LRU[str, NormalizedText] = LRU(32)
_LONG_CHARS = 8_192
_MAX_REMEMBERED_CHARS = 262_144


def normalize(text: str) -> NormalizedText:
    """:func:`redline.screening.normalize.normalize`, remembered (the whole-conversation
    judgement and the units often normalise the same text, and output screening reads the
    prompt's messages again as context): short texts in a large cache, long ones (up to
    256 KB) in a small one."""
    if len(text) > _MAX_REMEMBERED_CHARS:
        return _normalize(text)
    cache = _NORMALIZED if len(text) <= _LONG_CHARS else _NORMALIZED_LONG
    found = cache.get(text)
    if found is None:
        found = _normalize(text)
        cache.put(text, found)
    return found


def _delimiters(line: str) -> tuple[str, int] | None:
    """The structural signature of a line: ``("json", 0)`` for a JSON object, else the
    dominant delimiter and how often it occurs outside double quotes; None for prose-like
    lines (too short, or no delimiter used often enough to make columns)."""
    stripped = line.strip()
    if len(stripped) < 4:
        return None
    if stripped.startswith("{") and stripped.endswith("}"):
        return ("json", 0)
    outside = stripped.split('"')[::2] if '"' in stripped else (stripped,)
    counts = {d: sum(part.count(d) for part in outside) for d in _MIN_DELIMITERS}
    delimiter = max(counts, key=lambda d: counts[d])
    count = counts[delimiter]
    if count < _MIN_DELIMITERS[delimiter]:
        return None
    return (delimiter, count)


def record_lines(lines: Sequence[str]) -> list[bool]:
    """Which lines are pasted records.

    Records are *runs* of at least :data:`_MIN_RECORDS` consecutive lines with the same
    structure (a JSON object each, or the same delimiter the same number of times outside
    quotes: CSV/TSV rows, table rows). A sentence with three commas is prose, not a record,
    however many such sentences a text has, unless five of them in a row have the same
    shape. Linear in the number of lines.
    """
    flags = [False] * len(lines)
    signatures = [_delimiters(line) for line in lines]
    start = 0
    while start < len(lines):
        signature = signatures[start]
        end = start + 1
        if signature is not None:
            while end < len(lines) and signatures[end] == signature:
                end += 1
            if end - start >= _MIN_RECORDS:
                for i in range(start, end):
                    flags[i] = True
        start = end
    return flags


def split_records(text: str) -> tuple[str, int]:
    """(instruction text, number of record lines).

    Every run of records is replaced by its first line (the header row: column names say
    what the records are about); everything else is kept in order.
    """
    lines = text.split("\n")
    flags = record_lines(lines)
    n_records = sum(flags)
    if not n_records:
        return text, 0
    kept = [line for i, line in enumerate(lines) if not flags[i] or i == 0 or not flags[i - 1]]
    return "\n".join(kept), n_records


def _tool_text(tools: Sequence[ToolSpec]) -> str:
    parts = [f"tool {t.name.replace('_', ' ')}: {t.description} {t.parameters_json}" for t in tools]
    return "\n".join(parts)[:_MAX_TOOL_SCHEMA_CHARS]


def _bounded(text: str, *, opening: bool) -> str:
    """At most :data:`WHOLE_MAX_CHARS`: a longer text is read as its most factor-dense
    sentences, in order, after its opening sentence if ``opening``
    (:func:`redline.screening.excerpt.salient_excerpt`); its units read all of it."""
    if len(text) <= WHOLE_MAX_CHARS:
        return text
    return salient_excerpt(text, max_tokens=WHOLE_MAX_CHARS // 4, factors=FACTORS, opening=opening)


def conversation_texts(
    messages: Sequence[Message], tools: Sequence[ToolSpec] = ()
) -> ConversationTexts:
    """Split a conversation into final turn and context, normalised and de-obfuscated."""
    if not messages:
        return ConversationTexts(
            final="",
            final_full="",
            context=_tool_text(tools),
            tools=_tool_text(tools),
            n_records=0,
            n_turns=0,
            n_tools=len(tools),
            signals=frozenset(),
        )
    *earlier, last = messages
    normalized = normalize(
        last.text
        + (f"\n{last.name}" if last.name else "")
        + "".join(f"\n{c.name} {c.arguments}" for c in last.tool_calls)
    )
    instruction, n_records = split_records(normalized.text)
    extra = list(normalized.views()[1:])
    final = "\n".join([instruction, *extra])
    context_parts: list[str] = []
    pieces: list[str] = []
    signals = set(normalized.signals)
    for message in earlier:
        text = (
            message.text
            + (f"\n{message.name}" if message.name else "")
            + "".join(f"\ncall {c.name} {c.arguments}" for c in message.tool_calls)
        )
        if not text:
            continue
        n = normalize(text)
        signals |= n.signals
        body, _ = split_records(n.text)
        said = "\n".join([body, *n.views()[1:]])
        context_parts.append(f"{message.role}: " + said)
        pieces += (f"{message.role}:", said)
    tool_text = _tool_text(tools)
    if tool_text:
        context_parts.append(tool_text)
        pieces.append(tool_text)
    whole_context = "\n".join(context_parts)
    context = _bounded(whole_context, opening=True)
    return ConversationTexts(
        final=_bounded(final, opening=False),
        final_full=_bounded(normalized.text, opening=False),
        context=context,
        context_pieces=tuple(pieces) if context is whole_context else (),
        tools=tool_text,
        n_records=n_records,
        n_turns=len(messages),
        n_tools=len(tools),
        signals=frozenset(signals),
    )


def request_texts(request: ChatRequest) -> ConversationTexts:
    """Texts of a parsed gateway request."""
    return conversation_texts(request.messages, request.tools)


def messages_from_json(raw: object) -> tuple[Message, ...]:
    """Tolerant conversion of OpenAI-style message dicts (for ``redline screen`` and training).

    Non-text content parts are counted, unknown roles are kept as they are, and a missing or
    non-list value yields no messages (which the stack treats as an empty conversation).
    """
    if not isinstance(raw, list):
        return ()
    messages: list[Message] = []
    for item in raw:
        if not isinstance(item, Mapping):
            continue
        content = item.get("content")
        non_text = 0
        if isinstance(content, list):
            texts = []
            for part in content:
                if (
                    isinstance(part, Mapping)
                    and part.get("type") == "text"
                    and isinstance(part.get("text"), str)
                ):
                    texts.append(part["text"])
                else:
                    non_text += 1
            text = "\n".join(texts)
        else:
            text = content if isinstance(content, str) else ""
        calls = []
        for call in item.get("tool_calls") or ():
            function = call.get("function") if isinstance(call, Mapping) else None
            if isinstance(function, Mapping):
                from redline.domain import ToolCall

                args = function.get("arguments", "")
                calls.append(
                    ToolCall(
                        name=str(function.get("name", "")),
                        arguments=args if isinstance(args, str) else str(args),
                    )
                )
        name = item.get("name")
        messages.append(
            Message(
                role=str(item.get("role", "user")),
                text=text,
                name=name if isinstance(name, str) and name else None,
                tool_calls=tuple(calls),
                non_text_parts=non_text,
            )
        )
    return tuple(messages)


def tools_from_json(raw: object) -> tuple[ToolSpec, ...]:
    """Tolerant conversion of OpenAI tool definitions."""
    import json

    if not isinstance(raw, list):
        return ()
    specs: list[ToolSpec] = []
    for tool in raw:
        function = tool.get("function") if isinstance(tool, Mapping) else None
        if not isinstance(function, Mapping):
            continue
        description = function.get("description")
        specs.append(
            ToolSpec(
                name=str(function.get("name", "")),
                description=description if isinstance(description, str) else "",
                parameters_json=json.dumps(function.get("parameters", {}))[:_MAX_TOOL_SCHEMA_CHARS],
            )
        )
    return tuple(specs)
