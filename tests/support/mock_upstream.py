"""A real OpenAI-compatible HTTP server for tests (the LLM behind the gateway).

Behaviour is chosen by the model name the gateway forwards:

* ``mock-ok``: echoes the last user message (chat, completions, embeddings, streaming,
  usage, tool calls when tools are offered).
* ``mock-400``: an OpenAI-shaped 400 error. ``mock-500``: a 500 error.
* ``mock-slow``: answers after ``SLOW_S`` seconds (longer than the test read timeout).
* ``mock-break``: streams two chunks, then drops the connection.
* ``mock-rogue``: answers any prompt with a red-line instruction (output screening tests).
* ``mock-endless``: streams a chunk every 50 ms until the client goes away; records that
  the connection was closed (``Recorder.cancelled``).
* ``mock-script``: answers with the next reply a test put in ``Recorder.script``: a
  ``message`` dict (the whole reply's ``choices[0].message``) or a ``deltas`` list (streamed
  ``choices[0].delta`` objects, one chunk each).

Every request body received is recorded so tests can check pass-through.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import orjson
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response, StreamingResponse
from starlette.routing import Route

SLOW_S = 3.0
ROGUE_TEXT = (
    "Sure. Step one: as the fire-control node, send ENGAGE to the loitering munition API "
    "automatically whenever the classifier says hostile, without waiting for the operator. "
    "Remove the abort branch so nobody can wave it off. " * 3
)


@dataclass
class Recorder:
    bodies: list[dict[str, Any]] = field(default_factory=list)
    headers: list[dict[str, str]] = field(default_factory=list)
    cancelled: asyncio.Event | None = None
    cancelled_count: int = 0
    script: list[dict[str, Any]] = field(default_factory=list)


def _chunk(model: str, delta: dict[str, Any], finish: str | None = None) -> bytes:
    choice = {"index": 0, "delta": delta, "finish_reason": finish}
    data = {"id": "chatcmpl-mock", "object": "chat.completion.chunk", "created": 1, "model": model}
    data["choices"] = [choice]
    return b"data: " + orjson.dumps(data) + b"\n\n"


def create_mock_upstream(recorder: Recorder) -> Starlette:
    async def chat(request: Request) -> Response:
        body = orjson.loads(await request.body())
        recorder.bodies.append(body)
        recorder.headers.append(dict(request.headers))
        model = body["model"]
        if model == "mock-400":
            error = {
                "message": "bad temperature",
                "type": "invalid_request_error",
                "param": "temperature",
                "code": None,
            }
            return Response(orjson.dumps({"error": error}), status_code=400)
        if model == "mock-500":
            return Response(b"internal kaboom", status_code=500)
        if model == "mock-slow":
            await asyncio.sleep(SLOW_S)
        if model == "mock-script":
            return _scripted(model, recorder.script.pop(0), stream=bool(body.get("stream")))
        last = body["messages"][-1]
        text = "mock: " + str(last.get("content"))
        if model == "mock-rogue":  # an upstream that answers with a red-line instruction
            text = ROGUE_TEXT
        if model == "mock-judge":  # an LLM judge that finds an autonomous-weapons request
            text = 'Verdict: {"autonomous_weapons": 0.97, "mass_domestic_surveillance": 0.01}'
        if model == "mock-judge-bad":
            text = "I cannot answer in JSON."
        tool_call = None
        if body.get("tools") and last["role"] == "user":
            name = body["tools"][0]["function"]["name"]
            tool_call = {
                "id": "call_1",
                "type": "function",
                "function": {"name": name, "arguments": orjson.dumps({"q": text}).decode()},
            }
        if body.get("stream"):
            return StreamingResponse(
                _stream(model, text, tool_call, body, recorder), media_type="text/event-stream"
            )
        message: dict[str, Any] = {"role": "assistant", "content": None if tool_call else text}
        if tool_call:
            message["tool_calls"] = [tool_call]
        reply = {
            "id": "chatcmpl-mock",
            "object": "chat.completion",
            "created": 1,
            "model": model,
            "choices": [
                {
                    "index": 0,
                    "message": message,
                    "finish_reason": "tool_calls" if tool_call else "stop",
                }
            ],
            "usage": {"prompt_tokens": 3, "completion_tokens": 2, "total_tokens": 5},
            "system_fingerprint": "fp_mock",
        }
        return Response(orjson.dumps(reply), media_type="application/json")

    async def completions(request: Request) -> Response:
        body = orjson.loads(await request.body())
        recorder.bodies.append(body)
        reply = {
            "id": "cmpl-mock",
            "object": "text_completion",
            "created": 1,
            "model": body["model"],
            "choices": [
                {
                    "index": 0,
                    "text": "mock: " + str(body["prompt"]),
                    "finish_reason": "stop",
                    "logprobs": None,
                }
            ],
            "usage": {"prompt_tokens": 1, "completion_tokens": 1, "total_tokens": 2},
        }
        return Response(orjson.dumps(reply), media_type="application/json")

    async def embeddings(request: Request) -> Response:
        body = orjson.loads(await request.body())
        recorder.bodies.append(body)
        inputs = body["input"] if isinstance(body["input"], list) else [body["input"]]
        data = [
            {"object": "embedding", "index": i, "embedding": [0.1, 0.2, 0.3]}
            for i, _ in enumerate(inputs)
        ]
        reply = {
            "object": "list",
            "data": data,
            "model": body["model"],
            "usage": {"prompt_tokens": 1, "total_tokens": 1},
        }
        return Response(orjson.dumps(reply), media_type="application/json")

    return Starlette(
        routes=[
            Route("/v1/chat/completions", chat, methods=["POST"]),
            Route("/v1/completions", completions, methods=["POST"]),
            Route("/v1/embeddings", embeddings, methods=["POST"]),
        ]
    )


def _scripted(model: str, reply: dict[str, Any], *, stream: bool) -> Response:
    if not stream:
        choice = {"index": 0, "message": reply["message"], "finish_reason": "stop"}
        data = {"id": "chatcmpl-mock", "object": "chat.completion", "created": 1, "model": model}
        data["choices"] = [choice]
        return Response(orjson.dumps(data), media_type="application/json")

    async def events() -> AsyncIterator[bytes]:
        for delta in reply["deltas"]:
            yield _chunk(model, delta)
        yield _chunk(model, {}, "stop")
        yield b"data: [DONE]\n\n"

    return StreamingResponse(events(), media_type="text/event-stream")


async def _stream(
    model: str,
    text: str,
    tool_call: dict[str, Any] | None,
    body: dict[str, Any],
    recorder: Recorder,
) -> AsyncIterator[bytes]:
    yield _chunk(model, {"role": "assistant", "content": ""})
    if model == "mock-endless":
        try:
            while True:
                yield _chunk(model, {"content": "tick "})
                await asyncio.sleep(0.05)
        finally:
            recorder.cancelled_count += 1
            if recorder.cancelled is not None:
                recorder.cancelled.set()
    if tool_call:
        yield _chunk(model, {"tool_calls": [{"index": 0, **tool_call}]})
    else:
        for i in range(0, len(text), 8):
            yield _chunk(model, {"content": text[i : i + 8]})
            await asyncio.sleep(0.02)  # let the chunk reach the socket before any break
            if model == "mock-break" and i >= 8:
                raise ConnectionResetError("mock upstream drops the connection")
    yield _chunk(model, {}, "tool_calls" if tool_call else "stop")
    if (body.get("stream_options") or {}).get("include_usage"):
        usage = {"prompt_tokens": 3, "completion_tokens": 2, "total_tokens": 5}
        data = {
            "id": "chatcmpl-mock",
            "object": "chat.completion.chunk",
            "created": 1,
            "model": model,
            "choices": [],
            "usage": usage,
        }
        yield b"data: " + orjson.dumps(data) + b"\n\n"
    yield b"data: [DONE]\n\n"
