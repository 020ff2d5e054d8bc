"""Bad input and upstream failures get the documented OpenAI-shaped errors."""

from __future__ import annotations

import asyncio
import socket
import time

import httpx
import pytest

from tests.conftest import MockUpstream

CHAT = "/v1/chat/completions"


def post(url: str, key: str, content: bytes, **headers: str) -> httpx.Response:
    return httpx.post(
        url + CHAT,
        content=content,
        headers={"authorization": f"Bearer {key}", "content-type": "application/json", **headers},
        timeout=10,
    )


def error_of(response: httpx.Response) -> dict[str, object]:
    body = response.json()
    assert set(body) == {"error"}
    error: dict[str, object] = body["error"]
    assert {"message", "type", "param", "code"} <= set(error)
    return error


def test_malformed_json_is_400_naming_the_problem(gateway_url: str, api_key: str) -> None:
    response = post(gateway_url, api_key, b'{"model": "mock-ok", "messages": [')
    assert response.status_code == 400
    assert "not valid JSON" in str(error_of(response)["message"])


@pytest.mark.parametrize(
    ("body", "param"),
    [
        (b'{"messages": [{"role": "user", "content": "x"}]}', "model"),
        (b'{"model": "mock-ok"}', "messages"),
        (b'{"model": 5, "messages": []}', "model"),
        (b'{"model": "mock-ok", "messages": "hello"}', "messages"),
        (
            b'{"model": "mock-ok", "messages": [{"role": "boss", "content": "x"}]}',
            "messages[0].role",
        ),
        (
            b'{"model": "mock-ok", "messages": [{"role": "user", "content": 7}]}',
            "messages[0].content",
        ),
        (
            b'{"model": "mock-ok", "stream": "yes", "messages": [{"role": "user", "content": ""}]}',
            "stream",
        ),
        (
            b'{"model": "mock-ok", "tools": {}, "messages": [{"role": "user", "content": "x"}]}',
            "tools",
        ),
    ],
)
def test_wrong_or_missing_fields_name_the_field(
    gateway_url: str, api_key: str, body: bytes, param: str
) -> None:
    response = post(gateway_url, api_key, body)
    assert response.status_code == 400
    error = error_of(response)
    assert error["param"] == param
    assert param.split("[", maxsplit=1)[0].split(".", maxsplit=1)[0] in str(error["message"])


def test_body_must_be_an_object(gateway_url: str, api_key: str) -> None:
    response = post(gateway_url, api_key, b"[1, 2]")
    assert response.status_code == 400
    assert "JSON object" in str(error_of(response)["message"])


def test_invalid_utf8_is_400(gateway_url: str, api_key: str) -> None:
    response = post(gateway_url, api_key, b'{"model": "mock-ok", "messages": "\xff\xfe"}')
    assert response.status_code == 400
    assert "UTF-8" in str(error_of(response)["message"])


def test_oversized_body_is_413_without_reading_the_rest(gateway_url: str, api_key: str) -> None:
    # Declared length over the limit (64 KiB in this fixture): refused from the headers alone.
    host, port = gateway_url.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=5) as sock:
        sock.sendall(
            b"POST /v1/chat/completions HTTP/1.1\r\nhost: x\r\n"
            + f"authorization: Bearer {api_key}\r\n".encode()
            + b"content-type: application/json\r\ncontent-length: 100000000\r\n\r\n{"
        )
        reply = ""
        while "request_too_large" not in reply:
            chunk = sock.recv(65536).decode()
            if not chunk:
                break
            reply += chunk
    assert reply.startswith("HTTP/1.1 413")
    assert "request_too_large" in reply


def test_oversized_chunked_body_is_413(gateway_url: str, api_key: str) -> None:
    def chunks() -> object:
        for _ in range(100):
            yield b" " * 4096

    response = httpx.post(
        gateway_url + CHAT,
        content=chunks(),  # type: ignore[arg-type]
        headers={"authorization": f"Bearer {api_key}"},
        timeout=10,
    )
    assert response.status_code == 413
    assert error_of(response)["code"] == "request_too_large"


def test_unknown_model_is_404_model_not_found(gateway_url: str, api_key: str) -> None:
    response = post(
        gateway_url, api_key, b'{"model": "gpt-9", "messages": [{"role": "user", "content": "x"}]}'
    )
    assert response.status_code == 404
    error = error_of(response)
    assert error["code"] == "model_not_found"
    assert "gpt-9" in str(error["message"])


@pytest.mark.parametrize(
    "header", [None, "Bearer", "Basic abc", "Bearer rl_abc", "Bearer rl_dead_beef"]
)
def test_missing_or_invalid_key_is_401(gateway_url: str, header: str | None) -> None:
    headers = {"authorization": header} if header else {}
    response = httpx.get(gateway_url + "/v1/models", headers=headers)
    assert response.status_code == 401
    assert error_of(response)["code"] == "invalid_api_key"


def test_request_id_is_echoed_or_generated(gateway_url: str, api_key: str) -> None:
    headers = {"authorization": f"Bearer {api_key}"}
    echoed = httpx.get(gateway_url + "/v1/models", headers={**headers, "x-request-id": "abc-123"})
    assert echoed.headers["x-request-id"] == "abc-123"
    generated = httpx.get(
        gateway_url + "/v1/models", headers={**headers, "x-request-id": "bad id!"}
    )
    assert generated.headers["x-request-id"].startswith("req_")
    assert (
        httpx.get(gateway_url + "/v1/models", headers=headers).headers["x-request-id"]
        != (generated.headers["x-request-id"])
    )


def chat(model: str, *, stream: bool = False) -> bytes:
    return (
        b'{"model": "'
        + model.encode()
        + b'", "stream": '
        + (b"true" if stream else b"false")
        + b', "messages": [{"role": "user", "content": "hello there friend"}]}'
    )


def test_upstream_down_is_502(gateway_url: str, api_key: str) -> None:
    response = post(gateway_url, api_key, chat("mock-down"))
    assert response.status_code == 502
    assert error_of(response)["code"] == "upstream_error"


def test_upstream_5xx_is_502(gateway_url: str, api_key: str) -> None:
    response = post(gateway_url, api_key, chat("mock-500"))
    assert response.status_code == 502
    error = error_of(response)
    assert error["code"] == "upstream_error"
    assert "kaboom" not in str(error["message"])  # upstream internals are not leaked


def test_upstream_slow_is_504(gateway_url: str, api_key: str) -> None:
    started = time.monotonic()
    response = post(gateway_url, api_key, chat("mock-slow"))
    assert response.status_code == 504
    assert error_of(response)["code"] == "upstream_timeout"
    assert time.monotonic() - started < 2.9  # read timeout (1 s) fired before the reply (3 s)


def test_upstream_broken_mid_stream_ends_with_error_event(gateway_url: str, api_key: str) -> None:
    with httpx.stream(
        "POST",
        gateway_url + CHAT,
        content=chat("mock-break", stream=True),
        headers={"authorization": f"Bearer {api_key}"},
        timeout=10,
    ) as response:
        assert response.status_code == 200
        events = [line for line in response.iter_lines() if line.startswith("data: ")]
    # Text received before the break was never screened in full, so it is not released:
    # the stream ends with the error event alone.
    assert len(events) == 1
    assert '"error"' in events[-1]
    assert "upstream_error" in events[-1]
    assert "[DONE]" not in events[-1]


def test_upstream_slow_stream_is_504(gateway_url: str, api_key: str) -> None:
    response = post(gateway_url, api_key, chat("mock-slow", stream=True))
    assert response.status_code == 504


async def test_client_disconnect_cancels_the_upstream_request(
    gateway_url: str, api_key: str, mock_upstream: MockUpstream
) -> None:
    before = mock_upstream.recorder.cancelled_count
    async with (
        httpx.AsyncClient(timeout=10) as client,
        client.stream(
            "POST",
            gateway_url + CHAT,
            content=chat("mock-endless", stream=True),
            headers={"authorization": f"Bearer {api_key}"},
        ) as response,
    ):
        seen = 0
        async for line in response.aiter_lines():
            seen += line.startswith("data: ")
            if seen >= 3:
                break
    for _ in range(100):
        if mock_upstream.recorder.cancelled_count > before:
            break
        await asyncio.sleep(0.05)
    assert mock_upstream.recorder.cancelled_count == before + 1
