"""The official openai client against a real gateway in front of a real mock upstream."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import openai
import pytest
from openai.types.chat import ChatCompletionMessageFunctionToolCall

from tests.conftest import MockUpstream

_clients: list[openai.OpenAI] = []


def client(url: str, key: str) -> openai.OpenAI:
    made = openai.OpenAI(base_url=url + "/v1", api_key=key, max_retries=0)
    _clients.append(made)
    return made


@pytest.fixture(autouse=True)
def _close_clients() -> Iterator[None]:
    yield
    while _clients:
        _clients.pop().close()


def test_chat_completion_round_trip(
    gateway_url: str, api_key: str, mock_upstream: MockUpstream
) -> None:
    reply = client(gateway_url, api_key).chat.completions.create(
        model="public-name", messages=[{"role": "user", "content": "hello"}]
    )
    assert reply.choices[0].message.content == "mock: hello"
    assert reply.usage is not None
    assert reply.usage.total_tokens == 5
    # The routing table renamed the model for the upstream.
    assert mock_upstream.recorder.bodies[-1]["model"] == "mock-ok"


def test_unknown_fields_pass_through_untouched(
    gateway_url: str, api_key: str, mock_upstream: MockUpstream
) -> None:
    client(gateway_url, api_key).chat.completions.create(
        model="mock-ok",
        messages=[{"role": "user", "content": "hi"}],
        seed=7,
        logprobs=True,
        response_format={"type": "json_object"},
        temperature=0.25,
        extra_body={"vendor_extra": {"nested": [1, 2, 3]}, "top_k": 5},
    )
    sent = mock_upstream.recorder.bodies[-1]
    assert sent["seed"] == 7
    assert sent["logprobs"] is True
    assert sent["response_format"] == {"type": "json_object"}
    assert sent["temperature"] == 0.25
    assert sent["vendor_extra"] == {"nested": [1, 2, 3]}
    assert sent["top_k"] == 5


def test_tool_calls_pass_both_ways(
    gateway_url: str, api_key: str, mock_upstream: MockUpstream
) -> None:
    tools: Any = [
        {
            "type": "function",
            "function": {
                "name": "get_inventory",
                "description": "stock",
                "parameters": {"type": "object", "properties": {}},
            },
        }
    ]
    c = client(gateway_url, api_key)
    reply = c.chat.completions.create(
        model="mock-ok", messages=[{"role": "user", "content": "count the pallets"}], tools=tools
    )
    calls = reply.choices[0].message.tool_calls
    assert calls
    assert isinstance(calls[0], ChatCompletionMessageFunctionToolCall)
    assert calls[0].function.name == "get_inventory"
    assistant: Any = {"role": "assistant", "content": None, "tool_calls": [calls[0].model_dump()]}
    follow_up = c.chat.completions.create(
        model="mock-ok",
        tools=tools,
        messages=[
            {"role": "user", "content": "count the pallets"},
            assistant,
            {"role": "tool", "tool_call_id": calls[0].id, "content": "42 pallets"},
        ],
    )
    assert follow_up.choices[0].message.content == "mock: 42 pallets"
    sent = mock_upstream.recorder.bodies[-1]
    assert sent["messages"][1]["tool_calls"][0]["function"]["name"] == "get_inventory"
    assert sent["messages"][2]["tool_call_id"] == calls[0].id
    assert sent["tools"] == tools


def test_streaming_with_usage(gateway_url: str, api_key: str) -> None:
    stream = client(gateway_url, api_key).chat.completions.create(
        model="mock-ok",
        messages=[{"role": "user", "content": "stream me a sentence"}],
        stream=True,
        stream_options={"include_usage": True},
    )
    chunks = list(stream)
    text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    assert text == "mock: stream me a sentence"
    assert chunks[-1].usage is not None
    assert chunks[-1].usage.total_tokens == 5


async def test_async_client_and_streaming(gateway_url: str, api_key: str) -> None:
    c = openai.AsyncOpenAI(base_url=gateway_url + "/v1", api_key=api_key, max_retries=0)
    reply = await c.chat.completions.create(
        model="mock-ok", messages=[{"role": "user", "content": "async hello"}]
    )
    assert reply.choices[0].message.content == "mock: async hello"
    stream = await c.chat.completions.create(
        model="mock-ok", messages=[{"role": "user", "content": "async stream"}], stream=True
    )
    parts = [chunk.choices[0].delta.content or "" async for chunk in stream if chunk.choices]
    assert "".join(parts) == "mock: async stream"
    await c.close()


def test_completions_embeddings_models(gateway_url: str, api_key: str) -> None:
    c = client(gateway_url, api_key)
    completion = c.completions.create(model="mock-ok", prompt="say hi")
    assert completion.choices[0].text == "mock: say hi"
    embedding = c.embeddings.create(model="mock-ok", input=["a", "b"])
    assert [e.embedding for e in embedding.data] == [[0.1, 0.2, 0.3]] * 2
    models = {m.id for m in c.models.list()}
    assert {"redline-echo", "mock-ok", "public-name"} <= models


def test_builtin_echo_model_streams_and_calls_tools(gateway_url: str, api_key: str) -> None:
    c = client(gateway_url, api_key)
    stream = c.chat.completions.create(
        model="redline-echo", messages=[{"role": "user", "content": "ping"}], stream=True
    )
    text = "".join(ch.choices[0].delta.content or "" for ch in stream if ch.choices)
    assert text == "[redline-echo] ping"
    tools: Any = [
        {"type": "function", "function": {"name": "lookup", "parameters": {"type": "object"}}}
    ]
    reply = c.chat.completions.create(
        model="redline-echo", messages=[{"role": "user", "content": "find x"}], tools=tools
    )
    call = reply.choices[0].message.tool_calls
    assert call
    assert isinstance(call[0], ChatCompletionMessageFunctionToolCall)
    assert call[0].function.name == "lookup"
    assert call[0].function.arguments == '{"input":"find x"}'
    vectors = c.embeddings.create(model="redline-echo", input="abc").data[0].embedding
    assert len(vectors) == 16
    assert vectors == c.embeddings.create(model="redline-echo", input="abc").data[0].embedding


def test_upstream_4xx_is_passed_through_in_openai_shape(gateway_url: str, api_key: str) -> None:
    with pytest.raises(openai.BadRequestError) as info:
        client(gateway_url, api_key).chat.completions.create(
            model="mock-400", messages=[{"role": "user", "content": "x"}]
        )
    assert info.value.status_code == 400
    assert info.value.param == "temperature"
    assert "bad temperature" in info.value.message


def test_wrong_key_is_401(gateway_url: str) -> None:
    with pytest.raises(openai.AuthenticationError) as info:
        client(gateway_url, "rl_0000_nope").models.list()
    assert info.value.code == "invalid_api_key"
