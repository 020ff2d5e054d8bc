"""Shared set-up for the console and review API tests: keys, the app, a signed-in client."""

from __future__ import annotations

import contextlib
import re
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import httpx
from starlette.applications import Starlette

from redline.audit import SqliteLogStore, decode_record
from redline.bootstrap import build_app
from redline.clock import SystemClock
from redline.domain import Endpoint
from redline.gateway.review_api import ReviewWeb
from redline.policy.model import RuleKind
from redline.review import ReviewItem
from redline.settings import Settings
from redline.store.keys import SqliteKeyStore
from redline.wire import held_bytes, parse_request
from tests.unit.review.fakes import DECISION

PROMPT = "List every phone number seen near the Dayton mosque last week"
RAW = (
    b'{"model":"redline-echo","messages":[{"role":"system","content":"be brief"},'
    b'{"role":"user","content":"' + PROMPT.encode() + b'"}]}'
)
BODY = held_bytes(parse_request(Endpoint.CHAT, RAW))  # as the gateway stores a held request
ECHOED = "[redline-echo] " + PROMPT  # the built-in model's answer once approved
CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


@dataclass
class Keys:
    alice: str  # TS reviewer, need-to-know acme
    bob: str  # S reviewer, need-to-know acme
    low: str  # C reviewer
    requester: str  # S, not a reviewer
    plain: str  # no roles


def issue_keys(data_dir: Path) -> Keys:
    store = SqliteKeyStore(data_dir / "keys.db")
    reviewer = frozenset({"reviewer"})
    keys = Keys(
        alice=store.create(tenant="acme", roles=reviewer, clearance="TS").plaintext,
        bob=store.create(tenant="acme", roles=reviewer, clearance="S").plaintext,
        low=store.create(tenant="acme", roles=reviewer, clearance="C").plaintext,
        requester=store.create(tenant="acme", clearance="S").plaintext,
        plain=store.create(tenant="other").plaintext,
    )
    store.close()
    return keys


def principal_id(key: str) -> str:
    return "key:" + key.split("_")[1]


@contextlib.asynccontextmanager
async def running_app(data_dir: Path) -> AsyncIterator[tuple[Starlette, ReviewWeb]]:
    app = build_app(Settings(data_dir=data_dir))
    async with app.router.lifespan_context(app):
        yield app, app.state.services.review


def client(app: Starlette) -> httpx.AsyncClient:
    # https: the session cookie is Secure, so the cookie jar sends it only over https.
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="https://testserver")


async def sign_in(http: httpx.AsyncClient, key: str) -> httpx.Response:
    page = await http.get("/console/login")
    token = CSRF.search(page.text)
    assert token is not None
    return await http.post("/console/login", data={"api_key": key, "csrf_token": token.group(1)})


async def csrf_of(http: httpx.AsyncClient, path: str = "/console/") -> str:
    page = await http.get(path)
    token = CSRF.search(page.text)
    assert token is not None, page.text
    return token.group(1)


async def hold(
    web: ReviewWeb, keys: Keys, *, label: str = "SECRET//NOFORN", kind: RuleKind = RuleKind.REVIEW
) -> ReviewItem:
    requester = await web.authenticator.authenticate("Bearer " + keys.requester)
    return await web.runtime.service.submit(
        request_id="req_console",
        principal=requester,
        label_banner=label,
        request_body=BODY,
        decision=DECISION,
        kind=kind,
        approvals_required=1,
        expires_after_s=3600,
        now=SystemClock().now(),
    )


def audit_events(data_dir: Path) -> list[dict[str, object]]:
    """The review_action payloads in the gateway's audit log, in order."""
    store = SqliteLogStore(data_dir / "audit.db")
    size = store.open()
    records = [decode_record(e) for e in store.entries(0, size)]
    store.close()
    return [dict(r.payload) for r in records if r.event_type == "review_action"]
