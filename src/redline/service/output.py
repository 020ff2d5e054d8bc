"""Reading model output for screening: whole replies and streamed chunks (OpenAI shapes),
and the refusal body sent when output crosses a red line."""

from __future__ import annotations

import orjson

from redline.domain import Decision, ToolCall

__all__ = ["accumulate", "calls_of", "refusal_body", "refusal_message", "reply_output"]


def reply_output(body: bytes) -> tuple[str, list[ToolCall]]:
    """Assistant text and tool calls of a chat or completion reply."""
    try:
        data = orjson.loads(body)
    except orjson.JSONDecodeError:
        return body.decode("utf-8", "replace"), []
    texts: list[str] = []
    calls: list[ToolCall] = []
    choices = data.get("choices") if isinstance(data, dict) else None
    for choice in choices if isinstance(choices, list) else []:
        if not isinstance(choice, dict):
            continue
        if isinstance(choice.get("text"), str):
            texts.append(choice["text"])
        message = choice.get("message")
        if isinstance(message, dict):
            if isinstance(message.get("content"), str):
                texts.append(message["content"])
            for call in message.get("tool_calls") or []:
                function = call.get("function") if isinstance(call, dict) else None
                if isinstance(function, dict):
                    calls.append(
                        ToolCall(
                            name=str(function.get("name", "")),
                            arguments=str(function.get("arguments", "")),
                        )
                    )
    return "\n".join(texts), calls


def accumulate(payload: bytes, texts: list[str], calls: dict[int, list[str]]) -> int:
    """Add a chunk's text and tool-call fragments; return how many characters it added."""
    try:
        data = orjson.loads(payload)
    except orjson.JSONDecodeError:
        return 0
    added = 0
    choices = data.get("choices") if isinstance(data, dict) else None
    for choice in choices if isinstance(choices, list) else []:
        if not isinstance(choice, dict):
            continue
        delta = choice.get("delta")
        piece = choice.get("text") if isinstance(choice.get("text"), str) else None
        if isinstance(delta, dict):
            piece = delta.get("content") if isinstance(delta.get("content"), str) else piece
            for call in delta.get("tool_calls") or []:
                if not isinstance(call, dict):
                    continue
                parts = calls.setdefault(int(call.get("index", 0) or 0), ["", ""])
                function = call.get("function")
                if isinstance(function, dict):
                    parts[0] += str(function.get("name") or "")
                    parts[1] += str(function.get("arguments") or "")
                    added += len(str(function.get("arguments") or "")) + len(
                        str(function.get("name") or "")
                    )
        if isinstance(piece, str):
            texts.append(piece)
            added += len(piece)
    return added


def calls_of(calls: dict[int, list[str]]) -> list[ToolCall]:
    return [ToolCall(name=name, arguments=args) for _, (name, args) in sorted(calls.items())]


def refusal_message(decision: Decision, *, subject: str = "Response", held: bool = False) -> str:
    """The one wording of a refusal: the red lines and clauses, or, when the stack failed
    closed without a category, the reason."""
    verb = "held for review" if held else "blocked"
    if not decision.categories:
        return f"{subject} {verb} by Redline: {decision.reason or 'the safety stack failed'}."
    lines = ", ".join(decision.categories)
    clauses = ", ".join(decision.clauses) or "-"
    return f"{subject} {verb} by Redline: red line {lines} (clauses {clauses})."


def refusal_body(decision: Decision) -> bytes:
    return orjson.dumps(
        {
            "error": {
                "message": refusal_message(decision),
                "type": "redline_policy",
                "param": None,
                "code": "redline_blocked",
            }
        }
    )
