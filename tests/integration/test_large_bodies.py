"""Large bodies are read one at a time, and a slow sender cannot hold the turn: through a
real gateway over raw sockets (the slow sender) and httpx."""

from __future__ import annotations

import asyncio
import json
import socket
import threading
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import httpx
import pytest

from redline.bootstrap import build_app
from redline.errors import GatewayBusy
from redline.gateway import app as gateway_app
from tests.conftest import MockUpstream, gateway_settings
from tests.support.servers import serve_in_thread

PARAGRAPH = "The depot schedule for the northern route is unchanged this week.\n"


@pytest.fixture
def big_gateway(data_dir: Path, mock_upstream: MockUpstream) -> Iterator[str]:
    settings = gateway_settings(data_dir, mock_upstream.url, max_body_bytes=4 * 1024 * 1024)
    with serve_in_thread(build_app(settings)) as url:
        yield url


def _large_body() -> bytes:
    text = PARAGRAPH * (300_000 // len(PARAGRAPH))
    body = {"model": "mock-ok", "messages": [{"role": "user", "content": text}]}
    return json.dumps(body).encode()


def _slow_sender(url: str, key: str, declared: int, replies: list[bytes]) -> None:
    """Declares a large body, sends a few bytes of it, then nothing: reads the answer."""
    parts = urlsplit(url)
    with socket.create_connection((parts.hostname, parts.port), timeout=60) as conn:
        head = (
            f"POST /v1/chat/completions HTTP/1.1\r\nHost: {parts.netloc}\r\n"
            f"Authorization: Bearer {key}\r\nContent-Type: application/json\r\n"
            f"Content-Length: {declared}\r\n\r\n"
        )
        conn.sendall(head.encode() + b'{"model": "mock-ok", ')
        reply = b""
        while b"\r\n\r\n" not in reply:
            reply += conn.recv(65536)
        head_part, _, body = reply.partition(b"\r\n\r\n")
        length = int(head_part.lower().split(b"content-length: ")[1].split(b"\r\n")[0])
        while len(body) < length:
            body += conn.recv(65536)
        replies.append(head_part + b"\r\n\r\n" + body)


def _start_slow_sender(url: str, key: str) -> tuple[threading.Thread, list[bytes]]:
    replies: list[bytes] = []
    slow = threading.Thread(target=_slow_sender, args=(url, key, 300_000, replies), daemon=True)
    slow.start()
    return slow, replies


def _post(url: str, key: str, body: bytes) -> httpx.Response:
    return httpx.post(
        url + "/v1/chat/completions",
        content=body,
        headers={"authorization": f"Bearer {key}", "content-type": "application/json"},
        timeout=60,
    )


def test_a_slow_large_body_times_out_and_the_next_large_body_is_served(
    big_gateway: str, api_key: str, mock_upstream: MockUpstream
) -> None:
    slow, replies = _start_slow_sender(big_gateway, api_key)
    # The slow body holds the turn; this one waits for it, then is read and answered.
    response = _post(big_gateway, api_key, _large_body())
    slow.join(timeout=60)
    assert response.status_code == 200, response.text
    assert replies, "the slow sender got no answer"
    assert replies[0].startswith(b"HTTP/1.1 408"), replies
    assert b"request_timeout" in replies[0]
    assert len(mock_upstream.recorder.bodies) == 1


def test_small_requests_do_not_wait_for_the_large_body_turn(
    big_gateway: str, api_key: str, mock_upstream: MockUpstream
) -> None:
    slow, replies = _start_slow_sender(big_gateway, api_key)
    small = {"model": "mock-ok", "messages": [{"role": "user", "content": "status?"}]}
    response = _post(big_gateway, api_key, json.dumps(small).encode())
    assert response.status_code == 200, response.text
    assert not replies, "the small request was answered before the slow body gave up"
    slow.join(timeout=60)


def test_waiting_too_long_for_the_turn_is_a_named_busy_error(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(gateway_app, "LARGE_BODY_WAIT_S", 0.05)

    async def contend() -> None:
        turn = asyncio.Semaphore(1)
        async with gateway_app._one_large_body(turn):
            with pytest.raises(GatewayBusy):
                async with gateway_app._one_large_body(turn):
                    pass
        async with gateway_app._one_large_body(turn):  # released: the next one gets it
            pass

    asyncio.run(contend())
