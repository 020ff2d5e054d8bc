"""The OpenAI wire module: the canonical view of a request, bounds, and every output form."""

from __future__ import annotations

import json
from typing import Any

import orjson
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from redline.domain import Action, ChatRequest, Decision, Endpoint
from redline.errors import RequestError, RequestTooComplex, UnscreenableInput
from redline.wire import (
    MAX_DEPTH,
    MAX_MESSAGES,
    StreamText,
    error_body,
    held_bytes,
    parse_held,
    parse_moderation,
    parse_request,
    refusal_body,
    reply_output,
    upstream_body,
)


def chat(**body: Any) -> ChatRequest:
    body.setdefault("model", "m")
    body.setdefault("messages", [{"role": "user", "content": "hi"}])
    return parse_request(Endpoint.CHAT, orjson.dumps(body))


def canonical(request: ChatRequest) -> str:
    """Everything the stack and the marking scan read."""
    screen = "\n".join(
        [m.text for m in request.screen_messages()]
        + [m.name or "" for m in request.screen_messages()]
        + [c.arguments for m in request.messages for c in m.tool_calls]
        + [f"{t.name} {t.description} {t.parameters_json}" for t in request.tools]
    )
    return screen + "\n".join(request.texts())


# -- the canonical view covers every string -----------------------------------------------

_KEYS = st.text(alphabet="abcdefghij_", min_size=1, max_size=8).filter(
    lambda k: k not in {"model", "messages", "tools", "functions", "stream", "stream_options"}
)
_SECRET = "zqxjvk"  # a marker that cannot occur by chance in generated keys
_JSON_WITH_SECRET = st.recursive(
    st.just(_SECRET),
    lambda children: st.one_of(
        st.lists(children, min_size=1, max_size=3),
        st.dictionaries(st.sampled_from(["a", "b", "type", "text"]), children, min_size=1),
    ),
    max_leaves=5,
)


@settings(max_examples=150, deadline=None)
@given(key=_KEYS, value=_JSON_WITH_SECRET)
def test_every_string_of_any_extra_field_reaches_the_canonical_view(key: str, value: Any) -> None:
    request = chat(**{key: value})
    assert _SECRET in canonical(request)


@settings(max_examples=150, deadline=None)
@given(value=_JSON_WITH_SECRET, key=st.sampled_from(["content", "refusal", "x_vendor"]))
def test_every_string_of_any_message_reaches_the_canonical_view(key: str, value: Any) -> None:
    message: dict[str, Any] = {"role": "assistant", "content": "x"}
    if key == "content":
        value = [{"type": "text", "text": _SECRET}, {"type": "custom", "data": value}]
    elif key == "refusal":
        value = _SECRET
    message[key] = value
    request = chat(messages=[{"role": "user", "content": "q"}, message])
    assert _SECRET in canonical(request)


@pytest.mark.parametrize(
    "field",
    [
        {"suffix": _SECRET},
        {"metadata": {"k": _SECRET}},
        {"metadata": {_SECRET: "v"}},
        {"prediction": {"type": "content", "content": _SECRET}},
        {"response_format": {"type": "json_schema", "json_schema": {"schema": {"x": _SECRET}}}},
        {"tool_choice": {"type": "function", "function": {"name": _SECRET}}},
        {"functions": [{"name": "f", "description": _SECRET}]},
        {"tools": [{"type": "function", "function": {"name": "f", "parameters": {"d": _SECRET}}}]},
        {"tools": [{"type": "web_search", "note": _SECRET}]},
        {"messages": [{"role": "user", "content": "q", "name": _SECRET}]},
        {"messages": [{"role": "assistant", "function_call": {"name": "f", "arguments": _SECRET}}]},
        {
            "messages": [
                {
                    "role": "assistant",
                    "tool_calls": [{"function": {"name": "f", "arguments": {"a": _SECRET}}}],
                }
            ]
        },
    ],
)
def test_known_text_fields_reach_the_canonical_view(field: dict[str, Any]) -> None:
    assert _SECRET in canonical(chat(**field))


def test_routing_and_enum_fields_are_not_screened() -> None:
    request = chat(model="gpt-x", service_tier="auto", reasoning_effort="low", temperature=0.2)
    assert request.fields == ()


def test_an_enum_field_holding_prose_is_screened() -> None:
    request = chat(reasoning_effort="x" * 100)
    assert [f.where for f in request.fields] == ["reasoning_effort"]


# -- bounds and refusals ----------------------------------------------------------------


def test_nesting_beyond_the_bound_is_refused() -> None:
    nested: Any = "x"
    for _ in range(MAX_DEPTH + 2):
        nested = {"a": nested}
    with pytest.raises(RequestTooComplex):
        chat(metadata=nested)


def test_nesting_beyond_what_json_parsers_allow_is_refused_by_name() -> None:
    raw = b'{"model":"m","messages":[],"x":' + b"[" * 2000 + b"]" * 2000 + b"}"
    with pytest.raises(RequestTooComplex):
        parse_request(Endpoint.CHAT, raw)


def test_too_many_messages_are_refused() -> None:
    with pytest.raises(RequestTooComplex):
        chat(messages=[{"role": "user", "content": "ok"}] * (MAX_MESSAGES + 1))


@pytest.mark.parametrize(
    ("endpoint", "body"),
    [
        (Endpoint.COMPLETIONS, {"model": "m", "prompt": [1, 2, 3]}),
        (Endpoint.COMPLETIONS, {"model": "m", "prompt": [[1, 2], [3]]}),
        (Endpoint.EMBEDDINGS, {"model": "m", "input": [1, 2]}),
    ],
)
def test_token_ids_are_unscreenable(endpoint: Endpoint, body: dict[str, Any]) -> None:
    with pytest.raises(UnscreenableInput):
        parse_request(endpoint, orjson.dumps(body))


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        (b"", "empty"),
        (b"\xff\xfe", "UTF-8"),
        (b"{nope", "not valid JSON"),
        (b"[]", "JSON object"),
        (b'{"messages":[]}', "'model'"),
        (b'{"model":"m"}', "'messages' is required"),
        (b'{"model":"m","messages":[]}', "non-empty"),
        (b'{"model":"m","messages":[1]}', "must be an object"),
        (b'{"model":"m","messages":[{"role":"boss"}]}', "role"),
        (b'{"model":"m","messages":[{"role":"user","content":5}]}', "content"),
        (b'{"model":"m","messages":[{"role":"user","content":[5]}]}', "'type'"),
        (b'{"model":"m","messages":[{"role":"user","name":5}]}', "name"),
        (b'{"model":"m","messages":[{"role":"user","refusal":5}]}', "refusal"),
        (b'{"model":"m","messages":[{"role":"user"}],"stream":"yes"}', "stream"),
        (b'{"model":"m","messages":[{"role":"user"}],"tools":{}}', "'tools'"),
        (b'{"model":"m","messages":[{"role":"user"}],"tools":[5]}', "object"),
        (b'{"model":"m","messages":[{"role":"user"}],"functions":[{}]}', "name"),
        (b'{"model":"m","messages":[{"role":"user"}],"stream_options":1}', "stream_options"),
        (b'{"model":"m","messages":[{"role":"user","tool_calls":{}}]}', "array"),
        (b'{"model":"m","messages":[{"role":"user","tool_calls":[{}]}]}', "name"),
    ],
)
def test_bad_requests_name_what_is_wrong(raw: bytes, message: str) -> None:
    with pytest.raises(RequestError, match=message):
        parse_request(Endpoint.CHAT, raw)


def test_prompts_become_user_messages() -> None:
    one = parse_request(Endpoint.COMPLETIONS, b'{"model":"m","prompt":"a","suffix":"b"}')
    assert [m.text for m in one.messages] == ["a"]
    assert [(f.where, f.text) for f in one.fields] == [("suffix", "b")]
    many = parse_request(Endpoint.EMBEDDINGS, b'{"model":"m","input":["a","b"]}')
    assert [m.text for m in many.messages] == ["a", "b"]
    with pytest.raises(RequestError):
        parse_request(Endpoint.EMBEDDINGS, b'{"model":"m","input":"a","stream":true}')
    with pytest.raises(RequestError):
        parse_request(Endpoint.COMPLETIONS, b'{"model":"m","prompt":{}}')


def test_non_text_parts_are_counted_not_dropped() -> None:
    request = chat(
        messages=[
            {
                "role": "user",
                "content": [
                    {"type": "text", "text": "look"},
                    {"type": "image_url", "image_url": {"url": "data:"}},
                    "bare",
                ],
            }
        ]
    )
    assert request.messages[0].non_text_parts == 1
    assert request.messages[0].text == "look\nbare"


# -- upstream body, held requests, errors -------------------------------------------------


def test_upstream_body_renames_the_model_and_drops_streaming_when_whole() -> None:
    request = chat(stream=True, stream_options={"include_usage": True}, seed=3)
    streamed = upstream_body(request, "up", stream=True)
    whole = upstream_body(request, "up", stream=False)
    assert streamed["model"] == whole["model"] == "up"
    assert streamed["stream"] is True
    assert "stream" not in whole
    assert "stream_options" not in whole
    assert whole["seed"] == 3
    assert request.body["model"] == "m"  # the parsed request is not edited


def test_held_request_round_trips() -> None:
    request = chat(tools=[{"type": "function", "function": {"name": "f"}}], suffix="s")
    assert parse_held(held_bytes(request)) == request
    completion = parse_request(Endpoint.COMPLETIONS, b'{"model":"m","prompt":"p"}')
    assert parse_held(held_bytes(completion)) == completion


@pytest.mark.parametrize(
    "raw", [b'{"model":"m"}', b'{"endpoint":"nope","body":{}}', b'{"endpoint":1,"body":{}}']
)
def test_a_stored_value_that_is_not_a_held_request_is_refused(raw: bytes) -> None:
    with pytest.raises(RequestError):
        parse_held(raw)


def test_refusal_bodies() -> None:
    decision = Decision(action=Action.BLOCK, categories=("autonomous_weapons",), clauses=("C2",))
    blocked = json.loads(refusal_body(decision, subject="Request"))["error"]
    assert blocked["code"] == "redline_blocked"
    assert "autonomous_weapons" in blocked["message"]
    assert "C2" in blocked["message"]
    held = json.loads(refusal_body(decision, review_id="rev_1"))["error"]
    assert held["code"] == "redline_review"
    assert held["review_id"] == "rev_1"
    failed = json.loads(refusal_body(Decision(action=Action.BLOCK, reason="stack down")))
    assert "stack down" in failed["error"]["message"]
    assert json.loads(error_body("m", type_="t", code="c", param="p"))["error"]["param"] == "p"


def test_moderation_inputs() -> None:
    assert parse_moderation(b'{"input":"a"}') == ["a"]
    assert parse_moderation(b'{"input":["a",{"type":"text","text":"b"}]}') == ["a", "b"]
    for bad in (b'{"input":[]}', b'{"input":[1]}', b'{"input":' + b'["a"],' * 0 + b"5}"):
        with pytest.raises(RequestError):
            parse_moderation(bad)
    with pytest.raises(RequestError):
        parse_moderation(orjson.dumps({"input": ["a"] * 300}))


# -- output forms -------------------------------------------------------------------------


def reply(message: dict[str, Any]) -> bytes:
    return orjson.dumps({"choices": [{"index": 0, "message": message}]})


@pytest.mark.parametrize(
    "message",
    [
        {"role": "assistant", "content": _SECRET},
        {"role": "assistant", "content": [{"type": "text", "text": _SECRET}]},
        {"role": "assistant", "content": None, "refusal": _SECRET},
        {"role": "assistant", "content": "", "reasoning_content": _SECRET},
        {"role": "assistant", "audio": {"transcript": _SECRET}},
    ],
)
def test_every_text_form_of_a_reply_is_read(message: dict[str, Any]) -> None:
    assert _SECRET in reply_output(reply(message)).text


def test_tool_calls_of_a_reply_are_read_in_both_forms() -> None:
    modern = reply(
        {"tool_calls": [{"id": "1", "function": {"name": "fire", "arguments": _SECRET}}]}
    )
    legacy = reply({"function_call": {"name": "fire", "arguments": {"a": _SECRET}}})
    for body in (modern, legacy):
        calls = reply_output(body).tool_calls
        assert calls[0].name == "fire"
        assert _SECRET in calls[0].arguments


def test_completion_text_and_non_json_replies_are_read() -> None:
    assert reply_output(b'{"choices":[{"text":"abc"}]}').text == "abc"
    assert reply_output(b"plain words").text == "plain words"


def test_streamed_text_and_calls_accumulate_in_every_form() -> None:
    acc = StreamText()
    events = [
        {"choices": [{"index": 0, "delta": {"role": "assistant", "content": "ab"}}]},
        {"choices": [{"index": 0, "delta": {"content": [{"type": "text", "text": "cd"}]}}]},
        {"choices": [{"index": 0, "delta": {"refusal": "ef"}}]},
        {"choices": [{"index": 0, "text": "gh"}]},
        {
            "choices": [
                {"index": 0, "delta": {"tool_calls": [{"index": 0, "function": {"name": "fi"}}]}}
            ]
        },
        {
            "choices": [
                {
                    "index": 0,
                    "delta": {"tool_calls": [{"index": 0, "function": {"arguments": "{}"}}]},
                }
            ]
        },
        {"choices": [{"index": 0, "delta": {"function_call": {"name": "old", "arguments": "x"}}}]},
    ]
    added = sum(acc.feed(orjson.dumps(e)) for e in events)
    got = acc.reply()
    assert got.text == "abcdefgh"
    assert [(c.name, c.arguments) for c in got.tool_calls] == [("old", "x"), ("fi", "{}")]
    assert added == len("abcdefgh") + len("fi{}oldx")
    assert acc.feed(b"not json") == len("not json")


def test_more_text_than_can_be_screened_is_refused() -> None:
    from redline.wire import MAX_TEXT_CHARS

    half = "x" * (MAX_TEXT_CHARS // 2 + 1)
    with pytest.raises(RequestTooComplex, match="characters of text"):
        chat(messages=[{"role": "user", "content": half}], suffix=half)
