"""No input reaches a 500: whatever bytes or JSON a client sends to any route, the answer is
a success or an OpenAI-shaped error with a named code (property test over a real server)."""

from __future__ import annotations

from typing import Any

import httpx
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

JSON_LEAF = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=False, allow_infinity=False),
    st.text(max_size=40),
)
JSON = st.recursive(
    JSON_LEAF,
    lambda children: st.one_of(
        st.lists(children, max_size=4), st.dictionaries(st.text(max_size=12), children, max_size=4)
    ),
    max_leaves=30,
)
KEYS = st.sampled_from(
    ["model", "messages", "prompt", "input", "stream", "tools", "functions", "suffix",
     "stream_options", "metadata", "response_format", "tool_choice", "x"]
)  # fmt: skip
MESSAGE_KEYS = st.sampled_from(
    ["role", "content", "name", "tool_calls", "function_call", "refusal", "tool_call_id", "z"]
)
ROLE = st.sampled_from(["user", "assistant", "system", "tool", "developer", "function", "boss"])
MESSAGE = st.dictionaries(MESSAGE_KEYS, st.one_of(JSON, ROLE), max_size=5)
BODY = st.one_of(
    JSON,
    st.fixed_dictionaries(
        {"model": st.sampled_from(["mock-ok", "redline-echo", "nope"])},
        optional={"messages": st.lists(MESSAGE, max_size=4)},
    ).flatmap(lambda base: st.dictionaries(KEYS, JSON, max_size=4).map(lambda d: {**d, **base})),
)
PATHS = st.sampled_from(
    ["/v1/chat/completions", "/v1/completions", "/v1/embeddings", "/v1/moderations"]
)


def _named(response: httpx.Response) -> None:
    assert response.status_code != 500, response.text
    if response.status_code >= 400:
        error = response.json()["error"]
        assert error["message"]
        assert error["type"]


@settings(
    max_examples=120, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(path=PATHS, body=BODY)
def test_any_json_body_gets_a_named_answer(
    gateway_url: str, api_key: str, path: str, body: Any
) -> None:
    response = httpx.post(
        gateway_url + path, json=body, headers={"authorization": f"Bearer {api_key}"}, timeout=30
    )
    _named(response)


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(path=PATHS, raw=st.binary(max_size=200))
def test_any_bytes_get_a_named_answer(
    gateway_url: str, api_key: str, path: str, raw: bytes
) -> None:
    response = httpx.post(
        gateway_url + path, content=raw, headers={"authorization": f"Bearer {api_key}"}, timeout=30
    )
    _named(response)
