"""``redline-echo``: the built-in, deterministic local model. It is NOT a language model.

It exists so that a fresh install answers requests with no back end configured, and so
that tests exercise every wire feature (streaming, usage, tool calls) deterministically:

* chat: replies ``"[redline-echo] " + <last user text>``; if the request offers tools and
  the last turn is a user turn, it calls the chosen tool (``tool_choice`` or the first
  tool) with ``{"input": <last user text>}``; after a tool result it echoes that result.
* completions: echoes the prompt.
* embeddings: a deterministic 16-dimensional unit vector derived from SHA-256 of each input.
"""

from __future__ import annotations

import hashlib
import math
import time
from collections.abc import AsyncIterator

import orjson

from redline.domain import Endpoint, JSONObject, JSONValue
from redline.errors import UpstreamResponseError
from redline.upstream.base import UpstreamReply

__all__ = ["ECHO_PREFIX", "EchoUpstream"]

ECHO_PREFIX = "[redline-echo] "
_CHUNK_CHARS = 16


class EchoUpstream:
    """In-process back end for the ``redline-echo`` model."""

    def __init__(self, *, model_name: str = "redline-echo") -> None:
        self.model_name = model_name

    async def complete(self, endpoint: Endpoint, body: JSONObject) -> UpstreamReply:
        if endpoint is Endpoint.EMBEDDINGS:
            return UpstreamReply(body=orjson.dumps(_embeddings(body, self.model_name)))
        created = int(time.time())
        text, tool_call = _answer(endpoint, body)
        usage = _usage(body, text)
        if endpoint is Endpoint.COMPLETIONS:
            choice: JSONObject = {
                "index": 0,
                "text": text,
                "finish_reason": "stop",
                "logprobs": None,
            }
            reply: JSONObject = {
                "id": "cmpl-echo",
                "object": "text_completion",
                "choices": [choice],
            }
        else:
            message: JSONObject = {"role": "assistant", "content": None if tool_call else text}
            if tool_call:
                message["tool_calls"] = [tool_call]
            finish = "tool_calls" if tool_call else "stop"
            choice = {"index": 0, "message": message, "finish_reason": finish, "logprobs": None}
            reply = {"id": "chatcmpl-echo", "object": "chat.completion", "choices": [choice]}
        reply.update(created=created, model=self.model_name, usage=usage)
        return UpstreamReply(body=orjson.dumps(reply))

    async def stream(self, endpoint: Endpoint, body: JSONObject) -> AsyncIterator[bytes]:
        if endpoint is Endpoint.EMBEDDINGS:
            raise UpstreamResponseError("embeddings cannot stream", status_code=400)
        created = int(time.time())
        text, tool_call = _answer(endpoint, body)
        chat = endpoint is Endpoint.CHAT
        base: JSONObject = {
            "id": "chatcmpl-echo" if chat else "cmpl-echo",
            "object": "chat.completion.chunk" if chat else "text_completion",
            "created": created,
            "model": self.model_name,
        }
        if chat:
            yield orjson.dumps({**base, "choices": [_delta({"role": "assistant", "content": ""})]})
        if tool_call:
            yield orjson.dumps(
                {**base, "choices": [_delta({"tool_calls": [{"index": 0, **tool_call}]})]}
            )
        else:
            for start in range(0, len(text), _CHUNK_CHARS):
                piece = text[start : start + _CHUNK_CHARS]
                choice = _delta({"content": piece}) if chat else {"index": 0, "text": piece}
                yield orjson.dumps({**base, "choices": [choice]})
        finish = "tool_calls" if tool_call else "stop"
        last: JSONObject = {"index": 0, "finish_reason": finish}
        if chat:
            last["delta"] = {}
        else:
            last["text"] = ""
        yield orjson.dumps({**base, "choices": [last]})
        options = body.get("stream_options")
        if isinstance(options, dict) and options.get("include_usage") is True:
            yield orjson.dumps({**base, "choices": [], "usage": _usage(body, text)})

    async def aclose(self) -> None:
        return None


def _delta(delta: JSONObject) -> JSONObject:
    return {"index": 0, "delta": delta, "finish_reason": None}


def _answer(endpoint: Endpoint, body: JSONObject) -> tuple[str, JSONObject | None]:
    if endpoint is Endpoint.COMPLETIONS:
        prompt = body.get("prompt", "")
        return ECHO_PREFIX + (
            prompt if isinstance(prompt, str) else orjson.dumps(prompt).decode()
        ), None
    messages = body.get("messages")
    last = messages[-1] if isinstance(messages, list) and messages else {}
    if not isinstance(last, dict):
        return ECHO_PREFIX, None
    text = _text(last.get("content"))
    tools = body.get("tools")
    if (
        last.get("role") == "user"
        and isinstance(tools, list)
        and tools
        and body.get("tool_choice") != "none"
    ):
        name = _chosen_tool(tools, body.get("tool_choice"))
        if name:
            call: JSONObject = {
                "id": "call_" + hashlib.sha256(text.encode()).hexdigest()[:24],
                "type": "function",
                "function": {"name": name, "arguments": orjson.dumps({"input": text}).decode()},
            }
            return "", call
    return ECHO_PREFIX + text, None


def _chosen_tool(tools: list[JSONValue], choice: JSONValue) -> str | None:
    if isinstance(choice, dict):
        function = choice.get("function")
        if isinstance(function, dict) and isinstance(function.get("name"), str):
            return str(function["name"])
    first = tools[0]
    if isinstance(first, dict):
        function = first.get("function")
        if isinstance(function, dict) and isinstance(function.get("name"), str):
            return str(function["name"])
    return None


def _text(content: JSONValue) -> str:
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        parts = [p.get("text") for p in content if isinstance(p, dict)]
        return "".join(p for p in parts if isinstance(p, str))
    return ""


def _usage(body: JSONObject, text: str) -> JSONObject:
    prompt = len(orjson.dumps(body.get("messages", body.get("prompt", "")))) // 4
    completion = len(text) // 4
    return {
        "prompt_tokens": prompt,
        "completion_tokens": completion,
        "total_tokens": prompt + completion,
    }


def _embeddings(body: JSONObject, model: str) -> JSONObject:
    raw = body.get("input", "")
    inputs = raw if isinstance(raw, list) else [raw]
    data: list[JSONValue] = []
    for i, item in enumerate(inputs):
        digest = hashlib.sha256(orjson.dumps(item)).digest()
        vector = [b - 127.5 for b in digest[:16]]
        norm = math.sqrt(sum(v * v for v in vector)) or 1.0
        data.append({"object": "embedding", "index": i, "embedding": [v / norm for v in vector]})
    tokens = sum(len(orjson.dumps(item)) // 4 for item in inputs)
    usage: JSONObject = {"prompt_tokens": tokens, "total_tokens": tokens}
    return {"object": "list", "data": data, "model": model, "usage": usage}
