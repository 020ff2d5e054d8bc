"""OpenAI wire JSON <-> domain values, and OpenAI-shaped error bodies.

Parsing is strict about the fields Redline reads (``model``, ``messages``, ``stream``,
``tools``, prompts) and leaves every other field untouched in ``ChatRequest.body`` so that
it reaches the upstream as sent. Errors name the offending field (``param``) in OpenAI's
error-object shape.
"""

from __future__ import annotations

from typing import cast

import orjson

from redline.domain import (
    ChatRequest,
    Endpoint,
    JSONObject,
    JSONValue,
    Message,
    ToolCall,
    ToolSpec,
)
from redline.errors import RequestError

__all__ = ["error_body", "parse_moderation", "parse_request"]

_MAX_MODERATION_INPUTS = 256

_ROLES = frozenset({"system", "developer", "user", "assistant", "tool", "function"})


def error_body(
    message: str, *, type_: str, code: str | None = None, param: str | None = None, **extra: str
) -> bytes:
    """An OpenAI error object: ``{"error": {"message", "type", "param", "code"}}``."""
    error: dict[str, str | None] = {"message": message, "type": type_, "param": param, "code": code}
    error.update(extra)
    return orjson.dumps({"error": error})


def parse_request(endpoint: Endpoint, raw: bytes) -> ChatRequest:
    """Parse and validate a request body.

    Raises:
        RequestError: invalid UTF-8, malformed JSON, or a missing or mistyped field.
    """
    body = _load_object(raw)
    model = body.get("model")
    if not isinstance(model, str) or not model:
        raise RequestError("'model' is required and must be a non-empty string", param="model")
    stream = body.get("stream", False)
    if not isinstance(stream, bool) and stream is not None:
        raise RequestError("'stream' must be a boolean", param="stream")
    if endpoint is Endpoint.CHAT:
        messages = _parse_messages(body.get("messages"))
        tools = _parse_tools(body.get("tools"))
    else:
        key = "prompt" if endpoint is Endpoint.COMPLETIONS else "input"
        messages = _prompt_messages(body.get(key), key)
        tools = ()
    if endpoint is Endpoint.EMBEDDINGS and stream:
        raise RequestError("embeddings cannot be streamed", param="stream")
    options = body.get("stream_options")
    if options is not None and not isinstance(options, dict):
        raise RequestError("'stream_options' must be an object", param="stream_options")
    return ChatRequest(
        endpoint=endpoint,
        model=model,
        messages=messages,
        stream=bool(stream),
        tools=tools,
        body=body,
    )


def _load_object(raw: bytes) -> JSONObject:
    if not raw:
        raise RequestError("the request body is empty; expected a JSON object")
    try:
        value = orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        try:
            raw.decode("utf-8")
        except UnicodeDecodeError:
            raise RequestError("the request body is not valid UTF-8") from None
        raise RequestError(f"the request body is not valid JSON: {exc}") from None
    if not isinstance(value, dict):
        raise RequestError("the request body must be a JSON object")
    return cast(JSONObject, value)


def _parse_messages(raw: JSONValue) -> tuple[Message, ...]:
    if raw is None:
        raise RequestError("'messages' is required", param="messages")
    if not isinstance(raw, list) or not raw:
        raise RequestError("'messages' must be a non-empty array", param="messages")
    return tuple(_parse_message(item, i) for i, item in enumerate(raw))


def _parse_message(item: JSONValue, index: int) -> Message:
    where = f"messages[{index}]"
    if not isinstance(item, dict):
        raise RequestError(f"'{where}' must be an object", param=where)
    role = item.get("role")
    if not isinstance(role, str) or role not in _ROLES:
        raise RequestError(
            f"'{where}.role' must be one of {', '.join(sorted(_ROLES))}", param=f"{where}.role"
        )
    text, non_text = _content_text(item.get("content"), f"{where}.content")
    name = item.get("name")
    return Message(
        role=role,
        text=text,
        name=name if isinstance(name, str) else None,
        tool_calls=_parse_tool_calls(item.get("tool_calls"), f"{where}.tool_calls"),
        non_text_parts=non_text,
    )


def _content_text(content: JSONValue, where: str) -> tuple[str, int]:
    if content is None:
        return "", 0
    if isinstance(content, str):
        return content, 0
    if not isinstance(content, list):
        raise RequestError(f"'{where}' must be a string, an array of parts, or null", param=where)
    texts: list[str] = []
    non_text = 0
    for i, part in enumerate(content):
        if not isinstance(part, dict) or not isinstance(part.get("type"), str):
            raise RequestError(f"'{where}[{i}]' must be an object with a 'type'", param=where)
        if part["type"] == "text":
            text = part.get("text")
            if not isinstance(text, str):
                raise RequestError(f"'{where}[{i}].text' must be a string", param=where)
            texts.append(text)
        else:
            non_text += 1
    return "\n".join(texts), non_text


def _parse_tool_calls(raw: JSONValue, where: str) -> tuple[ToolCall, ...]:
    if raw is None:
        return ()
    if not isinstance(raw, list):
        raise RequestError(f"'{where}' must be an array", param=where)
    calls: list[ToolCall] = []
    for i, call in enumerate(raw):
        function = call.get("function") if isinstance(call, dict) else None
        if not isinstance(function, dict) or not isinstance(function.get("name"), str):
            raise RequestError(f"'{where}[{i}].function.name' is required", param=where)
        arguments = function.get("arguments", "")
        calls.append(
            ToolCall(
                name=str(function["name"]),
                arguments=arguments
                if isinstance(arguments, str)
                else orjson.dumps(arguments).decode(),
            )
        )
    return tuple(calls)


def _parse_tools(raw: JSONValue) -> tuple[ToolSpec, ...]:
    if raw is None:
        return ()
    if not isinstance(raw, list):
        raise RequestError("'tools' must be an array", param="tools")
    specs: list[ToolSpec] = []
    for i, tool in enumerate(raw):
        function = tool.get("function") if isinstance(tool, dict) else None
        if not isinstance(function, dict) or not isinstance(function.get("name"), str):
            raise RequestError(f"'tools[{i}].function.name' is required", param=f"tools[{i}]")
        description = function.get("description", "")
        specs.append(
            ToolSpec(
                name=str(function["name"]),
                description=description if isinstance(description, str) else "",
                parameters_json=orjson.dumps(function.get("parameters", {})).decode(),
            )
        )
    return tuple(specs)


def _prompt_messages(raw: JSONValue, key: str) -> tuple[Message, ...]:
    if raw is None:
        raise RequestError(f"'{key}' is required", param=key)
    if isinstance(raw, str):
        return (Message(role="user", text=raw),)
    if isinstance(raw, list) and raw:
        if all(isinstance(item, str) for item in raw):
            return tuple(Message(role="user", text=str(item)) for item in raw)
        if all(isinstance(item, int) and not isinstance(item, bool) for item in raw):
            # Token ids cannot be screened as text; they are refused by the service per policy.
            return (Message(role="user", text="", non_text_parts=1),)
        if all(isinstance(item, list) for item in raw):
            return (Message(role="user", text="", non_text_parts=len(raw)),)
    raise RequestError(f"'{key}' must be a string or an array of strings", param=key)


def parse_moderation(raw: bytes) -> list[str]:
    """The ``input`` of a ``/v1/moderations`` request: a string or an array of strings
    (text parts of multimodal inputs are taken; images cannot be screened and are refused).

    Raises:
        RequestError: missing or mistyped ``input``, or too many inputs.
    """
    body = _load_object(raw)
    value = body.get("input")
    if isinstance(value, str):
        return [value]
    if not isinstance(value, list) or not value:
        raise RequestError("'input' must be a string or a non-empty array", param="input")
    if len(value) > _MAX_MODERATION_INPUTS:
        raise RequestError(f"at most {_MAX_MODERATION_INPUTS} inputs per request", param="input")
    texts: list[str] = []
    for i, item in enumerate(value):
        if isinstance(item, str):
            texts.append(item)
        elif (
            isinstance(item, dict)
            and item.get("type") == "text"
            and isinstance(item.get("text"), str)
        ):
            texts.append(str(item["text"]))
        else:
            raise RequestError(f"'input[{i}]' must be a string or a text part", param="input")
    return texts
