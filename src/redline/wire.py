"""The OpenAI wire format, in one module: requests in, replies and stream chunks out, the
upstream body, held requests and OpenAI-shaped error bodies.

Nothing else in Redline reads or writes OpenAI JSON; the core sees :class:`ChatRequest`
(messages, tool definitions, extra text fields) and :class:`Reply` (text and tool calls).

**The canonical view.** Every string in a request that can reach the model is read into
the parsed request, so that screening and marking extraction see it whatever field, role or
position carries it:

* messages of every role: ``content`` (a string or parts: ``text``, ``refusal``,
  ``input_text``; images, audio and files are counted as non-text parts, which the policy
  refuses), ``name``, ``refusal``, ``tool_calls`` and the legacy ``function_call``, and the
  strings of any other key a message carries (vendor extras such as ``reasoning_content``);
* tool definitions (``tools``, legacy ``functions``): name, description and the whole
  parameter schema;
* every other field of the body whose value holds a string (``suffix``,
  ``response_format``, ``prediction``, ``metadata``, ``tool_choice``, ``user``, vendor
  extras such as ``chat_template`` or ``guided_json``): its strings, dict keys included,
  become a :class:`TextField`. Only ``model`` and a few short enum-like fields are exempt.

Fields without strings (numbers, booleans) cannot carry text and pass as sent. Token-id
prompts (``"prompt": [8144, 279]``, lists of token lists, token-id embedding inputs) cannot be
screened as text and are refused (:class:`UnscreenableInput`).

**Bounds** (refused with :class:`RequestTooComplex` before any screening work):
:data:`MAX_DEPTH` levels of nesting, :data:`MAX_MESSAGES` messages, :data:`MAX_PARTS` content
parts and tool definitions in all, :data:`MAX_TEXT_CHARS` characters of text in all (what
the safety stack can judge within its time budget; about 250,000 tokens). The body size is
bounded at the edge.

**Declared purpose and authority.** :func:`parse_declared` reads the optional
``x-redline-purpose``, ``x-redline-authority`` and ``x-redline-case`` headers and the same
keys of the OpenAI ``metadata`` object into :class:`~redline.domain.Declared`. An authority
is ``TYPE:ID``; several may be given, comma separated, in repeated headers, or in both
places (their union, in order of first appearance). A purpose or case given twice must agree.
Anything malformed is a :class:`~redline.errors.MetadataError` (400
``redline_invalid_metadata``), never silently dropped. The metadata values stay in the body,
so they are screened like every other string.

**Output.** :func:`reply_output` reads every output form of a whole reply (``choices[].text``,
``message.content`` as a string or parts, ``message.refusal``, ``tool_calls``, legacy
``function_call``, and any other string a message carries); :class:`StreamText` does the
same for streamed ``delta`` chunks.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import cast

import orjson

from redline.domain import (
    AuthorityRef,
    ChatRequest,
    Decision,
    Declared,
    Endpoint,
    JSONObject,
    JSONValue,
    Message,
    TextField,
    ToolCall,
    ToolSpec,
)
from redline.errors import MetadataError, RequestError, RequestTooComplex, UnscreenableInput

__all__ = [
    "MAX_DEPTH",
    "MAX_MESSAGES",
    "MAX_PARTS",
    "MAX_TEXT_CHARS",
    "METADATA_KEYS",
    "Reply",
    "StreamText",
    "error_body",
    "held_bytes",
    "held_declared",
    "parse_declared",
    "parse_held",
    "parse_moderation",
    "parse_request",
    "refusal_body",
    "refusal_message",
    "reply_output",
    "upstream_body",
]

MAX_DEPTH = 48
MAX_MESSAGES = 4096
MAX_PARTS = 16_384
MAX_TEXT_CHARS = 1_000_000
_MAX_MODERATION_INPUTS = 256
_MAX_ENUM_CHARS = 40

_ROLES = frozenset({"system", "developer", "user", "assistant", "tool", "function"})
_TEXT_PARTS = {"text": "text", "input_text": "text", "output_text": "text", "refusal": "refusal"}
_NON_TEXT_PARTS = frozenset({"image_url", "input_image", "image", "input_audio", "audio", "file"})
_MESSAGE_KEYS = frozenset(
    {"role", "content", "name", "tool_calls", "function_call", "refusal", "tool_call_id"}
)
# Body fields whose strings are routing or enum-like values the model never reads.
_ROUTING_FIELDS = frozenset({"model"})
_ENUM_FIELDS = frozenset(
    {"service_tier", "reasoning_effort", "verbosity", "encoding_format", "modalities"}
)
_PROMPT_KEY = {Endpoint.COMPLETIONS: "prompt", Endpoint.EMBEDDINGS: "input"}
_STRUCTURED = {
    Endpoint.CHAT: frozenset({"messages", "tools", "functions"}),
    Endpoint.COMPLETIONS: frozenset({"prompt"}),
    Endpoint.EMBEDDINGS: frozenset({"input"}),
}
# Reply keys that carry identifiers and bookkeeping, not text the requester reads as an answer.
_REPLY_META = frozenset(
    {"role", "index", "id", "type", "finish_reason", "logprobs", "tool_call_id", "annotations"}
)


#: The header names, which are also the keys read from the OpenAI ``metadata`` object.
METADATA_KEYS = ("x-redline-purpose", "x-redline-authority", "x-redline-case")
MAX_AUTHORITIES = 16
_PURPOSE = re.compile(r"[a-z][a-z0-9-]{0,63}")
_AUTHORITY_TYPE = re.compile(r"[a-z][a-z0-9-]{0,31}")
_AUTHORITY_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:/-]{0,127}")
_CASE = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:/-]{0,127}")


# -- declared purpose, authority, case ---------------------------------------------------


def parse_declared(headers: dict[str, list[str]], body: JSONObject) -> Declared:
    """The declared purpose, authorities and case of a request.

    Args:
        headers: every value of each of :data:`METADATA_KEYS` given as a header (repeated
            headers give several values); absent names may be missing or empty.
        body: the request body; its ``metadata`` object may carry the same keys.

    Raises:
        MetadataError: a value is malformed, a purpose or case is given twice with different
            values, or more than :data:`MAX_AUTHORITIES` authorities are cited.
    """
    values = {key: list(headers.get(key, ())) for key in METADATA_KEYS}
    metadata = body.get("metadata")
    if isinstance(metadata, dict):
        for key in METADATA_KEYS:
            value = metadata.get(key)
            if value is None:
                continue
            if not isinstance(value, str):
                raise MetadataError(f"metadata[{key!r}] must be a string", param="metadata")
            values[key].append(value)
    purpose_key, authority_key, case_key = METADATA_KEYS
    purpose = _single(values[purpose_key], purpose_key, _PURPOSE)
    case = _single(values[case_key], case_key, _CASE)
    refs: dict[AuthorityRef, None] = {}
    for value in values[authority_key]:
        for item in value.split(","):
            refs[_authority_ref(item.strip())] = None
    if len(refs) > MAX_AUTHORITIES:
        raise MetadataError(
            f"at most {MAX_AUTHORITIES} authorities may be cited; got {len(refs)}",
            param=authority_key,
        )
    return Declared(purpose=purpose, authorities=tuple(refs), case=case)


def _single(values: list[str], key: str, shape: re.Pattern[str]) -> str:
    given = {v.strip() for v in values}
    if not given:
        return ""
    if len(given) > 1:
        raise MetadataError(f"{key} is given more than once with different values", param=key)
    value = given.pop()
    if not shape.fullmatch(value):
        raise MetadataError(f"{key} is malformed (expected {shape.pattern})", param=key)
    return value


def _authority_ref(item: str) -> AuthorityRef:
    key = METADATA_KEYS[1]
    kind, sep, ident = item.partition(":")
    if not sep or not _AUTHORITY_TYPE.fullmatch(kind) or not _AUTHORITY_ID.fullmatch(ident):
        raise MetadataError(
            f"{key} must be TYPE:ID (TYPE {_AUTHORITY_TYPE.pattern}, ID "
            f"{_AUTHORITY_ID.pattern}), comma separated; got a malformed reference",
            param=key,
        )
    return AuthorityRef(type=kind, id=ident)


# -- errors ----------------------------------------------------------------------------


def error_body(
    message: str, *, type_: str, code: str | None = None, param: str | None = None, **extra: str
) -> bytes:
    """An OpenAI error object: ``{"error": {"message", "type", "param", "code"}}``."""
    error: dict[str, str | None] = {"message": message, "type": type_, "param": param, "code": code}
    error.update(extra)
    return orjson.dumps({"error": error})


def refusal_message(decision: Decision, *, subject: str = "Response", held: bool = False) -> str:
    """The one wording of a refusal: the red lines and clauses, or, when the stack failed
    closed without a category, the reason; then what the authority rules require."""
    verb = "held for review" if held else "blocked"
    notes = "".join(f"; {note}" for note in decision.notes)
    if not decision.categories:
        if decision.notes and decision.clauses:
            return f"{subject} {verb} by Redline (clauses {', '.join(decision.clauses)}){notes}."
        return f"{subject} {verb} by Redline: {decision.reason or 'the safety stack failed'}."
    lines = ", ".join(decision.categories)
    clauses = ", ".join(decision.clauses) or "-"
    return f"{subject} {verb} by Redline: red line {lines} (clauses {clauses}){notes}."


def refusal_body(
    decision: Decision, *, subject: str = "Response", review_id: str | None = None
) -> bytes:
    """The 403 body of a refusal (``redline_blocked``) or a hold (``redline_review``)."""
    held = review_id is not None
    message = refusal_message(decision, subject=subject, held=held)
    extra = {"review_id": review_id} if review_id else {}
    code = "redline_review" if held else "redline_blocked"
    return error_body(message, type_="redline_policy", code=code, **extra)


# -- requests --------------------------------------------------------------------------


def parse_request(endpoint: Endpoint, raw: bytes) -> ChatRequest:
    """Parse and validate a request body into its canonical view.

    Raises:
        RequestError: invalid UTF-8, malformed JSON, or a missing or mistyped field.
        RequestTooComplex: over one of the bounds above.
        UnscreenableInput: token-id prompts.
    """
    return request_from_body(endpoint, _load_object(raw))


def request_from_body(endpoint: Endpoint, body: JSONObject) -> ChatRequest:
    """:func:`parse_request` for an already decoded body."""
    model = body.get("model")
    if not isinstance(model, str) or not model:
        raise RequestError("'model' is required and must be a non-empty string", param="model")
    stream = body.get("stream", False)
    if not isinstance(stream, bool) and stream is not None:
        raise RequestError("'stream' must be a boolean", param="stream")
    if endpoint is Endpoint.EMBEDDINGS and stream:
        raise RequestError("embeddings cannot be streamed", param="stream")
    options = body.get("stream_options")
    if options is not None and not isinstance(options, dict):
        raise RequestError("'stream_options' must be an object", param="stream_options")
    fields: list[TextField] = []
    tools: tuple[ToolSpec, ...] = ()
    if endpoint is Endpoint.CHAT:
        messages = _parse_messages(body.get("messages"), fields)
        tools = _parse_tools(body.get("tools"), "tools") + _parse_tools(
            body.get("functions"), "functions", legacy=True
        )
    else:
        key = _PROMPT_KEY[endpoint]
        messages = _prompt_messages(body.get(key), key)
    if len(tools) > MAX_PARTS:
        raise RequestTooComplex(f"at most {MAX_PARTS} tool definitions", param="tools")
    for key, value in body.items():
        if key in _STRUCTURED[endpoint] or key in _ROUTING_FIELDS:
            continue
        text = _field_text(key, value)
        if text:
            fields.append(TextField(where=key, text=text))
    request = ChatRequest(
        endpoint=endpoint,
        model=model,
        messages=messages,
        stream=bool(stream),
        tools=tools,
        fields=tuple(fields),
        body=body,
    )
    size = sum(len(t) for t in request.texts())
    if size > MAX_TEXT_CHARS:
        raise RequestTooComplex(
            f"the request carries {size} characters of text; at most {MAX_TEXT_CHARS} "
            "can be screened in one request"
        )
    return request


def _field_text(key: str, value: JSONValue) -> str:
    strings = list(_strings(value, key))
    if not strings:
        return ""
    if key in _ENUM_FIELDS and all(len(s) <= _MAX_ENUM_CHARS and s.isascii() for s in strings):
        return ""
    return "\n".join(strings)


def _strings(value: JSONValue, where: str, depth: int = 0) -> Iterator[str]:
    """Every string in ``value`` (dict keys included), depth-bounded, without recursion."""
    stack: list[tuple[JSONValue, int]] = [(value, depth)]
    while stack:
        item, level = stack.pop()
        if level > MAX_DEPTH:
            raise RequestTooComplex(f"'{where}' nests deeper than {MAX_DEPTH} levels", param=where)
        if isinstance(item, str):
            yield item
        elif isinstance(item, dict):
            for k, v in reversed(list(item.items())):
                stack.append((v, level + 1))
                stack.append((k, level + 1))
        elif isinstance(item, list):
            stack.extend((v, level + 1) for v in reversed(item))


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
        if "recursion" in str(exc).lower() or "depth" in str(exc).lower():
            raise RequestTooComplex(f"the request body nests too deeply ({exc})") from None
        raise RequestError(f"the request body is not valid JSON: {exc}") from None
    if not isinstance(value, dict):
        raise RequestError("the request body must be a JSON object")
    return cast(JSONObject, value)


def _parse_messages(raw: JSONValue, fields: list[TextField]) -> tuple[Message, ...]:
    if raw is None:
        raise RequestError("'messages' is required", param="messages")
    if not isinstance(raw, list) or not raw:
        raise RequestError("'messages' must be a non-empty array", param="messages")
    if len(raw) > MAX_MESSAGES:
        raise RequestTooComplex(
            f"'messages' has {len(raw)} items; at most {MAX_MESSAGES} are screened",
            param="messages",
        )
    budget = [MAX_PARTS]
    return tuple(_parse_message(item, i, budget) for i, item in enumerate(raw))


def _parse_message(item: JSONValue, index: int, budget: list[int]) -> Message:
    where = f"messages[{index}]"
    if not isinstance(item, dict):
        raise RequestError(f"'{where}' must be an object", param=where)
    role = item.get("role")
    if not isinstance(role, str) or role not in _ROLES:
        raise RequestError(
            f"'{where}.role' must be one of {', '.join(sorted(_ROLES))}", param=f"{where}.role"
        )
    texts, non_text = _content_text(item.get("content"), f"{where}.content", budget)
    refusal = item.get("refusal")
    if refusal is not None:
        if not isinstance(refusal, str):
            raise RequestError(f"'{where}.refusal' must be a string", param=f"{where}.refusal")
        texts.append(refusal)
    for key, value in item.items():  # vendor extras a back end may show the model
        if key not in _MESSAGE_KEYS:
            texts.extend(_strings(value, f"{where}.{key}", 1))
    name = item.get("name")
    if name is not None and not isinstance(name, str):
        raise RequestError(f"'{where}.name' must be a string", param=f"{where}.name")
    calls = _parse_tool_calls(item.get("tool_calls"), f"{where}.tool_calls")
    legacy = item.get("function_call")
    if legacy is not None:
        calls += (_function_call(legacy, f"{where}.function_call"),)
    return Message(
        role=role,
        text="\n".join(texts),
        name=name or None,
        tool_calls=calls,
        non_text_parts=non_text,
    )


def _content_text(content: JSONValue, where: str, budget: list[int]) -> tuple[list[str], int]:
    if content is None:
        return [], 0
    if isinstance(content, str):
        return [content], 0
    if not isinstance(content, list):
        raise RequestError(f"'{where}' must be a string, an array of parts, or null", param=where)
    budget[0] -= len(content)
    if budget[0] < 0:
        raise RequestTooComplex(f"more than {MAX_PARTS} content parts in all", param=where)
    texts: list[str] = []
    non_text = 0
    for i, part in enumerate(content):
        if isinstance(part, str):  # some clients send bare strings as parts
            texts.append(part)
            continue
        if not isinstance(part, dict) or not isinstance(part.get("type"), str):
            raise RequestError(f"'{where}[{i}]' must be an object with a 'type'", param=where)
        kind = str(part["type"])
        if kind in _TEXT_PARTS:
            text = part.get(_TEXT_PARTS[kind])
            if not isinstance(text, str):
                raise RequestError(
                    f"'{where}[{i}].{_TEXT_PARTS[kind]}' must be a string", param=where
                )
            texts.append(text)
        elif kind in _NON_TEXT_PARTS:
            non_text += 1
        else:  # an unknown part type: whatever text it holds is read, never skipped
            texts.extend(s for s in _strings(part, f"{where}[{i}]", 2) if s not in ("type", kind))
    return texts, non_text


def _function_call(raw: JSONValue, where: str) -> ToolCall:
    if not isinstance(raw, dict) or not isinstance(raw.get("name"), str):
        raise RequestError(f"'{where}.name' is required", param=where)
    return ToolCall(name=str(raw["name"]), arguments=_arguments(raw.get("arguments", ""), where))


def _arguments(value: JSONValue, where: str) -> str:
    if isinstance(value, str):
        return value
    return "\n".join(_strings(value, where, 2))


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
        calls.append(_function_call(function, f"{where}[{i}].function"))
    return tuple(calls)


def _parse_tools(raw: JSONValue, key: str, *, legacy: bool = False) -> tuple[ToolSpec, ...]:
    if raw is None:
        return ()
    if not isinstance(raw, list):
        raise RequestError(f"'{key}' must be an array", param=key)
    specs: list[ToolSpec] = []
    for i, tool in enumerate(raw):
        where = f"{key}[{i}]"
        if not isinstance(tool, dict):
            raise RequestError(f"'{where}' must be an object", param=where)
        function = tool if legacy else tool.get("function")
        if isinstance(function, dict) and isinstance(function.get("name"), str):
            description = function.get("description", "")
            parameters = "\n".join(_strings(function.get("parameters", {}), where, 2))
            rest = [
                s
                for k, v in tool.items()
                if k not in ("function", "type", "name", "description", "parameters")
                for s in _strings(v, where, 1)
            ]
            specs.append(
                ToolSpec(
                    name=str(function["name"]),
                    description=description if isinstance(description, str) else "",
                    parameters_json="\n".join([parameters, *rest]),
                )
            )
        elif legacy:
            raise RequestError(f"'{where}.name' is required", param=where)
        else:  # built-in or custom tool types: every string they carry is read
            kind = tool.get("type")
            specs.append(
                ToolSpec(
                    name=kind if isinstance(kind, str) else "tool",
                    description="\n".join(_strings(tool, where, 1)),
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
            if len(raw) > MAX_MESSAGES:
                raise RequestTooComplex(f"at most {MAX_MESSAGES} items in '{key}'", param=key)
            return tuple(Message(role="user", text=str(item)) for item in raw)
        if all(isinstance(item, (int, list)) and not isinstance(item, bool) for item in raw):
            raise UnscreenableInput(
                f"'{key}' holds token ids, which Redline cannot screen; send text instead",
                param=key,
            )
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


def upstream_body(request: ChatRequest, upstream_model: str, *, stream: bool) -> JSONObject:
    """The body sent upstream: the client's, with the upstream model name, and without the
    streaming fields when the gateway calls a streamed request as a whole one."""
    body: JSONObject = dict(request.body)
    body["model"] = upstream_model
    if not stream:
        body.pop("stream", None)
        body.pop("stream_options", None)
    return body


def held_bytes(request: ChatRequest, declared: Declared | None = None) -> bytes:
    """A held request as stored for review: its endpoint and body, and what it declared
    (purpose, authorities, case: headers are not part of the body) when it declared any."""
    doc: JSONObject = {"endpoint": request.endpoint.value, "body": request.body}
    if declared is not None and declared != Declared():
        doc["declared"] = {
            METADATA_KEYS[0]: declared.purpose,
            METADATA_KEYS[1]: ",".join(str(a) for a in declared.authorities),
            METADATA_KEYS[2]: declared.case,
        }
    return orjson.dumps(doc)


def held_declared(raw: bytes) -> Declared:
    """What a held request declared (see :func:`held_bytes`), checked again.

    Raises:
        RequestError: the stored value is not a held request, or its declaration is malformed.
    """
    stored = _load_object(raw).get("declared")
    if stored is None:
        return Declared()
    if not isinstance(stored, dict):
        raise RequestError("the held request's declaration is malformed")
    headers = {k: [v] for k, v in stored.items() if isinstance(v, str) and v}
    return parse_declared(headers, {})


def parse_held(raw: bytes) -> ChatRequest:
    """The request stored by :func:`held_bytes`, parsed as it was when it was held.

    Raises:
        RequestError: the stored value is not a held request.
    """
    doc = _load_object(raw)
    endpoint, body = doc.get("endpoint"), doc.get("body")
    if not isinstance(endpoint, str) or not isinstance(body, dict):
        raise RequestError("the stored review item is not a held request")
    try:
        kind = Endpoint(endpoint)
    except ValueError:
        raise RequestError(f"the held request names an unknown endpoint {endpoint!r}") from None
    return request_from_body(kind, body)


# -- replies ---------------------------------------------------------------------------


@dataclass(frozen=True, slots=True, kw_only=True)
class Reply:
    """What a reply says: its text (every text form joined) and its tool calls."""

    text: str
    tool_calls: tuple[ToolCall, ...] = ()


def reply_output(body: bytes) -> Reply:
    """Every text form and tool call of a chat or completion reply.

    A body that is not JSON is read as text (it reaches the requester as it is).
    """
    try:
        data = orjson.loads(body)
    except orjson.JSONDecodeError:
        return Reply(text=body.decode("utf-8", "replace"))
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
            _read_message(message, texts, calls)
    return Reply(text="\n".join(t for t in texts if t), tool_calls=tuple(calls))


def _read_message(message: JSONObject, texts: list[str], calls: list[ToolCall]) -> None:
    for key, value in message.items():
        if key in _REPLY_META:
            continue
        if key == "content":
            if isinstance(value, list):
                texts.extend(s for s in _strings(value, "content", 2) if s not in _TEXT_PART_KEYS)
            elif isinstance(value, str):
                texts.append(value)
        elif key == "tool_calls" and isinstance(value, list):
            for call in value:
                function = call.get("function") if isinstance(call, dict) else None
                if isinstance(function, dict):
                    calls.append(_reply_call(function))
                elif call is not None:
                    texts.extend(_strings(call, "tool_calls", 2))
        elif key == "function_call" and isinstance(value, dict):
            calls.append(_reply_call(value))
        else:
            texts.extend(_strings(value, key, 2))


_TEXT_PART_KEYS = frozenset({"type", "text", "output_text", "refusal", "input_text"})


def _reply_call(function: JSONObject) -> ToolCall:
    name = function.get("name")
    arguments = function.get("arguments", "")
    return ToolCall(
        name=name if isinstance(name, str) else "",
        arguments=arguments if isinstance(arguments, str) else "\n".join(_strings(arguments, "a")),
    )


@dataclass(slots=True)
class StreamText:
    """Accumulates the text and tool calls of a streamed reply, chunk by chunk."""

    texts: list[str] = field(default_factory=list)
    _calls: dict[tuple[int, int], list[str]] = field(default_factory=dict)

    def feed(self, payload: bytes) -> int:
        """Add one SSE data payload; return how many characters of text it added."""
        try:
            data = orjson.loads(payload)
        except orjson.JSONDecodeError:
            text = payload.decode("utf-8", "replace")
            self.texts.append(text)
            return len(text)
        added = 0
        choices = data.get("choices") if isinstance(data, dict) else None
        for choice in choices if isinstance(choices, list) else []:
            if not isinstance(choice, dict):
                continue
            index = choice.get("index", 0)
            slot = index if isinstance(index, int) else 0
            if isinstance(choice.get("text"), str):
                self.texts.append(choice["text"])
                added += len(choice["text"])
            delta = choice.get("delta")
            if isinstance(delta, dict):
                added += self._delta(slot, delta)
        return added

    def _delta(self, slot: int, delta: JSONObject) -> int:
        added = 0
        for key, value in delta.items():
            if key in _REPLY_META:
                continue
            if key == "tool_calls" and isinstance(value, list):
                for call in value:
                    if isinstance(call, dict):
                        at = call.get("index", 0)
                        added += self._call(slot, at if isinstance(at, int) else 0, call)
            elif key == "function_call" and isinstance(value, dict):
                added += self._call(slot, -1, {"function": value})
            else:
                pieces = [s for s in _strings(value, key, 2) if s not in _TEXT_PART_KEYS]
                self.texts.extend(pieces)
                added += sum(len(p) for p in pieces)
        return added

    def _call(self, slot: int, index: int, call: JSONObject) -> int:
        parts = self._calls.setdefault((slot, index), ["", ""])
        function = call.get("function")
        if not isinstance(function, dict):
            return 0
        name = function.get("name")
        args = function.get("arguments")
        name_s = name if isinstance(name, str) else ""
        args_s = args if isinstance(args, str) else ""
        parts[0] += name_s
        parts[1] += args_s
        return len(name_s) + len(args_s)

    def reply(self) -> Reply:
        """Everything received so far."""
        calls = tuple(
            ToolCall(name=name, arguments=args) for _, (name, args) in sorted(self._calls.items())
        )
        return Reply(text="".join(self.texts), tool_calls=calls)
