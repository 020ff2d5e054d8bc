"""The signed webhook against a small real HTTP receiver (uvicorn in a thread)."""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import dataclass, field

import orjson
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from redline.policy.model import RuleKind
from redline.review import BodyCipher, ReviewService, Webhook, verify_signature
from tests.support.servers import closed_port, serve_in_thread
from tests.unit.review.fakes import DECISION, REQUESTER, T0, MemoryQueue, RecordingAudit, principal

SECRET = b"webhook-secret-0123456789"


@dataclass
class Received:
    requests: list[tuple[dict[str, str], bytes]] = field(default_factory=list)


def receiver(received: Received) -> Starlette:
    async def hook(request: Request) -> Response:
        received.requests.append((dict(request.headers), await request.body()))
        return Response(status_code=204)

    async def broken(request: Request) -> Response:
        return Response(status_code=500)

    return Starlette(
        routes=[Route("/hook", hook, methods=["POST"]), Route("/broken", broken, methods=["POST"])]
    )


@pytest.fixture(scope="module")
def hook_server() -> Iterator[tuple[str, Received]]:
    received = Received()
    with serve_in_thread(receiver(received)) as url:
        yield url, received


async def test_new_holds_and_decisions_are_posted_signed(
    hook_server: tuple[str, Received],
) -> None:
    url, received = hook_server
    received.requests.clear()
    webhook = Webhook(url + "/hook", SECRET, timeout_s=15.0)
    svc = ReviewService(
        MemoryQueue(), cipher=BodyCipher(b"k" * 32), audit=RecordingAudit(), notifier=webhook
    )
    item = await svc.submit(
        request_id="req_9",
        principal=REQUESTER,
        label_banner="SECRET//NOFORN",
        request_body=b'{"messages":[{"role":"user","content":"TOPSECRETPROMPT"}]}',
        decision=DECISION,
        kind=RuleKind.REVIEW,
        approvals_required=1,
        expires_after_s=60,
        now=T0,
    )
    await svc.decide(item.id, principal("key:r"), approve=False, rationale="no", now=T0)
    await webhook.aclose()

    assert [h["x-redline-event"] for h, _ in received.requests] == [
        "review.created",
        "review.decided",
    ]
    for headers, body in received.requests:
        assert headers["x-redline-signature"].startswith("sha256=")
        assert verify_signature(
            SECRET,
            timestamp=headers["x-redline-timestamp"],
            body=body,
            signature=headers["x-redline-signature"],
            now=time.time(),
        )
        assert not verify_signature(
            b"wrong-secret-0123456789",
            timestamp=headers["x-redline-timestamp"],
            body=body,
            signature=headers["x-redline-signature"],
            now=time.time(),
        )
        assert b"TOPSECRETPROMPT" not in body
    decided = orjson.loads(received.requests[1][1])
    assert decided["event"] == "review.decided"
    assert decided["data"]["review_id"] == item.id
    assert decided["data"]["state"] == "denied"
    assert decided["data"]["reviewer"] == "key:r"
    assert "rationale" not in decided["data"]


async def test_delivery_failures_are_logged_not_fatal(
    hook_server: tuple[str, Received], caplog: pytest.LogCaptureFixture
) -> None:
    url, _ = hook_server
    for target in (url + "/broken", f"http://127.0.0.1:{closed_port()}/hook"):
        webhook = Webhook(target, SECRET, timeout_s=15.0)
        webhook.notify("review.created", {"review_id": "rev_x"})
        await webhook.aclose()
    messages = [r.getMessage() for r in caplog.records]
    assert any("webhook receiver refused event=review.created status=500" in m for m in messages)
    assert any("webhook delivery failed event=review.created" in m for m in messages)
