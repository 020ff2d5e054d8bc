"""Turn a conversation into the texts the safety stack judges.

The final turn is judged in the context of everything before it: the system prompt,
earlier turns, offered tools (names, descriptions, parameter schemas) and tool calls.
Long pasted data is split into *records* (CSV/TSV rows, JSON lines, table rows) and the
*instruction* around them, so that 400 rows of data cannot dilute the one sentence that
says what to do with them; the record count is a feature of its own.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from redline.domain import ChatRequest, Message, ToolSpec
from redline.screening.normalize import normalize

__all__ = ["ConversationTexts", "conversation_texts", "messages_from_json", "tools_from_json"]

_MAX_TOOL_SCHEMA_CHARS = 16_384
_MIN_RECORDS = 5


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


def _is_record_line(line: str) -> bool:
    stripped = line.strip()
    if len(stripped) < 8:
        return False
    if stripped.startswith("{") and stripped.endswith("}"):
        return True
    return stripped.count(",") >= 3 or stripped.count("\t") >= 2 or stripped.count("|") >= 3


def split_records(text: str) -> tuple[str, int]:
    """(instruction text, number of record lines); records are kept only if there are many."""
    lines = text.split("\n")
    records = [line for line in lines if _is_record_line(line)]
    if len(records) < _MIN_RECORDS:
        return text, 0
    instruction = "\n".join(line for line in lines if not _is_record_line(line))
    # Keep the header row: column names say what the records are about.
    header = records[0]
    return f"{instruction}\n{header}", len(records)


def _tool_text(tools: Sequence[ToolSpec]) -> str:
    parts = [f"tool {t.name.replace('_', ' ')}: {t.description} {t.parameters_json}" for t in tools]
    return "\n".join(parts)[:_MAX_TOOL_SCHEMA_CHARS]


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
        last.text + "".join(f"\n{c.name} {c.arguments}" for c in last.tool_calls)
    )
    instruction, n_records = split_records(normalized.text)
    extra = list(normalized.views()[1:])
    final = "\n".join([instruction, *extra])
    context_parts: list[str] = []
    signals = set(normalized.signals)
    for message in earlier:
        text = message.text + "".join(f"\ncall {c.name} {c.arguments}" for c in message.tool_calls)
        if not text:
            continue
        n = normalize(text)
        signals |= n.signals
        body, _ = split_records(n.text)
        context_parts.append(f"{message.role}: " + "\n".join([body, *n.views()[1:]]))
    tool_text = _tool_text(tools)
    if tool_text:
        context_parts.append(tool_text)
    return ConversationTexts(
        final=final,
        final_full=normalized.text,
        context="\n".join(context_parts),
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
        messages.append(
            Message(
                role=str(item.get("role", "user")),
                text=text,
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
